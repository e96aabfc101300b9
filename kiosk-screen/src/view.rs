//! A screen in words: what the page draws, in one language.
//!
//! Every text comes from the [`Catalog`]; the page only lays it out. The
//! kiosk's reasons are English phrases today (kiosk-core's `Screen` carries
//! strings): the known ones are translated through [`reason_msg`], and a
//! reason the catalog does not know (a backend's refusal text, staff's own
//! out-of-service note) is shown as given, after the catalog's "Reason:".

use std::collections::BTreeMap;

use kiosk_core::screen::CHECKING_ACCEPTOR;
use kiosk_core::{CustomerAction, DeviceKind, Screen};
use kiosk_hal::{AccountRefusal, ErrorKind, Money, PaymentMethod, RejectReason};
use serde::Serialize;
use tokio::time::Instant;

use crate::catalog::{Catalog, Lang, Msg};
use crate::receipt_text::method_msg;
use crate::state::Shown;

/// How a screen feels: the page colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tone {
    /// Ordinary steps.
    Info,
    /// Wait: the kiosk is working.
    Busy,
    /// Money was paid.
    Success,
    /// Something to act on; no harm done.
    Warning,
    /// Something went wrong: ask staff or go elsewhere.
    Error,
}

/// One line of text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// The text.
    pub text: String,
    /// Shown large (amounts, totals, the reference).
    pub big: bool,
}

/// A button that sends a customer action to the kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Button {
    /// Its label.
    pub label: String,
    /// The action it posts to `api/action`.
    pub action: CustomerAction,
    /// The main way forward (drawn strongest).
    pub primary: bool,
}

/// The on-screen keypad for the account number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Keypad {
    /// What to type.
    pub prompt: String,
    /// The OK key: sends `enter-account` with the digits.
    pub ok: String,
    /// Deletes the last digit.
    pub delete: String,
    /// Clears the number.
    pub clear: String,
}

/// Where else to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Channels {
    /// The heading.
    pub title: String,
    /// The channels.
    pub items: Vec<String>,
}

/// A countdown: the page counts `remaining_ms` down and writes the
/// seconds between `before` and `after`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Countdown {
    /// Time left when the view was made.
    pub remaining_ms: u64,
    /// Text before the number of seconds.
    pub before: String,
    /// Text after it.
    pub after: String,
}

/// Everything the page shows at one moment, in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct View {
    /// Which screen (kebab-case, as kiosk-core serialises it; `starting`
    /// before the kiosk showed anything).
    pub screen: String,
    /// Changes whenever the state does.
    pub version: u64,
    /// The language's BCP 47 tag.
    pub lang: &'static str,
    /// The language the switch button goes to (`en`, `zh`).
    pub switch_to: &'static str,
    /// The switch button's label, in the language it switches to.
    pub switch_label: String,
    /// The application's name.
    pub app_title: String,
    /// The colour of the screen.
    pub tone: Tone,
    /// The heading.
    pub title: String,
    /// The body.
    pub lines: Vec<Line>,
    /// Fault guidance for devices at fault now.
    pub notices: Vec<String>,
    /// Where else to pay, when this kiosk cannot help.
    pub channels: Option<Channels>,
    /// The account keypad (welcome screen).
    pub keypad: Option<Keypad>,
    /// Action buttons.
    pub buttons: Vec<Button>,
    /// The Done button of a held outcome (posts `api/dismiss`).
    pub dismiss: Option<String>,
    /// A countdown, if one runs.
    pub countdown: Option<Countdown>,
}

