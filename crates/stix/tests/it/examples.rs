//! The OASIS STIX 2.1 examples and validator samples.

use serde_json::Value;

use detente_stix::{Format, ObjectError, RejectReason, StixObject};

use crate::support::{data, import, import_bytes, json_files, read};

#[test]
fn every_oasis_example_parses_and_validates() {
    let files = json_files("cti-stix2-json-schemas/examples");
    assert_eq!(files.len(), 7, "{files:?}");
    for f in files {
        let (report, objs) = import_bytes(&std::fs::read(&f).unwrap());
        assert_eq!(
            report.rejected,
            0,
            "{}: {:?}",
            f.display(),
            report.rejections
        );
        assert_eq!(report.accepted as usize, objs.len());
        assert!(report.accepted > 0, "{}", f.display());
    }
}

#[test]
fn the_apt1_report_yields_its_threat_actors_intrusion_set_and_indicators() {
    let (report, _) = import("cti-stix2-json-schemas/examples/threat-reports/apt1.json");
    assert_eq!(report.format, Some(Format::StixBundle));
    assert_eq!(report.by_type["indicator"], 12);
    assert_eq!(report.by_type["threat-actor"], 5);
    assert_eq!(report.by_type["intrusion-set"], 1);
    assert_eq!(report.by_type["relationship"], 30);
    assert_eq!(report.by_type["report"], 1);
}

#[test]
fn the_validators_invalid_timestamp_sample_is_rejected_for_its_reason() {
    let (report, objs) = import("cti-stix-validator/invalid_timestamp.json");
    assert!(objs.is_empty());
    assert_eq!(report.rejected, 1);
    let r = &report.rejections[0];
    assert_eq!(
        r.id.as_deref(),
        Some("identity--8c6af861-7b20-41ef-9b59-6344fd872a8f")
    );
    let RejectReason::Invalid(ObjectError::Rule(why)) = &r.reason else {
        panic!("{r}")
    };
    assert!(
        why.contains(
            "modified (2015-08-08T15:50:10.983Z) is earlier than created (2016-08-08T15:50:10.983Z)"
        ),
        "{why}"
    );
}

#[test]
fn the_tlp_amber_sample_is_the_published_amber_marking() {
    let (_, objs) = import("cti-stix-validator/tlp-amber.json");
    let [StixObject::MarkingDefinition(m)] = objs.as_slice() else {
        panic!("{objs:?}")
    };
    assert_eq!(
        m.id,
        detente_stix::tlp::marking_id(detente_stix::Tlp::Amber)
    );
    // The same definition under another id (as a tool that mints its own ids would ship it)
    // still reads as AMBER, from its TLP 2.0 extension.
    let mut renamed = (**m).clone();
    renamed.id = "marking-definition--0f3b6c2e-7a55-4d2e-9a57-1b2c3d4e5f60"
        .parse()
        .unwrap();
    assert_eq!(
        detente_stix::tlp::marking_kind(&renamed),
        detente_stix::MarkingKind::Tlp(detente_stix::Tlp::Amber)
    );
}

#[test]
fn the_taxii_servers_objects_validate() {
    let v: Value = serde_json::from_slice(&read("cti-taxii-server/default_data.json")).unwrap();
    let mut total = 0;
    for c in v["trustgroup1"]["collections"].as_array().unwrap() {
        let envelope = serde_json::json!({"more": false, "objects": c["objects"]});
        let (report, objs) = import_bytes(&serde_json::to_vec(&envelope).unwrap());
        assert_eq!(report.rejected, 0, "{:?}", report.rejections);
        total += objs.len();
    }
    assert_eq!(total, 8);
}

/// Every example object, parsed and written back, is the same JSON: nothing the model does
/// not know is lost, nothing is added.
#[test]
fn example_objects_round_trip_exactly() {
    let mut n = 0;
    for f in json_files("cti-stix2-json-schemas/examples") {
        let v: Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        let objects = match v.get("objects") {
            Some(Value::Array(a)) => a.clone(),
            _ => vec![v],
        };
        for o in objects {
            let parsed = StixObject::from_value(o.clone()).unwrap();
            assert_eq!(parsed.to_value(), o, "{}", f.display());
            let again: StixObject =
                serde_json::from_str(&serde_json::to_string(&parsed).unwrap()).unwrap();
            assert_eq!(again, parsed);
            n += 1;
        }
    }
    assert!(n > 90, "{n}");
}

#[test]
fn the_interop_schemas_folder_is_left_alone() {
    // The interop folder holds JSON schemas, not STIX content: reading one must fail cleanly.
    let bytes = std::fs::read(data("cti-stix2-json-schemas/interop/indicator.json")).unwrap();
    let mut imp = detente_stix::Importer::new(Default::default());
    let r = imp.read(bytes.as_slice(), |_| std::ops::ControlFlow::Continue(()));
    match r {
        Ok(rep) => assert_eq!(rep.accepted, 0, "{rep:?}"),
        Err(e) => assert!(matches!(e, detente_stix::ImportError::NotStix(_)), "{e}"),
    }
}
