//! The review: the figures of a period for an agreement, their trend over the periods
//! before, and the per-case appendix that traces every figure to the signed log entries.
//!
//! [`compute`] is a pure function of its inputs. Everything is emitted in a fixed order
//! (directions, kinds, categories and priorities in their sorted order, the appendix by
//! official filing time, then case id), so the same cases in any order give byte-identical
//! JSON.

use std::cmp::Ordering;

use detente_domain::{Agreement, Case, CaseStatus};
use detente_protocol::{CaseId, Digest, PartyId, Timestamp};
use serde::{
    Serialize, Serializer,
    ser::{SerializeSeq, SerializeStruct},
};

use crate::{
    Fraction, Mean, Period,
    metrics::{self, Buckets, CaseOutcome, DirectionSection, Figures, Section, Universe, Window},
    stats::{CaseIdText, TimestampText},
    view,
};

/// The version of the review's JSON document; bumped when a field changes meaning.
pub const FORMAT: &str = "detente-review/2";

/// The most earlier periods a trend shows: the API and the CLI refuse more, and no review
/// allocates for a number it was handed.
pub const MAX_TREND_PERIODS: usize = 20;

/// One case as the caller derived it from the log, with the log index of its request entry.
/// The index is the request envelope's in the *responder's* log, which the requester holds
/// in the responder's signed receipt: both parties cite a case by the same number.
#[derive(Debug, Clone, Copy)]
pub struct CaseRecord<'a> {
    /// The case, derived from its official messages (`detente_domain::derive_case`).
    pub case: &'a Case,
    /// Index in the responder's log of the entry holding the case's request envelope.
    pub log_index: u64,
}

/// What the review may show of each case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Redaction {
    /// Everything the figures are made of, with each request's title and TLP.
    #[default]
    Full,
    /// Only what the figures need (ids, kind, category, priority, official times, status,
    /// rating, log index): no titles, narratives, observables or TLP-marked content, so the
    /// review can go to a neutral auditor with the log bundle.
    Redacted,
}

/// How to compute a review.
#[derive(Debug, Clone, Copy)]
pub struct ReviewOptions {
    /// The period reviewed.
    pub period: Period,
    /// The instant the figures are measured at: what was officially recorded strictly before
    /// it counts. `None` means the end of the period. An earlier instant reviews a period
    /// still under way; a later one (the meeting date) follows the period's requests up
    /// (their milestones until then count, what is still open is pending), while the
    /// backlog is still taken at the period's end. [`ReviewOptions::measured`] checks it.
    pub as_of: Option<Timestamp>,
    /// How many previous periods the trend shows besides this one, at most
    /// [`MAX_TREND_PERIODS`].
    pub trend_periods: usize,
    /// What the review may show of each case.
    pub redaction: Redaction,
}

impl ReviewOptions {
    /// A review of `period` at its end, with the four periods before it, unredacted.
    pub fn new(period: Period) -> Self {
        Self {
            period,
            as_of: None,
            trend_periods: 4,
            redaction: Redaction::Full,
        }
    }

    /// A review of `period` measured at `as_of`, or at `now` when none is given, with the
    /// four periods before it. Refuses an instant before the period starts (it would count
    /// nothing) and one after `now` (the document would change when made again).
    pub fn measured(
        period: Period,
        as_of: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Self, ReviewError> {
        let at = as_of.unwrap_or(now);
        if at < period.start() {
            return Err(ReviewError::AsOfBeforePeriod {
                period: period.to_string(),
                as_of: at,
            });
        }
        if at > now {
            return Err(ReviewError::AsOfInFuture { as_of: at, now });
        }
        Ok(Self {
            as_of: Some(at),
            ..Self::new(period)
        })
    }
}

/// Why a review could not be computed or rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// The same case id was given twice (perhaps from two logs merged by mistake).
    #[error("case {0} was given more than once; pass each case once")]
    DuplicateCase(CaseId),
    /// The review was asked for at an instant before its period starts.
    #[error(
        "the review of {period} cannot be measured at {as_of}, before the period starts: \
         it would count nothing; give an instant at or after its start"
    )]
    AsOfBeforePeriod {
        /// The period.
        period: String,
        /// The instant asked for.
        as_of: Timestamp,
    },
    /// The review was asked for at an instant that has not come yet.
    #[error(
        "the review cannot be measured at {as_of}, which is in the future (it is now {now}): \
         the figures would change when it is made again; give an instant that has passed"
    )]
    AsOfInFuture {
        /// The instant asked for.
        as_of: Timestamp,
        /// The time it was asked at.
        now: Timestamp,
    },
    /// The trend was asked for more earlier periods than a review shows.
    #[error("a trend shows at most {MAX_TREND_PERIODS} earlier periods, not {0}")]
    TrendTooLong(usize),
    /// A chart could not be drawn.
    #[error("drawing the chart {chart:?} failed: {reason}")]
    Chart {
        /// Which chart.
        chart: String,
        /// What the drawing library said.
        reason: String,
    },
    /// The HTML template could not be rendered.
    #[error("rendering the HTML page failed: {0}")]
    Template(String),
    /// The review could not be serialised.
    #[error("serialising the review failed: {0}")]
    Serialise(String),
}

