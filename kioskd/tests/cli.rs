//! The `kioskd` binary's command line: `check-config`, refusing to start on
//! a bad configuration or an unusable state directory, `hash-password`,
//! and plain (colourless) logs when standard error is not a terminal.

use crate::common;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn kioskd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kioskd"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn check_config_names_file_line_column_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "currency = \"CNY\"\n[kiosk]\nkiosk-id = \"\"\npost-timeout-ms = 0\n\
         [kiosk.session]\naccepted-notes = [{ minor = 3000, currency = \"CNY\" }]\n\
         [devices.acceptor]\nkind = \"id003\"\nport = \"/dev/kioskd-test-missing\"\ncurrency = \"CNY\"\n\
         [devices.printer]\nkind = \"escpos\"\nport = \"/dev/null\"\n\
         [link]\nbase_url = \"https://billing.example.cn/\"\n",
    )
    .unwrap();
    let out = kioskd(&["check-config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    let file = bad.display().to_string();
    for want in [
        format!("{file}:3:12: error: field `kiosk.kiosk-id`"),
        format!("{file}:4:19: error: field `kiosk.post-timeout-ms`: must be more than 0"),
        format!("{file}:6:19: error: field `kiosk.session.accepted-notes[0]`"),
        format!("{file}:9:8: error: field `devices.acceptor.port`: /dev/kioskd-test-missing does not exist"),
    ] {
        assert!(text.contains(&want), "missing {want:?} in:\n{text}");
    }

    // A syntax error and an unknown field: the toml crate's own message.
    std::fs::write(&bad, "[kiosk]\nkiosk-id = \"K01\"\nlookup-timeout = 5\n").unwrap();
    let out = kioskd(&["check-config", "--simulate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert!(
        text.contains(&format!("{file}: TOML parse error at line 3, column 1")),
        "{text}"
    );
    assert!(text.contains("lookup-timeout"), "{text}");

    // The shipped demo configuration is clean.
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/config/simulate.toml");
    let out = kioskd(&["check-config", "--simulate", demo]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Every shipped configuration for real hardware (`config/kiosk.toml` and
/// one per validator family under `config/devices/`) is valid: with its
/// device paths pointed at files that exist, `check-config` finds no error
/// (before, the NV200 example carried a `currency` the SSP driver does not
/// take). A family without an example fails the count.
#[test]
fn every_shipped_hardware_configuration_checks_clean() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/config");
    let mut files = vec![std::path::PathBuf::from(format!("{root}/kiosk.toml"))];
    let mut examples: Vec<_> = std::fs::read_dir(format!("{root}/devices"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    examples.sort();
    files.extend(examples);
    let dir = tempfile::tempdir().unwrap();
    let present = dir.path().join("device");
    std::fs::write(&present, b"").unwrap();
    let mut kinds = std::collections::BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let mut edited = String::new();
        for line in text.lines() {
            let key = line.split('=').next().unwrap_or("").trim();
            if key == "port" {
                edited.push_str(&format!("port = {:?}\n", present.display().to_string()));
                continue;
            }
            if key == "kind" {
                kinds.insert(line.split('"').nth(1).unwrap_or("").to_string());
            }
            edited.push_str(line);
            edited.push('\n');
        }
        let copy = dir.path().join(file.file_name().unwrap());
        std::fs::write(&copy, edited).unwrap();
        let out = kioskd(&["check-config", copy.to_str().unwrap()]);
        let err = stderr(&out);
        // A GPIO cash box needs the `gpio-cdev` build: without it, that is
        // the one error, and it says how to build.
        let gpio = text.contains("[devices.cash-box.gpio]");
        let errors: Vec<&str> = err.lines().filter(|l| l.contains(": error: ")).collect();
        if gpio && !cfg!(feature = "gpio-cdev") {
            assert_eq!(errors.len(), 1, "{}:\n{err}", file.display());
            assert!(errors[0].contains("--features gpio-cdev"), "{err}");
        } else {
            assert!(
                errors.is_empty(),
                "{}: check-config found errors:\n{err}",
                file.display()
            );
        }
    }
    for kind in [
        "id003",
        "ssp",
        "ccnet",
        "cctalk",
        "cctalk-coin",
        "escpos",
        "hid-scanner",
    ] {
        assert!(
            kinds.contains(kind),
            "no shipped configuration uses {kind}: {kinds:?}"
        );
    }
}

#[test]
fn a_bad_configuration_or_state_dir_stops_the_start_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(dir.path(), 50);
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"").unwrap();
    let state = file.join("state");
    let out = kioskd(&[
        "--simulate",
        "--config",
        config.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot create the state directory"),
        "{}",
        stderr(&out)
    );

    std::fs::write(&config, "currency = \"XYZ\"\n").unwrap();
    let out = kioskd(&[
        "--simulate",
        "--config",
        config.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(":1:12: error: field `currency`: unknown currency XYZ"),
        "{}",
        stderr(&out)
    );

    // For real, without [devices] and [link]: refused, never simulated.
    std::fs::write(&config, "currency = \"CNY\"\n").unwrap();
    let out = kioskd(&[
        "--config",
        config.to_str().unwrap(),
        "--state-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no [devices]"), "{}", stderr(&out));
}

#[test]
fn hash_password_makes_an_argon2id_hash_that_verifies() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kioskd"))
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("s3cret 密码\n".as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let hash = String::from_utf8(out.stdout).unwrap();
    let hash = hash.trim();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(kioskd::auth::verify_password(hash, "s3cret 密码"));
    assert!(!kioskd::auth::verify_password(hash, "s3cret"));
}

#[test]
fn human_logs_have_no_colour_codes_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(dir.path(), 50);
    let state = dir.path().join("state");
    let log = dir.path().join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kioskd"))
        .args(["--simulate", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--state-dir")
        .arg(&state)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(
        line.starts_with("kioskd listening http://127.0.0.1:"),
        "{line}"
    );
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "SIGINT stops it cleanly too");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("kiosk{kiosk=T01}"), "the kiosk span: {text}");
    assert!(text.contains("SIGINT"), "{text}");
    assert!(!text.contains('\u{1b}'), "colour codes in: {text:?}");
}
