//! The index against a slow, obviously-correct reference matcher: a loop over every indicator
//! that applies the matching rules as written in the docs. Values come from a small universe
//! so that collisions, subdomains, overlapping blocks and URL variants happen often.

use std::net::IpAddr;

use detente_match::{DomainScope, IndexBuilder, IndicatorMeta, IndicatorValue, Lookup, Observable};
use ipnet::IpNet;
use proptest::prelude::*;

use crate::support::now;

#[derive(Debug, Clone)]
enum Obs {
    Ip(IpAddr),
    IpPort(IpAddr, u16),
    Domain(String),
    Url(String),
    Hash(String),
    Email(String),
}

impl Obs {
    fn observable(&self) -> Observable<'_> {
        match self {
            Self::Ip(ip) => Observable::Ip(*ip),
            Self::IpPort(ip, port) => Observable::IpPort(*ip, *port),
            Self::Domain(d) => Observable::Domain(d.as_bytes()),
            Self::Url(u) => Observable::url(u.as_bytes()),
            Self::Hash(h) => Observable::Hash(h.as_bytes()),
            Self::Email(e) => Observable::Email(e.as_bytes()),
        }
    }
}

/// What the reference says about one observed value.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Hits(Vec<usize>),
    Suppressed,
}

fn email_form(raw: &str) -> Option<String> {
    let mut s = raw.trim();
    if let Some(inner) = s.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
        s = inner;
    }
    if s.len() > 7 && s[..7].eq_ignore_ascii_case("mailto:") {
        s = &s[7..];
    }
    let (local, domain) = s.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    Some(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// Whether `indicator` matches `obs`, by the documented rules.
fn matches(indicator: &IndicatorValue, obs: &Obs) -> bool {
    match (indicator, obs) {
        (IndicatorValue::Ip(i), Obs::Ip(o)) => *i == o.to_canonical(),
        (IndicatorValue::Cidr(n), Obs::Ip(o)) => n.contains(&o.to_canonical()),
        (IndicatorValue::IpPort(i, p), Obs::IpPort(o, q)) => *i == o.to_canonical() && p == q,
        (IndicatorValue::Domain { name, scope }, Obs::Domain(raw)) => {
            let d = raw.strip_suffix('.').unwrap_or(raw).to_ascii_lowercase();
            d == *name
                || (*scope == DomainScope::WithSubdomains && d.ends_with(&format!(".{name}")))
        }
        (IndicatorValue::Url(i), Obs::Url(raw)) => {
            let Ok(IndicatorValue::Url(o)) = IndicatorValue::url(raw) else {
                return false;
            };
            let (si, ki) = i
                .split_once("://")
                .map_or((None, i.as_str()), |(s, k)| (Some(s), k));
            let (so, ko) = o
                .split_once("://")
                .map_or((None, o.as_str()), |(s, k)| (Some(s), k));
            let scheme_ok = si.is_none() || so.is_none() || si == so;
            let without_query = ko.split('?').next().unwrap_or(ko);
            scheme_ok && (ki == ko || (!ki.contains('?') && ki == without_query))
        }
        (IndicatorValue::UrlPath(p), Obs::Url(raw)) => {
            let Ok(IndicatorValue::Url(o)) = IndicatorValue::url(raw) else {
                return false;
            };
            let key = o.split_once("://").map_or(o.as_str(), |(_, k)| k);
            let path = &key[key.find('/').unwrap_or(key.len())..];
            p == path || p == path.split('?').next().unwrap_or(path)
        }
        (IndicatorValue::Hash(h), Obs::Hash(o)) => {
            matches!(o.len(), 32 | 40 | 64)
                && o.bytes().all(|c| c.is_ascii_hexdigit())
                && *h == o.to_ascii_lowercase()
        }
        (IndicatorValue::Email(e), Obs::Email(o)) => email_form(o).as_deref() == Some(e.as_str()),
        _ => false,
    }
}

fn reference(indicators: &[IndicatorValue], allow: &[IndicatorValue], obs: &Obs) -> Outcome {
    let hits: Vec<usize> = (0..indicators.len())
        .filter(|&i| matches(&indicators[i], obs))
        .collect();
    if hits.is_empty() {
        return Outcome::Hits(hits);
    }
    let allowed = allow
        .iter()
        .any(|a| matches(a, obs) || matches!(obs, Obs::IpPort(ip, _) if matches(a, &Obs::Ip(*ip))));
    if allowed {
        Outcome::Suppressed
    } else {
        Outcome::Hits(hits)
    }
}

const LABELS: &[&str] = &["a", "b", "ab", "evil", "x-y"];
const TLDS: &[&str] = &["ex", "com"];

fn name() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(LABELS), 0..3),
        prop::sample::select(TLDS),
        prop::sample::select(LABELS),
    )
        .prop_map(|(labels, tld, sld)| {
            let mut parts: Vec<&str> = labels;
            parts.push(sld);
            parts.push(tld);
            parts.join(".")
        })
}

