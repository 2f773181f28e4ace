//! The scanner for plain text: picks out everything that could be an indicator, without
//! regular expressions.
//!
//! A line is cut into tokens at blanks, quotes, brackets and `,;|` (a 256-entry table, one
//! lookup per byte). Each token is then judged by its shape, cheapest test first: a `://`
//! makes it a URL (from the scheme on, so `url=http://…` works), `key=value` is read as its
//! key and its whole value (a query's own `=` stays in its URL), an `@` makes an e-mail
//! address (unless a `host/` path comes before it: that is a URL without a scheme), 32/40/64
//! hex digits a hash, digits and dots an IP or `ip:port`,
//! and a dotted name (with an optional `/path`) a domain (and a URL without scheme). Looking
//! up a token that is none of these costs one hash probe that misses, so the scanner errs on
//! the side of trying.

use super::line::{LineOut, strip_port};
use crate::index::Observable;
use crate::normalize::{parse_ip, parse_ipv4, parse_port};

const fn delimiters() -> [bool; 256] {
    let mut table = [false; 256];
    let set = b" \t\r\n\x0b\x0c\"'<>,;|(){}[]`\\^";
    let mut i = 0;
    while i < set.len() {
        table[set[i] as usize] = true;
        i += 1;
    }
    table
}

static DELIMITER: [bool; 256] = delimiters();

/// Scans `text`, adding what it finds to `out` under `field`.
pub(crate) fn scan<'a>(text: &'a [u8], field: u16, out: &mut LineOut<'a>) {
    let mut i = 0;
    let n = text.len();
    while i < n {
        while i < n && DELIMITER[usize::from(text[i])] {
            i += 1;
        }
        let start = i;
        while i < n && !DELIMITER[usize::from(text[i])] {
            i += 1;
        }
        if i > start {
            token(&text[start..i], field, out);
        }
    }
}

fn trim_punctuation(tok: &[u8]) -> &[u8] {
    let start = tok
        .iter()
        .position(|c| !matches!(c, b':' | b'=' | b'.' | b'!' | b'?'))
        .unwrap_or(tok.len());
    let tok = &tok[start..];
    let end = tok
        .iter()
        .rposition(|c| !matches!(c, b'.' | b':' | b'!' | b'?'))
        .map_or(0, |e| e + 1);
    &tok[..end]
}

fn token<'a>(tok: &'a [u8], field: u16, out: &mut LineOut<'a>) {
    let tok = trim_punctuation(tok);
    if tok.len() < 3 {
        return;
    }
    if let Some(p) = memchr::memmem::find(tok, b"://") {
        let mut s = p;
        while s > 0
            && (tok[s - 1].is_ascii_alphanumeric() || matches!(tok[s - 1], b'+' | b'-' | b'.'))
        {
            s -= 1;
        }
        while s < p && !tok[s].is_ascii_alphabetic() {
            s += 1;
        }
        if s < p {
            let url = Observable::url(&tok[s..]);
            if let Observable::Url { authority, .. } = url {
                let host =
                    memchr::memrchr(b'@', authority).map_or(authority, |at| &authority[at + 1..]);
                if !host.is_empty() {
                    out.push_name(field, strip_port(host));
                }
            }
            out.observables.push((field, url));
        }
        return;
    }
    // `key=value` is read as its key and its whole value, so that a URL's query in the value
    // (`url=evil.example/a?id=1`) keeps its own `=`; a key with a `/` is such a URL already.
    if let Some(eq) = memchr::memchr(b'=', tok)
        && !tok[..eq].contains(&b'/')
    {
        token(&tok[..eq], field, out);
        token(&tok[eq + 1..], field, out);
        return;
    }
    if let Some(at) = memchr::memrchr(b'@', tok) {
        // `evil.example/~bob@x` is a URL without a scheme, read below; `bob@x` an address.
        let url_path =
            memchr::memchr(b'/', tok).is_some_and(|slash| slash < at && is_host(&tok[..slash]));
        if !url_path {
            out.observables.push((field, Observable::Email(tok)));
            let domain = &tok[at + 1..];
            if domain.contains(&b'.') {
                out.push_name(field, domain);
            }
            return;
        }
    }
    if matches!(tok.len(), 32 | 40 | 64) && tok.iter().all(u8::is_ascii_hexdigit) {
        out.observables.push((field, Observable::Hash(tok)));
        return;
    }
    if tok[0].is_ascii_digit() || tok.contains(&b':') {
        if let Some(ip) = parse_ip(tok) {
            out.push_ip(field, ip);
            return;
        }
        if let Some(colon) = memchr::memrchr(b':', tok)
            && let (Some(ip), Some(port)) =
                (parse_ipv4(&tok[..colon]), parse_port(&tok[colon + 1..]))
        {
            out.push_ip(field, ip.into());
            out.observables
                .push((field, Observable::IpPort(ip.into(), port)));
            return;
        }
    }
    let (authority, rest) = match memchr::memchr(b'/', tok) {
        Some(slash) => (&tok[..slash], &tok[slash..]),
        None => (tok, &b""[..]),
    };
    let host = strip_port(authority);
    if !host.contains(&b'.') {
        return;
    }
    if let Some(ip) = parse_ip(host) {
        out.push_ip(field, ip);
    } else if is_name(host) {
        out.observables.push((field, Observable::Domain(host)));
    } else {
        return;
    }
    if !rest.is_empty() {
        out.observables.push((
            field,
            Observable::Url {
                scheme: None,
                authority,
                rest,
            },
        ));
    }
}

