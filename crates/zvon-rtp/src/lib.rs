//! # zvon-rtp
//!
//! RTP and RTCP (RFC 3550, 4585, 5104, 8285): packet views, header extensions, compound RTCP,
//! NACK/RTX, packetizers and depacketizers for Opus, G.711, VP8, VP9, H.264 and AV1, a jitter
//! buffer and bandwidth estimation. Filled by the media issue; sans-IO.
#![forbid(unsafe_code)]
