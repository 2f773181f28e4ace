//! The auditor's side of detente: log bundles, and an audit of two parties' bundles that
//! trusts neither party.
//!
//! A bundle is one party's whole log as JSON lines: a header (party, agreement), the party's
//! signed checkpoints, the partner checkpoints it holds, then every entry in log order. The
//! audit reads both bundles in one streaming pass each and checks every signature, every
//! checkpoint against the recomputed Merkle tree, the partner checkpoints each side holds
//! against the other side's tree, that what one side claims was delivered is in the other's
//! log, that receipt times run forward, and that every case's history is a legal lifecycle.
//! Then it recomputes the timeliness figures from each log and requires them to agree.

mod audit;
mod bundle;
mod cases;
mod signatures;

pub use audit::{Audit, AuditError, Finding, audit, verify_checkpoint};
pub use bundle::{BUNDLE_FORMAT, BundleLine, BundleWriter, Header};
pub use cases::{BundleCases, CaseCollector, bundle_cases};
