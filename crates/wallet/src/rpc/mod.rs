//! Bitcoin Core's wallet RPCs, added to the node's server through
//! [`interfaces::Chain::handle_rpc`]: names, parameters, results and error
//! codes as Core's. Each request reaches the wallet its URI names
//! (`/wallet/<name>`), or the only one loaded.

mod addresses;
mod coins;
mod descriptors;
mod encryption;
mod history;
mod send;
mod wallets;

use std::str::FromStr;
use std::sync::{Arc, Weak};

use bitcoin::{Address, Amount, OutPoint, SignedAmount};
use interfaces::rpc::params::{help_text, Arg, Params, ParamsError};
use interfaces::rpc::{code, RpcActor, RpcCommand, RpcError, RpcRequest};
use interfaces::Handler;
use serde_json::Value;

use crate::error::WalletError;
use crate::manager::WalletContext;
use crate::wallet::Wallet;

/// One call: its parameters, the path it came on, and the wallets.
pub struct Call<'a> {
    pub params: Params,
    pub uri: &'a str,
    pub context: &'a Arc<WalletContext>,
}

impl Call<'_> {
    /// The wallet this request is for.
    pub fn wallet(&self) -> Result<Arc<Wallet>, RpcError> {
        self.context.for_request(self.uri)
    }
}

pub type Run = fn(&Call) -> Result<Value, RpcError>;

pub struct WalletMethod {
    pub name: &'static str,
    pub args: &'static [Arg],
    pub summary: &'static str,
    pub run: Run,
}

struct Actor {
    context: Weak<WalletContext>,
    method: &'static WalletMethod,
}

impl RpcActor for Actor {
    fn call(&self, request: &RpcRequest) -> Result<Value, RpcError> {
        let context = self
            .context
            .upgrade()
            .ok_or_else(|| RpcError::new(code::MISC_ERROR, "Wallets are shutting down"))?;
        let params = match Params::bind(request.params.as_ref(), self.method.args) {
            Ok(params) => params,
            Err(ParamsError::Usage) => {
                return Err(RpcError::new(
                    code::MISC_ERROR,
                    help_text(self.method.name, self.method.summary, self.method.args),
                ))
            }
            Err(ParamsError::Rpc(error)) => return Err(error),
        };
        let _synced = crate::wallet::PresyncedCall::enter(request.synced);
        (self.method.run)(&Call {
            params,
            uri: &request.uri,
            context: &context,
        })
    }
}

fn methods() -> Vec<&'static WalletMethod> {
    let mut all: Vec<&'static WalletMethod> = Vec::new();
    all.extend(wallets::METHODS);
    all.extend(addresses::METHODS);
    all.extend(coins::METHODS);
    all.extend(history::METHODS);
    all.extend(send::METHODS);
    all.extend(encryption::METHODS);
    all.extend(descriptors::METHODS);
    all.sort_by_key(|m| m.name);
    all
}

/// Registers every wallet method; dropping the handlers removes them.
pub fn register(context: &Arc<WalletContext>) -> Vec<Box<dyn Handler>> {
    methods()
        .into_iter()
        .map(|method| {
            let help = help_text(method.name, method.summary, method.args);
            context.chain.handle_rpc(RpcCommand {
                category: "wallet".into(),
                name: method.name.into(),
                usage: help.lines().next().unwrap_or(method.name).to_string(),
                help,
                actor: Arc::new(Actor {
                    context: Arc::downgrade(context),
                    method,
                }),
            })
        })
        .collect()
}

/// Runs the wallet method `request.method` (a wallet process's own RPC
/// server, `c1pzo-wallet -server`).
pub fn call(context: &Arc<WalletContext>, request: &RpcRequest) -> Result<Value, RpcError> {
    let method = methods()
        .into_iter()
        .find(|m| m.name == request.method)
        .ok_or_else(|| RpcError::new(code::METHOD_NOT_FOUND, "Method not found"))?;
    Actor {
        context: Arc::downgrade(context),
        method,
    }
    .call(request)
}

