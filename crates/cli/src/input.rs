//! Values the operator types, read leniently where the wire is strict: the API and every
//! signed message take one timestamp form (`2026-11-27T00:00:00.000Z`), but a person writing
//! `2026-11-27T00:00:00Z` or `2026-11-27T01:00:00+01:00` means the same instant.

use detente_protocol::Timestamp;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// An instant in RFC 3339 (with or without fractional seconds, any offset), or a date alone
/// for its midnight UTC. Finer than a millisecond is refused rather than silently cut.
pub fn parse_instant(s: &str) -> Result<Timestamp, String> {
    if let Ok(t) = Timestamp::parse(s) {
        return Ok(t);
    }
    let t = OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&format!("{s}T00:00:00Z"), &Rfc3339))
        .map_err(|_| {
            format!(
                "{s:?} is not an instant: write it like 2026-11-27T00:00:00Z (or a date, \
                 2026-11-27, for its midnight UTC)"
            )
        })?;
    if t.nanosecond() % 1_000_000 != 0 {
        return Err(format!(
            "{s:?} is finer than a millisecond, the precision of every detente time"
        ));
    }
    Ok(Timestamp::from_datetime(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instant_without_milliseconds_is_the_same_as_with_them() {
        let strict = Timestamp::parse("2026-11-27T00:00:00.000Z").expect("wire form");
        assert_eq!(parse_instant("2026-11-27T00:00:00Z"), Ok(strict));
        assert_eq!(parse_instant("2026-11-27T01:00:00+01:00"), Ok(strict));
        assert_eq!(parse_instant("2026-11-27"), Ok(strict));
        assert_eq!(parse_instant("2026-11-27T00:00:00.000Z"), Ok(strict));
    }

    #[test]
    fn garbage_and_sub_millisecond_instants_are_refused() {
        assert!(parse_instant("yesterday").is_err());
        assert!(parse_instant("2026-11-27T00:00:00.0001Z").is_err());
    }
}
