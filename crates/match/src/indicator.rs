//! Indicators as they enter the index: a typed value, parsed once from text, plus what a hit
//! must say about it (label, case, TLP, validity).

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use crate::error::IndicatorError;
use crate::event_time::EventTime;
use crate::normalize::{
    canonical_ip, email_key, is_valid_domain, normalize_url_into, parse_ip, parse_port, split_url,
};

/// The kinds of indicator the index understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IndicatorKind {
    /// One IPv4 or IPv6 address.
    Ip,
    /// A block of addresses; every address inside matches.
    Cidr,
    /// An address and a TCP/UDP port together.
    IpPort,
    /// A domain name (see [`DomainScope`]).
    Domain,
    /// A normalised URL, with or without a scheme.
    Url,
    /// A URL path (and optional query) on any host, as maltrail's C2 panel trails are.
    UrlPath,
    /// An MD5 file hash.
    Md5,
    /// A SHA-1 file hash.
    Sha1,
    /// A SHA-256 file hash.
    Sha256,
    /// An e-mail address.
    Email,
}

impl IndicatorKind {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Cidr => "cidr",
            Self::IpPort => "ip-port",
            Self::Domain => "domain",
            Self::Url => "url",
            Self::UrlPath => "url-path",
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Email => "email",
        }
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which names a domain indicator covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DomainScope {
    /// The name itself only.
    Exact,
    /// The name and every name below it, at label boundaries: `evil.example` covers
    /// `a.evil.example` but not `notevil.example`. Plain lists and maltrail mean this.
    WithSubdomains,
}

/// A parsed indicator value in its normal form (see [`crate::normalize`](crate) rules in the
/// module docs of `normalize`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IndicatorValue {
    /// One address (IPv4-mapped IPv6 stored as IPv4).
    Ip(IpAddr),
    /// A block, host bits cleared; never a /32 or /128 (those are [`Self::Ip`]).
    Cidr(IpNet),
    /// An address and port.
    IpPort(IpAddr, u16),
    /// A lower-case domain name.
    Domain {
        /// The name.
        name: String,
        /// What it covers.
        scope: DomainScope,
    },
    /// A normalised URL: `scheme://host[:port]/path[?query]`, or the same without `scheme://`
    /// when the indicator had none (then it matches any scheme).
    Url(String),
    /// A path starting with `/`, with an optional `?query`, percent- and dot-normalised.
    UrlPath(String),
    /// A file hash in lower-case hex.
    Hash(String),
    /// An e-mail address, domain in lower case.
    Email(String),
}

impl IndicatorValue {
    /// Reads an indicator from text, detecting its kind:
    ///
    /// | text | kind |
    /// |---|---|
    /// | `192.0.2.1`, `2001:db8::1` | [`Ip`](Self::Ip) |
    /// | `192.0.2.0/24` | [`Cidr`](Self::Cidr) (a /32 or /128 is an `Ip`) |
    /// | `192.0.2.1:8080`, `[2001:db8::1]:443` | [`IpPort`](Self::IpPort) |
    /// | `http://evil.example/x`, `evil.example/x` | [`Url`](Self::Url) |
    /// | `/gate.php` | [`UrlPath`](Self::UrlPath) |
    /// | 32, 40 or 64 hex digits | [`Hash`](Self::Hash) |
    /// | `user@evil.example` | [`Email`](Self::Email) |
    /// | `evil.example`, `*.evil.example` | [`Domain`](Self::Domain) with subdomains (a name without a dot is refused) |
    ///
    /// Defanged text is refanged first: `hxxp` (in any case) → `http`, `[.]` and `(.)` → `.`,
    /// `[:]` → `:`, `[@]` → `@`.
    ///
    /// What is accepted prints (`Display`) as text that parses back to the same value: a text
    /// that would be kept as a scheme-less URL printing like another kind (`192.0.2.0/24#c2`
    /// prints as the block `192.0.2.0/24`) is refused with [`IndicatorError::Ambiguous`].
    pub fn parse(text: &str) -> Result<Self, IndicatorError> {
        Self::parse_as(text, RoundTrip::Check)
    }

