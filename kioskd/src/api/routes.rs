//! The route handlers.

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kiosk_core::journal::Journal;
use kiosk_core::machine::clearing::check_counted_notes;
use kiosk_core::{AuthorisedCommand, CustomerAction, Remote, StaffCommand};
use kiosk_hal::Money;
use serde::Deserialize;
use serde_json::json;

use super::reply::{answer, parse_body, Request};
use super::ApiState;
use crate::audit::AuditKind;
use crate::auth::{new_token, Role, Staff};
use crate::dual::{ClearingStep, DualControl, DualRefusal};
use crate::metrics::DEVICES;

type Peer = ConnectInfo<SocketAddr>;

fn req(line: &str, from: SocketAddr) -> Request {
    Request {
        line: line.to_string(),
        from,
    }
}

fn unwrap(r: Result<Response, Response>) -> Response {
    r.unwrap_or_else(|e| e)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    name: String,
    password: String,
}

/// `POST /v1/login`.
pub async fn login(State(s): State<ApiState>, ConnectInfo(from): Peer, body: Bytes) -> Response {
    let r = req("POST /v1/login", from);
    let login: Login = match parse_body(&body) {
        Ok(l) => l,
        Err(e) => return e,
    };
    let staffing = s.staffing.clone();
    let (name, password) = (login.name.clone(), login.password);
    // argon2 is slow on purpose: off the async threads.
    let checked =
        tokio::task::spawn_blocking(move || staffing.authenticate(&name, &password)).await;
    let Ok(Some(staff)) = checked else {
        return s.unauthenticated(&r, Some(&login.name), "wrong name or password");
    };
    let token = match new_token() {
        Ok(t) => t,
        Err(e) => {
            return answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "无法生成会话令牌",
                "no session token could be made",
                json!({ "error": e.to_string() }),
            )
        }
    };
    if let Err(e) = s.audit(AuditKind::Login, Some(&staff.name), &r, staff.role.name()) {
        return e;
    }
    let ttl = {
        let mut tokens = s.tokens();
        tokens.insert(token.clone(), staff.clone(), Instant::now());
        tokens.ttl()
    };
    answer(
        StatusCode::OK,
        "登录成功",
        "logged in",
        json!({ "token": token, "name": staff.name, "role": staff.role, "expires_in_s": ttl.as_secs() }),
    )
}

/// `POST /v1/logout`.
pub async fn logout(
    State(s): State<ApiState>,
    ConnectInfo(from): Peer,
    headers: HeaderMap,
) -> Response {
    let r = req("POST /v1/logout", from);
    let staff = match s.guard(&headers, &r, Role::Viewer) {
        Ok(staff) => staff,
        Err(e) => return e,
    };
    if let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        s.tokens().remove(token.trim());
    }
    let _ = s.audit(AuditKind::Logout, Some(&staff.name), &r, "");
    answer(StatusCode::OK, "已退出登录", "logged out", json!({}))
}

/// `GET /v1/status`.
pub async fn status(
    State(s): State<ApiState>,
    ConnectInfo(from): Peer,
    headers: HeaderMap,
) -> Response {
    let r = req("GET /v1/status", from);
    if let Err(e) = s.guard(&headers, &r, Role::Viewer) {
        return e;
    }
    let v = s.watch.view();
    let devices: serde_json::Map<String, serde_json::Value> = DEVICES
        .iter()
        .map(|d| {
            let fault = v.faults.get(d);
            (
                crate::metrics::device_label(*d).to_string(),
                json!({ "ok": fault.is_none(), "fault": fault, "identity": s.identities.get(*d) }),
            )
        })
        .collect();
    let (zh, en) = if v.stopping {
        ("终端正在停止", "the kiosk is stopping")
    } else if !v.serving {
        ("终端正在启动", "the kiosk is starting")
    } else if v.offered_methods.is_empty() {
        ("终端暂停服务", "the kiosk is out of service")
    } else {
        ("终端正常服务", "the kiosk is in service")
    };
    answer(
        StatusCode::OK,
        zh,
        en,
        json!({
            "kiosk_id": s.kiosk_id,
            "serving": v.serving,
            "stopping": v.stopping,
            "devices": devices,
            "offered_methods": v.offered_methods,
            "screen": v.screen,
            "session": v.session,
            "pending_payments": v.pending_payments.len(),
            "pending_keys": v.pending_payments,
            "in_doubt_notes": v.in_doubt_notes.len(),
            "in_doubt_note_ids": v.in_doubt_notes,
            "tickets_open": v.open_tickets.len(),
            "clearing_open": v.clearing_open,
        }),
    )
}

/// `GET /v1/tickets`.
pub async fn tickets(
    State(s): State<ApiState>,
    ConnectInfo(from): Peer,
    headers: HeaderMap,
) -> Response {
    let r = req("GET /v1/tickets", from);
    if let Err(e) = s.guard(&headers, &r, Role::Viewer) {
        return e;
    }
    let open: Vec<_> = s.watch.view().open_tickets.into_values().collect();
    answer(
        StatusCode::OK,
        &format!("{} 张未关闭的故障单", open.len()),
        &format!("{} open tickets", open.len()),
        json!({ "tickets": open }),
    )
}

