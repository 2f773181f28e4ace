//! Normal forms, so that the same thing written two ways compares equal.
//!
//! Both sides go through the same functions: indicators when they enter the index, and values
//! read from logs when they are looked up. The rules:
//!
//! - **IP addresses**: dotted quads as `std` accepts them (no leading zeros, no shorthand);
//!   IPv6 as `std` accepts it; IPv4-mapped IPv6 (`::ffff:192.0.2.1`) is the IPv4 address.
//! - **Domains**: ASCII lower case, one trailing dot removed. Internationalised names must be
//!   in punycode (`xn--…`), which is how DNS logs carry them.
//! - **Hashes**: lower-case hex; the length (32, 40, 64) tells MD5, SHA-1, SHA-256.
//! - **E-mail addresses**: the domain in lower case, the local part as written (RFC 5321 §2.4
//!   lets the receiving host decide its case), angle brackets and `mailto:` removed.
//! - **URLs**, following RFC 3986 §6.2.2 (syntax-based) and §6.2.3 (scheme-based):
//!   scheme and host in lower case (§6.2.2.1); percent-encodings of unreserved characters
//!   (`A-Z a-z 0-9 - . _ ~`) decoded and all other percent-encodings written with upper-case hex
//!   (§6.2.2.1, §6.2.2.2); dot segments removed (§6.2.2.3, algorithm of §5.2.4); the port
//!   dropped when it is the scheme's default (http 80, https 443, ws 80, wss 443, ftp 21) and
//!   an empty path written `/` (§6.2.3). The path and query keep their case, and an empty
//!   query keeps its `?` (§6.2.3 says `http://a/?` and `http://a/` may differ).
//!   Three rules of our own: the fragment is dropped (it never leaves the browser, so no log
//!   sees it), userinfo is dropped (logs don't carry it and it doesn't change the server
//!   reached), and a `%` that doesn't start a valid escape is written `%25`, so that
//!   normalising twice gives the same result.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parses an IPv4 dotted quad from bytes, accepting exactly what `Ipv4Addr::from_str` accepts.
pub(crate) fn parse_ipv4(b: &[u8]) -> Option<Ipv4Addr> {
    if b.len() < 7 || b.len() > 15 {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut part = 0;
    let mut value: u32 = 0;
    let mut digits = 0;
    for &c in b {
        if c == b'.' {
            if digits == 0 || part == 3 {
                return None;
            }
            octets[part] = value as u8;
            part += 1;
            value = 0;
            digits = 0;
        } else if c.is_ascii_digit() {
            // A leading zero would be read as octal by some tools, so std refuses it; so do we.
            if digits == 1 && value == 0 {
                return None;
            }
            value = value * 10 + u32::from(c - b'0');
            digits += 1;
            if value > 255 {
                return None;
            }
        } else {
            return None;
        }
    }
    if digits == 0 || part != 3 {
        return None;
    }
    octets[3] = value as u8;
    Some(Ipv4Addr::from(octets))
}

/// Parses an IPv4 or IPv6 address; IPv4-mapped IPv6 addresses become IPv4.
pub(crate) fn parse_ip(b: &[u8]) -> Option<IpAddr> {
    if let Some(v4) = parse_ipv4(b) {
        return Some(IpAddr::V4(v4));
    }
    if b.len() < 2 || b.len() > 45 || !b.contains(&b':') {
        return None;
    }
    let text = std::str::from_utf8(b).ok()?;
    text.parse::<Ipv6Addr>()
        .ok()
        .map(|v6| canonical_ip(IpAddr::V6(v6)))
}

/// The one form an address is indexed and looked up in.
pub(crate) fn canonical_ip(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// Parses a port number, 0 to 65535, digits only.
pub(crate) fn parse_port(b: &[u8]) -> Option<u16> {
    if b.is_empty() || b.len() > 5 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Writes the lookup form of a domain into `out`: ASCII lower case, one trailing dot removed.
/// Returns false when nothing is left. Doesn't judge validity: an invalid name simply finds
/// nothing, because only valid names enter the index.
pub(crate) fn domain_key(raw: &[u8], out: &mut Vec<u8>) -> bool {
    let raw = raw.strip_suffix(b".").unwrap_or(raw);
    out.clear();
    out.extend(raw.iter().map(u8::to_ascii_lowercase));
    !out.is_empty()
}

/// Whether a lower-cased name is a domain we index: labels of 1 to 63 letters, digits, `-`
/// or `_`, at most 253 characters, and a last label that is not all digits (RFC 3696 §2), so
/// that IP addresses and numbers are never taken for domains.
pub(crate) fn is_valid_domain(name: &[u8]) -> bool {
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    let mut last_all_digits = true;
    for label in name.split(|&c| c == b'.') {
        if label.is_empty() || label.len() > 63 {
            return false;
        }
        if !label
            .iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_')
        {
            return false;
        }
        last_all_digits = label.iter().all(u8::is_ascii_digit);
    }
    !last_all_digits
}

/// Writes the lookup form of a hash into `out` (lower-case hex) if it has the length of an
/// MD5, SHA-1 or SHA-256 digest.
pub(crate) fn hash_key(raw: &[u8], out: &mut Vec<u8>) -> bool {
    if !matches!(raw.len(), 32 | 40 | 64) || !raw.iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    out.clear();
    out.extend(raw.iter().map(u8::to_ascii_lowercase));
    true
}

/// Writes the lookup form of an e-mail address into `out`: `local@domain` with the domain in
/// lower case. Angle brackets and a `mailto:` prefix are removed first.
pub(crate) fn email_key(raw: &[u8], out: &mut Vec<u8>) -> bool {
    let mut raw = raw.trim_ascii();
    if let [b'<', inner @ .., b'>'] = raw {
        raw = inner;
    }
    if raw.len() > 7 && raw[..7].eq_ignore_ascii_case(b"mailto:") {
        raw = &raw[7..];
    }
    let Some(at) = memchr::memrchr(b'@', raw) else {
        return false;
    };
    let (local, domain) = (&raw[..at], &raw[at + 1..]);
    if local.is_empty() || domain.is_empty() {
        return false;
    }
    out.clear();
    out.extend_from_slice(local);
    out.push(b'@');
    let domain = domain.strip_suffix(b".").unwrap_or(domain);
    out.extend(domain.iter().map(u8::to_ascii_lowercase));
    true
}

/// The parts of a URL as split from its text, before normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UrlParts<'a> {
    /// The scheme without `://`, if the text had one.
    pub scheme: Option<&'a [u8]>,
    /// `[userinfo@]host[:port]`.
    pub authority: &'a [u8],
    /// Everything after the authority: path, query and fragment.
    pub rest: &'a [u8],
}

/// Splits `scheme://authority/rest` or, without a scheme, `authority/rest`.
/// The scheme must be a letter followed by letters, digits, `+`, `-` or `.` (RFC 3986 §3.1).
pub(crate) fn split_url(raw: &[u8]) -> UrlParts<'_> {
    let (scheme, after) = match memchr::memmem::find(raw, b"://") {
        Some(i) if i > 0 && is_scheme(&raw[..i]) => (Some(&raw[..i]), &raw[i + 3..]),
        _ => (None, raw),
    };
    let end = after
        .iter()
        .position(|&c| matches!(c, b'/' | b'?' | b'#'))
        .unwrap_or(after.len());
    UrlParts {
        scheme,
        authority: &after[..end],
        rest: &after[end..],
    }
}

fn is_scheme(s: &[u8]) -> bool {
    s[0].is_ascii_alphabetic()
        && s.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

/// The default port of the schemes whose default RFC 3986 §6.2.3 lets us drop.
pub(crate) fn default_port(scheme: &[u8]) -> Option<u16> {
    match scheme {
        b"http" | b"ws" => Some(80),
        b"https" | b"wss" => Some(443),
        b"ftp" => Some(21),
        _ => None,
    }
}

/// Where the parts of a normalised URL lie in the buffer it was written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UrlLayout {
    /// Length of `scheme://`, 0 without a scheme. The lookup key starts here.
    pub key_start: usize,
    /// Start of the path (always `/`).
    pub path_start: usize,
    /// Position of `?`, if there is a query.
    pub query_start: Option<usize>,
}

/// Writes the normal form of a URL into `out` (cleared first) and tells where its parts are.
/// Fails on an empty host, a bad port, or a path that is neither empty nor starts with `/`,
/// `?` or `#` (such as the `*` of `OPTIONS *`).
pub(crate) fn normalize_url_into(
    parts: UrlParts<'_>,
    out: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
) -> Result<UrlLayout, &'static str> {
    out.clear();
    let mut scheme_default = None;
    if let Some(scheme) = parts.scheme {
        out.extend(scheme.iter().map(u8::to_ascii_lowercase));
        scheme_default = default_port(out);
        out.extend_from_slice(b"://");
    }
    let key_start = out.len();

    // Userinfo ends at the last '@' of the authority.
    let authority = match memchr::memrchr(b'@', parts.authority) {
        Some(at) => &parts.authority[at + 1..],
        None => parts.authority,
    };
    let (host, port) = if authority.first() == Some(&b'[') {
        let close = memchr::memchr(b']', authority).ok_or("an IPv6 host lacks its ']'")?;
        let after = &authority[close + 1..];
        let port = match after {
            [] => None,
            [b':', port @ ..] => Some(port),
            _ => return Err("unexpected text after the IPv6 host"),
        };
        (&authority[..=close], port)
    } else {
        match memchr::memrchr(b':', authority) {
            Some(colon) => (&authority[..colon], Some(&authority[colon + 1..])),
            None => (authority, None),
        }
    };
    let host = host.strip_suffix(b".").unwrap_or(host);
    if host.is_empty() {
        return Err("the host is empty");
    }
    out.extend(host.iter().map(u8::to_ascii_lowercase));
    match port {
        None | Some([]) => {}
        Some(port) => {
            let port = parse_port(port).ok_or("the port is not a number from 0 to 65535")?;
            if Some(port) != scheme_default {
                out.push(b':');
                out.extend_from_slice(port.to_string().as_bytes());
            }
        }
    }

    let rest = parts.rest;
    let rest = match memchr::memchr(b'#', rest) {
        Some(hash) => &rest[..hash],
        None => rest,
    };
    if !rest.is_empty() && !matches!(rest[0], b'/' | b'?') {
        return Err("the path must start with '/'");
    }
    let (path, query) = match memchr::memchr(b'?', rest) {
        Some(q) => (&rest[..q], Some(&rest[q + 1..])),
        None => (rest, None),
    };
    let path_start = out.len();
    if path.is_empty() {
        out.push(b'/');
    } else {
        scratch.clear();
        push_percent_normalized(path, scratch);
        remove_dot_segments(scratch, out);
        if out.len() == path_start {
            out.push(b'/');
        }
    }
    let query_start = query.map(|query| {
        let at = out.len();
        out.push(b'?');
        push_percent_normalized(query, out);
        at
    });
    Ok(UrlLayout {
        key_start,
        path_start,
        query_start,
    })
}

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes percent-encoded unreserved characters, upper-cases the hex of the others, and
/// writes a stray `%` as `%25` (RFC 3986 §6.2.2.1, §6.2.2.2).
pub(crate) fn push_percent_normalized(input: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'%', &input[i..]) {
        out.extend_from_slice(&input[i..i + off]);
        i += off;
        let decoded = match (input.get(i + 1), input.get(i + 2)) {
            (Some(&h), Some(&l)) => hex_value(h).zip(hex_value(l)).map(|(h, l)| h * 16 + l),
            _ => None,
        };
        match decoded {
            Some(c) if is_unreserved(c) => {
                out.push(c);
                i += 3;
            }
            Some(c) => {
                out.extend_from_slice(&[b'%', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
                i += 3;
            }
            None => {
                out.extend_from_slice(b"%25");
                i += 1;
            }
        }
    }
    out.extend_from_slice(&input[i..]);
}

/// RFC 3986 §5.2.4, appending the result to `out`.
pub(crate) fn remove_dot_segments(input: &[u8], out: &mut Vec<u8>) {
    let base = out.len();
    if !input.starts_with(b".") && memchr::memmem::find(input, b"/.").is_none() {
        out.extend_from_slice(input);
        return;
    }
    let mut rest = input;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix(b"../") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix(b"./") {
            rest = r;
        } else if rest.starts_with(b"/./") {
            rest = &rest[2..];
        } else if rest == b"/." {
            rest = b"/";
        } else if rest.starts_with(b"/../") {
            rest = &rest[3..];
            pop_segment(out, base);
        } else if rest == b"/.." {
            rest = b"/";
            pop_segment(out, base);
        } else if rest == b"." || rest == b".." {
            rest = b"";
        } else {
            let start = usize::from(rest[0] == b'/');
            let end = memchr::memchr(b'/', &rest[start..]).map_or(rest.len(), |e| e + start);
            out.extend_from_slice(&rest[..end]);
            rest = &rest[end..];
        }
    }
}

