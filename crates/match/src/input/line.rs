//! One line of any format, reduced to the values to look up: [`LineOut`]. A [`Schema`] says
//! which column plays which [`FieldRole`].

use std::net::IpAddr;

use crate::event_time::EventTime;
use crate::index::Observable;
use crate::normalize::{parse_ip, parse_port};

use super::{csv, scan, zeek};

/// What a column holds, which decides how its values are looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldRole {
    /// When the event happened (epoch seconds or RFC 3339).
    Time,
    /// The address that opened the connection.
    SrcIp,
    /// Its port; paired with [`Self::SrcIp`] for `ip:port` indicators.
    SrcPort,
    /// The address connected to.
    DstIp,
    /// Its port; paired with [`Self::DstIp`].
    DstPort,
    /// Any other address, or a list of them.
    Ip,
    /// A domain name (an address written here is looked up as an address).
    Domain,
    /// DNS answers: a list of names and addresses.
    Answers,
    /// An HTTP `Host` header; with [`Self::Uri`] it makes an `http://` URL.
    Host,
    /// An HTTP request target: a path, or a full URL for proxy requests.
    Uri,
    /// A full URL (a referrer, a proxy log's URL); its host is looked up too.
    Url,
    /// A file hash, or a list of them.
    Hash,
    /// An e-mail address, or a list of them.
    Email,
    /// Free text, scanned for anything that looks like an indicator.
    Text,
}

impl FieldRole {
    /// The role names [`Self::parse`] accepts.
    pub const NAMES: &'static [&'static str] = &[
        "time", "src-ip", "src-port", "dst-ip", "dst-port", "ip", "domain", "answers", "host",
        "uri", "url", "hash", "email", "text",
    ];

    /// A role from its name (see [`Self::NAMES`]).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "time" => Self::Time,
            "src-ip" => Self::SrcIp,
            "src-port" => Self::SrcPort,
            "dst-ip" => Self::DstIp,
            "dst-port" => Self::DstPort,
            "ip" => Self::Ip,
            "domain" => Self::Domain,
            "answers" => Self::Answers,
            "host" => Self::Host,
            "uri" => Self::Uri,
            "url" => Self::Url,
            "hash" => Self::Hash,
            "email" => Self::Email,
            "text" => Self::Text,
            _ => return None,
        })
    }
}

/// The syntax a schema reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SchemaKind {
    ZeekTsv(zeek::TsvSyntax),
    ZeekJson,
    Csv { delimiter: u8 },
    Plain,
}

/// Which column is which, for one stretch of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Schema {
    pub kind: SchemaKind,
    /// Field names; a field id indexes this.
    pub names: Vec<String>,
    /// Per column position (TSV, CSV): its field id and role, if it matters.
    pub columns: Vec<Option<(u16, FieldRole)>>,
    /// Whether the column layout is known (a Zeek TSV needs its `#fields` line first).
    pub ready: bool,
}

impl Schema {
    pub fn empty(kind: SchemaKind) -> Self {
        Self {
            kind,
            names: Vec::new(),
            columns: Vec::new(),
            ready: false,
        }
    }

    pub fn plain() -> Self {
        Self {
            kind: SchemaKind::Plain,
            names: vec!["text".to_owned()],
            columns: Vec::new(),
            ready: true,
        }
    }

    pub fn field_name(&self, field: u16) -> &str {
        self.names
            .get(usize::from(field))
            .map_or("?", String::as_str)
    }

    /// Parses one line (without its newline) and hands the result to `found`. Lines that are
    /// empty or (in Zeek TSV) headers produce nothing.
    pub fn parse_line<'a>(
        &self,
        line: &'a [u8],
        out: &mut LineOut<'a>,
        found: &mut dyn FnMut(&LineOut<'_>),
    ) -> Result<(), String> {
        out.clear();
        match &self.kind {
            SchemaKind::ZeekTsv(syntax) => {
                if line.first() == Some(&b'#') {
                    return Ok(());
                }
                if !self.ready {
                    return Err("no #fields header before this line".to_owned());
                }
                zeek::parse_tsv(self, syntax, line, out)?;
            }
            SchemaKind::ZeekJson => return zeek::parse_json(self, line, found),
            SchemaKind::Csv { delimiter } => csv::parse_csv(self, *delimiter, line, out)?,
            SchemaKind::Plain => scan::scan(line, 0, out),
        }
        out.finish();
        found(out);
        Ok(())
    }
}

