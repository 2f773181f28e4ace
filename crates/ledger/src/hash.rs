//! RFC 9162 §2.1.1 Merkle tree hashing: one-byte prefixes keep leaves and interior nodes apart.
//!
//! Without the prefixes an interior node's 64 input bytes could be presented as a leaf entry
//! (a second-preimage attack), so a proof could "include" an entry nobody ever logged.

use detente_protocol::Digest;
use sha2::{Digest as _, Sha256};

/// Prefix of a leaf hash input: `SHA-256(0x00 || entry)`.
pub const LEAF_HASH_PREFIX: u8 = 0x00;

/// Prefix of an interior node hash input: `SHA-256(0x01 || left || right)`.
pub const NODE_HASH_PREFIX: u8 = 0x01;

/// The hash of one log entry: `SHA-256(0x00 || entry)`.
pub fn hash_leaf(entry: &[u8]) -> Digest {
    let mut h = Sha256::new();
    h.update([LEAF_HASH_PREFIX]);
    h.update(entry);
    Digest::from_bytes(h.finalize().into())
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn hash_children(left: &Digest, right: &Digest) -> Digest {
    let mut h = Sha256::new();
    h.update([NODE_HASH_PREFIX]);
    h.update(left.as_bytes());
    h.update(right.as_bytes());
    Digest::from_bytes(h.finalize().into())
}

/// The root of the empty tree: `SHA-256("")`, with no prefix (RFC 9162 §2.1.1).
pub fn empty_root() -> Digest {
    Digest::of(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from transparency-dev/merkle rfc6962/rfc6962_test.go (TestRFC6962Hasher),
    // commit 78493b07ef9b552e3379abf9e23d4da26fbe797c.
    #[test]
    fn hashes_match_the_rfc6962_reference_hasher() {
        assert_eq!(
            empty_root().to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hash_leaf(b"").to_string(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(
            hash_leaf(b"L123456").to_string(),
            "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
        );
    }

    #[test]
    fn a_node_hash_is_not_the_leaf_hash_of_its_children() {
        let (a, b) = (hash_leaf(b"Hello"), hash_leaf(b"World"));
        let mut concatenated = a.as_bytes().to_vec();
        concatenated.extend_from_slice(b.as_bytes());
        assert_ne!(hash_children(&a, &b), hash_leaf(&concatenated));
        assert_ne!(hash_children(&a, &b), hash_children(&b, &a));
    }
}
