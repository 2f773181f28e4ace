//! Timeliness and quality figures computed from derived cases: the numbers the review
//! dialogue quotes, and the pages and tables it reads them from.
//!
//! Pure and deterministic: no clock, no I/O. The same cases and options give byte-identical
//! output on either party's node and on an auditor's machine, whatever order the cases come
//! in. The caller derives each case from the log (`detente_domain::derive_case` over the
//! official messages) and passes it with the log index of its request entry.
//!
//! - [`Period`]: `2026-H1`, `2026-Q3`, `2026-W48`, `2026-01-01..2026-06-30`, and the periods
//!   before it.
//! - [`compute`]: the [`Review`] of a period: figures overall, per direction and by kind,
//!   category and priority ([`metrics`] says precisely which cases count for which figure),
//!   the trend over previous periods, and the per-case appendix.
//! - Output: [`Review::to_json`], [`csv`] tables, and one self-contained HTML page
//!   ([`html::review_page`], [`html::bulletin_page`]) with inline SVG charts.
//! - [`summarize`]: the first per-direction summary, which the demo uses, and
//!   [`Summarizer`], the same one case at a time, which the audit uses.

mod chart;
pub mod csv;
pub mod delivery;
pub mod html;
pub mod metrics;
mod period;
mod review;
pub mod rules;
mod sources;
mod stats;
mod summary;
pub mod view;

use detente_protocol::DeclineReason;

pub use metrics::{DirectionSection, Figures, Group, Section};
pub use period::{Period, PeriodError};
pub use review::{
    AgreementInfo, Appendix, AppendixRow, CaseRecord, DirectionHeadline, FORMAT, Headline,
    MAX_TREND_PERIODS, Redaction, Review, ReviewError, ReviewOptions, Scope, TrendPoint,
    appendix_columns, compute,
};
pub use sources::{CitedCheckpoint, Sources};
pub use stats::{Durations, Fraction, Mean, Share};
pub use summary::{DirectionSummary, Summarizer, summarize};

/// The wire name of a decline reason, as in JSON.
pub fn decline_reason_name(r: DeclineReason) -> &'static str {
    match r {
        DeclineReason::OutsideScope => "outside_scope",
        DeclineReason::InsufficientInformation => "insufficient_information",
        DeclineReason::NoJurisdiction => "no_jurisdiction",
        DeclineReason::LegalRestriction => "legal_restriction",
        DeclineReason::PoliticalOffence => "political_offence",
        DeclineReason::EssentialInterests => "essential_interests",
        DeclineReason::Duplicate => "duplicate",
        DeclineReason::Other => "other",
    }
}
