//! One JSON-RPC call over HTTP, with Basic authentication, the optional
//! `/wallet/<name>` path and `-rpcwait`'s retries, and bitcoin-cli's
//! messages when the server cannot be reached or refuses the credentials.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("Could not connect to the server {0}\n\nMake sure the c1pzod server is running and that you are connecting to the correct RPC port.\nUse \"c1pzo-cli -help\" for more info.")]
    Connect(String),
    #[error("timeout on transient error: Could not connect to the server {0}\n\nMake sure the c1pzod server is running and that you are connecting to the correct RPC port.\nUse \"c1pzo-cli -help\" for more info.")]
    WaitTimeout(String),
    #[error("Authorization failed: Incorrect rpcuser or rpcpassword")]
    Unauthorized,
    #[error("server returned HTTP error {0}")]
    Http(u16),
    #[error("no response from server")]
    NoResponse,
    #[error("couldn't parse reply from server")]
    BadReply,
}

/// Where and as whom to call.
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub wallet: Option<String>,
}

/// Sends `method(params)` and returns the reply object. With `wait`, a
/// refused connection (or a node still warming up) is retried every
/// second until `wait_timeout` (forever if `None`).
pub fn call(
    target: &Target,
    method: &str,
    params: Value,
    wait: bool,
    wait_timeout: Option<Duration>,
) -> Result<Value, CallError> {
    let address = format!("{}:{}", target.host, target.port);
    let mut url = format!("http://{address}/");
    if let Some(wallet) = &target.wallet {
        url += &format!("wallet/{}", wallet);
    }
    let client = reqwest::blocking::Client::builder()
        .timeout(None::<Duration>)
        .build()
        .map_err(|_| CallError::NoResponse)?;
    let body = json!({ "jsonrpc": "1.0", "id": 1, "method": method, "params": params });
    let started = Instant::now();
    loop {
        let sent = client
            .post(&url)
            .basic_auth(&target.user, Some(&target.password))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send();
        let response = match sent {
            Ok(response) => response,
            Err(error) if error.is_connect() => {
                if !wait {
                    return Err(CallError::Connect(address));
                }
                if wait_timeout.is_some_and(|limit| started.elapsed() >= limit) {
                    return Err(CallError::WaitTimeout(address));
                }
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
            Err(_) => return Err(CallError::NoResponse),
        };
        let status = response.status().as_u16();
        if status == 401 {
            return Err(CallError::Unauthorized);
        }
        let text = response.text().map_err(|_| CallError::NoResponse)?;
        if text.is_empty() {
            return Err(CallError::Http(status));
        }
        let reply: Value = serde_json::from_str(&text).map_err(|_| CallError::BadReply)?;
        // -28: still warming up; -rpcwait keeps asking.
        if wait && reply["error"]["code"].as_i64() == Some(-28) {
            std::thread::sleep(Duration::from_secs(1));
            continue;
        }
        return Ok(reply);
    }
}
