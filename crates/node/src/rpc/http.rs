//! The JSON-RPC server over HTTP, with Bitcoin Core's semantics: POST
//! only, `/` and `/wallet/<name>`, Basic authentication (a failed attempt
//! waits 250 ms), JSON-RPC 1.0 answers with error statuses and 2.0 answers
//! with 200 (204 for notifications), batches, and a 32 MiB body limit.

use std::convert::Infallible;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method as HttpMethod, Request, Response, StatusCode};
use serde_json::{json, Value};

use super::allow::AllowList;
use super::auth::Auth;
use super::error::{code, RpcError};
use super::table;
use common::logging::{LogCategory, Logger};

use crate::context::Node;

/// Bitcoin Core's `MAX_SIZE`, the largest request body it reads.
pub const MAX_BODY: usize = 0x0200_0000;

/// What the server answers with: the node once it has loaded, and until
/// then the step it is at, which every call gets back as error -28 (Core's
/// `RPC_IN_WARMUP`), so clients can start polling as soon as the port is
/// open.
pub struct RpcState {
    target: OnceLock<Arc<dyn RpcTarget>>,
    warmup: Mutex<String>,
    logger: Logger,
    stop: AtomicBool,
    stopped: tokio::sync::Notify,
}

impl RpcState {
    pub fn new(logger: Logger, status: &str) -> Arc<RpcState> {
        Arc::new(RpcState {
            target: OnceLock::new(),
            warmup: Mutex::new(status.to_string()),
            logger,
            stop: AtomicBool::new(false),
            stopped: tokio::sync::Notify::new(),
        })
    }

    /// The startup step clients are told about (`Loading block index…`).
    pub fn set_warmup(&self, status: &str) {
        *self.warmup.lock().unwrap_or_else(|e| e.into_inner()) = status.to_string();
    }

    /// Warm-up is over: calls go to `node` from now on.
    pub fn ready(&self, node: Arc<Node>) {
        self.ready_with(node);
    }

    /// Warm-up is over: calls go to `target` (the node, or a wallet
    /// process serving its own methods).
    pub fn ready_with(&self, target: Arc<dyn RpcTarget>) {
        let _ = self.target.set(target);
    }

    /// Stops the server (after the node's shutdown, or during startup).
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.stopped.notify_waiters();
    }

    async fn stopped(&self) {
        loop {
            let notified = self.stopped.notified();
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }

    /// Runs a request body: on the node, or answered -28 while warming up.
    pub fn execute(&self, uri: &str, body: &[u8]) -> (StatusCode, String) {
        match self.target.get() {
            Some(target) => execute_with(body, &|method, params| target.call(method, params, uri)),
            None => {
                let status = self
                    .warmup
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                execute_with(body, &|_, _| {
                    Err(RpcError::new(code::IN_WARMUP, status.clone()))
                })
            }
        }
    }
}

/// Serves JSON-RPC on every listener until [`RpcState::request_stop`].
pub async fn serve(
    state: Arc<RpcState>,
    listeners: Vec<TcpListener>,
    auth: Arc<Auth>,
    allowed: Arc<AllowList>,
) -> std::io::Result<()> {
    // Connections are watched so that shutdown lets requests in flight
    // (`stop`'s own reply among them) finish before the server goes.
    let graceful = Arc::new(hyper_util::server::graceful::GracefulShutdown::new());
    let mut tasks = Vec::new();
    for listener in listeners {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let (state, auth, allowed) = (state.clone(), auth.clone(), allowed.clone());
        let graceful = graceful.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (state, auth) = (state.clone(), auth.clone());
                let watcher = graceful.watcher();
                let client_allowed = allowed.allows(&peer.ip());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                        let (state, auth) = (state.clone(), auth.clone());
                        async move {
                            if !client_allowed {
                                state.logger.debug(
                                    LogCategory::Http,
                                    format_args!("HTTP request from {peer} rejected: Client network is not allowed RPC access"),
                                );
                                return Ok(respond(StatusCode::FORBIDDEN, String::new()));
                            }
                            handle(state, auth, request).await
                        }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let connection = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(io, service);
                    let _ = watcher.watch(connection).await;
                });
            }
        }));
    }
    state.stopped().await;
    for task in &tasks {
        task.abort();
    }
    for task in tasks {
        let _ = task.await;
    }
    // Requests in flight get a few seconds; idle keep-alive connections
    // are closed at once.
    if let Ok(graceful) = Arc::try_unwrap(graceful) {
        let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
    }
    Ok(())
}

fn respond(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        "application/json".parse().expect("valid header"),
    );
    response
}

async fn handle(
    state: Arc<RpcState>,
    auth: Arc<Auth>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.method() != HttpMethod::POST {
        return Ok(respond(
            StatusCode::METHOD_NOT_ALLOWED,
            "JSONRPC server handles only POST requests".into(),
        ));
    }
    let path = request.uri().path().to_string();
    if path != "/" && !path.starts_with("/wallet/") {
        return Ok(respond(StatusCode::NOT_FOUND, String::new()));
    }
    let header = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    if !auth.check(header.as_deref()) {
        state.logger.info(format_args!(
            "ThreadRPCServer incorrect password attempt from {path}"
        ));
        // Slows down guessing, as Core does.
        tokio::time::sleep(Duration::from_millis(250)).await;
        let mut response = respond(StatusCode::UNAUTHORIZED, String::new());
        response.headers_mut().insert(
            hyper::header::WWW_AUTHENTICATE,
            "Basic realm=\"jsonrpc\"".parse().expect("valid header"),
        );
        return Ok(response);
    }
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return Ok(respond(StatusCode::PAYLOAD_TOO_LARGE, String::new())),
    };
    let outcome = tokio::task::spawn_blocking(move || state.execute(&path, &body)).await;
    let (status, body) = outcome.unwrap_or_else(|_| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            reply_v1(
                &Value::Null,
                Err(RpcError::new(code::INTERNAL_ERROR, "Internal error")),
            ),
        )
    });
    Ok(respond(status, body))
}

