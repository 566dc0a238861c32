//! # zvon-sctp
//!
//! SCTP (RFC 9260) as WebRTC data channels use it: one association per DTLS connection, no
//! multi-homing, in the spirit of Google's dcsctp. Sans-IO: the association consumes and
//! produces SCTP packets as byte slices (the DTLS application data), time comes in as `now`,
//! randomness from a seeded [`zvon_base::Rng`].
//!
//! What it does:
//! - the association: four-way handshake with an HMAC-authenticated state cookie, the INIT
//!   collision of WebRTC (both sides connect), graceful SHUTDOWN and ABORT with error causes,
//!   heartbeats, T1/T2/T3 timers with the RTO of RFC 9260 6.3, SACK with gap blocks and
//!   duplicate TSNs, delayed SACK with the SACK-IMMEDIATELY bit (RFC 7053), fast retransmit
//!   and fast recovery, cwnd/ssthresh/slow start/congestion avoidance, the receiver window,
//!   bundling, CRC32c (hardware) or zero checksum (RFC 9653) when both sides agree;
//! - partial reliability (RFC 3758 FORWARD-TSN: max retransmits and max lifetime), stream
//!   reset (RFC 6525) to close channels, I-DATA and I-FORWARD-TSN (RFC 8260), fragmentation
//!   up to the negotiated maximum message size (RFC 8841);
//! - data channels (RFC 8831, DCEP of RFC 8832): in-band and negotiated channels, stream id
//!   parity by DTLS role, ordered/unordered, string/binary/empty messages, `bufferedAmount`
//!   with its low-threshold event, per-channel close, the W3C channel states;
//! - a round-robin scheduler over channels: by message with DATA, by fragment with I-DATA,
//!   so a bulk channel does not starve a chat channel.
//!
//! The hot path allocates nothing per chunk to parse (chunks are views over the packet), keeps
//! a user message once (fragments are ranges of it), and keeps sent data in a `VecDeque` by
//! TSN so that acknowledgement costs O(acked).
//!
//! The drive loop is the one every zvon state machine has; see [`Association`].
//!
//! ## Figures
//!
//! `cargo bench -p zvon-sctp --bench throughput` moves one reliable ordered stream between two
//! associations in memory (MTU 1200, the receiver answering after every packet) beside
//! sctp-proto 0.10 (str0m's engine) and rtc-sctp 0.21 (webrtc-rs) in the same run. On the
//! shared 2-core development machine, CPU per GB (the stable figure; wall-clock throughput
//! swings with the load): zvon 0.40-0.53 s/GB with zero checksum, 0.59-0.67 with CRC32c;
//! sctp-proto 3.7-6.9; rtc-sctp 1.3-1.9. That is 8-13x less CPU than sctp-proto and about 3x
//! less than rtc-sctp, some 15-20 Gbit/s per core; small messages about 4x rtc-sctp's rate.
//! `ZVON_SCTP_BULK_MIB=1024 cargo test -p zvon-sctp --test bulk -- --nocapture` prints the
//! simulator figures (1 GiB each, every byte checked), among them 50 ms RTT: 589 Mbit/s
//! against a window-limited ceiling of 671 Mbit/s (4 MiB window), and 2.4 Mbit/s with 1% loss.
#![forbid(unsafe_code)]

mod association;
mod channel;
pub mod chunk;
mod config;
mod cookie;
pub mod dcep;
mod error;
mod outstanding;
pub mod packet;
mod recv;
mod send;
mod timer;
pub mod tsn;

pub use association::{Association, AssociationState, Stats};
pub use channel::{ChannelId, ChannelOptions, ChannelState, Event, MessageKind, Reliability};
pub use config::{Config, Role};
pub use error::Error;
