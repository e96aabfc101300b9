//! What the end-to-end tests share: certificates made for the test (rcgen),
//! a reference billing server on an ephemeral loopback port, link
//! configurations, and a raw TLS server that answers whatever bytes a test
//! gives it.
#![allow(dead_code)] // Each test file uses a different part.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use kiosk_billing::{BillingServer, FaultPlan, ServeConfig, TlsFiles};
use kiosk_hal::{
    AccountNumber, Currency, IdempotencyKey, Money, PaymentCode, PaymentMethod, PaymentPosting,
    PaymentScheme,
};
use kiosk_http::HttpLinkConfig;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The account every test pays: 张三, CNY 120.00 due, CNY 1.00 balance.
pub const OPEN: &str = "1001";
/// A closed account.
pub const CLOSED: &str = "1002";
/// The open account's starting balance, in fen.
pub const START_BALANCE_MINOR: i64 = 100;
/// The payment code used in code payments.
pub const CODE_DIGITS: &str = "134567890123456789";

const ACCOUNTS_TOML: &str = r#"
[accounts."1001"]
holder-name = "张三"
amount-due = { minor = 12000, currency = "CNY" }
balance = { minor = 100, currency = "CNY" }

[accounts."1002"]
holder-name = "李四"
status = "closed"
"#;

