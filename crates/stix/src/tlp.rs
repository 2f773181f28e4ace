//! TLP 2.0 as STIX markings, and the access rule every read path applies.
//!
//! The marking-definition ids are the published ones: TLP 2.0 from the OASIS TLP 2.0
//! extension (`extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`, the AMBER one
//! checked against `cti-stix-validator/tlp-amber.json`), TLP 1.0 from STIX 2.1 §7.2.1.4 (and the
//! `tlp_*` definitions of the OASIS `marking-definition.json` schema). TLP 1.0 ids are read on
//! input (WHITE means CLEAR) and never written.
//!
//! The rule: each level names the narrowest circle that may read, and the reader's relation
//! to the object must be at least that close.
//!
//! | level        | who may read                                   |
//! |--------------|------------------------------------------------|
//! | CLEAR        | anyone                                         |
//! | GREEN        | the agreement's community and closer           |
//! | AMBER        | the named partner organisation and closer      |
//! | AMBER+STRICT | only inside the receiving organisation         |
//! | RED          | only the named recipients of that exchange     |
//!
//! An object with no TLP marking gets the configured default (AMBER out of the box). When an
//! object carries several TLP markings (whole-object or granular), the most restrictive wins.

use serde_json::{Map, Value, json};

pub use detente_protocol::Tlp;

use crate::id::StixId;
use crate::object::{MarkingDefinition, StixObject};
use crate::timestamp::Timestamp;

/// The id of the OASIS TLP 2.0 extension definition.
pub const TLP_2_EXTENSION_ID: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// TLP 2.0 `TLP:CLEAR`.
pub const TLP_CLEAR_ID: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
/// TLP 2.0 `TLP:GREEN`.
pub const TLP_GREEN_ID: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
/// TLP 2.0 `TLP:AMBER`.
pub const TLP_AMBER_ID: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
/// TLP 2.0 `TLP:AMBER+STRICT`.
pub const TLP_AMBER_STRICT_ID: &str = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
/// TLP 2.0 `TLP:RED`.
pub const TLP_RED_ID: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

/// The five TLP 2.0 marking definitions, least restrictive first.
pub const TLP_2_IDS: [&str; 5] = [
    TLP_CLEAR_ID,
    TLP_GREEN_ID,
    TLP_AMBER_ID,
    TLP_AMBER_STRICT_ID,
    TLP_RED_ID,
];

/// TLP 1.0 `TLP:WHITE` (read as CLEAR).
pub const TLP1_WHITE_ID: &str = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
/// TLP 1.0 `TLP:GREEN`.
pub const TLP1_GREEN_ID: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
/// TLP 1.0 `TLP:AMBER`.
pub const TLP1_AMBER_ID: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
/// TLP 1.0 `TLP:RED`.
pub const TLP1_RED_ID: &str = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";

const TLP_2_CREATED: &str = "2022-10-01T00:00:00.000Z";

/// The TLP level a marking-definition id stands for, TLP 2.0 or 1.0; `None` for any other
/// marking (statements, custom markings). Upper-case hex is recognised too.
pub fn tlp_of_marking_id(id: &str) -> Option<Tlp> {
    if id.bytes().any(|b| b.is_ascii_uppercase()) {
        return tlp_of_marking_id(&id.to_ascii_lowercase());
    }
    Some(match id {
        TLP_CLEAR_ID | TLP1_WHITE_ID => Tlp::Clear,
        TLP_GREEN_ID | TLP1_GREEN_ID => Tlp::Green,
        TLP_AMBER_ID | TLP1_AMBER_ID => Tlp::Amber,
        TLP_AMBER_STRICT_ID => Tlp::AmberStrict,
        TLP_RED_ID | TLP1_RED_ID => Tlp::Red,
        _ => return None,
    })
}

/// The TLP 2.0 marking-definition id to reference for `level`.
pub fn marking_id(level: Tlp) -> StixId {
    let s = match level {
        Tlp::Clear => TLP_CLEAR_ID,
        Tlp::Green => TLP_GREEN_ID,
        Tlp::Amber => TLP_AMBER_ID,
        Tlp::AmberStrict => TLP_AMBER_STRICT_ID,
        Tlp::Red => TLP_RED_ID,
    };
    StixId::parse(s).expect("the published TLP ids are valid STIX ids")
}

