//! Pulling the directly matchable observables (IPs, CIDRs, domains, URLs, e-mail addresses,
//! file hashes) out of a pattern, for the matcher's exact-lookup tables.

use super::{CompareOp, ComparisonExpr, Literal, ObservationExpr, PathStep, Pattern, PropertyTest};

/// The kind of a matchable observable, named after the STIX object path it came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObservableKind {
    /// `ipv4-addr:value` (also the `value` of an IPv4 reference); `cidr` when a block.
    Ipv4 {
        /// Whether the value is a CIDR block rather than one address.
        cidr: bool,
    },
    /// `ipv6-addr:value`; `cidr` when a block.
    Ipv6 {
        /// Whether the value is a CIDR block rather than one address.
        cidr: bool,
    },
    /// `domain-name:value`, lower-cased.
    DomainName,
    /// `url:value`.
    Url,
    /// `email-addr:value` (also `email-message:from_ref.value` and the like).
    EmailAddr,
    /// `file:hashes.<algorithm>`, with the algorithm in STIX spelling (`SHA-256`) and the
    /// value lower-cased.
    FileHash(String),
}

impl ObservableKind {
    /// The STIX object type (and property for hashes), e.g. `ipv4-addr` or `file:hashes.MD5`.
    pub fn stix_name(&self) -> String {
        match self {
            Self::Ipv4 { .. } => "ipv4-addr".into(),
            Self::Ipv6 { .. } => "ipv6-addr".into(),
            Self::DomainName => "domain-name".into(),
            Self::Url => "url".into(),
            Self::EmailAddr => "email-addr".into(),
            Self::FileHash(alg) => format!("file:hashes.{alg}"),
        }
    }
}

/// One observable a pattern tests for equality.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PatternObservable {
    /// What it is.
    pub kind: ObservableKind,
    /// The value.
    pub value: String,
}

impl PatternObservable {
    /// The same observable in the wire protocol's vocabulary, where it has a counterpart
    /// (IPs, CIDRs, domains, URLs, e-mail addresses, MD5, SHA-1 and SHA-256).
    pub fn to_protocol(&self) -> Option<detente_protocol::Observable> {
        use detente_protocol::ObservableType as T;
        let kind = match &self.kind {
            ObservableKind::Ipv4 { cidr: false } | ObservableKind::Ipv6 { cidr: false } => T::Ip,
            ObservableKind::Ipv4 { cidr: true } | ObservableKind::Ipv6 { cidr: true } => T::Cidr,
            ObservableKind::DomainName => T::Domain,
            ObservableKind::Url => T::Url,
            ObservableKind::EmailAddr => T::Email,
            ObservableKind::FileHash(a) if a == "MD5" => T::Md5,
            ObservableKind::FileHash(a) if a == "SHA-1" => T::Sha1,
            ObservableKind::FileHash(a) if a == "SHA-256" => T::Sha256,
            ObservableKind::FileHash(_) => return None,
        };
        Some(detente_protocol::Observable {
            kind,
            value: self.value.clone(),
        })
    }
}

/// The observables of a pattern.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Extraction {
    /// Every observable tested with `=` or `IN` (not negated), and every CIDR block an
    /// address is tested to be in (`ISSUBSET`), in pattern order, without duplicates.
    pub observables: Vec<PatternObservable>,
    /// True when the pattern means exactly "any one of `observables` is observed": only
    /// `OR`s of such tests, no `AND`, no qualifier, no other test. When false, each
    /// observable is a necessary part of some match, so a hit is a candidate to check.
    pub complete: bool,
}

pub(super) fn extract(p: &Pattern) -> Extraction {
    let mut out = Extraction {
        observables: Vec::new(),
        complete: true,
    };
    obs(&p.expr, &mut out);
    if out.observables.is_empty() {
        out.complete = false;
    }
    out
}

fn obs(e: &ObservationExpr, out: &mut Extraction) {
    match e {
        ObservationExpr::Observation(c) => cmp(c, out),
        ObservationExpr::Or(items) => items.iter().for_each(|i| obs(i, out)),
        ObservationExpr::And(items) | ObservationExpr::FollowedBy(items) => {
            out.complete = false;
            items.iter().for_each(|i| obs(i, out));
        }
        ObservationExpr::Qualified(inner, _) => {
            out.complete = false;
            obs(inner, out);
        }
    }
}

fn cmp(c: &ComparisonExpr, out: &mut Extraction) {
    match c {
        ComparisonExpr::Or(items) => items.iter().for_each(|i| cmp(i, out)),
        ComparisonExpr::And(items) => {
            out.complete = false;
            items.iter().for_each(|i| cmp(i, out));
        }
        ComparisonExpr::Test(t) => test(t, out),
    }
}

