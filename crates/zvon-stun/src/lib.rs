//! # zvon-stun
//!
//! STUN (RFC 8489, compatible with RFC 5389): zero-copy decoding and infallible encoding of
//! messages and of every attribute ICE (RFC 8445) and TURN (RFC 8656) use, message integrity
//! (HMAC-SHA1 and HMAC-SHA256), FINGERPRINT, and client transactions with RFC 8489
//! retransmission timing. Sans-IO: no sockets, no clock.
#![forbid(unsafe_code)]
