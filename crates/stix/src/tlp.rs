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
//! Markings under other ids are resolved by their definitions ([`Markings`]: those in the same
//! bundle, import or message, and stored ones): TLP 2.0 extension definitions, TLP 1.0-style
//! definitions, OpenCTI's. A marking that cannot be resolved counts as RED. An object with no
//! TLP marking (none at all, or statements only) gets the configured default (AMBER out of the
//! box). When an object carries several markings (whole-object or granular), the most
//! restrictive wins.

use std::collections::HashMap;

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

/// OpenCTI's id for `TLP:AMBER+STRICT`, which TLP 2.0 added after the STIX 2.1 TLP 1.0 ids:
/// OpenCTI (and the connectors written for it) mark objects with it, usually without shipping
/// its definition.
pub const OPENCTI_AMBER_STRICT_ID: &str =
    "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37";

/// What a marking definition means to the TLP rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MarkingKind {
    /// A TLP level.
    Tlp(Tlp),
    /// A statement (copyright, terms of use) or a PAP level: it restricts no audience, so it
    /// sets no TLP level.
    NoLevel,
}

impl MarkingKind {
    /// The more restrictive of two readings of the same marking id: any level is more
    /// restrictive than none.
    fn stricter(self, other: Self) -> Self {
        match (self, other) {
            (Self::Tlp(a), Self::Tlp(b)) => Self::Tlp(a.max(b)),
            (Self::Tlp(a), Self::NoLevel) | (Self::NoLevel, Self::Tlp(a)) => Self::Tlp(a),
            (Self::NoLevel, Self::NoLevel) => Self::NoLevel,
        }
    }
}

/// The TLP level a word names (`amber+strict`, `RED`, TLP 1.0's `white`), if any.
pub(crate) fn tlp_of_word(word: &str) -> Option<Tlp> {
    Some(match word.trim().to_ascii_lowercase().as_str() {
        "clear" | "white" => Tlp::Clear,
        "green" => Tlp::Green,
        "amber" => Tlp::Amber,
        "amber+strict" => Tlp::AmberStrict,
        "red" => Tlp::Red,
        _ => return None,
    })
}

/// What a marking-definition object means: by its id for the published TLP ids, otherwise
/// by what it says. TLP is read from the TLP 2.0 extension (`tlp_2_0`), a TLP 1.0-style
/// `definition_type: tlp` (any case, as OpenCTI writes `TLP`), OpenCTI's
/// `x_opencti_definition_type`/`x_opencti_definition`, and a `TLP:` name; when several say
/// something, the most restrictive wins, and a TLP word this node does not know counts as
/// RED. A definition with no TLP in it is [`MarkingKind::NoLevel`] only when it is a
/// statement or a PAP marking; anything else is a restriction this node cannot interpret,
/// so it counts as RED.
pub fn marking_kind(m: &MarkingDefinition) -> MarkingKind {
    if let Some(t) = tlp_of_marking_id(m.id.as_str()) {
        return MarkingKind::Tlp(t);
    }
    let is = |field: Option<&str>, word: &str| field.is_some_and(|f| f.eq_ignore_ascii_case(word));
    let definition_type = m.definition_type.as_deref();
    let definition_field = |key: &str| {
        let d = m.definition.as_ref()?;
        d.get(key)
            .or_else(|| d.get(&key.to_ascii_uppercase()))
            .and_then(Value::as_str)
    };
    let extra = |key: &str| m.extra.get(key).and_then(Value::as_str);
    let mut words = Vec::new();
    if let Some(w) = m
        .extensions
        .as_ref()
        .and_then(|e| e.get(TLP_2_EXTENSION_ID))
        .and_then(|e| e.get("tlp_2_0"))
        .and_then(Value::as_str)
    {
        words.push(w);
    }
    if is(definition_type, "tlp") {
        // A TLP definition without a readable level is still a TLP restriction: RED.
        words.push(definition_field("tlp").unwrap_or("unreadable"));
    }
    if is(extra("x_opencti_definition_type"), "tlp") {
        words.push(extra("x_opencti_definition").unwrap_or("unreadable"));
    }
    if let Some(name) = m.name.as_deref()
        && name.trim().to_ascii_lowercase().starts_with("tlp:")
    {
        words.push(name);
    }
    let level_of = |w: &str| {
        let w = w.trim();
        // `TLP:AMBER` as OpenCTI and names write it, or the bare word.
        let bare = match w.get(..4) {
            Some(p) if p.eq_ignore_ascii_case("tlp:") => &w[4..],
            _ => w,
        };
        tlp_of_word(bare).unwrap_or(Tlp::Red)
    };
    if let Some(level) = words.iter().map(|w| level_of(w)).max() {
        return MarkingKind::Tlp(level);
    }
    let no_level = is(definition_type, "statement")
        || is(definition_type, "pap")
        || is(extra("x_opencti_definition_type"), "pap");
    if no_level {
        MarkingKind::NoLevel
    } else {
        MarkingKind::Tlp(Tlp::Red)
    }
}

