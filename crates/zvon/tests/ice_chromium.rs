//! zvon's ICE agent against a real Chromium: Chromium offers (controlling, regular nomination,
//! its own pacing and GOOG attributes), zvon answers with a loopback host candidate, and both
//! sides must reach `connected` on the pair Chromium nominated. DTLS is not part of this test
//! (the answer's fingerprint is a dummy); the ICE state is reported before DTLS starts.
//! Chromium is driven over WebDriver (chromedriver) with plain HTTP/1.1 requests.
// A real browser process, real sockets and the wall clock: an integration test.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command as Proc, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zvon::ice::{Command, DriverEvent, GatherOptions, IceDriver, os_rng};
use zvon_ice::{
    Candidate, CandidateKind, Foundation, IceAgent, IceConfig, IceConnectionState, IceEvent,
    IceRole,
};

struct Driver {
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

fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
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
    fn start(port: u16) -> Self {
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
    fn run(&self, script: &str, args: Value) -> Value {
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

fn attr<'a>(sdp: &'a str, key: &str) -> &'a str {
    sdp.lines()
        .find_map(|l| l.trim().strip_prefix(key))
        .unwrap_or_else(|| panic!("{key} in {sdp}"))
}

/// `a=candidate:` lines of UDP candidates (test-only parsing; zvon-sdp owns the real one).
fn candidates(sdp: &str) -> Vec<Candidate> {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_offers_and_connects_to_zvon() {
    let chrome = Driver::start(9527);
    let offer = chrome.run(
        "const done = arguments[arguments.length - 1];
         window.pc = new RTCPeerConnection();
         window.states = [];
         pc.oniceconnectionstatechange = () => states.push(pc.iceConnectionState);
         pc.createDataChannel('x');
         pc.createOffer().then(o => pc.setLocalDescription(o)).then(() => {
           const t = setTimeout(() => done(pc.localDescription.sdp), 3000);
           pc.onicegatheringstatechange = () => {
             if (pc.iceGatheringState === 'complete') { clearTimeout(t); done(pc.localDescription.sdp); }
           };
         });",
        json!([]),
    );
    let offer = offer.as_str().expect("offer SDP").to_owned();
    let remote = candidates(&offer);
    assert!(!remote.is_empty(), "Chromium offered candidates: {offer}");

    let opts = GatherOptions {
        loopback_only: true,
        ipv6: false,
        ..GatherOptions::default()
    };
    let mut zvon = IceDriver::start(
        IceAgent::new(IceConfig::default(), IceRole::Controlled, os_rng()),
        opts,
    )
    .await
    .unwrap();
    zvon.command(Command::RemoteCredentials(
        attr(&offer, "a=ice-ufrag:").into(),
        attr(&offer, "a=ice-pwd:").into(),
    ));
    for c in remote {
        zvon.command(Command::RemoteCandidate(c));
    }
    zvon.command(Command::EndOfCandidates);
    let local = loop {
        match zvon.next_event().await.unwrap() {
            DriverEvent::Ice(IceEvent::LocalCandidate(c)) => break c,
            _ => continue,
        }
    };
    let creds = zvon.local_credentials().clone();
    let answer = format!(
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
         m=application {port} UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 127.0.0.1\r\n\
         a=candidate:{f} 1 udp {prio} {ip} {port} typ host\r\na=end-of-candidates\r\n\
         a=ice-ufrag:{u}\r\na=ice-pwd:{p}\r\n\
         a=fingerprint:sha-256 {fp}\r\na=setup:passive\r\na=mid:0\r\na=sctp-port:5000\r\n",
        port = local.addr.port(),
        ip = local.addr.ip(),
        f = local.foundation,
        prio = local.priority,
        u = creds.ufrag,
        p = creds.pwd,
        fp = ["AB"; 32].join(":"),
    );
    let started = Instant::now();
    let state = chrome.run(
        "const done = arguments[arguments.length - 1];
         pc.setRemoteDescription({type: 'answer', sdp: arguments[0]}).then(() => {
           const check = () => {
             if (states.includes('connected') || states.includes('completed')) done(states.join(','));
             else if (states.includes('failed')) done('failed: ' + states.join(','));
             else setTimeout(check, 5);
           };
           check();
           setTimeout(() => done('timeout: ' + states.join(',')), 10000);
         }, e => done('error: ' + e));",
        json!([answer]),
    );
    let chrome_took = started.elapsed();
    let state = state.as_str().unwrap_or("").to_owned();
    assert!(
        state.contains("connected"),
        "Chromium's ICE states: {state}"
    );

    // zvon's side: connected on the pair Chromium nominated.
    let mut nominated = None;
    let mut connected = false;
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while !(connected && nominated.is_some()) {
            match zvon.next_event().await {
                Some(DriverEvent::Ice(IceEvent::SelectedPairChanged { local, remote })) => {
                    nominated = Some((local.addr, remote.addr))
                }
                Some(DriverEvent::Ice(IceEvent::ConnectionStateChanged(
                    IceConnectionState::Connected | IceConnectionState::Completed,
                ))) => connected = true,
                Some(_) => {}
                None => break,
            }
        }
    })
    .await;
    assert!(connected, "zvon reached connected");
    let (l, _) = nominated.expect("a selected pair");
    assert_eq!(l, local.addr);
    println!(
        "Chromium connected to zvon (states {state}) {chrome_took:?} after setRemoteDescription"
    );
    zvon.close().await;
}
