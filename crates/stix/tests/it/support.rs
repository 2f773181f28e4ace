//! Finding the sample data in `testdata/` and running an import over it.

use std::ops::ControlFlow;
use std::path::PathBuf;

use detente_stix::{FileReport, ImportOptions, Importer, StixObject};

/// A file or folder of the repository's `testdata/`.
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel)
}

pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(data(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Imports one file with a fresh importer; returns its report and the accepted objects.
pub fn import_bytes(bytes: &[u8]) -> (FileReport, Vec<StixObject>) {
    let mut imp = Importer::new(ImportOptions::default());
    let mut objs = Vec::new();
    let report = imp
        .read(bytes, |o| {
            objs.push(o);
            ControlFlow::Continue(())
        })
        .expect("the file reads to the end");
    (report, objs)
}

pub fn import(rel: &str) -> (FileReport, Vec<StixObject>) {
    import_bytes(&read(rel))
}

/// Every JSON file under `rel`, sorted.
pub fn json_files(rel: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![data(rel)];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("a readable folder") {
            let p = e.expect("a folder entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
