//! Review periods: a half-year (`2026-H1`), quarter (`2026-Q3`), month (`2026-05`), ISO week
//! (`2026-W48`), year (`2026`) or an inclusive range of dates (`2026-01-01..2026-06-30`),
//! each a half-open interval of UTC time `[start, end)`.
//!
//! A period prints as it parses, so the label in a review is also the argument that
//! reproduces it. [`Period::previous`] steps back one period of the same kind, for trends.

use std::{fmt, str::FromStr};

use detente_protocol::Timestamp;
use serde::{Serialize, Serializer, ser::SerializeStruct};
use time::{Date, Duration, Month, Weekday, util::weeks_in_year};

/// Why a period could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// The text matches none of the accepted forms.
    #[error(
        "{0:?} is not a period; use 2026-H1, 2026-Q3, 2026-05, 2026-W48, 2026 or 2026-01-01..2026-06-30"
    )]
    Malformed(String),
    /// The form is right but the calendar has no such period (week 53 of a 52-week year,
    /// 30 February, a range that ends before it starts, a year outside 1970-9998).
    #[error("{0:?} is not a period of the calendar: {1}")]
    NoSuchPeriod(String, String),
}

/// What kind of period, with its calendar coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Spec {
    Year(i32),
    Half(i32, u8),
    Quarter(i32, u8),
    Month(i32, Month),
    Week(i32, u8),
    Range,
}

/// A half-open interval of UTC days, `[start, end)`, named by a calendar period or a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    spec: Spec,
    start: Date,
    end: Date,
}

const MIN_YEAR: i32 = 1970;
const MAX_YEAR: i32 = 9998;

