//! Signed remote commands: Ed25519 signatures, a clock window and nonces.
//!
//! Why Ed25519 (ed25519-dalek) and not HMAC: a kiosk keeps only its
//! senders' *public* keys, so a kiosk taken apart (or its disk copied)
//! yields nothing that can command any kiosk; with HMAC every kiosk would
//! hold every sender's secret. One key pair per sender (a person or the
//! operations desk's console), its role configured on the kiosk beside the
//! public key, exactly as the operator API's staff list.
//!
//! A command is a [`SignedCommand`]: the JSON text of a [`CommandBody`]
//! (sender, target kiosk, time, nonce, the command) and the signature over
//! [`DOMAIN`] followed by that text. The kiosk checks, in this order: the
//! sender is known, the signature is good (strict verification), the
//! command is for this kiosk, its time is within the window of the
//! kiosk's clock, and its nonce was not seen within the window. The text
//! is verified as received, never re-serialised.

use std::collections::{BTreeSet, HashMap};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use kiosk_core::StaffCommand;
use serde::{Deserialize, Serialize};

/// Signed bytes start with this, so a signature over anything else (another
/// protocol using the same key) is never a valid command.
pub const DOMAIN: &[u8] = b"kiosk-fleet command v1\n";

/// What a sender signs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CommandBody {
    /// Who sends it (the name configured with their public key).
    pub sender: String,
    /// The kiosk it is for: a command for one kiosk is refused by another.
    pub kiosk_id: String,
    /// When it was signed (sender's clock, ms since the Unix epoch).
    pub at_ms: u64,
    /// 16 random bytes, hex: the same command twice is two nonces.
    pub nonce: String,
    /// The command, as the operator API takes it.
    pub command: StaffCommand,
}

/// The message on `…/cmd`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SignedCommand {
    /// The JSON text of a [`CommandBody`], exactly as signed.
    pub body: String,
    /// Ed25519 signature over [`DOMAIN`] + `body`, hex (128 digits).
    pub signature: String,
}

impl SignedCommand {
    /// Signs `body` with `key`.
    pub fn sign(key: &SigningKey, body: &CommandBody) -> SignedCommand {
        let text = serde_json::to_string(body).unwrap_or_default();
        let signature = key.sign(&signed_bytes(&text));
        SignedCommand {
            body: text,
            signature: hex(&signature.to_bytes()),
        }
    }

    /// The JSON bytes to publish.
    pub fn to_payload(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

fn signed_bytes(body: &str) -> Vec<u8> {
    let mut bytes = DOMAIN.to_vec();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "refusal")]
pub enum Refusal {
    /// Not a signed command at all.
    Malformed {
        /// What was wrong.
        detail: String,
    },
    /// No public key is configured for the sender.
    UnknownSender {
        /// The name claimed.
        sender: String,
    },
    /// The signature does not verify with the sender's key.
    BadSignature {
        /// The name claimed.
        sender: String,
    },
    /// Signed for another kiosk.
    WrongKiosk {
        /// The sender.
        sender: String,
        /// The kiosk named.
        kiosk_id: String,
    },
    /// Its time is outside the window around the kiosk's clock.
    Stale {
        /// The sender.
        sender: String,
        /// How far off (ms; negative: from the future).
        skew_ms: i64,
    },
    /// Its nonce was already used within the window.
    Replay {
        /// The sender.
        sender: String,
        /// The nonce.
        nonce: String,
    },
    /// The sender's role does not allow the command (the kiosk's check).
    Forbidden {
        /// The sender.
        sender: String,
        /// The command.
        command: String,
        /// The role the sender has.
        role: String,
    },
    /// Not taken over MQTT at all (a dual-control clearing step needs two
    /// people present with their own logins).
    NotRemote {
        /// The sender.
        sender: String,
        /// The command.
        command: String,
    },
}

impl Refusal {
    /// The sender it names, if it got that far.
    pub fn sender(&self) -> Option<&str> {
        match self {
            Refusal::Malformed { .. } => None,
            Refusal::UnknownSender { sender }
            | Refusal::BadSignature { sender }
            | Refusal::WrongKiosk { sender, .. }
            | Refusal::Stale { sender, .. }
            | Refusal::Replay { sender, .. }
            | Refusal::Forbidden { sender, .. }
            | Refusal::NotRemote { sender, .. } => Some(sender),
        }
    }

    /// Whether it is a failure to authenticate (as opposed to an
    /// authenticated sender asking for what their role does not allow).
    pub fn is_unauthenticated(&self) -> bool {
        !matches!(self, Refusal::Forbidden { .. } | Refusal::NotRemote { .. })
    }

