//! The audit crate's own tests, on bundles built in memory with the protocol and ledger
//! crates (no nodes): one test per kind of finding, the agreement pin, and the bundle format.

#![allow(clippy::unwrap_used)]

mod findings;
mod fixture;
mod format;
mod pin;
mod redacted;
