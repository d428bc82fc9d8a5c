//! A private nats-server with JetStream for one test: 127.0.0.1, free
//! ports, a temporary store, killed on drop. Tests get their own instance
//! so they can run in parallel and restart it; `scripts/lib/nats.sh`
//! installs the binary (`AMPY_NATS_SERVER`, else `nats-server` on PATH).
//!
//! Without a binary a test skips with one line, unless
//! `AMPYGEN_TEST_REQUIRE_NATS=1` (set by scripts/test), where it fails.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    monitor: u16,
    child: Option<Child>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AMPY_NATS_SERVER") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/bin")])
        .map(|d| d.join("nats-server"))
        .find(|p| p.is_file())
}

impl Server {
    /// A running server, or `None` (and one line on stderr) to skip.
    pub fn start(test: &str) -> Option<Server> {
        let Some(bin) = binary() else {
            if std::env::var("AMPYGEN_TEST_REQUIRE_NATS").as_deref() == Ok("1") {
                panic!("{test}: nats-server is required (AMPYGEN_TEST_REQUIRE_NATS=1) but not found; scripts/test installs it");
            }
            // Past the test harness's capture: the skip shows in a plain `cargo test`.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("skipping {test}: no nats-server (install it, or run scripts/test)\n").as_bytes(),
            );
            return None;
        };
        let mut s = Server {
            bin,
            dir: tempfile::tempdir().expect("temp dir"),
            port: free_port(),
            monitor: free_port(),
            child: None,
        };
        s.spawn();
        Some(s)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let store = self.dir.path().join("store");
        let child = Command::new(&self.bin)
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-m", &self.monitor.to_string(), "-sd"])
            .arg(&store)
            .arg("-l")
            .arg(self.dir.path().join("nats.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if self.healthy() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let log = std::fs::read_to_string(self.dir.path().join("nats.log")).unwrap_or_default();
        panic!("nats-server did not become healthy; log:\n{log}");
    }

    fn healthy(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.monitor)) else { return false };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        if s.write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
            return false;
        }
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out.starts_with("HTTP/1.0 200") || out.starts_with("HTTP/1.1 200")
    }

    /// Kills the server (SIGKILL: no graceful flush) and starts it again on
    /// the same port and store.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