impl Period {
    /// Parses one of the forms listed in the module documentation.
    pub fn parse(s: &str) -> Result<Self, PeriodError> {
        let malformed = || PeriodError::Malformed(s.to_owned());
        let no_such = |why: &str| PeriodError::NoSuchPeriod(s.to_owned(), why.to_owned());
        if let Some((a, b)) = s.split_once("..") {
            let start = parse_date(a)
                .ok_or_else(malformed)?
                .map_err(|e| no_such(&e))?;
            let last = parse_date(b)
                .ok_or_else(malformed)?
                .map_err(|e| no_such(&e))?;
            if last < start {
                return Err(no_such("the range ends before it starts"));
            }
            let end = last.next_day().ok_or_else(|| no_such("out of range"))?;
            return Self::checked(Spec::Range, start, end).ok_or_else(|| no_such("out of range"));
        }
        let (year, rest) = match s.split_once('-') {
            Some((y, r)) => (y, Some(r)),
            None => (s, None),
        };
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        let year: i32 = year.parse().map_err(|_| malformed())?;
        let number = |t: &str, len: usize| -> Option<u8> {
            (t.len() == len && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse().ok())
                .flatten()
        };
        let spec = match rest {
            None => Spec::Year(year),
            Some(r) => match r.as_bytes().first() {
                Some(b'H') => Spec::Half(year, number(&r[1..], 1).ok_or_else(malformed)?),
                Some(b'Q') => Spec::Quarter(year, number(&r[1..], 1).ok_or_else(malformed)?),
                Some(b'W') => Spec::Week(year, number(&r[1..], 2).ok_or_else(malformed)?),
                Some(b'0'..=b'9') => {
                    let m = number(r, 2).ok_or_else(malformed)?;
                    Spec::Month(
                        year,
                        Month::try_from(m).map_err(|_| no_such("months are 01 to 12"))?,
                    )
                }
                _ => return Err(malformed()),
            },
        };
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(no_such("years run from 1970 to 9998"));
        }
        match spec {
            Spec::Half(_, h) if !(1..=2).contains(&h) => return Err(no_such("halves are H1, H2")),
            Spec::Quarter(_, q) if !(1..=4).contains(&q) => {
                return Err(no_such("quarters are Q1 to Q4"));
            }
            Spec::Week(y, w) if w == 0 || w > weeks_in_year(y) => {
                return Err(no_such(&format!(
                    "ISO year {y} has weeks W01 to W{}",
                    weeks_in_year(y)
                )));
            }
            _ => {}
        }
        Self::of(spec).ok_or_else(|| no_such("out of range"))
    }

    /// The calendar period `spec`, or `None` outside the supported years.
    fn of(spec: Spec) -> Option<Self> {
        let first = |y: i32, m: Month| Date::from_calendar_date(y, m, 1).ok();
        let month_after = |y: i32, m: Month| {
            if m == Month::December {
                first(y + 1, Month::January)
            } else {
                first(y, m.next())
            }
        };
        let (start, end) = match spec {
            Spec::Year(y) => (first(y, Month::January)?, first(y + 1, Month::January)?),
            Spec::Half(y, h) => {
                let m = if h == 1 { Month::January } else { Month::July };
                let start = first(y, m)?;
                let end = if h == 1 {
                    first(y, Month::July)?
                } else {
                    first(y + 1, Month::January)?
                };
                (start, end)
            }
            Spec::Quarter(y, q) => {
                let m = Month::try_from(3 * (q - 1) + 1).ok()?;
                let last = Month::try_from(3 * q).ok()?;
                (first(y, m)?, month_after(y, last)?)
            }
            Spec::Month(y, m) => (first(y, m)?, month_after(y, m)?),
            Spec::Week(y, w) => {
                let start = Date::from_iso_week_date(y, w, Weekday::Monday).ok()?;
                (start, start.checked_add(Duration::days(7))?)
            }
            Spec::Range => return None,
        };
        Self::checked(spec, start, end)
    }

    fn checked(spec: Spec, start: Date, end: Date) -> Option<Self> {
        (start.year() >= MIN_YEAR && end.year() <= MAX_YEAR + 1 && start < end).then_some(Self {
            spec,
            start,
            end,
        })
    }

    /// The period of the same kind just before this one: the previous half, quarter, month,
    /// ISO week or year; for a range, the range of the same length ending where this starts.
    /// `None` before 1970.
    pub fn previous(&self) -> Option<Self> {
        let spec = match self.spec {
            Spec::Year(y) => Spec::Year(y - 1),
            Spec::Half(y, 1) => Spec::Half(y - 1, 2),
            Spec::Half(y, h) => Spec::Half(y, h - 1),
            Spec::Quarter(y, 1) => Spec::Quarter(y - 1, 4),
            Spec::Quarter(y, q) => Spec::Quarter(y, q - 1),
            Spec::Month(y, Month::January) => Spec::Month(y - 1, Month::December),
            Spec::Month(y, m) => Spec::Month(y, m.previous()),
            Spec::Week(y, 1) => Spec::Week(y - 1, weeks_in_year(y - 1)),
            Spec::Week(y, w) => Spec::Week(y, w - 1),
            Spec::Range => {
                let length = self.end - self.start;
                let start = self.start.checked_sub(length)?;
                return Self::checked(Spec::Range, start, self.start);
            }
        };
        if spec_year(spec) < MIN_YEAR {
            return None;
        }
        Self::of(spec)
    }

    /// The `n` periods before this one, oldest first (fewer if they would start before 1970).
    pub fn previous_n(&self, n: usize) -> Vec<Self> {
        // Grown as it goes, not reserved for `n`: the walk stops at 1970 whatever `n` is.
        let mut out = Vec::new();
        let mut p = *self;
        for _ in 0..n {
            match p.previous() {
                Some(q) => {
                    out.push(q);
                    p = q;
                }
                None => break,
            }
        }
        out.reverse();
        out
    }

    /// The first instant of the period.
    pub fn start(&self) -> Timestamp {
        midnight(self.start)
    }

    /// The first instant after the period.
    pub fn end(&self) -> Timestamp {
        midnight(self.end)
    }

    /// Whether `t` falls in `[start, end)`.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start() <= t && t < self.end()
    }

    /// Whether this is an ISO week (the bulletin's period).
    pub fn is_week(&self) -> bool {
        matches!(self.spec, Spec::Week(..))
    }
}

