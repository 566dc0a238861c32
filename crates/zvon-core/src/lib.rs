//! # zvon-core
//!
//! The sans-IO WebRTC peer connection: JSEP (RFC 8829) offer/answer over the protocol crates,
//! with ICE ([`zvon_ice`]), DTLS ([`zvon_dtls`]) and SCTP data channels ([`zvon_sctp`]) on
//! one bundled transport demultiplexed per RFC 7983. It owns no socket, clock or thread: the
//! runtime (`zvon`) or a test feeds it datagrams and time and sends what it returns.
//!
//! ```text
//!  set_local/remote_description, add_ice_candidate, create_data_channel, send
//!        │
//!  ┌─────▼──────────────── PeerConnection ───────────────────────┐
//!  │ JSEP: signaling state, sections (mids), BUNDLE, setup roles │
//!  │   datagram ─► IceAgent ─► classify ─► DtlsTransport ─► SCTP │─► Event
//!  │   Transmit ◄─ IceAgent ◄──────────── DtlsTransport ◄─ SCTP  │
//!  └─────────────────────────────────────────────────────────────┘
//! ```
//!
//! - [`PeerConnection`]: the drive loop (`handle_datagram`, `handle_timeout`,
//!   `poll_transmit`, `poll_event`, `poll_timeout`) and the W3C-shaped API.
//! - [`Description`], [`CandidateInit`]: what goes over signaling.
//! - [`Event`]: candidates to trickle, state changes, data-channel events and messages.
//! - [`Stats`]: a `getStats`-like snapshot.
//!
//! Media sections are answered as rejected (port 0) until the media layer lands; a session
//! that starts with data and later receives an offer with audio keeps its data flowing.
#![forbid(unsafe_code)]

mod convert;
mod error;
mod pc;
mod types;

pub use error::Error;
pub use pc::{Config, IceGatheringState, PeerConnection};
pub use types::{
    CandidateInit, ChannelId, ChannelInit, ConnectionState, Description, Event, Priority, SdpType,
    SignalingState,
};
pub use zvon_sctp::{MessageKind, Reliability};

use std::net::SocketAddr;
use std::time::Duration;

use zvon_dtls::{DtlsRole, DtlsVersion, SrtpProfile};
use zvon_ice::{CandidateKind, IceConnectionState, IceRole};

/// A snapshot of a connection (`getStats`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Stats {
    /// The connection state.
    pub connection_state: ConnectionState,
    /// The ICE connection state.
    pub ice_state: IceConnectionState,
    /// The ICE role.
    pub ice_role: IceRole,
    /// The selected candidate pair: local address and type, remote address and type.
    pub selected_pair: Option<(SocketAddr, CandidateKind, SocketAddr, CandidateKind)>,
    /// The DTLS role, once negotiated.
    pub dtls_role: Option<DtlsRole>,
    /// The DTLS version, once connected.
    pub dtls_version: Option<DtlsVersion>,
    /// The SRTP profile DTLS negotiated.
    pub srtp_profile: Option<SrtpProfile>,
    /// SCTP counters, once the association exists.
    pub sctp: Option<zvon_sctp::Stats>,
    /// SCTP's smoothed round-trip time.
    pub sctp_rtt: Option<Duration>,
    /// Datagrams received.
    pub datagrams_in: u64,
    /// Datagrams sent.
    pub datagrams_out: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Datagrams dropped (not for us, refused by DTLS, early and over the limit).
    pub datagrams_dropped: u64,
    /// RTP/RTCP datagrams dropped (no media negotiated yet).
    pub media_dropped: u64,
    /// Per-channel counters.
    pub channels: Vec<ChannelStats>,
}

/// Counters of one data channel.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChannelStats {
    /// The channel.
    pub id: ChannelId,
    /// Its label.
    pub label: String,
    /// Its SCTP stream id.
    pub stream_id: Option<u16>,
    /// Open.
    pub open: bool,
    /// Messages sent.
    pub messages_sent: u64,
    /// Messages received.
    pub messages_received: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Bytes received.
    pub bytes_received: u64,
}
