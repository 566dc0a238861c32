use std::time::Duration;

/// The DTLS role of this side. RFC 8832 6: the DTLS client uses even stream ids for the
/// channels it opens, the server odd ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// DTLS client: even stream ids.
    Client,
    /// DTLS server: odd stream ids.
    Server,
}

/// Association settings. The defaults suit WebRTC over DTLS.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// DTLS role, for the stream id parity of in-band channels.
    pub role: Role,
    /// Local SCTP port (`a=sctp-port`, 5000 by default).
    pub local_port: u16,
    /// Remote SCTP port.
    pub remote_port: u16,
    /// Largest SCTP packet (clamped to 256..=65535). The default, 1191 bytes, is what Chromium
    /// uses: a 1280-byte IPv6 minimum MTU less IP, UDP and DTLS record overhead.
    pub mtu: usize,
    /// Receive buffer: the advertised receiver window (a_rwnd) when nothing is buffered.
    pub max_receive_buffer: usize,
    /// Most bytes queued and not yet sent, over all channels; `send` refuses beyond it.
    pub max_send_buffer: usize,
    /// Largest message this side accepts (our `a=max-message-size`).
    pub max_message_size: usize,
    /// Largest message the peer accepts (its `a=max-message-size`; 65536 when absent, per RFC
    /// 8841 6).
    pub remote_max_message_size: usize,
    /// Initial retransmission timeout.
    pub rto_initial: Duration,
    /// Lower bound of the retransmission timeout.
    pub rto_min: Duration,
    /// Upper bound of the retransmission timeout.
    pub rto_max: Duration,
    /// Delayed SACK timeout (RFC 9260 6.2: at most 500 ms; 200 ms is usual).
    pub delayed_ack: Duration,
    /// Heartbeat interval on an idle association; `None` disables heartbeats.
    pub heartbeat_interval: Option<Duration>,
    /// Consecutive retransmission timeouts before the peer is declared unreachable; `None`
    /// retries forever.
    pub max_retransmissions: Option<u32>,
    /// INIT and COOKIE ECHO retransmissions before giving up; `None` retries forever.
    pub max_init_retransmits: Option<u32>,
    /// Lifetime of a state cookie.
    pub cookie_lifetime: Duration,
    /// Number of streams offered in each direction.
    pub max_streams: u16,
    /// Initial congestion window, in MTUs.
    pub initial_cwnd_mtus: usize,
    /// Max.Burst (RFC 9260 6.1 D; 4 in section 16): at most this many packets of new data leave per send
    /// opportunity (a SACK, or a send after the association went idle, which may use the
    /// initial window), however much the congestion window allows, e.g. after one SACK
    /// acknowledged a large part of the window. `None` disables the limit.
    pub max_burst: Option<usize>,
    /// Most channels open at once, ours and the peer's together. A DATA_CHANNEL_OPEN beyond it
    /// is refused by resetting its stream (the peer sees the channel close, RFC 8832 5); a
    /// local `open_channel` beyond it fails. Chromium offers 1024 streams.
    pub max_channels: usize,
    /// Most bytes of labels and sub-protocols held for the channels the peer opened, all
    /// together. Each may be up to 65535 bytes (W3C); a DATA_CHANNEL_OPEN that would go
    /// beyond the budget is refused like one beyond `max_channels`.
    pub max_peer_label_bytes: usize,
    /// Offer partial reliability (RFC 3758).
    pub partial_reliability: bool,
    /// Offer message interleaving (RFC 8260 I-DATA).
    pub interleaving: bool,
    /// Offer, and use when the peer offers too, zero checksum (RFC 9653, method 1: SCTP over
    /// DTLS).
    pub zero_checksum: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            role: Role::Client,
            local_port: 5000,
            remote_port: 5000,
            mtu: 1191,
            max_receive_buffer: 4 * 1024 * 1024,
            max_send_buffer: 64 * 1024 * 1024,
            max_message_size: 256 * 1024,
            remote_max_message_size: 65536,
            rto_initial: Duration::from_millis(500),
            rto_min: Duration::from_millis(200),
            rto_max: Duration::from_secs(60),
            delayed_ack: Duration::from_millis(200),
            heartbeat_interval: Some(Duration::from_secs(30)),
            max_retransmissions: Some(10),
            max_init_retransmits: Some(8),
            cookie_lifetime: Duration::from_secs(60),
            max_streams: 65535,
            initial_cwnd_mtus: 10,
            max_burst: Some(4),
            max_channels: 1024,
            max_peer_label_bytes: 1024 * 1024,
            partial_reliability: true,
            interleaving: true,
            zero_checksum: true,
        }
    }
}

impl Config {
    /// The defaults for one DTLS role.
    pub fn new(role: Role) -> Self {
        Self {
            role,
            ..Self::default()
        }
    }
}
