//! The TURN client (RFC 8656): one allocation on one server, sans-IO.
//!
//! ```text
//!  start ──> Allocating ──401 + realm/nonce──> Allocating (authenticated) ──success──> Allocated
//!               │  438 stale nonce: retry with the new nonce      │ Refresh before expiry
//!               └──401 again / error / timeout──> Failed          │ CreatePermission, ChannelBind
//!                                                      close() ──> Closing (Refresh 0) ──> Closed
//! ```
//!
//! Over UDP the client retransmits per RFC 8489; over TCP and TLS (`proto` `Tcp`/`Tls`) it
//! sends once and waits, and pads ChannelData to 4 bytes (RFC 8656 section 12.5). The caller
//! owns the connection and splits the TCP byte stream into messages with
//! `zvon_stun::stream_frame_len`.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use zvon_base::{Classify, Fault, Protocol, Rng, Transmit};

use crate::transaction::{Retransmit, RetransmitConfig, TimeoutAction};
use crate::wire::{self, Class, LongTermAuth, LongTermKey, Method, TxId};

/// How to reach a TURN server and authenticate to it.
#[derive(Debug, Clone)]
pub struct TurnConfig {
    /// The server's transport address.
    pub server: SocketAddr,
    /// UDP, TCP or TLS to the server.
    pub proto: Protocol,
    /// The local address the client sends from (for TCP/TLS: the local base that names the
    /// connection; the caller maps it to its stream).
    pub local: SocketAddr,
    /// Long-term credential user name.
    pub username: String,
    /// Long-term credential password.
    pub password: String,
    /// Allocation lifetime to ask for, in seconds (the server's default when `None`).
    pub lifetime: Option<u32>,
    /// Request retransmission schedule (UDP); TCP/TLS use it without retransmissions.
    pub retransmit: RetransmitConfig,
}

impl TurnConfig {
    /// A configuration with zvon's retransmission defaults ([`crate::FAST_STUN`]).
    pub fn new(
        server: SocketAddr,
        proto: Protocol,
        local: SocketAddr,
        username: &str,
        password: &str,
    ) -> Self {
        Self {
            server,
            proto,
            local,
            username: username.to_owned(),
            password: password.to_owned(),
            lifetime: None,
            retransmit: crate::FAST_STUN,
        }
    }
}

/// Why a TURN allocation failed or was lost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TurnError {
    /// The server refused the credentials (401 after an authenticated request).
    #[error(
        "TURN server {server} rejected the credentials of user {username:?} (401 Unauthorized): wrong username or password"
    )]
    Unauthorized {
        /// The server.
        server: SocketAddr,
        /// The user name that was refused.
        username: String,
    },
    /// The server answered with an error this client does not recover from.
    #[error("TURN server {server} answered {method} with error {code}")]
    Server {
        /// The server.
        server: SocketAddr,
        /// Which request.
        method: &'static str,
        /// The STUN error code (e.g. 437 allocation mismatch, 486 quota reached).
        code: u16,
    },
    /// The server never answered.
    #[error("TURN server {server} did not answer {method}")]
    Timeout {
        /// The server.
        server: SocketAddr,
        /// Which request.
        method: &'static str,
    },
    /// A response lacked what the RFC requires (e.g. no XOR-RELAYED-ADDRESS, a 401 without
    /// REALM and NONCE).
    #[error("TURN server {server} sent a malformed {method} response")]
    Malformed {
        /// The server.
        server: SocketAddr,
        /// Which request.
        method: &'static str,
    },
}

impl Classify for TurnError {
    fn fault(&self) -> Fault {
        match self {
            TurnError::Unauthorized { .. } => Fault::ApiMisuse,
            TurnError::Server { .. } => Fault::PeerMisbehaved,
            TurnError::Timeout { .. } => Fault::Local,
            TurnError::Malformed { .. } => Fault::Malformed,
        }
    }

    fn is_fatal(&self) -> bool {
        true
    }
}