    /// In Chinese and in English.
    pub fn messages(&self) -> (String, String) {
        match self {
            Refusal::Malformed { detail } => (
                "命令格式无效，已拒绝".into(),
                format!("not a signed command: {detail}"),
            ),
            Refusal::UnknownSender { sender } => (
                format!("未知的发送者 {sender}，命令已拒绝并记录为安全事件"),
                format!("unknown sender {sender:?}: refused and recorded as a security event"),
            ),
            Refusal::BadSignature { sender } => (
                format!("{sender} 的签名无效，命令已拒绝并记录为安全事件"),
                format!("bad signature for {sender:?}: refused and recorded as a security event"),
            ),
            Refusal::WrongKiosk { sender, kiosk_id } => (
                format!("命令是发给 {kiosk_id} 的，本终端拒绝执行"),
                format!("{sender:?} signed this command for kiosk {kiosk_id:?}, not this one"),
            ),
            Refusal::Stale { sender, skew_ms } => (
                "命令时间超出允许范围，已拒绝".into(),
                format!("{sender:?}'s command is {skew_ms} ms off the kiosk's clock: outside the window"),
            ),
            Refusal::Replay { sender, nonce } => (
                "重复的命令（重放），已拒绝并记录为安全事件".into(),
                format!("{sender:?}'s nonce {nonce} was already used: a replay, refused"),
            ),
            Refusal::Forbidden {
                sender,
                command,
                role,
            } => (
                format!("{sender} 的角色（{role}）无权执行 {command}"),
                format!("{sender:?}'s role ({role}) may not {command}"),
            ),
            Refusal::NotRemote { command, .. } => (
                format!("{command} 需两人到场各自登录操作（双人控制），不能远程执行"),
                format!("{command} needs two people present with their own logins (dual control): not taken remotely"),
            ),
        }
    }
}

/// The answer on `…/cmd/result`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct CommandAnswer {
    /// The kiosk answering.
    pub kiosk_id: String,
    /// The command's nonce, to match the answer to it (if it could be read).
    pub nonce: Option<String>,
    /// The command's name, if it could be read.
    pub command: Option<String>,
    /// What became of it.
    pub outcome: Outcome,
    /// Why it was refused, if it was.
    pub refusal: Option<Refusal>,
    /// The kiosk's own words about the result.
    pub detail: String,
    /// For the operator, Chinese.
    pub message_zh: String,
    /// For the operator, English.
    pub message_en: String,
}

impl CommandAnswer {
    /// The JSON bytes to publish.
    pub fn to_payload(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// What became of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Carried out successfully.
    Done,
    /// Carried out, and it failed.
    Failed,
    /// Queued: the kiosk performs it after the customer in progress.
    Queued,
    /// Refused (see the refusal).
    Refused,
}

/// The kiosk's side: the senders' keys and the nonces seen.
#[derive(Debug)]
pub struct Verifier {
    kiosk_id: String,
    keys: HashMap<String, VerifyingKey>,
    window_ms: u64,
    /// (expiry, sender, nonce): forgotten once a command with that time
    /// would be stale anyway.
    seen: BTreeSet<(u64, String, String)>,
}

impl Verifier {
    /// Checks commands for `kiosk_id` from `keys`, within `window_ms` of the
    /// kiosk's clock either way.
    pub fn new(kiosk_id: &str, keys: HashMap<String, VerifyingKey>, window_ms: u64) -> Verifier {
        Verifier {
            kiosk_id: kiosk_id.into(),
            keys,
            window_ms,
            seen: BTreeSet::new(),
        }
    }

    /// Checks `payload` at `now_ms`; the body if it is good.
    pub fn verify(&mut self, payload: &[u8], now_ms: u64) -> Result<CommandBody, Refusal> {
        let signed: SignedCommand =
            serde_json::from_slice(payload).map_err(|e| Refusal::Malformed {
                detail: e.to_string(),
            })?;
        let body: CommandBody =
            serde_json::from_str(&signed.body).map_err(|e| Refusal::Malformed {
                detail: format!("body: {e}"),
            })?;
        let sender = body.sender.clone();
        let Some(key) = self.keys.get(&sender) else {
            return Err(Refusal::UnknownSender { sender });
        };
        let signature = unhex::<64>(&signed.signature)
            .map(|b| Signature::from_bytes(&b))
            .ok_or_else(|| Refusal::BadSignature {
                sender: sender.clone(),
            })?;
        key.verify_strict(&signed_bytes(&signed.body), &signature)
            .map_err(|_| Refusal::BadSignature {
                sender: sender.clone(),
            })?;
        if body.kiosk_id != self.kiosk_id {
            return Err(Refusal::WrongKiosk {
                sender,
                kiosk_id: body.kiosk_id,
            });
        }
        let skew_ms = now_ms as i64 - body.at_ms as i64;
        if skew_ms.unsigned_abs() > self.window_ms {
            return Err(Refusal::Stale { sender, skew_ms });
        }
        // Forget nonces whose commands would be stale by now.
        while let Some(first) = self.seen.first() {
            if first.0 >= now_ms {
                break;
            }
            self.seen.pop_first();
        }
        let expiry = body.at_ms + self.window_ms;
        let fresh = !self
            .seen
            .iter()
            .any(|(_, s, n)| *s == sender && *n == body.nonce);
        if !fresh {
            return Err(Refusal::Replay {
                sender,
                nonce: body.nonce,
            });
        }
        self.seen.insert((expiry, sender, body.nonce.clone()));
        Ok(body)
    }
}

/// A new signing key from the OS's generator.
pub fn generate_key() -> Result<SigningKey, getrandom::Error> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)?;
    Ok(SigningKey::from_bytes(&seed))
}

