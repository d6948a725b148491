//! The method table: each RPC's name, category, parameters, help and
//! handler, and dispatch with Bitcoin Core's usage and not-found errors.

use serde_json::Value;

use super::error::{code, RpcError};
use super::params::{Arg, Params, ParamsError};
use crate::context::Node;
use interfaces::rpc::RpcRequest;

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
        super::params::help_text(self.name, self.summary, self.args)
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
    all.extend(super::net::METHODS);
    all
}

/// Runs `name` with `params`; `uri` is the HTTP path it came on, which
/// methods other components added (the wallet's) use to pick a wallet.
pub fn dispatch(
    node: &Node,
    name: &str,
    params: Option<&Value>,
    uri: &str,
) -> Result<Value, RpcError> {
    let Some(method) = methods().into_iter().find(|m| m.name == name) else {
        let handlers = node.rpc_handlers(name);
        if handlers.is_empty() {
            return Err(RpcError::new(code::METHOD_NOT_FOUND, "Method not found"));
        }
        // Whoever registered the method (a wallet) sees every chain event
        // queued so far before it runs the call.
        if !node.notifier.is_idle() {
            node.notifier.sync();
        }
        let request = RpcRequest {
            method: name.to_string(),
            params: params.cloned(),
            uri: uri.to_string(),
            synced: true,
        };
        // As Core: each registration in turn; one that does not have the
        // wallet asked for (-18) passes the call on, unless it is the last.
        let last = handlers.len() - 1;
        for (index, command) in handlers.into_iter().enumerate() {
            match command.actor.call(&request) {
                Err(error) if error.code == code::WALLET_NOT_FOUND && index < last => continue,
                outcome => return outcome,
            }
        }
        unreachable!("the last handler always answers");
    };
    let params = match Params::bind(params, method.args) {
        Ok(params) => params,
        // Core answers a wrong argument count with the method's help.
        Err(ParamsError::Usage) => return Err(RpcError::new(code::MISC_ERROR, method.help())),
        Err(ParamsError::Rpc(error)) => return Err(error),
    };
    (method.handler)(node, &params)
}

/// `help <name>`, for the node's methods and added ones alike.
pub fn help(node: &Node, name: &str) -> Option<String> {
    match methods().into_iter().find(|m| m.name == name) {
        Some(method) => Some(method.help()),
        None => node.rpc_command(name).map(|command| command.help),
    }
}

/// `help` without arguments: every method, grouped by category.
pub fn overview(node: &Node) -> String {
    let mut entries: Vec<(String, String)> = methods()
        .into_iter()
        .map(|method| {
            let help = method.help();
            let usage = help.lines().next().unwrap_or(method.name).to_string();
            (method.category.to_string(), usage)
        })
        .collect();
    entries.extend(
        node.rpc_commands()
            .into_iter()
            .map(|command| (command.category, command.usage)),
    );
    let mut text = String::new();
    let mut category = String::new();
    for (this_category, usage) in entries {
        if this_category != category {
            if !text.is_empty() {
                text.push('\n');
            }
            text += &format!("== {} ==\n", capitalise(&this_category));
            category = this_category;
        }
        text += &usage;
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