fn spec_year(spec: Spec) -> i32 {
    match spec {
        Spec::Year(y) | Spec::Half(y, _) | Spec::Quarter(y, _) | Spec::Month(y, _) => y,
        Spec::Week(y, _) => y,
        Spec::Range => MIN_YEAR,
    }
}

fn midnight(d: Date) -> Timestamp {
    Timestamp::from_datetime(d.midnight().assume_utc())
}

/// `Some(Ok(date))`, `Some(Err(why))` for a well-formed date the calendar lacks, or `None`
/// when `s` is not `YYYY-MM-DD`.
fn parse_date(s: &str) -> Option<Result<Date, String>> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    let y: i32 = s[..4].parse().ok()?;
    let m: u8 = s[5..7].parse().ok()?;
    let d: u8 = s[8..].parse().ok()?;
    Some(
        Month::try_from(m)
            .map_err(|e| e.to_string())
            .and_then(|m| Date::from_calendar_date(y, m, d).map_err(|e| e.to_string())),
    )
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.spec {
            Spec::Year(y) => write!(f, "{y:04}"),
            Spec::Half(y, h) => write!(f, "{y:04}-H{h}"),
            Spec::Quarter(y, q) => write!(f, "{y:04}-Q{q}"),
            Spec::Month(y, m) => write!(f, "{y:04}-{:02}", u8::from(m)),
            Spec::Week(y, w) => write!(f, "{y:04}-W{w:02}"),
            Spec::Range => {
                let last = self.end.previous_day().unwrap_or(self.end);
                write!(f, "{}..{}", iso_date(self.start), iso_date(last))
            }
        }
    }
}

fn iso_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

