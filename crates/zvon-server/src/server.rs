//! The server: rooms under one lock, one task per WebSocket.
//!
//! Each connection's task reads frames and writes from the connection's own queue. Nothing
//! ever waits on another peer: a message for peer B is put on B's queue without blocking, and
//! a queue over its byte limit means B is not reading, so B is dropped (told nothing more, its
//! socket closed) and its room learns `peer-left`. Memory per peer is thus bounded by the
//! queue limit plus what the WebSocket layer buffers for one frame.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use futures_util::{SinkExt, StreamExt};
use serde_json::value::RawValue;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;

use crate::config::{RateLimit, ServerConfig};
use crate::error::Error;
use crate::protocol::{ClientMessage, ErrorCode, Outgoing, PeerInfo, Refusal, parse_client};

/// A bound signaling server; [`Server::run`] serves it.
///
/// ```no_run
/// # async fn demo() -> Result<(), zvon_server::Error> {
/// use zvon_server::{Server, ServerConfig};
/// let mut cfg = ServerConfig::default();
/// cfg.addr = "127.0.0.1:0".parse().unwrap();
/// let server = Server::bind(cfg).await?;
/// println!("http://{}/", server.local_addr());
/// let handle = server.handle();
/// let running = tokio::spawn(server.run());
/// // ... later: every peer gets {"type":"bye","reason":"shutdown"}, then run() returns.
/// handle.shutdown();
/// running.await.unwrap()?;
/// # Ok(()) }
/// ```
pub struct Server {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Controls a running [`Server`] from elsewhere; cheap to clone.
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

impl Handle {
    /// Begins a graceful shutdown: no new connections; every connected peer gets
    /// `{"type":"bye","reason":"shutdown"}` and a close. [`Server::run`] returns once they
    /// are closed (or after [`ServerConfig::close_timeout`]).
    pub fn shutdown(&self) {
        self.shared.stop.send_replace(true);
    }

    /// Peers in rooms now.
    pub fn peers(&self) -> usize {
        self.shared
            .rooms()
            .map
            .values()
            .map(|r| r.peers.len())
            .sum()
    }

    /// Rooms now.
    pub fn rooms(&self) -> usize {
        self.shared.rooms().map.len()
    }

