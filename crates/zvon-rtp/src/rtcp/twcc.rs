//! Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
//! extensions-01 section 3.1): which transport-wide sequence numbers arrived, and when.
//!
//! ```text
//! |V=2|P|  FMT=15 |    PT=205     |           length              |
//! |                     SSRC of packet sender                     |
//! |                      SSRC of media source                     |
//! |      base sequence number     |      packet status count      |
//! |                 reference time                | fb pkt. count |
//! |          packet chunk         |         packet chunk          |  ...
//! |         recv delta            |  recv delta   | zero padding  |  ...
//! ```
//!
//! A chunk is a run (`0 SS LLLLLLLLLLLLL`: one status 13 bits of times) or a status vector
//! (`1 0` + 14 one-bit statuses, or `1 1` + 7 two-bit statuses). Statuses: 0 not received,
//! 1 received with a one-byte delta (0..=63.75 ms), 2 received with a two-byte signed delta;
//! 3 is reserved. Deltas count 250 µs, each from the previous received packet, the first from
//! the reference time (64 ms units).

use crate::bytes::{u8_at, u16_at, u24_at, u32_at};
use crate::error::RtcpError;
use crate::rtcp::{RawRtcp, begin, end, fmt, need, packet_type};

/// Length of the fixed part of the body.
const FIXED: usize = 16;
/// Longest run a run-length chunk can carry.
const MAX_RUN: usize = 0x1FFF;

/// A receive delta: a signed count of 250 µs ticks, exact (no float).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TwccDelta(pub i16);

impl TwccDelta {
    /// Microseconds per tick.
    pub const TICK_MICROS: i32 = 250;

    /// The delta in ticks of 250 µs.
    pub fn ticks(self) -> i16 {
        self.0
    }

    /// The delta in microseconds (a multiple of 250).
    pub fn micros(self) -> i32 {
        i32::from(self.0) * Self::TICK_MICROS
    }

    /// `true` when it fits the one-byte encoding (0..=255 ticks).
    pub fn is_small(self) -> bool {
        (0..=255).contains(&self.0)
    }
}

/// The fixed fields of a transport-wide feedback packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TwccHeader {
    /// The SSRC of the feedback's sender.
    pub sender_ssrc: u32,
    /// The media source SSRC (transport-wide, so usually that of one of the streams, or 0).
    pub media_ssrc: u32,
    /// The transport-wide sequence number of the first packet reported.
    pub base_seq: u16,
    /// Reference time, 24 bits in units of 64 ms (higher bits are dropped when writing).
    pub reference_time: u32,
    /// Feedback packet count, to detect lost feedback.
    pub feedback_count: u8,
}

/// What one packet's status says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TwccStatus {
    /// Transport-wide sequence number.
    pub seq: u16,
    /// Receive delta from the previous received packet (from the reference time for the
    /// first); `None` when not received.
    pub delta: Option<TwccDelta>,
    /// Arrival time in 250 µs ticks in the feedback sender's time base: reference time plus
    /// the deltas so far. `None` when not received.
    pub arrival_ticks: Option<i64>,
}

/// The walk over the packet status chunks, shared by the check and the iterator.
#[derive(Debug, Clone)]
struct Chunks {
    pos: usize,
    chunk: u16,
    index: usize,
    left_in_chunk: usize,
}

impl Chunks {
    fn new() -> Self {
        Self {
            pos: FIXED,
            chunk: 0,
            index: 0,
            left_in_chunk: 0,
        }
    }

    /// The next status symbol, reading a new chunk when the current one is used up; `None`
    /// when the body has no more chunks.
    fn next_symbol(&mut self, body: &[u8]) -> Option<u8> {
        while self.left_in_chunk == 0 {
            if body.len() < self.pos + 2 {
                return None;
            }
            self.chunk = u16_at(body, self.pos);
            self.pos += 2;
            self.index = 0;
            self.left_in_chunk = match self.chunk >> 14 {
                0b00 | 0b01 => usize::from(self.chunk & 0x1FFF),
                0b10 => 14,
                _ => 7,
            };
        }
        let c = self.chunk;
        let symbol = match c >> 14 {
            0b00 | 0b01 => ((c >> 13) & 0b11) as u8,
            0b10 => ((c >> (13 - self.index)) & 1) as u8,
            _ => ((c >> (12 - 2 * self.index)) & 0b11) as u8,
        };
        self.index += 1;
        self.left_in_chunk -= 1;
        Some(symbol)
    }
}

