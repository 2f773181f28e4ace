//! STIX 2.1 for detente: the object model and its validation, STIX patterning, the TLP 2.0
//! access rule, and streaming import of STIX bundles and MISP events. Pure: no network, no
//! storage, no clock; readers and writers are generic over `std::io`.
//!
//! - [`StixObject::from_value`] parses and validates one object (identifier format, RFC 3339
//!   timestamps, `modified >= created`, required and cross-property rules, STIX patterns),
//!   keeping custom properties so they round-trip.
//! - [`Pattern::parse`] parses STIX patterns into a tree with positioned errors, and
//!   [`Pattern::observables`] lists what a matcher can look up directly.
//! - [`AccessRule`] decides whether a reader in a given [`Relation`] may see an object, from
//!   its TLP 2.0 (or 1.0) markings, resolved by [`Markings`] when they use other ids;
//!   [`Reader::relation`] says which relation a reader has to a stored object from its
//!   [`Sharing`] context.
//! - [`Importer`] streams bundles, TAXII envelopes and MISP events of any size in constant
//!   memory, converts STIX 2.0 and MISP to 2.1, deduplicates by (id, version) and reports
//!   every rejected object with its reason.

mod bundle;
mod error;
mod id;
mod import;
pub mod misp;
mod object;
pub mod pattern;
mod props;
mod sharing;
pub mod synthetic;
mod timestamp;
pub mod tlp;
pub mod v20;

pub use bundle::{Bundle, BundleWriter};
pub use error::ObjectError;
pub use id::{
    IdError, STIX_SCO_NAMESPACE, StixId, deterministic_observable_id, id_contributing_properties,
    is_valid_type_name,
};
pub use import::{
    FileReport, Format, ImportError, ImportOptions, Importer, RejectReason, Rejection,
};
pub use object::{
    Common, DomainName, EmailAddr, ExternalReference, File, GranularMarking, Hashes, Identity,
    Incident, Indicator, IntrusionSet, Ipv4Addr, Ipv6Addr, KillChainPhase, MarkingDefinition,
    ObservedData, OtherSco, OtherSdo, Relationship, Report, SCO_TYPES, SDO_TYPES, SPEC_VERSION,
    ScoCommon, Sighting, StixObject, ThreatActor, Url,
};
pub use pattern::{Pattern, PatternError};
pub use props::RawObject;
pub use sharing::{Reader, Sharing};
pub use timestamp::{Timestamp, TimestampError};
pub use tlp::{Access, AccessRule, MarkingKind, Markings, Relation, Tlp};
pub use v20::Stix20Policy;
