//! STIX 2.0 input: MITRE ATT&CK bundles and a MISP-to-STIX 2.0 export convert, or are refused
//! whole; never half-read.

use std::ops::ControlFlow;

use detente_stix::{ImportOptions, Importer, ObjectError, RejectReason, Stix20Policy, StixObject};

use crate::support::{import, json_files, read};

#[test]
fn every_mitre_attack_bundle_converts_to_valid_intrusion_sets() {
    let files = json_files("mitre-cti");
    assert_eq!(files.len(), 6);
    let mut names = Vec::new();
    for f in files {
        let rel = format!("mitre-cti/{}", f.file_name().unwrap().to_string_lossy());
        let (report, objs) = import(&rel);
        assert_eq!(report.bundle_spec_version.as_deref(), Some("2.0"));
        assert_eq!(report.rejected, 0, "{rel}: {:?}", report.rejections);
        assert_eq!(report.converted_from_2_0, report.accepted);
        for o in &objs {
            assert_eq!(o.common().map(|c| c.spec_version.as_str()), Some("2.1"));
            if let StixObject::IntrusionSet(is) = o {
                // Custom ATT&CK properties survive the conversion.
                assert!(is.extra.contains_key("x_mitre_version"), "{rel}");
                names.push(is.name.clone());
            }
        }
    }
    names.sort();
    assert!(names.contains(&"APT1".to_owned()), "{names:?}");
    assert_eq!(names.len(), 6, "{names:?}");
}

#[test]
fn the_misp_stix_2_0_export_converts_with_its_observed_data() {
    let (report, objs) = import("pymisp/stix2.json");
    assert_eq!(report.rejected, 0, "{:?}", report.rejections);
    let types: Vec<&str> = objs.iter().map(StixObject::object_type).collect();
    assert_eq!(types, ["identity", "report", "observed-data"]);
    let StixObject::Report(r) = &objs[1] else {
        panic!()
    };
    // 2.0 report labels were its type vocabulary; in 2.1 they are report_types.
    assert_eq!(
        r.report_types.as_deref(),
        Some(
            &[
                "Threat-Report".to_owned(),
                "misp:tool=\"misp2stix2\"".to_owned()
            ][..]
        )
    );
}

#[test]
fn with_conversion_off_every_2_0_object_is_refused_with_the_reason() {
    let mut imp = Importer::new(ImportOptions {
        stix_2_0: Stix20Policy::Reject,
        ..ImportOptions::default()
    });
    let bytes = read("mitre-cti/intrusion-set--6a2e693f-24e5-451a-9f88-b36a108e5662.json");
    let mut accepted = 0;
    let report = imp
        .read(bytes.as_slice(), |_| {
            accepted += 1;
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(accepted, 0);
    assert_eq!(report.rejected, report.read);
    assert!(
        report
            .rejections
            .iter()
            .all(|r| r.reason == RejectReason::Invalid(ObjectError::Stix20))
    );
}
