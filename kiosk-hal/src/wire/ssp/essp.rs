//! eSSP: the key exchange and the encrypted packet.
//!
//! # Key exchange (SET GENERATOR 0x4A, SET MODULUS 0x4B, REQUEST KEY EXCHANGE 0x4C)
//!
//! The host picks two primes, a generator `g` and a modulus `m`, and a
//! secret `a`; it sends `g`, `m` and `g^a mod m`; the slave answers
//! `g^b mod m`; both compute `(g^b)^a = (g^a)^b mod m`. Every number is a
//! u64 sent little-endian. The 64-bit Diffie-Hellman is the *protocol's*
//! arithmetic, specified by ITL and too small to be a cryptographic
//! primitive in its own right: [`mod_pow`] and [`is_prime`] here are that
//! arithmetic (modular exponentiation and a deterministic Miller-Rabin test
//! on u64, through u128), not crypto this project invents.
//!
//! # The AES key
//!
//! 16 bytes: the 64-bit *fixed key* (default `0123456701234567`, set per
//! unit with SET FIXED ENCRYPTION KEY), then the negotiated key, both
//! little-endian: the default fixed key gives `67 45 23 01 67 45 23 01`.
//!
//! # The encrypted packet (inside the SSP packet's DATA)
//!
//! ```text
//! STEX 0x7E | AES-128-ECB( eLENGTH | eCOUNT ×4 LE | eDATA… | ePACKING… | eCRC_lo eCRC_hi )
//! ```
//!
//! eLENGTH is the length of eDATA; ePACKING random bytes fill the plaintext
//! to a multiple of 16; eCRC is the SSP CRC over everything before it. The
//! AES is the RustCrypto `aes` crate.
//!
//! eCOUNT: zero after a key exchange. The host sends its count and then
//! increments it; the slave's reply must carry the incremented count; the
//! slave checks the host's count against its own and increments it once per
//! packet it accepts. So the host's n-th packet carries n-1 and its reply n
//! (ITL SDK `ITLSSPProc.c` / `SSPComs.c`; the kybarg Node.js driver does the
//! same). A repeated command (same sequence flag) is sent as the same bytes
//! and answered with the same bytes: nothing is counted twice.

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use aes::Aes128;

use super::crc16;
use crate::wire::WireError;

/// The first DATA byte of an encrypted packet.
pub const STEX: u8 = 0x7E;
/// The fixed key every unit ships with (GA138), as ITL writes it.
pub const DEFAULT_FIXED_KEY: u64 = 0x0123_4567_0123_4567;
/// The most plaintext an encrypted packet can carry: 255 DATA bytes hold
/// STEX and 240 encrypted bytes, 7 of them framing.
pub const MAX_PLAIN_LEN: usize = 240 - 7;

/// `base^exp mod modulus` on u64 through u128 products (0 for modulus 0 or 1).
pub fn mod_pow(base: u64, mut exp: u64, modulus: u64) -> u64 {
    if modulus <= 1 {
        return 0;
    }
    let m = u128::from(modulus);
    let mut result: u128 = 1;
    let mut b = u128::from(base) % m;
    while exp > 0 {
        if exp & 1 == 1 {
            result = result * b % m;
        }
        b = b * b % m;
        exp >>= 1;
    }
    // result < modulus <= u64::MAX
    result as u64
}

/// Whether `n` is prime: Miller-Rabin with the first twelve primes as
/// bases, which is exact for every u64.
pub fn is_prime(n: u64) -> bool {
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if n < 2 {
        return false;
    }
    for p in BASES {
        if n.is_multiple_of(p) {
            return n == p;
        }
    }
    let (mut d, mut s) = (n - 1, 0);
    while d.is_multiple_of(2) {
        d /= 2;
        s += 1;
    }
    'bases: for a in BASES {
        let mut x = mod_pow(a, d, n);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = (u128::from(x) * u128::from(x) % u128::from(n)) as u64;
            if x == n - 1 {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

/// The first prime at or above `n`, if there is one below u64::MAX.
pub fn prime_at_or_above(n: u64) -> Option<u64> {
    (n..=u64::MAX).take(10_000).find(|&k| is_prime(k))
}

/// One side's part of the key exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyExchange {
    /// The generator (a prime).
    pub generator: u64,
    /// The modulus (a prime).
    pub modulus: u64,
    secret: u64,
}

impl KeyExchange {
    /// This side's exchange with its secret exponent.
    pub fn new(generator: u64, modulus: u64, secret: u64) -> KeyExchange {
        KeyExchange {
            generator,
            modulus,
            secret,
        }
    }

    /// What this side sends: `generator^secret mod modulus`.
    pub fn intermediate(&self) -> u64 {
        mod_pow(self.generator, self.secret, self.modulus)
    }

    /// The shared key from the other side's intermediate.
    pub fn shared_key(&self, other_intermediate: u64) -> u64 {
        mod_pow(other_intermediate, self.secret, self.modulus)
    }
}

/// The 16-byte AES key: fixed key, then negotiated key, little-endian.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EsspKey([u8; 16]);

impl core::fmt::Debug for EsspKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print key material.
        f.write_str("EsspKey(..)")
    }
}

