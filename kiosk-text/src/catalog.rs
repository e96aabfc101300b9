//! Message catalogs: every text the customer reads, per language.
//!
//! One TOML file per language (`catalog/zh.toml`, `catalog/en.toml`),
//! built in and replaceable by the integrator ([`Catalog::load_dir`]).
//! Every message the code can show is a [`Msg`]; a catalog is checked
//! whole when it is loaded — every message present and non-empty in every
//! language, no unknown keys, no placeholder the code does not fill — so a
//! missing or misspelt key is an error at start, never a raw id on screen.
//!
//! Depends on nothing but kiosk-hal, so the payment session (kiosk-core)
//! prints its receipts from the catalog the screen (kiosk-screen) uses.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use kiosk_hal::Money;
use serde::{Deserialize, Serialize};

/// A language of the catalog. Chinese (简体) is the default.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Lang {
    /// 简体中文, the default.
    #[default]
    Zh,
    /// English, the second language.
    En,
}

impl Lang {
    /// Every language, the default first.
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];

    /// The short code used in URLs and file names (`zh`, `en`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The BCP 47 tag for the page's `lang` attribute.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The language whose [`Lang::code`] is `code`.
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }
}

macro_rules! messages {
    ($( $variant:ident = $key:literal [$($arg:ident),*] ; )*) => {
        /// A message the screen or the receipt can show. Its catalog key
        /// and the placeholders the code fills are fixed here.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Msg {
            $(
                #[doc = concat!("Catalog key `", $key, "`.")]
                $variant,
            )*
        }

        impl Msg {
            /// Every message, in catalog order.
            pub const ALL: &'static [Msg] = &[$(Msg::$variant),*];

            /// Its key in the catalog files (`welcome.title`).
            pub fn key(self) -> &'static str {
                match self { $(Msg::$variant => $key),* }
            }

            /// The placeholders the code fills (`{amount}`); a catalog text
            /// may use any of them and no other.
            pub fn args(self) -> &'static [&'static str] {
                match self { $(Msg::$variant => &[$(stringify!($arg)),*]),* }
            }
        }
    };
}