    fn parse_as(text: &str, round_trip: RoundTrip) -> Result<Self, IndicatorError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(IndicatorError::Empty);
        }
        let text = refanged(text);
        let text = text.as_ref();
        let bytes = text.as_bytes();

        if text.contains("://") {
            return Self::url_as(text, round_trip);
        }
        if text.starts_with('/') {
            return Self::url_path(text);
        }
        if matches!(bytes.len(), 32 | 40 | 64) && bytes.iter().all(u8::is_ascii_hexdigit) {
            return Ok(Self::Hash(text.to_ascii_lowercase()));
        }
        if text.contains('@') {
            // `evil.example/login?user=bob@corp.example` is a URL whose query holds an
            // address; `dept/bob@corp.example` (no host before the slash) is an address.
            if let Some((authority, _)) = text.split_once('/')
                && is_host(authority)
            {
                return Self::url_as(text, round_trip);
            }
            let mut out = Vec::new();
            if email_key(bytes, &mut out) {
                let domain_at = out.iter().rposition(|&c| c == b'@').map_or(0, |at| at + 1);
                if is_valid_domain(&out[domain_at..]) && !out.iter().any(u8::is_ascii_whitespace) {
                    return Ok(Self::Email(String::from_utf8_lossy(&out).into_owned()));
                }
            }
            return Err(IndicatorError::Email(text.to_owned()));
        }
        if let Some(ip) = parse_ip(bytes) {
            return Ok(Self::Ip(ip));
        }
        // `192.0.2.0/24` is a block; `192.0.2.1/gate.php` a URL without a scheme.
        if let Some((addr, len)) = text.split_once('/')
            && parse_ip(addr.as_bytes()).is_some()
            && !len.is_empty()
            && len.bytes().all(|c| c.is_ascii_digit())
        {
            return Self::cidr(addr, len, text);
        }
        if text.contains('/') {
            return Self::url_as(text, round_trip);
        }
        if let Some(v) = Self::ip_port(text)? {
            return Ok(v);
        }
        let name = text
            .strip_prefix("*.")
            .or_else(|| text.strip_prefix('.'))
            .unwrap_or(text);
        // A bare word is more likely a typo than a top-level domain; those go through
        // `IndicatorValue::domain`.
        if !name.trim_end_matches('.').contains('.') {
            return Err(IndicatorError::Unrecognised(text.to_owned()));
        }
        Self::domain(name, DomainScope::WithSubdomains).map_err(|_| {
            if text
                .bytes()
                .all(|c| c.is_ascii_digit() || c == b'.' || c == b':')
            {
                IndicatorError::Unrecognised(text.to_owned())
            } else {
                IndicatorError::Domain(text.to_owned())
            }
        })
    }

    /// A domain indicator; the name is lower-cased and loses one trailing dot.
    pub fn domain(name: &str, scope: DomainScope) -> Result<Self, IndicatorError> {
        let lower = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        if is_valid_domain(lower.as_bytes()) {
            Ok(Self::Domain { name: lower, scope })
        } else {
            Err(IndicatorError::Domain(name.to_owned()))
        }
    }

    /// A URL indicator, refanged and normalised. A URL without a scheme must print as text that
    /// [`IndicatorValue::parse`] reads back as the same URL (see [`IndicatorError::Ambiguous`]).
    pub fn url(text: &str) -> Result<Self, IndicatorError> {
        Self::url_as(&refanged(text), RoundTrip::Check)
    }

    /// [`IndicatorValue::url`] of text already refanged.
    fn url_as(text: &str, round_trip: RoundTrip) -> Result<Self, IndicatorError> {
        let parts = split_url(text.as_bytes());
        if parts.scheme.is_none() && text.contains("://") {
            return Err(IndicatorError::Url(
                text.to_owned(),
                "the scheme is not valid",
            ));
        }
        let after_userinfo = memchr::memrchr(b'@', parts.authority)
            .map_or(parts.authority, |at| &parts.authority[at + 1..]);
        if !after_userinfo.starts_with(b"[")
            && after_userinfo.iter().filter(|&&c| c == b':').count() > 1
        {
            // `http://2001:db8::` would print as a host `2001:db8:` and port.
            return Err(IndicatorError::Url(
                text.to_owned(),
                "an IPv6 address in a URL must be in brackets, as in http://[2001:db8::1]/",
            ));
        }
        let host = host_of(parts.authority);
        if parse_ip(host).is_none() && !is_valid_domain(&host.to_ascii_lowercase()) {
            return Err(IndicatorError::Url(
                text.to_owned(),
                "the host is not a domain or an IP address",
            ));
        }
        let (mut out, mut scratch) = (Vec::new(), Vec::new());
        normalize_url_into(parts, &mut out, &mut scratch)
            .map_err(|why| IndicatorError::Url(text.to_owned(), why))?;
        if out.iter().any(|c| c.is_ascii_whitespace()) {
            return Err(IndicatorError::Url(text.to_owned(), "it contains blanks"));
        }
        let value = Self::Url(String::from_utf8_lossy(&out).into_owned());
        // With a scheme, the printed form starts `scheme://` and can only read as a URL.
        if parts.scheme.is_none() && round_trip == RoundTrip::Check {
            let printed = value.to_string();
            if Self::parse_as(&printed, RoundTrip::Trust).as_ref() != Ok(&value) {
                return Err(IndicatorError::Ambiguous {
                    text: text.to_owned(),
                    printed,
                });
            }
        }
        Ok(value)
    }

    fn url_path(text: &str) -> Result<Self, IndicatorError> {
        if text.bytes().any(|c| c.is_ascii_whitespace()) {
            return Err(IndicatorError::Url(text.to_owned(), "it contains blanks"));
        }
        // Normalise the path as if it were on some host, then keep the path part.
        let (mut out, mut scratch) = (Vec::new(), Vec::new());
        let parts = crate::normalize::UrlParts {
            scheme: None,
            authority: b"h",
            rest: text.as_bytes(),
        };
        let layout = normalize_url_into(parts, &mut out, &mut scratch)
            .map_err(|why| IndicatorError::Url(text.to_owned(), why))?;
        Ok(Self::UrlPath(
            String::from_utf8_lossy(&out[layout.path_start..]).into_owned(),
        ))
    }

    fn cidr(addr: &str, len: &str, text: &str) -> Result<Self, IndicatorError> {
        let bad = || IndicatorError::Cidr(text.to_owned());
        let len: u8 = len.parse().map_err(|_| bad())?;
        let addr = parse_ip(addr.as_bytes()).ok_or_else(bad)?;
        let net = IpNet::new(addr, len).map_err(|_| bad())?.trunc();
        if net.prefix_len() == net.max_prefix_len() {
            Ok(Self::Ip(net.addr()))
        } else {
            Ok(Self::Cidr(net))
        }
    }

    fn ip_port(text: &str) -> Result<Option<Self>, IndicatorError> {
        let (addr, port) = if let Some(inner) = text.strip_prefix('[') {
            match inner.split_once("]:") {
                Some(pair) => pair,
                None => return Ok(None),
            }
        } else {
            match text.rsplit_once(':') {
                Some((addr, port)) if !addr.contains(':') => (addr, port),
                _ => return Ok(None),
            }
        };
        let Some(ip) = parse_ip(addr.as_bytes()) else {
            return Ok(None);
        };
        let port =
            parse_port(port.as_bytes()).ok_or_else(|| IndicatorError::Port(text.to_owned()))?;
        Ok(Some(Self::IpPort(ip, port)))
    }

    /// The kind of this value.
    pub fn kind(&self) -> IndicatorKind {
        match self {
            Self::Ip(_) => IndicatorKind::Ip,
            Self::Cidr(_) => IndicatorKind::Cidr,
            Self::IpPort(..) => IndicatorKind::IpPort,
            Self::Domain { .. } => IndicatorKind::Domain,
            Self::Url(_) => IndicatorKind::Url,
            Self::UrlPath(_) => IndicatorKind::UrlPath,
            Self::Hash(h) => match h.len() {
                32 => IndicatorKind::Md5,
                40 => IndicatorKind::Sha1,
                _ => IndicatorKind::Sha256,
            },
            Self::Email(_) => IndicatorKind::Email,
        }
    }

    /// Refuses addresses and blocks that point at no one's host (see
    /// [`IndicatorError::NotAHost`]). Only indicators are checked: the allow-list may hold
    /// them to silence local noise.
    pub(crate) fn check_points_at_a_host(&self) -> Result<(), IndicatorError> {
        let (addr, prefix) = match self {
            Self::Ip(ip) | Self::IpPort(ip, _) => (*ip, None),
            Self::Cidr(net) => (net.network(), Some(net.prefix_len())),
            _ => return Ok(()),
        };
        let why = if prefix.is_some_and(|p| p < MIN_PREFIX) {
            "it covers more than 1/256 of all addresses"
        } else if addr.is_unspecified() {
            "it is the unspecified address, a placeholder"
        } else if addr.is_loopback() {
            "it is a loopback address, each machine's own"
        } else if addr == IpAddr::V4(std::net::Ipv4Addr::BROADCAST) {
            "it is the broadcast address"
        } else {
            return Ok(());
        };
        Err(IndicatorError::NotAHost {
            value: self.to_string(),
            why,
        })
    }

    /// Normalises values built by hand (the variants are public): canonical IPs, truncated
    /// blocks, lower-case names. Texts that fail their kind's rules are refused.
    pub(crate) fn canonicalize(self) -> Result<Self, IndicatorError> {
        Ok(match self {
            Self::Ip(ip) => Self::Ip(canonical_ip(ip)),
            Self::Cidr(net) => {
                let net = IpNet::new(canonical_ip(net.addr()), net.prefix_len())
                    .unwrap_or(net)
                    .trunc();
                if net.prefix_len() == net.max_prefix_len() {
                    Self::Ip(net.addr())
                } else {
                    Self::Cidr(net)
                }
            }
            Self::IpPort(ip, port) => Self::IpPort(canonical_ip(ip), port),
            Self::Domain { name, scope } => Self::domain(&name, scope)?,
            Self::Url(text) => Self::url(&text)?,
            Self::UrlPath(text) => Self::url_path(&text)?,
            Self::Hash(text) => match Self::parse(&text)? {
                hash @ Self::Hash(_) => hash,
                _ => return Err(IndicatorError::Unrecognised(text)),
            },
            Self::Email(text) => match Self::parse(&text)? {
                email @ Self::Email(_) => email,
                _ => return Err(IndicatorError::Email(text)),
            },
        })
    }
}