/// The agreement a review is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgreementInfo {
    /// Its short id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// SHA-256 of its canonical JSON, as envelopes name it.
    pub digest: Digest,
    /// When it came into force, if it says.
    pub in_force_from: Option<Timestamp>,
}

/// The headline figures of one period of the trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Headline {
    /// Requests filed.
    pub filed: u64,
    /// Acknowledged within the deadline, of those measured.
    pub acknowledged_in_time: Fraction,
    /// Finally answered (or declined) within the deadline, of those measured.
    pub final_answer_in_time: Fraction,
    /// Median responder time to the final answer or decline.
    pub median_time_to_final_answer_ms: Option<i64>,
    /// Mean rating.
    pub rating: Mean,
    /// Open at the end of the period.
    pub open_at_end: u64,
    /// Overdue at the end of the period.
    pub overdue_at_end: u64,
}

impl Headline {
    fn of(f: &Figures) -> Self {
        Self {
            filed: f.filed,
            acknowledged_in_time: f.within_deadline.acknowledge,
            final_answer_in_time: f.within_deadline.final_answer,
            median_time_to_final_answer_ms: f.time_to_final_answer.median_ms,
            rating: f.quality.mean,
            open_at_end: f.at_end.open,
            overdue_at_end: f.at_end.overdue,
        }
    }
}

/// The headline of one direction in one period of the trend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectionHeadline {
    /// The party that filed the requests.
    pub requester: PartyId,
    /// The party asked to respond.
    pub responder: PartyId,
    /// Its headline figures.
    #[serde(flatten)]
    pub headline: Headline,
}

/// One period of the trend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrendPoint {
    /// The period.
    pub period: Period,
    /// The instant it was measured at: its end plus the review's follow-up, if any.
    pub as_of: Timestamp,
    /// Whether the agreement was in force in any of it: a period that ended before the
    /// agreement came into force had no requests to count, which is not the same as none.
    pub in_force: bool,
    /// Overall.
    pub overall: Headline,
    /// Per direction, in the order of the review's directions.
    pub directions: Vec<DirectionHeadline>,
}

/// Why a case is in the appendix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Filed in the period.
    Filed,
    /// Filed before the period and open at its start or end.
    CarriedOver,
}

impl Scope {
    /// The name used in JSON and CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Filed => "filed",
            Self::CarriedOver => "carried_over",
        }
    }
}

/// One case behind the figures.
#[derive(Debug, Clone, Copy)]
pub struct AppendixRow<'a> {
    /// The case.
    pub case: &'a Case,
    /// Log index of its request entry.
    pub log_index: u64,
    /// Why it is here.
    pub scope: Scope,
    /// Its status at the review's instant.
    pub status: CaseStatus,
    /// Whether it was open at the period's end.
    pub open_at_end: bool,
    /// Whether it was overdue at the period's end.
    pub overdue_at_end: bool,
    /// Whether it was overdue at the review's instant.
    pub overdue_as_of: bool,
    /// Clarification rounds before the review's instant.
    pub clarification_rounds: u16,
    /// Time the responder's clock was paused, until the review's instant.
    pub paused_ms: i64,
    /// Which milestones were recorded before the review's instant (bits of [`Seen`]).
    seen: u8,
}