/// What the TURN client tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TurnEvent {
    /// The allocation exists: `relayed` is the relayed transport address, `mapped` the address
    /// the server saw (a server-reflexive candidate).
    Allocated {
        /// XOR-RELAYED-ADDRESS.
        relayed: SocketAddr,
        /// XOR-MAPPED-ADDRESS, when the server sent one.
        mapped: Option<SocketAddr>,
        /// Lifetime the server granted.
        lifetime: Duration,
    },
    /// A permission for this peer IP is installed.
    PermissionCreated(IpAddr),
    /// A channel is bound to this peer.
    ChannelBound {
        /// The peer.
        peer: SocketAddr,
        /// The channel number (0x4000..=0x4FFF).
        channel: u16,
    },
    /// The allocation failed or was lost.
    Failed(TurnError),
    /// The allocation was released (after [`TurnClient::close`]).
    Closed,
}

/// Where the allocation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnState {
    /// Not started.
    Idle,
    /// Allocate sent, no success yet.
    Allocating,
    /// Allocated and kept alive.
    Allocated,
    /// Releasing (Refresh with lifetime 0 sent).
    Closing,
    /// Released.
    Closed,
    /// Gave up (see the `Failed` event).
    Failed,
}

/// What [`TurnClient::handle_input`] found in a datagram from the server.
#[derive(Debug, PartialEq, Eq)]
pub enum TurnInput<'a> {
    /// A TURN control message: consumed.
    Consumed,
    /// Data a peer sent through the relay (Data indication or ChannelData), borrowed from the
    /// datagram.
    PeerData {
        /// The peer's transport address.
        peer: SocketAddr,
        /// The payload.
        data: &'a [u8],
    },
    /// Not TURN, or not for this allocation.
    NotTurn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxKind {
    Allocate,
    Refresh(u32),
    Permission(SocketAddr),
    ChannelBind(u16, SocketAddr),
}

impl TxKind {
    fn name(self) -> &'static str {
        match self {
            TxKind::Allocate => "Allocate",
            TxKind::Refresh(_) => "Refresh",
            TxKind::Permission(_) => "CreatePermission",
            TxKind::ChannelBind(..) => "ChannelBind",
        }
    }
}

#[derive(Debug)]
struct Tx {
    id: TxId,
    kind: TxKind,
    retx: Retransmit,
    /// Whether this request carried credentials (a 401 to it means wrong credentials).
    authed: bool,
    /// 438 retries used, bounded so a server that keeps changing nonces cannot loop us.
    stale_retries: u8,
    /// Queued for (re)transmission.
    due: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Binding {
    Pending,
    Installed,
}

#[derive(Debug)]
struct Permission {
    ip: IpAddr,
    state: Binding,
    refresh_at: Instant,
}

#[derive(Debug)]
struct Channel {
    number: u16,
    peer: SocketAddr,
    state: Binding,
    refresh_at: Instant,
}

/// RFC 8656 section 9: permissions last 300 s; refresh a minute early.
const PERMISSION_REFRESH: Duration = Duration::from_secs(240);
/// RFC 8656 section 12: channel bindings last 600 s; refresh a minute early.
const CHANNEL_REFRESH: Duration = Duration::from_secs(540);
const MAX_STALE_RETRIES: u8 = 3;
/// Channel numbers RFC 8656 section 12 gives to ChannelBind.
const CHANNEL_MIN: u16 = 0x4000;
const CHANNEL_MAX: u16 = 0x4fff;

/// The client's timers: a fieldless enum indexing a fixed table (transaction deadlines are
/// kept with each transaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    /// Refresh the allocation.
    Refresh,
}
const TIMER_COUNT: usize = 1;

/// One TURN allocation.
///
/// ```
/// use std::time::Instant;
/// use zvon_base::{Protocol, Rng};
/// use zvon_ice::turn::{TurnClient, TurnConfig, TurnState};
/// let cfg = TurnConfig::new("203.0.113.1:3478".parse().unwrap(), Protocol::Udp,
///                           "192.0.2.1:5000".parse().unwrap(), "user", "pass");
/// let mut turn = TurnClient::new(cfg, Rng::from_seed_u64(1));
/// let now = Instant::now();
/// turn.start(now);
/// let mut buf = Vec::new();
/// let t = turn.poll_transmit(now, &mut buf).unwrap(); // the first Allocate
/// assert_eq!(t.destination, "203.0.113.1:3478".parse().unwrap());
/// assert_eq!(turn.state(), TurnState::Allocating);
/// ```
#[derive(Debug)]
pub struct TurnClient {
    cfg: TurnConfig,
    rng: Rng,
    state: TurnState,
    realm: Option<String>,
    nonce: Option<Vec<u8>>,
    key: Option<LongTermKey>,
    relayed: Option<SocketAddr>,
    mapped: Option<SocketAddr>,
    txs: Vec<Tx>,
    permissions: Vec<Permission>,
    channels: Vec<Channel>,
    next_channel: u16,
    timers: [Option<Instant>; TIMER_COUNT],
    events: VecDeque<TurnEvent>,
}

