//! The node window's console language, as Core's GUI console speaks it:
//! `method arg arg` or `method(arg, arg)`, arguments separated by spaces
//! or commas, calls nested as arguments (`getblock(getbestblockhash())`),
//! results indexed with `[key]` or `[0]`, `"double"` quotes with `\"` and
//! `\\` escapes, `'single'` quotes taken literally, and a backslash
//! outside quotes escaping any character. Arguments become JSON through
//! the same table `c1pzo-cli` uses.
//!
//! Lines that carry secrets (passphrases, private keys) are redacted
//! before they are echoed or kept in the history: each such call's
//! arguments become `(…)`.

use std::fmt;
use std::ops::Range;

use serde_json::Value;

/// Calls whose arguments never reach the history or the screen.
pub const SENSITIVE: &[&str] = &[
    "createwallet",
    "createwalletdescriptor",
    "encryptwallet",
    "importprivkey",
    "migratewallet",
    "signmessagewithprivkey",
    "signrawtransactionwithkey",
    "walletpassphrase",
    "walletpassphrasechange",
];

/// One call: the method, its arguments and the `[...]` lookups applied
/// to its result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub method: String,
    pub args: Vec<Arg>,
    pub queries: Vec<String>,
    /// Where the arguments are in the line (for redaction).
    args_span: Range<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    Call(Call),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    Empty,
    /// Quotes or an escape left open.
    Unbalanced,
    /// Anything else, with where it went wrong.
    Syntax {
        at: usize,
        what: &'static str,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Empty => write!(f, "Nothing to execute"),
            ParseError::Unbalanced => write!(f, "Parse error: unbalanced ' or \""),
            ParseError::Syntax { at, what } => {
                write!(f, "Invalid Syntax: {what} at character {}", at + 1)
            }
        }
    }
}

impl std::error::Error for ParseError {}

pub fn parse(line: &str) -> Result<Call, ParseError> {
    let mut parser = Parser { line, pos: 0 };
    parser.skip_spaces();
    if parser.at_end() {
        return Err(ParseError::Empty);
    }
    let method = parser.word()?;
    if method.is_empty() {
        return Err(parser.error("expected a command"));
    }
    let call = if parser.peek() == Some('(') {
        parser.call_rest(method)?
    } else {
        // `method arg arg ...` up to the end of the line.
        let args_start = parser.pos;
        let mut args = Vec::new();
        // The method counts as the word before a first comma
        // (`getblockhash,0`).
        let mut first = false;
        loop {
            parser.skip_separators(&mut first)?;
            if parser.at_end() {
                break;
            }
            if parser.peek() == Some(')') {
                return Err(parser.error("unexpected ')'"));
            }
            args.push(parser.arg()?);
        }
        Call {
            method,
            args,
            queries: Vec::new(),
            args_span: args_start..line.len(),
        }
    };
    parser.skip_spaces();
    if !parser.at_end() {
        return Err(parser.error("unexpected text after the command"));
    }
    Ok(call)
}

