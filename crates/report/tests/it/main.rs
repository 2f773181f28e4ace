//! The review's integration tests: figures with known answers on hand-built cases,
//! determinism under any input order, and the shape of the JSON, CSV and HTML outputs.

mod determinism;
mod figures;
mod fixtures;
mod output;
mod rules;
mod scenario;
