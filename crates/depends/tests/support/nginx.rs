//! A real nginx with its WebDAV module (Debian's `nginx`), started by a test
//! on 127.0.0.1 with its own prefix, config, logs and document root in a
//! temporary folder, as one foreground process. Killed on drop.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

/// How the test server treats writes.
#[derive(Debug, Clone, Copy)]
pub struct NginxConfig {
    /// `limit_except GET HEAD { deny all; }`: every PUT and MKCOL gets 403.
    pub read_only: bool,
    /// `create_full_put_path on`: PUT makes missing folders. Off, a client
    /// has to MKCOL each folder first, as on a strict WebDAV server.
    pub create_full_put_path: bool,
}

impl Default for NginxConfig {
    fn default() -> Self {
        NginxConfig {
            read_only: false,
            create_full_put_path: true,
        }
    }
}

/// The folder under the document root that the cache URL points at, so
/// a client has to handle a URL with a path.
const CACHE_PATH: &str = "cache";
/// Ports tried before giving up; each failure is a bind race with another
/// process or test.
const START_TRIES: usize = 20;

pub struct Nginx {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl Nginx {
    pub fn start() -> Nginx {
        Nginx::start_with(NginxConfig::default())
    }

    pub fn start_with(config: NginxConfig) -> Nginx {
        let binary = nginx_binary();
        let dir = tempfile::tempdir().unwrap();
        for sub in ["root", "logs", "tmp"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let mut last_error = String::new();
        for _ in 0..START_TRIES {
            let Some(port) = free_port() else { continue };
            // A token only this instance serves: a port another server
            // took meanwhile answers with something else.
            let token = format!("{}-{port}-{:?}", std::process::id(), Instant::now());
            std::fs::write(dir.path().join("root/.whoami"), &token).unwrap();
            let conf = dir.path().join("nginx.conf");
            std::fs::write(&conf, config_text(dir.path(), port, config)).unwrap();
            let error_log = dir.path().join("logs/error.log");
            let mut child = Command::new(&binary)
                .arg("-p")
                .arg(dir.path())
                .arg("-c")
                .arg(&conf)
                .arg("-e")
                .arg(&error_log)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            if wait_until_serving(&mut child, port, &token) {
                return Nginx { dir, port, child };
            }
            let _ = child.kill();
            let _ = child.wait();
            last_error = std::fs::read_to_string(&error_log).unwrap_or_default();
        }
        panic!("nginx did not start after {START_TRIES} ports; last error log:\n{last_error}");
    }

    /// The cache URL: `http://127.0.0.1:<port>/cache`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/{CACHE_PATH}", self.port)
    }

    /// The folder the cache URL serves.
    pub fn cache_dir(&self) -> PathBuf {
        self.dir.path().join("root").join(CACHE_PATH)
    }

    /// The access log, one `METHOD URI STATUS "Authorization" "user"` line
    /// per request, in completion order.
    pub fn access_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("logs/access.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Stops the server now (the tests for an unreachable cache).
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.kill();
    }
}

fn nginx_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("nginx"))
            .find(|candidate| candidate.is_file())
    });
    on_path
        .or_else(|| Some(PathBuf::from("/usr/sbin/nginx")).filter(|p| p.is_file()))
        .expect("nginx not found: `apt-get install nginx` (listed in ci/debian-packages.txt)")
}

/// A port below the kernel's ephemeral range, so no outgoing connection of
/// this machine holds it, that binds right now. Ports are handed out in
/// turn from a per-process start, so parallel tests do not collide.
fn free_port() -> Option<u16> {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let (low, high) = (20000u16, ephemeral_start.clamp(20001, 30000));
    let span = high - low;
    let _ = NEXT.compare_exchange(
        0,
        (std::process::id() % u32::from(span)) as u16 + 1,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..span {
        let port = low + NEXT.fetch_add(7, Ordering::SeqCst) % span;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Some(port);
        }
    }
    None
}

/// Waits for this instance to answer with `token`; false if it exited
/// (usually: the port was taken between the check and nginx's bind).
fn wait_until_serving(child: &mut Child, port: u16, token: &str) -> bool {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/.whoami");
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return false;
        }
        let answer = client.get(&url).send().and_then(|r| r.text());
        if answer.is_ok_and(|text| text == token) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn config_text(dir: &Path, port: u16, config: NginxConfig) -> String {
    let d = dir.display();
    // As root, nginx otherwise makes its temporary folders for `nobody`.
    let is_root = std::fs::metadata("/proc/self").is_ok_and(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid() == 0
    });
    let user = if is_root { "user root;\n" } else { "" };
    let full_path = if config.create_full_put_path {
        "on"
    } else {
        "off"
    };
    let read_only = if config.read_only {
        "      limit_except GET HEAD { deny all; }\n"
    } else {
        ""
    };
    format!(
        "daemon off;\n\
         master_process off;\n\
         {user}\
         pid {d}/nginx.pid;\n\
         error_log {d}/logs/error.log info;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n\
         \x20 log_format order '$request_method $uri $status \"$http_authorization\" \"$remote_user\"';\n\
         \x20 access_log {d}/logs/access.log order;\n\
         \x20 default_type application/octet-stream;\n\
         \x20 client_body_temp_path {d}/tmp/body;\n\
         \x20 proxy_temp_path {d}/tmp/proxy;\n\
         \x20 fastcgi_temp_path {d}/tmp/fastcgi;\n\
         \x20 uwsgi_temp_path {d}/tmp/uwsgi;\n\
         \x20 scgi_temp_path {d}/tmp/scgi;\n\
         \x20 server {{\n\
         \x20   listen 127.0.0.1:{port};\n\
         \x20   root {d}/root;\n\
         \x20   client_max_body_size 0;\n\
         \x20   location / {{\n\
         \x20     dav_methods PUT DELETE MKCOL;\n\
         \x20     create_full_put_path {full_path};\n\
         \x20     dav_access user:rw group:r all:r;\n\
         {read_only}\
         \x20   }}\n\
         \x20 }}\n\
         }}\n"
    )
}
