use zvon_base::{Classify, Fault};

use crate::attr::AttrType;

/// Why bytes are not a well-formed STUN message. Every variant means: drop the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Shorter than the 20-byte header.
    #[error("shorter than a STUN header ({0} bytes)")]
    TooShort(usize),
    /// One of the two top bits is set: not STUN (RFC 7983 would have sent it elsewhere).
    #[error("first two bits are not zero")]
    NotStun,
    /// No magic cookie: RFC 3489 or not STUN at all.
    #[error("magic cookie missing")]
    NoMagicCookie,
    /// The length field is not a multiple of 4.
    #[error("message length {0} is not a multiple of 4")]
    UnalignedLength(u16),
    /// The length field disagrees with the datagram.
    #[error("message length {header} + 20 does not match the {actual} bytes received")]
    LengthMismatch {
        /// The header's length field.
        header: u16,
        /// Bytes received.
        actual: usize,
    },
    /// An attribute header or value (with padding) reaches past the end of the message.
    #[error("attribute {typ:?} reaches past the end of the message")]
    AttributeOverrun {
        /// The attribute's type, or `AttrType(0)` when even its header was cut.
        typ: AttrType,
    },
    /// A comprehension-required attribute this crate knows has a value that does not parse
    /// (a comprehension-optional one is passed on as [`crate::Attribute::Unknown`] instead).
    #[error("attribute {typ:?} has a malformed value")]
    BadAttribute {
        /// The attribute's type.
        typ: AttrType,
    },
    /// An attribute follows FINGERPRINT, which must come last.
    #[error("FINGERPRINT is not the last attribute")]
    FingerprintNotLast,
}

impl Classify for DecodeError {
    fn fault(&self) -> Fault {
        Fault::Malformed
    }
    fn is_fatal(&self) -> bool {
        false
    }
}

/// MESSAGE-INTEGRITY(-SHA256) check failed. Drop the message: it may be forged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrityError {
    /// The message carries neither MESSAGE-INTEGRITY nor MESSAGE-INTEGRITY-SHA256.
    #[error("no MESSAGE-INTEGRITY attribute")]
    Missing,
    /// The HMAC does not match the key.
    #[error("MESSAGE-INTEGRITY does not match")]
    Mismatch,
}

impl Classify for IntegrityError {
    fn fault(&self) -> Fault {
        Fault::PeerMisbehaved
    }
    fn is_fatal(&self) -> bool {
        false
    }
}

/// FINGERPRINT check failed: the datagram is not STUN, or was damaged. Drop it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FingerprintError {
    /// No FINGERPRINT attribute.
    #[error("no FINGERPRINT attribute")]
    Missing,
    /// The CRC does not match.
    #[error("FINGERPRINT does not match")]
    Mismatch,
}

impl Classify for FingerprintError {
    fn fault(&self) -> Fault {
        Fault::Malformed
    }
    fn is_fatal(&self) -> bool {
        false
    }
}

/// TURN ChannelData framing error. Drop the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelDataError {
    /// Shorter than the 4-byte header, or than the length it claims.
    #[error("ChannelData truncated: needs {needed} bytes, has {actual}")]
    Truncated {
        /// Bytes the header promises (header included).
        needed: usize,
        /// Bytes received.
        actual: usize,
    },
    /// The channel number is outside 0x4000..=0x4FFF.
    #[error("channel number {0:#06x} outside 0x4000..=0x4FFF")]
    BadChannel(u16),
}

impl Classify for ChannelDataError {
    fn fault(&self) -> Fault {
        Fault::Malformed
    }
    fn is_fatal(&self) -> bool {
        false
    }
}
