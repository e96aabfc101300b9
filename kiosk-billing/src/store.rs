//! The server's books in SQLite: accounts, and every posting under its
//! idempotency key with the answer it got.
//!
//! # Exactly once
//!
//! [`Store::post`] runs in one `IMMEDIATE` transaction: it looks the key
//! up, and either repeats the stored answer (same payment), answers `409`
//! (another payment under that key; nothing stored, nothing changed), or
//! applies the payment and stores the key with its answer. The credit and
//! the key are committed together (WAL, `synchronous = FULL`) before the
//! answer is returned, so an answer lost afterwards, or a server killed
//! afterwards, leaves the key applied once and its answer ready for the
//! retry. Refusals are stored under their key too: a retry gets the same
//! refusal.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use kiosk_hal::{AccountNumber, Currency, IdempotencyKey, Money, PaymentMethod};
use kiosk_http::wire::{
    AccountCheckResponse, ErrorBody, ErrorCode, PaymentCredited, PaymentRequest,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::accounts::{AccountStatus, AccountsFile};
use crate::BillingError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS accounts (
    number TEXT PRIMARY KEY,
    holder_name TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_due_minor INTEGER NOT NULL,
    balance_minor INTEGER NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS postings (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    method TEXT NOT NULL,
    status INTEGER NOT NULL,
    answer TEXT NOT NULL,
    credited INTEGER NOT NULL,
    times_received INTEGER NOT NULL,
    conflicting_retries INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS used_codes (
    digits TEXT PRIMARY KEY,
    key TEXT NOT NULL
);
";

/// An answer to send: the HTTP status and the JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// `200`, `409` or `422`.
    pub status: u16,
    /// The JSON body, byte for byte what the first answer was.
    pub body: String,
    /// Whether this repeats the answer stored for the key.
    pub replayed: bool,
}

/// What the books hold about one key (for tests and rehearsal checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostingRecord {
    /// The status of the stored answer.
    pub status: u16,
    /// Whether the posting credited the account (1 credit per key at most).
    pub credited: bool,
    /// How many times the key arrived with the same payment (1 + retries).
    pub times_received: u32,
    /// How many times it arrived with a different payment (answered `409`).
    pub conflicting_retries: u32,
}

/// The books.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

fn db_error(path: &Path) -> impl Fn(rusqlite::Error) -> BillingError + '_ {
    move |e| BillingError::Db {
        path: path.to_path_buf(),
        problem: e.to_string(),
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and adds the
    /// file's accounts it does not have yet.
    pub fn open(path: &Path, accounts: &AccountsFile) -> Result<Store, BillingError> {
        let err = db_error(path);
        let conn = Connection::open(path).map_err(&err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(&err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(&err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(&err)?;
        conn.execute_batch(SCHEMA).map_err(&err)?;
        {
            let mut insert = conn
                .prepare(
                    "INSERT OR IGNORE INTO accounts
                     (number, holder_name, currency, amount_due_minor, balance_minor, status)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(&err)?;
            for (number, a) in &accounts.accounts {
                insert
                    .execute(params![
                        number.0,
                        a.holder_name,
                        a.balance.currency.code(),
                        a.amount_due.minor,
                        a.balance.minor,
                        a.status.as_str()
                    ])
                    .map_err(&err)?;
            }
        }
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-applied
        // posting: every change is inside a transaction that rolls back.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The account check's answer.
    pub fn lookup(&self, number: &AccountNumber) -> Result<AccountCheckResponse, StoreError> {
        let conn = self.lock();
        let account = read_account(&conn, number)?.ok_or(ErrorCode::AccountUnknown)?;
        account.payable()?;
        Ok(AccountCheckResponse {
            holder_name: account.holder_name,
            amount_due: account.amount_due,
            balance: account.balance,
        })
    }

    /// Applies `request` under `key` exactly once (see the module docs).
    /// `refuse_new` is asked only for a key not seen before: `true` stores
    /// a refusal instead of applying (the `--refuse` fault).
    pub fn post(
        &self,
        key: &IdempotencyKey,
        request: &PaymentRequest,
        refuse_new: impl FnOnce() -> bool,
    ) -> Result<StoredAnswer, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing = tx
            .query_row(
                "SELECT account, amount_minor, currency, method, status, answer
                 FROM postings WHERE key = ?1",
                [&key.0],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, u16>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                },
            )
            .optional()?;
        if let Some((account, amount_minor, currency, method, status, body)) = existing {
            let same = *account == *request.account.0
                && amount_minor == request.amount.minor
                && currency == request.amount.currency.code()
                && method == method_name(request.method);
            let counter = if same {
                "times_received"
            } else {
                "conflicting_retries"
            };
            tx.execute(
                &format!("UPDATE postings SET {counter} = {counter} + 1 WHERE key = ?1"),
                [&key.0],
            )?;
            tx.commit()?;
            return Ok(if same {
                StoredAnswer {
                    status,
                    body,
                    replayed: true,
                }
            } else {
                StoredAnswer {
                    status: 409,
                    body: json(&ErrorBody::standard(ErrorCode::IdempotencyKeyConflict))?,
                    replayed: false,
                }
            });
        }

        let outcome = if refuse_new() {
            Err(ErrorBody {
                error: kiosk_http::wire::ErrorDetail {
                    code: ErrorCode::Refused,
                    message: "演练拒绝 / refused for a rehearsal".into(),
                },
            })
        } else {
            apply(&tx, key, request)?.map_err(ErrorBody::standard)
        };
        let (status, body, credited) = match &outcome {
            Ok(credited) => (200, json(credited)?, true),
            Err(refusal) => (422, json(refusal)?, false),
        };
        tx.execute(
            "INSERT INTO postings (key, account, amount_minor, currency, method, status, answer,
                                   credited, times_received, conflicting_retries)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, 0)",
            params![
                key.0,
                request.account.0,
                request.amount.minor,
                request.amount.currency.code(),
                method_name(request.method),
                status,
                body,
                credited
            ],
        )?;
        tx.commit()?;
        Ok(StoredAnswer {
            status,
            body,
            replayed: false,
        })
    }

    /// An account's balance now.
    pub fn balance(&self, number: &AccountNumber) -> Result<Option<Money>, StoreError> {
        Ok(read_account(&self.lock(), number)?.map(|a| a.balance))
    }

    /// What the books hold about `key`.
    pub fn posting(&self, key: &IdempotencyKey) -> Result<Option<PostingRecord>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT status, credited, times_received, conflicting_retries
                 FROM postings WHERE key = ?1",
                [&key.0],
                |r| {
                    Ok(PostingRecord {
                        status: r.get(0)?,
                        credited: r.get(1)?,
                        times_received: r.get(2)?,
                        conflicting_retries: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// How many postings credited an account, over all keys.
    pub fn credits(&self) -> Result<u64, StoreError> {
        Ok(self.lock().query_row(
            "SELECT COUNT(*) FROM postings WHERE credited = 1",
            [],
            |r| r.get(0),
        )?)
    }
}

/// Applies a new posting inside `tx`: the credit, or the refusal's code.
fn apply(
    tx: &rusqlite::Transaction<'_>,
    key: &IdempotencyKey,
    request: &PaymentRequest,
) -> Result<Result<PaymentCredited, ErrorCode>, StoreError> {
    let Some(account) = read_account(tx, &request.account)? else {
        return Ok(Err(ErrorCode::AccountUnknown));
    };
    if let Err(code) = account.payable() {
        return Ok(Err(code));
    }
    if request.amount.minor <= 0 {
        return Ok(Err(ErrorCode::AmountInvalid));
    }
    if request.amount.currency != account.balance.currency {
        return Ok(Err(ErrorCode::CurrencyMismatch));
    }
    let Some(new_balance) = account.balance.checked_add(request.amount) else {
        return Ok(Err(ErrorCode::AmountInvalid));
    };
    let new_due = account
        .amount_due
        .checked_sub(request.amount)
        .map_or(0, |d| d.minor.max(0));
    if request.method == PaymentMethod::Code {
        // The reference server "charges" a code by accepting each code
        // once: a spent single-use code is worthless, so keeping it is safe.
        let Some(code) = &request.code else {
            return Ok(Err(ErrorCode::CodeMissing));
        };
        let fresh = tx.execute(
            "INSERT OR IGNORE INTO used_codes (digits, key) VALUES (?1, ?2)",
            params![code.expose_digits(), key.0],
        )?;
        if fresh == 0 {
            return Ok(Err(ErrorCode::CodeDeclined));
        }
    }
    tx.execute(
        "UPDATE accounts SET balance_minor = ?1, amount_due_minor = ?2 WHERE number = ?3",
        params![new_balance.minor, new_due, request.account.0],
    )?;
    let seq: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM postings", [], |r| {
        r.get(0)
    })?;
    debug_assert!(new_balance.minor > account.balance.minor);
    Ok(Ok(PaymentCredited {
        backend_ref: format!("BOSS{seq:010}"),
        new_balance,
    }))
}

/// An account as the books hold it.
struct StoredAccount {
    holder_name: String,
    amount_due: Money,
    balance: Money,
    status: AccountStatus,
}

impl StoredAccount {
    fn payable(&self) -> Result<(), ErrorCode> {
        match self.status {
            AccountStatus::Open => Ok(()),
            AccountStatus::Closed => Err(ErrorCode::AccountClosed),
            AccountStatus::NotPayable => Err(ErrorCode::AccountNotPayable),
        }
    }
}

fn read_account(
    conn: &Connection,
    number: &AccountNumber,
) -> Result<Option<StoredAccount>, StoreError> {
    let row = conn
        .query_row(
            "SELECT holder_name, currency, amount_due_minor, balance_minor, status
             FROM accounts WHERE number = ?1",
            [&number.0],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((holder_name, currency, due, balance, status)) = row else {
        return Ok(None);
    };
    let currency = Currency::try_from(currency).map_err(StoreError::Corrupt)?;
    let status = AccountStatus::from_name(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("account status {status:?}")))?;
    Ok(Some(StoredAccount {
        holder_name,
        amount_due: Money::new(due, currency),
        balance: Money::new(balance, currency),
        status,
    }))
}

fn method_name(method: PaymentMethod) -> &'static str {
    match method {
        PaymentMethod::Cash => "cash",
        PaymentMethod::Code => "code",
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("answer ({e})")))
}

/// A lookup or posting that got no business answer.
#[derive(Debug)]
pub enum StoreError {
    /// A refusal with its code (lookups only: postings store refusals).
    Refused(ErrorCode),
    /// SQLite failed; nothing was committed.
    Sqlite(rusqlite::Error),
    /// The database holds something this server never writes.
    Corrupt(String),
}

impl From<ErrorCode> for StoreError {
    fn from(code: ErrorCode) -> StoreError {
        StoreError::Refused(code)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Sqlite(e)
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Refused(code) => write!(f, "refused: {code:?}"),
            StoreError::Sqlite(e) => write!(f, "database: {e}"),
            StoreError::Corrupt(what) => write!(f, "database holds an invalid {what}"),
        }
    }
}

