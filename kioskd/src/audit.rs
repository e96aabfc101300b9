//! The operator audit log: who did what through the API, and every refusal.
//!
//! One JSON object per line in `<state-dir>/audit.jsonl`, each line synced
//! to disk before the request is answered. The kiosk's journal records
//! every command with who gave it and every refusal as a security event
//! (in its hash chain, between customers); this log also has what the
//! journal does not: every request line, logins and logouts, proposals
//! waiting for a second person, and from which address.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// What an audit line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditKind {
    /// A successful login.
    Login,
    /// A login with a wrong name or password.
    LoginRefused,
    /// A request without valid credentials (401).
    Unauthenticated,
    /// A request by someone whose role does not allow it (403).
    Forbidden,
    /// A command queued to the kiosk.
    Command,
    /// The first person's step of a dual-control clearing.
    ClearingProposed,
    /// The second person confirmed a clearing step.
    ClearingConfirmed,
    /// A logout.
    Logout,
}

impl AuditKind {
    /// Whether the line records a security event (a refusal).
    pub fn is_security(self) -> bool {
        matches!(
            self,
            AuditKind::LoginRefused | AuditKind::Unauthenticated | AuditKind::Forbidden
        )
    }
}

/// One line of the log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditLine<'a> {
    /// Wall time, ms since the Unix epoch.
    pub at_ms: u64,
    /// What it is about.
    pub kind: AuditKind,
    /// Who (the authenticated name, or the name tried), if known.
    pub who: Option<&'a str>,
    /// Where the request came from.
    pub from: Option<SocketAddr>,
    /// The request (`POST /v1/commands`).
    pub request: &'a str,
    /// What happened, in words.
    pub detail: &'a str,
}

/// The log file, shared by every request.
#[derive(Clone)]
pub struct AuditLog {
    file: Arc<Mutex<File>>,
    path: PathBuf,
}

impl AuditLog {
    /// Opens (creating) the log at `path` for appending.
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AuditLog {
            file: Arc::new(Mutex::new(file)),
            path: path.to_path_buf(),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `line` and syncs it. A failure is logged and returned: the
    /// caller refuses the request rather than act unrecorded.
    pub fn record(&self, line: &AuditLine<'_>) -> std::io::Result<()> {
        let mut text = serde_json::to_string(line).map_err(std::io::Error::other)?;
        text.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let written = file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_data());
        if let Err(e) = &written {
            tracing::error!(error = %e, path = %self.path.display(), "audit log write failed");
        }
        if line.kind.is_security() {
            tracing::warn!(kind = ?line.kind, who = ?line.who, from = ?line.from,
                request = line.request, detail = line.detail, "security event");
        } else {
            tracing::info!(kind = ?line.kind, who = ?line.who, request = line.request,
                detail = line.detail, "operator action");
        }
        written
    }
}

/// Wall time now, ms since the Unix epoch (only written into lines).
pub fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_appended_as_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        for kind in [AuditKind::Login, AuditKind::Unauthenticated] {
            log.record(&AuditLine {
                at_ms: 1,
                kind,
                who: Some("li"),
                from: None,
                request: "POST /v1/login",
                detail: "x",
            })
            .unwrap();
        }
        drop(log);
        let log = AuditLog::open(&path).unwrap();
        log.record(&AuditLine {
            at_ms: 2,
            kind: AuditKind::Forbidden,
            who: None,
            from: None,
            request: "GET /v1/status",
            detail: "y",
        })
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let kinds: Vec<String> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"].to_string())
            .collect();
        assert_eq!(kinds, ["\"login\"", "\"unauthenticated\"", "\"forbidden\""]);
    }
}
