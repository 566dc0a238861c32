//! # zvon-sctp
//!
//! SCTP (RFC 9260) as WebRTC data channels use it, one association per DTLS connection, with
//! partial reliability (RFC 3758), stream reconfiguration (RFC 6525), I-DATA (RFC 8260) and the
//! DCEP data-channel protocol (RFC 8832). Sans-IO.
#![forbid(unsafe_code)]