/// A fresh nonce (16 random bytes, hex).
pub fn new_nonce() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(hex(&bytes))
}

/// A signing key from its 64 hex digits (the secret seed).
pub fn parse_signing_key(text: &str) -> Result<SigningKey, String> {
    unhex::<32>(text.trim())
        .map(|b| SigningKey::from_bytes(&b))
        .ok_or_else(|| "a signing key is 64 hex digits".into())
}

/// A public key from its 64 hex digits.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let bytes = unhex::<32>(text.trim()).ok_or("a public key is 64 hex digits")?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| format!("not an Ed25519 public key: {e}"))
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(sender: &str, kiosk: &str, at_ms: u64, nonce: &str) -> CommandBody {
        CommandBody {
            sender: sender.into(),
            kiosk_id: kiosk.into(),
            at_ms,
            nonce: nonce.into(),
            command: StaffCommand::SelfTest,
        }
    }

    fn verifier(key: &SigningKey) -> Verifier {
        let keys = HashMap::from([("desk".to_string(), key.verifying_key())]);
        Verifier::new("K01", keys, 60_000)
    }

    #[test]
    fn a_good_command_passes_once_and_its_replay_is_refused() {
        let key = generate_key().unwrap();
        let mut v = verifier(&key);
        let signed = SignedCommand::sign(&key, &body("desk", "K01", 1_000_000, "n1"));
        let ok = v.verify(&signed.to_payload(), 1_000_500).unwrap();
        assert_eq!(ok.command, StaffCommand::SelfTest);
        assert_eq!(
            v.verify(&signed.to_payload(), 1_001_000),
            Err(Refusal::Replay {
                sender: "desk".into(),
                nonce: "n1".into()
            })
        );
        // Much later the nonce is forgotten, but the command is stale then.
        assert!(matches!(
            v.verify(&signed.to_payload(), 1_000_000 + 60_001),
            Err(Refusal::Stale { .. })
        ));
    }

    #[test]
    fn each_kind_of_bad_command_is_refused_for_its_own_reason() {
        let key = generate_key().unwrap();
        let other = generate_key().unwrap();
        let mut v = verifier(&key);
        let now = 5_000_000;
        let forged = SignedCommand::sign(&other, &body("desk", "K01", now, "a"));
        assert_eq!(
            v.verify(&forged.to_payload(), now),
            Err(Refusal::BadSignature {
                sender: "desk".into()
            })
        );
        let mut tampered = SignedCommand::sign(&key, &body("desk", "K01", now, "b"));
        tampered.body = tampered.body.replace("self-test", "restart");
        assert!(matches!(
            v.verify(&tampered.to_payload(), now),
            Err(Refusal::BadSignature { .. })
        ));
        let stranger = SignedCommand::sign(&other, &body("mallory", "K01", now, "c"));
        assert_eq!(
            v.verify(&stranger.to_payload(), now),
            Err(Refusal::UnknownSender {
                sender: "mallory".into()
            })
        );
        let elsewhere = SignedCommand::sign(&key, &body("desk", "K02", now, "d"));
        assert!(matches!(
            v.verify(&elsewhere.to_payload(), now),
            Err(Refusal::WrongKiosk { .. })
        ));
        let future = SignedCommand::sign(&key, &body("desk", "K01", now + 61_000, "e"));
        assert_eq!(
            v.verify(&future.to_payload(), now),
            Err(Refusal::Stale {
                sender: "desk".into(),
                skew_ms: -61_000
            })
        );
        assert!(matches!(
            v.verify(b"{\"body\": 1}", now),
            Err(Refusal::Malformed { .. })
        ));
    }

    #[test]
    fn keys_round_trip_through_hex() {
        let key = generate_key().unwrap();
        let again = parse_signing_key(&hex(&key.to_bytes())).unwrap();
        assert_eq!(again.to_bytes(), key.to_bytes());
        let public = parse_public_key(&hex(key.verifying_key().as_bytes())).unwrap();
        assert_eq!(public, key.verifying_key());
        assert!(parse_public_key("zz").is_err());
        assert!(parse_signing_key(&"g".repeat(64)).is_err());
    }
}