impl fmt::Display for IndicatorValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Cidr(net) => write!(f, "{net}"),
            Self::IpPort(IpAddr::V4(ip), port) => write!(f, "{ip}:{port}"),
            Self::IpPort(IpAddr::V6(ip), port) => write!(f, "[{ip}]:{port}"),
            Self::Domain { name, .. } => f.write_str(name),
            Self::Url(s) | Self::UrlPath(s) | Self::Hash(s) | Self::Email(s) => f.write_str(s),
        }
    }
}

/// Blocks with a shorter prefix than this cover more than 1/256 of the address space: no
/// organisation's network is that large, and as an indicator such a block hits nearly every
/// line of a log.
const MIN_PREFIX: u8 = 8;

/// Whether [`IndicatorValue::parse`] checks that a scheme-less URL reads back as itself. The
/// check parses the printed form once, without checking again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RoundTrip {
    Check,
    Trust,
}

/// Whether `authority` (no userinfo) names a host: an IP address or a dotted domain name,
/// with an optional port.
fn is_host(authority: &str) -> bool {
    if authority.contains('@') {
        return false;
    }
    let host = host_of(authority.as_bytes());
    parse_ip(host).is_some()
        || (host.contains(&b'.') && is_valid_domain(&host.to_ascii_lowercase()))
}

