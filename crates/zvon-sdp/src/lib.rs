//! # zvon-sdp
//!
//! Session descriptions (RFC 8866) with the attributes WebRTC uses (JSEP RFC 8829, BUNDLE,
//! simulcast, SCTP, ssrc, extmap, fingerprint, setup, ICE, candidates): parsed into typed
//! structures and written back, unknown attributes kept in place.
#![forbid(unsafe_code)]