messages! {
    AppTitle = "app.title" [];
    LangSwitch = "app.switch-language" [];
    MoneyCny = "money.cny" [amount];
    MoneyOther = "money.other" [amount, currency];
    ListSeparator = "app.list-separator" [];
    MethodCash = "method.cash" [];
    MethodCode = "method.code" [];
    KeypadPrompt = "keypad.prompt" [];
    KeypadOk = "keypad.ok" [];
    KeypadDelete = "keypad.delete" [];
    KeypadClear = "keypad.clear" [];
    ActionPayCash = "action.pay-cash" [];
    ActionPayCode = "action.pay-code" [];
    ActionConfirm = "action.confirm" [];
    ActionCancel = "action.cancel" [];
    ActionDone = "action.done" [];
    CountdownInsert = "countdown.insert" [seconds];
    CountdownReturn = "countdown.return" [seconds];
    ChannelsTitle = "channels.title" [];
    ChannelCounter = "channels.service-counter" [];
    ChannelKiosk = "channels.another-kiosk" [];
    ChannelApp = "channels.mobile-app" [];
    WelcomeTitle = "welcome.title" [];
    WelcomeMethods = "welcome.methods" [methods];
    OutOfServiceTitle = "out-of-service.title" [];
    OutOfServiceReason = "out-of-service.reason" [reason];
    CheckingTitle = "checking-account.title" [];
    CheckingBody = "checking-account.body" [];
    ConfirmTitle = "confirm-account.title" [];
    ConfirmHolder = "confirm-account.holder" [holder];
    ConfirmDue = "confirm-account.amount-due" [amount];
    ConfirmBalance = "confirm-account.balance" [amount];
    ConfirmChoose = "confirm-account.choose" [];
    RefusedTitle = "account-refused.title" [];
    RefusedReason = "account-refused.reason" [reason];
    NothingTaken = "common.nothing-taken" [];
    CannotCheckTitle = "cannot-check-account.title" [];
    UnavailableTitle = "method-unavailable.title" [method];
    UnavailableOffered = "method-unavailable.offered" [methods];
    UnavailableNone = "method-unavailable.none" [];
    InsertTitle = "insert-notes.title" [];
    InsertAccepted = "insert-notes.accepted" [notes];
    Total = "common.total" [amount];
    NoteAcceptedTitle = "note-accepted.title" [value];
    NoteAcceptedContinue = "note-accepted.continue" [];
    NoteRejectedTitle = "note-rejected.title" [];
    Reason = "common.reason" [reason];
    StoppedTitle = "insertion-stopped.title" [];
    StoppedTotal = "insertion-stopped.total" [amount];
    CodeTitle = "present-code.title" [];
    CodeAmount = "present-code.amount" [amount];
    CodeHint = "present-code.hint" [];
    CodeUnreadableTitle = "code-unreadable.title" [];
    ProcessingTitle = "processing.title" [];
    ProcessingAmount = "processing.amount" [amount];
    ProcessingHint = "processing.hint" [];
    SuccessTitle = "payment-success.title" [];
    SuccessAmount = "payment-success.amount" [amount];
    SuccessBalance = "payment-success.new-balance" [amount];
    SuccessReceipt = "payment-success.take-receipt" [];
    Reference = "common.reference" [reference];
    PendingTitle = "payment-pending.title" [];
    PendingBody = "payment-pending.body" [];
    PendingAmount = "payment-pending.amount" [amount];
    FailedTitle = "payment-failed.title" [];
    AskStaffBody = "common.ask-staff" [];
    AskStaffTitle = "ask-staff.title" [];
    ReceiptUnavailableTitle = "receipt-unavailable.title" [];
    ReceiptUnavailableBody = "receipt-unavailable.body" [];
    NothingPaidTitle = "nothing-paid.title" [];
    ReasonNoteCounterfeit = "reason.note-counterfeit" [];
    ReasonNoteInhibited = "reason.note-value-not-accepted" [];
    ReasonNoteInsertion = "reason.note-inserted-incorrectly" [];
    ReasonNoteTransport = "reason.note-not-transported" [];
    ReasonNoteReturned = "reason.note-returned" [];
    ReasonNoteOther = "reason.note-rejected" [];
    ReasonAccountUnknown = "reason.account-unknown" [];
    ReasonAccountClosed = "reason.account-closed" [];
    ReasonAccountNotPayable = "reason.account-not-payable" [];
    ReasonNoteStuck = "reason.note-stuck" [];
    ReasonAcceptorStopped = "reason.acceptor-stopped" [];
    ReasonCannotTakeNotes = "reason.cannot-take-notes" [];
    ReasonBackendUnreachable = "reason.backend-unreachable" [];
    ReasonNoMethod = "reason.no-payment-method" [];
    ReasonCheckingAcceptor = "reason.checking-acceptor" [];
    ReasonAcceptorFault = "reason.acceptor-fault" [];
    ReasonCashBoxFault = "reason.cash-box-fault" [];
    ReasonPrinterFault = "reason.printer-fault" [];
    ReasonReaderFault = "reason.reader-fault" [];
    ReasonLinkFault = "reason.link-fault" [];
    ReasonKioskFault = "reason.kiosk-fault" [];
    FaultAcceptor = "fault.acceptor" [];
    FaultCashBox = "fault.cash-box" [];
    FaultPrinter = "fault.printer" [];
    FaultReader = "fault.reader" [];
    FaultLink = "fault.link" [];
    FaultKiosk = "fault.kiosk" [];
    ReceiptTitle = "receipt.title" [];
    ReceiptSite = "receipt.site" [site];
    ReceiptKiosk = "receipt.kiosk" [kiosk];
    ReceiptReference = "receipt.reference" [reference];
    ReceiptTime = "receipt.time" [time];
    ReceiptAccount = "receipt.account" [account];
    ReceiptMethod = "receipt.method" [method];
    ReceiptAmount = "receipt.amount" [amount];
    ReceiptCode = "receipt.code" [code];
    ReceiptBackendRef = "receipt.backend-reference" [reference];
    ReceiptBalance = "receipt.new-balance" [amount];
    ReceiptPending = "receipt.pending" [];
    ReceiptKeep = "receipt.keep" [];
}

/// Why a catalog was refused: every problem found, per language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    /// The problems, each naming its language and key.
    pub problems: Vec<String>,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "message catalog refused: {}", self.problems.join("; "))
    }
}

impl std::error::Error for CatalogError {}

/// The texts of every language, checked complete (see the module docs).
#[derive(Clone, PartialEq, Eq)]
pub struct Catalog {
    /// Every text, at [`slot`]`(lang, msg)`: a catalog is complete, so
    /// a text is an index away, not a tree search (every receipt a
    /// simulated hall prints looks up a dozen).
    texts: Vec<String>,
}

/// Where the text of `msg` in `lang` sits in [`Catalog::texts`].
fn slot(lang: Lang, msg: Msg) -> usize {
    lang as usize * Msg::ALL.len() + msg as usize
}

