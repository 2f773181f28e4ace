//! Values the operator types. Closed sets are read in their one wire spelling, listed in
//! `--help` and named when a typo is refused. Instants are read leniently where the wire is
//! strict: the API and every signed message take one form (`2026-11-27T00:00:00.000Z`), but
//! a person writing `2026-11-27T00:00:00Z` or `2026-11-27T01:00:00+01:00` means the same
//! instant.

use detente_api::CaseState;
use detente_protocol::{DeclineReason, Priority, RequestKind, Timestamp, Tlp};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// A closed set of the protocol read from the command line in its one wire spelling, with
/// every value listed in `--help` and named when a typo is refused.
#[derive(Clone)]
pub struct Wire<T: 'static> {
    all: &'static [T],
    name: fn(T) -> &'static str,
    parse: fn(&str) -> Option<T>,
}

impl<T: Copy + Send + Sync + 'static> clap::builder::TypedValueParser for Wire<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        use clap::error::{ContextKind, ContextValue, ErrorKind};
        let text = value.to_string_lossy();
        (self.parse)(&text).ok_or_else(|| {
            let mut err = clap::Error::new(ErrorKind::InvalidValue).with_cmd(cmd);
            if let Some(arg) = arg {
                err.insert(
                    ContextKind::InvalidArg,
                    ContextValue::String(arg.to_string()),
                );
            }
            err.insert(
                ContextKind::InvalidValue,
                ContextValue::String(text.into_owned()),
            );
            err.insert(
                ContextKind::ValidValue,
                ContextValue::Strings(
                    self.all
                        .iter()
                        .map(|v| (self.name)(*v).to_owned())
                        .collect(),
                ),
            );
            err
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            self.all
                .iter()
                .map(|v| clap::builder::PossibleValue::new((self.name)(*v))),
        ))
    }
}

/// `--status`.
pub const STATE: Wire<CaseState> = Wire {
    all: CaseState::ALL,
    name: CaseState::as_str,
    parse: |s| s.parse().ok(),
};

/// `--kind`.
pub const KIND: Wire<RequestKind> = Wire {
    all: &RequestKind::ALL,
    name: RequestKind::as_str,
    parse: |s| s.parse().ok(),
};

/// `--priority`.
pub const PRIORITY: Wire<Priority> = Wire {
    all: &Priority::ALL,
    name: Priority::as_str,
    parse: |s| s.parse().ok(),
};

/// `--tlp`: the wire name, or FIRST's label (`TLP:AMBER`) as documents write it.
pub const TLP: Wire<Tlp> = Wire {
    all: &Tlp::ALL,
    name: Tlp::as_str,
    parse: |s| s.parse().ok(),
};

/// `--reason`: the wire name; `no-jurisdiction`, as earlier versions spelled it, still reads.
pub const REASON: Wire<DeclineReason> = Wire {
    all: &DeclineReason::ALL,
    name: DeclineReason::as_str,
    parse: |s| s.replace('-', "_").parse().ok(),
};

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