impl TurnClient {
    /// A client that does nothing until [`TurnClient::start`].
    pub fn new(cfg: TurnConfig, rng: Rng) -> Self {
        Self {
            cfg,
            rng,
            state: TurnState::Idle,
            realm: None,
            nonce: None,
            key: None,
            relayed: None,
            mapped: None,
            txs: Vec::new(),
            permissions: Vec::new(),
            channels: Vec::new(),
            next_channel: CHANNEL_MIN,
            timers: [None; TIMER_COUNT],
            events: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TurnConfig {
        &self.cfg
    }

    /// Where the allocation stands.
    pub fn state(&self) -> TurnState {
        self.state
    }

    /// The relayed transport address, once allocated.
    pub fn relayed(&self) -> Option<SocketAddr> {
        self.relayed
    }

    /// The reflexive address the server saw, once allocated.
    pub fn mapped(&self) -> Option<SocketAddr> {
        self.mapped
    }

    /// Sends the first Allocate (unauthenticated: the server's 401 names realm and nonce).
    pub fn start(&mut self, now: Instant) {
        if self.state != TurnState::Idle {
            return;
        }
        self.state = TurnState::Allocating;
        self.new_tx(now, TxKind::Allocate);
    }

    /// Asks the server to accept traffic from `peer`'s IP (CreatePermission), unless a
    /// permission exists or is pending.
    pub fn ensure_permission(&mut self, now: Instant, peer: SocketAddr) {
        if self.permissions.iter().any(|p| p.ip == peer.ip()) {
            return;
        }
        self.permissions.push(Permission {
            ip: peer.ip(),
            state: Binding::Pending,
            refresh_at: now + PERMISSION_REFRESH,
        });
        if self.state == TurnState::Allocated {
            self.new_tx(now, TxKind::Permission(peer));
        }
    }

    /// Binds a channel to `peer` (which also installs a permission for its IP), so that data
    /// to it travels in 4-byte ChannelData headers instead of Send indications.
    pub fn bind_channel(&mut self, now: Instant, peer: SocketAddr) {
        if self.channels.iter().any(|c| c.peer == peer) || self.next_channel > CHANNEL_MAX {
            return;
        }
        let number = self.next_channel;
        self.next_channel += 1;
        self.channels.push(Channel {
            number,
            peer,
            state: Binding::Pending,
            refresh_at: now + CHANNEL_REFRESH,
        });
        if self.state == TurnState::Allocated {
            self.new_tx(now, TxKind::ChannelBind(number, peer));
        }
    }

    /// `true` when a permission for `peer`'s IP is installed.
    pub fn has_permission(&self, peer: SocketAddr) -> bool {
        self.permissions
            .iter()
            .any(|p| p.ip == peer.ip() && p.state == Binding::Installed)
            || self
                .channels
                .iter()
                .any(|c| c.peer.ip() == peer.ip() && c.state == Binding::Installed)
    }

    /// The bound channel to `peer`, if any.
    pub fn channel(&self, peer: SocketAddr) -> Option<u16> {
        self.channels
            .iter()
            .find(|c| c.peer == peer && c.state == Binding::Installed)
            .map(|c| c.number)
    }

    /// Releases the allocation (Refresh with lifetime 0, RFC 8656 section 8).
    pub fn close(&mut self, now: Instant) {
        match self.state {
            TurnState::Allocated => {
                self.state = TurnState::Closing;
                self.txs.clear();
                self.timers = [None; TIMER_COUNT];
                self.new_tx(now, TxKind::Refresh(0));
            }
            TurnState::Idle | TurnState::Allocating => {
                self.state = TurnState::Closed;
                self.txs.clear();
                self.events.push_back(TurnEvent::Closed);
            }
            _ => {}
        }
    }

    /// Wraps `payload` for `peer` into `buf`: ChannelData when a channel is bound, a Send
    /// indication otherwise. `None` when there is no allocation.
    pub fn wrap(
        &mut self,
        peer: SocketAddr,
        payload: &[u8],
        buf: &mut Vec<u8>,
    ) -> Option<Transmit> {
        if self.state != TurnState::Allocated {
            return None;
        }
        buf.clear();
        if let Some(ch) = self.channel(peer) {
            wire::encode_channel_data(buf, ch, payload, self.cfg.proto != Protocol::Udp);
        } else {
            let id = self.txid();
            wire::encode_send_indication(buf, &id, peer, payload);
        }
        Some(self.transmit(buf.len()))
    }

    fn transmit(&self, len: usize) -> Transmit {
        Transmit {
            proto: self.cfg.proto,
            source: self.cfg.local,
            destination: self.cfg.server,
            len,
        }
    }

    fn txid(&mut self) -> TxId {
        let mut id = [0u8; 12];
        self.rng.fill(&mut id);
        id
    }

    fn retransmit_config(&self) -> RetransmitConfig {
        if self.cfg.proto == Protocol::Udp {
            self.cfg.retransmit
        } else {
            self.cfg.retransmit.over_reliable()
        }
    }

    fn new_tx(&mut self, now: Instant, kind: TxKind) {
        let id = self.txid();
        let retx = Retransmit::new(now, self.retransmit_config());
        self.txs.push(Tx {
            id,
            kind,
            retx,
            authed: self.key.is_some(),
            stale_retries: 0,
            due: true,
        });
    }

    /// Re-sends a request under a new id (after 401/438), keeping the 438 budget.
    fn retry_tx(&mut self, now: Instant, kind: TxKind, stale_retries: u8) {
        self.new_tx(now, kind);
        if let Some(t) = self.txs.last_mut() {
            t.stale_retries = stale_retries;
        }
    }

    fn fail(&mut self, err: TurnError) {
        if matches!(self.state, TurnState::Failed | TurnState::Closed) {
            return;
        }
        self.state = TurnState::Failed;
        self.txs.clear();
        self.timers = [None; TIMER_COUNT];
        self.events.push_back(TurnEvent::Failed(err));
    }

    /// Processes one datagram (or one framed TCP message) from the server.
    pub fn handle_input<'a>(&mut self, now: Instant, data: &'a [u8]) -> TurnInput<'a> {
        if let Some((channel, payload)) = wire::parse_channel_data(data) {
            return match self.channels.iter().find(|c| c.number == channel) {
                Some(c) => TurnInput::PeerData {
                    peer: c.peer,
                    data: payload,
                },
                None => TurnInput::Consumed,
            };
        }
        let Some(msg) = wire::parse(data) else {
            return TurnInput::NotTurn;
        };
        match (msg.class, msg.method) {
            (Some(Class::Indication), Some(Method::Data)) => match (msg.xor_peer, msg.data) {
                (Some(peer), Some(d)) if self.state == TurnState::Allocated => {
                    TurnInput::PeerData { peer, data: d }
                }
                _ => TurnInput::Consumed,
            },
            (Some(Class::Success | Class::Error), _) => {
                let Some(i) = self.txs.iter().position(|t| t.id == msg.txid) else {
                    return TurnInput::NotTurn;
                };
                self.on_response(now, i, &msg);
                TurnInput::Consumed
            }
            _ => TurnInput::NotTurn,
        }
    }

