//! Receive and send statistics (RFC 3550 6.4 and appendix A): sequence number and timestamp
//! unwrapping, source validation with probation, loss and jitter, report blocks, and the
//! sender's NTP/RTP timestamp mapping. Time comes in as `now: Instant`, wall-clock time as an
//! [`NtpTime`] the caller reads: nothing here reads a clock.

use std::time::{Duration, Instant};

use crate::rtcp::{ReportBlock, SenderInfo};
use crate::time::{NtpTime, compact_to_duration, duration_to_compact};

/// The value closest to `last` whose low `bits` bits are `value`.
fn extend(last: i64, value: u64, bits: u32) -> i64 {
    let modulus = 1i64 << bits;
    let mut diff = (value as i64 - last.rem_euclid(modulus)).rem_euclid(modulus);
    if diff > modulus / 2 {
        diff -= modulus;
    }
    last + diff
}

/// Unwraps 16-bit sequence numbers into a signed 64-bit count, each to the value closest to
/// the previous one; the first is taken as it is. Use it where RFC 3550's source validation
/// is not wanted (a jitter buffer, NACK tracking, transport-wide sequence numbers).
///
/// ```
/// use zvon_rtp::stats::SeqUnwrapper;
/// let mut u = SeqUnwrapper::new();
/// assert_eq!(u.extend(65534), 65534);
/// assert_eq!(u.extend(1), 65537);      // wrapped forward
/// assert_eq!(u.extend(65535), 65535);  // reordered from before the wrap
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeqUnwrapper {
    last: Option<i64>,
}

impl SeqUnwrapper {
    /// A fresh unwrapper.
    pub const fn new() -> Self {
        Self { last: None }
    }

    /// The extended value of `seq`.
    pub fn extend(&mut self, seq: u16) -> i64 {
        let v = match self.last {
            Some(last) => extend(last, u64::from(seq), 16),
            None => i64::from(seq),
        };
        self.last = Some(v);
        v
    }
}

/// Unwraps 32-bit RTP timestamps into a signed 64-bit count, like [`SeqUnwrapper`].
///
/// ```
/// use zvon_rtp::stats::TimestampUnwrapper;
/// let mut u = TimestampUnwrapper::new();
/// assert_eq!(u.extend(u32::MAX - 1499), (1 << 32) - 1500);
/// assert_eq!(u.extend(1500), (1 << 32) + 1500);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimestampUnwrapper {
    last: Option<i64>,
}

impl TimestampUnwrapper {
    /// A fresh unwrapper.
    pub const fn new() -> Self {
        Self { last: None }
    }

    /// The extended value of `ts`.
    pub fn extend(&mut self, ts: u32) -> i64 {
        let v = match self.last {
            Some(last) => extend(last, u64::from(ts), 32),
            None => i64::from(ts),
        };
        self.last = Some(v);
        v
    }
}

const RTP_SEQ_MOD: u64 = 1 << 16;
//# MAX_DROPOUT = 3000; MAX_MISORDER = 100; MIN_SEQUENTIAL = 2 (RFC 3550 A.1)
const MAX_DROPOUT: u16 = 3000;
const MAX_MISORDER: u16 = 100;
/// Sequential packets a new source must send before it counts (RFC 3550 A.1).
pub const MIN_SEQUENTIAL: u16 = 2;