/// The kiosk-core English reason that `text` is, as a catalog message.
pub fn reason_msg(text: &str) -> Option<Msg> {
    let rejects = [
        (RejectReason::Counterfeit, Msg::ReasonNoteCounterfeit),
        (RejectReason::Inhibited, Msg::ReasonNoteInhibited),
        (RejectReason::Insertion, Msg::ReasonNoteInsertion),
        (RejectReason::Transport, Msg::ReasonNoteTransport),
        (RejectReason::HostReturned, Msg::ReasonNoteReturned),
        (RejectReason::Other, Msg::ReasonNoteOther),
    ];
    let refusals = [
        (AccountRefusal::Unknown, Msg::ReasonAccountUnknown),
        (AccountRefusal::Closed, Msg::ReasonAccountClosed),
        (AccountRefusal::NotPayable, Msg::ReasonAccountNotPayable),
    ];
    let fixed = [
        ("a note is stuck in the acceptor", Msg::ReasonNoteStuck),
        (
            "the note acceptor stopped responding",
            Msg::ReasonAcceptorStopped,
        ),
        (
            "the kiosk cannot take more notes",
            Msg::ReasonCannotTakeNotes,
        ),
        ("backend unreachable", Msg::ReasonBackendUnreachable),
        ("no payment method available", Msg::ReasonNoMethod),
        (CHECKING_ACCEPTOR, Msg::ReasonCheckingAcceptor),
    ];
    rejects
        .iter()
        .find(|(r, _)| r.describe() == text)
        .map(|(_, m)| *m)
        .or_else(|| {
            refusals
                .iter()
                .find(|(r, _)| r.describe() == text)
                .map(|(_, m)| *m)
        })
        .or_else(|| fixed.iter().find(|(t, _)| *t == text).map(|(_, m)| *m))
        .or_else(|| {
            DEVICES
                .iter()
                .find(|d| availability_reason(**d) == text)
                .map(|d| device_msgs(*d).0)
        })
}

/// Every device, for fault guidance.
pub const DEVICES: [DeviceKind; 6] = [
    DeviceKind::Acceptor,
    DeviceKind::CashBox,
    DeviceKind::Printer,
    DeviceKind::Reader,
    DeviceKind::Link,
    DeviceKind::Kiosk,
];

/// The out-of-service reason kiosk-core writes for a device fault
/// (`"cashbox fault"`, from its availability module).
pub fn availability_reason(device: DeviceKind) -> String {
    format!("{device:?} fault").to_lowercase()
}

/// A device's fault as an out-of-service reason and as guidance to the
/// other ways to pay. Exhaustive: a new device kind does not compile
/// until it has both.
pub fn device_msgs(device: DeviceKind) -> (Msg, Msg) {
    match device {
        DeviceKind::Acceptor => (Msg::ReasonAcceptorFault, Msg::FaultAcceptor),
        DeviceKind::CashBox => (Msg::ReasonCashBoxFault, Msg::FaultCashBox),
        DeviceKind::Printer => (Msg::ReasonPrinterFault, Msg::FaultPrinter),
        DeviceKind::Reader => (Msg::ReasonReaderFault, Msg::FaultReader),
        DeviceKind::Link => (Msg::ReasonLinkFault, Msg::FaultLink),
        DeviceKind::Kiosk => (Msg::ReasonKioskFault, Msg::FaultKiosk),
    }
}

/// kiosk-core's English alternative channel (`ALTERNATIVE_CHANNELS`) as a
/// catalog message.
pub fn channel_msg(channel: &str) -> Option<Msg> {
    match channel {
        "service counter" => Some(Msg::ChannelCounter),
        "another kiosk" => Some(Msg::ChannelKiosk),
        "mobile app" => Some(Msg::ChannelApp),
        _ => None,
    }
}

/// A device fault matters to the customer only if it changes what they
/// can do (a device the kiosk does not have would not be at fault).
fn guidance(faults: &BTreeMap<DeviceKind, ErrorKind>) -> impl Iterator<Item = Msg> + '_ {
    faults.keys().map(|d| device_msgs(*d).1)
}

struct Build<'a> {
    c: &'a Catalog,
    lang: Lang,
}