/// Counts, not every text: a catalog sits inside configurations that are
/// logged.
impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalog")
            .field("languages", &Lang::ALL.len())
            .field("texts", &self.texts.len())
            .finish()
    }
}

/// The built-in catalog ([`Catalog::builtin`]).
impl Default for Catalog {
    fn default() -> Self {
        Catalog::builtin()
    }
}

const BUILTIN_ZH: &str = include_str!("../catalog/zh.toml");
const BUILTIN_EN: &str = include_str!("../catalog/en.toml");

impl Catalog {
    /// The catalogs shipped with the crate (`kiosk-text/catalog/*.toml`).
    ///
    /// They are checked by this crate's tests, so this cannot fail in a
    /// released build; it panics with the problems if someone breaks them.
    pub fn builtin() -> Catalog {
        Catalog::builtin_shared().as_ref().clone()
    }

    /// The built-in catalog, parsed once per process and shared: what a
    /// session's default configuration prints its receipts from.
    pub fn builtin_shared() -> std::sync::Arc<Catalog> {
        static BUILTIN: std::sync::OnceLock<std::sync::Arc<Catalog>> = std::sync::OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                match Catalog::from_sources(&[(Lang::Zh, BUILTIN_ZH), (Lang::En, BUILTIN_EN)]) {
                    Ok(c) => std::sync::Arc::new(c),
                    Err(e) => panic!("the built-in catalog is broken: {e}"),
                }
            })
            .clone()
    }

    /// The integrator's catalogs: `zh.toml` and `en.toml` in `dir`.
    pub fn load_dir(dir: &Path) -> Result<Catalog, CatalogError> {
        let mut sources = Vec::new();
        let mut problems = Vec::new();
        for lang in Lang::ALL {
            let path = dir.join(format!("{}.toml", lang.code()));
            match std::fs::read_to_string(&path) {
                Ok(text) => sources.push((lang, text)),
                Err(e) => problems.push(format!("{}: {e}", path.display())),
            }
        }
        if !problems.is_empty() {
            return Err(CatalogError { problems });
        }
        let borrowed: Vec<(Lang, &str)> = sources.iter().map(|(l, t)| (*l, t.as_str())).collect();
        Catalog::from_sources(&borrowed)
    }

    /// A catalog from one TOML text per language; every language must be given.
    pub fn from_sources(sources: &[(Lang, &str)]) -> Result<Catalog, CatalogError> {
        let mut texts = BTreeMap::new();
        let mut problems = Vec::new();
        for lang in Lang::ALL {
            let Some((_, source)) = sources.iter().find(|(l, _)| *l == lang) else {
                problems.push(format!("{}: no catalog given", lang.code()));
                continue;
            };
            let table: toml::Table = match toml::from_str(source) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(format!("{}: not valid TOML: {e}", lang.code()));
                    continue;
                }
            };
            let mut flat = BTreeMap::new();
            flatten("", &table, &mut flat, lang, &mut problems);
            for msg in Msg::ALL {
                match flat.remove(msg.key()) {
                    None => problems.push(format!("{}: missing key {}", lang.code(), msg.key())),
                    Some(text) if text.trim().is_empty() => {
                        problems.push(format!("{}: empty text for {}", lang.code(), msg.key()))
                    }
                    Some(text) => {
                        for p in placeholders(&text) {
                            match p {
                                Ok(name) if msg.args().contains(&name) => {}
                                Ok(name) => problems.push(format!(
                                    "{}: {} uses {{{name}}}, which is not one of {:?}",
                                    lang.code(),
                                    msg.key(),
                                    msg.args()
                                )),
                                Err(()) => problems.push(format!(
                                    "{}: {} has an unmatched brace",
                                    lang.code(),
                                    msg.key()
                                )),
                            }
                        }
                        texts.insert((lang, *msg), text);
                    }
                }
            }
            for unknown in flat.keys() {
                problems.push(format!("{}: unknown key {unknown}", lang.code()));
            }
        }
        if problems.is_empty() {
            debug_assert_eq!(texts.len(), Lang::ALL.len() * Msg::ALL.len());
            // In (lang, msg) order: `Lang` and `Msg` order as they are
            // declared, so each text lands at its `slot`.
            let texts: Vec<String> = texts.into_values().collect();
            debug_assert!(Lang::ALL
                .iter()
                .flat_map(|l| Msg::ALL.iter().map(move |m| (*l, *m)))
                .enumerate()
                .all(|(i, (l, m))| slot(l, m) == i));
            Ok(Catalog { texts })
        } else {
            Err(CatalogError { problems })
        }
    }

    /// The text of `msg` in `lang` with its placeholders filled from `args`
    /// (`("amount", "70.00 元")`). A placeholder with no value given is
    /// left out, never shown as `{name}`.
    pub fn text(&self, lang: Lang, msg: Msg, args: &[(&str, &str)]) -> String {
        debug_assert!(
            args.iter().all(|(name, _)| msg.args().contains(name)),
            "{msg:?} given an argument it does not declare: {args:?}"
        );
        let template = self
            .texts
            .get(slot(lang, msg))
            .map(String::as_str)
            .unwrap_or_default();
        fill(template, args)
    }

    /// `money` as the language writes it (`70.00 元`, `¥70.00`).
    pub fn money(&self, lang: Lang, money: Money) -> String {
        let amount = decimal(money);
        if money.currency == kiosk_hal::Currency::CNY {
            self.text(lang, Msg::MoneyCny, &[("amount", &amount)])
        } else {
            let currency = money.currency.code().to_string();
            self.text(
                lang,
                Msg::MoneyOther,
                &[("amount", &amount), ("currency", &currency)],
            )
        }
    }

    /// Items joined with the language's list separator (`、`, `, `).
    pub fn list(&self, lang: Lang, items: &[String]) -> String {
        items.join(&self.text(lang, Msg::ListSeparator, &[]))
    }
}

