//! How a kiosk or the hall service reaches the broker: address, login,
//! TLS (rustls with ring, a CA file), keep-alive, last will. Shared so
//! that both ends speak to the broker the same way.
//!
//! Nothing here assumes one broker process: the address may be a load
//! balancer in front of a cluster (EMQX, VerneMQ); sessions are clean (a
//! reconnect to any node subscribes again and gets the retained statuses).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{LastWill, MqttOptions, QoS, TlsConfiguration, Transport};
use serde::Deserialize;

/// The broker and this client's login.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct BrokerConfig {
    /// `host:port` (1883 plain, 8883 TLS by convention).
    pub address: String,
    /// The login (a kiosk logs in as its own kiosk id: the broker's ACL
    /// keys on it).
    #[serde(default)]
    pub username: Option<String>,
    /// The password (use `password-file` to keep it out of the configuration).
    #[serde(default)]
    pub password: Option<String>,
    /// A file holding the password (first line).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// TLS with this CA (PEM); without it the connection is plain TCP
    /// (loopback or a trusted network only).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// MQTT keep-alive (default 5 s): the broker publishes a kiosk's last
    /// will 1.5 × this after its last packet.
    #[serde(default = "keep_alive_s")]
    pub keep_alive_s: u64,
}

fn keep_alive_s() -> u64 {
    5
}

impl BrokerConfig {
    /// A plain connection to `broker` without a login.
    pub fn plain(broker: &str) -> BrokerConfig {
        BrokerConfig {
            address: broker.into(),
            username: None,
            password: None,
            password_file: None,
            ca_file: None,
            keep_alive_s: keep_alive_s(),
        }
    }

    /// The host and port.
    pub fn host_port(&self) -> Result<(String, u16), String> {
        let (host, port) = self
            .address
            .rsplit_once(':')
            .ok_or_else(|| format!("broker {:?}: expected host:port", self.address))?;
        let port = port
            .parse()
            .map_err(|_| format!("broker {:?}: bad port", self.address))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("broker {:?}: no host", self.address));
        }
        Ok((host.to_string(), port))
    }

    /// The client's options: login, TLS, keep-alive and `will`.
    pub fn options(&self, client_id: &str, will: Option<LastWill>) -> Result<MqttOptions, String> {
        let (host, port) = self.host_port()?;
        let mut opts = MqttOptions::new(client_id, host, port);
        opts.set_keep_alive(Duration::from_secs(self.keep_alive_s.max(1)));
        opts.set_clean_session(true);
        // Statuses with device identities run to a few kB.
        opts.set_max_packet_size(256 * 1024, 256 * 1024);
        let password = match (&self.password, &self.password_file) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(file)) => Some(
                std::fs::read_to_string(file)
                    .map_err(|e| format!("password file {}: {e}", file.display()))?
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string(),
            ),
            (None, None) => None,
        };
        if let Some(user) = &self.username {
            opts.set_credentials(user.clone(), password.unwrap_or_default());
        }
        if let Some(ca) = &self.ca_file {
            opts.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
                Arc::new(tls_config(ca)?),
            )));
        }
        if let Some(will) = will {
            opts.set_last_will(will);
        }
        Ok(opts)
    }
}

/// A rustls client configuration (ring) trusting the CA certificates in `ca`.
pub fn tls_config(ca: &std::path::Path) -> Result<rustls::ClientConfig, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    let certs =
        CertificateDer::pem_file_iter(ca).map_err(|e| format!("CA file {}: {e}", ca.display()))?;
    for cert in certs {
        let cert = cert.map_err(|e| format!("CA file {}: {e}", ca.display()))?;
        roots
            .add(cert)
            .map_err(|e| format!("CA file {}: {e}", ca.display()))?;
    }
    if roots.is_empty() {
        return Err(format!("CA file {}: no certificate in it", ca.display()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// A retained last will on `topic`.
pub fn retained_will(topic: String, payload: Vec<u8>) -> LastWill {
    LastWill::new(topic, payload, QoS::AtLeastOnce, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_broker_address_is_host_and_port() {
        assert_eq!(
            BrokerConfig::plain("127.0.0.1:1883").host_port().unwrap(),
            ("127.0.0.1".into(), 1883)
        );
        assert_eq!(
            BrokerConfig::plain("[::1]:8883").host_port().unwrap(),
            ("::1".into(), 8883)
        );
        assert!(BrokerConfig::plain("localhost").host_port().is_err());
        assert!(BrokerConfig::plain(":1883").host_port().is_err());
    }

    #[test]
    fn a_missing_ca_file_is_a_clear_error() {
        let mut c = BrokerConfig::plain("localhost:8883");
        c.ca_file = Some("/nonexistent/ca.pem".into());
        let e = c.options("x", None).unwrap_err();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
    }
}
