//! The figures of one period: what counts, for which figure, and how it is computed.
//!
//! Two sets of cases feed a period `[start, end)` measured at `as_of` (which may lie before
//! or after `end`):
//!
//! - **Filed in the period** (the cohort): cases whose official filing time (the receipt time
//!   of the request) falls in `[start, end)`. Every throughput, timeliness and quality figure
//!   is about these cases and what had officially happened to them before `as_of`: filed,
//!   acknowledged, answered, declined, withdrawn, the times to acknowledge, first and final
//!   answer, the shares within deadline, clarifications and ratings.
//! - **Held at the period's edges** (the backlog): every case filed before the end, whatever
//!   its filing period, that was open at `start` (`open_at_start`) or at `end`
//!   (`open`, `overdue`, ages). Open means the responder still owed something: sent,
//!   acknowledged, partially answered, or waiting for a clarification. Cases filed before
//!   `start` and still open at `end` are the `carried_over` ones.
//!
//! Rules, all from the domain's deadline clock ([`detente_domain::Case::timeliness`] and
//! [`detente_domain::Case::is_overdue`]), and stated in full in [`crate::rules`]: times are
//! responder time with clarification pauses excluded; any first reply counts as the
//! acknowledgement; a decline counts as the first and the final answer for timeliness (and is
//! also counted by reason); a deadline that passed before a withdrawal stays missed, one still
//! running becomes moot. A share within deadline counts a case once its deadline was met (in
//! time or late), has passed unmet, or was missed before a withdrawal; a case still inside its
//! deadline is not yet measured. Medians are the lower middle value and p90 the nearest rank,
//! so every time shown was observed in some case.

use std::collections::BTreeMap;

use detente_domain::{Agreement, Case, Deadlines, MilestoneState};
use detente_protocol::{DeclineReason, PartyId, Priority, RequestKind, Timestamp};
use serde::Serialize;

use crate::{
    Durations, Fraction, Mean,
    delivery::{self, Sent, Transit},
    stats::{AGE_BUCKET_LABELS, RESPONSE_BUCKET_LABELS, age_bucket, response_bucket},
    view,
};

/// The figures for one set of requests (overall, one direction, or one kind, category or
/// priority within it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Requests filed in the period.
    pub filed: u64,
    /// Of those, acknowledged before `as_of` (any first reply counts).
    pub acknowledged: u64,
    /// Of those, answered partially and finally.
    pub answered: Answered,
    /// Of those, declined, by reason.
    pub declined: Declined,
    /// Of those, withdrawn by the requester.
    pub withdrawn: u64,
    /// Responder time to acknowledge, of those acknowledged.
    pub time_to_acknowledge: Durations,
    /// Responder time to the first answer (partial, final or decline), pauses excluded.
    pub time_to_first_answer: Durations,
    /// Responder time to the final answer or decline, pauses excluded.
    pub time_to_final_answer: Durations,
    /// Shares met within each deadline, of those measured.
    pub within_deadline: WithinDeadline,
    /// Clarification rounds and the time they paused the responder's clock.
    pub clarification: Clarification,
    /// The requesters' ratings of final answers.
    pub quality: Quality,
    /// Of those filed, the ones still awaiting the responder at `as_of`.
    pub pending: Pending,
    /// The backlog at the period's edges (includes cases filed earlier).
    pub at_end: Backlog,
}

/// The requests filed in the period that are still open at the review's instant: what a
/// review taken after the period's end shows as pending rather than leaving out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Pending {
    /// Still awaiting the responder (sent, acknowledged, partially answered, or waiting for
    /// a clarification).
    pub open: u64,
    /// Of those, past a deadline they have not met.
    pub overdue: u64,
    /// Age (wall time since filing) at the review's instant.
    pub age: Durations,
}

/// Answers given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Answered {
    /// Requests that received at least one partial answer.
    pub partially: u64,
    /// Requests that received their final answer (declines not included).
    pub finally: u64,
}

/// Declines, in total and by reason (reasons with none are left out).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Declined {
    /// All declines.
    pub total: u64,
    /// Per reason code, in the order the protocol lists them.
    pub by_reason: BTreeMap<DeclineReason, u64>,
}

/// Shares within each deadline of the agreement, for the request's priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct WithinDeadline {
    /// Acknowledgement deadline.
    pub acknowledge: Fraction,
    /// First-answer deadline.
    pub first_answer: Fraction,
    /// Final-answer deadline.
    pub final_answer: Fraction,
}

