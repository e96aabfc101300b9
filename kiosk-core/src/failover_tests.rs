//! The failover link over fake links sharing one idempotent fake backend.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use kiosk_hal::{AccountInfo, Currency, DeviceProtocol, IdempotencyKey, Money, PaymentMethod};

use super::*;

/// A settable kiosk clock.
#[derive(Default)]
struct TestClock(AtomicU64);

impl Clock for TestClock {
    fn now(&self) -> Millis {
        Millis(self.0.load(Ordering::SeqCst))
    }
}

impl TestClock {
    fn set(&self, ms: u64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

/// How a fake link behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Up,
    Down,
    /// The backend applies the posting; its answer is lost (timeout).
    LosesAnswers,
    Hangs,
    Indeterminate,
}

/// The backend behind both links: applies each key once.
#[derive(Default)]
struct Backend {
    credited: HashMap<String, PostingAnswer>,
    /// (link, key) for every posting that reached a link.
    seen: Vec<(&'static str, String)>,
    /// The link whose own heartbeat (its health endpoint) was called, in order.
    heartbeats: Vec<&'static str>,
}

impl Backend {
    fn apply(&mut self, posting: &PaymentPosting) -> PostingAnswer {
        let n = self.credited.len();
        self.credited
            .entry(posting.key.0.to_string())
            .or_insert_with(|| PostingAnswer::Credited {
                backend_ref: format!("B{n}"),
                new_balance: posting.amount,
            })
            .clone()
    }
}

struct FakeLink {
    name: &'static str,
    mode: Arc<Mutex<Mode>>,
    backend: Arc<Mutex<Backend>>,
}

impl FakeLink {
    fn mode(&self) -> Mode {
        *self.mode.lock().unwrap()
    }
}

#[async_trait]
impl NetworkLink for FakeLink {
    async fn lookup_account(
        &mut self,
        _account: &AccountNumber,
    ) -> Result<AccountAnswer, DeviceError> {
        match self.mode() {
            Mode::Up | Mode::LosesAnswers => Ok(AccountAnswer::Payable(AccountInfo {
                holder_name: self.name.to_string(),
                amount_due: cny(0),
                balance: cny(0),
            })),
            Mode::Down => Err(DeviceError::new(ErrorKind::Offline, "unreachable")),
            Mode::Hangs => std::future::pending().await,
            Mode::Indeterminate => Err(DeviceError::new(ErrorKind::Indeterminate, "?")),
        }
    }

    async fn post_payment(
        &mut self,
        posting: &PaymentPosting,
    ) -> Result<PostingAnswer, DeviceError> {
        let mode = self.mode();
        if mode == Mode::Down {
            return Err(DeviceError::new(ErrorKind::Offline, "unreachable"));
        }
        if mode == Mode::Hangs {
            return std::future::pending().await;
        }
        let mut b = self.backend.lock().unwrap();
        b.seen.push((self.name, posting.key.0.to_string()));
        let answer = b.apply(posting);
        match mode {
            Mode::LosesAnswers => Err(DeviceError::new(ErrorKind::Timeout, "answer lost")),
            Mode::Indeterminate => Err(DeviceError::new(ErrorKind::Indeterminate, "?")),
            _ => Ok(answer),
        }
    }

    /// A health endpoint of its own: records which link's was called.
    async fn heartbeat(&mut self) -> Result<(), DeviceError> {
        match self.mode() {
            Mode::Down => Err(DeviceError::new(ErrorKind::Offline, "unreachable")),
            Mode::Hangs => std::future::pending().await,
            _ => {
                self.backend.lock().unwrap().heartbeats.push(self.name);
                Ok(())
            }
        }
    }

    /// Names the link in the model, as the HTTPS link names its endpoint.
    async fn identity(&mut self) -> Result<DeviceIdentity, DeviceError> {
        Ok(DeviceIdentity {
            model: Some(format!("https://{}.example.cn/", self.name)),
            ..DeviceIdentity::of(DeviceProtocol::Https)
        })
    }
}

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::CNY)
}

fn posting(key: &str) -> PaymentPosting {
    PaymentPosting {
        key: IdempotencyKey(key.to_string().into()),
        account: AccountNumber("0571-1".into()),
        amount: cny(5_000),
        method: PaymentMethod::Cash,
        code: None,
    }
}

/// Two links over one backend, their modes, and the clock.
struct Rig {
    primary: Arc<Mutex<Mode>>,
    backup: Arc<Mutex<Mode>>,
    backend: Arc<Mutex<Backend>>,
    clock: Arc<TestClock>,
}

impl Rig {
    fn new() -> Rig {
        Rig {
            primary: Arc::new(Mutex::new(Mode::Up)),
            backup: Arc::new(Mutex::new(Mode::Up)),
            backend: Arc::default(),
            clock: Arc::default(),
        }
    }

