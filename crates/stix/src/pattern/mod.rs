//! STIX 2.1 patterning (Part 9 of the specification): the syntax tree, its printer, the
//! parser and the extraction of simple observables for matching.
//!
//! The tree is n-ary: `a AND b AND c` is one `And` of three, while parentheses that change or
//! merely restate grouping become a nested node. The printer writes parentheses exactly where
//! a nested node needs them, so `Pattern::parse(&p.to_string()) == p` for every tree the parser
//! can produce.

mod extract;
mod parse;

use std::fmt;

pub use extract::{Extraction, ObservableKind, PatternObservable};
pub use parse::{MAX_DEPTH, PatternError, PatternErrorKind};

use crate::timestamp::Timestamp;

/// A parsed STIX pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// The whole pattern.
    pub expr: ObservationExpr,
}

impl Pattern {
    /// Parses a STIX 2.1 pattern; errors carry the character position of the fault.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        parse::parse(text)
    }

    /// The observables a matcher can look up directly; see [`Extraction`].
    pub fn observables(&self) -> Extraction {
        extract::extract(self)
    }
}

/// Observation expressions: what must be observed, and in what order or time.
#[derive(Debug, Clone, PartialEq)]
pub enum ObservationExpr {
    /// `[ comparison ]`: one observation matching the comparison.
    Observation(ComparisonExpr),
    /// All of these (two or more) are observed.
    And(Vec<ObservationExpr>),
    /// Any of these (two or more) is observed.
    Or(Vec<ObservationExpr>),
    /// These (two or more) are observed in this order.
    FollowedBy(Vec<ObservationExpr>),
    /// An expression with a qualifier (`WITHIN`, `REPEATS`, `START … STOP`).
    Qualified(Box<ObservationExpr>, Qualifier),
}

/// A qualifier of an observation expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS`: an integer or decimal number of seconds.
    Within(Literal),
    /// `REPEATS n TIMES`, n ≥ 1.
    Repeats(u64),
    /// `START t'…' STOP t'…'`.
    StartStop(Timestamp, Timestamp),
}

/// Comparison expressions: tests on the properties of one observed object.
#[derive(Debug, Clone, PartialEq)]
pub enum ComparisonExpr {
    /// All of these (two or more) hold.
    And(Vec<ComparisonExpr>),
    /// Any of these (two or more) holds.
    Or(Vec<ComparisonExpr>),
    /// One property test.
    Test(PropertyTest),
}

/// A test on one object path.
#[derive(Debug, Clone, PartialEq)]
pub enum PropertyTest {
    /// `path [NOT] op literal`.
    Compare {
        /// The property tested.
        path: ObjectPath,
        /// Whether `NOT` precedes the operator.
        negated: bool,
        /// The operator.
        op: CompareOp,
        /// The right-hand side.
        value: Literal,
    },
    /// `path [NOT] IN (literal, …)`.
    In {
        /// The property tested.
        path: ObjectPath,
        /// Whether `NOT` precedes `IN`.
        negated: bool,
        /// The set (may be empty).
        values: Vec<Literal>,
    },
    /// `EXISTS path`.
    Exists(ObjectPath),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `LIKE` (SQL-style wildcards)
    Like,
    /// `MATCHES` (PCRE regular expression)
    Matches,
    /// `ISSUBSET` (IP address in CIDR)
    IsSubset,
    /// `ISSUPERSET` (CIDR contains IP address)
    IsSuperset,
}

impl CompareOp {
    /// The operator as written in a pattern.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Like => "LIKE",
            Self::Matches => "MATCHES",
            Self::IsSubset => "ISSUBSET",
            Self::IsSuperset => "ISSUPERSET",
        }
    }
}

/// An object path such as `file:hashes.'SHA-256'` or `email-message:to_refs[*].value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPath {
    /// The observable type, e.g. `file`.
    pub object_type: String,
    /// The first property name after the colon.
    pub property: String,
    /// Further steps into the property.
    pub steps: Vec<PathStep>,
}

/// One step into a property value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// `.name` or `.'quoted-name'`.
    Key(String),
    /// `[n]`, possibly negative.
    Index(i64),
    /// `[*]`: any element.
    AnyIndex,
}

/// A literal on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A quoted string, unescaped.
    Str(String),
    /// An integer.
    Int(i64),
    /// A decimal number.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `b'…'`: base64 binary, as written.
    Binary(String),
    /// `h'…'`: hex binary, as written.
    Hex(String),
    /// `t'…'`: a timestamp.
    Timestamp(Timestamp),
}