impl EsspKey {
    /// The key from the fixed and the negotiated halves.
    pub fn new(fixed: u64, negotiated: u64) -> EsspKey {
        let mut k = [0; 16];
        k[..8].copy_from_slice(&fixed.to_le_bytes());
        k[8..].copy_from_slice(&negotiated.to_le_bytes());
        EsspKey(k)
    }

    /// The key bytes, as AES takes them.
    pub fn bytes(&self) -> [u8; 16] {
        self.0
    }
}

/// Encrypts `data` (a command or a reply) with `count`: STEX and the
/// ciphertext, ready to be an SSP packet's DATA. `packing` gives the
/// filler bytes (ITL uses `rand()`; they need not be secret).
///
/// Errors: [`WireError::BadLength`] for more than [`MAX_PLAIN_LEN`] bytes.
pub fn encrypt(
    key: &EsspKey,
    count: u32,
    data: &[u8],
    packing: &mut dyn FnMut() -> u8,
) -> Result<Vec<u8>, WireError> {
    if data.len() > MAX_PLAIN_LEN {
        return Err(WireError::BadLength(data.len()));
    }
    let total = (data.len() + 7).div_ceil(16) * 16;
    let mut plain = Vec::with_capacity(total);
    // data.len() <= MAX_PLAIN_LEN < 256
    plain.push(data.len() as u8);
    plain.extend_from_slice(&count.to_le_bytes());
    plain.extend_from_slice(data);
    while plain.len() < total - 2 {
        plain.push(packing());
    }
    let crc = crc16(&plain);
    plain.extend_from_slice(&crc.to_le_bytes());
    debug_assert!(plain.len().is_multiple_of(16));
    let cipher = Aes128::new(GenericArray::from_slice(&key.0));
    for block in plain.chunks_exact_mut(16) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
    let mut out = Vec::with_capacity(total + 1);
    out.push(STEX);
    out.extend_from_slice(&plain);
    Ok(out)
}

/// Decrypts an SSP packet's DATA that starts with STEX: the count and the
/// plaintext command or reply.
///
/// Errors: [`WireError::BadSync`] when DATA does not start with STEX,
/// [`WireError::BadLength`] when the ciphertext is not whole blocks or
/// eLENGTH does not fit, [`WireError::BadCrc`] for a wrong eCRC (a wrong
/// key shows as this).
pub fn decrypt(key: &EsspKey, data: &[u8]) -> Result<(u32, Vec<u8>), WireError> {
    let (&stex, sealed) = data.split_first().ok_or(WireError::Truncated)?;
    if stex != STEX {
        return Err(WireError::BadSync(stex));
    }
    if sealed.is_empty() || !sealed.len().is_multiple_of(16) {
        return Err(WireError::BadLength(sealed.len()));
    }
    let mut plain = sealed.to_vec();
    let cipher = Aes128::new(GenericArray::from_slice(&key.0));
    for block in plain.chunks_exact_mut(16) {
        cipher.decrypt_block(GenericArray::from_mut_slice(block));
    }
    let (body, crc) = plain.split_at(plain.len() - 2);
    let found = u16::from_le_bytes([crc[0], crc[1]]);
    let expected = crc16(body);
    if found != expected {
        return Err(WireError::BadCrc { expected, found });
    }
    let len = usize::from(body[0]);
    let inner = body.get(5..5 + len).ok_or(WireError::BadLength(len))?;
    let count = u32::from_le_bytes([body[1], body[2], body[3], body[4]]);
    Ok((count, inner.to_vec()))
}

/// The host's end of an encrypted link: seals commands, opens replies.
#[derive(Debug, Clone)]
pub struct HostCipher {
    key: EsspKey,
    count: u32,
}

impl HostCipher {
    /// A link just keyed: count 0.
    pub fn new(key: EsspKey) -> HostCipher {
        HostCipher { key, count: 0 }
    }

    /// The count the next command will carry.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Encrypts a new command (a resend reuses the bytes, never this).
    pub fn seal(
        &mut self,
        command: &[u8],
        packing: &mut dyn FnMut() -> u8,
    ) -> Result<Vec<u8>, WireError> {
        let out = encrypt(&self.key, self.count, command, packing)?;
        self.count = self.count.wrapping_add(1);
        Ok(out)
    }

