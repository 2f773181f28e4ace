//! Checkpoints (c2sp.org/tlog-checkpoint): a log's signed statement "with origin O, my tree
//! of N entries has root R", in the signed-note envelope.
//!
//! The body is exactly three lines, `<origin>\n<size>\n<base64 root>\n`. The spec allows
//! extension lines after them; detente neither writes nor accepts any, so every checkpoint has
//! one spelling and nothing unauditable rides along with the signature.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use detente_protocol::{Digest, PublicKey, SecretKey};

use crate::{LedgerError, SignedNote, TreeSize};

/// A tree head: which log, how many entries, and the root hash over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: TreeSize,
    root: Digest,
}

impl Checkpoint {
    /// A checkpoint for log `origin`. The origin is a non-empty line without control
    /// characters; by convention a schema-less URL such as `detente.example/us`.
    pub fn new(origin: &str, size: TreeSize, root: Digest) -> Result<Self, LedgerError> {
        check_origin(origin)?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }

    /// The log's identity.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The number of entries the checkpoint commits to.
    pub fn size(&self) -> TreeSize {
        self.size
    }

    /// The root hash of the tree of that size.
    pub fn root(&self) -> Digest {
        self.root
    }

    /// The note text: `<origin>\n<size>\n<base64 root>\n`.
    pub fn to_body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root.as_bytes())
        )
    }

    /// Parses a note text; it must be exactly the three lines [`Checkpoint::to_body`] writes.
    pub fn parse_body(text: &str) -> Result<Self, LedgerError> {
        let bad = |why: String| LedgerError::MalformedCheckpoint(why);
        let lines = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("the body must end with a newline".into()))?;
        let mut lines = lines.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(bad(
                "the body must have three lines: origin, tree size, root hash".into(),
            ));
        };
        if lines.next().is_some() {
            return Err(bad(
                "extension lines after the root hash are not accepted".into()
            ));
        }
        check_origin(origin)?;
        Ok(Self {
            origin: origin.to_owned(),
            size: parse_size(size)?,
            root: parse_root(root)?,
        })
    }
}

fn check_origin(origin: &str) -> Result<(), LedgerError> {
    if origin.is_empty() || origin.chars().any(char::is_control) {
        return Err(LedgerError::MalformedCheckpoint(format!(
            "origin {origin:?} must be a non-empty line without control characters"
        )));
    }
    Ok(())
}

/// ASCII decimal, no sign, no leading zero (except `0` itself), at most `u64::MAX`.
fn parse_size(s: &str) -> Result<TreeSize, LedgerError> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let canonical = s == "0" || !s.starts_with('0');
    let size = if digits && canonical {
        s.parse().ok()
    } else {
        None
    };
    size.map(TreeSize::new).ok_or_else(|| {
        LedgerError::MalformedCheckpoint(format!(
            "tree size {s:?} must be a decimal number without leading zeros"
        ))
    })
}

/// Standard padded base64 of exactly 32 bytes, in its one canonical spelling.
fn parse_root(s: &str) -> Result<Digest, LedgerError> {
    let bytes = STANDARD
        .decode(s)
        .ok()
        .filter(|bytes| STANDARD.encode(bytes) == s)
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
    bytes.map(Digest::from_bytes).ok_or_else(|| {
        LedgerError::MalformedCheckpoint(format!(
            "root hash {s:?} must be 32 bytes in standard padded base64"
        ))
    })
}

/// A checkpoint with its signed-note signatures; trust its contents only through
/// [`SignedCheckpoint::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    note: SignedNote,
}

impl SignedCheckpoint {
    /// Signs `checkpoint` with the log's Ed25519 key. The spec recommends the key name equal the
    /// checkpoint's origin.
    pub fn sign(
        checkpoint: Checkpoint,
        key: &SecretKey,
        key_name: &str,
    ) -> Result<Self, LedgerError> {
        let note = SignedNote::sign(&checkpoint.to_body(), key, key_name)?;
        Ok(Self { checkpoint, note })
    }

    /// Parses a signed checkpoint. Nothing is verified yet: call [`SignedCheckpoint::verify`].
    pub fn parse(text: &str) -> Result<Self, LedgerError> {
        let note = SignedNote::parse(text)?;
        let checkpoint = Checkpoint::parse_body(note.text())?;
        Ok(Self { checkpoint, note })
    }

    /// Checks the signature of the Ed25519 key `key` named `key_name` and returns the
    /// checkpoint it vouches for.
    pub fn verify(&self, key: &PublicKey, key_name: &str) -> Result<&Checkpoint, LedgerError> {
        self.note.verify(key, key_name)?;
        Ok(&self.checkpoint)
    }

    /// The checkpoint as claimed, before any signature check: for choosing which key to verify
    /// with, or for error messages. Decide nothing on it.
    pub fn unverified_checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The underlying signed note (for example to list who signed it).
    pub fn note(&self) -> &SignedNote {
        &self.note
    }

    /// The signed checkpoint as text, ready to send.
    pub fn to_text(&self) -> String {
        self.note.to_text()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT_B64: &str = "qINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=";

    #[test]
    fn a_body_round_trips() {
        let body = format!("detente.example/us\n42\n{ROOT_B64}\n");
        let cp = Checkpoint::parse_body(&body).expect("well-formed");
        assert_eq!(cp.origin(), "detente.example/us");
        assert_eq!(cp.size(), TreeSize::new(42));
        assert_eq!(cp.to_body(), body);
    }

    #[test]
    fn malformed_bodies_are_rejected() {
        // The first cases follow transparency-dev/trillian-tessera
        // internal/parse/checkpoint_test.go (TestCheckpointUnsafe); the rest are our stricter
        // rules (one spelling, no extension lines).
        let cases = [
            format!("original.example.com\n-42\n{ROOT_B64}\n"),
            "original.example.com\n42\nthisisnotright\n".to_owned(),
            format!("\n42\n{ROOT_B64}\n"),
            format!("42\n{ROOT_B64}\n"),
            format!("o\n042\n{ROOT_B64}\n"),
            format!("o\n+42\n{ROOT_B64}\n"),
            format!("o\n 42\n{ROOT_B64}\n"),
            format!("o\n18446744073709551616\n{ROOT_B64}\n"),
            format!("o\n42\n{ROOT_B64}"),
            format!("o\n42\n{ROOT_B64}\nextension\n"),
            format!("o\n42\n{}\n", &ROOT_B64[..40]),
            "o\n42\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs\n".to_owned(),
            "o\n42\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVct=\n".to_owned(),
            "o\n42\nAAAA\n".to_owned(),
        ];
        for case in cases {
            let err = Checkpoint::parse_body(&case);
            assert!(
                matches!(err, Err(LedgerError::MalformedCheckpoint(_))),
                "{case:?}: {err:?}"
            );
        }
        assert!(Checkpoint::parse_body(&format!("o\n0\n{ROOT_B64}\n")).is_ok());
        assert!(Checkpoint::parse_body(&format!("o\n18446744073709551615\n{ROOT_B64}\n")).is_ok());
    }

    #[test]
    fn origins_must_be_one_non_empty_line() {
        let root = Digest::of(b"");
        assert!(Checkpoint::new("", TreeSize::ZERO, root).is_err());
        assert!(Checkpoint::new("a\nb", TreeSize::ZERO, root).is_err());
        assert!(Checkpoint::new("go.sum database tree", TreeSize::ZERO, root).is_ok());
    }
}
