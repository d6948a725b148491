//! A method's parameters: named ones mapped to positions, types checked
//! with Bitcoin Core's messages, defaults applied by the accessors.

use serde_json::Value;

use super::error::{code, RpcError};

/// What a parameter must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Num,
    Str,
    Bool,
    Obj,
    Arr,
    /// A number or a string (Core's `RPCArg::Type::AMOUNT`, hashes that
    /// some clients send as numbers...).
    NumOrStr,
    Any,
}

/// One parameter of a method.
#[derive(Clone, Copy, Debug)]
pub struct Arg {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub help: &'static str,
}

pub const fn required(name: &'static str, kind: Kind, help: &'static str) -> Arg {
    Arg {
        name,
        kind,
        required: true,
        help,
    }
}

pub const fn optional(name: &'static str, kind: Kind, help: &'static str) -> Arg {
    Arg {
        name,
        kind,
        required: false,
        help,
    }
}

/// `help <method>`: the usage line, the summary and the arguments.
pub fn help_text(name: &str, summary: &str, args: &[Arg]) -> String {
    let mut usage = name.to_string();
    for arg in args {
        if arg.required {
            usage += &format!(" \"{}\"", arg.name);
        } else {
            usage += &format!(" ( \"{}\" )", arg.name);
        }
    }
    let mut text = format!("{usage}\n\n{summary}\n");
    if !args.is_empty() {
        text += "\nArguments:\n";
        for (i, arg) in args.iter().enumerate() {
            let need = if arg.required { "required" } else { "optional" };
            text += &format!(
                "{}. {} ({:?}, {need}) {}\n",
                i + 1,
                arg.name,
                arg.kind,
                arg.help
            );
        }
    }
    text
}

/// Bitcoin Core's name for a JSON value's type.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Num | Kind::NumOrStr => "number",
        Kind::Str => "string",
        Kind::Bool => "bool",
        Kind::Obj => "object",
        Kind::Arr => "array",
        Kind::Any => "any",
    }
}

fn matches(kind: Kind, value: &Value) -> bool {
    match kind {
        Kind::Num => value.is_number(),
        Kind::Str => value.is_string(),
        Kind::Bool => value.is_boolean(),
        Kind::Obj => value.is_object(),
        Kind::Arr => value.is_array(),
        Kind::NumOrStr => value.is_number() || value.is_string(),
        Kind::Any => true,
    }
}

/// The parameters of one call, by position.
#[derive(Debug, Default)]
pub struct Params {
    values: Vec<Value>,
}

/// Why parameters did not fit the method: a usage error (Core answers
/// with the method's help text) or a specific one.
pub enum ParamsError {
    Usage,
    Rpc(RpcError),
}

impl Params {
    /// Maps `params` (an array, an object of named parameters, or absent)
    /// onto `args` and checks each present value's type.
    pub fn bind(params: Option<&Value>, args: &[Arg]) -> Result<Params, ParamsError> {
        let mut values = match params {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list.clone(),
            Some(Value::Object(named)) => {
                let mut values = vec![Value::Null; args.len()];
                for (name, value) in named {
                    let position = args.iter().position(|a| a.name == name).ok_or_else(|| {
                        ParamsError::Rpc(RpcError::new(
                            code::INVALID_PARAMETER,
                            format!("Unknown named parameter {name}"),
                        ))
                    })?;
                    values[position] = value.clone();
                }
                while values.last() == Some(&Value::Null) {
                    values.pop();
                }
                values
            }
            Some(_) => {
                return Err(ParamsError::Rpc(RpcError::new(
                    code::INVALID_REQUEST,
                    "Params must be an array or object",
                )))
            }
        };
        if values.len() > args.len() {
            return Err(ParamsError::Usage);
        }
        for (position, arg) in args.iter().enumerate() {
            let value = values.get(position);
            match value {
                None | Some(Value::Null) if arg.required => return Err(ParamsError::Usage),
                None | Some(Value::Null) => {}
                Some(value) if !matches(arg.kind, value) => {
                    return Err(ParamsError::Rpc(RpcError::new(
                        code::TYPE_ERROR,
                        format!(
                            "JSON value of type {} is not of expected type {}",
                            type_name(value),
                            kind_name(arg.kind)
                        ),
                    )))
                }
                Some(_) => {}
            }
        }
        values.resize(args.len(), Value::Null);
        Ok(Params { values })
    }

    pub fn get(&self, position: usize) -> Option<&Value> {
        self.values.get(position).filter(|v| !v.is_null())
    }

    pub fn str(&self, position: usize) -> Option<&str> {
        self.get(position).and_then(Value::as_str)
    }

    pub fn i64_or(&self, position: usize, default: i64) -> Result<i64, RpcError> {
        match self.get(position) {
            None => Ok(default),
            Some(Value::Number(n)) => n
                .as_i64()
                .ok_or_else(|| RpcError::new(code::TYPE_ERROR, "JSON integer out of range")),
            Some(Value::String(s)) => s.parse().map_err(|_| {
                RpcError::new(
                    code::TYPE_ERROR,
                    "JSON value of type string is not of expected type number",
                )
            }),
            Some(other) => Err(RpcError::new(
                code::TYPE_ERROR,
                format!(
                    "JSON value of type {} is not of expected type number",
                    type_name(other)
                ),
            )),
        }
    }

    pub fn bool_or(&self, position: usize, default: bool) -> bool {
        self.get(position)
            .and_then(Value::as_bool)
            .unwrap_or(default)
    }
}
