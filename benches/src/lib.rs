//! Benchmarks live in `benches/`; this library holds what a benchmark and
//! its profiling example share.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// The fleet benchmark's runs (`benches/fleet.rs`), also run alone for a
/// profiler by `examples/fleet_profile.rs`: the same configurations and
/// seed, so both simulate the very same run.
pub mod fleet_runs {
    use kiosk_sim::fleet::SiteConfig;

    /// The seed of every fleet run.
    pub const SEED: u64 = 0x5EED_F1EE7;

    /// A site-week: the default 4-kiosk site, 9 hours a day for 7 days.
    pub fn site_week() -> SiteConfig {
        SiteConfig {
            days: 7,
            ..SiteConfig::default()
        }
    }

    /// A hall of 1 000 kiosks for a day, each kiosk as busy as at the
    /// default site (the arrival rate scaled by 1 000 / 4).
    pub fn big_hall() -> SiteConfig {
        let base = SiteConfig::default();
        SiteConfig {
            name: "hall-1000".into(),
            kiosks: 1_000,
            spares: 8,
            days: 1,
            arrivals_per_hour: base.arrivals_per_hour * 1_000.0 / f64::from(base.kiosks),
            ..base
        }
    }
}