fn pop_segment(out: &mut Vec<u8>, base: usize) {
    let cut = memchr::memrchr(b'/', &out[base..]).map_or(base, |p| base + p);
    out.truncate(cut);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Result<String, &'static str> {
        let (mut out, mut scratch) = (Vec::new(), Vec::new());
        normalize_url_into(split_url(text.as_bytes()), &mut out, &mut scratch)?;
        Ok(String::from_utf8(out).expect("ascii in, ascii out"))
    }

    #[test]
    fn ipv4_parsing_agrees_with_std() {
        for text in [
            "1.2.3.4",
            "255.255.255.255",
            "0.0.0.0",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1..2.3",
            "1.2.3.4 ",
            "+1.2.3.4",
            "1.2.3.04",
            "10.0.0.0",
        ] {
            assert_eq!(parse_ipv4(text.as_bytes()), text.parse().ok(), "{text}");
        }
    }

    #[test]
    fn ipv4_mapped_ipv6_is_the_ipv4_address() {
        assert_eq!(
            parse_ip(b"::ffff:192.0.2.1"),
            Some("192.0.2.1".parse().expect("ip"))
        );
        assert_eq!(
            parse_ip(b"2001:DB8::1"),
            Some("2001:db8::1".parse().expect("ip"))
        );
    }

    #[test]
    fn domains_are_lower_cased_and_lose_one_trailing_dot() {
        let mut out = Vec::new();
        assert!(domain_key(b"WWW.Evil.Example.", &mut out));
        assert_eq!(out, b"www.evil.example");
        assert!(!domain_key(b".", &mut out));
    }

    #[test]
    fn a_domain_needs_sane_labels_and_a_non_numeric_tld() {
        assert!(is_valid_domain(b"evil.example"));
        assert!(is_valid_domain(b"_dmarc.evil-1.example"));
        assert!(is_valid_domain(b"localhost"));
        assert!(!is_valid_domain(b"1.2.3.4"));
        assert!(!is_valid_domain(b"evil..example"));
        assert!(!is_valid_domain(b"evil example"));
        assert!(!is_valid_domain(b"EVIL.example"));
        assert!(!is_valid_domain("évil.example".as_bytes()));
        assert!(!is_valid_domain(&[b'a'; 64]));
    }

    #[test]
    fn email_domains_are_case_insensitive_but_local_parts_are_kept() {
        let mut out = Vec::new();
        assert!(email_key(b"<Alice@Evil.EXAMPLE>", &mut out));
        assert_eq!(out, b"Alice@evil.example");
        assert!(email_key(b"MAILTO:bob@x.example", &mut out));
        assert_eq!(out, b"bob@x.example");
        assert!(!email_key(b"@x.example", &mut out));
        assert!(!email_key(b"bob@", &mut out));
    }

    #[test]
    fn hashes_are_lower_cased_and_need_a_digest_length() {
        let mut out = Vec::new();
        assert!(hash_key(b"3A73E7D7CC21BD63FD8EA862352FA46A", &mut out));
        assert_eq!(out, b"3a73e7d7cc21bd63fd8ea862352fa46a");
        assert!(!hash_key(b"3A73E7D7CC21BD63FD8EA862352FA46", &mut out));
        assert!(!hash_key(b"zA73E7D7CC21BD63FD8EA862352FA46A", &mut out));
    }

    #[test]
    fn scheme_and_host_are_lower_cased_but_the_path_is_not() {
        assert_eq!(
            url("HTTP://Evil.EXAMPLE/Gate.PHP").as_deref(),
            Ok("http://evil.example/Gate.PHP")
        );
    }

    #[test]
    fn default_ports_are_dropped_and_others_kept() {
        assert_eq!(
            url("http://a.example:80/x").as_deref(),
            Ok("http://a.example/x")
        );
        assert_eq!(
            url("https://a.example:443").as_deref(),
            Ok("https://a.example/")
        );
        assert_eq!(
            url("https://a.example:80/").as_deref(),
            Ok("https://a.example:80/")
        );
        assert_eq!(
            url("http://a.example:0080/").as_deref(),
            Ok("http://a.example/")
        );
        assert_eq!(
            url("http://a.example:/").as_deref(),
            Ok("http://a.example/")
        );
        assert!(url("http://a.example:99999/").is_err());
    }

    #[test]
    fn percent_encoding_follows_rfc3986_section_6_2_2() {
        // Unreserved characters are decoded; reserved ones stay encoded with upper-case hex.
        assert_eq!(
            url("http://a.example/%7euser/%41%2f%3a").as_deref(),
            Ok("http://a.example/~user/A%2F%3A")
        );
        // A stray '%' is escaped so that normalising twice changes nothing.
        assert_eq!(
            url("http://a.example/100%/%%341").as_deref(),
            Ok("http://a.example/100%25/%2541")
        );
    }

    #[test]
    fn dot_segments_are_removed_after_decoding() {
        assert_eq!(
            url("http://a.example/a/b/../c/./d").as_deref(),
            Ok("http://a.example/a/c/d")
        );
        assert_eq!(
            url("http://a.example/a/%2E%2E/b").as_deref(),
            Ok("http://a.example/b")
        );
        assert_eq!(
            url("http://a.example/../../x").as_deref(),
            Ok("http://a.example/x")
        );
        assert_eq!(
            url("http://a.example/a/..").as_deref(),
            Ok("http://a.example/")
        );
    }

    #[test]
    fn the_rfc_5_4_examples_resolve_as_published() {
        // RFC 3986 §5.2.4's own worked examples.
        let mut out = Vec::new();
        remove_dot_segments(b"/a/b/c/./../../g", &mut out);
        assert_eq!(out, b"/a/g");
        out.clear();
        remove_dot_segments(b"mid/content=5/../6", &mut out);
        assert_eq!(out, b"mid/6");
    }

    #[test]
    fn fragments_and_userinfo_are_dropped_and_empty_queries_kept() {
        assert_eq!(
            url("http://user:pw@a.example/x?q=1#frag").as_deref(),
            Ok("http://a.example/x?q=1")
        );
        assert_eq!(
            url("http://a.example/?").as_deref(),
            Ok("http://a.example/?")
        );
        assert_eq!(
            url("http://a.example?x").as_deref(),
            Ok("http://a.example/?x")
        );
    }

    #[test]
    fn urls_without_a_scheme_keep_their_port_and_ipv6_hosts_work() {
        assert_eq!(url("Evil.Example/Path").as_deref(), Ok("evil.example/Path"));
        assert_eq!(
            url("http://[2001:DB8::1]:80/x").as_deref(),
            Ok("http://[2001:db8::1]/x")
        );
        assert_eq!(
            url("http://[2001:db8::1]:8080").as_deref(),
            Ok("http://[2001:db8::1]:8080/")
        );
        assert!(url("http://[2001:db8::1/x").is_err());
        assert!(url("http:///x").is_err());
    }
}