struct Parser<'a> {
    line: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.line[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.line.len()
    }

    fn error(&self, what: &'static str) -> ParseError {
        ParseError::Syntax { at: self.pos, what }
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// Spaces and at most one comma between arguments; a comma with no
    /// argument before it (`f(,x)`, `f(a,,b)`) is an error.
    fn skip_separators(&mut self, first: &mut bool) -> Result<(), ParseError> {
        self.skip_spaces();
        if self.peek() == Some(',') {
            if *first {
                return Err(self.error("an empty argument"));
            }
            self.bump();
            self.skip_spaces();
            if matches!(self.peek(), None | Some(',') | Some(')')) {
                return Err(self.error("an empty argument"));
            }
        }
        *first = false;
        Ok(())
    }

    /// A word: unquoted characters, quoted runs and escapes, up to a
    /// separator, a parenthesis or the end.
    fn word(&mut self) -> Result<String, ParseError> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            match c {
                c if c.is_whitespace() => break,
                ',' | '(' | ')' => break,
                '"' => {
                    self.bump();
                    loop {
                        match self.bump().ok_or(ParseError::Unbalanced)? {
                            '"' => break,
                            '\\' => match self.bump().ok_or(ParseError::Unbalanced)? {
                                escaped @ ('"' | '\\') => out.push(escaped),
                                other => {
                                    out.push('\\');
                                    out.push(other);
                                }
                            },
                            other => out.push(other),
                        }
                    }
                }
                '\'' => {
                    self.bump();
                    loop {
                        match self.bump().ok_or(ParseError::Unbalanced)? {
                            '\'' => break,
                            other => out.push(other),
                        }
                    }
                }
                '\\' => {
                    self.bump();
                    out.push(self.bump().ok_or(ParseError::Unbalanced)?);
                }
                other => {
                    self.bump();
                    out.push(other);
                }
            }
        }
        Ok(out)
    }

    /// One argument: a nested call (`name(`...) or a word.
    fn arg(&mut self) -> Result<Arg, ParseError> {
        let start = self.pos;
        let text = self.word()?;
        if self.peek() == Some('(') {
            let plain = &self.line[start..self.pos];
            if text.is_empty() || plain != text {
                return Err(self.error("a call needs a plain command name"));
            }
            return Ok(Arg::Call(self.call_rest(text)?));
        }
        Ok(Arg::Text(text))
    }

    /// After `method`: `(args)` then any `[key]` lookups.
    fn call_rest(&mut self, method: String) -> Result<Call, ParseError> {
        let open = self.pos;
        self.bump(); // (
        let mut args = Vec::new();
        let mut first = true;
        loop {
            self.skip_separators(&mut first)?;
            match self.peek() {
                None => return Err(self.error("a '(' left open")),
                Some(')') => {
                    self.bump();
                    break;
                }
                Some(_) => args.push(self.arg()?),
            }
        }
        let args_span = open..self.pos;
        let mut queries = Vec::new();
        while self.peek() == Some('[') {
            self.bump();
            let key_start = self.pos;
            while self.peek().is_some_and(|c| c != ']') {
                self.bump();
            }
            if self.at_end() {
                return Err(self.error("a '[' left open"));
            }
            queries.push(self.line[key_start..self.pos].to_string());
            self.bump(); // ]
        }
        Ok(Call {
            method,
            args,
            queries,
            args_span,
        })
    }
}

fn is_sensitive(method: &str) -> bool {
    SENSITIVE.iter().any(|s| s.eq_ignore_ascii_case(method))
}

/// `line` as it may be shown and kept: the arguments of every sensitive
/// call replaced by `(…)`. A line that does not parse but names a
/// sensitive call loses everything after that name.
pub fn redact(line: &str) -> (String, bool) {
    match parse(line) {
        Ok(call) => {
            let mut spans = Vec::new();
            collect_sensitive(&call, &mut spans);
            if spans.is_empty() {
                return (line.to_string(), false);
            }
            spans.sort_by_key(|span| span.start);
            let mut out = String::new();
            let mut last = 0;
            for span in spans {
                if span.start < last {
                    continue; // inside a span already hidden
                }
                out.push_str(line[last..span.start].trim_end());
                out.push_str("(…)");
                last = span.end;
            }
            out.push_str(&line[last..]);
            (out, true)
        }
        Err(_) => {
            let lower = line.to_ascii_lowercase();
            let hit = SENSITIVE
                .iter()
                .filter_map(|name| lower.find(name).map(|at| at + name.len()))
                .min();
            match hit {
                Some(end) => (format!("{}(…)", &line[..end]), true),
                None => (line.to_string(), false),
            }
        }
    }
}

fn collect_sensitive(call: &Call, spans: &mut Vec<Range<usize>>) {
    if is_sensitive(&call.method) {
        spans.push(call.args_span.clone());
        return;
    }
    for arg in &call.args {
        if let Arg::Call(inner) = arg {
            collect_sensitive(inner, spans);
        }
    }
}

/// An RPC answer, or the error as the console prints it.
pub type Outcome = Result<Value, String>;

/// Runs `call`, nested calls first, through `execute(method, params)`.
/// A nested call's string result is passed on as it is, any other
/// result as JSON text, then converted like a command-line argument.
pub fn evaluate(call: &Call, execute: &mut dyn FnMut(&str, Value) -> Outcome) -> Outcome {
    let mut words = Vec::with_capacity(call.args.len());
    for arg in &call.args {
        match arg {
            Arg::Text(text) => words.push(text.clone()),
            Arg::Call(inner) => match evaluate(inner, execute)? {
                Value::String(text) => words.push(text),
                other => words.push(other.to_string()),
            },
        }
    }
    let params = cli::convert::positional(&call.method, &words).map_err(|e| e.to_string())?;
    let mut result = execute(&call.method, params)?;
    for key in &call.queries {
        result = match result {
            Value::Array(mut items)
                if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) =>
            {
                let index: usize = key
                    .parse()
                    .map_err(|_| "Invalid result query".to_string())?;
                if index >= items.len() {
                    Value::Null
                } else {
                    items.swap_remove(index)
                }
            }
            Value::Object(mut map) => map.remove(key).unwrap_or(Value::Null),
            _ => return Err("Invalid result query".into()),
        };
    }
    Ok(result)
}

