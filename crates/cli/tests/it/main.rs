//! End-to-end tests of the `detente` binary: real processes, real HTTP on loopback, real
//! SQLite files, and `kill -9` in the middle of an exchange.

#![allow(clippy::unwrap_used)]

mod api_contract;
mod audit;
mod cli;
mod crash;
mod determinism;
mod harness;
mod indicators;
mod interop;
mod liaison;
mod matching;
mod operator;
mod people;
mod redacted;
mod review;
mod tamper;
mod verified;
