//! [`HttpLink`]: the [`NetworkLink`] over HTTPS.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use kiosk_hal::{
    AccountAnswer, AccountNumber, DeviceError, DeviceIdentity, DeviceProtocol, ErrorKind,
    IdempotencyKey, NetworkLink, PaymentPosting, PostingAnswer,
};
use reqwest::{Client, RequestBuilder, Url};

use crate::setup::LinkSetupError;
use crate::wire::{
    self, AccountCheckRequest, PaymentRequest, ACCOUNT_CHECK_PATH, HEALTH_PATH,
    IDEMPOTENCY_KEY_HEADER, PAYMENTS_PATH,
};
use crate::{answer, tls, HttpLinkConfig};

/// The largest answer body read, in bytes. A contract answer is a few
/// hundred bytes; a larger one is not an answer and is not read to its end.
pub const ANSWER_MAX_BYTES: usize = 64 * 1024;

/// How many keys whose payment code has been sent are remembered.
pub const CODES_SENT_MAX: usize = 1024;

/// The kiosk's link to the billing backend over HTTPS (HTTP/1.1, JSON).
///
/// One `HttpLink` holds one HTTP client: its connections are kept open and
/// reused between calls. Every call is cut off after the configured
/// `timeout_ms`, connecting included.
///
/// # Errors
///
/// How answers map to [`ErrorKind`]s is the table in [`crate::answer`];
/// failures below HTTP map as follows:
///
/// - no connection (refused, unreachable, name unknown, TLS handshake
///   refused: wrong CA, pin mismatch, client certificate not accepted) →
///   `Offline`; nothing was sent;
/// - the connection lost after the request went out (the **lost answer**)
///   → `Offline`; the posting may have been applied;
/// - no complete answer within `timeout_ms` → `Timeout`; it may have been
///   applied.
///
/// In each case the machine keeps the payment pending and retries it with
/// the same key, which the backend applies at most once.
///
/// # The payment code is sent once
///
/// A posting's payment code leaves the kiosk at most once per key: once a
/// request with the code may have reached the backend, a later posting
/// with the same key is sent without it, whatever the caller passes. This
/// holds the [`NetworkLink`] rule ("a retry never carries the payment
/// code") even against a caller that forgets it. A request that failed to
/// connect sent nothing, so its code is still sent on the next try.
pub struct HttpLink {
    client: Client,
    base_url: Url,
    account_check_url: Url,
    payments_url: Url,
    health_url: Url,
    codes_sent: CodesSent,
    /// The subject of the server certificate on the last answer.
    server_subject: std::sync::Mutex<Option<String>>,
}

impl fmt::Debug for HttpLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpLink")
            .field("base_url", &self.base_url.as_str())
            .finish_non_exhaustive()
    }
}

