//! Who told the kiosk what: commands with their people and security events
//! are journaled in the hash chain, read back, and an edit shows on open.

use rusqlite::Connection;

use super::*;
use crate::journal::{StaffEvent, StaffEventKind};

#[test]
fn commands_and_security_events_are_journaled_with_who_and_read_back() {
    let (dir, path) = temp_path();
    let mut j = Journal::open(&path).unwrap();
    let both = ["张伟".to_string(), "李娜".to_string()];
    j.record_command(Millis(10), &both, "begin-clearing", true, "opened")
        .unwrap();
    j.record_security_event(
        Millis(20),
        "wrong password for 王芳 from 10.0.0.7",
        Some("王芳"),
    )
    .unwrap();
    j.record_command(
        Millis(30),
        &[],
        "self-test",
        false,
        "failed: printer: paper-out",
    )
    .unwrap();
    let head = j.chain_head().unwrap();
    j.close().unwrap();

    let j = Journal::open(&path).unwrap();
    assert_eq!(
        j.chain_head().unwrap(),
        head,
        "three chained rows survive a reopen"
    );
    let rows: Vec<StaffEventKind> = j
        .staff_events()
        .unwrap()
        .into_iter()
        .map(|e: StaffEvent| e.kind)
        .collect();
    assert_eq!(
        rows,
        [
            StaffEventKind::Command {
                by: both.to_vec(),
                command: "begin-clearing".into(),
                ok: true,
                result: "opened".into(),
            },
            StaffEventKind::Security {
                reason: "wrong password for 王芳 from 10.0.0.7".into(),
                claimed: Some("王芳".into()),
            },
            StaffEventKind::Command {
                by: vec![],
                command: "self-test".into(),
                ok: false,
                result: "failed: printer: paper-out".into(),
            },
        ]
    );
    drop(j);

    // Rewriting who opened the clearing breaks the chain at that row.
    let c = Connection::open(&path).unwrap();
    c.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER,
        false,
    )
    .unwrap();
    let row: i64 = c
        .query_row(
            "SELECT id FROM events WHERE detail LIKE '%begin-clearing%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    c.execute(
        "UPDATE events SET detail = replace(detail, '李娜', '赵强') WHERE id = ?1",
        [row],
    )
    .unwrap();
    drop(c);
    let err = Journal::open(&path).expect_err("an edited staff row must be refused");
    assert_eq!(err.kind(), JournalErrorKind::ChainBroken, "{err}");
    assert_eq!(err.first_bad_row(), Some(row), "{err}");
    drop(dir);
}