/// The published TLP 2.0 marking-definition object for `level`, to ship in exported bundles.
pub fn marking_definition(level: Tlp) -> MarkingDefinition {
    let value = match level {
        Tlp::Clear => "clear",
        Tlp::Green => "green",
        Tlp::Amber => "amber",
        Tlp::AmberStrict => "amber+strict",
        Tlp::Red => "red",
    };
    let mut ext = Map::new();
    ext.insert(
        TLP_2_EXTENSION_ID.into(),
        json!({"extension_type": "property-extension", "tlp_2_0": value}),
    );
    MarkingDefinition {
        spec_version: "2.1".into(),
        id: marking_id(level),
        created_by_ref: None,
        created: Timestamp::parse(TLP_2_CREATED).expect("a valid constant timestamp"),
        name: Some(level.label().into()),
        definition_type: None,
        definition: None,
        external_references: None,
        object_marking_refs: None,
        granular_markings: None,
        extensions: Some(ext),
        extra: Map::new(),
    }
}

/// The TLP level a marking-definition object defines, by its id or, for markings under other
/// ids, by its TLP 2.0 extension or TLP 1.0 definition.
pub fn tlp_of_definition(m: &MarkingDefinition) -> Option<Tlp> {
    if let Some(t) = tlp_of_marking_id(m.id.as_str()) {
        return Some(t);
    }
    let from_word = |w: &str| match w.to_ascii_lowercase().as_str() {
        "clear" | "white" => Some(Tlp::Clear),
        "green" => Some(Tlp::Green),
        "amber" => Some(Tlp::Amber),
        "amber+strict" => Some(Tlp::AmberStrict),
        "red" => Some(Tlp::Red),
        _ => None,
    };
    let ext = m
        .extensions
        .as_ref()
        .and_then(|e| e.get(TLP_2_EXTENSION_ID))
        .and_then(|e| e.get("tlp_2_0"))
        .and_then(Value::as_str);
    let v1 = (m.definition_type.as_deref() == Some("tlp"))
        .then(|| m.definition.as_ref()?.get("tlp")?.as_str())
        .flatten();
    ext.or(v1).and_then(from_word)
}

/// How the reader stands towards an object, from closest to farthest. Each is a strictly
/// wider circle than the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relation {
    /// A person or party named as a recipient of the exchange that carried the object.
    NamedRecipient,
    /// Someone inside the organisation that received the object, not individually named.
    SameOrganisation,
    /// The organisation named as partner in the exchange (the agreement's other party).
    PartnerOrganisation,
    /// A member of the agreement's community.
    Community,
    /// Anyone else, including the public.
    Anyone,
}

impl Relation {
    /// Every relation, closest first.
    pub const ALL: [Relation; 5] = [
        Relation::NamedRecipient,
        Relation::SameOrganisation,
        Relation::PartnerOrganisation,
        Relation::Community,
        Relation::Anyone,
    ];
}

/// The widest circle a level may reach.
pub fn widest_audience(level: Tlp) -> Relation {
    match level {
        Tlp::Clear => Relation::Anyone,
        Tlp::Green => Relation::Community,
        Tlp::Amber => Relation::PartnerOrganisation,
        Tlp::AmberStrict => Relation::SameOrganisation,
        Tlp::Red => Relation::NamedRecipient,
    }
}

/// Whether `level` allows a reader standing in `relation`.
pub fn permits(level: Tlp, relation: Relation) -> bool {
    relation <= widest_audience(level)
}

/// The decision for one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The reader may see the object.
    Allow {
        /// The level that decided.
        level: Tlp,
        /// Whether the level came from the default, the object having no TLP marking.
        defaulted: bool,
    },
    /// The reader may not see the object.
    Deny {
        /// The level that decided.
        level: Tlp,
        /// Whether the level came from the default.
        defaulted: bool,
    },
}

