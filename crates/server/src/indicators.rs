//! Who reads indicators, for every read path (API, TAXII, exports): one place turns "this
//! node's own user" or "partner party P" into the [`ReadAs`] the store filters with, using the
//! agreement for community membership and the configured default for unmarked objects.

use detente_domain::Agreement;
use detente_protocol::PartyId;
use detente_stix::{AccessRule, Reader};
use detente_store::ReadAs;

use crate::config::NodeConfig;

/// Whom a read is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// This node's own users (API token, local CLI).
    Local,
    /// A partner party (TAXII user, partner node, or an export made for that party).
    Party(PartyId),
    /// Nobody in particular: TLP:CLEAR only (a public export).
    Anyone,
}

/// The access rule with the configured default for unmarked objects.
pub fn access_rule(config: &NodeConfig) -> AccessRule {
    AccessRule {
        default_level: config.indicators.default_tlp,
    }
}

/// The store's view of `audience` reading on the node `config` describes; without an
/// agreement no partner is in the community.
pub fn read_as<'a>(
    config: &'a NodeConfig,
    agreement: Option<&Agreement>,
    audience: &'a Audience,
) -> ReadAs<'a> {
    let reader = match audience {
        Audience::Local => Reader::Local {
            party: config.party.as_str(),
        },
        Audience::Party(p) => Reader::Party {
            party: p.as_str(),
            in_community: agreement.is_some_and(|a| a.party(p).is_some()),
        },
        Audience::Anyone => Reader::Anyone,
    };
    ReadAs {
        reader,
        rule: access_rule(config),
    }
}
