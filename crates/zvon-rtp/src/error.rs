use zvon_base::{Classify, Fault};

/// Why bytes are not a well-formed RTP packet. Every variant means: drop the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtpError {
    /// Shorter than the fixed header, its CSRC list, its extension, or its padding claims.
    #[error("RTP packet too short: {len} bytes, {needed} needed")]
    TooShort {
        /// Bytes in the packet.
        len: usize,
        /// Bytes the header promises.
        needed: usize,
    },
    /// The version field is not 2.
    #[error("RTP version {0}, not 2")]
    BadVersion(u8),
    /// The padding bit is set but the last byte counts zero bytes, or more than the payload.
    #[error("RTP padding count {count} does not fit the {available} bytes after the header")]
    BadPadding {
        /// The count in the last byte.
        count: u8,
        /// Bytes between the header and the end of the packet.
        available: usize,
    },
    /// An RFC 8285 extension element reaches past the end of the header extension.
    #[error("RTP header extension element {id} overruns the extension block")]
    BadExtension {
        /// The element's id (0 when even its header was cut).
        id: u8,
    },
}

impl Classify for RtpError {
    fn fault(&self) -> Fault {
        Fault::Malformed
    }
    fn is_fatal(&self) -> bool {
        false
    }
}

/// Why bytes are not a well-formed RTCP packet. A framing error (the first four variants) drops
/// the whole compound packet; a body error drops only the packet it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtcpError {
    /// Shorter than an RTCP header (4 bytes), or empty.
    #[error("RTCP packet too short: {len} bytes")]
    TooShort {
        /// Bytes left where a header was expected.
        len: usize,
    },
    /// The version field is not 2.
    #[error("RTCP version {0}, not 2")]
    BadVersion(u8),
    /// The length field claims more bytes than are left in the datagram.
    #[error("RTCP length field claims {claimed} bytes, {available} left")]
    LengthOverrun {
        /// Bytes the length field claims (header included).
        claimed: usize,
        /// Bytes left in the datagram.
        available: usize,
    },
    /// The padding bit is set but the last byte counts zero bytes, or more than the body.
    #[error("RTCP padding count {count} does not fit the packet")]
    BadPadding {
        /// The count in the last byte.
        count: u8,
    },
    /// The body is shorter than its count field or structure requires.
    #[error("RTCP packet type {packet_type} truncated: needs {needed} bytes, body has {len}")]
    Truncated {
        /// The packet type (200 SR, 201 RR, ...).
        packet_type: u8,
        /// Body bytes needed.
        needed: usize,
        /// Body bytes present.
        len: usize,
    },
    /// A field holds a value the format forbids (an SDES chunk without its terminating null
    /// item, a reserved transport-wide feedback symbol, ...).
    #[error("RTCP packet type {packet_type}: {what}")]
    BadField {
        /// The packet type.
        packet_type: u8,
        /// What is wrong.
        what: &'static str,
    },
}

impl RtcpError {
    /// `true` for the framing errors, which make the rest of the compound packet unreadable.
    pub fn is_framing(&self) -> bool {
        matches!(
            self,
            RtcpError::TooShort { .. }
                | RtcpError::BadVersion(_)
                | RtcpError::LengthOverrun { .. }
                | RtcpError::BadPadding { .. }
        )
    }
}

impl Classify for RtcpError {
    fn fault(&self) -> Fault {
        Fault::Malformed
    }
    fn is_fatal(&self) -> bool {
        false
    }
}
