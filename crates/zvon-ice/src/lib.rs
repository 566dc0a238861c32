//! # zvon-ice
//!
//! The ICE agent (RFC 8445, full and lite, RFC 8838 trickle), the TURN client (RFC 8656) and
//! mDNS host-candidate resolution. It owns the checklist, nomination, consent freshness
//! (RFC 7675) and the W3C connection states; sockets stay with the caller. Sans-IO.
#![forbid(unsafe_code)]
