//! The roles a user can hold. What each may do is in [`crate::permission`], nowhere else.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::PeopleError;

/// A role. A user holds one or more; an API token carries a subset of its user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the node: users, agencies, the agreement, keys; may act on every case.
    Admin,
    /// Files, acknowledges, clarifies, answers, declines, withdraws and rates the cases of
    /// the user's agency.
    Liaison,
    /// Reads the cases of the user's agency, works the indicators, runs matches and drafts
    /// answers for a liaison to send.
    Analyst,
    /// Reads everything the twice-yearly review needs, the log and the trail; changes nothing.
    Reviewer,
    /// A company or other body reporting incidents in (reserved for intake).
    Stakeholder,
}

impl Role {
    /// Every role, in the order tables list them.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Liaison,
        Role::Analyst,
        Role::Reviewer,
        Role::Stakeholder,
    ];

    /// The role's name on the wire, in the CLI and in the docs.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Liaison => "liaison",
            Role::Analyst => "analyst",
            Role::Reviewer => "reviewer",
            Role::Stakeholder => "stakeholder",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = PeopleError;

    fn from_str(s: &str) -> Result<Self, PeopleError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                PeopleError::Invalid(format!(
                    "unknown role {s:?}; roles are {}",
                    names.join(", ")
                ))
            })
    }
}

/// A set of roles, stored as one small integer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Roles(u8);

impl Roles {
    /// No role: a user who may do nothing (a disabled set-up, or a token scoped to nothing).
    pub const NONE: Roles = Roles(0);

    /// The set holding exactly `roles`.
    pub fn of(roles: &[Role]) -> Self {
        Roles(roles.iter().fold(0, |bits, r| bits | r.bit()))
    }

    /// Whether the set holds `role`.
    pub fn has(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    /// The roles held by both sets: a token's roles are its scopes within its user's roles,
    /// so taking a role from a user takes it from every token too.
    pub fn and(self, other: Roles) -> Roles {
        Roles(self.0 & other.0)
    }

    /// Whether every role of `self` is in `other`.
    pub fn within(self, other: Roles) -> bool {
        self.0 & !other.0 == 0
    }

    /// The roles held, in [`Role::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |r| self.has(*r))
    }

    /// The set as stored: one bit per role.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// The set from its stored bits; bits of no role are refused.
    pub fn from_bits(bits: u8) -> Result<Self, PeopleError> {
        let all = Roles::of(&Role::ALL).0;
        if bits & !all == 0 {
            Ok(Roles(bits))
        } else {
            Err(PeopleError::Unreadable(format!(
                "role bits {bits:#04x} name no role"
            )))
        }
    }

    /// Parses a comma-separated list, e.g. `liaison,analyst`.
    pub fn parse_list(s: &str) -> Result<Self, PeopleError> {
        let roles = s
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(Role::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Roles::of(&roles))
    }
}

impl fmt::Display for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Role::as_str).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_reads_back_from_its_name() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
        }
    }

    #[test]
    fn an_unknown_role_is_refused_naming_the_roles() {
        let e = "admn".parse::<Role>().unwrap_err().to_string();
        assert!(
            e.contains("admin, liaison, analyst, reviewer, stakeholder"),
            "{e}"
        );
    }

    #[test]
    fn role_sets_round_trip_through_their_bits_and_text() {
        let set = Roles::parse_list("analyst, liaison").unwrap();
        assert!(set.has(Role::Liaison) && set.has(Role::Analyst) && !set.has(Role::Admin));
        assert_eq!(set.to_string(), "liaison,analyst");
        assert_eq!(Roles::from_bits(set.bits()).unwrap(), set);
        assert!(Roles::from_bits(0x80).is_err());
    }

    #[test]
    fn a_token_keeps_only_the_roles_its_user_still_has() {
        let user = Roles::of(&[Role::Liaison]);
        let token = Roles::of(&[Role::Liaison, Role::Admin]);
        assert_eq!(token.and(user), Roles::of(&[Role::Liaison]));
        assert!(!token.within(user));
        assert!(Roles::of(&[Role::Liaison]).within(user));
    }
}
