//! What the workspace's tests share, so each browser test says only what
//! it checks: starting Debian's headless Chromium under chromedriver
//! (WebDriver, through fantoccini), where screenshots go, and finding a
//! program on `PATH`.
//!
//! A test that needs Chromium and does not find it is skipped, saying so,
//! on a developer's machine; under CI (the `CI` variable set) a missing
//! browser fails the test, because `.ci/run` installs it.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub use fantoccini;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;

/// The error type of the browser tests.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The first of `names` found in a directory on `PATH`.
pub fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Where screenshots go: `$KIOSK_SCREENSHOTS`, else the workspace's
/// `target/screenshots` (kept as CI artefacts). Created if missing.
pub fn screenshot_dir() -> std::io::Result<PathBuf> {
    let dir = match std::env::var_os("KIOSK_SCREENSHOTS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots"),
    };
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A child process killed (and reaped) when dropped, so a failing test
/// leaves no server behind.
#[derive(Debug)]
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A headless Chromium under chromedriver, and the WebDriver client that
/// drives it. Dropping it stops chromedriver (and with it the browser);
/// call [`Browser::close`] first to end the session cleanly.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    _driver: KillOnDrop,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium with a `width`×`height` window and the page language
    /// `lang` (e.g. `zh-CN`), in a fresh profile.
    ///
    /// `Ok(None)` when chromium or chromedriver is not installed and CI is
    /// not set: the caller returns early, the test is skipped and this
    /// prints why. Under CI their absence is a failure.
    pub async fn start(
        what: &str,
        width: u32,
        height: u32,
        lang: &str,
    ) -> Result<Option<Browser>, Error> {
        let (Some(chromium), Some(chromedriver)) = (
            find_program(&["chromium", "chromium-browser", "google-chrome"]),
            find_program(&["chromedriver"]),
        ) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but chromium or chromedriver is not on PATH (.ci/run installs them)"
            );
            eprintln!(
                "SKIPPED: {what} needs chromium and chromedriver on PATH \
                 (Debian: apt-get install chromium chromium-driver fonts-wqy-microhei; \
                 .ci/run installs them)"
            );
            return Ok(None);
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let driver = KillOnDrop(
            Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?,
        );
        let profile = tempfile::tempdir()?;
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                    format!("--lang={lang}"),
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!("a JSON object")
        };
        // chromedriver takes a moment to listen: up to ten seconds.
        let mut last = None;
        for _ in 0..50 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => {
                    return Ok(Some(Browser {
                        client,
                        _driver: driver,
                        _profile: profile,
                    }))
                }
                Err(e) => {
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
            }
        }
        Err(format!("chromedriver did not start: {last:?}").into())
    }

    /// Ends the WebDriver session (the browser closes).
    pub async fn close(self) -> Result<(), Error> {
        self.client.clone().close().await?;
        Ok(())
    }
}