/// The host of an authority, without userinfo, port or IPv6 brackets.
fn host_of(authority: &[u8]) -> &[u8] {
    let a = match memchr::memrchr(b'@', authority) {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    if let Some(inner) = a.strip_prefix(b"[") {
        return memchr::memchr(b']', inner).map_or(inner, |close| &inner[..close]);
    }
    let a = match memchr::memrchr(b':', a) {
        Some(colon) => &a[..colon],
        None => a,
    };
    a.strip_suffix(b".").unwrap_or(a)
}

/// Whether `text` starts with the defanged scheme `hxxp` in any case (`hXXp`, `HXXP`).
fn defanged_scheme(text: &str) -> bool {
    text.get(..4)
        .is_some_and(|s| s.eq_ignore_ascii_case("hxxp"))
}

/// `text` with defanging undone (see [`IndicatorValue::parse`]); borrowed when there is none.
pub(crate) fn refanged(text: &str) -> std::borrow::Cow<'_, str> {
    if needs_refang(text) {
        std::borrow::Cow::Owned(refang(text))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

fn needs_refang(text: &str) -> bool {
    text.contains('[') && !text.starts_with('[') || text.contains("(.)") || defanged_scheme(text)
}

fn refang(text: &str) -> String {
    let mut s = text
        .replace("[.]", ".")
        .replace("(.)", ".")
        .replace("[:]", ":")
        .replace("[@]", "@");
    if defanged_scheme(&s) {
        s.replace_range(..4, "http");
    }
    s
}

/// What a hit must say about an indicator besides its value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IndicatorMeta {
    /// The indicator's id or a label naming its source, e.g. `maltrail:malware/apt_12` or an
    /// STIX id `indicator--…`.
    pub label: String,
    /// The case or request it was shared under, if any.
    pub case_ref: Option<String>,
    /// Its TLP label as shared, e.g. `TLP:AMBER` (see [`crate::tlp_rank`]).
    pub tlp: String,
    /// When it stops being valid; from then on it doesn't match.
    pub valid_until: Option<EventTime>,
    /// The indicator asks for more than this one value (a STIX pattern with `AND`, a
    /// qualifier, or tests the matcher cannot evaluate): a hit on it is a candidate for an
    /// analyst to check, never a sighting (see [`Sightings::candidates`](crate::Sightings::candidates)).
    pub partial: bool,
}

impl IndicatorMeta {
    /// Meta with a label and a TLP, no case, no end of validity, not partial.
    pub fn new(label: impl Into<String>, tlp: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            case_ref: None,
            tlp: tlp.into(),
            valid_until: None,
            partial: false,
        }
    }
}

