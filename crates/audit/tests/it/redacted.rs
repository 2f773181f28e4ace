//! Every finding test again, on redacted bundles of logs under protocol 2 (signed headers,
//! no bodies beside the entries): an auditor who sees no content finds the same tampering.

mod fixture {
    pub use crate::fixture::*;

    /// [`crate::fixture::Exchange`] under protocol 2, whose bundles carry no bodies.
    pub struct Exchange(crate::fixture::Exchange);

    impl Exchange {
        pub fn new() -> Self {
            Self::with_keys(key(1), key(2))
        }

        pub fn with_keys(us: detente_protocol::SecretKey, cn: detente_protocol::SecretKey) -> Self {
            Self(crate::fixture::Exchange::redacted_with_keys(us, cn))
        }
    }

    impl std::ops::Deref for Exchange {
        type Target = crate::fixture::Exchange;
        fn deref(&self) -> &Self::Target {
            &self.0
        }
    }

    impl std::ops::DerefMut for Exchange {
        fn deref_mut(&mut self) -> &mut Self::Target {
            &mut self.0
        }
    }
}

// The same tests, compiled a second time against the protocol 2 `fixture` above: that is
// the point, not an accident.
#[allow(clippy::duplicate_mod)]
#[path = "findings.rs"]
mod findings;
