//! The names users and agencies go by: short, printable, and the same in the CLI, the API, the
//! console and the trail, so a name can be typed, compared and logged without escaping.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::PeopleError;

/// Checks `s` against the one form both names share ([`detente_protocol::is_short_name`]): an
/// agency's name travels in envelopes, so the wire's rule is the rule.
fn check(s: &str, what: &str, max: usize) -> Result<(), PeopleError> {
    if detente_protocol::is_short_name(s, max) {
        Ok(())
    } else {
        Err(PeopleError::Invalid(format!(
            "{what} {s:?} must be 1 to {max} characters of a-z, 0-9, '.', '_' and '-', \
             starting with a letter or digit"
        )))
    }
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses a name.
            pub fn parse(s: &str) -> Result<Self, PeopleError> {
                check(s, $what, $max)?;
                Ok(Self(s.to_owned()))
            }

            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = PeopleError;
            fn from_str(s: &str) -> Result<Self, PeopleError> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = PeopleError;
            fn try_from(s: String) -> Result<Self, PeopleError> {
                check(&s, $what, $max)?;
                Ok(Self(s))
            }
        }

        impl From<$name> for String {
            fn from(n: $name) -> String {
                n.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// A user's sign-in name, e.g. `j.smith`.
    UserName,
    "user name",
    64
);

name_type!(
    /// An agency (organisational unit) of this party, e.g. `fbi` or `mps`. It is what
    /// outgoing envelopes name as the acting body, so it stays short.
    AgencyId,
    "agency id",
    detente_protocol::MAX_AGENCY
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_the_shared_form_are_taken() {
        for s in ["j.smith", "a", "ops-2", "x_y", "0day"] {
            assert_eq!(UserName::parse(s).unwrap().as_str(), s);
        }
        assert_eq!(AgencyId::parse("fbi").unwrap().to_string(), "fbi");
    }

    #[test]
    fn names_outside_the_shared_form_are_refused_with_the_rule() {
        for s in [
            "",
            "J.Smith",
            ".hidden",
            "-x",
            "a b",
            "é",
            "a\u{202e}b",
            "x\n",
        ] {
            let e = UserName::parse(s).unwrap_err();
            assert!(e.to_string().contains("a-z, 0-9"), "{s:?}: {e}");
        }
        assert!(UserName::parse(&"a".repeat(65)).is_err());
        assert!(AgencyId::parse(&"a".repeat(33)).is_err());
        assert!(AgencyId::parse(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn a_name_read_from_json_is_checked() {
        let ok: UserName = serde_json::from_str("\"ok.name\"").unwrap();
        assert_eq!(ok.as_str(), "ok.name");
        let bad = serde_json::from_str::<UserName>("\"Bad Name\"").unwrap_err();
        assert!(bad.to_string().contains("a-z, 0-9"), "{bad}");
    }
}
