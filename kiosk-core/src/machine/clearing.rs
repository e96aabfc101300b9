//! The rules of a dual-control clearing (清箱), decided before anything is
//! touched: who may open one, which staff settlements of in-doubt notes may
//! be applied at its end, and whether a count given by denomination
//! agrees with the total counted.
//!
//! Pure: the runner asks, and performs only what passes. A refusal changes
//! nothing — the clearing stays as it was and no note is settled — so a
//! mistyped note id cannot half-apply a list.

use kiosk_hal::{Money, NoteFate};

use crate::commands::StaffSettlement;
use crate::journal::{total_of, NoteCount, NoteId};

/// Why a clearing step was refused, in words for the two people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClearingRefusal {
    /// The same person named twice.
    SamePerson,
    /// Someone not in the kiosk's authorised list.
    NotAuthorised(String),
    /// A settlement names a note that is not in doubt (settled already, or unknown).
    NotInDoubt(NoteId),
    /// A settlement names a note twice.
    NamedTwice(NoteId),
    /// A settlement gives no fate (`unknown` settles nothing).
    NoFate(NoteId),
    /// The count by denomination adds up to another total than the one
    /// counted (`None`: more than can be added up).
    CountsDisagree {
        /// What the notes by denomination add up to.
        by_denomination: Option<Money>,
        /// The total counted.
        counted: Money,
    },
    /// A denomination in another currency than the count's, or not positive.
    BadDenomination(Money),
    /// A denomination named twice in the count.
    DenominationTwice(Money),
}

impl std::fmt::Display for ClearingRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClearingRefusal::SamePerson => {
                f.write_str("refused: a clearing needs two different people")
            }
            ClearingRefusal::NotAuthorised(name) => {
                write!(f, "refused: {name} is not an authorised operator")
            }
            ClearingRefusal::NotInDoubt(n) => write!(f, "refused: note {} is not in doubt", n.0),
            ClearingRefusal::NamedTwice(n) => write!(f, "refused: note {} is named twice", n.0),
            ClearingRefusal::NoFate(n) => write!(
                f,
                "refused: note {} needs a fate (in the box or returned)",
                n.0
            ),
            ClearingRefusal::CountsDisagree {
                by_denomination,
                counted,
            } => write!(
                f,
                "refused: the notes counted by denomination add up to {}, not the {counted} \
                 counted; count again",
                by_denomination.map_or("more than can be added up".into(), |m| m.to_string())
            ),
            ClearingRefusal::BadDenomination(v) => write!(
                f,
                "refused: {v} is not a denomination of the count's currency"
            ),
            ClearingRefusal::DenominationTwice(v) => {
                write!(f, "refused: {v} notes are counted twice")
            }
        }
    }
}

/// Whether `operators` may open a clearing: two different people, both
/// authorised.
pub fn check_operators(
    operators: &[String; 2],
    authorised: &[String],
) -> Result<(), ClearingRefusal> {
    if operators[0].trim().is_empty() || operators[0] == operators[1] {
        return Err(ClearingRefusal::SamePerson);
    }
    match operators.iter().find(|o| !authorised.contains(o)) {
        Some(stranger) => Err(ClearingRefusal::NotAuthorised(stranger.clone())),
        None => Ok(()),
    }
}

/// Whether every settlement in `settle` may be applied: each names a note
/// now in doubt, once, with a fate.
pub fn check_settlements(
    settle: &[StaffSettlement],
    in_doubt: &[NoteId],
) -> Result<(), ClearingRefusal> {
    for (i, s) in settle.iter().enumerate() {
        if !in_doubt.contains(&s.note) {
            return Err(ClearingRefusal::NotInDoubt(s.note));
        }
        if settle[..i].iter().any(|t| t.note == s.note) {
            return Err(ClearingRefusal::NamedTwice(s.note));
        }
        if s.fate == NoteFate::Unknown {
            return Err(ClearingRefusal::NoFate(s.note));
        }
    }
    Ok(())
}