/// The marking definitions a reader of objects knows beyond the published TLP ids: those of
/// the same bundle, import or message, and stored ones. A marking id that is neither a
/// published TLP id nor known here cannot be resolved, and counts as RED: an object marked
/// with something nobody can read must not travel as if unmarked.
///
/// The same id defined twice (say, once stored and once in a bundle) takes the more
/// restrictive reading, so a second definition can tighten a marking but never loosen it;
/// the published TLP ids cannot be redefined at all.
#[derive(Debug, Clone, Default)]
pub struct Markings {
    kinds: HashMap<String, MarkingKind>,
}

impl Markings {
    /// Learns what `m` means (see [`marking_kind`]).
    pub fn learn(&mut self, m: &MarkingDefinition) {
        self.learn_kind(m.id.as_str(), marking_kind(m));
    }

    /// Learns that marking `id` means `kind`.
    pub fn learn_kind(&mut self, id: &str, kind: MarkingKind) {
        let id = id.to_ascii_lowercase();
        let kind = match self.kinds.get(&id) {
            Some(known) => known.stricter(kind),
            None => kind,
        };
        self.kinds.insert(id, kind);
    }

    /// What marking `id` means; `None` when it cannot be resolved.
    pub fn kind(&self, id: &str) -> Option<MarkingKind> {
        if let Some(t) = tlp_of_marking_id(id) {
            return Some(MarkingKind::Tlp(t));
        }
        if id.eq_ignore_ascii_case(OPENCTI_AMBER_STRICT_ID) {
            return Some(MarkingKind::Tlp(Tlp::AmberStrict));
        }
        self.kinds.get(&id.to_ascii_lowercase()).copied()
    }