impl std::error::Error for StoreError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::Account;
    use kiosk_hal::{PaymentCode, PaymentScheme};

    fn books(dir: &Path) -> Store {
        let mut file = AccountsFile::default();
        for (n, status) in [
            ("1001", AccountStatus::Open),
            ("1002", AccountStatus::Closed),
        ] {
            file.accounts.insert(
                AccountNumber(n.into()),
                Account {
                    holder_name: "张三".into(),
                    amount_due: Money::new(12000, Currency::CNY),
                    balance: Money::new(100, Currency::CNY),
                    status,
                },
            );
        }
        Store::open(&dir.join("books.db"), &file).unwrap()
    }

    fn cash(account: &str, minor: i64) -> PaymentRequest {
        PaymentRequest {
            account: AccountNumber(account.into()),
            amount: Money::new(minor, Currency::CNY),
            method: PaymentMethod::Cash,
            code: None,
        }
    }

    fn key(k: &str) -> IdempotencyKey {
        IdempotencyKey(k.into())
    }

    #[test]
    fn a_key_is_applied_once_and_its_answer_repeated() {
        let dir = tempfile::tempdir().unwrap();
        let store = books(dir.path());
        let first = store
            .post(&key("k1"), &cash("1001", 5000), || false)
            .unwrap();
        assert_eq!(first.status, 200);
        assert!(!first.replayed);
        let again = store
            .post(&key("k1"), &cash("1001", 5000), || panic!("not new"))
            .unwrap();
        assert_eq!(
            (again.status, &again.body, again.replayed),
            (200, &first.body, true)
        );
        let one = AccountNumber("1001".into());
        assert_eq!(
            store.balance(&one).unwrap(),
            Some(Money::new(5100, Currency::CNY))
        );
        let record = store.posting(&key("k1")).unwrap().unwrap();
        assert_eq!((record.credited, record.times_received), (true, 2));
    }

    #[test]
    fn a_key_reused_for_another_payment_is_a_conflict_that_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = books(dir.path());
        store
            .post(&key("k1"), &cash("1001", 5000), || false)
            .unwrap();
        let other = store
            .post(&key("k1"), &cash("1001", 6000), || false)
            .unwrap();
        assert_eq!(other.status, 409);
        let one = AccountNumber("1001".into());
        assert_eq!(
            store.balance(&one).unwrap(),
            Some(Money::new(5100, Currency::CNY))
        );
        assert_eq!(
            store
                .posting(&key("k1"))
                .unwrap()
                .unwrap()
                .conflicting_retries,
            1
        );
    }

    #[test]
    fn refusals_are_stored_and_repeated() {
        let dir = tempfile::tempdir().unwrap();
        let store = books(dir.path());
        let closed = store
            .post(&key("k2"), &cash("1002", 5000), || false)
            .unwrap();
        assert_eq!(closed.status, 422);
        assert!(closed.body.contains("account-closed"), "{}", closed.body);
        assert_eq!(
            store
                .post(&key("k2"), &cash("1002", 5000), || false)
                .unwrap()
                .body,
            closed.body
        );
        for (k, req, code) in [
            ("k3", cash("9999", 1), "account-unknown"),
            ("k4", cash("1001", 0), "amount-invalid"),
            (
                "k5",
                PaymentRequest {
                    method: PaymentMethod::Code,
                    ..cash("1001", 5)
                },
                "code-missing",
            ),
        ] {
            let a = store.post(&key(k), &req, || false).unwrap();
            assert_eq!(a.status, 422, "{k}");
            assert!(a.body.contains(code), "{k}: {}", a.body);
        }
        assert_eq!(store.credits().unwrap(), 0);
    }

    #[test]
    fn a_code_is_charged_once_and_balances_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let code = PaymentCode::new(PaymentScheme::WeChatPay, "134567890123456789");
        let with_code = PaymentRequest {
            method: PaymentMethod::Code,
            code: Some(kiosk_http::wire::WireCode::from_code(&code)),
            ..cash("1001", 700)
        };
        {
            let store = books(dir.path());
            assert_eq!(
                store.post(&key("c1"), &with_code, || false).unwrap().status,
                200
            );
            let reused = store.post(&key("c2"), &with_code, || false).unwrap();
            assert!(reused.body.contains("code-declined"), "{}", reused.body);
        }
        let store = books(dir.path());
        let one = AccountNumber("1001".into());
        assert_eq!(
            store.balance(&one).unwrap(),
            Some(Money::new(800, Currency::CNY))
        );
        let retry = PaymentRequest {
            code: None,
            ..with_code
        };
        let again = store.post(&key("c1"), &retry, || false).unwrap();
        assert_eq!((again.status, again.replayed), (200, true));
    }
}
