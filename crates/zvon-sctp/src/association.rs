//! The association: the RFC 9260 state machine, with the data-channel layer (RFC 8831/8832)
//! on top of it in `channel.rs`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use aws_lc_rs::hmac;
use zvon_base::Rng;

use crate::channel::{Channel, ChannelId, Event};
use crate::chunk::{
    self, Chunk, Data, InitRepr, ReconfigParam, Tlvs, cause, flag, kind, reconfig_result,
};
use crate::config::Config;
use crate::cookie::{CAP_FORWARD_TSN, CAP_I_DATA, CAP_RECONFIG, CAP_ZERO_CHECKSUM, CookieBody};
use crate::error::Error;
use crate::outstanding::{Outstanding, Rtx};
use crate::packet::{HEADER_LEN, Packet, PacketWriter};
use crate::recv::{DataTracker, ENTRY_OVERHEAD, Observed, Reassembly};
use crate::send::SendQueue;
use crate::timer::{Rto, Timer, TimerTable};

/// RFC 9653 error detection method identifier for SCTP over DTLS.
const EDMID_DTLS: u32 = 1;
/// Most SACKs waiting to be sent. A caller that hands over a large batch of packets before
/// polling still gets one SACK per two packets out, up to this many: each is a send opportunity
/// for the peer (Max.Burst), so fewer would throttle a sender whose packets arrive together.
const MAX_SACK_SNAPS: usize = 1024;
/// Heartbeat info parameter type (RFC 9260 3.3.5).
const HEARTBEAT_INFO: u16 = 1;

/// The association states of RFC 9260 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssociationState {
    /// No association (before `connect`, or after it ended).
    Closed,
    /// INIT sent.
    CookieWait,
    /// COOKIE ECHO sent.
    CookieEchoed,
    /// Up.
    Established,
    /// `close` called: finishing outstanding data before SHUTDOWN.
    ShutdownPending,
    /// SHUTDOWN sent.
    ShutdownSent,
    /// SHUTDOWN received: finishing outstanding data before SHUTDOWN ACK.
    ShutdownReceived,
    /// SHUTDOWN ACK sent.
    ShutdownAckSent,
}

/// Counters for stats and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Packets written by `poll_transmit`.
    pub packets_sent: u64,
    /// Packets given to `handle_packet` that parsed.
    pub packets_received: u64,
    /// Packets dropped (checksum, tag, malformed).
    pub packets_dropped: u64,
    /// DATA chunks retransmitted.
    pub retransmissions: u64,
    /// User messages delivered.
    pub messages_received: u64,
    /// User messages queued.
    pub messages_sent: u64,
    /// DATA_CHANNEL_OPENs refused (too many channels, or labels over budget): the stream was
    /// reset instead.
    pub channels_refused: u64,
    /// Peer restarts survived ([`Event::Restarted`]).
    pub restarts: u64,
    /// SACK chunks sent.
    pub sacks_sent: u64,
    /// SACK chunks received.
    pub sacks_received: u64,
    /// Retransmission timer (T3-rtx) expiries.
    pub t3_expiries: u64,
    /// Times new data waited with the congestion window open because the send opportunity's
    /// Max.Burst was spent.
    pub burst_limited: u64,
    /// Times new data waited for the congestion window (or the peer's receiver window).
    pub window_limited: u64,
    /// The congestion window now, in bytes (W3C `RTCSctpTransportStats.congestionWindow`).
    pub cwnd: u64,
    /// The peer's receiver window as last advertised, in bytes (`receiverWindow`).
    pub peer_rwnd: u64,
    /// Bytes sent and not yet acknowledged (`unackData` counts chunks; this counts bytes).
    pub bytes_in_flight: u64,
}

/// A DATA chunk kept aside while a stream reset waits for earlier data (RFC 6525 5.2.2).
#[derive(Debug)]
struct HeldData {
    tsn: u64,
    stream: u16,
    mid: u32,
    ppid: u32,
    fsn: u32,
    flags: u8,
    interleaved: bool,
    payload: Vec<u8>,
}

#[derive(Debug)]
struct ReconfigRequest {
    req_seq: u32,
    streams: Vec<u16>,
    last_tsn: u32,
}

/// One SCTP association carrying WebRTC data channels, sans-IO.
///
/// Feed it packets (the DTLS application data) with [`handle_packet`](Self::handle_packet),
/// drain [`poll_transmit`](Self::poll_transmit) (packets for DTLS to send) and
/// [`poll_event`](Self::poll_event), then sleep until [`poll_timeout`](Self::poll_timeout)
/// and call [`handle_timeout`](Self::handle_timeout).
///
/// ```
/// use std::time::Instant;
/// use zvon_base::Rng;
/// use zvon_sctp::{Association, ChannelOptions, Config, Event, MessageKind, Role};
///
/// # #[allow(clippy::disallowed_methods)]
/// let now = Instant::now();
/// let mut a = Association::new(Config::new(Role::Client), Rng::from_seed_u64(1), now);
/// let mut b = Association::new(Config::new(Role::Server), Rng::from_seed_u64(2), now);
/// a.connect(now).unwrap();
/// let chat = a.open_channel(ChannelOptions::new("chat")).unwrap();
/// let mut buf = Vec::new();
/// let mut sent = false;
/// let mut got = None;
/// for _ in 0..20 {
///     while let Some(n) = a.poll_transmit(now, &mut buf) { let _ = b.handle_packet(now, &buf[..n]); }
///     while let Some(n) = b.poll_transmit(now, &mut buf) { let _ = a.handle_packet(now, &buf[..n]); }
///     while let Some(e) = a.poll_event() {
///         if let Event::ChannelOpen { id } = e { a.send(id, b"hello".to_vec(), MessageKind::Text).unwrap(); sent = true; }
///     }
///     while let Some(e) = b.poll_event() {
///         if let Event::Message { data, .. } = e { got = Some(data); }
///     }
/// }
/// assert!(sent);
/// assert_eq!(got.as_deref(), Some(&b"hello"[..]));
/// # let _ = chat;
/// ```
pub struct Association {
    pub(crate) cfg: Config,
    rng: Rng,
    epoch: Instant,
    /// The latest instant the caller passed in (message lifetimes count from it).
    pub(crate) now: Instant,
    key: hmac::Key,
    state: AssociationState,
    my_tag: u32,
    peer_tag: u32,
    my_initial_tsn: u32,
    caps: u8,
    pub(crate) outbound_streams: u16,
    inbound_streams: u16,
    init_retransmits: u32,
    cookie_echo: Option<Vec<u8>>,
    cookie_sent_at: Option<Instant>,
    pub(crate) tx: SendQueue,
    out: Outstanding,
    rx: DataTracker,
    reasm: Reassembly,
    timers: TimerTable,
    rto: Rto,
    error_count: u32,

    send_init: bool,
    send_cookie_echo: bool,
    send_cookie_ack: bool,
    send_shutdown: bool,
    send_shutdown_ack: bool,
    send_shutdown_complete: bool,
    /// SACKs taken when they became due (every second packet, a gap, a duplicate, the
    /// I-bit), each as the receiver saw things then: a caller that hands over a whole batch
    /// of packets before polling still sends one SACK per two packets, as TCP does.
    sack_snaps: SackSnaps,
    fast_rtx_bypass: bool,
    /// Packets of new data still allowed in this send opportunity (Max.Burst).
    burst_left: usize,
    /// `poll_transmit` ran since the burst allowance was last refilled: the next SACK starts
    /// a fresh opportunity instead of adding to one the caller has not polled yet.
    burst_polled: bool,
    pending_abort: Option<Vec<u8>>,
    heartbeat_acks: VecDeque<Vec<u8>>,
    send_heartbeat: bool,
    heartbeat_nonce: u64,
    heartbeat_outstanding: bool,
    raw_packets: VecDeque<Vec<u8>>,
    error_causes: Vec<u8>,

    /// Outgoing streams to reset, each once (a set: a peer may make us refuse thousands).
    pub(crate) reset_queue: BTreeSet<u16>,
    /// Streams whose data is dropped: their DATA_CHANNEL_OPEN was refused (until the peer
    /// resets them too), or their channel closed without RE-CONFIG (until a new channel).
    pub(crate) refused: BTreeSet<u16>,
    reconfig_inflight: Option<ReconfigRequest>,
    send_reconfig_request: bool,
    next_req_seq: u32,
    peer_next_req_seq: u32,
    peer_last_result: u32,
    deferred_reset: Option<(u64, Vec<u16>)>,
    held: Vec<HeldData>,
    held_bytes: usize,
    reconfig_responses: VecDeque<(u32, u32)>,