impl HttpLink {
    /// A link as `config` describes it. Reads the certificate files now, so
    /// a missing or malformed file is reported at start-up, naming the
    /// field and the file; connects only at the first call.
    ///
    /// `base_url` must be `https://`; plain `http://` is accepted only for a
    /// loopback host (`127.0.0.1`, `[::1]`, `localhost`: a demo against a
    /// local reference server) and then without any TLS field.
    pub fn new(config: &HttpLinkConfig) -> Result<HttpLink, LinkSetupError> {
        let base_url = base_url(config)?;
        if config.timeout_ms == 0 {
            return Err(LinkSetupError::Field {
                field: "link.timeout_ms",
                problem: "must be at least 1 (milliseconds)".into(),
            });
        }
        let timeout = Duration::from_millis(config.timeout_ms);
        let builder = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("kiosk-http/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(90))
            // The server certificate on each answer, for `identity()`.
            .tls_info(true);
        // Always our own TLS configuration (ring): reqwest has no provider
        // of its own here, even for a plain-http demo link.
        let https = base_url.scheme() == "https";
        let tls = if https {
            tls::client_config(config)?
        } else {
            tls::refusing_config()?
        };
        let builder = builder.tls_backend_preconfigured(tls).https_only(https);
        let client = builder.build().map_err(|e| LinkSetupError::Client {
            problem: error_chain(&e),
        })?;
        let join = |path: &str| {
            base_url.join(path).map_err(|e| LinkSetupError::BaseUrl {
                url: config.base_url.clone(),
                problem: e.to_string(),
            })
        };
        Ok(HttpLink {
            account_check_url: join(ACCOUNT_CHECK_PATH)?,
            payments_url: join(PAYMENTS_PATH)?,
            health_url: join(HEALTH_PATH)?,
            base_url,
            client,
            codes_sent: CodesSent::default(),
            server_subject: std::sync::Mutex::new(None),
        })
    }

    /// The backend's base address, ending in `/`.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// Sends `request`; the status and body of the answer, or the error
    /// with whether the request may have reached the backend.
    async fn send(&self, request: RequestBuilder) -> Result<(u16, Vec<u8>), SendFailure> {
        let mut response = request
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(SendFailure::from)?;
        let status = response.status().as_u16();
        if let Some(der) = response
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|info| info.peer_certificate())
        {
            let subject = certificate_subject(der);
            *self
                .server_subject
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = subject;
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(SendFailure::from)? {
            if body.len() + chunk.len() > ANSWER_MAX_BYTES {
                return Err(SendFailure {
                    error: DeviceError::new(
                        ErrorKind::Protocol,
                        format!(
                            "backend answered {status} with a body over {ANSWER_MAX_BYTES} bytes"
                        ),
                    ),
                    maybe_delivered: true,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }
}

/// A call that got no HTTP answer.
struct SendFailure {
    error: DeviceError,
    /// Whether the request may have reached the backend (false only when
    /// no connection was made).
    maybe_delivered: bool,
}

impl From<reqwest::Error> for SendFailure {
    fn from(e: reqwest::Error) -> SendFailure {
        let chain = error_chain(&e);
        let (kind, maybe_delivered, what) = if e.is_timeout() {
            (ErrorKind::Timeout, true, "no answer in time")
        } else if e.is_connect() {
            (ErrorKind::Offline, false, "cannot connect")
        } else if e.is_builder() {
            (ErrorKind::Other, false, "cannot build the request")
        } else if is_parse_error(&e) {
            (ErrorKind::Protocol, true, "answer is not HTTP")
        } else {
            (ErrorKind::Offline, true, "answer lost")
        };
        SendFailure {
            error: DeviceError::new(kind, format!("{what}: {chain}")).with_source(e),
            maybe_delivered,
        }
    }
}

/// Whether the backend's bytes were not an HTTP answer at all (hyper
/// could not parse them), as opposed to an answer cut off.
fn is_parse_error(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            return h.is_parse() || h.is_parse_status();
        }
        source = s.source();
    }
    false
}

/// An error and its sources, `: `-separated (reqwest's own display stops
/// at "error sending request"; the cause, e.g. a certificate problem, is
/// further down).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[async_trait]
impl NetworkLink for HttpLink {
    async fn lookup_account(
        &mut self,
        account: &AccountNumber,
    ) -> Result<AccountAnswer, DeviceError> {
        let body = AccountCheckRequest {
            account: account.clone(),
        };
        let request = self.client.post(self.account_check_url.clone()).json(&body);
        let (status, body) = self.send(request).await.map_err(|f| f.error)?;
        answer::account_answer(status, &body)
    }

    async fn post_payment(
        &mut self,
        posting: &PaymentPosting,
    ) -> Result<PostingAnswer, DeviceError> {
        if !wire::is_valid_key(&posting.key.0) {
            // Not sent: a backend would refuse it with 400, and a key is
            // never changed here. A kiosk bug; keep the payment pending.
            return Err(DeviceError::new(
                ErrorKind::InvalidState,
                format!(
                    "idempotency key {:?} is not printable ASCII of 1 to {} bytes",
                    posting.key.0,
                    wire::IDEMPOTENCY_KEY_MAX_LEN
                ),
            ));
        }
        let with_code = posting.code.is_some() && !self.codes_sent.contains(&posting.key);
        if posting.code.is_some() && !with_code {
            tracing::info!(key = %posting.key, "code already sent under this key: posting without it");
        }
        let body = PaymentRequest::from_posting(posting, with_code);
        let request = self
            .client
            .post(self.payments_url.clone())
            .header(IDEMPOTENCY_KEY_HEADER, &*posting.key.0)
            .json(&body);
        let sent = self.send(request).await;
        if with_code && sent.as_ref().map_or_else(|f| f.maybe_delivered, |_| true) {
            self.codes_sent.insert(posting.key.clone());
        }
        let (status, body) = sent.map_err(|f| f.error)?;
        answer::posting_answer(status, &body, posting)
    }

    async fn heartbeat(&mut self) -> Result<(), DeviceError> {
        let request = self.client.get(self.health_url.clone());
        let (status, body) = self.send(request).await.map_err(|f| f.error)?;
        answer::health_answer(status, &body)
    }

    /// The wire contract has no service name or version, so: the endpoint
    /// (`model`, the base address) and the subject of the server
    /// certificate seen on the last answer (`manufacturer`, e.g.
    /// `CN=billing.example.cn, O=…`; `None` before the first answer and
    /// over plain http). Makes no call.
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        let subject = self
            .server_subject
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        Ok(DeviceIdentity {
            model: Some(self.base_url.to_string()),
            manufacturer: subject,
            ..DeviceIdentity::of(DeviceProtocol::Https)
        })
    }
}

/// The subject of a DER certificate as RFC 4514 text; `None` if it does
/// not parse (rustls accepted it, so this is not expected).
fn certificate_subject(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(cert.subject().to_string())
}

/// The keys whose payment code may have reached the backend: the newest
/// [`CODES_SENT_MAX`], oldest forgotten first. A kiosk posts one payment
/// at a time, so this covers far more than any retry window.
#[derive(Debug, Default)]
struct CodesSent {
    order: VecDeque<IdempotencyKey>,
    keys: HashSet<IdempotencyKey>,
}

impl CodesSent {
    fn contains(&self, key: &IdempotencyKey) -> bool {
        self.keys.contains(key)
    }

    fn insert(&mut self, key: IdempotencyKey) {
        if !self.keys.insert(key.clone()) {
            return;
        }
        self.order.push_back(key);
        if self.order.len() > CODES_SENT_MAX {
            if let Some(oldest) = self.order.pop_front() {
                self.keys.remove(&oldest);
            }
        }
        debug_assert_eq!(self.order.len(), self.keys.len());
        debug_assert!(self.order.len() <= CODES_SENT_MAX);
    }
}

/// The base address from `config`, checked and ending in `/`.
fn base_url(config: &HttpLinkConfig) -> Result<Url, LinkSetupError> {
    let bad = |problem: &str| LinkSetupError::BaseUrl {
        url: config.base_url.clone(),
        problem: problem.to_string(),
    };
    let mut url = Url::parse(&config.base_url).map_err(|e| bad(&e.to_string()))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must have no query (`?…`) or fragment (`#…`)"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must carry no user name or password"));
    }
    match url.scheme() {
        "https" => {}
        "http" => {
            let host = url.host_str().unwrap_or("");
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                return Err(bad(
                    "must be https:// (plain http:// only to a loopback host, for a local demo)",
                ));
            }
            let tls_field = [
                ("link.ca_bundle", config.ca_bundle.is_some()),
                (
                    "link.pinned_certificate",
                    config.pinned_certificate.is_some(),
                ),
                ("link.client_identity", config.client_identity.is_some()),
            ]
            .into_iter()
            .find(|(_, set)| *set);
            if let Some((field, _)) = tls_field {
                return Err(LinkSetupError::Field {
                    field,
                    problem: format!(
                        "set, but link.base_url {:?} is plain http://",
                        config.base_url
                    ),
                });
            }
        }
        other => return Err(bad(&format!("scheme {other}:// is not https://"))),
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> HttpLinkConfig {
        HttpLinkConfig {
            base_url: url.into(),
            ca_bundle: None,
            pinned_certificate: None,
            client_identity: None,
            timeout_ms: 1000,
        }
    }

    #[test]
    fn the_base_url_gets_a_trailing_slash_so_paths_append() {
        // Plain http to loopback: this test needs no system CA store.
        let link = HttpLink::new(&config("http://127.0.0.1:8080/kiosk/v1")).unwrap();
        assert_eq!(link.base_url().as_str(), "http://127.0.0.1:8080/kiosk/v1/");
        assert_eq!(
            link.payments_url.as_str(),
            "http://127.0.0.1:8080/kiosk/v1/payments"
        );
    }

    #[test]
    fn plain_http_is_refused_except_to_loopback() {
        let e = HttpLink::new(&config("http://billing.example.cn/")).unwrap_err();
        assert!(e.to_string().starts_with("link.base_url"), "{e}");
        assert!(HttpLink::new(&config("http://127.0.0.1:8080/")).is_ok());
        assert!(HttpLink::new(&config("http://localhost:8080/")).is_ok());
        let e = HttpLink::new(&config("ftp://127.0.0.1/")).unwrap_err();
        assert!(e.to_string().contains("not https"), "{e}");
        let e = HttpLink::new(&config("https://x/?a=1")).unwrap_err();
        assert!(e.to_string().contains("query"), "{e}");
    }

    #[test]
    fn tls_fields_with_plain_http_are_a_conflict_named_by_field() {
        let mut c = config("http://127.0.0.1:8080/");
        c.pinned_certificate = Some("/tmp/pin.pem".into());
        let e = HttpLink::new(&c).unwrap_err();
        assert!(
            e.to_string().starts_with("link.pinned_certificate: "),
            "{e}"
        );
    }

    #[test]
    fn a_missing_certificate_file_is_named_with_its_field() {
        for field in ["ca_bundle", "pinned_certificate", "client_identity"] {
            let mut c = config("https://127.0.0.1:1/");
            let path = Some(std::path::PathBuf::from("/nonexistent/file.pem"));
            match field {
                "ca_bundle" => c.ca_bundle = path,
                "pinned_certificate" => c.pinned_certificate = path,
                _ => c.client_identity = path,
            }
            let e = HttpLink::new(&c).unwrap_err();
            let text = e.to_string();
            assert!(
                text.starts_with(&format!(
                    "link.{field}: /nonexistent/file.pem: cannot be read"
                )),
                "{text}"
            );
        }
    }

    #[test]
    fn a_zero_timeout_is_refused() {
        let mut c = config("https://127.0.0.1:1/");
        c.timeout_ms = 0;
        assert!(HttpLink::new(&c)
            .unwrap_err()
            .to_string()
            .starts_with("link.timeout_ms"));
    }

    #[test]
    fn the_codes_sent_set_forgets_the_oldest_beyond_its_bound() {
        let mut sent = CodesSent::default();
        for i in 0..=CODES_SENT_MAX {
            sent.insert(IdempotencyKey(format!("k{i}").into()));
        }
        assert!(!sent.contains(&IdempotencyKey("k0".into())));
        assert!(sent.contains(&IdempotencyKey("k1".into())));
        assert!(sent.contains(&IdempotencyKey(format!("k{CODES_SENT_MAX}").into())));
    }
}
