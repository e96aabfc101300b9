//! Fault scheduling shared by every virtual device, and fault-injecting
//! wrappers around real or virtual devices.
//!
//! A fault is planned as a list of [`FaultRule`]s: *when* ([`Trigger`]) and
//! *what* (a device-specific fault enum). A [`FaultPlan`] answers "does a
//! fault hit this operation now?" deterministically, drawing any randomness
//! from the device's own [`SimRng`].
//!
//! The wrappers follow smoltcp's fault injector: a [`FaultyLink`] or
//! [`FaultyReader`] implements the same HAL trait as the device it wraps and
//! decides before or after delegating whether to fail, delay or garble.

mod link;
mod log;
mod reader;
mod sabotage;

use core::fmt;

use kiosk_core::Millis;
use serde::{Deserialize, Serialize};

use crate::rng::SimRng;

pub use link::{FaultyLink, LinkFault, LinkOp};
pub(crate) use log::LogSink;
pub use log::{FaultLog, InjectedFault};
pub use reader::{FaultyReader, ReaderFault};
pub use sabotage::{Sabotage, SabotageMode, Sabotaged};

/// When a fault hits.
///
/// Serialised internally tagged by `when`, fields in kebab-case:
///
/// ```toml
/// trigger = { when = "at", at-ms = 60000 }
/// trigger = { when = "between", from-ms = 60000, until-ms = 120000 }
/// trigger = { when = "between", from-ms = 60000 }   # no end
/// trigger = { when = "nth-call", n = 3 }
/// trigger = { when = "probability", p = 0.05 }
/// ```
///
/// How a device reads each trigger is documented on its fault enum; the
/// general meaning, as implemented by [`FaultPlan::active`], is below.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "when",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    deny_unknown_fields
)]
pub enum Trigger {
    /// Once, at the first operation at or after `at_ms` (for timed device
    /// faults: exactly at `at_ms`).
    At {
        /// Virtual milliseconds since the drill started.
        at_ms: u64,
    },
    /// Every operation from `from_ms` (inclusive) until `until_ms`
    /// (exclusive; `None` = for ever). For timed device faults: a window.
    Between {
        /// Window start, virtual ms.
        from_ms: u64,
        /// Window end (exclusive), virtual ms; absent for no end.
        #[serde(default)]
        until_ms: Option<u64>,
    },
    /// The `n`-th call (1-based) of the operation the fault applies to.
    NthCall {
        /// Which call, counting from 1.
        n: u64,
    },
    /// Each operation independently with probability `p`, drawn from the
    /// device's seeded generator.
    Probability {
        /// Probability in `0.0..=1.0`.
        p: f64,
    },
}

impl Trigger {
    /// True for triggers defined by the clock (`At`, `Between`), false for
    /// those defined by calls (`NthCall`, `Probability`).
    pub fn is_timed(&self) -> bool {
        matches!(self, Trigger::At { .. } | Trigger::Between { .. })
    }

    /// The time this trigger starts (`At`'s instant, `Between`'s start), if timed.
    pub fn start(&self) -> Option<Millis> {
        match self {
            Trigger::At { at_ms } => Some(Millis(*at_ms)),
            Trigger::Between { from_ms, .. } => Some(Millis(*from_ms)),
            _ => None,
        }
    }

    /// The exclusive end of a `Between` window, if it has one.
    pub fn end(&self) -> Option<Millis> {
        match self {
            Trigger::Between { until_ms, .. } => until_ms.map(Millis),
            _ => None,
        }
    }

    /// Whether `now` lies in `[start, end)` of a timed trigger (`At` has no end).
    pub fn covers(&self, now: Millis) -> bool {
        match self.start() {
            Some(start) => now >= start && self.end().is_none_or(|end| now < end),
            None => false,
        }
    }

    /// Checks the trigger is well formed: `n >= 1`, `p` in `0..=1`, a
    /// window that ends after it starts.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            Trigger::Between {
                from_ms,
                until_ms: Some(until),
            } if until <= from_ms => Err(ConfigError::new(format!(
                "between: until-ms {until} is not after from-ms {from_ms}"
            ))),
            Trigger::NthCall { n: 0 } => Err(ConfigError::new("nth-call: n counts from 1")),
            Trigger::Probability { p } if !(0.0..=1.0).contains(p) => Err(ConfigError::new(
                format!("probability: p = {p} is not in 0..=1"),
            )),
            _ => Ok(()),
        }
    }
}