/// The milestones of a case recorded before the review's instant, as bits.
struct Seen;

impl Seen {
    const ACKNOWLEDGED: u8 = 1;
    const FIRST_ANSWER: u8 = 2;
    const FINAL_ANSWER: u8 = 4;
    const WITHDRAWN: u8 = 8;
    const CLOSED: u8 = 16;
}

impl AppendixRow<'_> {
    fn when(&self, bit: u8, t: Option<Timestamp>) -> Option<Timestamp> {
        t.filter(|_| self.seen & bit != 0)
    }

    /// Official time of the acknowledgement, if recorded before the review's instant.
    pub fn acknowledged_at(&self) -> Option<Timestamp> {
        self.when(Seen::ACKNOWLEDGED, self.case.acknowledged_at)
    }

    /// Official time of the first answer (or decline), if recorded before the review's
    /// instant.
    pub fn first_answer_at(&self) -> Option<Timestamp> {
        self.when(Seen::FIRST_ANSWER, self.case.first_answer_at)
    }

    /// Official time of the final answer (or decline), if recorded before the review's
    /// instant.
    pub fn final_answer_at(&self) -> Option<Timestamp> {
        self.when(Seen::FINAL_ANSWER, self.case.final_answer_at)
    }

    /// Official time of the withdrawal, if recorded before the review's instant.
    pub fn withdrawn_at(&self) -> Option<Timestamp> {
        self.when(Seen::WITHDRAWN, self.case.withdrawn_at)
    }

    /// The decline reason, if the decline was recorded before the review's instant.
    pub fn decline_reason(&self) -> Option<detente_protocol::DeclineReason> {
        self.final_answer_at().and(self.case.decline_reason)
    }

    /// The rating, if it was recorded before the review's instant.
    pub fn rating(&self) -> Option<u8> {
        self.when(Seen::CLOSED, self.case.closed_at)
            .and(self.case.rating)
    }
}

/// The per-case appendix: one row per case behind the figures, ordered by official filing
/// time, then case id.
#[derive(Debug, Clone)]
pub struct Appendix<'a> {
    /// Whether titles and TLP are left out.
    pub redaction: Redaction,
    /// The rows.
    pub rows: Vec<AppendixRow<'a>>,
}

/// A complete review.
#[derive(Debug, Clone)]
pub struct Review<'a> {
    /// [`FORMAT`].
    pub format: &'static str,
    /// The agreement.
    pub agreement: AgreementInfo,
    /// The period.
    pub period: Period,
    /// The instant the period's requests are measured at.
    pub as_of: Timestamp,
    /// The instant the backlog is measured at (the period's end, or `as_of` if earlier).
    pub backlog_at: Timestamp,
    /// The log checkpoints the figures' messages carried (see [`crate::Sources`]); empty
    /// until the caller, who holds the receipts, sets them.
    pub checkpoints: Vec<crate::CitedCheckpoint>,
    /// What the review shows of each case.
    pub redaction: Redaction,
    /// The labels of the histogram buckets.
    pub buckets: Buckets,
    /// All directions together.
    pub overall: Section,
    /// Per direction, ordered by (requester, responder).
    pub directions: Vec<DirectionSection>,
    /// The headline figures of the previous periods and this one, oldest first.
    pub trend: Vec<TrendPoint>,
    /// The cases behind the figures.
    pub appendix: Appendix<'a>,
}

