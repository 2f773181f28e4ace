//! Errors of the matcher. Bad lines in logs are not errors: they are counted and reported in
//! the run's report. These are for what the caller handed us.

use thiserror::Error;

/// Why a text is not an indicator.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum IndicatorError {
    /// Nothing but blanks.
    #[error("the indicator is empty")]
    Empty,
    /// The text looks like no supported kind of indicator.
    #[error(
        "{0:?} is not an IP address, CIDR, ip:port, domain, URL, URL path, MD5/SHA-1/SHA-256 hash or e-mail address"
    )]
    Unrecognised(String),
    /// A CIDR whose address or prefix length doesn't parse.
    #[error("{0:?} is not a valid CIDR block (write it like 192.0.2.0/24 or 2001:db8::/32)")]
    Cidr(String),
    /// An `ip:port` whose port is not a number from 0 to 65535.
    #[error("{0:?} has no valid port (0 to 65535) after the colon")]
    Port(String),
    /// A name with an empty label, a label over 63 characters, a character outside
    /// letters, digits, `-` and `_`, or an all-numeric last label.
    #[error(
        "{0:?} is not a valid domain name (ASCII letters, digits, '-' and '_' in dot-separated labels; write internationalised names in punycode)"
    )]
    Domain(String),
    /// A URL without a host, with a bad port or an unsupported shape.
    #[error("{0:?} is not a valid URL: {1}")]
    Url(String, &'static str),
    /// An e-mail address without a local part or a valid domain.
    #[error("{0:?} is not a valid e-mail address")]
    Email(String),
    /// A syntactically valid address or block that cannot point at anyone's host: a block
    /// wider than a /8, or the unspecified, loopback or broadcast address. Indexed, it would
    /// hit nearly every line or only this machine's own traffic.
    #[error("{value} cannot point at a host: {why}; it is left out")]
    NotAHost {
        /// The value in normal form.
        value: String,
        /// Why.
        why: &'static str,
    },
    /// A text that would be kept as a URL without a scheme whose printed form reads back as
    /// another indicator (`192.0.2.0/24#c2` would print as the block `192.0.2.0/24`).
    #[error(
        "{text:?} would be kept as the URL {printed:?}, which reads back as another indicator; write the URL with its scheme (http://...), or put a blank before a '#' comment"
    )]
    Ambiguous {
        /// The text as given.
        text: String,
        /// What it would have printed as.
        printed: String,
    },
}

/// Why an index could not be built.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum IndexError {
    /// The indicators' text no longer fits the 32-bit offsets that keep the index small.
    #[error("the indicators take more than 4 GiB of text; split them into several indexes")]
    TooLarge,
    /// A hand-built indicator value fails the rules of its kind.
    #[error(transparent)]
    Invalid(#[from] IndicatorError),
}

/// Why an input (a log file or a list) could not be read to its end.
#[derive(Debug, Error)]
pub enum InputError {
    /// Reading or decompressing failed (a damaged gzip or zstd stream, an I/O error); the
    /// lines read before the failure were matched, nothing after it.
    #[error(
        "{name} is damaged or unreadable after {bytes} bytes ({lines} lines): {source}; nothing after that point was matched"
    )]
    Read {
        /// The input's name.
        name: String,
        /// Decompressed bytes read before the failure.
        bytes: u64,
        /// Lines read before the failure (a line the failure cut short included).
        lines: u64,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// A CSV mapping names a column the file's header doesn't have.
    #[error("{name}: the CSV header has no column {column:?} (it has: {header})")]
    MissingColumn {
        /// The input's name.
        name: String,
        /// The column the mapping asked for.
        column: String,
        /// The header as found.
        header: String,
    },
    /// A CSV input without even a header line.
    #[error("{name}: the CSV file is empty; it needs a header line naming its columns")]
    NoHeader {
        /// The input's name.
        name: String,
    },
}

/// Why a line of an owner table was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum OwnerError {
    /// The line hasn't the three fields `cidr,organisation,abuse_contact`.
    #[error("line {line}: expected cidr,organisation,abuse_contact but found {found} fields")]
    Fields {
        /// 1-based line number.
        line: u64,
        /// How many fields the line had.
        found: usize,
    },
    /// The first field is not a CIDR block or an address.
    #[error("line {line}: {value:?} is not a CIDR block (write it like 192.0.2.0/24)")]
    Cidr {
        /// 1-based line number.
        line: u64,
        /// The text found.
        value: String,
    },
    /// The organisation field is empty.
    #[error("line {line}: the organisation is empty")]
    Organisation {
        /// 1-based line number.
        line: u64,
    },
    /// The same block appears twice; the first one is kept.
    #[error("line {line}: {cidr} is already owned by {organisation:?} (first entry kept)")]
    Duplicate {
        /// 1-based line number.
        line: u64,
        /// The block.
        cidr: String,
        /// Its first owner.
        organisation: String,
    },
    /// The table couldn't be read.
    #[error("reading the owner table failed: {0}")]
    Read(String),
}
