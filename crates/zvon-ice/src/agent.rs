//! The ICE agent (RFC 8445, full and lite; RFC 8838 trickle; RFC 7675 consent freshness).
//!
//! One data stream, one component: zvon always bundles and muxes RTCP, as every browser does.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use zvon_base::{Classify, DatagramKind, Fault, Protocol, Rng, Transmit, classify};

use crate::candidate::{Candidate, CandidateKind, RelayProtocol, can_pair, pair_priority};
use crate::transaction::{Retransmit, RetransmitConfig, TimeoutAction};
use crate::turn::{TurnClient, TurnConfig, TurnEvent, TurnInput};
use crate::wire::{self, Class, Method, RoleAttr, TxId};

/// Which side of the nomination an agent is on (RFC 8445 section 6.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IceRole {
    /// Chooses the pair (the offerer, unless the answerer is lite).
    Controlling,
    /// Accepts the choice.
    Controlled,
}

/// The W3C `RTCIceConnectionState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IceConnectionState {
    /// Nothing happened yet.
    New,
    /// Checks are under way and no pair works yet.
    Checking,
    /// A pair works (data can flow); checks may go on.
    Connected,
    /// A pair is nominated, the peer signaled end-of-candidates and no check is pending.
    Completed,
    /// The selected pair stopped answering consent checks (RFC 7675), not yet for 30 s.
    Disconnected,
    /// Every pair failed, or consent expired.
    Failed,
    /// [`IceAgent::close`] was called.
    Closed,
}

/// The W3C `RTCIceGatheringState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GatheringState {
    /// [`IceAgent::gather`] not called yet.
    New,
    /// Waiting for STUN/TURN servers.
    Gathering,
    /// Every server answered or gave up.
    Complete,
}

/// The ICE username fragment and password of one side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `ice-ufrag`.
    pub ufrag: String,
    /// `ice-pwd`.
    pub pwd: String,
}

impl Credentials {
    /// Random credentials: an 8-character ufrag (RFC 8445 asks at least 4 and 24 bits of
    /// randomness) and a 24-character password (at least 22 and 128 bits).
    pub fn random(rng: &mut Rng) -> Self {
        Self {
            ufrag: rng.ice_string(8),
            pwd: rng.ice_string(24),
        }
    }
}

/// Tunables. The defaults favour fast setup within what RFC 8445 allows; each says why.
#[derive(Debug, Clone)]
pub struct IceConfig {
    /// ICE lite (RFC 8445 section 2.5): host candidates only, no checks sent, always
    /// controlled; for servers with a public address.
    pub lite: bool,
    /// W3C `iceTransportPolicy: "relay"`: only relayed local candidates are paired and
    /// announced.
    pub relay_only: bool,
    /// Pacing of ordinary checks (Ta). RFC 8445 section 14.2 recommends 50 ms but lets the
    /// agent choose, with a floor: "the combination of all transactions from all agents ...
    /// MUST NOT be sent more often than once every 5 ms". zvon paces ordinary checks at 10 ms:
    /// a dozen pairs are all tried within ~120 ms instead of 600 ms.
    pub ta: Duration,
    /// Initial check RTO. RFC 8445 section 14.3 says RTO "SHOULD" be MAX(500 ms, Ta*N); zvon
    /// starts at 250 ms (Chromium re-pings unanswered pairs even faster), doubling each time,
    /// so that a lost check on a lossy path costs a quarter second, not a half.
    pub check_rto: Duration,
    /// Checks sent per transaction (Rc); with the RTO doubling capped at 1 s, 9 checks span
    /// about 8 s before the pair fails.
    pub check_rc: u32,
    /// Upper bound on the number of pairs (RFC 8445 section 6.1.2.5 suggests 100).
    pub max_pairs: usize,
    /// Controlling agent: once a pair works, how long to wait for a better pending one before
    /// nominating anyway. Data flows on the best working pair meanwhile (RFC 8445 section 12
    /// lets agents send on a valid pair before nomination), so this wait is off the critical
    /// path.
    pub nomination_delay: Duration,
    /// Consent checks on the selected pair (RFC 7675 section 5.1 randomises them by +-20%
    /// around 5 s, "MAY" be more often; zvon follows Chromium's 2.5 s so that a dead path is
    /// seen as `Disconnected` sooner).
    pub consent_interval: Duration,
    /// No consent response for this long: `Disconnected`.
    pub disconnected_after: Duration,
    /// No consent response for this long: consent expired, the path is dropped (RFC 7675
    /// section 5.1: 30 s).
    pub consent_expiry: Duration,
    /// Keepalive Binding indications of a lite agent (RFC 8445 section 11: 15 s).
    pub keepalive_interval: Duration,
    /// Retransmission of requests to STUN servers.
    pub stun_retransmit: RetransmitConfig,
}

impl Default for IceConfig {
    fn default() -> Self {
        Self {
            lite: false,
            relay_only: false,
            ta: Duration::from_millis(10),
            check_rto: Duration::from_millis(250),
            check_rc: 9,
            max_pairs: 100,
            nomination_delay: Duration::from_millis(100),
            consent_interval: Duration::from_millis(2500),
            disconnected_after: Duration::from_secs(5),
            consent_expiry: Duration::from_secs(30),
            keepalive_interval: Duration::from_secs(15),
            stun_retransmit: FAST_STUN,
        }
    }
}

/// Retransmission of requests to STUN and TURN servers. RFC 8489 asks for an initial RTO
/// "greater than 500 ms" as a SHOULD aimed at unknown paths; like Chromium (250 ms initial RTO)
/// zvon starts at 250 ms, because a lost Binding or Allocate otherwise delays the
/// server-reflexive or relayed candidate (and so the whole connection behind a NAT) by half a
/// second per loss. The doubling is capped at 2 s and 9 requests span about 13 s.
pub const FAST_STUN: RetransmitConfig = RetransmitConfig {
    rto: Duration::from_millis(250),
    max_rto: Duration::from_secs(2),
    rc: 9,
    rm: 8,
    reliable: false,
};

/// The RFC's absolute floor between two checks.
const MIN_CHECK_GAP: Duration = Duration::from_millis(5);

/// What the agent tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IceEvent {
    /// A new local candidate, to trickle to the peer (RFC 8838).
    LocalCandidate(Candidate),
    /// No more local candidates: signal end-of-candidates.
    GatheringComplete,
    /// The gathering state changed.
    GatheringStateChanged(GatheringState),
    /// The connection state changed.
    ConnectionStateChanged(IceConnectionState),
    /// The pair data travels on changed (or became known).
    SelectedPairChanged {
        /// The local candidate.
        local: Candidate,
        /// The remote candidate.
        remote: Candidate,
    },
    /// A role conflict (RFC 8445 section 7.3.1.1) switched our role.
    RoleChanged(IceRole),
    /// A TURN server could not be used.
    TurnFailed(crate::turn::TurnError),
}

/// What [`IceAgent::handle_datagram`] made of a datagram.
#[derive(Debug, PartialEq, Eq)]
pub enum Received<'a> {
    /// ICE, STUN or TURN control traffic, consumed.
    Ice,
    /// Application data (DTLS, SRTP, ...), unwrapped from TURN when relayed: `peer` is the
    /// remote transport address (the TURN peer for relayed data).
    Data {
        /// The payload, borrowed from the datagram.
        data: &'a [u8],
        /// The remote address.
        peer: SocketAddr,
    },
    /// STUN that was not for this agent, or nothing ICE understands: dropped.
    Dropped,
}

/// Errors of the agent's API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IceError {
    /// The remote candidate cannot be used (e.g. an unspecified or multicast address).
    #[error("unusable remote candidate {0}")]
    BadCandidate(SocketAddr),
    /// The agent is closed.
    #[error("the ICE agent is closed")]
    Closed,
    /// Remote credentials break RFC 8445 (ufrag under 4 or password under 22 characters).
    #[error("invalid remote ICE credentials")]
    BadCredentials,
}

