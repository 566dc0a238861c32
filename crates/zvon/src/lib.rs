//! # zvon
//!
//! WebRTC for Rust on tokio. This is the crate most applications add: it owns the sockets, the
//! timers and the tasks, and drives the sans-IO peer connection of `zvon-core` with an API close
//! to the W3C `RTCPeerConnection`. The protocol crates below it never touch I/O.
//!
//! The peer-connection issue fills this crate; for now it exposes the version so that the
//! binaries above it can report it.
#![deny(unsafe_code)]

pub mod ice;

/// The version of zvon, from Cargo.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