fn test(t: &PropertyTest, out: &mut Extraction) {
    let (path, values, subset): (_, Vec<&Literal>, bool) = match t {
        PropertyTest::Compare {
            path,
            negated: false,
            op: op @ (CompareOp::Eq | CompareOp::IsSubset),
            value,
        } => (path, vec![value], *op == CompareOp::IsSubset),
        PropertyTest::In {
            path,
            negated: false,
            values,
        } => (path, values.iter().collect(), false),
        _ => {
            out.complete = false;
            return;
        }
    };
    let Some(slot) = classify(path) else {
        out.complete = false;
        return;
    };
    // `ISSUBSET '<block>'` (an address in the block) is a CIDR lookup, as `= '<block>'` is
    // read; on anything but an address it is no lookup at all.
    let is_ip = matches!(slot, Slot::Ip | Slot::Ipv4 | Slot::Ipv6);
    if subset
        && !(is_ip
            && values
                .iter()
                .all(|v| matches!(v, Literal::Str(s) if s.contains('/'))))
    {
        out.complete = false;
        return;
    }
    for v in values {
        let Literal::Str(s) = v else {
            out.complete = false;
            continue;
        };
        match observable(&slot, s) {
            Some(o) => {
                if !out.observables.contains(&o) {
                    out.observables.push(o);
                }
            }
            None => out.complete = false,
        }
    }
}

/// What a path holds, before looking at the value.
enum Slot {
    Ip,
    Ipv4,
    Ipv6,
    Domain,
    Url,
    Email,
    Hash(String),
}

fn classify(path: &super::ObjectPath) -> Option<Slot> {
    let value_only = path.property == "value" && path.steps.is_empty();
    let steps: Vec<&PathStep> = path.steps.iter().collect();
    let ends_in_value = |allowed_refs: &[&str]| -> bool {
        allowed_refs.contains(&path.property.as_str())
            && match steps.as_slice() {
                [PathStep::Key(k)] => k == "value",
                [PathStep::AnyIndex | PathStep::Index(_), PathStep::Key(k)] => k == "value",
                _ => false,
            }
    };
    Some(match path.object_type.as_str() {
        "ipv4-addr" if value_only => Slot::Ipv4,
        "ipv6-addr" if value_only => Slot::Ipv6,
        "domain-name" if value_only => Slot::Domain,
        "url" if value_only => Slot::Url,
        "email-addr" if value_only => Slot::Email,
        "file" if path.property == "hashes" => match steps.as_slice() {
            [PathStep::Key(alg)] => Slot::Hash(normalise_algorithm(alg)),
            _ => return None,
        },
        "network-traffic" if ends_in_value(&["src_ref", "dst_ref"]) => Slot::Ip,
        "domain-name" if ends_in_value(&["resolves_to_refs"]) => Slot::Ip,
        "email-message"
            if ends_in_value(&["from_ref", "sender_ref", "to_refs", "cc_refs", "bcc_refs"]) =>
        {
            Slot::Email
        }
        _ => return None,
    })
}

fn observable(slot: &Slot, s: &str) -> Option<PatternObservable> {
    let (kind, value) = match slot {
        Slot::Ip | Slot::Ipv4 | Slot::Ipv6 => {
            let (addr, prefix) = match s.split_once('/') {
                Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
                None => (s, None),
            };
            let kind = match addr.parse::<std::net::IpAddr>().ok()? {
                std::net::IpAddr::V4(_)
                    if !matches!(slot, Slot::Ipv6) && prefix.is_none_or(|p| p <= 32) =>
                {
                    ObservableKind::Ipv4 {
                        cidr: prefix.is_some(),
                    }
                }
                std::net::IpAddr::V6(_)
                    if !matches!(slot, Slot::Ipv4) && prefix.is_none_or(|p| p <= 128) =>
                {
                    ObservableKind::Ipv6 {
                        cidr: prefix.is_some(),
                    }
                }
                _ => return None,
            };
            (kind, s.to_owned())
        }
        Slot::Domain => (ObservableKind::DomainName, s.to_ascii_lowercase()),
        Slot::Url => (ObservableKind::Url, s.to_owned()),
        Slot::Email => (ObservableKind::EmailAddr, s.to_owned()),
        Slot::Hash(alg) => {
            let hex_len = match alg.as_str() {
                "MD5" => Some(32),
                "SHA-1" => Some(40),
                "SHA-256" | "SHA3-256" => Some(64),
                "SHA-512" | "SHA3-512" => Some(128),
                _ => None,
            };
            let value = match hex_len {
                Some(n) if s.len() == n && s.bytes().all(|c| c.is_ascii_hexdigit()) => {
                    s.to_ascii_lowercase()
                }
                Some(_) => return None,
                None => s.to_owned(),
            };
            (ObservableKind::FileHash(alg.clone()), value)
        }
    };
    if value.is_empty() {
        return None;
    }
    Some(PatternObservable { kind, value })
}