/// Whether a count given by denomination agrees with the total `counted`:
/// each denomination positive, in the count's currency, named once, and
/// the notes adding up to exactly `counted`.
pub fn check_counted_notes(counted: Money, notes: &[NoteCount]) -> Result<(), ClearingRefusal> {
    for (i, n) in notes.iter().enumerate() {
        if n.value.currency != counted.currency || n.value.minor <= 0 {
            return Err(ClearingRefusal::BadDenomination(n.value));
        }
        if notes[..i].iter().any(|m| m.value == n.value) {
            return Err(ClearingRefusal::DenominationTwice(n.value));
        }
    }
    match total_of(notes, counted.currency) {
        Some(total) if total == counted => Ok(()),
        by_denomination => Err(ClearingRefusal::CountsDisagree {
            by_denomination,
            counted,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people(a: &str, b: &str) -> [String; 2] {
        [a.into(), b.into()]
    }

    #[test]
    fn two_different_authorised_people_open_a_clearing() {
        let ok = ["王芳".to_string(), "李强".to_string()];
        assert_eq!(check_operators(&people("王芳", "李强"), &ok), Ok(()));
        assert_eq!(
            check_operators(&people("王芳", "王芳"), &ok),
            Err(ClearingRefusal::SamePerson)
        );
        assert_eq!(
            check_operators(&people("", ""), &ok),
            Err(ClearingRefusal::SamePerson)
        );
        assert_eq!(
            check_operators(&people("王芳", "赵六"), &ok),
            Err(ClearingRefusal::NotAuthorised("赵六".into()))
        );
    }

    #[test]
    fn a_count_by_denomination_must_add_up_to_the_total_counted() {
        let cny = |minor| Money::new(minor, kiosk_hal::Currency::CNY);
        let n = |minor, count| NoteCount {
            value: cny(minor),
            count,
        };
        let notes = [n(10000, 3), n(5000, 1), n(2000, 0)];
        assert_eq!(check_counted_notes(cny(35000), &notes), Ok(()));
        assert_eq!(check_counted_notes(cny(0), &[]), Ok(()));
        let short = check_counted_notes(cny(45000), &notes).unwrap_err();
        assert_eq!(
            short,
            ClearingRefusal::CountsDisagree {
                by_denomination: Some(cny(35000)),
                counted: cny(45000)
            }
        );
        assert_eq!(
            short.to_string(),
            "refused: the notes counted by denomination add up to CNY 350.00, not the \
             CNY 450.00 counted; count again"
        );
        assert_eq!(
            check_counted_notes(cny(20000), &[n(10000, 1), n(10000, 1)]),
            Err(ClearingRefusal::DenominationTwice(cny(10000)))
        );
        let euro = Money::new(500, kiosk_hal::Currency::EUR);
        assert_eq!(
            check_counted_notes(
                cny(500),
                &[NoteCount {
                    value: euro,
                    count: 1
                }]
            ),
            Err(ClearingRefusal::BadDenomination(euro))
        );
        assert_eq!(
            check_counted_notes(cny(0), &[n(0, 3)]),
            Err(ClearingRefusal::BadDenomination(cny(0)))
        );
        assert_eq!(
            check_counted_notes(cny(1), &[n(i64::MAX, 2)]),
            Err(ClearingRefusal::CountsDisagree {
                by_denomination: None,
                counted: cny(1)
            })
        );
    }

    #[test]
    fn each_settlement_names_one_note_in_doubt_once_with_a_fate() {
        let doubt = [NoteId(1), NoteId(2)];
        let s = |n, fate| StaffSettlement {
            note: NoteId(n),
            fate,
        };
        assert_eq!(
            check_settlements(
                &[s(1, NoteFate::InCashBox), s(2, NoteFate::Returned)],
                &doubt
            ),
            Ok(())
        );
        assert_eq!(
            check_settlements(&[s(3, NoteFate::InCashBox)], &doubt),
            Err(ClearingRefusal::NotInDoubt(NoteId(3)))
        );
        assert_eq!(
            check_settlements(
                &[s(1, NoteFate::InCashBox), s(1, NoteFate::Returned)],
                &doubt
            ),
            Err(ClearingRefusal::NamedTwice(NoteId(1)))
        );
        assert_eq!(
            check_settlements(&[s(2, NoteFate::Unknown)], &doubt),
            Err(ClearingRefusal::NoFate(NoteId(2)))
        );
    }
}