impl Classify for IceError {
    fn fault(&self) -> Fault {
        match self {
            IceError::BadCandidate(_) | IceError::BadCredentials => Fault::PeerMisbehaved,
            IceError::Closed => Fault::ApiMisuse,
        }
    }

    fn is_fatal(&self) -> bool {
        false
    }
}

/// Where a packet from a local candidate leaves: from a socket, or through a TURN allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Socket,
    Turn(usize),
}

#[derive(Debug, Clone)]
struct Local {
    cand: Candidate,
    via: Via,
    iface: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PairState {
    Frozen,
    Waiting,
    InProgress,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone)]
struct Pair {
    local: usize,
    remote: usize,
    priority: u64,
    state: PairState,
    /// The controlled side got USE-CANDIDATE before this pair succeeded.
    nominate_on_success: bool,
    nominated: bool,
    /// Last response to a check or consent request (RFC 7675 consent).
    last_consent: Option<Instant>,
    /// Lite agents: last authenticated check received.
    last_request: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CheckKind {
    Ordinary,
    Nominate,
    Consent,
}

#[derive(Debug)]
struct CheckTx {
    id: TxId,
    pair: usize,
    kind: CheckKind,
    retx: Retransmit,
    due: bool,
    /// Role and tie-breaker claimed in the request, so a 487 is judged against what we sent.
    role: IceRole,
    /// Sent with the peer's credentials from before the last restart.
    previous: bool,
}

#[derive(Debug)]
struct GatherTx {
    id: TxId,
    local: usize,
    server: SocketAddr,
    retx: Retransmit,
    due: bool,
}

#[derive(Debug)]
struct TurnSlot {
    client: TurnClient,
    /// The host candidate the allocation is made from.
    host: usize,
    done: bool,
}

#[derive(Debug, Clone, Copy)]
struct Response {
    id: TxId,
    local: usize,
    to: SocketAddr,
    /// `None`: success with XOR-MAPPED-ADDRESS = `to`; `Some(code)`: error.
    error: Option<u16>,
    /// Answer with the credentials of the session before the last restart.
    previous: bool,
}

/// Timers: a fieldless enum indexing a fixed table; [`IceAgent::poll_timeout`] is the minimum
/// of the table and the deadlines of the open transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    /// Next ordinary check (Ta).
    Pacing,
    /// Controlling: nominate the best valid pair even if better ones are pending.
    Nominate,
    /// Next consent check on the selected pair.
    Consent,
    /// Consent bookkeeping: disconnected / expired.
    ConsentCheck,
    /// Lite: next keepalive.
    Keepalive,
    /// Every pair failed but the peer never signaled end-of-candidates: give up after a grace.
    FailGrace,
}
const TIMER_COUNT: usize = 6;

/// Every pair failed and no end-of-candidates came: how long to wait for a late candidate
/// before reporting `failed`. Many applications never signal end-of-candidates, and a W3C
/// `failed` state that never comes is worse than one that comes a few seconds late.
const FAIL_GRACE: Duration = Duration::from_secs(5);

/// The ICE agent, sans-IO.
///
/// The caller binds sockets, hands their addresses in with
/// [`add_host_candidate`](IceAgent::add_host_candidate), feeds every datagram that arrives on
/// them to [`handle_datagram`](IceAgent::handle_datagram), sends what
/// [`poll_transmit`](IceAgent::poll_transmit) writes, and wakes up at
/// [`poll_timeout`](IceAgent::poll_timeout). Application data leaves through
/// [`send`](IceAgent::send) (or, zero-copy, on the direct [`route`](IceAgent::route)).
///
/// ```
/// use std::time::Instant;
/// use zvon_base::Rng;
/// use zvon_ice::{IceAgent, IceConfig, IceRole};
/// let now = Instant::now();
/// let mut a = IceAgent::new(IceConfig::default(), IceRole::Controlling, Rng::from_seed_u64(1));
/// a.add_host_candidate("192.0.2.1:5000".parse().unwrap(), 0);
/// a.gather(now);
/// while let Some(ev) = a.poll_event() {
///     println!("{ev:?}"); // LocalCandidate(..), GatheringComplete, ...
/// }
/// ```
#[derive(Debug)]
pub struct IceAgent {
    cfg: IceConfig,
    rng: Rng,
    role: IceRole,
    tie_breaker: u64,
    local_creds: Credentials,
    previous_local: Option<Credentials>,
    remote_creds: Option<Credentials>,
    previous_remote: Option<Credentials>,
    locals: Vec<Local>,
    remotes: Vec<Candidate>,
    pairs: Vec<Pair>,
    checks: Vec<CheckTx>,
    triggered: VecDeque<usize>,
    last_check: Option<Instant>,
    selected: Option<usize>,
    first_valid_at: Option<Instant>,
    state: IceConnectionState,
    gathering: GatheringState,
    remote_end_of_candidates: bool,
    stun_servers: Vec<SocketAddr>,
    gathers: Vec<GatherTx>,
    turns: Vec<TurnSlot>,
    responses: VecDeque<Response>,
    keepalive_due: bool,
    timers: [Option<Instant>; TIMER_COUNT],
    events: VecDeque<IceEvent>,
    scratch: Vec<u8>,
    closed: bool,
    /// Relay permissions/channels to set up: (TURN slot, peer).
    pending_turn: Vec<(usize, SocketAddr)>,
    /// The selected pair lost consent and nothing replaced it.
    consent_lost: bool,
    /// Since when every pair has failed (for [`FAIL_GRACE`]).
    all_failed_since: Option<Instant>,
}

impl IceAgent {
    /// A new agent with random credentials and tie-breaker drawn from `rng`. A lite agent is
    /// always controlled.
    pub fn new(cfg: IceConfig, role: IceRole, mut rng: Rng) -> Self {
        let local_creds = Credentials::random(&mut rng);
        let tie_breaker = rng.u64();
        let role = if cfg.lite { IceRole::Controlled } else { role };
        Self {
            cfg,
            rng,
            role,
            tie_breaker,
            local_creds,
            previous_local: None,
            remote_creds: None,
            previous_remote: None,
            locals: Vec::new(),
            remotes: Vec::new(),
            pairs: Vec::new(),
            checks: Vec::new(),
            triggered: VecDeque::new(),
            last_check: None,
            selected: None,
            first_valid_at: None,
            state: IceConnectionState::New,
            gathering: GatheringState::New,
            remote_end_of_candidates: false,
            stun_servers: Vec::new(),
            gathers: Vec::new(),
            turns: Vec::new(),
            responses: VecDeque::new(),
            keepalive_due: false,
            timers: [None; TIMER_COUNT],
            events: VecDeque::new(),
            scratch: Vec::with_capacity(1500),
            closed: false,
            pending_turn: Vec::new(),
            consent_lost: false,
            all_failed_since: None,
        }
    }

    /// Replaces the local credentials before anything was sent (a server that must keep
    /// ufrags unique on a shared port picks them itself).
    pub fn set_local_credentials(&mut self, creds: Credentials) {
        self.local_creds = creds;
    }

    // ----- getters -----------------------------------------------------------------------

    /// Our credentials (for `a=ice-ufrag` / `a=ice-pwd`).
    pub fn local_credentials(&self) -> &Credentials {
        &self.local_creds
    }

    /// The current role.
    pub fn role(&self) -> IceRole {
        self.role
    }

    /// `true` for a lite agent.
    pub fn is_lite(&self) -> bool {
        self.cfg.lite
    }

    /// The connection state.
    pub fn state(&self) -> IceConnectionState {
        self.state
    }

    /// The gathering state.
    pub fn gathering_state(&self) -> GatheringState {
        self.gathering
    }

    /// Every local candidate to announce (host, server-reflexive, relayed; never peer-reflexive).
    pub fn local_candidates(&self) -> impl Iterator<Item = &Candidate> {
        self.locals
            .iter()
            .map(|l| &l.cand)
            .filter(|c| c.kind != CandidateKind::PeerReflexive)
            .filter(move |c| !self.cfg.relay_only || c.kind == CandidateKind::Relayed)
    }