    /// The most restrictive TLP level among `marking_refs`, an unresolvable marking counting
    /// as RED; `None` if none of them sets a level (no markings, or statements only).
    pub fn level<'a>(&self, marking_refs: impl IntoIterator<Item = &'a str>) -> Option<Tlp> {
        marking_refs
            .into_iter()
            .filter_map(|id| match self.kind(id) {
                Some(MarkingKind::Tlp(t)) => Some(t),
                Some(MarkingKind::NoLevel) => None,
                None => Some(Tlp::Red),
            })
            .max()
    }

    /// The marking ids of `obj`, whole-object and granular.
    pub fn refs_of(obj: &StixObject) -> impl Iterator<Item = &str> {
        let whole = obj.object_marking_refs().iter().map(StixId::as_str);
        let granular = obj
            .granular_markings()
            .iter()
            .filter_map(|g| g.marking_ref.as_ref().map(StixId::as_str));
        whole.chain(granular)
    }

    /// The level of `obj` by [`level`](Self::level) over all its markings.
    pub fn level_of(&self, obj: &StixObject) -> Option<Tlp> {
        self.level(Self::refs_of(obj))
    }

    /// The marking ids of `obj` this book cannot resolve (what a store looks up).
    pub fn unresolved<'a>(&self, obj: &'a StixObject) -> impl Iterator<Item = &'a str> {
        Self::refs_of(obj).filter(|id| self.kind(id).is_none())
    }
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
    /// The most restrictive TLP level among `marking_refs`, read by the published ids alone:
    /// any other marking counts as RED, as [`Markings`] resolves it without definitions.
    /// `None` if there are no markings.
    pub fn level_of<'a>(marking_refs: impl IntoIterator<Item = &'a str>) -> Option<Tlp> {
        Markings::default().level(marking_refs)
    }

    /// Decides a read from the object's marking ids (see [`level_of`](Self::level_of)).
    pub fn decide<'a>(
        &self,
        marking_refs: impl IntoIterator<Item = &'a str>,
        relation: Relation,
    ) -> Access {
        self.decide_level(Self::level_of(marking_refs), relation)
    }

    /// Decides a read of an object whose markings resolve to `level` (`None`: it carries no
    /// TLP marking, so the default applies) by a reader in `relation`.
    pub fn decide_level(&self, level: Option<Tlp>, relation: Relation) -> Access {
        let (level, defaulted) = match level {
            Some(l) => (l, false),
            None => (self.default_level, true),
        };
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
            assert_eq!(marking_kind(&m), MarkingKind::Tlp(level));
            let obj = StixObject::MarkingDefinition(Box::new(m));
            obj.validate().unwrap();
        }
    }

    /// A marking-definition under a made-up id, with `props` besides the required ones.
    fn definition(props: serde_json::Value) -> MarkingDefinition {
        let mut v = json!({
            "type": "marking-definition", "spec_version": "2.1",
            "id": "marking-definition--0f3b6c2e-7a55-4d2e-9a57-1b2c3d4e5f60",
            "created": "2022-10-01T00:00:00.000Z",
        });
        v.as_object_mut()
            .unwrap()
            .extend(props.as_object().unwrap().clone());
        match StixObject::from_value(v).unwrap() {
            StixObject::MarkingDefinition(m) => *m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn definitions_under_other_ids_are_read_by_what_they_say() {
        let cases = [
            // The TLP 2.0 extension, as the OASIS validator's sample writes it.
            (
                json!({"name": "TLP:AMBER+STRICT", "extensions": {TLP_2_EXTENSION_ID:
                    {"extension_type": "property-extension", "tlp_2_0": "amber+strict"}}}),
                MarkingKind::Tlp(Tlp::AmberStrict),
            ),
            // TLP 1.0 style.
            (
                json!({"definition_type": "tlp", "definition": {"tlp": "green"}}),
                MarkingKind::Tlp(Tlp::Green),
            ),
            // OpenCTI's export: upper-case type, `TLP:` in the value.
            (
                json!({"name": "TLP:AMBER+STRICT", "definition_type": "TLP",
                       "definition": {"TLP": "TLP:AMBER+STRICT"}}),
                MarkingKind::Tlp(Tlp::AmberStrict),
            ),
            // OpenCTI connectors' statement form with the level in custom properties.
            (
                json!({"definition_type": "statement", "definition": {"statement": "custom"},
                       "x_opencti_definition_type": "TLP",
                       "x_opencti_definition": "TLP:RED"}),
                MarkingKind::Tlp(Tlp::Red),
            ),
            // A copyright statement and a PAP level restrict no audience.
            (
                json!({"definition_type": "statement",
                       "definition": {"statement": "Copyright 2017, The MITRE Corporation"}}),
                MarkingKind::NoLevel,
            ),
            (
                json!({"name": "PAP:RED", "definition_type": "PAP",
                       "definition": {"PAP": "PAP:RED"}}),
                MarkingKind::NoLevel,
            ),
            // A TLP word this node does not know, and a marking it cannot read at all.
            (
                json!({"name": "TLP:PINK", "definition_type": "statement",
                       "definition": {"statement": "x"}}),
                MarkingKind::Tlp(Tlp::Red),
            ),
            (
                json!({"definition_type": "iep", "definition": {"iep": "restricted"}}),
                MarkingKind::Tlp(Tlp::Red),
            ),
            // Two sources that disagree: the stricter one wins.
            (
                json!({"name": "TLP:CLEAR", "definition_type": "tlp",
                       "definition": {"tlp": "red"}}),
                MarkingKind::Tlp(Tlp::Red),
            ),
        ];
        for (props, want) in cases {
            assert_eq!(marking_kind(&definition(props.clone())), want, "{props}");
        }
    }

    #[test]
    fn a_published_id_cannot_be_redefined() {
        let mut forged =
            definition(json!({"definition_type": "tlp", "definition": {"tlp": "white"}}));
        forged.id = StixId::parse(TLP_RED_ID).unwrap();
        assert_eq!(marking_kind(&forged), MarkingKind::Tlp(Tlp::Red));
        let mut book = Markings::default();
        book.learn(&forged);
        assert_eq!(book.level([TLP_RED_ID]), Some(Tlp::Red));
    }

    #[test]
    fn unresolvable_markings_are_red_and_statements_set_no_level() {
        let mut book = Markings::default();
        let custom = "marking-definition--0f3b6c2e-7a55-4d2e-9a57-1b2c3d4e5f60";
        assert_eq!(book.level([custom]), Some(Tlp::Red));
        assert_eq!(
            book.level([OPENCTI_AMBER_STRICT_ID]),
            Some(Tlp::AmberStrict)
        );
        book.learn(&definition(json!({"definition_type": "statement",
            "definition": {"statement": "Copyright"}})));
        assert_eq!(book.level([custom]), None);
        assert_eq!(book.level([custom, TLP_GREEN_ID]), Some(Tlp::Green));
        // A later, stricter definition of the same id tightens it; a looser one cannot undo that.
        book.learn_kind(custom, MarkingKind::Tlp(Tlp::Amber));
        book.learn_kind(custom, MarkingKind::Tlp(Tlp::Clear));
        book.learn_kind(custom, MarkingKind::NoLevel);
        assert_eq!(book.level([custom]), Some(Tlp::Amber));
    }
}
