//! Property tests of the request lifecycle and the deadline clock.
//!
//! Two simulated nodes, a requester and a responder, exchange lifecycle messages. Each composes
//! only what is legal against its own view (the official messages it has received plus its
//! own sent ones), messages cross in transit in random interleavings, and each receipt is
//! stamped by a clock up to 5 s off. The properties: both nodes derive the same case from the
//! same messages in any order, every derived case is reachable by legal steps, voided
//! messages change nothing, and the clock never counts negative or more pause than time.

// The unit tests' fixtures, compiled here too; they name the crate's types through the
// imports below, as `crate::Agreement` and so on.
#[allow(dead_code)]
#[path = "../../src/fixtures.rs"]
mod fixtures;
mod properties;
mod simulation;

use detente_domain::{Agreement, Case, CaseStatus, OfficialMessage, Party, Role};