impl FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, PeriodError> {
        Self::parse(s)
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Period", 3)?;
        st.serialize_field("label", &self.to_string())?;
        st.serialize_field("start", &self.start())?;
        st.serialize_field("end", &self.end())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        Period::parse(s).expect(s)
    }

    fn bounds(s: &str) -> (String, String) {
        let p = p(s);
        (p.start().to_string(), p.end().to_string())
    }

    #[test]
    fn halves_quarters_months_and_years_cover_the_calendar() {
        assert_eq!(
            bounds("2026-H1"),
            (
                "2026-01-01T00:00:00.000Z".into(),
                "2026-07-01T00:00:00.000Z".into()
            )
        );
        assert_eq!(bounds("2026-H2").1, "2027-01-01T00:00:00.000Z");
        assert_eq!(
            bounds("2026-Q3"),
            (
                "2026-07-01T00:00:00.000Z".into(),
                "2026-10-01T00:00:00.000Z".into()
            )
        );
        assert_eq!(bounds("2026-Q4").1, "2027-01-01T00:00:00.000Z");
        assert_eq!(bounds("2028-02").1, "2028-03-01T00:00:00.000Z");
        assert_eq!(bounds("2026-12").1, "2027-01-01T00:00:00.000Z");
        assert_eq!(bounds("2026").1, "2027-01-01T00:00:00.000Z");
    }

    #[test]
    fn iso_weeks_start_on_monday_and_may_straddle_years() {
        // 2026-W48 is Monday 23 November to Sunday 29 November.
        assert_eq!(
            bounds("2026-W48"),
            (
                "2026-11-23T00:00:00.000Z".into(),
                "2026-11-30T00:00:00.000Z".into()
            )
        );
        // ISO week 1 is the week of the year's first Thursday, 1 January 2026, so 2026-W01
        // starts on Monday 29 December 2025.
        assert_eq!(bounds("2026-W01").0, "2025-12-29T00:00:00.000Z");
        // 2026 has 53 ISO weeks; 2027 has 52.
        assert!(Period::parse("2026-W53").is_ok());
        assert!(matches!(
            Period::parse("2027-W53"),
            Err(PeriodError::NoSuchPeriod(..))
        ));
    }

    #[test]
    fn a_date_range_includes_both_of_its_days() {
        assert_eq!(bounds("2026-01-01..2026-06-30"), bounds("2026-H1"));
        assert_eq!(
            bounds("2026-03-05..2026-03-05").1,
            "2026-03-06T00:00:00.000Z"
        );
    }

    #[test]
    fn periods_print_as_they_parse() {
        for s in [
            "2026-H1",
            "2026-H2",
            "2026-Q3",
            "2026-05",
            "2026-W48",
            "2026-W01",
            "2026",
            "2026-01-01..2026-06-30",
        ] {
            assert_eq!(p(s).to_string(), s);
            assert_eq!(s.parse::<Period>().expect(s), p(s));
        }
    }

    #[test]
    fn malformed_or_impossible_periods_are_refused() {
        for s in [
            "",
            "2026-H",
            "2026-H01",
            "26-H1",
            "2026-h1",
            "2026-Q",
            "2026-W4",
            "2026-5",
            "2026-05-01",
            "2026-01-01..",
            "..2026-01-01",
            "2026-1-1..2026-2-1",
            " 2026-H1",
        ] {
            assert!(
                matches!(Period::parse(s), Err(PeriodError::Malformed(_))),
                "{s:?} was not refused as malformed"
            );
        }
        for s in [
            "2026-H3",
            "2026-Q0",
            "2026-Q5",
            "2026-W00",
            "2026-13",
            "2026-00",
            "2026-02-30..2026-03-01",
            "2026-06-30..2026-01-01",
            "1969-H1",
        ] {
            assert!(
                matches!(Period::parse(s), Err(PeriodError::NoSuchPeriod(..))),
                "{s:?} was not refused as impossible"
            );
        }
    }

    #[test]
    fn previous_steps_back_one_period_of_the_same_kind() {
        let prev = |s: &str| p(s).previous().expect("has a previous").to_string();
        assert_eq!(prev("2026-H1"), "2025-H2");
        assert_eq!(prev("2026-H2"), "2026-H1");
        assert_eq!(prev("2026-Q1"), "2025-Q4");
        assert_eq!(prev("2026-Q3"), "2026-Q2");
        assert_eq!(prev("2026-01"), "2025-12");
        assert_eq!(prev("2026-W01"), "2025-W52");
        assert_eq!(prev("2027-W01"), "2026-W53");
        assert_eq!(prev("2026-W48"), "2026-W47");
        assert_eq!(prev("2026"), "2025");
        assert_eq!(prev("2026-03-11..2026-03-20"), "2026-03-01..2026-03-10");
        assert_eq!(Period::parse("1970-H1").expect("valid").previous(), None);
    }

    #[test]
    fn previous_n_lists_oldest_first_and_adjacent() {
        let list = p("2026-H1").previous_n(3);
        let labels: Vec<String> = list.iter().map(ToString::to_string).collect();
        assert_eq!(labels, ["2024-H2", "2025-H1", "2025-H2"]);
        for w in list.windows(2) {
            assert_eq!(w[0].end(), w[1].start());
        }
        assert_eq!(p("1970-H2").previous_n(5).len(), 1);
    }

    #[test]
    fn a_period_contains_its_start_but_not_its_end() {
        let h1 = p("2026-H1");
        assert!(h1.contains(h1.start()));
        assert!(!h1.contains(h1.end()));
        let json = serde_json::to_string(&h1).expect("serialisable");
        assert_eq!(
            json,
            r#"{"label":"2026-H1","start":"2026-01-01T00:00:00.000Z","end":"2026-07-01T00:00:00.000Z"}"#
        );
    }
}
