//! RTCP (RFC 3550 6, RFC 4585, RFC 5104, RFC 5506, RFC 3611): compound and reduced-size
//! packets, read as typed views and written into a caller's buffer.
//!
//! [`Compound::parse`] checks the framing of every packet in a datagram (version, lengths,
//! padding); [`Compound::packets`] then yields each packet of a type this crate knows as a
//! typed [`RtcpPacket`], checked when yielded, and skips the others ([`Compound::raw`] yields
//! every packet, known or not). A known packet whose body is malformed comes out as an `Err`
//! and the walk goes on with the next one. Nothing requires the RFC 3550 compound rules (an SR
//! or RR first, an SDES CNAME): RFC 5506 reduced-size packets are read the same way.
//!
//! Each type has a `write` associated function that appends one packet to a `Vec<u8>`,
//! computing its count and length fields and its padding to 32 bits; writing several in a row
//! makes a compound packet. [`add_padding`] pads the last one with RTCP padding.
//!
//! ```
//! use zvon_rtp::rtcp::{Compound, Pli, ReceiverReport, ReportBlock, RtcpPacket, Sdes};
//! let mut buf = Vec::new();
//! let block = ReportBlock { ssrc: 2, fraction_lost: 64, ..Default::default() };
//! ReceiverReport::write(&mut buf, 1, &[block]);
//! Sdes::write_cname(&mut buf, 1, "zvon@example");
//! Pli::write(&mut buf, 1, 2);
//!
//! let mut kinds = Vec::new();
//! for p in Compound::parse(&buf)?.packets() {
//!     match p? {
//!         RtcpPacket::ReceiverReport(rr) => {
//!             assert_eq!(rr.report_blocks().next(), Some(block));
//!             kinds.push("rr");
//!         }
//!         RtcpPacket::Sdes(s) => {
//!             assert_eq!(s.cname(1), Some(&b"zvon@example"[..]));
//!             kinds.push("sdes");
//!         }
//!         RtcpPacket::Pli(pli) => {
//!             assert_eq!(pli.media_ssrc, 2);
//!             kinds.push("pli");
//!         }
//!         _ => {}
//!     }
//! }
//! assert_eq!(kinds, ["rr", "sdes", "pli"]);
//! # Ok::<(), zvon_rtp::RtcpError>(())
//! ```

mod feedback;
mod report;
mod sdes;
mod twcc;
mod xr;

pub use feedback::{Fir, FirEntry, Nack, NackPair, NackPairs, Pli, Remb, nack_pairs};
pub use report::{ReceiverReport, ReportBlock, ReportBlocks, SenderInfo, SenderReport};
pub use sdes::{App, Bye, Sdes, SdesChunk, SdesChunks, SdesItem, SdesItems, SdesType};
pub use twcc::{TransportFeedback, TwccDelta, TwccHeader, TwccIter, TwccStatus};
pub use xr::{DlrrItem, ExtendedReport, XrBlock, XrBlocks};

use crate::bytes::{put, slice, u8_at, u16_at};
use crate::error::RtcpError;

/// Length of the common RTCP header (V/P/count, packet type, length).
pub const RTCP_HEADER_LEN: usize = 4;

/// RTCP packet types (RFC 3550 12.1, RFC 4585 6.1, RFC 3611 2).
pub mod packet_type {
    /// Sender report.
    pub const SR: u8 = 200;
    /// Receiver report.
    pub const RR: u8 = 201;
    /// Source description.
    pub const SDES: u8 = 202;
    /// Goodbye.
    pub const BYE: u8 = 203;
    /// Application-defined.
    pub const APP: u8 = 204;
    /// Transport-layer feedback (RFC 4585): generic NACK, transport-wide feedback, ...
    pub const RTPFB: u8 = 205;
    /// Payload-specific feedback (RFC 4585): PLI, FIR, REMB, ...
    pub const PSFB: u8 = 206;
    /// Extended report (RFC 3611).
    pub const XR: u8 = 207;
}

