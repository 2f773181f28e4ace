//! Event times: when a logged event happened, in microseconds since the Unix epoch.
//!
//! Logs give times as epoch seconds with a fraction (Zeek TSV, `1700000000.123456`), as JSON
//! numbers, or as RFC 3339 strings (Zeek JSON with ISO 8601 timestamps, CSV exports). All of
//! them become one integer so hits compare and sort cheaply; the text form is produced only for
//! output, always UTC with a `Z`, as STIX 2.1 requires of its timestamps.

use std::fmt;

use serde::{Serialize, Serializer};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// Microseconds in a second.
const MICROS: i64 = 1_000_000;
/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z: the years RFC 3339 can write.
const MIN_MICROS: i64 = -62_135_596_800 * MICROS;
const MAX_MICROS: i64 = 253_402_300_800 * MICROS - 1;

/// A point in time, UTC, with microsecond precision (Zeek's own precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventTime(i64);

impl EventTime {
    /// The time `micros` microseconds after the Unix epoch, if RFC 3339 can write it
    /// (years 1 to 9999).
    pub fn from_unix_micros(micros: i64) -> Option<Self> {
        (MIN_MICROS..=MAX_MICROS)
            .contains(&micros)
            .then_some(Self(micros))
    }

    /// Whole seconds since the Unix epoch.
    pub fn from_unix_seconds(seconds: i64) -> Option<Self> {
        seconds.checked_mul(MICROS).and_then(Self::from_unix_micros)
    }

    /// Microseconds since the Unix epoch.
    pub fn unix_micros(self) -> i64 {
        self.0
    }

    /// Parses epoch seconds (`1700000000`, `1700000000.123456`) or RFC 3339
    /// (`2023-11-14T22:13:20.123456Z`). Digits past the microsecond are dropped.
    pub fn parse(text: &[u8]) -> Option<Self> {
        let first = *text.first()?;
        if first.is_ascii_digit() && !text.contains(&b'-') && !text.contains(&b':') {
            Self::parse_epoch(text)
        } else {
            let text = std::str::from_utf8(text).ok()?;
            OffsetDateTime::parse(text, &Rfc3339)
                .ok()
                .map(Self::from_datetime)
        }
    }

    /// Parses epoch seconds with an optional fraction, without going through a float so that
    /// Zeek's six decimals survive exactly.
    fn parse_epoch(text: &[u8]) -> Option<Self> {
        let (whole, fraction) = match memchr::memchr(b'.', text) {
            Some(dot) => (&text[..dot], &text[dot + 1..]),
            None => (text, &[][..]),
        };
        if whole.is_empty() || whole.len() > 12 {
            return None;
        }
        let mut seconds: i64 = 0;
        for &b in whole {
            if !b.is_ascii_digit() {
                return None;
            }
            seconds = seconds * 10 + i64::from(b - b'0');
        }
        let mut micros: i64 = 0;
        for (i, &b) in fraction.iter().enumerate() {
            if !b.is_ascii_digit() {
                return None;
            }
            if i < 6 {
                micros = micros * 10 + i64::from(b - b'0');
            }
        }
        for _ in fraction.len()..6 {
            micros *= 10;
        }
        Self::from_unix_micros(seconds * MICROS + micros)
    }

    /// Seconds since the epoch as a JSON number gives them; rounded to the microsecond.
    pub fn from_epoch_f64(seconds: f64) -> Option<Self> {
        let micros = (seconds * 1e6).round();
        // The range check also rejects NaN and the infinities.
        if (MIN_MICROS as f64..=MAX_MICROS as f64).contains(&micros) {
            Self::from_unix_micros(micros as i64)
        } else {
            None
        }
    }

    /// The time as a `time` value.
    pub fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1000)
            .expect("the constructors keep the value within years 1 to 9999")
    }

    /// Converts a `time` value, dropping digits past the microsecond.
    pub fn from_datetime(t: OffsetDateTime) -> Self {
        let micros = t.unix_timestamp_nanos().div_euclid(1000);
        // Every OffsetDateTime lies within years -9999..=9999; clamp the ones RFC 3339 can't write.
        Self(
            i64::try_from(micros)
                .unwrap_or(MIN_MICROS)
                .clamp(MIN_MICROS, MAX_MICROS),
        )
    }
}

impl fmt::Display for EventTime {
    /// RFC 3339 in UTC: `2023-11-14T22:13:20Z`, or with six fraction digits when the time has a
    /// fraction, so that equal times always print the same.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.to_datetime();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )?;
        let fraction = t.microsecond();
        if fraction != 0 {
            write!(f, ".{fraction:06}")?;
        }
        f.write_str("Z")
    }
}

impl Serialize for EventTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeek_epoch_seconds_keep_all_six_decimals() {
        let t = EventTime::parse(b"1700000000.123456").expect("valid");
        assert_eq!(t.unix_micros(), 1_700_000_000_123_456);
        assert_eq!(t.to_string(), "2023-11-14T22:13:20.123456Z");
    }

    #[test]
    fn short_fractions_are_scaled_and_long_ones_truncated() {
        assert_eq!(
            EventTime::parse(b"1.5").map(EventTime::unix_micros),
            Some(1_500_000)
        );
        assert_eq!(
            EventTime::parse(b"1.1234567").map(EventTime::unix_micros),
            Some(1_123_456)
        );
        assert_eq!(
            EventTime::parse(b"1700000000")
                .map(|t| t.to_string())
                .as_deref(),
            Some("2023-11-14T22:13:20Z")
        );
    }

    #[test]
    fn rfc3339_with_an_offset_is_converted_to_utc() {
        let t = EventTime::parse(b"2023-11-14T23:13:20.5+01:00").expect("valid");
        assert_eq!(t.to_string(), "2023-11-14T22:13:20.500000Z");
    }

    #[test]
    fn garbage_and_out_of_range_times_are_refused() {
        for bad in [
            &b""[..],
            b"-",
            b"abc",
            b"1.2.3",
            b"99999999999999",
            b"12e5",
            b"1.x",
        ] {
            assert_eq!(
                EventTime::parse(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(EventTime::from_epoch_f64(f64::NAN), None);
        assert_eq!(EventTime::from_epoch_f64(1e300), None);
    }

    #[test]
    fn json_float_seconds_round_to_the_microsecond() {
        let t = EventTime::from_epoch_f64(1_700_000_000.123_456).expect("valid");
        assert_eq!(t.unix_micros(), 1_700_000_000_123_456);
    }
}
