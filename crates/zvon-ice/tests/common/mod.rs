//! Simulator scaffolding for the ICE tests: an agent node with instant signaling, and a
//! TEST-ONLY STUN/TURN server node. The server is the least that RFC 8656 needs to relay for
//! the client under test (long-term auth with 401/438, Allocate, Refresh, CreatePermission,
//! ChannelBind, Send/Data indications, ChannelData); it is scaffolding, not a product.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use zvon_base::{Protocol, Rng};
use zvon_ice::{Candidate, IceAgent, IceConfig, IceConnectionState, IceEvent, IceRole, Received};
use zvon_netsim::{Datagram, DriveError, HostId, Limits, Node, Sim};
use zvon_stun::{
    Attribute, ChannelData, ChannelNumber, Class, Encoder, ErrorCode, IntegrityKey, Message,
    MessageType, Method, TransactionId,
};

/// What one agent tells the other through the (instant) signaling channel.
#[derive(Debug, Clone)]
pub enum Signal {
    Credentials(String, String),
    Candidate(Candidate),
    EndOfCandidates,
}

/// An ICE agent on a simulated host.
pub struct AgentNode {
    pub ice: IceAgent,
    pub outbox: Vec<Signal>,
    pub events: Vec<(Instant, IceEvent)>,
    pub states: Vec<(Instant, IceConnectionState)>,
    pub received: Vec<(Instant, Vec<u8>, SocketAddr)>,
    /// Application messages to send once a pair is selected.
    pub to_send: VecDeque<Vec<u8>>,
    /// Drop remote candidates of these kinds (simulates filtering).
    pub accept_remote: fn(&Candidate) -> bool,
    buf: Vec<u8>,
    last_now: Option<Instant>,
    /// Signal local candidates to the peer.
    pub trickle: bool,
    /// Signal end-of-candidates once gathering completes.
    pub send_eoc: bool,
    /// Sent every 100 ms while a pair is selected (application traffic that survives loss).
    pub beacon: Option<Vec<u8>>,
    next_beacon: Option<Instant>,
}

impl AgentNode {
    pub fn new(ice: IceAgent) -> Self {
        let c = ice.local_credentials().clone();
        Self {
            ice,
            outbox: vec![Signal::Credentials(c.ufrag, c.pwd)],
            events: Vec::new(),
            states: Vec::new(),
            received: Vec::new(),
            to_send: VecDeque::new(),
            accept_remote: |_| true,
            buf: Vec::with_capacity(2048),
            last_now: None,
            trickle: true,
            send_eoc: true,
            beacon: None,
            next_beacon: None,
        }
    }

    pub fn state(&self) -> IceConnectionState {
        self.ice.state()
    }

    pub fn connected(&self) -> bool {
        matches!(
            self.ice.state(),
            IceConnectionState::Connected | IceConnectionState::Completed
        )
    }

    /// When the state first became `s`.
    pub fn first(&self, s: IceConnectionState) -> Option<Instant> {
        self.states.iter().find(|(_, st)| *st == s).map(|(t, _)| *t)
    }

    fn drain_events(&mut self, now: Instant) {
        while let Some(ev) = self.ice.poll_event() {
            match &ev {
                IceEvent::LocalCandidate(c) if self.trickle => {
                    self.outbox.push(Signal::Candidate(c.clone()))
                }
                IceEvent::GatheringComplete if self.trickle && self.send_eoc => {
                    self.outbox.push(Signal::EndOfCandidates)
                }
                IceEvent::ConnectionStateChanged(s) => self.states.push((now, *s)),
                _ => {}
            }
            self.events.push((now, ev));
        }
    }

    pub fn signal(&mut self, now: Instant, s: Signal) {
        match s {
            Signal::Credentials(u, p) => self.ice.set_remote_credentials(now, &u, &p).unwrap(),
            Signal::Candidate(c) => {
                if (self.accept_remote)(&c) {
                    self.ice.add_remote_candidate(now, c).unwrap();
                }
            }
            Signal::EndOfCandidates => self.ice.end_of_remote_candidates(now),
        }
        self.last_now = Some(now);
        self.drain_events(now);
    }
}