/// Clarification rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Clarification {
    /// Clarification requests, over all requests.
    pub rounds: u64,
    /// Requests with at least one.
    pub requests: u64,
    /// Paused time per request with at least one round.
    pub paused: Durations,
    /// Paused time over all requests.
    pub paused_total_ms: i64,
}

/// Ratings of final answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Quality {
    /// How many ratings of 1, 2, 3, 4 and 5 (index 0 is a rating of 1).
    pub ratings: [u64; 5],
    /// Mean rating.
    pub mean: Mean,
    /// Final answers rated, of final answers given.
    pub rated: Fraction,
}

/// The backlog: requests open at the start and at the end of the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Backlog {
    /// Requests filed before the period and open at its start.
    pub open_at_start: u64,
    /// Requests open at the end (filed in the period or before).
    pub open: u64,
    /// Of those, filed before the period.
    pub carried_over: u64,
    /// Of those, past an unmet deadline at the end.
    pub overdue: u64,
    /// Age (wall time since filing) of the open requests at the end.
    pub age: Durations,
    /// Age of the overdue requests at the end.
    pub overdue_age: Durations,
}

/// Histograms for the charts; bucket labels are in [`Buckets`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Distribution {
    /// Times to acknowledge per response-time bucket.
    pub time_to_acknowledge: [u64; 9],
    /// Times to first answer per response-time bucket.
    pub time_to_first_answer: [u64; 9],
    /// Times to final answer per response-time bucket.
    pub time_to_final_answer: [u64; 9],
    /// Requests open at the end per age bucket.
    pub open_age: [u64; 5],
    /// Requests overdue at the end per age bucket.
    pub overdue_age: [u64; 5],
}

/// The labels of the histogram buckets, stated once in each review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Buckets {
    /// Response-time buckets; upper bounds inclusive.
    pub response_time: [&'static str; 9],
    /// Age buckets; upper bounds exclusive.
    pub age: [&'static str; 5],
}

impl Default for Buckets {
    fn default() -> Self {
        Self {
            response_time: RESPONSE_BUCKET_LABELS,
            age: AGE_BUCKET_LABELS,
        }
    }
}

/// The figures of one value of a breakdown (a kind, category or priority).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// The kind, category or priority, by its wire name.
    pub value: String,
    /// Its figures.
    pub figures: Figures,
}

/// A set of requests with its breakdowns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    /// The figures of the whole set.
    pub figures: Figures,
    /// Its histograms.
    pub distribution: Distribution,
    /// By request kind, in the protocol's order.
    pub by_kind: Vec<Group>,
    /// By category, alphabetically.
    pub by_category: Vec<Group>,
    /// By priority, most urgent first.
    pub by_priority: Vec<Group>,
}

/// The section of one direction: requests filed by `requester` to `responder`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectionSection {
    /// The party that filed the requests.
    pub requester: PartyId,
    /// The party asked to respond.
    pub responder: PartyId,
    /// Its figures and breakdowns.
    #[serde(flatten)]
    pub section: Section,
    /// How long its messages took to arrive, each way.
    pub transit: Transit,
}

/// Overall and per-direction sections of one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PeriodFigures {
    pub overall: Section,
    pub directions: Vec<DirectionSection>,
}

/// Where a case sits in the breakdowns: dense indices into the [`Universe`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Coords {
    dir: u16,
    kind: u8,
    category: u16,
    priority: u8,
}

/// Whether a milestone counts in a share, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    /// Not measured (still inside its deadline, or moot).
    NotYet,
    /// Met within the deadline.
    InTime,
    /// Met late, or still unmet past the deadline.
    Missed,
}

/// What one filed request contributes to the figures.
#[derive(Debug, Clone, Copy)]
struct Filed {
    at: Coords,
    acknowledged: bool,
    partially: bool,
    finally: bool,
    decline: Option<DeclineReason>,
    withdrawn: bool,
    /// Responder time to each milestone in ms, or [`NOT_MET`]; kept small as there is one
    /// of these per request.
    times: [i64; 3],
    due: [Due; 3],
    rounds: u16,
    paused_ms: i64,
    rating: Option<u8>,
    /// Still open at `as_of`, and overdue then.
    open: bool,
    overdue: bool,
    /// Wall time from filing to `as_of`.
    age_ms: i64,
}

/// In [`Filed::times`]: the milestone was not met. Met times are never negative.
const NOT_MET: i64 = -1;