/// Feedback message types (the FMT field, RFC 4585 6.2/6.3, RFC 5104 4.3).
pub mod fmt {
    /// RTPFB: generic NACK.
    pub const NACK: u8 = 1;
    /// RTPFB: transport-wide congestion control feedback.
    pub const TRANSPORT_CC: u8 = 15;
    /// PSFB: picture loss indication.
    pub const PLI: u8 = 1;
    /// PSFB: full intra request.
    pub const FIR: u8 = 4;
    /// PSFB: application layer feedback (REMB).
    pub const AFB: u8 = 15;
}

/// One RTCP packet as framed, of any type: the header's fields and the body (after the 4-byte
/// header, without padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRtcp<'a> {
    /// The 5-bit field after the padding bit: report count, source count, FMT or subtype.
    pub count: u8,
    /// Packet type.
    pub packet_type: u8,
    /// The padding bit.
    pub padding: bool,
    /// The body, without the header and without padding.
    pub body: &'a [u8],
    /// The whole packet, header and padding included.
    pub bytes: &'a [u8],
}

/// Reads the packet at the start of `buf`; returns it and the bytes after it.
fn frame(buf: &[u8]) -> Result<(RawRtcp<'_>, &[u8]), RtcpError> {
    if buf.len() < RTCP_HEADER_LEN {
        return Err(RtcpError::TooShort { len: buf.len() });
    }
    let first = u8_at(buf, 0);
    let version = first >> 6;
    if version != 2 {
        return Err(RtcpError::BadVersion(version));
    }
    //# length: 16 bits. The length of this RTCP packet in 32-bit words minus one, including
    //# the header and any padding.
    let len = 4 * (usize::from(u16_at(buf, 2)) + 1);
    let (bytes, rest) = match (buf.get(..len), buf.get(len..)) {
        (Some(b), Some(r)) => (b, r),
        _ => {
            return Err(RtcpError::LengthOverrun {
                claimed: len,
                available: buf.len(),
            });
        }
    };
    let padding = first & 0x20 != 0;
    let mut end = len;
    if padding {
        let count = u8_at(bytes, len - 1); // len >= 4
        if count == 0 || usize::from(count) > len - RTCP_HEADER_LEN {
            return Err(RtcpError::BadPadding { count });
        }
        end -= usize::from(count);
    }
    Ok((
        RawRtcp {
            count: first & 0x1F,
            packet_type: u8_at(bytes, 1),
            padding,
            body: slice(bytes, RTCP_HEADER_LEN, end),
            bytes,
        },
        rest,
    ))
}

/// A compound (or reduced-size, or single) RTCP packet: one datagram's worth, its framing
/// checked by [`Compound::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compound<'a> {
    buf: &'a [u8],
}

impl<'a> Compound<'a> {
    /// Checks the framing of every packet in `buf`: at least one packet, version 2, each
    /// length within the datagram and together filling it exactly, padding counts that fit.
    pub fn parse(buf: &'a [u8]) -> Result<Self, RtcpError> {
        let mut rest = buf;
        loop {
            let (_, r) = frame(rest)?;
            if r.is_empty() {
                return Ok(Self { buf });
            }
            rest = r;
        }
    }

    /// The datagram.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Every packet as framed, whatever its type.
    pub fn raw(&self) -> RawPackets<'a> {
        RawPackets { rest: self.buf }
    }

    /// The packets of the types this crate knows, each checked as it is yielded; the others
    /// are skipped.
    pub fn packets(&self) -> Packets<'a> {
        Packets { raw: self.raw() }
    }
}

/// Iterator over the framed packets of a [`Compound`].
#[derive(Debug, Clone)]
pub struct RawPackets<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for RawPackets<'a> {
    type Item = RawRtcp<'a>;

    fn next(&mut self) -> Option<RawRtcp<'a>> {
        // Compound::parse checked every frame, so an error here cannot happen; it would end
        // the walk rather than panic.
        let (p, rest) = frame(self.rest).ok()?;
        self.rest = rest;
        Some(p)
    }
}

/// Iterator over the known packets of a [`Compound`]; see [`Compound::packets`].
#[derive(Debug, Clone)]
pub struct Packets<'a> {
    raw: RawPackets<'a>,
}

impl<'a> Iterator for Packets<'a> {
    type Item = Result<RtcpPacket<'a>, RtcpError>;

