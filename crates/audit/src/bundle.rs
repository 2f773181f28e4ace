//! The bundle format, and its one writer and one reader: one JSON object per line.
//!
//! ```text
//! {"header": {"format": "detente-log-bundle/2", "party": "US", "agreement": {...}, "size": 1234}}
//! {"checkpoint": "<signed note>"}                          this party's, ascending size
//! {"partner_checkpoint": {"party": "CN", "note": "..."}}   held from partners
//! {"entry":{"index":0,"kind":"envelope","direction":"out","data":<the entry's bytes>}}
//! ```
//!
//! Checkpoints come before entries, so an auditor knows every size it must check before it
//! streams the entries, and never holds the log in memory.
//!
//! Format 3 adds, to the entry line of a wire version 2 envelope in a full export, the
//! envelope's body with its salt as `"body":{"salt":...,"body":...}` after `data`: the entry
//! (the signed header) is still hashed alone, and the body is checked against the header's
//! commitment. A redacted export leaves every `body` out; nothing else differs, so every check
//! but the bodies' runs the same on it.
//!
//! In format 2 an entry line is written exactly as `{"entry":{"index":N,"kind":"K",
//! "direction":"D","data":` + the bytes the party logged + `}}`: the Merkle leaf of the entry
//! is the hash of those bytes, so anyone can hash them as they stand, with no JSON library
//! that might reorder keys or respell numbers. Format 1 wrote `data` re-serialised (keys in
//! code-point order, `1e+20` for `100000000000000000000`); its bundles are still read, and
//! their entries are hashed in their canonical form (RFC 8785), which is what nodes log.

use std::io::{BufRead, Write};

use detente_domain::Agreement;
use detente_ledger::{Frontier, hash_leaf};
use detente_protocol::{
    Digest, PartyId, Receipt, Signed, SignedEnvelope, canonical_bytes, parse_strict,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::AuditError;

/// The format name this crate writes in headers.
pub const BUNDLE_FORMAT: &str = "detente-log-bundle/3";

/// The second format: entries as logged, no bodies beside them.
const BUNDLE_FORMAT_2: &str = "detente-log-bundle/2";

/// The first format, whose entries are re-serialised JSON rather than the logged bytes.
const BUNDLE_FORMAT_1: &str = "detente-log-bundle/1";

/// What an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A signed envelope.
    Envelope,
    /// A signed receipt.
    Receipt,
}

/// Which way the logged message went, seen from the log's party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The party received it.
    In,
    /// The party sent it.
    Out,
}

impl EntryKind {
    /// Reads the spelling the store and the bundle use: `envelope` or `receipt`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "envelope" => Some(Self::Envelope),
            "receipt" => Some(Self::Receipt),
            _ => None,
        }
    }
}

impl Direction {
    /// Reads the spelling the store and the bundle use: `in` or `out`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "in" => Some(Self::In),
            "out" => Some(Self::Out),
            _ => None,
        }
    }
}

/// The first line of a bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// [`BUNDLE_FORMAT`] for the bundles this crate writes.
    pub format: String,
    /// The party whose log this is.
    pub party: PartyId,
    /// The agreement the log was written under, keys included. An auditor should not take
    /// it on trust: `audit` compares it with the agreement the auditor pins.
    pub agreement: Agreement,
    /// Number of entries that follow.
    pub size: u64,
}

impl Header {
    /// The header of a bundle in the current format.
    pub fn new(party: PartyId, agreement: Agreement, size: u64) -> Self {
        Self {
            format: BUNDLE_FORMAT.into(),
            party,
            agreement,
            size,
        }
    }
}

/// One line of a bundle, as it stands in the file.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Line<'a> {
    Header(Header),
    Checkpoint(String),
    PartnerCheckpoint {
        party: PartyId,
        note: String,
    },
    #[serde(borrow)]
    Entry(EntryLine<'a>),
}

/// An entry line; the fields are written in this order, which the format documents.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryLine<'a> {
    index: u64,
    kind: EntryKind,
    direction: Direction,
    #[serde(borrow)]
    data: &'a RawValue,
    /// Format 3: a version 2 envelope's body with its salt, in a full export.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    body: Option<&'a RawValue>,
}

/// Writes a bundle line by line, in the order the format requires, and recomputes the Merkle
/// tree of the entries it writes, so an exporter can check them against its checkpoint.
pub struct BundleWriter<W: Write> {
    out: W,
    tree: Frontier,
}

impl<W: Write> BundleWriter<W> {
    /// Starts a bundle with its header.
    pub fn new(mut out: W, header: &Header) -> std::io::Result<Self> {
        write_line(&mut out, &Line::Header(header.clone()))?;
        Ok(Self {
            out,
            tree: Frontier::new(),
        })
    }

    /// One of this party's signed checkpoints (write them by ascending size).
    pub fn checkpoint(&mut self, note: &str) -> std::io::Result<()> {
        write_line(&mut self.out, &Line::Checkpoint(note.to_owned()))
    }

