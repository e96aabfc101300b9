//! Who told the kiosk what: staff and remote commands with the people who
//! gave them, and security events (a command or login refused for want of
//! valid credentials). Both are audit rows in the hash chain, so the record
//! of who opened a clearing or tried to cannot be edited unseen.

use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::events::{Event, EventKind};
use super::fail::Fail;
use super::{Journal, JournalError};
use crate::ids::Millis;

/// One staff row of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffEvent {
    /// The audit row's id.
    pub row: i64,
    /// When (kiosk clock).
    pub at: Millis,
    /// What.
    pub kind: StaffEventKind,
}

/// What a staff row records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    rename_all = "kebab-case",
    tag = "type",
    rename_all_fields = "kebab-case"
)]
pub enum StaffEventKind {
    /// A command the kiosk performed (or refused on its merits, `ok` false).
    Command {
        /// The authenticated people who gave it (two for a clearing); empty
        /// for a command given on the kiosk itself with no login.
        by: Vec<String>,
        /// The command's name (`"begin-clearing"`).
        command: String,
        /// Whether it did what was asked.
        ok: bool,
        /// What came of it.
        result: String,
    },
    /// Something refused for want of valid credentials or rights.
    Security {
        /// Why it was refused.
        reason: String,
        /// Who the sender claimed to be, if anyone.
        claimed: Option<String>,
    },
}

impl Journal {
    /// Journals a command with the people who gave it and its result.
    pub fn record_command(
        &mut self,
        at: Millis,
        by: &[String],
        command: &str,
        ok: bool,
        result: &str,
    ) -> Result<(), JournalError> {
        let detail = json!({ "by": by, "command": command, "ok": ok, "result": result });
        self.write(|c| {
            Event::new(EventKind::StaffCommand, at)
                .detail(detail)
                .append(c)
        })
    }

    /// Journals a security event: a request refused for want of valid
    /// credentials or rights, with who the sender claimed to be.
    pub fn record_security_event(
        &mut self,
        at: Millis,
        reason: &str,
        claimed: Option<&str>,
    ) -> Result<(), JournalError> {
        let detail = json!({ "reason": reason, "claimed": claimed });
        self.write(|c| {
            Event::new(EventKind::SecurityEvent, at)
                .detail(detail)
                .append(c)
        })
    }

    /// Every staff row, oldest first.
    pub fn staff_events(&self) -> Result<Vec<StaffEvent>, JournalError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, at, kind, detail FROM events WHERE kind IN (?1, ?2) ORDER BY id",
            )?;
            let rows = stmt.query_map(
                params![
                    EventKind::StaffCommand.code(),
                    EventKind::SecurityEvent.code()
                ],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                },
            )?;
            let mut out = Vec::new();
            for row in rows {
                let (id, at, kind, detail) = row?;
                let detail: serde_json::Value =
                    serde_json::from_str(detail.as_deref().unwrap_or("null")).map_err(|e| {
                        Fail::corrupt(format!("audit row {id}: detail is not JSON: {e}"))
                    })?;
                let text = |k: &str| detail[k].as_str().unwrap_or_default().to_string();
                let kind = if kind == EventKind::StaffCommand.code() {
                    StaffEventKind::Command {
                        by: detail["by"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|v| v.as_str().map(String::from))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        command: text("command"),
                        ok: detail["ok"].as_bool().unwrap_or(false),
                        result: text("result"),
                    }
                } else {
                    StaffEventKind::Security {
                        reason: text("reason"),
                        claimed: detail["claimed"].as_str().map(String::from),
                    }
                };
                out.push(StaffEvent {
                    row: id,
                    at: Millis(u64::try_from(at).unwrap_or(0)),
                    kind,
                });
            }
            Ok(out)
        })
    }
}
