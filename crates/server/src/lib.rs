//! A detente node over HTTP: the federation endpoint partners deliver to, the JSON API the
//! liaison officers' CLI talks to, and the outbox worker that delivers this node's messages.
//!
//! This is the only crate that speaks HTTP. It wires the pure crates (protocol, domain) to
//! the store; the rules themselves live in those crates.

mod checkpoints;
pub mod config;
mod connections;
pub mod error;
mod extract;
pub mod home;
pub mod indicators;
pub mod local_pair;
pub mod log_check;
pub mod node;
pub mod objects;
pub mod outbox;
pub mod review;
mod router;
mod routes;
mod serve;
pub mod taxii_pull;
mod trail;
pub mod transport;

pub use extract::token_hash;
pub use router::router;
pub use serve::{open_node, open_node_with, serve};
