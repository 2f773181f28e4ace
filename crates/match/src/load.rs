//! Loaders for indicator lists kept outside a node: plain lists, LOKI (signature-base) lists
//! and maltrail trail folders.
//!
//! A bad line never stops a load: it is counted and the first [`MAX_REPORTED_ERRORS`] are kept
//! with their line numbers, so an operator can fix the list.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use serde::Serialize;

use crate::error::IndicatorError;
use crate::index::{Added, IndexBuilder};
use crate::indicator::{IndicatorMeta, IndicatorValue, refanged};
use crate::normalize::parse_ip;

/// Lines with errors kept per list; the rest are only counted.
pub const MAX_REPORTED_ERRORS: usize = 100;

/// How a list file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    /// One indicator per line, kind detected ([`IndicatorValue::parse`]). `#` starts a comment
    /// at the start of a line or after a blank; text after the first blank is ignored.
    Plain,
    /// LOKI / signature-base IOC files: `value;comment` (e.g. `hash-iocs.txt`).
    Loki,
    /// A maltrail trail file (see [`parse_maltrail_entry`]).
    Maltrail,
}

/// What loading one list did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListReport {
    /// The list's name, as given.
    pub name: String,
    /// Lines read.
    pub lines: u64,
    /// Indicators (or allow-list entries) added.
    pub added: usize,
    /// Indicators left out as expired.
    pub expired: usize,
    /// Lines that were neither blank, a comment nor a valid entry.
    pub rejected: usize,
    /// The first rejected lines: line number and why.
    pub errors: Vec<(u64, String)>,
}

/// Where entries of a list go.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Indicators, each with this meta.
    Indicators(&'a IndicatorMeta),
    /// The allow-list, under this label.
    Allow(&'a str),
}

/// Reads one list into the builder.
pub fn load_list(
    builder: &mut IndexBuilder,
    reader: impl BufRead,
    name: &str,
    format: ListFormat,
    target: Target<'_>,
) -> io::Result<ListReport> {
    let mut report = ListReport {
        name: name.to_owned(),
        lines: 0,
        added: 0,
        expired: 0,
        rejected: 0,
        errors: Vec::new(),
    };
    for line in reader.split(b'\n') {
        let line = line?;
        report.lines += 1;
        let text = String::from_utf8_lossy(&line);
        let Some(entry) = entry_text(&text, format) else {
            continue;
        };
        let parsed = match format {
            ListFormat::Maltrail => parse_maltrail_entry(entry),
            ListFormat::Plain | ListFormat::Loki => IndicatorValue::parse(entry),
        };
        let outcome = parsed
            .map_err(crate::IndexError::from)
            .and_then(|value| match target {
                Target::Indicators(meta) => builder.add(value, meta),
                Target::Allow(label) => builder.allow(value, label).map(|()| Added::Expired),
            });
        match (outcome, target) {
            (Ok(Added::Indexed(_)), _) | (Ok(Added::Expired), Target::Allow(_)) => {
                report.added += 1
            }
            (Ok(Added::Expired), Target::Indicators(_)) => report.expired += 1,
            (Err(e), _) => {
                report.rejected += 1;
                if report.errors.len() < MAX_REPORTED_ERRORS {
                    report.errors.push((report.lines, e.to_string()));
                }
            }
        }
    }
    Ok(report)
}

/// The entry on a line, without comments and blanks; `None` for blank and comment lines.
fn entry_text(line: &str, format: ListFormat) -> Option<&str> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let entry = match format {
        ListFormat::Loki => line.split(';').next().unwrap_or(line),
        ListFormat::Plain | ListFormat::Maltrail => line
            .split(|c: char| c.is_whitespace())
            .next()
            .unwrap_or(line),
    };
    let entry = entry.trim();
    (!entry.is_empty()).then_some(entry)
}

/// Reads a maltrail entry (refanged first, as [`IndicatorValue::parse`] does) the way
/// maltrail's sensor means it:
///
/// - `http://host` or `https://host` with no path names the host: an IP, an `ip:port`, or a
///   domain with its subdomains;
/// - `scheme://host/path` and `host/path` are URLs matched on host and path whatever the
///   scheme (maltrail compares `host + path`);
/// - `/path` is a URL path on any host;
/// - anything else is an IP, `ip:port`, CIDR or domain as in [`IndicatorValue::parse`].
pub fn parse_maltrail_entry(entry: &str) -> Result<IndicatorValue, IndicatorError> {
    let entry = refanged(entry.trim());
    let entry = entry.as_ref();
    let after_scheme = entry
        .strip_prefix("http://")
        .or_else(|| entry.strip_prefix("https://"))
        .or_else(|| entry.strip_prefix("HTTP://"))
        .or_else(|| entry.strip_prefix("HTTPS://"));
    match after_scheme {
        Some(rest) => {
            let host_only = rest.strip_suffix('/').unwrap_or(rest);
            if host_only.contains(['/', '?']) {
                IndicatorValue::url(rest)
            } else if host_only.is_empty() {
                Err(IndicatorError::Url(entry.to_owned(), "the host is empty"))
            } else {
                IndicatorValue::parse(host_only)
            }
        }
        None if entry.contains('/') && !entry.starts_with('/') => {
            // A CIDR also has a slash; anything else with one is host/path.
            let (addr, _) = entry.split_once('/').unwrap_or((entry, ""));
            if parse_ip(addr.as_bytes()).is_some() && !entry[addr.len() + 1..].contains('/') {
                IndicatorValue::parse(entry)
            } else {
                IndicatorValue::url(entry)
            }
        }
        None => IndicatorValue::parse(entry),
    }
}

