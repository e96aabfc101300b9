//! The operator API end to end: a real `kioskd --simulate` process on
//! loopback, a real HTTP client, a real SIGTERM at the end.

use crate::common;
use std::time::Duration;

use common::{client, get, login, post, status_until, write_config, Kioskd};
use kiosk_core::journal::{Journal, StaffEventKind};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_roles_dual_control_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), 50);
    let state = dir.path().join("state");
    let mut k = Kioskd::start(&config, &state);
    let c = client();

    // Wrong password and no credentials: 401, journaled as security events.
    let (code, body) = post(
        &c,
        &k.url("/v1/login"),
        None,
        json!({"name": "zhang", "password": "nope"}),
    )
    .await;
    assert_eq!(code, 401, "{body}");
    assert!(
        body["message_zh"].as_str().unwrap().contains("安全事件"),
        "{body}"
    );
    assert!(body["message_en"].as_str().is_some(), "{body}");
    let (code, _) = get(&c, &k.url("/v1/status"), None).await;
    assert_eq!(code, 401);
    let (code, _) = get(&c, &k.url("/v1/status"), Some("forged-token")).await;
    assert_eq!(code, 401);
    let (code, _) = post(&c, &k.url("/v1/commands"), None, json!({"type": "enable"})).await;
    assert_eq!(code, 401, "a command without credentials");

    let zhang = login(&c, &k, "zhang").await;
    let li = login(&c, &k, "li").await;
    let zhao = login(&c, &k, "zhao").await;
    let wang = login(&c, &k, "wang").await;

    // A viewer reads but cannot disable.
    let s = status_until(&c, &k, &wang, |s| {
        s["serving"] == true && s["offered_methods"] == json!(["cash"])
    })
    .await;
    assert_eq!(s["kiosk_id"], "T01");
    let disable = json!({"type": "disable", "reason": "维护"});
    let (code, body) = post(&c, &k.url("/v1/commands"), Some(&wang), disable.clone()).await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(body["role"], "viewer");
    // An operator can.
    let (code, body) = post(&c, &k.url("/v1/commands"), Some(&li), disable).await;
    assert_eq!((code, &body["ok"]), (200, &json!(true)), "{body}");
    status_until(&c, &k, &wang, |s| s["offered_methods"] == json!([])).await;
    let (code, body) = post(
        &c,
        &k.url("/v1/commands"),
        Some(&li),
        json!({"type": "enable"}),
    )
    .await;
    assert_eq!((code, &body["ok"]), (200, &json!(true)), "{body}");
    // Someone else's name on a damage report is refused.
    let damage = json!({"type": "report-damage", "reporter": "zhang", "description": "屏幕裂了"});
    let (code, _) = post(&c, &k.url("/v1/commands"), Some(&li), damage).await;
    assert_eq!(code, 400);

    // Clearing: proposed by one, confirmed by a different person.
    let begin = json!({"type": "begin-clearing", "operators": ["zhang", "li"]});
    let (code, body) = post(&c, &k.url("/v1/commands"), Some(&zhang), begin).await;
    assert_eq!(code, 202, "{body}");
    let id = body["proposal"].as_u64().unwrap();
    let confirm = k.url(&format!("/v1/clearing/{id}/confirm"));
    let (code, body) = post(&c, &confirm, Some(&zhang), json!({})).await;
    assert_eq!(code, 403, "the same person twice: {body}");
    let (code, _) = post(&c, &confirm, Some(&zhao), json!({})).await;
    assert_eq!(code, 403, "not the named second person");
    let (code, _) = post(&c, &confirm, Some(&wang), json!({})).await;
    assert_eq!(code, 403, "a viewer");
    let (code, body) = get(&c, &k.url("/v1/clearing"), Some(&wang)).await;
    assert_eq!(
        (code, body["waiting"].as_array().unwrap().len()),
        (200, 1),
        "{body}"
    );
    let (code, body) = post(&c, &confirm, Some(&li), json!({})).await;
    assert_eq!((code, &body["ok"]), (200, &json!(true)), "{body}");
    assert_eq!(body["command"], "begin-clearing");
    status_until(&c, &k, &wang, |s| s["clearing_open"] == true).await;
    let (code, _) = post(&c, &confirm, Some(&li), json!({})).await;
    assert_eq!(code, 404, "confirmed once only");

    // A count by denomination that does not add up to the total is refused
    // before anyone is asked to confirm it.
    let bad = json!({"type": "end-clearing", "counted": {"minor": 0, "currency": "CNY"},
        "counterfeit-found": 0,
        "counted-notes": [{"value": {"minor": 10000, "currency": "CNY"}, "count": 1}]});
    let (code, body) = post(&c, &k.url("/v1/commands"), Some(&li), bad).await;
    assert_eq!(code, 400, "{body}");
    assert!(
        body["message_en"]
            .as_str()
            .unwrap()
            .contains("add up to CNY 100.00, not the CNY 0.00 counted"),
        "{body}"
    );
    assert!(
        body["message_zh"].as_str().unwrap().contains("面额"),
        "{body}"
    );

    // Ending it needs two people as well; two cash handlers without a supervisor cannot.
    let end = json!({"type": "end-clearing", "counted": {"minor": 0, "currency": "CNY"}, "counterfeit-found": 0});
    let (code, body) = post(&c, &k.url("/v1/commands"), Some(&li), end.clone()).await;
    assert_eq!(code, 202, "{body}");
    let confirm = k.url(&format!("/v1/clearing/{}/confirm", body["proposal"]));
    let (code, _) = post(&c, &confirm, Some(&zhao), json!({})).await;
    assert_eq!(code, 403, "no supervisor among the two");
    let (code, body) = post(&c, &confirm, Some(&zhang), json!({})).await;
    assert_eq!((code, &body["ok"]), (200, &json!(true)), "{body}");
    status_until(&c, &k, &wang, |s| s["clearing_open"] == false).await;

    // The notes expected in the box by denomination, read from the journal:
    // none since the clearing just recorded.
    let (code, body) = get(&c, &k.url("/v1/cash-counts"), Some(&wang)).await;
    assert_eq!(code, 200, "{body}");
    let counts = &body["cash_counts"];
    assert_eq!(counts["currency"], "CNY", "{body}");
    assert_eq!(counts["since_clearing"], 1, "{body}");
    assert_eq!(counts["in_box"], json!([]), "{body}");

    // Metrics parse, and count the refusals.
    let text = c
        .get(k.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let samples = parse_metrics(&text);
    let unauth = samples["kioskd_api_refusals_total{reason=\"unauthenticated\"}"];
    assert_eq!(unauth, 4.0, "{text}");
    assert!(
        samples["kioskd_api_refusals_total{reason=\"forbidden\"}"] >= 5.0,
        "{text}"
    );
    // Every refusal, 401 or 403, is a security event the kiosk journals
    // and raises (between customers; none is being served here).
    let forbidden = samples["kioskd_api_refusals_total{reason=\"forbidden\"}"];
    let alarms_until = std::time::Instant::now() + Duration::from_secs(10);
    let mut samples = samples;
    while samples["kioskd_security_alarms_total"] < unauth + forbidden
        && std::time::Instant::now() < alarms_until
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let text = c
            .get(k.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        samples = parse_metrics(&text);
    }
    assert_eq!(
        samples["kioskd_security_alarms_total"],
        unauth + forbidden,
        "{text}"
    );
    assert_eq!(samples["kioskd_device_fault{device=\"acceptor\"}"], 0.0);
    assert!(samples.contains_key("kioskd_pending_payments"));
    // Every journal write is timed: the clearings and commands above wrote.
    assert!(
        samples["kioskd_journal_commit_seconds_count"] >= 4.0,
        "{text}"
    );
    assert!(samples.contains_key("kioskd_tickets_open"));

    // Logging out ends the token.
    let (code, _) = post(&c, &k.url("/v1/logout"), Some(&wang), json!({})).await;
    assert_eq!(code, 200);
    let (code, _) = get(&c, &k.url("/v1/status"), Some(&wang)).await;
    assert_eq!(code, 401);

    k.terminate();
    let exit = k.wait(Duration::from_secs(30));
    assert!(exit.success(), "{exit:?}\n{}", k.logs());

    // The journal names the two people of the clearing; the audit log has
    // every refusal as a security event.
    let journal = Journal::open(state.join("journal.db")).unwrap();
    let clearings = journal.clearings().unwrap();
    assert_eq!(clearings.len(), 1);
    assert_eq!(
        clearings[0].operators,
        ["zhang".to_string(), "li".to_string()]
    );
    // The journal (in its hash chain) has every command with who gave it,
    // and every refusal as a security event.
    let staff = journal.staff_events().unwrap();
    let commands: Vec<(String, Vec<String>)> = staff
        .iter()
        .filter_map(|e| match &e.kind {
            StaffEventKind::Command { command, by, .. } => Some((command.clone(), by.clone())),
            _ => None,
        })
        .collect();
    let pair = vec!["zhang".to_string(), "li".to_string()];
    assert!(
        commands.contains(&("begin-clearing".to_string(), pair.clone())),
        "{commands:?}"
    );
    assert!(
        commands.iter().any(|(c, by)| c == "end-clearing"
            && by.len() == 2
            && by.contains(&"zhang".to_string())),
        "{commands:?}"
    );
    assert!(
        commands
            .iter()
            .any(|(c, by)| c == "disable" && by == &["li".to_string()]),
        "{commands:?}"
    );
    let security = staff
        .iter()
        .filter(|e| matches!(e.kind, StaffEventKind::Security { .. }))
        .count();
    assert!(security >= 4 + 5, "every 401 and 403 journaled: {staff:#?}");
    let audit = std::fs::read_to_string(state.join("audit.jsonl")).unwrap();
    let kinds: Vec<String> = audit
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert_eq!(count("login-refused"), 1, "{audit}");
    assert_eq!(count("unauthenticated"), 4, "{audit}");
    assert!(count("forbidden") >= 5, "{audit}");
    assert_eq!(count("clearing-confirmed"), 2, "{audit}");
    assert!(k.logs().contains("security alarm"), "alarms are logged");
}