impl Node for AgentNode {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        self.last_now = Some(now);
        if let Received::Data { data, peer } = self
            .ice
            .handle_datagram(now, d.proto, d.src, d.dst, &d.data)
        {
            self.received.push((now, data.to_vec(), peer));
        }
        self.drain_events(now);
    }

    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram> {
        self.last_now = Some(now);
        if let Some(t) = self.ice.poll_transmit(now, &mut self.buf) {
            self.drain_events(now);
            return Some(Datagram::from_transmit(&t, &self.buf));
        }
        self.drain_events(now);
        if self.ice.selected_pair().is_some()
            && let Some(msg) = self.to_send.pop_front()
        {
            let t = self.ice.send(&msg, &mut self.buf)?;
            return Some(Datagram::from_transmit(&t, &self.buf));
        }
        if self.ice.selected_pair().is_some()
            && self.next_beacon.is_none_or(|t| t <= now)
            && let Some(b) = &self.beacon
        {
            self.next_beacon = Some(now + Duration::from_millis(100));
            let t = self.ice.send(b, &mut self.buf)?;
            return Some(Datagram::from_transmit(&t, &self.buf));
        }
        None
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        let mut t = self.ice.poll_timeout();
        if self.ice.selected_pair().is_some() {
            if !self.to_send.is_empty() {
                return self.last_now.or(t);
            }
            if self.beacon.is_some() {
                let nb = self.next_beacon.or(self.last_now);
                t = match (t, nb) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
        t
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.last_now = Some(now);
        self.ice.handle_timeout(now);
        self.drain_events(now);
    }
}

/// Every kind of node in these simulations.
pub enum TestNode {
    Agent(Box<AgentNode>),
    Server(Box<TurnServer>),
    Lite(Box<LiteServer>),
}

/// Many ICE-lite agents behind one shared UDP port, demultiplexed by `SharedPortMux`.
pub struct LiteServer {
    pub mux: zvon_ice::mux::SharedPortMux<usize>,
    pub agents: Vec<IceAgent>,
    /// Application datagrams each agent received.
    pub received: Vec<usize>,
    pub unrouted: usize,
    buf: Vec<u8>,
    next: usize,
}

impl LiteServer {
    pub fn new() -> Self {
        Self {
            mux: zvon_ice::mux::SharedPortMux::new(),
            agents: Vec::new(),
            received: Vec::new(),
            unrouted: 0,
            buf: Vec::new(),
            next: 0,
        }
    }

    pub fn add(&mut self, ice: IceAgent) -> usize {
        let k = self.agents.len();
        self.mux.register(&ice.local_credentials().ufrag, k);
        self.agents.push(ice);
        self.received.push(0);
        k
    }
}

impl Node for LiteServer {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        match self.mux.route(d.src, &d.data) {
            Some(k) => {
                if let Received::Data { .. } =
                    self.agents[k].handle_datagram(now, d.proto, d.src, d.dst, &d.data)
                {
                    self.received[k] += 1;
                }
            }
            None => self.unrouted += 1,
        }
    }
    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram> {
        for i in 0..self.agents.len() {
            let k = (self.next + i) % self.agents.len();
            if let Some(t) = self.agents[k].poll_transmit(now, &mut self.buf) {
                self.next = k + 1;
                return Some(Datagram::from_transmit(&t, &self.buf));
            }
        }
        None
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        self.agents.iter().filter_map(|a| a.poll_timeout()).min()
    }
    fn handle_timeout(&mut self, now: Instant) {
        for a in &mut self.agents {
            if a.poll_timeout().is_some_and(|t| t <= now) {
                a.handle_timeout(now);
            }
        }
    }
}

