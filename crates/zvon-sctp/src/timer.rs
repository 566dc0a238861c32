//! Timers as a fieldless enum over a fixed table (no allocation, the next deadline is the
//! minimum), and the RTO estimator of RFC 9260 6.3.1.

use std::time::{Duration, Instant};

/// Every timer an association runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// INIT retransmission.
    T1Init = 0,
    /// COOKIE ECHO retransmission.
    T1Cookie,
    /// SHUTDOWN / SHUTDOWN ACK retransmission.
    T2Shutdown,
    /// DATA retransmission.
    T3Rtx,
    /// Delayed SACK.
    DelayedAck,
    /// Heartbeat.
    Heartbeat,
    /// RE-CONFIG request retransmission.
    Reconfig,
    /// Shutdown guard (T5).
    ShutdownGuard,
}

impl Timer {
    pub(crate) const ALL: [Timer; 8] = [
        Timer::T1Init,
        Timer::T1Cookie,
        Timer::T2Shutdown,
        Timer::T3Rtx,
        Timer::DelayedAck,
        Timer::Heartbeat,
        Timer::Reconfig,
        Timer::ShutdownGuard,
    ];
}

#[derive(Debug, Default, Clone)]
pub(crate) struct TimerTable([Option<Instant>; 8]);

impl TimerTable {
    pub(crate) fn set(&mut self, t: Timer, at: Instant) {
        self.0[t as usize] = Some(at);
    }
    pub(crate) fn stop(&mut self, t: Timer) {
        self.0[t as usize] = None;
    }
    pub(crate) fn is_set(&self, t: Timer) -> bool {
        self.0[t as usize].is_some()
    }
    pub(crate) fn next(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }
    /// Returns the timers due at `now`, clearing them.
    pub(crate) fn expired(&mut self, now: Instant) -> impl Iterator<Item = Timer> + use<> {
        let mut due = [false; 8];
        for (i, t) in self.0.iter_mut().enumerate() {
            if t.is_some_and(|at| at <= now) {
                *t = None;
                due[i] = true;
            }
        }
        Timer::ALL.into_iter().filter(move |t| due[*t as usize])
    }
    pub(crate) fn clear(&mut self) {
        self.0 = [None; 8];
    }
}

/// Round-trip time estimation (RFC 9260 6.3.1) with exponential backoff (6.3.3).
#[derive(Debug, Clone)]
pub(crate) struct Rto {
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
    min: Duration,
    max: Duration,
}

impl Rto {
    pub(crate) fn new(initial: Duration, min: Duration, max: Duration) -> Self {
        Self {
            srtt: None,
            rttvar: Duration::ZERO,
            rto: initial,
            min,
            max,
        }
    }
    pub(crate) fn rto(&self) -> Duration {
        self.rto
    }
    pub(crate) fn srtt(&self) -> Option<Duration> {
        self.srtt
    }
    pub(crate) fn sample(&mut self, r: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                // RTO.Alpha = 1/8, RTO.Beta = 1/4.
                let diff = srtt.abs_diff(r);
                self.rttvar = (self.rttvar * 3 + diff) / 4;
                self.srtt = Some((srtt * 7 + r) / 8);
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        self.rto =
            (srtt + (self.rttvar * 4).max(Duration::from_millis(1))).clamp(self.min, self.max);
    }
    pub(crate) fn backoff(&mut self) {
        self.rto = (self.rto * 2).min(self.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rto_follows_rfc() {
        let ms = Duration::from_millis;
        let mut r = Rto::new(ms(1000), ms(100), ms(5000));
        r.sample(ms(200));
        assert_eq!(r.rto(), ms(600)); // 200 + 4 * 100
        r.backoff();
        assert_eq!(r.rto(), ms(1200));
        for _ in 0..10 {
            r.backoff();
        }
        assert_eq!(r.rto(), ms(5000));
        r.sample(ms(1));
        assert!(r.rto() >= ms(100));
    }

    #[test]
    fn table_min_and_expiry() {
        #[allow(clippy::disallowed_methods)] // ok: a test needs some instant
        let t0 = Instant::now();
        let mut t = TimerTable::default();
        t.set(Timer::T3Rtx, t0 + Duration::from_secs(2));
        t.set(Timer::DelayedAck, t0 + Duration::from_secs(1));
        assert_eq!(t.next(), Some(t0 + Duration::from_secs(1)));
        let due: Vec<_> = t.expired(t0 + Duration::from_secs(1)).collect();
        assert_eq!(due, [Timer::DelayedAck]);
        assert!(t.is_set(Timer::T3Rtx) && !t.is_set(Timer::DelayedAck));
    }
}
