//! Which command-line arguments are JSON rather than strings, per method
//! and position (and name, for `-named`), as bitcoin-cli's conversion
//! table says; everything else is passed as a string.

use serde_json::{Map, Value};

/// (method, position, parameter name) of arguments parsed as JSON.
const JSON_PARAMS: &[(&str, usize, &str)] = &[
    ("generatetoaddress", 0, "nblocks"),
    ("addnode", 2, "v2transport"),
    ("disconnectnode", 1, "nodeid"),
    ("setnetworkactive", 0, "state"),
    ("setban", 2, "bantime"),
    ("setban", 3, "absolute"),
    ("generatetoaddress", 2, "maxtries"),
    ("generatetodescriptor", 0, "num_blocks"),
    ("generatetodescriptor", 2, "maxtries"),
    ("generateblock", 1, "transactions"),
    ("generateblock", 2, "submit"),
    ("getblockhash", 0, "height"),
    ("getblock", 1, "verbosity"),
    ("getblockheader", 1, "verbose"),
    ("gettxout", 1, "n"),
    ("gettxout", 2, "include_mempool"),
    ("getrawtransaction", 1, "verbosity"),
    ("setmocktime", 0, "timestamp"),
    ("waitfornewblock", 0, "timeout"),
    ("waitforblockheight", 0, "height"),
    ("waitforblockheight", 1, "timeout"),
    ("createrawtransaction", 0, "inputs"),
    ("createrawtransaction", 1, "outputs"),
    ("createrawtransaction", 2, "locktime"),
    ("createrawtransaction", 3, "replaceable"),
    ("sendrawtransaction", 1, "maxfeerate"),
    ("testmempoolaccept", 0, "rawtxs"),
    ("testmempoolaccept", 1, "maxfeerate"),
    ("getrawmempool", 0, "verbose"),
    ("getrawmempool", 1, "mempool_sequence"),
    ("decoderawtransaction", 1, "iswitness"),
    ("getblocktemplate", 0, "template_request"),
    // The wallet's.
    ("createwallet", 1, "disable_private_keys"),
    ("createwallet", 2, "blank"),
    ("createwallet", 4, "avoid_reuse"),
    ("createwallet", 5, "descriptors"),
    ("createwallet", 6, "load_on_startup"),
    ("createwallet", 7, "external_signer"),
    ("loadwallet", 1, "load_on_startup"),
    ("unloadwallet", 1, "load_on_startup"),
    ("getbalance", 1, "minconf"),
    ("getbalance", 2, "include_watchonly"),
    ("getbalance", 3, "avoid_reuse"),
    ("getreceivedbyaddress", 1, "minconf"),
    ("getreceivedbyaddress", 2, "include_immature_coinbase"),
    ("listunspent", 0, "minconf"),
    ("listunspent", 1, "maxconf"),
    ("listunspent", 2, "addresses"),
    ("listunspent", 3, "include_unsafe"),
    ("listunspent", 4, "query_options"),
    ("lockunspent", 0, "unlock"),
    ("lockunspent", 1, "transactions"),
    ("lockunspent", 2, "persistent"),
    ("listtransactions", 1, "count"),
    ("listtransactions", 2, "skip"),
    ("listtransactions", 3, "include_watchonly"),
    ("listsinceblock", 1, "target_confirmations"),
    ("listsinceblock", 2, "include_watchonly"),
    ("listsinceblock", 3, "include_removed"),
    ("listsinceblock", 4, "include_change"),
    ("gettransaction", 1, "include_watchonly"),
    ("gettransaction", 2, "verbose"),
    ("rescanblockchain", 0, "start_height"),
    ("rescanblockchain", 1, "stop_height"),
    ("sendtoaddress", 1, "amount"),
    ("sendtoaddress", 4, "subtractfeefromamount"),
    ("sendtoaddress", 5, "replaceable"),
    ("sendtoaddress", 6, "conf_target"),
    ("sendtoaddress", 8, "avoid_reuse"),
    ("sendtoaddress", 9, "fee_rate"),
    ("sendtoaddress", 10, "verbose"),
    ("sendmany", 1, "amounts"),
    ("sendmany", 2, "minconf"),
    ("sendmany", 4, "subtractfeefrom"),
    ("sendmany", 5, "replaceable"),
    ("sendmany", 6, "conf_target"),
    ("sendmany", 8, "fee_rate"),
    ("sendmany", 9, "verbose"),
    ("send", 0, "outputs"),
    ("send", 1, "conf_target"),
    ("send", 3, "fee_rate"),
    ("send", 4, "options"),
    ("fundrawtransaction", 1, "options"),
    ("fundrawtransaction", 2, "iswitness"),
    ("signrawtransactionwithwallet", 1, "prevtxs"),
    ("walletcreatefundedpsbt", 0, "inputs"),
    ("walletcreatefundedpsbt", 1, "outputs"),
    ("walletcreatefundedpsbt", 2, "locktime"),
    ("walletcreatefundedpsbt", 3, "options"),
    ("walletcreatefundedpsbt", 4, "bip32derivs"),
    ("walletprocesspsbt", 1, "sign"),
    ("walletprocesspsbt", 3, "bip32derivs"),
    ("walletprocesspsbt", 4, "finalize"),
    ("settxfee", 0, "amount"),
    ("walletpassphrase", 1, "timeout"),
    ("listdescriptors", 0, "private"),
    ("importdescriptors", 0, "requests"),
    ("echojson", 0, "arg0"),
    ("echojson", 1, "arg1"),
    ("echojson", 2, "arg2"),
    ("echojson", 3, "arg3"),
    ("echojson", 4, "arg4"),
    ("echojson", 5, "arg5"),
    ("echojson", 6, "arg6"),
    ("echojson", 7, "arg7"),
    ("echojson", 8, "arg8"),
    ("echojson", 9, "arg9"),
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConvertError {
    #[error("Error parsing JSON: {0}")]
    Json(String),
    #[error("No '=' in named argument '{0}', this needs to be present for every argument (even if it is empty)")]
    NoEquals(String),
    #[error("Parameter {0} specified twice both as positional and named argument")]
    Twice(String),
}

fn parse(method: &str, value: &str, is_json: bool) -> Result<Value, ConvertError> {
    if !is_json {
        return Ok(Value::String(value.to_string()));
    }
    let _ = method;
    serde_json::from_str(value).map_err(|_| ConvertError::Json(value.to_string()))
}

/// Positional arguments as a JSON array.
pub fn positional(method: &str, args: &[String]) -> Result<Value, ConvertError> {
    let values = args
        .iter()
        .enumerate()
        .map(|(i, arg)| {
            let is_json = JSON_PARAMS.iter().any(|&(m, p, _)| m == method && p == i);
            parse(method, arg, is_json)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::Array(values))
}

/// `-named` arguments (`name=value`) as a JSON object.
pub fn named(method: &str, args: &[String]) -> Result<Value, ConvertError> {
    let mut object = Map::new();
    for arg in args {
        let (name, value) = arg
            .split_once('=')
            .ok_or_else(|| ConvertError::NoEquals(arg.clone()))?;
        let is_json = JSON_PARAMS
            .iter()
            .any(|&(m, _, n)| m == method && n == name);
        object.insert(name.to_string(), parse(method, value, is_json)?);
    }
    Ok(Value::Object(object))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn numbers_become_json_only_where_the_table_says() {
        let params = positional("generatetoaddress", &words(&["101", "bcrt1q"])).unwrap();
        assert_eq!(params, serde_json::json!([101, "bcrt1q"]));
        let params = positional("echo", &words(&["101"])).unwrap();
        assert_eq!(params, serde_json::json!(["101"]));
        let err = positional("getblockhash", &words(&["x"])).unwrap_err();
        assert_eq!(err.to_string(), "Error parsing JSON: x");
    }

    #[test]
    fn named_arguments_need_equals() {
        let params = named("getblockhash", &words(&["height=3"])).unwrap();
        assert_eq!(params, serde_json::json!({ "height": 3 }));
        assert!(matches!(
            named("getblockhash", &words(&["3"])),
            Err(ConvertError::NoEquals(_))
        ));
    }
}
