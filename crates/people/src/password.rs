//! Passwords, hashed with Argon2id (RFC 9106) into PHC strings.
//!
//! Parameters: 19 MiB of memory, 2 passes, 1 lane — OWASP's first recommended Argon2id
//! setting, about 20–40 ms per hash on one core here. Sign-in is deliberately that slow; every
//! later request is checked by session or token hash, never by this. The PHC string records
//! the parameters it was made with, so raising them later leaves old hashes verifiable.

use std::fmt;

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHasher, PasswordVerifier},
};

use crate::PeopleError;

/// Memory cost in KiB.
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Passes over the memory.
pub const PASSES: u32 = 2;
/// Lanes (degree of parallelism).
pub const LANES: u32 = 1;
/// The fewest characters a password may have. Length beats composition rules (NIST SP
/// 800-63B §3.1.1.2); a passphrase is welcome.
pub const MIN_CHARS: usize = 12;
/// The most bytes a password may have: enough for any passphrase, and a bound on the work a
/// sign-in attempt can cause.
pub const MAX_BYTES: usize = 1024;

/// A password as typed. It has no `Debug` and no `Display`, so it cannot reach a log line by
/// accident.
pub struct Password(String);

impl Password {
    /// Takes a new password, checking only its length (NIST SP 800-63B: no composition rules).
    pub fn new(s: String) -> Result<Self, PeopleError> {
        if s.chars().count() < MIN_CHARS {
            return Err(PeopleError::Invalid(format!(
                "a password needs at least {MIN_CHARS} characters (a passphrase of a few words is best)"
            )));
        }
        Self::given(s)
    }

    /// Takes a password given at sign-in: any length up to [`MAX_BYTES`], so that a policy
    /// change never locks anyone out.
    pub fn given(s: String) -> Result<Self, PeopleError> {
        if s.len() > MAX_BYTES {
            return Err(PeopleError::Invalid(format!(
                "a password has at most {MAX_BYTES} bytes"
            )));
        }
        Ok(Self(s))
    }

    /// Hashes the password with a fresh random salt.
    pub fn hash(&self) -> PasswordHash {
        let hash = hasher()
            .hash_password(self.0.as_bytes())
            .expect("Argon2id with fixed valid parameters and a random salt cannot fail");
        PasswordHash(hash.to_string())
    }
}

/// A stored password hash: a PHC string, e.g. `$argon2id$v=19$m=19456,t=2,p=1$...`.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Reads a stored hash; refuses anything that is not an Argon2id PHC string.
    pub fn parse(s: &str) -> Result<Self, PeopleError> {
        if !s.starts_with("$argon2id$") {
            return Err(PeopleError::Unreadable(
                "a password hash that is not Argon2id".into(),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// Whether `password` is the one hashed (in constant time, as the argon2 crate compares).
    pub fn verify(&self, password: &Password) -> bool {
        hasher()
            .verify_password(password.0.as_bytes(), self.0.as_str())
            .is_ok()
    }

    /// The PHC string, to store.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The hash is not the password, but offline guessing starts from it.
        f.write_str("PasswordHash(..)")
    }
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
        .expect("the Argon2 parameters above are within the algorithm's bounds");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_hash_and_no_other() {
        let p = Password::new("correct horse battery".into()).unwrap();
        let hash = p.hash();
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash:?}"
        );
        assert!(hash.verify(&p));
        assert!(!hash.verify(&Password::given("correct horse batterY".into()).unwrap()));
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_their_salt() {
        let p = Password::new("correct horse battery".into()).unwrap();
        assert_ne!(p.hash().as_str(), p.hash().as_str());
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(Password::new("short".into()).is_err());
        assert!(Password::given("x".repeat(MAX_BYTES + 1)).is_err());
        // At sign-in a short one is still checked, not refused: the policy may have changed.
        assert!(Password::given("short".into()).is_ok());
    }

    #[test]
    fn a_hash_that_is_not_argon2id_is_refused() {
        assert!(PasswordHash::parse("$2b$12$abcdefghijklmnopqrstuv").is_err());
        assert!(PasswordHash::parse("plain").is_err());
    }

    #[test]
    fn a_hash_never_prints_itself() {
        let hash = Password::new("correct horse battery".into())
            .unwrap()
            .hash();
        assert_eq!(format!("{hash:?}"), "PasswordHash(..)");
    }
}