fn ip() -> impl Strategy<Value = IpAddr> {
    // Addresses near each other and across the edges of /8, /16 and /22 blocks.
    let v4_bases: [[u8; 3]; 6] = [
        [10, 0, 0],
        [10, 0, 3],
        [10, 0, 4],
        [10, 4, 0],
        [11, 0, 0],
        [9, 255, 255],
    ];
    prop_oneof![
        (
            prop::sample::select(v4_bases.to_vec()),
            prop::sample::select(vec![0u8, 1, 7, 128, 255])
        )
            .prop_map(|(b, n)| IpAddr::from([b[0], b[1], b[2], n])),
        (0u16..16).prop_map(|n| IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, n])),
    ]
}

fn url_text() -> impl Strategy<Value = String> {
    let scheme = prop::sample::select(vec!["", "http://", "https://", "HTTP://"]);
    let port = prop::sample::select(vec!["", ":80", ":443", ":8080"]);
    let segment = prop::sample::select(vec!["a", "b", "%61", "%2F", "..", ".", "A"]);
    let query = prop::sample::select(vec!["", "?", "?x=1", "?y", "#f"]);
    let host = prop_oneof![
        name(),
        (0u8..4).prop_map(|n| format!("10.0.0.{n}")),
        Just("[2001:db8::1]".to_owned()),
    ];
    (
        scheme,
        host,
        port,
        prop::collection::vec(segment, 0..4),
        query,
    )
        .prop_map(|(s, h, p, segs, q)| {
            let path: String = segs.iter().map(|s| format!("/{s}")).collect();
            let host = if s.is_empty() {
                h
            } else {
                h.to_ascii_uppercase()
            };
            // A scheme-less URL needs a path to be told from a domain.
            let path = if s.is_empty() && path.is_empty() {
                "/".to_owned()
            } else {
                path
            };
            format!("{s}{host}{p}{path}{q}")
        })
}

const HASHES: &[&str] = &[
    "0c2674c3a97c53082187d930efb645c2",
    "000c907d39924de62b5891f8d0e03116",
];

fn mixed_case(s: String, upper: bool) -> String {
    if upper { s.to_ascii_uppercase() } else { s }
}

fn indicator() -> impl Strategy<Value = IndicatorValue> {
    prop_oneof![
        ip().prop_map(IndicatorValue::Ip),
        (ip(), 0u8..=4).prop_map(|(ip, shorter)| {
            let len = if ip.is_ipv4() {
                32 - shorter
            } else {
                128 - shorter
            };
            IndicatorValue::Cidr(IpNet::new(ip, len).expect("a valid length").trunc())
        }),
        (ip(), 1u16..4).prop_map(|(ip, port)| IndicatorValue::IpPort(ip, port)),
        (name(), any::<bool>()).prop_map(|(n, exact)| {
            let scope = if exact {
                DomainScope::Exact
            } else {
                DomainScope::WithSubdomains
            };
            IndicatorValue::domain(&n, scope).expect("a valid name")
        }),
        url_text().prop_filter_map("a valid URL", |u| IndicatorValue::url(&u).ok()),
        url_text().prop_filter_map("a path", |u| {
            let v = IndicatorValue::url(&u).ok()?;
            let text = v.to_string();
            let key = text.split_once("://").map_or(text.as_str(), |(_, k)| k);
            IndicatorValue::parse(&key[key.find('/')?..]).ok()
        }),
        prop::sample::select(HASHES).prop_map(|h| IndicatorValue::Hash(h.to_owned())),
        (prop::sample::select(vec!["bob", "Bob"]), name())
            .prop_map(|(l, d)| IndicatorValue::Email(format!("{l}@{d}"))),
    ]
}

