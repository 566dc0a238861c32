//! The peer connection: JSEP on top, ICE, DTLS and SCTP below, one drive loop.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use zvon_base::{DatagramKind, Protocol, Rng, Transmit, classify};
use zvon_dtls::{
    DtlsConfig, DtlsEvent, DtlsIdentity, DtlsRole, DtlsTransport, DtlsVersion, Setup, SrtpProfile,
};
use zvon_ice::mdns::{MdnsEvent, MdnsResolver};
use zvon_ice::{
    CandidateKind, Foundation, GatheringState, IceAgent, IceConfig, IceConnectionState, IceEvent,
    IceRole, Received,
};
use zvon_sctp::{Association, ChannelOptions, MessageKind};
use zvon_sdp::{Attribute, Group, MediaDescription, MediaKind, Origin, SessionDescription};

use crate::convert::{self, RemoteCandidate};
use crate::types::*;
use crate::{Error, Stats};

/// Settings of a [`PeerConnection`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// ICE settings (lite mode, relay-only policy, timers).
    pub ice: IceConfig,
    /// DTLS settings (versions, MTU, timers).
    pub dtls: DtlsConfig,
    /// SCTP settings; the role and ports are filled in from the negotiation.
    pub sctp: zvon_sctp::Config,
    /// The certificate (`RTCCertificate`); one is generated when `None`. Reuse one across
    /// connections to save the key generation and keep a stable fingerprint.
    pub identity: Option<DtlsIdentity>,
    /// DTLS datagrams that arrive before the description that says how to handle them (a
    /// ClientHello overtaking the answer) are kept, up to this many.
    pub max_early_datagrams: usize,
}