impl TestNode {
    pub fn agent(&self) -> &AgentNode {
        match self {
            TestNode::Agent(a) => a,
            _ => panic!("not an agent"),
        }
    }
    pub fn agent_mut(&mut self) -> &mut AgentNode {
        match self {
            TestNode::Agent(a) => a,
            _ => panic!("not an agent"),
        }
    }
    pub fn server(&self) -> &TurnServer {
        match self {
            TestNode::Server(s) => s,
            _ => panic!("not a server"),
        }
    }
    pub fn server_mut(&mut self) -> &mut TurnServer {
        match self {
            TestNode::Server(s) => s,
            _ => panic!("not a server"),
        }
    }
    pub fn lite(&self) -> &LiteServer {
        match self {
            TestNode::Lite(s) => s,
            _ => panic!("not a lite server"),
        }
    }
}

impl Node for TestNode {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        match self {
            TestNode::Agent(a) => a.handle_datagram(now, d),
            TestNode::Server(s) => s.handle_datagram(now, d),
            TestNode::Lite(s) => s.handle_datagram(now, d),
        }
    }
    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram> {
        match self {
            TestNode::Agent(a) => a.poll_transmit(now),
            TestNode::Server(s) => s.poll_transmit(now),
            TestNode::Lite(s) => s.poll_transmit(now),
        }
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        match self {
            TestNode::Agent(a) => a.poll_timeout(),
            TestNode::Server(s) => s.poll_timeout(),
            TestNode::Lite(s) => s.poll_timeout(),
        }
    }
    fn handle_timeout(&mut self, now: Instant) {
        match self {
            TestNode::Agent(a) => a.handle_timeout(now),
            TestNode::Server(s) => s.handle_timeout(now),
            TestNode::Lite(s) => s.handle_timeout(now),
        }
    }
}

/// Moves pending signals between two agents (zero-latency signaling).
pub fn exchange(sim: &mut Sim<TestNode>, a: HostId, b: HostId) {
    let now = sim.now();
    for (from, to) in [(a, b), (b, a)] {
        let out = std::mem::take(&mut sim.node_mut(from).agent_mut().outbox);
        for s in out {
            sim.node_mut(to).agent_mut().signal(now, s);
        }
    }
}

/// Drives until `goal`, signaling between `a` and `b`.
pub fn drive(
    sim: &mut Sim<TestNode>,
    a: HostId,
    b: HostId,
    max: Duration,
    mut goal: impl FnMut(&mut Sim<TestNode>) -> bool,
) -> Result<(), DriveError> {
    sim.run_until(Limits::time(max), |s| {
        exchange(s, a, b);
        goal(s)
    })
}

/// Drives for `d` of virtual time, signaling between `a` and `b`.
pub fn run_for(sim: &mut Sim<TestNode>, a: HostId, b: HostId, d: Duration) {
    match drive(sim, a, b, d, |_| false) {
        Err(DriveError::Deadline { .. }) | Err(DriveError::Idle { .. }) => {}
        other => panic!("drive: {other:?}"),
    }
}

pub fn agent(role: IceRole, seed: u64, cfg: IceConfig) -> IceAgent {
    IceAgent::new(cfg, role, Rng::from_seed_u64(seed))
}

pub const TURN_USER: &str = "alice";
pub const TURN_PASS: &str = "wonderland";
pub const REALM: &str = "sim.test";

#[derive(Debug)]
struct Alloc {
    client: SocketAddr,
    relay: SocketAddr,
    perms: Vec<IpAddr>,
    channels: Vec<(u16, SocketAddr)>,
    expires: Instant,
}

/// TEST-ONLY STUN + TURN server (see the module docs).
#[derive(Debug)]
pub struct TurnServer {
    pub addr: SocketAddr,
    nonce: String,
    nonce_gen: u32,
    pub lifetime: u32,
    allocs: Vec<Alloc>,
    next_port: u16,
    out: VecDeque<Datagram>,
    // Observations for the tests.
    pub sent_401: u32,
    pub sent_438: u32,
    pub refreshes: Vec<(Instant, u32)>,
    pub relayed_packets: u64,
    pub channel_binds: u32,
    pub deallocations: u32,
}