/// `GET /v1/cash-counts`: what the journal itself says (read from the
/// file, read-only, through the running kiosk's log), not a counter kept
/// beside it.
pub async fn cash_counts(
    State(s): State<ApiState>,
    ConnectInfo(from): Peer,
    headers: HeaderMap,
) -> Response {
    let r = req("GET /v1/cash-counts", from);
    if let Err(e) = s.guard(&headers, &r, Role::Viewer) {
        return e;
    }
    let (path, currency) = (s.journal.clone(), s.currency);
    let read =
        tokio::task::spawn_blocking(move || Journal::open_read_only(&path)?.cash_counts(currency))
            .await;
    match read {
        Ok(Ok(counts)) => {
            let notes = counts.in_box_notes();
            let total = counts
                .in_box_total()
                .map_or_else(|| "?".to_string(), |t| t.to_string());
            answer(
                StatusCode::OK,
                &format!("自上次清箱以来钱箱内应有 {notes} 张，合计 {total}"),
                &format!(
                    "{notes} notes, {total}, expected in the cash box since the last clearing"
                ),
                json!({ "cash_counts": counts }),
            )
        }
        Ok(Err(e)) => answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "无法读取流水账",
            &format!("cannot read the journal: {e}"),
            json!({}),
        ),
        Err(e) => answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            "读取流水账失败",
            &format!("reading the journal failed: {e}"),
            json!({}),
        ),
    }
}

/// `POST /v1/commands`.
pub async fn command(
    State(s): State<ApiState>,
    ConnectInfo(from): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    unwrap(command_inner(s, from, headers, body).await)
}

async fn command_inner(
    s: ApiState,
    from: SocketAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Response> {
    let r = req("POST /v1/commands", from);
    let staff = s.guard(&headers, &r, Role::Operator)?;
    let command: StaffCommand = parse_body(&body)?;
    if s.watch.view().stopping {
        return Err(stopping());
    }
    match command {
        StaffCommand::BeginClearing { operators } => {
            let second = DualControl::second_of(&staff, &operators)
                .map_err(|why| refuse_dual(&s, &r, &staff, &why))?;
            propose(&s, &r, &staff, ClearingStep::Begin, Some(second))
        }
        StaffCommand::EndClearing {
            counted,
            counted_notes,
            counterfeit_found,
            settle,
        } => {
            // A count by denomination that does not add up is refused here,
            // before a second person is asked to confirm it.
            if let Some(Err(refusal)) = counted_notes
                .as_deref()
                .map(|notes| check_counted_notes(counted, notes))
            {
                return Err(answer(
                    StatusCode::BAD_REQUEST,
                    "按面额清点的张数合计与清点总额不符，请重新清点",
                    &refusal.to_string(),
                    json!({}),
                ));
            }
            let step = ClearingStep::End {
                counted,
                counted_notes,
                counterfeit_found,
                settle,
            };
            propose(&s, &r, &staff, step, None)
        }
        StaffCommand::ReportDamage { reporter, .. } if reporter != staff.name => Err(answer(
            StatusCode::BAD_REQUEST,
            "报告人须为登录者本人",
            &format!(
                "the reporter must be you ({}), not {reporter:?}",
                staff.name
            ),
            json!({}),
        )),
        other => {
            let by = vec![staff.name.clone()];
            send(&s, &r, &staff, other, by).await
        }
    }
}

fn stopping() -> Response {
    answer(
        StatusCode::SERVICE_UNAVAILABLE,
        "终端正在停止，不再接受新请求",
        "the kiosk is stopping and takes nothing new",
        json!({}),
    )
}

fn refuse_dual(s: &ApiState, r: &Request, staff: &Staff, why: &DualRefusal) -> Response {
    let (zh, en) = why.messages();
    if why.is_forbidden() {
        s.forbidden(r, staff, &zh, &en)
    } else if *why == DualRefusal::Unknown {
        answer(StatusCode::NOT_FOUND, &zh, &en, json!({}))
    } else {
        answer(StatusCode::BAD_REQUEST, &zh, &en, json!({}))
    }
}

fn propose(
    s: &ApiState,
    r: &Request,
    staff: &Staff,
    step: ClearingStep,
    second: Option<String>,
) -> Result<Response, Response> {
    let detail = serde_json::to_string(&step).unwrap_or_default();
    s.audit(AuditKind::ClearingProposed, Some(&staff.name), r, &detail)?;
    let id = s
        .dual()
        .propose(step, staff, second.clone(), Instant::now())
        .map_err(|why| refuse_dual(s, r, staff, &why))?;
    let who_zh = second.clone().unwrap_or_else(|| "另一名人员".into());
    let who_en = second.unwrap_or_else(|| "a second person".into());
    Ok(answer(
        StatusCode::ACCEPTED,
        &format!("等待 {who_zh} 用自己的账号确认（双人控制）"),
        &format!("waiting for {who_en} to confirm with their own login (dual control)"),
        json!({ "proposal": id, "confirm": format!("/v1/clearing/{id}/confirm") }),
    ))
}

/// Queues `command` to the kiosk and waits for its result (200), or
/// answers 202 when the kiosk is busy with a customer for longer.
async fn send(
    s: &ApiState,
    r: &Request,
    staff: &Staff,
    command: StaffCommand,
    by: Vec<String>,
) -> Result<Response, Response> {
    let name = command.name();
    s.audit(AuditKind::Command, Some(&staff.name), r, name)?;
    let remote = Remote::Command(AuthorisedCommand { command, by });
    let waiter = s
        .watch
        .queue_command(|| s.commands.try_send(remote))
        .map_err(|_| {
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "终端忙，命令未排队，请稍后再试",
                "the kiosk is busy: the command was not queued, try again",
                json!({ "command": name }),
            )
        })?;
    match tokio::time::timeout(s.command_wait, waiter).await {
        Ok(Ok(result)) => Ok(answer(
            StatusCode::OK,
            if result.ok {
                "命令已执行"
            } else {
                "命令执行失败"
            },
            if result.ok {
                "the command was carried out"
            } else {
                "the command failed"
            },
            json!({ "command": result.command, "ok": result.ok, "detail": result.detail }),
        )),
        _ => Ok(answer(
            StatusCode::ACCEPTED,
            "命令已排队，将在当前顾客交易结束后执行",
            "queued: the kiosk performs it when the customer in progress is done",
            json!({ "command": name }),
        )),
    }
}