/// What the receiver of one source knows (RFC 3550 A.1, A.3, A.8): the validated, extended
/// sequence numbers, the counts behind loss, the interarrival jitter, and the last SR, from
/// which [`ReceiveStats::report_block`] builds a reception report.
///
/// ```
/// use std::time::{Duration, Instant};
/// use zvon_rtp::stats::ReceiveStats;
/// let t0 = Instant::now();
/// let mut rx = ReceiveStats::new(0x1234, 90_000);
/// for (i, seq) in [100u16, 101, 102, 104].into_iter().enumerate() {
///     rx.handle_packet(seq, 3000 * seq as u32, t0 + Duration::from_millis(33 * i as u64));
/// }
/// let block = rx.report_block(t0 + Duration::from_secs(1)).unwrap();
/// // The first packet is the probation packet; 101..=104 were expected, 103 is missing.
/// assert_eq!((block.cumulative_lost, block.extended_highest_seq), (1, 104));
/// assert_eq!(block.fraction_lost, 64); // 1 of 4, in 1/256
/// ```
#[derive(Debug, Clone)]
pub struct ReceiveStats {
    ssrc: u32,
    clock_rate: u32,
    min_sequential: u16,
    /// `false` until the first packet.
    started: bool,
    probation: u16,
    max_seq: u16,
    /// Shifted count of sequence number cycles (multiples of 65536).
    cycles: u64,
    base_seq: u64,
    /// The sequence number after a large jump; one more in order resyncs (RFC 3550 A.1).
    bad_seq: u64,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// The arrival time of the first packet: the origin of arrival times in timestamp units.
    epoch: Option<Instant>,
    transit: Option<u32>,
    /// Jitter times 16, as RFC 3550 A.8 keeps it to avoid rounding.
    jitter16: u64,
    last_sr: Option<(u32, Instant)>,
}

impl ReceiveStats {
    /// Statistics for the source `ssrc` whose RTP clock runs at `clock_rate` Hz, with RFC 3550's
    /// probation of [`MIN_SEQUENTIAL`] packets.
    pub fn new(ssrc: u32, clock_rate: u32) -> Self {
        Self::with_probation(ssrc, clock_rate, MIN_SEQUENTIAL)
    }

    /// Statistics with a probation of `min_sequential` packets: a new source, or one that
    /// jumped, counts once that many arrive in sequence. 0 and 1 mean none (WebRTC peers
    /// are authenticated by SRTP, so many receivers skip it).
    pub fn with_probation(ssrc: u32, clock_rate: u32, min_sequential: u16) -> Self {
        Self {
            ssrc,
            clock_rate,
            min_sequential: min_sequential.max(1),
            started: false,
            probation: 0,
            max_seq: 0,
            cycles: 0,
            base_seq: 0,
            bad_seq: RTP_SEQ_MOD + 1,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            epoch: None,
            transit: None,
            jitter16: 0,
            last_sr: None,
        }
    }

