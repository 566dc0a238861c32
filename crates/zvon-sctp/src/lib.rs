//! # zvon-sctp
//!
//! SCTP (RFC 9260) as WebRTC data channels use it: one association per DTLS connection, no
//! multi-homing, in the spirit of Google's dcsctp. Sans-IO: the association consumes and
//! produces SCTP packets as byte slices (the DTLS application data), time comes in as `now`,
//! randomness from a seeded [`zvon_base::Rng`].
//!
//! What it does:
//! - the association: four-way handshake with an HMAC-authenticated state cookie, the INIT
//!   collision of WebRTC (both sides connect), graceful SHUTDOWN and ABORT with error causes,
//!   heartbeats, T1/T2/T3 timers with the RTO of RFC 9260 6.3, SACK with gap blocks and
//!   duplicate TSNs, delayed SACK with the SACK-IMMEDIATELY bit (RFC 7053), fast retransmit
//!   and fast recovery, cwnd/ssthresh/slow start/congestion avoidance, the receiver window,
//!   bundling, CRC32c (hardware) or zero checksum (RFC 9653) when both sides agree;
//! - partial reliability (RFC 3758 FORWARD-TSN: max retransmits and max lifetime), stream
//!   reset (RFC 6525) to close channels, I-DATA and I-FORWARD-TSN (RFC 8260), fragmentation
//!   up to the negotiated maximum message size (RFC 8841);
//! - data channels (RFC 8831, DCEP of RFC 8832): in-band and negotiated channels, stream id
//!   parity by DTLS role, ordered/unordered, string/binary/empty messages, `bufferedAmount`
//!   with its low-threshold event, per-channel close, the W3C channel states;
//! - a round-robin scheduler over channels: by message with DATA, by fragment with I-DATA,
//!   so a bulk channel does not starve a chat channel.
//!
//! The hot path allocates nothing per chunk to parse (chunks are views over the packet), keeps
//! a user message once (fragments are ranges of it), and keeps sent data in a `VecDeque` by
//! TSN so that acknowledgement costs O(acked).
//!
//! The drive loop is the one every zvon state machine has; see [`Association`].
#![forbid(unsafe_code)]

mod association;
mod channel;
pub mod chunk;
mod config;
mod cookie;
pub mod dcep;
mod error;
mod outstanding;
pub mod packet;
mod recv;
mod send;
mod timer;
pub mod tsn;

pub use association::{Association, AssociationState, Stats};
pub use channel::{ChannelId, ChannelOptions, ChannelState, Event, MessageKind, Reliability};
pub use config::{Config, Role};
pub use error::Error;
