//! A real mosquitto for one test: its own configuration in a temporary
//! directory, on 127.0.0.1 and a free port, killed when dropped. Never the
//! system service.
//!
//! Shared by kiosk-fleet's and kioskd's tests (`#[path]`).

#![allow(dead_code)]

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How the broker is set up.
#[derive(Default)]
pub struct Setup {
    /// TLS: the server's certificate and key, PEM.
    pub tls: Option<(String, String)>,
    /// Logins (user, password); none: anonymous clients allowed.
    pub users: Vec<(String, String)>,
    /// The ACL file's text, if any.
    pub acl: Option<String>,
    /// This port rather than a free one.
    pub port: Option<u16>,
}

/// A running broker.
pub struct Mosquitto {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its directory (configuration, log).
    pub dir: tempfile::TempDir,
}

/// Where mosquitto is, if installed.
pub fn find() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|d| d.join("mosquitto"))
        .find(|p| p.is_file())
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Mosquitto {
    /// Starts one; `None` (the caller skips, saying so) if mosquitto is not
    /// installed.
    pub fn start(setup: &Setup) -> Option<Mosquitto> {
        let Some(exe) = find() else {
            eprintln!(
                "SKIPPED: mosquitto is not installed (Debian: apt-get install mosquitto; .ci/run does it)"
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let port = setup.port.unwrap_or_else(free_port);
        let mut conf = format!(
            "per_listener_settings false\npersistence false\nuser root\n\
             log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n\
             listener {port} 127.0.0.1\nmax_keepalive 65535\n"
        );
        if setup.users.is_empty() {
            conf.push_str("allow_anonymous true\n");
        } else {
            conf.push_str("allow_anonymous false\n");
            let pw = dir.path().join("passwd");
            std::fs::write(&pw, "").unwrap();
            for (user, password) in &setup.users {
                let status = Command::new(
                    exe.parent()
                        .unwrap()
                        .parent()
                        .unwrap()
                        .join("bin/mosquitto_passwd"),
                )
                .args(["-b"])
                .arg(&pw)
                .args([user, password])
                .status()
                .or_else(|_| {
                    Command::new("mosquitto_passwd")
                        .arg("-b")
                        .arg(&pw)
                        .args([user, password])
                        .status()
                })
                .expect("mosquitto_passwd runs");
                assert!(status.success(), "mosquitto_passwd for {user}");
            }
            conf.push_str(&format!("password_file {}\n", pw.display()));
        }
        if let Some(acl) = &setup.acl {
            let path = dir.path().join("acl");
            std::fs::write(&path, acl).unwrap();
            conf.push_str(&format!("acl_file {}\n", path.display()));
        }
        if let Some((cert, key)) = &setup.tls {
            let (c, k) = (dir.path().join("server.pem"), dir.path().join("server.key"));
            std::fs::write(&c, cert).unwrap();
            std::fs::write(&k, key).unwrap();
            conf.push_str(&format!(
                "certfile {}\nkeyfile {}\ntls_version tlsv1.2\n",
                c.display(),
                k.display()
            ));
        }
        let conf_path = dir.path().join("mosquitto.conf");
        std::fs::File::create(&conf_path)
            .unwrap()
            .write_all(conf.as_bytes())
            .unwrap();
        let log = std::fs::File::create(dir.path().join("mosquitto.log")).unwrap();
        let child = Command::new(exe)
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("mosquitto starts");
        let m = Mosquitto { child, port, dir };
        let until = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < until,
                "mosquitto did not listen on {port}:\n{}",
                m.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(m)
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }

    /// Its process id (for measuring its CPU).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