impl Default for Config {
    fn default() -> Self {
        let mut sctp = zvon_sctp::Config::default();
        // What this side accepts; Chromium and Firefox announce the same.
        sctp.max_message_size = 256 * 1024;
        Self {
            ice: IceConfig::default(),
            dtls: DtlsConfig::default(),
            sctp,
            identity: None,
            max_early_datagrams: 16,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SectionKind {
    /// `m=application ... UDP/DTLS/SCTP webrtc-datachannel`.
    Data,
    /// A section zvon does not take part in (yet): answered with port 0.
    Rejected {
        media: MediaKind,
        protocol: String,
        formats: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Section {
    mid: String,
    kind: SectionKind,
}

#[derive(Debug)]
struct Channel {
    label: String,
    opts: ChannelInit,
    stream: Option<u16>,
    open: bool,
    messages_sent: u64,
    messages_received: u64,
    bytes_sent: u64,
    bytes_received: u64,
}

#[derive(Debug)]
struct PendingMdns {
    name: String,
    port: u16,
    kind: CandidateKind,
    priority: u32,
    foundation: Foundation,
}

/// What the negotiation settled for the transport.
#[derive(Debug, Clone, Default)]
struct Transport {
    remote_fingerprints: Vec<zvon_dtls::Fingerprint>,
    /// Our `a=setup` in the last local description.
    local_setup: Option<Setup>,
    /// The peer's `a=setup` in its last description.
    remote_setup: Option<Setup>,
    remote_sctp_port: Option<u16>,
    remote_max_message_size: Option<u64>,
    data: bool,
}

/// A WebRTC peer connection, sans-IO: JSEP offer/answer, trickle ICE, DTLS and data channels
/// over one bundled transport.
///
/// The owner moves bytes and time:
/// - gathering: [`add_host_candidate`](Self::add_host_candidate) for each local socket (and
///   [`ice_mut`](Self::ice_mut) for STUN/TURN servers), then [`gather`](Self::gather);
/// - [`handle_datagram`](Self::handle_datagram) for each datagram received, and
///   [`handle_timeout`](Self::handle_timeout) when [`poll_timeout`](Self::poll_timeout) is due;
/// - after either, drain [`poll_transmit`](Self::poll_transmit) (datagrams to send from the
///   given local address) and [`poll_event`](Self::poll_event).
///
/// ```
/// use std::time::Instant;
/// use zvon_base::Rng;
/// use zvon_core::{ChannelInit, Config, PeerConnection, SdpType};
///
/// let now = Instant::now();
/// let mut a = PeerConnection::new(Config::default(), Rng::from_seed_u64(1), now).unwrap();
/// let mut b = PeerConnection::new(Config::default(), Rng::from_seed_u64(2), now).unwrap();
/// a.add_host_candidate("127.0.0.1:40000".parse().unwrap());
/// b.add_host_candidate("127.0.0.1:40001".parse().unwrap());
/// let chat = a.create_data_channel("chat", ChannelInit::default()).unwrap();
/// let offer = a.create_offer(now).unwrap();
/// a.set_local_description(now, offer.clone()).unwrap();
/// b.set_remote_description(now, offer).unwrap();
/// let answer = b.create_answer(now).unwrap();
/// assert_eq!(answer.kind, SdpType::Answer);
/// b.set_local_description(now, answer.clone()).unwrap();
/// a.set_remote_description(now, answer).unwrap();
/// // Now move datagrams between a and b (see the crate's tests for a complete loop).
/// # let _ = chat;
/// ```
pub struct PeerConnection {
    cfg: Config,
    rng: Rng,
    identity: DtlsIdentity,
    now: Instant,

    ice: IceAgent,
    ice_role_fixed: bool,
    ice_started: bool,
    restart_pending: bool,
    remote_creds: Option<(String, String)>,
    /// Local candidates learned before the first `set_local_description` (W3C: no
    /// `icecandidate` event before it).
    held_candidates: Vec<zvon_ice::Candidate>,
    local_description_set: bool,
    gathering_complete: bool,
    mdns: MdnsResolver,
    mdns_pending: Vec<PendingMdns>,

    dtls: Option<DtlsTransport>,
    dtls_role: Option<DtlsRole>,
    dtls_version: Option<DtlsVersion>,
    srtp_profile: Option<SrtpProfile>,
    dtls_failed: bool,
    early_dtls: VecDeque<Vec<u8>>,
    transport: Transport,

    sctp: Option<Association>,
    channels: HashMap<u32, Channel>,
    by_stream: HashMap<u16, u32>,
    next_channel: u32,

    signaling: SignalingState,
    sections: Vec<Section>,
    offered_sections: Vec<Section>,
    data_wanted: bool,
    next_mid: u32,
    session_id: u64,
    session_version: u64,
    local: Option<SessionDescription>,
    remote: Option<SessionDescription>,
    pending_local: Option<SessionDescription>,
    pending_remote: Option<SessionDescription>,
    negotiation_needed: bool,
    /// Whether this side offered in the last completed exchange: the current local
    /// description is then an offer and the remote one an answer.
    offered_last: bool,

    state: ConnectionState,
    ice_state: IceConnectionState,
    events: VecDeque<Event>,
    dtls_buf: Vec<u8>,
    sctp_buf: Vec<u8>,
    stats: Counters,
    closed: bool,
    /// Goodbyes (SCTP ABORT, close_notify) wrapped for the path before ICE closed.
    closing_transmits: VecDeque<(Transmit, Vec<u8>)>,
    /// DTLS datagrams produced before ICE had a path (a server's flight answering a
    /// ClientHello that arrived before this side's checks succeeded): sent once it has one,
    /// instead of waiting a retransmission timeout.
    unrouted: VecDeque<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    datagrams_in: u64,
    datagrams_out: u64,
    bytes_in: u64,
    bytes_out: u64,
    dropped: u64,
    rtp_dropped: u64,
}

impl std::fmt::Debug for PeerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerConnection")
            .field("signaling", &self.signaling)
            .field("state", &self.state)
            .field("dtls_role", &self.dtls_role)
            .finish_non_exhaustive()
    }
}

impl PeerConnection {
    /// A connection with nothing negotiated. `rng` seeds every random choice (ICE credentials,
    /// tie-breaker, SCTP tags, DTLS timers): the same seed and inputs give the same run.
    pub fn new(cfg: Config, mut rng: Rng, now: Instant) -> Result<Self, Error> {
        let identity = match &cfg.identity {
            Some(id) => id.clone(),
            None => DtlsIdentity::generate(&mut rng).map_err(|e| Error::Dtls(e.to_string()))?,
        };
        // The offerer controls (RFC 8829 5.1.1); the role is fixed by the first negotiation.
        let ice = IceAgent::new(cfg.ice.clone(), IceRole::Controlling, rng.fork());
        let mdns = MdnsResolver::new(rng.fork());
        let session_id = rng.u64() >> 2; // JSEP: at most 63 bits; keep it positive everywhere
        let sctp_mtu = cfg.sctp.mtu;
        Ok(Self {
            cfg,
            rng,
            identity,
            now,
            ice,
            ice_role_fixed: false,
            ice_started: false,
            restart_pending: false,
            remote_creds: None,
            held_candidates: Vec::new(),
            local_description_set: false,
            gathering_complete: false,
            mdns,
            mdns_pending: Vec::new(),
            dtls: None,
            dtls_role: None,
            dtls_version: None,
            srtp_profile: None,
            dtls_failed: false,
            early_dtls: VecDeque::new(),
            transport: Transport::default(),
            sctp: None,
            channels: HashMap::new(),
            by_stream: HashMap::new(),
            next_channel: 1,
            signaling: SignalingState::Stable,
            sections: Vec::new(),
            offered_sections: Vec::new(),
            data_wanted: false,
            next_mid: 0,
            session_id,
            session_version: 1,
            local: None,
            remote: None,
            pending_local: None,
            pending_remote: None,
            negotiation_needed: false,
            offered_last: false,
            state: ConnectionState::New,
            ice_state: IceConnectionState::New,
            events: VecDeque::new(),
            dtls_buf: vec![0; 2048],
            sctp_buf: Vec::with_capacity(sctp_mtu.max(1500)),
            stats: Counters::default(),
            closed: false,
            closing_transmits: VecDeque::new(),
            unrouted: VecDeque::new(),
        })
    }

    // ----- gathering -------------------------------------------------------------------

    /// Adds a host candidate for a local socket bound on `addr` (the runtime calls this once
    /// per socket, in preference order).
    pub fn add_host_candidate(&mut self, addr: SocketAddr) {
        let index = self.ice.local_candidates().count().min(u16::MAX as usize) as u16;
        self.ice.add_host_candidate(addr, index);
        self.drain_ice_events();
    }

    /// Starts gathering reflexive and relayed candidates from the servers given to the agent.
    /// Called by [`set_local_description`](Self::set_local_description) if not before.
    pub fn gather(&mut self, now: Instant) {
        self.now = now;
        self.ice_started = true;
        self.ice.gather(now);
        self.drain_ice_events();
    }

    /// The ICE agent, for configuration the runtime does at gathering (STUN and TURN
    /// servers, TURN allocations over TCP).
    pub fn ice_mut(&mut self) -> &mut IceAgent {
        &mut self.ice
    }

    /// The ICE agent.
    pub fn ice(&self) -> &IceAgent {
        &self.ice
    }

    /// This side's certificate fingerprint.
    pub fn fingerprint(&self) -> zvon_dtls::Fingerprint {
        self.identity.fingerprint()
    }

    // ----- JSEP --------------------------------------------------------------------------

    /// The signaling state.
    pub fn signaling_state(&self) -> SignalingState {
        self.signaling
    }

    /// The connection state (ICE and DTLS together).
    pub fn connection_state(&self) -> ConnectionState {
        self.state
    }

    /// The ICE connection state.
    pub fn ice_connection_state(&self) -> IceConnectionState {
        self.ice_state
    }

    /// Asks for an ICE restart: the next offer carries new credentials (`restartIce()`).
    pub fn restart_ice(&mut self) {
        if !self.closed {
            self.restart_pending = true;
            self.set_negotiation_needed();
        }
    }

    /// `createOffer`.
    pub fn create_offer(&mut self, now: Instant) -> Result<Description, Error> {
        self.now = now;
        if self.closed {
            return Err(Error::Closed);
        }
        if !matches!(
            self.signaling,
            SignalingState::Stable | SignalingState::HaveLocalOffer
        ) {
            return Err(Error::InvalidState(
                "create_offer needs stable or have-local-offer",
            ));
        }
        if self.restart_pending {
            self.ice.restart(now);
            self.restart_pending = false;
            self.remote_creds = None;
        }
        let mut sections = self.sections.clone();
        if self.data_wanted && !sections.iter().any(|s| s.kind == SectionKind::Data) {
            let mid = self.new_mid(&sections);
            sections.push(Section {
                mid,
                kind: SectionKind::Data,
            });
        }
        // JSEP 5.2.2: a subsequent offer keeps the established role; the first says actpass.
        let setup = match self.dtls_role {
            Some(r) => r.setup(),
            None => Setup::ActPass,
        };
        let sdp = self.build_description(&sections, None, setup);
        self.offered_sections = sections;
        Ok(Description::offer(sdp.to_string()))
    }

    /// `createAnswer` to the remote offer that is applied.
    pub fn create_answer(&mut self, now: Instant) -> Result<Description, Error> {
        self.now = now;
        if self.closed {
            return Err(Error::Closed);
        }
        if !matches!(
            self.signaling,
            SignalingState::HaveRemoteOffer | SignalingState::HaveLocalPranswer
        ) {
            return Err(Error::InvalidState("create_answer needs a remote offer"));
        }
        let offer = self
            .pending_remote
            .take()
            .ok_or(Error::InvalidState("no remote offer"))?;
        let remote_setup = offer
            .media
            .first()
            .and_then(|m| offer.setup_of(m))
            .map(convert::dtls_setup)
            .unwrap_or(Setup::ActPass);
        let setup = match self.dtls_role {
            // Keep the role of the running DTLS connection across renegotiations.
            Some(r) => r.setup(),
            None => match Setup::answer_to(remote_setup) {
                Ok(s) => s,
                Err(e) => {
                    self.pending_remote = Some(offer);
                    return Err(Error::Description(format!("a=setup: {e}")));
                }
            },
        };
        let sections = self.sections.clone();
        let sdp = self.build_description(&sections, Some(&offer), setup);
        self.pending_remote = Some(offer);
        Ok(Description::answer(sdp.to_string()))
    }

    /// `setLocalDescription`.
    pub fn set_local_description(&mut self, now: Instant, desc: Description) -> Result<(), Error> {
        self.now = now;
        if self.closed {
            return Err(Error::Closed);
        }
        match desc.kind {
            SdpType::Rollback => {
                if self.signaling != SignalingState::HaveLocalOffer {
                    return Err(Error::InvalidState("nothing to roll back"));
                }
                self.pending_local = None;
                self.offered_sections.clear();
                self.set_signaling(SignalingState::Stable);
                return Ok(());
            }
            SdpType::Offer => {
                if !matches!(
                    self.signaling,
                    SignalingState::Stable | SignalingState::HaveLocalOffer
                ) {
                    return Err(Error::InvalidState("set_local_description(offer)"));
                }
                let sdp = SessionDescription::parse(&desc.sdp)?;
                if !self.ice_role_fixed {
                    self.ice.set_role(now, IceRole::Controlling);
                }
                self.transport.local_setup = sdp
                    .media
                    .first()
                    .and_then(|m| sdp.setup_of(m))
                    .map(convert::dtls_setup);
                self.sections = self.offered_sections.clone();
                self.pending_local = Some(sdp);
                self.set_signaling(SignalingState::HaveLocalOffer);
            }
            SdpType::Answer | SdpType::Pranswer => {
                if !matches!(
                    self.signaling,
                    SignalingState::HaveRemoteOffer | SignalingState::HaveLocalPranswer
                ) {
                    return Err(Error::InvalidState("set_local_description(answer)"));
                }
                let sdp = SessionDescription::parse(&desc.sdp)?;
                self.transport.local_setup = sdp
                    .media
                    .iter()
                    .find(|m| !m.is_rejected())
                    .and_then(|m| sdp.setup_of(m))
                    .map(convert::dtls_setup);
                if desc.kind == SdpType::Pranswer {
                    self.pending_local = Some(sdp);
                    self.set_signaling(SignalingState::HaveLocalPranswer);
                } else {
                    self.local = Some(sdp);
                    self.pending_local = None;
                    self.remote = self.pending_remote.take();
                    self.offered_last = false;
                    self.set_signaling(SignalingState::Stable);
                    self.ice_role_fixed = true;
                }
                self.transport.data = self.sections.iter().any(|s| s.kind == SectionKind::Data);
                self.apply_transport(now)?;
            }
        }
        self.session_version += 1;
        if !self.local_description_set {
            self.local_description_set = true;
            for c in std::mem::take(&mut self.held_candidates) {
                self.emit_candidate(&c);
            }
            if self.gathering_complete {
                self.events.push_back(Event::IceGatheringComplete);
            }
        }
        if !self.ice_started {
            self.gather(now);
        }
        self.drive(now);
        Ok(())
    }

    /// `setRemoteDescription`. An offer that meets a local offer rolls it back first (W3C
    /// implicit rollback), which is what "perfect negotiation" relies on.
    pub fn set_remote_description(&mut self, now: Instant, desc: Description) -> Result<(), Error> {
        self.now = now;
        if self.closed {
            return Err(Error::Closed);
        }
        match desc.kind {
            SdpType::Rollback => {
                if self.signaling != SignalingState::HaveRemoteOffer {
                    return Err(Error::InvalidState("nothing to roll back"));
                }
                self.pending_remote = None;
                self.set_signaling(SignalingState::Stable);
                Ok(())
            }
            SdpType::Offer => {
                match self.signaling {
                    SignalingState::Stable | SignalingState::HaveRemoteOffer => {}
                    SignalingState::HaveLocalOffer => {
                        self.pending_local = None;
                        self.offered_sections.clear();
                        self.set_signaling(SignalingState::Stable);
                    }
                    _ => return Err(Error::InvalidState("set_remote_description(offer)")),
                }
                let sdp = SessionDescription::parse(&desc.sdp)?;
                let sections = self.sections_for_offer(&sdp)?;
                if !self.ice_role_fixed {
                    let role = if sdp.ice_lite() && !self.cfg.ice.lite {
                        IceRole::Controlling
                    } else {
                        IceRole::Controlled
                    };
                    self.ice.set_role(now, role);
                }
                self.apply_remote_transport(now, &sdp)?;
                self.sections = sections;
                self.pending_remote = Some(sdp);
                self.set_signaling(SignalingState::HaveRemoteOffer);
                self.drive(now);
                Ok(())
            }
            SdpType::Answer | SdpType::Pranswer => {
                if !matches!(
                    self.signaling,
                    SignalingState::HaveLocalOffer | SignalingState::HaveRemotePranswer
                ) {
                    return Err(Error::InvalidState("set_remote_description(answer)"));
                }
                let sdp = SessionDescription::parse(&desc.sdp)?;
                self.check_answer_sections(&sdp)?;
                if sdp.ice_lite() && !self.ice_role_fixed {
                    self.ice.set_role(now, IceRole::Controlling);
                }
                self.apply_remote_transport(now, &sdp)?;
                // A section the answer rejected is gone.
                for s in &mut self.sections {
                    let rejected = sdp
                        .media
                        .iter()
                        .find(|m| m.mid() == Some(s.mid.as_str()))
                        .is_none_or(|m| m.is_rejected());
                    if rejected && s.kind == SectionKind::Data {
                        s.kind = SectionKind::Rejected {
                            media: MediaKind::Application,
                            protocol: zvon_sdp::PROTO_SCTP.into(),
                            formats: vec![zvon_sdp::FORMAT_DATACHANNEL.into()],
                        };
                    }
                }
                self.transport.data = self.sections.iter().any(|s| s.kind == SectionKind::Data);
                if desc.kind == SdpType::Pranswer {
                    self.pending_remote = Some(sdp);
                    self.set_signaling(SignalingState::HaveRemotePranswer);
                } else {
                    self.remote = Some(sdp);
                    self.pending_remote = None;
                    self.local = self.pending_local.take();
                    self.offered_last = true;
                    self.ice_role_fixed = true;
                    self.set_signaling(SignalingState::Stable);
                }
                self.apply_transport(now)?;
                self.drive(now);
                Ok(())
            }
        }
    }

    /// `addIceCandidate`: a trickled remote candidate (`candidate: ""` is end-of-candidates).
    pub fn add_ice_candidate(&mut self, now: Instant, c: &CandidateInit) -> Result<(), Error> {
        self.now = now;
        if self.closed {
            return Err(Error::Closed);
        }
        if self.remote.is_none() && self.pending_remote.is_none() {
            return Err(Error::InvalidState(
                "add_ice_candidate before a remote description",
            ));
        }
        if let (Some(u), Some((current, _))) = (&c.username_fragment, &self.remote_creds)
            && u != current
        {
            // A candidate of an earlier ICE generation (RFC 8838 section 11).
            return Ok(());
        }
        if c.candidate.trim().is_empty() {
            self.ice.end_of_remote_candidates(now);
            self.drive(now);
            return Ok(());
        }
        let cand = zvon_sdp::Candidate::parse(&c.candidate)
            .map_err(|e| Error::Candidate(e.to_string()))?;
        self.add_remote_candidate(now, &cand)?;
        self.drive(now);
        Ok(())
    }

    /// The local description in effect (pending if any, else current), with the candidates
    /// gathered so far, as `localDescription` shows it.
    pub fn local_description(&self) -> Option<Description> {
        let (sdp, kind) = match (&self.pending_local, &self.local) {
            (Some(p), _) => (p, self.pending_local_kind()),
            (None, Some(c)) => (c, self.current_local_kind()),
            _ => return None,
        };
        let mut sdp = sdp.clone();
        self.add_candidates_to(&mut sdp);
        Some(Description {
            kind,
            sdp: sdp.to_string(),
        })
    }

    /// The remote description in effect.
    pub fn remote_description(&self) -> Option<Description> {
        match (&self.pending_remote, &self.remote) {
            (Some(p), _) => Some(Description {
                kind: if self.signaling == SignalingState::HaveRemotePranswer {
                    SdpType::Pranswer
                } else {
                    SdpType::Offer
                },
                sdp: p.to_string(),
            }),
            (None, Some(c)) => Some(Description {
                kind: if self.offered_last {
                    SdpType::Answer
                } else {
                    SdpType::Offer
                },
                sdp: c.to_string(),
            }),
            _ => None,
        }
    }

    fn pending_local_kind(&self) -> SdpType {
        match self.signaling {
            SignalingState::HaveLocalPranswer => SdpType::Pranswer,
            _ => SdpType::Offer,
        }
    }

    fn current_local_kind(&self) -> SdpType {
        if self.offered_last {
            SdpType::Offer
        } else {
            SdpType::Answer
        }
    }

    // ----- data channels -------------------------------------------------------------------

    /// `createDataChannel`. The channel opens once the connection is up; until the first
    /// negotiation that includes a data section, this asks for one (`NegotiationNeeded`).
    pub fn create_data_channel(
        &mut self,
        label: &str,
        init: ChannelInit,
    ) -> Result<ChannelId, Error> {
        if self.closed {
            return Err(Error::Closed);
        }
        if label.len() > u16::MAX as usize || init.protocol.len() > u16::MAX as usize {
            return Err(Error::Sctp(zvon_sctp::Error::LabelTooLong));
        }
        if init.max_retransmits.is_some() && init.max_packet_life_time.is_some() {
            return Err(Error::InvalidState(
                "max_retransmits and max_packet_life_time are exclusive",
            ));
        }
        let id = self.next_channel;
        self.next_channel = self.next_channel.wrapping_add(1).max(1);
        self.channels.insert(
            id,
            Channel {
                label: label.to_owned(),
                opts: init,
                stream: None,
                open: false,
                messages_sent: 0,
                messages_received: 0,
                bytes_sent: 0,
                bytes_received: 0,
            },
        );
        if self.sctp.is_some() {
            self.open_sctp_channel(id)?;
        }
        if !self.data_wanted {
            self.data_wanted = true;
            if !self.sections.iter().any(|s| s.kind == SectionKind::Data) {
                self.set_negotiation_needed();
            }
        }
        Ok(ChannelId(id))
    }

    /// Sends a message on an open channel. Above the peer's `a=max-message-size` this fails
    /// with [`zvon_sctp::Error::MessageTooLarge`].
    pub fn send(&mut self, id: ChannelId, data: &[u8], kind: MessageKind) -> Result<(), Error> {
        let ch = self.channels.get_mut(&id.0).ok_or(Error::UnknownChannel)?;
        let stream = ch
            .stream
            .ok_or(Error::Sctp(zvon_sctp::Error::NotEstablished))?;
        let sctp = self
            .sctp
            .as_mut()
            .ok_or(Error::Sctp(zvon_sctp::Error::NotEstablished))?;
        sctp.send(zvon_sctp::ChannelId(stream), data, kind)?;
        ch.messages_sent += 1;
        ch.bytes_sent += data.len() as u64;
        Ok(())
    }

    /// Closes a channel (`close()`): its stream is reset; `ChannelClosed` follows.
    pub fn close_channel(&mut self, id: ChannelId) -> Result<(), Error> {
        let Some(ch) = self.channels.get(&id.0) else {
            return Err(Error::UnknownChannel);
        };
        match (ch.stream, self.sctp.as_mut()) {
            (Some(s), Some(sctp)) => {
                sctp.close_channel(zvon_sctp::ChannelId(s))?;
            }
            _ => {
                self.channels.remove(&id.0);
                self.events.push_back(Event::ChannelClosed(id));
            }
        }
        Ok(())
    }

    /// Bytes of data-channel messages sent and not yet acknowledged (0 before SCTP is up).
    /// A runtime uses it to tell an idle association from a busy one.
    pub fn sctp_bytes_in_flight(&self) -> usize {
        self.sctp.as_ref().map_or(0, |s| s.congestion().1)
    }

    /// `bufferedAmount`: bytes queued on the channel and not yet sent.
    pub fn buffered_amount(&self, id: ChannelId) -> usize {
        match (self.channels.get(&id.0).and_then(|c| c.stream), &self.sctp) {
            (Some(s), Some(sctp)) => sctp.buffered_amount(zvon_sctp::ChannelId(s)),
            _ => 0,
        }
    }

    /// `bufferedAmountLowThreshold`.
    pub fn set_buffered_amount_low_threshold(&mut self, id: ChannelId, threshold: usize) {
        if let (Some(s), Some(sctp)) = (
            self.channels.get(&id.0).and_then(|c| c.stream),
            self.sctp.as_mut(),
        ) {
            sctp.set_buffered_amount_low_threshold(zvon_sctp::ChannelId(s), threshold);
        }
    }

    /// The channel's label.
    pub fn channel_label(&self, id: ChannelId) -> Option<&str> {
        self.channels.get(&id.0).map(|c| c.label.as_str())
    }

    /// The channel's SCTP stream id (the W3C `id`), once the DTLS role has fixed it.
    pub fn channel_stream_id(&self, id: ChannelId) -> Option<u16> {
        self.channels.get(&id.0).and_then(|c| c.stream)
    }

    /// The channel's priority (for a channel the peer opened, what its DCEP OPEN said).
    pub fn channel_priority(&self, id: ChannelId) -> Option<Priority> {
        self.channels.get(&id.0).map(|c| c.opts.priority)
    }

    /// `true` once the channel is open.
    pub fn channel_is_open(&self, id: ChannelId) -> bool {
        self.channels.get(&id.0).is_some_and(|c| c.open)
    }

    /// The largest message the peer accepts (its `a=max-message-size`), once negotiated.
    pub fn max_message_size(&self) -> Option<usize> {
        self.sctp.as_ref().map(|_| self.remote_max_message_size())
    }

    fn open_sctp_channel(&mut self, id: u32) -> Result<(), Error> {
        let (Some(ch), Some(sctp)) = (self.channels.get_mut(&id), self.sctp.as_mut()) else {
            return Ok(());
        };
        let opts = ChannelOptions {
            label: ch.label.clone(),
            protocol: ch.opts.protocol.clone(),
            ordered: ch.opts.ordered,
            reliability: ch.opts.reliability(),
            negotiated: ch.opts.negotiated_id,
            priority: ch.opts.priority.dcep(),
        };
        let stream = sctp.open_channel(opts)?;
        ch.stream = Some(stream.0);
        self.by_stream.insert(stream.0, id);
        Ok(())
    }

    // ----- the drive loop ----------------------------------------------------------------

    /// A datagram received on the local socket `destination` from `source`.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        proto: Protocol,
        source: SocketAddr,
        destination: SocketAddr,
        data: &[u8],
    ) {
        self.now = now;
        if self.closed {
            return;
        }
        self.stats.datagrams_in += 1;
        self.stats.bytes_in += data.len() as u64;
        match self
            .ice
            .handle_datagram(now, proto, source, destination, data)
        {
            Received::Data { data, .. } => match classify(data) {
                DatagramKind::Dtls => match self.dtls.as_mut() {
                    Some(dtls) => {
                        // Failures surface as DtlsEvent::Failed; a refused datagram is dropped.
                        if dtls.handle_datagram(now, data).is_err() {
                            self.stats.dropped += 1;
                        }
                    }
                    None if self.early_dtls.len() < self.cfg.max_early_datagrams => {
                        self.early_dtls.push_back(data.to_vec());
                    }
                    None => self.stats.dropped += 1,
                },
                // Media arrives with the media issue; until then it is counted and dropped.
                DatagramKind::Rtp | DatagramKind::Rtcp => self.stats.rtp_dropped += 1,
                _ => self.stats.dropped += 1,
            },
            Received::Ice => {}
            Received::Dropped => self.stats.dropped += 1,
        }
        self.drive(now);
    }

    /// A datagram received on the socket the mDNS queries went out on.
    pub fn handle_mdns_datagram(&mut self, now: Instant, data: &[u8]) {
        self.now = now;
        let _ = self.mdns.handle_datagram(now, data);
        self.drive(now);
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        [
            self.ice.poll_timeout(),
            self.dtls.as_ref().and_then(|d| d.poll_timeout()),
            self.sctp.as_ref().and_then(|s| s.poll_timeout()),
            self.mdns.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs the timers that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        if self.ice.poll_timeout().is_some_and(|t| t <= now) {
            self.ice.handle_timeout(now);
        }
        if let Some(d) = self.dtls.as_mut()
            && d.poll_timeout().is_some_and(|t| t <= now)
        {
            d.handle_timeout(now);
        }
        if let Some(s) = self.sctp.as_mut()
            && s.poll_timeout().is_some_and(|t| t <= now)
        {
            s.handle_timeout(now);
        }
        if self.mdns.poll_timeout().is_some_and(|t| t <= now) {
            self.mdns.handle_timeout(now);
        }
        self.drive(now);
    }

    /// The next datagram to send, written into `buf`: ICE checks first, then DTLS records
    /// (SCTP packets are sealed into DTLS only as fast as they leave, so nothing piles up
    /// between the layers).
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        if let Some((t, data)) = self.closing_transmits.pop_front() {
            buf.clear();
            buf.extend_from_slice(&data);
            return Some(self.count_out(t));
        }
        if let Some(t) = self.ice.poll_transmit(now, buf) {
            return Some(self.count_out(t));
        }
        if self.closed {
            return None;
        }
        if !self.unrouted.is_empty() && self.ice.selected_pair().is_some() {
            let d = self.unrouted.pop_front()?;
            if let Some(t) = self.ice.send(&d, buf) {
                return Some(self.count_out(t));
            }
        }
        let dtls = self.dtls.as_mut()?;
        loop {
            if let Some(n) = dtls.poll_transmit(now, &mut self.dtls_buf) {
                // ok: poll_transmit returns at most the buffer's length
                let payload = &self.dtls_buf[..n];
                match self.ice.send(payload, buf) {
                    Some(t) => {
                        self.stats.datagrams_out += 1;
                        self.stats.bytes_out += t.len as u64;
                        return Some(t);
                    }
                    // No path yet: keep a handshake's worth; beyond it the protocols'
                    // retransmissions take over.
                    None => {
                        if self.unrouted.len() < self.cfg.max_early_datagrams {
                            self.unrouted.push_back(payload.to_vec());
                        }
                        continue;
                    }
                }
            }
            let sctp = self.sctp.as_mut()?;
            if !dtls.is_established() {
                return None;
            }
            let n = sctp.poll_transmit(now, &mut self.sctp_buf)?;
            // ok: poll_transmit wrote n bytes into the buffer
            if dtls.send_application_data(&self.sctp_buf[..n]).is_err() {
                return None;
            }
        }
    }

    /// mDNS queries to send to the mDNS group (from an ephemeral socket; answers go to
    /// [`handle_mdns_datagram`](Self::handle_mdns_datagram)).
    pub fn poll_mdns_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        self.mdns.poll_transmit(now, buf)
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn count_out(&mut self, t: Transmit) -> Transmit {
        self.stats.datagrams_out += 1;
        self.stats.bytes_out += t.len as u64;
        t
    }

    /// Closes everything (`close()`): SCTP shuts down, DTLS sends close_notify, ICE releases
    /// TURN allocations. Drain `poll_transmit` once more to send the goodbyes.
    pub fn close(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        self.now = now;
        if let Some(s) = self.sctp.as_mut() {
            s.abort("peer connection closed");
            let mut buf = Vec::new();
            while let Some(n) = s.poll_transmit(now, &mut buf) {
                if let Some(d) = self.dtls.as_mut() {
                    let _ = d.send_application_data(&buf[..n.min(buf.len())]);
                }
            }
        }
        if let Some(d) = self.dtls.as_mut() {
            d.close();
        }
        // Flush the goodbyes before ICE stops routing.
        let mut out = Vec::new();
        let mut pending = Vec::new();
        while let Some(d) = self.dtls.as_mut() {
            let Some(n) = d.poll_transmit(now, &mut self.dtls_buf) else {
                break;
            };
            pending.push(self.dtls_buf[..n].to_vec());
        }
        let mut queued = VecDeque::new();
        for p in pending {
            if let Some(t) = self.ice.send(&p, &mut out) {
                queued.push_back((t, out.clone()));
            }
        }
        self.ice.close(now);
        self.closed = true;
        self.closing_transmits = queued;
        let ids: Vec<u32> = self.channels.keys().copied().collect();
        for id in ids {
            self.events.push_back(Event::ChannelClosed(ChannelId(id)));
        }
        self.channels.clear();
        self.set_signaling(SignalingState::Closed);
        self.set_state(ConnectionState::Closed);
    }

    /// Runs every layer's pending work and turns their events into ours.
    fn drive(&mut self, now: Instant) {
        for _ in 0..64 {
            let mut progressed = false;
            progressed |= self.drain_ice_events();
            progressed |= self.drain_mdns(now);
            progressed |= self.drain_dtls(now);
            progressed |= self.drain_sctp_events();
            if !progressed {
                break;
            }
        }
        self.update_state();
    }

    fn drain_ice_events(&mut self) -> bool {
        let mut any = false;
        while let Some(ev) = self.ice.poll_event() {
            any = true;
            match ev {
                IceEvent::LocalCandidate(c) => {
                    if self.local_description_set {
                        self.emit_candidate(&c);
                    } else {
                        self.held_candidates.push(c);
                    }
                }
                IceEvent::GatheringComplete => {
                    self.gathering_complete = true;
                    if self.local_description_set {
                        self.events.push_back(Event::IceGatheringComplete);
                    }
                }
                IceEvent::GatheringStateChanged(s) => {
                    self.events.push_back(Event::IceGatheringStateChange(s));
                }
                IceEvent::ConnectionStateChanged(s) => {
                    self.ice_state = s;
                    self.events.push_back(Event::IceConnectionStateChange(s));
                }
                IceEvent::SelectedPairChanged { .. } => {
                    let now = self.now;
                    self.maybe_start_dtls(now);
                }
                _ => {}
            }
        }
        any
    }

    fn drain_mdns(&mut self, now: Instant) -> bool {
        let mut any = false;
        while let Some(ev) = self.mdns.poll_event() {
            any = true;
            match ev {
                MdnsEvent::Resolved { name, addr } => {
                    let mut i = 0;
                    while i < self.mdns_pending.len() {
                        if self.mdns_pending[i].name == name {
                            let p = self.mdns_pending.swap_remove(i);
                            let c = zvon_ice::Candidate::remote(
                                p.kind,
                                SocketAddr::new(addr, p.port),
                                p.priority,
                                p.foundation,
                            );
                            let _ = self.ice.add_remote_candidate(now, c);
                        } else {
                            i += 1;
                        }
                    }
                }
                MdnsEvent::Failed { name } => self.mdns_pending.retain(|p| p.name != name),
                _ => {}
            }
        }
        any
    }

    fn drain_dtls(&mut self, now: Instant) -> bool {
        let Some(dtls) = self.dtls.as_mut() else {
            return false;
        };
        let mut any = false;
        while let Some(ev) = dtls.poll_event() {
            any = true;
            match ev {
                DtlsEvent::Connected(c) => {
                    self.dtls_version = Some(c.version);
                    self.srtp_profile = c.srtp_profile;
                }
                DtlsEvent::Failed(_) => self.dtls_failed = true,
                DtlsEvent::Closed(_) => {
                    if let Some(s) = self.sctp.as_mut() {
                        s.abort("DTLS closed");
                    }
                }
                _ => {}
            }
        }
        if self.sctp.is_none()
            && self.transport.data
            && self.dtls.as_ref().is_some_and(|d| d.is_established())
        {
            self.start_sctp(now);
            any = true;
        }
        let (Some(dtls), Some(sctp)) = (self.dtls.as_mut(), self.sctp.as_mut()) else {
            return any;
        };
        while let Some(record) = dtls.poll_application_data() {
            any = true;
            // Bad SCTP packets are dropped inside; an abort surfaces as an event.
            let _ = sctp.handle_packet(now, record);
        }
        any
    }

    fn drain_sctp_events(&mut self) -> bool {
        let Some(sctp) = self.sctp.as_mut() else {
            return false;
        };
        let mut any = false;
        while let Some(ev) = sctp.poll_event() {
            any = true;
            match ev {
                zvon_sctp::Event::ChannelOpen { id } => {
                    if let Some(&h) = self.by_stream.get(&id.0) {
                        if let Some(ch) = self.channels.get_mut(&h) {
                            ch.open = true;
                        }
                        self.events.push_back(Event::ChannelOpen(ChannelId(h)));
                    }
                }
                zvon_sctp::Event::IncomingChannel {
                    id,
                    label,
                    protocol,
                    ordered,
                    reliability,
                } => {
                    let h = self.next_channel;
                    self.next_channel = self.next_channel.wrapping_add(1).max(1);
                    let priority = sctp
                        .channel_priority(id)
                        .map_or(Priority::Low, Priority::from_dcep);
                    let (max_retransmits, max_packet_life_time) = match reliability {
                        zvon_sctp::Reliability::MaxRetransmits(n) => (Some(n), None),
                        zvon_sctp::Reliability::MaxLifetimeMs(ms) => (None, Some(ms)),
                        _ => (None, None),
                    };
                    self.channels.insert(
                        h,
                        Channel {
                            label: label.clone(),
                            opts: ChannelInit {
                                ordered,
                                max_packet_life_time,
                                max_retransmits,
                                protocol: protocol.clone(),
                                negotiated_id: None,
                                priority,
                            },
                            stream: Some(id.0),
                            open: true,
                            messages_sent: 0,
                            messages_received: 0,
                            bytes_sent: 0,
                            bytes_received: 0,
                        },
                    );
                    self.by_stream.insert(id.0, h);
                    self.events.push_back(Event::DataChannel {
                        id: ChannelId(h),
                        label,
                        protocol,
                        ordered,
                        reliability,
                    });
                }
                zvon_sctp::Event::Message { id, data, kind } => {
                    if let Some(&h) = self.by_stream.get(&id.0) {
                        if let Some(ch) = self.channels.get_mut(&h) {
                            ch.messages_received += 1;
                            ch.bytes_received += data.len() as u64;
                        }
                        self.events.push_back(Event::ChannelMessage {
                            id: ChannelId(h),
                            data,
                            kind,
                        });
                    }
                }
                zvon_sctp::Event::BufferedAmountLow { id } => {
                    if let Some(&h) = self.by_stream.get(&id.0) {
                        self.events
                            .push_back(Event::BufferedAmountLow(ChannelId(h)));
                    }
                }
                zvon_sctp::Event::ChannelClosing { id } => {
                    if let Some(&h) = self.by_stream.get(&id.0) {
                        self.events.push_back(Event::ChannelClosing(ChannelId(h)));
                    }
                }
                zvon_sctp::Event::ChannelClosed { id } => {
                    if let Some(h) = self.by_stream.remove(&id.0) {
                        self.channels.remove(&h);
                        self.events.push_back(Event::ChannelClosed(ChannelId(h)));
                    }
                }
                zvon_sctp::Event::Aborted { .. } | zvon_sctp::Event::Closed => {
                    let ids: Vec<u32> = self.by_stream.drain().map(|(_, h)| h).collect();
                    for h in ids {
                        self.channels.remove(&h);
                        self.events.push_back(Event::ChannelClosed(ChannelId(h)));
                    }
                }
                _ => {}
            }
        }
        any
    }

    // ----- negotiation helpers -----------------------------------------------------------

    fn set_signaling(&mut self, s: SignalingState) {
        if self.signaling != s {
            self.signaling = s;
            self.events.push_back(Event::SignalingStateChange(s));
            if s == SignalingState::Stable && self.negotiation_needed {
                self.negotiation_needed = false;
                self.check_negotiation_needed();
            }
        }
    }

    fn set_negotiation_needed(&mut self) {
        if self.signaling == SignalingState::Stable {
            self.events.push_back(Event::NegotiationNeeded);
        } else {
            self.negotiation_needed = true;
        }
    }

    fn check_negotiation_needed(&mut self) {
        let data_missing =
            self.data_wanted && !self.sections.iter().any(|s| s.kind == SectionKind::Data);
        if data_missing || self.restart_pending {
            self.events.push_back(Event::NegotiationNeeded);
        }
    }

    fn set_state(&mut self, s: ConnectionState) {
        if self.state != s {
            self.state = s;
            self.events.push_back(Event::ConnectionStateChange(s));
        }
    }

    fn update_state(&mut self) {
        if self.closed {
            return;
        }
        let dtls_up = self.dtls.as_ref().is_some_and(|d| d.is_established());
        let s = match self.ice_state {
            _ if self.dtls_failed => ConnectionState::Failed,
            IceConnectionState::Failed => ConnectionState::Failed,
            IceConnectionState::Disconnected => ConnectionState::Disconnected,
            IceConnectionState::Closed => ConnectionState::Closed,
            IceConnectionState::Connected | IceConnectionState::Completed if dtls_up => {
                ConnectionState::Connected
            }
            IceConnectionState::New if self.dtls.is_none() => ConnectionState::New,
            _ => ConnectionState::Connecting,
        };
        self.set_state(s);
    }

    fn new_mid(&mut self, taken: &[Section]) -> String {
        loop {
            let mid = self.next_mid.to_string();
            self.next_mid += 1;
            if !taken.iter().any(|s| s.mid == mid) {
                return mid;
            }
        }
    }

    fn emit_candidate(&mut self, c: &zvon_ice::Candidate) {
        // Before any section exists the candidate is tagged with the first mid to come.
        let (index, mid) = self.bundle_tag().unwrap_or((0, "0".into()));
        self.events.push_back(Event::IceCandidate(CandidateInit {
            candidate: convert::local_candidate(c).to_string(),
            sdp_mid: Some(mid),
            sdp_m_line_index: Some(index),
            username_fragment: Some(self.ice.local_credentials().ufrag.clone()),
        }));
    }

    /// The first live section: the BUNDLE tag that candidates belong to.
    fn bundle_tag(&self) -> Option<(u16, String)> {
        self.sections
            .iter()
            .enumerate()
            .find(|(_, s)| !matches!(s.kind, SectionKind::Rejected { .. }))
            .map(|(i, s)| (i.min(u16::MAX as usize) as u16, s.mid.clone()))
    }

    fn add_candidates_to(&self, sdp: &mut SessionDescription) {
        let Some(m) = sdp.media.iter_mut().find(|m| !m.is_rejected()) else {
            return;
        };
        m.attributes
            .retain(|a| !matches!(a, Attribute::Candidate(_)) && *a != Attribute::EndOfCandidates);
        for c in self.ice.local_candidates() {
            m.attributes
                .push(Attribute::Candidate(convert::local_candidate(c)));
        }
        if self.gathering_complete {
            m.attributes.push(Attribute::EndOfCandidates);
        }
    }

    fn build_description(
        &mut self,
        sections: &[Section],
        offer: Option<&SessionDescription>,
        setup: Setup,
    ) -> SessionDescription {
        let mut sdp = SessionDescription::new(Origin::new(self.session_id, self.session_version));
        let live: Vec<String> = sections
            .iter()
            .filter(|s| s.kind == SectionKind::Data)
            .map(|s| s.mid.clone())
            .collect();
        if !live.is_empty() {
            sdp.attributes.push(Attribute::Group(Group {
                semantics: "BUNDLE".into(),
                mids: live,
            }));
        }
        if self.cfg.ice.lite {
            sdp.attributes.push(Attribute::IceLite);
        }
        sdp.attributes
            .push(Attribute::MsidSemantic(zvon_sdp::MsidSemantic {
                semantic: "WMS".into(),
                ids: Vec::new(),
            }));
        let creds = self.ice.local_credentials().clone();
        let fp = convert::sdp_fingerprint(&self.identity.fingerprint());
        for s in sections {
            match &s.kind {
                SectionKind::Data => {
                    let mut m =
                        MediaDescription::new(MediaKind::Application, 9, zvon_sdp::PROTO_SCTP);
                    m.formats.push(zvon_sdp::FORMAT_DATACHANNEL.into());
                    m.connections
                        .push(zvon_sdp::Connection::new([0, 0, 0, 0].into()));
                    let a = &mut m.attributes;
                    a.push(Attribute::IceUfrag(creds.ufrag.clone()));
                    a.push(Attribute::IcePwd(creds.pwd.clone()));
                    a.push(Attribute::IceOptions(vec!["trickle".into()]));
                    a.push(Attribute::Fingerprint(fp.clone()));
                    a.push(Attribute::Setup(convert::sdp_setup(setup)));
                    a.push(Attribute::Mid(s.mid.clone()));
                    a.push(Attribute::SctpPort(self.cfg.sctp.local_port));
                    a.push(Attribute::MaxMessageSize(
                        self.cfg.sctp.max_message_size as u64,
                    ));
                    sdp.media.push(m);
                }
                SectionKind::Rejected {
                    media,
                    protocol,
                    formats,
                } => {
                    let mut m = MediaDescription::new(media.clone(), 0, protocol.clone());
                    m.formats = formats.clone();
                    if m.formats.is_empty() {
                        m.formats.push("0".into());
                    }
                    m.connections
                        .push(zvon_sdp::Connection::new([0, 0, 0, 0].into()));
                    m.attributes.push(Attribute::Mid(s.mid.clone()));
                    if offer.is_none() {
                        m.attributes
                            .push(Attribute::Direction(zvon_sdp::Direction::Inactive));
                    }
                    sdp.media.push(m);
                }
            }
        }
        self.add_candidates_to(&mut sdp);
        sdp
    }

    /// The sections of our answer to `offer`: the same mids in the same order, data accepted
    /// (the first data section), everything else rejected for now.
    fn sections_for_offer(&self, offer: &SessionDescription) -> Result<Vec<Section>, Error> {
        let mut out = Vec::with_capacity(offer.media.len());
        let mut have_data = false;
        for (i, m) in offer.media.iter().enumerate() {
            let mid = m
                .mid()
                .ok_or_else(|| Error::Description(format!("m-line {i} has no a=mid")))?
                .to_owned();
            if out.iter().any(|s: &Section| s.mid == mid) {
                return Err(Error::Description(format!("duplicate mid {mid:?}")));
            }
            // An established section keeps its kind; a new one is judged on its m-line.
            let existing = self.sections.iter().find(|s| s.mid == mid);
            let data = m.is_sctp()
                && !m.is_rejected()
                && m.formats.iter().any(|f| f == zvon_sdp::FORMAT_DATACHANNEL)
                && !have_data;
            if let Some(e) = existing
                && e.kind == SectionKind::Data
                && !data
                && !m.is_rejected()
            {
                return Err(Error::Description(format!(
                    "mid {mid:?} changed from data to {}",
                    m.kind.as_str()
                )));
            }
            if data {
                have_data = true;
                out.push(Section {
                    mid,
                    kind: SectionKind::Data,
                });
            } else {
                out.push(Section {
                    mid,
                    kind: SectionKind::Rejected {
                        media: m.kind.clone(),
                        protocol: m.protocol.clone(),
                        formats: m.formats.clone(),
                    },
                });
            }
        }
        // JSEP 5.7.2: an offer may not drop sections; they can only be rejected.
        if out.len() < self.sections.len() {
            return Err(Error::Description(format!(
                "the offer has {} m-lines, fewer than the {} negotiated",
                out.len(),
                self.sections.len()
            )));
        }
        Ok(out)
    }

    fn check_answer_sections(&self, answer: &SessionDescription) -> Result<(), Error> {
        if answer.media.len() != self.sections.len() {
            return Err(Error::Description(format!(
                "the answer has {} m-lines, the offer {}",
                answer.media.len(),
                self.sections.len()
            )));
        }
        for (m, s) in answer.media.iter().zip(&self.sections) {
            if !m.is_rejected() && m.mid() != Some(s.mid.as_str()) {
                return Err(Error::Description(format!(
                    "answer m-line for mid {:?} says {:?}",
                    s.mid,
                    m.mid()
                )));
            }
        }
        Ok(())
    }

    /// ICE credentials and candidates, fingerprints, setup and SCTP parameters of a remote
    /// description.
    fn apply_remote_transport(
        &mut self,
        now: Instant,
        sdp: &SessionDescription,
    ) -> Result<(), Error> {
        // With max-bundle, every live section shares the first one's transport.
        let Some(m) = sdp
            .media
            .iter()
            .find(|m| !m.is_rejected() || m.attributes.bundle_only())
        else {
            // Nothing live (all rejected, or no sections yet): nothing to connect.
            return Ok(());
        };
        let (ufrag, pwd) = sdp
            .ice_credentials_of(m)
            .ok_or_else(|| Error::Description("no a=ice-ufrag / a=ice-pwd".into()))?;
        let fps: Vec<zvon_dtls::Fingerprint> = sdp
            .fingerprints_of(m)
            .into_iter()
            .filter_map(convert::dtls_fingerprint)
            .collect();
        if fps.is_empty() {
            return Err(Error::Description(
                "no usable a=fingerprint (RFC 8122 hash of the DTLS certificate)".into(),
            ));
        }
        if !self.transport.remote_fingerprints.is_empty()
            && self.transport.remote_fingerprints != fps
            && self.dtls.is_some()
        {
            return Err(Error::Description(
                "the peer's certificate fingerprint changed; a new DTLS connection is not supported"
                    .into(),
            ));
        }
        self.transport.remote_fingerprints = fps;
        self.transport.remote_setup = sdp.setup_of(m).map(convert::dtls_setup);
        let data = sdp.media.iter().find(|m| m.is_sctp() && !m.is_rejected());
        if let Some(d) = data {
            self.transport.remote_sctp_port = Some(d.attributes.sctp_port().unwrap_or(5000));
            self.transport.remote_max_message_size = d.attributes.max_message_size();
        }
        let new_creds = (ufrag.to_owned(), pwd.to_owned());
        if let Some(old) = &self.remote_creds
            && *old != new_creds
            && !self.restart_pending
            && self.signaling != SignalingState::HaveLocalOffer
        {
            // The peer restarted ICE: our answer must carry new credentials too (RFC 8839 4.4.1.1.1).
            self.ice.restart(now);
        }
        self.ice
            .set_remote_credentials(now, ufrag, pwd)
            .map_err(|e| Error::Description(e.to_string()))?;
        self.remote_creds = Some(new_creds);
        for c in m.attributes.candidates() {
            // A candidate we cannot use is skipped; the others still count.
            let _ = self.add_remote_candidate(now, c);
        }
        if m.attributes.end_of_candidates() {
            self.ice.end_of_remote_candidates(now);
        }
        Ok(())
    }

    fn add_remote_candidate(&mut self, now: Instant, c: &zvon_sdp::Candidate) -> Result<(), Error> {
        match convert::remote_candidate(c).map_err(Error::Candidate)? {
            RemoteCandidate::Ip(c) => self
                .ice
                .add_remote_candidate(now, c)
                .map_err(|e| Error::Candidate(e.to_string())),
            RemoteCandidate::Mdns {
                name,
                port,
                kind,
                priority,
                foundation,
            } => {
                let key = name.trim_end_matches('.').to_ascii_lowercase();
                if let Some(ip) = self.mdns.lookup(now, &key) {
                    let c = zvon_ice::Candidate::remote(
                        kind,
                        SocketAddr::new(ip, port),
                        priority,
                        foundation,
                    );
                    return self
                        .ice
                        .add_remote_candidate(now, c)
                        .map_err(|e| Error::Candidate(e.to_string()));
                }
                if self.mdns_pending.len() < 64 {
                    self.mdns_pending.push(PendingMdns {
                        name: key,
                        port,
                        kind,
                        priority,
                        foundation,
                    });
                    self.mdns.resolve(now, &name);
                }
                Ok(())
            }
            RemoteCandidate::Unusable => Ok(()),
        }
    }

    /// After a description: fix the DTLS role and start what can start.
    fn apply_transport(&mut self, now: Instant) -> Result<(), Error> {
        if self.dtls_role.is_none()
            && let (Some(l), Some(r)) = (self.transport.local_setup, self.transport.remote_setup)
            && !(self.signaling == SignalingState::HaveLocalOffer)
        {
            let role =
                Setup::role(l, r).map_err(|e| Error::Description(format!("a=setup: {e}")))?;
            self.dtls_role = Some(role);
        }
        self.maybe_start_dtls(now);
        Ok(())
    }

    fn maybe_start_dtls(&mut self, now: Instant) {
        if self.dtls.is_some() || self.transport.remote_fingerprints.is_empty() {
            return;
        }
        let Some(role) = self.dtls_role else {
            return;
        };
        // The client's first flight waits for a path, so it is not lost and retried a second
        // later; the server is ready at once for a ClientHello that beats the answer.
        if role == DtlsRole::Client && self.ice.selected_pair().is_none() {
            return;
        }
        let mut cfg = self.cfg.dtls.clone();
        // Over an ICE path just checked, a short first timeout costs nothing and recovers a
        // lost flight quickly (libwebrtc does the same with its measured RTT).
        cfg.initial_rto = cfg.initial_rto.min(Duration::from_millis(400));
        match DtlsTransport::new(&cfg, &self.identity, role, &mut self.rng, now) {
            Ok(mut d) => {
                let _ = d.set_remote_fingerprints(self.transport.remote_fingerprints.clone());
                while let Some(early) = self.early_dtls.pop_front() {
                    let _ = d.handle_datagram(now, &early);
                }
                self.dtls = Some(d);
            }
            Err(_) => self.dtls_failed = true,
        }
    }

    fn remote_max_message_size(&self) -> usize {
        match self.transport.remote_max_message_size {
            // RFC 8841 6: 0 means "any size".
            Some(0) => usize::MAX,
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
            // RFC 8841 6: absent means 64 KiB.
            None => 65536,
        }
    }

    fn start_sctp(&mut self, now: Instant) {
        let Some(role) = self.dtls_role else {
            return;
        };
        let mut cfg = self.cfg.sctp.clone();
        cfg.role = match role {
            DtlsRole::Client => zvon_sctp::Role::Client,
            DtlsRole::Server => zvon_sctp::Role::Server,
        };
        cfg.remote_port = self.transport.remote_sctp_port.unwrap_or(5000);
        cfg.remote_max_message_size = self.remote_max_message_size();
        let mut assoc = Association::new(cfg, self.rng.fork(), now);
        // Both ends connect over DTLS; the INIT collision resolves into one association.
        let _ = assoc.connect(now);
        self.sctp = Some(assoc);
        let mut pending: Vec<u32> = self
            .channels
            .iter()
            .filter(|(_, c)| c.stream.is_none())
            .map(|(&id, _)| id)
            .collect();
        pending.sort_unstable();
        for id in pending {
            if self.open_sctp_channel(id).is_err() {
                self.channels.remove(&id);
                self.events.push_back(Event::ChannelClosed(ChannelId(id)));
            }
        }
    }

    // ----- stats -------------------------------------------------------------------------

    /// A snapshot of counters and negotiated parameters (`getStats`).
    pub fn stats(&self) -> Stats {
        let selected = self
            .ice
            .selected_pair()
            .map(|(l, r)| (l.addr, l.kind, r.addr, r.kind));
        let mut channels: Vec<crate::ChannelStats> = self
            .channels
            .iter()
            .map(|(&id, c)| crate::ChannelStats {
                id: ChannelId(id),
                label: c.label.clone(),
                stream_id: c.stream,
                open: c.open,
                messages_sent: c.messages_sent,
                messages_received: c.messages_received,
                bytes_sent: c.bytes_sent,
                bytes_received: c.bytes_received,
            })
            .collect();
        channels.sort_by_key(|c| c.id);
        Stats {
            connection_state: self.state,
            ice_state: self.ice_state,
            ice_role: self.ice.role(),
            selected_pair: selected,
            dtls_role: self.dtls_role,
            dtls_version: self.dtls_version,
            srtp_profile: self.srtp_profile,
            sctp: self.sctp.as_ref().map(|s| s.stats()),
            sctp_rtt: self.sctp.as_ref().and_then(|s| s.rtt()),
            datagrams_in: self.stats.datagrams_in,
            datagrams_out: self.stats.datagrams_out,
            bytes_in: self.stats.bytes_in,
            bytes_out: self.stats.bytes_out,
            datagrams_dropped: self.stats.dropped,
            media_dropped: self.stats.rtp_dropped,
            channels,
        }
    }
}

/// The W3C `GatheringState` re-exported for users of the events.
pub type IceGatheringState = GatheringState;