    /// The source.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u64::from(seq);
        self.max_seq = seq;
        self.bad_seq = RTP_SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// RFC 3550 A.1 `update_seq`: `true` when the packet counts.
    fn update_seq(&mut self, seq: u16) -> bool {
        let udelta = seq.wrapping_sub(self.max_seq);
        if self.probation > 0 {
            //# Source is not valid until MIN_SEQUENTIAL packets with sequential sequence
            //# numbers have been received.
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init_seq(seq);
                    self.received += 1;
                    return true;
                }
            } else {
                self.probation = self.min_sequential - 1;
                self.max_seq = seq;
            }
            return false;
        } else if udelta < MAX_DROPOUT {
            // In order, with a permissible gap.
            if seq < self.max_seq {
                self.cycles += RTP_SEQ_MOD;
            }
            self.max_seq = seq;
        } else if udelta <= (RTP_SEQ_MOD - u64::from(MAX_MISORDER)) as u16 {
            // A very large jump: the same again in sequence means the sender restarted.
            if u64::from(seq) == self.bad_seq {
                self.init_seq(seq);
            } else {
                self.bad_seq = (u64::from(seq) + 1) & (RTP_SEQ_MOD - 1);
                return false;
            }
        }
        // Else a duplicate or reordered packet: counted, max_seq unchanged.
        self.received += 1;
        true
    }

    /// The extended value of `seq` relative to the highest sequence number so far; `None` if it
    /// would fall before the first cycle.
    fn extended(&self, seq: u16) -> Option<u64> {
        let diff = i64::from(seq.wrapping_sub(self.max_seq) as i16);
        u64::try_from(self.cycles as i64 + i64::from(self.max_seq) + diff).ok()
    }

    /// Accounts for one received packet of this source (RFC 3550 A.1 and A.8) and returns its
    /// extended sequence number, or `None` while the source is on probation or after a jump
    /// it does not yet believe (or, for a late packet, before the first cycle).
    ///
    /// Jitter is updated by packets that advance the highest sequence number only, as
    /// libwebrtc does: a late or retransmitted packet would add its lateness to it.
    pub fn handle_packet(&mut self, seq: u16, rtp_timestamp: u32, now: Instant) -> Option<u64> {
        if !self.started {
            //# init_seq(s, seq); s->max_seq = seq - 1; s->probation = MIN_SEQUENTIAL;
            self.started = true;
            self.init_seq(seq);
            self.max_seq = seq.wrapping_sub(1);
            self.probation = self.min_sequential;
        }
        let before = (self.cycles, self.max_seq, self.received);
        if !self.update_seq(seq) {
            return None;
        }
        let advanced = (self.cycles, self.max_seq) != (before.0, before.1) || self.received == 1;
        if advanced {
            self.update_jitter(rtp_timestamp, now);
        }
        self.extended(seq)
    }

    /// RFC 3550 A.8, with arrival times in timestamp units counted from the first packet.
    fn update_jitter(&mut self, rtp_timestamp: u32, now: Instant) {
        let epoch = *self.epoch.get_or_insert(now);
        let nanos = now.saturating_duration_since(epoch).as_nanos();
        let arrival = (nanos * u128::from(self.clock_rate) / 1_000_000_000) as u32;
        let transit = arrival.wrapping_sub(rtp_timestamp);
        if let Some(prev) = self.transit {
            //# d = transit - s->transit; s->transit = transit; if (d < 0) d = -d;
            //# s->jitter += (1./16.) * ((double)d - s->jitter);
            let d = u64::from((transit.wrapping_sub(prev) as i32).unsigned_abs());
            self.jitter16 = self.jitter16 + d - ((self.jitter16 + 8) >> 4);
        }
        self.transit = Some(transit);
    }

    /// Records an SR from this source, for the LSR and DLSR of the next report block.
    pub fn handle_sender_report(&mut self, ntp: NtpTime, now: Instant) {
        self.last_sr = Some((ntp.compact(), now));
    }

    /// `true` once the source passed probation.
    pub fn is_valid(&self) -> bool {
        self.started && self.probation == 0
    }

    /// The extended highest sequence number received (cycles in the high bits).
    pub fn extended_highest_seq(&self) -> u64 {
        self.cycles + u64::from(self.max_seq)
    }

    /// Packets expected since the source became valid (RFC 3550 A.3).
    pub fn expected(&self) -> u64 {
        if !self.is_valid() {
            return 0;
        }
        (self.extended_highest_seq() + 1).saturating_sub(self.base_seq)
    }

    /// Packets received since the source became valid, duplicates included.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Expected minus received: negative when duplicates outnumber losses.
    pub fn cumulative_lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }

    /// Interarrival jitter in timestamp units.
    pub fn jitter(&self) -> u32 {
        u32::try_from(self.jitter16 >> 4).unwrap_or(u32::MAX)
    }

    /// Interarrival jitter as a duration (at the clock rate given at creation).
    pub fn jitter_duration(&self) -> Duration {
        if self.clock_rate == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(u64::from(self.jitter()) * 1_000_000_000 / u64::from(self.clock_rate))
    }

    /// The reception report block for this source, and the start of the next reporting
    /// interval (fraction lost counts from here). `None` until the source is valid.
    pub fn report_block(&mut self, now: Instant) -> Option<ReportBlock> {
        if !self.is_valid() {
            return None;
        }
        let expected = self.expected();
        //# expected_interval = expected - s->expected_prior; ...
        //# if (expected_interval == 0 || lost_interval <= 0) fraction = 0;
        //# else fraction = (lost_interval << 8) / expected_interval;
        let expected_interval = expected.saturating_sub(self.expected_prior);
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval as i64 - received_interval as i64;
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / expected_interval as i64).min(255) as u8
        };
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            Some((lsr, at)) => (lsr, duration_to_compact(now.saturating_duration_since(at))),
            None => (0, 0),
        };
        Some(ReportBlock {
            ssrc: self.ssrc,
            fraction_lost,
            cumulative_lost: self.cumulative_lost().clamp(-0x80_0000, 0x7F_FFFF) as i32,
            extended_highest_seq: self.extended_highest_seq() as u32,
            jitter: self.jitter(),
            last_sr,
            delay_since_last_sr,
        })
    }
}

