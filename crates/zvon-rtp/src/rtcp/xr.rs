//! Extended reports (RFC 3611): the framing of every block, and the two blocks WebRTC uses
//! for a receive-only peer's round-trip time, the receiver reference time (RRTR, 4.4) and
//! DLRR (4.5). Other block types come out as [`XrBlock::Other`].

use crate::bytes::{slice, u8_at, u16_at, u32_at, u64_at};
use crate::error::RtcpError;
use crate::rtcp::{RawRtcp, begin, end, need, packet_type};
use crate::time::NtpTime;

const RRTR: u8 = 4;
const DLRR: u8 = 5;

/// One DLRR sub-block: the reply to a receiver's RRTR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DlrrItem {
    /// The receiver whose RRTR this answers.
    pub ssrc: u32,
    /// LRR: the compact NTP time of that RRTR.
    pub last_rr: u32,
    /// DLRR: delay since receiving it, in 1/65536 s.
    pub delay_since_last_rr: u32,
}

/// One report block of an XR packet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum XrBlock<'a> {
    /// Receiver reference time (block type 4).
    Rrtr(NtpTime),
    /// DLRR (block type 5): its sub-blocks.
    Dlrr(DlrrItems<'a>),
    /// Any other block type, unread.
    Other {
        /// Block type.
        block_type: u8,
        /// The type-specific byte.
        type_specific: u8,
        /// The block's contents, after its 4-byte header.
        data: &'a [u8],
    },
}

/// Iterator over the sub-blocks of a DLRR block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DlrrItems<'a> {
    chunks: &'a [u8],
}

impl Iterator for DlrrItems<'_> {
    type Item = DlrrItem;

    fn next(&mut self) -> Option<DlrrItem> {
        let (item, rest) = (self.chunks.get(..12)?, self.chunks.get(12..)?);
        self.chunks = rest;
        Some(DlrrItem {
            ssrc: u32_at(item, 0),
            last_rr: u32_at(item, 4),
            delay_since_last_rr: u32_at(item, 8),
        })
    }
}

/// Reads the block at `pos`: type, type-specific byte, contents, next offset.
fn block(body: &[u8], pos: usize) -> Option<(u8, u8, &[u8], usize)> {
    let words = usize::from(u16_at(body, pos + 2));
    let next = pos + 4 + 4 * words;
    let data = body.get(pos + 4..next)?;
    Some((u8_at(body, pos), u8_at(body, pos + 1), data, next))
}

/// An extended report view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtendedReport<'a> {
    body: &'a [u8],
}

impl<'a> ExtendedReport<'a> {
    pub(crate) fn parse(raw: RawRtcp<'a>) -> Result<Self, RtcpError> {
        need(&raw, 4)?;
        let mut pos = 4;
        while pos < raw.body.len() {
            need(&raw, pos + 4)?;
            let words = usize::from(u16_at(raw.body, pos + 2));
            need(&raw, pos + 4 + 4 * words)?;
            let bad = |what| RtcpError::BadField {
                packet_type: raw.packet_type,
                what,
            };
            match u8_at(raw.body, pos) {
                RRTR if words != 2 => return Err(bad("XR RRTR block is not 2 words")),
                DLRR if words % 3 != 0 => return Err(bad("XR DLRR block is not 3n words")),
                _ => {}
            }
            pos += 4 + 4 * words;
        }
        Ok(Self { body: raw.body })
    }

    /// The SSRC of the report's originator.
    pub fn ssrc(&self) -> u32 {
        u32_at(self.body, 0)
    }

