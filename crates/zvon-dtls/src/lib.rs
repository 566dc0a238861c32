//! # zvon-dtls
//!
//! The DTLS transport of a WebRTC connection: glue over the `dimpl` crate (DTLS 1.2 and 1.3),
//! role from SDP `a=setup`, certificates and `a=fingerprint` verification, and the RFC 5764
//! keying-material export that feeds SRTP. Keys are only released once the fingerprint is
//! verified. Sans-IO.
#![forbid(unsafe_code)]