/// `GET /v1/clearing`.
pub async fn clearing(
    State(s): State<ApiState>,
    ConnectInfo(from): Peer,
    headers: HeaderMap,
) -> Response {
    let r = req("GET /v1/clearing", from);
    if let Err(e) = s.guard(&headers, &r, Role::Viewer) {
        return e;
    }
    let waiting = s.dual().waiting(Instant::now());
    answer(
        StatusCode::OK,
        &format!("{} 个清箱步骤等待确认", waiting.len()),
        &format!(
            "{} clearing steps waiting for a second person",
            waiting.len()
        ),
        json!({ "waiting": waiting, "clearing_open": s.watch.view().clearing_open }),
    )
}

/// `POST /v1/clearing/{id}/confirm`.
pub async fn confirm(
    State(s): State<ApiState>,
    ConnectInfo(from): Peer,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> Response {
    unwrap(confirm_inner(s, from, id, headers).await)
}

async fn confirm_inner(
    s: ApiState,
    from: SocketAddr,
    id: u64,
    headers: HeaderMap,
) -> Result<Response, Response> {
    let r = req(&format!("POST /v1/clearing/{id}/confirm"), from);
    let staff = s.guard(&headers, &r, Role::Operator)?;
    if s.watch.view().stopping {
        return Err(stopping());
    }
    let now = Instant::now();
    let proposer = s
        .dual()
        .waiting(now)
        .into_iter()
        .find(|p| p.id == id)
        .map(|p| p.proposed_by);
    let command = s
        .dual()
        .confirm(id, &staff, now)
        .map_err(|why| refuse_dual(&s, &r, &staff, &why))?;
    // Both people of the dual control go into the journal with the command.
    let by: Vec<String> = proposer.into_iter().chain([staff.name.clone()]).collect();
    s.audit(
        AuditKind::ClearingConfirmed,
        Some(&staff.name),
        &r,
        command.name(),
    )?;
    send(&s, &r, &staff, command, by).await
}

/// `POST /v1/customer`.
pub async fn customer(State(s): State<ApiState>, body: Bytes) -> Response {
    let Some(gate) = &s.customers else {
        return answer(
            StatusCode::NOT_FOUND,
            "此终端不通过接口接受顾客操作",
            "this kiosk takes no customer actions over the API (api.customer-actions)",
            json!({}),
        );
    };
    let action: CustomerAction = match parse_body(&body) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let Some(tx) = gate.sender() else {
        return stopping();
    };
    match tx.send(action).await {
        Ok(()) => answer(StatusCode::ACCEPTED, "已收到", "taken", json!({})),
        Err(_) => stopping(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimNote {
    value: Money,
    #[serde(default)]
    counterfeit: bool,
}

/// `POST /v1/sim/notes` (`--simulate` only).
pub async fn sim_note(State(s): State<ApiState>, body: Bytes) -> Response {
    let Some(slot) = &s.slot else {
        return answer(
            StatusCode::NOT_FOUND,
            "仅在模拟模式下可用",
            "only with --simulate",
            json!({}),
        );
    };
    let note: SimNote = match parse_body(&body) {
        Ok(n) => n,
        Err(e) => return e,
    };
    match slot.insert(note.value, note.counterfeit) {
        Ok(insertion) => answer(
            StatusCode::OK,
            "纸币已放入",
            "note put in the slot",
            json!({ "insertion": format!("{insertion:?}") }),
        ),
        Err(e) => answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            "模拟设备故障",
            &format!("the simulated device failed: {e}"),
            json!({}),
        ),
    }
}

/// `GET /metrics`.
pub async fn metrics(State(s): State<ApiState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.watch.metrics().render(),
    )
        .into_response()
}
