//! STIX timestamps: RFC 3339 in UTC with a literal `Z` and any sub-second precision.
//!
//! The text is kept as received, because precision is meaningful in STIX (`created` and
//! `modified` must carry at least milliseconds) and a re-export should not change it. Equality
//! and order are by instant, so `…00Z` and `…00.000Z` are the same time.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a STIX timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.fraction]Z): {reason}")]
pub struct TimestampError {
    /// The rejected text (cut to 64 characters).
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// A point in time as STIX writes it, for example `2016-05-12T08:17:27.000Z`.
#[derive(Debug, Clone)]
pub struct Timestamp {
    unix_nanos: i128,
    text: Box<str>,
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z` with a real calendar date (leap years checked).
    ///
    /// A leap second (`:60`) is accepted, as the STIX schema allows, and counts as the first
    /// instant of the next minute.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let fail = |reason| TimestampError {
            text: text.chars().take(64).collect(),
            reason,
        };
        let b = text.as_bytes();
        if b.len() < 20 {
            return Err(fail("too short"));
        }
        if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return Err(fail(
                "separators must be `-`, `T` and `:` at their fixed places",
            ));
        }
        let num = |r: std::ops::Range<usize>| -> Result<i64, TimestampError> {
            let mut n = 0i64;
            for &c in &b[r] {
                if !c.is_ascii_digit() {
                    return Err(fail("date and time fields must be decimal digits"));
                }
                n = n * 10 + i64::from(c - b'0');
            }
            Ok(n)
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month) {
            return Err(fail("month out of range"));
        }
        if day < 1 || day > days_in_month(year, month) {
            return Err(fail("no such day in that month"));
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(fail("time of day out of range"));
        }
        let rest = &b[19..];
        let frac_nanos = match rest {
            [b'Z'] => 0,
            [b'.', digits @ .., b'Z'] => {
                if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                    return Err(fail("the fraction of a second must be one or more digits"));
                }
                let mut n = 0i128;
                for (i, &d) in digits.iter().enumerate() {
                    if i < 9 {
                        n = n * 10 + i128::from(d - b'0');
                    }
                }
                for _ in digits.len()..9 {
                    n *= 10;
                }
                n
            }
            _ if rest.last() != Some(&b'Z') => {
                return Err(fail("the time zone must be the literal `Z` (UTC)"));
            }
            _ => return Err(fail("unexpected characters after the seconds")),
        };
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3_600 + minute * 60 + second;
        Ok(Self {
            unix_nanos: i128::from(secs) * 1_000_000_000 + frac_nanos,
            text: text.into(),
        })
    }

    /// The timestamp `secs` seconds after the Unix epoch, written with milliseconds (`.000Z`).
    ///
    /// Returns `None` outside the years 0000–9999, which STIX cannot write.
    pub fn from_unix_seconds(secs: i64) -> Option<Self> {
        Self::from_unix_millis(secs.checked_mul(1000)?)
    }

    /// The timestamp `ms` milliseconds after the Unix epoch, written with milliseconds.
    ///
    /// Returns `None` outside the years 0000–9999, which STIX cannot write.
    pub fn from_unix_millis(ms: i64) -> Option<Self> {
        Self::from_unix_fraction(ms, 1000)
    }

    /// The timestamp `us` microseconds after the Unix epoch, written with microseconds (TAXII
    /// `date_added` values carry that precision so that they order the objects of one second).
    ///
    /// Returns `None` outside the years 0000–9999, which STIX cannot write.
    pub fn from_unix_micros(us: i64) -> Option<Self> {
        Self::from_unix_fraction(us, 1_000_000)
    }

    /// `units` units of `1/per_second` s after the epoch; `per_second` is 1000 or 1,000,000.
    fn from_unix_fraction(units: i64, per_second: i64) -> Option<Self> {
        let secs = units.div_euclid(per_second);
        let frac = units.rem_euclid(per_second);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        if !(0..=9999).contains(&y) {
            return None;
        }
        let width = if per_second == 1000 { 3 } else { 6 };
        let text = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:0width$}Z",
            sod / 3600,
            sod / 60 % 60,
            sod % 60
        );
        Some(Self {
            unix_nanos: i128::from(units) * i128::from(1_000_000_000 / per_second),
            text: text.into(),
        })
    }

    /// Microseconds since the Unix epoch, the precision detente stores versions at.
    pub fn unix_micros(&self) -> i64 {
        i64::try_from(self.unix_nanos.div_euclid(1000))
            .expect("years 0000-9999 are within ±2^63 microseconds")
    }

    /// Nanoseconds since the Unix epoch (digits beyond nanoseconds are ignored).
    pub fn unix_nanos(&self) -> i128 {
        self.unix_nanos
    }

    /// The text as received.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the text carries at least millisecond precision, as STIX requires of
    /// `created` and `modified`.
    pub fn has_millisecond_precision(&self) -> bool {
        let b = self.text.as_bytes();
        b.len() >= 24 && b[19] == b'.'
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.unix_nanos == other.unix_nanos
    }
}

impl Eq for Timestamp {}

impl Hash for Timestamp {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.unix_nanos.hash(state);
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        self.unix_nanos.cmp(&other.unix_nanos)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn microsecond_timestamps_round_trip() {
        let t = Timestamp::from_unix_micros(1_479_956_645_123_456).unwrap();
        assert_eq!(t.as_str(), "2016-11-24T03:04:05.123456Z");
        assert_eq!(t.unix_micros(), 1_479_956_645_123_456);
        assert_eq!(Timestamp::parse(t.as_str()).unwrap(), t);
    }

    #[test]
    fn the_unix_epoch_is_zero() {
        assert_eq!(
            Timestamp::parse("1970-01-01T00:00:00Z")
                .unwrap()
                .unix_nanos(),
            0
        );
    }

    #[test]
    fn precision_is_kept_in_the_text_but_not_in_equality() {
        let a = Timestamp::parse("2016-05-12T08:17:27Z").unwrap();
        let b = Timestamp::parse("2016-05-12T08:17:27.000Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "2016-05-12T08:17:27Z");
        assert!(!a.has_millisecond_precision());
        assert!(b.has_millisecond_precision());
    }

    #[test]
    fn fractions_of_any_length_order_correctly() {
        let a = Timestamp::parse("2014-10-31T15:52:13.127Z").unwrap();
        let b = Timestamp::parse("2014-10-31T15:52:13.127931Z").unwrap();
        assert!(a < b);
        assert_eq!(b.unix_nanos() - a.unix_nanos(), 931_000);
    }

    #[test]
    fn impossible_dates_and_offsets_are_rejected() {
        for bad in [
            "2021-02-29T00:00:00Z",
            "2020-13-01T00:00:00Z",
            "2020-01-01T24:00:00Z",
            "2020-01-01T00:00:00+01:00",
            "2020-01-01T00:00:00",
            "2020-01-01 00:00:00Z",
            "2020-01-01T00:00:00.Z",
            "2020-1-01T00:00:00Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad} was accepted");
        }
        assert!(Timestamp::parse("2020-02-29T23:59:60.5Z").is_ok());
    }

    #[test]
    fn unix_seconds_format_back_to_the_same_instant() {
        let t = Timestamp::from_unix_seconds(1_472_548_231).unwrap();
        assert_eq!(t.as_str(), "2016-08-30T09:10:31.000Z");
        assert_eq!(Timestamp::parse(t.as_str()).unwrap(), t);
        let early = Timestamp::from_unix_millis(-1).unwrap();
        assert_eq!(early.as_str(), "1969-12-31T23:59:59.999Z");
    }
}
