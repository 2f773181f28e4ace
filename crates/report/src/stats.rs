//! Deterministic summary statistics: order statistics of durations, fractions and means kept
//! as integers, and the fixed buckets of the charts.
//!
//! Every figure the review prints must come out byte-identical on both parties' nodes and on
//! an auditor's machine, so nothing here averages floats: medians and percentiles are observed
//! values, fractions carry their numerator and denominator, and the one decimal shown is
//! computed from integers with round-half-up.

use detente_domain::MilestoneState;
use serde::{Serialize, Serializer, ser::SerializeStruct};

/// Summary statistics of a set of durations, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Durations {
    /// How many.
    pub count: usize,
    /// The median; for an even count the lower of the two middle values, so it is always an
    /// observed value and identical everywhere.
    pub median_ms: Option<i64>,
    /// The 90th percentile (nearest rank: the value at rank ⌈0.9·n⌉ of the sorted values).
    pub p90_ms: Option<i64>,
    /// The largest.
    pub max_ms: Option<i64>,
}

impl Durations {
    /// The statistics of `values`.
    pub fn of(mut values: Vec<i64>) -> Self {
        Self::of_slice(&mut values)
    }

    /// The statistics of `values`, which are reordered (selection, not a full sort).
    pub fn of_slice(values: &mut [i64]) -> Self {
        let n = values.len();
        if n == 0 {
            return Self::default();
        }
        let rank90 = (n * 90).div_ceil(100).max(1) - 1;
        let rank50 = (n - 1) / 2;
        let (_, p90, right) = values.select_nth_unstable(rank90);
        let p90 = *p90;
        let max = right.iter().copied().max().unwrap_or(p90).max(p90);
        let median = if rank50 == rank90 {
            p90
        } else {
            *values[..rank90].select_nth_unstable(rank50).1
        };
        Self {
            count: n,
            median_ms: Some(median),
            p90_ms: Some(p90),
            max_ms: Some(max),
        }
    }
}

/// `met` of `due` cases, where `due` counts cases whose deadline was met or has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Share {
    /// Met within the deadline.
    pub met: usize,
    /// Measured: met (in time or late) plus pending past their deadline.
    pub due: usize,
}

impl Share {
    /// The share as a fraction, if anything was due.
    pub fn ratio(self) -> Option<f64> {
        (self.due > 0).then(|| self.met as f64 / self.due as f64)
    }

    pub(crate) fn count(&mut self, m: MilestoneState) {
        match m {
            MilestoneState::Met {
                within_deadline, ..
            } => {
                self.due += 1;
                self.met += usize::from(within_deadline);
            }
            MilestoneState::Pending { overdue: true, .. } | MilestoneState::Missed { .. } => {
                self.due += 1;
            }
            MilestoneState::Pending { .. } | MilestoneState::Moot => {}
        }
    }
}

/// `part` of `whole`, kept as integers; serialised with `percent`, rounded half up to one
/// decimal (`null` when `whole` is zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fraction {
    /// The cases that meet the condition.
    pub part: u64,
    /// The cases measured.
    pub whole: u64,
}

impl Fraction {
    /// `part` of `whole`.
    pub fn new(part: u64, whole: u64) -> Self {
        Self { part, whole }
    }

    /// Tenths of a percent, rounded half up; `None` when nothing was measured.
    pub fn per_mille(self) -> Option<u64> {
        (self.whole > 0).then(|| round_div(self.part * 1000, self.whole))
    }

    /// The percentage with one decimal, computed from integers so it prints identically
    /// everywhere.
    pub fn percent(self) -> Option<f64> {
        self.per_mille().map(|p| p as f64 / 10.0)
    }
}

impl Serialize for Fraction {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Fraction", 3)?;
        st.serialize_field("part", &self.part)?;
        st.serialize_field("whole", &self.whole)?;
        st.serialize_field("percent", &self.percent())?;
        st.end()
    }
}

/// The mean of ratings 1–5, as a sum and a count; serialised with `mean` to two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mean {
    /// Sum of the values.
    pub sum: u64,
    /// How many values.
    pub count: u64,
}

impl Mean {
    /// The mean in hundredths, rounded half up.
    pub fn hundredths(self) -> Option<u64> {
        (self.count > 0).then(|| round_div(self.sum * 100, self.count))
    }

    /// The mean with two decimals, computed from integers.
    pub fn value(self) -> Option<f64> {
        self.hundredths().map(|h| h as f64 / 100.0)
    }
}

impl Serialize for Mean {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Mean", 3)?;
        st.serialize_field("sum", &self.sum)?;
        st.serialize_field("count", &self.count)?;
        st.serialize_field("mean", &self.value())?;
        st.end()
    }
}

