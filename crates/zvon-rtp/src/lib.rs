//! # zvon-rtp
//!
//! RTP and RTCP for zvon, sans-IO: views over received bytes that are checked once and then
//! cannot fail or panic, writers that append to a caller's `Vec<u8>` and cannot fail, and the
//! statistics RTCP reports are made of. Nothing here reads a clock or a socket, and nothing
//! allocates per packet.
//!
//! - **RTP** (RFC 3550 5): [`RtpPacket`] over `&[u8]` (or `&mut [u8]` to rewrite header fields
//!   in place), [`RtpWriter`] with [`RtpHeader`].
//! - **Header extensions** (RFC 8285, one- and two-byte forms): [`RtpPacket::extensions`]
//!   walks the elements by id; [`ext`] has the WebRTC extensions (mid, rid, repaired-rid,
//!   abs-send-time, transport-wide sequence number, audio level, video orientation, playout
//!   delay, abs-capture-time, toffset), the [`ExtensionMap`] that `a=extmap` negotiates, and
//!   [`ExtensionValues`] that decodes them all in one walk.
//! - **RTCP** ([`rtcp`]): compound and reduced-size (RFC 5506) packets as typed views: SR, RR,
//!   SDES, BYE, APP, generic NACK, PLI, FIR, REMB, transport-wide congestion control feedback,
//!   and XR (RRTR and DLRR blocks); a `write` function for each.
//! - **Statistics** ([`stats`]): RFC 3550 appendix A sequence validation with probation,
//!   loss and fraction lost, interarrival jitter, report blocks with LSR/DLSR, round-trip time,
//!   the sender's packet/octet counts and NTP/RTP timestamp mapping; sequence number and
//!   timestamp unwrapping. [`NtpTime`] is the wall-clock format they use.
//!
//! Errors are [`RtpError`] and [`RtcpError`]; both implement [`zvon_base::Classify`] and cost
//! one packet, never the connection.
//!
//! Packetizers, the jitter buffer, NACK/RTX and bandwidth estimation build on these views and
//! are not here yet.
//!
//! ## Receiving
//!
//! ```
//! use zvon_base::{classify, DatagramKind};
//! use zvon_rtp::{ExtensionMap, RtpPacket, ext::Extension, rtcp::{Compound, RtcpPacket}};
//!
//! let mut map = ExtensionMap::new();
//! map.insert_uri(1, "urn:ietf:params:rtp-hdrext:sdes:mid");
//! map.insert_uri(3, "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01");
//!
//! fn handle(datagram: &[u8], map: &ExtensionMap) {
//!     match classify(datagram) {
//!         DatagramKind::Rtp => {
//!             let Ok(pkt) = RtpPacket::new_checked(datagram) else { return };
//!             let ext = pkt.extension_values(map);
//!             let _ = (pkt.ssrc(), pkt.sequence_number(), ext.mid, ext.transport_cc);
//!         }
//!         DatagramKind::Rtcp => {
//!             let Ok(compound) = Compound::parse(datagram) else { return };
//!             for packet in compound.packets().flatten() {
//!                 if let RtcpPacket::Nack(nack) = packet {
//!                     for _seq in nack.lost() { /* retransmit */ }
//!                 }
//!             }
//!         }
//!         _ => {}
//!     }
//! }
//! # let mut buf = Vec::new();
//! # zvon_rtp::rtcp::Nack::write_lost(&mut buf, 1, 2, [5, 6]);
//! # handle(&buf, &map);
//! ```
//!
//! ## Sending
//!
//! ```
//! use zvon_rtp::{ExtensionMap, ExtensionValues, RtpHeader, RtpWriter, ext::Extension};
//! let mut map = ExtensionMap::new();
//! map.insert(1, Extension::Mid);
//! map.insert(3, Extension::TransportCc);
//! let header = RtpHeader { payload_type: 111, sequence_number: 1, timestamp: 960, ssrc: 42,
//!                          ..Default::default() };
//! let mut buf = Vec::with_capacity(1500);
//! let mut w = RtpWriter::new(&mut buf, &header);
//! w.extension_values(&map, &ExtensionValues { mid: Some("0"), transport_cc: Some(17),
//!                                              ..Default::default() });
//! let len = w.finish(&[0xfc, 0xff, 0xfe], 0);
//! assert_eq!(len, buf.len());
//! ```
#![forbid(unsafe_code)]

mod bytes;
mod error;
pub mod ext;
mod packet;
pub mod rtcp;
pub mod stats;
mod time;

pub use error::{RtcpError, RtpError};
pub use ext::{ExtensionMap, ExtensionValues};
pub use packet::{
    ExtensionForm, Extensions, ONE_BYTE_PROFILE, RTP_HEADER_LEN, RtpHeader, RtpPacket, RtpWriter,
    TWO_BYTE_PROFILE,
};
pub use time::{NTP_UNIX_OFFSET_SECS, NtpTime, compact_to_duration, duration_to_compact};