    /// Decrypts a reply and checks its count against this end's.
    ///
    /// Errors: as [`decrypt`], and [`WireError::BadCount`] for a reply
    /// with another count (a stale or replayed packet).
    pub fn open(&self, reply: &[u8]) -> Result<Vec<u8>, WireError> {
        let (count, data) = decrypt(&self.key, reply)?;
        if count != self.count {
            return Err(WireError::BadCount {
                expected: self.count,
                found: count,
            });
        }
        Ok(data)
    }
}

/// The slave's end of an encrypted link: opens commands, seals replies.
#[derive(Debug, Clone)]
pub struct SlaveCipher {
    key: EsspKey,
    count: u32,
}

impl SlaveCipher {
    /// A link just keyed: count 0.
    pub fn new(key: EsspKey) -> SlaveCipher {
        SlaveCipher { key, count: 0 }
    }

    /// Decrypts a command; a matching count is accepted and counted.
    ///
    /// Errors: as [`decrypt`], and [`WireError::BadCount`].
    pub fn open(&mut self, command: &[u8]) -> Result<Vec<u8>, WireError> {
        let (count, data) = decrypt(&self.key, command)?;
        if count != self.count {
            return Err(WireError::BadCount {
                expected: self.count,
                found: count,
            });
        }
        self.count = self.count.wrapping_add(1);
        Ok(data)
    }