/// `money` in major units with its currency's decimals, no currency code
/// (`-50.00`, `70.00`).
pub fn decimal(money: Money) -> String {
    let exp = money.currency.minor_exponent();
    let abs = money.minor.unsigned_abs();
    // Written digit by digit, not with `format!`: every receipt writes two
    // amounts, and a simulated hall prints millions of receipts.
    let mut out = String::with_capacity(24);
    if money.minor < 0 {
        out.push('-');
    }
    if exp == 0 {
        push_digits(&mut out, abs, 1);
        return out;
    }
    let scale = 10u64.pow(exp);
    push_digits(&mut out, abs / scale, 1);
    out.push('.');
    push_digits(&mut out, abs % scale, exp as usize);
    out
}

/// Appends `n` in decimal, zero-padded on the left to at least `width`
/// digits (what `{n:0width$}` writes for an unsigned number).
pub(crate) fn push_digits(out: &mut String, mut n: u64, width: usize) {
    let mut buf = [0u8; 20];
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for _ in buf.len() - start..width {
        out.push('0');
    }
    for &d in &buf[start..] {
        out.push(char::from(d));
    }
}

fn flatten(
    prefix: &str,
    table: &toml::Table,
    out: &mut BTreeMap<String, String>,
    lang: Lang,
    problems: &mut Vec<String>,
) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(t) => flatten(&key, t, out, lang, problems),
            _ => problems.push(format!("{}: {key} is not a string", lang.code())),
        }
    }
}

/// The `{name}` placeholders of `text`, or `Err` for a lone brace.
fn placeholders(text: &str) -> Vec<Result<&str, ()>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            out.push(Err(()));
            rest = &rest[open + 1..];
            continue;
        }
        match rest[open + 1..].find(['{', '}']) {
            Some(close) if rest[open + 1 + close..].starts_with('}') => {
                out.push(Ok(&rest[open + 1..open + 1 + close]));
                rest = &rest[open + 2 + close..];
            }
            _ => {
                out.push(Err(()));
                rest = &rest[open + 1..];
            }
        }
    }
    out
}

