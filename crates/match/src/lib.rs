//! detente's matcher: finds which hosts in our networks touch the indicators a partner shared.
//!
//! Pure: no network, no database, no async runtime. It reads what it is handed (`Read`ers of
//! logs and lists) and writes nothing but its results.
//!
//! - [`IndexBuilder`] / [`Index`]: indicators of every kind, with an allow-list; loaders for
//!   plain lists and maltrail trails in [`load`].
//! - [`input`]: streaming parsers for Zeek logs (TSV and JSON), CSV flows and plain text,
//!   gzip and zstd sniffed transparently.
//! - [`run`]: the parallel engine; hits come out in input order whatever the thread count.
//! - [`Sightings`], [`OwnerTable`] and [`OwnerReports`]: STIX 2.1 sighting summaries, per-owner
//!   aggregation and notification drafts.

mod error;
mod event_time;
mod index;
mod indicator;
pub mod input;
pub mod load;
mod normalize;
mod owner;
mod run;
mod sighting;

pub use error::{IndexError, IndicatorError, InputError, OwnerError};
pub use event_time::EventTime;
pub use index::{
    Added, Index, IndexBuilder, IndexStats, IndicatorId, IndicatorView, Lookup, Matcher, Observable,
};
pub use indicator::{DomainScope, IndicatorKind, IndicatorMeta, IndicatorValue, tlp_rank};
pub use owner::{
    HostReport, MAX_HOSTS_PER_OWNER, Notification, Owner, OwnerReport, OwnerReports, OwnerTable,
};
pub use run::{
    CountHits, Hit, HitSink, InputReport, MAX_REPORTED_MALFORMED, MalformedLine, RunOptions,
    RunReport, run,
};
pub use sighting::{
    Candidate, ID_NAMESPACE, Sightings, identity_ref, indicator_ref, tlp_marking_ref,
};