/// Computes the review of `options.period` from every case of `agreement` the caller holds
/// (cases of other periods are needed for the backlog and the trend).
pub fn compute<'a>(
    agreement: &Agreement,
    records: &[CaseRecord<'a>],
    options: &ReviewOptions,
) -> Result<Review<'a>, ReviewError> {
    let period = options.period;
    if options.trend_periods > MAX_TREND_PERIODS {
        return Err(ReviewError::TrendTooLong(options.trend_periods));
    }
    let as_of = options.as_of.unwrap_or_else(|| period.end());
    if as_of < period.start() {
        return Err(ReviewError::AsOfBeforePeriod {
            period: period.to_string(),
            as_of,
        });
    }
    // One order for everything that follows, whatever order the caller used: by official
    // filing time, then case id. Sorting integer keys first keeps string comparisons for ties.
    let mut keyed: Vec<(i64, &CaseRecord<'a>)> = records
        .iter()
        .map(|r| (millis(r.case.filed_at), r))
        .collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| by_case(a.1, b.1)));
    let filed_ms: Vec<i64> = keyed.iter().map(|(ms, _)| *ms).collect();
    let records: Vec<CaseRecord<'a>> = keyed.into_iter().map(|(_, r)| *r).collect();
    // Only the cases filed before an instant can count for a period ending then.
    let filed_before = |t: Timestamp| filed_ms.partition_point(|ms| *ms < millis(t));
    if let Some(dup) = duplicate(&records) {
        return Err(ReviewError::DuplicateCase(dup.clone()));
    }
    let (universe, coords) = Universe::new(agreement, records.iter().map(|r| r.case));
    let window = Window {
        start: period.start(),
        end: period.end(),
        as_of,
    };
    let mut rows = Vec::with_capacity(records.len());
    let n = filed_before(window.edge());
    let obs = metrics::observe(
        &universe,
        records[..n].iter().map(|r| r.case),
        &coords[..n],
        window,
        |i, outcome, seen| {
            let deadlines = agreement.deadlines(records[i].case.priority);
            rows.push(row(&records[i], outcome, seen, as_of, &deadlines));
        },
    );
    let figures = metrics::group(&universe, &obs, true);
    drop(obs);
    // Earlier periods are measured with the same follow-up after their end, so the points
    // of the trend are comparable; a review of a period under way has none.
    let follow_up = as_of.since(period.end()).max(time::Duration::ZERO);
    let mut trend = Vec::with_capacity(options.trend_periods + 1);
    for p in period.previous_n(options.trend_periods) {
        let window = Window {
            start: p.start(),
            end: p.end(),
            as_of: p.end().add(follow_up),
        };
        let n = filed_before(window.edge());
        let obs = metrics::observe(
            &universe,
            records[..n].iter().map(|r| r.case),
            &coords[..n],
            window,
            |_, _, _| {},
        );
        let f = metrics::group(&universe, &obs, false);
        trend.push(trend_point(
            p,
            window.as_of,
            agreement.in_force_from,
            &f.overall,
            &f.directions,
        ));
    }
    trend.push(trend_point(
        period,
        as_of,
        agreement.in_force_from,
        &figures.overall,
        &figures.directions,
    ));
    Ok(Review {
        format: FORMAT,
        agreement: AgreementInfo {
            id: agreement.id.clone(),
            title: agreement.title.clone(),
            digest: agreement.digest(),
            in_force_from: agreement.in_force_from,
        },
        period,
        as_of,
        backlog_at: window.edge(),
        checkpoints: Vec::new(),
        redaction: options.redaction,
        buckets: Buckets::default(),
        overall: figures.overall,
        directions: figures.directions,
        trend,
        appendix: Appendix {
            redaction: options.redaction,
            rows,
        },
    })
}

fn by_case(a: &CaseRecord<'_>, b: &CaseRecord<'_>) -> Ordering {
    a.case
        .id
        .cmp(&b.case.id)
        .then(a.log_index.cmp(&b.log_index))
}

/// The duplicated case id, the smallest if there are several, found by sorting a fixed (not
/// per-process) hash of each id rather than the ids themselves.
fn duplicate<'r>(records: &'r [CaseRecord<'_>]) -> Option<&'r CaseId> {
    use std::hash::{Hash, Hasher};
    let mut hashes: Vec<(u64, usize)> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut h = Fnv(0xcbf2_9ce4_8422_2325);
            r.case.id.hash(&mut h);
            (h.finish(), i)
        })
        .collect();
    hashes.sort_unstable();
    // Equal ids have equal hashes, so they are neighbours (among any other ids sharing
    // their hash): compare each with the ones after it that share its hash.
    let mut dup: Option<&CaseId> = None;
    for (k, (h, i)) in hashes.iter().enumerate() {
        for (h2, j) in &hashes[k + 1..] {
            if h2 != h {
                break;
            }
            let id = &records[*i].case.id;
            if id == &records[*j].case.id && dup.is_none_or(|d| id < d) {
                dup = Some(id);
            }
        }
    }
    dup
}

