//! The signaling server over real sockets on 127.0.0.1: the protocol of docs/signaling.md as
//! raw WebSocket clients (tokio-tungstenite) and the crate's own `Client` speak it.
// Real sockets, tasks and the wall clock: the sans-IO bans do not apply to a server test.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use zvon_server::{
    Client, Error, ErrorCode, Handle, RateLimit, Server, ServerConfig, ServerMessage, SignalData,
};

/// Any single expected step; far above what loopback needs, so only a hang trips it.
const STEP: Duration = Duration::from_secs(5);

struct Running {
    addr: SocketAddr,
    handle: Handle,
    task: JoinHandle<Result<(), Error>>,
}

impl Running {
    fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    async fn stop(self) {
        self.handle.shutdown();
        timeout(STEP, self.task)
            .await
            .expect("run() returns after shutdown")
            .expect("server task")
            .expect("server run");
    }
}

async fn start(tune: impl FnOnce(&mut ServerConfig)) -> Running {
    let mut cfg = ServerConfig::default();
    cfg.addr = "127.0.0.1:0".parse().expect("address");
    cfg.close_timeout = Duration::from_millis(500);
    tune(&mut cfg);
    let server = Server::bind(cfg).await.expect("bind");
    let addr = server.local_addr();
    let handle = server.handle();
    let task = tokio::spawn(server.run());
    Running { addr, handle, task }
}

/// A raw protocol client: sends whatever the test wants, sees every frame.
struct Raw {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Raw {
    async fn connect(s: &Running) -> Self {
        let (ws, _) = timeout(STEP, tokio_tungstenite::connect_async(s.url()))
            .await
            .expect("connect in time")
            .expect("connect");
        Self { ws }
    }

    async fn join(s: &Running, room: &str, name: &str) -> (Self, Value) {
        let mut r = Self::connect(s).await;
        r.send(&format!(
            r#"{{"type":"join","room":"{room}","name":"{name}"}}"#
        ))
        .await;
        let w = r.expect("welcome").await;
        (r, w)
    }

    async fn send(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send");
    }

