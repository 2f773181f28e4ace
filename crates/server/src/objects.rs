//! STIX objects carried by requests and answers: validated as STIX 2.1 on the way in and out,
//! and held back by their TLP marking on the way out.
//!
//! The protocol checks only that each object has a `type` and an id; this module holds them to
//! the STIX 2.1 rules (the `detente-stix` validator) and to FIRST TLP 2.0. A message goes to
//! exactly one partner, which is the named recipient of that exchange. Whether the partner may
//! see an object depends on who it came from:
//!
//! - objects this party made (`created_by_ref` is our party's identity) or the partner made
//!   are shared at any level: the source decides, and naming the partner as the recipient of
//!   this exchange is what TLP:RED asks for;
//! - anything else (a company's report, a third party's feed, an unattributed object) reaches
//!   the partner only as the partner *organisation*: CLEAR, GREEN and AMBER pass; AMBER+STRICT
//!   (never re-shared outside the receiving organisation) and RED (only its named recipients)
//!   are refused with `tlp_denied`, naming the object.

use detente_protocol::{Body, PartyId, StixValue};
use detente_stix::{AccessRule, Relation, StixObject};
use serde_json::Value;
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode};

/// The UUIDv5 namespace of identities detente derives for parties, so that both nodes (and
/// an auditor) name a party's identity object the same way without exchanging it.
const PARTY_IDENTITY_NAMESPACE: Uuid = Uuid::from_u128(0x6c0f_3f0e_53b9_4d0e_9a55_9d2f_61e4_b0a1);

/// The STIX identity id that stands for `party` in objects detente makes, e.g. as the
/// `created_by_ref` of the sightings in a mitigation answer.
pub fn party_identity(party: &PartyId) -> String {
    let uuid = Uuid::new_v5(
        &PARTY_IDENTITY_NAMESPACE,
        format!("detente-party:{party}").as_bytes(),
    );
    format!("identity--{uuid}")
}

/// The objects a body carries, if it is a kind that carries any.
fn objects(body: &Body) -> &[StixValue] {
    match body {
        Body::Request(r) => &r.objects,
        Body::Answer(a) => &a.objects,
        _ => &[],
    }
}

fn parse(i: usize, object: &StixValue) -> Result<StixObject, ApiError> {
    StixObject::from_value(Value::Object(object.clone())).map_err(|e| {
        let id = object.get("id").and_then(Value::as_str).unwrap_or("?");
        ApiError::new(
            ErrorCode::InvalidMessage,
            format!("object {i} ({id}) is not valid STIX 2.1: {e}"),
        )
    })
}

/// Checks the objects of a message that arrived from a partner: each must be valid STIX 2.1.
pub fn check_incoming(body: &Body) -> Result<(), ApiError> {
    for (i, object) in objects(body).iter().enumerate() {
        parse(i, object)?;
    }
    Ok(())
}

