//! `kiosk-billing serve` as a real process: it says where it listens,
//! serves the contract over HTTPS, stops cleanly on SIGTERM, and refuses
//! bad flags with the flag and file named.

use crate::support;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use kiosk_hal::{AccountAnswer, AccountNumber, NetworkLink};
use kiosk_http::{HttpLink, HttpLinkConfig};
use support::{cash, Pki, OPEN, START_BALANCE_MINOR};

const BIN: &str = env!("CARGO_BIN_EXE_kiosk-billing");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_prints_its_address_serves_https_and_stops_on_sigterm() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let accounts = dir.path().join("accounts.toml");
    std::fs::write(
        &accounts,
        "[accounts.\"1001\"]\nholder-name = \"张三\"\nbalance = { minor = 100, currency = \"CNY\" }\n",
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--base-path",
            "/kiosk/v1",
        ])
        .arg("--accounts")
        .arg(&accounts)
        .arg("--db")
        .arg(dir.path().join("books.db"))
        .arg("--cert")
        .arg(&pki.server_cert)
        .arg("--key")
        .arg(&pki.server_key)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base_url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_string();
    assert!(
        base_url.starts_with("https://127.0.0.1:") && base_url.ends_with("/kiosk/v1/"),
        "{base_url}"
    );

    let mut link = HttpLink::new(&HttpLinkConfig {
        base_url,
        ca_bundle: Some(pki.ca.clone()),
        pinned_certificate: None,
        client_identity: None,
        timeout_ms: 5_000,
    })
    .unwrap();
    let answer = link.lookup_account(&AccountNumber(OPEN.into())).await;
    let posted = link.post_payment(&cash("K01-000001-p1", 50)).await;

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(matches!(answer.unwrap(), AccountAnswer::Payable(_)));
    let kiosk_hal::PostingAnswer::Credited { new_balance, .. } = posted.unwrap() else {
        panic!("credited");
    };
    assert_eq!(new_balance.minor, START_BALANCE_MINOR + 50);
    assert!(killed.success());
    assert!(status.success(), "exit after SIGTERM: {status:?}");
}

#[test]
fn bad_flags_are_refused_naming_the_flag_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = dir.path().join("accounts.toml");
    std::fs::write(&accounts, "").unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .arg("serve")
            .arg("--db")
            .arg(dir.path().join("books.db"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let accounts = accounts.to_str().unwrap();

    let (ok, err) = run(&[
        "--listen",
        "127.0.0.1:0",
        "--accounts",
        "/nonexistent/a.toml",
    ]);
    assert!(!ok);
    assert!(
        err.contains("--accounts /nonexistent/a.toml: cannot be read"),
        "{err}"
    );

    let (ok, err) = run(&["--listen", "0.0.0.0:0", "--accounts", accounts]);
    assert!(!ok);
    assert!(
        err.contains("plain HTTP only on a loopback address"),
        "{err}"
    );

    let (ok, err) = run(&[
        "--listen",
        "127.0.0.1:0",
        "--accounts",
        accounts,
        "--cert",
        "/nonexistent/c.pem",
        "--key",
        "/nonexistent/k.pem",
    ]);
    assert!(!ok);
    assert!(
        err.contains("--cert: /nonexistent/c.pem: cannot be read"),
        "{err}"
    );
}