    /// The pair data travels on: (local, remote).
    pub fn selected_pair(&self) -> Option<(&Candidate, &Candidate)> {
        let p = &self.pairs[self.selected?];
        Some((&self.locals[p.local].cand, &self.remotes[p.remote]))
    }

    /// For a direct (unrelayed) selected pair, how to address a datagram so the caller can
    /// send its own buffer without a copy; `None` when relayed (use [`IceAgent::send`]) or
    /// when no pair is selected.
    pub fn route(&self) -> Option<Transmit> {
        let p = &self.pairs[self.selected?];
        let l = &self.locals[p.local];
        match l.via {
            Via::Socket => Some(Transmit {
                proto: Protocol::Udp,
                source: l.cand.base,
                destination: self.remotes[p.remote].addr,
                len: 0,
            }),
            Via::Turn(_) => None,
        }
    }

    // ----- commands ----------------------------------------------------------------------

    /// Adds a host candidate: a UDP socket the caller bound on an interface. `interface_index`
    /// ranks interfaces (0 the most preferred). Announced as a [`IceEvent::LocalCandidate`].
    pub fn add_host_candidate(&mut self, addr: SocketAddr, interface_index: u16) {
        if self.closed
            || self
                .locals
                .iter()
                .any(|l| l.via == Via::Socket && l.cand.base == addr)
        {
            return;
        }
        let cand = Candidate::host(addr, interface_index);
        self.push_local(cand, Via::Socket, interface_index);
    }

    /// Adds a STUN server for server-reflexive candidates (call before [`IceAgent::gather`]).
    pub fn add_stun_server(&mut self, server: SocketAddr) {
        if !self.stun_servers.contains(&server) {
            self.stun_servers.push(server);
        }
    }

    /// Adds a TURN server: one allocation from each host candidate of the server's address
    /// family (call before [`IceAgent::gather`]). `template.local` is ignored.
    pub fn add_turn_server(&mut self, template: TurnConfig) {
        for (i, l) in self.locals.iter().enumerate() {
            if l.via != Via::Socket || l.cand.kind != CandidateKind::Host {
                continue;
            }
            if l.cand.base.is_ipv4() != template.server.is_ipv4() {
                continue;
            }
            let cfg = TurnConfig {
                local: l.cand.base,
                ..template.clone()
            };
            let client = TurnClient::new(cfg, self.rng.fork());
            self.turns.push(TurnSlot {
                client,
                host: i,
                done: false,
            });
        }
    }

    /// Adds one TURN allocation from the host candidate whose base is `cfg.local` (for a
    /// caller that connects TCP/TLS to the server itself and knows which bases have a
    /// connection). Returns `false` when no such host candidate exists.
    pub fn add_turn_allocation(&mut self, cfg: TurnConfig) -> bool {
        let Some(host) = self.locals.iter().position(|l| {
            l.via == Via::Socket && l.cand.kind == CandidateKind::Host && l.cand.base == cfg.local
        }) else {
            return false;
        };
        let client = TurnClient::new(cfg, self.rng.fork());
        self.turns.push(TurnSlot {
            client,
            host,
            done: false,
        });
        true
    }

    /// Starts gathering server-reflexive and relayed candidates. With no servers, gathering
    /// completes at once.
    pub fn gather(&mut self, now: Instant) {
        if self.gathering != GatheringState::New || self.closed {
            return;
        }
        self.set_gathering(GatheringState::Gathering);
        if !self.cfg.lite {
            for i in 0..self.locals.len() {
                if self.locals[i].cand.kind != CandidateKind::Host {
                    continue;
                }
                let base = self.locals[i].cand.base;
                for s in self.stun_servers.clone() {
                    if s.is_ipv4() == base.is_ipv4() {
                        let id = self.txid();
                        let retx = Retransmit::new(now, self.cfg.stun_retransmit);
                        self.gathers.push(GatherTx {
                            id,
                            local: i,
                            server: s,
                            retx,
                            due: true,
                        });
                    }
                }
            }
            for t in &mut self.turns {
                t.client.start(now);
            }
        }
        self.check_gathering_complete();
    }

    /// Sets the peer's ufrag and password (from its SDP); checks start once both credentials
    /// and candidates are known.
    pub fn set_remote_credentials(
        &mut self,
        now: Instant,
        ufrag: &str,
        pwd: &str,
    ) -> Result<(), IceError> {
        if ufrag.len() < 4 || pwd.len() < 22 || ufrag.len() > 256 || pwd.len() > 256 {
            return Err(IceError::BadCredentials);
        }
        let creds = Credentials {
            ufrag: ufrag.to_owned(),
            pwd: pwd.to_owned(),
        };
        if self.remote_creds.as_ref() == Some(&creds) {
            return Ok(());
        }
        self.remote_creds = Some(creds);
        self.schedule_checks(now);
        Ok(())
    }

    /// Adds a candidate the peer signaled (in its SDP or trickled, RFC 8838). Duplicates are
    /// ignored; a candidate that matches a peer-reflexive one learned earlier replaces its
    /// priority and kind.
    pub fn add_remote_candidate(&mut self, now: Instant, cand: Candidate) -> Result<(), IceError> {
        if self.closed {
            return Err(IceError::Closed);
        }
        let ip = cand.addr.ip();
        if ip.is_unspecified() || ip.is_multicast() || cand.addr.port() == 0 {
            return Err(IceError::BadCandidate(cand.addr));
        }
        if let Some(r) = self.remotes.iter().position(|c| c.addr == cand.addr) {
            //# If the candidate is a peer-reflexive one that was learned earlier, the agent
            //# replaces it by the signaled one (RFC 8838 section 11, RFC 8445 section 7.3.1.3).
            if self.remotes[r].kind == CandidateKind::PeerReflexive
                && cand.kind != CandidateKind::PeerReflexive
            {
                self.remotes[r] = Candidate {
                    base: cand.addr,
                    ..cand
                };
            }
            return Ok(());
        }
        if self.cfg.lite {
            // A lite agent forms pairs only from the checks it receives.
            self.remotes.push(Candidate {
                base: cand.addr,
                ..cand
            });
            return Ok(());
        }
        self.remotes.push(Candidate {
            base: cand.addr,
            ..cand
        });
        let r = self.remotes.len() - 1;
        for l in 0..self.locals.len() {
            self.add_pair(l, r);
        }
        if self.state == IceConnectionState::New {
            self.set_state(IceConnectionState::Checking);
        }
        self.schedule_checks(now);
        Ok(())
    }

    /// The peer signaled end-of-candidates (RFC 8838 section 13).
    pub fn end_of_remote_candidates(&mut self, now: Instant) {
        self.remote_end_of_candidates = true;
        self.update_state(now);
    }

    /// Restarts ICE (RFC 8445 section 9): new local credentials, and every pair is checked
    /// again once the peer's new credentials arrive. The selected pair keeps carrying data
    /// until the new session selects one, and its consent is kept with the old credentials.
    pub fn restart(&mut self, now: Instant) -> &Credentials {
        self.previous_local = Some(std::mem::replace(
            &mut self.local_creds,
            Credentials::random(&mut self.rng),
        ));
        self.previous_remote = self.remote_creds.take();
        self.remote_end_of_candidates = false;
        self.checks.retain(|c| c.kind == CheckKind::Consent);
        self.triggered.clear();
        self.first_valid_at = None;
        self.timers[Timer::Nominate as usize] = None;
        let selected = self.selected;
        for (i, p) in self.pairs.iter_mut().enumerate() {
            p.nominated = false;
            p.nominate_on_success = false;
            if Some(i) != selected {
                p.state = PairState::Waiting;
                p.last_consent = None;
            }
        }
        if let Some(s) = selected {
            // The old path must be proven again in the new session to be nominated.
            self.pairs[s].state = PairState::Waiting;
        }
        let _ = now;
        &self.local_creds
    }

