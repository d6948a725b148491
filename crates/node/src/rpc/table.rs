//! The method table: each RPC's name, category, parameters, help and
//! handler, and dispatch with Bitcoin Core's usage and not-found errors.

use serde_json::Value;

use super::error::{code, RpcError};
use super::params::{Arg, Params, ParamsError};
use crate::context::Node;

pub type Handler = fn(&Node, &Params) -> Result<Value, RpcError>;

pub struct Method {
    pub name: &'static str,
    pub category: &'static str,
    pub args: &'static [Arg],
    /// One line saying what it does; `help <method>` adds the arguments.
    pub summary: &'static str,
    pub handler: Handler,
}

impl Method {
    /// `help <method>`: usage line, summary and arguments.
    pub fn help(&self) -> String {
        let mut usage = self.name.to_string();
        for arg in self.args {
            if arg.required {
                usage += &format!(" \"{}\"", arg.name);
            } else {
                usage += &format!(" ( \"{}\" )", arg.name);
            }
        }
        let mut text = format!("{usage}\n\n{}\n", self.summary);
        if !self.args.is_empty() {
            text += "\nArguments:\n";
            for (i, arg) in self.args.iter().enumerate() {
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
}

/// Every method the node serves.
pub fn methods() -> Vec<&'static Method> {
    let mut all: Vec<&'static Method> = Vec::new();
    all.extend(super::control::METHODS);
    all.extend(super::blockchain::METHODS);
    all.extend(super::mining::METHODS);
    all.extend(super::rawtransactions::METHODS);
    all.extend(super::util::METHODS);
    all
}

/// Runs `name` with `params`.
pub fn dispatch(node: &Node, name: &str, params: Option<&Value>) -> Result<Value, RpcError> {
    let method = methods()
        .into_iter()
        .find(|m| m.name == name)
        .ok_or_else(|| RpcError::new(code::METHOD_NOT_FOUND, "Method not found"))?;
    let params = match Params::bind(params, method.args) {
        Ok(params) => params,
        // Core answers a wrong argument count with the method's help.
        Err(ParamsError::Usage) => return Err(RpcError::new(code::MISC_ERROR, method.help())),
        Err(ParamsError::Rpc(error)) => return Err(error),
    };
    (method.handler)(node, &params)
}

/// `help` without arguments: every method, grouped by category.
pub fn overview() -> String {
    let mut text = String::new();
    let mut category = "";
    for method in methods() {
        if method.category != category {
            if !text.is_empty() {
                text.push('\n');
            }
            text += &format!("== {} ==\n", capitalise(method.category));
            category = method.category;
        }
        let usage = method.help();
        text += usage.lines().next().unwrap_or(method.name);
        text.push('\n');
    }
    text.trim_end().to_string()
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
