//! Integration tests of a detente node: two real nodes (US and CN) on loopback talk to each
//! other over HTTP(S) while the tests drive them through the JSON API and forge envelopes
//! against the federation endpoint. One test binary, as STYLE.md asks, to keep links short.

mod api;
mod concurrency;
mod connections;
mod federation;
mod helpers;
mod inclusion;
mod lifecycle;
mod log;
mod objects;
mod outbox;
mod people;
mod postgres;
mod pull;
mod rate_limit;
mod rebuild;
mod review;
mod signed;
mod taxii;
mod tls;
mod v2;
