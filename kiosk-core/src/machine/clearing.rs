//! The rules of a dual-control clearing (清箱), decided before anything is
//! touched: who may open one, and which staff settlements of in-doubt
//! notes may be applied at its end.
//!
//! Pure: the runner asks, and performs only what passes. A refusal changes
//! nothing — the clearing stays as it was and no note is settled — so a
//! mistyped note id cannot half-apply a list.

use kiosk_hal::NoteFate;

use crate::commands::StaffSettlement;
use crate::journal::NoteId;

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
