//! STIX objects carried by requests and answers: validated as STIX 2.1 on the way in and out,
//! and held back by their TLP marking on the way out.
//!
//! The protocol checks only that each object has a `type` and an id; this module holds them to
//! the STIX 2.1 rules (the `detente-stix` validator) and to FIRST TLP 2.0, with the same rule
//! as every other read path (TAXII, exports, the API): the partner a message goes to reads
//! each object as `Reader::Party` would, from the object's sharing context.
//!
//! - Objects this party made (`created_by_ref` is our party's identity) or the partner made
//!   are shared at any level: the source decides, and naming the partner as the recipient of
//!   this exchange is what TLP:RED asks for.
//! - Anything else this node holds (an import, a third party's feed, a pull from another
//!   partner) is judged in the context it was stored with, every stored version of it: a
//!   third party's AMBER object stored with no audience does not go to the partner here,
//!   exactly as TAXII and exports withhold it, and what another partner shared with this node
//!   never reaches this one beyond GREEN.
//! - An object this node does not hold counts as shared with the partner as its audience (as
//!   `indicators import --audience <partner>` would store it): CLEAR, GREEN and AMBER pass;
//!   AMBER+STRICT (never re-shared outside the receiving organisation) and RED (only its named
//!   recipients) are refused.
//!
//! Markings are resolved by their definitions (`detente_stix::Markings`): those carried in the
//! same message and those this node stored from its own imports; a marking neither resolves
//! counts as RED. Refusals are `tlp_denied` and name the object.

use detente_protocol::{Body, PartyId, StixValue};
use detente_stix::{Access, AccessRule, Markings, Reader, Relation, Sharing, StixObject, Tlp};
use detente_store::{ShareContext, Store, StoredObject};
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
/// STIX 2.1 and TLP must let the partner read it (see the module notes). `store` holds the
/// sharing contexts and marking definitions the rule reads.
pub async fn check_outgoing(
    store: &Store,
    rule: &AccessRule,
    from: &PartyId,
    to: &PartyId,
    body: &Body,
) -> Result<(), ApiError> {
    let carried = objects(body);
    if carried.is_empty() {
        return Ok(());
    }
    let parsed = carried
        .iter()
        .enumerate()
        .map(|(i, o)| parse(i, o))
        .collect::<Result<Vec<_>, _>>()?;
    let published = Markings::default();
    let mut unpublished: Vec<String> = parsed
        .iter()
        .flat_map(Markings::refs_of)
        .filter(|id| published.kind(id).is_none())
        .map(str::to_owned)
        .collect();
    unpublished.sort_unstable();
    unpublished.dedup();
    let mut markings = store.markings(&unpublished, from.as_str()).await?;
    for o in &parsed {
        if let StixObject::MarkingDefinition(m) = o {
            markings.learn(m);
        }
    }
    let mut ids: Vec<String> = parsed.iter().map(|o| o.id().to_string()).collect();
    ids.sort_unstable();
    ids.dedup();
    let held = store.stix_sharing(&ids).await?;
    let gate = Gate {
        rule,
        from,
        to,
        held: &held,
    };
    for (i, o) in parsed.iter().enumerate() {
        gate.check(i, o, markings.level_of(o))?;
    }
    Ok(())
}

/// The TLP gate of one outgoing message.
struct Gate<'a> {
    rule: &'a AccessRule,
    from: &'a PartyId,
    to: &'a PartyId,
    /// Every stored version of the message's objects, with its sharing context.
    held: &'a [(StoredObject, ShareContext)],
}