/// Certificate files in a temporary folder.
pub struct Pki {
    _dir: tempfile::TempDir,
    /// The CA that signs the server's and the kiosk's certificates.
    pub ca: PathBuf,
    /// Another CA that signed nothing the server uses.
    pub other_ca: PathBuf,
    /// The server's certificate (127.0.0.1, localhost) and key.
    pub server_cert: PathBuf,
    /// The server's key.
    pub server_key: PathBuf,
    /// A second, equally valid server certificate from the same CA (for
    /// pinning the wrong one).
    pub other_server_cert: PathBuf,
    /// A kiosk's client certificate and key in one file, from `ca`.
    pub client_identity: PathBuf,
    /// A client certificate and key from `other_ca`.
    pub stranger_identity: PathBuf,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A leaf certificate (PEM) and its key (PEM) from `issuer`.
fn leaf(
    issuer: &CertifiedIssuer<'static, KeyPair>,
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(
        DnType::CommonName,
        names.first().copied().unwrap_or("kiosk"),
    );
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

impl Pki {
    /// Fresh certificates.
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| -> PathBuf {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let ca_issuer = ca("kiosk test CA");
        let other_issuer = ca("some other CA");
        let server_names = ["127.0.0.1", "localhost"];
        let (server_cert, server_key) = leaf(
            &ca_issuer,
            &server_names,
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (other_cert, _) = leaf(
            &ca_issuer,
            &server_names,
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client_cert, client_key) = leaf(
            &ca_issuer,
            &["kiosk-K01"],
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        let (stranger_cert, stranger_key) = leaf(
            &other_issuer,
            &["kiosk-X"],
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        Pki {
            ca: write("ca.pem", &ca_issuer.pem()),
            other_ca: write("other-ca.pem", &other_issuer.pem()),
            server_cert: write("server.pem", &server_cert),
            server_key: write("server.key", &server_key),
            other_server_cert: write("other-server.pem", &other_cert),
            client_identity: write("kiosk.pem", &format!("{client_cert}{client_key}")),
            stranger_identity: write("stranger.pem", &format!("{stranger_cert}{stranger_key}")),
            _dir: dir,
        }
    }

    /// The server's TLS files, requiring client certificates from `ca` if
    /// `mutual`.
    pub fn server_files(&self, mutual: bool) -> TlsFiles {
        TlsFiles {
            cert: self.server_cert.clone(),
            key: self.server_key.clone(),
            client_ca: mutual.then(|| self.ca.clone()),
        }
    }
}

/// A reference server over HTTPS with the test accounts, and its certificates.
pub struct Rig {
    /// The certificates.
    pub pki: Pki,
    /// The server.
    pub server: BillingServer,
    /// The folder of the accounts file and the database.
    pub dir: tempfile::TempDir,
}

impl Rig {
    /// A server with `faults`, requiring mutual TLS if `mutual`.
    pub async fn start(mutual: bool, faults: FaultPlan) -> Rig {
        let pki = Pki::new();
        let dir = tempfile::tempdir().unwrap();
        let server = start_server(dir.path(), Some(pki.server_files(mutual)), faults).await;
        Rig { pki, server, dir }
    }

    /// A link configuration trusting the test CA, with a 2 s timeout.
    pub fn link_config(&self) -> HttpLinkConfig {
        HttpLinkConfig {
            base_url: self.server.base_url(),
            ca_bundle: Some(self.pki.ca.clone()),
            pinned_certificate: None,
            client_identity: None,
            timeout_ms: 2_000,
        }
    }

    /// The open account's balance in the server's books, in fen.
    pub fn balance_minor(&self) -> i64 {
        self.server
            .store()
            .balance(&AccountNumber(OPEN.into()))
            .unwrap()
            .unwrap()
            .minor
    }

    /// How many postings the server has credited.
    pub fn credits(&self) -> u64 {
        self.server.store().credits().unwrap()
    }
}

/// Starts a server on 127.0.0.1, port 0, with the test accounts in `dir`.
pub async fn start_server(dir: &Path, tls: Option<TlsFiles>, faults: FaultPlan) -> BillingServer {
    let accounts = dir.join("accounts.toml");
    std::fs::write(&accounts, ACCOUNTS_TOML).unwrap();
    BillingServer::start(&ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        accounts,
        db: dir.join("books.db"),
        tls,
        base_path: "/kiosk/v1/".into(),
        faults,
    })
    .await
    .unwrap()
}

/// A cash posting of `minor` fen to the open account under `key`.
pub fn cash(key: &str, minor: i64) -> PaymentPosting {
    PaymentPosting {
        key: IdempotencyKey(key.into()),
        account: AccountNumber(OPEN.into()),
        amount: Money::new(minor, Currency::CNY),
        method: PaymentMethod::Cash,
        code: None,
    }
}

/// A code posting of `minor` fen to the open account under `key`, with
/// [`CODE_DIGITS`].
pub fn code_payment(key: &str, minor: i64) -> PaymentPosting {
    PaymentPosting {
        method: PaymentMethod::Code,
        code: Some(PaymentCode::new(PaymentScheme::WeChatPay, CODE_DIGITS)),
        ..cash(key, minor)
    }
}

/// A TLS server that reads one HTTP request per connection, keeps its
/// bytes, and answers with what `answer` returns for the request's number
/// (0, 1, …): those bytes, then close; `None`: close without a byte.
pub struct RawServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Every request received, whole (head and body).
    pub requests: Arc<Mutex<Vec<Vec<u8>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawServer {
    /// Starts it with the test server certificate of `pki`.
    pub async fn start(
        pki: &Pki,
        answer: impl Fn(usize) -> Option<Vec<u8>> + Send + Sync + 'static,
    ) -> RawServer {
        let config = kiosk_billing::tls::server_config(&pki.server_files(false)).unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    continue;
                };
                let Some(request) = read_request(&mut tls).await else {
                    continue;
                };
                let index = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(request);
                    seen.len() - 1
                };
                if let Some(bytes) = answer(index) {
                    let _ = tls.write_all(&bytes).await;
                    let _ = tls.flush().await;
                }
                let _ = tls.shutdown().await;
            }
        });
        RawServer {
            addr,
            requests,
            task,
        }
    }

    /// A link configuration for it, trusting the test CA.
    pub fn link_config(&self, pki: &Pki, timeout_ms: u64) -> HttpLinkConfig {
        HttpLinkConfig {
            base_url: format!("https://{}/", self.addr),
            ca_bundle: Some(pki.ca.clone()),
            pinned_certificate: None,
            client_identity: None,
            timeout_ms,
        }
    }

    /// The bodies of the requests received so far, as text.
    pub fn bodies(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| {
                let text = String::from_utf8_lossy(r).to_string();
                text.split_once("\r\n\r\n")
                    .map(|(_, body)| body.to_string())
                    .unwrap_or_default()
            })
            .collect()
    }
}

/// Reads one request: the head up to the blank line, then as many body
/// bytes as its `content-length` says (a test fixture; the link always
/// sends one).
async fn read_request<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = find(&bytes, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap_or(0));
            if bytes.len() >= end + 4 + length {
                return Some(bytes);
            }
        }
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        bytes.extend_from_slice(&buf[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
