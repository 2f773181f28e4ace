//! Time-based one-time passwords (RFC 6238) as a second factor, with the settings every
//! authenticator app reads: HMAC-SHA-1, 6 digits, 30-second steps, one step of skew either
//! way. A code is accepted once: the caller keeps the last step used and passes it back, as
//! RFC 6238 §5.2 asks.

use std::fmt;

use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::PeopleError;

/// Bytes of a shared secret: 160 bits, as RFC 4226 §4 recommends.
const SECRET_BYTES: usize = 20;
/// Seconds per step.
const STEP: u64 = 30;
/// Digits in a code.
const DIGITS: u8 = 6;

/// A user's TOTP shared secret. The node must keep it (to compute codes), so it is stored;
/// it never prints itself.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret([u8; SECRET_BYTES]);

impl TotpSecret {
    /// A fresh random secret.
    pub fn generate() -> Self {
        let mut bytes = [0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes).expect("the operating system's random source is available");
        Self(bytes)
    }

    /// Reads a secret stored (or typed) as base32.
    pub fn from_base32(s: &str) -> Result<Self, PeopleError> {
        let secret = Secret::try_from_base32(s.trim())
            .map_err(|_| PeopleError::Unreadable("a TOTP secret that is not base32".into()))?;
        let bytes: [u8; SECRET_BYTES] = secret
            .as_bytes()
            .try_into()
            .map_err(|_| PeopleError::Unreadable("a TOTP secret of the wrong length".into()))?;
        Ok(Self(bytes))
    }

    /// The secret as base32, to store or to type into an authenticator app.
    pub fn to_base32(&self) -> String {
        Secret::new_stack(self.0).to_base32()
    }

    /// The `otpauth://` URL an authenticator app reads (from a QR code or pasted).
    pub fn otpauth_url(&self, issuer: &str, account: &str) -> Result<String, PeopleError> {
        self.totp(issuer, account)?
            .to_url()
            .map_err(|e| PeopleError::Invalid(format!("cannot make the TOTP URL: {e}")))
    }

    /// The step `code` is valid for at `unix_secs` (one step of skew either way), if it is
    /// valid and its step is after `last_used`, the step of the last code accepted.
    pub fn check(&self, code: &str, unix_secs: u64, last_used: Option<u64>) -> Option<u64> {
        let totp = self.totp("detente", "user").ok()?;
        let step = totp.check(code.trim(), unix_secs)?;
        match last_used {
            Some(last) if step <= last => None,
            _ => Some(step),
        }
    }

    /// The code for `unix_secs`, as an authenticator app shows it (tests, and checking a
    /// set-up by hand).
    pub fn code_at(&self, unix_secs: u64) -> String {
        self.totp("detente", "user")
            .map(|t| t.generate(unix_secs).to_string())
            .unwrap_or_default()
    }

    fn totp(&self, issuer: &str, account: &str) -> Result<Totp, PeopleError> {
        totp(Algorithm::SHA1, DIGITS, &self.0, issuer, account)
    }
}

fn totp(
    algorithm: Algorithm,
    digits: u8,
    secret: &[u8],
    issuer: &str,
    account: &str,
) -> Result<Totp, PeopleError> {
    Builder::new()
        .with_algorithm(algorithm)
        .with_digits(digits)
        .with_skew(1)
        .with_step_duration(STEP)
        .with_secret(Secret::new(secret.into()))
        .with_issuer(Some(issuer))
        .with_account_name(account)
        .build()
        .map_err(|e| PeopleError::Invalid(format!("cannot set up TOTP: {e}")))
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: the SHA-1 seed and the 8-digit codes at each time.
    #[test]
    fn the_rfc_6238_sha1_test_vectors_hold() {
        let seed = b"12345678901234567890";
        let totp = totp(Algorithm::SHA1, 8, seed, "rfc", "6238").unwrap();
        for (time, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(totp.generate(time).to_string(), code, "T = {time}");
        }
    }

    /// RFC 6238 Appendix B: the SHA-256 seed (32 bytes) and its codes.
    #[test]
    fn the_rfc_6238_sha256_test_vectors_hold() {
        let seed = b"12345678901234567890123456789012";
        let totp = totp(Algorithm::SHA256, 8, seed, "rfc", "6238").unwrap();
        for (time, code) in [
            (59, "46119246"),
            (1_111_111_109, "68084774"),
            (1_111_111_111, "67062674"),
            (1_234_567_890, "91819424"),
            (2_000_000_000, "90698825"),
            (20_000_000_000, "77737706"),
        ] {
            assert_eq!(totp.generate(time).to_string(), code, "T = {time}");
        }
    }

    fn code_at(secret: &TotpSecret, time: u64) -> String {
        secret.code_at(time)
    }

    #[test]
    fn a_code_is_accepted_within_one_step_and_not_beyond() {
        let s = TotpSecret::generate();
        let t = 1_800_000_000;
        assert_eq!(s.check(&code_at(&s, t), t, None), Some(t / STEP));
        assert!(s.check(&code_at(&s, t - STEP), t, None).is_some());
        assert!(s.check(&code_at(&s, t + STEP), t, None).is_some());
        assert_eq!(s.check(&code_at(&s, t - 3 * STEP), t, None), None);
        assert_eq!(s.check("000000x", t, None), None);
    }

    #[test]
    fn a_code_is_accepted_only_once() {
        let s = TotpSecret::generate();
        let t = 1_800_000_000;
        let code = code_at(&s, t);
        let step = s.check(&code, t, None).expect("first use");
        assert_eq!(s.check(&code, t + 1, Some(step)), None, "replayed");
        // The next step's code is still good.
        assert!(
            s.check(&code_at(&s, t + STEP), t + STEP, Some(step))
                .is_some()
        );
    }

    #[test]
    fn a_secret_round_trips_through_base32_and_makes_an_otpauth_url() {
        let s = TotpSecret::generate();
        assert_eq!(TotpSecret::from_base32(&s.to_base32()).unwrap(), s);
        let url = s.otpauth_url("detente US", "j.smith").unwrap();
        assert!(url.starts_with("otpauth://totp/"), "{url}");
        assert!(url.contains(&format!("secret={}", s.to_base32())), "{url}");
        assert_eq!(format!("{s:?}"), "TotpSecret(..)");
        assert!(TotpSecret::from_base32("not base32!").is_err());
    }
}