fn observation() -> impl Strategy<Value = Obs> {
    prop_oneof![
        ip().prop_map(Obs::Ip),
        (0u8..8).prop_map(|n| Obs::Ip(format!("::ffff:10.0.0.{n}").parse().expect("ip"))),
        (ip(), 1u16..4).prop_map(|(ip, p)| Obs::IpPort(ip, p)),
        (name(), any::<bool>(), any::<bool>()).prop_map(|(n, upper, dot)| {
            Obs::Domain(format!(
                "{}{}",
                mixed_case(n, upper),
                if dot { "." } else { "" }
            ))
        }),
        url_text().prop_map(Obs::Url),
        (prop::sample::select(HASHES), any::<bool>())
            .prop_map(|(h, upper)| Obs::Hash(mixed_case(h.to_owned(), upper))),
        (
            prop::sample::select(vec!["bob", "Bob", "<bob", "mailto:Bob"]),
            name(),
            any::<bool>()
        )
            .prop_map(|(l, d, upper)| {
                let close = if l.starts_with('<') { ">" } else { "" };
                Obs::Email(format!("{l}@{}{close}", mixed_case(d, upper)))
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn the_index_agrees_with_the_reference_matcher(
        indicators in prop::collection::vec(indicator(), 0..30),
        allow in prop::collection::vec(indicator(), 0..4),
        observations in prop::collection::vec(observation(), 1..40),
    ) {
        let mut b = IndexBuilder::new(now());
        for (i, v) in indicators.iter().enumerate() {
            b.add(v.clone(), &IndicatorMeta::new(i.to_string(), "TLP:CLEAR")).expect("fits");
        }
        for a in &allow {
            b.allow(a.clone(), "allow").expect("fits");
        }
        let index = b.build();
        let mut matcher = index.matcher();
        for obs in &observations {
            let expected = reference(&indicators, &allow, obs);
            let actual = match matcher.lookup(&obs.observable()) {
                Lookup::Miss => Outcome::Hits(vec![]),
                Lookup::Suppressed => Outcome::Suppressed,
                Lookup::Hit { indicators: ids, .. } => Outcome::Hits(
                    ids.iter().map(|&id| index.indicator(id).label.parse().expect("a number")).collect(),
                ),
            };
            prop_assert_eq!(actual, expected, "observed {:?}", obs);
        }
    }

    #[test]
    fn normalising_a_url_twice_changes_nothing(text in url_text()) {
        if let Ok(once) = IndicatorValue::url(&text) {
            let twice = IndicatorValue::url(&once.to_string()).expect("a normal form is a valid URL");
            prop_assert_eq!(twice, once);
        }
    }

    /// The loaders' round trip (issue 25.3): whatever text is accepted as an indicator prints
    /// as text that is read back as the same indicator, so no value prints as another kind
    /// (`192.0.2.0/24#c2` was a URL that printed as the CIDR and never matched it).
    #[test]
    fn any_accepted_text_prints_as_text_that_reads_back_the_same(
        pieces in prop::collection::vec(prop::sample::select(vec![
            "192.0.2.0", "10.0.0.1", "2001:db8::", "/24", "/0", "/", ":8080", ":", "#c2", "#",
            "@", "bob", "evil.example", "EVIL", ".", "/x", "?q=a@b.example", "hxxp://",
            "HXXP://", "hXXps://", "http://", "[.]", "(.)", "[:]", "%2F", "%40", "*.", "..",
        ]), 1..6),
    ) {
        let text: String = pieces.concat();
        if let Ok(value) = IndicatorValue::parse(&text) {
            let printed = value.to_string();
            let again = IndicatorValue::parse(&printed);
            prop_assert_eq!(again.as_ref(), Ok(&value), "{:?} printed as {:?}", text, printed);
        }
    }

    #[test]
    fn parsing_an_indicator_s_own_text_gives_it_back(v in indicator()) {
        let text = v.to_string();
        if let IndicatorValue::Domain { name, .. } = &v {
            // Plain text always means "with subdomains".
            let parsed = IndicatorValue::parse(&text).expect("valid");
            prop_assert_eq!(parsed, IndicatorValue::Domain { name: name.clone(), scope: DomainScope::WithSubdomains });
        } else if let IndicatorValue::Cidr(net) = &v && net.prefix_len() == net.max_prefix_len() {
            prop_assert_eq!(IndicatorValue::parse(&text).expect("valid"), IndicatorValue::Ip(net.addr()));
        } else {
            prop_assert_eq!(IndicatorValue::parse(&text).expect("valid"), v);
        }
    }
}