    pub(crate) channels: BTreeMap<u16, Channel>,
    pub(crate) events: VecDeque<Event>,
    pub(crate) rx_event_bytes: usize,
    /// Messages that arrived on streams with no channel yet (negotiated channels the
    /// application has not created), by stream.
    pub(crate) early: BTreeMap<u16, VecDeque<(u32, Vec<u8>)>>,
    /// Their bytes, charged as `rx_event_bytes` are.
    pub(crate) early_bytes: usize,
    /// Label and protocol bytes of the channels the peer opened.
    pub(crate) peer_label_bytes: usize,
    pub(crate) stats: Stats,
}

impl std::fmt::Debug for Association {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Association")
            .field("state", &self.state)
            .field("channels", &self.channels.len())
            .field("stats", &self.stats())
            .field("out", &self.out)
            .field("timers", &self.timers)
            .field("rto", &self.rto)
            .finish_non_exhaustive()
    }
}

impl Association {
    /// A closed association. Call [`connect`](Self::connect) to send INIT, or wait for the
    /// peer's INIT (over DTLS both sides usually connect; the collision is handled per RFC
    /// 9260 5.2.4).
    pub fn new(mut cfg: Config, mut rng: Rng, now: Instant) -> Self {
        // Values that would make the protocol impossible are pulled into range rather than
        // trusted: an MTU must fit headers and some data, and a stream count cannot be zero.
        cfg.mtu = cfg.mtu.clamp(256, 65_535);
        cfg.max_streams = cfg.max_streams.max(1);
        cfg.initial_cwnd_mtus = cfg.initial_cwnd_mtus.max(1);
        cfg.max_burst = cfg.max_burst.map(|b| b.max(1));
        cfg.rto_min = cfg.rto_min.max(Duration::from_millis(1));
        cfg.rto_max = cfg.rto_max.max(cfg.rto_min);
        let mut secret = [0u8; 32];
        rng.fill(&mut secret);
        let key = hmac::Key::new(hmac::HMAC_SHA256, &secret);
        let my_tag = nonzero(&mut rng);
        let my_initial_tsn = rng.u32();
        let rto = Rto::new(cfg.rto_initial, cfg.rto_min, cfg.rto_max);
        let out = Outstanding::new(
            my_initial_tsn,
            cfg.max_receive_buffer as u32,
            cfg.mtu,
            cfg.initial_cwnd_mtus * cfg.mtu,
        );
        let reasm = Reassembly::new(cfg.max_message_size);
        Self {
            rng,
            epoch: now,
            now,
            key,
            state: AssociationState::Closed,
            my_tag,
            peer_tag: 0,
            my_initial_tsn,
            caps: 0,
            outbound_streams: cfg.max_streams,
            inbound_streams: cfg.max_streams,
            init_retransmits: 0,
            cookie_echo: None,
            cookie_sent_at: None,
            tx: SendQueue::default(),
            out,
            rx: DataTracker::new(0),
            reasm,
            timers: TimerTable::default(),
            rto,
            error_count: 0,
            send_init: false,
            send_cookie_echo: false,
            send_cookie_ack: false,
            send_shutdown: false,
            send_shutdown_ack: false,
            send_shutdown_complete: false,
            sack_snaps: SackSnaps::default(),
            fast_rtx_bypass: false,
            burst_left: 0,
            burst_polled: false,
            pending_abort: None,
            heartbeat_acks: VecDeque::new(),
            send_heartbeat: false,
            heartbeat_nonce: 0,
            heartbeat_outstanding: false,
            raw_packets: VecDeque::new(),
            error_causes: Vec::new(),
            reset_queue: BTreeSet::new(),
            refused: BTreeSet::new(),
            reconfig_inflight: None,
            send_reconfig_request: false,
            next_req_seq: my_initial_tsn,
            peer_next_req_seq: 0,
            peer_last_result: reconfig_result::SUCCESS_NOTHING,
            deferred_reset: None,
            held: Vec::new(),
            held_bytes: 0,
            reconfig_responses: VecDeque::new(),
            channels: BTreeMap::new(),
            events: VecDeque::new(),
            rx_event_bytes: 0,
            early: BTreeMap::new(),
            early_bytes: 0,
            peer_label_bytes: 0,
            stats: Stats::default(),
            cfg,
        }
    }

    /// The association state.
    pub fn state(&self) -> AssociationState {
        self.state
    }

    /// `true` once the handshake completed and until shutdown begins.
    pub fn is_established(&self) -> bool {
        self.state == AssociationState::Established
    }

    /// The verification tag this side expects on every packet (diagnostics, fuzzing).
    pub fn local_verification_tag(&self) -> u32 {
        self.my_tag
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        let mut s = self.stats;
        s.retransmissions = self.out.retransmissions;
        s.cwnd = self.out.cwnd as u64;
        s.peer_rwnd = self.out.peer_rwnd as u64;
        s.bytes_in_flight = self.out.flight as u64;
        s
    }

    /// Smoothed round-trip time, once measured.
    pub fn rtt(&self) -> Option<Duration> {
        self.rto.srtt()
    }

    /// The congestion window and bytes in flight (for tests and stats).
    pub fn congestion(&self) -> (usize, usize) {
        (self.out.cwnd, self.out.flight)
    }

    /// `true` when the peer agreed to I-DATA.
    pub fn interleaving(&self) -> bool {
        self.caps & CAP_I_DATA != 0
    }

    /// `true` when packets are sent with a zero checksum (RFC 9653).
    pub fn zero_checksum(&self) -> bool {
        self.caps & CAP_ZERO_CHECKSUM != 0
    }

    /// Starts the handshake: INIT goes out at the next `poll_transmit`.
    pub fn connect(&mut self, now: Instant) -> Result<(), Error> {
        if self.state != AssociationState::Closed || self.peer_tag != 0 {
            return Err(Error::AlreadyStarted);
        }
        self.now = now;
        self.state = AssociationState::CookieWait;
        self.send_init = true;
        self.timers.set(Timer::T1Init, now + self.rto.rto());
        Ok(())
    }

    /// Graceful shutdown (RFC 9260 9.2): queued data is sent and acknowledged first.
    pub fn close(&mut self, now: Instant) {
        self.now = now;
        match self.state {
            AssociationState::Established => {
                self.state = AssociationState::ShutdownPending;
                self.check_shutdown(now);
            }
            AssociationState::CookieWait | AssociationState::CookieEchoed => {
                self.abort("closed before established")
            }
            _ => {}
        }
    }

    /// Aborts the association at once, telling the peer why (a user-initiated abort cause).
    pub fn abort(&mut self, reason: &str) {
        if self.state == AssociationState::Closed {
            return;
        }
        let mut causes = Vec::new();
        chunk::put_cause(&mut causes, cause::USER_ABORT, reason.as_bytes());
        self.pending_abort = Some(causes);
        self.enter_closed();
    }