/// FNV-1a: a fixed, fast hash for short keys.
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Milliseconds since the epoch, without the protocol's 128-bit arithmetic.
pub(crate) fn millis(t: Timestamp) -> i64 {
    let d = t.datetime();
    d.unix_timestamp() * 1_000 + i64::from(d.millisecond())
}

fn row<'a>(
    r: &CaseRecord<'a>,
    outcome: CaseOutcome,
    seen: Option<&Case>,
    as_of: Timestamp,
    deadlines: &detente_domain::Deadlines,
) -> AppendixRow<'a> {
    let owned;
    let v = match seen {
        Some(v) => v,
        None => {
            owned = view::as_of(r.case, as_of);
            &*owned
        }
    };
    AppendixRow {
        case: r.case,
        log_index: r.log_index,
        scope: if outcome.in_period {
            Scope::Filed
        } else {
            Scope::CarriedOver
        },
        status: v.status,
        open_at_end: outcome.open_at_end,
        overdue_at_end: outcome.overdue_at_end,
        overdue_as_of: v.is_overdue(deadlines, as_of),
        clarification_rounds: u16::try_from(v.pauses.len()).unwrap_or(u16::MAX),
        paused_ms: i64::try_from(v.paused_until(as_of).whole_milliseconds()).unwrap_or(i64::MAX),
        seen: [
            (v.acknowledged_at, Seen::ACKNOWLEDGED),
            (v.first_answer_at, Seen::FIRST_ANSWER),
            (v.final_answer_at, Seen::FINAL_ANSWER),
            (v.withdrawn_at, Seen::WITHDRAWN),
            (v.closed_at, Seen::CLOSED),
        ]
        .iter()
        .filter(|(t, _)| t.is_some())
        .fold(0, |bits, (_, bit)| bits | bit),
    }
}

fn trend_point(
    period: Period,
    as_of: Timestamp,
    in_force_from: Option<Timestamp>,
    overall: &Section,
    directions: &[DirectionSection],
) -> TrendPoint {
    TrendPoint {
        period,
        as_of,
        in_force: in_force_from.is_none_or(|from| period.end() > from),
        overall: Headline::of(&overall.figures),
        directions: directions
            .iter()
            .map(|d| DirectionHeadline {
                requester: d.requester.clone(),
                responder: d.responder.clone(),
                headline: Headline::of(&d.section.figures),
            })
            .collect(),
    }
}

