//! MISP import on real events: CIRCL's OSINT feed event and ESET's published events, in the
//! bare feed form and the `response` wrapper, with objects, tags and galaxies.

use std::ops::ControlFlow;

use serde_json::Value;

use detente_stix::misp::{Manifest, tlp_of_tag};
use detente_stix::tlp::{TLP_CLEAR_ID, marking_id};
use detente_stix::{Format, ImportOptions, Importer, StixObject, Tlp};

use crate::support::{data, import, import_bytes, json_files, read};

const CIRCL: &str = "pymisp/57c4445b-c548-4654-af0b-4be3950d210f.json";

#[test]
fn the_circl_event_maps_to_clear_indicators_notes_and_a_report() {
    let (report, objs) = import(CIRCL);
    assert_eq!(report.format, Some(Format::Misp));
    assert_eq!(report.rejected, 0, "{:?}", report.rejections);
    assert_eq!(report.misp_events, 1);
    let types: Vec<&str> = objs.iter().map(StixObject::object_type).collect();
    assert_eq!(
        types,
        [
            "identity",
            "extension-definition",
            "identity",
            "note",
            "note",
            "indicator",
            "indicator",
            "indicator",
            "indicator",
            "indicator",
            "report"
        ]
    );
    // Regression: the two links, the comment and the text were counted as unmapped and lost;
    // the links are now the report's sources and the texts are notes on it.
    assert!(
        report.misp_unmapped.is_empty(),
        "{:?}",
        report.misp_unmapped
    );

    let patterns = patterns_of(&objs);
    assert!(patterns.contains(&"[file:hashes.MD5 = '0749bae92ca336a02c83d126e04ec628']"));
    assert!(patterns.contains(&"[file:name = '3Z4wnG9603it23y.exe']"));
    assert!(patterns.contains(
        &"[windows-registry-key:key = 'Software\\\\Wow6432Node\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run' AND windows-registry-key:values[*].data = '%TEMP%\\\\3Z4wnG9603it23y.exe']"
    ), "{patterns:#?}");
    // tlp:white is TLP:CLEAR in TLP 2.0, and every object made from the event carries it,
    // the organisation's identity included.
    for o in &objs {
        let refs: Vec<String> = o
            .object_marking_refs()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(refs, [TLP_CLEAR_ID], "{}", o.id());
    }
    let StixObject::Report(r) = objs.last().unwrap() else {
        panic!()
    };
    assert_eq!(
        r.common.id.to_string(),
        "report--57c4445b-c548-4654-af0b-4be3950d210f"
    );
    assert_eq!(r.name, "Ransomware - Xorist");
    assert_eq!(r.object_refs.len(), 7);
    assert_eq!(r.published.as_str(), "2016-08-30T09:10:31.000Z");
    let links: Vec<&str> = r
        .common
        .external_references
        .iter()
        .flatten()
        .filter_map(|x| x.url.as_deref())
        .collect();
    assert_eq!(links.len(), 2, "{links:?}");
    assert!(
        links[1].starts_with("http://www.xylibox.com/2011/06/"),
        "{links:?}"
    );
    let notes: Vec<Value> = objs
        .iter()
        .filter(|o| o.object_type() == "note")
        .map(|o| serde_json::to_value(o).unwrap())
        .collect();
    assert_eq!(notes[0]["content"], "UPX packed");
    assert_eq!(notes[1]["object_refs"], serde_json::json!([r.common.id]));
}

#[test]
fn misp_facts_travel_in_the_extension_never_as_top_level_custom_properties() {
    // Regression: `x_misp_*` properties at the top level made `stix2.parse` refuse exports
    // and `stix2-validator --strict` fail.
    let mut objects = import(CIRCL).1;
    objects.extend(import("eset-malware-ioc/nukesped_lazarus/lazarus_3cx.json").1);
    for o in &objects {
        let v = serde_json::to_value(o).unwrap();
        let custom: Vec<&String> = v
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with("x_"))
            .collect();
        assert!(custom.is_empty(), "{}: {custom:?}", o.id());
    }
    // The definition the extension refers to comes with the objects.
    let definition = objects
        .iter()
        .find(|o| o.object_type() == "extension-definition")
        .expect("the MISP extension's definition");
    let indicator = objects
        .iter()
        .find(|o| o.object_type() == "indicator")
        .unwrap();
    let v = serde_json::to_value(indicator).unwrap();
    let ext = &v["extensions"][definition.id().as_str()];
    assert_eq!(ext["extension_type"], "property-extension");
    assert_eq!(ext["attribute_type"], "filename");
    assert_eq!(ext["category"], "Payload delivery");
}

