//! The web page (`crates/zvon-server/web/`, served from the copy built into the server) in
//! headless Chromium against the real server: `interop/web/driver.mjs` (playwright-core, see
//! `interop/web/README.md`) opens pages that join one room through `/ws`, chat over their data
//! channels, add a call and a screen share to the same RTCPeerConnection by renegotiation,
//! resolve a glare by perfect negotiation, meet a page that rejects media as a data-only zvon
//! peer does, and a page with a wrong token is refused. At the end the test shuts the server
//! down under the two pages: both show its `bye` and go on chatting peer to peer. Node, playwright-core (`scripts/test`
//! installs it in `interop/`) and `/usr/bin/chromium` missing make this test fail, not skip.
// A real server, a browser in a child process and the wall clock: none of the sans-IO bans apply.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use zvon_server::{Handle, Server, ServerConfig};

/// The driver's own limit; the test kills it a little after that.
const DRIVER_TIMEOUT_S: u64 = 75;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_chromium_pages_chat_call_share_and_glare() {
    let mut cfg = ServerConfig::default();
    cfg.addr = "127.0.0.1:0".parse().expect("address");
    cfg.token = Some("browser-test-token".into());
    let server = Server::bind(cfg).await.expect("bind the server");
    let addr = server.local_addr();
    let handle = server.handle();
    let running = tokio::spawn(server.run());

    let url = format!("http://{addr}/");
    let started = Instant::now();
    let shutdown = handle.clone();
    let out = tokio::task::spawn_blocking(move || run_driver(&url, "browser-test-token", shutdown))
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
        "page join -> first chat message {} ms (connected {} ms, channel open {} ms); \
         whole run {:.1} s",
        t["joinToFirstChatMs"],
        t["joinToConnectedMs"],
        t["joinToChannelOpenMs"],
        wall.as_secs_f64()
    );
    assert!(
        t["joinToFirstChatMs"].as_u64().is_some(),
        "no join-to-chat timing in {result}"
    );

    // The driver asked for the shutdown and saw both pages get `bye`; the server is done.
    tokio::time::timeout(Duration::from_secs(10), running)
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

struct DriverOutput {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_driver(url: &str, token: &str, server: Handle) -> DriverOutput {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("interop/web/driver.mjs");
    let mut child = Command::new("node")
        .arg(&script)
        .args([
            "--url",
            url,
            "--token",
            token,
            "--server-shutdown",
            "--timeout",
        ])
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
    // Read both pipes while waiting, so a chatty driver cannot block on a full pipe. The
    // driver's {"type":"shutdown-please"} line gets the server shut down and a line back.
    let mut stdin = child.stdin.take().expect("piped stdin");
    let so = child.stdout.take().expect("piped stdout");
    let mut se = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        for line in BufReader::new(so).lines() {
            let Ok(line) = line else { break };
            if line.contains("\"shutdown-please\"") {
                server.shutdown();
                let _ = writeln!(stdin, "go");
            }
            s.push_str(&line);
            s.push('\n');
        }
        s
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
    DriverOutput {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}