/// Whether `host` has the letters of a domain name: ASCII letters, digits, `.`, `-`, `_`.
fn is_name(host: &[u8]) -> bool {
    host.iter()
        .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
}

/// Whether `authority` (before a URL's first `/`) is a dotted name or an IP address, with
/// an optional port.
fn is_host(authority: &[u8]) -> bool {
    let host = strip_port(authority);
    host.contains(&b'.') && (parse_ip(host).is_some() || is_name(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<String> {
        let mut out = LineOut::default();
        scan(text.as_bytes(), 0, &mut out);
        out.observables
            .iter()
            .map(|(_, o)| match o {
                Observable::Ip(ip) => format!("ip {ip}"),
                Observable::IpPort(ip, p) => format!("ip-port {ip}:{p}"),
                Observable::Domain(d) => format!("domain {}", String::from_utf8_lossy(d)),
                Observable::Url {
                    scheme,
                    authority,
                    rest,
                } => format!(
                    "url {}|{}|{}",
                    String::from_utf8_lossy(scheme.unwrap_or(b"")),
                    String::from_utf8_lossy(authority),
                    String::from_utf8_lossy(rest)
                ),
                Observable::Hash(h) => format!("hash {}", String::from_utf8_lossy(h)),
                Observable::Email(e) => format!("email {}", String::from_utf8_lossy(e)),
            })
            .collect()
    }

    #[test]
    fn a_syslog_line_yields_addresses_names_and_urls() {
        assert_eq!(
            found(
                "Nov 14 proxy: src=10.0.0.1 GET url=\"HTTP://Evil.example:8080/gate.php?id=1\" (via 192.0.2.1:3128)."
            ),
            [
                "ip 10.0.0.1",
                "domain Evil.example",
                "url HTTP|Evil.example:8080|/gate.php?id=1",
                "ip 192.0.2.1",
                "ip-port 192.0.2.1:3128",
            ]
        );
    }

    #[test]
    fn hashes_emails_and_schemeless_urls_are_found() {
        assert_eq!(
            found(
                "mail from <bad@Phish.example> attachment 3A73E7D7CC21BD63FD8EA862352FA46A fetched evil.example/x.exe"
            ),
            [
                "email bad@Phish.example",
                "domain Phish.example",
                "hash 3A73E7D7CC21BD63FD8EA862352FA46A",
                "domain evil.example",
                "url |evil.example|/x.exe",
            ]
        );
    }

    /// Regression (issue 20.16): a scheme-less URL with `@` in its path was read as an
    /// e-mail address, and one with a query was cut at its first `=`.
    #[test]
    fn schemeless_urls_keep_their_at_signs_and_queries() {
        assert_eq!(
            found("GET evil.example/~bob@x/gate.php"),
            ["domain evil.example", "url |evil.example|/~bob@x/gate.php"]
        );
        assert_eq!(
            found("fetched url=evil.example/login?user=bob@corp.example&id=1"),
            [
                "domain evil.example",
                "url |evil.example|/login?user=bob@corp.example&id=1"
            ]
        );
        assert_eq!(
            found("to=dept/bob@corp.example"),
            ["email dept/bob@corp.example", "domain corp.example"]
        );
    }

    #[test]
    fn words_numbers_and_punctuation_yield_nothing() {
        assert!(found("the quick brown fox, 12345 times... (ok)").is_empty());
        assert_eq!(found("[2001:db8::1]:443"), ["ip 2001:db8::1"]);
    }
}
