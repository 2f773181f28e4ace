//! The trail: who did what inside the node, kept local (it never leaves the node, unlike the
//! log) and tamper-evident. Each record is chained to the one before by SHA-256 over a
//! domain-separated, length-prefixed encoding of its fields, so deleting, changing or
//! reordering a record breaks every link after it, and the latest link, noted anywhere
//! outside the database, pins the whole history.

use sha2::{Digest, Sha256};

/// Domain separation: a trail link can never be mistaken for another detente hash.
pub const LINK_CONTEXT: &[u8] = b"detente/v1/trail\0";

/// The link before the first record.
pub const GENESIS: [u8; 32] = [0; 32];

/// One record of the trail, as chained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Position in the trail, from 1.
    pub seq: u64,
    /// When, in Unix milliseconds.
    pub at_ms: i64,
    /// The acting user; empty for the node itself (outbox, pulls, start-up).
    pub user: String,
    /// The acting user's agency; empty for the node itself.
    pub agency: String,
    /// What was done, e.g. `message.send` or `object.read`.
    pub action: String,
    /// The case it concerns, if any; empty otherwise.
    pub case: String,
    /// The object it concerns (message id, STIX id, user name), if any; empty otherwise.
    pub object: String,
    /// Anything else worth keeping, as short text.
    pub detail: String,
}

impl Record {
    /// The link of this record after `prev`, the link of the record before it.
    pub fn link(&self, prev: &[u8; 32]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(LINK_CONTEXT);
        h.update(prev);
        h.update(self.seq.to_be_bytes());
        h.update(self.at_ms.to_be_bytes());
        // Each text field with its length first, so that no two different records encode
        // the same way ("ab" + "c" vs "a" + "bc").
        for field in [
            &self.user,
            &self.agency,
            &self.action,
            &self.case,
            &self.object,
            &self.detail,
        ] {
            h.update((field.len() as u64).to_be_bytes());
            h.update(field.as_bytes());
        }
        h.finalize().into()
    }
}

/// Where a trail stops verifying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The first record whose stored link (or position) is wrong.
    pub seq: u64,
    /// What is wrong with it.
    pub what: &'static str,
}

/// Checks a run of `(record, stored link)` pairs that follows `prev` (the link of the record
/// before the run, [`GENESIS`] at the start); returns the last link, or the first break.
pub fn verify<'a>(
    prev: [u8; 32],
    first_seq: u64,
    records: impl IntoIterator<Item = (&'a Record, &'a [u8; 32])>,
) -> Result<[u8; 32], Break> {
    let mut link = prev;
    for (expected, (record, stored)) in (first_seq..).zip(records) {
        if record.seq != expected {
            return Err(Break {
                seq: expected,
                what: "is missing (the trail skips it)",
            });
        }
        link = record.link(&link);
        if &link != stored {
            return Err(Break {
                seq: record.seq,
                what: "does not match its link (changed, or a record before it was)",
            });
        }
    }
    Ok(link)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64, action: &str) -> Record {
        Record {
            seq,
            at_ms: 1_800_000_000_000 + seq as i64,
            user: "j.smith".into(),
            agency: "fbi".into(),
            action: action.into(),
            case: "US-2026-0001".into(),
            object: String::new(),
            detail: String::new(),
        }
    }

    fn chain(records: &[Record]) -> Vec<[u8; 32]> {
        let mut prev = GENESIS;
        records
            .iter()
            .map(|r| {
                prev = r.link(&prev);
                prev
            })
            .collect()
    }

    #[test]
    fn an_untouched_trail_verifies_to_its_last_link() {
        let records: Vec<Record> = (1..=4).map(|i| record(i, "message.send")).collect();
        let links = chain(&records);
        let last = verify(GENESIS, 1, records.iter().zip(&links)).unwrap();
        assert_eq!(last, links[3]);
    }

    #[test]
    fn a_changed_record_breaks_the_trail_at_that_record() {
        let mut records: Vec<Record> = (1..=4).map(|i| record(i, "message.send")).collect();
        let links = chain(&records);
        records[2].user = "someone.else".into();
        let e = verify(GENESIS, 1, records.iter().zip(&links)).unwrap_err();
        assert_eq!(e.seq, 3);
    }

    #[test]
    fn a_deleted_record_breaks_the_trail_where_it_was() {
        let records: Vec<Record> = (1..=4).map(|i| record(i, "message.send")).collect();
        let links = chain(&records);
        let kept: Vec<_> = records
            .iter()
            .zip(&links)
            .filter(|(r, _)| r.seq != 2)
            .collect();
        let e = verify(GENESIS, 1, kept).unwrap_err();
        assert_eq!(
            e,
            Break {
                seq: 2,
                what: "is missing (the trail skips it)"
            }
        );
    }

    #[test]
    fn moving_text_between_fields_changes_the_link() {
        let mut a = record(1, "ab");
        a.case = "c".into();
        let mut b = record(1, "a");
        b.case = "bc".into();
        assert_ne!(a.link(&GENESIS), b.link(&GENESIS));
    }
}
