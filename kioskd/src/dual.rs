//! Dual control for clearings (清箱), sans-IO: the first person proposes a
//! step, a second, different person confirms it with their own login, and
//! only then does the step become a command to the kiosk.
//!
//! Rules, for beginning and for ending a clearing alike:
//! - both people are authenticated staff with the role `operator` or
//!   `supervisor`, and they are two different people;
//! - at least one of them is a `supervisor` (the site manager keeps the
//!   cash box key);
//! - a proposal that names its second person (`operators = [me, them]`)
//!   can be confirmed by that person only;
//! - a proposal not confirmed within the window lapses.
//!
//! Time is passed in; nothing here reads a clock.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kiosk_core::journal::NoteCount;
use kiosk_core::{StaffCommand, StaffSettlement};
use kiosk_hal::Money;
use serde::Serialize;

use crate::auth::{Role, Staff};

/// A clearing step waiting for its second person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "step")]
pub enum ClearingStep {
    /// Open the clearing: the kiosk stops taking cash.
    Begin,
    /// Close it with the count.
    End {
        /// The cash counted.
        counted: Money,
        /// The same count by denomination, if given (it adds up to
        /// `counted`): shown to the second person, who confirms it too.
        counted_notes: Option<Vec<NoteCount>>,
        /// Counterfeit notes found at counting.
        counterfeit_found: u32,
        /// In-doubt notes settled against the count.
        settle: Vec<StaffSettlement>,
    },
}

/// A proposal as listed to staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProposalView {
    /// What to confirm (`POST /v1/clearing/{id}/confirm`).
    pub id: u64,
    /// The step.
    pub step: ClearingStep,
    /// Who proposed it.
    pub proposed_by: String,
    /// Who must confirm it, if named.
    pub second: Option<String>,
    /// Seconds left to confirm it.
    pub expires_in_s: u64,
}

/// Why a proposal or a confirmation is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DualRefusal {
    /// The person's role may not take part in a clearing.
    RoleTooLow,
    /// The second person is the first one again.
    SamePerson,
    /// Neither of the two is a supervisor.
    NoSupervisor,
    /// The proposal named someone else as its second person.
    NotTheNamedSecond(String),
    /// The named second person is the proposer (`operators = [me, me]`), or
    /// the proposer is not one of the two named.
    BadNames,
    /// No such proposal (never made, confirmed already, or lapsed).
    Unknown,
}

impl DualRefusal {
    /// Whether the refusal is about who the person is (403) rather than
    /// about the request (404 / 400).
    pub fn is_forbidden(&self) -> bool {
        matches!(
            self,
            DualRefusal::RoleTooLow
                | DualRefusal::SamePerson
                | DualRefusal::NoSupervisor
                | DualRefusal::NotTheNamedSecond(_)
        )
    }

    /// Chinese first, English second.
    pub fn messages(&self) -> (String, String) {
        match self {
            DualRefusal::RoleTooLow => (
                "您的角色不能参与清箱".into(),
                "your role may not take part in a clearing".into(),
            ),
            DualRefusal::SamePerson => (
                "清箱需要两名不同的人员确认".into(),
                "a clearing needs two different people: the second must be someone else".into(),
            ),
            DualRefusal::NoSupervisor => (
                "清箱的两人中须有一名主管".into(),
                "one of the two people must be a supervisor".into(),
            ),
            DualRefusal::NotTheNamedSecond(name) => (
                format!("此步骤须由 {name} 确认"),
                format!("this step is to be confirmed by {name}"),
            ),
            DualRefusal::BadNames => (
                "两名人员须为您本人和另一人".into(),
                "the two operators must be you and someone else".into(),
            ),
            DualRefusal::Unknown => (
                "没有此待确认步骤（已确认或已过期）".into(),
                "no such step waiting (confirmed already, or lapsed)".into(),
            ),
        }
    }
}

struct Proposal {
    step: ClearingStep,
    first: Staff,
    second: Option<String>,
    expires: Instant,
}

/// The proposals waiting for their second person.
pub struct DualControl {
    window: Duration,
    next_id: u64,
    waiting: BTreeMap<u64, Proposal>,
}

fn may_clear(staff: &Staff) -> Result<(), DualRefusal> {
    if staff.role >= Role::CashHandler {
        Ok(())
    } else {
        Err(DualRefusal::RoleTooLow)
    }
}

impl DualControl {
    /// Proposals lapse after `window`.
    pub fn new(window: Duration) -> DualControl {
        DualControl {
            window,
            next_id: 1,
            waiting: BTreeMap::new(),
        }
    }

    /// `first` proposes `step`, to be confirmed by `second` if named.
    pub fn propose(
        &mut self,
        step: ClearingStep,
        first: &Staff,
        second: Option<String>,
        now: Instant,
    ) -> Result<u64, DualRefusal> {
        may_clear(first)?;
        if second.as_deref() == Some(first.name.as_str()) {
            return Err(DualRefusal::BadNames);
        }
        self.waiting.retain(|_, p| p.expires > now);
        let id = self.next_id;
        self.next_id += 1;
        self.waiting.insert(
            id,
            Proposal {
                step,
                first: first.clone(),
                second,
                expires: now + self.window,
            },
        );
        Ok(id)
    }

