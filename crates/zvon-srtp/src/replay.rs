//! The RFC 3711 3.3.2 replay list: a sliding bitmap of the last `W` packet indices.

use crate::Error;

/// The smallest window RFC 3711 allows (3.3.2: "at least 64").
pub(crate) const MIN_WINDOW: usize = 64;
/// The largest window accepted (libsrtp's limit too); larger requests are clamped.
pub(crate) const MAX_WINDOW: usize = 32768;

/// Rounds a requested window to what [`ReplayWindow`] implements: a power of two between
/// [`MIN_WINDOW`] and [`MAX_WINDOW`].
pub(crate) fn window_size(requested: usize) -> usize {
    requested
        .clamp(MIN_WINDOW, MAX_WINDOW)
        .next_power_of_two()
        .min(MAX_WINDOW)
}

/// Which of the last `W` indices (up to and including `highest`) were received.
///
/// The bitmap is a ring: index `i` lives at bit `i mod W`. Advancing `highest` clears the bits
/// of the indices it skips, which held indices one lap older that just left the window.
#[derive(Debug, Clone)]
pub(crate) struct ReplayWindow {
    /// `None` until the first packet is accepted.
    highest: Option<u64>,
    bits: Box<[u64]>,
}

impl ReplayWindow {
    /// A window of `size` packets; `size` comes from [`window_size`].
    pub(crate) fn new(size: usize) -> Self {
        Self {
            highest: None,
            bits: vec![0; size / 64].into_boxed_slice(),
        }
    }

    fn size(&self) -> u64 {
        self.bits.len() as u64 * 64
    }

    /// The highest index accepted so far.
    pub(crate) fn highest(&self) -> Option<u64> {
        self.highest
    }

    fn bit(&self, index: u64) -> (usize, u64) {
        let pos = index & (self.size() - 1);
        ((pos / 64) as usize, 1u64 << (pos % 64))
    }

    /// Whether `index` may be accepted, without changing anything.
    pub(crate) fn check(&self, index: u64) -> Result<(), Error> {
        let Some(highest) = self.highest else {
            return Ok(());
        };
        if index > highest {
            return Ok(());
        }
        if highest - index >= self.size() {
            return Err(Error::TooOld { index });
        }
        let (word, mask) = self.bit(index);
        // ok: `word < bits.len()` because `pos < size`.
        if self.bits[word] & mask != 0 {
            return Err(Error::Replay { index });
        }
        Ok(())
    }

    /// Records `index`, which [`check`](Self::check) accepted.
    pub(crate) fn accept(&mut self, index: u64) {
        match self.highest {
            Some(highest) if index <= highest => {}
            Some(highest) if index - highest < self.size() => {
                for skipped in highest + 1..index {
                    let (word, mask) = self.bit(skipped);
                    self.bits[word] &= !mask;
                }
                self.highest = Some(index);
            }
            _ => {
                self.bits.fill(0);
                self.highest = Some(index);
            }
        }
        let (word, mask) = self.bit(index);
        self.bits[word] |= mask;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_to_powers_of_two() {
        assert_eq!(window_size(0), 64);
        assert_eq!(window_size(64), 64);
        assert_eq!(window_size(65), 128);
        assert_eq!(window_size(1000), 1024);
        assert_eq!(window_size(usize::MAX), MAX_WINDOW);
    }

    #[test]
    fn duplicates_and_old_rejected_in_order_gaps_accepted_once() {
        for size in [64, 128, 1024] {
            let mut w = ReplayWindow::new(size);
            let s = size as u64;
            let top = 100_002u64;
            for i in [top - 2, top, top - 1, top - 3] {
                assert_eq!(w.check(i), Ok(()), "{i}");
                w.accept(i);
            }
            for i in [top - 2, top, top - 1, top - 3] {
                assert_eq!(w.check(i), Err(Error::Replay { index: i }));
            }
            // The oldest index still in the window, then the first one out of it.
            assert_eq!(w.check(top - s + 1), Ok(()));
            assert_eq!(w.check(top - s), Err(Error::TooOld { index: top - s }));
            // A jump of exactly one window forgets everything before it.
            w.accept(top + s);
            assert_eq!(w.check(top), Err(Error::TooOld { index: top }));
            assert_eq!(w.check(top + 1), Ok(()));
            assert_eq!(w.check(top + s), Err(Error::Replay { index: top + s }));
            // A jump by more than one window.
            w.accept(top + 5 * s);
            for back in 1..s {
                assert_eq!(w.check(top + 5 * s - back), Ok(()));
            }
        }
    }

    #[test]
    fn advancing_clears_stale_bits_of_previous_lap() {
        let mut w = ReplayWindow::new(64);
        for i in 0..64 {
            w.accept(i);
        }
        // Advance by 10: indices 64..73 share bits with 0..9 of the last lap.
        w.accept(74);
        for i in 64..74 {
            assert_eq!(w.check(i), Ok(()), "{i}");
        }
        for i in 11..64 {
            assert_eq!(w.check(i), Err(Error::Replay { index: i }), "{i}");
        }
        assert_eq!(w.check(10), Err(Error::TooOld { index: 10 }));
    }
}
