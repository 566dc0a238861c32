//! The sans-IO DTLS transport: dimpl underneath, fingerprint verification and key release on
//! top.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use zvon_base::{DatagramKind, Rng, classify};

use crate::fingerprint::verify_certificate;
use crate::{DtlsError, DtlsIdentity, DtlsRole, Fingerprint, SrtpKeyingMaterial, SrtpProfile};

/// Which DTLS versions an endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum VersionPolicy {
    /// DTLS 1.2 only.
    Dtls12,
    /// DTLS 1.3 only.
    Dtls13,
    /// Both. A server takes the version from the ClientHello (1.3 when offered); a client
    /// sends one ClientHello that offers both and follows the server's choice.
    #[default]
    Auto,
}

/// A negotiated DTLS version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtlsVersion {
    /// DTLS 1.2 (RFC 6347).
    Dtls12,
    /// DTLS 1.3 (RFC 9147).
    Dtls13,
}

/// Settings of a [`DtlsTransport`]. Build with `DtlsConfig::default()` and adjust fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DtlsConfig {
    /// Versions offered (client) or accepted (server).
    pub versions: VersionPolicy,
    /// Largest handshake datagram this end sends. 1150 leaves room for IPv6, UDP and a TURN
    /// Send indication inside a 1280-byte path.
    pub mtu: usize,
    /// First retransmission timeout of a handshake flight; it doubles on each retry. RFC 6347
    /// says 1 s when nothing is known; once ICE has measured the round trip, set it with
    /// [`DtlsConfig::rto_for_rtt`] (what libwebrtc does), which matters a lot on lossy paths.
    pub initial_rto: Duration,
    /// Retransmissions of one flight before the handshake fails.
    pub flight_retries: usize,
    /// Limit on the whole handshake.
    pub handshake_timeout: Duration,
    /// Send a HelloVerifyRequest (1.2) or cookie HelloRetryRequest (1.3) before committing
    /// state. Off by default: in WebRTC, ICE connectivity checks have already proved that the
    /// peer receives at its address, which is all a cookie proves, and it costs a round trip.
    pub server_cookie: bool,
    /// SRTP protection profiles for the `use_srtp` extension (RFC 5764), most preferred
    /// first. A client offers them in this order; a server picks the first of them that the
    /// client offered, by this order and not the client's. Empty: no DTLS-SRTP at all.
    /// Defaults to [`SrtpProfile::DEFAULT`] (AEAD_AES_128_GCM, AEAD_AES_256_GCM,
    /// AES128_CM_HMAC_SHA1_80); add [`SrtpProfile::Aes128CmHmacSha1_32`] to offer or accept
    /// it.
    pub srtp_profiles: Vec<SrtpProfile>,
    /// Fail the connection when the handshake negotiates no SRTP profile (media sessions).
    pub require_srtp: bool,
    /// Largest application-data record [`DtlsTransport::send_application_data`] accepts.
    pub max_application_data: usize,
    /// Bytes the peer may send before the handshake completes; a real handshake needs a few
    /// kilobytes, and the bound caps the memory a hostile peer can make this end hold.
    pub max_handshake_input: usize,
    /// Application-data records held until read (or until the fingerprint is verified);
    /// more are dropped, as a full socket buffer would.
    pub max_queued_records: usize,
}

impl Default for DtlsConfig {
    fn default() -> Self {
        Self {
            versions: VersionPolicy::Auto,
            mtu: 1150,
            //# RFC 6347 4.2.4.1: "Implementations SHOULD use an initial timer value of 1
            //# second"
            initial_rto: Duration::from_secs(1),
            flight_retries: 10,
            handshake_timeout: Duration::from_secs(60),
            server_cookie: false,
            srtp_profiles: SrtpProfile::DEFAULT.to_vec(),
            require_srtp: false,
            max_application_data: 16 * 1024,
            max_handshake_input: 256 * 1024,
            max_queued_records: 256,
        }
    }
}