/// Guesses how a list is written from its first bytes (64 KiB are plenty): a comment naming
/// maltrail (its trail files open with "Copyright (c) … Maltrail developers") means a
/// maltrail trail; a first entry with `;` a LOKI list; anything else a plain list.
pub fn guess_list_format(head: &[u8]) -> ListFormat {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut first_entry = None;
    for line in lines.by_ref() {
        match line.strip_prefix('#') {
            Some(comment) if comment.to_ascii_lowercase().contains("maltrail") => {
                return ListFormat::Maltrail;
            }
            Some(_) => {}
            None => {
                first_entry = Some(line);
                break;
            }
        }
    }
    match first_entry {
        Some(entry) if entry.contains(';') => ListFormat::Loki,
        _ => ListFormat::Plain,
    }
}

/// Loads a maltrail `trails` folder: every `static/{malware,malicious,suspicious}/*.txt` as
/// indicators labelled `maltrail:<folder>/<file stem>` with the TLP, case and validity of
/// `meta` (its label is ignored), and `static/mass_scanner.txt` and
/// `static/mass_scanner_cidr.txt` into the allow-list as `maltrail:mass_scanner`. Files are
/// read in name order, so ids are the same on every run. `trails` may also be one trail
/// file, whose indicators are labelled `maltrail:<file stem>`.
pub fn load_maltrail(
    builder: &mut IndexBuilder,
    trails: &Path,
    meta: &IndicatorMeta,
) -> io::Result<Vec<ListReport>> {
    if trails.is_file() {
        let meta = IndicatorMeta {
            label: format!("maltrail:{}", file_stem(trails)),
            ..meta.clone()
        };
        let report = load_list(
            builder,
            BufReader::new(File::open(trails)?),
            &trails.display().to_string(),
            ListFormat::Maltrail,
            Target::Indicators(&meta),
        )?;
        return Ok(vec![report]);
    }
    let mut reports = Vec::new();
    for folder in ["malicious", "malware", "suspicious"] {
        let dir = trails.join("static").join(folder);
        let mut files: Vec<_> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "txt"))
                .collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        files.sort();
        for path in files {
            let meta = IndicatorMeta {
                label: format!("maltrail:{folder}/{}", file_stem(&path)),
                ..meta.clone()
            };
            let reader = BufReader::new(File::open(&path)?);
            reports.push(load_list(
                builder,
                reader,
                &path.display().to_string(),
                ListFormat::Maltrail,
                Target::Indicators(&meta),
            )?);
        }
    }
    for file in ["mass_scanner.txt", "mass_scanner_cidr.txt"] {
        let path = trails.join("static").join(file);
        match File::open(&path) {
            Ok(f) => reports.push(load_list(
                builder,
                BufReader::new(f),
                &path.display().to_string(),
                ListFormat::Maltrail,
                Target::Allow("maltrail:mass_scanner"),
            )?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(reports)
}

fn file_stem(path: &Path) -> std::borrow::Cow<'_, str> {
    path.file_stem()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventTime, IndicatorKind};

    fn now() -> EventTime {
        EventTime::from_unix_seconds(1_700_000_000).expect("valid")
    }

    #[test]
    fn plain_lists_skip_comments_and_report_bad_lines_by_number() {
        let list =
            "# header\n\n192.0.2.1 # a C2\nevil.example\nnot a valid@@ entry\n   \n/gate.php\n";
        let mut builder = IndexBuilder::new(now());
        let meta = IndicatorMeta::new("test", "TLP:AMBER");
        let report = load_list(
            &mut builder,
            list.as_bytes(),
            "list",
            ListFormat::Plain,
            Target::Indicators(&meta),
        )
        .expect("in memory");
        assert_eq!(report.lines, 7);
        assert_eq!(report.added, 3);
        assert_eq!(report.rejected, 1);
        assert_eq!(report.errors[0].0, 5);
    }

    #[test]
    fn loki_lists_split_value_and_comment_at_the_semicolon() {
        let list = "# c\n0c2674c3a97c53082187d930efb645c2;DEEP PANDA Sakula Malware - http://goo.gl/R3e6eG\n";
        let mut builder = IndexBuilder::new(now());
        let meta = IndicatorMeta::new("sig", "TLP:CLEAR");
        let report = load_list(
            &mut builder,
            list.as_bytes(),
            "hashes",
            ListFormat::Loki,
            Target::Indicators(&meta),
        )
        .expect("in memory");
        assert_eq!((report.added, report.rejected), (1, 0));
        let index = builder.build();
        let id = index.ids().next().expect("one indicator");
        assert_eq!(index.indicator(id).kind, IndicatorKind::Md5);
    }

    #[test]
    fn maltrail_entries_mean_what_maltrail_means() {
        let kind = |e: &str| parse_maltrail_entry(e).map(|v| (v.kind(), v.to_string()));
        assert_eq!(
            kind("http://141.108.2.157"),
            Ok((IndicatorKind::Ip, "141.108.2.157".into()))
        );
        assert_eq!(
            kind("http://evil.example/"),
            Ok((IndicatorKind::Domain, "evil.example".into()))
        );
        assert_eq!(
            kind("http://1.2.3.4:8080"),
            Ok((IndicatorKind::IpPort, "1.2.3.4:8080".into()))
        );
        assert_eq!(
            kind("http://139.180.208.225/ajax"),
            Ok((IndicatorKind::Url, "139.180.208.225/ajax".into()))
        );
        assert_eq!(
            kind("changnbang.kr/data/member/style.php"),
            Ok((
                IndicatorKind::Url,
                "changnbang.kr/data/member/style.php".into()
            ))
        );
        assert_eq!(
            kind("/adin/admin.php"),
            Ok((IndicatorKind::UrlPath, "/adin/admin.php".into()))
        );
        assert_eq!(
            kind("5.63.151.0/24"),
            Ok((IndicatorKind::Cidr, "5.63.151.0/24".into()))
        );
        assert_eq!(
            kind("178.128.110.214:8080"),
            Ok((IndicatorKind::IpPort, "178.128.110.214:8080".into()))
        );
        assert!(kind("213.165.60.118:22:443").is_err());
    }

    /// Found by the `indicator_lists` fuzz target: a defanged URL in a maltrail list
    /// (`HXXPS://evil.example/x`) was kept with the scheme `hxxps`, printing as text that
    /// reads back as another URL, and `hxxp://1.2.3.4` was a URL, not the address.
    #[test]
    fn defanged_maltrail_entries_are_refanged() {
        let kind = |e: &str| parse_maltrail_entry(e).map(|v| (v.kind(), v.to_string()));
        assert_eq!(
            kind("HXXPS://Evil.example:8443/a/../b"),
            Ok((IndicatorKind::Url, "https://evil.example:8443/b".into()))
        );
        assert_eq!(
            kind("hxxp://192.0.2[.]44"),
            Ok((IndicatorKind::Ip, "192.0.2.44".into()))
        );
    }

    /// Regression (issue 20.15): one trail file given on its own was read as a plain list,
    /// so `http://1.2.3.4` became a URL and never matched the address (897 hits missed), and
    /// `--list-format maltrail FILE` failed with "Not a directory".
    #[test]
    fn a_single_trail_file_is_read_as_maltrail() {
        // Arrange
        let trail = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/maltrail/trails/static/malware/apt_lazarus.txt");
        let head = std::fs::read(&trail).expect("the trail is in testdata");
        let mut builder = IndexBuilder::new(now());
        let meta = IndicatorMeta::new("ignored", "TLP:CLEAR");

        // Act
        let guessed = guess_list_format(&head);
        let reports = load_maltrail(&mut builder, &trail, &meta).expect("readable");
        let index = builder.build();

        // Assert
        assert_eq!(guessed, ListFormat::Maltrail);
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].rejected, 0, "{:?}", reports[0].errors);
        let view = index
            .ids()
            .map(|id| index.indicator(id))
            .find(|v| v.value == "158.69.57.135")
            .expect("http://158.69.57.135 of the trail is the address");
        assert_eq!(view.kind, IndicatorKind::Ip);
        assert_eq!(view.label, "maltrail:apt_lazarus");
    }

    #[test]
    fn list_formats_are_guessed_from_the_first_entries() {
        assert_eq!(
            guess_list_format(b"# hashes\n0c2674c3a97c53082187d930efb645c2;Sakula\n"),
            ListFormat::Loki
        );
        assert_eq!(
            guess_list_format(b"# shared by CN-CERT\n198.51.100.0/24\nevil.example\n"),
            ListFormat::Plain
        );
        assert_eq!(
            guess_list_format(
                b"# Copyright (c) 2014-2026 Maltrail developers (https://github.com/stamparm/maltrail/)\n\nhttp://1.2.3.4\n"
            ),
            ListFormat::Maltrail
        );
    }

    #[test]
    fn expired_indicators_are_counted_not_added() {
        let mut builder = IndexBuilder::new(now());
        let meta = IndicatorMeta {
            valid_until: EventTime::from_unix_seconds(1_600_000_000),
            ..IndicatorMeta::new("old", "TLP:GREEN")
        };
        let report = load_list(
            &mut builder,
            &b"evil.example\n"[..],
            "l",
            ListFormat::Plain,
            Target::Indicators(&meta),
        )
        .expect("in memory");
        assert_eq!((report.added, report.expired), (0, 1));
    }
}
