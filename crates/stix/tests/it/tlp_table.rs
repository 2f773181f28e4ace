//! The TLP access rule, exhaustively: every level against every relation, unmarked objects
//! under the default and a configured default, TLP 1.0 ids, and markings on real objects.

use detente_stix::tlp::{
    TLP_AMBER_ID, TLP_AMBER_STRICT_ID, TLP_CLEAR_ID, TLP_GREEN_ID, TLP_RED_ID, TLP1_AMBER_ID,
    TLP1_GREEN_ID, TLP1_RED_ID, TLP1_WHITE_ID,
};
use detente_stix::{Access, AccessRule, Relation, StixObject, Tlp};

use Relation::{Anyone, Community, NamedRecipient, PartnerOrganisation, SameOrganisation};

/// The expected table, written out by hand: one row per level, columns in `Relation::ALL`
/// order (named recipient, same organisation, partner organisation, community, anyone).
const TABLE: [(Tlp, [bool; 5]); 5] = [
    (Tlp::Clear, [true, true, true, true, true]),
    (Tlp::Green, [true, true, true, true, false]),
    (Tlp::Amber, [true, true, true, false, false]),
    (Tlp::AmberStrict, [true, true, false, false, false]),
    (Tlp::Red, [true, false, false, false, false]),
];

fn id_of(level: Tlp) -> &'static str {
    match level {
        Tlp::Clear => TLP_CLEAR_ID,
        Tlp::Green => TLP_GREEN_ID,
        Tlp::Amber => TLP_AMBER_ID,
        Tlp::AmberStrict => TLP_AMBER_STRICT_ID,
        Tlp::Red => TLP_RED_ID,
    }
}

#[test]
fn every_level_against_every_relation() {
    let rule = AccessRule::default();
    for (level, row) in TABLE {
        for (relation, allowed) in Relation::ALL.into_iter().zip(row) {
            let got = rule.decide([id_of(level)], relation);
            assert_eq!(got.is_allowed(), allowed, "{level:?} read by {relation:?}");
            let want = if allowed {
                Access::Allow {
                    level,
                    defaulted: false,
                }
            } else {
                Access::Deny {
                    level,
                    defaulted: false,
                }
            };
            assert_eq!(got, want);
        }
    }
}

#[test]
fn unmarked_objects_are_amber_out_of_the_box() {
    let rule = AccessRule::default();
    let row = [true, true, true, false, false];
    for (relation, allowed) in Relation::ALL.into_iter().zip(row) {
        let got = rule.decide([], relation);
        assert_eq!(got.is_allowed(), allowed, "{relation:?}");
        assert!(matches!(
            got,
            Access::Allow {
                level: Tlp::Amber,
                defaulted: true
            } | Access::Deny {
                level: Tlp::Amber,
                defaulted: true
            }
        ));
    }
    // A statement (copyright) marking is not a TLP level: the default still applies.
    let mitre_copyright = "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168";
    assert!(!rule.decide([mitre_copyright], Community).is_allowed());
}

#[test]
fn the_default_is_configurable_for_every_level() {
    for (level, row) in TABLE {
        let rule = AccessRule {
            default_level: level,
        };
        for (relation, allowed) in Relation::ALL.into_iter().zip(row) {
            assert_eq!(
                rule.decide([], relation).is_allowed(),
                allowed,
                "default {level:?}, {relation:?}"
            );
        }
    }
}

#[test]
fn tlp_1_ids_are_enforced_like_their_2_0_levels() {
    let rule = AccessRule::default();
    for (id, level) in [
        (TLP1_WHITE_ID, Tlp::Clear),
        (TLP1_GREEN_ID, Tlp::Green),
        (TLP1_AMBER_ID, Tlp::Amber),
        (TLP1_RED_ID, Tlp::Red),
    ] {
        let row = TABLE.iter().find(|(l, _)| *l == level).unwrap().1;
        for (relation, allowed) in Relation::ALL.into_iter().zip(row) {
            assert_eq!(
                rule.decide([id], relation).is_allowed(),
                allowed,
                "{id} {relation:?}"
            );
        }
    }
}

#[test]
fn amber_strict_is_never_reshared_to_a_partner() {
    let rule = AccessRule::default();
    assert!(
        !rule
            .decide([TLP_AMBER_STRICT_ID], PartnerOrganisation)
            .is_allowed()
    );
    assert!(
        !rule
            .decide([TLP_AMBER_STRICT_ID, TLP_CLEAR_ID], Anyone)
            .is_allowed()
    );
    assert!(
        rule.decide([TLP_AMBER_STRICT_ID], SameOrganisation)
            .is_allowed()
    );
}

#[test]
fn red_reaches_only_the_named_recipients() {
    let rule = AccessRule::default();
    assert!(rule.decide([TLP_RED_ID], NamedRecipient).is_allowed());
    for r in [SameOrganisation, PartnerOrganisation, Community, Anyone] {
        assert!(!rule.decide([TLP_RED_ID], r).is_allowed(), "{r:?}");
    }
}

fn campaign_marked(whole: &[&str], granular: Option<&str>) -> StixObject {
    let mut v = serde_json::json!({
        "type": "campaign", "spec_version": "2.1",
        "id": "campaign--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
        "created": "2016-05-12T08:17:27.000Z", "modified": "2016-05-12T08:17:27.000Z",
        "name": "Spear Phishing", "description": "secret"
    });
    if !whole.is_empty() {
        v["object_marking_refs"] = serde_json::json!(whole);
    }
    if let Some(g) = granular {
        v["granular_markings"] =
            serde_json::json!([{"selectors": ["description"], "marking_ref": g}]);
    }
    StixObject::from_value(v).unwrap()
}

#[test]
fn objects_are_judged_by_their_most_restrictive_marking_granular_included() {
    let rule = AccessRule::default();
    let green = campaign_marked(&[TLP_GREEN_ID], None);
    assert!(rule.decide_object(&green, Community).is_allowed());
    let green_with_red_part = campaign_marked(&[TLP_GREEN_ID], Some(TLP_RED_ID));
    assert_eq!(
        rule.decide_object(&green_with_red_part, Community),
        Access::Deny {
            level: Tlp::Red,
            defaulted: false
        }
    );
    let unmarked = campaign_marked(&[], None);
    assert_eq!(rule.effective_level(&unmarked), (Tlp::Amber, true));
}

#[test]
fn the_oasis_interop_marking_example_is_red() {
    // interop-objectmarking-test.json marks a campaign TLP:RED (1.0) plus an unknown marking.
    let (_, objs) =
        crate::support::import("cti-stix2-json-schemas/examples/interop-objectmarking-test.json");
    let rule = AccessRule::default();
    assert_eq!(rule.effective_level(&objs[0]), (Tlp::Red, false));
    assert!(!rule.decide_object(&objs[0], SameOrganisation).is_allowed());
}