impl DtlsConfig {
    /// The initial retransmission timeout for a path with round-trip time `rtt`: twice the
    /// RTT, kept within 50 ms..3 s (libwebrtc's rule for DTLS over ICE).
    ///
    /// ```
    /// use std::time::Duration;
    /// use zvon_dtls::DtlsConfig;
    /// assert_eq!(DtlsConfig::rto_for_rtt(Duration::from_millis(40)), Duration::from_millis(80));
    /// assert_eq!(DtlsConfig::rto_for_rtt(Duration::ZERO), Duration::from_millis(50));
    /// ```
    pub fn rto_for_rtt(rtt: Duration) -> Duration {
        rtt.saturating_mul(2)
            .clamp(Duration::from_millis(50), Duration::from_secs(3))
    }
}

/// Per-record overhead bound of protected application data (1.2: 13-byte header, 8-byte
/// explicit nonce, 16-byte tag; 1.3 is smaller), with margin.
const RECORD_OVERHEAD: usize = 64;

/// A timeout further away than this means "nothing scheduled" (dimpl parks idle timers ten
/// years out).
const IDLE_HORIZON: Duration = Duration::from_secs(24 * 3600);

/// Output poll cycles of one drain before the engine is declared stuck.
const MAX_POLLS_PER_DRAIN: usize = 100_000;

/// Reused buffers kept per connection.
const POOL_SIZE: usize = 32;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Proof that the peer's certificate matched its `a=fingerprint`; handed out in
/// [`DtlsEvent::Connected`] and demanded by [`DtlsTransport::srtp_keying_material`]. It
/// cannot be made outside this crate, and it names the connection that issued it.
#[derive(Debug, Clone)]
pub struct VerifiedPeer {
    fingerprint: Fingerprint,
    connection: u64,
    certificate: Arc<[u8]>,
}

impl VerifiedPeer {
    /// The remote fingerprint that matched.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The peer's certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate
    }
}

/// What [`DtlsEvent::Connected`] reports.
#[derive(Debug, Clone)]
pub struct Connected {
    /// The negotiated version.
    pub version: DtlsVersion,
    /// The negotiated SRTP profile, `None` when the peer offered no common one.
    pub srtp_profile: Option<SrtpProfile>,
    /// Proof of fingerprint verification; pass it to
    /// [`DtlsTransport::srtp_keying_material`].
    pub peer: VerifiedPeer,
    /// From [`DtlsTransport::new`] to the call that completed the handshake.
    pub handshake_time: Duration,
}

/// Why a connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// [`DtlsTransport::close`] was called.
    Local,
    /// The peer sent `close_notify`.
    Peer,
}

/// What the application learns from [`DtlsTransport::poll_event`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum DtlsEvent {
    /// The handshake completed and the peer's certificate matched its fingerprint.
    /// Application data and SRTP keys are available from now on, never before.
    Connected(Box<Connected>),
    /// The connection closed in an orderly way. Application data received before the close
    /// can still be read.
    Closed(CloseReason),
    /// The connection failed (the error is fatal).
    Failed(DtlsError),
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DtlsStats {
    /// Datagrams handed to [`DtlsTransport::handle_datagram`] and accepted as DTLS.
    pub datagrams_in: u64,
    /// Datagrams returned by [`DtlsTransport::poll_transmit`].
    pub datagrams_out: u64,
    /// Bytes in `datagrams_in`.
    pub bytes_in: u64,
    /// Bytes in `datagrams_out`.
    pub bytes_out: u64,
    /// Datagrams refused as not DTLS.
    pub not_dtls: u64,
    /// Application-data records dropped because `max_queued_records` were waiting.
    pub records_dropped: u64,
    /// Datagrams dropped because the caller's transmit buffer was too small.
    pub transmit_buffer_too_small: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Handshake running, or finished but not yet verified.
    Handshaking,
    /// Verified and connected.
    Established,
    /// Orderly close (after `Established` or not).
    Closed,
    /// Fatal error.
    Failed,
}