    /// The next text frame as JSON, or `None` when the server closed the socket.
    async fn next(&mut self) -> Option<Value> {
        loop {
            let frame = timeout(STEP, self.ws.next())
                .await
                .expect("a frame or a close in time");
            match frame {
                Some(Ok(Message::Text(t))) => {
                    return Some(serde_json::from_str(t.as_str()).expect("server sends JSON"));
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => {}
            }
        }
    }

    async fn next_text(&mut self) -> String {
        loop {
            match timeout(STEP, self.ws.next())
                .await
                .expect("a frame in time")
            {
                Some(Ok(Message::Text(t))) => return t.as_str().to_owned(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    async fn expect(&mut self, kind: &str) -> Value {
        let m = self
            .next()
            .await
            .unwrap_or_else(|| panic!("closed, expected {kind}"));
        assert_eq!(m["type"], kind, "expected {kind}, got {m}");
        m
    }

    async fn expect_error(&mut self, code: &str) {
        let m = self.expect("error").await;
        assert_eq!(m["code"], code, "{m}");
        assert!(m["message"].is_string(), "{m}");
    }

    async fn expect_closed(&mut self) {
        if let Some(m) = self.next().await {
            panic!("expected the socket to close, got {m}");
        }
        // Reading on answers the server's close, which lets it go at once.
        while let Ok(Some(Ok(_))) = timeout(STEP, self.ws.next()).await {}
    }

    /// Nothing arrives for `d` (pings aside).
    async fn quiet(&mut self, d: Duration) {
        let end = tokio::time::Instant::now() + d;
        loop {
            match tokio::time::timeout_at(end, self.ws.next()).await {
                Err(_) => return,
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
                Ok(other) => panic!("expected silence, got {other:?}"),
            }
        }
    }
}

async fn client(s: &Running, room: &str, name: &str) -> Client {
    timeout(STEP, Client::connect(&s.url(), room, None, Some(name)))
        .await
        .expect("welcome in time")
        .expect("join")
}

async fn recv(c: &mut Client) -> ServerMessage {
    timeout(STEP, c.recv())
        .await
        .expect("a message in time")
        .expect("connection open")
}

/// The `data` of a relayed signal, as the exact text the server wrote.
fn raw_data(text: &str) -> (String, String) {
    #[derive(serde::Deserialize)]
    struct Sig<'a> {
        #[serde(rename = "type")]
        kind: &'a str,
        from: String,
        #[serde(borrow)]
        data: &'a RawValue,
    }
    let s: Sig<'_> = serde_json::from_str(text).expect("a signal");
    assert_eq!(s.kind, "signal");
    (s.from, s.data.get().to_owned())
}

/// `a` relays a small payload to `b`, which must get it next and intact.
async fn relay_ok(a: &mut Raw, a_id: &str, b: &mut Raw, b_id: &str, n: usize) {
    let data = format!(r#"{{"check":{n}}}"#);
    a.send(&format!(
        r#"{{"type":"signal","to":"{b_id}","data":{data}}}"#
    ))
    .await;
    let (from, got) = raw_data(&b.next_text().await);
    assert_eq!((from.as_str(), got.as_str()), (a_id, data.as_str()));
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn two_then_three_peers_see_each_other_and_relay_byte_identical() {
    let s = start(|_| {}).await;
    let (mut a, wa) = Raw::join(&s, "room-1", "Ann").await;
    assert_eq!(wa["room"], "room-1");
    assert_eq!(wa["peers"], serde_json::json!([]));
    let a_id = id(&wa);
    let (mut b, wb) = Raw::join(&s, "room-1", "Bob").await;
    let b_id = id(&wb);
    assert_ne!(a_id, b_id);
    assert_eq!(
        wb["peers"],
        serde_json::json!([{"id": a_id, "name": "Ann"}])
    );
    let j = a.expect("peer-joined").await;
    assert_eq!((id(&j), j["name"].as_str()), (b_id.clone(), Some("Bob")));

    // Odd spacing, escapes and non-ASCII: the server must pass the text through untouched.
    let offer = "{ \"description\" : {\"type\":\"offer\",\"sdp\":\"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\n\\u00e9\u{e9}\"} ,\"x\":[1, 2.50,null]}";
    b.send(&format!(
        r#"{{"type":"signal","to":"{a_id}","data":{offer}}}"#
    ))
    .await;
    let (from, got) = raw_data(&a.next_text().await);
    assert_eq!((from.as_str(), got.as_str()), (b_id.as_str(), offer));
    let cand = r#"{"candidate":{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"abcd"}}"#;
    a.send(&format!(
        r#"{{"type":"signal","to":"{b_id}","data":{cand}}}"#
    ))
    .await;
    let (from, got) = raw_data(&b.next_text().await);
    assert_eq!((from.as_str(), got.as_str()), (a_id.as_str(), cand));

    // A third peer: welcome lists both in join order, both learn of it.
    let (mut c, wc) = Raw::join(&s, "room-1", "").await;
    let c_id = id(&wc);
    assert_eq!(
        wc["peers"],
        serde_json::json!([{"id": a_id, "name": "Ann"}, {"id": b_id, "name": "Bob"}])
    );
    for x in [&mut a, &mut b] {
        let j = x.expect("peer-joined").await;
        assert_eq!((id(&j), j["name"].as_str()), (c_id.clone(), Some("")));
    }
    relay_ok(&mut c, &c_id, &mut a, &a_id, 1).await;
    relay_ok(&mut a, &a_id, &mut c, &c_id, 2).await;
    relay_ok(&mut c, &c_id, &mut b, &b_id, 3).await;
    relay_ok(&mut b, &b_id, &mut c, &c_id, 4).await;
    // Another room is another world.
    let (mut other, wo) = Raw::join(&s, "room-2", "Zed").await;
    assert_eq!(wo["peers"], serde_json::json!([]));
    other
        .send(&format!(r#"{{"type":"signal","to":"{a_id}","data":{{}}}}"#))
        .await;
    other.expect_error("unknown-peer").await;
    assert_eq!(s.handle.rooms(), 2);

    // leave: the server closes the socket, the others learn peer-left.
    c.send(r#"{"type":"leave"}"#).await;
    c.expect_closed().await;
    for x in [&mut a, &mut b] {
        assert_eq!(id(&x.expect("peer-left").await), c_id);
    }
    // Closing the socket is leaving too.
    drop(b);
    assert_eq!(id(&a.expect("peer-left").await), b_id);
    assert_eq!(s.handle.peers(), 2);
    // Ids are never reused, even for the same name in the same room.
    let (_b2, wb2) = Raw::join(&s, "room-1", "Bob").await;
    assert!(![&a_id, &b_id, &c_id].contains(&&id(&wb2)));
    s.stop().await;
}

#[tokio::test]
async fn bad_input_gets_its_error_code_while_the_room_keeps_relaying() {
    let s = start(|c| c.max_frame = 1024).await;
    let (mut a, wa) = Raw::join(&s, "r", "a").await;
    let a_id = id(&wa);
    let (mut b, wb) = Raw::join(&s, "r", "b").await;
    let b_id = id(&wb);
    a.expect("peer-joined").await;
    let (mut x, wx) = Raw::join(&s, "r", "x").await;
    let x_id = id(&wx);
    a.expect("peer-joined").await;
    b.expect("peer-joined").await;

    let big = format!(
        r#"{{"type":"signal","to":"{a_id}","data":{{"pad":"{}"}}}}"#,
        "a".repeat(2000)
    );
    let bad: Vec<(Message, &str)> = vec![
        (Message::text("not json"), "malformed"),
        (Message::text("[1,2]"), "malformed"),
        (Message::text("{}"), "malformed"),
        (Message::text(r#"{"type":"dance"}"#), "malformed"),
        (
            Message::text(format!(r#"{{"type":"signal","to":"{a_id}"}}"#)),
            "malformed",
        ),
        (
            Message::text(format!(r#"{{"type":"signal","to":"{a_id}","data":[1]}}"#)),
            "malformed",
        ),
        (
            Message::text(r#"{"type":"signal","to":7,"data":{}}"#),
            "malformed",
        ),
        (
            Message::binary(b"{\"type\":\"leave\"}".to_vec()),
            "malformed",
        ),
        (Message::text(big), "too-large"),
        (
            Message::text(r#"{"type":"signal","to":"p999999","data":{}}"#),
            "unknown-peer",
        ),
        (
            Message::text(r#"{"type":"join","room":"r"}"#),
            "already-joined",
        ),
        (
            Message::text(r#"{"type":"join","room":"elsewhere"}"#),
            "already-joined",
        ),
    ];
    for (n, (msg, code)) in bad.into_iter().enumerate() {
        x.ws.send(msg).await.expect("send");
        x.expect_error(code).await;
        // The others see none of it, and keep relaying both ways.
        relay_ok(&mut a, &a_id, &mut b, &b_id, 2 * n).await;
        relay_ok(&mut b, &b_id, &mut a, &a_id, 2 * n + 1).await;
    }
    // x is still a member in good standing.
    relay_ok(&mut x, &x_id, &mut a, &a_id, 100).await;
    relay_ok(&mut b, &b_id, &mut x, &x_id, 101).await;
    // A frame over the WebSocket layer's hard limit (4 x max_frame) ends the connection.
    x.ws.send(Message::text("x".repeat(5000)))
        .await
        .expect("send");
    x.expect_closed().await;
    for p in [&mut a, &mut b] {
        assert_eq!(id(&p.expect("peer-left").await), x_id);
    }
    a.quiet(Duration::from_millis(100)).await;
    b.quiet(Duration::from_millis(100)).await;
    s.stop().await;
}

#[tokio::test]
async fn before_join_and_tokens() {
    let s = start(|c| c.token = Some("s3cret".into())).await;
    let mut p = Raw::connect(&s).await;
    p.send(r#"{"type":"signal","to":"p1","data":{}}"#).await;
    p.expect_error("not-joined").await;
    p.send(r#"{"type":"leave"}"#).await;
    p.expect_error("not-joined").await;
    p.send(r#"{"type":"join","room":"bad room"}"#).await;
    p.expect_error("malformed").await;
    p.send(r#"{"type":"join","room":"r"}"#).await;
    p.expect_error("unauthorized").await;
    p.expect_closed().await;
    for wrong in ["s3cre", "s3cret!", "S3CRET", ""] {
        let mut q = Raw::connect(&s).await;
        q.send(&format!(
            r#"{{"type":"join","room":"r","token":"{wrong}"}}"#
        ))
        .await;
        q.expect_error("unauthorized").await;
        q.expect_closed().await;
    }
    assert_eq!(s.handle.rooms(), 0, "refused joins leave no room behind");
    let refused = Client::connect(&s.url(), "r", Some("nope"), None).await;
    assert!(
        matches!(
            refused,
            Err(zvon_server::client::ClientError::Refused {
                code: ErrorCode::Unauthorized,
                ..
            })
        ),
        "{refused:?}"
    );
    let c = timeout(
        STEP,
        Client::connect(&s.url(), "r", Some("s3cret"), Some("ok")),
    )
    .await
    .expect("in time")
    .expect("the right token is accepted");
    assert_eq!(c.welcome().room, "r");
    s.stop().await;
}

#[tokio::test]
async fn a_flood_is_rate_limited_and_the_rest_relayed() {
    let s = start(|c| {
        c.rate_limit = RateLimit {
            per_second: 2.0,
            burst: 5,
        }
    })
    .await;
    let (mut a, wa) = Raw::join(&s, "r", "a").await;
    let a_id = id(&wa);
    let (mut b, wb) = Raw::join(&s, "r", "b").await;
    let b_id = id(&wb);
    a.expect("peer-joined").await;
    let (mut x, _) = Raw::join(&s, "r", "x").await;
    a.expect("peer-joined").await;
    b.expect("peer-joined").await;
    // The join took one token: 4 of the burst are left, and 2/s refill slowly enough that a
    // back-to-back flood of 40 gets at most a couple more through.
    for n in 0..40 {
        x.send(&format!(
            r#"{{"type":"signal","to":"{a_id}","data":{{"n":{n}}}}}"#
        ))
        .await;
    }
    let mut limited = 0;
    while limited + 10 < 40 {
        x.expect_error("rate-limited").await;
        limited += 1;
    }
    let mut relayed = 0;
    while let Ok(t) = timeout(Duration::from_millis(300), a.next_text()).await {
        let (_, d) = raw_data(&t);
        assert_eq!(
            d,
            format!(r#"{{"n":{relayed}}}"#),
            "in order, from the start"
        );
        relayed += 1;
    }
    loop {
        match timeout(Duration::from_millis(100), x.next()).await {
            Ok(Some(m)) => {
                assert_eq!(m["code"], "rate-limited", "{m}");
                limited += 1;
            }
            Ok(None) => panic!("the flooder must stay connected"),
            Err(_) => break,
        }
    }
    assert_eq!(limited + relayed, 40, "each message relayed or refused");
    assert!((4..=7).contains(&relayed), "{relayed} relayed");
    // The others' own budgets are untouched.
    for n in 0..4 {
        relay_ok(&mut a, &a_id, &mut b, &b_id, n).await;
    }
    s.stop().await;
}

#[tokio::test]
async fn full_rooms_and_too_many_rooms_close_the_socket() {
    let s = start(|c| {
        c.max_peers_per_room = 2;
        c.max_rooms = 1;
    })
    .await;
    let (mut a, _) = Raw::join(&s, "r", "a").await;
    let (b, _) = Raw::join(&s, "r", "b").await;
    a.expect("peer-joined").await;
    let mut c = Raw::connect(&s).await;
    c.send(r#"{"type":"join","room":"r"}"#).await;
    c.expect_error("room-full").await;
    c.expect_closed().await;
    let mut d = Raw::connect(&s).await;
    d.send(r#"{"type":"join","room":"other"}"#).await;
    d.expect_error("too-many-rooms").await;
    d.expect_closed().await;
    a.quiet(Duration::from_millis(50)).await;
    // Rooms go away when empty, which frees the slot.
    drop((a, b));
    let t0 = tokio::time::Instant::now();
    while s.handle.rooms() > 0 {
        assert!(t0.elapsed() < STEP, "the empty room stays");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (_e, we) = Raw::join(&s, "other", "e").await;
    assert_eq!(we["room"], "other");
    s.stop().await;
}

#[tokio::test]
async fn silent_peers_are_dropped_and_answering_ones_kept() {
    let s = start(|c| {
        c.idle_timeout = Duration::from_millis(300);
        // The dropped sockets keep their bye until the test reads it.
        c.close_timeout = STEP;
    })
    .await;
    // The crate's client answers pings from its own task, whatever the application does.
    let mut a = client(&s, "r", "a").await;
    let (mut mute, wm) = Raw::join(&s, "r", "mute").await;
    let mute_id = id(&wm);
    assert!(matches!(recv(&mut a).await, ServerMessage::PeerJoined(p) if p.id == mute_id));
    let mut unjoined = Raw::connect(&s).await;
    // Not reading means not answering pings: no pong, nothing else. Wait for the server to
    // give up on the silent one.
    let t0 = tokio::time::Instant::now();
    while s.handle.peers() > 1 {
        assert!(t0.elapsed() < STEP, "the silent peer is never dropped");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let silent_for = t0.elapsed();
    assert!(silent_for >= Duration::from_millis(250), "{silent_for:?}");
    let bye = mute.expect("bye").await;
    assert_eq!(bye["reason"], "idle");
    mute.expect_closed().await;
    let bye = unjoined.expect("bye").await;
    assert_eq!(
        bye["reason"], "idle",
        "a socket that never joins is dropped too"
    );
    unjoined.expect_closed().await;
    assert!(
        matches!(recv(&mut a).await, ServerMessage::PeerLeft { id } if id == mute_id),
        "the room learns the idle peer left"
    );
    // Well past the idle limit, the answering peer is still there and reachable.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (mut b, wb) = Raw::join(&s, "r", "b").await;
    assert_eq!(wb["peers"][0]["id"], a.id());
    a.send_signal(&id(&wb), &SignalData::EndOfCandidates)
        .await
        .expect("send");
    let (from, data) = raw_data(&b.next_text().await);
    assert_eq!(
        (from.as_str(), data.as_str()),
        (a.id(), r#"{"candidate":null}"#)
    );
    drop(b);
    s.stop().await;
}

#[tokio::test]
async fn shutdown_tells_everyone_bye() {
    let s = start(|_| {}).await;
    let mut a = client(&s, "r", "a").await;
    let mut b = client(&s, "r", "b").await;
    assert!(matches!(recv(&mut a).await, ServerMessage::PeerJoined(_)));
    let (mut raw, _) = Raw::join(&s, "r2", "raw").await;
    let mut unjoined = Raw::connect(&s).await;
    let addr = s.addr;
    let t0 = tokio::time::Instant::now();
    let handle = s.handle.clone();
    let task = tokio::spawn(s.stop());
    for c in [&mut a, &mut b] {
        assert_eq!(
            recv(c).await,
            ServerMessage::Bye {
                reason: "shutdown".into()
            },
            "bye first, no peer-left noise"
        );
        assert_eq!(timeout(STEP, c.recv()).await.expect("closed in time"), None);
    }
    for r in [&mut raw, &mut unjoined] {
        assert_eq!(r.expect("bye").await["reason"], "shutdown");
        r.expect_closed().await;
    }
    timeout(STEP, task)
        .await
        .expect("stops")
        .expect("stop task");
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    assert_eq!(handle.connections(), 0);
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

/// A TCP connection with a tiny receive window that never reads: the server's writes to it
/// stall almost at once.
async fn stalled_peer(s: &Running, room: &str) -> (WebSocketStream<TcpStream>, String) {
    let sock = tokio::net::TcpSocket::new_v4().expect("socket");
    sock.set_recv_buffer_size(4096).expect("rcvbuf");
    let tcp = sock.connect(s.addr).await.expect("connect");
    let (mut ws, _) = tokio_tungstenite::client_async(s.url(), tcp)
        .await
        .expect("handshake");
    ws.send(Message::text(format!(
        r#"{{"type":"join","room":"{room}"}}"#
    )))
    .await
    .expect("join");
    let w = loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => break t.as_str().to_owned(),
            Some(Ok(_)) => {}
            other => panic!("no welcome: {other:?}"),
        }
    };
    let w: Value = serde_json::from_str(&w).expect("json");
    (ws, id(&w))
}

#[tokio::test]
async fn a_peer_that_never_reads_is_dropped_without_stalling_the_room() {
    let s = start(|c| {
        c.max_frame = 16 * 1024;
        c.max_queued_bytes = 64 * 1024;
        c.rate_limit = RateLimit {
            per_second: 1e6,
            burst: 1_000_000,
        };
    })
    .await;
    let (mut a, wa) = Raw::join(&s, "r", "a").await;
    let a_id = id(&wa);
    let (mut b, wb) = Raw::join(&s, "r", "b").await;
    let b_id = id(&wb);
    a.expect("peer-joined").await;
    let (stalled, st_id) = stalled_peer(&s, "r").await;
    a.expect("peer-joined").await;
    b.expect("peer-joined").await;
    let pad = "z".repeat(15 * 1024);
    let to_stalled = format!(r#"{{"type":"signal","to":"{st_id}","data":{{"pad":"{pad}"}}}}"#);
    let mut sent = 0usize;
    let mut b_saw_left = false;
    let dropped = 'outer: loop {
        assert!(sent < 4000, "60 MB queued towards a peer that never reads");
        a.send(&to_stalled).await;
        sent += 1;
        // b keeps getting what a sends it, promptly, all the while.
        let t = tokio::time::Instant::now();
        let data = format!(r#"{{"check":{sent}}}"#);
        a.send(&format!(
            r#"{{"type":"signal","to":"{b_id}","data":{data}}}"#
        ))
        .await;
        loop {
            let v: Value = serde_json::from_str(&b.next_text().await).expect("json");
            if v["type"] == "peer-left" && !b_saw_left {
                assert_eq!(id(&v), st_id);
                b_saw_left = true;
                continue;
            }
            assert_eq!(
                (&v["type"], &v["from"], &v["data"]),
                (
                    &"signal".into(),
                    &a_id.clone().into(),
                    &serde_json::from_str::<Value>(&data).expect("json")
                )
            );
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "relay to b took {:?}",
            t.elapsed()
        );
        // a hears of the drop once its queue is full.
        while let Ok(Some(Ok(m))) = timeout(Duration::ZERO, a.ws.next()).await {
            if let Message::Text(t) = m {
                let v: Value = serde_json::from_str(t.as_str()).expect("json");
                assert_eq!(v["type"], "peer-left", "{v}");
                assert_eq!(id(&v), st_id);
                break 'outer sent;
            }
        }
    };
    if !b_saw_left {
        assert_eq!(id(&b.expect("peer-left").await), st_id);
    }
    eprintln!("stalled peer dropped after {dropped} messages of 15 KiB");
    a.send(&format!(
        r#"{{"type":"signal","to":"{st_id}","data":{{}}}}"#
    ))
    .await;
    a.expect_error("unknown-peer").await;
    assert_eq!(s.handle.peers(), 2);
    drop(stalled);
    s.stop().await;
}

async fn http_get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .expect("request");
    let mut buf = Vec::new();
    timeout(STEP, tcp.read_to_end(&mut buf))
        .await
        .expect("response in time")
        .expect("read");
    let text = String::from_utf8(buf).expect("utf-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a header");
    let status = head[9..12].parse().expect("status");
    (status, head.to_ascii_lowercase(), body.to_owned())
}

#[tokio::test]
async fn healthz_and_the_page() {
    let s = start(|_| {}).await;
    let (st, _, body) = http_get(s.addr, "/healthz").await;
    assert_eq!((st, body.as_str()), (200, "ok"));
    let index = zvon_server::web::FILES[0];
    assert_eq!(index.0, "index.html");
    let (st, head, body) = http_get(s.addr, "/").await;
    assert_eq!(st, 200);
    assert!(head.contains("content-type: text/html"), "{head}");
    assert_eq!(body, index.1, "/ is the page built into the binary");
    assert!(body.contains("app.js") && body.contains("style.css"));
    let (st, head, body) = http_get(s.addr, "/app.js").await;
    assert_eq!(st, 200);
    assert!(head.contains("content-type: text/javascript"), "{head}");
    assert!(body.contains("/ws"), "the page speaks to /ws");
    let (st, head, _) = http_get(s.addr, "/style.css").await;
    assert_eq!(st, 200);
    assert!(head.contains("content-type: text/css"), "{head}");
    for missing in ["/nope.js", "/..%2FCargo.toml", "/.hidden", "/a/b"] {
        assert_eq!(http_get(s.addr, missing).await.0, 404, "{missing}");
    }
    s.stop().await;

    // web_dir: files on disk win, the rest still comes from the binary.
    let dir = std::env::temp_dir().join(format!("zvon-web-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("index.html"), "<p>dev page</p>").expect("write");
    std::fs::write(dir.join("extra.json"), "{}").expect("write");
    let d = dir.clone();
    let s = start(move |c| c.web_dir = Some(d)).await;
    let (st, _, body) = http_get(s.addr, "/").await;
    assert_eq!((st, body.as_str()), (200, "<p>dev page</p>"));
    let (st, head, _) = http_get(s.addr, "/extra.json").await;
    assert_eq!(st, 200);
    assert!(head.contains("content-type: application/json"), "{head}");
    let (st, _, body) = http_get(s.addr, "/app.js").await;
    assert_eq!((st, body.as_str()), (200, zvon_server::web::FILES[1].1));
    s.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
