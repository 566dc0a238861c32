//! # zvon-base
//!
//! The few types that every layer of zvon speaks, kept in one small crate so that the protocol
//! crates above it never need to know about each other:
//!
//! - [`Transmit`] and [`Protocol`]: what a sans-IO state machine asks its caller to send.
//! - [`demux`]: RFC 7983 classification of a datagram by its first byte (STUN, DTLS, RTP/RTCP,
//!   TURN ChannelData), the first step of every inbound packet.
//! - [`Reader`]: a cursor over borrowed bytes whose every read is bounds-checked, so that parsers
//!   built on it cannot panic on hostile input.
//! - [`Fault`] and [`Classify`]: how each error says who is at fault and what it costs (one
//!   packet, or the connection).
//! - [`Rng`]: a seeded ChaCha RNG. Protocol crates never read entropy themselves; the runtime
//!   seeds them from the OS and the simulator from a test seed.
//!
//! Time is `std::time::Instant`, passed in by the caller as `now`; nothing here reads a clock.
#![forbid(unsafe_code)]

pub mod demux;
mod error;
mod reader;
mod rng;
mod transmit;

pub use demux::{DatagramKind, classify};
pub use error::{Classify, Fault};
pub use reader::{Reader, ShortBuffer};
pub use rng::Rng;
pub use transmit::{Protocol, Transmit};
