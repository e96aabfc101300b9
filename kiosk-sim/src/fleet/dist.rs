//! Duration distributions of the site model, and sampling them from a [`SimRng`].
//!
//! Every duration in the model (typing an account number, a backend answer,
//! an on-site repair) is an Erlang distribution given by its mean and a
//! shape: shape 1 is exponential (most spread), larger shapes are more
//! regular, shape 0 is a fixed value. That one family covers "device answers
//! in about 800 ms" and "a technician arrives in one to four hours" without a
//! zoo of parameters, and it never goes negative.

use serde::{Deserialize, Serialize};

use crate::rng::SimRng;

/// Largest accepted [`Dist::shape`] (a limit on the work per draw).
pub const SHAPE_MAX: u32 = 16;

/// A duration distribution: Erlang with `shape` phases and mean `mean_ms`.
///
/// TOML: `{ mean-ms = 4000, shape = 3 }`; `shape` defaults to 1 (exponential).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Dist {
    /// Mean in milliseconds.
    pub mean_ms: u64,
    /// Erlang shape, `0..=16`: 0 = always exactly `mean_ms`, 1 = exponential,
    /// larger = more regular around the mean (default 1).
    #[serde(default = "shape_one")]
    pub shape: u32,
}

fn shape_one() -> u32 {
    1
}

impl Dist {
    /// Erlang with mean `mean_ms` and `shape` phases.
    pub const fn erlang(mean_ms: u64, shape: u32) -> Dist {
        Dist { mean_ms, shape }
    }

    /// Always exactly `mean_ms`.
    pub const fn fixed(mean_ms: u64) -> Dist {
        Dist { mean_ms, shape: 0 }
    }

    /// One draw, in whole milliseconds. Draws `shape` numbers (none if fixed).
    pub fn sample_ms(&self, rng: &mut SimRng) -> u64 {
        if self.shape == 0 || self.mean_ms == 0 {
            return self.mean_ms;
        }
        let shape = self.shape.min(SHAPE_MAX);
        // Erlang(k, mean) = -(mean / k) * ln(U1 * … * Uk); each U is in (0, 1],
        // so 16 factors stay far above f64's smallest normal number.
        let mut product = 1.0;
        for _ in 0..shape {
            product *= unit_open(rng);
        }
        let ms = -(self.mean_ms as f64 / f64::from(shape)) * product.ln();
        ms.round() as u64
    }
}

/// A float uniformly drawn from `(0, 1]` (never 0, so its log is finite).
pub(crate) fn unit_open(rng: &mut SimRng) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// An exponential draw with the given mean, in (fractional) milliseconds.
pub(crate) fn exp_ms(rng: &mut SimRng, mean_ms: f64) -> f64 {
    -mean_ms * unit_open(rng).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_means_match_and_fixed_is_fixed() {
        let mut rng = SimRng::new(3);
        for dist in [Dist::erlang(4_000, 1), Dist::erlang(4_000, 4)] {
            let n = 20_000;
            let sum: u64 = (0..n).map(|_| dist.sample_ms(&mut rng)).sum();
            let mean = sum as f64 / n as f64;
            assert!((3_800.0..4_200.0).contains(&mean), "{dist:?}: {mean}");
        }
        assert_eq!(Dist::fixed(1_234).sample_ms(&mut rng), 1_234);
    }

    #[test]
    fn parses_from_toml_with_default_shape() {
        let d: Dist = toml::from_str("mean-ms = 500").unwrap();
        assert_eq!(d, Dist::erlang(500, 1));
        assert!(toml::from_str::<Dist>("mean-ms = 5\nspread = 1").is_err());
    }
}
