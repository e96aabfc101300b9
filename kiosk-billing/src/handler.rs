//! One request in, one answer out: the three endpoints of the wire
//! contract, with the fault knobs applied where the contract's failures
//! happen in real life.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use kiosk_hal::IdempotencyKey;
use kiosk_http::wire::{
    self, AccountCheckRequest, ErrorBody, ErrorCode, PaymentRequest, ACCOUNT_CHECK_PATH,
    HEALTH_PATH, IDEMPOTENCY_KEY_HEADER, PAYMENTS_PATH, REPLAYED_HEADER,
};
use serde::de::DeserializeOwned;
use tokio::sync::Notify;

use crate::faults::Faults;
use crate::store::{StoreError, StoredAnswer};
use crate::Store;

/// The largest request body read, in bytes.
pub const REQUEST_MAX_BYTES: usize = 64 * 1024;

/// The body sent by the `garbage` fault: not JSON.
pub const GARBAGE_BODY: &str = "<html><body>502 Bad Gateway?</body>";

/// What every connection shares.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) store: Arc<Store>,
    pub(crate) faults: Arc<Faults>,
    /// The path the endpoints hang under, starting and ending with `/`.
    pub(crate) base_path: String,
}

type Answer = Response<Full<Bytes>>;

impl App {
    /// Answers `request`. When the `drop_answers` fault fires, `drop` is
    /// notified after the posting is applied and this never returns: the
    /// connection is closed with no answer.
    pub(crate) async fn handle(
        self: Arc<Self>,
        request: Request<Incoming>,
        drop: Arc<Notify>,
    ) -> Result<Answer, Infallible> {
        if self.faults.take_5xx() {
            return Ok(error(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
            ));
        }
        let endpoint = request
            .uri()
            .path()
            .strip_prefix(self.base_path.as_str())
            .unwrap_or("")
            .to_string();
        let answer = match (request.method(), endpoint.as_str()) {
            (&Method::POST, ACCOUNT_CHECK_PATH) => self.account_check(request).await,
            (&Method::POST, PAYMENTS_PATH) => self.payment(request, &drop).await,
            (&Method::GET, HEALTH_PATH) => reply(StatusCode::OK, r#"{"status":"ok"}"#.into()),
            (_, ACCOUNT_CHECK_PATH | PAYMENTS_PATH | HEALTH_PATH) => {
                error(StatusCode::METHOD_NOT_ALLOWED, ErrorCode::BadRequest)
            }
            _ => error(StatusCode::NOT_FOUND, ErrorCode::NotFound),
        };
        // The delay holds back the answer, not the work: a posting is
        // already applied (and committed) while its answer waits, as with
        // a backend that is slow to answer after its commit.
        let delay = self.faults.delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if self.faults.take_garbage() {
            return Ok(reply(StatusCode::OK, GARBAGE_BODY.into()));
        }
        Ok(answer)
    }

    async fn account_check(&self, request: Request<Incoming>) -> Answer {
        let check: AccountCheckRequest = match read_json(request).await {
            Ok(check) => check,
            Err(answer) => return answer,
        };
        let store = self.store.clone();
        let found = tokio::task::spawn_blocking(move || store.lookup(&check.account)).await;
        match found {
            Ok(Ok(found)) => reply(StatusCode::OK, to_json(&found)),
            Ok(Err(StoreError::Refused(code))) => {
                let status = if code == ErrorCode::AccountUnknown {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                error(status, code)
            }
            Ok(Err(e)) => internal(&e),
            Err(e) => internal(&e),
        }
    }

    async fn payment(&self, request: Request<Incoming>, drop: &Notify) -> Answer {
        let key = request
            .headers()
            .get(IDEMPOTENCY_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|k| wire::is_valid_key(k))
            .map(|k| IdempotencyKey(k.to_string().into()));
        let Some(key) = key else {
            return error(StatusCode::BAD_REQUEST, ErrorCode::IdempotencyKeyInvalid);
        };
        let posting: PaymentRequest = match read_json(request).await {
            Ok(posting) => posting,
            Err(answer) => return answer,
        };
        let store = self.store.clone();
        let faults = self.faults.clone();
        let stored = tokio::task::spawn_blocking(move || {
            let answer = store.post(&key, &posting, || faults.take_refuse());
            (key, answer)
        })
        .await;
        let (key, stored) = match stored {
            Ok((key, Ok(stored))) => (key, stored),
            Ok((_, Err(e))) => return internal(&e),
            Err(e) => return internal(&e),
        };
        tracing::info!(%key, status = stored.status, replayed = stored.replayed, "posting answered");
        if !stored.replayed && stored.status == 200 && self.faults.take_drop() {
            tracing::warn!(%key, "fault: applied, dropping the answer");
            drop.notify_one();
            return std::future::pending().await;
        }
        stored_reply(stored)
    }
}

/// Reads a JSON body of at most [`REQUEST_MAX_BYTES`], or the `400` answer.
async fn read_json<T: DeserializeOwned>(request: Request<Incoming>) -> Result<T, Answer> {
    let body = Limited::new(request.into_body(), REQUEST_MAX_BYTES)
        .collect()
        .await
        .map_err(|_| error(StatusCode::BAD_REQUEST, ErrorCode::BadRequest))?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|e| {
        let body = ErrorBody {
            error: wire::ErrorDetail {
                code: ErrorCode::BadRequest,
                message: format!("{}: {e}", ErrorCode::BadRequest.standard_message()),
            },
        };
        reply(StatusCode::BAD_REQUEST, to_json(&body))
    })
}

fn stored_reply(stored: StoredAnswer) -> Answer {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut answer = reply(status, stored.body);
    if stored.replayed {
        answer
            .headers_mut()
            .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    answer
}

fn reply(status: StatusCode, body: String) -> Answer {
    let mut answer = Response::new(Full::new(Bytes::from(body)));
    *answer.status_mut() = status;
    answer.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    answer
}

fn error(status: StatusCode, code: ErrorCode) -> Answer {
    reply(status, to_json(&ErrorBody::standard(code)))
}

/// `500`: the books could not be read or written; the transaction rolled
/// back, so nothing was applied by this request.
fn internal(e: &dyn std::fmt::Display) -> Answer {
    tracing::error!(error = %e, "request failed inside the server");
    error(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Unavailable)
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_string(value) {
        Ok(text) => text,
        Err(e) => {
            // Only plain structs are serialised here; should this ever fail,
            // answer 500's body rather than an empty 200.
            tracing::error!(error = %e, "answer could not be serialised");
            r#"{"error":{"code":"unavailable","message":"后台暂时不可用 / backend temporarily unavailable"}}"#.into()
        }
    }
}
