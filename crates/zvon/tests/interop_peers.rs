//! zvon against other WebRTC implementations, each as offerer and as answerer: Google's
//! libwebrtc (`@roamhq/wrtc`), `werift`, `aiortc` and headless Chromium. The peers are the
//! programs in `interop/` (installed by `scripts/test`); they speak newline-delimited JSON on
//! stdin/stdout (see `interop/README.md`), and run the symmetric data-channel scenario that
//! zvon mirrors here: two channels each way (ordered and unordered), binary messages of 0, 1,
//! 16 KiB and 256 KiB (those the peer's `a=max-message-size` allows) and a text message, every
//! one echoed and checked byte for byte.
// Child processes, threads and the wall clock: an integration test.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use zvon::{
    CandidateInit, ChannelInit, Configuration, DataChannel, Description, MessageKind,
    PeerConnection, PeerEvent,
};

const NAME: &str = "zvon";
const OWN_MAX: usize = 256 * 1024;
const SIZES: [usize; 4] = [0, 1, 16384, 262144];

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn spawn(peer: &str, role: &str, extra: &[&str]) -> Child {
    let root = root();
    let mut cmd = match peer {
        "aiortc" => {
            let venv = std::env::var("ZVON_VENV").unwrap_or_else(|_| {
                format!(
                    "{}/.cache/zvon-venv",
                    std::env::var("HOME").unwrap_or_default()
                )
            });
            let mut c = Command::new(format!("{venv}/bin/python"));
            c.arg(root.join("interop/aiortc/peer.py"));
            c
        }
        other => {
            let mut c = Command::new("node");
            c.arg(root.join(format!("interop/{other}/peer.mjs")));
            c
        }
    };
    cmd.args(["--role", role, "--timeout", "40"])
        .args(extra)
        // The test closes the peer's stdin once zvon has its verdict too; until then the peer
        // keeps echoing (its default 1 s grace could cut off a slow echo).
        .env("ZVON_PEER_GRACE_MS", "20000")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{peer} must be installed (scripts/test does it): {e}"))
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 7 + n) & 0xff) as u8).collect()
}

/// What the channel tasks report to the main loop.
enum Report {
    Done(String),
    Failed(String),
}

/// Sends the scenario's messages on one of our channels and checks the echoes.
async fn own_channel(mut dc: DataChannel, tx: mpsc::UnboundedSender<Report>) {
    let label = dc.label().to_owned();
    if dc.wait_open().await.is_err() {
        let _ = tx.send(Report::Failed(format!("{label} never opened")));
        return;
    }
    let limit = dc.max_message_size().unwrap_or(65536).min(OWN_MAX);
    let mut want: Vec<(Vec<u8>, MessageKind)> = SIZES
        .iter()
        .filter(|&&n| n <= limit)
        .map(|&n| (payload(n), MessageKind::Binary))
        .collect();
    want.push((format!("hello from {NAME}").into_bytes(), MessageKind::Text));
    for (data, kind) in &want {
        if let Err(e) = dc.send_kind(data, *kind) {
            let _ = tx.send(Report::Failed(format!("{label}: send {}: {e}", data.len())));
            return;
        }
    }
    let ordered = dc.ordered();
    while !want.is_empty() {
        let Some(m) = dc.recv().await else {
            let _ = tx.send(Report::Failed(format!(
                "{label} closed with {} echoes missing",
                want.len()
            )));
            return;
        };
        let pos = if ordered {
            (want[0].0 == m.data && want[0].1 == m.kind).then_some(0)
        } else {
            want.iter().position(|(d, k)| *d == m.data && *k == m.kind)
        };
        match pos {
            Some(i) => {
                want.remove(i);
            }
            None => {
                let _ = tx.send(Report::Failed(format!(
                    "{label}: unexpected echo {:?} of {} bytes",
                    m.kind,
                    m.data.len()
                )));
                return;
            }
        }
    }
    let _ = tx.send(Report::Done(label));
}

/// Echoes everything on a channel the peer opened.
async fn echo_channel(mut dc: DataChannel, tx: mpsc::UnboundedSender<Report>) {
    while let Some(m) = dc.recv().await {
        if m.data.len() > OWN_MAX {
            let _ = tx.send(Report::Failed(format!(
                "{} sent {} bytes, above our max-message-size",
                dc.label(),
                m.data.len()
            )));
            return;
        }
        if let Err(e) = dc.send_kind(&m.data, m.kind) {
            let _ = tx.send(Report::Failed(format!("echo on {}: {e}", dc.label())));
            return;
        }
    }
}

