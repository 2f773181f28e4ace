//! CSV flow exports (NetFlow/IPFIX collectors, firewalls, proxies): a header line names the
//! columns, and a [`CsvMapping`] says which of them matter.
//!
//! Fields may be quoted (RFC 4180); a quoted field must end on its line, since records are
//! split at newlines to be read in parallel. Doubled quotes inside a quoted field are left
//! doubled: they can't occur in the addresses, names and URLs we look for.

use super::CsvMapping;
use super::line::{LineOut, Schema, SchemaKind};
use crate::error::InputError;

/// Resolves the mapping's column names against the header line.
pub(crate) fn schema_from_header(
    mapping: &CsvMapping,
    header: &[u8],
    name: &str,
) -> Result<Schema, InputError> {
    let header = header.strip_suffix(b"\n").unwrap_or(header);
    let header = header.strip_suffix(b"\r").unwrap_or(header);
    let header = header.strip_prefix(b"\xef\xbb\xbf").unwrap_or(header);
    let mut names: Vec<String> = Vec::new();
    split_fields(header, mapping.delimiter, &mut |value| {
        names.push(String::from_utf8_lossy(value).trim().to_owned());
    })
    .map_err(|_| InputError::NoHeader {
        name: name.to_owned(),
    })?;
    let mut columns = vec![None; names.len()];
    let mut field_names = Vec::new();
    for (column, role) in &mapping.columns {
        let position =
            names
                .iter()
                .position(|n| n == column)
                .ok_or_else(|| InputError::MissingColumn {
                    name: name.to_owned(),
                    column: column.clone(),
                    header: names.join(","),
                })?;
        columns[position] = Some((field_names.len() as u16, *role));
        field_names.push(column.clone());
    }
    while columns.last() == Some(&None) {
        columns.pop();
    }
    Ok(Schema {
        kind: SchemaKind::Csv {
            delimiter: mapping.delimiter,
        },
        names: field_names,
        columns,
        ready: true,
    })
}

/// Calls `each` with every field of a line, unquoted. Fails on an unterminated quote.
fn split_fields<'a>(
    line: &'a [u8],
    delimiter: u8,
    each: &mut dyn FnMut(&'a [u8]),
) -> Result<(), &'static str> {
    let mut rest = line;
    loop {
        if rest.first() == Some(&b'"') {
            let (value, after) = quoted(rest)?;
            each(value);
            match after.split_first() {
                None => return Ok(()),
                Some((&c, next)) if c == delimiter => rest = next,
                Some(_) => return Err("text after a closing quote"),
            }
        } else {
            match memchr::memchr(delimiter, rest) {
                Some(i) => {
                    each(&rest[..i]);
                    rest = &rest[i + 1..];
                }
                None => {
                    each(rest);
                    return Ok(());
                }
            }
        }
    }
}

/// Splits a quoted field (starting with `"`) into its inside and what follows the closing quote.
fn quoted(field: &[u8]) -> Result<(&[u8], &[u8]), &'static str> {
    let mut i = 1;
    loop {
        let close =
            memchr::memchr(b'"', &field[i..]).ok_or("a quoted field doesn't end on its line")? + i;
        if field.get(close + 1) == Some(&b'"') {
            i = close + 2;
        } else {
            return Ok((&field[1..close], &field[close + 1..]));
        }
    }
}

/// Reads one CSV record.
pub(crate) fn parse_csv<'a>(
    schema: &Schema,
    delimiter: u8,
    line: &'a [u8],
    out: &mut LineOut<'a>,
) -> Result<(), String> {
    let mut column = 0;
    let mut failure: Option<String> = None;
    split_fields(line, delimiter, &mut |value| {
        if failure.is_none()
            && let Some(Some((field, role))) = schema.columns.get(column)
        {
            let value = value.trim_ascii();
            if !value.is_empty()
                && let Err(why) = out.push(*field, *role, value, None)
            {
                failure = Some(format!(
                    "{why} ({}: {:?})",
                    schema.field_name(*field),
                    String::from_utf8_lossy(value)
                ));
            }
        }
        column += 1;
    })?;
    if let Some(why) = failure {
        return Err(why);
    }
    if column < schema.columns.len() {
        return Err(format!(
            "the line has {column} fields; the mapping needs {}",
            schema.columns.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::FieldRole;

    fn mapping() -> CsvMapping {
        CsvMapping::parse("start=time,src=src-ip,dst=dst-ip,dport=dst-port,url=url").expect("valid")
    }

    #[test]
    fn the_header_decides_the_columns_in_any_order() {
        let schema =
            schema_from_header(&mapping(), b"dport,bytes,dst,src,start,url\n", "t").expect("valid");
        assert_eq!(schema.columns[0], Some((3, FieldRole::DstPort)));
        assert_eq!(schema.columns[1], None);
    }

    #[test]
    fn a_missing_column_is_named_in_the_error() {
        let err = schema_from_header(&mapping(), b"src,dst\n", "t").expect_err("missing");
        assert!(err.to_string().contains("\"start\""), "{err}");
    }

    #[test]
    fn quoted_fields_are_unquoted_and_unterminated_ones_refused() {
        let schema =
            schema_from_header(&mapping(), b"start,src,dst,dport,url", "t").expect("valid");
        let mut out = LineOut::default();
        parse_csv(
            &schema,
            b',',
            b"1,\"10.0.0.1\",192.0.2.1,443,\"http://a.example/x,y\"",
            &mut out,
        )
        .expect("valid");
        out.finish();
        assert_eq!(out.hosts.len(), 2);
        assert_eq!(out.observables.len(), 5);
        let mut out = LineOut::default();
        assert!(parse_csv(&schema, b',', b"1,\"10.0.0.1,192.0.2.1,443,x", &mut out).is_err());
        let mut out = LineOut::default();
        assert!(parse_csv(&schema, b',', b"1,10.0.0.1", &mut out).is_err());
    }
}
