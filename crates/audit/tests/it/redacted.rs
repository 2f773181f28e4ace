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

/// The same exchange under either protocol: the facts a version 2 header carries are those
/// of the version 1 body, so the figures, and every case's derivation, are the same.
#[test]
fn the_same_exchange_under_either_protocol_yields_the_same_figures_and_cases() {
    // Arrange
    let mut v1 = crate::fixture::Exchange::new();
    let mut v2 = fixture::Exchange::new();
    for x in [&mut v1, &mut *v2] {
        x.work_case();
        x.file_with(Vec::new(), &crate::fixture::Tweak::default());
        x.work_case();
    }

    // Act
    let (a1, a2) = (v1.audit(), v2.audit());
    let cases = |x: &crate::fixture::Exchange| {
        let [us, _] = x.bundles();
        let derived = detente_audit::bundle_cases(std::io::Cursor::new(us)).unwrap();
        derived
            .cases
            .into_iter()
            .map(|(mut c, index)| {
                // Ids are random and titles are content: everything else must agree.
                c.applied.clear();
                c.title.clear();
                (serde_json::to_value(&c).unwrap(), index)
            })
            .collect::<Vec<_>>()
    };

    // Assert
    assert!(a1.verified() && a2.verified());
    assert_eq!(a1.figures, a2.figures);
    assert_eq!(cases(&v1), cases(&v2));
}