/// The patterns of the indicators among `objs`, in order.
fn patterns_of(objs: &[StixObject]) -> Vec<&str> {
    objs.iter()
        .filter_map(|o| match o {
            StixObject::Indicator(i) => Some(i.pattern.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn every_eset_event_imports_without_a_rejected_object() {
    let files = json_files("eset-malware-ioc");
    assert!(files.len() >= 50, "{}", files.len());
    let (mut events, mut indicators, mut observed, mut actors) = (0, 0, 0, 0);
    let mut forms = std::collections::BTreeSet::new();
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let first: Value = serde_json::from_slice(&bytes).unwrap();
        forms.insert(if first.get("response").is_some() {
            "response"
        } else {
            "Event"
        });
        let (report, objs) = import_bytes(&bytes);
        assert_eq!(
            report.rejected,
            0,
            "{}: {:#?}",
            f.display(),
            report.rejections
        );
        events += report.misp_events;
        for o in &objs {
            match o {
                StixObject::Indicator(i) => {
                    indicators += 1;
                    if i.pattern_type == "stix" {
                        assert!(i.stix_pattern().is_some());
                    }
                }
                StixObject::ObservedData(_) => observed += 1,
                StixObject::ThreatActor(_) | StixObject::IntrusionSet(_) => actors += 1,
                _ => {}
            }
        }
    }
    assert_eq!(
        forms.len(),
        2,
        "both the bare and the response form are covered"
    );
    assert_eq!(events, 54);
    assert!(indicators > 900, "{indicators}");
    assert!(observed > 1000, "{observed}");
    assert!(actors > 10, "{actors}");
}

#[test]
fn galaxies_become_threat_actors_with_aliases() {
    let (_, objs) = import("eset-malware-ioc/nukesped_lazarus/lazarus_3cx.json");
    let lazarus = objs
        .iter()
        .find_map(|o| match o {
            StixObject::ThreatActor(t) if t.name == "Lazarus Group" => Some(t),
            _ => None,
        })
        .expect("Lazarus Group from the threat-actor galaxy");
    assert!(
        lazarus
            .aliases
            .as_ref()
            .is_some_and(|a| a.iter().any(|s| s == "Hidden Cobra"))
    );
    let report = objs.iter().find_map(|o| match o {
        StixObject::Report(r) => Some(r),
        _ => None,
    });
    assert!(report.unwrap().object_refs.contains(&lazarus.common.id));
}

#[test]
fn importing_the_same_event_twice_yields_duplicates_only() {
    let bytes = read(CIRCL);
    let mut imp = Importer::new(ImportOptions::default());
    let first = imp
        .read(bytes.as_slice(), |_| ControlFlow::Continue(()))
        .unwrap();
    let second = imp
        .read(bytes.as_slice(), |_| ControlFlow::Continue(()))
        .unwrap();
    assert_eq!(first.accepted, 11);
    assert_eq!((second.accepted, second.duplicates), (0, 11));
}

#[test]
fn a_misp_feed_folder_imports_through_its_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let uuid = "57c4445b-c548-4654-af0b-4be3950d210f";
    std::fs::write(
        dir.path().join("manifest.json"),
        format!(r#"{{"{uuid}": {{"info": "Ransomware - Xorist", "timestamp": "1472541011", "Tag": [{{"name": "tlp:white"}}]}}}}"#),
    )
    .unwrap();
    std::fs::copy(data(CIRCL), dir.path().join(format!("{uuid}.json"))).unwrap();

    let manifest =
        Manifest::parse(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    let mut imp = Importer::new(ImportOptions::default());
    let mut total = 0;
    for entry in &manifest.events {
        let file = std::fs::File::open(dir.path().join(entry.file_name())).unwrap();
        let report = imp.read(file, |_| ControlFlow::Continue(())).unwrap();
        total += report.accepted;
    }
    assert_eq!(total, 11);

    // The manifest itself is not an event file; importing it says what to do instead.
    let err = imp
        .read(
            std::fs::File::open(dir.path().join("manifest.json")).unwrap(),
            |_| ControlFlow::Continue(()),
        )
        .unwrap_err();
    assert!(err.to_string().contains("feed manifest"), "{err}");
}

#[test]
fn every_tlp_value_of_the_misp_taxonomy_maps_or_is_not_a_level() {
    let t: Value = serde_json::from_slice(&read("misp-taxonomies/tlp/machinetag.json")).unwrap();
    assert_eq!(t["namespace"], "tlp");
    let mut seen = Vec::new();
    for p in t["predicates"].as_array().unwrap() {
        let value = p["value"].as_str().unwrap();
        let tag = format!("tlp:{value}");
        let level = tlp_of_tag(&tag);
        let want = match value {
            "clear" | "white" => Some(Tlp::Clear),
            "green" => Some(Tlp::Green),
            "amber" => Some(Tlp::Amber),
            "amber+strict" => Some(Tlp::AmberStrict),
            "red" => Some(Tlp::Red),
            // Chatham House Rule and the joke level restrict nothing a TLP level expresses.
            "ex:chr" | "unclear" => None,
            other => panic!("the taxonomy gained a value: {other}"),
        };
        assert_eq!(level, want, "{tag}");
        seen.push(value.to_owned());
    }
    assert_eq!(seen.len(), 8);
}

#[test]
fn attribute_tags_can_only_tighten_the_events_level() {
    let event = serde_json::json!({"Event": {
    "uuid": "5b773e07-e694-458b-b99c-27f30a016219", "info": "t", "timestamp": "1534000000",
    "Tag": [{"name": "tlp:green"}],
    "Attribute": [
        {"uuid": "5b773e07-0000-4000-8000-000000000001", "type": "ip-dst", "value": "198.51.100.7", "to_ids": true, "Tag": [{"name": "tlp:red"}]},
        {"uuid": "5b773e07-0000-4000-8000-000000000002", "type": "domain", "value": "x.example", "to_ids": true, "Tag": [{"name": "tlp:clear"}]},
        {"uuid": "5b773e07-0000-4000-8000-000000000003", "type": "ip-dst", "value": "198.51.100.8", "to_ids": false}
    ]}});
    let (report, objs) = import_bytes(&serde_json::to_vec(&event).unwrap());
    assert_eq!(report.rejected, 0, "{:?}", report.rejections);
    let level_of = |id: &str| {
        let o = objs.iter().find(|o| o.id().to_string() == id).unwrap();
        o.object_marking_refs().to_vec()
    };
    assert_eq!(
        level_of("indicator--5b773e07-0000-4000-8000-000000000001"),
        [marking_id(Tlp::Red)]
    );
    assert_eq!(
        level_of("indicator--5b773e07-0000-4000-8000-000000000002"),
        [marking_id(Tlp::Green)]
    );
    assert_eq!(
        level_of("observed-data--5b773e07-0000-4000-8000-000000000003"),
        [marking_id(Tlp::Green)]
    );
    // The observable behind the observed-data has the deterministic id and is shipped too.
    assert!(objs.iter().any(|o| o.object_type() == "ipv4-addr"));
}

/// A MISP event with `props` over a minimal event, imported: the objects it yields.
fn event(props: Value) -> Vec<StixObject> {
    let mut e = serde_json::json!({
        "uuid": "5b773e07-e694-458b-b99c-27f30a016219", "info": "t", "timestamp": "1534000000",
        "Orgc": {"name": "ACME CERT", "uuid": "5b773e07-1111-4222-8333-444455556666"},
    });
    e.as_object_mut()
        .unwrap()
        .extend(props.as_object().unwrap().clone());
    let (report, objs) =
        import_bytes(&serde_json::to_vec(&serde_json::json!({"Event": e})).unwrap());
    assert_eq!(report.rejected, 0, "{:?}", report.rejections);
    objs
}

/// The TLP marking ids of the object `id`.
fn markings_of(objs: &[StixObject], id: &str) -> Vec<String> {
    let o = objs
        .iter()
        .find(|o| o.id().as_str() == id)
        .unwrap_or_else(|| {
            panic!(
                "no {id} in {:?}",
                objs.iter().map(StixObject::id).collect::<Vec<_>>()
            )
        });
    o.object_marking_refs()
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Objects made from the event: not the extension's definition and its author, which are
/// public schema facts.
fn made_from_event(objs: &[StixObject]) -> Vec<&StixObject> {
    let schema: Vec<String> = objs
        .iter()
        .filter(|o| o.object_type() == "extension-definition")
        .flat_map(|o| {
            let author = o.common().and_then(|c| c.created_by_ref.as_ref());
            [Some(o.id().to_string()), author.map(ToString::to_string)]
        })
        .flatten()
        .collect();
    objs.iter()
        .filter(|o| !schema.contains(&o.id().to_string()))
        .collect()
}

#[test]
fn every_object_of_a_red_event_is_red_its_identity_and_galaxy_objects_included() {
    // Regression: the organisation's identity and the threat actor from the galaxy of a
    // tlp:red event were unmarked, so they reached partners as the default allowed.
    let objs = event(serde_json::json!({
        "Tag": [{"name": "tlp:red"}],
        "Attribute": [{"uuid": "5b773e07-0000-4000-8000-000000000001", "type": "ip-dst",
                       "value": "198.51.100.7", "to_ids": true}],
        "Galaxy": [
            {"type": "threat-actor", "GalaxyCluster": [{"uuid": "68391641-859f-4a9a-9a1e-3e5cf71ec376",
                "value": "Lazarus Group", "meta": {"synonyms": ["Hidden Cobra"]}}]},
            {"type": "mitre-attack-pattern", "GalaxyCluster": [{"uuid": "baf60e1a-afe5-4d31-830f-1b1ba2351884",
                "value": "Software - T1592.002", "meta": {"external_id": ["T1592.002"]}}]}
        ]
    }));
    let made = made_from_event(&objs);
    assert!(made.len() >= 5, "{made:?}");
    for o in made {
        assert_eq!(
            o.object_marking_refs()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [marking_id(Tlp::Red).to_string()],
            "{}",
            o.id()
        );
    }
}

#[test]
fn misp_distribution_restricts_conservatively_and_never_loosens_a_tag() {
    let ip = |n: u32, distribution: Option<i64>| {
        let mut a = serde_json::json!({"uuid": format!("5b773e07-0000-4000-8000-{n:012}"),
            "type": "ip-dst", "value": format!("198.51.100.{n}"), "to_ids": true});
        if let Some(d) = distribution {
            a["distribution"] = serde_json::json!(d.to_string());
        }
        a
    };
    let indicator = |n: u32| format!("indicator--5b773e07-0000-4000-8000-{n:012}");
    // Event distribution alone: 0 organisation only, 1 community, 2 connected, 3 all,
    // 4 sharing group, and a value MISP does not define.
    for (distribution, want) in [
        (0, Some(Tlp::AmberStrict)),
        (1, Some(Tlp::AmberStrict)),
        (2, Some(Tlp::Amber)),
        (3, None),
        (4, Some(Tlp::Red)),
        (9, Some(Tlp::Red)),
    ] {
        let objs =
            event(serde_json::json!({"distribution": distribution, "Attribute": [ip(1, None)]}));
        let want: Vec<String> = want
            .map(|l| marking_id(l).to_string())
            .into_iter()
            .collect();
        assert_eq!(
            markings_of(&objs, &indicator(1)),
            want,
            "distribution {distribution}"
        );
        let report = "grouping--5b773e07-e694-458b-b99c-27f30a016219";
        assert_eq!(
            markings_of(&objs, report),
            want,
            "distribution {distribution}"
        );
    }
    // An attribute can be narrower than its event (or inherit with 5), never wider; a TLP
    // tag stricter than the distribution stays.
    let objs = event(serde_json::json!({
        "distribution": "3", "Tag": [{"name": "tlp:green"}],
        "Attribute": [ip(1, Some(0)), ip(2, Some(5)), ip(3, Some(3))],
        "Object": [{"name": "domain-ip", "uuid": "5b773e07-2222-4000-8000-000000000000",
                    "distribution": "4", "Attribute": [ip(4, Some(5))]}]
    }));
    for (n, level) in [
        (1, Tlp::AmberStrict),
        (2, Tlp::Green),
        (3, Tlp::Green),
        (4, Tlp::Red),
    ] {
        assert_eq!(
            markings_of(&objs, &indicator(n)),
            [marking_id(level).to_string()],
            "attribute {n}"
        );
    }
}

#[test]
fn a_cidr_attribute_becomes_an_issubset_pattern() {
    // Regression: `[ipv4-addr:value = '198.51.100.0/24']` matches no address in the OASIS
    // matcher; STIX tests membership of a block with ISSUBSET.
    let objs = event(serde_json::json!({"Attribute": [
        {"uuid": "5b773e07-0000-4000-8000-000000000001", "type": "ip-dst",
         "value": "198.51.100.0/24", "to_ids": true},
        {"uuid": "5b773e07-0000-4000-8000-000000000002", "type": "ip-src",
         "value": "2001:db8::/32", "to_ids": true},
        {"uuid": "5b773e07-0000-4000-8000-000000000003", "type": "ip-dst",
         "value": "198.51.100.7", "to_ids": true}
    ]}));
    let patterns = patterns_of(&objs);
    assert_eq!(
        patterns,
        [
            "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
            "[ipv6-addr:value ISSUBSET '2001:db8::/32']",
            "[ipv4-addr:value = '198.51.100.7']"
        ]
    );
    // The matcher still looks the block up.
    let StixObject::Indicator(block) = &objs
        .iter()
        .find(|o| o.object_type() == "indicator")
        .unwrap()
    else {
        unreachable!()
    };
    let found = block.stix_pattern().unwrap().observables();
    assert_eq!(found.observables[0].value, "198.51.100.0/24");
    assert!(found.complete);
}

#[test]
fn attack_pattern_clusters_are_kept_with_their_attack_ids() {
    // Regression: ATT&CK technique clusters (238 in ESET's events) were dropped silently.
    let (report, objs) = import("eset-malware-ioc/windigo/ebury.misp.json");
    let techniques: Vec<Value> = objs
        .iter()
        .filter(|o| o.object_type() == "attack-pattern")
        .map(|o| serde_json::to_value(o).unwrap())
        .collect();
    assert!(techniques.len() > 5, "{}", techniques.len());
    let software = techniques
        .iter()
        .find(|t| t["external_references"][0]["external_id"] == "T1592.002")
        .expect("Software - T1592.002");
    assert_eq!(software["name"], "Software");
    assert_eq!(
        software["external_references"][0]["source_name"],
        "mitre-attack"
    );
    assert_eq!(
        software["kill_chain_phases"][0],
        serde_json::json!({"kill_chain_name": "mitre-attack", "phase_name": "reconnaissance"})
    );
    // A galaxy without a STIX form is counted, not dropped in silence.
    assert!(
        report
            .misp_unmapped
            .keys()
            .any(|k| k.starts_with("galaxy eset-threat-actor")),
        "{:?}",
        report.misp_unmapped
    );
}

#[test]
fn an_unpublished_event_becomes_a_grouping_with_no_publication_date() {
    // Regression: unpublished events became reports "published" at their last change.
    // STIX 2.1 requires a report's `published`, so an unpublished event is a grouping.
    let objs = event(
        serde_json::json!({"published": false, "publish_timestamp": "0",
        "Attribute": [{"uuid": "5b773e07-0000-4000-8000-000000000001", "type": "domain",
                       "value": "c2.example", "to_ids": true}]}),
    );
    let last = serde_json::to_value(objs.last().unwrap()).unwrap();
    assert_eq!(last["type"], "grouping");
    assert_eq!(last["context"], "unspecified");
    assert!(last.get("published").is_none(), "{last}");
    assert!(!objs.iter().any(|o| o.object_type() == "report"));
}

#[test]
fn a_link_more_restricted_than_its_event_becomes_a_note_with_its_own_marking() {
    let objs = event(
        serde_json::json!({"Tag": [{"name": "tlp:green"}], "published": true,
        "publish_timestamp": "1534000000",
        "Attribute": [
            {"uuid": "5b773e07-0000-4000-8000-000000000001", "type": "link",
             "value": "https://blog.example/public-analysis"},
            {"uuid": "5b773e07-0000-4000-8000-000000000002", "type": "link",
             "value": "https://intranet.example/case/42", "Tag": [{"name": "tlp:red"}]}
        ]}),
    );
    let report = serde_json::to_value(objs.last().unwrap()).unwrap();
    assert_eq!(report["type"], "report");
    assert_eq!(
        report["external_references"],
        serde_json::json!([{"source_name": "blog.example", "url": "https://blog.example/public-analysis"}])
    );
    let note = "note--5b773e07-0000-4000-8000-000000000002";
    assert_eq!(markings_of(&objs, note), [marking_id(Tlp::Red).to_string()]);
}
