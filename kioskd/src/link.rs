//! The backend link: the HTTPS one for real, and a wrapper that times every
//! call for the link-latency histogram.

use std::time::Instant;

use async_trait::async_trait;
use kiosk_hal::{
    AccountAnswer, AccountNumber, DeviceError, DeviceIdentity, NetworkLink, PaymentPosting,
    PostingAnswer,
};
use kiosk_http::HttpLinkConfig;

use kiosk_core::DeviceKind;

use crate::identity::Identities;
use crate::metrics::{LinkCall, Metrics};

/// The HTTPS link to the billing backend from `[link]`.
///
/// The one place kioskd builds an [`kiosk_http::HttpLink`]: it checks the
/// configuration (address, certificates) when called, so a bad `[link]`
/// stops the service at start with the link's own error.
#[cfg(feature = "https-link")]
pub fn https_link(config: &HttpLinkConfig) -> Result<Box<dyn NetworkLink>, String> {
    let link = kiosk_http::HttpLink::new(config)
        .map_err(|e| format!("[link] {}: {e}", config.base_url))?;
    Ok(Box::new(link))
}

/// Without the `https-link` feature there is no link to the backend: a
/// real run refuses to start (never a silent switch to a virtual one).
#[cfg(not(feature = "https-link"))]
pub fn https_link(config: &HttpLinkConfig) -> Result<Box<dyn NetworkLink>, String> {
    Err(format!(
        "[link] {}: this kioskd was built without the `https-link` feature",
        config.base_url
    ))
}

/// A link whose every call is timed into the metrics (the smoltcp wrapper
/// pattern: the inner link does not know it is observed).
pub struct TimedLink {
    inner: Box<dyn NetworkLink>,
    metrics: Metrics,
    identities: Option<Identities>,
}

impl TimedLink {
    /// Times `inner`'s calls into `metrics`.
    pub fn new(inner: Box<dyn NetworkLink>, metrics: Metrics) -> TimedLink {
        TimedLink {
            inner,
            metrics,
            identities: None,
        }
    }

    /// Also keeps the link's identity (endpoint, server certificate) in
    /// `identities` for the operator status, read after every answered
    /// call as the devices' are after every status check: the certificate
    /// is known only once the server has answered, and a renewed one shows
    /// at the next call. A link that says nothing of itself (the
    /// simulated one) is left out.
    pub fn with_identities(mut self, identities: &Identities) -> TimedLink {
        self.identities = Some(identities.clone());
        self
    }

    async fn keep_identity(&mut self, answered: bool) {
        let Some(identities) = &self.identities else {
            return;
        };
        if !answered {
            return;
        }
        if let Ok(identity) = self.inner.identity().await {
            if identity != DeviceIdentity::unknown() {
                identities.record(DeviceKind::Link, identity);
            }
        }
    }
}

#[async_trait]
impl NetworkLink for TimedLink {
    async fn lookup_account(
        &mut self,
        account: &AccountNumber,
    ) -> Result<AccountAnswer, DeviceError> {
        let started = Instant::now();
        let answer = self.inner.lookup_account(account).await;
        self.metrics
            .link_call(LinkCall::Lookup, started.elapsed(), answer.is_ok());
        self.keep_identity(answer.is_ok()).await;
        answer
    }

    async fn post_payment(
        &mut self,
        posting: &PaymentPosting,
    ) -> Result<PostingAnswer, DeviceError> {
        let started = Instant::now();
        let answer = self.inner.post_payment(posting).await;
        self.metrics
            .link_call(LinkCall::Post, started.elapsed(), answer.is_ok());
        self.keep_identity(answer.is_ok()).await;
        answer
    }

    async fn heartbeat(&mut self) -> Result<(), DeviceError> {
        let started = Instant::now();
        let answer = self.inner.heartbeat().await;
        self.metrics
            .link_call(LinkCall::Heartbeat, started.elapsed(), answer.is_ok());
        self.keep_identity(answer.is_ok()).await;
        answer
    }

    /// The inner link's (not timed: it makes no call).
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        self.inner.identity().await
    }
}

#[cfg(test)]
mod tests {
    use kiosk_hal::DeviceProtocol;

    use super::*;

    struct Named;

    #[async_trait]
    impl NetworkLink for Named {
        async fn lookup_account(
            &mut self,
            _account: &AccountNumber,
        ) -> Result<AccountAnswer, DeviceError> {
            Ok(AccountAnswer::Refused {
                reason: kiosk_hal::AccountRefusal::Unknown,
            })
        }
        async fn post_payment(
            &mut self,
            _posting: &PaymentPosting,
        ) -> Result<PostingAnswer, DeviceError> {
            Err(DeviceError::new(kiosk_hal::ErrorKind::Offline, "unused"))
        }
        async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
            Ok(DeviceIdentity {
                model: Some("https://billing.example.cn/".into()),
                ..DeviceIdentity::of(DeviceProtocol::Https)
            })
        }
    }

    /// Regression: the timing wrapper did not forward `identity()`, so the
    /// service's link said "unknown" (the trait's default) in the
    /// self-test record instead of the HTTPS link's endpoint.
    #[tokio::test]
    async fn the_timed_link_is_the_inner_links_identity() {
        let mut link = TimedLink::new(Box::new(Named), Metrics::new());
        let id = link.identity().await.unwrap();
        assert_eq!(id.model.as_deref(), Some("https://billing.example.cn/"));
    }

    /// The operator status shows the link's identity once the link has
    /// answered (before, the status had none for the link at all).
    #[tokio::test]
    async fn an_answered_call_puts_the_links_identity_in_the_status() {
        let identities = Identities::new();
        let mut link = TimedLink::new(Box::new(Named), Metrics::new()).with_identities(&identities);
        assert_eq!(identities.get(DeviceKind::Link), None);
        link.heartbeat().await.unwrap();
        let id = identities.get(DeviceKind::Link).expect("recorded");
        assert_eq!(id.model.as_deref(), Some("https://billing.example.cn/"));
        assert_eq!(id.protocol, DeviceProtocol::Https);
    }
}
