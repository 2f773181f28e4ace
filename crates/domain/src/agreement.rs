//! Agreements: who the parties are, which keys speak for them, and the terms they agreed.
//!
//! Both nodes load the same TOML document. Envelopes name the agreement by the SHA-256 of
//! its canonical JSON form (RFC 8785), so a message sent under different terms is refused.

use std::collections::{BTreeMap, BTreeSet};

use detente_protocol::{
    Digest, PartyId, Priority, PublicKey, RequestKind, Timestamp, WIRE_VERSION, WIRE_VERSION_2,
    canonical_bytes,
};
use serde::{Deserialize, Serialize};

use crate::{AgreementError, Span};

/// An agreement between two or more parties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agreement {
    /// Short stable name, e.g. `us-cn-2015`.
    pub id: String,
    /// Human title.
    pub title: String,
    /// The parties; at least two.
    pub parties: Vec<Party>,
    /// What was agreed.
    pub terms: Terms,
    /// When the agreement came into force, if it says: the review marks periods that end
    /// before it as not in force rather than as periods without requests. Left out of the
    /// document (and so of its digest) when absent, so agreements without it keep theirs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_force_from: Option<Timestamp>,
    /// The wire version both parties seal envelopes in: 1 (the body inside the signed
    /// envelope) or 2 (a signed header committing to a detached body, so a log can be
    /// audited without any content). Both parties sign under the agreement's digest, so they
    /// agree on it. Absent means 1, and is left out of the document (and of its digest) when
    /// 1, so agreements written before version 2 keep theirs.
    #[serde(default = "wire_version_1", skip_serializing_if = "is_wire_version_1")]
    pub protocol: u32,
}

fn wire_version_1() -> u32 {
    detente_protocol::WIRE_VERSION
}

fn is_wire_version_1(v: &u32) -> bool {
    *v == detente_protocol::WIRE_VERSION
}

/// One party and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// Party code, e.g. `US`.
    pub id: PartyId,
    /// Name of the body, e.g. `US-CERT`.
    pub name: String,
    /// Base URL of the party's node, e.g. `https://detente.cert.example:8443`.
    pub node_url: String,
    /// The pinned Ed25519 keys that speak for the party (more than one during a key rollover).
    pub public_keys: Vec<PublicKey>,
}

/// The terms of the agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    /// Request kinds the parties accept.
    pub kinds: Vec<RequestKind>,
    /// Categories of malicious activity, e.g. `ip-theft`, `botnet`.
    pub categories: Vec<String>,
    /// Deadlines per priority; every priority must be present.
    pub deadlines: BTreeMap<Priority, Deadlines>,
    /// How far a sender's clock may run ahead of the receiver's.
    pub clock_skew: Span,
}

/// The deadlines for one priority, counted from the official time the request arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadlines {
    /// Time to acknowledge (any first reply from the responder counts).
    pub acknowledge: Span,
    /// Time to the first substantive answer (partial or final, or a decline).
    pub first_answer: Span,
    /// Time to the final answer (or a decline).
    pub final_answer: Span,
}

impl Agreement {
    /// Parses and validates an agreement document.
    pub fn from_toml(text: &str) -> Result<Self, AgreementError> {
        let a: Self = toml::from_str(text).map_err(|e| AgreementError::Malformed(e.to_string()))?;
        a.validate()?;
        Ok(a)
    }

