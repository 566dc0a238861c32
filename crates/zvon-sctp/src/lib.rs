//! # zvon-sctp
//!
//! SCTP (RFC 9260) as WebRTC data channels use it: one association per DTLS connection, no
//! multi-homing, in the spirit of Google's dcsctp. Sans-IO: the association consumes and
//! produces SCTP packets as byte slices (the DTLS application data), time comes in as `now`,
//! randomness from a seeded [`zvon_base::Rng`].
//!
//! What it does:
//! - the association: four-way handshake with an HMAC-authenticated state cookie, the INIT
//!   collision of WebRTC (both sides connect), a peer restart (RFC 9260 5.2.4 A: channels
//!   closed, association up again, `Event::Restarted`), graceful SHUTDOWN and ABORT with error
//!   causes,
//!   heartbeats, T1/T2/T3 timers with the RTO of RFC 9260 6.3, SACK with gap blocks and
//!   duplicate TSNs, delayed SACK with the SACK-IMMEDIATELY bit (RFC 7053), fast retransmit
//!   and fast recovery, cwnd/ssthresh/slow start/congestion avoidance, Max.Burst (at most 4
//!   packets of new data per SACK, RFC 9260 6.1 D), the receiver window,
//!   bundling, CRC32c (hardware) or zero checksum (RFC 9653) when both sides agree;
//! - partial reliability (RFC 3758 FORWARD-TSN: max retransmits and max lifetime), stream
//!   reset (RFC 6525) to close channels, I-DATA and I-FORWARD-TSN (RFC 8260), fragmentation
//!   up to the negotiated maximum message size (RFC 8841);
//! - data channels (RFC 8831, DCEP of RFC 8832): in-band and negotiated channels, stream id
//!   parity by DTLS role, ordered/unordered, string/binary/empty messages, `bufferedAmount`
//!   with its low-threshold event, per-channel close, the W3C channel states; messages that
//!   arrive on a negotiated channel before this side created it are kept (within the receive
//!   window) and delivered after its `ChannelOpen`, as browsers do;
//! - a weighted fair scheduler over channels (stride scheduling by channel priority, RFC 8831
//!   6.4): by message with DATA, by fragment with I-DATA, so that busy channels share bytes in
//!   proportion to their priorities and a bulk channel does not starve a chat channel.
//!
//! Memory is bounded against a hostile peer: at most `Config::max_channels` channels (1024)
//! and `Config::max_peer_label_bytes` of the peer's labels and protocols (1 MiB); an OPEN
//! beyond either is refused by resetting its stream, and the association goes on. Inbound data
//! held (reassembly, unpolled messages) is charged its payload plus a measured per-piece
//! overhead against the receive window, so it stays below twice `max_receive_buffer` in real
//! heap too, whatever the piece size. Per-stream receive state (sequence numbers) is about 130
//! bytes per stream the peer has used, at most the negotiated stream count (8 MB for 65535;
//! `Config::max_streams` lowers it, Chromium offers 1024). An idle channel costs about 650
//! bytes per side (`tests/memory.rs`).
//!
//! The hot path allocates nothing per chunk to parse (chunks are views over the packet), keeps
//! a user message once (fragments are ranges of it), and keeps sent data in a `VecDeque` by
//! TSN so that acknowledgement costs O(acked).
//!
//! The drive loop is the one every zvon state machine has; see [`Association`].
//!
//! ## Figures
//!
//! `cargo bench --bench sctp_engines` in the separate `bench/` workspace moves one reliable ordered stream between two
//! associations in memory (MTU 1200, the receiver answering after every packet) beside
//! sctp-proto 0.10 (str0m's engine) and rtc-sctp 0.21 (webrtc-rs) in the same run. On the
//! 2-core development machine (shared, so wall-clock figures swing; CPU per GB is stable),
//! 64 KiB messages, 1 MiB send buffer: zvon 17.4 Gbit/s at 0.35 CPU s/GB with zero checksum
//! (9.5 Gbit/s, 0.58 s/GB with CRC32c), sctp-proto 1.8 Gbit/s at 3.2 s/GB, rtc-sctp 4.9 Gbit/s
//! at 1.2 s/GB: 9.7x and 3.5x the throughput, 9x and 3.4x less CPU. Throughput holds from a
//! 32 KiB to a 1 MiB send buffer (20-30 Gbit/s). 100-byte messages: 3.8 M/s against 0.15 M/s
//! and 0.86 M/s. `ZVON_SCTP_BULK_MIB=1024 cargo test -p zvon-sctp --test bulk -- --nocapture`
//! prints the simulator figures (1 GiB each, every byte checked), among them 50 ms RTT:
//! 632 Mbit/s against the window-limited ceiling of 671 Mbit/s (4 MiB window), and 2.4 Mbit/s
//! with 1% loss (the Reno-like congestion control of RFC 9260). `cargo test -p zvon-sctp
//! --test scale -- --nocapture`: two busy channels at priorities 1024 and 256 share a 20 Mbit/s
//! link 4.0 : 1, and a very-low-priority chat channel beside a high-priority bulk one keeps a
//! p50 latency of 35 ms (I-DATA) / 47 ms (DATA) on a 40 ms RTT.
//!
//! The whole stack (ICE, DTLS 1.3, this crate) between two `zvon::PeerConnection`s over
//! loopback UDP, `bench/run-dc.sh`: 3.4-3.7 Gbit/s at 3.9 CPU s/GB with a 32 KiB to 1 MiB
//! send buffer, 6-25x str0m and 2.9-16x webrtc-rs in the same run (bench/README.md).
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
pub use channel::{
    ChannelId, ChannelOptions, ChannelState, Event, MessageKind, Reliability, priority,
};
pub use config::{Config, Role};
pub use error::Error;