/// `help` for the wallet's own server: the usage line of every method.
pub fn overview() -> String {
    let mut text = String::from("== Wallet ==\n");
    for method in methods() {
        let help = help_text(method.name, method.summary, method.args);
        text += help.lines().next().unwrap_or(method.name);
        text.push('\n');
    }
    text.trim_end().to_string()
}

/// A wallet error as Core's RPCs report it.
pub fn rpc_error(error: WalletError) -> RpcError {
    let code = match &error {
        WalletError::InsufficientFunds
        | WalletError::AmountTooSmall
        | WalletError::AmountTooSmallForFee
        | WalletError::AmountTooSmallAfterFee
        | WalletError::FeeTooHigh
        | WalletError::NoFeeRate
        | WalletError::FeeRateTooLow(..) => code::WALLET_INSUFFICIENT_FUNDS,
        WalletError::Locked => code::WALLET_UNLOCK_NEEDED,
        WalletError::WrongPassphrase => code::WALLET_PASSPHRASE_INCORRECT,
        WalletError::NotEncrypted | WalletError::AlreadyEncrypted => code::WALLET_WRONG_ENC_STATE,
        WalletError::Descriptor(_) => code::INVALID_ADDRESS_OR_KEY,
        WalletError::Broadcast(_) => code::VERIFY_REJECTED,
        _ => code::WALLET_ERROR,
    };
    RpcError::new(code, error.to_string())
}

/// Satoshis as Core prints an amount.
pub fn amount(value: Amount) -> Value {
    interfaces::rpc::amount::to_json(value)
}

/// A signed amount (sends are negative) as Core prints it.
pub fn signed(value: SignedAmount) -> Value {
    let sats = value.to_sat();
    let text = format!(
        "{}{}.{:08}",
        if sats < 0 { "-" } else { "" },
        sats.unsigned_abs() / 100_000_000,
        sats.unsigned_abs() % 100_000_000
    );
    serde_json::from_str(&text).expect("a decimal number")
}

/// An address on the wallet's network, with `message` for any failure.
pub fn parse_address(wallet: &Wallet, text: &str, message: &str) -> Result<Address, RpcError> {
    Address::from_str(text)
        .ok()
        .and_then(|a| a.require_network(wallet.network).ok())
        .ok_or_else(|| RpcError::new(code::INVALID_ADDRESS_OR_KEY, message.to_string()))
}

/// A positional parameter as an amount in BTC.
pub fn amount_param(params: &Params, position: usize) -> Result<Option<Amount>, RpcError> {
    params
        .get(position)
        .map(|v| interfaces::rpc::amount::parse(v).map(Amount::from_sat))
        .transpose()
}

pub fn invalid_parameter(message: impl Into<String>) -> RpcError {
    RpcError::new(code::INVALID_PARAMETER, message)
}

/// `[{"txid": ..., "vout": n}, ...]`, with Core's messages.
pub fn parse_outpoints(list: &[Value]) -> Result<Vec<OutPoint>, RpcError> {
    list.iter()
        .map(|entry| {
            let txid = entry
                .get("txid")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid_parameter("Invalid parameter, missing txid key"))?;
            let vout = entry
                .get("vout")
                .and_then(Value::as_i64)
                .ok_or_else(|| invalid_parameter("Invalid parameter, missing vout key"))?;
            if vout < 0 {
                return Err(invalid_parameter(
                    "Invalid parameter, vout cannot be negative",
                ));
            }
            Ok(OutPoint {
                txid: parse_txid(txid, "txid")?,
                vout: vout as u32,
            })
        })
        .collect()
}

/// A txid parameter, with Core's messages.
pub fn parse_txid(text: &str, name: &str) -> Result<bitcoin::Txid, RpcError> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid_parameter(format!(
            "{name} must be of length 64 (not {}, for '{text}')",
            text.len()
        )));
    }
    bitcoin::Txid::from_str(text)
        .map_err(|_| invalid_parameter(format!("{name} must be hexadecimal string (not '{text}')")))
}