// ---------------------------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------------------------

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)
    }
}

/// Binding strength of observation operators: AND > OR > FOLLOWEDBY.
fn obs_prec(e: &ObservationExpr) -> u8 {
    match e {
        ObservationExpr::FollowedBy(_) => 1,
        ObservationExpr::Or(_) => 2,
        ObservationExpr::And(_) => 3,
        ObservationExpr::Observation(_) | ObservationExpr::Qualified(..) => 4,
    }
}

fn write_obs_child(f: &mut fmt::Formatter<'_>, child: &ObservationExpr, parent: u8) -> fmt::Result {
    if obs_prec(child) <= parent {
        write!(f, "({child})")
    } else {
        write!(f, "{child}")
    }
}

impl fmt::Display for ObservationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (items, word) = match self {
            Self::Observation(c) => return write!(f, "[{c}]"),
            Self::Qualified(inner, q) => {
                // A qualifier follows a bracketed observation, a parenthesised expression or
                // another qualifier; anything looser needs parentheses.
                write_obs_child(f, inner, 3)?;
                return write!(f, " {q}");
            }
            Self::And(items) => (items, "AND"),
            Self::Or(items) => (items, "OR"),
            Self::FollowedBy(items) => (items, "FOLLOWEDBY"),
        };
        let prec = obs_prec(self);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                write!(f, " {word} ")?;
            }
            write_obs_child(f, item, prec)?;
        }
        Ok(())
    }
}

impl fmt::Display for Qualifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Within(n) => write!(f, "WITHIN {n} SECONDS"),
            Self::Repeats(n) => write!(f, "REPEATS {n} TIMES"),
            Self::StartStop(a, b) => write!(f, "START t'{a}' STOP t'{b}'"),
        }
    }
}

fn cmp_prec(e: &ComparisonExpr) -> u8 {
    match e {
        ComparisonExpr::Or(_) => 1,
        ComparisonExpr::And(_) => 2,
        ComparisonExpr::Test(_) => 3,
    }
}

impl fmt::Display for ComparisonExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (items, word) = match self {
            Self::Test(t) => return write!(f, "{t}"),
            Self::And(items) => (items, "AND"),
            Self::Or(items) => (items, "OR"),
        };
        let prec = cmp_prec(self);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                write!(f, " {word} ")?;
            }
            if cmp_prec(item) <= prec {
                write!(f, "({item})")?;
            } else {
                write!(f, "{item}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for PropertyTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let not = |n: bool| if n { "NOT " } else { "" };
        match self {
            Self::Compare {
                path,
                negated,
                op,
                value,
            } => write!(f, "{path} {}{} {value}", not(*negated), op.as_str()),
            Self::In {
                path,
                negated,
                values,
            } => {
                write!(f, "{path} {}IN (", not(*negated))?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str(")")
            }
            Self::Exists(path) => write!(f, "EXISTS {path}"),
        }
    }
}

/// Whether a property name can be written bare: an identifier without hyphen that is not a
/// keyword.
fn is_bare_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
        && !parse::is_keyword(s)
}

fn write_name(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    if is_bare_name(s) {
        f.write_str(s)
    } else {
        write_quoted(f, s)
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("'")?;
    for c in s.chars() {
        match c {
            '\'' => f.write_str("\\'")?,
            '\\' => f.write_str("\\\\")?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("'")
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object_type)?;
        write_name(f, &self.property)?;
        for step in &self.steps {
            match step {
                PathStep::Key(k) => {
                    f.write_str(".")?;
                    write_name(f, k)?;
                }
                PathStep::Index(i) => write!(f, "[{i}]")?,
                PathStep::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Str(s) => write_quoted(f, s),
            Self::Int(i) => write!(f, "{i}"),
            Self::Float(x) => {
                // Display never uses an exponent; the grammar wants a point and digits after it.
                let s = x.to_string();
                if s.contains('.') {
                    f.write_str(&s)
                } else {
                    write!(f, "{s}.0")
                }
            }
            Self::Bool(b) => write!(f, "{b}"),
            Self::Binary(s) => write!(f, "b'{s}'"),
            Self::Hex(s) => write!(f, "h'{s}'"),
            Self::Timestamp(t) => write!(f, "t'{t}'"),
        }
    }
}