/// A transport-wide feedback view. Checked once: the chunks cover the status count, no
/// counted status is the reserved symbol, and the receive deltas fit the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportFeedback<'a> {
    body: &'a [u8],
    /// Offset of the first receive delta.
    deltas: usize,
}

impl<'a> TransportFeedback<'a> {
    pub(crate) fn parse(raw: RawRtcp<'a>) -> Result<Self, RtcpError> {
        need(&raw, FIXED)?;
        let body = raw.body;
        let count = u16_at(body, 10);
        let reserved = RtcpError::BadField {
            packet_type: raw.packet_type,
            what: "transport-wide feedback uses the reserved status symbol 3",
        };
        // Chunk by chunk: a run is counted whole, so a long run costs one step.
        let (mut pos, mut left, mut delta_bytes) = (FIXED, usize::from(count), 0);
        while left > 0 {
            need(&raw, pos + 2)?;
            let chunk = u16_at(body, pos);
            pos += 2;
            match chunk >> 14 {
                0b00 | 0b01 => {
                    let symbol = usize::from((chunk >> 13) & 0b11);
                    let n = usize::from(chunk & 0x1FFF).min(left);
                    if symbol == 3 && n > 0 {
                        return Err(reserved);
                    }
                    delta_bytes += n * symbol;
                    left -= n;
                }
                0b10 => {
                    let n = left.min(14);
                    let bits = (chunk & 0x3FFF) >> (14 - n);
                    delta_bytes += bits.count_ones() as usize;
                    left -= n;
                }
                _ => {
                    for i in 0..left.min(7) {
                        match (chunk >> (12 - 2 * i)) & 0b11 {
                            3 => return Err(reserved),
                            s => delta_bytes += usize::from(s),
                        }
                    }
                    left -= left.min(7);
                }
            }
        }
        let chunks = Chunks {
            pos,
            ..Chunks::new()
        };
        need(&raw, chunks.pos + delta_bytes)?;
        Ok(Self {
            body,
            deltas: chunks.pos,
        })
    }

    /// The fixed fields.
    pub fn header(&self) -> TwccHeader {
        TwccHeader {
            sender_ssrc: u32_at(self.body, 0),
            media_ssrc: u32_at(self.body, 4),
            base_seq: u16_at(self.body, 8),
            reference_time: u24_at(self.body, 12),
            feedback_count: u8_at(self.body, 15),
        }
    }

    /// The number of packets reported on.
    pub fn status_count(&self) -> u16 {
        u16_at(self.body, 10)
    }

