//! The auditor's side of detente: log bundles, and an audit of two parties' bundles that
//! trusts neither party.
//!
//! A bundle is one party's whole log as JSON lines: a header (party, agreement), the party's
//! signed checkpoints, the partner checkpoints it holds, then every entry in log order, each
//! as the bytes the party logged. The audit takes the agreement from the auditor (pinned out
//! of band), not from the bundles, and reads both bundles in one streaming pass each. It
//! checks every signature under the pinned keys, that every envelope and receipt signs the
//! pinned agreement's digest, every checkpoint against the recomputed Merkle tree, that each
//! bundle ends at a checkpoint its party signed, the partner checkpoints each side holds
//! against the other side's tree, that what one side claims was delivered is in the other's
//! log, that receipt times run forward, and that every case's history is a legal lifecycle.
//! Then it recomputes the timeliness figures from each log and requires them to agree.
//!
//! Under wire version 2 a log entry is a signed header that commits to a detached body, so a
//! redacted bundle (no bodies) still runs every check but the bodies' content, and recomputes
//! the same figures; a full bundle carries each body beside its entry and the audit checks it
//! against the header. One body can be disclosed on its own ([`Disclosure`]).

mod audit;
mod bundle;
mod cases;
mod compact;
mod disclosure;
mod finding;
mod signatures;

pub use audit::{Audit, AuditError, Pin, audit, verify_checkpoint};
pub use bundle::{
    BUNDLE_FORMAT, BadLine, BundleReader, BundleWriter, Direction, Entry, EntryKind, Head, Header,
};
pub use cases::{BundleCases, CaseCollector, bundle_cases};
pub use disclosure::{Disclosure, check_disclosure};
pub use finding::{Finding, FindingKind};
