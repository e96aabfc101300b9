//! A real `kioskd --simulate` process on loopback, its configuration, and a
//! real HTTP client: what the end-to-end tests share.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The test staff: name, role, password.
pub const STAFF: [(&str, &str, &str); 4] = [
    ("zhang", "supervisor", "zhang-pw"),
    ("li", "cash-handler", "li-pw"),
    ("zhao", "cash-handler", "zhao-pw"),
    ("wang", "viewer", "wang-pw"),
];

/// A configuration for `--simulate` with the test staff (cheap argon2id
/// parameters: the tests need the algorithm, not the cost) and short waits.
pub fn write_config(dir: &Path, transport_ms: u64) -> PathBuf {
    let cheap = argon2::Params::new(1024, 1, 1, None).unwrap();
    let mut text = format!(
        r#"
currency = "CNY"
shutdown-timeout-ms = 20000

[kiosk]
kiosk-id = "T01"
lookup-timeout-ms = 2000
post-timeout-ms = 2000
print-timeout-ms = 3000
retry-initial-ms = 200
retry-max-ms = 1000

[kiosk.session]
insert-idle-timeout-ms = 10000

[api]
command-wait-ms = 5000

[simulate]
transport-ms = {transport_ms}
"#
    );
    for (name, role, password) in STAFF {
        let hash = kioskd::auth::hash_password_with(password, cheap.clone()).unwrap();
        text.push_str(&format!(
            "\n[[api.operators]]\nname = \"{name}\"\nrole = \"{role}\"\npassword-hash = \"{hash}\"\n"
        ));
    }
    let path = dir.join("kiosk.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A running kioskd.
pub struct Kioskd {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its standard error (logs).
    pub log: PathBuf,
}

impl Kioskd {
    /// Starts `kioskd --simulate` on `config` with its state in `state`,
    /// on a free loopback port, and waits until it listens.
    pub fn start(config: &Path, state: &Path) -> Kioskd {
        let log = state.with_extension(format!("{}.log", std::process::id()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_kioskd"))
            .arg("--simulate")
            .arg("--config")
            .arg(config)
            .arg("--state-dir")
            .arg(state)
            .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("kioskd starts");
        let mut line = String::new();
        let stdout = child.stdout.take().unwrap();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let base = line
            .trim()
            .strip_prefix("kioskd listening ")
            .unwrap_or_else(|| {
                let logs = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("kioskd did not start: {line:?}\n{logs}")
            })
            .to_string();
        Kioskd {
            child: Some(child),
            base,
            log,
        }
    }

    /// `kill -TERM` it (a real signal, through the `kill` command).
    pub fn terminate(&self) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success(), "kill -TERM {pid}");
    }

    /// Waits for it to exit (at most `limit`).
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        let until = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > until {
                let _ = child.kill();
                panic!("kioskd did not exit within {limit:?}:\n{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its logs so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Takes the process out (to kill it with SIGKILL and wait for it).
    pub fn take_child(&mut self) -> Child {
        self.child.take().unwrap()
    }

    /// `path` under the API.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Kioskd {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An HTTP client for the API.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// POSTs JSON; status and body.
pub async fn post(
    c: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut req = c.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// GETs JSON; status and body.
pub async fn get(c: &reqwest::Client, url: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = c.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Logs in as `name` (one of [`STAFF`]); the token.
pub async fn login(c: &reqwest::Client, k: &Kioskd, name: &str) -> String {
    let password = STAFF.iter().find(|s| s.0 == name).unwrap().2;
    let (status, body) = post(
        c,
        &k.url("/v1/login"),
        None,
        json!({"name": name, "password": password}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_string()
}

/// Polls `/v1/status` until `want` holds (at most 15 s).
pub async fn status_until(
    c: &reqwest::Client,
    k: &Kioskd,
    token: &str,
    want: impl Fn(&Value) -> bool,
) -> Value {
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let (code, body) = get(c, &k.url("/v1/status"), Some(token)).await;
        assert_eq!(code, 200, "{body}");
        if want(&body) {
            return body;
        }
        if Instant::now() > until {
            panic!("status never got there: {body}\n{}", k.logs());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The screen's name in a status answer (`welcome`, `insert-notes`, …).
pub fn screen(status: &Value) -> &str {
    status["screen"]["screen"].as_str().unwrap_or("")
}
