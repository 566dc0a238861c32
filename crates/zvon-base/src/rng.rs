use rand_chacha::ChaCha12Rng;
use rand_core::{RngCore, SeedableRng};

/// The one source of randomness in the protocol crates: a ChaCha12 generator seeded by the
/// caller. It is cryptographically strong when the seed is (the runtime seeds it from the OS),
/// and fully reproducible when a test gives a fixed seed.
///
/// ```
/// use zvon_base::Rng;
/// let mut a = Rng::from_seed_u64(7);
/// let mut b = Rng::from_seed_u64(7);
/// assert_eq!(a.u64(), b.u64());
/// ```
#[derive(Debug, Clone)]
pub struct Rng(ChaCha12Rng);

impl Rng {
    /// A generator from a 32-byte seed (use OS entropy in production).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(ChaCha12Rng::from_seed(seed))
    }

    /// A generator from a small seed, for tests and the simulator.
    pub fn from_seed_u64(seed: u64) -> Self {
        Self(ChaCha12Rng::seed_from_u64(seed))
    }

    /// Derives an independent generator, so that each state machine gets its own stream and the
    /// order in which they draw does not couple them.
    pub fn fork(&mut self) -> Self {
        let mut seed = [0u8; 32];
        self.fill(&mut seed);
        Self::from_seed(seed)
    }

    /// Fills `dest` with random bytes.
    pub fn fill(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest);
    }

    /// A random u32.
    pub fn u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    /// A random u64.
    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A uniform f64 in `[0, 1)`.
    pub fn f64(&mut self) -> f64 {
        // 53 random bits: the full precision of an f64 mantissa.
        (self.u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `p` (clamped to `[0, 1]`).
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.f64() < p
    }

    /// A uniform integer in `[0, n)`; 0 when `n` is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Lemire's multiply-shift; the bias is below 2^-64 * n, negligible for protocol use.
        ((self.u64() as u128 * n as u128) >> 64) as u64
    }

    /// A random string of `len` characters from the ICE alphabet (RFC 8839 `ice-char`:
    /// ALPHA / DIGIT / "+" / "/"), for ufrags and passwords.
    pub fn ice_string(&mut self, len: usize) -> String {
        const ICE_CHARS: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        (0..len)
            .map(|_| ICE_CHARS[self.below(ICE_CHARS.len() as u64) as usize] as char)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_stays_in_range_and_forks_differ() {
        let mut r = Rng::from_seed_u64(1);
        for n in 1..100 {
            assert!(r.below(n) < n);
        }
        let mut f = r.fork();
        assert_ne!(r.u64(), f.u64());
        let s = r.ice_string(24);
        assert_eq!(s.len(), 24);
        assert!(
            s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
        );
    }
}