/// A result as the console prints it: strings bare, the rest as
/// indented JSON.
pub fn display(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(s: &str) -> Arg {
        Arg::Text(s.into())
    }

    #[test]
    fn both_forms_and_every_separator_parse_alike() {
        for line in [
            "getblockhash 0",
            "getblockhash,0",
            "  getblockhash   0  ",
            "getblockhash(0)",
            "getblockhash( 0 )",
        ] {
            let call = parse(line).unwrap();
            assert_eq!(
                (call.method.as_str(), call.args.clone()),
                ("getblockhash", vec![text("0")]),
                "{line}"
            );
        }
        let call = parse("getblock(getbestblockhash(), 2)[tx][0]").unwrap();
        assert_eq!(call.method, "getblock");
        assert!(
            matches!(&call.args[0], Arg::Call(inner) if inner.method == "getbestblockhash" && inner.args.is_empty())
        );
        assert_eq!(call.args[1], text("2"));
        assert_eq!(call.queries, ["tx", "0"]);
    }

    #[test]
    fn quotes_and_escapes() {
        let call = parse(r#"echo "a \"b\" \\ \n" 'c \d' e\ f "#).unwrap();
        assert_eq!(
            call.args,
            vec![text(r#"a "b" \ \n"#), text(r"c \d"), text("e f")]
        );
        // A quoted word is never a call name.
        assert!(parse(r#"echo "x"(1)"#).is_err());
    }

    #[test]
    fn bad_lines_are_refused_with_a_reason() {
        for (line, expected) in [
            ("", "Nothing to execute"),
            ("echo \"open", "unbalanced"),
            ("echo 'open", "unbalanced"),
            ("echo \\", "unbalanced"),
            ("echo(1", "'(' left open"),
            ("echo(1,,2)", "empty argument"),
            ("echo(,1)", "empty argument"),
            ("echo 1)", "unexpected ')'"),
            ("echo(1) 2", "unexpected text"),
            ("getblock(x)[tx", "'[' left open"),
        ] {
            let error = parse(line).unwrap_err().to_string();
            assert!(error.contains(expected), "{line}: {error}");
        }
    }

    #[test]
    fn secrets_never_reach_the_history() {
        for (line, shown) in [
            ("walletpassphrase \"hunter2\" 60", "walletpassphrase(…)"),
            ("walletpassphrase(\"hunter2\", 60)", "walletpassphrase(…)"),
            ("WalletPassphrase hunter2 60", "WalletPassphrase(…)"),
            (
                "echo(walletpassphrasechange(old, new))",
                "echo(walletpassphrasechange(…))",
            ),
            ("createwallet w false false secret", "createwallet(…)"),
            ("encryptwallet \"unclosed", "encryptwallet(…)"),
        ] {
            assert_eq!(redact(line), (shown.to_string(), true), "{line}");
        }
        assert_eq!(
            redact("getblockchaininfo"),
            ("getblockchaininfo".to_string(), false)
        );
    }

    #[test]
    fn evaluation_runs_inner_calls_first_and_indexes_results() {
        let seen = std::cell::RefCell::new(Vec::new());
        let mut execute = |method: &str, params: Value| -> Outcome {
            seen.borrow_mut().push(format!("{method} {params}"));
            match method {
                "getbestblockhash" => Ok(json!("00ff")),
                "getblock" => Ok(json!({"tx": ["t0", "t1"], "height": 7})),
                "getblockhash" => Ok(json!("ab")),
                _ => Err("Method not found (code -32601)".to_string()),
            }
        };
        let call = parse("getblock(getbestblockhash(), 1)[tx][1]").unwrap();
        assert_eq!(evaluate(&call, &mut execute), Ok(json!("t1")));
        // getblock's verbosity is converted to a number, the hash stays text.
        assert_eq!(
            *seen.borrow(),
            ["getbestblockhash []", "getblock [\"00ff\",1]"]
        );
        let call = parse("getblock(x)[height][0]").unwrap();
        assert_eq!(
            evaluate(&call, &mut execute),
            Err("Invalid result query".into())
        );
        let call = parse("getblock(x)[tx][9]").unwrap();
        assert_eq!(evaluate(&call, &mut execute), Ok(Value::Null));
        let call = parse("nosuch").unwrap();
        assert!(evaluate(&call, &mut execute)
            .unwrap_err()
            .contains("code -32601"));
        assert_eq!(display(&json!("text")), "text");
        assert_eq!(display(&json!({"a": 1})), "{\n  \"a\": 1\n}");
    }
}
