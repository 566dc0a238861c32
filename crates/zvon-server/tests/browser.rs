//! The web page (`crates/zvon-server/web/`, served from the copy built into the server) in
//! headless Chromium against the real server: `interop/web/driver.mjs` (playwright-core, see
//! `interop/web/README.md`) opens pages that join one room through `/ws`, chat over their data
//! channels, add a call and a screen share to the same RTCPeerConnection by renegotiation,
//! resolve a glare by perfect negotiation, meet a page that rejects media, then a real
//! data-only zvon peer (run here, as `zvon echo` would be) that opens a channel to every page,
//! answers their audio/video with port 0 and echoes their messages; a page with a wrong token
//! is refused. At the end the test shuts the server down under the pages: they show its `bye`
//! and go on chatting peer to peer. Node, playwright-core (`scripts/test` installs it in
//! `interop/`) and `/usr/bin/chromium` missing make this test fail, not skip.
// A real server, a browser in a child process, UDP sockets and the wall clock: none of the
// sans-IO bans apply.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use zvon::{ChannelInit, Configuration, PeerConnection, PeerEvent, SdpType};
use zvon_server::{Client, Handle, Server, ServerConfig, ServerMessage, SignalData};

/// The driver's own limit; the test kills it a little after that.
const DRIVER_TIMEOUT_S: u64 = 75;
const TOKEN: &str = "browser-test-token";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_pages_chat_call_share_glare_and_meet_a_zvon_peer() {
    let mut cfg = ServerConfig::default();
    cfg.addr = "127.0.0.1:0".parse().expect("address");
    cfg.token = Some(TOKEN.into());
    let server = Server::bind(cfg).await.expect("bind the server");
    let addr = server.local_addr();
    let handle = server.handle();
    let running = tokio::spawn(server.run());

    let url = format!("http://{addr}/");
    let started = Instant::now();
    let ctx = DriverContext {
        url: url.clone(),
        server: handle.clone(),
        runtime: tokio::runtime::Handle::current(),
    };
    let out = tokio::task::spawn_blocking(move || run_driver(ctx))
        .await
        .expect("driver thread");
    let wall = started.elapsed();
    eprintln!("--- interop/web/driver.mjs stderr ---\n{}", out.stderr);
    eprintln!("--- stdout ---\n{}", out.stdout);

    let last = out.stdout.lines().last().unwrap_or("");
    let result: serde_json::Value = serde_json::from_str(last).unwrap_or(serde_json::Value::Null);
    assert!(
        out.status == Some(0) && result["ok"] == true,
        "the web driver failed (exit {:?}, {:.1} s): {}",
        out.status,
        wall.as_secs_f64(),
        result["detail"].as_str().unwrap_or(last)
    );
    let t = &result["timings"];
    eprintln!(
        "page join -> first chat message {} ms ({} ms from the click; connected {} ms, channel open {} ms); \
         zvon peer join -> channels with 3 pages {} ms; whole run {:.1} s",
        t["joinToFirstChatMs"],
        t["clickToFirstChatMs"],
        t["joinToConnectedMs"],
        t["joinToChannelOpenMs"],
        t["nativePeerChannelsMs"],
        wall.as_secs_f64()
    );
    assert!(
        t["joinToFirstChatMs"].as_u64().is_some(),
        "no join-to-chat timing in {result}"
    );

    // The zvon peer ended with the server's bye.
    let native = out.native.expect("the driver asked for the zvon peer");
    let report = timeout(Duration::from_secs(10), native)
        .await
        .expect("the zvon peer ends after the server's bye")
        .expect("zvon peer task")
        .unwrap_or_else(|e| panic!("the zvon peer failed: {e}"));
    eprintln!("zvon peer: {report:?}");
    assert_eq!(report.remotes, 3, "a connection to each of the 3 pages");
    assert!(
        report.echoed >= 3,
        "the zvon peer echoed each page's message"
    );
    // A's screen (video), B's microphone and screen (audio, video).
    assert!(
        report.media_rejected >= 3 && report.offers_answered >= 2,
        "the pages offered their media to the zvon peer, which rejected it"
    );

    // The driver asked for the shutdown and saw the pages get `bye`; the server is done.
    timeout(Duration::from_secs(10), running)
        .await
        .expect("the server stops after shutdown")
        .expect("server task")
        .expect("server run");
    assert_eq!(
        (handle.connections(), handle.peers()),
        (0, 0),
        "connections and peers left after the shutdown"
    );
}

