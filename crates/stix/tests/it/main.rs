//! Integration tests of detente-stix against published samples: the OASIS STIX 2.1 examples
//! and validator samples, the OASIS TAXII server's data, MITRE ATT&CK STIX 2.0 bundles, and
//! real MISP events from CIRCL and ESET (see `testdata/LICENSES.md` for their sources).

// A failed unwrap in a test is a test failure with a backtrace, which is all we want.
#![allow(clippy::unwrap_used)]

mod examples;
mod misp;
mod pattern_props;
mod stix20;
mod support;
mod tlp_table;
