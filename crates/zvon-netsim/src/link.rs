//! One direction of one link: the impairment pipeline.

use std::time::{Duration, Instant};

use zvon_base::Rng;

use crate::config::{LinkConfig, LossModel};
use crate::trace::{DropReason, LinkStats};

/// The outcome of offering one packet to a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Crossing {
    /// Arrives at the far end at this time; `reordered` when held back out of FIFO order.
    Arrives {
        at: Instant,
        reordered: bool,
    },
    Dropped(DropReason),
}

#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) config: LinkConfig,
    pub(crate) up: bool,
    /// Counts cuts, so that a packet on the wire when the link was cut is lost even if the
    /// link is back up by the time it would have arrived.
    pub(crate) epoch: u64,
    rng: Rng,
    /// When the serialiser finishes the last accepted packet (bandwidth cap).
    busy_until: Option<Instant>,
    /// Latest arrival of an in-order packet: later in-order packets never arrive before it.
    last_arrival: Option<Instant>,
    /// Gilbert-Elliott state: `true` in the Bad state.
    bad: bool,
    pub(crate) stats: LinkStats,
}

impl Link {
    pub(crate) fn new(config: LinkConfig, rng: Rng) -> Self {
        Self {
            config,
            up: true,
            epoch: 0,
            rng,
            busy_until: None,
            last_arrival: None,
            bad: false,
            stats: LinkStats::default(),
        }
    }

    /// Takes a packet of `len` bytes at `now` through the pipeline documented on
    /// [`LinkConfig`].
    pub(crate) fn cross(&mut self, now: Instant, len: usize) -> Crossing {
        self.stats.offered += 1;
        let c = self.cross_inner(now, len);
        if let Crossing::Dropped(r) = c {
            self.stats.dropped.add(r);
        }
        c
    }

    fn cross_inner(&mut self, now: Instant, len: usize) -> Crossing {
        if !self.up {
            return Crossing::Dropped(DropReason::LinkDown);
        }
        if len > self.config.mtu {
            return Crossing::Dropped(DropReason::TooBig);
        }
        let departs = match self.config.rate_bps {
            Some(rate) if rate > 0 => {
                let start = match self.busy_until {
                    Some(b) if b > now => b,
                    _ => now,
                };
                let backlog_ns = start.saturating_duration_since(now).as_nanos();
                let backlog_bytes = (backlog_ns * rate as u128 / 8_000_000_000) as u64;
                let total = backlog_bytes + len as u64;
                if backlog_ns > 0 && total > self.config.queue_bytes as u64 {
                    return Crossing::Dropped(DropReason::QueueFull);
                }
                self.stats.max_backlog_bytes = self.stats.max_backlog_bytes.max(total);
                let ser_ns = (len as u128 * 8_000_000_000).div_ceil(rate as u128);
                let done = start + Duration::from_nanos(ser_ns.min(u64::MAX as u128) as u64);
                self.busy_until = Some(done);
                done
            }
            // A rate of zero carries nothing.
            Some(_) => return Crossing::Dropped(DropReason::QueueFull),
            None => now,
        };
        let lost = match self.config.loss {
            LossModel::None => false,
            LossModel::Random(p) => self.rng.chance(p),
            LossModel::Burst(ge) => {
                let flip = if self.bad {
                    ge.p_bad_to_good
                } else {
                    ge.p_good_to_bad
                };
                if self.rng.chance(flip) {
                    self.bad = !self.bad;
                }
                self.rng
                    .chance(if self.bad { ge.loss_bad } else { ge.loss_good })
            }
        };
        if lost {
            return Crossing::Dropped(DropReason::Loss);
        }
        let mut at = departs + self.config.latency;
        if !self.config.jitter.is_zero() {
            let j = self.config.jitter.as_nanos().min(u64::MAX as u128 - 1) as u64;
            at += Duration::from_nanos(self.rng.below(j + 1));
        }
        if self.rng_reorder() {
            self.stats.reordered += 1;
            return Crossing::Arrives {
                at: at + self.config.reorder_delay,
                reordered: true,
            };
        }
        if let Some(last) = self.last_arrival {
            at = at.max(last);
        }
        self.last_arrival = Some(at);
        Crossing::Arrives {
            at,
            reordered: false,
        }
    }

    fn rng_reorder(&mut self) -> bool {
        self.config.reorder > 0.0 && self.rng.chance(self.config.reorder)
    }

    pub(crate) fn roll_duplicate(&mut self) -> bool {
        let dup = self.config.duplicate > 0.0 && self.rng.chance(self.config.duplicate);
        if dup {
            self.stats.duplicated += 1;
        }
        dup
    }

    pub(crate) fn passed(&mut self, len: usize) {
        self.stats.passed += 1;
        self.stats.passed_bytes += len as u64;
    }

    pub(crate) fn set_up(&mut self, up: bool) {
        if self.up && !up {
            self.epoch += 1;
        }
        self.up = up;
    }

    pub(crate) fn dropped_in_flight(&mut self) {
        self.stats.dropped.add(DropReason::LinkDown);
    }
}