    /// A checkpoint this party holds from `party`.
    pub fn partner_checkpoint(&mut self, party: &PartyId, note: &str) -> std::io::Result<()> {
        write_line(
            &mut self.out,
            &Line::PartnerCheckpoint {
                party: party.clone(),
                note: note.to_owned(),
            },
        )
    }

    /// The next log entry, `index` counting from 0: `bytes` exactly as logged, which must be
    /// one JSON text with nothing around it (anything else could not stand in a line
    /// unchanged, so it is refused).
    pub fn entry(
        &mut self,
        index: u64,
        kind: EntryKind,
        direction: Direction,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        self.entry_with_body(index, kind, direction, bytes, None)
    }

    /// [`BundleWriter::entry`] with, for a version 2 envelope in a full export, its stored
    /// body (`{"salt":...,"body":...}` as stored), which the audit checks against the header.
    pub fn entry_with_body(
        &mut self,
        index: u64,
        kind: EntryKind,
        direction: Direction,
        bytes: &[u8],
        body: Option<&[u8]>,
    ) -> std::io::Result<()> {
        let invalid = |why: String| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("entry {index} {why}"),
            )
        };
        if index != self.tree.size().get() {
            return Err(invalid(format!(
                "comes where entry {} belongs",
                self.tree.size().get()
            )));
        }
        let text = std::str::from_utf8(bytes).map_err(|e| invalid(format!("is not UTF-8: {e}")))?;
        let data: &RawValue =
            serde_json::from_str(text).map_err(|e| invalid(format!("is not JSON: {e}")))?;
        if data.get().len() != text.len() {
            return Err(invalid("has white space around its JSON".into()));
        }
        let body: Option<&RawValue> = match body {
            Some(b) => {
                let b = std::str::from_utf8(b)
                    .map_err(|e| invalid(format!("has a body that is not UTF-8: {e}")))?;
                Some(
                    serde_json::from_str(b)
                        .map_err(|e| invalid(format!("has a body that is not JSON: {e}")))?,
                )
            }
            None => None,
        };
        self.tree
            .append(&[hash_leaf(bytes)])
            .map_err(|e| invalid(e.to_string()))?;
        write_line(
            &mut self.out,
            &Line::Entry(EntryLine {
                index,
                kind,
                direction,
                data,
                body,
            }),
        )
    }

    /// The number of entries written so far.
    pub fn entries(&self) -> u64 {
        self.tree.size().get()
    }

    /// The Merkle root (RFC 9162) of the entries written so far.
    pub fn root(&self) -> Digest {
        self.tree.root()
    }

    /// Flushes and returns the writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

fn write_line<W: Write>(out: &mut W, line: &Line<'_>) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")
}

/// What a bundle says before its entries: its header and the checkpoints, each with the
/// number of the line it stands on.
#[derive(Debug)]
pub struct Head {
    /// The header.
    pub header: Header,
    /// This party's checkpoints: (line, signed note).
    pub checkpoints: Vec<(usize, String)>,
    /// The checkpoints this party holds from partners: (line, partner, signed note).
    pub partner_checkpoints: Vec<(usize, PartyId, String)>,
}

/// One entry, as read from a bundle.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The line it stands on (the header is line 1).
    pub line: usize,
    /// The index the bundle gives it.
    pub index: u64,
    /// Envelope or receipt.
    pub kind: EntryKind,
    /// In or out.
    pub direction: Direction,
    /// The bytes the party logged, whose hash is the entry's Merkle leaf.
    pub bytes: Vec<u8>,
    /// A version 2 envelope's body with its salt, as a full export carries it; `None` in a
    /// redacted bundle (and for receipts and version 1 envelopes).
    pub body: Option<Vec<u8>>,
}

/// A line where an entry should be that is not one.
#[derive(Debug, Clone)]
pub struct BadLine {
    /// The line's number.
    pub line: usize,
    /// The line as it stands; it takes the entry's place in the recomputed tree.
    pub text: String,
    /// Why it is not an entry.
    pub why: String,
}

/// A logged message, parsed.
// One value per entry, made and taken apart at once: boxing the larger variant would cost an
// allocation per envelope and save nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Decoded {
    Envelope(SignedEnvelope),
    Receipt(Signed<Receipt>),
}

impl Entry {
    /// Parses the entry's bytes into its signed envelope or receipt. Does not verify the
    /// signature. The bytes must be strict canonical JSON, the only form a node logs: a
    /// duplicate key could show a reader one value and a verifier another.
    pub(crate) fn decode(&self) -> Result<Decoded, String> {
        // A limit protects a reader from a large input; this one is already in memory.
        let value =
            parse_strict(&self.bytes, usize::MAX).map_err(|e| format!("is malformed: {e}"))?;
        if canonical_bytes(&value) != self.bytes {
            return Err("is not in canonical JSON (RFC 8785), the form every node logs".into());
        }
        let malformed =
            |what: &str, e: detente_protocol::ProtocolError| format!("{what} is malformed: {e}");
        match self.kind {
            EntryKind::Envelope => SignedEnvelope::from_value(value)
                .map(Decoded::Envelope)
                .map_err(|e| malformed("envelope", e)),
            EntryKind::Receipt => Signed::from_value(value)
                .map(Decoded::Receipt)
                .map_err(|e| malformed("receipt", e)),
        }
    }
}

