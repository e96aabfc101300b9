//! Who may use the operator API: staff, their roles, their passwords'
//! argon2id hashes, and the session tokens a login hands out.
//!
//! Passwords are never stored: the configuration holds each one's argon2id
//! hash in the PHC string format, and a login verifies against it with the
//! `argon2` crate (the parameters travel inside the string, so stronger
//! ones can be chosen per person). A login returns a token of 32 bytes from
//! the operating system's generator, valid for a configured time on the
//! monotonic clock; every other call presents it as `Authorization: Bearer`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};

use crate::config::OperatorConfig;

/// What a member of staff may do. Each role may do everything the one
/// before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Reads status, tickets and pending clearing steps.
    Viewer,
    /// Also sends commands (restart, self-test, disable, …).
    Operator,
    /// Also handles cash: may be one of the two people of a clearing (the
    /// one holding the kiosk key; 双人管理).
    CashHandler,
    /// Also holds the cash box key: every clearing step needs one
    /// supervisor among its two people, both cash handlers or above.
    Supervisor,
}

impl Role {
    /// The role's name as written in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::CashHandler => "cash-handler",
            Role::Supervisor => "supervisor",
        }
    }
}

/// An authenticated member of staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Staff {
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
}

/// Why a hash could not be made.
#[derive(Debug)]
pub struct HashError(String);

impl std::fmt::Display for HashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot hash the password: {}", self.0)
    }
}

impl std::error::Error for HashError {}

/// The argon2id hash of `password` (PHC string) with the crate's default
/// parameters (OWASP's: 19 MiB, 2 passes) and a fresh 16-byte salt from
/// the OS.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    hash_password_with(password, argon2::Params::default())
}

/// The argon2id hash of `password` with `params` (cheap ones for tests).
pub fn hash_password_with(password: &str, params: argon2::Params) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| HashError(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(e.to_string()))?;
    let hasher = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    hasher
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Why a configured hash is unusable.
pub fn check_hash(hash: &str) -> Result<(), String> {
    let parsed = PasswordHash::new(hash).map_err(|e| format!("not a PHC hash string: {e}"))?;
    if parsed.algorithm.as_str() != "argon2id" {
        return Err(format!(
            "the hash is {}, not argon2id (make one with `kioskd hash-password`)",
            parsed.algorithm
        ));
    }
    Ok(())
}

/// Whether `password` matches the PHC `hash` (argon2id only).
///
/// CPU-heavy on purpose (tens of milliseconds): call it off the async
/// threads (`spawn_blocking`).
pub fn verify_password(hash: &str, password: &str) -> bool {
    if check_hash(hash).is_err() {
        return false;
    }
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// The configured staff, by name.
#[derive(Debug, Clone, Default)]
pub struct Staffing {
    by_name: HashMap<String, OperatorConfig>,
}

/// A hash of a password nobody has, verified when the name is unknown so
/// that an unknown name costs as much time as a wrong password.
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$3X6nQ2G0Vh5Cc8bq9yqQhG3o3m3r1kWm1mYq2f0c3sE";

impl Staffing {
    /// The staff of the configuration.
    pub fn new(operators: &[OperatorConfig]) -> Staffing {
        Staffing {
            by_name: operators
                .iter()
                .map(|o| (o.name.clone(), o.clone()))
                .collect(),
        }
    }

    /// Checks a name and password; blocking (see [`verify_password`]).
    pub fn authenticate(&self, name: &str, password: &str) -> Option<Staff> {
        match self.by_name.get(name) {
            Some(op) if verify_password(&op.password_hash, password) => Some(Staff {
                name: op.name.clone(),
                role: op.role,
            }),
            Some(_) => None,
            None => {
                let _ = verify_password(DECOY_HASH, password);
                None
            }
        }
    }

    /// Names of the staff who may be one of a clearing's two people.
    pub fn clearing_staff(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .by_name
            .values()
            .filter(|o| o.role >= Role::CashHandler)
            .map(|o| o.name.clone())
            .collect();
        names.sort();
        names
    }
}

/// A session token: 32 random bytes, hex.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Logged-in staff by token, each valid until its expiry (monotonic).
#[derive(Debug)]
pub struct Tokens {
    ttl: Duration,
    live: HashMap<String, (Staff, Instant)>,
}

impl Tokens {
    /// An empty table whose tokens live `ttl`.
    pub fn new(ttl: Duration) -> Tokens {
        Tokens {
            ttl,
            live: HashMap::new(),
        }
    }

    /// Records `staff`'s new token, valid from `now`.
    pub fn insert(&mut self, token: String, staff: Staff, now: Instant) {
        self.live.retain(|_, (_, until)| *until > now);
        self.live.insert(token, (staff, now + self.ttl));
    }

    /// Who holds `token`, if it is live at `now`.
    pub fn get(&self, token: &str, now: Instant) -> Option<Staff> {
        match self.live.get(token) {
            Some((staff, until)) if *until > now => Some(staff.clone()),
            _ => None,
        }
    }

    /// Ends `token` (logout); whether it was live.
    pub fn remove(&mut self, token: &str) -> bool {
        self.live.remove(token).is_some()
    }

    /// How long a token lives.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters: a test needs the algorithm, not the cost.
    pub(crate) fn cheap() -> argon2::Params {
        argon2::Params::new(1024, 1, 1, None).unwrap()
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash_password_with("正确的密码", cheap()).unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password(&h, "正确的密码"));
        assert!(!verify_password(&h, "wrong"));
        let again = hash_password_with("正确的密码", cheap()).unwrap();
        assert_ne!(h, again, "a fresh salt each time");
    }

    #[test]
    fn only_argon2id_hashes_are_accepted() {
        let h = hash_password_with("pw", cheap()).unwrap();
        let argon2i = h.replacen("$argon2id$", "$argon2i$", 1);
        assert!(check_hash(&argon2i).unwrap_err().contains("not argon2id"));
        assert!(!verify_password(&argon2i, "pw"));
        assert!(check_hash("plaintext").is_err());
        assert!(check_hash(DECOY_HASH).is_ok());
    }

    #[test]
    fn staff_authenticate_by_name_and_password() {
        let ops = [OperatorConfig {
            name: "zhang".into(),
            role: Role::Supervisor,
            password_hash: hash_password_with("pw", cheap()).unwrap(),
        }];
        let staffing = Staffing::new(&ops);
        assert_eq!(
            staffing.authenticate("zhang", "pw").map(|s| s.role),
            Some(Role::Supervisor)
        );
        assert_eq!(staffing.authenticate("zhang", "pW"), None);
        assert_eq!(staffing.authenticate("nobody", "pw"), None);
        assert_eq!(staffing.clearing_staff(), vec!["zhang".to_string()]);
    }

    #[test]
    fn tokens_are_random_and_expire() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        let mut tokens = Tokens::new(Duration::from_secs(10));
        let t0 = Instant::now();
        let staff = Staff {
            name: "li".into(),
            role: Role::Operator,
        };
        tokens.insert(a.clone(), staff.clone(), t0);
        assert_eq!(tokens.get(&a, t0 + Duration::from_secs(9)), Some(staff));
        assert_eq!(tokens.get(&a, t0 + Duration::from_secs(10)), None);
        assert_eq!(tokens.get(&b, t0), None);
        assert!(tokens.remove(&a));
        assert_eq!(tokens.get(&a, t0), None);
    }
}