/// Checks the objects of a message `from` this party `to` a partner: each must be valid
/// STIX 2.1 and its TLP marking must let the partner see it (see the module notes).
pub fn check_outgoing(
    rule: &AccessRule,
    from: &PartyId,
    to: &PartyId,
    body: &Body,
) -> Result<(), ApiError> {
    let ours = party_identity(from);
    let theirs = party_identity(to);
    for (i, object) in objects(body).iter().enumerate() {
        let parsed = parse(i, object)?;
        let source = parsed
            .common()
            .and_then(|c| c.created_by_ref.as_ref())
            .map(|r| r.as_str());
        let relation = if source == Some(ours.as_str()) || source == Some(theirs.as_str()) {
            Relation::NamedRecipient
        } else {
            Relation::PartnerOrganisation
        };
        if let detente_stix::Access::Deny { level, defaulted } =
            rule.decide_object(&parsed, relation)
        {
            let why = if defaulted {
                format!("carries no TLP marking and unmarked objects count as {level:?}")
            } else {
                format!("is marked {level:?}")
            };
            return Err(ApiError::new(
                ErrorCode::TlpDenied,
                format!(
                    "object {i} ({}) {why}, which does not allow sharing it with {to}: it was \
                     made by neither party (created_by_ref {}), so {to} would be a reader \
                     outside its audience",
                    parsed.id(),
                    source.unwrap_or("absent"),
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use detente_protocol::{AnswerBody, Body};
    use detente_stix::Tlp;
    use serde_json::json;

    use super::*;

    use detente_stix::tlp::{
        TLP_AMBER_ID as AMBER, TLP_AMBER_STRICT_ID as AMBER_STRICT, TLP_CLEAR_ID as CLEAR,
        TLP_GREEN_ID as GREEN, TLP_RED_ID as RED, TLP1_AMBER_ID, TLP1_RED_ID,
    };

    fn party(s: &str) -> PartyId {
        s.parse().unwrap()
    }

    fn answer_with(marking: Option<&str>, created_by: Option<String>) -> Body {
        let mut o = json!({
            "type": "indicator",
            "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2026-05-04T10:00:00.000Z",
            "modified": "2026-05-04T10:00:00.000Z",
            "pattern": "[ipv4-addr:value = '198.51.100.7']",
            "pattern_type": "stix",
            "valid_from": "2026-05-04T10:00:00Z"
        });
        if let Some(m) = marking {
            o["object_marking_refs"] = json!([m]);
        }
        if let Some(c) = created_by {
            o["created_by_ref"] = json!(c);
        }
        let Value::Object(o) = o else { unreachable!() };
        Body::Answer(AnswerBody {
            is_final: false,
            text: "found".into(),
            observables: Vec::new(),
            attachments: Vec::new(),
            objects: vec![o],
        })
    }

    fn outcome(marking: Option<&str>, created_by: Option<String>) -> Option<ErrorCode> {
        check_outgoing(
            &AccessRule::default(),
            &party("US"),
            &party("CN"),
            &answer_with(marking, created_by),
        )
        .err()
        .map(|e| e.code)
    }

    #[test]
    fn a_third_partys_object_reaches_the_partner_only_up_to_amber() {
        let third = Some("identity--0b6f6c2e-79b8-4e4e-9d2c-0d6f6b1a2c3d".to_owned());
        assert_eq!(outcome(Some(CLEAR), third.clone()), None);
        assert_eq!(outcome(Some(GREEN), third.clone()), None);
        assert_eq!(outcome(Some(AMBER), third.clone()), None);
        // TLP 1.0 markings on input mean the same.
        assert_eq!(outcome(Some(TLP1_AMBER_ID), third.clone()), None);
        assert_eq!(
            outcome(Some(TLP1_RED_ID), third.clone()),
            Some(ErrorCode::TlpDenied)
        );
        assert_eq!(
            outcome(Some(AMBER_STRICT), third.clone()),
            Some(ErrorCode::TlpDenied)
        );
        assert_eq!(outcome(Some(RED), third), Some(ErrorCode::TlpDenied));
        assert_eq!(outcome(Some(RED), None), Some(ErrorCode::TlpDenied));
    }

    #[test]
    fn either_partys_own_objects_go_to_the_partner_at_any_level() {
        for creator in [party_identity(&party("US")), party_identity(&party("CN"))] {
            for marking in [CLEAR, GREEN, AMBER, AMBER_STRICT, RED] {
                assert_eq!(outcome(Some(marking), Some(creator.clone())), None);
            }
        }
    }

    #[test]
    fn an_unmarked_object_follows_the_configured_default() {
        assert_eq!(outcome(None, None), None, "AMBER out of the box");
        let strict = AccessRule {
            default_level: Tlp::Red,
        };
        let denied = check_outgoing(
            &strict,
            &party("US"),
            &party("CN"),
            &answer_with(None, None),
        )
        .unwrap_err();
        assert_eq!(denied.code, ErrorCode::TlpDenied);
        assert!(
            denied.message.contains("no TLP marking"),
            "{}",
            denied.message
        );
    }

    #[test]
    fn an_invalid_object_is_named_in_both_directions() {
        let mut body = answer_with(Some(CLEAR), None);
        if let Body::Answer(a) = &mut body {
            a.objects[0].insert("modified".into(), json!("2020-01-01T00:00:00Z"));
        }
        let out =
            check_outgoing(&AccessRule::default(), &party("US"), &party("CN"), &body).unwrap_err();
        assert_eq!(out.code, ErrorCode::InvalidMessage);
        assert!(
            out.message.contains("indicator--8e2e2d2b"),
            "{}",
            out.message
        );
        assert_eq!(
            check_incoming(&body).unwrap_err().code,
            ErrorCode::InvalidMessage
        );
    }

    #[test]
    fn party_identities_are_stable_and_distinct() {
        assert_eq!(party_identity(&party("US")), party_identity(&party("US")));
        assert_ne!(party_identity(&party("US")), party_identity(&party("CN")));
        assert!(party_identity(&party("US")).starts_with("identity--"));
    }
}