impl Review<'_> {
    /// The review as one JSON document (the appendix as a table of columns and rows).
    /// Byte-identical for the same cases and options, whatever their order, and to what
    /// `serde_json` makes of the review's `Serialize`.
    pub fn to_json(&self) -> Result<String, ReviewError> {
        let mut out = self.json_buffer();
        self.write_json(&mut out)?;
        String::from_utf8(out).map_err(|e| ReviewError::Serialise(e.to_string()))
    }

    /// The same JSON as [`Review::to_json`], written to `out` as it is produced, so a large
    /// appendix need not be held in memory twice (the caller owns the sink and its I/O).
    pub fn write_json(&self, mut out: impl std::io::Write) -> Result<(), ReviewError> {
        let fail = |e: &dyn std::fmt::Display| ReviewError::Serialise(e.to_string());
        // Everything but the appendix through serde; the appendix's rows, which are nearly
        // all of the bytes, written directly: their text is mostly identifiers and times
        // that need no escaping.
        let head = serde_json::to_vec(&Head(self)).map_err(|e| fail(&e))?;
        let head = head.strip_suffix(b"}").unwrap_or(&head);
        out.write_all(head).map_err(|e| fail(&e))?;
        out.write_all(b",\"appendix\":{\"columns\":")
            .map_err(|e| fail(&e))?;
        serde_json::to_writer(&mut out, &appendix_columns(self.appendix.redaction))
            .map_err(|e| fail(&e))?;
        out.write_all(b",\"rows\":[").map_err(|e| fail(&e))?;
        let mut row = Vec::with_capacity(1024);
        for (i, r) in self.appendix.rows.iter().enumerate() {
            row.clear();
            if i > 0 {
                row.push(b',');
            }
            write_row_json(&mut row, r, self.appendix.redaction).map_err(|e| fail(&e))?;
            out.write_all(&row).map_err(|e| fail(&e))?;
        }
        out.write_all(b"]}}").map_err(|e| fail(&e))
    }

    fn json_buffer(&self) -> Vec<u8> {
        // Sized generously once, so a large appendix is never copied to a bigger buffer; pages
        // of the buffer that are never written cost no memory.
        let text: usize = self
            .appendix
            .rows
            .iter()
            .map(|r| r.case.title.len() + r.case.category.len())
            .sum();
        Vec::with_capacity(256 * 1024 + self.appendix.rows.len() * 320 + 2 * text)
    }

    fn serialize_fields<S: SerializeStruct>(&self, st: &mut S) -> Result<(), S::Error> {
        st.serialize_field("format", &self.format)?;
        st.serialize_field("agreement", &self.agreement)?;
        st.serialize_field("period", &self.period)?;
        st.serialize_field("as_of", &self.as_of)?;
        st.serialize_field("backlog_at", &self.backlog_at)?;
        st.serialize_field("checkpoints", &self.checkpoints)?;
        st.serialize_field("redaction", &self.redaction)?;
        st.serialize_field("buckets", &self.buckets)?;
        st.serialize_field("overall", &self.overall)?;
        st.serialize_field("directions", &self.directions)?;
        st.serialize_field("trend", &self.trend)
    }
}

impl Serialize for Review<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Review", 12)?;
        self.serialize_fields(&mut st)?;
        st.serialize_field("appendix", &self.appendix)?;
        st.end()
    }
}

/// The review without its appendix.
struct Head<'r, 'a>(&'r Review<'a>);

impl Serialize for Head<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Review", 11)?;
        self.0.serialize_fields(&mut st)?;
        st.end()
    }
}

/// Writes one appendix row as a JSON array, exactly as `serde_json` would.
fn write_row_json(
    out: &mut Vec<u8>,
    row: &AppendixRow<'_>,
    redaction: Redaction,
) -> Result<(), serde_json::Error> {
    use std::io::Write as _;
    out.push(b'[');
    let mut first = true;
    row.each_cell(redaction, |cell| {
        if !first {
            out.push(b',');
        }
        first = false;
        match cell {
            Cell::Raw(t) => {
                out.push(b'"');
                out.extend_from_slice(t.as_bytes());
                out.push(b'"');
            }
            Cell::Text(t) => serde_json::to_writer(&mut *out, t)?,
            Cell::Id(id) => {
                out.push(b'"');
                out.extend_from_slice(CaseIdText::of(id).as_str().as_bytes());
                out.push(b'"');
            }
            Cell::Time(t) => match TimestampText::of(t) {
                Some(text) => {
                    out.push(b'"');
                    out.extend_from_slice(text.as_str().as_bytes());
                    out.push(b'"');
                }
                None => serde_json::to_writer(&mut *out, &t)?,
            },
            Cell::Int(n) => write!(out, "{n}").map_err(serde_json::Error::io)?,
            Cell::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            Cell::Null => out.extend_from_slice(b"null"),
        }
        Ok(())
    })?;
    out.push(b']');
    Ok(())
}

/// The appendix's columns, in order; the same in JSON and CSV.
pub fn appendix_columns(redaction: Redaction) -> Vec<&'static str> {
    const FULL: &[&str] = &[
        "case",
        "requester",
        "responder",
        "kind",
        "category",
        "priority",
        "tlp",
        "title",
        "filed_at",
        "acknowledged_at",
        "first_answer_at",
        "final_answer_at",
        "withdrawn_at",
        "status",
        "decline_reason",
        "rating",
        "clarification_rounds",
        "paused_ms",
        "open_at_end",
        "overdue_at_end",
        "overdue_as_of",
        "scope",
        "log_index",
    ];
    // The redacted appendix is the same without what describes the content.
    FULL.iter()
        .copied()
        .filter(|c| redaction == Redaction::Full || !matches!(*c, "tlp" | "title"))
        .collect()
}

