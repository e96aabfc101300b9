//! Duration distributions of the site model, and sampling them from a [`SimRng`].
//!
//! Every duration in the model (typing an account number, a backend answer,
//! an on-site repair) is an Erlang distribution given by its mean and a
//! shape: shape 1 is exponential (most spread), larger shapes are more
//! regular, shape 0 is a fixed value. That one family covers "device answers
//! in about 800 ms" and "a technician arrives in one to four hours" without a
//! zoo of parameters, and it never goes negative.
//!
//! The samplers are `rand_distr`'s (an Erlang is a gamma distribution with
//! a whole-number shape; the exponential is its ziggurat `Exp1`), drawing
//! from the seeded [`SimRng`], so a seed still gives one run. What stays
//! here is the model's parameterisation (mean and shape), not the maths.

use rand::distr::OpenClosed01;
use rand::RngExt;
use rand_distr::{Distribution, Exp1, Gamma};
use serde::{Deserialize, Serialize};

use crate::rng::SimRng;

/// Largest accepted [`Dist::shape`] (a limit on the work per draw).
pub const SHAPE_MAX: u32 = 16;

/// A duration distribution: Erlang with [`Dist::shape`] phases and mean
/// [`Dist::mean_ms`].
///
/// TOML: `{ mean-ms = 4000, shape = 3 }`; `shape` defaults to 1 (exponential).
/// The gamma sampler is built once, with the distribution, not per draw
/// (building it takes a square root and divisions: twice the cost of a draw).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(from = "DistFields", into = "DistFields")]
pub struct Dist {
    mean_ms: u64,
    shape: u32,
    /// The sampler for shapes 2..=16 (clamped); `None` for fixed and exponential.
    erlang: Option<Gamma<f64>>,
}

/// What a [`Dist`] is written as (TOML, JSON).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct DistFields {
    /// Mean in milliseconds.
    mean_ms: u64,
    /// Erlang shape, `0..=16`: 0 = always exactly `mean_ms`, 1 = exponential,
    /// larger = more regular around the mean (default 1).
    #[serde(default = "shape_one")]
    shape: u32,
}

impl From<DistFields> for Dist {
    fn from(f: DistFields) -> Dist {
        Dist::erlang(f.mean_ms, f.shape)
    }
}

impl From<Dist> for DistFields {
    fn from(d: Dist) -> DistFields {
        DistFields {
            mean_ms: d.mean_ms,
            shape: d.shape,
        }
    }
}

/// Two distributions are equal when their mean and shape are (the sampler follows from them).
impl PartialEq for Dist {
    fn eq(&self, other: &Dist) -> bool {
        (self.mean_ms, self.shape) == (other.mean_ms, other.shape)
    }
}

impl Eq for Dist {}

fn shape_one() -> u32 {
    1
}

impl Dist {
    /// Erlang with mean `mean_ms` and `shape` phases (0 = fixed, 1 =
    /// exponential; shapes past [`SHAPE_MAX`] sample as [`SHAPE_MAX`] and
    /// fail the site configuration's validation).
    pub fn erlang(mean_ms: u64, shape: u32) -> Dist {
        let k = f64::from(shape.min(SHAPE_MAX));
        let erlang = (shape >= 2 && mean_ms > 0)
            .then(|| Gamma::new(k, mean_ms as f64 / k).ok())
            .flatten();
        Dist {
            mean_ms,
            shape,
            erlang,
        }
    }

    /// Always exactly `mean_ms`.
    pub fn fixed(mean_ms: u64) -> Dist {
        Dist::erlang(mean_ms, 0)
    }

    /// Mean in milliseconds.
    pub fn mean_ms(&self) -> u64 {
        self.mean_ms
    }

    /// Erlang shape: 0 = always exactly the mean, 1 = exponential, larger =
    /// more regular around the mean.
    pub fn shape(&self) -> u32 {
        self.shape
    }

    /// One draw, in whole milliseconds (no draw at all if fixed).
    pub fn sample_ms(&self, rng: &mut SimRng) -> u64 {
        if self.shape == 0 || self.mean_ms == 0 {
            return self.mean_ms;
        }
        let ms = match &self.erlang {
            Some(erlang) => erlang.sample(rng),
            None => exp_ms(rng, self.mean_ms as f64),
        };
        ms.round() as u64
    }
}

/// A float uniformly drawn from `(0, 1]` (never 0: a weighted pick with
/// it never lands on a zero weight).
pub(crate) fn unit_open(rng: &mut SimRng) -> f64 {
    rng.sample(OpenClosed01)
}

/// An exponential draw with the given mean, in (fractional) milliseconds.
pub(crate) fn exp_ms(rng: &mut SimRng, mean_ms: f64) -> f64 {
    let unit: f64 = Exp1.sample(rng);
    unit * mean_ms
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
    fn draws_are_spread_as_an_erlang_of_their_shape() {
        // Erlang(k, mean) has variance mean² / k: shape 1 spreads most.
        let mut rng = SimRng::new(11);
        for shape in [1, 2, 4, 16] {
            let dist = Dist::erlang(10_000, shape);
            let n = 40_000;
            let draws: Vec<f64> = (0..n).map(|_| dist.sample_ms(&mut rng) as f64).collect();
            let mean = draws.iter().sum::<f64>() / n as f64;
            let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n as f64;
            let expected = 10_000f64.powi(2) / f64::from(shape);
            assert!(
                (9_800.0..10_200.0).contains(&mean),
                "shape {shape}: mean {mean}"
            );
            assert!(
                (var / expected - 1.0).abs() < 0.08,
                "shape {shape}: variance {var}, expected {expected}"
            );
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_draws() {
        let draw = |seed| {
            let mut rng = SimRng::new(seed);
            let dist = Dist::erlang(4_000, 3);
            (0..64)
                .map(|_| (dist.sample_ms(&mut rng), exp_ms(&mut rng, 500.0).to_bits()))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(5), draw(5));
        assert_ne!(draw(5), draw(6));
        let mut rng = SimRng::new(5);
        assert!((0..10_000).all(|_| {
            let u = unit_open(&mut rng);
            u > 0.0 && u <= 1.0
        }));
    }

    #[test]
    fn parses_from_toml_with_default_shape() {
        let d: Dist = toml::from_str("mean-ms = 500").unwrap();
        assert_eq!(d, Dist::erlang(500, 1));
        assert!(toml::from_str::<Dist>("mean-ms = 5\nspread = 1").is_err());
        // Written back as it was read, and the sampler comes back with it.
        let d: Dist = toml::from_str("mean-ms = 4000\nshape = 3").unwrap();
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"mean-ms":4000,"shape":3}"#
        );
        let (mut a, mut b) = (SimRng::new(9), SimRng::new(9));
        assert_eq!(
            d.sample_ms(&mut a),
            Dist::erlang(4_000, 3).sample_ms(&mut b)
        );
    }
}