    fn on_response(&mut self, now: Instant, i: usize, msg: &wire::Parsed<'_>) {
        let kind = self.txs[i].kind; // ok: i comes from position() on txs
        let authed = self.txs[i].authed;
        let stale = self.txs[i].stale_retries;
        let server = self.cfg.server;
        if msg.class == Some(Class::Success) {
            // A success to an authenticated request must carry a valid MESSAGE-INTEGRITY;
            // anything else may be forged, so it is dropped and the request retransmitted.
            if let Some(key) = &self.key
                && !msg.verify_long_term(key)
            {
                return;
            }
            self.txs.remove(i);
            self.on_success(now, kind, msg);
            return;
        }
        let code = msg.error_code.unwrap_or(0);
        match code {
            401 | 438 => {
                let (Some(realm), Some(nonce)) = (msg.realm, msg.nonce) else {
                    self.txs.remove(i);
                    self.on_error(
                        kind,
                        TurnError::Malformed {
                            server,
                            method: kind.name(),
                        },
                    );
                    return;
                };
                if code == 401 && authed {
                    //# If the response is an error response with an error code of 401
                    //# (Unauthenticated) ... the client SHOULD NOT retry the request with the
                    //# same credentials.
                    self.txs.remove(i);
                    let username = self.cfg.username.clone();
                    self.on_error(kind, TurnError::Unauthorized { server, username });
                    return;
                }
                if code == 438 && stale >= MAX_STALE_RETRIES {
                    self.txs.remove(i);
                    self.on_error(
                        kind,
                        TurnError::Server {
                            server,
                            method: kind.name(),
                            code,
                        },
                    );
                    return;
                }
                if self.realm.as_deref() != Some(realm) || self.key.is_none() {
                    self.key = Some(wire::long_term_key(
                        &self.cfg.username,
                        realm,
                        &self.cfg.password,
                    ));
                    self.realm = Some(realm.to_owned());
                }
                self.nonce = Some(nonce.to_vec());
                self.txs.remove(i);
                self.retry_tx(now, kind, stale + u8::from(code == 438));
            }
            _ => {
                self.txs.remove(i);
                self.on_error(
                    kind,
                    TurnError::Server {
                        server,
                        method: kind.name(),
                        code,
                    },
                );
            }
        }
    }