    /// Sets the role from signaling (JSEP: the offerer controls, RFC 8829 5.1.1 / RFC 8445
    /// 6.1.1), for an agent created before it knew whether it would offer or answer. Pair
    /// priorities follow the role; no event is emitted since nothing conflicted. A lite agent
    /// is always controlled.
    pub fn set_role(&mut self, now: Instant, role: IceRole) {
        if self.role == role || self.cfg.lite {
            return;
        }
        self.role = role;
        for i in 0..self.pairs.len() {
            self.pairs[i].priority =
                self.compute_pair_priority(self.pairs[i].local, self.pairs[i].remote);
        }
        self.maybe_nominate(now);
    }

    /// Stops everything: no more checks, TURN allocations released, state `Closed`.
    pub fn close(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.checks.clear();
        self.gathers.clear();
        self.triggered.clear();
        self.timers = [None; TIMER_COUNT];
        for t in &mut self.turns {
            t.client.close(now);
        }
        self.set_state(IceConnectionState::Closed);
    }

    /// Wraps application data for the selected pair into `buf`: copied as is for a direct pair,
    /// in ChannelData or a Send indication for a relayed one. `None` without a selected pair.
    pub fn send(&mut self, payload: &[u8], buf: &mut Vec<u8>) -> Option<Transmit> {
        if self.closed {
            return None;
        }
        let p = &self.pairs[self.selected?];
        let remote = self.remotes[p.remote].addr;
        let l = &self.locals[p.local];
        match l.via {
            Via::Socket => {
                buf.clear();
                buf.extend_from_slice(payload);
                Some(Transmit {
                    proto: Protocol::Udp,
                    source: l.cand.base,
                    destination: remote,
                    len: buf.len(),
                })
            }
            Via::Turn(t) => self.turns[t].client.wrap(remote, payload, buf),
        }
    }

    // ----- input -------------------------------------------------------------------------

