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
//!
//! ## Wiring it under DTLS (for `zvon-core`)
//!
//! ```text
//! socket datagram ──> IceAgent::handle_datagram(now, proto, source, destination, bytes)
//!                        ├─ Received::Ice             consumed (checks, TURN control)
//!                        ├─ Received::Data{data,peer} DTLS/SRTP/... (unwrapped from TURN
//!                        │                            ChannelData / Data indications)
//!                        └─ Received::Dropped         not ours
//! outbound app data ──> route() (direct pair: send your own buffer, no copy)
//!                       or send(payload, buf) (relayed: ChannelData / Send indication)
//! ```
//!
//! Candidates are zvon's own [`Candidate`]; `zvon-core` converts to and from the SDP
//! `a=candidate` lines of `zvon-sdp`. Remote `.local` names are resolved with
//! [`mdns::MdnsResolver`] before [`IceAgent::add_remote_candidate`].
//!
//! ```
//! use std::time::Instant;
//! use zvon_base::{Protocol, Rng};
//! use zvon_ice::{IceAgent, IceConfig, IceEvent, IceRole, Received};
//! # #[allow(clippy::disallowed_methods)]
//! let now = Instant::now();
//! let mut a = IceAgent::new(IceConfig::default(), IceRole::Controlling, Rng::from_seed_u64(1));
//! let mut b = IceAgent::new(IceConfig::default(), IceRole::Controlled, Rng::from_seed_u64(2));
//! a.add_host_candidate("192.0.2.1:1000".parse().unwrap(), 0);
//! b.add_host_candidate("192.0.2.2:2000".parse().unwrap(), 0);
//! a.gather(now);
//! b.gather(now);
//! // Signaling: credentials and candidates both ways.
//! let (ca, cb) = (a.local_credentials().clone(), b.local_credentials().clone());
//! a.set_remote_credentials(now, &cb.ufrag, &cb.pwd).unwrap();
//! b.set_remote_credentials(now, &ca.ufrag, &ca.pwd).unwrap();
//! let cands = |x: &IceAgent| x.local_candidates().cloned().collect::<Vec<_>>();
//! for c in cands(&b) { a.add_remote_candidate(now, c).unwrap(); }
//! for c in cands(&a) { b.add_remote_candidate(now, c).unwrap(); }
//! // A perfect network: every transmit is delivered at once.
//! fn pump(from: &mut IceAgent, to: &mut IceAgent, now: Instant, buf: &mut Vec<u8>) {
//!     while let Some(t) = from.poll_transmit(now, buf) {
//!         let r = to.handle_datagram(now, Protocol::Udp, t.source, t.destination, &buf[..t.len]);
//!         assert_eq!(r, Received::Ice);
//!     }
//! }
//! let mut buf = Vec::new();
//! for _ in 0..10 {
//!     pump(&mut a, &mut b, now, &mut buf);
//!     pump(&mut b, &mut a, now, &mut buf);
//! }
//! assert!(a.selected_pair().is_some() && b.selected_pair().is_some());
//! ```
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
