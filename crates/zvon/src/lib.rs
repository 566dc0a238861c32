//! # zvon
//!
//! WebRTC for Rust on tokio. This is the crate most applications add: it owns the sockets, the
//! timers and the tasks, and drives the sans-IO peer connection of `zvon-core` with an API close
//! to the W3C `RTCPeerConnection`. The protocol crates below it never touch I/O.
//!
//! - [`PeerConnection`]: `create_offer`, `set_local_description`, `set_remote_description`,
//!   `add_ice_candidate`, `create_data_channel`, events from [`PeerConnection::next_event`].
//! - [`DataChannel`]: `send`, `send_text`, `recv`, `wait_open`, `wait_buffered_below`.
//! - [`ice`]: gathering on real interfaces, ICE server URLs, and a standalone ICE driver.
//!
//! One task drives each connection: it receives on the connection's sockets into one reused
//! buffer, runs the core's timers and sends what the core produces; calls from the
//! application lock the core briefly and send at once, so there is no channel hop per packet.
#![deny(unsafe_code)]

pub mod ice;
mod mux;
mod pc;
mod udp;

pub use mux::UdpMux;
pub use pc::{
    CandidateInit, ChannelEvent, ChannelInit, Configuration, ConnectionState, DataChannel,
    Description, DtlsIdentity, Error, GatheringState, IceConnectionState, IceTransportPolicy,
    Message, MessageKind, PeerConnection, PeerEvent, Priority, SdpType, SignalingState, Stats,
};

/// The version of zvon, from Cargo.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
