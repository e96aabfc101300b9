//! The journal's internal error: a kind and a message, turned into a
//! [`JournalError`] naming the file at the public boundary.

use std::path::Path;

use rusqlite::ErrorCode;

use super::{JournalError, JournalErrorKind};

/// A failure inside one journal operation, before the file path is attached.
#[derive(Debug)]
pub(super) struct Fail {
    kind: JournalErrorKind,
    message: String,
    /// The audit row a broken hash chain breaks at.
    row: Option<i64>,
}

impl Fail {
    /// A failure of `kind`.
    pub(super) fn new(kind: JournalErrorKind, message: impl Into<String>) -> Fail {
        Fail {
            kind,
            message: message.into(),
            row: None,
        }
    }

    /// The hash chain breaks at audit row `row`.
    pub(super) fn chain(row: i64, message: impl Into<String>) -> Fail {
        Fail {
            row: Some(row),
            ..Fail::new(JournalErrorKind::ChainBroken, message)
        }
    }

    /// The request does not fit the record's state.
    pub(super) fn illegal(message: impl Into<String>) -> Fail {
        Fail::new(JournalErrorKind::IllegalTransition, message)
    }

    /// No record with that id or key.
    pub(super) fn unknown(message: impl Into<String>) -> Fail {
        Fail::new(JournalErrorKind::UnknownRecord, message)
    }

    /// A stored value this build cannot read back.
    pub(super) fn corrupt(message: impl Into<String>) -> Fail {
        Fail::new(JournalErrorKind::Corrupt, message)
    }

    /// Whether this is `UnknownRecord`.
    pub(super) fn is_unknown(&self) -> bool {
        self.kind == JournalErrorKind::UnknownRecord
    }

    /// The public error, its message prefixed with the journal file's path.
    pub(super) fn at(self, path: &Path) -> JournalError {
        let mut e = JournalError::new(self.kind, format!("{}: {}", path.display(), self.message));
        e.row = self.row;
        e
    }
}

impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Fail {
        let kind = match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseCorrupt) => JournalErrorKind::Corrupt,
            Some(ErrorCode::NotADatabase) => JournalErrorKind::NotAJournal,
            // Only reachable through a caller's request that the checks in
            // front of the statement did not foresee; the transaction is
            // rolled back, so nothing was written.
            Some(ErrorCode::ConstraintViolation) => JournalErrorKind::IllegalTransition,
            _ => JournalErrorKind::Storage,
        };
        Fail::new(kind, format!("sqlite: {e}"))
    }
}

/// A count from SQLite as `u32`, saturating (counts never get near it).
pub(super) fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}
