//! The virtual billing backend ("BOSS") and the link to it.
//!
//! [`VirtualBackend`] holds the accounts and applies postings **idempotently
//! by key**: the first posting with a key is applied and its answer stored;
//! any repeat gets the stored answer and changes nothing. It also keeps the
//! evidence a drill's money check needs: every posting received, how often
//! each key arrived, what was credited per payment method.
//!
//! [`VirtualLink`] is the [`NetworkLink`] to it, with a latency; wrap it in a
//! [`FaultyLink`] (as [`VirtualBackend::link`] does) to stage link faults.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use kiosk_core::Millis;
use kiosk_hal::{
    AccountAnswer, AccountInfo, AccountNumber, AccountRefusal, Currency, DeviceError,
    IdempotencyKey, Money, NetworkLink, PaymentMethod, PaymentPosting, PostingAnswer,
};
use serde::{Deserialize, Serialize};

use crate::clock::SimClock;
use crate::faults::{ConfigError, FaultRule, FaultyLink, LinkFault};
use crate::rng::SimRng;

/// Whether an account may be paid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccountStatus {
    /// Payable. The default.
    #[default]
    Open,
    /// Closed: lookups and postings are refused.
    Closed,
    /// Exists but cannot be paid at a kiosk.
    NotPayable,
}

fn zero_cny() -> Money {
    Money::zero(Currency::CNY)
}

/// One account as configured, and as the backend holds it.
///
/// ```toml
/// [backend.accounts."057112345678"]
/// holder-name = "张三"
/// amount-due = { minor = 12000, currency = "CNY" }
/// balance = { minor = 0, currency = "CNY" }
/// status = "open"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Account {
    /// The holder's name (required).
    pub holder_name: String,
    /// Amount due. Default CNY 0.00.
    #[serde(default = "zero_cny")]
    pub amount_due: Money,
    /// Balance. Default CNY 0.00.
    #[serde(default = "zero_cny")]
    pub balance: Money,
    /// Whether it may be paid. Default `open`.
    #[serde(default)]
    pub status: AccountStatus,
}

/// The backend's accounts.
///
/// ```toml
/// [backend]
/// currency = "CNY"
/// [backend.accounts."1001"]
/// holder-name = "张三"
/// amount-due = { minor = 12000, currency = "CNY" }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct BackendConfig {
    /// Currency of the credited totals. Default `CNY`.
    pub currency: Currency,
    /// Accounts by number. Default none.
    pub accounts: BTreeMap<AccountNumber, Account>,
}

impl Default for BackendConfig {
    fn default() -> Self {
        BackendConfig {
            currency: Currency::CNY,
            accounts: BTreeMap::new(),
        }
    }
}

/// One link to the backend: its latency and planned faults.
///
/// ```toml
/// [link]
/// latency-ms = 200
/// [[link.faults]]
/// trigger = { when = "nth-call", n = 1 }
/// fault = { type = "lose-answer", on = "post" }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct LinkConfig {
    /// Round-trip time of a call; a posting reaches the backend half-way.
    /// Default 200.
    pub latency_ms: u64,
    /// Planned faults, tried in order. Default none.
    pub faults: Vec<FaultRule<LinkFault>>,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            latency_ms: 200,
            faults: Vec::new(),
        }
    }
}

/// One posting the backend received under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostingRecord {
    /// The first posting received with this key.
    pub posting: PaymentPosting,
    /// The stored answer, repeated to every retry.
    pub answer: PostingAnswer,
    /// When it was first received.
    pub first_at: Millis,
    /// How many times this key arrived (1 + retries).
    pub times_received: u32,
    /// How many times it was applied to an account: 1 if credited, else 0.
    /// Never more; a kiosk that re-keys the same money shows up as two keys.
    pub times_applied: u32,
    /// Retries whose posting differed from the first (a kiosk bug).
    pub conflicting_retries: u32,
}

struct BackendState {
    currency: Currency,
    accounts: BTreeMap<AccountNumber, Account>,
    /// Keys in arrival order, and their records.
    order: Vec<IdempotencyKey>,
    postings: BTreeMap<IdempotencyKey, PostingRecord>,
    used_codes: BTreeSet<String>,
    next_ref: u64,
}