/// What the server runs calls on.
pub trait RpcTarget: Send + Sync {
    fn call(&self, method: &str, params: Option<&Value>, uri: &str) -> Result<Value, RpcError>;
}

impl RpcTarget for Node {
    fn call(&self, method: &str, params: Option<&Value>, uri: &str) -> Result<Value, RpcError> {
        self.log_debug(
            LogCategory::Rpc,
            format!("ThreadRPCServer method={method} user=__cookie__"),
        );
        table::dispatch(self, method, params, uri)
    }
}

/// Parses and runs a request body on `node`; returns the status and the
/// JSON text.
pub fn execute(node: &Node, uri: &str, body: &[u8]) -> (StatusCode, String) {
    execute_with(body, &|method, params| {
        node.log_debug(
            LogCategory::Rpc,
            format!("ThreadRPCServer method={method} user=__cookie__"),
        );
        table::dispatch(node, method, params, uri)
    })
}

/// What runs one call: method name and parameters in, result out.
type Run<'a> = dyn Fn(&str, Option<&Value>) -> Result<Value, RpcError> + 'a;

/// JSON-RPC framing around `run`: parsing, batches, 1.0 and 2.0 replies.
fn execute_with(body: &[u8], run: &Run) -> (StatusCode, String) {
    let request: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(_) => {
            let error = RpcError::new(code::PARSE_ERROR, "Parse error");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                reply_v1(&Value::Null, Err(error)),
            );
        }
    };
    match request {
        Value::Array(batch) => {
            let replies: Vec<Value> = batch
                .iter()
                .filter_map(|item| single(run, item).1)
                .collect();
            (StatusCode::OK, Value::Array(replies).to_string() + "\n")
        }
        // Neither an object nor a batch: Core's top-level parse error.
        item if !item.is_object() => {
            let error = RpcError::new(code::PARSE_ERROR, "Top-level object parse error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                reply_v1(&Value::Null, Err(error)),
            )
        }
        item => match single(run, &item) {
            (status, Some(reply)) => (status, reply.to_string() + "\n"),
            (_, None) => (StatusCode::NO_CONTENT, String::new()),
        },
    }
}

/// One request object: the status it would have alone and its reply
/// (`None` for a JSON-RPC 2.0 notification).
fn single(run: &Run, item: &Value) -> (StatusCode, Option<Value>) {
    let Some(object) = item.as_object() else {
        let error = RpcError::new(code::INVALID_REQUEST, "Invalid Request object");
        return (
            StatusCode::BAD_REQUEST,
            Some(reply_value_v1(&Value::Null, Err(error))),
        );
    };
    let id = object.get("id").cloned().unwrap_or(Value::Null);
    let v2 = match object.get("jsonrpc") {
        None => false,
        Some(Value::String(v)) if v == "1.0" => false,
        Some(Value::String(v)) if v == "2.0" => true,
        Some(value) if !value.is_string() => {
            let error = RpcError::new(code::INVALID_REQUEST, "jsonrpc field must be a string");
            return (
                StatusCode::BAD_REQUEST,
                Some(reply_value_v1(&id, Err(error))),
            );
        }
        Some(_) => {
            let error = RpcError::new(code::INVALID_REQUEST, "JSON-RPC version not supported");
            return (
                StatusCode::BAD_REQUEST,
                Some(reply_value_v1(&id, Err(error))),
            );
        }
    };
    let result = match object.get("method") {
        None => Err(RpcError::new(code::INVALID_REQUEST, "Missing method")),
        Some(Value::String(method)) => run(method, object.get("params")),
        Some(_) => Err(RpcError::new(
            code::INVALID_REQUEST,
            "Method must be a string",
        )),
    };
    if v2 {
        if !object.contains_key("id") {
            return (StatusCode::NO_CONTENT, None);
        }
        let reply = match result {
            Ok(value) => json!({ "jsonrpc": "2.0", "result": value, "id": id }),
            Err(error) => json!({ "jsonrpc": "2.0", "error": error.to_json(), "id": id }),
        };
        return (StatusCode::OK, Some(reply));
    }
    let status = match &result {
        Ok(_) => StatusCode::OK,
        Err(e) if e.code == code::INVALID_REQUEST => StatusCode::BAD_REQUEST,
        Err(e) if e.code == code::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, Some(reply_value_v1(&id, result)))
}

fn reply_value_v1(id: &Value, result: Result<Value, RpcError>) -> Value {
    match result {
        Ok(value) => json!({ "result": value, "error": null, "id": id }),
        Err(error) => json!({ "result": null, "error": error.to_json(), "id": id }),
    }
}

fn reply_v1(id: &Value, result: Result<Value, RpcError>) -> String {
    reply_value_v1(id, result).to_string() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn while_warming_up_every_call_is_answered_with_minus_28() {
        let state = RpcState::new(Logger::disabled(), "Loading block index…");
        let (status, body) = state.execute("/", br#"{"method":"getblockcount","id":1}"#);
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        let reply: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            reply["error"],
            serde_json::json!({"code": -28, "message": "Loading block index…"})
        );
        state.set_warmup("Verifying blocks…");
        let (status, body) = state.execute("/", br#"[{"jsonrpc":"2.0","method":"help","id":2}]"#);
        assert_eq!(status, StatusCode::OK);
        let reply: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(reply[0]["error"]["code"], -28);
        assert_eq!(reply[0]["error"]["message"], "Verifying blocks…");
        // Framing errors are still framing errors.
        let (status, _) = state.execute("/", b"{nope");
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