    /// The next instant `handle_timeout` should run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        let e = self.events.pop_front()?;
        if let Event::Message { data, .. } = &e {
            self.rx_event_bytes -= data.len() + ENTRY_OVERHEAD;
        }
        Some(e)
    }

    /// Receive-side bytes held: data in reassembly, messages not yet polled, data held for a
    /// stream reset, messages kept for a negotiated channel not created yet, each piece
    /// charged a per-piece overhead beyond its payload. This is what the receive window
    /// counts: it stays below twice `max_receive_buffer`.
    pub fn receive_buffered(&self) -> usize {
        self.reasm.buffered + self.rx_event_bytes + self.held_bytes + self.early_bytes
    }

    /// What one stream holds on the receive side (in reassembly, and messages kept for a
    /// negotiated channel not created yet), as charged against the receive window.
    pub fn channel_receive_buffered(&self, id: ChannelId) -> usize {
        self.reasm.stream_buffered(id.0)
            + self
                .early
                .get(&id.0)
                .map_or(0, |q| q.iter().map(|(_, d)| d.len() + ENTRY_OVERHEAD).sum())
    }

    /// Streams that carry receive state (sequence numbers, reassembly): about 130 bytes each,
    /// at most the negotiated inbound stream count.
    pub fn receive_stream_count(&self) -> usize {
        self.reasm.stream_count()
    }

    fn a_rwnd(&self) -> u32 {
        let used = self.receive_buffered();
        self.cfg
            .max_receive_buffer
            .saturating_sub(used)
            .min(u32::MAX as usize) as u32
    }

    fn enter_closed(&mut self) {
        self.state = AssociationState::Closed;
        self.timers.clear();
        self.send_init = false;
        self.send_cookie_echo = false;
        self.close_all_channels();
    }

    fn fail(&mut self, err: Error) {
        if self.state == AssociationState::Closed {
            return;
        }
        if matches!(err, Error::ProtocolViolation(_)) {
            let mut causes = Vec::new();
            chunk::put_cause(
                &mut causes,
                cause::PROTOCOL_VIOLATION,
                err.to_string().as_bytes(),
            );
            self.pending_abort = Some(causes);
        }
        self.enter_closed();
        self.events.push_back(Event::Aborted { reason: err });
    }

    // ---- input -----------------------------------------------------------------------------

    /// Handles one SCTP packet (the payload of one DTLS application-data record).
    ///
    /// An `Err` means the packet was dropped (see [`Error`]'s `Classify`: fatal errors also
    /// ended the association, which `poll_event` reports as `Aborted`).
    pub fn handle_packet(&mut self, now: Instant, packet: &[u8]) -> Result<(), Error> {
        self.now = now;
        let r = self.handle_packet_inner(now, packet);
        match &r {
            Ok(()) => self.stats.packets_received += 1,
            Err(e) => {
                self.stats.packets_dropped += 1;
                if zvon_base::Classify::is_fatal(e) {
                    self.fail(e.clone());
                }
            }
        }
        r
    }

    fn handle_packet_inner(&mut self, now: Instant, packet: &[u8]) -> Result<(), Error> {
        let pkt = Packet::parse(packet, self.cfg.zero_checksum)?;
        let vtag = pkt.verification_tag();
        let first = pkt.first_chunk_type();
        // RFC 9260 8.5 / 8.5.1: which tag each packet must carry.
        match first {
            Some(kind::INIT) => {
                if vtag != 0 {
                    return Err(Error::BadVerificationTag);
                }
            }
            Some(kind::ABORT) | Some(kind::SHUTDOWN_COMPLETE) => {
                let t = packet.get(HEADER_LEN + 1).is_some_and(|f| f & flag::T != 0);
                let ok = if t {
                    vtag == self.peer_tag && self.peer_tag != 0
                } else {
                    vtag == self.my_tag
                };
                if !ok {
                    return Err(Error::BadVerificationTag);
                }
            }
            // Checked against the cookie's tag once the cookie authenticates.
            Some(kind::COOKIE_ECHO) => {}
            _ => {
                if vtag != self.my_tag {
                    return Err(Error::BadVerificationTag);
                }
            }
        }
        let mut got_data = false;
        for c in pkt.chunks() {
            let c = c?;
            match c {
                Chunk::Data(d) => {
                    got_data = true;
                    self.handle_data(&d)?;
                }
                Chunk::Init(i) => {
                    self.handle_init(now, &i)?;
                    // INIT must be alone in its packet (RFC 9260 6.10).
                    break;
                }
                Chunk::InitAck(i) => self.handle_init_ack(now, &i)?,
                Chunk::Sack(s) => {
                    self.stats.sacks_received += 1;
                    self.handle_sack(now, &s)?
                }
                Chunk::Heartbeat(info) => {
                    if self.heartbeat_acks.len() < 8 && self.peer_tag != 0 {
                        self.heartbeat_acks.push_back(info.to_vec());
                    }
                }
                Chunk::HeartbeatAck(info) => self.handle_heartbeat_ack(now, info),
                Chunk::Abort { causes, .. } => {
                    let reason = describe_causes(causes);
                    self.enter_closed();
                    self.pending_abort = None;
                    self.events.push_back(Event::Aborted {
                        reason: Error::AbortedByPeer(reason),
                    });
                    return Ok(());
                }
                Chunk::Shutdown { cum_tsn } => self.handle_shutdown(now, cum_tsn)?,
                Chunk::ShutdownAck => {
                    if matches!(
                        self.state,
                        AssociationState::ShutdownSent | AssociationState::ShutdownAckSent
                    ) {
                        self.send_shutdown_complete = true;
                        self.state = AssociationState::Closed;
                        self.timers.clear();
                        self.close_all_channels();
                        self.events.push_back(Event::Closed);
                    }
                }
                Chunk::ShutdownComplete { .. } => {
                    if self.state == AssociationState::ShutdownAckSent {
                        self.state = AssociationState::Closed;
                        self.timers.clear();
                        self.close_all_channels();
                        self.events.push_back(Event::Closed);
                    }
                }
                Chunk::Error(causes) => self.handle_error(now, causes),
                Chunk::CookieEcho(cookie) => self.handle_cookie_echo(now, vtag, cookie)?,
                Chunk::CookieAck => {
                    if self.state == AssociationState::CookieEchoed {
                        // Karn: only an unrepeated COOKIE ECHO gives a round-trip sample.
                        if self.init_retransmits == 0
                            && let Some(sent) = self.cookie_sent_at
                        {
                            self.rto.sample(now.saturating_duration_since(sent));
                        }
                        self.timers.stop(Timer::T1Cookie);
                        self.cookie_echo = None;
                        self.send_cookie_echo = false;
                        self.state = AssociationState::Established;
                        self.on_established(now);
                    }
                }
                Chunk::ForwardTsn(f) => {
                    if self.caps & CAP_FORWARD_TSN != 0 && self.data_state() {
                        got_data = true;
                        let new_cum = self.rx.unwrap(f.new_cum_tsn);
                        // A FORWARD-TSN behind us is a duplicate: answer it with a SACK.
                        self.rx.forward_to(new_cum);
                        self.reasm.forward(new_cum, f.interleaved, f.streams());
                        self.rx.ack_now = true;
                        self.deliver_ready();
                    }
                }
                Chunk::ReConfig(value) => self.handle_reconfig(now, value)?,
                Chunk::Unknown { kind: k, raw } => {
                    //# RFC 9260 3.2: the two high bits of an unknown chunk type say what to do.
                    if k & 0x40 != 0 && self.error_causes.len() < 512 {
                        let take = raw.len().min(256);
                        chunk::put_cause(
                            &mut self.error_causes,
                            cause::UNRECOGNIZED_CHUNK,
                            &raw[..take],
                        );
                    }
                    if k & 0x80 == 0 {
                        break;
                    }
                }
            }
            if self.state == AssociationState::Closed && self.peer_tag == 0 {
                break;
            }
        }
        if got_data {
            self.after_data(now);
        }
        Ok(())
    }

    fn data_state(&self) -> bool {
        matches!(
            self.state,
            AssociationState::Established
                | AssociationState::ShutdownPending
                | AssociationState::ShutdownSent
        )
    }

    fn handle_data(&mut self, d: &Data<'_>) -> Result<(), Error> {
        if !self.data_state() {
            return Ok(());
        }
        if d.interleaved != (self.caps & CAP_I_DATA != 0) {
            return Err(Error::ProtocolViolation("DATA and I-DATA mixed up"));
        }
        let tsn = self.rx.unwrap(d.tsn);
        if d.immediate() {
            self.rx.ack_now = true;
        }
        let used = self.receive_buffered();
        let max = self.cfg.max_receive_buffer;
        if used >= max && (tsn > self.rx.highest() || used >= 2 * max) {
            //# RFC 9260 6.2: with no window left, drop new data beyond the highest TSN.
            // Filling holes below it stays allowed, up to twice the window: a peer that sent
            // far ahead and then fills the gap cannot grow the buffer without bound.
            self.rx.ack_now = true;
            return Ok(());
        }
        if self.rx.observe(tsn, d.tsn) != Observed::New {
            return Ok(());
        }
        if let Some((last, streams)) = &self.deferred_reset
            && tsn > *last
            && (streams.is_empty() || streams.contains(&d.stream))
        {
            self.held_bytes += d.payload.len() + ENTRY_OVERHEAD;
            self.held.push(HeldData {
                tsn,
                stream: d.stream,
                mid: d.mid,
                ppid: d.ppid,
                fsn: d.fsn,
                flags: d.flags,
                interleaved: d.interleaved,
                payload: d.payload.to_vec(),
            });
            return Ok(());
        }
        self.reasm.add(tsn, d);
        if self.reasm.too_large {
            return Err(Error::ProtocolViolation(
                "message larger than the maximum message size",
            ));
        }
        self.deliver_ready();
        Ok(())
    }

    fn after_data(&mut self, now: Instant) {
        self.rx.packets_since_sack += 1;
        self.rx.sack_owed = true;
        if let Some((last, _)) = &self.deferred_reset
            && self.rx.cum() >= *last
        {
            self.perform_deferred_reset();
        }
        if self.rx.ack_now || self.rx.packets_since_sack >= 2 {
            self.snapshot_sack();
            self.timers.stop(Timer::DelayedAck);
        } else if !self.timers.is_set(Timer::DelayedAck) {
            self.timers
                .set(Timer::DelayedAck, now + self.cfg.delayed_ack);
        }
    }

    fn snapshot_sack(&mut self) {
        let a_rwnd = self.a_rwnd();
        let buf = self.sack_snaps.begin();
        self.rx
            .write_sack(a_rwnd, self.cfg.mtu - HEADER_LEN - 4, buf);
        self.sack_snaps.end();
    }

    fn deliver_ready(&mut self) {
        while let Some(m) = self.reasm.ready.pop_front() {
            self.stats.messages_received += 1;
            self.on_message(m.stream, m.ppid, m.data);
        }
    }

    fn negotiate(&self, p: &chunk::InitParams<'_>) -> u8 {
        let mut caps = 0;
        if self.cfg.partial_reliability && p.forward_tsn {
            caps |= CAP_FORWARD_TSN;
        }
        if self.cfg.interleaving && p.i_data {
            caps |= CAP_I_DATA;
        }
        if p.reconfig {
            caps |= CAP_RECONFIG;
        }
        if self.cfg.zero_checksum && p.zero_checksum == Some(EDMID_DTLS) {
            caps |= CAP_ZERO_CHECKSUM;
        }
        caps
    }

    fn our_init(&self, tag: u32, initial_tsn: u32) -> InitRepr<'static> {
        InitRepr {
            initiate_tag: tag,
            a_rwnd: self.a_rwnd(),
            outbound_streams: self.cfg.max_streams,
            inbound_streams: self.cfg.max_streams,
            initial_tsn,
            cookie: None,
            forward_tsn: self.cfg.partial_reliability,
            i_data: self.cfg.interleaving,
            reconfig: true,
            zero_checksum: self.cfg.zero_checksum.then_some(EDMID_DTLS),
            unrecognized: &[],
        }
    }

    fn handle_init(&mut self, now: Instant, init: &chunk::Init<'_>) -> Result<(), Error> {
        if init.initiate_tag == 0 || init.inbound_streams == 0 || init.outbound_streams == 0 {
            return Err(Error::Malformed("INIT with a zero tag or no streams"));
        }
        let params = chunk::parse_init_params(init.params)?;
        let (my_tag, my_tsn, tie_my, tie_peer) = match self.state {
            AssociationState::Closed => {
                if self.peer_tag != 0 {
                    // An association ended here: start afresh with new values.
                    self.my_tag = nonzero(&mut self.rng);
                    self.my_initial_tsn = self.rng.u32();
                }
                (self.my_tag, self.my_initial_tsn, 0, 0)
            }
            //# RFC 9260 5.2.1: in COOKIE-WAIT / COOKIE-ECHOED answer with the same tag and TSN
            //# as our own INIT.
            AssociationState::CookieWait => (self.my_tag, self.my_initial_tsn, self.my_tag, 0),
            AssociationState::CookieEchoed => {
                (self.my_tag, self.my_initial_tsn, self.my_tag, self.peer_tag)
            }
            AssociationState::ShutdownAckSent => return Ok(()),
            _ => {
                //# RFC 9260 5.2.2: an unexpected INIT gets new tags, with tie-tags.
                (
                    nonzero(&mut self.rng),
                    self.rng.u32(),
                    self.my_tag,
                    self.peer_tag,
                )
            }
        };
        let body = CookieBody {
            my_tag,
            peer_tag: init.initiate_tag,
            my_initial_tsn: my_tsn,
            peer_initial_tsn: init.initial_tsn,
            peer_rwnd: init.a_rwnd,
            tie_my,
            tie_peer,
            outbound: self.cfg.max_streams.min(init.inbound_streams),
            inbound: self.cfg.max_streams.min(init.outbound_streams),
            caps: self.negotiate(&params),
            created_ms: now.saturating_duration_since(self.epoch).as_millis() as u64,
        };
        let cookie = body.seal(&self.key);
        let mut repr = self.our_init(my_tag, my_tsn);
        repr.cookie = Some(&cookie);
        repr.unrecognized = &params.unrecognized;
        let mut p = Vec::with_capacity(256);
        let w = PacketWriter::begin(
            &mut p,
            self.cfg.local_port,
            self.cfg.remote_port,
            init.initiate_tag,
        );
        repr.encode(true, &mut p);
        w.finish(&mut p, false);
        if self.raw_packets.len() < 4 {
            self.raw_packets.push_back(p);
        }
        Ok(())
    }

    fn handle_init_ack(&mut self, now: Instant, init: &chunk::Init<'_>) -> Result<(), Error> {
        if self.state != AssociationState::CookieWait {
            return Ok(());
        }
        if init.initiate_tag == 0 || init.inbound_streams == 0 || init.outbound_streams == 0 {
            return Err(Error::Malformed("INIT ACK with a zero tag or no streams"));
        }
        let params = chunk::parse_init_params(init.params)?;
        let Some(cookie) = params.cookie else {
            return Err(Error::Malformed("INIT ACK without a state cookie"));
        };
        self.peer_tag = init.initiate_tag;
        self.caps = self.negotiate(&params);
        self.outbound_streams = self.cfg.max_streams.min(init.inbound_streams);
        self.inbound_streams = self.cfg.max_streams.min(init.outbound_streams);
        self.setup_tcb(init.initial_tsn, init.a_rwnd, self.my_initial_tsn);
        self.cookie_echo = Some(cookie.to_vec());
        self.state = AssociationState::CookieEchoed;
        self.send_init = false;
        self.send_cookie_echo = true;
        self.timers.stop(Timer::T1Init);
        self.init_retransmits = 0;
        self.timers.set(Timer::T1Cookie, now + self.rto.rto());
        Ok(())
    }

    fn setup_tcb(&mut self, peer_initial_tsn: u32, peer_rwnd: u32, my_initial_tsn: u32) {
        self.my_initial_tsn = my_initial_tsn;
        self.out = Outstanding::new(
            my_initial_tsn,
            peer_rwnd,
            self.cfg.mtu,
            self.cfg.initial_cwnd_mtus * self.cfg.mtu,
        );
        self.next_req_seq = my_initial_tsn;
        self.rx = DataTracker::new(peer_initial_tsn);
        self.reasm = Reassembly::new(self.cfg.max_message_size);
        self.peer_next_req_seq = peer_initial_tsn;
    }

    fn handle_cookie_echo(&mut self, now: Instant, vtag: u32, cookie: &[u8]) -> Result<(), Error> {
        let Some(body) = CookieBody::open(cookie, &self.key) else {
            return Err(Error::BadCookie);
        };
        if vtag != body.my_tag {
            return Err(Error::BadVerificationTag);
        }
        let age_ms = now
            .saturating_duration_since(self.epoch)
            .as_millis()
            .saturating_sub(body.created_ms as u128);
        if age_ms > self.cfg.cookie_lifetime.as_millis() {
            if self.state != AssociationState::Established {
                //# RFC 9260 5.1.3: a stale cookie gets an ERROR with the staleness in usec.
                let us = (age_ms * 1000).min(u32::MAX as u128) as u32;
                let mut causes = Vec::new();
                chunk::put_cause(&mut causes, cause::STALE_COOKIE, &us.to_be_bytes());
                let mut p = Vec::new();
                let w = PacketWriter::begin(
                    &mut p,
                    self.cfg.local_port,
                    self.cfg.remote_port,
                    body.peer_tag,
                );
                chunk::put_opaque(&mut p, kind::ERROR, 0, &causes);
                w.finish(&mut p, false);
                self.raw_packets.push_back(p);
            }
            return Ok(());
        }
        use AssociationState as S;
        match self.state {
            S::Closed => {
                if self.peer_tag != 0 && body.peer_tag == self.peer_tag {
                    return Ok(()); // a retransmitted cookie of an association that ended
                }
                self.establish_from_cookie(now, &body);
            }
            S::CookieWait | S::CookieEchoed => {
                //# RFC 9260 5.2.4 action B/D in the collision case: our tag matches.
                if body.my_tag == self.my_tag {
                    self.establish_from_cookie(now, &body);
                }
            }
            _ => {
                if body.my_tag == self.my_tag && body.peer_tag == self.peer_tag {
                    // Action D: a retransmitted COOKIE ECHO; the COOKIE ACK got lost.
                    self.send_cookie_ack = true;
                } else if body.my_tag == self.my_tag {
                    // Action B: the peer's tag changed in a collision.
                    self.peer_tag = body.peer_tag;
                    self.send_cookie_ack = true;
                } else if body.peer_tag != self.peer_tag
                    && body.tie_my == self.my_tag
                    && body.tie_peer == self.peer_tag
                {
                    //# RFC 9260 5.2.4 A: the peer may have restarted; handled as an ABORT
                    //# followed by a new COOKIE ECHO, and a RESTART notification to the ULP.
                    if self.state == S::ShutdownAckSent {
                        self.refuse_restart_while_shutting_down(body.peer_tag);
                    } else {
                        self.restart(now, &body);
                    }
                }
                // Otherwise (action C or a stale cookie): silently discarded.
            }
        }
        Ok(())
    }

    /// RFC 9260 5.2.4 A in SHUTDOWN-ACK-SENT: no new association; the SHUTDOWN ACK again,
    /// with an ERROR "Cookie Received While Shutting Down", to the restarted peer's tag.
    fn refuse_restart_while_shutting_down(&mut self, peer_tag: u32) {
        let mut p = Vec::with_capacity(32);
        let w = PacketWriter::begin(&mut p, self.cfg.local_port, self.cfg.remote_port, peer_tag);
        chunk::put_empty(&mut p, kind::SHUTDOWN_ACK, 0);
        let mut causes = Vec::with_capacity(4);
        chunk::put_cause(&mut causes, cause::COOKIE_WHILE_SHUTTING_DOWN, &[]);
        chunk::put_opaque(&mut p, kind::ERROR, 0, &causes);
        w.finish(&mut p, false);
        if self.raw_packets.len() < 4 {
            self.raw_packets.push_back(p);
        }
    }

    /// The peer restarted (RFC 9260 5.2.4 action A). Its data channels are gone with its
    /// stream state, so ours are closed (`ChannelClosed` each) and everything queued, in
    /// flight or in reassembly is dropped; the association comes up again at once from the
    /// cookie, with new tags, TSNs, RTO and congestion state (as the RFC requires), and the
    /// application hears [`Event::Restarted`]. A shutdown this side had begun carries on.
    fn restart(&mut self, now: Instant, body: &CookieBody) {
        use AssociationState as S;
        let closing = matches!(self.state, S::ShutdownPending | S::ShutdownSent);
        self.close_all_channels();
        self.tx = SendQueue::default();
        self.reset_queue.clear();
        self.reconfig_inflight = None;
        self.send_reconfig_request = false;
        self.deferred_reset = None;
        self.held.clear();
        self.held_bytes = 0;
        self.reconfig_responses.clear();
        self.peer_last_result = reconfig_result::SUCCESS_NOTHING;
        self.sack_snaps.clear();
        self.heartbeat_acks.clear();
        self.heartbeat_outstanding = false;
        self.send_heartbeat = false;
        self.fast_rtx_bypass = false;
        self.send_shutdown = false;
        self.send_shutdown_ack = false;
        self.error_causes.clear();
        self.timers.clear();
        self.rto = Rto::new(self.cfg.rto_initial, self.cfg.rto_min, self.cfg.rto_max);
        self.my_tag = body.my_tag;
        self.peer_tag = body.peer_tag;
        self.caps = body.caps;
        self.outbound_streams = body.outbound;
        self.inbound_streams = body.inbound;
        self.setup_tcb(body.peer_initial_tsn, body.peer_rwnd, body.my_initial_tsn);
        self.send_cookie_ack = true;
        self.state = S::Established;
        self.stats.restarts += 1;
        self.events.push_back(Event::Restarted);
        self.start_established(now);
        if closing {
            self.state = S::ShutdownPending;
            self.check_shutdown(now);
        }
    }

    fn establish_from_cookie(&mut self, now: Instant, body: &CookieBody) {
        self.my_tag = body.my_tag;
        self.peer_tag = body.peer_tag;
        self.caps = body.caps;
        self.outbound_streams = body.outbound;
        self.inbound_streams = body.inbound;
        self.setup_tcb(body.peer_initial_tsn, body.peer_rwnd, body.my_initial_tsn);
        self.timers.stop(Timer::T1Init);
        self.timers.stop(Timer::T1Cookie);
        self.send_init = false;
        self.send_cookie_echo = false;
        self.cookie_echo = None;
        self.send_cookie_ack = true;
        self.state = AssociationState::Established;
        self.on_established(now);
    }

    fn on_established(&mut self, now: Instant) {
        self.start_established(now);
        self.events.push_back(Event::Connected);
        self.open_pending_channels();
    }

    fn start_established(&mut self, now: Instant) {
        self.error_count = 0;
        self.burst_left = self
            .cfg
            .max_burst
            .map_or(0, |b| b.max(self.cfg.initial_cwnd_mtus));
        self.burst_polled = false;
        if self.rto.srtt().is_none() {
            // Backoff from a lossy handshake says nothing about the data path: start afresh.
            self.rto = Rto::new(self.cfg.rto_initial, self.cfg.rto_min, self.cfg.rto_max);
        }
        if let Some(hb) = self.cfg.heartbeat_interval {
            self.timers.set(Timer::Heartbeat, now + hb);
        }
    }

    fn handle_sack(&mut self, now: Instant, s: &chunk::Sack<'_>) -> Result<(), Error> {
        if !matches!(
            self.state,
            AssociationState::Established
                | AssociationState::ShutdownPending
                | AssociationState::ShutdownSent
                | AssociationState::ShutdownReceived
        ) {
            return Ok(());
        }
        let o = self
            .out
            .handle_sack(now, s.cum_tsn, s.a_rwnd, s.gap_blocks())
            .map_err(|_| Error::ProtocolViolation("SACK acknowledges a TSN never sent"))?;
        if let Some(rtt) = o.rtt {
            self.rto.sample(rtt);
        }
        if o.progress {
            self.error_count = 0;
        }
        self.refill_burst();
        if self.out.has_lost() {
            self.fast_rtx_bypass = true;
        }
        if self.out.is_empty() {
            self.timers.stop(Timer::T3Rtx);
        } else if o.cum_advanced {
            self.timers.set(Timer::T3Rtx, now + self.rto.rto());
        }
        self.check_shutdown(now);
        Ok(())
    }

    /// A SACK opens a send opportunity of Max.Burst packets. SACKs handed over together,
    /// before the caller polled, are as many opportunities: their allowances add up.
    fn refill_burst(&mut self) {
        let Some(mut max_burst) = self.cfg.max_burst else {
            return;
        };
        if self.out.is_empty() && self.tx.is_empty() {
            // Idle now: whatever is sent next starts afresh and may use the initial window
            // at once, as the first flight does (the initial window is the burst the
            // configuration accepts into a path it knows nothing about).
            max_burst = max_burst.max(self.cfg.initial_cwnd_mtus);
        }
        if self.burst_polled {
            self.burst_left = max_burst;
            self.burst_polled = false;
        } else {
            self.burst_left = self.burst_left.saturating_add(max_burst);
        }
    }

    fn handle_heartbeat_ack(&mut self, now: Instant, info: &[u8]) {
        let mut it = Tlvs::new(info);
        let Some(Ok((HEARTBEAT_INFO, v, _))) = it.next() else {
            return;
        };
        if v.len() != 16 {
            return;
        }
        let mut ms = [0u8; 8];
        ms.copy_from_slice(&v[..8]);
        let mut nonce = [0u8; 8];
        nonce.copy_from_slice(&v[8..]);
        if u64::from_be_bytes(nonce) != self.heartbeat_nonce || !self.heartbeat_outstanding {
            return;
        }
        self.heartbeat_outstanding = false;
        self.error_count = 0;
        let sent = self.epoch + Duration::from_millis(u64::from_be_bytes(ms));
        self.rto.sample(now.saturating_duration_since(sent));
    }

    fn handle_shutdown(&mut self, now: Instant, cum_tsn: u32) -> Result<(), Error> {
        use AssociationState as S;
        if !matches!(
            self.state,
            S::Established | S::ShutdownPending | S::ShutdownSent | S::ShutdownReceived
        ) {
            return Ok(());
        }
        let a_rwnd = (self.out.peer_rwnd + self.out.flight).min(u32::MAX as usize) as u32;
        self.out
            .handle_sack(now, cum_tsn, a_rwnd, std::iter::empty())
            .map_err(|_| Error::ProtocolViolation("SHUTDOWN acknowledges a TSN never sent"))?;
        if self.state == S::ShutdownSent {
            // Both sides shut down at once: answer with SHUTDOWN ACK (RFC 9260 9.2).
            self.state = S::ShutdownAckSent;
            self.send_shutdown_ack = true;
            self.timers.set(Timer::T2Shutdown, now + self.rto.rto());
            return Ok(());
        }
        if self.state != S::ShutdownReceived {
            self.state = S::ShutdownReceived;
        }
        self.check_shutdown(now);
        Ok(())
    }

    fn check_shutdown(&mut self, now: Instant) {
        use AssociationState as S;
        let drained = self.tx.is_empty() && self.out.is_empty();
        match self.state {
            S::ShutdownPending if drained => {
                self.state = S::ShutdownSent;
                self.send_shutdown = true;
                self.timers.stop(Timer::T3Rtx);
                self.timers.set(Timer::T2Shutdown, now + self.rto.rto());
                //# RFC 9260 9.2: the T5 guard, suggested at 5 x RTO.Max.
                self.timers
                    .set(Timer::ShutdownGuard, now + self.cfg.rto_max * 5);
            }
            S::ShutdownReceived if drained => {
                self.state = S::ShutdownAckSent;
                self.send_shutdown_ack = true;
                self.timers.stop(Timer::T3Rtx);
                self.timers.set(Timer::T2Shutdown, now + self.rto.rto());
            }
            _ => {}
        }
    }

    fn handle_error(&mut self, now: Instant, causes: &[u8]) {
        for c in Tlvs::new(causes) {
            let Ok((code, _, _)) = c else { break };
            if code == cause::STALE_COOKIE && self.state == AssociationState::CookieEchoed {
                //# RFC 9260 5.2.6: start over with a fresh INIT.
                self.state = AssociationState::CookieWait;
                self.peer_tag = 0;
                self.send_cookie_echo = false;
                self.send_init = true;
                self.timers.stop(Timer::T1Cookie);
                self.timers.set(Timer::T1Init, now + self.rto.rto());
            }
        }
    }

    // ---- stream reconfiguration (RFC 6525) -------------------------------------------------

    fn handle_reconfig(&mut self, now: Instant, value: &[u8]) -> Result<(), Error> {
        if self.caps & CAP_RECONFIG == 0 || !self.data_state() {
            return Ok(());
        }
        for p in chunk::reconfig_params(value) {
            match p? {
                ReconfigParam::OutgoingReset {
                    req_seq,
                    last_tsn,
                    streams,
                    ..
                } => {
                    let streams: Vec<u16> = streams.iter().take(65536).collect();
                    let result = self.incoming_reset_request(req_seq, last_tsn, streams);
                    self.queue_response(req_seq, result);
                }
                ReconfigParam::Response { resp_seq, result } => {
                    self.reconfig_response(now, resp_seq, result)
                }
                ReconfigParam::IncomingReset { req_seq, .. }
                | ReconfigParam::Other { req_seq, .. } => {
                    // Not used by data channels: each side resets its own outgoing streams.
                    let result = self.other_request(req_seq);
                    self.queue_response(req_seq, result);
                }
            }
        }
        Ok(())
    }

    fn queue_response(&mut self, req_seq: u32, result: u32) {
        if self.reconfig_responses.len() < 16 {
            self.reconfig_responses.push_back((req_seq, result));
        }
    }

    fn other_request(&mut self, req_seq: u32) -> u32 {
        if req_seq == self.peer_next_req_seq {
            self.peer_next_req_seq = self.peer_next_req_seq.wrapping_add(1);
            self.peer_last_result = reconfig_result::DENIED;
            reconfig_result::DENIED
        } else if req_seq == self.peer_next_req_seq.wrapping_sub(1) {
            self.peer_last_result
        } else {
            reconfig_result::ERROR_BAD_SEQUENCE
        }
    }

    fn incoming_reset_request(&mut self, req_seq: u32, last_tsn: u32, streams: Vec<u16>) -> u32 {
        if req_seq == self.peer_next_req_seq.wrapping_sub(1) {
            // A retransmission: same answer (it may have completed meanwhile).
            return self.peer_last_result;
        }
        if req_seq != self.peer_next_req_seq {
            return reconfig_result::ERROR_BAD_SEQUENCE;
        }
        if self.deferred_reset.is_some() {
            return reconfig_result::ERROR_REQUEST_IN_PROGRESS;
        }
        self.peer_next_req_seq = self.peer_next_req_seq.wrapping_add(1);
        let last = self.rx.unwrap(last_tsn);
        if last <= self.rx.cum() {
            self.reset_incoming(&streams);
            self.peer_last_result = reconfig_result::SUCCESS_PERFORMED;
        } else {
            //# RFC 6525 5.2.2: data before the reset point is still missing: defer the reset.
            self.deferred_reset = Some((last, streams));
            self.peer_last_result = reconfig_result::IN_PROGRESS;
        }
        self.peer_last_result
    }

    fn perform_deferred_reset(&mut self) {
        let Some((_, streams)) = self.deferred_reset.take() else {
            return;
        };
        self.reset_incoming(&streams);
        self.peer_last_result = reconfig_result::SUCCESS_PERFORMED;
        self.queue_response(
            self.peer_next_req_seq.wrapping_sub(1),
            reconfig_result::SUCCESS_PERFORMED,
        );
        let mut held = std::mem::take(&mut self.held);
        self.held_bytes = 0;
        held.sort_by_key(|h| h.tsn);
        for h in held {
            let d = Data {
                tsn: h.tsn as u32,
                stream: h.stream,
                mid: h.mid,
                ppid: h.ppid,
                fsn: h.fsn,
                flags: h.flags,
                interleaved: h.interleaved,
                payload: &h.payload,
            };
            self.reasm.add(h.tsn, &d);
        }
        self.deliver_ready();
    }

    fn reset_incoming(&mut self, streams: &[u16]) {
        let all: Vec<u16>;
        let list = if streams.is_empty() {
            all = self
                .channels
                .keys()
                .chain(self.refused.iter())
                .copied()
                .collect();
            &all
        } else {
            streams
        };
        for &s in list {
            self.reasm.reset_stream(s);
            self.on_incoming_reset(s);
        }
    }

    fn reconfig_response(&mut self, now: Instant, resp_seq: u32, result: u32) {
        let Some(req) = &self.reconfig_inflight else {
            return;
        };
        if req.req_seq != resp_seq {
            return;
        }
        if result == reconfig_result::IN_PROGRESS {
            self.timers.set(Timer::Reconfig, now + self.rto.rto());
            return;
        }
        let Some(req) = self.reconfig_inflight.take() else {
            return;
        };
        self.timers.stop(Timer::Reconfig);
        for s in req.streams {
            self.tx.reset_stream(s);
            // Even a refused reset ends the channel here: nothing more can be done for it.
            self.on_outgoing_reset(s);
        }
    }

    fn maybe_start_reconfig(&mut self, now: Instant) {
        if self.reconfig_inflight.is_some() || self.reset_queue.is_empty() || !self.data_state() {
            return;
        }
        //# RFC 6525 5.1.2: the request names the last TSN assigned; the streams must have no
        //# data left to send before they reset.
        // A request must fit one packet beside a response: at most 256 streams at a time.
        let ready: Vec<u16> = self
            .reset_queue
            .iter()
            .copied()
            .filter(|&s| self.tx.stream_is_empty(s))
            .take(256)
            .collect();
        for s in &ready {
            self.reset_queue.remove(s);
        }
        if ready.is_empty() {
            return;
        }
        let req_seq = self.next_req_seq;
        self.next_req_seq = self.next_req_seq.wrapping_add(1);
        self.reconfig_inflight = Some(ReconfigRequest {
            req_seq,
            streams: ready,
            last_tsn: (self.out.next_tsn() - 1) as u32,
        });
        self.send_reconfig_request = true;
        self.timers.set(Timer::Reconfig, now + self.rto.rto());
    }

    // ---- timers ----------------------------------------------------------------------------

    /// Runs the timers that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        let due: Vec<Timer> = self.timers.expired(now).collect();
        for t in due {
            if self.state == AssociationState::Closed {
                break;
            }
            match t {
                Timer::T1Init => {
                    self.init_retransmits += 1;
                    if self
                        .cfg
                        .max_init_retransmits
                        .is_some_and(|m| self.init_retransmits > m)
                    {
                        self.fail(Error::Unreachable("no answer to INIT"));
                        continue;
                    }
                    self.rto.backoff();
                    self.send_init = true;
                    self.timers.set(Timer::T1Init, now + self.rto.rto());
                }
                Timer::T1Cookie => {
                    self.init_retransmits += 1;
                    if self
                        .cfg
                        .max_init_retransmits
                        .is_some_and(|m| self.init_retransmits > m)
                    {
                        self.fail(Error::Unreachable("no answer to COOKIE ECHO"));
                        continue;
                    }
                    self.rto.backoff();
                    self.send_cookie_echo = true;
                    self.timers.set(Timer::T1Cookie, now + self.rto.rto());
                }
                Timer::T3Rtx => {
                    self.stats.t3_expiries += 1;
                    if self.count_error() {
                        continue;
                    }
                    self.rto.backoff();
                    self.refill_burst();
                    if self.out.t3_expired() {
                        self.timers.set(Timer::T3Rtx, now + self.rto.rto());
                    }
                }
                Timer::DelayedAck => {
                    if self.rx.sack_owed {
                        self.snapshot_sack();
                    }
                }
                Timer::Heartbeat => {
                    if self.state == AssociationState::Established {
                        if self.heartbeat_outstanding {
                            if self.count_error() {
                                continue;
                            }
                            self.rto.backoff();
                        }
                        self.send_heartbeat = true;
                    }
                    if let Some(hb) = self.cfg.heartbeat_interval {
                        self.timers.set(Timer::Heartbeat, now + hb + self.rto.rto());
                    }
                }
                Timer::Reconfig => {
                    if self.reconfig_inflight.is_some() {
                        if self.count_error() {
                            continue;
                        }
                        self.rto.backoff();
                        self.send_reconfig_request = true;
                        self.timers.set(Timer::Reconfig, now + self.rto.rto());
                    }
                }
                Timer::T2Shutdown => {
                    if self.count_error() {
                        continue;
                    }
                    self.rto.backoff();
                    match self.state {
                        AssociationState::ShutdownSent => self.send_shutdown = true,
                        AssociationState::ShutdownAckSent => self.send_shutdown_ack = true,
                        _ => continue,
                    }
                    self.timers.set(Timer::T2Shutdown, now + self.rto.rto());
                }
                Timer::ShutdownGuard => {
                    self.fail(Error::Unreachable("shutdown did not complete"));
                }
            }
        }
    }

    /// Counts one retransmission timeout; `true` when the association gave up.
    fn count_error(&mut self) -> bool {
        self.error_count += 1;
        if self
            .cfg
            .max_retransmissions
            .is_some_and(|m| self.error_count > m)
        {
            self.fail(Error::Unreachable("too many retransmissions"));
            return true;
        }
        false
    }

    // ---- output ----------------------------------------------------------------------------

    /// Writes the next packet into `buf` (cleared first) and returns its length, or `None`
    /// when there is nothing to send now.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<usize> {
        self.now = now;
        buf.clear();
        self.burst_polled = true;
        let n = self.build_packet(now, buf);
        if n.is_some() {
            self.stats.packets_sent += 1;
        }
        self.flush_low_events();
        n
    }

    fn build_packet(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<usize> {
        if let Some(p) = self.raw_packets.pop_front() {
            buf.extend_from_slice(&p);
            return Some(buf.len());
        }
        if let Some(causes) = self.pending_abort.take() {
            if self.peer_tag == 0 {
                return None;
            }
            let w = PacketWriter::begin(
                buf,
                self.cfg.local_port,
                self.cfg.remote_port,
                self.peer_tag,
            );
            chunk::put_opaque(buf, kind::ABORT, 0, &causes);
            w.finish(buf, false);
            return Some(buf.len());
        }
        if self.send_shutdown_complete {
            self.send_shutdown_complete = false;
            let w = PacketWriter::begin(
                buf,
                self.cfg.local_port,
                self.cfg.remote_port,
                self.peer_tag,
            );
            chunk::put_empty(buf, kind::SHUTDOWN_COMPLETE, 0);
            w.finish(buf, self.zero_checksum());
            return Some(buf.len());
        }
        match self.state {
            AssociationState::Closed => return None,
            AssociationState::CookieWait => {
                if !self.send_init {
                    return None;
                }
                self.send_init = false;
                let w = PacketWriter::begin(buf, self.cfg.local_port, self.cfg.remote_port, 0);
                self.our_init(self.my_tag, self.my_initial_tsn)
                    .encode(false, buf);
                w.finish(buf, false);
                return Some(buf.len());
            }
            AssociationState::CookieEchoed => {
                if !self.send_cookie_echo {
                    return None;
                }
                self.send_cookie_echo = false;
                self.cookie_sent_at = Some(now);
                let cookie = self.cookie_echo.as_deref().unwrap_or(&[]);
                let w = PacketWriter::begin(
                    buf,
                    self.cfg.local_port,
                    self.cfg.remote_port,
                    self.peer_tag,
                );
                chunk::put_opaque(buf, kind::COOKIE_ECHO, 0, cookie);
                w.finish(buf, false);
                return Some(buf.len());
            }
            _ => {}
        }
        let mtu = self.cfg.mtu;
        let w = PacketWriter::begin(
            buf,
            self.cfg.local_port,
            self.cfg.remote_port,
            self.peer_tag,
        );
        if self.send_cookie_ack {
            self.send_cookie_ack = false;
            chunk::put_empty(buf, kind::COOKIE_ACK, 0);
        }
        self.maybe_start_reconfig(now);
        let data_ready = self.data_state()
            && (self.out.has_lost()
                || (!self.tx.is_empty() && self.out.can_send(1) && self.burst_allows()));
        if self.rx.sack_owed && data_ready {
            // Data goes out anyway: bundle a fresh SACK, which supersedes the snapshots.
            let a_rwnd = self.a_rwnd();
            let room = mtu.saturating_sub(buf.len());
            self.rx.write_sack(a_rwnd, room, buf);
            self.stats.sacks_sent += 1;
            self.sack_snaps.clear();
            self.timers.stop(Timer::DelayedAck);
        } else if let Some(snap) = self.sack_snaps.pop_front()
            && buf.len() + snap.len() <= mtu
        {
            buf.extend_from_slice(snap);
            self.stats.sacks_sent += 1;
        }
        while let Some(info) = self.heartbeat_acks.front() {
            if buf.len() + chunk::padded_chunk_len(info.len()) > mtu {
                break;
            }
            chunk::put_opaque(buf, kind::HEARTBEAT_ACK, 0, info);
            self.heartbeat_acks.pop_front();
        }
        if self.send_heartbeat && buf.len() + 24 <= mtu {
            self.send_heartbeat = false;
            self.heartbeat_outstanding = true;
            self.heartbeat_nonce = self.rng.u64();
            let mut v = [0u8; 16];
            let ms = now.saturating_duration_since(self.epoch).as_millis() as u64;
            v[..8].copy_from_slice(&ms.to_be_bytes());
            v[8..].copy_from_slice(&self.heartbeat_nonce.to_be_bytes());
            let mut info = Vec::with_capacity(20);
            chunk::put_tlv(&mut info, HEARTBEAT_INFO, &v);
            chunk::put_opaque(buf, kind::HEARTBEAT, 0, &info);
        }
        if self.send_shutdown && buf.len() + 8 <= mtu {
            self.send_shutdown = false;
            chunk::put_shutdown(buf, self.rx.cum() as u32);
        }
        if self.send_shutdown_ack && buf.len() + 4 <= mtu {
            self.send_shutdown_ack = false;
            chunk::put_empty(buf, kind::SHUTDOWN_ACK, 0);
        }
        if !self.error_causes.is_empty() && buf.len() + 4 + self.error_causes.len() <= mtu {
            let causes = std::mem::take(&mut self.error_causes);
            chunk::put_opaque(buf, kind::ERROR, 0, &causes);
        }
        self.write_reconfig(buf);
        let interleaved = self.caps & CAP_I_DATA != 0;
        if self.caps & CAP_FORWARD_TSN != 0
            && let Some((point, streams)) = self.out.forward_tsn(interleaved)
        {
            let need = 8 + streams.len() * if interleaved { 8 } else { 4 };
            if buf.len() + need <= mtu {
                chunk::put_forward_tsn(buf, point as u32, interleaved, &streams);
            }
            if !self.timers.is_set(Timer::T3Rtx) {
                self.timers.set(Timer::T3Rtx, now + self.rto.rto());
            }
        }
        let sent_data = if matches!(
            self.state,
            AssociationState::Established
                | AssociationState::ShutdownPending
                | AssociationState::ShutdownReceived
        ) {
            self.write_data(now, buf, interleaved)
        } else {
            false
        };
        if buf.len() == HEADER_LEN {
            buf.clear();
            return None;
        }
        if sent_data && !self.timers.is_set(Timer::T3Rtx) {
            self.timers.set(Timer::T3Rtx, now + self.rto.rto());
        }
        w.finish(buf, self.zero_checksum());
        Some(buf.len())
    }

    fn write_reconfig(&mut self, buf: &mut Vec<u8>) {
        let mtu = self.cfg.mtu;
        let mut params = Vec::new();
        let mut n = 0;
        if self.send_reconfig_request
            && let Some(req) = &self.reconfig_inflight
            && buf.len() + 4 + 16 + 2 * req.streams.len() + 12 <= mtu
        {
            chunk::put_outgoing_reset(
                &mut params,
                req.req_seq,
                self.peer_next_req_seq.wrapping_sub(1),
                req.last_tsn,
                &req.streams,
            );
            self.send_reconfig_request = false;
            n += 1;
        }
        //# RFC 6525 3.1: at most two parameters in one RE-CONFIG chunk.
        while n < 2 && buf.len() + 4 + params.len() + 12 <= mtu {
            let Some((seq, result)) = self.reconfig_responses.pop_front() else {
                break;
            };
            chunk::put_reconfig_response(&mut params, seq, result);
            n += 1;
        }
        if n > 0 {
            chunk::put_opaque(buf, kind::RE_CONFIG, 0, &params);
        }
    }

    fn write_data(&mut self, now: Instant, buf: &mut Vec<u8>, interleaved: bool) -> bool {
        let mtu = self.cfg.mtu;
        let hdr = if interleaved {
            chunk::IDATA_HEADER
        } else {
            chunk::DATA_HEADER
        };
        let max_payload = (mtu - HEADER_LEN - hdr) & !3;
        let mut sent = false;
        // Retransmissions first (RFC 9260 6.1 C).
        while self.out.has_lost() {
            if self.out.flight >= self.out.cwnd && !self.fast_rtx_bypass {
                return sent;
            }
            let room = mtu.saturating_sub(buf.len());
            match self.out.retransmit(now, room, interleaved, buf) {
                Rtx::Wrote => sent = true,
                Rtx::NoFit | Rtx::Nothing => break,
                Rtx::Abandoned { stream, msg_seq } => self.tx.abandon_message(stream, msg_seq),
            }
        }
        if sent {
            self.fast_rtx_bypass = false;
        }
        if self.out.has_lost() {
            return sent;
        }
        if !self.burst_allows() {
            if !self.tx.is_empty() && self.out.can_send(1) {
                self.stats.burst_limited += 1;
            }
            // Stopped by Max.Burst, not by cwnd: cwnd is not "fully utilized" (RFC 9260
            // 7.2.1), so it does not grow from the next SACK unless that SACK finds it full.
            self.out.cwnd_limited = self.out.flight >= self.out.cwnd;
            return sent;
        }
        let mut sent_new = false;
        loop {
            let room = mtu.saturating_sub(buf.len());
            if room < hdr + 4 {
                break;
            }
            let room_payload = (room - hdr) & !3;
            if !self.out.can_send(room_payload.min(max_payload).max(1)) {
                self.stats.window_limited += 1;
                self.out.cwnd_limited = self.out.flight >= self.out.cwnd;
                break;
            }
            let Some(frag) = self.tx.produce(now, max_payload, room_payload, interleaved) else {
                if self.tx.is_empty() {
                    self.out.cwnd_limited = false;
                }
                break;
            };
            //# RFC 7053: ask for an immediate SACK when nothing more can follow, so that the
            //# last packet of a burst does not wait for the delayed-ack timer.
            let immediate =
                self.tx.is_empty() || self.out.flight + frag.len as usize >= self.out.cwnd;
            self.out.send_new(now, frag, interleaved, immediate, buf);
            sent_new = true;
        }
        if sent_new && self.cfg.max_burst.is_some() {
            self.burst_left = self.burst_left.saturating_sub(1);
        }
        sent || sent_new
    }

    /// May a packet of new data go in this send opportunity?
    //# RFC 9260 6.1 D: Max.Burst limits the packets of new DATA sent at one time, here by
    //# counting the packets the output routine emits, so cwnd itself is not changed.
    fn burst_allows(&self) -> bool {
        self.cfg.max_burst.is_none() || self.burst_left > 0
    }
}

