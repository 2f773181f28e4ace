//! Lengths of time in agreement documents: `90s`, `30m`, `4h`, `7d`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::Duration;

/// A non-negative whole number of seconds, written with one unit suffix.
///
/// It always prints in the largest unit that divides it exactly (`86400s` prints `1d`),
/// so an agreement's canonical form, and therefore its hash, does not depend on spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    seconds: u64,
}

const UNITS: [(char, u64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];

impl Span {
    /// A span of `seconds` seconds.
    pub const fn from_secs(seconds: u64) -> Self {
        Self { seconds }
    }

    /// Parses `<digits><s|m|h|d>`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a span like 90s, 30m, 4h or 7d");
        let unit = s.chars().last().ok_or_else(bad)?;
        let factor = UNITS
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, f)| *f)
            .ok_or_else(bad)?;
        let digits = &s[..s.len() - 1];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: u64 = digits.parse().map_err(|_| bad())?;
        // Ten years is far beyond any deadline and keeps every sum well inside i64.
        let seconds = n
            .checked_mul(factor)
            .filter(|s| *s <= 10 * 366 * 86_400)
            .ok_or_else(bad)?;
        Ok(Self { seconds })
    }

    /// The span in seconds.
    pub fn as_secs(self) -> u64 {
        self.seconds
    }

    /// The span as a `time::Duration`.
    pub fn duration(self) -> Duration {
        Duration::seconds(i64::try_from(self.seconds).expect("spans are capped at ten years"))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (unit, factor) = UNITS
            .iter()
            .find(|(_, f)| self.seconds.is_multiple_of(*f) && self.seconds > 0)
            .copied()
            .unwrap_or(('s', 1));
        write!(f, "{}{unit}", self.seconds / factor)
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_print_in_the_largest_exact_unit() {
        for (input, printed) in [
            ("86400s", "1d"),
            ("90s", "90s"),
            ("120m", "2h"),
            ("0s", "0s"),
            ("7d", "7d"),
        ] {
            assert_eq!(Span::parse(input).expect(input).to_string(), printed);
        }
    }

    #[test]
    fn malformed_spans_are_rejected() {
        for bad in ["", "s", "4", "4w", "-4h", "4.5h", " 4h", "99999999999d"] {
            assert!(Span::parse(bad).is_err(), "{bad}");
        }
    }
}
