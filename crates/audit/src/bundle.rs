//! The bundle format: one JSON object per line.
//!
//! ```text
//! {"header": {"format": "detente-log-bundle/1", "party": "US", "agreement": {...}, "size": 1234}}
//! {"checkpoint": "<signed note>"}                          this party's, ascending size
//! {"partner_checkpoint": {"party": "CN", "note": "..."}}   held from partners
//! {"entry": {"index": 0, "kind": "envelope", "direction": "out", "data": {...}}}
//! ```
//!
//! Checkpoints come before entries, so an auditor knows every size it must check before it
//! streams the entries, and never holds the log in memory.

use std::io::Write;

use detente_domain::Agreement;
use detente_protocol::PartyId;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The format name in the header.
pub const BUNDLE_FORMAT: &str = "detente-log-bundle/1";

/// The first line of a bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// The party whose log this is.
    pub party: PartyId,
    /// The agreement the log was written under, keys included.
    pub agreement: Agreement,
    /// Number of entries that follow.
    pub size: u64,
}

/// One line of a bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum BundleLine {
    /// The header (first line only).
    Header(Header),
    /// One of this party's signed checkpoints.
    Checkpoint(String),
    /// A checkpoint this party holds from a partner.
    PartnerCheckpoint {
        /// The partner that signed it.
        party: PartyId,
        /// The signed note.
        note: String,
    },
    /// One log entry.
    Entry {
        /// Its index in the log.
        index: u64,
        /// `envelope` or `receipt`.
        kind: String,
        /// `in` or `out`.
        direction: String,
        /// The signed envelope or receipt, exactly as logged (canonical JSON).
        data: Value,
    },
}

/// Writes a bundle line by line.
pub struct BundleWriter<W: Write> {
    out: W,
}

impl<W: Write> BundleWriter<W> {
    /// Starts a bundle with its header.
    pub fn new(mut out: W, header: Header) -> std::io::Result<Self> {
        write_line(&mut out, &BundleLine::Header(header))?;
        Ok(Self { out })
    }

    /// Writes one line.
    pub fn line(&mut self, line: &BundleLine) -> std::io::Result<()> {
        write_line(&mut self.out, line)
    }

    /// Flushes and returns the writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

fn write_line<W: Write>(out: &mut W, line: &BundleLine) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")
}