/// One DTLS association of a WebRTC connection, sans-IO.
///
/// The drive loop is zvon's usual one: feed datagrams that [`zvon_base::classify`] labels
/// [`DatagramKind::Dtls`] to [`handle_datagram`](Self::handle_datagram), call
/// [`handle_timeout`](Self::handle_timeout) when [`poll_timeout`](Self::poll_timeout) expires,
/// and after each of these drain [`poll_transmit`](Self::poll_transmit),
/// [`poll_event`](Self::poll_event) and [`poll_application_data`](Self::poll_application_data).
/// DTLS knows no addresses: `poll_transmit` gives bytes, and the caller (zvon-core) sends them
/// on the selected ICE pair.
///
/// Security: [`DtlsEvent::Connected`], application data and SRTP keys appear only after the
/// peer's certificate matched one of the fingerprints given to
/// [`set_remote_fingerprints`](Self::set_remote_fingerprints). The handshake may run before the
/// fingerprints are known (an answer can arrive after the peer's ClientHello); everything it
/// yields is held until they are. A mismatch fails the connection with
/// [`DtlsError::FingerprintMismatch`] and nothing more is sent.
///
/// ```
/// use std::time::Instant;
/// use zvon_base::Rng;
/// use zvon_dtls::*;
///
/// let mut rng = Rng::from_seed_u64(7);
/// let (a_id, b_id) = (DtlsIdentity::generate(&mut rng).unwrap(),
///                     DtlsIdentity::generate(&mut rng).unwrap());
/// let now = Instant::now();
/// let cfg = DtlsConfig::default();
/// let mut a = DtlsTransport::new(&cfg, &a_id, DtlsRole::Client, &mut rng, now).unwrap();
/// let mut b = DtlsTransport::new(&cfg, &b_id, DtlsRole::Server, &mut rng, now).unwrap();
/// a.set_remote_fingerprints([b_id.fingerprint()]).unwrap();
/// b.set_remote_fingerprints([a_id.fingerprint()]).unwrap();
/// let mut buf = vec![0u8; a.max_datagram_len()];
/// for _ in 0..10 {
///     while let Some(n) = a.poll_transmit(now, &mut buf) { b.handle_datagram(now, &buf[..n]).unwrap(); }
///     while let Some(n) = b.poll_transmit(now, &mut buf) { a.handle_datagram(now, &buf[..n]).unwrap(); }
/// }
/// let Some(DtlsEvent::Connected(c)) = a.poll_event() else { panic!() };
/// let keys = a.srtp_keying_material(&c.peer).unwrap();
/// // The server picks by its own preference, AES-128-GCM first by default.
/// assert_eq!(keys.profile(), SrtpProfile::AeadAes128Gcm);
/// ```
pub struct DtlsTransport {
    dtls: dimpl::Dtls,
    id: u64,
    role: DtlsRole,
    phase: Phase,
    config: DtlsConfig,
    started: Instant,
    now: Instant,

    remote_fingerprints: Vec<Fingerprint>,
    peer_cert: Option<Arc<[u8]>>,
    verified: Option<Fingerprint>,
    engine_connected: bool,
    keying: Option<SrtpKeyingMaterial>,
    /// Bytes fed to dimpl before the peer certificate appeared: an upper bound of its size.
    handshake_input: usize,

    scratch: Vec<u8>,
    tx: VecDeque<Vec<u8>>,
    rx: VecDeque<Vec<u8>>,
    rx_current: Vec<u8>,
    pool: Vec<Vec<u8>>,
    events: VecDeque<DtlsEvent>,
    timeout: Option<Instant>,
    stats: DtlsStats,
}

impl std::fmt::Debug for DtlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DtlsTransport")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("phase", &self.phase)
            .field("dtls", &self.dtls)
            .finish_non_exhaustive()
    }
}