/// A line's time as found; parsed only when the line has a hit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) enum RawTime<'a> {
    #[default]
    None,
    Text(&'a [u8]),
    Seconds(f64),
}

impl RawTime<'_> {
    pub fn parse(self) -> Option<EventTime> {
        match self {
            Self::None => None,
            Self::Text(t) => EventTime::parse(t),
            Self::Seconds(s) => EventTime::from_epoch_f64(s),
        }
    }
}

/// An address and port of one side of a connection, paired after the whole line is read.
#[derive(Debug, Clone, Copy, Default)]
struct Endpoint {
    ip: Option<IpAddr>,
    port: Option<(u16, u16)>,
}

/// The values of one line worth looking up.
#[derive(Debug, Default)]
pub(crate) struct LineOut<'a> {
    pub time: RawTime<'a>,
    /// Field id and value, in column order; `ip:port` pairs and HTTP URLs come last.
    pub observables: Vec<(u16, Observable<'a>)>,
    /// Every address on the line: they say whose network the line belongs to.
    pub hosts: Vec<IpAddr>,
    src: Endpoint,
    dst: Endpoint,
    host: Option<(u16, &'a [u8])>,
    uri: Option<(u16, &'a [u8])>,
}

impl<'a> LineOut<'a> {
    pub fn clear(&mut self) {
        self.time = RawTime::None;
        self.observables.clear();
        self.hosts.clear();
        self.src = Endpoint::default();
        self.dst = Endpoint::default();
        self.host = None;
        self.uri = None;
    }

    pub fn push_ip(&mut self, field: u16, ip: IpAddr) {
        self.observables.push((field, Observable::Ip(ip)));
        self.hosts.push(ip);
    }

    /// A name, or an address written where a name was expected.
    pub fn push_name(&mut self, field: u16, value: &'a [u8]) {
        match parse_ip(value) {
            Some(ip) => self.push_ip(field, ip),
            None => self.observables.push((field, Observable::Domain(value))),
        }
    }

    /// Takes one value of a column. `list_sep` splits list-valued roles (Zeek's set separator).
    pub fn push(
        &mut self,
        field: u16,
        role: FieldRole,
        value: &'a [u8],
        list_sep: Option<u8>,
    ) -> Result<(), &'static str> {
        // Without a separator the predicate never fires and the value comes out whole.
        let split = |v: &'a [u8]| v.split(move |&c| list_sep == Some(c));
        match role {
            FieldRole::Time => self.time = RawTime::Text(value),
            FieldRole::SrcIp | FieldRole::DstIp => {
                let ip = parse_ip(value).ok_or("an address column holds something else")?;
                self.push_ip(field, ip);
                let side = if role == FieldRole::SrcIp {
                    &mut self.src
                } else {
                    &mut self.dst
                };
                side.ip = Some(ip);
            }
            FieldRole::SrcPort | FieldRole::DstPort => {
                let port = parse_port(value).ok_or("a port column holds something else")?;
                let side = if role == FieldRole::SrcPort {
                    &mut self.src
                } else {
                    &mut self.dst
                };
                side.port = Some((field, port));
            }
            FieldRole::Ip => {
                for v in split(value) {
                    let ip = parse_ip(v).ok_or("an address column holds something else")?;
                    self.push_ip(field, ip);
                }
            }
            FieldRole::Domain => self.push_name(field, value),
            FieldRole::Answers => {
                for v in split(value) {
                    self.push_name(field, v);
                }
            }
            FieldRole::Host => {
                self.host = Some((field, value));
                self.push_name(field, strip_port(value));
            }
            FieldRole::Uri => self.uri = Some((field, value)),
            FieldRole::Url => {
                let url = Observable::url(value);
                if let Observable::Url { authority, .. } = url
                    && !authority.is_empty()
                {
                    self.push_name(field, strip_port(strip_userinfo(authority)));
                }
                self.observables.push((field, url));
            }
            FieldRole::Hash => {
                for v in split(value) {
                    self.observables.push((field, Observable::Hash(v)));
                }
            }
            FieldRole::Email => {
                for v in split(value) {
                    self.observables.push((field, Observable::Email(v)));
                }
            }
            FieldRole::Text => scan::scan(value, field, self),
        }
        Ok(())
    }

    /// Takes a JSON number: a time or a port; numbers in other roles mean nothing to us.
    pub fn push_number(&mut self, field: u16, role: FieldRole, n: f64) -> Result<(), &'static str> {
        match role {
            FieldRole::Time => self.time = RawTime::Seconds(n),
            FieldRole::SrcPort | FieldRole::DstPort => {
                if !(0.0..=65535.0).contains(&n) || n.fract() != 0.0 {
                    return Err("a port is not a whole number from 0 to 65535");
                }
                let side = if role == FieldRole::SrcPort {
                    &mut self.src
                } else {
                    &mut self.dst
                };
                side.port = Some((field, n as u16));
            }
            _ => {}
        }
        Ok(())
    }

    /// Pairs addresses with ports and the HTTP host with its URI.
    pub fn finish(&mut self) {
        for side in [self.src, self.dst] {
            if let (Some(ip), Some((field, port))) = (side.ip, side.port) {
                self.observables.push((field, Observable::IpPort(ip, port)));
            }
        }
        if let Some((field, uri)) = self.uri {
            if memchr::memmem::find(uri, b"://").is_some() {
                // A proxy request carries the whole URL.
                self.observables.push((field, Observable::url(uri)));
            } else if let Some((_, host)) = self.host
                && matches!(uri.first(), Some(b'/' | b'?'))
            {
                self.observables.push((
                    field,
                    Observable::Url {
                        scheme: Some(b"http"),
                        authority: host,
                        rest: uri,
                    },
                ));
            }
        }
    }
}

