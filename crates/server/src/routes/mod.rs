//! HTTP handlers, one module per resource.

pub mod federation;
pub mod health;
pub mod indicators;
pub mod log;
pub mod requests;
pub mod review;
pub mod session;
pub mod status;
pub mod taxii;
pub mod trail;