impl DtlsTransport {
    /// A transport in `role` presenting `identity`. A client queues its ClientHello at once.
    ///
    /// `rng` seeds dimpl's non-cryptographic randomness (timer jitter, cookie secret, record
    /// nonces): given the same seed, the same inputs give the same timers. Keys, ECDHE shares
    /// and signatures come from aws-lc's own generator, as a crypto library's must.
    pub fn new(
        config: &DtlsConfig,
        identity: &DtlsIdentity,
        role: DtlsRole,
        rng: &mut Rng,
        now: Instant,
    ) -> Result<Self, DtlsError> {
        let srtp_profiles: Vec<dimpl::SrtpProfile> =
            config.srtp_profiles.iter().map(|p| p.to_dimpl()).collect();
        let dconf = dimpl::Config::builder()
            .mtu(config.mtu)
            .srtp_profiles(&srtp_profiles)
            .flight_start_rto(config.initial_rto)
            .flight_retries(config.flight_retries)
            .handshake_timeout(config.handshake_timeout)
            .use_server_cookie(config.server_cookie)
            // WebRTC authenticates both ends by fingerprint.
            .require_client_certificate(true)
            .dangerously_set_rng_seed(rng.u64())
            .build()
            .map_err(|e| DtlsError::Config(e.to_string()))?;
        let dconf = Arc::new(dconf);
        let cert = identity.dimpl_certificate();
        let mut dtls = match config.versions {
            VersionPolicy::Dtls12 => dimpl::Dtls::new_12(dconf, cert, now),
            VersionPolicy::Dtls13 => dimpl::Dtls::new_13(dconf, cert, now),
            VersionPolicy::Auto => dimpl::Dtls::new_auto(dconf, cert, now),
        };
        if role == DtlsRole::Client {
            dtls.set_active(true);
        }
        let mut t = Self {
            dtls,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            role,
            phase: Phase::Handshaking,
            config: config.clone(),
            started: now,
            now,
            remote_fingerprints: Vec::new(),
            peer_cert: None,
            verified: None,
            engine_connected: false,
            keying: None,
            handshake_input: 0,
            scratch: vec![0; config.mtu.max(2048)],
            tx: VecDeque::new(),
            rx: VecDeque::new(),
            rx_current: Vec::new(),
            pool: Vec::new(),
            events: VecDeque::new(),
            timeout: None,
            stats: DtlsStats::default(),
        };
        if let Err(e) = t.dtls.handle_timeout(now) {
            t.fail(DtlsError::Dtls(e));
        } else {
            t.drain();
        }
        Ok(t)
    }

    /// This endpoint's role.
    pub fn role(&self) -> DtlsRole {
        self.role
    }

    /// The negotiated version, once the peer's first flight has decided it.
    pub fn version(&self) -> Option<DtlsVersion> {
        let v = self.dtls.protocol_version()?;
        if v == dimpl::ProtocolVersion::DTLS1_3 {
            Some(DtlsVersion::Dtls13)
        } else {
            Some(DtlsVersion::Dtls12)
        }
    }

    /// `true` between [`DtlsEvent::Connected`] and a close or failure.
    pub fn is_established(&self) -> bool {
        self.phase == Phase::Established
    }

