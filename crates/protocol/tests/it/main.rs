//! The protocol crate's one integration-test binary: published vectors (RFC 8785, RFC 8032),
//! the behaviour of signed envelopes and receipts at the border, and property tests.

mod ed25519;
mod envelope;
mod jcs;
mod properties;
mod receipt;
mod support;
mod v2;