/// `host:port` → `host`; `[v6]:port` → `v6`; a bare IPv6 address stays whole.
pub(crate) fn strip_port(authority: &[u8]) -> &[u8] {
    if let Some(inner) = authority.strip_prefix(b"[") {
        return memchr::memchr(b']', inner).map_or(inner, |close| &inner[..close]);
    }
    match memchr::memchr(b':', authority) {
        Some(colon) if memchr::memrchr(b':', authority) == Some(colon) => &authority[..colon],
        _ => authority,
    }
}

fn strip_userinfo(authority: &[u8]) -> &[u8] {
    memchr::memrchr(b'@', authority).map_or(authority, |at| &authority[at + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_paired_with_their_side_and_hosts_with_uris() {
        let mut out = LineOut::default();
        out.push(0, FieldRole::SrcIp, b"10.0.0.1", None)
            .expect("ip");
        out.push(1, FieldRole::SrcPort, b"5555", None)
            .expect("port");
        out.push(2, FieldRole::DstIp, b"192.0.2.1", None)
            .expect("ip");
        out.push(3, FieldRole::DstPort, b"80", None).expect("port");
        out.push(4, FieldRole::Host, b"Evil.Example:8080", None)
            .expect("host");
        out.push(5, FieldRole::Uri, b"/gate.php", None)
            .expect("uri");
        out.finish();
        let kinds: Vec<_> = out.observables.iter().map(|(f, o)| (*f, *o)).collect();
        assert!(kinds.contains(&(3, Observable::IpPort("192.0.2.1".parse().expect("ip"), 80))));
        assert!(kinds.contains(&(1, Observable::IpPort("10.0.0.1".parse().expect("ip"), 5555))));
        assert!(kinds.contains(&(4, Observable::Domain(b"Evil.Example"))));
        assert!(kinds.contains(&(
            5,
            Observable::Url {
                scheme: Some(b"http"),
                authority: b"Evil.Example:8080",
                rest: b"/gate.php"
            }
        )));
        assert_eq!(out.hosts.len(), 2);
    }

    #[test]
    fn a_bad_address_or_port_makes_the_line_malformed() {
        let mut out = LineOut::default();
        assert!(out.push(0, FieldRole::DstIp, b"not-an-ip", None).is_err());
        assert!(out.push(0, FieldRole::DstPort, b"99999", None).is_err());
        assert!(out.push_number(0, FieldRole::DstPort, 80.5).is_err());
    }

    #[test]
    fn list_columns_are_split_on_the_set_separator() {
        let mut out = LineOut::default();
        out.push(0, FieldRole::Answers, b"evil.example,192.0.2.7", Some(b','))
            .expect("answers");
        assert_eq!(out.observables.len(), 2);
        assert_eq!(out.hosts, vec!["192.0.2.7".parse::<IpAddr>().expect("ip")]);
    }

    #[test]
    fn ports_are_stripped_from_hosts_but_not_from_bare_ipv6() {
        assert_eq!(strip_port(b"a.example:80"), b"a.example");
        assert_eq!(strip_port(b"[2001:db8::1]:80"), b"2001:db8::1");
        assert_eq!(strip_port(b"2001:db8::1"), b"2001:db8::1");
    }
}
