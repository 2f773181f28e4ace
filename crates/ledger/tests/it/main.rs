//! The ledger's integration tests, in one binary to keep link times down: known-answer tests
//! against published vectors, property tests against a naive reference, signed-note and
//! checkpoint vectors, and an ignored timing run at 10 million entries.

mod checkpoints;
mod known_answer;
mod performance;
mod properties;
mod reference;