/// What one request open at an edge of the period contributes.
#[derive(Debug, Clone, Copy)]
struct Held {
    at: Coords,
    open_at_start: bool,
    open_at_end: bool,
    carried_over: bool,
    overdue: bool,
    age_ms: i64,
}

/// The values every breakdown lists, zero or not, so that reviews of different periods have
/// the same shape: the agreement's directions, kinds and categories, plus any met in the
/// cases.
#[derive(Debug, Clone)]
pub(crate) struct Universe {
    pub directions: Vec<(PartyId, PartyId)>,
    kinds: Vec<RequestKind>,
    pub categories: Vec<String>,
    deadlines: [Deadlines; 4],
}

impl Universe {
    /// The universe of `agreement` and `cases`, with each case's place in it (in the order
    /// of `cases`). Each case's strings are read once here, in one pass.
    pub fn new<'c>(
        agreement: &Agreement,
        cases: impl Iterator<Item = &'c Case>,
    ) -> (Self, Vec<Coords>) {
        // Provisional indices in order of discovery, mapped to sorted order at the end; the
        // lists are short (directions, categories), so a linear scan is the fastest lookup.
        let mut directions: Vec<(&PartyId, &PartyId)> = Vec::new();
        for a in &agreement.parties {
            for b in &agreement.parties {
                if a.id != b.id {
                    directions.push((&a.id, &b.id));
                }
            }
        }
        let mut categories: Vec<&str> = agreement
            .terms
            .categories
            .iter()
            .map(String::as_str)
            .collect();
        let mut kinds: std::collections::BTreeSet<RequestKind> =
            agreement.terms.kinds.iter().copied().collect();
        let mut provisional: Vec<(u16, u16, u8, u8)> = Vec::new();
        for c in cases {
            let dir = match directions
                .iter()
                .position(|(a, b)| *a == &c.requester && *b == &c.responder)
            {
                Some(i) => i,
                None => {
                    directions.push((&c.requester, &c.responder));
                    directions.len() - 1
                }
            };
            let category = match categories.iter().position(|x| *x == c.category) {
                Some(i) => i,
                None => {
                    categories.push(&c.category);
                    categories.len() - 1
                }
            };
            kinds.insert(c.kind);
            provisional.push((
                u16::try_from(dir).unwrap_or(u16::MAX),
                u16::try_from(category).unwrap_or(u16::MAX),
                kind_index(c.kind),
                priority_index(c.priority),
            ));
        }
        let rank = |len: usize, order: &dyn Fn(usize, usize) -> std::cmp::Ordering| {
            let mut sorted: Vec<usize> = (0..len).collect();
            sorted.sort_by(|a, b| order(*a, *b));
            let mut rank = vec![0u16; len];
            for (r, i) in sorted.iter().enumerate() {
                rank[*i] = u16::try_from(r).unwrap_or(u16::MAX);
            }
            (sorted, rank)
        };
        let (dir_order, dir_rank) =
            rank(directions.len(), &|a, b| directions[a].cmp(&directions[b]));
        let (cat_order, cat_rank) =
            rank(categories.len(), &|a, b| categories[a].cmp(categories[b]));
        let coords = provisional
            .into_iter()
            .map(|(dir, category, kind, priority)| Coords {
                dir: dir_rank.get(usize::from(dir)).copied().unwrap_or(0),
                kind,
                category: cat_rank.get(usize::from(category)).copied().unwrap_or(0),
                priority,
            })
            .collect();
        let universe = Self {
            directions: dir_order
                .iter()
                .map(|i| (directions[*i].0.clone(), directions[*i].1.clone()))
                .collect(),
            kinds: kinds.into_iter().collect(),
            categories: cat_order
                .iter()
                .map(|i| categories[*i].to_owned())
                .collect(),
            deadlines: Priority::ALL.map(|p| agreement.deadlines(p)),
        };
        (universe, coords)
    }

    fn deadlines(&self, p: Priority) -> &Deadlines {
        &self.deadlines[usize::from(priority_index(p))]
    }
}

fn kind_index(k: RequestKind) -> u8 {
    RequestKind::ALL
        .iter()
        .position(|x| *x == k)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(0)
}

fn priority_index(p: Priority) -> u8 {
    Priority::ALL
        .iter()
        .position(|x| *x == p)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(0)
}

/// The instants a period is measured at.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    /// Start of the period.
    pub start: Timestamp,
    /// End of the period (exclusive).
    pub end: Timestamp,
    /// The cohort's milestones are those officially recorded before this instant.
    pub as_of: Timestamp,
}