    fn fake(&self, name: &'static str, mode: &Arc<Mutex<Mode>>) -> Box<dyn NetworkLink> {
        Box::new(FakeLink {
            name,
            mode: mode.clone(),
            backend: self.backend.clone(),
        })
    }

    fn link(&self, with_backup: bool) -> FailoverLink {
        let backup = with_backup.then(|| self.fake("backup", &self.backup));
        FailoverLink::new(
            self.fake("primary", &self.primary),
            backup,
            FailoverPolicy::default(),
            self.clock.clone(),
        )
    }

    fn seen(&self) -> Vec<(&'static str, String)> {
        self.backend.lock().unwrap().seen.clone()
    }
}

fn set(mode: &Arc<Mutex<Mode>>, to: Mode) {
    *mode.lock().unwrap() = to;
}

/// Who answered a lookup.
async fn lookup_by(link: &mut FailoverLink) -> String {
    match link.lookup_account(&AccountNumber("0571-1".into())).await {
        Ok(AccountAnswer::Payable(info)) => info.holder_name,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn primary_down_the_backup_is_used_in_the_same_call() {
    let rig = Rig::new();
    let mut link = rig.link(true);
    assert_eq!(lookup_by(&mut link).await, "primary");
    set(&rig.primary, Mode::Down);
    rig.clock.set(1_000);
    assert_eq!(lookup_by(&mut link).await, "backup");
    assert_eq!(link.active(), LinkChoice::Backup);
    let switches = link.take_switches();
    assert_eq!(switches.len(), 1);
    assert_eq!(
        (switches[0].at, switches[0].from, switches[0].to),
        (Millis(1_000), LinkChoice::Primary, LinkChoice::Backup)
    );
    assert!(switches[0].reason.contains("offline"), "{switches:?}");
    // Stays on the backup without touching the primary again.
    set(&rig.primary, Mode::Hangs);
    assert_eq!(lookup_by(&mut link).await, "backup");
    assert!(link.take_switches().is_empty());
}

#[tokio::test]
async fn the_primary_is_tried_again_after_the_retry_interval() {
    let rig = Rig::new();
    let mut link = rig.link(true);
    set(&rig.primary, Mode::Down);
    assert_eq!(lookup_by(&mut link).await, "backup");
    set(&rig.primary, Mode::Up);
    rig.clock.set(59_999);
    assert_eq!(lookup_by(&mut link).await, "backup");
    rig.clock.set(60_000);
    assert_eq!(lookup_by(&mut link).await, "primary");
    assert_eq!(link.active(), LinkChoice::Primary);
    let back = link.take_switches().pop().unwrap();
    assert_eq!((back.at, back.to), (Millis(60_000), LinkChoice::Primary));
    assert_eq!(back.reason, "primary retry interval passed");
}

#[tokio::test]
async fn a_primary_still_down_at_its_retry_sends_traffic_back_to_the_backup() {
    let rig = Rig::new();
    let mut link = rig.link(true);
    set(&rig.primary, Mode::Down);
    lookup_by(&mut link).await;
    rig.clock.set(60_000);
    assert_eq!(lookup_by(&mut link).await, "backup");
    let tos: Vec<LinkChoice> = link.take_switches().iter().map(|s| s.to).collect();
    assert_eq!(
        tos,
        vec![LinkChoice::Backup, LinkChoice::Primary, LinkChoice::Backup]
    );
    // The next retry is a full interval later.
    rig.clock.set(119_999);
    lookup_by(&mut link).await;
    assert!(link.take_switches().is_empty());
}

#[tokio::test]
async fn a_posting_whose_answer_was_lost_is_retried_on_the_backup_with_its_key() {
    let rig = Rig::new();
    let mut link = rig.link(true);
    set(&rig.primary, Mode::LosesAnswers);
    let answer = link.post_payment(&posting("K01-000001")).await.unwrap();
    assert!(
        matches!(answer, PostingAnswer::Credited { ref backend_ref, .. } if backend_ref == "B0")
    );
    assert_eq!(
        rig.seen(),
        vec![
            ("primary", "K01-000001".to_string()),
            ("backup", "K01-000001".to_string())
        ]
    );
    assert_eq!(
        rig.backend.lock().unwrap().credited.len(),
        1,
        "credited once"
    );
}

#[tokio::test(start_paused = true)]
async fn a_hanging_primary_is_cut_off_and_the_backup_answers() {
    let rig = Rig::new();
    let mut link = rig.link(true);
    set(&rig.primary, Mode::Hangs);
    let start = tokio::time::Instant::now();
    let answer = link.post_payment(&posting("K01-000002")).await;
    assert!(answer.is_ok(), "{answer:?}");
    assert_eq!(start.elapsed(), Duration::from_millis(4_500));
    assert_eq!(link.active(), LinkChoice::Backup);
    assert_eq!(rig.seen(), vec![("backup", "K01-000002".to_string())]);
}

#[tokio::test]
async fn when_both_links_fail_the_error_is_returned_and_the_key_kept() {
    let rig = Rig::new();
    let mut link = rig.link(true);
    set(&rig.primary, Mode::LosesAnswers);
    set(&rig.backup, Mode::LosesAnswers);
    let e = link.post_payment(&posting("K01-000003")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    let keys: Vec<String> = rig.seen().into_iter().map(|(_, k)| k).collect();
    assert_eq!(keys, vec!["K01-000003", "K01-000003"]);
    // The caller's later retry, same key, still credits once.
    set(&rig.backup, Mode::Up);
    link.post_payment(&posting("K01-000003")).await.unwrap();
    assert_eq!(rig.backend.lock().unwrap().credited.len(), 1);
}

#[tokio::test]
async fn indeterminate_answers_and_refusals_do_not_switch() {
    let rig = Rig::new();
    let mut link = rig.link(true);
    set(&rig.primary, Mode::Indeterminate);
    let e = link.post_payment(&posting("K01-000004")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Indeterminate);
    assert_eq!(link.active(), LinkChoice::Primary);
    assert_eq!(rig.seen().len(), 1);
}

#[tokio::test]
async fn without_a_backup_errors_pass_through_and_nothing_switches() {
    let rig = Rig::new();
    let mut link = rig.link(false);
    set(&rig.primary, Mode::Down);
    let e = link
        .lookup_account(&AccountNumber("x".into()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Offline);
    assert!(!link.switch_to_backup());
    assert_eq!(link.active(), LinkChoice::Primary);
    assert!(link.take_switches().is_empty());
}

#[tokio::test]
async fn the_runner_switches_on_slowness_through_a_handle_kept_after_boxing() {
    let rig = Rig::new();
    let link = rig.link(true);
    let handle = link.handle();
    let mut boxed: Box<dyn NetworkLink> = Box::new(link);
    rig.clock.set(5_000);
    assert!(handle.switch_to_backup());
    assert!(!handle.switch_to_backup(), "already on the backup");
    boxed.post_payment(&posting("K01-000005")).await.unwrap();
    assert_eq!(rig.seen(), vec![("backup", "K01-000005".to_string())]);
    rig.clock.set(65_000);
    boxed.post_payment(&posting("K01-000006")).await.unwrap();
    assert_eq!(handle.active(), LinkChoice::Primary);
    assert_eq!(handle.take_switches().len(), 2);
}

/// Regression: `FailoverLink` did not forward `identity()`, so the
/// operator status and the self-test showed an unknown backend behind
/// every failover link (the trait's default) instead of the HTTPS link's
/// endpoint and certificate subject.
#[tokio::test]
async fn identity_is_the_active_links_and_asking_switches_nothing() {
    let rig = Rig::new();
    let mut link = rig.link(true);
    let model = |id: DeviceIdentity| id.model.unwrap_or_default();
    assert_eq!(
        model(link.identity().await.unwrap()),
        "https://primary.example.cn/"
    );
    set(&rig.primary, Mode::Down);
    lookup_by(&mut link).await;
    assert_eq!(
        model(link.identity().await.unwrap()),
        "https://backup.example.cn/"
    );
    // The primary's retry is due, but asking who answers moves nothing:
    // the next real call makes the switch.
    set(&rig.primary, Mode::Up);
    rig.clock.set(60_000);
    let id = link.identity().await.unwrap();
    assert_eq!(model(id), "https://backup.example.cn/");
    assert_eq!(link.active(), LinkChoice::Backup);
    assert_eq!(
        link.take_switches().len(),
        1,
        "only the switch to the backup"
    );
}

/// Regression: `FailoverLink` did not forward `heartbeat()`, so the idle
/// heartbeat became a lookup of an empty account (the trait's default)
/// and a link's own health endpoint was never called behind a failover.
#[tokio::test]
async fn the_heartbeat_is_the_active_links_own_and_fails_over_like_a_lookup() {
    let rig = Rig::new();
    let mut link = rig.link(true);
    link.heartbeat().await.unwrap();
    set(&rig.primary, Mode::Down);
    link.heartbeat().await.unwrap();
    assert_eq!(
        rig.backend.lock().unwrap().heartbeats,
        ["primary", "backup"]
    );
    assert_eq!(link.active(), LinkChoice::Backup);
    assert!(link.take_switches()[0].reason.contains("offline"));
    set(&rig.backup, Mode::Down);
    let e = link.heartbeat().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Offline);
}
