//! # zvon-srtp
//!
//! SRTP and SRTCP (RFC 3711, RFC 7714 AES-GCM): key derivation, per-SSRC contexts, rollover
//! counter estimation, replay windows, protect and unprotect in place into caller buffers with
//! no allocation per packet.
#![forbid(unsafe_code)]