    /// Encrypts the reply to the command just opened.
    pub fn seal(
        &self,
        reply: &[u8],
        packing: &mut dyn FnMut() -> u8,
    ) -> Result<Vec<u8>, WireError> {
        encrypt(&self.key, self.count, reply, packing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed with the ITL SDK's own C code (`XpowYmodN` in Random.c,
    /// `EncryptSSPPacket` and its AES in ITLSSPProc.c / Encryption.c, as
    /// redistributed in Minege/eSSP), compiled and run for these inputs;
    /// see `protocols.md`.
    const GENERATOR: u64 = 982_451_653;
    const MODULUS: u64 = 1_500_450_271;
    const HOST_SECRET: u64 = 123_456_789;
    const SLAVE_SECRET: u64 = 987_654_321;
    const HOST_INTER: u64 = 1_372_844_168;
    const SLAVE_INTER: u64 = 557_079_197;
    const KEY: u64 = 58_169_935;

    fn no_packing() -> u8 {
        panic!("no packing expected")
    }

    #[test]
    fn the_key_exchange_matches_the_itl_sdk() {
        let host = KeyExchange::new(GENERATOR, MODULUS, HOST_SECRET);
        let slave = KeyExchange::new(GENERATOR, MODULUS, SLAVE_SECRET);
        assert_eq!(host.intermediate(), HOST_INTER);
        assert_eq!(slave.intermediate(), SLAVE_INTER);
        assert_eq!(host.shared_key(SLAVE_INTER), KEY);
        assert_eq!(slave.shared_key(HOST_INTER), KEY);
        assert!(is_prime(GENERATOR) && is_prime(MODULUS));
    }

    #[test]
    fn mod_pow_and_primes_on_the_edges() {
        assert_eq!(mod_pow(5, 0, 7), 1);
        assert_eq!(mod_pow(5, 3, 0), 0);
        // Fermat: p = 2^64 - 59 is prime, so a^(p-1) = 1 and, with
        // u64::MAX = p + 58, u64::MAX^u64::MAX = 58^(p-1+59) = 58^59 mod p.
        let p = u64::MAX - 58;
        assert_eq!(mod_pow(u64::MAX, u64::MAX, p), mod_pow(58, 59, p));
        assert!(is_prime(u64::MAX - 58));
        assert!(!is_prime(3_215_031_751)); // strong pseudoprime to bases 2, 3, 5, 7
        assert!(!is_prime(0) && !is_prime(1) && is_prime(2) && is_prime(37));
        assert_eq!(prime_at_or_above(1_000_000_000), Some(1_000_000_007));
    }

    #[test]
    fn the_aes_key_layout_matches_the_itl_sdk() {
        let key = EsspKey::new(DEFAULT_FIXED_KEY, KEY);
        assert_eq!(
            key.bytes(),
            [0x67, 0x45, 0x23, 0x01, 0x67, 0x45, 0x23, 0x01, 0x4F, 0x9A, 0x77, 0x03, 0, 0, 0, 0]
        );
        assert_eq!(format!("{key:?}"), "EsspKey(..)");
    }

    #[test]
    fn encryption_matches_the_itl_sdk_byte_for_byte() {
        let key = EsspKey::new(DEFAULT_FIXED_KEY, KEY);
        // 9 data bytes + 7 = one block: no packing.
        let data = [0x4A, 1, 2, 3, 4, 5, 6, 7, 8];
        let c0 = [
            0x7E, 0x43, 0xEC, 0x60, 0x35, 0x11, 0x2F, 0x66, 0x40, 0x4E, 0x74, 0xAF, 0x3A, 0x4E,
            0x34, 0x29, 0xA3,
        ];
        let c5 = [
            0x7E, 0x9A, 0xA7, 0x8C, 0x98, 0xA0, 0x22, 0x2A, 0x4B, 0x91, 0x75, 0x43, 0x21, 0x97,
            0xD0, 0x0C, 0x87,
        ];
        assert_eq!(encrypt(&key, 0, &data, &mut no_packing), Ok(c0.to_vec()));
        assert_eq!(encrypt(&key, 5, &data, &mut no_packing), Ok(c5.to_vec()));
        assert_eq!(decrypt(&key, &c5), Ok((5, data.to_vec())));
        // 25 bytes + 7 = two blocks, count 0x01020304.
        let poll_answer = [
            0xF0, 0xEE, 0x03, 0xEB, 0x03, 0xE8, 0xCC, 0xEF, 0x00, 0xF0, 0xF1, 0xE8, 0xE8, 0xE8,
            0xE8, 0xE8, 0xE8, 0xE8, 0xE8, 0xE8, 0xE8, 0xE8, 0xE8, 0xE8, 0xE8,
        ];
        let sealed = [
            0x7E, 0xD4, 0x30, 0x96, 0xF4, 0x30, 0xF1, 0x1A, 0xBC, 0xCB, 0x26, 0x84, 0x9F, 0xF3,
            0xFA, 0xB2, 0x73, 0x93, 0xCB, 0x60, 0x32, 0xC3, 0x95, 0xFC, 0xB9, 0x16, 0x02, 0x07,
            0x0F, 0x7E, 0x00, 0xD6, 0xAE,
        ];
        assert_eq!(
            encrypt(&key, 0x0102_0304, &poll_answer, &mut no_packing),
            Ok(sealed.to_vec())
        );
        assert_eq!(
            decrypt(&key, &sealed),
            Ok((0x0102_0304, poll_answer.to_vec()))
        );
    }

    #[test]
    fn packing_fills_to_whole_blocks_and_is_ignored_on_decrypt() {
        let key = EsspKey::new(DEFAULT_FIXED_KEY, 42);
        for len in [1, 8, 9, 10, 25, 26, MAX_PLAIN_LEN] {
            let data: Vec<u8> = (0..len as u8).collect();
            let mut n = 0u8;
            let sealed = encrypt(&key, 7, &data, &mut || {
                n = n.wrapping_add(1);
                n
            })
            .unwrap();
            assert_eq!((sealed.len() - 1) % 16, 0);
            assert!(sealed.len() <= 241);
            assert_eq!(decrypt(&key, &sealed), Ok((7, data)));
        }
        assert_eq!(
            encrypt(&key, 0, &[0; MAX_PLAIN_LEN + 1], &mut || 0),
            Err(WireError::BadLength(MAX_PLAIN_LEN + 1))
        );
    }

    #[test]
    fn a_wrong_key_or_a_damaged_packet_is_an_error() {
        let key = EsspKey::new(DEFAULT_FIXED_KEY, KEY);
        let sealed = encrypt(&key, 0, &[0x07], &mut || 0xAA).unwrap();
        let other = EsspKey::new(DEFAULT_FIXED_KEY, KEY + 1);
        assert!(matches!(
            decrypt(&other, &sealed),
            Err(WireError::BadCrc { .. })
        ));
        assert_eq!(decrypt(&key, &sealed[..16]), Err(WireError::BadLength(15)));
        assert_eq!(decrypt(&key, &[0x07]), Err(WireError::BadSync(0x07)));
        assert_eq!(decrypt(&key, &[]), Err(WireError::Truncated));
    }

    #[test]
    fn counts_advance_once_per_exchange_and_replays_are_refused() {
        let key = EsspKey::new(DEFAULT_FIXED_KEY, KEY);
        let mut host = HostCipher::new(key);
        let mut slave = SlaveCipher::new(key);
        for round in 0..3u32 {
            assert_eq!(host.count(), round);
            let cmd = host.seal(&[0x07], &mut || 0).unwrap();
            assert_eq!(slave.open(&cmd), Ok(vec![0x07]));
            let reply = slave.seal(&[0xF0], &mut || 0).unwrap();
            assert_eq!(decrypt(&key, &reply).map(|r| r.0), Ok(round + 1));
            assert_eq!(host.open(&reply), Ok(vec![0xF0]));
            // The same command again (a replay) is refused by the slave.
            assert_eq!(
                slave.open(&cmd),
                Err(WireError::BadCount {
                    expected: round + 1,
                    found: round
                })
            );
        }
        // A stale reply is refused by the host.
        let stale = encrypt(&key, 1, &[0xF0], &mut || 0).unwrap();
        assert_eq!(
            host.open(&stale),
            Err(WireError::BadCount {
                expected: 3,
                found: 1
            })
        );
    }
}