    /// Open WebSocket connections now, joined or not.
    pub fn connections(&self) -> usize {
        *self.shared.conns.borrow()
    }
}

impl Server {
    /// Binds the listening socket.
    pub async fn bind(cfg: ServerConfig) -> Result<Self, Error> {
        let listener = tokio::net::TcpListener::bind(cfg.addr)
            .await
            .map_err(|source| Error::Bind {
                addr: cfg.addr,
                source,
            })?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            cfg,
            rooms: Mutex::new(Rooms::default()),
            next_id: AtomicU64::new(1),
            stop: watch::Sender::new(false),
            conns: watch::Sender::new(0),
        });
        Ok(Self {
            listener,
            addr,
            shared,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle to shut it down and look at it while [`Server::run`] owns it.
    pub fn handle(&self) -> Handle {
        Handle {
            shared: self.shared.clone(),
        }
    }

    /// Serves until [`Handle::shutdown`], then waits for the peers' sockets to close.
    pub async fn run(self) -> Result<(), Error> {
        let shared = self.shared;
        let app = Router::new()
            .route("/ws", get(ws_upgrade))
            .route("/healthz", get(healthz))
            .merge(crate::web::router())
            .with_state(shared.clone());
        let mut stop = shared.stop.subscribe();
        let listener = self.listener.tap_io(|tcp| {
            // Signaling is small messages that should leave at once.
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await?;
        // Upgraded sockets are no longer axum's: wait for each to say bye and close.
        let mut conns = shared.conns.subscribe();
        let grace = shared.cfg.close_timeout + Duration::from_millis(500);
        let _ = tokio::time::timeout(grace, conns.wait_for(|n| *n == 0)).await;
        Ok(())
    }
}

pub(crate) struct Shared {
    pub(crate) cfg: ServerConfig,
    rooms: Mutex<Rooms>,
    next_id: AtomicU64,
    stop: watch::Sender<bool>,
    conns: watch::Sender<usize>,
}

impl Shared {
    fn rooms(&self) -> MutexGuard<'_, Rooms> {
        // Nothing under this lock can panic on client input; should a bug do so, keep serving.
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }
}

async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    if shared.stopping() {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response()
    } else {
        (StatusCode::OK, "ok").into_response()
    }
}

async fn ws_upgrade(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    if shared.stopping() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    let hard = shared.cfg.hard_frame_limit();
    ws.max_frame_size(hard)
        .max_message_size(hard)
        .on_upgrade(move |socket| connection(shared, socket))
}

/// What goes to one peer's socket.
enum Out {
    Text(Utf8Bytes),
    Ping,
    /// A close frame; the writer stops after it.
    Close,
}

/// What a queued ping or close counts for against the queue's byte limit.
const CONTROL_COST: usize = 16;

/// One peer's outgoing queue: never blocks the sender, refuses past its byte limit.
#[derive(Clone)]
struct Outbox {
    tx: mpsc::UnboundedSender<Out>,
    queued: Arc<AtomicUsize>,
    limit: usize,
    /// Set when the peer is dropped for not reading: its task closes the socket at once.
    kill: Arc<Notify>,
}

impl Outbox {
    /// Queues `out`; false if the queue is full (the peer is not reading) or gone.
    fn push(&self, out: Out) -> bool {
        // Control frames count too, so that even a queue of nothing but pings is bounded.
        let n = match &out {
            Out::Text(t) => t.len(),
            Out::Ping | Out::Close => CONTROL_COST,
        };
        if self.queued.fetch_add(n, Ordering::Relaxed) + n > self.limit {
            self.queued.fetch_sub(n, Ordering::Relaxed);
            return false;
        }
        self.tx.send(out).is_ok()
    }

    fn text(&self, json: String) -> bool {
        self.push(Out::Text(json.into()))
    }
}

struct Member {
    id: Arc<str>,
    name: Arc<str>,
    out: Outbox,
}

#[derive(Default)]
struct Room {
    /// In join order.
    peers: Vec<Member>,
}

#[derive(Default)]
struct Rooms {
    map: HashMap<String, Room>,
}

impl Rooms {
    fn join(
        &mut self,
        cfg: &ServerConfig,
        room: &str,
        id: &Arc<str>,
        name: &Arc<str>,
        out: &Outbox,
    ) -> Result<(), Refusal> {
        if !self.map.contains_key(room) && self.map.len() >= cfg.max_rooms {
            return Err(Refusal::new(
                ErrorCode::TooManyRooms,
                "the server holds its maximum number of rooms",
            ));
        }
        let present = self.map.get(room).map_or(0, |r| r.peers.len());
        // Checked before the room is created, so that a refusal never leaves an empty one.
        if present >= cfg.max_peers_per_room {
            return Err(Refusal::new(
                ErrorCode::RoomFull,
                format!("the room has {present} peers already"),
            ));
        }
        let r = self.map.entry(room.to_owned()).or_default();
        let peers: Vec<PeerInfo> = r
            .peers
            .iter()
            .map(|m| PeerInfo {
                id: m.id.to_string(),
                name: m.name.to_string(),
            })
            .collect();
        // Queued under the lock, so nothing relayed to the newcomer can overtake its welcome.
        out.text(
            Outgoing::Welcome {
                id,
                room,
                peers: &peers,
            }
            .to_json(),
        );
        let joined: Utf8Bytes = Outgoing::PeerJoined { id, name }.to_json().into();
        let mut slow = Vec::new();
        for m in &r.peers {
            if !m.out.push(Out::Text(joined.clone())) {
                slow.push(m.id.clone());
            }
        }
        r.peers.push(Member {
            id: id.clone(),
            name: name.clone(),
            out: out.clone(),
        });
        for id in slow {
            self.drop_slow(room, &id);
        }
        Ok(())
    }

    /// Relays `text` (a `signal` already carrying `from`) to `to`.
    fn relay(&mut self, room: &str, to: &str, text: Utf8Bytes) -> Result<(), Refusal> {
        let target = self
            .map
            .get(room)
            .and_then(|r| r.peers.iter().find(|m| &*m.id == to));
        let Some(target) = target else {
            return Err(Refusal::new(
                ErrorCode::UnknownPeer,
                "no such peer in this room",
            ));
        };
        if !target.out.push(Out::Text(text)) {
            let id = target.id.clone();
            self.drop_slow(room, &id);
        }
        Ok(())
    }

    fn drop_slow(&mut self, room: &str, id: &str) {
        if let Some(m) = self
            .map
            .get(room)
            .and_then(|r| r.peers.iter().find(|m| &*m.id == id))
        {
            tracing::debug!(room, id, "dropping a peer that does not read");
            m.out.kill.notify_one();
        }
        self.remove(room, id, true);
    }

    /// Takes `id` out of `room`; with `announce`, tells the others (dropping any that cannot
    /// take it, and telling the rest about those in turn). An empty room goes away.
    fn remove(&mut self, room: &str, id: &str, announce: bool) {
        let mut gone: Vec<Arc<str>> = vec![id.into()];
        while let Some(id) = gone.pop() {
            let Some(r) = self.map.get_mut(room) else {
                return;
            };
            let Some(pos) = r.peers.iter().position(|m| m.id == id) else {
                continue;
            };
            r.peers.remove(pos);
            if announce {
                let left: Utf8Bytes = Outgoing::PeerLeft { id: &id }.to_json().into();
                for m in &r.peers {
                    if !m.out.push(Out::Text(left.clone())) {
                        m.out.kill.notify_one();
                        gone.push(m.id.clone());
                    }
                }
            }
        }
        if self.map.get(room).is_some_and(|r| r.peers.is_empty()) {
            self.map.remove(room);
        }
    }
}

/// A token bucket.
struct Bucket {
    tokens: f64,
    last: Instant,
    rate: f64,
    burst: f64,
}

impl Bucket {
    fn new(limit: RateLimit, now: Instant) -> Self {
        let burst = f64::from(limit.burst.max(1));
        Self {
            tokens: burst,
            last: now,
            rate: limit.per_second.max(0.0),
            burst,
        }
    }

    fn take(&mut self, now: Instant) -> bool {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Compares without an early exit, so the time taken says nothing about the token.
fn same_token(given: &str, want: &str) -> bool {
    let (a, b) = (given.as_bytes(), want.as_bytes());
    let mut diff = a.len() ^ b.len();
    for (i, &w) in b.iter().enumerate() {
        diff |= usize::from(a.get(i).copied().unwrap_or(!w) ^ w);
    }
    diff == 0
}

/// What the connection's task does after one frame.
enum Flow {
    Continue,
    /// Say what is queued, close, wait briefly for the peer's close.
    Close,
    /// Close at once (the peer's own queue is full, or the socket is gone).
    Drop,
}

struct Joined {
    room: Arc<str>,
    id: Arc<str>,
}

/// One connection's state, owned by its task.
struct Peer {
    shared: Arc<Shared>,
    out: Outbox,
    joined: Option<Joined>,
    bucket: Bucket,
    last_seen: Instant,
    since: Instant,
}

impl Peer {
    fn handle(&mut self, msg: Message, now: Instant) -> Flow {
        self.last_seen = now;
        let text = match msg {
            Message::Text(t) => t,
            Message::Binary(_) => {
                if !self.bucket.take(now) {
                    return self.rate_limited();
                }
                return self.refuse(Refusal::new(
                    ErrorCode::Malformed,
                    "binary frames are not part of the protocol",
                ));
            }
            // Pongs only prove the peer is there; tungstenite answers pings and closes itself.
            Message::Ping(_) | Message::Pong(_) | Message::Close(_) => return Flow::Continue,
        };
        if !self.bucket.take(now) {
            return self.rate_limited();
        }
        if text.len() > self.shared.cfg.max_frame {
            return self.refuse(Refusal::new(
                ErrorCode::TooLarge,
                format!(
                    "{} bytes; the limit is {}",
                    text.len(),
                    self.shared.cfg.max_frame
                ),
            ));
        }
        match parse_client(text.as_str()) {
            Err(r) => self.refuse(r),
            Ok(ClientMessage::Join { room, token, name }) => {
                self.join(&room, token.as_deref(), name.as_deref().unwrap_or(""))
            }
            Ok(ClientMessage::Signal { to, data }) => self.signal(&to, data),
            Ok(ClientMessage::Leave) => {
                let Some(j) = self.joined.take() else {
                    return self.not_joined();
                };
                self.shared.rooms().remove(&j.room, &j.id, true);
                tracing::debug!(room = &*j.room, id = &*j.id, "left");
                if self.out.push(Out::Close) {
                    Flow::Close
                } else {
                    Flow::Drop
                }
            }
        }
    }

    fn join(&mut self, room: &str, token: Option<&str>, name: &str) -> Flow {
        if self.joined.is_some() {
            return self.refuse(Refusal::new(
                ErrorCode::AlreadyJoined,
                "this socket has joined a room already",
            ));
        }
        if let Some(want) = &self.shared.cfg.token
            && !token.is_some_and(|t| same_token(t, want))
        {
            return self.refuse(Refusal::new(
                ErrorCode::Unauthorized,
                "missing or wrong token",
            ));
        }
        let n = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let id: Arc<str> = format!("p{n}").into();
        let name: Arc<str> = name.into();
        let joined = self
            .shared
            .rooms()
            .join(&self.shared.cfg, room, &id, &name, &self.out);
        match joined {
            Ok(()) => {
                tracing::debug!(room, id = &*id, "joined");
                self.joined = Some(Joined {
                    room: room.into(),
                    id,
                });
                Flow::Continue
            }
            Err(r) => self.refuse(r),
        }
    }

    fn signal(&mut self, to: &str, data: &RawValue) -> Flow {
        let Some(j) = &self.joined else {
            return self.not_joined();
        };
        // Built before taking the lock: the payload may be tens of KiB.
        let text: Utf8Bytes = Outgoing::Signal { from: &j.id, data }.to_json().into();
        let relayed = self.shared.rooms().relay(&j.room, to, text);
        match relayed {
            Ok(()) => Flow::Continue,
            Err(r) => self.refuse(r),
        }
    }

    fn not_joined(&self) -> Flow {
        self.refuse(Refusal::new(
            ErrorCode::NotJoined,
            "send join first, and wait for welcome",
        ))
    }

    fn rate_limited(&self) -> Flow {
        self.refuse(Refusal::new(
            ErrorCode::RateLimited,
            "too many messages; this one was dropped",
        ))
    }

    fn refuse(&self, r: Refusal) -> Flow {
        tracing::debug!(code = r.code.as_str(), message = &*r.message, "refused");
        let sent = self.out.text(
            Outgoing::Error {
                code: r.code.as_str(),
                message: &r.message,
            }
            .to_json(),
        );
        if !sent {
            return Flow::Drop;
        }
        if r.code.closes() {
            self.out.push(Out::Close);
            return Flow::Close;
        }
        Flow::Continue
    }

    /// `bye` and a close.
    fn bye(&self, reason: &str) -> Flow {
        if self.out.text(Outgoing::Bye { reason }.to_json()) && self.out.push(Out::Close) {
            Flow::Close
        } else {
            Flow::Drop
        }
    }

    fn idle(&self, now: Instant) -> bool {
        let limit = self.shared.cfg.idle_timeout;
        now.saturating_duration_since(self.last_seen) > limit
            || (self.joined.is_none() && now.saturating_duration_since(self.since) > limit)
    }
}

/// Counts the open connections for the shutdown to wait on.
struct ConnGuard(Arc<Shared>);

impl ConnGuard {
    fn new(shared: &Arc<Shared>) -> Self {
        shared.conns.send_modify(|n| *n += 1);
        Self(shared.clone())
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.0.conns.send_modify(|n| *n = n.saturating_sub(1));
    }
}

async fn connection(shared: Arc<Shared>, socket: WebSocket) {
    let _count = ConnGuard::new(&shared);
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let out = Outbox {
        tx,
        queued: Arc::new(AtomicUsize::new(0)),
        limit: shared.cfg.queue_limit(),
        kill: Arc::new(Notify::new()),
    };
    let queued = out.queued.clone();
    let writer = async move {
        while let Some(o) = rx.recv().await {
            let (msg, last) = match o {
                Out::Text(t) => {
                    queued.fetch_sub(t.len(), Ordering::Relaxed);
                    (Message::Text(t), false)
                }
                Out::Ping => {
                    queued.fetch_sub(CONTROL_COST, Ordering::Relaxed);
                    (Message::Ping(Default::default()), false)
                }
                Out::Close => (Message::Close(None), true),
            };
            if sink.send(msg).await.is_err() || last {
                return;
            }
        }
    };
    tokio::pin!(writer);
    let now = Instant::now();
    let mut peer = Peer {
        shared: shared.clone(),
        out: out.clone(),
        joined: None,
        bucket: Bucket::new(shared.cfg.rate_limit, now),
        last_seen: now,
        since: now,
    };
    let ping_every = (shared.cfg.idle_timeout / 3).max(Duration::from_millis(10));
    let mut tick = tokio::time::interval_at(now + ping_every, ping_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stop = shared.stop.subscribe();
    let mut writer_done = false;
    let flow = loop {
        let flow = tokio::select! {
            () = &mut writer, if !writer_done => {
                writer_done = true;
                Flow::Drop
            }
            m = stream.next() => match m {
                Some(Ok(msg)) => peer.handle(msg, Instant::now()),
                // Gone, or unreadable (a frame over the WebSocket layer's hard limit).
                _ => Flow::Drop,
            },
            _ = tick.tick() => {
                if peer.idle(Instant::now()) {
                    tracing::debug!("dropping an idle peer");
                    peer.bye("idle")
                } else if out.push(Out::Ping) {
                    Flow::Continue
                } else {
                    Flow::Drop
                }
            }
            () = out.kill.notified() => Flow::Drop,
            _ = stop.wait_for(|s| *s) => peer.bye("shutdown"),
        };
        match flow {
            Flow::Continue => continue,
            end => break end,
        }
    };
    if let Some(j) = peer.joined.take() {
        // On shutdown everyone is leaving: no point telling each about the others.
        let announce = !shared.stopping();
        shared.rooms().remove(&j.room, &j.id, announce);
    }
    drop(peer);
    drop(out);
    if matches!(flow, Flow::Close) && !writer_done {
        // Let the last messages out, then read until the peer's close answers ours: closing
        // with unread data would reset the connection and could lose what was just sent.
        let _ = tokio::time::timeout(shared.cfg.close_timeout, async {
            (&mut writer).await;
            while let Some(Ok(m)) = stream.next().await {
                if matches!(m, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abd", "abc"));
        assert!(!same_token("ab", "abc"));
        assert!(!same_token("abcd", "abc"));
        assert!(!same_token("", "abc"));
        assert!(same_token("", ""));
    }

    #[test]
    fn bucket_refills_at_the_rate() {
        let t0 = Instant::now();
        let mut b = Bucket::new(
            RateLimit {
                per_second: 10.0,
                burst: 3,
            },
            t0,
        );
        assert!((0..3).all(|_| b.take(t0)));
        assert!(!b.take(t0));
        assert!(!b.take(t0 + Duration::from_millis(50)));
        assert!(b.take(t0 + Duration::from_millis(150)));
        assert!(!b.take(t0 + Duration::from_millis(150)));
        // A long quiet spell refills only up to the burst.
        let later = t0 + Duration::from_secs(60);
        assert!((0..3).all(|_| b.take(later)));
        assert!(!b.take(later));
    }
}