struct Peer {
    child: Child,
    stdin: std::process::ChildStdin,
    lines: mpsc::UnboundedReceiver<Value>,
    stderr: std::thread::JoinHandle<String>,
}

impl Peer {
    fn start(name: &str, role: &str, extra: &[&str]) -> Self {
        let mut child = spawn(name, role, extra);
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let mut err = child.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) => {
                        if tx.send(v).is_err() {
                            break;
                        }
                    }
                    Err(e) => eprintln!("peer printed a non-JSON line ({e}): {line}"),
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        Self {
            child,
            stdin,
            lines,
            stderr,
        }
    }

    fn send(&mut self, v: Value) {
        let _ = writeln!(self.stdin, "{v}");
        let _ = self.stdin.flush();
    }
}

fn candidate_line(c: &CandidateInit) -> Value {
    json!({
        "type": "candidate",
        "candidate": c.candidate,
        "sdpMid": c.sdp_mid.clone().unwrap_or_else(|| "0".into()),
        "sdpMLineIndex": c.sdp_m_line_index.unwrap_or(0),
    })
}

// One peer at a time: two cores, and some peers take seconds to start.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The DTLS versions zvon offers or accepts in a run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dtls {
    /// Both (1.3 preferred).
    Auto,
    /// 1.2 only (and the peer is told to confirm it negotiated 1.2).
    Only12,
}

async fn run(peer_name: &str, zvon_offers: bool) {
    run_with(peer_name, zvon_offers, Dtls::Auto).await;
}

async fn run_with(peer_name: &str, zvon_offers: bool, dtls: Dtls) -> zvon::Stats {
    run_full(peer_name, zvon_offers, dtls, false).await
}