// --- the data-only zvon peer -----------------------------------------------------------------

/// What the zvon peer saw, over all its connections.
#[derive(Debug, Default)]
struct NativeReport {
    remotes: usize,
    echoed: usize,
    offers_answered: usize,
    /// Media sections (m-lines with port 0) in the answers it sent.
    media_rejected: usize,
}

/// A data-only zvon peer, as `zvon echo` is: joins as the newcomer, opens a `chat` channel to
/// every peer in the room and offers, answers later offers (zvon-core rejects media
/// sections), and echoes every message on that channel. Ends at the server's `bye`.
async fn native_echo(
    url: String,
    room: String,
    id_tx: std::sync::mpsc::Sender<String>,
) -> Result<NativeReport, String> {
    let mut client = timeout(
        Duration::from_secs(10),
        Client::connect(&url, &room, Some(TOKEN), Some("zvon-echo")),
    )
    .await
    .map_err(|_| "no welcome within 10 s".to_owned())?
    .map_err(|e| format!("joining: {e}"))?;
    let _ = id_tx.send(client.id().to_owned());
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<(String, SignalData)>();
    let mut remotes = HashMap::new();
    let mut tasks = Vec::new();
    for p in client.welcome().peers.clone() {
        let (tx, rx) = mpsc::unbounded_channel();
        remotes.insert(p.id.clone(), tx);
        tasks.push(tokio::spawn(echo_remote(p.id, out_tx.clone(), rx)));
    }
    drop(out_tx);
    loop {
        tokio::select! {
            m = client.recv() => match m {
                Some(ServerMessage::Signal { from, data }) => match remotes.get(&from) {
                    Some(tx) => { let _ = tx.send(data); }
                    None => return Err(format!("a signal from {from}, who is not a peer of ours")),
                },
                // Dropping its sender ends that connection's task.
                Some(ServerMessage::PeerLeft { id }) => { remotes.remove(&id); }
                Some(ServerMessage::Bye { .. }) | None => break,
                Some(ServerMessage::Error { code, message }) => {
                    return Err(format!("server error {code:?}: {message}"));
                }
                Some(_) => {}
            },
            Some((to, data)) = out_rx.recv() => {
                // A page that left meanwhile gets `unknown-peer`, which is harmless.
                let _ = client.send_signal(&to, &data).await;
            }
        }
    }
    drop(remotes);
    let mut report = NativeReport::default();
    for task in tasks {
        let r = timeout(Duration::from_secs(5), task)
            .await
            .map_err(|_| "a connection task did not end".to_owned())?
            .map_err(|e| format!("connection task: {e}"))??;
        report.remotes += 1;
        report.echoed += r.echoed;
        report.offers_answered += r.offers_answered;
        report.media_rejected += r.media_rejected;
    }
    Ok(report)
}

