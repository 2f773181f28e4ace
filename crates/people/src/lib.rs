//! People inside a node: the agencies a party's node holds, their users, the roles users have
//! and the one table that says what each role may do ([`permission`]), with the secrets that
//! prove who a user is: Argon2id password hashes ([`password`]), TOTP second factors
//! ([`totp`]), API tokens and session ids ([`token`]), and the back-off after failed sign-ins
//! ([`lockout`]).
//!
//! Pure: no I/O, no clock (time comes in as an argument), no database. The store keeps users
//! and hashes; the server enforces [`permission::grant`] in one place for every route.

// Tests may unwrap: a failure there is the test failing.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod lockout;
pub mod names;
pub mod password;
pub mod permission;
pub mod role;
pub mod token;
pub mod totp;
pub mod trail;

pub use lockout::Lockout;
pub use names::{AgencyId, UserName};
pub use password::{Password, PasswordHash};
pub use permission::{Action, Scope, grant};
pub use role::{Role, Roles};
pub use token::{Secret, SecretHash};
pub use totp::TotpSecret;

/// Why a value from outside could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeopleError {
    /// A name, role or other value is not in the accepted form.
    #[error("{0}")]
    Invalid(String),
    /// A stored hash or secret cannot be read.
    #[error("stored credential is unreadable: {0}")]
    Unreadable(String),
}
