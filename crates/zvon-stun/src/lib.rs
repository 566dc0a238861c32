//! # zvon-stun
//!
//! STUN (RFC 8489, compatible with RFC 5389): zero-copy decoding and infallible encoding of
//! messages and of every attribute ICE (RFC 8445) and TURN (RFC 8656, RFC 6062) use, message
//! integrity (HMAC-SHA1 and HMAC-SHA256, short-term and long-term keys), FINGERPRINT, and TURN
//! ChannelData framing. Sans-IO: no sockets, no clock; transactions and retransmission live
//! with their user (`zvon-ice`).
//!
//! ## Receiving
//!
//! [`Message::parse`] checks a datagram once (header, magic cookie, length, the framing of
//! every attribute, the values of the comprehension-required ones, where the integrity
//! attributes and FINGERPRINT sit); afterwards no accessor can fail or panic. Security comes in
//! two steps that yield values:
//!
//! 1. [`Message::verify_fingerprint`]: cheap, tells STUN from other traffic;
//! 2. [`Message::verify_integrity`] with an [`IntegrityKey`] returns a [`Verified`], the proof
//!    that ICE needs before it acts on USE-CANDIDATE, a role or a priority ([`Verified::ice`]).
//!
//! [`Message::check_comprehension`] reports comprehension-required attributes this crate does
//! not know, for the 420 response.
//!
//! ```
//! use zvon_stun::{IntegrityKey, Message, IceRole};
//! // RFC 5769 2.1: an ICE connectivity check.
//! let req = hex::decode(concat!(
//!     "000100582112a442b7e7a701bc34d686fa87dfae",
//!     "802200105354554e207465737420636c69656e74",
//!     "002400046e0001ff",
//!     "80290008932ff9b151263b36",
//!     "000600096576746a3a68367659202020",
//!     "000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2",
//!     "80280004e57a3bcf")).unwrap();
//! let msg = Message::parse(&req)?;
//! msg.verify_fingerprint().unwrap();
//! assert_eq!(msg.username(), Some("evtj:h6vY")); // picks the key
//! let key = IntegrityKey::short_term("VOkJxbRl1RmTxUk/WvJxBt");
//! let check = msg.verify_integrity(&key).unwrap().ice();
//! assert_eq!(check.priority, Some(0x6e0001ff));
//! assert_eq!(check.role, Some(IceRole::Controlled(0x932ff9b151263b36)));
//! # Ok::<(), zvon_stun::DecodeError>(())
//! ```
//!
//! ## Sending
//!
//! [`Encoder`] appends a message to a caller's `Vec<u8>`: attributes, then
//! [`Encoder::finish_with_integrity`] (MESSAGE-INTEGRITY + FINGERPRINT) or one of the other
//! `finish*` methods, which patch the length. See its example.
//!
//! ## TURN ChannelData
//!
//! [`ChannelData`] parses and writes RFC 8656 12.4 framing; [`stream_frame_len`] splits a TCP
//! stream into STUN and ChannelData frames.
#![forbid(unsafe_code)]

mod attr;
mod channel_data;
mod encode;
mod error;
mod header;
mod integrity;
mod message;

pub use attr::{
    AddressFamily, AttrType, AttrTypeList, Attribute, ErrorCode, Icmp, PasswordAlgorithm,
    PasswordAlgorithmIter, PasswordAlgorithms,
};
pub use channel_data::{
    CHANNEL_DATA_HEADER_LEN, ChannelData, ChannelNumber, StreamFrame, stream_frame_len,
};
pub use encode::{Encoder, Sealed, WithIntegrity};
pub use error::{ChannelDataError, DecodeError, FingerprintError, IntegrityError};
pub use header::{Class, HEADER_LEN, MAGIC_COOKIE, MessageType, Method, TransactionId};
pub use integrity::{IceCheck, IceRole, IntegrityAlgorithm, IntegrityKey, Verified, userhash};
pub use message::{Attributes, Message, UnknownRequired};

/// `true` when `buf` looks like a STUN message worth parsing: top two bits zero, the magic
/// cookie, and a length that matches. A quick test for demultiplexing; [`Message::parse`] does
/// the full check.
pub fn is_stun(buf: &[u8]) -> bool {
    buf.len() >= HEADER_LEN
        && buf[0] & 0xC0 == 0 // ok: len >= 20
        && buf[4..8] == MAGIC_COOKIE.to_be_bytes() // ok: len >= 20
        && usize::from(u16::from_be_bytes([buf[2], buf[3]])) + HEADER_LEN == buf.len() // ok
}
