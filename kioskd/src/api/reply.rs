//! JSON answers (Chinese first, English second) and the guard every
//! authenticated route goes through.

use std::net::SocketAddr;
use std::time::Instant;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kiosk_core::KioskEvent;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::ApiState;
use crate::audit::{wall_ms, AuditKind, AuditLine};
use crate::auth::{Role, Staff};
use crate::metrics::Refusal;

/// A JSON answer: `message_zh`, `message_en` and `extra`'s fields.
pub fn answer(status: StatusCode, zh: &str, en: &str, extra: Value) -> Response {
    let mut body = json!({ "message_zh": zh, "message_en": en });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    (status, Json(body)).into_response()
}

/// A request, for the audit log and refusals: method and path, and the peer.
#[derive(Debug, Clone)]
pub struct Request {
    /// `POST /v1/commands`.
    pub line: String,
    /// The peer.
    pub from: SocketAddr,
}

impl ApiState {
    /// Writes an audit line; `Err` (500) if it cannot be made durable, so
    /// that nothing is done unrecorded.
    pub fn audit(
        &self,
        kind: AuditKind,
        who: Option<&str>,
        req: &Request,
        detail: &str,
    ) -> Result<(), Response> {
        let line = AuditLine {
            at_ms: wall_ms(),
            kind,
            who,
            from: Some(req.from),
            request: &req.line,
            detail,
        };
        self.audit.record(&line).map_err(|e| {
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "审计日志无法写入，请求未执行",
                "the audit log cannot be written: the request was not carried out",
                json!({ "error": e.to_string() }),
            )
        })
    }

    /// 401: recorded in the audit log, counted, and raised as a security
    /// alarm through the kiosk's event stream.
    pub fn unauthenticated(&self, req: &Request, who: Option<&str>, why: &str) -> Response {
        self.watch.metrics().refused(Refusal::Unauthenticated);
        let kind = if who.is_some() {
            AuditKind::LoginRefused
        } else {
            AuditKind::Unauthenticated
        };
        let _ = self.audit(kind, who, req, why);
        let reason = format!("operator API: {} from {}: {why}", req.line, req.from);
        self.journal_refusal(reason, who);
        answer(
            StatusCode::UNAUTHORIZED,
            "身份验证失败，此请求已记录为安全事件",
            "authentication failed; this request is recorded as a security event",
            json!({}),
        )
    }

    /// Sends a refusal to the kiosk, which journals it as a security event
    /// (in its hash chain) between customers. Should the kiosk's queue be
    /// full, the audit log still has the line.
    ///
    /// The kiosk raises the security alarm when it journals the refusal;
    /// only if it cannot take it does the API raise the alarm itself.
    fn journal_refusal(&self, reason: String, claimed: Option<&str>) {
        let refused = kiosk_core::Remote::Refused {
            reason: reason.clone(),
            claimed: claimed.map(String::from),
        };
        if self.commands.try_send(refused).is_err() {
            tracing::warn!(%reason, "the kiosk's queue is full: the refusal is in the audit log only");
            self.watch
                .on_event(self.clock.now(), &KioskEvent::SecurityAlarm { reason });
        }
    }

    /// 403: recorded (in the audit log and, as a security event, in the
    /// journal) and counted.
    pub fn forbidden(&self, req: &Request, staff: &Staff, zh: &str, en: &str) -> Response {
        self.watch.metrics().refused(Refusal::Forbidden);
        let reason = format!("operator API: {} from {}: {en}", req.line, req.from);
        self.journal_refusal(reason, Some(&staff.name));
        let _ = self.audit(AuditKind::Forbidden, Some(&staff.name), req, en);
        answer(StatusCode::FORBIDDEN, zh, en, json!({ "role": staff.role }))
    }

    /// The staff member behind the request's bearer token, if at least `min`.
    pub fn guard(&self, headers: &HeaderMap, req: &Request, min: Role) -> Result<Staff, Response> {
        let token = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let Some(token) = token else {
            return Err(self.unauthenticated(req, None, "no bearer token"));
        };
        let staff = self.tokens().get(token.trim(), Instant::now());
        let Some(staff) = staff else {
            return Err(self.unauthenticated(req, None, "unknown or expired token"));
        };
        if staff.role < min {
            return Err(self.forbidden(
                req,
                &staff,
                &format!("您的角色（{}）无权执行此操作", staff.role.name()),
                &format!(
                    "your role ({}) may not do this: it needs {}",
                    staff.role.name(),
                    min.name()
                ),
            ));
        }
        Ok(staff)
    }
}

/// Parses a JSON body, or answers 400 in both languages.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| {
        answer(
            StatusCode::BAD_REQUEST,
            "请求内容无效",
            &format!("the request body is not valid: {e}"),
            json!({}),
        )
    })
}
