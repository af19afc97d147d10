//! TOTP (RFC 6238): 6 digits, 30-second steps, SHA-1 (what authenticator apps support),
//! one step of clock skew either way. A code's step is recorded on use so that the same code
//! cannot be replayed (RFC 6238 §5.2).

use crate::error::DomainError;
use crate::secret::Secret;
use crate::time::Timestamp;
use totp_rs::{Builder, Secret as TotpSecret, Totp};

pub const ISSUER: &str = "Custos";

/// A fresh 160-bit TOTP secret, base32-encoded.
pub fn new_totp_secret() -> Secret {
    Secret::new(TotpSecret::generate().to_base32())
}

fn totp(secret: &Secret, account: &str) -> Result<Totp, DomainError> {
    let bytes = TotpSecret::try_from_base32(secret.expose())
        .map_err(|_| DomainError::new("totp_secret", "is not valid base32"))?;
    let mut builder = Builder::new().with_secret(bytes).with_issuer(Some(ISSUER));
    if !account.is_empty() {
        builder = builder.with_account_name(account);
    }
    builder
        .build()
        .map_err(|e| DomainError::new("totp_secret", e.to_string()))
}

/// The `otpauth://` URI an authenticator app scans.
pub fn otpauth_uri(secret: &Secret, account: &str) -> Result<String, DomainError> {
    totp(secret, account)?
        .to_url()
        .map_err(|e| DomainError::new("totp_secret", e.to_string()))
}

/// Checks `code` at `now`. Returns the matched time step, which must be greater than the
/// last step accepted for this user (`last_step`), or `None`.
pub fn verify_code(
    secret: &Secret,
    code: &str,
    now: Timestamp,
    last_step: Option<i64>,
) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret, "").ok()?;
    let step = t.check(&code, u64::try_from(now.secs()).ok()?)? as i64;
    match last_step {
        Some(last) if step <= last => None,
        _ => Some(step),
    }
}

/// The code for `now` (tests and the demo use it; a real user has an app).
pub fn current_code(secret: &Secret, now: Timestamp) -> Option<String> {
    let t = totp(secret, "").ok()?;
    Some(t.generate(u64::try_from(now.secs()).ok()?).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 seed "12345678901234567890", truncated to 6 digits.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn rfc6238_vectors() {
        let s = Secret::new(RFC_SECRET);
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(
                current_code(&s, Timestamp(t * 1000)).unwrap(),
                code,
                "t={t}"
            );
            assert!(verify_code(&s, code, Timestamp(t * 1000), None).is_some());
        }
    }

    #[test]
    fn skew_replay_and_garbage() {
        let s = new_totp_secret();
        let now = Timestamp(1_800_000_000_000);
        let code = current_code(&s, now).unwrap();
        let step = verify_code(&s, &code, now.plus_secs(30), None).expect("one step of skew");
        assert!(
            verify_code(&s, &code, now.plus_secs(90), None).is_none(),
            "too late"
        );
        assert!(
            verify_code(&s, &code, now, Some(step)).is_none(),
            "replayed"
        );
        assert!(verify_code(&s, "12345", now, None).is_none());
        assert!(verify_code(&s, "abcdef", now, None).is_none());
    }

    #[test]
    fn uri_names_issuer_and_account() {
        let s = new_totp_secret();
        let uri = otpauth_uri(&s, "ann@example.org").unwrap();
        assert!(uri.starts_with("otpauth://totp/Custos:ann"), "{uri}");
        assert!(uri.contains(&format!("secret={}", s.expose())));
    }
}
