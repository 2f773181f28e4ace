//! Signed notes and checkpoints against published vectors (Go's sumdb note package, a real
//! sum.golang.org checkpoint, Sigsum's checkpoint test) and our own round trips.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use detente_ledger::{
    Checkpoint, Digest, KeyId, LedgerError, MemoryLog, SignedCheckpoint, SignedNote, TreeSize,
};
use detente_protocol::{PublicKey, SecretKey};

/// Parses Go's verifier-key form `name+hexid+base64(0x01 || key)` and checks that the id it
/// states is the id signed-note derives from the name and key.
fn go_verifier_key(vkey: &str) -> (String, PublicKey) {
    let mut parts = vkey.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("{vkey} is not name+id+key");
    };
    let bytes = STANDARD.decode(key).expect("base64 key");
    assert_eq!(bytes[0], 0x01, "an Ed25519 key");
    let key = PublicKey::from_bytes(&bytes[1..].try_into().expect("32 bytes")).expect("key");
    assert_eq!(
        KeyId::ed25519(name, &key).to_string(),
        id,
        "key id of {vkey}"
    );
    (name.to_owned(), key)
}

/// Parses Go's signer-key form `PRIVATE+KEY+name+hexid+base64(0x01 || seed)`.
fn go_signer_key(skey: &str) -> (String, SecretKey) {
    let rest = skey.strip_prefix("PRIVATE+KEY+").expect("a Go signer key");
    let mut parts = rest.splitn(3, '+');
    let (Some(name), Some(id), Some(seed)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("{skey} is not name+id+seed");
    };
    let bytes = STANDARD.decode(seed).expect("base64 seed");
    assert_eq!(bytes[0], 0x01, "an Ed25519 key");
    let key = SecretKey::from_seed(&bytes[1..].try_into().expect("32 bytes"));
    assert_eq!(KeyId::ed25519(name, &key.public_key()).to_string(), id);
    (name.to_owned(), key)
}

// golang/mod sumdb/note/note_test.go (TestSign, TestOpen),
// commit 02c991387e35f9e4c0a9b7ce137717055f8d716d.
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const NOTE_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                         then you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

#[test]
fn signing_reproduces_the_go_sumdb_note_vector() {
    let (name, key) = go_signer_key(PETER_SKEY);
    let (vname, public) = go_verifier_key(PETER_VKEY);
    assert_eq!(name, vname);
    assert_eq!(key.public_key(), public);
    let note = SignedNote::sign(NOTE_TEXT, &key, &name).expect("valid text");
    assert_eq!(note.to_text(), format!("{NOTE_TEXT}\n{PETER_SIG}"));
}

