//! STUN client-transaction timing (RFC 8489 section 6.2.1): when to retransmit a request and
//! when to give up on it.
//!
//! The request bytes are not kept: every zvon STUN request is re-encoded from its parameters
//! with the same transaction id, so a transaction is just this schedule plus an id.

use std::time::{Duration, Instant};

/// Retransmission parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetransmitConfig {
    /// Initial retransmission timeout.
    //# The initial value for RTO SHOULD be configurable and SHOULD be greater than 500 ms.
    pub rto: Duration,
    /// Upper bound for the doubled RTO (RFC 8489 lets a client cap it; `Duration::MAX` = none).
    pub max_rto: Duration,
    /// Total number of requests sent (Rc), the first one included.
    pub rc: u32,
    /// After the last request, wait `rm * rto` for a response before giving up (Rm).
    pub rm: u32,
    /// Reliable transport (TCP/TLS): send once and wait `Ti` (39.5 s) for the response.
    //# Reliability of STUN over TCP and TLS-over-TCP is handled by TCP itself, and there are no
    //# application-layer retransmissions.
    pub reliable: bool,
}

impl RetransmitConfig {
    /// The RFC 8489 defaults: RTO 500 ms, Rc 7, Rm 16 (a transaction lasts 39.5 s).
    pub const RFC8489: Self = Self {
        rto: Duration::from_millis(500),
        max_rto: Duration::MAX,
        rc: 7,
        rm: 16,
        reliable: false,
    };

    /// The same schedule over TCP or TLS: no retransmissions, `Ti` = 39.5 s.
    pub fn over_reliable(self) -> Self {
        Self {
            reliable: true,
            ..self
        }
    }
}

impl Default for RetransmitConfig {
    fn default() -> Self {
        Self::RFC8489
    }
}

/// What [`Retransmit::on_timeout`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutAction {
    /// The deadline has not passed yet.
    Wait,
    /// Send the request again now.
    Retransmit,
    /// No response came: the transaction failed.
    GiveUp,
}

/// The retransmission schedule of one client transaction.
///
/// ```
/// use std::time::{Duration, Instant};
/// use zvon_ice::transaction::{Retransmit, RetransmitConfig, TimeoutAction};
/// let t0 = Instant::now();
/// let mut r = Retransmit::new(t0, RetransmitConfig::RFC8489);
/// assert_eq!(r.deadline(), t0 + Duration::from_millis(500));
/// assert_eq!(r.on_timeout(r.deadline()), TimeoutAction::Retransmit);
/// assert_eq!(r.deadline(), t0 + Duration::from_millis(1500));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Retransmit {
    config: RetransmitConfig,
    /// Requests sent so far.
    sent: u32,
    /// Timeout in force for the next wait.
    rto: Duration,
    deadline: Instant,
}

impl Retransmit {
    /// Starts the schedule; the caller sends the first request at `now`.
    pub fn new(now: Instant, config: RetransmitConfig) -> Self {
        let rc = config.rc.max(1);
        let config = RetransmitConfig { rc, ..config };
        let rto = config.rto.min(config.max_rto);
        let first_wait = if config.reliable || rc == 1 {
            rto * config.rm.max(1)
        } else {
            rto
        };
        let first_wait = if config.reliable {
            Self::ti(config)
        } else {
            first_wait
        };
        Self {
            config,
            sent: 1,
            rto,
            deadline: now + first_wait,
        }
    }

    fn ti(config: RetransmitConfig) -> Duration {
        //# If the client has not received a response after Ti seconds, it SHOULD consider the
        //# transaction to have timed out. Ti SHOULD be configurable and SHOULD have a default
        //# of 39.5 s.
        let mut total = Duration::ZERO;
        let mut rto = config.rto;
        for _ in 1..config.rc {
            total += rto;
            rto = (rto * 2).min(config.max_rto);
        }
        total + config.rto * config.rm
    }

    /// When [`Retransmit::on_timeout`] should next be called.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Requests sent so far (the first one included).
    pub fn sent(&self) -> u32 {
        self.sent
    }

    /// Advances the schedule at `now`.
    pub fn on_timeout(&mut self, now: Instant) -> TimeoutAction {
        if now < self.deadline {
            return TimeoutAction::Wait;
        }
        if self.config.reliable || self.sent >= self.config.rc {
            return TimeoutAction::GiveUp;
        }
        self.sent += 1;
        //# the client SHOULD retransmit ... doubling after each retransmission
        self.rto = (self.rto * 2).min(self.config.max_rto);
        let wait = if self.sent >= self.config.rc {
            //# If, after the last request, a duration equal to Rm times the RTO has passed
            //# without a response ... the client SHOULD consider the transaction to have failed.
            self.config.rto * self.config.rm
        } else {
            self.rto
        };
        self.deadline = now + wait;
        TimeoutAction::Retransmit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An arbitrary origin for virtual time; the clock is never read again.
    #[allow(clippy::disallowed_methods)]
    fn origin() -> Instant {
        Instant::now()
    }

    /// RFC 8489 section 6.2.1's worked example: with RTO 500 ms and Rc 7, requests go at
    /// 0, 500, 1500, 3500, 7500, 15500 and 31500 ms, and the client gives up at 39500 ms.
    #[test]
    fn rfc8489_example_schedule() {
        let t0 = origin();
        let mut r = Retransmit::new(t0, RetransmitConfig::RFC8489);
        let mut sends = vec![0u64];
        loop {
            let d = r.deadline();
            assert_eq!(
                r.on_timeout(d - Duration::from_millis(1)),
                TimeoutAction::Wait
            );
            match r.on_timeout(d) {
                TimeoutAction::Retransmit => sends.push((d - t0).as_millis() as u64),
                TimeoutAction::GiveUp => {
                    assert_eq!((d - t0).as_millis(), 39_500);
                    break;
                }
                TimeoutAction::Wait => unreachable!(),
            }
        }
        assert_eq!(sends, [0, 500, 1500, 3500, 7500, 15500, 31500]);
    }

    #[test]
    fn reliable_waits_ti_without_retransmitting() {
        let t0 = origin();
        let mut r = Retransmit::new(t0, RetransmitConfig::RFC8489.over_reliable());
        assert_eq!(r.deadline() - t0, Duration::from_millis(39_500));
        assert_eq!(r.on_timeout(r.deadline()), TimeoutAction::GiveUp);
        assert_eq!(r.sent(), 1);
    }

    #[test]
    fn capped_rto() {
        let t0 = origin();
        let cfg = RetransmitConfig {
            max_rto: Duration::from_millis(1000),
            ..RetransmitConfig::RFC8489
        };
        let mut r = Retransmit::new(t0, cfg);
        let mut sends = vec![t0];
        loop {
            let d = r.deadline();
            match r.on_timeout(d) {
                TimeoutAction::Retransmit => sends.push(d),
                TimeoutAction::GiveUp => break,
                TimeoutAction::Wait => unreachable!(),
            }
        }
        let gaps: Vec<u128> = sends
            .windows(2)
            .map(|w| (w[1] - w[0]).as_millis())
            .collect();
        assert_eq!(gaps, [500, 1000, 1000, 1000, 1000, 1000]);
    }
}
