//! NTP timestamps as RTCP carries them (RFC 3550 4): the sender report's 64-bit wall clock and
//! the "compact" middle 32 bits of LSR/DLSR and round-trip times.

use std::time::Duration;

/// A 64-bit NTP timestamp (RFC 5905 6): seconds since 1900-01-01 in the high 32 bits, the
/// fraction of a second in the low 32. Wall-clock time comes from the caller (sans-IO).
///
/// ```
/// use std::time::Duration;
/// use zvon_rtp::NtpTime;
/// let t = NtpTime::from_unix(Duration::from_millis(1_500));
/// assert_eq!(t.0 >> 32, 2_208_988_801);           // 1970 is 2 208 988 800 s after 1900
/// assert_eq!(t.0 as u32, 0x8000_0000);             // half a second
/// assert_eq!(t.compact(), (2_208_988_801u32 << 16) | 0x8000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NtpTime(pub u64);

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
pub const NTP_UNIX_OFFSET_SECS: u64 = 2_208_988_800;

impl NtpTime {
    /// The NTP time of a duration since the Unix epoch (what `SystemTime` gives the runtime).
    pub fn from_unix(since_unix_epoch: Duration) -> Self {
        let secs = since_unix_epoch
            .as_secs()
            .wrapping_add(NTP_UNIX_OFFSET_SECS);
        Self(secs << 32 | u64::from(nanos_to_fraction(since_unix_epoch.subsec_nanos())))
    }

    /// The duration since the Unix epoch; `None` before 1970 (or in a later NTP era, which
    /// this 64-bit format cannot tell apart).
    pub fn to_unix(self) -> Option<Duration> {
        let secs = (self.0 >> 32).checked_sub(NTP_UNIX_OFFSET_SECS)?;
        Some(Duration::new(secs, fraction_to_nanos(self.0 as u32)))
    }

    /// The middle 32 bits (16.16 fixed point seconds): the LSR field of a report block and the
    /// unit of round-trip arithmetic (RFC 3550 6.4.1).
    pub fn compact(self) -> u32 {
        (self.0 >> 16) as u32
    }

    /// The 24-bit abs-send-time value (6.18 fixed point seconds) of this time.
    pub fn abs_send_time(self) -> u32 {
        ((self.0 >> 14) & 0x00FF_FFFF) as u32
    }

    /// This time moved forward by `d` (wrapping at the end of the NTP era).
    pub fn add_duration(self, d: Duration) -> Self {
        let frac = u64::from(nanos_to_fraction(d.subsec_nanos()));
        Self(self.0.wrapping_add(d.as_secs() << 32).wrapping_add(frac))
    }
}

fn nanos_to_fraction(nanos: u32) -> u32 {
    ((u64::from(nanos) << 32) / 1_000_000_000) as u32
}

fn fraction_to_nanos(frac: u32) -> u32 {
    ((u64::from(frac) * 1_000_000_000) >> 32) as u32
}

/// A duration in compact NTP units (1/65536 s), as DLSR carries it; saturates at `u32::MAX`
/// (18.2 hours).
pub fn duration_to_compact(d: Duration) -> u32 {
    let units = d.as_secs() << 16 | ((u64::from(d.subsec_nanos()) << 16) / 1_000_000_000);
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// A compact NTP duration (1/65536 s units) as a `Duration`.
pub fn compact_to_duration(units: u32) -> Duration {
    let secs = u64::from(units >> 16);
    let nanos = ((u64::from(units & 0xFFFF) * 1_000_000_000) >> 16) as u32;
    Duration::new(secs, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        let d = Duration::new(1_700_000_000, 123_456_789);
        let t = NtpTime::from_unix(d);
        let back = t.to_unix().unwrap();
        assert!(d.abs_diff(back) < Duration::from_nanos(2));
        assert_eq!(NtpTime(0).to_unix(), None);
        assert_eq!(duration_to_compact(Duration::from_millis(500)), 0x8000);
        assert_eq!(
            compact_to_duration(0x0001_8000),
            Duration::from_millis(1500)
        );
        assert_eq!(duration_to_compact(Duration::from_secs(1 << 20)), u32::MAX);
        // abs-send-time: 6 bits of seconds, 18 of fraction.
        let t = NtpTime(65 << 32 | 0x8000_0000);
        assert_eq!(t.abs_send_time(), 1 << 18 | 1 << 17);
        assert_eq!(t.add_duration(Duration::from_millis(500)).0, 66 << 32);
    }
}
