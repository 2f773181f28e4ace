//! The TLP access rule, exhaustively: every level against every relation, unmarked objects
//! under the default and a configured default, TLP 1.0 ids, markings under other ids resolved
//! by their definitions, and markings on real objects.

use detente_stix::tlp::{
    OPENCTI_AMBER_STRICT_ID, TLP_2_EXTENSION_ID, TLP_AMBER_ID, TLP_AMBER_STRICT_ID, TLP_CLEAR_ID,
    TLP_GREEN_ID, TLP_RED_ID, TLP1_AMBER_ID, TLP1_GREEN_ID, TLP1_RED_ID, TLP1_WHITE_ID,
};
use detente_stix::{Access, AccessRule, Markings, Relation, StixObject, Tlp};
use serde_json::{Value, json};

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
    // A statement (copyright) marking is not a TLP level: once its definition is known, the
    // default applies; without it, the marking cannot be read and counts as RED.
    let mitre_copyright = "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168";
    let statement = json!({"type": "marking-definition", "spec_version": "2.1",
        "id": mitre_copyright, "created": "2017-06-01T00:00:00.000Z",
        "definition_type": "statement",
        "definition": {"statement": "Copyright 2017, The MITRE Corporation"}});
    let mut book = Markings::default();
    let StixObject::MarkingDefinition(m) = StixObject::from_value(statement).unwrap() else {
        unreachable!("a marking-definition")
    };
    book.learn(&m);
    assert_eq!(
        rule.decide_level(book.level([mitre_copyright]), PartnerOrganisation),
        Access::Allow {
            level: Tlp::Amber,
            defaulted: true
        }
    );
    assert_eq!(
        rule.decide([mitre_copyright], SameOrganisation),
        Access::Deny {
            level: Tlp::Red,
            defaulted: false
        }
    );
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
    let book = Markings::default();
    let decide = |o: &StixObject, r| rule.decide_level(book.level_of(o), r);
    let green = campaign_marked(&[TLP_GREEN_ID], None);
    assert!(decide(&green, Community).is_allowed());
    let green_with_red_part = campaign_marked(&[TLP_GREEN_ID], Some(TLP_RED_ID));
    assert_eq!(
        decide(&green_with_red_part, Community),
        Access::Deny {
            level: Tlp::Red,
            defaulted: false
        }
    );
    let unmarked = campaign_marked(&[], None);
    assert_eq!(
        decide(&unmarked, Community),
        Access::Deny {
            level: Tlp::Amber,
            defaulted: true
        }
    );
}

#[test]
fn the_oasis_interop_marking_example_is_red() {
    // interop-objectmarking-test.json marks a campaign TLP:RED (1.0) plus an unknown marking.
    let (_, objs) =
        crate::support::import("cti-stix2-json-schemas/examples/interop-objectmarking-test.json");
    let rule = AccessRule::default();
    let level = Markings::default().level_of(&objs[0]);
    assert_eq!(level, Some(Tlp::Red));
    assert!(!rule.decide_level(level, SameOrganisation).is_allowed());
}

/// A bundle defining `level` under a made-up id in each of the forms seen in the wild, with
/// one indicator marked by each definition: (the bundle, the indicators' marking ids).
fn custom_definitions(level: Tlp) -> (Value, Vec<String>) {
    let word = match level {
        Tlp::Clear => "clear",
        Tlp::Green => "green",
        Tlp::Amber => "amber",
        Tlp::AmberStrict => "amber+strict",
        Tlp::Red => "red",
    };
    let upper = format!("TLP:{}", word.to_ascii_uppercase());
    let mut forms = vec![
        // The TLP 2.0 extension.
        json!({"name": upper, "extensions": {TLP_2_EXTENSION_ID:
            {"extension_type": "property-extension", "tlp_2_0": word}}}),
        // OpenCTI's export.
        json!({"name": upper, "definition_type": "TLP", "definition": {"TLP": upper}}),
    ];
    // TLP 1.0 style, which has no AMBER+STRICT (and calls CLEAR white).
    if level != Tlp::AmberStrict {
        let v1 = if level == Tlp::Clear { "white" } else { word };
        forms.push(json!({"definition_type": "tlp", "definition": {"tlp": v1}}));
    }
    let mut objects = Vec::new();
    let mut ids = Vec::new();
    for (n, form) in forms.into_iter().enumerate() {
        let id = format!(
            "marking-definition--7e1c2a44-0b5d-4c1e-8f00-{:04x}{n:08x}",
            level as u8
        );
        let mut m = json!({"type": "marking-definition", "spec_version": "2.1", "id": id,
            "created": "2022-10-01T00:00:00.000Z"});
        m.as_object_mut()
            .unwrap()
            .extend(form.as_object().unwrap().clone());
        objects.push(m);
        objects.push(json!({"type": "indicator", "spec_version": "2.1",
            "id": format!("indicator--7e1c2a44-0b5d-4c1e-8f00-{:04x}{n:08x}", level as u8),
            "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
            "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
            "valid_from": "2016-01-01T00:00:00Z", "object_marking_refs": [id]}));
        ids.push(id);
    }
    (json!({"type": "bundle", "objects": objects}), ids)
}

#[test]
fn markings_under_other_ids_are_enforced_like_their_levels_at_every_relation() {
    let rule = AccessRule::default();
    for (level, row) in TABLE {
        // Arrange: the definitions arrive through an import, as the store learns them.
        let (bundle, ids) = custom_definitions(level);
        let (report, objs) = crate::support::import_bytes(bundle.to_string().as_bytes());
        assert_eq!(report.rejected, 0, "{:?}", report.rejections);
        let mut book = Markings::default();
        for o in &objs {
            if let StixObject::MarkingDefinition(m) = o {
                book.learn(m);
            }
        }
        for (o, id) in objs
            .iter()
            .filter(|o| o.object_type() == "indicator")
            .zip(&ids)
        {
            // Act and assert: each relation, as the table says; without the definition the
            // marking cannot be read and the object counts as RED.
            for (relation, allowed) in Relation::ALL.into_iter().zip(row) {
                let got = rule.decide_level(book.level_of(o), relation);
                assert_eq!(
                    got.is_allowed(),
                    allowed,
                    "{level:?} ({id}) read by {relation:?}"
                );
            }
            assert_eq!(Markings::default().level_of(o), Some(Tlp::Red), "{id}");
        }
    }
    // OpenCTI's AMBER+STRICT id is read as such even with no definition shipped.
    assert_eq!(
        AccessRule::level_of([OPENCTI_AMBER_STRICT_ID]),
        Some(Tlp::AmberStrict)
    );
}