impl Gate<'_> {
    /// Whether the partner may read object `i`, whose markings resolve to `level`.
    fn check(&self, i: usize, o: &StixObject, level: Option<Tlp>) -> Result<(), ApiError> {
        let source = o
            .common()
            .and_then(|c| c.created_by_ref.as_ref())
            .map(|r| r.as_str());
        let made_by_a_party = [party_identity(self.from), party_identity(self.to)]
            .iter()
            .any(|p| source == Some(p.as_str()));
        if made_by_a_party {
            return self.decide(i, o, level, Relation::NamedRecipient, String::new);
        }
        let versions: Vec<&(StoredObject, ShareContext)> = self
            .held
            .iter()
            .filter(|(s, _)| s.id == o.id().as_str())
            .collect();
        if versions.is_empty() {
            return self.decide(i, o, level, Relation::PartnerOrganisation, || {
                format!(
                    ": it was made by neither party (created_by_ref {}), so {} would be a \
                     reader outside its audience",
                    source.unwrap_or("absent"),
                    self.to
                )
            });
        }
        let reader = Reader::Party {
            party: self.to.as_str(),
            in_community: true,
        };
        let this_version = o.version().map(|v| v.as_str());
        for (stored, share) in versions {
            // The stored copy of this very version may have been judged stricter (by a
            // definition this message does not carry).
            let level = if stored.modified.as_deref() == this_version {
                level.max(stored.tlp)
            } else {
                level
            };
            let sharing = Sharing {
                origin: &share.origin,
                audience: share.audience.as_deref(),
                recipients: &share.recipients,
            };
            self.decide(i, o, level, reader.relation(&sharing), || {
                let with = share.audience.as_deref().map_or_else(
                    || "no partner named".to_owned(),
                    |a| format!("audience {a}"),
                );
                format!(
                    ": this node holds it as shared by {} ({with}), and TAXII and exports \
                     withhold it from {} too",
                    share.origin, self.to
                )
            })?;
        }
        Ok(())
    }

    fn decide(
        &self,
        i: usize,
        o: &StixObject,
        level: Option<Tlp>,
        relation: Relation,
        context: impl FnOnce() -> String,
    ) -> Result<(), ApiError> {
        let Access::Deny { level, defaulted } = self.rule.decide_level(level, relation) else {
            return Ok(());
        };
        let why = if defaulted {
            format!("carries no TLP marking and unmarked objects count as {level:?}")
        } else {
            format!("is marked {level:?}")
        };
        Err(ApiError::new(
            ErrorCode::TlpDenied,
            format!(
                "object {i} ({}) {why}, which does not allow sharing it with {}{}",
                o.id(),
                self.to,
                context()
            ),
        ))
    }
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

    const THIRD: &str = "identity--0b6f6c2e-79b8-4e4e-9d2c-0d6f6b1a2c3d";

    fn party(s: &str) -> PartyId {
        s.parse().unwrap()
    }

    /// A fresh SQLite store in a temporary folder (kept alive by the returned guard).
    async fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("detente.db"), true)
            .await
            .unwrap();
        (store, dir)
    }

    fn indicator(marking: Option<&str>, created_by: Option<&str>) -> StixValue {
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
        o
    }

    fn answer(objects: Vec<StixValue>) -> Body {
        Body::Answer(AnswerBody {
            is_final: false,
            text: "found".into(),
            observables: Vec::new(),
            attachments: Vec::new(),
            objects,
        })
    }

    async fn outcome_in(
        store: &Store,
        rule: &AccessRule,
        objects: Vec<StixValue>,
    ) -> Option<ErrorCode> {
        check_outgoing(store, rule, &party("US"), &party("CN"), &answer(objects))
            .await
            .err()
            .map(|e| e.code)
    }

    async fn outcome(marking: Option<&str>, created_by: Option<&str>) -> Option<ErrorCode> {
        let (store, _dir) = store().await;
        outcome_in(
            &store,
            &AccessRule::default(),
            vec![indicator(marking, created_by)],
        )
        .await
    }

    #[tokio::test]
    async fn a_third_partys_object_the_node_does_not_hold_reaches_the_partner_up_to_amber() {
        let third = Some(THIRD);
        assert_eq!(outcome(Some(CLEAR), third).await, None);
        assert_eq!(outcome(Some(GREEN), third).await, None);
        assert_eq!(outcome(Some(AMBER), third).await, None);
        // TLP 1.0 markings on input mean the same.
        assert_eq!(outcome(Some(TLP1_AMBER_ID), third).await, None);
        assert_eq!(
            outcome(Some(TLP1_RED_ID), third).await,
            Some(ErrorCode::TlpDenied)
        );
        assert_eq!(
            outcome(Some(AMBER_STRICT), third).await,
            Some(ErrorCode::TlpDenied)
        );
        assert_eq!(outcome(Some(RED), third).await, Some(ErrorCode::TlpDenied));
        assert_eq!(outcome(Some(RED), None).await, Some(ErrorCode::TlpDenied));
    }

    #[tokio::test]
    async fn either_partys_own_objects_go_to_the_partner_at_any_level() {
        for creator in [party_identity(&party("US")), party_identity(&party("CN"))] {
            for marking in [CLEAR, GREEN, AMBER, AMBER_STRICT, RED] {
                assert_eq!(outcome(Some(marking), Some(&creator)).await, None);
            }
        }
    }

    #[tokio::test]
    async fn held_objects_are_judged_in_the_context_they_were_stored_with() {
        // Regression: a third party's AMBER object imported with no audience went to the
        // partner in a request, though TAXII and exports withheld it.
        let cases = [
            // (stored by, audience, marking, the partner CN may receive it)
            ("US", None, AMBER, false),
            ("US", None, GREEN, true),
            ("US", Some("CN"), AMBER, true),
            ("US", Some("GB"), AMBER, false),
            // Shared with this node by another partner: never beyond GREEN.
            ("GB", None, AMBER, false),
            ("GB", None, GREEN, true),
        ];
        for (origin, audience, marking, allowed) in cases {
            let (store, _dir) = store().await;
            let object = indicator(Some(marking), Some(THIRD));
            let parsed = StixObject::from_value(Value::Object(object.clone())).unwrap();
            let share = ShareContext {
                origin: origin.into(),
                audience: audience.map(str::to_owned),
                recipients: if origin == "US" {
                    vec![]
                } else {
                    vec!["US".into()]
                },
            };
            store.insert_stix(&[parsed], &share, None, 1).await.unwrap();
            let got = outcome_in(&store, &AccessRule::default(), vec![object]).await;
            let want = (!allowed).then_some(ErrorCode::TlpDenied);
            assert_eq!(got, want, "{origin} {audience:?} {marking}");
        }
    }

    #[tokio::test]
    async fn markings_under_other_ids_are_resolved_by_the_definitions_carried_or_stored() {
        let (store, _dir) = store().await;
        let custom = "marking-definition--7e1c2a44-0b5d-4c1e-8f00-000000000004";
        let definition = |level: &str| {
            let Value::Object(d) = json!({"type": "marking-definition", "spec_version": "2.1",
                "id": custom, "created": "2022-10-01T00:00:00.000Z",
                "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
                    {"extension_type": "property-extension", "tlp_2_0": level}}})
            else {
                unreachable!()
            };
            d
        };
        let rule = AccessRule::default();
        let marked = indicator(Some(custom), Some(THIRD));
        // Unresolvable: RED.
        assert_eq!(
            outcome_in(&store, &rule, vec![marked.clone()]).await,
            Some(ErrorCode::TlpDenied)
        );
        // Defined in the message.
        assert_eq!(
            outcome_in(&store, &rule, vec![marked.clone(), definition("green")]).await,
            None
        );
        assert_eq!(
            outcome_in(&store, &rule, vec![definition("red"), marked.clone()]).await,
            Some(ErrorCode::TlpDenied)
        );
        // Stored from this node's own import: a looser definition in the message cannot
        // open it.
        let stored = StixObject::from_value(Value::Object(definition("amber+strict"))).unwrap();
        let own = ShareContext {
            origin: "US".into(),
            audience: None,
            recipients: vec![],
        };
        store.insert_stix(&[stored], &own, None, 1).await.unwrap();
        assert_eq!(
            outcome_in(&store, &rule, vec![marked.clone()]).await,
            Some(ErrorCode::TlpDenied)
        );
        assert_eq!(
            outcome_in(&store, &rule, vec![marked, definition("clear")]).await,
            Some(ErrorCode::TlpDenied)
        );
    }

    #[tokio::test]
    async fn an_unmarked_object_follows_the_configured_default() {
        assert_eq!(outcome(None, None).await, None, "AMBER out of the box");
        let (store, _dir) = store().await;
        let strict = AccessRule {
            default_level: Tlp::Red,
        };
        let denied = check_outgoing(
            &store,
            &strict,
            &party("US"),
            &party("CN"),
            &answer(vec![indicator(None, None)]),
        )
        .await
        .unwrap_err();
        assert_eq!(denied.code, ErrorCode::TlpDenied);
        assert!(
            denied.message.contains("no TLP marking"),
            "{}",
            denied.message
        );
    }

    #[tokio::test]
    async fn an_invalid_object_is_named_in_both_directions() {
        let (store, _dir) = store().await;
        let mut object = indicator(Some(CLEAR), None);
        object.insert("modified".into(), json!("2020-01-01T00:00:00Z"));
        let body = answer(vec![object]);
        let out = check_outgoing(
            &store,
            &AccessRule::default(),
            &party("US"),
            &party("CN"),
            &body,
        )
        .await
        .unwrap_err();
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