/// `a / b` rounded half up, for `b > 0`.
pub(crate) fn round_div(a: u64, b: u64) -> u64 {
    (2 * a + b) / (2 * b)
}

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Upper bounds (inclusive) of the response-time buckets; the last bucket is open-ended.
pub const RESPONSE_BUCKETS_MS: [i64; 8] = [
    HOUR_MS,
    4 * HOUR_MS,
    DAY_MS,
    3 * DAY_MS,
    7 * DAY_MS,
    14 * DAY_MS,
    30 * DAY_MS,
    60 * DAY_MS,
];

/// Labels of the response-time buckets, one more than [`RESPONSE_BUCKETS_MS`].
pub const RESPONSE_BUCKET_LABELS: [&str; 9] = [
    "≤1h", "1–4h", "4–24h", "1–3d", "3–7d", "7–14d", "14–30d", "30–60d", ">60d",
];

/// Upper bounds (exclusive) of the ageing buckets for open cases; the last is open-ended.
pub const AGE_BUCKETS_MS: [i64; 4] = [7 * DAY_MS, 30 * DAY_MS, 90 * DAY_MS, 180 * DAY_MS];

/// Labels of the ageing buckets, one more than [`AGE_BUCKETS_MS`].
pub const AGE_BUCKET_LABELS: [&str; 5] = ["<7d", "7–30d", "30–90d", "90–180d", "≥180d"];

/// The response-time bucket of `ms`.
pub(crate) fn response_bucket(ms: i64) -> usize {
    RESPONSE_BUCKETS_MS.partition_point(|upper| ms > *upper)
}

/// The ageing bucket of `ms`.
pub(crate) fn age_bucket(ms: i64) -> usize {
    AGE_BUCKETS_MS.partition_point(|upper| ms >= *upper)
}

/// A timestamp in the protocol's one textual form (`2026-01-31T23:59:59.000Z`), written
/// without the general-purpose formatter: the appendix prints millions of them.
pub(crate) struct TimestampText([u8; 24]);