    /// Every packet reported on, from the base sequence number up: `(seq, delta)` with the
    /// arrival time each delta leads to.
    pub fn packets(&self) -> TwccIter<'a> {
        TwccIter {
            body: self.body,
            chunks: Chunks::new(),
            delta_pos: self.deltas,
            seq: u16_at(self.body, 8),
            left: self.status_count(),
            arrival: i64::from(u24_at(self.body, 12)) * 256,
        }
    }

    /// Appends a transport-wide feedback packet reporting `packets[i]` for sequence number
    /// `base_seq + i` (`None`: not received). At most 65 535 packets are reported (the
    /// count has 16 bits); more are cut. Chunks are chosen greedily: runs where statuses
    /// repeat, one-bit vectors where no delta needs two bytes, two-bit vectors elsewhere.
    /// Returns the packet's length.
    ///
    /// ```
    /// use zvon_rtp::rtcp::{Compound, RtcpPacket, TransportFeedback, TwccDelta, TwccHeader};
    /// let header = TwccHeader { base_seq: 65535, reference_time: 1000, ..Default::default() };
    /// let mut buf = Vec::new();
    /// TransportFeedback::write(&mut buf, &header, &[Some(TwccDelta(4)), None, Some(TwccDelta(-8))]);
    /// let Some(Ok(RtcpPacket::TransportFeedback(fb))) = Compound::parse(&buf)?.packets().next()
    /// else { unreachable!() };
    /// let got: Vec<_> = fb.packets().map(|p| (p.seq, p.delta.map(TwccDelta::micros))).collect();
    /// assert_eq!(got, [(65535, Some(1000)), (0, None), (1, Some(-2000))]);
    /// # Ok::<(), zvon_rtp::RtcpError>(())
    /// ```
    pub fn write(out: &mut Vec<u8>, header: &TwccHeader, packets: &[Option<TwccDelta>]) -> usize {
        let packets = packets.get(..usize::from(u16::MAX)).unwrap_or(packets);
        let symbol = |p: &Option<TwccDelta>| match p {
            None => 0u16,
            Some(d) if d.is_small() => 1,
            Some(_) => 2,
        };
        let start = begin(out, fmt::TRANSPORT_CC, packet_type::RTPFB);
        out.extend_from_slice(&header.sender_ssrc.to_be_bytes());
        out.extend_from_slice(&header.media_ssrc.to_be_bytes());
        out.extend_from_slice(&header.base_seq.to_be_bytes());
        out.extend_from_slice(&(packets.len() as u16).to_be_bytes());
        let [_, a, b, c] = header.reference_time.to_be_bytes();
        out.extend_from_slice(&[a, b, c, header.feedback_count]);

        let mut rest = packets;
        while let Some(first) = rest.first() {
            let s = symbol(first);
            let run = rest
                .iter()
                .take(MAX_RUN)
                .take_while(|p| symbol(p) == s)
                .count();
            let window = rest.get(..14).unwrap_or(rest);
            let one_bit = window.iter().all(|p| symbol(p) < 2);
            let (chunk, used) = if run >= 14 || (run >= 7 && !one_bit) {
                (s << 13 | run as u16, run)
            } else if one_bit {
                let mut c = 0b10 << 14;
                for (i, p) in window.iter().enumerate() {
                    c |= symbol(p) << (13 - i);
                }
                (c, window.len())
            } else {
                let window = rest.get(..7).unwrap_or(rest);
                let mut c = 0b11 << 14;
                for (i, p) in window.iter().enumerate() {
                    c |= symbol(p) << (12 - 2 * i);
                }
                (c, window.len())
            };
            out.extend_from_slice(&chunk.to_be_bytes());
            rest = rest.get(used..).unwrap_or(&[]);
        }
        for d in packets.iter().flatten() {
            if d.is_small() {
                out.push(d.0 as u8);
            } else {
                out.extend_from_slice(&d.0.to_be_bytes());
            }
        }
        end(out, start)
    }
}

/// Iterator over the packets of a [`TransportFeedback`].
#[derive(Debug, Clone)]
pub struct TwccIter<'a> {
    body: &'a [u8],
    chunks: Chunks,
    delta_pos: usize,
    seq: u16,
    left: u16,
    arrival: i64,
}