    /// The document as TOML, for writing a template or a copy.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("an agreement always serialises to TOML")
    }

    /// SHA-256 of the canonical JSON form: the agreement's identity on the wire.
    pub fn digest(&self) -> Digest {
        let value = serde_json::to_value(self).expect("an agreement always serialises to JSON");
        Digest::of(&canonical_bytes(&value))
    }

    /// The origin line of `party`'s log checkpoints under this agreement,
    /// `detente/<agreement>/<party>`: it names both, so a checkpoint of one log can never pass
    /// for another's. Nodes sign it and auditors check it; this is its one definition.
    pub fn log_origin(&self, party: &PartyId) -> String {
        format!("detente/{}/{party}", self.id)
    }

    /// The party with `id`, if it is one.
    pub fn party(&self, id: &PartyId) -> Option<&Party> {
        self.parties.iter().find(|p| &p.id == id)
    }

    /// The deadlines of `priority`.
    pub fn deadlines(&self, priority: Priority) -> Deadlines {
        *self
            .terms
            .deadlines
            .get(&priority)
            .expect("validate() requires deadlines for every priority")
    }

    /// Checks the rules an agreement must meet.
    pub fn validate(&self) -> Result<(), AgreementError> {
        let invalid = |m: String| Err(AgreementError::Invalid(m));
        if self.id.is_empty() || self.id.len() > 64 {
            return invalid("id must be 1-64 characters".into());
        }
        if self.parties.len() < 2 {
            return invalid("an agreement needs at least two parties".into());
        }
        let ids: BTreeSet<_> = self.parties.iter().map(|p| &p.id).collect();
        if ids.len() != self.parties.len() {
            return invalid("party ids must be unique".into());
        }
        // A key that spoke for two parties would let one sign as the other.
        let mut owners: BTreeMap<[u8; 32], &PartyId> = BTreeMap::new();
        for p in &self.parties {
            if p.public_keys.is_empty() {
                return invalid(format!("party {} has no public key", p.id));
            }
            for key in &p.public_keys {
                if let Some(owner) = owners.insert(*key.as_bytes(), &p.id)
                    && owner != &p.id
                {
                    return invalid(format!(
                        "key {key} is listed for both {owner} and {}; each key speaks for one party",
                        p.id
                    ));
                }
            }
            if !(p.node_url.starts_with("https://") || p.node_url.starts_with("http://")) {
                return invalid(format!("party {}: node_url must be an http(s) URL", p.id));
            }
        }
        if ![WIRE_VERSION, WIRE_VERSION_2].contains(&self.protocol) {
            return invalid(format!(
                "protocol = {} is not a wire version this software speaks (1 or 2)",
                self.protocol
            ));
        }
        if self.terms.kinds.is_empty() {
            return invalid("terms.kinds must list at least one request kind".into());
        }
        if self.terms.categories.is_empty() {
            return invalid("terms.categories must list at least one category".into());
        }
        let cats: BTreeSet<_> = self.terms.categories.iter().collect();
        if cats.len() != self.terms.categories.len() {
            return invalid("terms.categories must be unique".into());
        }
        for priority in Priority::ALL {
            let Some(d) = self.terms.deadlines.get(&priority) else {
                return invalid(format!("terms.deadlines.{} is missing", priority.as_str()));
            };
            if !(d.acknowledge <= d.first_answer && d.first_answer <= d.final_answer) {
                return invalid(format!(
                    "terms.deadlines.{}: acknowledge <= first_answer <= final_answer must hold",
                    priority.as_str()
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fixtures::SAMPLE;

    #[test]
    fn a_valid_agreement_parses_and_its_digest_ignores_spelling() {
        let a = Agreement::from_toml(SAMPLE).expect("valid");
        let respelled = Agreement::from_toml(&SAMPLE.replace("\"300s\"", "\"5m\"")).expect("valid");
        assert_eq!(a.digest(), respelled.digest());
        let changed = Agreement::from_toml(&SAMPLE.replace(
            "\"3d\"\n\n[terms.deadlines.high]",
            "\"4d\"\n\n[terms.deadlines.high]",
        ))
        .expect("valid");
        assert_ne!(a.digest(), changed.digest());
    }

    #[test]
    fn a_log_origin_names_the_agreement_and_the_party() {
        // Arrange
        let a = Agreement::from_toml(SAMPLE).expect("valid");
        let us = PartyId::parse("US").expect("valid");

        // Act
        let origin = a.log_origin(&us);

        // Assert
        assert_eq!(origin, format!("detente/{}/US", a.id));
    }

    #[test]
    fn a_toml_round_trip_keeps_the_digest() {
        let a = Agreement::from_toml(SAMPLE).expect("valid");
        assert_eq!(
            Agreement::from_toml(&a.to_toml()).expect("valid").digest(),
            a.digest()
        );
    }

    #[test]
    fn an_agreement_may_say_when_it_came_into_force_without_changing_others_digests() {
        let a = Agreement::from_toml(SAMPLE).expect("valid");
        assert_eq!(a.in_force_from, None);
        assert!(!a.to_toml().contains("in_force_from"));
        let dated = Agreement::from_toml(&format!(
            "in_force_from = \"2015-09-25T00:00:00.000Z\"\n{SAMPLE}"
        ))
        .expect("valid");
        assert_eq!(
            dated.in_force_from.map(|t| t.to_string()).as_deref(),
            Some("2015-09-25T00:00:00.000Z")
        );
        assert_ne!(dated.digest(), a.digest());
        let round_trip = Agreement::from_toml(&dated.to_toml()).expect("valid");
        assert_eq!(round_trip.digest(), dated.digest());
    }

    #[test]
    fn an_agreement_without_a_protocol_is_version_1_and_keeps_its_exact_digest() {
        // Arrange
        let absent = Agreement::from_toml(SAMPLE).expect("valid");
        let explicit = Agreement::from_toml(&format!("protocol = 1\n{SAMPLE}")).expect("valid");

        // Act
        let json = serde_json::to_value(&absent).expect("serialises");

        // Assert: the key is not in the canonical document, so the digest is the one from
        // before the key existed.
        assert_eq!(absent.protocol, WIRE_VERSION);
        assert!(json.get("protocol").is_none(), "{json}");
        assert!(!absent.to_toml().contains("protocol"));
        assert_eq!(explicit.digest(), absent.digest());
    }

    #[test]
    fn an_agreement_on_protocol_2_has_its_own_digest_and_keeps_it_through_toml() {
        let v1 = Agreement::from_toml(SAMPLE).expect("valid");

        let v2 = Agreement::from_toml(&format!("protocol = 2\n{SAMPLE}")).expect("valid");
        let round_trip = Agreement::from_toml(&v2.to_toml()).expect("valid");

        assert_eq!(v2.protocol, WIRE_VERSION_2);
        assert_ne!(v2.digest(), v1.digest());
        assert_eq!(round_trip.digest(), v2.digest());
    }

    #[test]
    fn an_agreement_on_an_unknown_protocol_is_rejected() {
        let result = Agreement::from_toml(&format!("protocol = 3\n{SAMPLE}"));

        assert!(
            matches!(&result, Err(AgreementError::Invalid(m)) if m.contains("protocol = 3")),
            "{result:?}"
        );
    }

    #[test]
    fn missing_priorities_and_inverted_deadlines_are_rejected() {
        let no_low = SAMPLE
            .split("[terms.deadlines.low]")
            .next()
            .expect("has low");
        assert!(matches!(
            Agreement::from_toml(no_low),
            Err(AgreementError::Invalid(_))
        ));
        let inverted = SAMPLE.replace("acknowledge = \"1h\"", "acknowledge = \"5d\"");
        assert!(matches!(
            Agreement::from_toml(&inverted),
            Err(AgreementError::Invalid(_))
        ));
    }

    #[test]
    fn a_key_listed_for_two_parties_is_rejected() {
        // Regression: nothing stopped one key from speaking for two parties, so either could
        // sign as the other.
        let us_key = "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
        let cn_key = "ed25519:PUAXw+hDiVqStwqnTRt+vJyYLM8uxJaMwM1V8Sr0Zgw=";
        let shared = SAMPLE.replace(cn_key, us_key);
        let result = Agreement::from_toml(&shared);
        assert!(matches!(result, Err(AgreementError::Invalid(m)) if m.contains("both US and CN")));
    }

    #[test]
    fn a_party_may_list_several_keys_for_a_rollover_but_not_another_partys() {
        // Arrange
        let mut a = Agreement::from_toml(SAMPLE).expect("valid");
        let new_key = detente_protocol::SecretKey::from_seed(&[9; 32]).public_key();
        // Act
        a.parties[1].public_keys.push(new_key);
        // Assert
        assert_eq!(a.validate(), Ok(()));
        a.parties[0].public_keys.push(new_key);
        assert!(matches!(a.validate(), Err(AgreementError::Invalid(_))));
    }

    #[test]
    fn an_agreement_needs_two_distinct_parties_with_keys() {
        let one_party = SAMPLE.replacen("[[parties]]\nid = \"CN\"", "[[parties]]\nid = \"US\"", 1);
        assert!(matches!(
            Agreement::from_toml(&one_party),
            Err(AgreementError::Invalid(m)) if m.contains("unique")
        ));
        let no_key = SAMPLE.replace(
            "public_keys = [\"ed25519:PUAXw+hDiVqStwqnTRt+vJyYLM8uxJaMwM1V8Sr0Zgw=\"]",
            "public_keys = []",
        );
        assert!(matches!(
            Agreement::from_toml(&no_key),
            Err(AgreementError::Invalid(m)) if m.contains("no public key")
        ));
    }

    #[test]
    fn deadlines_are_looked_up_by_priority() {
        let a = Agreement::from_toml(SAMPLE).expect("valid");
        let critical = a.deadlines(detente_protocol::Priority::Critical);
        assert_eq!(critical.acknowledge, Span::from_secs(3_600));
        assert_eq!(critical.final_answer, Span::from_secs(3 * 86_400));
        assert!(a.party(&PartyId::parse("CN").expect("valid")).is_some());
        assert!(a.party(&PartyId::parse("GB").expect("valid")).is_none());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let extra = SAMPLE.replace("title =", "colour = \"red\"\ntitle =");
        assert!(matches!(
            Agreement::from_toml(&extra),
            Err(AgreementError::Malformed(_))
        ));
    }
}