#[test]
fn the_go_sumdb_two_signature_note_verifies_for_each_key() {
    let note = SignedNote::parse(&format!("{NOTE_TEXT}\n{PETER_SIG}{ENOCH_SIG}")).expect("note");
    assert_eq!(note.text(), NOTE_TEXT);
    assert_eq!(note.signatures().len(), 2);
    for vkey in [PETER_VKEY, ENOCH_VKEY] {
        let (name, key) = go_verifier_key(vkey);
        note.verify(&key, &name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // An unknown key's signature is ignored, not an error, when ours is there.
    let only_peter =
        SignedNote::parse(&format!("{NOTE_TEXT}\n{ENOCH_SIG}{PETER_SIG}")).expect("note");
    let (name, key) = go_verifier_key(PETER_VKEY);
    only_peter
        .verify(&key, &name)
        .expect("peter's signature is enough");
}

#[test]
fn the_go_sumdb_invalid_notes_are_rejected() {
    // TestOpen's badMsgs, and its "invalid signature" case.
    let bad = [
        NOTE_TEXT.to_owned(),
        format!("{NOTE_TEXT}\n"),
        format!("{NOTE_TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
        format!("\x01{NOTE_TEXT}\n{PETER_SIG}"),
        format!(
            "{NOTE_TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
        ),
        format!("{NOTE_TEXT}\n{PETER_SIG}Unexpected line.\n"),
        format!("{NOTE_TEXT}\n{}", PETER_SIG.repeat(101)),
    ];
    for note in bad {
        assert!(
            matches!(SignedNote::parse(&note), Err(LedgerError::MalformedNote(_))),
            "{note:?}"
        );
    }
    // Go rejects "\xff" + text as invalid UTF-8; a &str cannot hold it, so the caller's UTF-8
    // decoding rejects it before we see it.
    let tampered = format!("{NOTE_TEXT}\n{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
    let note = SignedNote::parse(&tampered).expect("well-formed");
    let (name, key) = go_verifier_key(PETER_VKEY);
    assert!(matches!(
        note.verify(&key, &name),
        Err(LedgerError::BadSignature { .. })
    ));
}

// sigsum/sigsum-go pkg/checkpoint/checkpoint_test.go (TestGoSumDBCheckpoint): a checkpoint
// "retrieved from https://sum.golang.org/latest, 2024-09-23", and the sum.golang.org key from
// golang/go src/cmd/go/internal/modfetch/key.go (commit c674ce87c2e47699bb51e02885fb80519ecbfb27).
const SUMDB_VKEY: &str = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";
const SUMDB_CHECKPOINT: &str = "go.sum database tree\n\
30055305\n\
mXfgRcJ0bG0j3CPdKwgGWtUzBUbX67saZGRmFuJGGsM=\n\
\n\
\u{2014} sum.golang.org Az3grpgEild5qw7+5dtV13Kf1C2Xurm8q4fhdxvcsDHnqNTaxL2AFjBY+2TyGKevucFcAAlWFJJYle3EJlDCrQ+y3A8=\n";

#[test]
fn a_real_sum_golang_org_checkpoint_verifies() {
    let (name, key) = go_verifier_key(SUMDB_VKEY);
    let signed = SignedCheckpoint::parse(SUMDB_CHECKPOINT).expect("well-formed");
    let checkpoint = signed
        .verify(&key, &name)
        .expect("signed by sum.golang.org");
    assert_eq!(checkpoint.origin(), "go.sum database tree");
    assert_eq!(checkpoint.size(), TreeSize::new(30055305));
    assert_eq!(
        STANDARD.encode(checkpoint.root().as_bytes()),
        "mXfgRcJ0bG0j3CPdKwgGWtUzBUbX67saZGRmFuJGGsM="
    );
    assert_eq!(signed.to_text(), SUMDB_CHECKPOINT);
}

#[test]
fn a_sum_golang_org_checkpoint_with_a_changed_size_is_rejected() {
    let (name, key) = go_verifier_key(SUMDB_VKEY);
    let changed = SUMDB_CHECKPOINT.replace("30055305", "30055306");
    let signed = SignedCheckpoint::parse(&changed).expect("well-formed");
    assert!(matches!(
        signed.verify(&key, &name),
        Err(LedgerError::BadSignature { .. })
    ));
}

// sigsum/sigsum-go pkg/checkpoint/checkpoint_test.go (TestCheckpointSigned): the checkpoint
// signed with the Ed25519 seed {17, 0, ..., 0}, whose key name is the log's origin.
const SIGSUM_CHECKPOINT: &str = "sigsum.org/v1/tree/e796172b92befd62d9dc67e41c2f5bc9d3100a3023b20b1ca40288dd1c679e69\n\
10\n\
HA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\
\n\
\u{2014} sigsum.org/v1/tree/e796172b92befd62d9dc67e41c2f5bc9d3100a3023b20b1ca40288dd1c679e69 gJ2ho0n8F8olcerUF1FFdv235A/5as/coWrpLrtE7ovMeP5whgwouYExowG/lTznxu6OUGjjt5yJQ6bXtTcf718MqAQ=\n";

#[test]
fn signing_reproduces_the_sigsum_checkpoint_vector() {
    let mut seed = [0u8; 32];
    seed[0] = 17;
    let key = SecretKey::from_seed(&seed);
    let origin = format!(
        "sigsum.org/v1/tree/{}",
        Digest::of(key.public_key().as_bytes())
    );
    let mut root = [0u8; 32];
    root[..3].copy_from_slice(&[28, 14, 71]);
    let checkpoint =
        Checkpoint::new(&origin, TreeSize::new(10), Digest::from_bytes(root)).expect("valid");
    let signed = SignedCheckpoint::sign(checkpoint, &key, &origin).expect("valid name");
    assert_eq!(signed.to_text(), SIGSUM_CHECKPOINT);
    let parsed = SignedCheckpoint::parse(SIGSUM_CHECKPOINT).expect("well-formed");
    parsed.verify(&key.public_key(), &origin).expect("verifies");
}

fn sample() -> (SecretKey, Checkpoint) {
    let mut log = MemoryLog::new();
    log.append_entries([b"envelope".as_slice(), b"receipt"])
        .expect("room");
    let cp = Checkpoint::new("detente.example/us", log.size(), log.root()).expect("valid");
    (SecretKey::from_seed(&[42; 32]), cp)
}

#[test]
fn a_signed_checkpoint_parses_back_and_verifies() {
    let (key, cp) = sample();
    let text = SignedCheckpoint::sign(cp.clone(), &key, "detente.example/us")
        .expect("valid")
        .to_text();
    let parsed = SignedCheckpoint::parse(&text).expect("well-formed");
    assert_eq!(
        parsed
            .verify(&key.public_key(), "detente.example/us")
            .expect("ours"),
        &cp
    );
}

#[test]
fn a_checkpoint_with_any_field_changed_no_longer_verifies() {
    let (key, cp) = sample();
    let text = SignedCheckpoint::sign(cp.clone(), &key, "detente.example/us")
        .expect("valid")
        .to_text();
    let root_b64 = STANDARD.encode(cp.root().as_bytes());
    let other_root = STANDARD.encode(Digest::of(b"other").as_bytes());
    let changed = [
        text.replacen("detente.example/us\n", "detente.example/cn\n", 1),
        text.replacen("\n2\n", "\n3\n", 1),
        text.replacen(&root_b64, &other_root, 1),
    ];
    for tampered in changed {
        assert_ne!(tampered, text);
        let parsed = SignedCheckpoint::parse(&tampered).expect("still well-formed");
        let err = parsed.verify(&key.public_key(), "detente.example/us");
        assert!(
            matches!(err, Err(LedgerError::BadSignature { .. })),
            "{tampered}: {err:?}"
        );
    }
}

#[test]
fn a_checkpoint_is_not_accepted_under_another_key_or_name() {
    let (key, cp) = sample();
    let signed = SignedCheckpoint::sign(cp, &key, "detente.example/us").expect("valid");
    let stranger = SecretKey::from_seed(&[43; 32]).public_key();
    assert!(matches!(
        signed.verify(&stranger, "detente.example/us"),
        Err(LedgerError::MissingSignature { .. })
    ));
    assert!(matches!(
        signed.verify(&key.public_key(), "detente.example/cn"),
        Err(LedgerError::MissingSignature { .. })
    ));
}

#[test]
fn signing_under_an_invalid_key_name_is_refused() {
    let (key, cp) = sample();
    for name in ["", "detente example", "detente+us"] {
        assert!(matches!(
            SignedCheckpoint::sign(cp.clone(), &key, name),
            Err(LedgerError::InvalidKeyName(_))
        ));
    }
}

#[test]
fn a_signed_note_that_is_not_a_checkpoint_is_rejected_clearly() {
    let (_, key) = go_signer_key(PETER_SKEY);
    let note = SignedNote::sign(NOTE_TEXT, &key, "PeterNeumann").expect("valid");
    assert!(matches!(
        SignedCheckpoint::parse(&note.to_text()),
        Err(LedgerError::MalformedCheckpoint(_))
    ));
}