/// Every sample line of an OpenMetrics text, by name and labels; panics on
/// a line that is neither a comment nor `name{labels} value`.
fn parse_metrics(text: &str) -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "{text}");
    for line in lines {
        if line.starts_with('#') {
            assert!(
                line.starts_with("# HELP ")
                    || line.starts_with("# TYPE ")
                    || line.starts_with("# UNIT ")
                    || line == "# EOF",
                "bad comment line {line:?}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_'),
            "bad name in {line:?}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "bad labels in {line:?}");
        }
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        out.insert(series.to_string(), value);
    }
    out
}

/// Each device's identity in the operator status, as the (simulated)
/// devices report it, before and after the daily self-test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_shows_each_devices_identity() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), 50);
    let state = dir.path().join("state");
    let mut k = Kioskd::start(&config, &state);
    let c = client();
    let wang = login(&c, &k, "wang").await;
    let li = login(&c, &k, "li").await;
    let s = status_until(&c, &k, &wang, |s| s["serving"] == true).await;
    let expect = |s: &Value, device: &str, model: &str| {
        let id = &s["devices"][device]["identity"];
        assert_eq!(id["protocol"], "virtual", "{device}: {s}");
        assert_eq!(id["model"], model, "{device}: {s}");
        assert_eq!(id["manufacturer"], "kiosk-sim", "{device}: {s}");
        assert!(
            id["firmware"].as_str().is_some_and(|f| !f.is_empty()),
            "{s}"
        );
        assert!(id["serial"].is_null(), "virtual devices have none: {s}");
    };
    expect(&s, "acceptor", kiosk_sim::devices::VIRTUAL_ACCEPTOR_MODEL);
    expect(&s, "cash-box", kiosk_sim::devices::VIRTUAL_CASH_BOX_MODEL);
    expect(&s, "printer", kiosk_sim::devices::VIRTUAL_PRINTER_MODEL);
    // No reader is configured, and the link is no device with an identity.
    assert!(s["devices"]["reader"]["identity"].is_null(), "{s}");
    assert!(s["devices"]["link"]["identity"].is_null(), "{s}");

    let (code, body) = post(
        &c,
        &k.url("/v1/commands"),
        Some(&li),
        json!({"type": "self-test"}),
    )
    .await;
    assert_eq!((code, &body["ok"]), (200, &json!(true)), "{body}");
    let (code, s) = get(&c, &k.url("/v1/status"), Some(&wang)).await;
    assert_eq!(code, 200);
    expect(&s, "acceptor", kiosk_sim::devices::VIRTUAL_ACCEPTOR_MODEL);
    expect(&s, "printer", kiosk_sim::devices::VIRTUAL_PRINTER_MODEL);
    k.terminate();
    assert!(k.wait(Duration::from_secs(20)).success());
    // Each identity is logged once, when first read.
    let logs = k.logs();
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("device identity"))
        .collect();
    assert_eq!(lines.len(), 3, "acceptor, cash box, printer: {logs}");
    assert!(
        lines.iter().any(|l| l.contains("virtual bill acceptor")),
        "{logs}"
    );
}