impl TurnServer {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            nonce: "nonce-0".into(),
            nonce_gen: 0,
            lifetime: 600,
            allocs: Vec::new(),
            next_port: 50_000,
            out: VecDeque::new(),
            sent_401: 0,
            sent_438: 0,
            refreshes: Vec::new(),
            relayed_packets: 0,
            channel_binds: 0,
            deallocations: 0,
        }
    }

    /// Makes the current nonce stale: the next authenticated request gets 438.
    pub fn rotate_nonce(&mut self) {
        self.nonce_gen += 1;
        self.nonce = format!("nonce-{}", self.nonce_gen);
    }

    pub fn allocation_count(&self) -> usize {
        self.allocs.len()
    }

    fn key() -> IntegrityKey {
        IntegrityKey::long_term(TURN_USER, REALM, TURN_PASS)
    }

    fn reply(
        &mut self,
        to: SocketAddr,
        typ: MessageType,
        tid: TransactionId,
        f: impl FnOnce(&mut Encoder<'_>),
        sign: bool,
    ) {
        let mut buf = Vec::new();
        let mut e = Encoder::new(&mut buf, typ, tid);
        f(&mut e);
        if sign {
            e.finish_with_integrity(&Self::key());
        } else {
            e.finish_with_fingerprint();
        }
        self.out.push_back(Datagram::udp(self.addr, to, buf));
    }

    fn error(&mut self, to: SocketAddr, method: Method, tid: TransactionId, code: u16) {
        let nonce = self.nonce.clone();
        if code == 401 {
            self.sent_401 += 1;
        }
        if code == 438 {
            self.sent_438 += 1;
        }
        self.reply(
            to,
            MessageType::error(method),
            tid,
            |e| {
                e.add(&Attribute::ErrorCode(ErrorCode {
                    code,
                    reason: "err",
                }));
                if code == 401 || code == 438 {
                    e.add(&Attribute::Realm(REALM))
                        .add(&Attribute::Nonce(nonce.as_bytes()));
                }
            },
            false,
        );
    }

    /// Long-term authentication: Ok(()) or the error code already sent.
    fn auth(&mut self, from: SocketAddr, msg: &Message<'_>) -> bool {
        let m = msg.method();
        let tid = msg.transaction_id();
        if !msg.has_integrity() || msg.username().is_none() {
            self.error(from, m, tid, 401);
            return false;
        }
        if msg.nonce() != Some(self.nonce.as_bytes()) {
            self.error(from, m, tid, 438);
            return false;
        }
        if msg.username() != Some(TURN_USER) || msg.verify_integrity(&Self::key()).is_err() {
            self.error(from, m, tid, 401);
            return false;
        }
        true
    }

    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        self.allocs.retain(|a| a.expires > now);
        if d.dst == self.addr {
            self.on_client_message(now, d);
        } else if let Some(i) = self.allocs.iter().position(|a| a.relay == d.dst) {
            let a = &self.allocs[i];
            if !a.perms.contains(&d.src.ip()) {
                return;
            }
            self.relayed_packets += 1;
            let client = a.client;
            if let Some((ch, _)) = a.channels.iter().find(|(_, p)| *p == d.src) {
                let mut buf = Vec::new();
                ChannelData::encode(ChannelNumber::new(*ch).unwrap(), &d.data, false, &mut buf);
                self.out.push_back(Datagram::udp(self.addr, client, buf));
            } else {
                let mut buf = Vec::new();
                let mut e = Encoder::new(
                    &mut buf,
                    MessageType::indication(Method::DATA),
                    TransactionId::new([7; 12]),
                );
                e.add(&Attribute::XorPeerAddress(d.src))
                    .add(&Attribute::Data(&d.data));
                e.finish();
                self.out.push_back(Datagram::udp(self.addr, client, buf));
            }
        }
    }

    fn on_client_message(&mut self, now: Instant, d: Datagram) {
        let from = d.src;
        if let Ok(cd) = ChannelData::parse(&d.data) {
            if let Some(a) = self.allocs.iter().find(|a| a.client == from) {
                let ch = cd.channel().value();
                if let Some((_, peer)) = a.channels.iter().find(|(c, _)| *c == ch) {
                    self.relayed_packets += 1;
                    self.out
                        .push_back(Datagram::udp(a.relay, *peer, cd.data().to_vec()));
                }
            }
            return;
        }
        let Ok(msg) = Message::parse(&d.data) else {
            return;
        };
        let tid = msg.transaction_id();
        let m = msg.method();
        match msg.class() {
            Class::Indication if m == Method::SEND => {
                let (Some(peer), Some(data)) = (msg.xor_peer_address(), msg.data()) else {
                    return;
                };
                if let Some(a) = self.allocs.iter().find(|a| a.client == from)
                    && a.perms.contains(&peer.ip())
                {
                    self.relayed_packets += 1;
                    self.out
                        .push_back(Datagram::udp(a.relay, peer, data.to_vec()));
                }
            }
            Class::Request if m == Method::BINDING => {
                self.reply(
                    from,
                    MessageType::success(m),
                    tid,
                    |e| {
                        e.add(&Attribute::XorMappedAddress(from));
                    },
                    false,
                );
            }
            Class::Request if m == Method::ALLOCATE => {
                if !self.auth(from, &msg) {
                    return;
                }
                let relay = match self.allocs.iter().find(|a| a.client == from) {
                    Some(a) => a.relay,
                    None => {
                        let relay = SocketAddr::new(self.addr.ip(), self.next_port);
                        self.next_port += 1;
                        self.allocs.push(Alloc {
                            client: from,
                            relay,
                            perms: Vec::new(),
                            channels: Vec::new(),
                            expires: now + Duration::from_secs(self.lifetime as u64),
                        });
                        relay
                    }
                };
                let lifetime = self.lifetime;
                self.reply(
                    from,
                    MessageType::success(m),
                    tid,
                    |e| {
                        e.add(&Attribute::XorRelayedAddress(relay))
                            .add(&Attribute::XorMappedAddress(from))
                            .add(&Attribute::Lifetime(lifetime));
                    },
                    true,
                );
            }
            Class::Request if m == Method::REFRESH => {
                if !self.auth(from, &msg) {
                    return;
                }
                let asked = msg.lifetime().unwrap_or(self.lifetime);
                self.refreshes.push((now, asked));
                let Some(i) = self.allocs.iter().position(|a| a.client == from) else {
                    self.error(from, m, tid, 437);
                    return;
                };
                let lifetime = asked.min(self.lifetime);
                if lifetime == 0 {
                    self.allocs.remove(i);
                    self.deallocations += 1;
                } else {
                    self.allocs[i].expires = now + Duration::from_secs(lifetime as u64);
                }
                self.reply(
                    from,
                    MessageType::success(m),
                    tid,
                    |e| {
                        e.add(&Attribute::Lifetime(lifetime));
                    },
                    true,
                );
            }
            Class::Request if m == Method::CREATE_PERMISSION || m == Method::CHANNEL_BIND => {
                if !self.auth(from, &msg) {
                    return;
                }
                let Some(peer) = msg.xor_peer_address() else {
                    return;
                };
                let ch = msg.find(|a| match a {
                    Attribute::ChannelNumber(n) => Some(n),
                    _ => None,
                });
                let Some(a) = self.allocs.iter_mut().find(|a| a.client == from) else {
                    self.error(from, m, tid, 437);
                    return;
                };
                if !a.perms.contains(&peer.ip()) {
                    a.perms.push(peer.ip());
                }
                if m == Method::CHANNEL_BIND {
                    let Some(ch) = ch else { return };
                    if !a.channels.iter().any(|(c, _)| *c == ch) {
                        a.channels.push((ch, peer));
                    }
                    self.channel_binds += 1;
                }
                self.reply(from, MessageType::success(m), tid, |_| {}, true);
            }
            _ => {}
        }
    }

    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        self.out.pop_front()
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        None
    }

    fn handle_timeout(&mut self, _now: Instant) {}
}

pub fn turn_config(server: SocketAddr, pass: &str) -> zvon_ice::turn::TurnConfig {
    zvon_ice::turn::TurnConfig::new(
        server,
        Protocol::Udp,
        "0.0.0.0:0".parse().unwrap(),
        TURN_USER,
        pass,
    )
}