impl Build<'_> {
    fn t(&self, msg: Msg) -> String {
        self.c.text(self.lang, msg, &[])
    }
    fn t1(&self, msg: Msg, name: &str, value: &str) -> String {
        self.c.text(self.lang, msg, &[(name, value)])
    }
    fn money(&self, m: Money) -> String {
        self.c.money(self.lang, m)
    }
    fn line(&self, msg: Msg, name: &str, value: &str) -> Line {
        Line {
            text: self.t1(msg, name, value),
            big: false,
        }
    }
    fn big(&self, msg: Msg, name: &str, value: &str) -> Line {
        Line {
            text: self.t1(msg, name, value),
            big: true,
        }
    }
    fn plain(&self, msg: Msg) -> Line {
        Line {
            text: self.t(msg),
            big: false,
        }
    }
    fn reason(&self, text: &str) -> String {
        match reason_msg(text) {
            Some(m) => self.t(m),
            None => text.to_string(),
        }
    }
    fn methods(&self, methods: &[PaymentMethod]) -> String {
        let names: Vec<String> = methods.iter().map(|m| self.t(method_msg(*m))).collect();
        self.c.list(self.lang, &names)
    }
    fn channels(&self, given: &[String]) -> Channels {
        let mut items: Vec<String> = given
            .iter()
            .map(|ch| match channel_msg(ch) {
                Some(m) => self.t(m),
                None => ch.clone(),
            })
            .collect();
        if items.is_empty() {
            items = [Msg::ChannelCounter, Msg::ChannelKiosk, Msg::ChannelApp]
                .into_iter()
                .map(|m| self.t(m))
                .collect();
        }
        Channels {
            title: self.t(Msg::ChannelsTitle),
            items,
        }
    }
    fn method_button(&self, method: PaymentMethod) -> Button {
        let label = match method {
            PaymentMethod::Cash => self.t(Msg::ActionPayCash),
            PaymentMethod::Code => self.t(Msg::ActionPayCode),
        };
        Button {
            label,
            action: CustomerAction::ChooseMethod { method },
            primary: true,
        }
    }
    fn cancel(&self) -> Button {
        Button {
            label: self.t(Msg::ActionCancel),
            action: CustomerAction::Cancel,
            primary: false,
        }
    }
    fn confirm(&self) -> Button {
        Button {
            label: self.t(Msg::ActionConfirm),
            action: CustomerAction::Confirm,
            primary: true,
        }
    }
}

/// The kebab-case name kiosk-core's serde gives `screen` (`note-accepted`).
pub fn screen_name(screen: &Screen) -> String {
    serde_json::to_value(screen)
        .ok()
        .and_then(|v| v.get("screen").and_then(|s| s.as_str()).map(String::from))
        .unwrap_or_default()
}

/// `shown` in `lang` at `now`.
pub fn present(catalog: &Catalog, lang: Lang, shown: &Shown<'_>, now: Instant) -> View {
    let b = Build { c: catalog, lang };
    let other = match lang {
        Lang::Zh => Lang::En,
        Lang::En => Lang::Zh,
    };
    let mut view = View {
        screen: "starting".into(),
        version: shown.version,
        lang: lang.tag(),
        switch_to: other.code(),
        switch_label: b.t(Msg::LangSwitch),
        app_title: b.t(Msg::AppTitle),
        tone: Tone::Info,
        title: b.t(Msg::AppTitle),
        lines: Vec::new(),
        notices: guidance(shown.faults).map(|m| b.t(m)).collect(),
        channels: None,
        keypad: None,
        buttons: Vec::new(),
        dismiss: None,
        countdown: None,
    };
    let Some(screen) = shown.screen else {
        view.tone = Tone::Busy;
        return view;
    };
    view.screen = screen_name(screen);
    fill(&b, screen, shown, &mut view);
    if shown.held {
        // The session is over: its buttons would do nothing.
        view.buttons.clear();
        view.dismiss = Some(b.t(Msg::ActionDone));
    }
    if let Some(deadline) = shown.deadline {
        let msg = match screen {
            Screen::InsertNotes { .. }
            | Screen::NoteAccepted { .. }
            | Screen::NoteRejected { .. }
                if !shown.held =>
            {
                Msg::CountdownInsert
            }
            _ => Msg::CountdownReturn,
        };
        const MARK: &str = "\u{1}";
        let text = b.t1(msg, "seconds", MARK);
        let (before, after) = text.split_once(MARK).unwrap_or((&text, ""));
        view.countdown = Some(Countdown {
            remaining_ms: deadline.saturating_duration_since(now).as_millis() as u64,
            before: before.to_string(),
            after: after.to_string(),
        });
    }
    view
}