/// How restrictive a TLP label is, from 0 (`TLP:CLEAR`, `TLP:WHITE`) to 4 (`TLP:RED`).
/// Unknown labels rank as `TLP:RED`: when in doubt, share less.
pub fn tlp_rank(tlp: &str) -> u8 {
    let t = tlp.trim();
    let t = t
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("tlp:"))
        .map_or(t, |_| &t[4..]);
    match t.to_ascii_lowercase().as_str() {
        "clear" | "white" => 0,
        "green" => 1,
        "amber" => 2,
        "amber+strict" => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> IndicatorValue {
        IndicatorValue::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn each_kind_is_detected_from_its_text() {
        assert_eq!(parse("192.0.2.1").kind(), IndicatorKind::Ip);
        assert_eq!(parse("2001:db8::1").kind(), IndicatorKind::Ip);
        assert_eq!(parse("192.0.2.0/24").kind(), IndicatorKind::Cidr);
        assert_eq!(parse("192.0.2.1:8080").kind(), IndicatorKind::IpPort);
        assert_eq!(parse("[2001:db8::1]:443").kind(), IndicatorKind::IpPort);
        assert_eq!(parse("http://evil.example/x").kind(), IndicatorKind::Url);
        assert_eq!(parse("evil.example/x.php").kind(), IndicatorKind::Url);
        // Regression: an address followed by a path was taken for a bad CIDR block.
        assert_eq!(
            parse("192.0.2.1/gate.php").to_string(),
            "192.0.2.1/gate.php"
        );
        assert_eq!(parse("192.0.2.1:8080/b").kind(), IndicatorKind::Url);
        assert_eq!(parse("/gate.php").kind(), IndicatorKind::UrlPath);
        assert_eq!(
            parse("3A73E7D7CC21BD63FD8EA862352FA46A").kind(),
            IndicatorKind::Md5
        );
        assert_eq!(parse(&"a".repeat(40)).kind(), IndicatorKind::Sha1);
        assert_eq!(parse(&"F".repeat(64)).kind(), IndicatorKind::Sha256);
        assert_eq!(parse("x@Evil.Example").kind(), IndicatorKind::Email);
        assert_eq!(parse("Evil.Example.").kind(), IndicatorKind::Domain);
    }

    #[test]
    fn values_are_stored_in_normal_form() {
        assert_eq!(parse("192.0.2.77/24").to_string(), "192.0.2.0/24");
        assert_eq!(
            parse("192.0.2.77/32"),
            IndicatorValue::Ip("192.0.2.77".parse().expect("ip"))
        );
        assert_eq!(parse("::ffff:192.0.2.1").to_string(), "192.0.2.1");
        assert_eq!(parse("*.Evil.Example").to_string(), "evil.example");
        assert_eq!(
            parse("HTTP://Evil.Example:80").to_string(),
            "http://evil.example/"
        );
        assert_eq!(parse("x@Evil.Example").to_string(), "x@evil.example");
        assert_eq!(parse("[2001:db8::1]:443").to_string(), "[2001:db8::1]:443");
    }

    #[test]
    fn defanged_indicators_are_refanged() {
        assert_eq!(
            parse("hxxp://evil[.]example/x").to_string(),
            "http://evil.example/x"
        );
        assert_eq!(parse("evil(.)example").to_string(), "evil.example");
        assert_eq!(parse("192.0.2[.]1").to_string(), "192.0.2.1");
    }

    /// Regression (issue 25.2): `HXXP://` and `hXXp://` were stored with the scheme `hxxp`
    /// and never matched, because the refang test was case-sensitive.
    #[test]
    fn upper_case_defanged_schemes_are_refanged() {
        assert_eq!(
            parse("HXXP://evil[.]example/x").to_string(),
            "http://evil.example/x"
        );
        assert_eq!(
            parse("hXXps://Evil.example/").to_string(),
            "https://evil.example/"
        );
        assert_eq!(parse("hXXp://evil.example/").kind(), IndicatorKind::Url);
    }

    /// Regression (issue 25.3): `192.0.2.0/24#c2` (a comment without a blank before it) was
    /// read as a scheme-less URL that printed exactly like the block and never matched an
    /// address in it. An indicator's printed form must read back as the same kind.
    #[test]
    fn a_comment_glued_to_a_cidr_block_is_refused_not_read_as_a_url() {
        let refused = IndicatorValue::parse("192.0.2.0/24#c2");
        assert_eq!(
            refused,
            Err(IndicatorError::Ambiguous {
                text: "192.0.2.0/24#c2".into(),
                printed: "192.0.2.0/24".into()
            })
        );
        let why = refused.expect_err("refused").to_string();
        assert!(why.contains("192.0.2.0/24"), "{why}");
        // A fragment on a real URL path is still dropped as before.
        assert_eq!(parse("evil.example/x#frag").to_string(), "evil.example/x");
    }

    /// Regression (issue 20.16): a URL without a scheme with `@` in its path or query was
    /// read as an e-mail address.
    #[test]
    fn a_schemeless_url_with_an_at_sign_in_its_path_or_query_is_a_url() {
        assert_eq!(
            parse("evil.example/login?user=bob@corp.example").kind(),
            IndicatorKind::Url
        );
        assert_eq!(parse("evil.example/~bob@x").kind(), IndicatorKind::Url);
        assert_eq!(parse("192.0.2.1/a@b").kind(), IndicatorKind::Url);
        assert_eq!(parse("bob@evil.example").kind(), IndicatorKind::Email);
        assert_eq!(parse("dept/bob@evil.example").kind(), IndicatorKind::Email);
    }

    /// Found by the round-trip property: `hxxp://2001:db8:::` was kept as a URL whose host
    /// `2001:db8::` printed without brackets, so its printed form did not parse.
    #[test]
    fn an_ipv6_host_without_brackets_is_refused_in_a_url() {
        assert!(matches!(
            IndicatorValue::parse("http://2001:db8:::/x"),
            Err(IndicatorError::Url(..))
        ));
        assert_eq!(
            parse("http://[2001:DB8::1]:8080/x").to_string(),
            "http://[2001:db8::1]:8080/x"
        );
    }

    #[test]
    fn nonsense_is_refused_with_the_reason() {
        assert_eq!(IndicatorValue::parse("  "), Err(IndicatorError::Empty));
        assert!(matches!(
            IndicatorValue::parse("1.2.3"),
            Err(IndicatorError::Unrecognised(_))
        ));
        assert!(matches!(
            IndicatorValue::parse("192.0.2.0/33"),
            Err(IndicatorError::Cidr(_))
        ));
        assert!(matches!(
            IndicatorValue::parse("192.0.2.1:70000"),
            Err(IndicatorError::Port(_))
        ));
        assert!(matches!(
            IndicatorValue::parse("evil example.com"),
            Err(IndicatorError::Domain(_))
        ));
        assert!(matches!(
            IndicatorValue::parse("http:///x"),
            Err(IndicatorError::Url(..))
        ));
        assert!(matches!(
            IndicatorValue::parse("a@b@"),
            Err(IndicatorError::Email(_))
        ));
    }

    #[test]
    fn tlp_ranks_order_from_clear_to_red_and_unknown_is_red() {
        assert_eq!(tlp_rank("TLP:CLEAR"), 0);
        assert_eq!(tlp_rank("white"), 0);
        assert_eq!(tlp_rank("tlp:green"), 1);
        assert_eq!(tlp_rank("TLP:AMBER"), 2);
        assert_eq!(tlp_rank("TLP:AMBER+STRICT"), 3);
        assert_eq!(tlp_rank("TLP:RED"), 4);
        assert_eq!(tlp_rank("secret"), 4);
    }
}