    fn on_error(&mut self, kind: TxKind, err: TurnError) {
        match kind {
            TxKind::Allocate | TxKind::Refresh(_) => {
                if self.state == TurnState::Closing {
                    self.state = TurnState::Closed;
                    self.events.push_back(TurnEvent::Closed);
                } else {
                    self.fail(err);
                }
            }
            // A refused permission or channel only loses that peer; the allocation lives on.
            TxKind::Permission(peer) => self.permissions.retain(|p| p.ip != peer.ip()),
            TxKind::ChannelBind(n, _) => self.channels.retain(|c| c.number != n),
        }
    }

    fn on_success(&mut self, now: Instant, kind: TxKind, msg: &wire::Parsed<'_>) {
        match kind {
            TxKind::Allocate => {
                let Some(relayed) = msg.xor_relayed else {
                    let server = self.cfg.server;
                    self.fail(TurnError::Malformed {
                        server,
                        method: "Allocate",
                    });
                    return;
                };
                let lifetime = Duration::from_secs(msg.lifetime.unwrap_or(600) as u64);
                self.relayed = Some(relayed);
                self.mapped = msg.xor_mapped;
                self.state = TurnState::Allocated;
                self.schedule_refresh(now, lifetime);
                self.events.push_back(TurnEvent::Allocated {
                    relayed,
                    mapped: msg.xor_mapped,
                    lifetime,
                });
                // Permissions and channels asked for before the allocation existed.
                let perms: Vec<SocketAddr> = self
                    .permissions
                    .iter()
                    .map(|p| SocketAddr::new(p.ip, 0))
                    .collect();
                for p in perms {
                    self.new_tx(now, TxKind::Permission(p));
                }
                let chans: Vec<(u16, SocketAddr)> =
                    self.channels.iter().map(|c| (c.number, c.peer)).collect();
                for (n, p) in chans {
                    self.new_tx(now, TxKind::ChannelBind(n, p));
                }
            }
            TxKind::Refresh(0) => {
                self.state = TurnState::Closed;
                self.events.push_back(TurnEvent::Closed);
            }
            TxKind::Refresh(_) => {
                let lifetime = Duration::from_secs(msg.lifetime.unwrap_or(600) as u64);
                self.schedule_refresh(now, lifetime);
            }
            TxKind::Permission(peer) => {
                if let Some(p) = self.permissions.iter_mut().find(|p| p.ip == peer.ip()) {
                    let first = p.state == Binding::Pending;
                    p.state = Binding::Installed;
                    p.refresh_at = now + PERMISSION_REFRESH;
                    if first {
                        self.events
                            .push_back(TurnEvent::PermissionCreated(peer.ip()));
                    }
                }
            }
            TxKind::ChannelBind(n, peer) => {
                if let Some(c) = self.channels.iter_mut().find(|c| c.number == n) {
                    let first = c.state == Binding::Pending;
                    c.state = Binding::Installed;
                    c.refresh_at = now + CHANNEL_REFRESH;
                    if first {
                        self.events
                            .push_back(TurnEvent::ChannelBound { peer, channel: n });
                    }
                }
            }
        }
    }