    /// The first person's `[me, them]` or `[them, me]` as the named second.
    pub fn second_of(first: &Staff, operators: &[String; 2]) -> Result<String, DualRefusal> {
        match operators {
            [a, b] if *a == first.name && *b != first.name => Ok(b.clone()),
            [a, b] if *b == first.name && *a != first.name => Ok(a.clone()),
            _ => Err(DualRefusal::BadNames),
        }
    }

    /// `second` confirms proposal `id`: the command for the kiosk. A
    /// refused confirmation leaves the proposal waiting.
    pub fn confirm(
        &mut self,
        id: u64,
        second: &Staff,
        now: Instant,
    ) -> Result<StaffCommand, DualRefusal> {
        self.waiting.retain(|_, p| p.expires > now);
        let p = self.waiting.get(&id).ok_or(DualRefusal::Unknown)?;
        may_clear(second)?;
        if p.first.name == second.name {
            return Err(DualRefusal::SamePerson);
        }
        if let Some(named) = &p.second {
            if *named != second.name {
                return Err(DualRefusal::NotTheNamedSecond(named.clone()));
            }
        }
        if p.first.role != Role::Supervisor && second.role != Role::Supervisor {
            return Err(DualRefusal::NoSupervisor);
        }
        let p = self.waiting.remove(&id).ok_or(DualRefusal::Unknown)?;
        let operators = [p.first.name, second.name.clone()];
        debug_assert_ne!(operators[0], operators[1], "dual control: two people");
        Ok(match p.step {
            ClearingStep::Begin => StaffCommand::BeginClearing { operators },
            ClearingStep::End {
                counted,
                counted_notes,
                counterfeit_found,
                settle,
            } => StaffCommand::EndClearing {
                counted,
                counted_notes,
                counterfeit_found,
                settle,
            },
        })
    }

    /// The proposals waiting at `now`.
    pub fn waiting(&self, now: Instant) -> Vec<ProposalView> {
        self.waiting
            .iter()
            .filter(|(_, p)| p.expires > now)
            .map(|(id, p)| ProposalView {
                id: *id,
                step: p.step.clone(),
                proposed_by: p.first.name.clone(),
                second: p.second.clone(),
                expires_in_s: p.expires.duration_since(now).as_secs(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(name: &str, role: Role) -> Staff {
        Staff {
            name: name.into(),
            role,
        }
    }

    #[test]
    fn two_different_people_one_a_supervisor_open_a_clearing() {
        let mut dual = DualControl::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let zhang = staff("zhang", Role::Supervisor);
        let operator = staff("zhao", Role::Operator);
        let id0 = dual.propose(ClearingStep::Begin, &zhang, None, t0).unwrap();
        assert_eq!(
            dual.confirm(id0, &operator, t0),
            Err(DualRefusal::RoleTooLow),
            "an operator who handles no cash is not the second person"
        );
        let li = staff("li", Role::CashHandler);
        let id = dual.propose(ClearingStep::Begin, &zhang, None, t0).unwrap();
        assert_eq!(dual.confirm(id, &zhang, t0), Err(DualRefusal::SamePerson));
        let wang = staff("wang", Role::Viewer);
        assert_eq!(dual.confirm(id, &wang, t0), Err(DualRefusal::RoleTooLow));
        assert_eq!(dual.waiting(t0).len(), 2, "refusals leave both waiting");
        assert_eq!(
            dual.confirm(id, &li, t0),
            Ok(StaffCommand::BeginClearing {
                operators: ["zhang".into(), "li".into()]
            })
        );
        assert_eq!(dual.confirm(id, &li, t0), Err(DualRefusal::Unknown), "once");
    }

    #[test]
    fn two_cash_handlers_without_a_supervisor_cannot_clear() {
        let mut dual = DualControl::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let li = staff("li", Role::CashHandler);
        let id = dual.propose(ClearingStep::Begin, &li, None, t0).unwrap();
        let zhao = staff("zhao", Role::CashHandler);
        assert_eq!(dual.confirm(id, &zhao, t0), Err(DualRefusal::NoSupervisor));
        let viewer = staff("wang", Role::Viewer);
        assert_eq!(
            dual.propose(ClearingStep::Begin, &viewer, None, t0),
            Err(DualRefusal::RoleTooLow)
        );
    }

    #[test]
    fn a_named_second_alone_confirms_and_proposals_lapse() {
        let mut dual = DualControl::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let zhang = staff("zhang", Role::Supervisor);
        let second =
            DualControl::second_of(&zhang, &["li".to_string(), "zhang".to_string()]).unwrap();
        assert_eq!(second, "li");
        assert_eq!(
            DualControl::second_of(&zhang, &["li".to_string(), "zhao".to_string()]),
            Err(DualRefusal::BadNames)
        );
        let id = dual
            .propose(ClearingStep::Begin, &zhang, Some(second), t0)
            .unwrap();
        let zhao = staff("zhao", Role::CashHandler);
        assert_eq!(
            dual.confirm(id, &zhao, t0),
            Err(DualRefusal::NotTheNamedSecond("li".into()))
        );
        let later = t0 + Duration::from_secs(61);
        assert!(dual.waiting(later).is_empty());
        let li = staff("li", Role::CashHandler);
        assert_eq!(dual.confirm(id, &li, later), Err(DualRefusal::Unknown));
    }
}
