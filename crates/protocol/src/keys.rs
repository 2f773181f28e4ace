//! Ed25519 keys (RFC 8032): a node's secret signing key and the public keys partners pin.
//!
//! Verification is always `verify_strict`, which rejects small-order keys and non-canonical
//! signatures, so two distrustful parties can never disagree on whether a signature is valid.

use std::fmt;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use ed25519_dalek::{
    Signature, Signer, SigningKey, VerifyingKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding},
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ProtocolError;

const PUBLIC_KEY_PREFIX: &str = "ed25519:";

/// A pinned Ed25519 public key, written `ed25519:<base64 of the 32 key bytes>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Parses the `ed25519:<base64>` form.
    pub fn parse(s: &str) -> Result<Self, ProtocolError> {
        let b64 = s.strip_prefix(PUBLIC_KEY_PREFIX).ok_or_else(|| {
            ProtocolError::bad(
                "public key",
                format!("must start with {PUBLIC_KEY_PREFIX:?}"),
            )
        })?;
        let bytes: [u8; 32] = STANDARD
            .decode(b64)
            .map_err(|e| ProtocolError::bad("public key", e.to_string()))?
            .try_into()
            .map_err(|_| ProtocolError::bad("public key", "must be 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|e| ProtocolError::bad("public key", e.to_string()))?;
        if key.is_weak() {
            return Err(ProtocolError::bad("public key", "small-order key"));
        }
        Ok(Self(key))
    }

    /// Wraps raw key bytes (used by the RFC 8032 vectors).
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, ProtocolError> {
        VerifyingKey::from_bytes(bytes)
            .map(Self)
            .map_err(|e| ProtocolError::bad("public key", e.to_string()))
    }

    /// The 32 key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Strictly verifies `signature` over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> Result<(), ProtocolError> {
        self.0
            .verify_strict(message, &Signature::from_bytes(signature))
            .map_err(|_| ProtocolError::BadSignature)
    }
}

/// Verifies many signatures in one multi-scalar multiplication (ed25519-dalek batch
/// verification): `Ok` only if every signature verifies; an `Err` does not say which failed,
/// so a caller that must name the bad one re-checks each with [`PublicKey::verify`].
///
/// Batching costs less than half as much per signature as one-by-one verification, but its
/// acceptance is not exactly [`PublicKey::verify`]'s (`verify_strict`): it does not reject a
/// small-order `R`, and a signature whose `R` carries a small-order component can pass the
/// batch (whose coefficients derive from the inputs) while failing strict verification. Every
/// such signature still needs the signer's secret key to make, so batching never accepts a
/// forgery; it only fails to reject a signature its own signer deliberately malformed. Use it
/// where that is harmless (the auditor, whose cross-checks of the two logs catch any message
/// one node accepted and the other refused) and never on what a node accepts from a partner.
pub fn verify_batch(
    messages: &[&[u8]],
    signatures: &[[u8; 64]],
    keys: &[PublicKey],
) -> Result<(), ProtocolError> {
    let signatures: Vec<Signature> = signatures.iter().map(Signature::from_bytes).collect();
    let keys: Vec<VerifyingKey> = keys.iter().map(|k| k.0).collect();
    ed25519_dalek::verify_batch(messages, &signatures, &keys)
        .map_err(|_| ProtocolError::BadSignature)
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PUBLIC_KEY_PREFIX}{}",
            STANDARD.encode(self.0.as_bytes())
        )
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A node's Ed25519 signing key. It has no `Debug` or `Display`, so it cannot end up in a log.
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("the operating system's random source is available");
        Self::from_seed(&seed)
    }

    /// The key whose RFC 8032 private seed is `seed`.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// Reads a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`), as OpenSSL writes it.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, ProtocolError> {
        SigningKey::from_pkcs8_pem(pem)
            .map(Self)
            .map_err(|e| ProtocolError::bad("private key", e.to_string()))
    }

    /// Writes the key as PKCS#8 PEM.
    pub fn to_pkcs8_pem(&self) -> String {
        self.0
            .to_pkcs8_pem(LineEnding::LF)
            .expect("an Ed25519 key always encodes as PKCS#8")
            .to_string()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `message` (RFC 8032 Ed25519, deterministic).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_keys_round_trip_through_text() {
        let key = SecretKey::generate().public_key();
        assert_eq!(PublicKey::parse(&key.to_string()), Ok(key));
    }

    #[test]
    fn pem_round_trip_keeps_the_key() {
        let key = SecretKey::generate();
        let again = SecretKey::from_pkcs8_pem(&key.to_pkcs8_pem()).expect("valid pem");
        assert_eq!(again.public_key(), key.public_key());
    }

    #[test]
    fn a_signature_does_not_verify_for_other_bytes_or_keys() {
        let key = SecretKey::generate();
        let sig = key.sign(b"hello");
        assert_eq!(key.public_key().verify(b"hello", &sig), Ok(()));
        assert_eq!(
            key.public_key().verify(b"hellO", &sig),
            Err(ProtocolError::BadSignature)
        );
        assert_eq!(
            SecretKey::generate().public_key().verify(b"hello", &sig),
            Err(ProtocolError::BadSignature)
        );
    }

    #[test]
    fn a_batch_verifies_only_if_every_signature_does() {
        let keys: Vec<SecretKey> = (0u8..3).map(|i| SecretKey::from_seed(&[i; 32])).collect();
        let messages: [&[u8]; 3] = [b"a", b"b", b"c"];
        let mut sigs: Vec<[u8; 64]> = keys.iter().zip(messages).map(|(k, m)| k.sign(m)).collect();
        let publics: Vec<PublicKey> = keys.iter().map(SecretKey::public_key).collect();
        assert_eq!(verify_batch(&messages, &sigs, &publics), Ok(()));
        sigs.swap(0, 1);
        assert_eq!(
            verify_batch(&messages, &sigs, &publics),
            Err(ProtocolError::BadSignature)
        );
    }

    #[test]
    fn malformed_public_keys_are_rejected() {
        for bad in ["", "ed25519:", "rsa:AAAA", "ed25519:!!!!", "ed25519:AAAA"] {
            assert!(PublicKey::parse(bad).is_err(), "{bad}");
        }
    }
}
