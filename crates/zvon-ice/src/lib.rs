//! # zvon-ice
//!
//! The ICE agent (RFC 8445, full and lite, RFC 8838 trickle), the TURN client (RFC 8656) and
//! mDNS host-candidate resolution. It owns the checklist, nomination, consent freshness
//! (RFC 7675) and the W3C connection states; sockets stay with the caller. Sans-IO.
//!
//! - [`IceAgent`]: gathering, pairing, checks, nomination, consent, restart; one per peer.
//! - [`turn::TurnClient`]: one TURN allocation; the agent runs one per TURN server and host
//!   interface and pairs its relayed candidate like any other.
//! - [`candidate`]: candidates, priorities, foundations (RFC 8445 section 5.1).
//! - [`transaction`]: STUN request retransmission timing (RFC 8489 section 6.2.1).
//! - [`mux::SharedPortMux`]: many ICE-lite agents on one UDP port.
//! - [`mdns`]: `.local` candidate names (DNS codec, resolver, responder).
//!
//! The drive loop is zvon's usual one: feed datagrams to
//! [`IceAgent::handle_datagram`], drain [`IceAgent::poll_transmit`] and
//! [`IceAgent::poll_event`], sleep until [`IceAgent::poll_timeout`], call
//! [`IceAgent::handle_timeout`].
#![forbid(unsafe_code)]

mod agent;
pub mod candidate;
pub mod mdns;
pub mod mux;
pub mod transaction;
pub mod turn;
mod wire;

pub use agent::{
    Credentials, FAST_STUN, GatheringState, IceAgent, IceConfig, IceConnectionState, IceError,
    IceEvent, IceRole, Received,
};
pub use candidate::{Candidate, CandidateKind, Foundation};