    /// Processes a datagram that arrived on one of the caller's sockets (or a framed message
    /// of a TCP/TLS connection to a TURN server). `source` is the remote address,
    /// `destination` the local socket address.
    pub fn handle_datagram<'a>(
        &mut self,
        now: Instant,
        proto: Protocol,
        source: SocketAddr,
        destination: SocketAddr,
        data: &'a [u8],
    ) -> Received<'a> {
        if self.closed {
            // Let a release of the TURN allocations complete.
            if let Some(t) = self.turn_for(proto, source, destination) {
                self.turns[t].client.handle_input(now, data);
                return Received::Ice;
            }
            return Received::Dropped;
        }
        if let Some(t) = self.turn_for(proto, source, destination) {
            let input = self.turns[t].client.handle_input(now, data);
            self.drain_turn_events(now);
            return match input {
                TurnInput::Consumed => Received::Ice,
                TurnInput::NotTurn => self.handle_direct(now, source, destination, data),
                TurnInput::PeerData { peer, data } => {
                    let Some(local) = self.locals.iter().position(|l| l.via == Via::Turn(t)) else {
                        return Received::Dropped;
                    };
                    self.handle_on_local(now, local, peer, data)
                }
            };
        }
        self.handle_direct(now, source, destination, data)
    }

    fn turn_for(
        &self,
        proto: Protocol,
        source: SocketAddr,
        destination: SocketAddr,
    ) -> Option<usize> {
        self.turns.iter().position(|t| {
            let c = t.client.config();
            c.server == source
                && c.proto == proto
                && (c.local == destination || proto != Protocol::Udp)
        })
    }

    fn handle_direct<'a>(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        data: &'a [u8],
    ) -> Received<'a> {
        let local = self
            .locals
            .iter()
            .position(|l| {
                l.via == Via::Socket
                    && l.cand.kind == CandidateKind::Host
                    && l.cand.base == destination
            })
            .or_else(|| {
                // A caller with one wildcard socket per family reports the wildcard address.
                if destination.ip().is_unspecified() {
                    self.locals.iter().position(|l| {
                        l.via == Via::Socket
                            && l.cand.base.port() == destination.port()
                            && l.cand.base.is_ipv4() == destination.is_ipv4()
                    })
                } else {
                    None
                }
            });
        match local {
            Some(local) => self.handle_on_local(now, local, source, data),
            None => Received::Dropped,
        }
    }

    /// A datagram `data` from `peer` received on local candidate `local` (directly or through
    /// its TURN allocation).
    fn handle_on_local<'a>(
        &mut self,
        now: Instant,
        local: usize,
        peer: SocketAddr,
        data: &'a [u8],
    ) -> Received<'a> {
        if classify(data) != DatagramKind::Stun {
            if classify(data) == DatagramKind::Unknown {
                return Received::Dropped;
            }
            return Received::Data { data, peer };
        }
        let Some(msg) = wire::parse(data) else {
            return Received::Dropped;
        };
        match (msg.class, msg.method) {
            (Some(Class::Request), Some(Method::Binding)) => {
                self.on_request(now, local, peer, &msg);
                Received::Ice
            }
            (Some(Class::Success | Class::Error), Some(Method::Binding)) => {
                if self.on_gather_response(now, local, peer, &msg)
                    || self.on_check_response(now, local, peer, &msg)
                {
                    Received::Ice
                } else {
                    Received::Dropped
                }
            }
            // Keepalives (and Chromium's network pings) need nothing.
            (Some(Class::Indication), Some(Method::Binding)) => Received::Ice,
            _ => Received::Dropped,
        }
    }

    fn on_request(&mut self, now: Instant, local: usize, peer: SocketAddr, msg: &wire::Parsed<'_>) {
        //# The agent MUST check that the USERNAME attribute ... the username fragment before
        //# the colon is the agent's own.
        let Some(username) = msg.username else {
            // RFC 8489 section 9.1.3: no USERNAME or MESSAGE-INTEGRITY -> 400.
            self.respond_error(local, peer, msg.txid, 400, false);
            return;
        };
        let ours = username.split(':').next().unwrap_or("");
        let previous = if ours == self.local_creds.ufrag {
            false
        } else if self
            .previous_local
            .as_ref()
            .is_some_and(|c| c.ufrag == ours)
        {
            true
        } else {
            // Not ours at all (a stale session or another agent on a shared port): drop.
            return;
        };
        // Borrowed, not cloned: this runs for every inbound check.
        let pwd = if previous {
            self.previous_local.as_ref().map_or("", |c| c.pwd.as_str())
        } else {
            self.local_creds.pwd.as_str()
        };
        let authentic = msg.has_integrity && msg.verify_short_term(pwd);
        if !authentic {
            //# If the MESSAGE-INTEGRITY check fails, the server ... MUST reject the request
            //# with an error response ... 401 (Unauthenticated).
            self.respond_error(local, peer, msg.txid, 401, previous);
            return;
        }
        if previous {
            // The old session lives on only to keep the old path's consent until the new
            // session selects a pair: answer, and nothing more.
            self.responses.push_back(Response {
                id: msg.txid,
                local,
                to: peer,
                error: None,
                previous: true,
            });
            return;
        }
        // Role conflicts, RFC 8445 section 7.3.1.1.
        if !self.cfg.lite {
            match (self.role, msg.role) {
                (IceRole::Controlling, Some(RoleAttr::Controlling(theirs))) => {
                    if self.tie_breaker >= theirs {
                        self.respond_error(local, peer, msg.txid, 487, false);
                        return;
                    }
                    self.switch_role(now, IceRole::Controlled);
                }
                (IceRole::Controlled, Some(RoleAttr::Controlled(theirs))) => {
                    if self.tie_breaker >= theirs {
                        self.switch_role(now, IceRole::Controlling);
                    } else {
                        self.respond_error(local, peer, msg.txid, 487, false);
                        return;
                    }
                }
                _ => {}
            }
        }
        self.responses.push_back(Response {
            id: msg.txid,
            local,
            to: peer,
            error: None,
            previous: false,
        });

        // The remote candidate: known, or a new peer-reflexive one (RFC 8445 section 7.3.1.3).
        let r = match self.remotes.iter().position(|c| c.addr == peer) {
            Some(r) => r,
            None => {
                let prio = msg.priority.unwrap_or(0);
                self.remotes
                    .push(Candidate::remote_peer_reflexive(peer, prio));
                self.remotes.len() - 1
            }
        };
        let pair = match self
            .pairs
            .iter()
            .position(|p| p.local == local && p.remote == r)
        {
            Some(p) => Some(p),
            None => self.add_pair(local, r),
        };
        let Some(p) = pair else {
            return;
        };
        if self.cfg.lite {
            self.pairs[p].last_request = Some(now);
            if msg.use_candidate {
                // A lite agent has no checks of its own: a nominating check proves the pair.
                self.pairs[p].state = PairState::Succeeded;
                self.pairs[p].nominated = true;
                self.pairs[p].last_consent = Some(now);
                self.update_selection(now);
            }
            self.update_state(now);
            return;
        }
        if self.state == IceConnectionState::New {
            self.set_state(IceConnectionState::Checking);
        }
        // Triggered check (RFC 8445 section 7.3.1.4).
        match self.pairs[p].state {
            PairState::Succeeded => {}
            PairState::InProgress => {
                // Our check is on its way; answering its loss quickly beats cancelling it.
                if let Some(c) = self
                    .checks
                    .iter_mut()
                    .find(|c| c.pair == p && c.kind != CheckKind::Consent)
                {
                    c.due = true;
                }
            }
            _ => {
                self.pairs[p].state = PairState::Waiting;
                if !self.triggered.contains(&p) {
                    self.triggered.push_back(p);
                }
            }
        }
        //# If the controlled agent does not accept the request from the controlling agent, the
        //# controlled agent MUST reject the nomination request. (zvon always accepts.)
        if msg.use_candidate && self.role == IceRole::Controlled {
            if self.pairs[p].state == PairState::Succeeded {
                self.pairs[p].nominated = true;
                self.update_selection(now);
            } else {
                //# the agent sets the nominated flag of the pair to true once the check
                //# succeeds
                self.pairs[p].nominate_on_success = true;
            }
        }
        self.schedule_checks(now);
        self.update_state(now);
    }

    fn respond_error(&mut self, local: usize, to: SocketAddr, id: TxId, code: u16, previous: bool) {
        self.responses.push_back(Response {
            id,
            local,
            to,
            error: Some(code),
            previous,
        });
    }

    fn switch_role(&mut self, now: Instant, role: IceRole) {
        if self.role == role || self.cfg.lite {
            return;
        }
        self.role = role;
        for i in 0..self.pairs.len() {
            self.pairs[i].priority =
                self.compute_pair_priority(self.pairs[i].local, self.pairs[i].remote);
        }
        self.events.push_back(IceEvent::RoleChanged(role));
        self.maybe_nominate(now);
    }

    fn on_gather_response(
        &mut self,
        now: Instant,
        local: usize,
        from: SocketAddr,
        msg: &wire::Parsed<'_>,
    ) -> bool {
        let Some(i) = self
            .gathers
            .iter()
            .position(|g| g.id == msg.txid && g.server == from && g.local == local)
        else {
            return false;
        };
        let g = self.gathers.swap_remove(i);
        if msg.class == Some(Class::Success)
            && let Some(mapped) = msg.xor_mapped
        {
            self.add_reflexive(g.local, mapped, g.server.ip());
        }
        let _ = now;
        self.check_gathering_complete();
        true
    }

    fn add_reflexive(&mut self, host: usize, mapped: SocketAddr, server: IpAddr) {
        let base = self.locals[host].cand.base;
        if mapped == base
            || self
                .locals
                .iter()
                .any(|l| l.cand.addr == mapped && l.cand.base == base)
        {
            return;
        }
        let cand = Candidate::server_reflexive(mapped, base, server, self.locals[host].iface);
        self.push_local(cand, Via::Socket, self.locals[host].iface);
    }

    fn on_check_response(
        &mut self,
        now: Instant,
        local: usize,
        from: SocketAddr,
        msg: &wire::Parsed<'_>,
    ) -> bool {
        let Some(i) = self.checks.iter().position(|c| c.id == msg.txid) else {
            return false;
        };
        let p = self.checks[i].pair;
        let pair_remote = self.remotes[self.pairs[p].remote].addr;
        //# The ICE agent MUST check that the source and destination transport addresses in the
        //# Binding request and response are symmetric.
        if self.pairs[p].local != local || pair_remote != from {
            let c = self.checks.swap_remove(i);
            if c.kind != CheckKind::Consent {
                self.pair_failed(now, p);
            }
            return true;
        }
        let creds = if self.checks[i].previous {
            &self.previous_remote
        } else {
            &self.remote_creds
        };
        let Some(remote) = creds else {
            return false;
        };
        if !msg.verify_short_term(&remote.pwd) {
            // Forged or for an older session: ignore, the transaction keeps running.
            return false;
        }
        let c = self.checks.swap_remove(i);
        if msg.class == Some(Class::Error) {
            if msg.error_code == Some(487) && c.kind != CheckKind::Consent {
                //# the agent MUST switch its role ... and enqueue a triggered check
                let other = match c.role {
                    IceRole::Controlling => IceRole::Controlled,
                    IceRole::Controlled => IceRole::Controlling,
                };
                self.switch_role(now, other);
                self.pairs[p].state = PairState::Waiting;
                self.triggered.push_back(p);
                self.schedule_checks(now);
            } else if c.kind != CheckKind::Consent {
                self.pair_failed(now, p);
            }
            return true;
        }
        // Success.
        if let Some(mapped) = msg.xor_mapped {
            // A mapped address that is no local candidate is a local peer-reflexive candidate
            // (RFC 8445 section 7.2.5.3.1); it is not announced, data keeps leaving from the
            // base, so the checked pair itself is the valid pair.
            let base = self.locals[local].cand.base;
            if self.locals[local].via == Via::Socket
                && !self.locals.iter().any(|l| l.cand.addr == mapped)
            {
                let cand = Candidate::local_peer_reflexive(mapped, base, self.locals[local].iface);
                self.locals.push(Local {
                    cand,
                    via: Via::Socket,
                    iface: self.locals[local].iface,
                });
            }
        }
        let pair = &mut self.pairs[p];
        pair.last_consent = Some(now);
        let newly = pair.state != PairState::Succeeded;
        pair.state = PairState::Succeeded;
        if c.kind == CheckKind::Nominate
            || (self.role == IceRole::Controlled && pair.nominate_on_success)
        {
            pair.nominated = true;
        }
        if newly {
            self.first_valid_at.get_or_insert(now);
            // Unfreeze pairs of the same foundation (RFC 8445 section 7.2.5.3.3).
            let key = self.foundation_key(p);
            for q in 0..self.pairs.len() {
                if self.pairs[q].state == PairState::Frozen && self.foundation_key(q) == key {
                    self.pairs[q].state = PairState::Waiting;
                }
            }
            self.schedule_checks(now);
        }
        self.update_selection(now);
        self.maybe_nominate(now);
        self.update_state(now);
        true
    }

    fn pair_failed(&mut self, now: Instant, p: usize) {
        self.pairs[p].state = PairState::Failed;
        self.pairs[p].nominated = false;
        self.checks
            .retain(|c| c.pair != p || c.kind == CheckKind::Consent);
        if self.selected == Some(p) {
            self.selected = None;
        }
        self.update_selection(now);
        self.maybe_nominate(now);
        self.update_state(now);
    }

    // ----- pairs -------------------------------------------------------------------------

    fn push_local(&mut self, cand: Candidate, via: Via, iface: u16) {
        let announce = !self.cfg.relay_only || cand.kind == CandidateKind::Relayed;
        self.locals.push(Local {
            cand: cand.clone(),
            via,
            iface,
        });
        let l = self.locals.len() - 1;
        if announce {
            self.events.push_back(IceEvent::LocalCandidate(cand));
        }
        for r in 0..self.remotes.len() {
            self.add_pair(l, r);
        }
    }

    fn compute_pair_priority(&self, local: usize, remote: usize) -> u64 {
        let (l, r) = (
            self.locals[local].cand.priority,
            self.remotes[remote].priority,
        );
        match self.role {
            IceRole::Controlling => pair_priority(l, r),
            IceRole::Controlled => pair_priority(r, l),
        }
    }

    fn foundation_key(
        &self,
        p: usize,
    ) -> (crate::candidate::Foundation, crate::candidate::Foundation) {
        let pair = &self.pairs[p];
        (
            self.locals[pair.local].cand.foundation,
            self.remotes[pair.remote].foundation,
        )
    }

    /// Forms the pair (local, remote) if the rules allow it; returns its index.
    fn add_pair(&mut self, local: usize, remote: usize) -> Option<usize> {
        let l = &self.locals[local];
        //# the agent ... replaces each server-reflexive candidate with its base (RFC 8445
        //# section 6.1.2.4): zvon never pairs reflexive local candidates, since the host
        //# candidate with the same base forms the same pair.
        if !matches!(l.cand.kind, CandidateKind::Host | CandidateKind::Relayed) {
            return None;
        }
        if self.cfg.relay_only && l.cand.kind != CandidateKind::Relayed {
            return None;
        }
        let raddr = self.remotes[remote].addr;
        if !can_pair(l.cand.base, raddr) {
            return None;
        }
        if let Some(p) = self
            .pairs
            .iter()
            .position(|p| p.local == local && p.remote == remote)
        {
            return Some(p);
        }
        if self.pairs.len() >= self.cfg.max_pairs {
            return None;
        }
        let priority = self.compute_pair_priority(local, remote);
        let foundation = (l.cand.foundation, self.remotes[remote].foundation);
        // RFC 8838 section 10: a new pair whose foundation no other pair has is Waiting;
        // otherwise Frozen unless a pair of its foundation already succeeded.
        let mut state = PairState::Waiting;
        for (q, other) in self.pairs.iter().enumerate() {
            if self.foundation_key(q) == foundation {
                match other.state {
                    PairState::Succeeded => {
                        state = PairState::Waiting;
                        break;
                    }
                    PairState::Waiting | PairState::InProgress | PairState::Frozen => {
                        state = PairState::Frozen
                    }
                    PairState::Failed => {}
                }
            }
        }
        if self.cfg.lite {
            state = PairState::Frozen;
        }
        if let Via::Turn(t) = l.via {
            // The relay drops what it has no permission for: ask for one, and bind a channel so
            // that checks and data get the 4-byte framing (done at the next `now`).
            self.pending_turn.push((t, raddr));
        }
        self.pairs.push(Pair {
            local,
            remote,
            priority,
            state,
            nominate_on_success: false,
            nominated: false,
            last_consent: None,
            last_request: None,
        });
        Some(self.pairs.len() - 1)
    }

    // ----- checks, nomination, selection --------------------------------------------------

    fn txid(&mut self) -> TxId {
        let mut id = [0u8; 12];
        self.rng.fill(&mut id);
        id
    }

    /// A relayed pair waits for its TURN permission: a check sent before the server installs
    /// it is dropped there and costs a retransmission (Chromium waits likewise).
    fn pair_ready(&self, p: usize) -> bool {
        let pair = &self.pairs[p];
        match self.locals[pair.local].via {
            Via::Socket => true,
            Via::Turn(t) => self.turns[t]
                .client
                .has_permission(self.remotes[pair.remote].addr),
        }
    }

    fn has_check_work(&self) -> bool {
        self.triggered.iter().any(|p| self.pair_ready(*p))
            || (0..self.pairs.len()).any(|p| {
                matches!(self.pairs[p].state, PairState::Waiting | PairState::Frozen)
                    && self.pair_ready(p)
            })
    }

    /// Arms the pacer if there is a check to send. The first check of a session goes at once.
    fn schedule_checks(&mut self, now: Instant) {
        if self.cfg.lite || self.closed || self.remote_creds.is_none() || !self.has_check_work() {
            return;
        }
        //# Triggered checks ... are sent as soon as the pacing allows: zvon sends them after the
        //# RFC's 5 ms floor, ordinary checks after Ta.
        let gap = if self.triggered.is_empty() {
            self.cfg.ta.max(MIN_CHECK_GAP)
        } else {
            MIN_CHECK_GAP
        };
        let at = match self.last_check {
            None => now,
            Some(t) => (t + gap).max(now),
        };
        let slot = &mut self.timers[Timer::Pacing as usize];
        if slot.is_none_or(|s| at < s) {
            *slot = Some(at);
        }
    }

    /// One tick of the pacer (RFC 8445 section 6.1.4.2): a triggered check if one is queued,
    /// else the highest-priority Waiting pair, else the highest-priority Frozen one.
    fn run_pacer(&mut self, now: Instant) {
        self.timers[Timer::Pacing as usize] = None;
        if self.remote_creds.is_none() || self.closed {
            return;
        }
        let mut pick = None;
        if let Some(i) = self.triggered.iter().position(|p| self.pair_ready(*p)) {
            let p = self.triggered.remove(i).unwrap_or(i); // ok: i from position()
            if self.pairs[p].state != PairState::Succeeded
                && self.pairs[p].state != PairState::InProgress
            {
                pick = Some(p);
            }
        }
        if pick.is_none() {
            let best = |st: PairState| {
                self.pairs
                    .iter()
                    .enumerate()
                    .filter(|(i, p)| p.state == st && self.pair_ready(*i))
                    .max_by_key(|(_, p)| p.priority)
                    .map(|(i, _)| i)
            };
            pick = best(PairState::Waiting).or_else(|| best(PairState::Frozen));
        }
        if let Some(p) = pick {
            self.start_check(now, p, CheckKind::Ordinary);
            self.last_check = Some(now);
        }
        self.schedule_checks(now);
    }

    fn start_check(&mut self, now: Instant, p: usize, kind: CheckKind) {
        let previous = self.remote_creds.is_none();
        if previous && self.previous_remote.is_none() {
            return;
        }
        let id = self.txid();
        // RFC 8445 section 14.3 scales RTO with the pairs in flight so that retransmissions
        // of many pairs stay within the pacing budget; zvon keeps that scaling over its lower
        // floor, and caps the doubling at 1 s so that a path with loss is re-probed at least
        // every second instead of waiting out an 8 s backoff.
        let active = self
            .pairs
            .iter()
            .filter(|p| matches!(p.state, PairState::Waiting | PairState::InProgress))
            .count() as u32;
        let rto = self.cfg.check_rto.max(self.cfg.ta * active);
        let cfg = RetransmitConfig {
            rto,
            max_rto: rto.max(Duration::from_secs(1)),
            rc: if kind == CheckKind::Consent {
                4
            } else {
                self.cfg.check_rc
            },
            rm: 4,
            reliable: false,
        };
        let retx = Retransmit::new(now, cfg);
        if kind != CheckKind::Consent {
            self.pairs[p].state = PairState::InProgress;
        }
        self.checks.push(CheckTx {
            id,
            pair: p,
            kind,
            retx,
            due: true,
            role: self.role,
            previous,
        });
    }

    fn maybe_nominate(&mut self, now: Instant) {
        if self.cfg.lite
            || self.closed
            || self.role != IceRole::Controlling
            || self.remote_creds.is_none()
        {
            return;
        }
        let Some(best) = self.best_pair(|p| p.state == PairState::Succeeded) else {
            return;
        };
        if self.pairs[best].nominated
            || self
                .checks
                .iter()
                .any(|c| c.pair == best && c.kind == CheckKind::Nominate)
        {
            self.timers[Timer::Nominate as usize] = None;
            return;
        }
        let prio = self.pairs[best].priority;
        let better_pending = self.pairs.iter().any(|p| {
            p.priority > prio
                && matches!(
                    p.state,
                    PairState::Frozen | PairState::Waiting | PairState::InProgress
                )
        });
        let deadline = self.first_valid_at.unwrap_or(now) + self.cfg.nomination_delay;
        if better_pending && now < deadline {
            self.timers[Timer::Nominate as usize] = Some(deadline);
            return;
        }
        self.timers[Timer::Nominate as usize] = None;
        //# the controlling agent ... MUST send a check with USE-CANDIDATE on a valid pair
        //# (regular nomination, RFC 8445 section 8.1.1). A nomination is one extra check on a
        //# pair already proven, so it goes out at once rather than waiting for the pacer.
        self.start_check(now, best, CheckKind::Nominate);
        self.pairs[best].state = PairState::Succeeded;
    }

    fn best_pair(&self, filter: impl Fn(&Pair) -> bool) -> Option<usize> {
        self.pairs
            .iter()
            .enumerate()
            .filter(|(_, p)| filter(p))
            .max_by_key(|(_, p)| p.priority)
            .map(|(i, _)| i)
    }

    /// Picks the pair data travels on: the best nominated pair, else (full agents, before
    /// nomination) the best valid pair, which RFC 8445 section 12 allows data on.
    fn update_selection(&mut self, now: Instant) {
        let nominated = self.best_pair(|p| p.nominated && p.state == PairState::Succeeded);
        let desired = if self.cfg.lite {
            nominated
        } else {
            nominated.or_else(|| self.best_pair(|p| p.state == PairState::Succeeded))
        };
        let desired = match desired {
            Some(d) => Some(d),
            // After a restart the old pair keeps carrying data until the new session has one.
            None => self
                .selected
                .filter(|s| self.pairs[*s].state != PairState::Failed),
        };
        if desired == self.selected {
            return;
        }
        self.selected = desired;
        let Some(s) = desired else {
            return;
        };
        self.consent_lost = false;
        let p = &self.pairs[s];
        self.events.push_back(IceEvent::SelectedPairChanged {
            local: self.locals[p.local].cand.clone(),
            remote: self.remotes[p.remote].clone(),
        });
        if self.cfg.lite {
            self.timers[Timer::Keepalive as usize] = Some(now + self.cfg.keepalive_interval);
        } else if self.timers[Timer::Consent as usize].is_none() {
            let next = now + self.consent_jitter();
            self.timers[Timer::Consent as usize] = Some(next);
        }
        self.arm_consent_check(now);
    }

    /// RFC 7675 section 5.1: consent checks at the interval randomised by +-20%.
    fn consent_jitter(&mut self) -> Duration {
        let f = 0.8 + 0.4 * self.rng.f64();
        self.cfg.consent_interval.mul_f64(f)
    }

    fn last_heard(&self, p: usize) -> Option<Instant> {
        let pair = &self.pairs[p];
        if self.cfg.lite {
            pair.last_request.max(pair.last_consent)
        } else {
            pair.last_consent
        }
    }

    fn arm_consent_check(&mut self, now: Instant) {
        let Some(s) = self.selected else {
            self.timers[Timer::ConsentCheck as usize] = None;
            return;
        };
        let last = self.last_heard(s).unwrap_or(now);
        let disc = last + self.cfg.disconnected_after;
        let expiry = last + self.cfg.consent_expiry;
        self.timers[Timer::ConsentCheck as usize] = Some(if disc > now { disc } else { expiry });
    }

    fn consent_tick(&mut self, now: Instant) {
        let Some(s) = self.selected else {
            return;
        };
        let last = self.last_heard(s).unwrap_or(now);
        if now >= last + self.cfg.consent_expiry {
            //# Consent expires after a period of time ... 30 seconds ... the agent MUST stop
            //# sending on that path.
            self.pairs[s].state = PairState::Failed;
            self.pairs[s].nominated = false;
            self.checks.retain(|c| c.pair != s);
            self.selected = None;
            self.consent_lost = true;
            self.update_selection(now);
        }
        self.arm_consent_check(now);
        self.update_state(now);
    }

    fn update_state(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        let new = if let Some(s) = self.selected {
            let last = self.last_heard(s).unwrap_or(now);
            let pending = self.pairs.iter().any(|p| {
                matches!(
                    p.state,
                    PairState::Waiting | PairState::InProgress | PairState::Frozen
                )
            });
            if now >= last + self.cfg.disconnected_after {
                IceConnectionState::Disconnected
            } else if self.pairs[s].nominated
                && self.remote_end_of_candidates
                && !pending
                && self.gathering == GatheringState::Complete
            {
                IceConnectionState::Completed
            } else {
                IceConnectionState::Connected
            }
        } else if self.consent_lost {
            IceConnectionState::Failed
        } else if self.state == IceConnectionState::New && self.pairs.is_empty() {
            IceConnectionState::New
        } else {
            let all_failed = self.pairs.iter().all(|p| p.state == PairState::Failed);
            let gathering_done = self.gathering != GatheringState::Gathering;
            if all_failed && gathering_done && self.checks.is_empty() && !self.pairs.is_empty() {
                let since = *self.all_failed_since.get_or_insert(now);
                if self.remote_end_of_candidates || now >= since + FAIL_GRACE {
                    self.timers[Timer::FailGrace as usize] = None;
                    IceConnectionState::Failed
                } else {
                    self.timers[Timer::FailGrace as usize] = Some(since + FAIL_GRACE);
                    IceConnectionState::Checking
                }
            } else {
                self.all_failed_since = None;
                self.timers[Timer::FailGrace as usize] = None;
                IceConnectionState::Checking
            }
        };
        self.set_state(new);
    }

    fn set_state(&mut self, s: IceConnectionState) {
        if self.state != s {
            self.state = s;
            self.events.push_back(IceEvent::ConnectionStateChanged(s));
        }
    }

    fn set_gathering(&mut self, s: GatheringState) {
        if self.gathering != s {
            self.gathering = s;
            self.events.push_back(IceEvent::GatheringStateChanged(s));
            if s == GatheringState::Complete {
                self.events.push_back(IceEvent::GatheringComplete);
            }
        }
    }

    fn check_gathering_complete(&mut self) {
        if self.gathering == GatheringState::Gathering
            && self.gathers.is_empty()
            && self.turns.iter().all(|t| t.done)
        {
            self.set_gathering(GatheringState::Complete);
        }
    }

    // ----- TURN --------------------------------------------------------------------------

    fn drain_turn_events(&mut self, now: Instant) {
        for t in 0..self.turns.len() {
            while let Some(ev) = self.turns[t].client.poll_event() {
                match ev {
                    TurnEvent::Allocated {
                        relayed, mapped, ..
                    } => {
                        self.turns[t].done = true;
                        let host = self.turns[t].host;
                        let cfg = self.turns[t].client.config();
                        let server = cfg.server.ip();
                        let proto = match cfg.proto {
                            Protocol::Udp => RelayProtocol::Udp,
                            Protocol::Tcp => RelayProtocol::Tcp,
                            Protocol::Tls => RelayProtocol::Tls,
                        };
                        if let Some(m) = mapped
                            && cfg.proto == Protocol::Udp
                        {
                            self.add_reflexive(host, m, server);
                        }
                        let iface = self.locals[host].iface;
                        let base = self.locals[host].cand.base;
                        let cand = Candidate::relayed(
                            relayed,
                            mapped.unwrap_or(base),
                            server,
                            proto,
                            iface,
                        );
                        self.push_local(cand, Via::Turn(t), iface);
                        if self.state == IceConnectionState::New && !self.pairs.is_empty() {
                            self.set_state(IceConnectionState::Checking);
                        }
                        self.schedule_checks(now);
                    }
                    TurnEvent::Failed(err) => {
                        self.turns[t].done = true;
                        for p in 0..self.pairs.len() {
                            if self.locals[self.pairs[p].local].via == Via::Turn(t)
                                && self.pairs[p].state != PairState::Failed
                            {
                                self.pair_failed(now, p);
                            }
                        }
                        self.events.push_back(IceEvent::TurnFailed(err));
                    }
                    TurnEvent::PermissionCreated(_) => self.schedule_checks(now),
                    _ => {}
                }
            }
        }
        self.check_gathering_complete();
        self.flush_turn(now);
    }

    fn flush_turn(&mut self, now: Instant) {
        for (t, peer) in std::mem::take(&mut self.pending_turn) {
            let client = &mut self.turns[t].client;
            client.ensure_permission(now, peer);
            client.bind_channel(now, peer);
        }
    }

    /// Moves a STUN message encoded in `buf` onto the path of local candidate `local`:
    /// as is from a socket, or wrapped for the TURN server.
    fn route_stun(&mut self, local: usize, to: SocketAddr, buf: &mut Vec<u8>) -> Option<Transmit> {
        let l = &self.locals[local];
        match l.via {
            Via::Socket => Some(Transmit {
                proto: Protocol::Udp,
                source: l.cand.base,
                destination: to,
                len: buf.len(),
            }),
            Via::Turn(t) => {
                // The message moves to `scratch`, and `buf` receives it wrapped.
                std::mem::swap(&mut self.scratch, buf);
                self.turns[t].client.wrap(to, &self.scratch, buf)
            }
        }
    }

    // ----- output ------------------------------------------------------------------------

    /// Writes the next datagram to send into `buf` (cleared first) and says where it goes.
    /// Call until it returns `None`.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        self.flush_turn(now);
        if self.timers[Timer::Pacing as usize].is_some_and(|t| t <= now) {
            self.run_pacer(now);
        }
        while let Some(r) = self.responses.pop_front() {
            let creds = if r.previous {
                self.previous_local.as_ref()
            } else {
                Some(&self.local_creds)
            };
            let Some(creds) = creds else { continue };
            buf.clear();
            match r.error {
                None => wire::encode_binding_success(buf, &r.id, r.to, &creds.pwd),
                Some(code) => {
                    let key = if code == 400 {
                        None
                    } else {
                        Some(creds.pwd.as_str())
                    };
                    wire::encode_binding_error(buf, &r.id, code, key);
                }
            }
            if let Some(t) = self.route_stun(r.local, r.to, buf) {
                return Some(t);
            }
        }
        for t in 0..self.turns.len() {
            if let Some(tr) = self.turns[t].client.poll_transmit(now, buf) {
                return Some(tr);
            }
        }
        if let Some(g) = self.gathers.iter_mut().find(|g| g.due) {
            g.due = false;
            buf.clear();
            wire::encode_binding_request(buf, &g.id);
            let source = self.locals[g.local].cand.base;
            return Some(Transmit {
                proto: Protocol::Udp,
                source,
                destination: g.server,
                len: buf.len(),
            });
        }
        while let Some(i) = self.checks.iter().position(|c| c.due) {
            self.checks[i].due = false;
            let (id, p, kind, previous) = (
                self.checks[i].id,
                self.checks[i].pair,
                self.checks[i].kind,
                self.checks[i].previous,
            );
            let creds = if previous {
                self.previous_remote.as_ref()
            } else {
                self.remote_creds.as_ref()
            };
            let local_ufrag = if previous {
                self.previous_local
                    .as_ref()
                    .map_or(self.local_creds.ufrag.as_str(), |c| c.ufrag.as_str())
            } else {
                self.local_creds.ufrag.as_str()
            };
            let Some(creds) = creds else { continue };
            let pair = &self.pairs[p];
            let local = &self.locals[pair.local];
            let username = format!("{}:{}", creds.ufrag, local_ufrag);
            //# PRIORITY ... set to the priority a peer-reflexive candidate would have with the
            //# same base: type preference 110, the local candidate's local preference.
            let priority = (CandidateKind::PeerReflexive.type_preference() << 24)
                | (local.cand.priority & 0x00ff_ffff);
            let role = match self.checks[i].role {
                IceRole::Controlling => RoleAttr::Controlling(self.tie_breaker),
                IceRole::Controlled => RoleAttr::Controlled(self.tie_breaker),
            };
            let use_candidate = match kind {
                CheckKind::Nominate => true,
                // Keep repeating the nomination on consent checks so that a peer that lost it
                // (or restarted) learns it again, as Chromium does.
                CheckKind::Consent => self.role == IceRole::Controlling && pair.nominated,
                CheckKind::Ordinary => false,
            };
            let to = self.remotes[pair.remote].addr;
            let local_idx = pair.local;
            buf.clear();
            wire::encode_check(
                buf,
                &id,
                &wire::Check {
                    username: &username,
                    pwd: &creds.pwd,
                    priority,
                    role,
                    use_candidate,
                },
            );
            if let Some(t) = self.route_stun(local_idx, to, buf) {
                return Some(t);
            }
        }
        if self.keepalive_due {
            self.keepalive_due = false;
            if let Some(s) = self.selected {
                let (local, to) = (self.pairs[s].local, self.remotes[self.pairs[s].remote].addr);
                let id = self.txid();
                buf.clear();
                wire::encode_binding_indication(buf, &id);
                if let Some(t) = self.route_stun(local, to, buf) {
                    return Some(t);
                }
            }
        }
        None
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<IceEvent> {
        self.events.pop_front()
    }

    /// When [`IceAgent::handle_timeout`] should next run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t = self.timers.iter().flatten().copied().min();
        let mut take = |d: Instant| t = Some(t.map_or(d, |t: Instant| t.min(d)));
        for c in &self.checks {
            take(c.retx.deadline());
        }
        for g in &self.gathers {
            take(g.retx.deadline());
        }
        for s in &self.turns {
            if let Some(d) = s.client.poll_timeout() {
                take(d);
            }
        }
        t
    }

    /// Runs every timer that expired at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        for t in 0..self.turns.len() {
            self.turns[t].client.handle_timeout(now);
        }
        self.drain_turn_events(now);
        if self.closed {
            return;
        }
        // Check retransmissions.
        let mut gave_up = Vec::new();
        for c in &mut self.checks {
            match c.retx.on_timeout(now) {
                TimeoutAction::Wait => {}
                TimeoutAction::Retransmit => c.due = true,
                TimeoutAction::GiveUp => gave_up.push((c.id, c.pair, c.kind)),
            }
        }
        for (id, p, kind) in gave_up {
            self.checks.retain(|c| c.id != id);
            let still_trying = self
                .checks
                .iter()
                .any(|c| c.pair == p && c.kind != CheckKind::Consent);
            if kind != CheckKind::Consent
                && !still_trying
                && self.pairs[p].state == PairState::InProgress
            {
                self.pair_failed(now, p);
            }
        }
        let mut gather_done = false;
        for g in &mut self.gathers {
            match g.retx.on_timeout(now) {
                TimeoutAction::Wait => {}
                TimeoutAction::Retransmit => g.due = true,
                TimeoutAction::GiveUp => {
                    gather_done = true;
                    g.local = usize::MAX;
                }
            }
        }
        if gather_done {
            self.gathers.retain(|g| g.local != usize::MAX);
            self.check_gathering_complete();
        }
        let expired = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        if expired(self.timers[Timer::Pacing as usize]) {
            self.run_pacer(now);
        }
        if expired(self.timers[Timer::Nominate as usize]) {
            self.timers[Timer::Nominate as usize] = None;
            self.maybe_nominate(now);
        }
        if expired(self.timers[Timer::Consent as usize]) {
            self.timers[Timer::Consent as usize] = None;
            if let Some(s) = self.selected {
                if !self
                    .checks
                    .iter()
                    .any(|c| c.pair == s && c.kind == CheckKind::Consent)
                {
                    self.start_check(now, s, CheckKind::Consent);
                }
                let next = now + self.consent_jitter();
                self.timers[Timer::Consent as usize] = Some(next);
            }
        }
        if expired(self.timers[Timer::ConsentCheck as usize]) {
            self.consent_tick(now);
        }
        if expired(self.timers[Timer::FailGrace as usize]) {
            self.timers[Timer::FailGrace as usize] = None;
        }
        if expired(self.timers[Timer::Keepalive as usize]) {
            self.keepalive_due = self.selected.is_some();
            self.timers[Timer::Keepalive as usize] = Some(now + self.cfg.keepalive_interval);
        }
        self.update_state(now);
    }
}
