//! Remote commands: verified, role-checked, audited, performed through the
//! operator API's path, answered.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kiosk_core::{AuthorisedCommand, Clock, KioskEvent, Remote, StaffCommand};
use kiosk_fleet::rumqttc::{AsyncClient, QoS};
use kiosk_fleet::signing::{CommandAnswer, Outcome, Refusal, Verifier};
use tokio::sync::mpsc;

use crate::audit::{wall_ms, AuditKind, AuditLine, AuditLog};
use crate::auth::Role;
use crate::metrics::Metrics;
use crate::watch::Watch;

/// Checks and performs remote commands, one at a time, in arrival order.
pub(super) struct Commander {
    pub(super) client: AsyncClient,
    pub(super) verifier: Verifier,
    pub(super) roles: HashMap<String, Role>,
    pub(super) watch: Watch,
    pub(super) commands: mpsc::Sender<Remote>,
    pub(super) audit: AuditLog,
    pub(super) command_wait: Duration,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) metrics: Metrics,
    pub(super) kiosk_id: String,
    pub(super) request: String,
    pub(super) result_topic: String,
}

/// The nonce of a command, read without trusting it (for the answer only).
fn nonce_of(payload: &[u8]) -> Option<String> {
    let signed: kiosk_fleet::signing::SignedCommand = serde_json::from_slice(payload).ok()?;
    let body: serde_json::Value = serde_json::from_str(&signed.body).ok()?;
    body.get("nonce")?.as_str().map(String::from)
}

impl Commander {
    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<Vec<u8>>) {
        while let Some(payload) = rx.recv().await {
            let nonce = nonce_of(&payload);
            let answer = self.handle(&payload, nonce.clone()).await;
            self.answer(&answer);
        }
    }

    fn answer(&self, answer: &CommandAnswer) {
        if let Err(e) = self.client.try_publish(
            self.result_topic.clone(),
            QoS::AtLeastOnce,
            false,
            answer.to_payload(),
        ) {
            tracing::warn!(error = %e, "fleet: the command's answer could not be queued");
        }
    }

    fn reply(
        &self,
        nonce: Option<String>,
        command: Option<&str>,
        outcome: Outcome,
        refusal: Option<Refusal>,
        detail: String,
        (zh, en): (String, String),
    ) -> CommandAnswer {
        CommandAnswer {
            kiosk_id: self.kiosk_id.clone(),
            nonce,
            command: command.map(String::from),
            outcome,
            refusal,
            detail,
            message_zh: zh,
            message_en: en,
        }
    }

    async fn handle(&mut self, payload: &[u8], nonce: Option<String>) -> CommandAnswer {
        let body = match self.verifier.verify(payload, wall_ms()) {
            Ok(body) => body,
            Err(refusal) => return self.refuse(nonce, None, refusal),
        };
        let name = body.command.name();
        let sender = body.sender.clone();
        let role = self.roles.get(&sender).copied().unwrap_or(Role::Viewer);
        match &body.command {
            StaffCommand::BeginClearing { .. } | StaffCommand::EndClearing { .. } => {
                let refusal = Refusal::NotRemote {
                    sender,
                    command: name.into(),
                };
                return self.refuse(nonce, Some(name), refusal);
            }
            _ if role < Role::Operator => {
                let refusal = Refusal::Forbidden {
                    sender,
                    command: name.into(),
                    role: role.name().into(),
                };
                return self.refuse(nonce, Some(name), refusal);
            }
            StaffCommand::ReportDamage { reporter, .. } if *reporter != sender => {
                return self.reply(
                    nonce,
                    Some(name),
                    Outcome::Refused,
                    None,
                    String::new(),
                    (
                        "报告人须为发送者本人".into(),
                        format!("the reporter must be the sender ({sender}), not {reporter:?}"),
                    ),
                );
            }
            _ => {}
        }
        if self.watch.view().stopping {
            return self.reply(
                nonce,
                Some(name),
                Outcome::Refused,
                None,
                String::new(),
                (
                    "终端正在停止，不再接受新请求".into(),
                    "the kiosk is stopping and takes nothing new".into(),
                ),
            );
        }
        let line = AuditLine {
            at_ms: wall_ms(),
            kind: AuditKind::Command,
            who: Some(&sender),
            from: None,
            request: &self.request,
            detail: name,
        };
        if let Err(e) = self.audit.record(&line) {
            return self.reply(
                nonce,
                Some(name),
                Outcome::Failed,
                None,
                e.to_string(),
                (
                    "审计日志无法写入，命令未执行".into(),
                    "the audit log cannot be written: the command was not carried out".into(),
                ),
            );
        }
        // The operator API's path: queued with who gave it, answered with
        // the kiosk's own result.
        let remote = Remote::Command(AuthorisedCommand {
            command: body.command.clone(),
            by: vec![sender],
        });
        let waiter = match self.watch.queue_command(|| self.commands.try_send(remote)) {
            Ok(w) => w,
            Err(_) => {
                return self.reply(
                    nonce,
                    Some(name),
                    Outcome::Failed,
                    None,
                    String::new(),
                    (
                        "终端忙，命令未排队，请稍后再试".into(),
                        "the kiosk is busy: the command was not queued, try again".into(),
                    ),
                )
            }
        };
        match tokio::time::timeout(self.command_wait, waiter).await {
            Ok(Ok(result)) => self.reply(
                nonce,
                Some(name),
                if result.ok {
                    Outcome::Done
                } else {
                    Outcome::Failed
                },
                None,
                result.detail,
                (
                    if result.ok {
                        "命令已执行".into()
                    } else {
                        "命令执行失败".into()
                    },
                    if result.ok {
                        "the command was carried out".into()
                    } else {
                        "the command failed".into()
                    },
                ),
            ),
            _ => self.reply(
                nonce,
                Some(name),
                Outcome::Queued,
                None,
                String::new(),
                (
                    "命令已排队，将在当前顾客交易结束后执行".into(),
                    "queued: the kiosk performs it when the customer in progress is done".into(),
                ),
            ),
        }
    }

    /// A refusal: audited, counted, journaled as a security event (or, if
    /// the kiosk's queue is full, raised as an alarm at once), answered.
    fn refuse(
        &self,
        nonce: Option<String>,
        command: Option<&str>,
        refusal: Refusal,
    ) -> CommandAnswer {
        let (zh, en) = refusal.messages();
        let (kind, counted) = if refusal.is_unauthenticated() {
            (
                AuditKind::Unauthenticated,
                crate::metrics::Refusal::Unauthenticated,
            )
        } else {
            (AuditKind::Forbidden, crate::metrics::Refusal::Forbidden)
        };
        self.metrics.refused(counted);
        let sender = refusal.sender().map(String::from);
        let _ = self.audit.record(&AuditLine {
            at_ms: wall_ms(),
            kind,
            who: sender.as_deref(),
            from: None,
            request: &self.request,
            detail: &en,
        });
        let reason = format!("{}: {en}", self.request);
        let refused = Remote::Refused {
            reason: reason.clone(),
            claimed: sender,
        };
        if self.commands.try_send(refused).is_err() {
            tracing::warn!(%reason, "the kiosk's queue is full: the refusal is in the audit log only");
            self.watch
                .on_event(self.clock.now(), &KioskEvent::SecurityAlarm { reason });
        }
        self.reply(
            nonce,
            command,
            Outcome::Refused,
            Some(refusal),
            String::new(),
            (zh, en),
        )
    }
}
