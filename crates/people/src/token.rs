//! Bearer secrets: API tokens, session ids and CSRF tokens. Each is 32 random bytes (256 bits)
//! shown once and stored only as its SHA-256: a secret that random needs no slow hash, so a
//! signed-in request costs one SHA-256 and one indexed lookup, never an Argon2 run.

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::PeopleError;

/// What a secret is for; its prefix says so, so a token pasted in the wrong place (or found in
/// a repository by a secret scanner) is recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A user's API token (`Authorization: Bearer dtk_...`).
    ApiToken,
    /// A browser session id (cookie).
    Session,
    /// A session's CSRF token (hidden form field or header).
    Csrf,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::ApiToken => "dtk_",
            Kind::Session => "dts_",
            Kind::Csrf => "dtc_",
        }
    }
}

/// Random bytes in a secret.
const BYTES: usize = 32;
/// Characters of base64url for [`BYTES`] bytes, without padding.
const ENCODED: usize = 43;

/// A secret as handed to its holder. No `Debug` or `Display`: it cannot reach a log line by
/// accident.
pub struct Secret(String);

impl Secret {
    /// A fresh secret of `kind`.
    pub fn generate(kind: Kind) -> Self {
        let mut bytes = [0u8; BYTES];
        getrandom::fill(&mut bytes).expect("the operating system's random source is available");
        Self(format!(
            "{}{}",
            kind.prefix(),
            URL_SAFE_NO_PAD.encode(bytes)
        ))
    }

    /// Reads a secret presented by a client, checking only its shape.
    pub fn parse(kind: Kind, s: &str) -> Result<Self, PeopleError> {
        let body = s.strip_prefix(kind.prefix()).ok_or_else(|| {
            PeopleError::Invalid(format!(
                "not a {} secret",
                kind.prefix().trim_end_matches('_')
            ))
        })?;
        if body.len() != ENCODED || URL_SAFE_NO_PAD.decode(body).is_err() {
            return Err(PeopleError::Invalid("a secret of the wrong shape".into()));
        }
        Ok(Self(s.to_owned()))
    }

    /// The hash the node stores and looks the secret up by.
    pub fn hash(&self) -> SecretHash {
        SecretHash::of(&self.0)
    }

    /// The secret itself, to hand over once (print, set as a cookie).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `given` is this secret, compared in constant time (a CSRF token is compared
    /// with the session's in memory, where timing could leak it byte by byte).
    pub fn matches(&self, given: &str) -> bool {
        self.0.as_bytes().ct_eq(given.as_bytes()).into()
    }
}

/// The SHA-256 of a secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// The SHA-256 of `text` as presented (any bearer string, checked or not).
    pub fn of(text: &str) -> Self {
        Self(Sha256::digest(text.as_bytes()).into())
    }

    /// The hash as lower-case hex, to store.
    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }

    /// Reads a stored hash.
    pub fn from_hex(s: &str) -> Result<Self, PeopleError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| {
            PeopleError::Unreadable("a secret hash that is not 64 hex digits".into())
        })?;
        Ok(Self(out))
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretHash({}…)", &self.to_hex()[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_parses_back_and_hashes_the_same() {
        let s = Secret::generate(Kind::ApiToken);
        assert!(s.expose().starts_with("dtk_"));
        assert_eq!(s.expose().len(), 4 + ENCODED);
        let again = Secret::parse(Kind::ApiToken, s.expose()).unwrap();
        assert_eq!(again.hash(), s.hash());
        assert_eq!(SecretHash::from_hex(&s.hash().to_hex()).unwrap(), s.hash());
    }

    #[test]
    fn secrets_are_not_repeated() {
        let a = Secret::generate(Kind::Session);
        let b = Secret::generate(Kind::Session);
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn a_secret_of_another_kind_or_shape_is_refused() {
        let session = Secret::generate(Kind::Session);
        assert!(Secret::parse(Kind::ApiToken, session.expose()).is_err());
        assert!(Secret::parse(Kind::ApiToken, "dtk_short").is_err());
        assert!(Secret::parse(Kind::ApiToken, &format!("dtk_{}", "*".repeat(ENCODED))).is_err());
    }

    #[test]
    fn matching_compares_the_whole_secret() {
        let c = Secret::generate(Kind::Csrf);
        assert!(c.matches(c.expose()));
        assert!(!c.matches(&c.expose()[..c.expose().len() - 1]));
        assert!(!c.matches(""));
    }

    #[test]
    fn a_stored_hash_of_the_wrong_shape_is_refused() {
        assert!(SecretHash::from_hex("00").is_err());
        assert!(SecretHash::from_hex(&"zz".repeat(32)).is_err());
    }
}