    /// The report blocks.
    pub fn blocks(&self) -> XrBlocks<'a> {
        XrBlocks {
            body: self.body,
            pos: 4,
        }
    }

    /// Appends an XR packet with an RRTR block (if `rrtr`) and a DLRR block (if `dlrr` is not
    /// empty; at most 21 845 items, more are cut). Returns its length.
    pub fn write(out: &mut Vec<u8>, ssrc: u32, rrtr: Option<NtpTime>, dlrr: &[DlrrItem]) -> usize {
        let start = begin(out, 0, packet_type::XR);
        out.extend_from_slice(&ssrc.to_be_bytes());
        if let Some(t) = rrtr {
            out.extend_from_slice(&[RRTR, 0, 0, 2]);
            out.extend_from_slice(&t.0.to_be_bytes());
        }
        let dlrr = dlrr.get(..21_845).unwrap_or(dlrr);
        if !dlrr.is_empty() {
            out.extend_from_slice(&[DLRR, 0]);
            out.extend_from_slice(&((3 * dlrr.len()) as u16).to_be_bytes());
            for d in dlrr {
                out.extend_from_slice(&d.ssrc.to_be_bytes());
                out.extend_from_slice(&d.last_rr.to_be_bytes());
                out.extend_from_slice(&d.delay_since_last_rr.to_be_bytes());
            }
        }
        end(out, start)
    }
}

/// Iterator over the blocks of an [`ExtendedReport`].
#[derive(Debug, Clone)]
pub struct XrBlocks<'a> {
    body: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for XrBlocks<'a> {
    type Item = XrBlock<'a>;

    fn next(&mut self) -> Option<XrBlock<'a>> {
        let (block_type, type_specific, data, next) = block(self.body, self.pos)?;
        self.pos = next;
        Some(match block_type {
            RRTR => XrBlock::Rrtr(NtpTime(u64_at(data, 0))),
            DLRR => XrBlock::Dlrr(DlrrItems {
                chunks: slice(data, 0, data.len()),
            }),
            _ => XrBlock::Other {
                block_type,
                type_specific,
                data,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtcp::{Compound, RtcpPacket};

    #[test]
    fn rrtr_and_dlrr_round_trip() {
        let items = [
            DlrrItem {
                ssrc: 1,
                last_rr: 2,
                delay_since_last_rr: 3,
            },
            DlrrItem {
                ssrc: 4,
                last_rr: 5,
                delay_since_last_rr: 6,
            },
        ];
        let mut out = Vec::new();
        let len = ExtendedReport::write(&mut out, 9, Some(NtpTime(0x1122_3344_5566_7788)), &items);
        assert_eq!(len, 4 + 4 + 12 + 4 + 24);
        let Some(Ok(RtcpPacket::ExtendedReport(xr))) =
            Compound::parse(&out).unwrap().packets().next()
        else {
            panic!()
        };
        assert_eq!(xr.ssrc(), 9);
        let blocks: Vec<_> = xr.blocks().collect();
        assert_eq!(blocks[0], XrBlock::Rrtr(NtpTime(0x1122_3344_5566_7788)));
        let XrBlock::Dlrr(d) = blocks[1].clone() else {
            panic!()
        };
        assert_eq!(d.collect::<Vec<_>>(), items);
    }

    #[test]
    fn unknown_blocks_pass_and_bad_sizes_fail() {
        // A VoIP-metrics-like block (type 7) of one word, then a truncated block header.
        let ok = hex::decode("80cf0003000000090700000112345678").unwrap();
        let c = Compound::parse(&ok).unwrap();
        let Some(Ok(RtcpPacket::ExtendedReport(xr))) = c.packets().next() else {
            panic!()
        };
        assert_eq!(
            xr.blocks().collect::<Vec<_>>(),
            [XrBlock::Other {
                block_type: 7,
                type_specific: 0,
                data: &[0x12, 0x34, 0x56, 0x78]
            }]
        );
        let bad_rrtr = hex::decode("80cf00030000000904000001deadbeef").unwrap();
        let c = Compound::parse(&bad_rrtr).unwrap();
        assert!(matches!(
            c.packets().next(),
            Some(Err(RtcpError::BadField { .. }))
        ));
        let overrun = hex::decode("80cf00030000000907000005deadbeef").unwrap();
        let c = Compound::parse(&overrun).unwrap();
        assert!(matches!(
            c.packets().next(),
            Some(Err(RtcpError::Truncated { .. }))
        ));
    }
}