/// Reads a bundle: [`BundleReader::open`] reads the head, then the reader yields the entries
/// one by one, so a bundle is never held in memory.
pub struct BundleReader<R> {
    lines: std::iter::Enumerate<std::io::Lines<R>>,
    /// The first line after the head, already read while looking for the head's end.
    pending: Option<(usize, String)>,
    /// Whether entries are format 1 (re-serialised) rather than the logged bytes.
    format_1: bool,
    /// Whether entry lines may carry bodies (format 3).
    with_bodies: bool,
    /// Set once a line could not be read: reading on might fail forever.
    failed: bool,
}

impl<R: BufRead> BundleReader<R> {
    /// Reads the header and the checkpoints. Fails if the input is not a bundle of a format
    /// this crate reads, or its agreement is not a valid one.
    pub fn open(reader: R) -> Result<(Head, Self), AuditError> {
        let unusable = |m: String| AuditError::Unusable(m);
        let mut lines = reader.lines().enumerate();
        let (_, first) = lines
            .next()
            .ok_or_else(|| unusable("empty bundle".into()))?;
        let first = first.map_err(|e| unusable(format!("cannot read the bundle: {e}")))?;
        let header = match serde_json::from_str::<Line<'_>>(&first) {
            Ok(Line::Header(h)) => h,
            _ => {
                return Err(unusable(
                    "the first line is not a detente bundle header".into(),
                ));
            }
        };
        let (format_1, with_bodies) = match header.format.as_str() {
            BUNDLE_FORMAT => (false, true),
            BUNDLE_FORMAT_2 => (false, false),
            BUNDLE_FORMAT_1 => (true, false),
            other => {
                return Err(unusable(format!(
                    "bundle format {other:?} is not one of {BUNDLE_FORMAT}, {BUNDLE_FORMAT_2} \
                     and {BUNDLE_FORMAT_1}"
                )));
            }
        };
        header
            .agreement
            .validate()
            .map_err(|e| unusable(format!("the bundle's agreement: {e}")))?;
        let mut head = Head {
            header,
            checkpoints: Vec::new(),
            partner_checkpoints: Vec::new(),
        };
        let mut pending = None;
        for (n, line) in lines.by_ref() {
            let line = line.map_err(|e| unusable(format!("cannot read line {}: {e}", n + 1)))?;
            match serde_json::from_str::<Line<'_>>(&line) {
                Ok(Line::Checkpoint(note)) => head.checkpoints.push((n + 1, note)),
                Ok(Line::PartnerCheckpoint { party, note }) => {
                    head.partner_checkpoints.push((n + 1, party, note))
                }
                // The first entry (or a damaged line where entries begin) ends the head.
                _ => {
                    pending = Some((n + 1, line));
                    break;
                }
            }
        }
        Ok((
            head,
            Self {
                lines,
                pending,
                format_1,
                with_bodies,
                failed: false,
            },
        ))
    }

    fn entry(&self, number: usize, text: String) -> Result<Entry, BadLine> {
        let bad = |text: String, why: String| BadLine {
            line: number,
            text,
            why,
        };
        let parsed = match serde_json::from_str::<Line<'_>>(&text) {
            Ok(Line::Entry(e)) if e.body.is_some() && !self.with_bodies => {
                Err("carries a body, which only format 3 bundles do".to_owned())
            }
            Ok(Line::Entry(e)) => Ok((
                e.index,
                e.kind,
                e.direction,
                e.data.get().as_bytes(),
                e.body.map(|b| b.get().as_bytes().to_vec()),
            )),
            Ok(_) => Err("is not an entry (entries come after every checkpoint)".to_owned()),
            Err(e) => Err(format!("is not a well-formed entry: {e}")),
        };
        let (index, kind, direction, data, body) = match parsed {
            Ok(p) => p,
            Err(why) => return Err(bad(text, why)),
        };
        let bytes = if self.format_1 {
            // Format 1 re-serialised the logged canonical JSON; its canonical form is what
            // was logged.
            match parse_strict(data, usize::MAX) {
                Ok(value) => canonical_bytes(&value),
                Err(e) => {
                    let why = format!("holds malformed data: {e}");
                    return Err(bad(text, why));
                }
            }
        } else {
            data.to_vec()
        };
        Ok(Entry {
            line: number,
            index,
            kind,
            direction,
            bytes,
            body,
        })
    }
}

impl<R: BufRead> Iterator for BundleReader<R> {
    type Item = Result<Entry, BadLine>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let (number, text) = match self.pending.take() {
            Some(p) => p,
            None => {
                let (n, line) = self.lines.next()?;
                match line {
                    Ok(l) => (n + 1, l),
                    Err(e) => {
                        self.failed = true;
                        return Some(Err(BadLine {
                            line: n + 1,
                            text: String::new(),
                            why: format!("cannot be read: {e}"),
                        }));
                    }
                }
            }
        };
        Some(self.entry(number, text))
    }
}