impl Access {
    /// Whether the read is allowed.
    pub fn is_allowed(self) -> bool {
        matches!(self, Access::Allow { .. })
    }
}

/// The access rule, with the level assumed for objects that carry no TLP marking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessRule {
    /// The level of unmarked objects; AMBER unless configured.
    pub default_level: Tlp,
}

impl Default for AccessRule {
    fn default() -> Self {
        Self {
            default_level: Tlp::Amber,
        }
    }
}

impl AccessRule {
    /// The most restrictive TLP level among `marking_refs`, or `None` if none is TLP.
    pub fn level_of<'a>(marking_refs: impl IntoIterator<Item = &'a str>) -> Option<Tlp> {
        marking_refs.into_iter().filter_map(tlp_of_marking_id).max()
    }

    /// The most restrictive TLP marking among `obj`'s whole-object and granular markings;
    /// `None` if it carries no TLP marking.
    pub fn marked_level(obj: &StixObject) -> Option<Tlp> {
        let whole = obj.object_marking_refs().iter().map(StixId::as_str);
        let granular = obj
            .granular_markings()
            .iter()
            .filter_map(|g| g.marking_ref.as_ref().map(StixId::as_str));
        Self::level_of(whole.chain(granular))
    }

    /// The level that governs `obj`: its [`marked_level`](Self::marked_level), or the
    /// default. The flag says whether the default applied.
    pub fn effective_level(&self, obj: &StixObject) -> (Tlp, bool) {
        match Self::marked_level(obj) {
            Some(level) => (level, false),
            None => (self.default_level, true),
        }
    }

    /// Decides a read from the object's marking ids.
    pub fn decide<'a>(
        &self,
        marking_refs: impl IntoIterator<Item = &'a str>,
        relation: Relation,
    ) -> Access {
        let (level, defaulted) = match Self::level_of(marking_refs) {
            Some(l) => (l, false),
            None => (self.default_level, true),
        };
        decision(level, defaulted, relation)
    }

    /// Decides a read of `obj` by a reader in `relation`.
    pub fn decide_object(&self, obj: &StixObject, relation: Relation) -> Access {
        let (level, defaulted) = self.effective_level(obj);
        decision(level, defaulted, relation)
    }
}

fn decision(level: Tlp, defaulted: bool, relation: Relation) -> Access {
    if permits(level, relation) {
        Access::Allow { level, defaulted }
    } else {
        Access::Deny { level, defaulted }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_amber_id_matches_the_oasis_validator_sample() {
        // testdata/cti-stix-validator/tlp-amber.json
        assert_eq!(
            TLP_AMBER_ID,
            "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
        );
        assert_eq!(tlp_of_marking_id(TLP_AMBER_ID), Some(Tlp::Amber));
    }

    #[test]
    fn tlp_1_ids_are_read_and_white_means_clear() {
        assert_eq!(tlp_of_marking_id(TLP1_WHITE_ID), Some(Tlp::Clear));
        assert_eq!(tlp_of_marking_id(TLP1_GREEN_ID), Some(Tlp::Green));
        assert_eq!(tlp_of_marking_id(TLP1_AMBER_ID), Some(Tlp::Amber));
        assert_eq!(tlp_of_marking_id(TLP1_RED_ID), Some(Tlp::Red));
        assert_eq!(
            tlp_of_marking_id("marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"),
            None
        );
    }

    #[test]
    fn the_most_restrictive_marking_wins() {
        let rule = AccessRule::default();
        let refs = [TLP_GREEN_ID, TLP1_RED_ID];
        assert_eq!(
            rule.decide(refs, Relation::SameOrganisation),
            Access::Deny {
                level: Tlp::Red,
                defaulted: false
            }
        );
    }

    #[test]
    fn published_marking_objects_validate_and_carry_their_level() {
        for level in [
            Tlp::Clear,
            Tlp::Green,
            Tlp::Amber,
            Tlp::AmberStrict,
            Tlp::Red,
        ] {
            let m = marking_definition(level);
            assert_eq!(tlp_of_definition(&m), Some(level));
            let obj = StixObject::MarkingDefinition(Box::new(m));
            obj.validate().unwrap();
        }
    }
}