    fn next(&mut self) -> Option<Self::Item> {
        for raw in self.raw.by_ref() {
            match RtcpPacket::parse(raw) {
                Ok(Some(p)) => return Some(Ok(p)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
        None
    }
}

/// A typed RTCP packet; each variant is a view checked once, whose accessors cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcpPacket<'a> {
    /// SR (RFC 3550 6.4.1).
    SenderReport(SenderReport<'a>),
    /// RR (RFC 3550 6.4.2).
    ReceiverReport(ReceiverReport<'a>),
    /// SDES (RFC 3550 6.5).
    Sdes(Sdes<'a>),
    /// BYE (RFC 3550 6.6).
    Bye(Bye<'a>),
    /// APP (RFC 3550 6.7).
    App(App<'a>),
    /// Generic NACK (RFC 4585 6.2.1).
    Nack(Nack<'a>),
    /// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
    /// extensions-01 3.1).
    TransportFeedback(TransportFeedback<'a>),
    /// Picture loss indication (RFC 4585 6.3.1).
    Pli(Pli),
    /// Full intra request (RFC 5104 4.3.1).
    Fir(Fir<'a>),
    /// Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb-03).
    Remb(Remb<'a>),
    /// Extended report (RFC 3611).
    ExtendedReport(ExtendedReport<'a>),
}

impl<'a> RtcpPacket<'a> {
    /// Checks the body of one framed packet. `Ok(None)` for a type (or feedback FMT, or
    /// application-layer feedback other than REMB) this crate does not decode.
    pub fn parse(raw: RawRtcp<'a>) -> Result<Option<Self>, RtcpError> {
        use packet_type::*;
        Ok(Some(match (raw.packet_type, raw.count) {
            (SR, _) => RtcpPacket::SenderReport(SenderReport::parse(raw)?),
            (RR, _) => RtcpPacket::ReceiverReport(ReceiverReport::parse(raw)?),
            (SDES, _) => RtcpPacket::Sdes(Sdes::parse(raw)?),
            (BYE, _) => RtcpPacket::Bye(Bye::parse(raw)?),
            (APP, _) => RtcpPacket::App(App::parse(raw)?),
            (RTPFB, fmt::NACK) => RtcpPacket::Nack(Nack::parse(raw)?),
            (RTPFB, fmt::TRANSPORT_CC) => {
                RtcpPacket::TransportFeedback(TransportFeedback::parse(raw)?)
            }
            (PSFB, fmt::PLI) => RtcpPacket::Pli(Pli::parse(raw)?),
            (PSFB, fmt::FIR) => RtcpPacket::Fir(Fir::parse(raw)?),
            (PSFB, fmt::AFB) => match Remb::parse(raw)? {
                Some(r) => RtcpPacket::Remb(r),
                None => return Ok(None),
            },
            (XR, _) => RtcpPacket::ExtendedReport(ExtendedReport::parse(raw)?),
            _ => return Ok(None),
        }))
    }
}

/// `Truncated` for a body shorter than `needed`.
pub(crate) fn need(raw: &RawRtcp<'_>, needed: usize) -> Result<(), RtcpError> {
    if raw.body.len() < needed {
        return Err(RtcpError::Truncated {
            packet_type: raw.packet_type,
            needed,
            len: raw.body.len(),
        });
    }
    Ok(())
}

/// Starts a packet: writes the header with a zero length; returns where it starts.
pub(crate) fn begin(out: &mut Vec<u8>, count: u8, packet_type: u8) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0x80 | (count & 0x1F), packet_type, 0, 0]);
    start
}

/// Ends the packet that starts at `start`: zeros up to a 32-bit boundary, then the length
/// field. Returns the packet's length. A packet over 262 144 bytes cannot be framed (its
/// length field would wrap); no caller of this crate's writers gets near that with sane input.
pub(crate) fn end(out: &mut Vec<u8>, start: usize) -> usize {
    while !(out.len() - start).is_multiple_of(4) {
        out.push(0);
    }
    let len = out.len() - start;
    put(out, start + 2, ((len / 4 - 1) as u16).to_be_bytes());
    len
}

/// Adds RTCP padding (RFC 3550 6.4.1) to the packet that starts at `start` and ends the
/// buffer: sets its padding bit, appends `len` rounded up to a multiple of 4 (at least 4)
/// bytes whose last one holds the count, and updates its length field. Only the last packet of
/// a compound packet may be padded.
///
/// ```
/// use zvon_rtp::rtcp::{add_padding, Compound, Pli};
/// let mut buf = Vec::new();
/// let start = buf.len();
/// Pli::write(&mut buf, 1, 2);
/// add_padding(&mut buf, start, 5);
/// assert_eq!(buf.len(), 12 + 8);
/// let raw = Compound::parse(&buf)?.raw().next().unwrap();
/// assert!(raw.padding);
/// assert_eq!(raw.body.len(), 8);
/// # Ok::<(), zvon_rtp::RtcpError>(())
/// ```
pub fn add_padding(out: &mut Vec<u8>, start: usize, len: u8) {
    let pad = usize::from(len).div_ceil(4).max(1) * 4;
    let pad = pad.min(252);
    out.resize(out.len() + pad - 1, 0);
    out.push(pad as u8);
    let first = u8_at(out, start);
    put(out, start, [first | 0x20]);
    let total = out.len().saturating_sub(start);
    put(
        out,
        start + 2,
        ((total / 4).saturating_sub(1) as u16).to_be_bytes(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_errors() {
        assert_eq!(Compound::parse(&[]), Err(RtcpError::TooShort { len: 0 }));
        assert_eq!(
            Compound::parse(&[0x40, 201, 0, 0]),
            Err(RtcpError::BadVersion(1))
        );
        assert!(Compound::parse(&[0x80, 201, 0, 1, 0, 0, 0, 0]).is_ok());
        assert_eq!(
            Compound::parse(&[0x80, 201, 0, 2, 0, 0, 0, 0]),
            Err(RtcpError::LengthOverrun {
                claimed: 12,
                available: 8
            })
        );
        // Trailing bytes that do not make a header.
        assert_eq!(
            Compound::parse(&[0x80, 201, 0, 1, 0, 0, 0, 0, 0x80]),
            Err(RtcpError::TooShort { len: 1 })
        );
        // Padding count 0, and larger than the body.
        assert_eq!(
            Compound::parse(&[0xa0, 201, 0, 1, 0, 0, 0, 0]),
            Err(RtcpError::BadPadding { count: 0 })
        );
        assert_eq!(
            Compound::parse(&[0xa0, 201, 0, 1, 0, 0, 0, 5]),
            Err(RtcpError::BadPadding { count: 5 })
        );
        assert!(RtcpError::BadPadding { count: 0 }.is_framing());
    }

    #[test]
    fn unknown_types_are_skipped_but_framed() {
        let mut buf = Vec::new();
        let s = begin(&mut buf, 3, 210); // an unknown type
        buf.extend_from_slice(&[1, 2, 3, 4]);
        end(&mut buf, s);
        let s = begin(&mut buf, 9, packet_type::PSFB); // an unknown PSFB FMT
        buf.extend_from_slice(&[0; 8]);
        end(&mut buf, s);
        Pli::write(&mut buf, 7, 8);
        let c = Compound::parse(&buf).unwrap();
        assert_eq!(c.raw().count(), 3);
        let known: Vec<_> = c.packets().collect();
        assert_eq!(
            known,
            [Ok(RtcpPacket::Pli(Pli {
                sender_ssrc: 7,
                media_ssrc: 8
            }))]
        );
    }

    #[test]
    fn a_bad_body_costs_only_its_packet() {
        let mut buf = Vec::new();
        let s = begin(&mut buf, 2, packet_type::RR); // claims two report blocks, has none
        buf.extend_from_slice(&[0, 0, 0, 1]);
        end(&mut buf, s);
        Pli::write(&mut buf, 1, 2);
        let got: Vec<_> = Compound::parse(&buf).unwrap().packets().collect();
        assert_eq!(got.len(), 2);
        assert!(matches!(
            got[0],
            Err(RtcpError::Truncated {
                packet_type: 201,
                ..
            })
        ));
        assert!(matches!(got[1], Ok(RtcpPacket::Pli(_))));
    }
}
