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
fn the_circl_event_maps_to_clear_indicators_and_a_report() {
    let (report, objs) = import(CIRCL);
    assert_eq!(report.format, Some(Format::Misp));
    assert_eq!(report.rejected, 0, "{:?}", report.rejections);
    assert_eq!(report.misp_events, 1);
    let types: Vec<&str> = objs.iter().map(StixObject::object_type).collect();
    assert_eq!(
        types,
        [
            "identity",
            "indicator",
            "indicator",
            "indicator",
            "indicator",
            "indicator",
            "report"
        ]
    );
    // link ×2, comment and text have no observable form; they are counted, not lost.
    let unmapped: u64 = report.misp_unmapped.values().sum();
    assert_eq!(unmapped, 4, "{:?}", report.misp_unmapped);

    let patterns: Vec<&str> = objs
        .iter()
        .filter_map(|o| match o {
            StixObject::Indicator(i) => Some(i.pattern.as_str()),
            _ => None,
        })
        .collect();
    assert!(patterns.contains(&"[file:hashes.MD5 = '0749bae92ca336a02c83d126e04ec628']"));
    assert!(patterns.contains(&"[file:name = '3Z4wnG9603it23y.exe']"));
    assert!(patterns.contains(
        &"[windows-registry-key:key = 'Software\\\\Wow6432Node\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run' AND windows-registry-key:values[*].data = '%TEMP%\\\\3Z4wnG9603it23y.exe']"
    ), "{patterns:#?}");
    // tlp:white is TLP:CLEAR in TLP 2.0.
    for o in objs.iter().filter(|o| o.object_type() != "identity") {
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
    assert_eq!(r.object_refs.len(), 5);
    assert_eq!(r.published.as_str(), "2016-08-30T09:10:31.000Z");
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
    assert_eq!(first.accepted, 7);
    assert_eq!((second.accepted, second.duplicates), (0, 7));
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
    assert_eq!(total, 7);

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
