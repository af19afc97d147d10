//! Secrets: values that must never reach a log, plus the hashing of passwords, API tokens,
//! session ids and recovery codes.
//!
//! Passwords are low-entropy, so they get argon2id. Tokens, session ids and recovery codes are
//! generated here with at least 128 bits (recovery codes 80) of randomness, so a SHA-256
//! digest is enough to store them safely and lets the hot path look them up by hash.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A string that prints as `[redacted]` in `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself. Call only where the value is really needed.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// An argon2id PHC string.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

impl PasswordHash {
    /// Hashes a password with argon2id (19 MiB, 2 passes, 1 lane: the OWASP minimum) and a
    /// random salt.
    pub fn create(password: &str) -> Self {
        let hash = Argon2::default()
            .hash_password(password.as_bytes())
            .expect("argon2 with default parameters and a generated salt cannot fail");
        Self(hash.to_string())
    }

    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_stored(&self) -> &str {
        &self.0
    }

    /// Constant-time verification; a malformed stored hash verifies nothing.
    pub fn verify(&self, password: &str) -> bool {
        Argon2::default()
            .verify_password(password.as_bytes(), self.0.as_str())
            .is_ok()
    }
}

/// A hash of a password nobody knows, verified against when an account does not exist so
/// that a login for an unknown e-mail costs the same time as for a known one.
pub fn dummy_password_hash() -> &'static PasswordHash {
    static DUMMY: std::sync::OnceLock<PasswordHash> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| PasswordHash::create(&random_token("x", 16)))
}

/// The lookup hash of a token-like secret: lower-case hex SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Lower-case hex SHA-256 of bytes (evidence files).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `prefix` followed by `bytes` random bytes, base64url without padding.
pub fn random_token(prefix: &str, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
    )
}

/// A new API token (shown once): `cst_` + 256 random bits.
pub fn new_api_token() -> Secret {
    Secret(random_token("cst_", 32))
}

/// A new session id (cookie value): 256 random bits.
pub fn new_session_token() -> Secret {
    Secret(random_token("", 32))
}

/// A CSRF token bound to a session or a pre-login cookie.
pub fn new_csrf_token() -> String {
    random_token("", 24)
}

/// Ten recovery codes of 16 base32 characters (80 bits), grouped `xxxx-xxxx-xxxx-xxxx`.
pub fn new_recovery_codes() -> Vec<Secret> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..10)
        .map(|_| {
            let mut code = String::with_capacity(19);
            for i in 0..16 {
                if i > 0 && i % 4 == 0 {
                    code.push('-');
                }
                let idx = (rng.next_u32() as usize) % ALPHABET.len();
                code.push(ALPHABET[idx] as char);
            }
            Secret(code)
        })
        .collect()
}

/// Normalises a typed recovery code (case, spaces, dashes) before hashing.
pub fn recovery_code_hash(code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    token_hash(&norm)
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug() {
        let s = Secret::new("hunter2-hunter2");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        let h = PasswordHash::from_stored("$argon2id$v=19$...".into());
        assert!(!format!("{h:?}").contains("argon2id"));
    }

    #[test]
    fn password_hash_is_argon2id_and_verifies() {
        let h = PasswordHash::create("correct horse battery");
        assert!(h.as_stored().starts_with("$argon2id$"));
        assert!(h.verify("correct horse battery"));
        assert!(!h.verify("correct horse batterz"));
        assert!(!PasswordHash::from_stored("garbage".into()).verify("x"));
    }

    #[test]
    fn tokens_are_random_and_hash_stably() {
        let a = new_api_token();
        let b = new_api_token();
        assert_ne!(a, b);
        assert!(a.expose().starts_with("cst_"));
        assert_eq!(token_hash(a.expose()), token_hash(a.expose()));
        assert_eq!(token_hash("abc").len(), 64);
    }

    #[test]
    fn recovery_codes_normalise() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let c = codes[0].expose();
        assert_eq!(c.len(), 19);
        assert_eq!(
            recovery_code_hash(c),
            recovery_code_hash(&c.to_uppercase().replace('-', " "))
        );
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
