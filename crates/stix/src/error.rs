//! Why a STIX object was refused.
//!
//! One small enum for everything the model checks. Messages name the property at fault and
//! what would be valid, because they end up in import reports read by analysts.

/// Why a JSON value is not a valid STIX 2.1 object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    /// The value is a JSON array, string or number where an object was expected.
    #[error("a STIX object must be a JSON object, not {0}")]
    NotAnObject(&'static str),
    /// A property the specification requires is absent.
    #[error("required property `{0}` is missing")]
    Missing(&'static str),
    /// A property has the wrong JSON type or a value the specification does not allow.
    #[error("property `{property}`: {reason}")]
    Invalid {
        /// The property name, with a path below it when nested (`external_references[0].url`).
        property: String,
        /// What is wrong and what would be valid.
        reason: String,
    },
    /// A rule between properties is broken, such as `modified` earlier than `created`.
    #[error("{0}")]
    Rule(String),
    /// The object is STIX 2.0 and the reader was told not to convert it.
    #[error(
        "STIX 2.0 content (no spec_version \"2.1\") is not accepted here: convert it to 2.1 or enable conversion"
    )]
    Stix20,
    /// STIX 2.0 content that has no faithful 2.1 form.
    #[error("cannot convert STIX 2.0 object to 2.1: {0}")]
    Conversion(String),
}

impl ObjectError {
    pub(crate) fn invalid(property: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            property: property.into(),
            reason: reason.into(),
        }
    }
}