/// The round-trip time a report block shows (RFC 3550 6.4.1): `arrival - LSR - DLSR`, with
/// `arrival` the wall-clock time the report arrived. `None` when the block echoes no SR
/// (LSR 0) or the clocks make it negative.
///
/// ```
/// use std::time::Duration;
/// use zvon_rtp::{NtpTime, rtcp::ReportBlock, stats::round_trip_time};
/// // RFC 3550 figure 2: SR sent at 0xb705:2000 (compact), DLSR 5.250 s, RR back at
/// // 0xb710:8000: RTT = 0xb710:8000 - 0xb705:2000 - 0x0005:4000 = 0x0006:2000 = 6.125 s.
/// let block = ReportBlock { last_sr: 0xb705_2000, delay_since_last_sr: 0x0005_4000, ..Default::default() };
/// let arrival = NtpTime(0xb710_8000 << 16);
/// assert_eq!(round_trip_time(&block, arrival), Some(Duration::from_millis(6125)));
/// ```
pub fn round_trip_time(block: &ReportBlock, arrival: NtpTime) -> Option<Duration> {
    if block.last_sr == 0 {
        return None;
    }
    let rtt = arrival
        .compact()
        .wrapping_sub(block.last_sr)
        .wrapping_sub(block.delay_since_last_sr);
    (rtt < 1 << 31).then(|| compact_to_duration(rtt))
}

/// What a sender counts for its SRs (RFC 3550 6.4.1): packets and payload octets sent, and
/// the pairing of an RTP timestamp with an `Instant` that maps the report's NTP time to the
/// media's RTP clock.
///
/// ```
/// use std::time::{Duration, Instant};
/// use zvon_rtp::{NtpTime, stats::SenderStats};
/// let t0 = Instant::now();
/// let mut tx = SenderStats::new(7, 48_000);
/// tx.handle_sent(960, 100, t0);
/// tx.handle_sent(1920, 120, t0 + Duration::from_millis(20));
/// let info = tx.sender_info(t0 + Duration::from_millis(70), NtpTime(5 << 32)).unwrap();
/// assert_eq!((info.packet_count, info.octet_count), (2, 220));
/// assert_eq!(info.rtp_timestamp, 1920 + 48 * 50); // 50 ms after the last packet
/// ```
#[derive(Debug, Clone)]
pub struct SenderStats {
    ssrc: u32,
    clock_rate: u32,
    packets: u32,
    octets: u32,
    reference: Option<(u32, Instant)>,
}

impl SenderStats {
    /// Counters for the source `ssrc` whose RTP clock runs at `clock_rate` Hz.
    pub fn new(ssrc: u32, clock_rate: u32) -> Self {
        Self {
            ssrc,
            clock_rate,
            packets: 0,
            octets: 0,
            reference: None,
        }
    }

    /// Counts one packet sent with `payload_len` payload bytes (header and padding excluded,
    /// as RFC 3550 counts them), and takes its timestamp and `now` as the time reference
    /// unless [`SenderStats::set_time_reference`] gave one.
    pub fn handle_sent(&mut self, rtp_timestamp: u32, payload_len: usize, now: Instant) {
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(payload_len as u32);
        self.reference = Some((rtp_timestamp, now));
    }