/// `on_mux`: zvon's connection gathers on a shared `UdpMux` socket, as a server's would.
async fn run_full(peer_name: &str, zvon_offers: bool, dtls: Dtls, on_mux: bool) -> zvon::Stats {
    let _serial = SERIAL.lock().await;
    let role = if zvon_offers { "answerer" } else { "offerer" };
    let extra: &[&str] = if dtls == Dtls::Only12 {
        &["--dtls12"]
    } else {
        &[]
    };
    let mut peer = Peer::start(peer_name, role, extra);
    let mut config = Configuration::loopback();
    if dtls == Dtls::Only12 {
        config.core.dtls.versions = zvon_dtls::VersionPolicy::Dtls12;
    }
    if on_mux {
        config.mux = Some(zvon::UdpMux::bind(&config.gather).await.expect("mux"));
    }
    let mut pc = PeerConnection::new(config).await.expect("pc");
    let (rep_tx, mut reports) = mpsc::unbounded_channel();
    let open_own = |pc: &PeerConnection, tx: &mpsc::UnboundedSender<Report>| {
        for (suffix, ordered) in [("ordered", true), ("unordered", false)] {
            let init = ChannelInit {
                ordered,
                ..ChannelInit::default()
            };
            let dc = pc
                .create_data_channel(&format!("{NAME}-{suffix}"), init)
                .expect("channel");
            tokio::spawn(own_channel(dc, tx.clone()));
        }
    };
    if zvon_offers {
        open_own(&pc, &rep_tx);
        let offer = pc.create_offer().await.expect("offer");
        pc.set_local_description(offer.clone()).await.expect("sld");
        peer.send(json!({"type": "offer", "sdp": offer.sdp}));
    }
    let mut own_done = 0;
    let mut peer_result: Option<Value> = None;
    let mut info = Value::Null;
    let mut remote_set = false;
    let mut held: Vec<CandidateInit> = Vec::new();
    let deadline = tokio::time::sleep(Duration::from_secs(45));
    tokio::pin!(deadline);
    let failure: Option<String> = loop {
        if own_done == 2 && peer_result.is_some() {
            break None;
        }
        tokio::select! {
            line = peer.lines.recv() => {
                let Some(v) = line else { break Some("the peer's stdout closed".into()) };
                match v["type"].as_str().unwrap_or("") {
                    "offer" => {
                        let sdp = v["sdp"].as_str().unwrap_or_default().to_owned();
                        if let Err(e) = pc.set_remote_description(Description::offer(sdp)).await {
                            break Some(format!("set_remote_description(offer): {e}"));
                        }
                        remote_set = true;
                        open_own(&pc, &rep_tx);
                        let answer = pc.create_answer().await.expect("answer");
                        pc.set_local_description(answer.clone()).await.expect("sld");
                        peer.send(json!({"type": "answer", "sdp": answer.sdp}));
                    }
                    "answer" => {
                        let sdp = v["sdp"].as_str().unwrap_or_default().to_owned();
                        if let Err(e) = pc.set_remote_description(Description::answer(sdp)).await {
                            break Some(format!("set_remote_description(answer): {e}"));
                        }
                        remote_set = true;
                    }
                    "candidate" => {
                        let c = CandidateInit {
                            candidate: v["candidate"].as_str().unwrap_or_default().to_owned(),
                            sdp_mid: v["sdpMid"].as_str().map(str::to_owned),
                            sdp_m_line_index: v["sdpMLineIndex"].as_u64().map(|i| i as u16),
                            username_fragment: None,
                        };
                        held.push(c);
                    }
                    "info" => info = v,
                    "result" => peer_result = Some(v),
                    _ => {}
                }
                if remote_set {
                    for c in held.drain(..) {
                        // TCP candidates and the like are skipped inside; a bad one is no failure.
                        let _ = pc.add_ice_candidate(c).await;
                    }
                }
            }
            ev = pc.next_event() => match ev {
                Some(PeerEvent::IceCandidate(c)) => peer.send(candidate_line(&c)),
                Some(PeerEvent::IceGatheringComplete) => peer.send(json!({"type": "candidate", "candidate": "", "sdpMid": "0", "sdpMLineIndex": 0})),
                Some(PeerEvent::DataChannel(dc)) => { tokio::spawn(echo_channel(dc, rep_tx.clone())); }
                Some(_) => {}
                None => break Some("the peer connection ended".into()),
            },
            r = reports.recv() => match r {
                Some(Report::Done(label)) => { eprintln!("{peer_name}: {label} done"); own_done += 1; }
                Some(Report::Failed(why)) => break Some(why),
                None => {}
            },
            _ = &mut deadline => break Some(format!("timed out: own channels done {own_done}/2, peer result {peer_result:?}")),
        }
    };
    let stats = pc.stats();
    pc.close().await;
    drop(peer.stdin);
    let mut status = None;
    for _ in 0..100 {
        if let Ok(Some(s)) = peer.child.try_wait() {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if status.is_none() {
        let _ = peer.child.kill();
    }
    let stderr = peer.stderr.join().unwrap_or_default();
    let ok = failure.is_none()
        && peer_result.as_ref().is_some_and(|r| r["ok"] == json!(true))
        && status.is_some_and(|s| s.success());
    assert!(
        ok,
        "{peer_name} (zvon {}): {failure:?}\npeer result: {peer_result:?}\nexit: {status:?}\ninfo: {info}\nzvon stats: {stats:?}\npeer stderr:\n{stderr}",
        if zvon_offers { "offers" } else { "answers" }
    );
    let channels: HashMap<String, (u64, u64)> = stats
        .channels
        .iter()
        .map(|c| (c.label.clone(), (c.messages_sent, c.messages_received)))
        .collect();
    eprintln!(
        "{peer_name} zvon_offers={zvon_offers}: ok; dtls {:?}, peer info {info}, channels {channels:?}",
        stats.dtls_version
    );
    stats
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libwebrtc_wrtc_answers() {
    run("wrtc", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libwebrtc_wrtc_offers() {
    run("wrtc", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn werift_answers() {
    run("werift", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn werift_offers() {
    run("werift", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aiortc_answers() {
    run("aiortc", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aiortc_offers() {
    run("aiortc", false).await;
}

// Chromium 156 (Debian, headless through playwright-core: interop/chromium). With both versions
// on offer it negotiates DTLS 1.3 with zvon; it has no switch to offer only 1.2, so the 1.2
// runs restrict zvon and the page confirms from getStats that 1.2 was used.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_answers_dtls13() {
    let st = run_with("chromium", true, Dtls::Auto).await;
    assert_eq!(st.dtls_version, Some(zvon_dtls::DtlsVersion::Dtls13));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_offers_dtls13() {
    let st = run_with("chromium", false, Dtls::Auto).await;
    assert_eq!(st.dtls_version, Some(zvon_dtls::DtlsVersion::Dtls13));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_answers_dtls12() {
    let st = run_with("chromium", true, Dtls::Only12).await;
    assert_eq!(st.dtls_version, Some(zvon_dtls::DtlsVersion::Dtls12));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_offers_dtls12() {
    let st = run_with("chromium", false, Dtls::Only12).await;
    assert_eq!(st.dtls_version, Some(zvon_dtls::DtlsVersion::Dtls12));
}

// zvon on a shared socket (`UdpMux`): Chromium's first checks must find the connection by
// ufrag before zvon has sent it anything.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_offers_to_zvon_on_mux() {
    run_full("chromium", false, Dtls::Auto, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_answers_zvon_on_mux() {
    run_full("chromium", true, Dtls::Auto, true).await;
}