/// SACKs taken when they became due, waiting to be sent: one buffer for all of them (ranges
/// into it), reused, so a batch of any size allocates nothing once the buffer has grown.
#[derive(Debug, Default)]
struct SackSnaps {
    bytes: Vec<u8>,
    ranges: VecDeque<(usize, usize)>,
    start: usize,
}

impl SackSnaps {
    /// The buffer to append the next SACK to.
    fn begin(&mut self) -> &mut Vec<u8> {
        if self.ranges.len() >= MAX_SACK_SNAPS {
            // The oldest is superseded anyway: drop it.
            self.ranges.pop_front();
        }
        match self.ranges.front() {
            None => self.bytes.clear(),
            Some(&(first, _)) if first > 4096 && first > self.bytes.len() / 2 => {
                // Compact: what was sent is at the front.
                self.bytes.drain(..first);
                for r in &mut self.ranges {
                    r.0 -= first;
                    r.1 -= first;
                }
            }
            _ => {}
        }
        self.start = self.bytes.len();
        &mut self.bytes
    }

    fn end(&mut self) {
        self.ranges.push_back((self.start, self.bytes.len()));
    }

    fn pop_front(&mut self) -> Option<&[u8]> {
        let (s, e) = self.ranges.pop_front()?;
        self.bytes.get(s..e)
    }