impl Window {
    /// Where the backlog is measured: the end of the period, or `as_of` if that is earlier.
    pub fn edge(&self) -> Timestamp {
        self.end.min(self.as_of)
    }
}

/// The observations of one period, before grouping.
pub(crate) struct Observations {
    filed: Vec<Filed>,
    held: Vec<Held>,
    /// Messages officially received in the period.
    sent: Vec<Sent>,
}

/// What a case looked like at the review's instants, for the appendix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CaseOutcome {
    /// Filed in the period (else carried over).
    pub in_period: bool,
    /// Open at the end of the period.
    pub open_at_end: bool,
    /// Overdue at the end of the period.
    pub overdue_at_end: bool,
}

/// Observes every case for `window`; `outcome` hears about each case that appears in the
/// period's figures (filed in it, or open at one of its edges), in input order.
pub(crate) fn observe<'c>(
    universe: &Universe,
    cases: impl Iterator<Item = &'c Case>,
    coords: &[Coords],
    window: Window,
    mut outcome: impl FnMut(usize, CaseOutcome, Option<&Case>),
) -> Observations {
    let edge = window.edge();
    // Reserved for every case at once: the untouched part of a large reservation costs no
    // memory, while growing by doubling would copy and briefly hold both buffers.
    let (lower, upper) = cases.size_hint();
    let n = upper.unwrap_or(lower);
    let mut filed = Vec::with_capacity(n);
    let mut held = Vec::with_capacity(n);
    let mut sent = Vec::new();
    for (i, c) in cases.enumerate() {
        if c.filed_at >= edge {
            continue;
        }
        let Some(at) = coords.get(i).copied() else {
            continue;
        };
        delivery::observe(c, at.dir, window.start, edge, &mut sent);
        let in_period = c.filed_at >= window.start;
        let seen = in_period.then(|| view::as_of(c, window.as_of));
        if let Some(v) = &seen {
            filed.push(observe_filed(v, at, universe.deadlines(c.priority), window));
        }
        let finished = view::finished_at(c);
        let open_at = |t: Timestamp| c.filed_at < t && finished.is_none_or(|f| f >= t);
        let open_at_start = open_at(window.start);
        let open_at_end = open_at(edge);
        let overdue =
            open_at_end && view::as_of(c, edge).is_overdue(universe.deadlines(c.priority), edge);
        if open_at_start || open_at_end {
            held.push(Held {
                at,
                open_at_start,
                open_at_end,
                carried_over: !in_period,
                overdue,
                age_ms: millis(edge.since(c.filed_at)),
            });
        }
        if in_period || open_at_start || open_at_end {
            outcome(
                i,
                CaseOutcome {
                    in_period,
                    open_at_end,
                    overdue_at_end: overdue,
                },
                seen.as_deref(),
            );
        }
    }
    Observations { filed, held, sent }
}

/// What a filed request contributes, from `v`, the case as it stood at `window.as_of`.
fn observe_filed(v: &Case, at: Coords, deadlines: &Deadlines, window: Window) -> Filed {
    let t = v.timeliness(deadlines, window.as_of);
    let time = |m: MilestoneState| match m {
        MilestoneState::Met { elapsed_ms, .. } => elapsed_ms.max(0),
        _ => NOT_MET,
    };
    let due = |m: MilestoneState| match m {
        MilestoneState::Met {
            within_deadline: true,
            ..
        } => Due::InTime,
        m if m.is_missed() => Due::Missed,
        _ => Due::NotYet,
    };
    let milestones = [t.acknowledge, t.first_answer, t.final_answer];
    Filed {
        at,
        acknowledged: v.acknowledged_at.is_some(),
        // A first answer earlier than the final one (or with none yet) was a partial answer.
        partially: match (v.first_answer_at, v.final_answer_at) {
            (Some(_), None) => true,
            (Some(first), Some(last)) => first < last,
            _ => false,
        },
        finally: v.final_answer_at.is_some() && v.decline_reason.is_none(),
        decline: v.decline_reason,
        withdrawn: v.withdrawn_at.is_some(),
        times: milestones.map(time),
        due: milestones.map(due),
        rounds: u16::try_from(v.pauses.len()).unwrap_or(u16::MAX),
        paused_ms: millis(v.paused_until(window.as_of)),
        rating: v.rating,
        open: v.is_open(),
        overdue: v.is_overdue(deadlines, window.as_of),
        age_ms: millis(window.as_of.since(v.filed_at)),
    }
}

fn millis(d: time::Duration) -> i64 {
    i64::try_from(d.whole_milliseconds()).unwrap_or(i64::MAX)
}

