//! Signed notes (c2sp.org/signed-note): text followed by a blank line and one or more
//! `— <key name> <base64(key id || signature)>` lines. Checkpoints travel in this envelope.
//!
//! Only Ed25519 signatures (type byte 0x01) are produced or checked. Signatures by other keys
//! are kept but ignored, as the spec requires, so a partner or a witness can add its own.

use std::fmt;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use detente_protocol::{PublicKey, SecretKey};
use sha2::{Digest as _, Sha256};

use crate::LedgerError;

/// The signature type identifier byte of Ed25519 in signed-note key ids.
pub const ED25519_SIGNATURE_TYPE: u8 = 0x01;

/// Starts every signature line: an em dash (U+2014) and a space.
const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";

/// At most this many signature lines are accepted; the spec asks verifiers to accept at least
/// 16 and to bound the number, so a hostile note cannot make us parse without end.
pub const MAX_SIGNATURES: usize = 100;

/// At most this many bytes of note are parsed (16 ML-DSA-sized signatures fit easily).
pub const MAX_NOTE_BYTES: usize = 128 * 1024;

/// The 4-byte id that tells verifiers which key made a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub [u8; 4]);

impl KeyId {
    /// The id of an Ed25519 key under `name`: the first four bytes of
    /// `SHA-256(name || 0x0A || 0x01 || public key)`.
    pub fn ed25519(name: &str, key: &PublicKey) -> Self {
        let mut h = Sha256::new();
        h.update(name.as_bytes());
        h.update([b'\n', ED25519_SIGNATURE_TYPE]);
        h.update(key.as_bytes());
        let digest: [u8; 32] = h.finalize().into();
        Self([digest[0], digest[1], digest[2], digest[3]])
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Checks a key name: non-empty, with no Unicode space and no `+` (the spec's rule; `+`
/// separates fields in the `name+id+key` verifier-key form).
pub fn check_key_name(name: &str) -> Result<(), LedgerError> {
    let ok = !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(LedgerError::InvalidKeyName(name.to_owned()))
    }
}

/// Checks that `text` can be a note's text: non-empty, ending in a newline, with no control
/// character other than newline.
fn check_text(text: &str) -> Result<(), LedgerError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(LedgerError::MalformedNote(
            "the text must be non-empty and end with a newline".into(),
        ));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(LedgerError::MalformedNote(
            "the text contains a control character other than newline".into(),
        ));
    }
    Ok(())
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    name: String,
    key_id: KeyId,
    signature: Vec<u8>,
}

impl NoteSignature {
    /// The signing key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signing key's id.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The signature bytes (after the key id).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    fn parse_line(line: &str) -> Result<Self, LedgerError> {
        let bad = |why: &str| LedgerError::MalformedNote(format!("signature line {line:?}: {why}"));
        let rest = line
            .strip_prefix(SIGNATURE_LINE_PREFIX)
            .ok_or_else(|| bad("must start with an em dash and a space"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad("must be a key name, a space and a base64 signature"))?;
        check_key_name(name).map_err(|_| bad("the key name is empty or has spaces or '+'"))?;
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| bad("the signature is not standard padded base64"))?;
        // One spelling per signature: the decoder tolerates nothing, but be sure.
        if STANDARD.encode(&bytes) != b64 {
            return Err(bad("the signature is not canonical base64"));
        }
        let Some((id, signature)) = bytes.split_first_chunk::<4>() else {
            return Err(bad("the signature is shorter than its 4-byte key id"));
        };
        if signature.is_empty() {
            return Err(bad("the signature is empty"));
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: KeyId(*id),
            signature: signature.to_vec(),
        })
    }

    fn write_line(&self, out: &mut String) {
        let mut bytes = self.key_id.0.to_vec();
        bytes.extend_from_slice(&self.signature);
        out.push_str(SIGNATURE_LINE_PREFIX);
        out.push_str(&self.name);
        out.push(' ');
        out.push_str(&STANDARD.encode(bytes));
        out.push('\n');
    }
}