/// One appendix cell, for JSON and CSV alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cell<'a> {
    /// Text that never needs escaping: identifiers and names of `[A-Za-z0-9_:+-]`.
    Raw(&'a str),
    /// Free text (categories, titles).
    Text(&'a str),
    Id(&'a CaseId),
    Time(Timestamp),
    Int(i64),
    Bool(bool),
    Null,
}

impl Serialize for Cell<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Raw(t) | Self::Text(t) => s.serialize_str(t),
            Self::Id(id) => s.collect_str(id),
            Self::Time(t) => match TimestampText::of(*t) {
                Some(text) => s.serialize_str(text.as_str()),
                None => s.collect_str(t),
            },
            Self::Int(i) => s.serialize_i64(*i),
            Self::Bool(b) => s.serialize_bool(*b),
            Self::Null => s.serialize_none(),
        }
    }
}

impl<'a> AppendixRow<'a> {
    /// Hands each cell of this row to `f`, in the order of [`appendix_columns`], without
    /// collecting them (there are millions of rows).
    pub(crate) fn each_cell<E>(
        &self,
        redaction: Redaction,
        mut f: impl FnMut(Cell<'a>) -> Result<(), E>,
    ) -> Result<(), E> {
        let c = self.case;
        let time = |t: Option<Timestamp>| t.map_or(Cell::Null, Cell::Time);
        f(Cell::Id(&c.id))?;
        f(Cell::Raw(c.requester.as_str()))?;
        f(Cell::Raw(c.responder.as_str()))?;
        f(Cell::Raw(c.kind.as_str()))?;
        f(Cell::Text(&c.category))?;
        f(Cell::Raw(c.priority.as_str()))?;
        if redaction == Redaction::Full {
            f(Cell::Raw(c.tlp.label()))?;
            f(Cell::Text(&c.title))?;
        }
        f(Cell::Time(c.filed_at))?;
        f(time(self.acknowledged_at()))?;
        f(time(self.first_answer_at()))?;
        f(time(self.final_answer_at()))?;
        f(time(self.withdrawn_at()))?;
        f(Cell::Raw(self.status.as_str()))?;
        f(self
            .decline_reason()
            .map_or(Cell::Null, |r| Cell::Raw(crate::decline_reason_name(r))))?;
        f(self
            .rating()
            .map_or(Cell::Null, |r| Cell::Int(i64::from(r))))?;
        f(Cell::Int(i64::from(self.clarification_rounds)))?;
        f(Cell::Int(self.paused_ms))?;
        f(Cell::Bool(self.open_at_end))?;
        f(Cell::Bool(self.overdue_at_end))?;
        f(Cell::Bool(self.overdue_as_of))?;
        f(Cell::Raw(self.scope.as_str()))?;
        f(Cell::Int(i64::try_from(self.log_index).unwrap_or(i64::MAX)))
    }
}

struct Rows<'r, 'a>(&'r Appendix<'a>);

struct RowCells<'r, 'a>(&'r AppendixRow<'a>, Redaction);

impl Serialize for RowCells<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        self.0.each_cell(self.1, |c| seq.serialize_element(&c))?;
        seq.end()
    }
}

impl Serialize for Rows<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.rows.len()))?;
        for r in &self.0.rows {
            seq.serialize_element(&RowCells(r, self.0.redaction))?;
        }
        seq.end()
    }
}

impl Serialize for Appendix<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Appendix", 2)?;
        st.serialize_field("columns", &appendix_columns(self.redaction))?;
        st.serialize_field("rows", &Rows(self))?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_millis_agree_with_the_protocol_before_and_after_the_epoch() {
        for ms in [
            -62_167_219_200_000,
            -1_500,
            -1,
            0,
            1,
            999,
            1_767_225_600_123,
        ] {
            let t = Timestamp::from_unix_millis(ms).expect("in range");
            assert_eq!(millis(t), t.unix_millis(), "{ms}");
        }
    }
}