impl Iterator for TwccIter<'_> {
    type Item = TwccStatus;

    fn next(&mut self) -> Option<TwccStatus> {
        self.left = self.left.checked_sub(1)?;
        let delta = match self.chunks.next_symbol(self.body)? {
            1 => {
                let d = u8_at(self.body, self.delta_pos);
                self.delta_pos += 1;
                Some(TwccDelta(i16::from(d)))
            }
            2 => {
                let d = u16_at(self.body, self.delta_pos) as i16;
                self.delta_pos += 2;
                Some(TwccDelta(d))
            }
            _ => None,
        };
        let seq = self.seq;
        self.seq = seq.wrapping_add(1);
        let arrival_ticks = delta.map(|d| {
            self.arrival += i64::from(d.0);
            self.arrival
        });
        Some(TwccStatus {
            seq,
            delta,
            arrival_ticks,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(usize::from(self.left)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtcp::{Compound, RtcpPacket};

    fn parse(b: &[u8]) -> Result<TransportFeedback<'_>, RtcpError> {
        match Compound::parse(b).unwrap().packets().next().unwrap()? {
            RtcpPacket::TransportFeedback(t) => Ok(t),
            other => panic!("{other:?}"),
        }
    }

    fn micros(t: &TransportFeedback<'_>) -> Vec<(u16, Option<i32>)> {
        t.packets()
            .map(|p| (p.seq, p.delta.map(TwccDelta::micros)))
            .collect()
    }

    // Packets captured from libwebrtc senders, as collected in pion's and webrtc-rs's test
    // suites; the expected values are decoded by hand from the draft's layout.

    #[test]
    fn one_run_chunk_with_rtcp_padding() {
        let b =
            hex::decode("afcd0005fa17fa1743032fa000990001 3de80217 2001 94 01".replace(' ', ""))
                .unwrap();
        let t = parse(&b).unwrap();
        assert_eq!(
            t.header(),
            TwccHeader {
                sender_ssrc: 4195875351,
                media_ssrc: 1124282272,
                base_seq: 153,
                reference_time: 4057090,
                feedback_count: 23,
            }
        );
        assert_eq!(micros(&t), [(153, Some(37000))]);
        let first = t.packets().next().unwrap();
        assert_eq!(first.arrival_ticks, Some(4057090 * 256 + 148));
    }

    #[test]
    fn large_then_small_runs() {
        let b = hex::decode(concat!(
            "8fcd0007fa17fa17193dd8bb01740006",
            "45b15a40",
            "40022004",
            "1ffe1f9a",
            "d000d000"
        ))
        .unwrap();
        let t = parse(&b).unwrap();
        assert_eq!(t.status_count(), 6);
        assert_eq!(
            micros(&t),
            [
                (372, Some(2_047_500)),
                (373, Some(2_022_500)),
                (374, Some(52_000)),
                (375, Some(0)),
                (376, Some(52_000)),
                (377, Some(0)),
            ]
        );
    }

    #[test]
    fn one_bit_vector() {
        let b = hex::decode("afcd0006fa17fa17193dd8bb0001000e10636d00ba00100c0c100002").unwrap();
        let t = parse(&b).unwrap();
        let got = micros(&t);
        assert_eq!(got.len(), 14);
        assert_eq!(
            got[..6],
            [
                (1, Some(4000)),
                (2, Some(3000)),
                (3, Some(3000)),
                (4, None),
                (5, Some(4000)),
                (6, None)
            ]
        );
        assert!(got[6..].iter().all(|(_, d)| d.is_none()));
    }

    #[test]
    fn two_bit_vector_then_run_longer_than_needed() {
        let b = hex::decode("afcd00079b74f61f9371dcbc853c000963f916b3d55200309baa6aaa7b010901")
            .unwrap();
        let t = parse(&b).unwrap();
        assert_eq!(
            micros(&t),
            [
                (34108, Some(38750)),
                (34109, Some(42500)),
                (34110, Some(26500)),
                (34111, Some(42500)),
                (34112, Some(30750)),
                (34113, None),
                (34114, Some(66250)),
                (34115, None),
                (34116, None),
            ]
        );
    }

    #[test]
    fn empty_feedback() {
        let b = hex::decode("8fcd00049acb0442000000000000000000000000").unwrap();
        let t = parse(&b).unwrap();
        assert_eq!(t.packets().count(), 0);
    }

    #[test]
    fn reserved_symbol_and_short_deltas_are_rejected() {
        // Two two-bit vectors whose second counts the reserved symbol 3.
        let b = hex::decode("afcd0006fa17fa17193dd8bb0174000e45b15a40d800f0ffd0000003").unwrap();
        assert!(matches!(parse(&b), Err(RtcpError::BadField { .. })));
        // A run of 4 small deltas with only 2 delta bytes.
        let b = hex::decode("8fcd00050000000100000002000000040000000020040102").unwrap();
        assert!(matches!(parse(&b), Err(RtcpError::Truncated { .. })));
        // A status count that no chunk covers.
        let b = hex::decode("8fcd000400000001000000020000000500000000").unwrap();
        assert!(matches!(parse(&b), Err(RtcpError::Truncated { .. })));
    }

    #[test]
    fn writer_picks_compact_chunks() {
        let header = TwccHeader {
            sender_ssrc: 1,
            media_ssrc: 2,
            base_seq: 100,
            reference_time: 0xFF_FFFF,
            feedback_count: 7,
        };
        // 20 small deltas (one run), 3 lost + 1 large (two-bit vector), 9 mixed small/lost
        // (one-bit vector).
        let mut packets = vec![Some(TwccDelta(4)); 20];
        packets.extend([None, None, None, Some(TwccDelta(-1))]);
        packets.extend([Some(TwccDelta(1)), None].repeat(4));
        packets.push(Some(TwccDelta(255)));
        let mut out = Vec::new();
        let len = TransportFeedback::write(&mut out, &header, &packets);
        assert_eq!(len % 4, 0);
        let t = parse(&out).unwrap();
        assert_eq!(t.header(), header);
        let got: Vec<_> = t.packets().map(|p| p.delta).collect();
        assert_eq!(got, packets);
        let seqs: Vec<_> = t.packets().map(|p| p.seq).collect();
        assert_eq!(seqs, (100..100 + packets.len() as u16).collect::<Vec<_>>());
        // Chunks: run(20 small), 2-bit vector (3 lost, large, small, lost, small),
        // 1-bit vector (the remaining 6).
        assert_eq!(&out[20..22], [0x20, 20]);
        assert_eq!(out[22] >> 6, 0b11);
        assert_eq!(out[24] >> 6, 0b10);
    }
}
