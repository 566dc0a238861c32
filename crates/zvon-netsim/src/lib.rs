//! # zvon-netsim
//!
//! A deterministic network simulator: a virtual clock, endpoints with addresses, links with
//! latency, jitter, loss, reordering, duplication and a bandwidth cap, and NAT boxes of the four
//! classic types. The same seed gives the same packet trace, byte for byte.
#![forbid(unsafe_code)]