/// `template` with every `{name}` replaced by its value from `args`
/// (nothing if none is given). Checked templates have balanced braces.
fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &rest[open + 1..open + close];
        if let Some((_, value)) = args.iter().find(|(n, _)| *n == name) {
            out.push_str(value);
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The amounts written digit by digit read exactly as `format!` wrote
    /// them, for every currency exponent, sign and size.
    #[test]
    fn decimal_writes_what_format_wrote() {
        fn by_format(money: Money) -> String {
            let exp = money.currency.minor_exponent();
            let sign = if money.minor < 0 { "-" } else { "" };
            let abs = money.minor.unsigned_abs();
            if exp == 0 {
                return format!("{sign}{abs}");
            }
            let scale = 10u64.pow(exp);
            let (major, minor) = (abs / scale, abs % scale);
            format!("{sign}{major}.{minor:0width$}", width = exp as usize)
        }
        let currencies = [
            kiosk_hal::Currency::CNY,
            kiosk_hal::Currency::from_code(*b"JPY").expect("ISO 4217"),
            kiosk_hal::Currency::from_code(*b"KWD").expect("ISO 4217"),
        ];
        let mut minors = vec![
            0,
            1,
            -1,
            9,
            10,
            99,
            100,
            101,
            -5_000,
            7_000,
            i64::MAX,
            i64::MIN,
        ];
        let mut x: i64 = 1;
        while let Some(next) = x.checked_mul(7) {
            minors.extend([x, -x, x + 3, x - 1]);
            x = next;
        }
        for currency in currencies {
            for &minor in &minors {
                let money = Money::new(minor, currency);
                assert_eq!(decimal(money), by_format(money), "{money:?}");
            }
        }
    }

    /// Texts are found by index: every (language, message) pair is its own.
    #[test]
    fn every_text_is_found_at_its_own_slot() {
        let c = Catalog::builtin();
        assert_eq!(c.texts.len(), Lang::ALL.len() * Msg::ALL.len());
        let mut seen = std::collections::BTreeSet::new();
        for lang in Lang::ALL {
            for msg in Msg::ALL {
                assert!(seen.insert(slot(lang, *msg)));
            }
        }
        assert_eq!(c.text(Lang::Zh, Msg::MethodCash, &[]), "现金");
        assert_eq!(c.text(Lang::En, Msg::MethodCash, &[]), "Cash");
    }

    #[test]
    fn the_builtin_catalogs_are_complete_in_every_language() {
        let sources = [(Lang::Zh, BUILTIN_ZH), (Lang::En, BUILTIN_EN)];
        if let Err(e) = Catalog::from_sources(&sources) {
            panic!("{e}");
        }
    }

    #[test]
    fn a_missing_key_an_unknown_key_and_a_stray_placeholder_are_refused() {
        let zh = BUILTIN_ZH.replace("\ntitle = \"欢迎使用自助缴费\"", "\n");
        assert_ne!(zh, BUILTIN_ZH, "the test edits the welcome title away");
        let en = format!("{BUILTIN_EN}\n[extra]\nwhatever = \"x\"\n")
            .replace("Amount due: {amount}", "Amount due: {amont}");
        let err = Catalog::from_sources(&[(Lang::Zh, &zh), (Lang::En, &en)]).unwrap_err();
        let all = err.problems.join("\n");
        assert!(all.contains("zh: missing key welcome.title"), "{all}");
        assert!(all.contains("en: unknown key extra.whatever"), "{all}");
        assert!(
            all.contains("en: confirm-account.amount-due uses {amont}"),
            "{all}"
        );
        assert_eq!(err.problems.len(), 3, "{all}");
    }

    #[test]
    fn a_catalog_for_one_language_only_is_refused() {
        let err = Catalog::from_sources(&[(Lang::Zh, BUILTIN_ZH)]).unwrap_err();
        assert_eq!(err.problems, ["en: no catalog given"]);
    }

    #[test]
    fn placeholders_are_filled_and_never_shown_raw() {
        assert_eq!(
            fill("已收到 {value}", &[("value", "50.00 元")]),
            "已收到 50.00 元"
        );
        assert_eq!(fill("a {x} b", &[]), "a  b");
        assert_eq!(placeholders("{a} and {b"), vec![Ok("a"), Err(())]);
        assert_eq!(placeholders("x } y"), vec![Err(())]);
    }

    #[test]
    fn money_reads_as_the_language_writes_it() {
        let c = Catalog::builtin();
        let cny = kiosk_hal::Currency::CNY;
        assert_eq!(c.money(Lang::Zh, Money::major(70, cny)), "70.00 元");
        assert_eq!(c.money(Lang::En, Money::major(70, cny)), "¥70.00");
        assert_eq!(c.money(Lang::Zh, Money::new(-5005, cny)), "-50.05 元");
        let eur = kiosk_hal::Currency::EUR;
        assert_eq!(c.money(Lang::En, Money::new(150, eur)), "1.50 EUR");
    }

    #[test]
    fn the_integrators_directory_is_loaded_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("zh.toml"), BUILTIN_ZH).unwrap();
        let err = Catalog::load_dir(dir.path()).unwrap_err();
        assert!(err.problems[0].contains("en.toml"), "{err}");
        let en = BUILTIN_EN.replace("Welcome", "Hello");
        std::fs::write(dir.path().join("en.toml"), en).unwrap();
        let c = Catalog::load_dir(dir.path()).unwrap();
        assert!(c.text(Lang::En, Msg::WelcomeTitle, &[]).contains("Hello"));
    }
}
