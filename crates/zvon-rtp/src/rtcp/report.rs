//! Sender and receiver reports (RFC 3550 6.4).

use crate::bytes::{sign_extend_24, slice, tail, u8_at, u24_at, u32_at, u64_at};
use crate::error::RtcpError;
use crate::rtcp::{RawRtcp, begin, end, need, packet_type};
use crate::time::NtpTime;

/// Length of a report block.
const BLOCK_LEN: usize = 24;
/// Length of the sender info (after the SSRC).
const SENDER_INFO_LEN: usize = 20;

/// One reception report block (RFC 3550 6.4.1): what a receiver saw of one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ReportBlock {
    /// The source reported on.
    pub ssrc: u32,
    /// Fraction of packets lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Packets lost since reception began: expected minus received, negative with duplicates.
    /// 24 bits on the wire: writing clamps to -8 388 608..=8 388 607.
    pub cumulative_lost: i32,
    /// Extended highest sequence number received: wrap count in the high 16 bits.
    pub extended_highest_seq: u32,
    /// Interarrival jitter, in RTP timestamp units.
    pub jitter: u32,
    /// LSR: the compact NTP time of the last SR from this source, 0 if none.
    pub last_sr: u32,
    /// DLSR: delay since that SR was received, in 1/65536 s; 0 if none.
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    fn read(b: &[u8]) -> Self {
        Self {
            ssrc: u32_at(b, 0),
            fraction_lost: u8_at(b, 4),
            cumulative_lost: sign_extend_24(u24_at(b, 5)),
            extended_highest_seq: u32_at(b, 8),
            jitter: u32_at(b, 12),
            last_sr: u32_at(b, 16),
            delay_since_last_sr: u32_at(b, 20),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.push(self.fraction_lost);
        let [_, a, b, c] = self
            .cumulative_lost
            .clamp(-0x80_0000, 0x7F_FFFF)
            .to_be_bytes();
        out.extend_from_slice(&[a, b, c]);
        out.extend_from_slice(&self.extended_highest_seq.to_be_bytes());
        out.extend_from_slice(&self.jitter.to_be_bytes());
        out.extend_from_slice(&self.last_sr.to_be_bytes());
        out.extend_from_slice(&self.delay_since_last_sr.to_be_bytes());
    }
}

/// Iterator over the report blocks of an SR or RR.
#[derive(Debug, Clone)]
pub struct ReportBlocks<'a> {
    chunks: std::slice::ChunksExact<'a, u8>,
}

impl Iterator for ReportBlocks<'_> {
    type Item = ReportBlock;

    fn next(&mut self) -> Option<ReportBlock> {
        self.chunks.next().map(ReportBlock::read)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for ReportBlocks<'_> {}

fn blocks(b: &[u8], at: usize, count: u8) -> ReportBlocks<'_> {
    ReportBlocks {
        chunks: slice(b, at, at + BLOCK_LEN * usize::from(count)).chunks_exact(BLOCK_LEN),
    }
}

/// What a sender says about itself in an SR (RFC 3550 6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SenderInfo {
    /// The sender's SSRC.
    pub ssrc: u32,
    /// Wall-clock time when the report was sent.
    pub ntp: NtpTime,
    /// The same instant in the RTP timestamp units of the sender's media.
    pub rtp_timestamp: u32,
    /// Packets sent since starting (wraps).
    pub packet_count: u32,
    /// Payload octets sent since starting, headers and padding excluded (wraps).
    pub octet_count: u32,
}

/// A sender report view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderReport<'a> {
    body: &'a [u8],
    count: u8,
}

impl<'a> SenderReport<'a> {
    pub(crate) fn parse(raw: RawRtcp<'a>) -> Result<Self, RtcpError> {
        need(
            &raw,
            4 + SENDER_INFO_LEN + BLOCK_LEN * usize::from(raw.count),
        )?;
        Ok(Self {
            body: raw.body,
            count: raw.count,
        })
    }

    /// The sender info.
    pub fn info(&self) -> SenderInfo {
        SenderInfo {
            ssrc: u32_at(self.body, 0),
            ntp: NtpTime(u64_at(self.body, 4)),
            rtp_timestamp: u32_at(self.body, 12),
            packet_count: u32_at(self.body, 16),
            octet_count: u32_at(self.body, 20),
        }
    }

    /// The sender's SSRC.
    pub fn ssrc(&self) -> u32 {
        u32_at(self.body, 0)
    }