    /// Pairs an RTP timestamp with the instant it stands for (a capture time, say), for the
    /// next SR. A later [`SenderStats::handle_sent`] replaces it.
    pub fn set_time_reference(&mut self, rtp_timestamp: u32, at: Instant) {
        self.reference = Some((rtp_timestamp, at));
    }

    /// Packets sent (wraps).
    pub fn packets_sent(&self) -> u32 {
        self.packets
    }

    /// Payload octets sent (wraps).
    pub fn octets_sent(&self) -> u32 {
        self.octets
    }

    /// The sender info of an SR sent at `now`, whose wall-clock time is `ntp`: the RTP
    /// timestamp is the reference moved on by the time since it at the clock rate. `None`
    /// before any timestamp is known.
    pub fn sender_info(&self, now: Instant, ntp: NtpTime) -> Option<SenderInfo> {
        let (ts, at) = self.reference?;
        let ticks =
            |d: Duration| (d.as_nanos() * u128::from(self.clock_rate) / 1_000_000_000) as u32;
        let rtp_timestamp = match now.checked_duration_since(at) {
            Some(ahead) => ts.wrapping_add(ticks(ahead)),
            None => ts.wrapping_sub(ticks(at.saturating_duration_since(now))),
        };
        Some(SenderInfo {
            ssrc: self.ssrc,
            ntp,
            rtp_timestamp,
            packet_count: self.packets,
            octet_count: self.octets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A fixed origin for the tests: Instant has no constructor but now().
    #[allow(clippy::disallowed_methods)]
    fn at(ms: u64) -> Instant {
        thread_local!(static T0: Instant = Instant::now());
        T0.with(|t| *t + Duration::from_millis(ms))
    }

    #[test]
    fn extend_picks_the_closest() {
        assert_eq!(extend(65535, 0, 16), 65536);
        assert_eq!(extend(65536, 65535, 16), 65535);
        assert_eq!(extend(0, 32768, 16), 32768);
        assert_eq!(extend(0, 32769, 16), -32767);
        assert_eq!(extend(-5, 3, 16), 3);
        let mut u = TimestampUnwrapper::new();
        assert_eq!(u.extend(10), 10);
        assert_eq!(u.extend(u32::MAX), -1);
    }

    #[test]
    fn probation_then_counting() {
        let mut rx = ReceiveStats::new(1, 8000);
        assert_eq!(rx.handle_packet(10, 0, at(0)), None); // on probation
        assert!(!rx.is_valid());
        assert_eq!(rx.report_block(at(0)), None);
        assert_eq!(rx.handle_packet(11, 160, at(20)), Some(11));
        assert!(rx.is_valid());
        assert_eq!(rx.handle_packet(12, 320, at(40)), Some(12));
        assert_eq!((rx.expected(), rx.received()), (2, 2));
        // A probation broken by a gap restarts it.
        let mut rx = ReceiveStats::new(1, 8000);
        rx.handle_packet(10, 0, at(0));
        assert_eq!(rx.handle_packet(20, 0, at(0)), None);
        assert_eq!(rx.handle_packet(21, 0, at(0)), Some(21));
        // No probation: the first packet counts.
        let mut rx = ReceiveStats::with_probation(1, 8000, 0);
        assert_eq!(rx.handle_packet(65535, 0, at(0)), Some(65535));
        assert_eq!(rx.handle_packet(0, 0, at(0)), Some(65536));
        assert_eq!(rx.extended_highest_seq(), 65536);
    }

    #[test]
    fn wrap_reorder_duplicate_and_restart() {
        let mut rx = ReceiveStats::with_probation(1, 8000, 1);
        for s in 65530..=65535u16 {
            rx.handle_packet(s, 0, at(0));
        }
        assert_eq!(rx.handle_packet(2, 0, at(0)), Some(65538)); // wraps, 0 and 1 missing
        assert_eq!(rx.handle_packet(0, 0, at(0)), Some(65536)); // late
        assert_eq!(rx.handle_packet(0, 0, at(0)), Some(65536)); // duplicate: counted
        assert_eq!(rx.expected(), 9);
        assert_eq!(rx.received(), 9);
        assert_eq!(rx.cumulative_lost(), 0);
        // A jump of 20000: ignored once, believed when the next follows in order.
        assert_eq!(rx.handle_packet(20_002, 0, at(0)), None);
        assert_eq!(rx.handle_packet(20_003, 0, at(0)), Some(20_003));
        assert_eq!((rx.expected(), rx.received()), (1, 1));
    }

    #[test]
    fn fraction_lost_per_interval() {
        let mut rx = ReceiveStats::with_probation(1, 90_000, 1);
        for s in 0..100u16 {
            if s % 10 != 5 {
                rx.handle_packet(s, 0, at(0));
            }
        }
        let b = rx.report_block(at(0)).unwrap();
        assert_eq!((b.cumulative_lost, b.fraction_lost), (10, 25)); // 10 of 100: 25.6/256
        for s in 100..200u16 {
            rx.handle_packet(s, 0, at(0));
        }
        let b = rx.report_block(at(0)).unwrap();
        assert_eq!((b.cumulative_lost, b.fraction_lost), (10, 0));
        assert_eq!(b.extended_highest_seq, 199);
        // A gap of 100.
        rx.handle_packet(300, 0, at(0));
        let b = rx.report_block(at(0)).unwrap();
        assert_eq!(b.fraction_lost, 253); // 101 expected, 1 received: 100*256/101
    }

    #[test]
    fn jitter_follows_rfc_3550_a8() {
        // Packets every 20 ms carrying 20 ms of 8 kHz audio: no jitter. Then one arrives 10 ms
        // late: d = 80 units; J = 80/16 = 5; the next on time: d = 80 again: J = 5 + (80-5)/16.
        let mut rx = ReceiveStats::with_probation(1, 8000, 1);
        for i in 0..10u64 {
            rx.handle_packet(i as u16, 160 * i as u32, at(20 * i));
        }
        assert_eq!(rx.jitter(), 0);
        rx.handle_packet(10, 1600, at(210));
        assert_eq!(rx.jitter(), 5);
        rx.handle_packet(11, 1760, at(220));
        assert_eq!(rx.jitter16, 80 + 80 - ((80 + 8) >> 4));
        assert_eq!(rx.jitter(), 9);
        assert_eq!(rx.jitter_duration(), Duration::from_micros(1125));
    }

    #[test]
    fn lsr_and_dlsr() {
        let mut rx = ReceiveStats::with_probation(1, 8000, 1);
        rx.handle_packet(1, 0, at(0));
        rx.handle_sender_report(NtpTime(0x0001_2345_6789_0000), at(100));
        let b = rx.report_block(at(600)).unwrap();
        assert_eq!(b.last_sr, 0x2345_6789);
        assert_eq!(b.delay_since_last_sr, 0x8000); // 500 ms
    }

    #[test]
    fn sender_maps_rtp_to_now_both_ways() {
        let mut tx = SenderStats::new(7, 90_000);
        assert_eq!(tx.sender_info(at(0), NtpTime(0)), None);
        tx.set_time_reference(1000, at(100));
        let i = tx.sender_info(at(50), NtpTime(0)).unwrap();
        assert_eq!(i.rtp_timestamp, 1000u32.wrapping_sub(4500));
        let i = tx.sender_info(at(1100), NtpTime(0)).unwrap();
        assert_eq!(i.rtp_timestamp, 91_000);
        assert_eq!(i.ssrc, 7);
    }

    #[test]
    fn round_trip_time_rejects_negative() {
        let block = ReportBlock {
            last_sr: 100,
            delay_since_last_sr: 50,
            ..Default::default()
        };
        assert_eq!(round_trip_time(&block, NtpTime(120 << 16)), None);
        assert_eq!(
            round_trip_time(&block, NtpTime(150 << 16)),
            Some(Duration::ZERO)
        );
    }
}
