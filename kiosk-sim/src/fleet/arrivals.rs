//! The site's calendar (opening hours, rush hour) and the arrival process.
//!
//! Arrivals are a non-homogeneous Poisson process whose rate is piecewise
//! constant: the base rate, and the base rate × factor in the rush hour. It
//! is sampled exactly: draw an exponential gap at the current segment's rate;
//! if it crosses the segment's end, restart at the boundary (the process is
//! memoryless). Fault processes run on the same calendar in opening time.

use super::config::{SiteConfig, DAY_MS};
use super::dist::exp_ms;
use crate::rng::SimRng;

/// Opening hours, rush hour and the number of days, in run time
/// (milliseconds since day 0, midnight).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Calendar {
    open_ms: u64,
    close_ms: u64,
    rush_start_ms: u64,
    rush_end_ms: u64,
    days: u32,
}

impl Calendar {
    pub(crate) fn new(config: &SiteConfig, days: u32) -> Calendar {
        let open_ms = config.open.ms;
        let close_ms = config.close.ms;
        // The rush hour only counts inside opening hours.
        let rush_start_ms = config.rush.start.ms.clamp(open_ms, close_ms);
        let rush_end_ms = config.rush.end.ms.clamp(rush_start_ms, close_ms);
        Calendar {
            open_ms,
            close_ms,
            rush_start_ms,
            rush_end_ms,
            days,
        }
    }

    pub(crate) fn days(&self) -> u32 {
        self.days
    }

    /// When day `day` opens.
    pub(crate) fn open_at(&self, day: u32) -> u64 {
        u64::from(day) * DAY_MS + self.open_ms
    }

    /// When day `day` closes.
    pub(crate) fn close_at(&self, day: u32) -> u64 {
        u64::from(day) * DAY_MS + self.close_ms
    }

    /// Opening hours per day.
    pub(crate) fn open_hours_per_day(&self) -> f64 {
        (self.close_ms - self.open_ms) as f64 / 3_600_000.0
    }

    /// Whether `t` is in the rush hour.
    pub(crate) fn in_rush(&self, t: u64) -> bool {
        let tod = t % DAY_MS;
        (self.rush_start_ms..self.rush_end_ms).contains(&tod)
    }

    /// Whether the site is open at `t` (and `t` is within the run's days).
    #[cfg(test)]
    pub(crate) fn is_open(&self, t: u64) -> bool {
        t / DAY_MS < u64::from(self.days) && (self.open_ms..self.close_ms).contains(&(t % DAY_MS))
    }

    /// The end of the constant-rate segment that contains `t` (`t` open).
    fn segment_end(&self, t: u64) -> u64 {
        let day = t - t % DAY_MS;
        let tod = t % DAY_MS;
        let end = if tod < self.rush_start_ms {
            self.rush_start_ms
        } else if tod < self.rush_end_ms {
            self.rush_end_ms
        } else {
            self.close_ms
        };
        day + end
    }

    /// `t` moved forward by `open_ms` of opening time, skipping closed
    /// hours; `None` past the last day's close.
    pub(crate) fn advance_open(&self, mut t: u64, mut open_ms: u64) -> Option<u64> {
        loop {
            let day = t / DAY_MS;
            if day >= u64::from(self.days) {
                return None;
            }
            let tod = t % DAY_MS;
            if tod < self.open_ms {
                t = day * DAY_MS + self.open_ms;
                continue;
            }
            if tod >= self.close_ms {
                t = (day + 1) * DAY_MS + self.open_ms;
                continue;
            }
            let left = self.close_ms - tod;
            if open_ms < left {
                return Some(t + open_ms);
            }
            open_ms -= left;
            t = (day + 1) * DAY_MS + self.open_ms;
        }
    }
}

/// The arrival process of one run.
#[derive(Debug, Clone)]
pub(crate) struct Arrivals {
    rng: SimRng,
    base_mean_gap_ms: f64,
    rush_factor: f64,
}

impl Arrivals {
    pub(crate) fn new(config: &SiteConfig, rng: SimRng) -> Arrivals {
        let base_mean_gap_ms = if config.arrivals_per_hour > 0.0 {
            3_600_000.0 / config.arrivals_per_hour
        } else {
            f64::INFINITY
        };
        Arrivals {
            rng,
            base_mean_gap_ms,
            rush_factor: config.rush.factor,
        }
    }

    /// The stream customers draw their own seeds and choices from, so both
    /// runs of a comparison see the very same customers.
    pub(crate) fn rng(&mut self) -> &mut SimRng {
        &mut self.rng
    }

    /// The next arrival strictly after `t` on the same day, `None` after closing.
    pub(crate) fn next_after(&mut self, cal: &Calendar, mut t: u64) -> Option<u64> {
        let close = t - t % DAY_MS + cal.close_ms;
        while t < close {
            let seg_end = cal.segment_end(t);
            let factor = if cal.in_rush(t) {
                self.rush_factor
            } else {
                1.0
            };
            if factor > 0.0 && self.base_mean_gap_ms.is_finite() {
                let gap = exp_ms(&mut self.rng, self.base_mean_gap_ms / factor);
                let at = t as f64 + gap.max(1.0);
                if at < seg_end as f64 {
                    return Some(at as u64);
                }
            }
            t = seg_end;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_follow_the_rates_and_stay_in_opening_hours() {
        let config = SiteConfig::default();
        let cal = Calendar::new(&config, 1);
        let mut arrivals = Arrivals::new(&config, SimRng::new(5));
        let (mut rush, mut other) = (0u32, 0u32);
        for _ in 0..200 {
            let mut t = cal.open_at(0);
            while let Some(next) = arrivals.next_after(&cal, t) {
                assert!(cal.is_open(next) && next > t);
                if cal.in_rush(next) {
                    rush += 1;
                } else {
                    other += 1;
                }
                t = next;
            }
        }
        // 2 h at 180/h and 7 h at 60/h: 360 and 420 a day.
        let (rush, other) = (f64::from(rush) / 200.0, f64::from(other) / 200.0);
        assert!((340.0..380.0).contains(&rush), "{rush}");
        assert!((400.0..440.0).contains(&other), "{other}");
    }

    #[test]
    fn open_time_skips_nights_and_ends_with_the_last_day() {
        let cal = Calendar::new(&SiteConfig::default(), 2);
        let open = cal.open_at(0);
        assert_eq!(cal.advance_open(open, 1_000), Some(open + 1_000));
        // 9 h open a day: 10 h of opening time ends 1 h into day 1.
        assert_eq!(
            cal.advance_open(open, 36_000_000),
            Some(cal.open_at(1) + 3_600_000)
        );
        assert_eq!(cal.advance_open(0, 0), Some(open));
        assert_eq!(cal.advance_open(open, 20 * 3_600_000), None);
    }
}