    /// `true` once the connection closed or failed: nothing more will happen.
    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Closed | Phase::Failed)
    }

    /// Counters.
    pub fn stats(&self) -> DtlsStats {
        self.stats
    }

    /// The largest datagram [`poll_transmit`](Self::poll_transmit) can produce: size its buffer
    /// to this.
    pub fn max_datagram_len(&self) -> usize {
        self.config
            .mtu
            .max(self.config.max_application_data + RECORD_OVERHEAD)
    }

    /// Sets the peer's `a=fingerprint` values (all of them, RFC 8122 allows several). May be
    /// called before, during or after the handshake; the peer's certificate is checked as soon
    /// as both it and the fingerprints are known.
    pub fn set_remote_fingerprints(
        &mut self,
        fingerprints: impl IntoIterator<Item = Fingerprint>,
    ) -> Result<(), DtlsError> {
        if !self.remote_fingerprints.is_empty() {
            return Err(DtlsError::FingerprintsAlreadySet);
        }
        let fps: Vec<Fingerprint> = fingerprints.into_iter().collect();
        if fps.is_empty() {
            return Err(DtlsError::NoRemoteFingerprint);
        }
        self.remote_fingerprints = fps;
        self.progress();
        Ok(())
    }

    /// Feeds one received datagram. Only datagrams that [`zvon_base::classify`] labels
    /// [`DatagramKind::Dtls`] (first byte 20..=63, RFC 7983) are accepted; anything else is
    /// refused with [`DtlsError::NotDtls`], which is not fatal.
    ///
    /// Malformed, replayed or stray records are dropped inside dimpl without an error. An
    /// `Err` whose [`zvon_base::Classify::is_fatal`] is true means the connection failed; the
    /// same error is then reported as [`DtlsEvent::Failed`].
    pub fn handle_datagram(&mut self, now: Instant, datagram: &[u8]) -> Result<(), DtlsError> {
        if classify(datagram) != DatagramKind::Dtls {
            self.stats.not_dtls += 1;
            return Err(DtlsError::NotDtls {
                first_byte: datagram.first().copied(),
            });
        }
        if self.is_finished() {
            return Err(DtlsError::Closed);
        }
        self.stats.datagrams_in += 1;
        self.stats.bytes_in += datagram.len() as u64;
        self.now = now;
        if self.peer_cert.is_none() {
            self.handshake_input = self.handshake_input.saturating_add(datagram.len());
            if self.handshake_input > self.config.max_handshake_input {
                let e = DtlsError::HandshakeTooLarge {
                    limit: self.config.max_handshake_input,
                };
                self.fail(e.clone());
                return Err(e);
            }
        }
        // dimpl's clock advances only through handle_timeout; it asks for that before each
        // packet at a new instant.
        let result = self
            .dtls
            .handle_timeout(now)
            .and_then(|()| self.dtls.handle_packet(datagram));
        if let Err(e) = result {
            let e = DtlsError::Dtls(e);
            self.fail(e.clone());
            return Err(e);
        }
        self.drain();
        match &self.phase {
            Phase::Failed => Err(self.failure().unwrap_or(DtlsError::Closed)),
            _ => Ok(()),
        }
    }

    /// Retransmits a flight or fails a handshake that ran out of time. Call when
    /// [`poll_timeout`](Self::poll_timeout) is reached (calling early is harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.is_finished() {
            return;
        }
        self.now = now;
        if let Err(e) = self.dtls.handle_timeout(now) {
            self.fail(DtlsError::Dtls(e));
            return;
        }
        self.drain();
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next; `None` when no timer runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_finished() {
            return None;
        }
        self.timeout
            .filter(|t| t.saturating_duration_since(self.now) < IDLE_HORIZON)
    }

    /// Writes the next datagram to send into `buf` and returns its length. `buf` should hold
    /// [`max_datagram_len`](Self::max_datagram_len) bytes; a datagram that does not fit is
    /// dropped (and counted) rather than truncated.
    pub fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
        loop {
            let d = self.tx.pop_front()?;
            let n = d.len();
            if let Some(dst) = buf.get_mut(..n) {
                dst.copy_from_slice(&d);
                self.recycle(d);
                self.stats.datagrams_out += 1;
                self.stats.bytes_out += n as u64;
                return Some(n);
            }
            self.stats.transmit_buffer_too_small += 1;
            self.recycle(d);
        }
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<DtlsEvent> {
        self.events.pop_front()
    }

    /// The next received application-data record (for SCTP, one SCTP packet), valid until the
    /// next call. Nothing is returned before [`DtlsEvent::Connected`]; records that arrived
    /// earlier are held until then.
    pub fn poll_application_data(&mut self) -> Option<&[u8]> {
        let readable = self.phase == Phase::Established
            || (self.phase == Phase::Closed && self.verified.is_some() && self.engine_connected);
        if !readable {
            return None;
        }
        let next = self.rx.pop_front()?;
        let old = std::mem::replace(&mut self.rx_current, next);
        self.recycle(old);
        Some(&self.rx_current)
    }

    /// Encrypts `data` as one application-data record; it appears in
    /// [`poll_transmit`](Self::poll_transmit).
    pub fn send_application_data(&mut self, data: &[u8]) -> Result<(), DtlsError> {
        match self.phase {
            Phase::Established => {}
            Phase::Handshaking => return Err(DtlsError::NotConnected),
            Phase::Closed | Phase::Failed => return Err(DtlsError::Closed),
        }
        if data.len() > self.config.max_application_data {
            return Err(DtlsError::TooLarge {
                len: data.len(),
                max: self.config.max_application_data,
            });
        }
        if let Err(e) = self.dtls.send_application_data(data) {
            let e = DtlsError::Dtls(e);
            self.fail(e.clone());
            return Err(e);
        }
        // dimpl's transmit queue is small and overflowing it is fatal: move the record out now.
        self.drain();
        Ok(())
    }

    /// Closes the connection: an established one sends `close_notify`; a handshake in progress
    /// is abandoned silently (no authenticated channel exists to send an alert on).
    pub fn close(&mut self) {
        if self.is_finished() {
            return;
        }
        let established = self.phase == Phase::Established;
        if let Err(e) = self.dtls.close() {
            self.fail(DtlsError::Dtls(e));
            return;
        }
        self.drain();
        if !established {
            self.tx.clear();
        }
        if !self.is_finished() {
            self.phase = Phase::Closed;
            self.events.push_back(DtlsEvent::Closed(CloseReason::Local));
        }
    }

    /// The SRTP keys exported with `EXTRACTOR-dtls_srtp` (RFC 5764 4.2). The proof comes from
    /// this connection's [`DtlsEvent::Connected`]; `Err(NoSrtpProfile)` when the peer
    /// negotiated no SRTP profile.
    pub fn srtp_keying_material(
        &self,
        proof: &VerifiedPeer,
    ) -> Result<&SrtpKeyingMaterial, DtlsError> {
        if proof.connection != self.id {
            return Err(DtlsError::ForeignProof);
        }
        if self.phase == Phase::Failed {
            return Err(DtlsError::Closed);
        }
        self.keying.as_ref().ok_or(DtlsError::NoSrtpProfile)
    }

    fn failure(&self) -> Option<DtlsError> {
        self.events.iter().rev().find_map(|e| match e {
            DtlsEvent::Failed(e) => Some(e.clone()),
            _ => None,
        })
    }

    fn fail(&mut self, e: DtlsError) {
        if self.phase == Phase::Failed {
            return;
        }
        self.phase = Phase::Failed;
        // Nothing more leaves, and nothing received is released.
        self.tx.clear();
        self.rx.clear();
        self.keying = None;
        self.timeout = None;
        self.events.push_back(DtlsEvent::Failed(e));
    }

    fn recycle(&mut self, mut b: Vec<u8>) {
        if self.pool.len() < POOL_SIZE && b.capacity() > 0 {
            b.clear();
            self.pool.push(b);
        }
    }

    /// Moves everything dimpl has to say into this transport's queues, until its `Timeout`
    /// (dimpl's state is consistent only there).
    fn drain(&mut self) {
        for _ in 0..MAX_POLLS_PER_DRAIN {
            if self.phase == Phase::Failed {
                return;
            }
            // dimpl copies the peer certificate into the poll buffer and asserts that it fits.
            // The certificate cannot be larger than the bytes the peer sent, so a buffer that
            // large is always enough (and max_handshake_input bounds it).
            if self.peer_cert.is_none() && self.scratch.len() < self.handshake_input {
                self.scratch.resize(self.handshake_input, 0);
            }
            match self.dtls.poll_output(&mut self.scratch) {
                dimpl::Output::Packet(p) => {
                    let b = {
                        let mut b = self.pool.pop().unwrap_or_default();
                        b.extend_from_slice(p);
                        b
                    };
                    self.tx.push_back(b);
                }
                dimpl::Output::BufferTooSmall { needed } => {
                    let limit = self.config.max_application_data + RECORD_OVERHEAD;
                    let limit = limit.max(self.config.max_handshake_input);
                    if needed <= self.scratch.len() || needed > limit {
                        self.fail(DtlsError::Config(format!(
                            "dtls engine asked for a {needed}-byte buffer"
                        )));
                        return;
                    }
                    self.scratch.resize(needed, 0);
                }
                dimpl::Output::Timeout(t) => {
                    self.timeout = Some(t);
                    self.progress();
                    return;
                }
                dimpl::Output::Connected => self.engine_connected = true,
                dimpl::Output::PeerCert(der) if self.peer_cert.is_none() => {
                    self.peer_cert = Some(Arc::from(der));
                    // Check at once, so that a mismatch stops the rest of this flight. The
                    // connection is reported only at the end of the drain, once the keying
                    // material (which dimpl may emit later in the same drain) is in.
                    self.verify();
                }
                dimpl::Output::KeyingMaterial(km, profile) => {
                    self.keying = SrtpProfile::from_dimpl(profile)
                        .and_then(|p| SrtpKeyingMaterial::new(p, &km));
                }
                dimpl::Output::ApplicationData(d) => {
                    if self.rx.len() < self.config.max_queued_records {
                        let b = {
                            let mut b = self.pool.pop().unwrap_or_default();
                            b.extend_from_slice(d);
                            b
                        };
                        self.rx.push_back(b);
                    } else {
                        self.stats.records_dropped += 1;
                    }
                }
                dimpl::Output::CloseNotify if self.phase != Phase::Closed => {
                    self.phase = Phase::Closed;
                    self.events.push_back(DtlsEvent::Closed(CloseReason::Peer));
                }
                _ => {}
            }
        }
        self.fail(DtlsError::Config("dtls engine did not settle".into()));
    }

    /// Verifies the certificate once it and the fingerprints are known.
    fn verify(&mut self) {
        if self.phase != Phase::Handshaking {
            return;
        }
        if self.verified.is_none()
            && let Some(cert) = &self.peer_cert
        {
            match verify_certificate(&self.remote_fingerprints, cert) {
                None => {}
                Some(Ok(fp)) => self.verified = Some(fp),
                Some(Err(mismatch)) => self.fail(DtlsError::FingerprintMismatch(mismatch)),
            }
        }
    }

    /// Verifies, then reports the connection once both the handshake and the verification
    /// are done.
    fn progress(&mut self) {
        self.verify();
        if self.phase != Phase::Handshaking || !self.engine_connected {
            return;
        }
        let Some(cert) = self.peer_cert.clone() else {
            self.fail(DtlsError::NoPeerCertificate);
            return;
        };
        let Some(fingerprint) = self.verified else {
            return;
        };
        if self.config.require_srtp && self.keying.is_none() {
            self.fail(DtlsError::NoSrtpProfile);
            return;
        }
        let Some(version) = self.version() else {
            return;
        };
        self.phase = Phase::Established;
        self.events
            .push_back(DtlsEvent::Connected(Box::new(Connected {
                version,
                srtp_profile: self.keying.as_ref().map(|k| k.profile()),
                peer: VerifiedPeer {
                    fingerprint,
                    connection: self.id,
                    certificate: cert,
                },
                handshake_time: self.now.saturating_duration_since(self.started),
            })));
    }
}