/// Reusable buffers for the order statistics of one group at a time.
#[derive(Default)]
struct Scratch {
    times: [Vec<i64>; 3],
    paused: Vec<i64>,
    age: Vec<i64>,
    overdue_age: Vec<i64>,
    pending_age: Vec<i64>,
}

fn figures<'o>(
    filed: impl Iterator<Item = &'o Filed>,
    held: impl Iterator<Item = &'o Held>,
    s: &mut Scratch,
) -> (Figures, Distribution) {
    for v in s.times.iter_mut() {
        v.clear();
    }
    s.paused.clear();
    s.age.clear();
    s.overdue_age.clear();
    s.pending_age.clear();
    let mut f = Figures {
        filed: 0,
        acknowledged: 0,
        answered: Answered::default(),
        declined: Declined::default(),
        withdrawn: 0,
        time_to_acknowledge: Durations::default(),
        time_to_first_answer: Durations::default(),
        time_to_final_answer: Durations::default(),
        within_deadline: WithinDeadline::default(),
        clarification: Clarification::default(),
        quality: Quality::default(),
        pending: Pending::default(),
        at_end: Backlog::default(),
    };
    let mut d = Distribution::default();
    let mut shares = [Fraction::default(); 3];
    for o in filed {
        f.filed += 1;
        f.acknowledged += u64::from(o.acknowledged);
        f.answered.partially += u64::from(o.partially);
        f.answered.finally += u64::from(o.finally);
        f.withdrawn += u64::from(o.withdrawn);
        if let Some(r) = o.decline {
            f.declined.total += 1;
            *f.declined.by_reason.entry(r).or_default() += 1;
        }
        for (i, ms) in o.times.iter().enumerate() {
            if *ms != NOT_MET {
                s.times[i].push(*ms);
            }
            match o.due[i] {
                Due::InTime => {
                    shares[i].part += 1;
                    shares[i].whole += 1;
                }
                Due::Missed => shares[i].whole += 1,
                Due::NotYet => {}
            }
        }
        if o.rounds > 0 {
            f.clarification.rounds += u64::from(o.rounds);
            f.clarification.requests += 1;
            s.paused.push(o.paused_ms);
        }
        f.clarification.paused_total_ms =
            f.clarification.paused_total_ms.saturating_add(o.paused_ms);
        if let Some(r) = o.rating.filter(|r| (1..=5).contains(r)) {
            f.quality.ratings[usize::from(r - 1)] += 1;
            f.quality.mean.sum += u64::from(r);
            f.quality.mean.count += 1;
        }
        if o.open {
            f.pending.open += 1;
            f.pending.overdue += u64::from(o.overdue);
            s.pending_age.push(o.age_ms);
        }
    }
    for h in held {
        f.at_end.open_at_start += u64::from(h.open_at_start);
        if h.open_at_end {
            f.at_end.open += 1;
            f.at_end.carried_over += u64::from(h.carried_over);
            s.age.push(h.age_ms);
            d.open_age[age_bucket(h.age_ms)] += 1;
            if h.overdue {
                f.at_end.overdue += 1;
                s.overdue_age.push(h.age_ms);
                d.overdue_age[age_bucket(h.age_ms)] += 1;
            }
        }
    }
    let hist = |v: &[i64]| {
        let mut h = [0u64; 9];
        for ms in v {
            h[response_bucket(*ms)] += 1;
        }
        h
    };
    d.time_to_acknowledge = hist(&s.times[0]);
    d.time_to_first_answer = hist(&s.times[1]);
    d.time_to_final_answer = hist(&s.times[2]);
    let [ack, first, last] = &mut s.times;
    f.time_to_acknowledge = Durations::of_slice(ack);
    f.time_to_first_answer = Durations::of_slice(first);
    f.time_to_final_answer = Durations::of_slice(last);
    f.clarification.paused = Durations::of_slice(&mut s.paused);
    f.at_end.age = Durations::of_slice(&mut s.age);
    f.at_end.overdue_age = Durations::of_slice(&mut s.overdue_age);
    f.pending.age = Durations::of_slice(&mut s.pending_age);
    f.within_deadline = WithinDeadline {
        acknowledge: shares[0],
        first_answer: shares[1],
        final_answer: shares[2],
    };
    f.quality.rated = Fraction::new(f.quality.mean.count, f.answered.finally);
    (f, d)
}

/// A breakdown dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dim {
    All,
    Kind,
    Category,
    Priority,
}

