//! A small fault-injecting HTTP/1.1 server for tests.
//!
//! Include it with `#[path = "support/http_server.rs"] mod http_server;`.
//! Every response closes its connection, which keeps the server trivial and
//! makes "drop the connection mid-body" faults exact. The server stops when
//! the [`TestServer`] is dropped.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long a connection may stay silent before the server gives up on it.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// What a client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The `Range` header, if any.
    pub range: Option<String>,
}

enum Route {
    Body {
        body: Arc<Vec<u8>>,
        content_type: &'static str,
        ranges: bool,
    },
    /// The first `times` responses stop after `cut` body bytes; the
    /// connection is closed (`stall` = None) or held silent (`Some`).
    Faulty {
        body: Arc<Vec<u8>>,
        cut: usize,
        times: usize,
        stall: Option<Duration>,
    },
    Status(u16),
}

#[derive(Default)]
struct Shared {
    routes: Mutex<HashMap<String, Route>>,
    requests: Mutex<Vec<RecordedRequest>>,
    stop: AtomicBool,
}

/// A server on `127.0.0.1:<ephemeral port>`; unknown paths get 404.
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking connection thread must not take the whole test down.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn key(path: &str) -> String {
    path.trim_start_matches('/').to_owned()
}

impl TestServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind test server");
        let addr = listener.local_addr().expect("test server address");
        let shared = Arc::new(Shared::default());
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if shared.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = Arc::clone(&shared);
                    thread::spawn(move || handle(stream, &shared));
                }
            })
        };
        Self {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, key(path))
    }

    /// 200 with `body`; honours `Range` (206, or 416 past the end).
    pub fn serve(&self, path: &str, body: Vec<u8>) {
        self.route(
            path,
            Route::Body {
                body: Arc::new(body),
                content_type: "application/octet-stream",
                ranges: true,
            },
        );
    }

    /// 200 with `body` even when a `Range` was asked for, as some servers do.
    pub fn serve_ignoring_range(&self, path: &str, body: Vec<u8>) {
        self.route(
            path,
            Route::Body {
                body: Arc::new(body),
                content_type: "application/octet-stream",
                ranges: false,
            },
        );
    }

    /// 200 with an HTML error page, as captive portals and broken mirrors send.
    pub fn serve_html(&self, path: &str) {
        let page = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\
                     <body>Please log in to continue.</body></html>\n";
        self.route(
            path,
            Route::Body {
                body: Arc::new(page.to_vec()),
                content_type: "text/html; charset=utf-8",
                ranges: true,
            },
        );
    }

    /// The first `times` requests announce the full length but the connection
    /// closes after `cut` body bytes; later requests behave as [`serve`](Self::serve).
    pub fn serve_drop_after(&self, path: &str, body: Vec<u8>, cut: usize, times: usize) {
        self.route(
            path,
            Route::Faulty {
                body: Arc::new(body),
                cut,
                times,
                stall: None,
            },
        );
    }

    /// Like [`serve_drop_after`](Self::serve_drop_after), but instead of closing
    /// the connection the server goes silent for `stall` (to exercise read timeouts).
    pub fn serve_stall_after(
        &self,
        path: &str,
        body: Vec<u8>,
        cut: usize,
        times: usize,
        stall: Duration,
    ) {
        self.route(
            path,
            Route::Faulty {
                body: Arc::new(body),
                cut,
                times,
                stall: Some(stall),
            },
        );
    }

    /// An empty response with `status`.
    pub fn serve_status(&self, path: &str, status: u16) {
        self.route(path, Route::Status(status));
    }

    /// Requests for `path`, in arrival order.
    pub fn requests(&self, path: &str) -> Vec<RecordedRequest> {
        let path = key(path);
        lock(&self.shared.requests)
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    pub fn request_count(&self, path: &str) -> usize {
        self.requests(path).len()
    }

    fn route(&self, path: &str, route: Route) {
        lock(&self.shared.routes).insert(key(path), route);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor, which is blocked in `accept`.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// The head of a request: method, path (without query) and `Range`.
fn read_request(stream: &mut TcpStream) -> Option<RecordedRequest> {
    let mut head = Vec::new();
    let mut buf = [0; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split_whitespace();
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?;
    let path = key(target.split('?').next().unwrap_or(target));
    let range = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("range"))
        .map(|(_, value)| value.trim().to_owned());
    Some(RecordedRequest {
        method,
        path,
        range,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// What to send: status, extra headers and the body slice.
struct Reply {
    status: u16,
    headers: Vec<String>,
    body: Vec<u8>,
}

fn status_reply(status: u16) -> Reply {
    Reply {
        status,
        headers: vec!["Content-Type: text/plain".to_owned()],
        body: Vec::new(),
    }
}

/// A 200 for `body`, or the 206/416 that `range` calls for.
fn body_reply(body: &[u8], content_type: &str, range: Option<&str>) -> Reply {
    let len = body.len();
    let mut headers = vec![
        format!("Content-Type: {content_type}"),
        "Accept-Ranges: bytes".to_owned(),
    ];
    let Some(spec) = range.and_then(|r| r.strip_prefix("bytes=")) else {
        return Reply {
            status: 200,
            headers,
            body: body.to_vec(),
        };
    };
    let (start, end) = spec.split_once('-').unwrap_or((spec, ""));
    let start: usize = start.trim().parse().unwrap_or(usize::MAX);
    let end: usize = end
        .trim()
        .parse()
        .map_or(len.saturating_sub(1), |e: usize| {
            e.min(len.saturating_sub(1))
        });
    if start >= len || start > end {
        headers.push(format!("Content-Range: bytes */{len}"));
        return Reply {
            status: 416,
            headers,
            body: Vec::new(),
        };
    }
    headers.push(format!("Content-Range: bytes {start}-{end}/{len}"));
    Reply {
        status: 206,
        headers,
        body: body[start..=end].to_vec(),
    }
}

fn handle(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let Some(request) = read_request(&mut stream) else {
        return;
    };
    lock(&shared.requests).push(request.clone());

    // Decide under the lock (fault budgets are counted there), send outside.
    let (reply, fault) = {
        let mut routes = lock(&shared.routes);
        match routes.get_mut(&request.path) {
            None => (status_reply(404), None),
            Some(Route::Status(status)) => (status_reply(*status), None),
            Some(Route::Body {
                body,
                content_type,
                ranges,
            }) => {
                let range = request.range.as_deref().filter(|_| *ranges);
                (body_reply(body, content_type, range), None)
            }
            Some(Route::Faulty {
                body,
                cut,
                times,
                stall,
            }) => {
                let reply = body_reply(body, "application/octet-stream", request.range.as_deref());
                let fault = (*times > 0).then_some((*cut, *stall));
                *times = times.saturating_sub(1);
                (reply, fault)
            }
        }
    };

    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for header in &reply.headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    ));
    let body: &[u8] = if request.method == "HEAD" {
        &[]
    } else {
        &reply.body
    };
    let sent = match fault {
        Some((cut, _)) => &body[..cut.min(body.len())],
        None => body,
    };
    if stream.write_all(head.as_bytes()).is_err() || stream.write_all(sent).is_err() {
        return;
    }
    let _ = stream.flush();
    if let Some((_, Some(stall))) = fault {
        // Hold the connection open without sending, unless the test ends first.
        let until = Instant::now() + stall;
        while Instant::now() < until && !shared.stop.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(20));
        }
    }
    let _ = stream.shutdown(Shutdown::Write);
}