impl TimestampText {
    /// The text of `t`; `None` outside years 0000–9999, which callers print with `Display`.
    pub(crate) fn of(t: detente_protocol::Timestamp) -> Option<Self> {
        let ms = t.unix_millis();
        let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
        // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level
        // Date Algorithms", days_from_civil's inverse).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        if !(0..=9999).contains(&year) {
            return None;
        }
        let mut b = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut v: i64| {
            for i in (at..at + width).rev() {
                b[i] = b'0' + u8::try_from(v % 10).unwrap_or(0);
                v /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, month);
        put(8, 2, day);
        put(11, 2, rem / 3_600_000);
        put(14, 2, rem / 60_000 % 60);
        put(17, 2, rem / 1_000 % 60);
        put(20, 3, rem % 1_000);
        Some(Self(b))
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

/// A case id in its one textual form (`US-2026-0042`), written without the general-purpose
/// formatter, which took a fifth of the time of writing a large appendix.
pub(crate) struct CaseIdText {
    bytes: [u8; 40],
    len: usize,
}

impl CaseIdText {
    /// The text of `id`: the party, the year in four digits, the number in at least four.
    pub(crate) fn of(id: &detente_protocol::CaseId) -> Self {
        let mut t = Self {
            bytes: [0; 40],
            len: 0,
        };
        t.push(id.party().as_str().as_bytes());
        t.push(b"-");
        t.digits(u64::from(id.year()), 4);
        t.push(b"-");
        t.digits(u64::from(id.number()), 4);
        t
    }

    fn push(&mut self, b: &[u8]) {
        // Party codes are at most 16 bytes and numbers at most 10 digits: 32 bytes at most.
        let end = (self.len + b.len()).min(self.bytes.len());
        self.bytes[self.len..end].copy_from_slice(&b[..end - self.len]);
        self.len = end;
    }

    fn digits(&mut self, mut v: u64, at_least: usize) {
        let mut buf = [b'0'; 20];
        let mut i = buf.len();
        while v > 0 || buf.len() - i < at_least {
            i -= 1;
            buf[i] = b'0' + u8::try_from(v % 10).unwrap_or(0);
            v /= 10;
        }
        self.push(&buf[i..]);
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use detente_protocol::Timestamp;

    use super::*;

    #[test]
    fn timestamp_text_matches_the_protocols_display() {
        let mut ms: i64 = -62_167_219_200_000; // 0000-01-01
        let end: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999
        let step = 7_777_777_777_i64 + 123;
        while ms <= end {
            let t = Timestamp::from_unix_millis(ms).expect("in range");
            let text = TimestampText::of(t).expect("years 0000-9999");
            assert_eq!(text.as_str(), t.to_string());
            ms += step;
        }
        for s in [
            "2024-02-29T23:59:59.999Z",
            "2000-03-01T00:00:00.000Z",
            "1969-12-31T23:59:59.999Z",
        ] {
            let t = Timestamp::parse(s).expect("valid");
            assert_eq!(TimestampText::of(t).expect("in range").as_str(), s);
        }
    }

    #[test]
    fn case_id_text_matches_the_protocols_display() {
        for s in [
            "US-2026-0001",
            "CN-1999-0042",
            "ABCDEFGHIJKLMNOP-9999-123456789",
            "GB-2026-12345",
            "A-B-2026-0007",
        ] {
            let id = detente_protocol::CaseId::parse(s).expect(s);
            assert_eq!(CaseIdText::of(&id).as_str(), id.to_string());
        }
    }

    #[test]
    fn the_median_of_an_even_count_is_the_lower_middle_value() {
        let d = Durations::of(vec![40, 10, 30, 20]);
        assert_eq!(d.median_ms, Some(20));
        assert_eq!(d.max_ms, Some(40));
        assert_eq!(d.count, 4);
    }

    #[test]
    fn the_p90_is_the_nearest_rank() {
        let d = Durations::of((1..=10).collect());
        assert_eq!(d.p90_ms, Some(9));
        assert_eq!(Durations::of(vec![7]).p90_ms, Some(7));
        assert_eq!(Durations::of(vec![]).median_ms, None);
        let d = Durations::of((1..=11).rev().collect());
        assert_eq!(
            (d.median_ms, d.p90_ms, d.max_ms),
            (Some(6), Some(10), Some(11))
        );
    }

    #[test]
    fn selection_agrees_with_sorting_on_many_shapes() {
        for n in 1..60_i64 {
            let mut v: Vec<i64> = (0..n).map(|i| (i * 7919) % 61 - 30).collect();
            let d = Durations::of(v.clone());
            v.sort_unstable();
            let n = v.len();
            assert_eq!(d.median_ms, Some(v[(n - 1) / 2]));
            assert_eq!(d.p90_ms, Some(v[(n * 90).div_ceil(100) - 1]));
            assert_eq!(d.max_ms, v.last().copied());
        }
    }

    #[test]
    fn shares_count_met_overdue_and_missed_but_not_pending_in_time_or_moot() {
        let mut s = Share::default();
        let at = Timestamp::from_unix_millis(0).expect("epoch");
        s.count(MilestoneState::Met {
            at,
            elapsed_ms: 1,
            within_deadline: true,
        });
        s.count(MilestoneState::Met {
            at,
            elapsed_ms: 9,
            within_deadline: false,
        });
        s.count(MilestoneState::Pending {
            due: None,
            overdue: true,
        });
        s.count(MilestoneState::Pending {
            due: None,
            overdue: false,
        });
        s.count(MilestoneState::Moot);
        s.count(MilestoneState::Missed { due: at });
        assert_eq!(s, Share { met: 1, due: 4 });
        assert_eq!(Share::default().ratio(), None);
    }

    #[test]
    fn fractions_round_half_up_to_one_decimal() {
        assert_eq!(Fraction::new(2, 3).percent(), Some(66.7));
        assert_eq!(Fraction::new(1, 8).percent(), Some(12.5));
        assert_eq!(Fraction::new(1, 16).percent(), Some(6.3));
        assert_eq!(Fraction::new(0, 0).percent(), None);
        let json = serde_json::to_string(&Fraction::new(5, 6)).expect("serialisable");
        assert_eq!(json, r#"{"part":5,"whole":6,"percent":83.3}"#);
    }

    #[test]
    fn means_are_two_decimals_from_integers() {
        assert_eq!(Mean { sum: 11, count: 3 }.value(), Some(3.67));
        assert_eq!(Mean::default().value(), None);
    }

    #[test]
    fn bucket_bounds_are_inclusive_for_times_and_exclusive_for_ages() {
        assert_eq!(response_bucket(0), 0);
        assert_eq!(response_bucket(HOUR_MS), 0);
        assert_eq!(response_bucket(HOUR_MS + 1), 1);
        assert_eq!(response_bucket(61 * DAY_MS), 8);
        assert_eq!(age_bucket(7 * DAY_MS - 1), 0);
        assert_eq!(age_bucket(7 * DAY_MS), 1);
        assert_eq!(age_bucket(400 * DAY_MS), 4);
    }
}