impl Dim {
    fn value(self, c: &Coords) -> usize {
        match self {
            Self::All => 0,
            Self::Kind => usize::from(c.kind),
            Self::Category => usize::from(c.category),
            Self::Priority => usize::from(c.priority),
        }
    }

    fn size(self, u: &Universe) -> usize {
        match self {
            Self::All => 1,
            Self::Kind => RequestKind::ALL.len(),
            Self::Category => u.categories.len().max(1),
            Self::Priority => Priority::ALL.len(),
        }
    }

    /// The values listed in the breakdown, as (index, wire name).
    fn listed(self, u: &Universe) -> Vec<(usize, String)> {
        match self {
            Self::All => vec![(0, String::new())],
            Self::Kind => u
                .kinds
                .iter()
                .map(|k| (usize::from(kind_index(*k)), k.as_str().to_owned()))
                .collect(),
            Self::Category => u.categories.iter().cloned().enumerate().collect(),
            Self::Priority => Priority::ALL
                .iter()
                .map(|p| (usize::from(priority_index(*p)), p.as_str().to_owned()))
                .collect(),
        }
    }
}

/// Index lists per key: the overall scope is key `v`, direction `d` is `(d + 1) * n + v`.
fn buckets<T>(
    items: &[T],
    coords: impl Fn(&T) -> &Coords,
    dim: Dim,
    n: usize,
    dirs: usize,
) -> Vec<Vec<u32>> {
    let mut out = vec![Vec::new(); n * (dirs + 1)];
    for (i, item) in items.iter().enumerate() {
        let c = coords(item);
        let v = dim.value(c);
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        out[v].push(i);
        out[(usize::from(c.dir) + 1) * n + v].push(i);
    }
    out
}

/// Groups the observations into the overall and per-direction sections; with `breakdowns`
/// false only the section totals are computed (for trends).
pub(crate) fn group(universe: &Universe, obs: &Observations, breakdowns: bool) -> PeriodFigures {
    let dirs = universe.directions.len();
    let mut scratch = Scratch::default();
    let dims: &[Dim] = if breakdowns {
        &[Dim::All, Dim::Kind, Dim::Category, Dim::Priority]
    } else {
        &[Dim::All]
    };
    // results[dim][scope] = groups, scope 0 overall, d + 1 direction d.
    let mut totals: Vec<(Figures, Distribution)> = Vec::new();
    let mut broken: BTreeMap<(usize, usize), Vec<Group>> = BTreeMap::new();
    for (di, dim) in dims.iter().enumerate() {
        let n = dim.size(universe);
        let f = buckets(&obs.filed, |o| &o.at, *dim, n, dirs);
        let h = buckets(&obs.held, |o| &o.at, *dim, n, dirs);
        for scope in 0..=dirs {
            for (v, name) in dim.listed(universe) {
                let key = scope * n + v;
                let (figs, dist) = figures(
                    f[key].iter().map(|i| &obs.filed[*i as usize]),
                    h[key].iter().map(|i| &obs.held[*i as usize]),
                    &mut scratch,
                );
                if *dim == Dim::All {
                    totals.push((figs, dist));
                } else {
                    broken.entry((di, scope)).or_default().push(Group {
                        value: name,
                        figures: figs,
                    });
                }
            }
        }
    }
    let mut take = |di: usize, scope: usize| broken.remove(&(di, scope)).unwrap_or_default();
    let mut sections: Vec<Section> = Vec::with_capacity(dirs + 1);
    for (scope, (figures, distribution)) in totals.into_iter().enumerate() {
        sections.push(Section {
            figures,
            distribution,
            by_kind: take(1, scope),
            by_category: take(2, scope),
            by_priority: take(3, scope),
        });
    }
    let mut sections = sections.into_iter();
    let overall = sections
        .next()
        .unwrap_or_else(|| empty_section(&mut scratch));
    let transits = delivery::group(&obs.sent, dirs);
    let directions = universe
        .directions
        .iter()
        .zip(sections)
        .zip(transits)
        .map(
            |(((requester, responder), section), transit)| DirectionSection {
                requester: requester.clone(),
                responder: responder.clone(),
                section,
                transit,
            },
        )
        .collect();
    PeriodFigures {
        overall,
        directions,
    }
}

fn empty_section(s: &mut Scratch) -> Section {
    let (figures, distribution) = figures(std::iter::empty(), std::iter::empty(), s);
    Section {
        figures,
        distribution,
        by_kind: Vec::new(),
        by_category: Vec::new(),
        by_priority: Vec::new(),
    }
}
