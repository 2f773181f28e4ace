//! Who reads indicators, for every read path (API, TAXII, exports): one place turns "this
//! node's own user" or "partner party P" into the [`ReadAs`] the store filters with, using the
//! agreement for community membership and the configured default for unmarked objects; and
//! the opaque page cursors ([`Cursors`]) that the API and TAXII hand those readers.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use detente_domain::Agreement;
use detente_protocol::PartyId;
use detente_stix::{AccessRule, Reader};
use detente_store::ReadAs;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

use crate::config::NodeConfig;

/// Whom a read is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// This node's own users (API token, local CLI).
    Local,
    /// A partner party (TAXII user, partner node, or an export made for that party).
    Party(PartyId),
    /// Nobody in particular: TLP:CLEAR only (a public export).
    Anyone,
}

impl Audience {
    /// The name status resources and page cursors are kept under for this reader: `local`
    /// or `party:<id>` (TAXII users have their own, `user:<name>`).
    pub fn key(&self) -> String {
        match self {
            Audience::Local => "local".into(),
            Audience::Party(p) => format!("party:{p}"),
            Audience::Anyone => "anyone".into(),
        }
    }
}

/// The access rule with the configured default for unmarked objects.
pub fn access_rule(config: &NodeConfig) -> AccessRule {
    AccessRule {
        default_level: config.indicators.default_tlp,
    }
}

/// The store's view of `audience` reading on the node `config` describes; without an
/// agreement no partner is in the community.
pub fn read_as<'a>(
    config: &'a NodeConfig,
    agreement: Option<&Agreement>,
    audience: &'a Audience,
) -> ReadAs<'a> {
    let reader = match audience {
        Audience::Local => Reader::Local {
            party: config.party.as_str(),
        },
        Audience::Party(p) => Reader::Party {
            party: p.as_str(),
            in_community: agreement.is_some_and(|a| a.party(p).is_some()),
        },
        Audience::Anyone => Reader::Anyone,
    };
    ReadAs {
        reader,
        rule: access_rule(config),
    }
}

/// Page cursors (`next`) that tell a reader nothing: a cursor is the store's position
/// (`seq`) encrypted and authenticated for one reader, so its value says nothing about how many
/// objects the reader was not shown between two pages, and a reader cannot edit it to probe
/// positions. The key is derived from the node's key, so every process of the node reads the
/// cursors of the others, also after a restart.
///
/// A cursor is `base64url(nonce ‖ seq XOR HMAC(key, "pad", reader, nonce)[..8] ‖
/// HMAC(key, "tag", reader, nonce, ciphertext)[..16])`, with a fresh random 16-byte nonce
/// each time.
pub struct Cursors {
    key: [u8; 32],
}

/// Nonce, encrypted position, tag.
const CURSOR_BYTES: usize = 16 + 8 + 16;

impl Cursors {
    /// The cursors of `node`.
    pub fn of(node: &crate::node::Node) -> Self {
        Self {
            key: node.derived_secret("page-cursor"),
        }
    }

    /// The cursor that continues after position `seq`, for `reader` only.
    pub fn seal(&self, reader: &str, seq: i64) -> String {
        let mut token = [0u8; CURSOR_BYTES];
        getrandom::fill(&mut token[..16])
            .expect("the operating system's random source is available");
        let (nonce, rest) = token.split_at_mut(16);
        let pad = self.mac(b"pad", reader, nonce, &[]).finalize().into_bytes();
        for (i, b) in seq.to_be_bytes().into_iter().enumerate() {
            rest[i] = b ^ pad[i];
        }
        let tag = self
            .mac(b"tag", reader, nonce, &rest[..8])
            .finalize()
            .into_bytes();
        rest[8..].copy_from_slice(&tag[..16]);
        URL_SAFE_NO_PAD.encode(token)
    }

    /// The position of a cursor this node gave `reader`; `None` for anything else.
    pub fn open(&self, reader: &str, cursor: &str) -> Option<i64> {
        let token = URL_SAFE_NO_PAD.decode(cursor).ok()?;
        if token.len() != CURSOR_BYTES {
            return None;
        }
        let (nonce, rest) = token.split_at(16);
        let (sealed, tag) = rest.split_at(8);
        // In constant time: the comparison must not tell a prober how much of a tag was right.
        self.mac(b"tag", reader, nonce, sealed)
            .verify_truncated_left(tag)
            .ok()?;
        let pad = self.mac(b"pad", reader, nonce, &[]).finalize().into_bytes();
        let mut seq = [0u8; 8];
        for (i, b) in sealed.iter().enumerate() {
            seq[i] = b ^ pad[i];
        }
        Some(i64::from_be_bytes(seq))
    }

    fn mac(&self, label: &[u8], reader: &str, nonce: &[u8], sealed: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(label);
        // The reader's length first, so that no two (reader, nonce) pairs hash alike.
        mac.update(
            &u32::try_from(reader.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        mac.update(reader.as_bytes());
        mac.update(nonce);
        mac.update(sealed);
        mac
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cursors() -> Cursors {
        Cursors { key: [7; 32] }
    }

    #[test]
    fn a_cursor_opens_for_its_reader_only_and_hides_its_position() {
        let c = cursors();
        let a = c.seal("user:cn-analyst", 41);
        let b = c.seal("user:cn-analyst", 41);
        assert_eq!(c.open("user:cn-analyst", &a), Some(41));
        // The same position twice gives two unrelated cursors.
        assert_ne!(a, b);
        assert_eq!(c.open("user:gb-analyst", &a), None);
        assert_eq!(Cursors { key: [8; 32] }.open("user:cn-analyst", &a), None);
    }

    #[test]
    fn an_edited_cursor_is_refused() {
        let c = cursors();
        let token = URL_SAFE_NO_PAD.decode(c.seal("party:CN", 1_000)).unwrap();
        for i in 0..token.len() {
            let mut edited = token.clone();
            edited[i] ^= 1;
            assert_eq!(
                c.open("party:CN", &URL_SAFE_NO_PAD.encode(edited)),
                None,
                "byte {i}"
            );
        }
        for junk in ["", "1000", "next", &"A".repeat(54)] {
            assert_eq!(c.open("party:CN", junk), None, "{junk}");
        }
    }
}