    fn clear(&mut self) {
        self.ranges.clear();
        self.bytes.clear();
    }
}

fn nonzero(rng: &mut Rng) -> u32 {
    loop {
        let v = rng.u32();
        if v != 0 {
            return v;
        }
    }
}

fn describe_causes(causes: &[u8]) -> String {
    let mut s = String::new();
    for c in Tlvs::new(causes).take(4) {
        let Ok((code, info, _)) = c else { break };
        if !s.is_empty() {
            s.push_str("; ");
        }
        let name = match code {
            cause::INVALID_STREAM => "invalid stream identifier",
            cause::MISSING_PARAM => "missing mandatory parameter",
            cause::STALE_COOKIE => "stale cookie",
            cause::OUT_OF_RESOURCE => "out of resource",
            cause::UNRECOGNIZED_CHUNK => "unrecognized chunk type",
            cause::INVALID_PARAM => "invalid mandatory parameter",
            cause::UNRECOGNIZED_PARAMS => "unrecognized parameters",
            cause::NO_USER_DATA => "no user data",
            cause::COOKIE_WHILE_SHUTTING_DOWN => "cookie received while shutting down",
            cause::USER_ABORT => "user-initiated abort",
            cause::PROTOCOL_VIOLATION => "protocol violation",
            _ => "error cause",
        };
        s.push_str(name);
        if matches!(code, cause::USER_ABORT | cause::PROTOCOL_VIOLATION) && !info.is_empty() {
            s.push_str(": ");
            s.push_str(&String::from_utf8_lossy(&info[..info.len().min(128)]));
        }
    }
    if s.is_empty() {
        s.push_str("no cause given");
    }
    s
}

impl Association {
    pub(crate) fn reconfig_supported(&self) -> bool {
        self.caps & CAP_RECONFIG != 0
    }
}
