//! Integration tests of detente-match, one binary: the engine end to end, the real indicator
//! lists of `testdata` against generated logs, the index against a slow reference matcher,
//! and the reports.

mod engine;
mod output;
mod real_data;
mod reference;
mod support;
