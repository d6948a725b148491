//! Printing a reply as bitcoin-cli does: strings raw, null as nothing,
//! anything else as JSON indented by two; errors as `error code: N` and
//! `error message:` with the process exit code Bitcoin Core uses.

use serde_json::Value;

/// What to print and the exit code.
pub struct Printed {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

/// A JSON-RPC reply object (`result`, `error`).
pub fn reply(reply: &Value) -> Printed {
    let error = &reply["error"];
    if !error.is_null() {
        let code = error["code"].as_i64().unwrap_or(-1);
        let message = error["message"].as_str().unwrap_or_default();
        return Printed {
            stdout: String::new(),
            stderr: format!("error code: {code}\nerror message:\n{message}\n"),
            // bitcoin-cli exits with the code's absolute value.
            exit_code: code.unsigned_abs() as i32,
        };
    }
    Printed {
        stdout: result_text(&reply["result"]),
        stderr: String::new(),
        exit_code: 0,
    }
}

/// A result as bitcoin-cli prints it, with the trailing newline.
pub fn result_text(result: &Value) -> String {
    match result {
        Value::Null => String::new(),
        Value::String(s) => format!("{s}\n"),
        other => format!("{}\n", pretty(other)),
    }
}

/// JSON with two-space indentation and `"key": value`, like UniValue.
pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn results_and_errors_print_as_bitcoin_cli() {
        assert_eq!(
            reply(&json!({"result": "abc", "error": null})).stdout,
            "abc\n"
        );
        assert_eq!(reply(&json!({"result": null, "error": null})).stdout, "");
        assert_eq!(reply(&json!({"result": 5, "error": null})).stdout, "5\n");
        assert_eq!(
            reply(&json!({"result": {"a": [1]}, "error": null})).stdout,
            "{\n  \"a\": [\n    1\n  ]\n}\n"
        );
        let printed = reply(
            &json!({"result": null, "error": {"code": -8, "message": "Block height out of range"}}),
        );
        assert_eq!(
            printed.stderr,
            "error code: -8\nerror message:\nBlock height out of range\n"
        );
        assert_eq!(printed.exit_code, 8);
    }
}
