//! Feedback messages (RFC 4585 6, RFC 5104 4.3.1, draft-alvestrand-rmcat-remb-03): generic
//! NACK, PLI, FIR and REMB. Every one starts with the sender's SSRC and the media source's.

use crate::bytes::{slice, tail, u8_at, u16_at, u24_at, u32_at};
use crate::error::RtcpError;
use crate::rtcp::{RawRtcp, begin, end, fmt, need, packet_type};

/// One generic NACK entry (RFC 4585 6.2.1): a lost packet id and a bitmask of the 16 that
/// follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NackPair {
    /// PID: a lost sequence number.
    pub pid: u16,
    /// BLP: bit i set means `pid + i + 1` is lost too.
    pub blp: u16,
}

impl NackPair {
    /// The sequence numbers this entry reports lost, in order.
    pub fn sequences(self) -> impl Iterator<Item = u16> {
        std::iter::once(self.pid).chain(
            (0..16u16)
                .filter(move |i| self.blp & (1 << i) != 0)
                .map(move |i| self.pid.wrapping_add(i + 1)),
        )
    }
}

/// Packs lost sequence numbers (in increasing order, wrapping allowed) into NACK entries,
/// without allocating. A number that goes backwards starts a new entry.
///
/// ```
/// use zvon_rtp::rtcp::{nack_pairs, NackPair};
/// let pairs: Vec<_> = nack_pairs([65535, 0, 3, 40]).collect();
/// assert_eq!(pairs, [NackPair { pid: 65535, blp: 0b1001 }, NackPair { pid: 40, blp: 0 }]);
/// ```
pub fn nack_pairs<I: IntoIterator<Item = u16>>(lost: I) -> NackPairs<I::IntoIter> {
    NackPairs {
        lost: lost.into_iter(),
        pending: None,
    }
}

/// Iterator made by [`nack_pairs`].
#[derive(Debug, Clone)]
pub struct NackPairs<I> {
    lost: I,
    pending: Option<NackPair>,
}

impl<I: Iterator<Item = u16>> Iterator for NackPairs<I> {
    type Item = NackPair;

    fn next(&mut self) -> Option<NackPair> {
        let mut pair = match self.pending.take() {
            Some(p) => p,
            None => NackPair {
                pid: self.lost.next()?,
                blp: 0,
            },
        };
        for seq in self.lost.by_ref() {
            match seq.wrapping_sub(pair.pid) {
                0 => {}
                d @ 1..=16 => pair.blp |= 1 << (d - 1),
                _ => {
                    self.pending = Some(NackPair { pid: seq, blp: 0 });
                    return Some(pair);
                }
            }
        }
        Some(pair)
    }
}

/// A generic NACK view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nack<'a> {
    body: &'a [u8],
}

impl<'a> Nack<'a> {
    pub(crate) fn parse(raw: RawRtcp<'a>) -> Result<Self, RtcpError> {
        need(&raw, 8)?;
        Ok(Self { body: raw.body })
    }

    /// The SSRC of the packet's sender.
    pub fn sender_ssrc(&self) -> u32 {
        u32_at(self.body, 0)
    }

    /// The SSRC of the media source whose packets were lost.
    pub fn media_ssrc(&self) -> u32 {
        u32_at(self.body, 4)
    }

    /// The entries.
    pub fn pairs(&self) -> impl Iterator<Item = NackPair> + 'a {
        tail(self.body, 8).chunks_exact(4).map(|c| NackPair {
            pid: u16_at(c, 0),
            blp: u16_at(c, 2),
        })
    }

    /// Every sequence number reported lost, expanded from the entries.
    pub fn lost(&self) -> impl Iterator<Item = u16> + 'a {
        self.pairs().flat_map(NackPair::sequences)
    }

    /// Appends a generic NACK with `pairs`. Returns the packet's length.
    pub fn write(
        out: &mut Vec<u8>,
        sender_ssrc: u32,
        media_ssrc: u32,
        pairs: &[NackPair],
    ) -> usize {
        Self::write_iter(out, sender_ssrc, media_ssrc, pairs.iter().copied())
    }

    /// Appends a generic NACK for the `lost` sequence numbers (increasing, see
    /// [`nack_pairs`]). Returns the packet's length.
    pub fn write_lost(
        out: &mut Vec<u8>,
        sender_ssrc: u32,
        media_ssrc: u32,
        lost: impl IntoIterator<Item = u16>,
    ) -> usize {
        Self::write_iter(out, sender_ssrc, media_ssrc, nack_pairs(lost))
    }

    fn write_iter(
        out: &mut Vec<u8>,
        sender_ssrc: u32,
        media_ssrc: u32,
        pairs: impl Iterator<Item = NackPair>,
    ) -> usize {
        let start = begin(out, fmt::NACK, packet_type::RTPFB);
        out.extend_from_slice(&sender_ssrc.to_be_bytes());
        out.extend_from_slice(&media_ssrc.to_be_bytes());
        for p in pairs {
            out.extend_from_slice(&p.pid.to_be_bytes());
            out.extend_from_slice(&p.blp.to_be_bytes());
        }
        end(out, start)
    }
}

