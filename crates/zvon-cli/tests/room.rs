//! `zvon echo` and `zvon chat` (the real binary, as processes) meet in a room of a zvon
//! signaling server on 127.0.0.1: a line typed into the chat comes back from the echo. Both
//! join orders, so each side is once the newcomer that offers.
// Processes, sockets and the wall clock: an integration test.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use zvon_server::{Server, ServerConfig};

struct Proc {
    child: Child,
    out: mpsc::Receiver<String>,
    err: mpsc::Receiver<String>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines(r: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn zvon(args: &[&str]) -> Proc {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zvon"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("zvon runs");
    let out = lines(child.stdout.take().unwrap());
    let err = lines(child.stderr.take().unwrap());
    Proc { child, out, err }
}

/// Waits for a line containing `what` on `rx`, echoing what it sees for the test log.
fn wait_for(rx: &mpsc::Receiver<String>, what: &str, until: Instant) -> bool {
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left.min(Duration::from_millis(200))) {
            Ok(l) => {
                eprintln!("  | {l}");
                if l.contains(what) {
                    return true;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return false,
        }
    }
    false
}

fn session(echo_first: bool) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut cfg = ServerConfig::default();
    cfg.addr = "127.0.0.1:0".parse().unwrap();
    let server = rt.block_on(Server::bind(cfg)).unwrap();
    let url = format!("http://{}", server.local_addr());
    let handle = server.handle();
    rt.spawn(server.run());
    let room = if echo_first {
        "echo-first"
    } else {
        "chat-first"
    };
    let common = ["--room", room, "--server", &url, "--loopback"];
    let start = |cmd: &str| {
        let mut a = vec![cmd];
        a.extend_from_slice(&common);
        zvon(&a)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let (echo, mut chat) = if echo_first {
        let echo = start("echo");
        assert!(wait_for(&echo.err, "joined room", deadline), "echo joined");
        let chat = start("chat");
        (echo, chat)
    } else {
        let chat = start("chat");
        assert!(wait_for(&chat.err, "joined room", deadline), "chat joined");
        let echo = start("echo");
        (echo, chat)
    };
    assert!(
        wait_for(&chat.err, "Connected", deadline),
        "chat connected to echo"
    );
    // The channel may open a moment after the connection: type until the echo answers.
    let mut stdin = chat.child.stdin.take().unwrap();
    let mut echoed = false;
    while !echoed && Instant::now() < deadline {
        writeln!(stdin, "hello from the test").unwrap();
        stdin.flush().unwrap();
        echoed = wait_for(
            &chat.out,
            "zvon echo: hello from the test",
            Instant::now() + Duration::from_millis(500),
        );
    }
    assert!(echoed, "the echo came back");
    drop(echo);
    handle.shutdown();
}

#[test]
fn chat_joins_an_echo() {
    session(true);
}

#[test]
fn echo_joins_a_chat() {
    session(false);
}