impl BackendState {
    fn refusal(&self, account: &AccountNumber) -> Result<&Account, AccountRefusal> {
        let found = self.accounts.get(account).ok_or(AccountRefusal::Unknown)?;
        match found.status {
            AccountStatus::Open => Ok(found),
            AccountStatus::Closed => Err(AccountRefusal::Closed),
            AccountStatus::NotPayable => Err(AccountRefusal::NotPayable),
        }
    }

    fn apply(&mut self, posting: &PaymentPosting) -> Result<PostingAnswer, String> {
        let account = self
            .refusal(&posting.account)
            .map_err(|r| r.describe().to_string())?;
        if posting.amount.minor <= 0 {
            return Err("amount must be positive".into());
        }
        let new_balance = account
            .balance
            .checked_add(posting.amount)
            .ok_or("amount in the wrong currency")?;
        let amount_due = account.amount_due.checked_sub(posting.amount);
        if posting.method == PaymentMethod::Code {
            let code = posting.code.as_ref().ok_or("no payment code")?;
            if !self.used_codes.insert(code.expose_digits().to_string()) {
                return Err("payment code already used".into());
            }
        }
        self.next_ref += 1;
        let backend_ref = format!("BOSS{:08}", self.next_ref);
        let account = self
            .accounts
            .get_mut(&posting.account)
            .ok_or("account vanished")?;
        account.balance = new_balance;
        if let Some(due) = amount_due {
            account.amount_due = Money::new(due.minor.max(0), due.currency);
        }
        Ok(PostingAnswer::Credited {
            backend_ref,
            new_balance,
        })
    }
}

/// The backend (cloneable handle to shared state).
#[derive(Clone)]
pub struct VirtualBackend {
    state: Arc<Mutex<BackendState>>,
    clock: SimClock,
}

