//! The billing backend of the crash test, its book kept in a file.
//!
//! It stands for a system outside the kiosk: its state survives the kiosk
//! being killed. A posting is applied idempotently by key and the book is
//! saved (fsynced) **before** the answer leaves; a key it has seen gets the
//! stored answer again. For the check it counts, per key, how often the
//! key arrived and how often it was applied to an account — the crash test
//! asserts the latter is never more than one.
//!
//! The link in front of it drops postings (never reaching the backend) and
//! loses answers (applied, answer gone) with seeded probabilities, so
//! pending payments and retries happen across kills.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use kiosk_hal::{
    AccountAnswer, AccountInfo, AccountNumber, Currency, DeviceError, ErrorKind, Money,
    NetworkLink, PaymentMethod, PaymentPosting, PostingAnswer,
};
use serde::{Deserialize, Serialize};

use super::physical::cny;
use super::store::{self, StoreError};
use crate::rng::SimRng;

/// The file, under the run directory, that holds the [`BackendBook`].
pub const BACKEND_FILE: &str = "backend.json";

/// The account whose postings the backend refuses (frozen after the check):
/// its cash is refused-and-held in the box.
pub const FROZEN_ACCOUNT: &str = "1003";

/// What the backend holds for one idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct KeyRecord {
    /// The account of the first posting.
    pub account: String,
    /// Its amount, CNY minor units.
    pub amount_minor: i64,
    /// Its method.
    pub method: PaymentMethod,
    /// The stored answer, repeated to every retry.
    pub answer: PostingAnswer,
    /// How many postings with this key arrived.
    pub received: u32,
    /// How many times it was applied to an account (credited).
    pub applied: u32,
}

/// The backend's durable state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BackendBook {
    /// Every key received, with its record.
    pub keys: BTreeMap<String, KeyRecord>,
    /// Account balances, CNY minor units.
    pub balances: BTreeMap<String, i64>,
}

impl BackendBook {
    /// Receives one posting: applies a new key (or refuses it for the
    /// frozen account), repeats the stored answer for a known one.
    pub fn receive(&mut self, posting: &PaymentPosting) -> PostingAnswer {
        let key = posting.key.0.to_string();
        if let Some(record) = self.keys.get_mut(&key) {
            record.received += 1;
            return record.answer.clone();
        }
        let account = posting.account.0.to_string();
        let (answer, applied) = if account == FROZEN_ACCOUNT {
            let reason = "account frozen by the operator".to_string();
            (PostingAnswer::Refused { reason }, 0)
        } else {
            let balance = self.balances.entry(account.clone()).or_insert(0);
            *balance += posting.amount.minor;
            let answer = PostingAnswer::Credited {
                backend_ref: format!("BOSS-{}", self.keys.len() + 1),
                new_balance: cny(*balance),
            };
            (answer, 1)
        };
        self.keys.insert(
            key,
            KeyRecord {
                account,
                amount_minor: posting.amount.minor,
                method: posting.method,
                answer: answer.clone(),
                received: 1,
                applied,
            },
        );
        answer
    }
}

/// How the link misbehaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkFaults {
    /// Probability a call never reaches the backend (`Offline`).
    pub drop: f64,
    /// Probability a posting is applied and its answer lost (`Timeout`).
    pub lose_answer: f64,
    /// Latency of each half of a call, milliseconds (upper bound, seeded).
    pub half_latency_ms: u64,
}

impl LinkFaults {
    /// A healthy link (for the quiescent run).
    pub const NONE: LinkFaults = LinkFaults {
        drop: 0.0,
        lose_answer: 0.0,
        half_latency_ms: 5,
    };
    /// The faults of the kill runs.
    pub const CRASH_RUN: LinkFaults = LinkFaults {
        drop: 0.1,
        lose_answer: 0.1,
        half_latency_ms: 15,
    };
}

/// The link to the file-backed backend.
pub struct FileLink {
    file: PathBuf,
    book: BackendBook,
    rng: SimRng,
    faults: LinkFaults,
}

