//! Shared by the live-Chromium tests: a chromedriver session over plain HTTP/1.1, and the bits
//! of SDP those tests read from Chromium's offer.
// A real browser process, real sockets and the wall clock: integration-test scaffolding. Each
// test binary uses a different subset of it.
#![allow(clippy::disallowed_methods, clippy::disallowed_types, dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command as Proc, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zvon_ice::{Candidate, CandidateKind, Foundation};

pub(crate) struct Driver {
    child: Child,
    port: u16,
    session: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = http(
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    // Read by Content-Length: chromedriver keeps the connection open.
    let mut resp = Vec::new();
    let mut chunk = [0u8; 8192];
    let json = loop {
        let n = s.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed early".into());
        }
        resp.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&resp).into_owned();
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        let len = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().to_owned())
            })
            .and_then(|v| v.parse::<usize>().ok())
            .ok_or("no content-length")?;
        if body.len() >= len {
            break body[..len].to_owned();
        }
    };
    let json = json.as_str();
    serde_json::from_str(json).map_err(|e| format!("{e}: {json}"))
}

impl Driver {
    pub(crate) fn start(port: u16) -> Self {
        let child = Proc::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver must be installed (scripts/test installs chromium-driver)");
        // The guard kills chromedriver even if a step below fails.
        let mut d = Self {
            child,
            port,
            session: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Err(e) = http(port, "GET", "/status", None) {
            assert!(Instant::now() < deadline, "chromedriver did not start: {e}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-features=WebRtcHideLocalIpsWithMdns"]}}}});
        let v = http(port, "POST", "/session", Some(&caps)).expect("new session");
        d.session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_owned();
        d
    }

    /// Runs an async script; its last argument is the callback.
    pub(crate) fn run(&self, script: &str, args: Value) -> Value {
        let body = json!({"script": script, "args": args});
        let v = http(
            self.port,
            "POST",
            &format!("/session/{}/execute/async", self.session),
            Some(&body),
        )
        .expect("execute");
        v["value"].clone()
    }
}

pub(crate) fn attr<'a>(sdp: &'a str, key: &str) -> &'a str {
    sdp.lines()
        .find_map(|l| l.trim().strip_prefix(key))
        .unwrap_or_else(|| panic!("{key} in {sdp}"))
}

/// `a=candidate:` lines of UDP candidates (test-only parsing; zvon-sdp owns the real one).
pub(crate) fn candidates(sdp: &str) -> Vec<Candidate> {
    sdp.lines()
        .filter_map(|l| l.trim().strip_prefix("a=candidate:"))
        .filter_map(|c| {
            let f: Vec<&str> = c.split_whitespace().collect();
            if f.len() < 8 || !f[2].eq_ignore_ascii_case("udp") {
                return None;
            }
            let kind = match f[7] {
                "host" => CandidateKind::Host,
                "srflx" => CandidateKind::ServerReflexive,
                "prflx" => CandidateKind::PeerReflexive,
                _ => CandidateKind::Relayed,
            };
            let addr = SocketAddr::new(f[4].parse().ok()?, f[5].parse().ok()?);
            Some(Candidate::remote(
                kind,
                addr,
                f[3].parse().ok()?,
                Foundation::new(f[0])?,
            ))
        })
        .collect()
}