/// STIX spelling of a hash algorithm name seen in the wild (`sha256`, `SHA256` → `SHA-256`).
pub(crate) fn normalise_algorithm(alg: &str) -> String {
    let squashed: String = alg
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .collect::<String>()
        .to_ascii_uppercase();
    match squashed.as_str() {
        "MD5" => "MD5",
        "SHA1" => "SHA-1",
        "SHA256" => "SHA-256",
        "SHA512" => "SHA-512",
        "SHA3256" => "SHA3-256",
        "SHA3512" => "SHA3-512",
        "SSDEEP" => "SSDEEP",
        "TLSH" => "TLSH",
        _ => return alg.to_owned(),
    }
    .to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ext(s: &str) -> Extraction {
        Pattern::parse(s).unwrap().observables()
    }

    fn pairs(e: &Extraction) -> Vec<(String, String)> {
        e.observables
            .iter()
            .map(|o| (o.kind.stix_name(), o.value.clone()))
            .collect()
    }

    #[test]
    fn single_equalities_are_complete() {
        for (pattern, want) in [
            ("[ipv4-addr:value = '1.2.3.4']", ("ipv4-addr", "1.2.3.4")),
            (
                "[ipv4-addr:value = '112.64.0.0/15']",
                ("ipv4-addr", "112.64.0.0/15"),
            ),
            (
                "[ipv6-addr:value = '2001:db8::/32']",
                ("ipv6-addr", "2001:db8::/32"),
            ),
            (
                "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
                ("ipv4-addr", "198.51.100.0/24"),
            ),
            (
                "[network-traffic:dst_ref.value ISSUBSET '2001:db8::/32']",
                ("ipv6-addr", "2001:db8::/32"),
            ),
            (
                "[domain-name:value = 'Evil.Example']",
                ("domain-name", "evil.example"),
            ),
            (
                "[url:value = 'http://x4z9arb.cn/4712']",
                ("url", "http://x4z9arb.cn/4712"),
            ),
            (
                "[email-addr:value = 'a@b.example']",
                ("email-addr", "a@b.example"),
            ),
            (
                "[file:hashes.'SHA-256' = 'EF537F25C895BFA782526529A9B63D97AA631564D5D789C2B765448C8635FB6C']",
                (
                    "file:hashes.SHA-256",
                    "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c",
                ),
            ),
            (
                "[file:hashes.md5 = '001dd76872d80801692ff942308c64e6']",
                ("file:hashes.MD5", "001dd76872d80801692ff942308c64e6"),
            ),
        ] {
            let e = ext(pattern);
            assert!(e.complete, "{pattern}");
            assert_eq!(
                pairs(&e),
                vec![(want.0.to_owned(), want.1.to_owned())],
                "{pattern}"
            );
        }
    }

    #[test]
    fn ors_and_in_sets_stay_complete() {
        let e = ext(
            "[ipv4-addr:value IN ('1.2.3.4', '5.6.7.8')] OR [domain-name:value = 'x.example' OR url:value = 'http://x.example/']",
        );
        assert!(e.complete);
        assert_eq!(e.observables.len(), 4);
    }

    #[test]
    fn conjunctions_and_qualifiers_are_partial() {
        let e =
            ext("[file:name = 'a.exe' AND file:hashes.MD5 = '0749bae92ca336a02c83d126e04ec628']");
        assert!(!e.complete);
        assert_eq!(
            pairs(&e),
            vec![(
                "file:hashes.MD5".into(),
                "0749bae92ca336a02c83d126e04ec628".into()
            )]
        );
        assert!(!ext("[ipv4-addr:value = '1.2.3.4'] REPEATS 2 TIMES").complete);
        assert!(!ext("[ipv4-addr:value != '1.2.3.4']").complete);
        assert!(ext("[ipv4-addr:value != '1.2.3.4']").observables.is_empty());
    }

    #[test]
    fn references_to_addresses_are_found() {
        let e = ext(
            "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.1' AND network-traffic:dst_port = 443]",
        );
        assert_eq!(pairs(&e), vec![("ipv4-addr".into(), "203.0.113.1".into())]);
        let e = ext("[email-message:to_refs[*].value = 'x@y.example']");
        assert_eq!(pairs(&e), vec![("email-addr".into(), "x@y.example".into())]);
    }

    #[test]
    fn malformed_values_are_left_out() {
        let e = ext("[ipv4-addr:value = 'not an ip'] OR [file:hashes.MD5 = 'xyz']");
        assert!(e.observables.is_empty());
        assert!(!e.complete);
    }

    #[test]
    fn protocol_observables_exist_for_the_common_kinds() {
        let e = ext(
            "[file:hashes.'SHA-1' = '77b0c41b7d340b8a3d903f21347bbf06aa766b5b'] OR [file:hashes.'SHA-512' = '00']",
        );
        let p = e.observables[0].to_protocol().unwrap();
        assert_eq!(p.kind, detente_protocol::ObservableType::Sha1);
    }

    #[test]
    fn issubset_is_a_lookup_only_for_a_block_of_addresses() {
        for pattern in [
            "[ipv4-addr:value ISSUBSET '198.51.100.7']",
            "[domain-name:value ISSUBSET 'a/b']",
            "[ipv4-addr:value ISSUPERSET '198.51.100.0/24']",
        ] {
            let e = ext(pattern);
            assert!(!e.complete, "{pattern}");
            assert!(e.observables.is_empty(), "{pattern}");
        }
    }
}