    /// The reception reports the sender also gives about the sources it receives.
    pub fn report_blocks(&self) -> ReportBlocks<'a> {
        blocks(self.body, 4 + SENDER_INFO_LEN, self.count)
    }

    /// Profile-specific extension after the report blocks (usually empty).
    pub fn extension(&self) -> &'a [u8] {
        tail(
            self.body,
            4 + SENDER_INFO_LEN + BLOCK_LEN * usize::from(self.count),
        )
    }

    /// Appends an SR with `reports` (at most 31: the count field has 5 bits; more are cut).
    /// Returns the packet's length.
    pub fn write(out: &mut Vec<u8>, info: &SenderInfo, reports: &[ReportBlock]) -> usize {
        let reports = reports.get(..31).unwrap_or(reports);
        let start = begin(out, reports.len() as u8, packet_type::SR);
        out.extend_from_slice(&info.ssrc.to_be_bytes());
        out.extend_from_slice(&info.ntp.0.to_be_bytes());
        out.extend_from_slice(&info.rtp_timestamp.to_be_bytes());
        out.extend_from_slice(&info.packet_count.to_be_bytes());
        out.extend_from_slice(&info.octet_count.to_be_bytes());
        for r in reports {
            r.write(out);
        }
        end(out, start)
    }
}

/// A receiver report view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverReport<'a> {
    body: &'a [u8],
    count: u8,
}

impl<'a> ReceiverReport<'a> {
    pub(crate) fn parse(raw: RawRtcp<'a>) -> Result<Self, RtcpError> {
        need(&raw, 4 + BLOCK_LEN * usize::from(raw.count))?;
        Ok(Self {
            body: raw.body,
            count: raw.count,
        })
    }

    /// The reporter's SSRC.
    pub fn ssrc(&self) -> u32 {
        u32_at(self.body, 0)
    }

    /// The reception reports.
    pub fn report_blocks(&self) -> ReportBlocks<'a> {
        blocks(self.body, 4, self.count)
    }

    /// Profile-specific extension after the report blocks (usually empty).
    pub fn extension(&self) -> &'a [u8] {
        tail(self.body, 4 + BLOCK_LEN * usize::from(self.count))
    }

    /// Appends an RR with `reports` (at most 31; more are cut). Returns the packet's length.
    pub fn write(out: &mut Vec<u8>, ssrc: u32, reports: &[ReportBlock]) -> usize {
        let reports = reports.get(..31).unwrap_or(reports);
        let start = begin(out, reports.len() as u8, packet_type::RR);
        out.extend_from_slice(&ssrc.to_be_bytes());
        for r in reports {
            r.write(out);
        }
        end(out, start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtcp::{Compound, RtcpPacket};

    #[test]
    fn parses_a_receiver_report() {
        // RR from SSRC 0x902f9e2e about 0xbc5e9a40: fraction 0, lost 0, highest 0x46e1,
        // jitter 273, LSR 0x09f36432, DLSR 150137 (the layout of RFC 3550 6.4.2).
        let b = hex::decode(concat!(
            "81c90007", "902f9e2e", "bc5e9a40", "00000000", "000046e1", "00000111", "09f36432",
            "00024a79"
        ))
        .unwrap();
        let Some(Ok(RtcpPacket::ReceiverReport(rr))) =
            Compound::parse(&b).unwrap().packets().next()
        else {
            panic!("not an RR");
        };
        assert_eq!(rr.ssrc(), 0x902f9e2e);
        let blocks: Vec<_> = rr.report_blocks().collect();
        assert_eq!(
            blocks,
            [ReportBlock {
                ssrc: 0xbc5e9a40,
                fraction_lost: 0,
                cumulative_lost: 0,
                extended_highest_seq: 0x46e1,
                jitter: 273,
                last_sr: 0x09f36432,
                delay_since_last_sr: 150137,
            }]
        );
        let mut again = Vec::new();
        ReceiverReport::write(&mut again, rr.ssrc(), &blocks);
        assert_eq!(again, b);
    }

    #[test]
    fn sender_report_round_trip_and_negative_loss() {
        let info = SenderInfo {
            ssrc: 1,
            ntp: NtpTime(0xe3a1_b2c3_d4e5_f607),
            rtp_timestamp: 90000,
            packet_count: 10,
            octet_count: 12000,
        };
        let block = ReportBlock {
            ssrc: 2,
            cumulative_lost: -3, // duplicates
            ..Default::default()
        };
        let mut out = Vec::new();
        let len = SenderReport::write(&mut out, &info, &[block, block]);
        assert_eq!(len, 4 + 24 + 48);
        assert_eq!(&out[..4], [0x82, 200, 0, 18]);
        let Some(Ok(RtcpPacket::SenderReport(sr))) =
            Compound::parse(&out).unwrap().packets().next()
        else {
            panic!("not an SR");
        };
        assert_eq!(sr.info(), info);
        assert_eq!(sr.report_blocks().collect::<Vec<_>>(), [block, block]);
        assert!(sr.extension().is_empty());
        // A lost count beyond 24 bits is clamped.
        let mut out = Vec::new();
        let big = ReportBlock {
            cumulative_lost: 1 << 30,
            ..block
        };
        ReceiverReport::write(&mut out, 1, &[big]);
        let Some(Ok(RtcpPacket::ReceiverReport(rr))) =
            Compound::parse(&out).unwrap().packets().next()
        else {
            panic!("not an RR");
        };
        assert_eq!(
            rr.report_blocks().next().unwrap().cumulative_lost,
            0x7F_FFFF
        );
    }
}
