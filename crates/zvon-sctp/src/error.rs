use zvon_base::{Classify, Fault};

/// Everything that can go wrong in zvon-sctp: a packet that is dropped, an association that
/// ends, or an API call that is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes do not parse: truncated, lengths that lie, a field out of range. The packet is
    /// dropped.
    #[error("malformed SCTP packet: {0}")]
    Malformed(&'static str),
    /// The CRC32c does not match (and zero checksum is not in use). The packet is dropped.
    #[error("bad SCTP checksum")]
    BadChecksum,
    /// The verification tag is not this association's (RFC 9260 8.5). The packet is dropped.
    #[error("bad verification tag")]
    BadVerificationTag,
    /// A COOKIE ECHO whose cookie does not authenticate. The packet is dropped.
    #[error("state cookie does not authenticate")]
    BadCookie,
    /// Well-formed input that breaks the protocol; the association is aborted.
    #[error("protocol violation: {0}")]
    ProtocolViolation(&'static str),
    /// The peer aborted the association.
    #[error("association aborted by the peer: {0}")]
    AbortedByPeer(String),
    /// The association gave up on the peer (too many retransmissions, init failed).
    #[error("peer unreachable: {0}")]
    Unreachable(&'static str),
    /// A message larger than the peer accepts (`a=max-message-size`, RFC 8841).
    #[error("message of {size} bytes exceeds the peer's maximum message size of {max}")]
    MessageTooLarge {
        /// Size of the refused message.
        size: usize,
        /// The peer's limit.
        max: usize,
    },
    /// The association's send buffer is full: wait for `BufferedAmountLow`.
    #[error("send buffer full ({buffered} bytes buffered, limit {limit})")]
    SendBufferFull {
        /// Bytes buffered now.
        buffered: usize,
        /// Configured limit.
        limit: usize,
    },
    /// No channel with this id.
    #[error("unknown channel {0}")]
    UnknownChannel(u16),
    /// The channel is closing or closed.
    #[error("channel {0} is not open")]
    ChannelNotOpen(u16),
    /// A negotiated id that is already in use, or beyond the negotiated stream count.
    #[error("stream id {0} is not available")]
    StreamIdUnavailable(u16),
    /// Every stream id of our parity is in use.
    #[error("no free stream id")]
    NoStreamIds,
    /// The association is closed, closing, or was never opened.
    #[error("association is not established")]
    NotEstablished,
    /// `connect` on an association that is already connecting or connected.
    #[error("association already started")]
    AlreadyStarted,
    /// A label or protocol longer than 65535 bytes.
    #[error("label or protocol too long")]
    LabelTooLong,
    /// `Config::max_channels` channels are open already.
    #[error("too many channels open (limit {0})")]
    TooManyChannels(usize),
}

impl Classify for Error {
    fn fault(&self) -> Fault {
        match self {
            Error::Malformed(_) | Error::BadChecksum => Fault::Malformed,
            Error::BadVerificationTag
            | Error::BadCookie
            | Error::ProtocolViolation(_)
            | Error::AbortedByPeer(_) => Fault::PeerMisbehaved,
            Error::Unreachable(_) | Error::SendBufferFull { .. } | Error::TooManyChannels(_) => {
                Fault::Local
            }
            Error::MessageTooLarge { .. }
            | Error::UnknownChannel(_)
            | Error::ChannelNotOpen(_)
            | Error::StreamIdUnavailable(_)
            | Error::NoStreamIds
            | Error::NotEstablished
            | Error::AlreadyStarted
            | Error::LabelTooLong => Fault::ApiMisuse,
        }
    }

    fn is_fatal(&self) -> bool {
        matches!(
            self,
            Error::ProtocolViolation(_) | Error::AbortedByPeer(_) | Error::Unreachable(_)
        )
    }
}

impl From<zvon_base::ShortBuffer> for Error {
    fn from(_: zvon_base::ShortBuffer) -> Self {
        Error::Malformed("truncated")
    }
}
