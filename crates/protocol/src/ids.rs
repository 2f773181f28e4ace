//! Identifiers that cross the border: parties, messages, cases and SHA-256 digests.
//!
//! Each is parsed once, by its `parse` function, and is valid from then on.

use std::{
    fmt,
    hash::{Hash, Hasher},
    str::FromStr,
};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::ProtocolError;

macro_rules! string_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }

        impl FromStr for $t {
            type Err = ProtocolError;
            fn from_str(s: &str) -> Result<Self, ProtocolError> {
                Self::parse(s)
            }
        }
    };
}

/// A party to an agreement: an upper-case code such as `US`, `CN` or `GB-NCSC`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartyId(String);

impl PartyId {
    /// Accepts 2 to 16 characters of `A-Z`, `0-9` and inner `-`, starting with a letter.
    pub fn parse(s: &str) -> Result<Self, ProtocolError> {
        let ok_len = (2..=16).contains(&s.len());
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        let ok_ends = s.starts_with(|c: char| c.is_ascii_uppercase()) && !s.ends_with('-');
        if ok_len && ok_chars && ok_ends {
            Ok(Self(s.to_owned()))
        } else {
            Err(ProtocolError::bad(
                "party id",
                format!("{s:?} must be 2-16 upper-case letters, digits or '-', like \"US\""),
            ))
        }
    }

    /// The party code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
string_serde!(PartyId);

/// The unique id of one envelope, a random (v4) UUID chosen by its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(Uuid);

impl MessageId {
    /// A fresh random id.
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }

    /// Accepts the lower-case hyphenated UUID form only, so each id has one spelling.
    pub fn parse(s: &str) -> Result<Self, ProtocolError> {
        let u = Uuid::try_parse(s).map_err(|e| ProtocolError::bad("message id", e.to_string()))?;
        if u.hyphenated().to_string() != s {
            return Err(ProtocolError::bad(
                "message id",
                format!("{s:?} must be a lower-case hyphenated UUID"),
            ));
        }
        Ok(Self(u))
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.hyphenated())
    }
}
string_serde!(MessageId);

/// A case (one request and everything that follows it): `<requesting party>-<year>-<number>`,
/// for example `US-2026-0042`. The requesting node allocates the number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseId {
    party: PartyId,
    year: u16,
    number: u32,
}

impl CaseId {
    /// Builds the id of the `number`th case the party filed in `year`.
    pub fn new(party: PartyId, year: u16, number: u32) -> Self {
        Self {
            party,
            year,
            number,
        }
    }

    /// Parses `US-2026-0042`; the number has at least four digits.
    pub fn parse(s: &str) -> Result<Self, ProtocolError> {
        let bad = || {
            ProtocolError::bad(
                "case id",
                format!("{s:?} must look like US-2026-0042 (party, year, number)"),
            )
        };
        let (rest, number) = s.rsplit_once('-').ok_or_else(bad)?;
        let (party, year) = rest.rsplit_once('-').ok_or_else(bad)?;
        let digits = |t: &str, n: usize| t.len() >= n && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(year, 4) || year.len() != 4 || !digits(number, 4) || number.len() > 9 {
            return Err(bad());
        }
        let id = Self {
            party: PartyId::parse(party)?,
            year: year.parse().map_err(|_| bad())?,
            number: number.parse().map_err(|_| bad())?,
        };
        // One spelling per case: reject `US-2026-00042` when `US-2026-0042` is meant.
        if id.to_string() != s {
            return Err(bad());
        }
        Ok(id)
    }

    /// The party that filed the request.
    pub fn party(&self) -> &PartyId {
        &self.party
    }

    /// The year the case was filed.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The case's number within its party and year.
    pub fn number(&self) -> u32 {
        self.number
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:04}-{:04}", self.party, self.year, self.number)
    }
}
string_serde!(CaseId);

/// A SHA-256 digest, written as 64 lower-case hex digits.
#[derive(Clone, Copy, Eq)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// Wraps raw digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses 64 lower-case hex digits.
    pub fn parse(s: &str) -> Result<Self, ProtocolError> {
        if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(ProtocolError::bad(
                "sha-256 digest",
                "must be 64 lower-case hex digits",
            ));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out)
            .map_err(|e| ProtocolError::bad("sha-256 digest", e.to_string()))?;
        Ok(Self(out))
    }

    /// The digest's first 24 hex digits in groups of four, e.g. `3f2a 91c0 77de 0b14 a5e2
    /// c9d8`, for people to read to each other over the phone. It is the start of the digest
    /// itself, so it can be checked against the full form by eye; 96 bits still make finding
    /// another document with the same fingerprint cost about 2^96 hashes.
    pub fn fingerprint(&self) -> String {
        let digits = hex::encode(&self.0[..12]);
        let groups: Vec<&str> = (0..digits.len())
            .step_by(4)
            .map(|i| &digits[i..i + 4])
            .collect();
        groups.join(" ")
    }
}

impl PartialEq for Digest {
    /// Constant time, so comparing a root or a hash never leaks where it first differs.
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Hash for Digest {
    /// Hashes the bytes, agreeing with the constant-time `PartialEq`, which is byte equality.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}
string_serde!(Digest);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn party_ids_accept_codes_and_reject_the_rest() {
        for ok in ["US", "CN", "GB-NCSC", "X1"] {
            assert!(PartyId::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "U",
            "us",
            "US-",
            "-US",
            "1US",
            "U S",
            "ABCDEFGHIJKLMNOPQ",
        ] {
            assert!(PartyId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_fingerprint_is_the_start_of_the_digest_in_groups_of_four() {
        // Arrange
        let digest = Digest::of(b"agreement");
        let hex = digest.to_string();

        // Act
        let fingerprint = digest.fingerprint();

        // Assert
        assert_eq!(fingerprint.len(), 29, "{fingerprint}");
        assert_eq!(fingerprint.replace(' ', ""), hex[..24]);
        assert!(
            fingerprint
                .split(' ')
                .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_hexdigit())),
            "{fingerprint}"
        );
    }

    #[test]
    fn case_ids_have_one_spelling() {
        let id = CaseId::parse("US-2026-0042").expect("valid");
        assert_eq!(id.to_string(), "US-2026-0042");
        assert_eq!(id.party().as_str(), "US");
        assert!(CaseId::parse("GB-NCSC-2026-12345").is_ok());
        for bad in [
            "US-2026-00042",
            "US-26-0042",
            "US-2026-42",
            "us-2026-0042",
            "US2026-0042",
        ] {
            assert!(CaseId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn message_ids_must_be_lower_case_hyphenated() {
        let id = MessageId::random();
        assert_eq!(MessageId::parse(&id.to_string()), Ok(id));
        assert!(MessageId::parse(&id.to_string().to_uppercase()).is_err());
        assert!(MessageId::parse(&id.to_string().replace('-', "")).is_err());
    }

    #[test]
    fn digests_round_trip_and_reject_upper_case() {
        let d = Digest::of(b"abc");
        assert_eq!(
            d.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Digest::parse(&d.to_string()), Ok(d));
        assert!(Digest::parse(&d.to_string().to_uppercase()).is_err());
    }
}
