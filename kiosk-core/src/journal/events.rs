//! The append-only audit trail: one `events` row per journal change, written
//! in the same transaction as the change it describes.

use rusqlite::{params, Connection};

use super::fail::Fail;
use crate::ids::{Millis, SessionId};

/// One audit row.
pub(super) struct Event<'a> {
    /// When it happened (kiosk clock).
    pub at: Millis,
    /// What happened (`"note-stacked"`, `"payment-credited"`, …).
    pub kind: &'static str,
    /// The session it concerns.
    pub session: Option<&'a SessionId>,
    /// The note it concerns.
    pub note: Option<i64>,
    /// The payment it concerns.
    pub key: Option<&'a str>,
    /// Everything else, as JSON.
    pub detail: serde_json::Value,
}

impl<'a> Event<'a> {
    /// An event of `kind` at `at` with no subject yet.
    pub fn new(kind: &'static str, at: Millis) -> Event<'a> {
        Event {
            at,
            kind,
            session: None,
            note: None,
            key: None,
            detail: serde_json::Value::Object(Default::default()),
        }
    }

    /// Concerning `session`.
    pub fn session(mut self, session: &'a SessionId) -> Self {
        self.session = Some(session);
        self
    }

    /// Concerning note `id`.
    pub fn note(mut self, id: i64) -> Self {
        self.note = Some(id);
        self
    }

    /// Concerning the payment with `key`.
    pub fn key(mut self, key: &'a str) -> Self {
        self.key = Some(key);
        self
    }

    /// With `detail`.
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }

    /// Appends the row (inside the caller's transaction).
    pub fn append(self, conn: &Connection) -> Result<(), Fail> {
        conn.prepare_cached(
            "INSERT INTO events (at, kind, session, note, payment_key, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            self.at.0,
            self.kind,
            self.session.map(|s| s.0.as_str()),
            self.note,
            self.key,
            self.detail.to_string(),
        ])?;
        Ok(())
    }
}
