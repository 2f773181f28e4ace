//! Ed25519 against RFC 8032 §7.1 (TEST 1, 2, 3, 1024 and SHA(abc)), plus the strictness the
//! protocol relies on: no small-order keys, no malleable signatures.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use detente_protocol::{ProtocolError, PublicKey, SecretKey};
use sha2::{Digest as _, Sha512};

use crate::support::vector;

/// One `-----TEST` block of RFC 8032 §7.1.
struct Rfc8032Vector {
    name: String,
    secret_key: [u8; 32],
    public_key: [u8; 32],
    message: Vec<u8>,
    signature: [u8; 64],
}

/// Reads the RFC's own layout: a `-----NAME` line, then `HEADER:` lines each followed by hex
/// lines, blocks separated by blank lines.
fn rfc8032_vectors() -> Vec<Rfc8032Vector> {
    let text = String::from_utf8(vector("ed25519/rfc8032-section-7.1.txt")).expect("ASCII");
    let mut blocks: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("-----") {
            blocks.push((name.to_owned(), Vec::new()));
        } else if line.ends_with(':') {
            let (_, fields) = blocks.last_mut().expect("a field inside a test block");
            fields.push((line.to_owned(), String::new()));
        } else if !line.is_empty() {
            let (_, fields) = blocks.last_mut().expect("a value inside a test block");
            let (_, value) = fields.last_mut().expect("a value after a header");
            value.push_str(line);
        }
    }
    blocks
        .into_iter()
        .map(|(name, fields)| {
            let field = |prefix: &str| -> &str {
                fields
                    .iter()
                    .find(|(header, _)| header.starts_with(prefix))
                    .map(|(_, value)| value.as_str())
                    .unwrap_or_else(|| panic!("{name} has no {prefix}"))
            };
            assert_eq!(field("ALGORITHM"), "Ed25519", "{name}");
            let bytes = |prefix: &str| hex::decode(field(prefix)).expect("hex");
            let message = bytes("MESSAGE");
            let declared_len = fields
                .iter()
                .find_map(|(header, _)| header.strip_prefix("MESSAGE (length "))
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse::<usize>().ok())
                .expect("a declared message length");
            assert_eq!(message.len(), declared_len, "{name}");
            Rfc8032Vector {
                secret_key: bytes("SECRET KEY").try_into().expect("32 bytes"),
                public_key: bytes("PUBLIC KEY").try_into().expect("32 bytes"),
                signature: bytes("SIGNATURE").try_into().expect("64 bytes"),
                message,
                name,
            }
        })
        .collect()
}

#[test]
fn the_vector_file_holds_the_five_published_tests() {
    let names: Vec<String> = rfc8032_vectors().into_iter().map(|v| v.name).collect();

    assert_eq!(
        names,
        ["TEST 1", "TEST 2", "TEST 3", "TEST 1024", "TEST SHA(abc)"]
    );
}

#[test]
fn the_sha_abc_message_is_the_sha512_of_abc() {
    let vectors = rfc8032_vectors();
    let sha_abc = vectors
        .iter()
        .find(|v| v.name == "TEST SHA(abc)")
        .expect("TEST SHA(abc)");

    assert_eq!(sha_abc.message, Sha512::digest(b"abc").to_vec());
}

#[test]
fn each_secret_key_derives_its_published_public_key() {
    for v in rfc8032_vectors() {
        let key = SecretKey::from_seed(&v.secret_key);

        assert_eq!(key.public_key().as_bytes(), &v.public_key, "{}", v.name);
    }
}

#[test]
fn each_signature_is_the_published_one() {
    for v in rfc8032_vectors() {
        let key = SecretKey::from_seed(&v.secret_key);

        let signature = key.sign(&v.message);

        assert_eq!(
            hex::encode(signature),
            hex::encode(v.signature),
            "{}",
            v.name
        );
    }
}

#[test]
fn each_published_signature_verifies_under_its_published_key() {
    for v in rfc8032_vectors() {
        let key = PublicKey::from_bytes(&v.public_key).expect("a valid point");

        assert_eq!(key.verify(&v.message, &v.signature), Ok(()), "{}", v.name);
    }
}

#[test]
fn each_published_key_round_trips_through_its_text_form() {
    for v in rfc8032_vectors() {
        let text = format!("ed25519:{}", STANDARD.encode(v.public_key));

        let key = PublicKey::parse(&text).expect("a published key parses");

        assert_eq!(key.to_string(), text, "{}", v.name);
        assert_eq!(key.as_bytes(), &v.public_key, "{}", v.name);
    }
}

#[test]
fn a_published_signature_fails_for_any_other_message() {
    for v in rfc8032_vectors() {
        let key = PublicKey::from_bytes(&v.public_key).expect("a valid point");
        let mut other = v.message.clone();
        match other.first_mut() {
            Some(b) => *b ^= 0x01,
            None => other.push(0),
        }

        assert_eq!(
            key.verify(&other, &v.signature),
            Err(ProtocolError::BadSignature),
            "{}",
            v.name
        );
    }
}

#[test]
fn a_published_signature_fails_with_any_bit_flipped() {
    for v in rfc8032_vectors() {
        let key = PublicKey::from_bytes(&v.public_key).expect("a valid point");
        for bit in 0..512 {
            let mut signature = v.signature;
            signature[bit / 8] ^= 1 << (bit % 8);

            assert_eq!(
                key.verify(&v.message, &signature),
                Err(ProtocolError::BadSignature),
                "{} bit {bit}",
                v.name
            );
        }
    }
}

/// The order of the Ed25519 base point, little-endian (RFC 8032 §5.1: L = 2^252 + 27742...).
const GROUP_ORDER: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

#[test]
fn a_malleated_signature_with_s_plus_l_is_rejected() {
    // S and S + L verify the same equation; RFC 8032 §5.1.7 and verify_strict demand S < L,
    // so a relay cannot mint a second valid signature for the same message.
    let v = rfc8032_vectors().remove(0);
    let key = PublicKey::from_bytes(&v.public_key).expect("a valid point");
    let mut signature = v.signature;
    let mut carry = 0u16;
    for (s, l) in signature[32..].iter_mut().zip(GROUP_ORDER) {
        let sum = u16::from(*s) + u16::from(l) + carry;
        *s = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "S + L fits in 256 bits");

    assert_eq!(
        key.verify(&v.message, &signature),
        Err(ProtocolError::BadSignature)
    );
}

#[test]
fn a_small_order_public_key_is_refused_and_verifies_nothing() {
    // The identity point (y = 1): with it, the signature (R = identity, S = 0) "verifies"
    // any message under a lax verifier.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut forged = [0u8; 64];
    forged[..32].copy_from_slice(&identity);

    assert!(PublicKey::parse(&format!("ed25519:{}", STANDARD.encode(identity))).is_err());
    let key = PublicKey::from_bytes(&identity).expect("a decodable point");
    assert_eq!(
        key.verify(b"any message", &forged),
        Err(ProtocolError::BadSignature)
    );
}

#[test]
fn a_secret_key_survives_a_pkcs8_round_trip_with_the_same_signatures() {
    let v = rfc8032_vectors().remove(1);
    let key = SecretKey::from_seed(&v.secret_key);

    let again = SecretKey::from_pkcs8_pem(&key.to_pkcs8_pem()).expect("our own PEM parses");

    assert_eq!(again.sign(&v.message), v.signature);
}