/// A note's text and its signatures, as parsed; nothing about it is trusted until
/// [`SignedNote::verify`] succeeds for a key the caller trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    text: String,
    signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// Signs `text` with an Ed25519 key under `key_name`.
    pub fn sign(text: &str, key: &SecretKey, key_name: &str) -> Result<Self, LedgerError> {
        check_text(text)?;
        check_key_name(key_name)?;
        Ok(Self {
            text: text.to_owned(),
            signatures: vec![NoteSignature {
                name: key_name.to_owned(),
                key_id: KeyId::ed25519(key_name, &key.public_key()),
                signature: key.sign(text.as_bytes()).to_vec(),
            }],
        })
    }

    /// Parses a signed note without checking any signature.
    pub fn parse(note: &str) -> Result<Self, LedgerError> {
        if note.len() > MAX_NOTE_BYTES {
            return Err(LedgerError::MalformedNote(format!(
                "{} bytes is more than the {MAX_NOTE_BYTES}-byte limit",
                note.len()
            )));
        }
        if note.chars().any(|c| c < ' ' && c != '\n') {
            return Err(LedgerError::MalformedNote(
                "the note contains a control character other than newline".into(),
            ));
        }
        // The text may itself contain blank lines; the last one separates it from the
        // signatures, which never contain one.
        let split = note.rfind("\n\n").ok_or_else(|| {
            LedgerError::MalformedNote(
                "no blank line separates the text from the signatures".into(),
            )
        })?;
        let (text, block) = (&note[..=split], &note[split + 2..]);
        check_text(text)?;
        let lines = block.strip_suffix('\n').ok_or_else(|| {
            LedgerError::MalformedNote("the signatures must end with a newline".into())
        })?;
        if lines.is_empty() {
            return Err(LedgerError::MalformedNote(
                "the note has no signature".into(),
            ));
        }
        let signatures = lines
            .split('\n')
            .take(MAX_SIGNATURES + 1)
            .map(NoteSignature::parse_line)
            .collect::<Result<Vec<_>, _>>()?;
        if signatures.len() > MAX_SIGNATURES {
            return Err(LedgerError::MalformedNote(format!(
                "more than {MAX_SIGNATURES} signatures"
            )));
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The signed text, final newline included. Untrusted until [`SignedNote::verify`] succeeds.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// All signature lines, verified or not.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Checks the note carries a valid signature by the Ed25519 key `key` named `key_name`.
    ///
    /// Signatures by other keys are ignored. Every signature that claims this key (same name and
    /// key id) must verify: one bad one rejects the note, as the spec recommends.
    pub fn verify(&self, key: &PublicKey, key_name: &str) -> Result<(), LedgerError> {
        let key_id = KeyId::ed25519(key_name, key);
        let mut found = false;
        for sig in self
            .signatures
            .iter()
            .filter(|s| s.name == key_name && s.key_id == key_id)
        {
            let verified = <&[u8; 64]>::try_from(sig.signature.as_slice())
                .is_ok_and(|bytes| key.verify(self.text.as_bytes(), bytes).is_ok());
            if !verified {
                return Err(LedgerError::BadSignature {
                    name: key_name.to_owned(),
                    key_id,
                });
            }
            found = true;
        }
        if found {
            Ok(())
        } else {
            Err(LedgerError::MissingSignature {
                name: key_name.to_owned(),
                key_id,
            })
        }
    }

    /// The note as text: the text, a blank line, then one line per signature.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for sig in &self.signatures {
            sig.write_line(&mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "hello\nworld\n";

    fn key() -> SecretKey {
        SecretKey::from_seed(&[7; 32])
    }

    #[test]
    fn a_signed_note_round_trips_and_verifies() {
        let note = SignedNote::sign(TEXT, &key(), "example.org/log").expect("valid");
        let parsed = SignedNote::parse(&note.to_text()).expect("well-formed");
        assert_eq!(parsed, note);
        parsed
            .verify(&key().public_key(), "example.org/log")
            .expect("verifies");
    }

    #[test]
    fn a_note_without_our_key_is_missing_a_signature() {
        let note = SignedNote::sign(TEXT, &key(), "example.org/log").expect("valid");
        let other = SecretKey::from_seed(&[8; 32]).public_key();
        assert!(matches!(
            note.verify(&other, "example.org/log"),
            Err(LedgerError::MissingSignature { .. })
        ));
        assert!(matches!(
            note.verify(&key().public_key(), "example.org/other"),
            Err(LedgerError::MissingSignature { .. })
        ));
    }

    #[test]
    fn bad_key_names_are_rejected() {
        for bad in ["", "a b", "a+b", "a\tb", "a\u{00a0}b"] {
            assert!(check_key_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_key_name("example.org/log").is_ok());
    }

    #[test]
    fn malformed_notes_are_rejected_with_a_reason() {
        let good = SignedNote::sign(TEXT, &key(), "example.org/log")
            .expect("valid")
            .to_text();
        let sig_line = &good[TEXT.len() + 1..];
        let b64 = sig_line.trim_end().rsplit(' ').next().unwrap_or_default();
        let cases = [
            TEXT.to_owned(),
            format!("{TEXT}\n"),
            format!("{TEXT}\n{}", sig_line.trim_end()),
            format!("\x01{TEXT}\n{sig_line}"),
            format!("{TEXT}\n- example.org/log {b64}\n"),
            format!("{TEXT}\n\u{2014} example.org/log\n"),
            format!("{TEXT}\n\u{2014} bad+name {b64}\n"),
            format!("{TEXT}\n\u{2014} example.org/log AAAA\n"),
            format!("{TEXT}\n\u{2014} example.org/log !!!!\n"),
            format!("{TEXT}\n\u{2014} example.org/log {b64} extra\n"),
            format!("{TEXT}\n{sig_line}Unexpected line.\n"),
            format!("{TEXT}\n{}", sig_line.repeat(MAX_SIGNATURES + 1)),
        ];
        for case in cases {
            let err = SignedNote::parse(&case);
            assert!(
                matches!(err, Err(LedgerError::MalformedNote(_))),
                "{case:?}: {err:?}"
            );
        }
    }

    #[test]
    fn a_signature_claiming_our_key_that_does_not_verify_rejects_the_note() {
        let mut note = SignedNote::sign(TEXT, &key(), "example.org/log").expect("valid");
        note.signatures[0].signature[10] ^= 1;
        assert!(matches!(
            note.verify(&key().public_key(), "example.org/log"),
            Err(LedgerError::BadSignature { .. })
        ));
    }
}