impl VirtualBackend {
    /// A backend holding the configured accounts.
    pub fn new(config: &BackendConfig, clock: SimClock) -> VirtualBackend {
        VirtualBackend {
            state: Arc::new(Mutex::new(BackendState {
                currency: config.currency,
                accounts: config.accounts.clone(),
                order: Vec::new(),
                postings: BTreeMap::new(),
                used_codes: BTreeSet::new(),
                next_ref: 0,
            })),
            clock,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BackendState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A faulty link to this backend (`rng`: the drill's generator forked
    /// for this link).
    pub fn link(
        &self,
        config: &LinkConfig,
        rng: SimRng,
    ) -> Result<FaultyLink<VirtualLink>, ConfigError> {
        let inner = VirtualLink::new(self.clone(), config.latency_ms);
        FaultyLink::new(inner, config.faults.clone(), self.clock, rng)
    }

    /// Answers an account check, as the backend would (no latency, no side effect).
    pub fn lookup(&self, account: &AccountNumber) -> AccountAnswer {
        match self.lock().refusal(account) {
            Ok(found) => AccountAnswer::Payable(AccountInfo {
                holder_name: found.holder_name.clone(),
                amount_due: found.amount_due,
                balance: found.balance,
            }),
            Err(reason) => AccountAnswer::Refused { reason },
        }
    }

    /// Receives a posting now: applies it if its key is new, else repeats
    /// the stored answer. Refusals are stored under the key too.
    pub fn post(&self, posting: &PaymentPosting) -> PostingAnswer {
        let now = self.clock.now();
        let mut s = self.lock();
        if let Some(record) = s.postings.get_mut(&posting.key) {
            record.times_received += 1;
            // A retry carries no payment code by design: compare what it
            // does carry.
            if !record.posting.same_payment(posting) {
                record.conflicting_retries += 1;
            }
            return record.answer.clone();
        }
        let answer = s
            .apply(posting)
            .unwrap_or_else(|reason| PostingAnswer::Refused { reason });
        let applied = u32::from(matches!(answer, PostingAnswer::Credited { .. }));
        s.order.push(posting.key.clone());
        s.postings.insert(
            posting.key.clone(),
            PostingRecord {
                posting: posting.clone(),
                answer: answer.clone(),
                first_at: now,
                times_received: 1,
                times_applied: applied,
                conflicting_retries: 0,
            },
        );
        answer
    }

    /// An account as the backend holds it now.
    pub fn account(&self, number: &AccountNumber) -> Option<Account> {
        self.lock().accounts.get(number).cloned()
    }

    /// Changes an account's status mid-drill (close it, make it not payable).
    pub fn set_account_status(&self, number: &AccountNumber, status: AccountStatus) {
        if let Some(account) = self.lock().accounts.get_mut(number) {
            account.status = status;
        }
    }

    /// Every key received, with its record, in order of first arrival.
    pub fn postings(&self) -> Vec<PostingRecord> {
        let s = self.lock();
        s.order
            .iter()
            .filter_map(|key| s.postings.get(key).cloned())
            .collect()
    }

    /// The record of one key, if it was received.
    pub fn posting(&self, key: &IdempotencyKey) -> Option<PostingRecord> {
        self.lock().postings.get(key).cloned()
    }

    /// Total credited (applied) for `method`, in the backend's currency.
    pub fn credited_total(&self, method: PaymentMethod) -> Money {
        let s = self.lock();
        let minor = s
            .postings
            .values()
            .filter(|r| r.times_applied > 0 && r.posting.method == method)
            .map(|r| r.posting.amount.minor)
            .sum();
        Money::new(minor, s.currency)
    }

    /// Keys whose retries carried a different posting than the first.
    pub fn key_conflicts(&self) -> Vec<IdempotencyKey> {
        let s = self.lock();
        s.order
            .iter()
            .filter(|key| {
                s.postings
                    .get(*key)
                    .is_some_and(|r| r.conflicting_retries > 0)
            })
            .cloned()
            .collect()
    }
}

/// The network link to a [`VirtualBackend`], with a fixed latency.
///
/// A lookup answers after the full latency. A posting reaches the backend
/// (and is applied) half-way, and the answer arrives after the rest: a
/// caller that gives up in between has been credited without knowing it.
pub struct VirtualLink {
    backend: VirtualBackend,
    latency_ms: u64,
}

impl VirtualLink {
    /// A link to `backend` with a round trip of `latency_ms`.
    pub fn new(backend: VirtualBackend, latency_ms: u64) -> VirtualLink {
        VirtualLink {
            backend,
            latency_ms,
        }
    }

    /// The backend behind the link.
    pub fn backend(&self) -> &VirtualBackend {
        &self.backend
    }
}

#[async_trait]
impl NetworkLink for VirtualLink {
    async fn lookup_account(
        &mut self,
        account: &AccountNumber,
    ) -> Result<AccountAnswer, DeviceError> {
        self.backend.clock.sleep_ms(self.latency_ms).await;
        Ok(self.backend.lookup(account))
    }

    async fn post_payment(
        &mut self,
        posting: &PaymentPosting,
    ) -> Result<PostingAnswer, DeviceError> {
        let there = self.latency_ms / 2;
        self.backend.clock.sleep_ms(there).await;
        let answer = self.backend.post(posting);
        self.backend.clock.sleep_ms(self.latency_ms - there).await;
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use kiosk_hal::{ErrorKind, PaymentCode, PaymentScheme};

    use super::*;
    use crate::faults::{LinkOp, Trigger};

    fn cny(major: i64) -> Money {
        Money::major(major, Currency::CNY)
    }

    fn acct(n: &str) -> AccountNumber {
        AccountNumber(n.to_string().into())
    }

    fn backend(clock: SimClock) -> VirtualBackend {
        let config: BackendConfig = toml::from_str(
            r#"
            [accounts."1001"]
            holder-name = "张三"
            amount-due = { minor = 12000, currency = "CNY" }
            [accounts."1002"]
            holder-name = "李四"
            status = "closed"
            "#,
        )
        .unwrap();
        VirtualBackend::new(&config, clock)
    }

    fn cash(key: &str, amount: Money) -> PaymentPosting {
        PaymentPosting {
            key: IdempotencyKey(key.to_string().into()),
            account: acct("1001"),
            amount,
            method: PaymentMethod::Cash,
            code: None,
        }
    }

    fn link(b: &VirtualBackend, faults: Vec<FaultRule<LinkFault>>) -> FaultyLink<VirtualLink> {
        let config = LinkConfig {
            faults,
            ..LinkConfig::default()
        };
        b.link(&config, SimRng::new(1)).unwrap()
    }

    #[test]
    fn posting_is_idempotent_by_key() {
        let b = backend(SimClock::new());
        let first = b.post(&cash("K1-1", cny(50)));
        let again = b.post(&cash("K1-1", cny(50)));
        assert_eq!(first, again);
        assert!(
            matches!(first, PostingAnswer::Credited { new_balance, .. } if new_balance == cny(50))
        );
        let account = b.account(&acct("1001")).unwrap();
        assert_eq!((account.balance, account.amount_due), (cny(50), cny(70)));
        let record = b.posting(&IdempotencyKey("K1-1".into())).unwrap();
        assert_eq!((record.times_received, record.times_applied), (2, 1));
        // Re-keying the same money credits twice: visible in the totals.
        b.post(&cash("K1-2", cny(50)));
        assert_eq!(b.credited_total(PaymentMethod::Cash), cny(100));
        // A retry that changed the posting is recorded as a conflict.
        b.post(&cash("K1-2", cny(20)));
        assert_eq!(b.key_conflicts(), vec![IdempotencyKey("K1-2".into())]);
        assert_eq!(b.postings().len(), 2);
    }

    /// Regression (known break 5): every QR posting whose answer was lost
    /// was flagged "a retry changed the posting under the same key",
    /// because the retry leaves out the payment code by design.
    #[test]
    fn a_code_retry_without_the_code_is_the_same_payment() {
        let b = backend(SimClock::new());
        let mut first = cash("Q-1", cny(30));
        first.method = PaymentMethod::Code;
        first.code = Some(PaymentCode::new(
            kiosk_hal::PaymentScheme::Alipay,
            "281234567890123456",
        ));
        let answer = b.post(&first);
        assert!(matches!(answer, PostingAnswer::Credited { .. }));
        let retry = PaymentPosting {
            code: None,
            ..first.clone()
        };
        assert_eq!(b.post(&retry), answer);
        assert!(b.key_conflicts().is_empty());
        // A retry that changes what it does carry is still a conflict.
        let changed = PaymentPosting {
            amount: cny(31),
            ..retry
        };
        b.post(&changed);
        assert_eq!(b.key_conflicts(), vec![IdempotencyKey("Q-1".into())]);
        // A key the backend never saw, retried without its code, charges nothing.
        let unseen = PaymentPosting {
            key: IdempotencyKey("Q-2".into()),
            code: None,
            ..first
        };
        assert!(matches!(b.post(&unseen), PostingAnswer::Refused { .. }));
    }

    #[test]
    fn refuses_unknown_and_closed_accounts() {
        let b = backend(SimClock::new());
        assert!(matches!(b.lookup(&acct("1001")), AccountAnswer::Payable(_)));
        for (number, reason) in [
            ("1002", AccountRefusal::Closed),
            ("9", AccountRefusal::Unknown),
        ] {
            assert_eq!(b.lookup(&acct(number)), AccountAnswer::Refused { reason });
            let mut posting = cash(number, cny(10));
            posting.account = acct(number);
            assert!(matches!(b.post(&posting), PostingAnswer::Refused { .. }));
        }
        assert_eq!(b.credited_total(PaymentMethod::Cash), cny(0));
    }

    #[test]
    fn a_payment_code_is_charged_once() {
        let b = backend(SimClock::new());
        let code = PaymentCode::new(PaymentScheme::WeChatPay, "134567890123456789");
        let qr = |key: &str| PaymentPosting {
            method: PaymentMethod::Code,
            code: Some(code.clone()),
            ..cash(key, cny(30))
        };
        assert!(matches!(b.post(&qr("Q1")), PostingAnswer::Credited { .. }));
        assert!(
            matches!(b.post(&qr("Q1")), PostingAnswer::Credited { .. }),
            "same key: same answer"
        );
        assert!(
            matches!(b.post(&qr("Q2")), PostingAnswer::Refused { .. }),
            "code reused"
        );
        assert_eq!(b.credited_total(PaymentMethod::Code), cny(30));
    }

    #[tokio::test(start_paused = true)]
    async fn link_adds_latency_and_slow_adds_more() {
        let clock = SimClock::new();
        let b = backend(clock);
        let slow = LinkFault::Slow {
            latency_ms: 3000,
            on: LinkOp::Lookup,
        };
        let mut l = link(&b, vec![FaultRule::new(Trigger::NthCall { n: 2 }, slow)]);
        l.lookup_account(&acct("1001")).await.unwrap();
        assert_eq!(clock.now(), Millis(200));
        l.lookup_account(&acct("1001")).await.unwrap();
        assert_eq!(clock.now(), Millis(3400));
    }

    #[tokio::test(start_paused = true)]
    async fn link_down_never_reaches_the_backend() {
        let clock = SimClock::new();
        let b = backend(clock);
        let down = LinkFault::Down {
            fail_after_ms: 1000,
            on: LinkOp::Any,
        };
        let window = Trigger::Between {
            from_ms: 0,
            until_ms: Some(60_000),
        };
        let mut l = link(&b, vec![FaultRule::new(window, down)]);
        let err = l.post_payment(&cash("K", cny(50))).await.unwrap_err();
        assert_eq!(
            (err.kind(), clock.now()),
            (ErrorKind::Offline, Millis(1000))
        );
        assert!(b.postings().is_empty());
        clock.sleep_until(Millis(60_000)).await;
        assert!(l.post_payment(&cash("K", cny(50))).await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn lost_answer_then_retry_with_same_key_credits_once() {
        let clock = SimClock::new();
        let b = backend(clock);
        let lose = LinkFault::LoseAnswer {
            timeout_ms: 5000,
            on: LinkOp::Post,
        };
        let mut l = link(&b, vec![FaultRule::new(Trigger::NthCall { n: 1 }, lose)]);
        l.lookup_account(&acct("1001")).await.unwrap();
        let posting = cash("K1-000001", cny(50));
        let err = l.post_payment(&posting).await.unwrap_err();
        assert_eq!(
            (err.kind(), clock.now()),
            (ErrorKind::Timeout, Millis(5200))
        );
        assert_eq!(
            b.account(&acct("1001")).unwrap().balance,
            cny(50),
            "applied"
        );
        let retry = l.post_payment(&posting).await.unwrap();
        assert_eq!(Some(&retry), b.postings().first().map(|r| &r.answer));
        assert_eq!(b.account(&acct("1001")).unwrap().balance, cny(50), "once");
        let record = b.posting(&posting.key).unwrap();
        assert_eq!((record.times_received, record.times_applied), (2, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn nonsense_answer_to_a_posting_still_applied_it() {
        let clock = SimClock::new();
        let b = backend(clock);
        let nonsense = LinkFault::Nonsense { on: LinkOp::Post };
        let mut l = link(&b, vec![FaultRule::new(Trigger::At { at_ms: 0 }, nonsense)]);
        let err = l.post_payment(&cash("K", cny(5))).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert_eq!(b.credited_total(PaymentMethod::Cash), cny(5));
    }

    #[test]
    fn link_config_reads_from_toml() {
        let config: LinkConfig = toml::from_str(
            r#"
            latency-ms = 300
            [[faults]]
            trigger = { when = "nth-call", n = 1 }
            fault = { type = "lose-answer", on = "post" }
            "#,
        )
        .unwrap();
        assert_eq!(
            config.faults[0].fault,
            LinkFault::LoseAnswer {
                timeout_ms: 5000,
                on: LinkOp::Post
            }
        );
        assert!(toml::from_str::<LinkConfig>("latency = 1").is_err());
    }
}