/// One planned fault: when, and what.
///
/// ```toml
/// [[acceptor.faults]]
/// trigger = { when = "nth-call", n = 2 }
/// fault = { type = "jam-in-stacker", fate = "in-cash-box", clear-after-ms = 30000 }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FaultRule<F> {
    /// When it hits.
    pub trigger: Trigger,
    /// What happens.
    pub fault: F,
}

impl<F> FaultRule<F> {
    /// A rule from its parts.
    pub fn new(trigger: Trigger, fault: F) -> FaultRule<F> {
        FaultRule { trigger, fault }
    }
}

/// A configuration that cannot be staged (bad trigger, trigger a fault does not support).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> ConfigError {
        ConfigError {
            message: message.into(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fault configuration: {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

#[derive(Debug, Clone)]
struct PlannedRule<F> {
    rule: FaultRule<F>,
    spent: bool,
}

/// The rules of one device, consulted as operations happen.
///
/// # Semantics of [`FaultPlan::active`]
///
/// Rules are tried **in order** and the first that fires wins; later rules
/// are not looked at (so they draw no random numbers and are not used up).
/// For an operation at `now` that is the `call_index`-th (1-based) of its kind:
///
/// - `At { at_ms }` fires if `now >= at_ms`, then is spent (fires once);
/// - `Between { from_ms, until_ms }` fires if `from_ms <= now < until_ms`;
/// - `NthCall { n }` fires if `call_index == n`;
/// - `Probability { p }` draws one number and fires with probability `p`.
///
/// Everything is a function of the rules, the seed, and the sequence of
/// consultations, so the same drill gives the same faults.
#[derive(Debug, Clone)]
pub struct FaultPlan<F> {
    rules: Vec<PlannedRule<F>>,
    rng: SimRng,
}

impl<F> FaultPlan<F> {
    /// A plan over `rules`, drawing probabilities from `rng`.
    ///
    /// Fails if a trigger is malformed (`n = 0`, `p` outside `0..=1`, an
    /// empty window).
    pub fn new(rules: Vec<FaultRule<F>>, rng: SimRng) -> Result<FaultPlan<F>, ConfigError> {
        for rule in &rules {
            rule.trigger.validate()?;
        }
        Ok(FaultPlan {
            rules: rules
                .into_iter()
                .map(|rule| PlannedRule { rule, spent: false })
                .collect(),
            rng,
        })
    }

    /// A plan with no faults.
    pub fn none() -> FaultPlan<F> {
        FaultPlan {
            rules: Vec::new(),
            rng: SimRng::new(0),
        }
    }

    /// True if the plan has no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The fault hitting an operation at `now` that is call number
    /// `call_index` (1-based) of its kind, if any. See the type's docs.
    pub fn active(&mut self, now: Millis, call_index: u64) -> Option<&F> {
        self.active_by(now, |_| Some(call_index))
    }

    /// Like [`FaultPlan::active`], for plans whose rules apply to different
    /// operations: `index_of` returns the call index that counts for a rule
    /// (its operation's count), or `None` to skip a rule that does not apply
    /// to this operation. Skipped rules draw nothing and are not spent.
    pub fn active_by(
        &mut self,
        now: Millis,
        mut index_of: impl FnMut(&FaultRule<F>) -> Option<u64>,
    ) -> Option<&F> {
        let mut hit = None;
        for (i, planned) in self.rules.iter_mut().enumerate() {
            if planned.spent {
                continue;
            }
            let Some(call_index) = index_of(&planned.rule) else {
                continue;
            };
            let fires = match planned.rule.trigger {
                Trigger::At { at_ms } => now.0 >= at_ms,
                Trigger::Between { .. } => planned.rule.trigger.covers(now),
                Trigger::NthCall { n } => call_index == n,
                Trigger::Probability { p } => self.rng.chance(p),
            };
            if fires {
                if matches!(planned.rule.trigger, Trigger::At { .. }) {
                    planned.spent = true;
                }
                hit = Some(i);
                break;
            }
        }
        hit.map(|i| &self.rules[i].rule.fault)
    }

    /// The earliest start of a timed rule strictly after `now` among the
    /// unspent rules `wanted` selects: when a waiting operation should look
    /// at the plan again.
    pub fn next_start_after(
        &self,
        now: Millis,
        mut wanted: impl FnMut(&FaultRule<F>) -> bool,
    ) -> Option<Millis> {
        self.rules
            .iter()
            .filter(|p| !p.spent && wanted(&p.rule))
            .filter_map(|p| p.rule.trigger.start())
            .filter(|start| *start > now)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(
        tag = "type",
        rename_all = "kebab-case",
        rename_all_fields = "kebab-case",
        deny_unknown_fields
    )]
    enum Demo {
        Boom,
        Slow { delay_ms: u64 },
    }

    fn plan(rules: Vec<FaultRule<Demo>>, seed: u64) -> FaultPlan<Demo> {
        FaultPlan::new(rules, SimRng::new(seed)).unwrap()
    }

    #[test]
    fn triggers_fire_as_documented() {
        let mut p = plan(
            vec![
                FaultRule::new(Trigger::NthCall { n: 2 }, Demo::Boom),
                FaultRule::new(Trigger::At { at_ms: 100 }, Demo::Slow { delay_ms: 1 }),
                FaultRule::new(
                    Trigger::Between {
                        from_ms: 500,
                        until_ms: Some(600),
                    },
                    Demo::Slow { delay_ms: 2 },
                ),
            ],
            1,
        );
        assert_eq!(p.active(Millis(0), 1), None);
        assert_eq!(p.active(Millis(0), 2), Some(&Demo::Boom));
        assert_eq!(p.active(Millis(99), 3), None);
        assert_eq!(p.active(Millis(150), 4), Some(&Demo::Slow { delay_ms: 1 }));
        assert_eq!(p.active(Millis(160), 5), None, "at fires once");
        assert_eq!(p.active(Millis(500), 6), Some(&Demo::Slow { delay_ms: 2 }));
        assert_eq!(p.active(Millis(599), 7), Some(&Demo::Slow { delay_ms: 2 }));
        assert_eq!(p.active(Millis(600), 8), None);
        assert_eq!(p.next_start_after(Millis(0), |_| true), Some(Millis(500)));
    }

    #[test]
    fn probability_is_seeded() {
        let rules = vec![FaultRule::new(Trigger::Probability { p: 0.3 }, Demo::Boom)];
        let run = |seed| {
            let mut p = plan(rules.clone(), seed);
            (1..=64)
                .map(|i| p.active(Millis(i), i).is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }

    #[test]
    fn malformed_triggers_are_refused() {
        let bad = |t| FaultPlan::new(vec![FaultRule::new(t, Demo::Boom)], SimRng::new(0)).is_err();
        assert!(bad(Trigger::NthCall { n: 0 }));
        assert!(bad(Trigger::Probability { p: 1.5 }));
        assert!(bad(Trigger::Between {
            from_ms: 5,
            until_ms: Some(5)
        }));
    }

    #[test]
    fn rules_read_from_toml_in_kebab_case() {
        #[derive(Deserialize)]
        struct Doc {
            faults: Vec<FaultRule<Demo>>,
        }
        let doc: Doc = toml::from_str(
            r#"
            [[faults]]
            trigger = { when = "between", from-ms = 10 }
            fault = { type = "slow", delay-ms = 5 }
            [[faults]]
            trigger = { when = "nth-call", n = 3 }
            fault = { type = "boom" }
            "#,
        )
        .unwrap();
        assert_eq!(
            doc.faults[0].trigger,
            Trigger::Between {
                from_ms: 10,
                until_ms: None
            }
        );
        assert_eq!(doc.faults[1].fault, Demo::Boom);
        let unknown = r#"
            [[faults]]
            trigger = { when = "nth-call", n = 3, m = 4 }
            fault = { type = "boom" }
        "#;
        assert!(toml::from_str::<Doc>(unknown).is_err());
        let unknown_fault_field = r#"
            [[faults]]
            trigger = { when = "nth-call", n = 3 }
            fault = { type = "slow", delay-ms = 1, extra = 2 }
        "#;
        assert!(toml::from_str::<Doc>(unknown_fault_field).is_err());
    }
}