/// One connection of the zvon peer; ends when its signal sender is dropped.
async fn echo_remote(
    remote: String,
    out: mpsc::UnboundedSender<(String, SignalData)>,
    mut signals: mpsc::UnboundedReceiver<SignalData>,
) -> Result<NativeReport, String> {
    let err = |what: &str, e: zvon::Error| format!("{remote}: {what}: {e}");
    let mut pc = PeerConnection::new(Configuration::loopback())
        .await
        .map_err(|e| err("new", e))?;
    let mut chat = pc
        .create_data_channel("chat", ChannelInit::default())
        .map_err(|e| err("channel", e))?;
    let offer = pc.create_offer().await.map_err(|e| err("offer", e))?;
    pc.set_local_description(offer.clone())
        .await
        .map_err(|e| err("local offer", e))?;
    let _ = out.send((remote.clone(), offer.into()));
    let mut report = NativeReport::default();
    let mut chat_open = true;
    loop {
        tokio::select! {
            ev = pc.next_event() => match ev {
                None => break,
                Some(PeerEvent::DataChannel(dc)) => {
                    return Err(format!("{remote} opened channel {:?}; pages never do", dc.label()));
                }
                Some(ev) => if let Some(d) = SignalData::from_event(&ev) {
                    let _ = out.send((remote.clone(), d));
                },
            },
            m = chat.recv(), if chat_open => match m {
                Some(m) => {
                    chat.send_kind(&m.data, m.kind).map_err(|e| err("echo", e))?;
                    report.echoed += 1;
                }
                None => chat_open = false,
            },
            d = signals.recv() => match d {
                None => break,
                Some(SignalData::Description(d)) => {
                    let offer = d.kind == SdpType::Offer;
                    pc.set_remote_description(d).await.map_err(|e| err("remote description", e))?;
                    if offer {
                        let answer = pc.create_answer().await.map_err(|e| err("answer", e))?;
                        pc.set_local_description(answer.clone())
                            .await
                            .map_err(|e| err("local answer", e))?;
                        report.offers_answered += 1;
                        report.media_rejected += answer
                            .sdp
                            .lines()
                            .filter(|l| {
                                (l.starts_with("m=audio ") || l.starts_with("m=video "))
                                    && l.split(' ').nth(1) == Some("0")
                            })
                            .count();
                        let _ = out.send((remote.clone(), answer.into()));
                    }
                }
                Some(other) => {
                    if let Some(c) = other.candidate() {
                        pc.add_ice_candidate(c).await.map_err(|e| err("candidate", e))?;
                    }
                }
            },
        }
    }
    pc.close().await;
    Ok(report)
}

// --- the Node driver -------------------------------------------------------------------------

struct DriverContext {
    url: String,
    server: Handle,
    runtime: tokio::runtime::Handle,
}

struct DriverOutput {
    status: Option<i32>,
    stdout: String,
    stderr: String,
    native: Option<JoinHandle<Result<NativeReport, String>>>,
}

/// Runs the driver to its end, answering its requests on stdin: `native-peer-please` starts
/// the zvon peer in the room and replies with its id, `shutdown-please` shuts the server down.
fn run_driver(ctx: DriverContext) -> DriverOutput {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("interop/web/driver.mjs");
    let mut child = Command::new("node")
        .arg(&script)
        .args(["--url", &ctx.url, "--token", TOKEN])
        .args(["--native-peer", "--server-shutdown", "--timeout"])
        .arg(DRIVER_TIMEOUT_S.to_string())
        .current_dir(&root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `node {}` (scripts/test installs node and interop/node_modules): {e}",
                script.display()
            )
        });
    // Read both pipes while waiting, so a chatty driver cannot block on a full pipe.
    let mut stdin = child.stdin.take().expect("piped stdin");
    let so = child.stdout.take().expect("piped stdout");
    let mut se = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let mut native = None;
        for line in BufReader::new(so).lines() {
            let Ok(line) = line else { break };
            let req: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            match req["type"].as_str() {
                Some("native-peer-please") => {
                    let room = req["room"].as_str().unwrap_or_default().to_owned();
                    let (id_tx, id_rx) = std::sync::mpsc::channel();
                    native = Some(ctx.runtime.spawn(native_echo(ctx.url.clone(), room, id_tx)));
                    let reply = match id_rx.recv_timeout(Duration::from_secs(15)) {
                        Ok(id) => serde_json::json!({ "id": id }),
                        Err(_) => serde_json::json!({ "error": "the zvon peer did not join" }),
                    };
                    let _ = writeln!(stdin, "{reply}");
                }
                Some("shutdown-please") => {
                    ctx.server.shutdown();
                    let _ = writeln!(stdin, "{{}}");
                }
                _ => {}
            }
            s.push_str(&line);
            s.push('\n');
        }
        (s, native)
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = se.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(DRIVER_TIMEOUT_S + 20);
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st.code(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                // Killing node leaves Chromium to exit on its own when its pipe closes.
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let (stdout, native) = out_reader.join().unwrap_or_default();
    DriverOutput {
        status,
        stdout,
        stderr: err_reader.join().unwrap_or_default(),
        native,
    }
}