/// A picture loss indication (RFC 4585 6.3.1): the receiver lost part of a picture and asks
/// for a key frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pli {
    /// The SSRC of the packet's sender.
    pub sender_ssrc: u32,
    /// The media source asked for a key frame.
    pub media_ssrc: u32,
}

impl Pli {
    pub(crate) fn parse(raw: RawRtcp<'_>) -> Result<Self, RtcpError> {
        need(&raw, 8)?;
        Ok(Self {
            sender_ssrc: u32_at(raw.body, 0),
            media_ssrc: u32_at(raw.body, 4),
        })
    }

    /// Appends a PLI. Returns its length (12).
    pub fn write(out: &mut Vec<u8>, sender_ssrc: u32, media_ssrc: u32) -> usize {
        let start = begin(out, fmt::PLI, packet_type::PSFB);
        out.extend_from_slice(&sender_ssrc.to_be_bytes());
        out.extend_from_slice(&media_ssrc.to_be_bytes());
        end(out, start)
    }
}

/// One FIR entry (RFC 5104 4.3.1.1): the source asked for a decoder refresh and a command
/// sequence number that tells a repeated request from a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FirEntry {
    /// The media source asked.
    pub ssrc: u32,
    /// Command sequence number, incremented for each new request.
    pub seq: u8,
}

/// A full intra request view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fir<'a> {
    body: &'a [u8],
}

impl<'a> Fir<'a> {
    pub(crate) fn parse(raw: RawRtcp<'a>) -> Result<Self, RtcpError> {
        need(&raw, 8)?;
        Ok(Self { body: raw.body })
    }

    /// The SSRC of the packet's sender.
    pub fn sender_ssrc(&self) -> u32 {
        u32_at(self.body, 0)
    }

    /// The entries.
    pub fn entries(&self) -> impl Iterator<Item = FirEntry> + 'a {
        tail(self.body, 8).chunks_exact(8).map(|c| FirEntry {
            ssrc: u32_at(c, 0),
            seq: u8_at(c, 4),
        })
    }

    /// Appends a FIR with `entries`. Returns its length.
    pub fn write(out: &mut Vec<u8>, sender_ssrc: u32, entries: &[FirEntry]) -> usize {
        let start = begin(out, fmt::FIR, packet_type::PSFB);
        out.extend_from_slice(&sender_ssrc.to_be_bytes());
        //# the "SSRC of media source" is not used and SHALL be set to 0 (RFC 5104 4.3.1.2)
        out.extend_from_slice(&[0; 4]);
        for e in entries {
            out.extend_from_slice(&e.ssrc.to_be_bytes());
            out.extend_from_slice(&[e.seq, 0, 0, 0]);
        }
        end(out, start)
    }
}

/// A receiver estimated maximum bitrate view (application-layer feedback with the "REMB"
/// identifier).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remb<'a> {
    body: &'a [u8],
}

impl<'a> Remb<'a> {
    /// `Ok(None)` for application-layer feedback that is not REMB.
    pub(crate) fn parse(raw: RawRtcp<'a>) -> Result<Option<Self>, RtcpError> {
        if slice(raw.body, 8, 12) != b"REMB" {
            return Ok(None);
        }
        need(&raw, 16 + 4 * usize::from(u8_at(raw.body, 12)))?;
        Ok(Some(Self { body: raw.body }))
    }

    /// The SSRC of the packet's sender.
    pub fn sender_ssrc(&self) -> u32 {
        u32_at(self.body, 0)
    }

    /// The estimate in bits per second (mantissa times two to the exponent; saturates).
    pub fn bitrate(&self) -> u64 {
        let v = u24_at(self.body, 13);
        let (exp, mantissa) = (v >> 18, u128::from(v & 0x3_FFFF));
        u64::try_from(mantissa << exp).unwrap_or(u64::MAX)
    }

