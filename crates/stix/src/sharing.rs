//! Who stands where towards a stored object: the [`Relation`] the TLP rule decides on, from
//! the reader and the object's [`Sharing`] context.
//!
//! A node holds objects it created or imported itself (origin: its own party) and objects
//! partners shared with it (origin: that partner). Each may name the partner organisation it
//! is shared with (`audience`, for AMBER) and the parties named as recipients (for RED and for
//! handing AMBER+STRICT to one organisation). Every read path (the API, TAXII, exports,
//! answers to partners) computes the relation here and asks [`AccessRule`] for the decision,
//! so the rule lives in one place:
//!
//! | reader                                         | relation              |
//! |------------------------------------------------|-----------------------|
//! | the object's origin, or a named recipient      | named recipient       |
//! | this node's own users, otherwise               | same organisation     |
//! | the partner named as the object's audience     | partner organisation  |
//! | another party of the agreement                 | community             |
//! | anyone else                                    | anyone                |
//!
//! So AMBER+STRICT and RED objects never leave the node unless their recipients are named,
//! and an AMBER object received from one partner is never re-shared with another.

use crate::tlp::{AccessRule, Relation, Tlp};

/// Who is reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader<'a> {
    /// A user of this node (API token, local CLI): inside the organisation that holds the
    /// objects. `party` is this node's own party.
    Local {
        /// This node's party id.
        party: &'a str,
    },
    /// A partner party (a TAXII user or a partner node).
    Party {
        /// The partner's party id.
        party: &'a str,
        /// Whether the partner is a party to this node's agreement.
        in_community: bool,
    },
    /// Someone with no standing: TLP:CLEAR only.
    Anyone,
}

/// Where an object came from and whom it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sharing<'a> {
    /// The party the object came from (this node's own party for local imports).
    pub origin: &'a str,
    /// The partner organisation the object is shared with, if one is named.
    pub audience: Option<&'a str>,
    /// The parties named as recipients.
    pub recipients: &'a [String],
}

impl Sharing<'_> {
    fn names(&self, party: &str) -> bool {
        self.origin == party || self.recipients.iter().any(|r| r == party)
    }
}

impl Reader<'_> {
    /// How this reader stands towards an object shared as `sharing`.
    pub fn relation(&self, sharing: &Sharing<'_>) -> Relation {
        match *self {
            Reader::Local { party } if sharing.names(party) => Relation::NamedRecipient,
            Reader::Local { .. } => Relation::SameOrganisation,
            Reader::Party { party, .. } if sharing.names(party) => Relation::NamedRecipient,
            Reader::Party { party, .. } if sharing.audience == Some(party) => {
                Relation::PartnerOrganisation
            }
            Reader::Party {
                in_community: true, ..
            } => Relation::Community,
            Reader::Party { .. } | Reader::Anyone => Relation::Anyone,
        }
    }

    /// Whether this reader may see an object whose TLP level is `level` (`None`: unmarked,
    /// the rule's default applies) shared as `sharing`.
    pub fn may_read(&self, rule: &AccessRule, level: Option<Tlp>, sharing: &Sharing<'_>) -> bool {
        let level = level.unwrap_or(rule.default_level);
        crate::tlp::permits(level, self.relation(sharing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEVELS: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    fn allowed(reader: Reader<'_>, sharing: &Sharing<'_>) -> Vec<Tlp> {
        let rule = AccessRule::default();
        LEVELS
            .into_iter()
            .filter(|l| reader.may_read(&rule, Some(*l), sharing))
            .collect()
    }

    #[test]
    fn a_partner_sees_our_objects_by_level_and_standing() {
        let none: Vec<String> = vec![];
        let to_cn = Sharing {
            origin: "US",
            audience: Some("CN"),
            recipients: &none,
        };
        let cn = Reader::Party {
            party: "CN",
            in_community: true,
        };
        let gb = Reader::Party {
            party: "GB",
            in_community: true,
        };
        let outsider = Reader::Party {
            party: "FR",
            in_community: false,
        };
        use Tlp::*;
        assert_eq!(allowed(cn, &to_cn), [Clear, Green, Amber]);
        assert_eq!(allowed(gb, &to_cn), [Clear, Green]);
        assert_eq!(allowed(outsider, &to_cn), [Clear]);
        assert_eq!(allowed(Reader::Anyone, &to_cn), [Clear]);
    }

    #[test]
    fn amber_strict_and_red_need_a_named_recipient() {
        let cn_named = vec!["CN".to_owned()];
        let sharing = Sharing {
            origin: "US",
            audience: Some("CN"),
            recipients: &cn_named,
        };
        let cn = Reader::Party {
            party: "CN",
            in_community: true,
        };
        assert_eq!(allowed(cn, &sharing), LEVELS);
    }

    #[test]
    fn objects_received_from_a_partner_are_not_re_shared() {
        let us = vec!["US".to_owned()];
        let from_cn = Sharing {
            origin: "CN",
            audience: None,
            recipients: &us,
        };
        let gb = Reader::Party {
            party: "GB",
            in_community: true,
        };
        use Tlp::*;
        // GREEN may go on to the community; AMBER and stricter stay with the receiver.
        assert_eq!(allowed(gb, &from_cn), [Clear, Green]);
        // The receiving organisation's own users read everything addressed to it.
        assert_eq!(allowed(Reader::Local { party: "US" }, &from_cn), LEVELS);
    }

    #[test]
    fn local_users_see_red_only_when_named() {
        let none: Vec<String> = vec![];
        let from_cn = Sharing {
            origin: "CN",
            audience: None,
            recipients: &none,
        };
        use Tlp::*;
        assert_eq!(
            allowed(Reader::Local { party: "US" }, &from_cn),
            [Clear, Green, Amber, AmberStrict]
        );
    }

    #[test]
    fn unmarked_objects_follow_the_configured_default() {
        let none: Vec<String> = vec![];
        let to_cn = Sharing {
            origin: "US",
            audience: Some("CN"),
            recipients: &none,
        };
        let gb = Reader::Party {
            party: "GB",
            in_community: true,
        };
        assert!(!gb.may_read(&AccessRule::default(), None, &to_cn));
        let green = AccessRule {
            default_level: Tlp::Green,
        };
        assert!(gb.may_read(&green, None, &to_cn));
    }
}
