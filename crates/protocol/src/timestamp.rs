//! Timestamps on the wire: RFC 3339, UTC, exactly millisecond precision.
//!
//! One fixed textual form means the canonical bytes of a message never depend on how a
//! library chose to print a time, so both parties hash and sign identical bytes.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{
    Duration, OffsetDateTime, UtcOffset, format_description::FormatItem, macros::format_description,
};

use crate::ProtocolError;

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// A point in time, UTC, truncated to the millisecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// Truncates `t` to the millisecond and converts it to UTC.
    pub fn from_datetime(t: OffsetDateTime) -> Self {
        let t = t.to_offset(UtcOffset::UTC);
        let millis = t.millisecond();
        Self(
            t.replace_nanosecond(u32::from(millis) * 1_000_000)
                .expect("a whole number of milliseconds is a valid nanosecond value"),
        )
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(self) -> i64 {
        i64::try_from(self.0.unix_timestamp_nanos() / 1_000_000)
            .expect("years 0000-9999 fit in i64 milliseconds")
    }

    /// Builds a timestamp from milliseconds since the Unix epoch.
    pub fn from_unix_millis(ms: i64) -> Result<Self, ProtocolError> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .map(Self)
            .map_err(|e| ProtocolError::bad("timestamp", e.to_string()))
    }

    /// Parses the one accepted form, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub fn parse(s: &str) -> Result<Self, ProtocolError> {
        time::PrimitiveDateTime::parse(s, FORMAT)
            .map(|t| Self(t.assume_utc()))
            .map_err(|_| {
                ProtocolError::bad(
                    "timestamp",
                    format!("{s:?} is not of the form 2026-01-31T23:59:59.000Z"),
                )
            })
    }

    /// The underlying date-time.
    pub fn datetime(self) -> OffsetDateTime {
        self.0
    }

    /// `self + d`, saturating at the representable range.
    #[expect(
        clippy::should_implement_trait,
        reason = "saturating, unlike the overflow-panicking `+` that `std::ops::Add` suggests"
    )]
    pub fn add(self, d: Duration) -> Self {
        Self::from_datetime(self.0.saturating_add(d))
    }

    /// The signed duration `self - earlier`.
    pub fn since(self, earlier: Timestamp) -> Duration {
        self.0 - earlier.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.format(FORMAT).map_err(|_| fmt::Error)?;
        f.write_str(&s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_and_parsing_round_trip() {
        let t = Timestamp::parse("2026-11-27T03:16:20.123Z").expect("valid");
        assert_eq!(t.to_string(), "2026-11-27T03:16:20.123Z");
        assert_eq!(
            Timestamp::from_unix_millis(t.unix_millis()).expect("valid"),
            t
        );
    }

    #[test]
    fn other_textual_forms_are_rejected() {
        for s in [
            "2026-11-27T03:16:20Z",
            "2026-11-27T03:16:20.1234Z",
            "2026-11-27T03:16:20.123+00:00",
            "2026-11-27 03:16:20.123Z",
            "2026-13-27T03:16:20.123Z",
        ] {
            assert!(Timestamp::parse(s).is_err(), "{s} was accepted");
        }
    }

    #[test]
    fn sub_millisecond_precision_is_truncated() {
        let t =
            OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).expect("valid");
        assert_eq!(Timestamp::from_datetime(t).unix_millis(), 1_700_000_000_123);
    }
}