    /// The media sources the estimate applies to.
    pub fn ssrcs(&self) -> impl Iterator<Item = u32> + 'a {
        let n = usize::from(u8_at(self.body, 12));
        slice(self.body, 16, 16 + 4 * n)
            .chunks_exact(4)
            .map(|c| u32_at(c, 0))
    }

    /// Appends a REMB of `bitrate` bits per second (rounded down to 18 bits of mantissa) for
    /// `ssrcs` (at most 255; more are cut). Returns its length.
    pub fn write(out: &mut Vec<u8>, sender_ssrc: u32, bitrate: u64, ssrcs: &[u32]) -> usize {
        let ssrcs = ssrcs.get(..255).unwrap_or(ssrcs);
        let exp = (64 - bitrate.leading_zeros()).saturating_sub(18);
        let mantissa = (bitrate >> exp) as u32;
        let start = begin(out, fmt::AFB, packet_type::PSFB);
        out.extend_from_slice(&sender_ssrc.to_be_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(b"REMB");
        let [_, a, b, c] = (exp << 18 | mantissa).to_be_bytes();
        out.extend_from_slice(&[ssrcs.len() as u8, a, b, c]);
        for s in ssrcs {
            out.extend_from_slice(&s.to_be_bytes());
        }
        end(out, start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtcp::{Compound, RtcpPacket};

    fn only(buf: &[u8]) -> RtcpPacket<'_> {
        Compound::parse(buf)
            .unwrap()
            .packets()
            .next()
            .unwrap()
            .unwrap()
    }

    #[test]
    fn nack_expands_pid_and_blp() {
        // PID 0xaaaa, BLP 0x5555: every other packet of the 16 after it.
        let b = hex::decode("81cd0003902f9e2e902f9e2eaaaa5555").unwrap();
        let RtcpPacket::Nack(n) = only(&b) else {
            panic!()
        };
        assert_eq!((n.sender_ssrc(), n.media_ssrc()), (0x902f9e2e, 0x902f9e2e));
        let lost: Vec<u16> = n.lost().collect();
        let want: Vec<u16> = std::iter::once(0xaaaa)
            .chain((0..8).map(|i| 0xaaaa + 1 + 2 * i))
            .collect();
        assert_eq!(lost, want);
        let mut out = Vec::new();
        Nack::write_lost(&mut out, 0x902f9e2e, 0x902f9e2e, lost);
        assert_eq!(out, b);
    }

    #[test]
    fn nack_pairs_group_by_17() {
        let seqs = [10u16, 11, 26, 27, 27, 60, 5];
        let pairs: Vec<_> = nack_pairs(seqs).collect();
        assert_eq!(
            pairs,
            [
                NackPair {
                    pid: 10,
                    blp: 1 | 1 << 15
                },
                NackPair { pid: 27, blp: 0 },
                NackPair { pid: 60, blp: 0 },
                NackPair { pid: 5, blp: 0 },
            ]
        );
        assert_eq!(nack_pairs(std::iter::empty()).count(), 0);
    }

    #[test]
    fn remb_from_chrome() {
        // Sent by Chrome: 139487 * 2^6 = 8 927 168 bit/s for SSRC 1215622422.
        let b = hex::decode("8fce0005000000010000000052454d42011a20df4874ed16").unwrap();
        let RtcpPacket::Remb(r) = only(&b) else {
            panic!()
        };
        assert_eq!(r.sender_ssrc(), 1);
        assert_eq!(r.bitrate(), 8_927_168);
        assert_eq!(r.ssrcs().collect::<Vec<_>>(), [1215622422]);
        let mut out = Vec::new();
        Remb::write(&mut out, 1, 8_927_168, &[1215622422]);
        assert_eq!(out, b);
        // One less rounds the mantissa down.
        out.clear();
        Remb::write(&mut out, 1, 8_927_167, &[1215622422]);
        let RtcpPacket::Remb(r) = only(&out) else {
            panic!()
        };
        assert_eq!(r.bitrate(), 8_927_104);
        out.clear();
        Remb::write(&mut out, 1, u64::MAX, &[]);
        let RtcpPacket::Remb(r) = only(&out) else {
            panic!()
        };
        assert_eq!(r.bitrate(), (u64::MAX >> 46) << 46);
    }

    #[test]
    fn pli_and_fir() {
        let mut out = Vec::new();
        Pli::write(&mut out, 1, 2);
        assert_eq!(hex::encode(&out), "81ce00020000000100000002");
        out.clear();
        let e = [FirEntry { ssrc: 9, seq: 3 }, FirEntry { ssrc: 10, seq: 4 }];
        Fir::write(&mut out, 1, &e);
        let RtcpPacket::Fir(f) = only(&out) else {
            panic!()
        };
        assert_eq!(f.sender_ssrc(), 1);
        assert_eq!(f.entries().collect::<Vec<_>>(), e);
    }

    #[test]
    fn other_application_feedback_is_skipped() {
        let b = hex::decode("8fce0003000000010000000041424344").unwrap();
        assert!(Compound::parse(&b).unwrap().packets().next().is_none());
    }
}
