//! Streaming log input: formats, field roles, decompression and per-line parsing.
//!
//! Every format is reduced to the same thing: for each line, the values worth looking up
//! ([`Observable`](crate::Observable)s), each with the column it came from, the line's time
//! and the IP addresses on it (which tell whose network the line belongs to). A line that
//! can't be read is counted as malformed with its number and a reason, and the run goes on.
//!
//! | format | how fields are found |
//! |---|---|
//! | Zeek TSV | `#fields` header; `#separator`, `#set_separator`, `#unset_field`, `#empty_field` honoured; headers may recur mid-file (concatenated logs) |
//! | Zeek JSON lines | the same field names as keys (`id.orig_h`, `query`, …) |
//! | CSV | a [`CsvMapping`] from header names to roles |
//! | plain lines | a scanner picks out URLs, e-mail addresses, hashes, IPs, `ip:port` and domains |
//!
//! gzip and zstd are recognised by their magic bytes and decompressed on the fly.

mod csv;
mod line;
mod scan;
mod zeek;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

pub(crate) use csv::schema_from_header as csv_schema;
pub use line::FieldRole;
pub(crate) use line::{LineOut, Schema, SchemaKind};
pub(crate) use zeek::{HeaderUpdate, TsvSyntax, apply_header_block, zeek_json_schema};

/// How an input is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// Decide from the first bytes: `#separator` or `#fields` means Zeek TSV, `{` means JSON
    /// lines, anything else plain lines. CSV is never guessed: it needs a mapping.
    Auto,
    /// Zeek's tab-separated logs with their `#` headers.
    ZeekTsv,
    /// Zeek's JSON logs, one object per line.
    ZeekJson,
    /// CSV with a header line, read through a column mapping.
    Csv(CsvMapping),
    /// Any text, one record per line.
    Plain,
}

/// Which CSV columns hold what. Columns not named are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvMapping {
    /// The field separator, `,` by default.
    pub delimiter: u8,
    /// Header names and the role of their column.
    pub columns: Vec<(String, FieldRole)>,
}

impl CsvMapping {
    /// Parses `column=role,column=role,...`, e.g.
    /// `start=time,src_addr=src-ip,dst_addr=dst-ip,dst_port=dst-port`. Roles are named as in
    /// [`FieldRole::parse`].
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut columns = Vec::new();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (column, role) = pair
                .split_once('=')
                .ok_or_else(|| format!("{pair:?} should be column=role"))?;
            let role = FieldRole::parse(role.trim()).ok_or_else(|| {
                format!(
                    "{role:?} is not a role; use one of {}",
                    FieldRole::NAMES.join(", ")
                )
            })?;
            columns.push((column.trim().to_owned(), role));
        }
        if columns.is_empty() {
            return Err("the mapping names no column".to_owned());
        }
        Ok(Self {
            delimiter: b',',
            columns,
        })
    }
}

/// One log to read.
pub struct Input {
    /// A name for reports: the path, or `-` for standard input.
    pub name: String,
    /// The bytes, possibly compressed.
    pub reader: Box<dyn Read + Send>,
    /// How they are written.
    pub format: Format,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("name", &self.name)
            .field("format", &self.format)
            .finish()
    }
}

impl Input {
    /// A log from any reader.
    pub fn from_reader(
        name: impl Into<String>,
        reader: impl Read + Send + 'static,
        format: Format,
    ) -> Self {
        Self {
            name: name.into(),
            reader: Box::new(reader),
            format,
        }
    }

    /// A log file; `-` means standard input.
    pub fn open(path: &Path, format: Format) -> io::Result<Self> {
        if path == Path::new("-") {
            return Ok(Self::from_reader("-", io::stdin(), format));
        }
        Ok(Self::from_reader(
            path.display().to_string(),
            File::open(path)?,
            format,
        ))
    }
}

/// Wraps `reader` in a decompressor if it starts with gzip's (`1f 8b`) or zstd's
/// (`28 b5 2f fd`) magic bytes. Concatenated gzip members and zstd frames are read through.
pub fn decompress(reader: impl Read + Send + 'static) -> io::Result<Box<dyn Read + Send>> {
    Ok(open_stream(reader)?.0)
}

/// [`decompress`], also saying whether a decompressor was put in.
pub(crate) fn open_stream(
    reader: impl Read + Send + 'static,
) -> io::Result<(Box<dyn Read + Send>, bool)> {
    let mut reader = BufReader::with_capacity(256 * 1024, reader);
    let head = reader.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok((Box::new(flate2::read::MultiGzDecoder::new(reader)), true))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Ok((
            Box::new(zstd::stream::read::Decoder::with_buffer(reader)?),
            true,
        ))
    } else {
        Ok((Box::new(reader), false))
    }
}

/// The format `Auto` resolves to, from the first bytes of the decompressed input.
pub(crate) fn detect(head: &[u8]) -> Format {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    if head.starts_with(b"#separator") || head.starts_with(b"#fields") {
        Format::ZeekTsv
    } else if head.trim_ascii_start().starts_with(b"{") {
        Format::ZeekJson
    } else {
        Format::Plain
    }
}

/// A format's name in reports.
pub(crate) fn format_name(format: &Format) -> &'static str {
    match format {
        Format::Auto => "auto",
        Format::ZeekTsv => "zeek-tsv",
        Format::ZeekJson => "zeek-json",
        Format::Csv(_) => "csv",
        Format::Plain => "plain",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_guessed_from_the_first_bytes() {
        assert_eq!(detect(b"#separator \\x09\n"), Format::ZeekTsv);
        assert_eq!(detect(b"  {\"ts\":1}"), Format::ZeekJson);
        assert_eq!(detect(b"Nov 14 sshd[1]: ..."), Format::Plain);
    }

    #[test]
    fn gzip_and_zstd_are_decompressed_and_plain_bytes_pass_through() {
        use std::io::Write;
        let text = b"hello\nworld\n".repeat(1000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).expect("in memory");
        let gz = gz.finish().expect("in memory");
        let zst = zstd::encode_all(&text[..], 1).expect("in memory");
        for data in [gz, zst, text.clone()] {
            let mut out = Vec::new();
            decompress(io::Cursor::new(data))
                .expect("sniffable")
                .read_to_end(&mut out)
                .expect("valid");
            assert_eq!(out, text);
        }
    }

    #[test]
    fn a_csv_mapping_is_read_from_its_text_form() {
        let m =
            CsvMapping::parse("start=time, src=src-ip,dst=dst-ip ,dport=dst-port").expect("valid");
        assert_eq!(m.columns.len(), 4);
        assert_eq!(m.columns[3], ("dport".to_owned(), FieldRole::DstPort));
        assert!(CsvMapping::parse("src=nonsense").is_err());
        assert!(CsvMapping::parse("src").is_err());
    }
}
