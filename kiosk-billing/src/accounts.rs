//! The accounts file: the accounts the server starts with.
//!
//! TOML (or JSON, for a file ending in `.json`), the same shape as the
//! virtual backend's accounts in `kiosk-sim`:
//!
//! ```toml
//! [accounts."0571-12345678"]
//! holder-name = "张三"
//! amount-due = { minor = 12000, currency = "CNY" }
//! balance = { minor = 0, currency = "CNY" }
//! status = "open"          # or "closed", "not-payable"
//! ```
//!
//! The file seeds the database: an account already in the database keeps
//! its balance there (money credited survives a restart); the file only
//! adds accounts the database does not have yet.

use std::collections::BTreeMap;
use std::path::Path;

use kiosk_hal::{AccountNumber, Currency, Money};
use serde::{Deserialize, Serialize};

use crate::BillingError;

/// Whether an account may be paid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccountStatus {
    /// Payable. The default.
    #[default]
    Open,
    /// Closed (已销户): checks and postings are refused.
    Closed,
    /// Exists but cannot be paid at a kiosk.
    NotPayable,
}

impl AccountStatus {
    /// The name stored in the database (the serde name).
    pub fn as_str(&self) -> &'static str {
        match self {
            AccountStatus::Open => "open",
            AccountStatus::Closed => "closed",
            AccountStatus::NotPayable => "not-payable",
        }
    }

    /// The status named `name` (the inverse of [`AccountStatus::as_str`]).
    pub fn from_name(name: &str) -> Option<AccountStatus> {
        match name {
            "open" => Some(AccountStatus::Open),
            "closed" => Some(AccountStatus::Closed),
            "not-payable" => Some(AccountStatus::NotPayable),
            _ => None,
        }
    }
}

fn zero_cny() -> Money {
    Money::zero(Currency::CNY)
}

/// One account as the file gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Account {
    /// The holder's name (required, not empty).
    pub holder_name: String,
    /// Amount due (应缴金额). Default CNY 0.00.
    #[serde(default = "zero_cny")]
    pub amount_due: Money,
    /// Balance (余额). Default CNY 0.00; in the amount due's currency.
    #[serde(default = "zero_cny")]
    pub balance: Money,
    /// Whether it may be paid. Default `open`.
    #[serde(default)]
    pub status: AccountStatus,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsFile {
    /// Accounts by number.
    #[serde(default)]
    pub accounts: BTreeMap<AccountNumber, Account>,
}

impl AccountsFile {
    /// Reads and checks the file at `path`: TOML, or JSON if its name ends
    /// in `.json`. Errors name the file and, for TOML, the line and column.
    pub fn load(path: &Path) -> Result<AccountsFile, BillingError> {
        let bad = |problem: String| BillingError::Accounts {
            path: path.to_path_buf(),
            problem,
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(format!("cannot be read: {e}")))?;
        let file: AccountsFile = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?
        } else {
            toml::from_str(&text).map_err(|e| bad(e.to_string()))?
        };
        file.check().map_err(bad)?;
        Ok(file)
    }

    /// Every account has a number, a name, one currency and nothing negative due.
    pub fn check(&self) -> Result<(), String> {
        for (number, account) in &self.accounts {
            let at = format!("account {:?}", number.0);
            if number.0.trim().is_empty() {
                return Err("an account number is empty".into());
            }
            if account.holder_name.trim().is_empty() {
                return Err(format!("{at}: holder-name is empty"));
            }
            if account.amount_due.currency != account.balance.currency {
                return Err(format!(
                    "{at}: amount-due is in {} but balance in {}",
                    account.amount_due.currency, account.balance.currency
                ));
            }
            if account.amount_due.minor < 0 {
                return Err(format!("{at}: amount-due is negative"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str, text: &str) -> Result<AccountsFile, BillingError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        AccountsFile::load(&path)
    }

    #[test]
    fn toml_and_json_read_the_same_accounts() {
        let toml = load(
            "a.toml",
            "[accounts.\"1001\"]\nholder-name = \"张三\"\namount-due = { minor = 12000, currency = \"CNY\" }\n",
        )
        .unwrap();
        let json = load(
            "a.json",
            r#"{"accounts":{"1001":{"holder-name":"张三","amount-due":{"minor":12000,"currency":"CNY"}}}}"#,
        )
        .unwrap();
        assert_eq!(toml, json);
        let a = &toml.accounts[&AccountNumber("1001".into())];
        assert_eq!(a.balance, Money::zero(Currency::CNY));
        assert_eq!(a.status, AccountStatus::Open);
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let e = load("a.toml", "[accounts.\"1\"]\nholder-nme = \"x\"\n").unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("--accounts ") && text.contains("a.toml"),
            "{text}"
        );
        assert!(text.contains("holder-nme"), "{text}");
        let e = load(
            "b.toml",
            "[accounts.\"1\"]\nholder-name = \"x\"\nbalance = { minor = 0, currency = \"EUR\" }\n",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("amount-due is in CNY but balance in EUR"),
            "{e}"
        );
        let e = AccountsFile::load(Path::new("/nonexistent/accounts.toml")).unwrap_err();
        assert!(e.to_string().contains("cannot be read"), "{e}");
    }
}
