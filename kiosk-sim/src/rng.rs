//! The drill's seeded random generator: xoshiro256++ (`rand_xoshiro`),
//! never an OS seed.
//!
//! Every random choice in a drill comes from a [`SimRng`] derived from the
//! drill's seed. Each device gets its own stream with [`SimRng::fork`], keyed
//! by a name, so adding a device (or drawing more numbers in one) does not
//! change any other device's stream.
//!
//! The generator, the unbiased range sampling and the distributions are
//! `rand`'s and `rand_distr`'s; this module only fixes how a seed and a
//! label become a stream, which is what makes a drill reproducible.

use std::hash::Hasher;

use std::convert::Infallible;

use rand::{Rng, RngExt, SeedableRng, TryRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// A small, fast, seeded generator (xoshiro256++).
///
/// Not for cryptography; for reproducible fault schedules. It is a
/// [`rand::Rng`], so `rand`'s and `rand_distr`'s samplers draw from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRng {
    seed: u64,
    inner: Xoshiro256PlusPlus,
}

/// FNV-1a (64-bit) of `label`: the `fnv` crate's stable hash, the same on
/// every platform and release (std's `DefaultHasher` promises neither).
fn label_hash(label: &str) -> u64 {
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(label.as_bytes());
    hasher.finish()
}

impl SimRng {
    /// A generator seeded with `seed`. The same seed always gives the same sequence.
    pub fn new(seed: u64) -> SimRng {
        SimRng {
            seed,
            // Expands the 64-bit seed with SplitMix64, as the xoshiro
            // authors recommend.
            inner: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    /// The seed this generator was created with (print it: "reproduce with seed=…").
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A number uniformly drawn from `0..n`; 0 when `n` is 0.
    ///
    /// `rand`'s unbiased range sampling, so there is no modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        self.inner.random_range(0..n)
    }

    /// `true` with probability `p` (clamped to `0.0..=1.0`; NaN counts as 0).
    ///
    /// Always draws exactly one number, so the stream stays aligned whatever `p` is.
    pub fn chance(&mut self, p: f64) -> bool {
        // A uniform float in [0, 1) from one 64-bit draw; `random_bool`
        // would panic on a p outside 0..=1 and skip the draw at 0 and 1.
        self.inner.random::<f64>() < p
    }

    /// An independent stream for `label` (a device or component name).
    ///
    /// Depends only on this generator's creation seed and the label, not on
    /// how many numbers have been drawn from it, so forks are stable however
    /// the drill's devices are ordered or used.
    pub fn fork(&self, label: &str) -> SimRng {
        let mut keyed = Xoshiro256PlusPlus::seed_from_u64(self.seed ^ label_hash(label));
        SimRng::new(keyed.next_u64())
    }
}

impl TryRng for SimRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.inner.next_u32())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.inner.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.inner.fill_bytes(dst);
        Ok(())
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