    fn schedule_refresh(&mut self, now: Instant, lifetime: Duration) {
        //# the client SHOULD refresh an allocation ... shortly before it expires: zvon
        //# refreshes one minute early, or at half the lifetime when that is shorter.
        let early = Duration::from_secs(60).min(lifetime / 2);
        self.timers[Timer::Refresh as usize] = Some(now + lifetime.saturating_sub(early));
    }

    /// When [`TurnClient::handle_timeout`] should next run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t = self.timers.iter().flatten().copied().min();
        for tx in &self.txs {
            t = Some(t.map_or(tx.retx.deadline(), |t| t.min(tx.retx.deadline())));
        }
        if self.state == TurnState::Allocated {
            for p in &self.permissions {
                t = Some(t.map_or(p.refresh_at, |t| t.min(p.refresh_at)));
            }
            for c in &self.channels {
                t = Some(t.map_or(c.refresh_at, |t| t.min(c.refresh_at)));
            }
        }
        t
    }

    /// Runs expired timers: retransmissions, refreshes of the allocation, permissions and
    /// channels.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut failed = Vec::new();
        for tx in &mut self.txs {
            match tx.retx.on_timeout(now) {
                TimeoutAction::Wait => {}
                TimeoutAction::Retransmit => tx.due = true,
                TimeoutAction::GiveUp => failed.push((tx.id, tx.kind)),
            }
        }
        for (id, kind) in failed {
            self.txs.retain(|t| t.id != id);
            let server = self.cfg.server;
            self.on_error(
                kind,
                TurnError::Timeout {
                    server,
                    method: kind.name(),
                },
            );
        }
        if self.state != TurnState::Allocated {
            return;
        }
        if let Some(at) = self.timers[Timer::Refresh as usize]
            && now >= at
        {
            self.timers[Timer::Refresh as usize] = None;
            let lifetime = self.cfg.lifetime.unwrap_or(600);
            self.new_tx(now, TxKind::Refresh(lifetime));
        }
        let mut due = Vec::new();
        for p in &mut self.permissions {
            if now >= p.refresh_at {
                p.refresh_at = now + PERMISSION_REFRESH;
                due.push(TxKind::Permission(SocketAddr::new(p.ip, 0)));
            }
        }
        for c in &mut self.channels {
            if now >= c.refresh_at {
                c.refresh_at = now + CHANNEL_REFRESH;
                due.push(TxKind::ChannelBind(c.number, c.peer));
            }
        }
        for kind in due {
            if !self.txs.iter().any(|t| t.kind == kind) {
                self.new_tx(now, kind);
            }
        }
    }

    /// The next request to send to the server, written into `buf`.
    pub fn poll_transmit(&mut self, _now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        let i = self.txs.iter().position(|t| t.due)?;
        self.txs[i].due = false; // ok: i from position()
        let (id, kind) = (self.txs[i].id, self.txs[i].kind);
        buf.clear();
        let auth = match (&self.key, &self.realm, &self.nonce) {
            (Some(key), Some(realm), Some(nonce)) => Some(LongTermAuth {
                username: &self.cfg.username,
                realm,
                nonce,
                key,
            }),
            _ => None,
        };
        match kind {
            TxKind::Allocate => wire::encode_allocate(buf, &id, auth.as_ref(), self.cfg.lifetime),
            TxKind::Refresh(l) => wire::encode_refresh(buf, &id, auth.as_ref(), l),
            TxKind::Permission(p) => wire::encode_create_permission(buf, &id, auth.as_ref(), p),
            TxKind::ChannelBind(n, p) => wire::encode_channel_bind(buf, &id, auth.as_ref(), n, p),
        }
        Some(self.transmit(buf.len()))
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<TurnEvent> {
        self.events.pop_front()
    }
}
