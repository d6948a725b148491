//! help, stop, uptime, echo, setmocktime.

use serde_json::{json, Value};

use super::error::{code, RpcError};
use super::params::{optional, required, Kind, Params};
use super::table::{self, Method};
use crate::context::Node;

pub static METHODS: &[&Method] = &[
    &HELP,
    &LOGGING,
    &STOP,
    &UPTIME,
    &ECHO,
    &ECHOJSON,
    &SETMOCKTIME,
];

static HELP: Method = Method {
    name: "help",
    category: "control",
    args: &[optional("command", Kind::Str, "The command to get help on")],
    summary: "List all commands, or get help for a specified command.",
    handler: |node, params| match params.str(0) {
        None => Ok(json!(table::overview(node))),
        Some(name) => Ok(json!(
            table::help(node, name).unwrap_or_else(|| format!("help: unknown command: {name}"))
        )),
    },
};

static STOP: Method = Method {
    name: "stop",
    category: "control",
    args: &[],
    summary: "Request a graceful shutdown of c1pzo.",
    handler: |node, _| {
        node.request_shutdown();
        Ok(json!("c1pzo stopping"))
    },
};

static UPTIME: Method = Method {
    name: "uptime",
    category: "control",
    args: &[],
    summary: "Returns the total uptime of the server.",
    handler: |node, _| Ok(json!(node.uptime())),
};

const ECHO_ARGS: &[super::params::Arg] = &[
    optional("arg0", Kind::Any, ""),
    optional("arg1", Kind::Any, ""),
    optional("arg2", Kind::Any, ""),
    optional("arg3", Kind::Any, ""),
    optional("arg4", Kind::Any, ""),
    optional("arg5", Kind::Any, ""),
    optional("arg6", Kind::Any, ""),
    optional("arg7", Kind::Any, ""),
    optional("arg8", Kind::Any, ""),
    optional("arg9", Kind::Any, ""),
];

fn echo(_: &Node, params: &Params) -> Result<Value, RpcError> {
    // Core's echo returns its arguments; arg9 set makes it throw, for tests.
    if params.get(9).is_some() {
        return Err(RpcError::new(code::MISC_ERROR, "Test error (arg9 is set)"));
    }
    let mut values: Vec<Value> = (0..10)
        .map(|i| params.get(i).cloned().unwrap_or(Value::Null))
        .collect();
    while values.last() == Some(&Value::Null) {
        values.pop();
    }
    Ok(Value::Array(values))
}

static ECHO: Method = Method {
    name: "echo",
    category: "hidden",
    args: ECHO_ARGS,
    summary: "Simply echo back the input arguments. This command is for testing.",
    handler: echo,
};

static ECHOJSON: Method = Method {
    name: "echojson",
    category: "hidden",
    args: ECHO_ARGS,
    summary: "Simply echo back the input arguments. This command is for testing.",
    handler: echo,
};

static SETMOCKTIME: Method = Method {
    name: "setmocktime",
    category: "hidden",
    args: &[required(
        "timestamp",
        Kind::Num,
        "UNIX epoch time; 0 returns to the system clock",
    )],
    summary: "Set the local time to given timestamp (-regtest only).",
    handler: |node, params| {
        let time = params.i64_or(0, 0)?;
        if time < 0 {
            return Err(RpcError::new(
                code::INVALID_PARAMETER,
                "Mocktime cannot be negative: ".to_string() + &time.to_string() + ".",
            ));
        }
        node.set_mocktime(time);
        node.logger.set_mocktime(time);
        Ok(Value::Null)
    },
};

static LOGGING: Method = Method {
    name: "logging",
    category: "control",
    args: &[
        optional("include", Kind::Arr, "The categories to add to debug logging"),
        optional("exclude", Kind::Arr, "The categories to remove from debug logging"),
    ],
    summary: "Gets and sets the logging configuration. With no arguments, returns which debug categories are on.",
    handler: |node, params| {
        for (position, enable) in [(0, true), (1, false)] {
            let names = params.get(position).and_then(Value::as_array).cloned().unwrap_or_default();
            for name in names {
                let name = name.as_str().unwrap_or_default();
                let known = if enable {
                    node.logger.enable_category(name)
                } else {
                    node.logger.disable_category(name)
                };
                if !known {
                    return Err(RpcError::new(code::INVALID_PARAMETER, format!("unknown logging category {name}")));
                }
            }
        }
        let enabled = node.logger.categories();
        let mut all: Vec<common::logging::LogCategory> = common::logging::LogCategory::ALL.to_vec();
        all.sort_by_key(|c| c.name());
        let mut object = serde_json::Map::new();
        for category in all {
            object.insert(category.name().into(), json!(enabled.contains(category)));
        }
        Ok(Value::Object(object))
    },
};