fn fill(b: &Build<'_>, screen: &Screen, shown: &Shown<'_>, v: &mut View) {
    match screen {
        Screen::Welcome { methods } => {
            v.title = b.t(Msg::WelcomeTitle);
            v.lines
                .push(b.line(Msg::WelcomeMethods, "methods", &b.methods(methods)));
            v.keypad = Some(Keypad {
                prompt: b.t(Msg::KeypadPrompt),
                ok: b.t(Msg::KeypadOk),
                delete: b.t(Msg::KeypadDelete),
                clear: b.t(Msg::KeypadClear),
            });
        }
        Screen::OutOfService {
            reason,
            alternatives,
        } => {
            v.tone = Tone::Error;
            v.title = b.t(Msg::OutOfServiceTitle);
            v.lines
                .push(b.line(Msg::OutOfServiceReason, "reason", &b.reason(reason)));
            v.channels = Some(b.channels(alternatives));
        }
        Screen::CheckingAccount => {
            v.tone = Tone::Busy;
            v.title = b.t(Msg::CheckingTitle);
            v.lines.push(b.plain(Msg::CheckingBody));
        }
        Screen::ConfirmAccount {
            holder,
            amount_due,
            balance,
            methods,
        } => {
            v.title = b.t(Msg::ConfirmTitle);
            v.lines.push(b.big(Msg::ConfirmHolder, "holder", holder));
            v.lines
                .push(b.big(Msg::ConfirmDue, "amount", &b.money(*amount_due)));
            v.lines
                .push(b.line(Msg::ConfirmBalance, "amount", &b.money(*balance)));
            v.lines.push(b.plain(Msg::ConfirmChoose));
            v.buttons
                .extend(methods.iter().map(|m| b.method_button(*m)));
            v.buttons.push(b.cancel());
        }
        Screen::AccountRefused { message } => {
            v.tone = Tone::Warning;
            v.title = b.t(Msg::RefusedTitle);
            v.lines
                .push(b.line(Msg::RefusedReason, "reason", &b.reason(message)));
            v.lines.push(b.plain(Msg::NothingTaken));
        }
        Screen::CannotCheckAccount { alternatives } => {
            v.tone = Tone::Warning;
            v.title = b.t(Msg::CannotCheckTitle);
            v.lines.push(b.plain(Msg::NothingTaken));
            v.channels = Some(b.channels(alternatives));
        }
        Screen::MethodUnavailable { method, offered } => {
            v.tone = Tone::Warning;
            v.title = b.t1(Msg::UnavailableTitle, "method", &b.t(method_msg(*method)));
            if offered.is_empty() {
                v.lines.push(b.plain(Msg::UnavailableNone));
                v.channels = Some(b.channels(&[]));
            } else {
                v.lines
                    .push(b.line(Msg::UnavailableOffered, "methods", &b.methods(offered)));
                v.buttons
                    .extend(offered.iter().map(|m| b.method_button(*m)));
            }
            v.buttons.push(b.cancel());
        }
        Screen::InsertNotes { accepted, total } => {
            v.title = b.t(Msg::InsertTitle);
            let notes: Vec<String> = accepted.iter().map(|m| b.money(*m)).collect();
            v.lines
                .push(b.line(Msg::InsertAccepted, "notes", &b.c.list(b.lang, &notes)));
            v.lines.push(b.big(Msg::Total, "amount", &b.money(*total)));
            insertion_buttons(b, *total, v);
        }
        Screen::NoteAccepted { value, total } => {
            v.tone = Tone::Success;
            v.title = b.t1(Msg::NoteAcceptedTitle, "value", &b.money(*value));
            v.lines.push(b.big(Msg::Total, "amount", &b.money(*total)));
            v.lines.push(b.plain(Msg::NoteAcceptedContinue));
            insertion_buttons(b, *total, v);
        }
        Screen::NoteRejected { reason, total } => {
            v.tone = Tone::Warning;
            v.title = b.t(Msg::NoteRejectedTitle);
            v.lines
                .push(b.line(Msg::Reason, "reason", &b.reason(reason)));
            v.lines.push(b.big(Msg::Total, "amount", &b.money(*total)));
            insertion_buttons(b, *total, v);
        }
        Screen::InsertionStopped { reason, total } => {
            v.tone = Tone::Warning;
            v.title = b.t(Msg::StoppedTitle);
            v.lines
                .push(b.line(Msg::Reason, "reason", &b.reason(reason)));
            v.lines
                .push(b.big(Msg::StoppedTotal, "amount", &b.money(*total)));
        }
        Screen::PresentCode { amount } => {
            v.title = b.t(Msg::CodeTitle);
            v.lines
                .push(b.big(Msg::CodeAmount, "amount", &b.money(*amount)));
            v.lines.push(b.plain(Msg::CodeHint));
            v.buttons.push(b.cancel());
        }
        Screen::CodeUnreadable => {
            v.tone = Tone::Warning;
            v.title = b.t(Msg::CodeUnreadableTitle);
            v.lines.push(b.plain(Msg::CodeHint));
            v.buttons.push(b.cancel());
        }
        Screen::Processing { amount } => {
            v.tone = Tone::Busy;
            v.title = b.t(Msg::ProcessingTitle);
            v.lines
                .push(b.big(Msg::ProcessingAmount, "amount", &b.money(*amount)));
            v.lines.push(b.plain(Msg::ProcessingHint));
        }
        Screen::PaymentSuccess {
            amount,
            new_balance,
            reference,
        } => {
            v.tone = Tone::Success;
            v.title = b.t(Msg::SuccessTitle);
            v.lines
                .push(b.big(Msg::SuccessAmount, "amount", &b.money(*amount)));
            v.lines
                .push(b.big(Msg::SuccessBalance, "amount", &b.money(*new_balance)));
            v.lines
                .push(b.line(Msg::Reference, "reference", &reference.0));
            v.lines.push(b.plain(Msg::SuccessReceipt));
        }
        Screen::PaymentPending { amount, reference } => {
            v.tone = Tone::Success;
            v.title = b.t(Msg::PendingTitle);
            v.lines
                .push(b.big(Msg::PendingAmount, "amount", &b.money(*amount)));
            v.lines.push(b.plain(Msg::PendingBody));
            v.lines
                .push(b.big(Msg::Reference, "reference", &reference.0));
        }
        Screen::PaymentFailed { reason, reference } => {
            v.tone = Tone::Error;
            v.title = b.t(Msg::FailedTitle);
            v.lines
                .push(b.line(Msg::Reason, "reason", &b.reason(reason)));
            v.lines
                .push(b.big(Msg::Reference, "reference", &reference.0));
            v.lines.push(b.plain(Msg::AskStaffBody));
        }
        Screen::AskStaff { reason, reference } => {
            v.tone = Tone::Error;
            v.title = b.t(Msg::AskStaffTitle);
            v.lines
                .push(b.line(Msg::Reason, "reason", &b.reason(reason)));
            v.lines
                .push(b.big(Msg::Reference, "reference", &reference.0));
            v.lines.push(b.plain(Msg::AskStaffBody));
        }
        Screen::ReceiptUnavailable { reference } => {
            v.tone = Tone::Warning;
            v.title = b.t(Msg::ReceiptUnavailableTitle);
            if let Some(c) = shown.credited.filter(|c| c.reference == *reference) {
                v.lines
                    .push(b.big(Msg::SuccessAmount, "amount", &b.money(c.amount)));
                v.lines
                    .push(b.line(Msg::SuccessBalance, "amount", &b.money(c.new_balance)));
            }
            v.lines
                .push(b.big(Msg::Reference, "reference", &reference.0));
            v.lines.push(b.plain(Msg::ReceiptUnavailableBody));
        }
        Screen::NothingPaid => {
            v.title = b.t(Msg::NothingPaidTitle);
            v.lines.push(b.plain(Msg::NothingTaken));
        }
    }
}

/// Confirm once money is in; Cancel only before (a cancel after a note
/// still pays what is in the box, so it would mislead).
fn insertion_buttons(b: &Build<'_>, total: Money, v: &mut View) {
    if total.is_zero() {
        v.buttons.push(b.cancel());
    } else {
        v.buttons.push(b.confirm());
    }
}
