//! The drill's seeded random generator: SplitMix64, never an OS seed.
//!
//! Every random choice in a drill comes from a [`SimRng`] derived from the
//! drill's seed. Each device gets its own stream with [`SimRng::fork`], keyed
//! by a name, so adding a device (or drawing more numbers in one) does not
//! change any other device's stream.

/// A small, fast, seeded generator (SplitMix64).
///
/// Not for cryptography; for reproducible fault schedules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRng {
    seed: u64,
    state: u64,
}

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a strong 64-bit mixer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, 64-bit, of `bytes`.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xCBF2_9CE4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
    }
    hash
}

impl SimRng {
    /// A generator seeded with `seed`. The same seed always gives the same sequence.
    pub fn new(seed: u64) -> SimRng {
        SimRng { seed, state: seed }
    }

    /// The seed this generator was created with (print it: "reproduce with seed=…").
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix(self.state)
    }

    /// A number uniformly drawn from `0..n`; 0 when `n` is 0.
    ///
    /// Uses rejection sampling, so there is no modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }

    /// `true` with probability `p` (clamped to `0.0..=1.0`; NaN counts as 0).
    ///
    /// Always draws exactly one number, so the stream stays aligned whatever `p` is.
    pub fn chance(&mut self, p: f64) -> bool {
        // 53 random bits as a float in [0, 1).
        let x = (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        x < p
    }

    /// An independent stream for `label` (a device or component name).
    ///
    /// Depends only on this generator's creation seed and the label, not on
    /// how many numbers have been drawn from it, so forks are stable however
    /// the drill's devices are ordered or used.
    pub fn fork(&self, label: &str) -> SimRng {
        SimRng::new(mix(self.seed ^ mix(fnv1a(label.as_bytes()))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(rng: &mut SimRng, n: usize) -> Vec<u64> {
        (0..n).map(|_| rng.next_u64()).collect()
    }

    #[test]
    fn same_seed_gives_same_sequence() {
        let a = take(&mut SimRng::new(42), 16);
        let b = take(&mut SimRng::new(42), 16);
        assert_eq!(a, b);
        assert_ne!(a, take(&mut SimRng::new(43), 16));
    }

    #[test]
    fn fork_differs_from_parent_and_is_stable() {
        let mut parent = SimRng::new(7);
        let fork_before = parent.fork("acceptor");
        let parent_seq = take(&mut parent.clone(), 8);
        let _ = take(&mut parent, 100);
        let fork_after = parent.fork("acceptor");
        assert_eq!(fork_before, fork_after, "forks ignore draws on the parent");
        assert_ne!(take(&mut fork_before.clone(), 8), parent_seq);
        assert_ne!(
            take(&mut parent.fork("printer"), 8),
            take(&mut parent.fork("acceptor"), 8)
        );
    }

    #[test]
    fn below_and_chance_stay_in_range() {
        let mut rng = SimRng::new(1);
        assert!((0..1000).all(|_| rng.below(6) < 6));
        assert_eq!(rng.below(0), 0);
        assert!((0..100).all(|_| !rng.chance(0.0)));
        assert!((0..100).all(|_| rng.chance(1.0)));
        let hits = (0..10_000).filter(|_| rng.chance(0.25)).count();
        assert!((2_000..3_000).contains(&hits), "{hits}");
    }
}