impl FileLink {
    /// Opens the backend's book in `dir` (empty if there is none).
    pub fn open(dir: &Path, rng: SimRng, faults: LinkFaults) -> Result<FileLink, StoreError> {
        let file = dir.join(BACKEND_FILE);
        let book = store::load(&file)?.unwrap_or_default();
        Ok(FileLink {
            file,
            book,
            rng,
            faults,
        })
    }

    async fn half_trip(&mut self) {
        let ms = self.rng.below(self.faults.half_latency_ms + 1);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    fn dropped(&mut self) -> Result<(), DeviceError> {
        if self.rng.chance(self.faults.drop) {
            return Err(DeviceError::new(ErrorKind::Offline, "link down"));
        }
        Ok(())
    }
}

#[async_trait]
impl NetworkLink for FileLink {
    async fn lookup_account(
        &mut self,
        account: &AccountNumber,
    ) -> Result<AccountAnswer, DeviceError> {
        self.half_trip().await;
        self.dropped()?;
        self.half_trip().await;
        let balance = self.book.balances.get(&*account.0).copied().unwrap_or(0);
        Ok(AccountAnswer::Payable(AccountInfo {
            holder_name: "张三".into(),
            amount_due: Money::major(100, Currency::CNY),
            balance: cny(balance),
        }))
    }

    async fn post_payment(
        &mut self,
        posting: &PaymentPosting,
    ) -> Result<PostingAnswer, DeviceError> {
        self.half_trip().await;
        self.dropped()?;
        let mut next = self.book.clone();
        let answer = next.receive(posting);
        // Durable at the backend before any answer leaves it.
        store::save(&self.file, &next)
            .map_err(|e| DeviceError::new(ErrorKind::Offline, e.to_string()))?;
        self.book = next;
        let lost = self.rng.chance(self.faults.lose_answer);
        self.half_trip().await;
        if lost {
            return Err(DeviceError::new(ErrorKind::Timeout, "answer lost"));
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_hal::IdempotencyKey;

    fn posting(key: &str, account: &str, yuan: i64) -> PaymentPosting {
        PaymentPosting {
            key: IdempotencyKey(key.into()),
            account: AccountNumber(account.into()),
            amount: Money::major(yuan, Currency::CNY),
            method: PaymentMethod::Cash,
            code: None,
        }
    }

    #[test]
    fn a_key_is_applied_once_and_its_answer_repeated() {
        let mut book = BackendBook::default();
        let first = book.receive(&posting("k1", "1001", 50));
        let again = book.receive(&posting("k1", "1001", 50));
        assert_eq!(first, again);
        assert_eq!(book.keys["k1"].received, 2);
        assert_eq!(book.keys["k1"].applied, 1);
        assert_eq!(book.balances["1001"], 5000);
        let refused = book.receive(&posting("k2", FROZEN_ACCOUNT, 20));
        assert!(matches!(refused, PostingAnswer::Refused { .. }));
        assert_eq!(book.keys["k2"].applied, 0);
    }

    #[tokio::test]
    async fn the_book_survives_the_link_and_a_lost_answer_was_applied() {
        let dir = tempfile::tempdir().unwrap();
        let lossy = LinkFaults {
            drop: 0.0,
            lose_answer: 1.0,
            half_latency_ms: 0,
        };
        let mut link = FileLink::open(dir.path(), SimRng::new(1), lossy).unwrap();
        let lost = link.post_payment(&posting("k1", "1001", 10)).await;
        assert_eq!(lost.unwrap_err().kind(), ErrorKind::Timeout);
        drop(link);
        let mut link = FileLink::open(dir.path(), SimRng::new(2), LinkFaults::NONE).unwrap();
        assert!(matches!(
            link.post_payment(&posting("k1", "1001", 10)).await.unwrap(),
            PostingAnswer::Credited { .. }
        ));
        let book: BackendBook = store::load(&dir.path().join(BACKEND_FILE))
            .unwrap()
            .unwrap();
        assert_eq!((book.keys["k1"].received, book.keys["k1"].applied), (2, 1));
    }
}
