//! A recursive-descent parser for the STIX 2.1 patterning grammar (`STIXPattern.g4`).
//!
//! Keywords are upper case, as in the OASIS grammar; strings know only the escapes `\'` and
//! `\\`; property names with a hyphen must be quoted (`hashes.'SHA-256'`). Nesting is capped
//! at [`MAX_DEPTH`] so hostile input cannot exhaust the stack.

use super::{
    CompareOp, ComparisonExpr, Literal, ObjectPath, ObservationExpr, PathStep, Pattern,
    PropertyTest, Qualifier,
};
use crate::timestamp::Timestamp;

/// The deepest nesting of parentheses, brackets and qualifiers accepted.
pub const MAX_DEPTH: usize = 64;

const KEYWORDS: [&str; 19] = [
    "AND",
    "OR",
    "NOT",
    "FOLLOWEDBY",
    "LIKE",
    "MATCHES",
    "ISSUPERSET",
    "ISSUBSET",
    "EXISTS",
    "LAST",
    "IN",
    "START",
    "STOP",
    "SECONDS",
    "TRUE",
    "FALSE",
    "WITHIN",
    "REPEATS",
    "TIMES",
];

/// Whether `s` is a reserved word of the grammar (and so must be quoted as a property name).
pub(crate) fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s) || s == "true" || s == "false"
}

/// What went wrong in a pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternErrorKind {
    /// A character that starts no token of the grammar.
    #[error("unexpected character {0:?}")]
    UnexpectedChar(char),
    /// A quoted string with no closing quote.
    #[error("unterminated string")]
    UnterminatedString,
    /// A backslash escape other than `\'` and `\\`.
    #[error("unsupported escape \\{0} in a string (only \\' and \\\\ are allowed)")]
    BadEscape(char),
    /// A different token was expected here.
    #[error("expected {expected}, found {found}")]
    Expected {
        /// What the grammar allows here.
        expected: &'static str,
        /// What is there instead.
        found: String,
    },
    /// A number, binary, hex or timestamp literal that is malformed or out of range.
    #[error("invalid {what} literal {text:?}")]
    BadLiteral {
        /// The kind of literal.
        what: &'static str,
        /// The literal as written.
        text: String,
    },
    /// A property name containing `-` written without quotes.
    #[error("property name {0:?} contains '-' and must be quoted, e.g. hashes.'SHA-256'")]
    UnquotedHyphen(String),
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

/// A pattern that does not parse, with the position of the fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at character {column} of the pattern")]
pub struct PatternError {
    /// What went wrong.
    pub kind: PatternErrorKind,
    /// Byte offset of the fault in the pattern text.
    pub offset: usize,
    /// 1-based character position of the fault.
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LBrack,
    RBrack,
    LParen,
    RParen,
    Colon,
    Dot,
    Comma,
    Star,
    Op(CompareOp),
    /// An identifier; the flag says whether it contains a hyphen.
    Ident(String, bool),
    Str(String),
    Int(i64),
    Float(f64),
    Binary(String),
    Hex(String),
    Time(Timestamp),
    Eof,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LBrack => "'['".into(),
        Tok::RBrack => "']'".into(),
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Colon => "':'".into(),
        Tok::Dot => "'.'".into(),
        Tok::Comma => "','".into(),
        Tok::Star => "'*'".into(),
        Tok::Op(op) => format!("'{}'", op.as_str()),
        Tok::Ident(s, _) => format!("{s:?}"),
        Tok::Str(_) => "a string".into(),
        Tok::Int(_) | Tok::Float(_) => "a number".into(),
        Tok::Binary(_) | Tok::Hex(_) => "a binary literal".into(),
        Tok::Time(_) => "a timestamp".into(),
        Tok::Eof => "the end of the pattern".into(),
    }
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn err(&self, offset: usize, kind: PatternErrorKind) -> PatternError {
        error_at(self.src, offset, kind)
    }

    fn skip_trivia(&mut self) {
        let b = self.src.as_bytes();
        loop {
            while self.pos < b.len() && b[self.pos].is_ascii_whitespace() {
                self.pos += 1;
            }
            if self.src[self.pos..].starts_with("/*") {
                match self.src[self.pos + 2..].find("*/") {
                    Some(end) => self.pos += 2 + end + 2,
                    None => self.pos = b.len(),
                }
            } else if self.src[self.pos..].starts_with("//") {
                match self.src[self.pos..].find('\n') {
                    Some(end) => self.pos += end,
                    None => self.pos = b.len(),
                }
            } else {
                return;
            }
        }
    }

    /// Reads a quoted body starting just after the opening quote.
    fn quoted(&mut self, start: usize) -> Result<String, PatternError> {
        let mut out = String::new();
        let mut chars = self.src[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, '\'')) => out.push('\''),
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, other)) => {
                        return Err(self.err(self.pos + i, PatternErrorKind::BadEscape(other)));
                    }
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err(self.err(start, PatternErrorKind::UnterminatedString))
    }

    fn next(&mut self) -> Result<(Tok, usize), PatternError> {
        self.skip_trivia();
        let start = self.pos;
        let b = self.src.as_bytes();
        let Some(&c) = b.get(self.pos) else {
            return Ok((Tok::Eof, start));
        };
        let two = |s: &str| self.src[self.pos..].starts_with(s);
        let (tok, len) = match c {
            b'[' => (Tok::LBrack, 1),
            b']' => (Tok::RBrack, 1),
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b':' => (Tok::Colon, 1),
            b'.' if !b.get(self.pos + 1).is_some_and(u8::is_ascii_digit) => (Tok::Dot, 1),
            b',' => (Tok::Comma, 1),
            b'*' => (Tok::Star, 1),
            b'=' if two("==") => (Tok::Op(CompareOp::Eq), 2),
            b'=' => (Tok::Op(CompareOp::Eq), 1),
            b'!' if two("!=") => (Tok::Op(CompareOp::Ne), 2),
            b'<' if two("<>") => (Tok::Op(CompareOp::Ne), 2),
            b'<' if two("<=") => (Tok::Op(CompareOp::Le), 2),
            b'<' => (Tok::Op(CompareOp::Lt), 1),
            b'>' if two(">=") => (Tok::Op(CompareOp::Ge), 2),
            b'>' => (Tok::Op(CompareOp::Gt), 1),
            b'\'' => {
                self.pos += 1;
                let s = self.quoted(start)?;
                return Ok((Tok::Str(s), start));
            }
            b'b' | b'h' | b't' if b.get(self.pos + 1) == Some(&b'\'') => {
                self.pos += 2;
                let body = self.quoted(start)?;
                let bad = |what| {
                    self.err(
                        start,
                        PatternErrorKind::BadLiteral {
                            what,
                            text: body.chars().take(64).collect(),
                        },
                    )
                };
                let tok = match c {
                    b'b' if is_base64(&body) => Tok::Binary(body),
                    b'b' => return Err(bad("base64 binary")),
                    b'h' if body.len() % 2 == 0 && body.bytes().all(|x| x.is_ascii_hexdigit()) => {
                        Tok::Hex(body)
                    }
                    b'h' => return Err(bad("hex binary")),
                    _ => Tok::Time(Timestamp::parse(&body).map_err(|_| bad("timestamp"))?),
                };
                return Ok((tok, start));
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut end = self.pos + 1;
                while end < b.len()
                    && (b[end].is_ascii_alphanumeric() || b[end] == b'_' || b[end] == b'-')
                {
                    end += 1;
                }
                let word = &self.src[self.pos..end];
                self.pos = end;
                return Ok((Tok::Ident(word.to_owned(), word.contains('-')), start));
            }
            c if c.is_ascii_digit() || c == b'-' || c == b'+' || c == b'.' => {
                let mut end = self.pos + 1;
                while end < b.len() && (b[end].is_ascii_digit() || b[end] == b'.') {
                    end += 1;
                }
                let text = &self.src[self.pos..end];
                self.pos = end;
                let digits = text.trim_start_matches(['+', '-']);
                let bad = || {
                    self.err(
                        start,
                        PatternErrorKind::BadLiteral {
                            what: "number",
                            text: text.to_owned(),
                        },
                    )
                };
                let tok = if digits.contains('.') {
                    // The grammar needs digits after the point and allows none before it.
                    let (_, frac) = digits.split_once('.').ok_or_else(bad)?;
                    if frac.is_empty() || frac.contains('.') {
                        return Err(bad());
                    }
                    Tok::Float(text.parse::<f64>().map_err(|_| bad())?)
                } else if digits.is_empty() {
                    return Err(bad());
                } else {
                    Tok::Int(text.parse::<i64>().map_err(|_| bad())?)
                };
                return Ok((tok, start));
            }
            _ => {
                let ch = self.src[self.pos..].chars().next().unwrap_or('\u{fffd}');
                return Err(self.err(start, PatternErrorKind::UnexpectedChar(ch)));
            }
        };
        self.pos += len;
        Ok((tok, start))
    }
}

fn is_base64(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    s.len().is_multiple_of(4)
        && s.len() - body.len() <= 2
        && body
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
}

fn error_at(src: &str, offset: usize, kind: PatternErrorKind) -> PatternError {
    let column = src.get(..offset).map_or(offset, |s| s.chars().count()) + 1;
    PatternError {
        kind,
        offset,
        column,
    }
}

struct Parser<'a> {
    lex: Lexer<'a>,
    tok: Tok,
    at: usize,
    depth: usize,
}

pub(super) fn parse(src: &str) -> Result<Pattern, PatternError> {
    let mut lex = Lexer { src, pos: 0 };
    let (tok, at) = lex.next()?;
    let mut p = Parser {
        lex,
        tok,
        at,
        depth: 0,
    };
    let expr = p.followed_by()?;
    if p.tok != Tok::Eof {
        return Err(p.expected("AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern"));
    }
    Ok(Pattern { expr })
}

impl Parser<'_> {
    fn bump(&mut self) -> Result<Tok, PatternError> {
        let (next, at) = self.lex.next()?;
        self.at = at;
        Ok(std::mem::replace(&mut self.tok, next))
    }

    fn expected(&self, expected: &'static str) -> PatternError {
        error_at(
            self.lex.src,
            self.at,
            PatternErrorKind::Expected {
                expected,
                found: describe(&self.tok),
            },
        )
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(&self.tok, Tok::Ident(s, _) if s == w)
    }

    fn eat_word(&mut self, w: &str) -> Result<bool, PatternError> {
        if self.is_word(w) {
            self.bump()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn expect(&mut self, tok: Tok, what: &'static str) -> Result<(), PatternError> {
        if self.tok == tok {
            self.bump()?;
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    fn enter(&mut self) -> Result<(), PatternError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(error_at(self.lex.src, self.at, PatternErrorKind::TooDeep))
        } else {
            Ok(())
        }
    }

    fn followed_by(&mut self) -> Result<ObservationExpr, PatternError> {
        let mut items = vec![self.obs_or()?];
        while self.eat_word("FOLLOWEDBY")? {
            items.push(self.obs_or()?);
        }
        Ok(collapse(items, ObservationExpr::FollowedBy))
    }

    fn obs_or(&mut self) -> Result<ObservationExpr, PatternError> {
        let mut items = vec![self.obs_and()?];
        while self.eat_word("OR")? {
            items.push(self.obs_and()?);
        }
        Ok(collapse(items, ObservationExpr::Or))
    }

    fn obs_and(&mut self) -> Result<ObservationExpr, PatternError> {
        let mut items = vec![self.qualified()?];
        while self.eat_word("AND")? {
            items.push(self.qualified()?);
        }
        Ok(collapse(items, ObservationExpr::And))
    }

    fn qualified(&mut self) -> Result<ObservationExpr, PatternError> {
        let saved = self.depth;
        let mut expr = self.obs_primary()?;
        loop {
            let q = if self.eat_word("WITHIN")? {
                let n = match self.tok {
                    Tok::Int(n) if n > 0 => Literal::Int(n),
                    Tok::Float(x) if x > 0.0 => Literal::Float(x),
                    _ => return Err(self.expected("a positive number of seconds")),
                };
                self.bump()?;
                if !self.eat_word("SECONDS")? {
                    return Err(self.expected("SECONDS"));
                }
                Qualifier::Within(n)
            } else if self.eat_word("REPEATS")? {
                let n = match self.tok {
                    Tok::Int(n) if n > 0 => n.unsigned_abs(),
                    _ => return Err(self.expected("a positive whole number of repetitions")),
                };
                self.bump()?;
                if !self.eat_word("TIMES")? {
                    return Err(self.expected("TIMES"));
                }
                Qualifier::Repeats(n)
            } else if self.eat_word("START")? {
                let Tok::Time(start) = self.tok.clone() else {
                    return Err(self.expected("a timestamp literal t'…'"));
                };
                self.bump()?;
                if !self.eat_word("STOP")? {
                    return Err(self.expected("STOP"));
                }
                let Tok::Time(stop) = self.tok.clone() else {
                    return Err(self.expected("a timestamp literal t'…'"));
                };
                self.bump()?;
                Qualifier::StartStop(start, stop)
            } else {
                break;
            };
            self.enter()?;
            expr = ObservationExpr::Qualified(Box::new(expr), q);
        }
        self.depth = saved;
        Ok(expr)
    }

    fn obs_primary(&mut self) -> Result<ObservationExpr, PatternError> {
        match self.tok {
            Tok::LBrack => {
                self.enter()?;
                self.bump()?;
                let c = self.cmp_or()?;
                self.expect(Tok::RBrack, "']' or AND/OR")?;
                self.depth -= 1;
                Ok(ObservationExpr::Observation(c))
            }
            Tok::LParen => {
                self.enter()?;
                self.bump()?;
                let e = self.followed_by()?;
                self.expect(Tok::RParen, "')' or AND/OR/FOLLOWEDBY")?;
                self.depth -= 1;
                Ok(e)
            }
            _ => Err(self.expected("'[' or '('")),
        }
    }

    fn cmp_or(&mut self) -> Result<ComparisonExpr, PatternError> {
        let mut items = vec![self.cmp_and()?];
        while self.eat_word("OR")? {
            items.push(self.cmp_and()?);
        }
        Ok(collapse(items, ComparisonExpr::Or))
    }

    fn cmp_and(&mut self) -> Result<ComparisonExpr, PatternError> {
        let mut items = vec![self.cmp_primary()?];
        while self.eat_word("AND")? {
            items.push(self.cmp_primary()?);
        }
        Ok(collapse(items, ComparisonExpr::And))
    }

    fn cmp_primary(&mut self) -> Result<ComparisonExpr, PatternError> {
        if self.tok == Tok::LParen {
            self.enter()?;
            self.bump()?;
            let c = self.cmp_or()?;
            self.expect(Tok::RParen, "')' or AND/OR")?;
            self.depth -= 1;
            return Ok(c);
        }
        if self.eat_word("EXISTS")? {
            return Ok(ComparisonExpr::Test(PropertyTest::Exists(self.path()?)));
        }
        let path = self.path()?;
        let negated = self.eat_word("NOT")?;
        let op = match &self.tok {
            Tok::Op(op) => *op,
            Tok::Ident(w, _) => match w.as_str() {
                "LIKE" => CompareOp::Like,
                "MATCHES" => CompareOp::Matches,
                "ISSUBSET" => CompareOp::IsSubset,
                "ISSUPERSET" => CompareOp::IsSuperset,
                "IN" => {
                    self.bump()?;
                    return Ok(ComparisonExpr::Test(PropertyTest::In {
                        path,
                        negated,
                        values: self.set()?,
                    }));
                }
                _ => return Err(self.expected("a comparison operator")),
            },
            _ => return Err(self.expected("a comparison operator")),
        };
        self.bump()?;
        let value = self.literal()?;
        let string_only = matches!(
            op,
            CompareOp::Like | CompareOp::Matches | CompareOp::IsSubset | CompareOp::IsSuperset
        );
        let orderable = !matches!(value, Literal::Bool(_));
        let ordering = matches!(
            op,
            CompareOp::Lt | CompareOp::Le | CompareOp::Gt | CompareOp::Ge
        );
        if (string_only && !matches!(value, Literal::Str(_))) || (ordering && !orderable) {
            return Err(error_at(
                self.lex.src,
                self.at,
                PatternErrorKind::Expected {
                    expected: if string_only {
                        "a string after this operator"
                    } else {
                        "an orderable literal"
                    },
                    found: format!("{value}"),
                },
            ));
        }
        Ok(ComparisonExpr::Test(PropertyTest::Compare {
            path,
            negated,
            op,
            value,
        }))
    }

    fn set(&mut self) -> Result<Vec<Literal>, PatternError> {
        self.expect(Tok::LParen, "'(' opening the set")?;
        let mut values = Vec::new();
        if self.tok == Tok::RParen {
            self.bump()?;
            return Ok(values);
        }
        loop {
            values.push(self.literal()?);
            match self.tok {
                Tok::Comma => {
                    self.bump()?;
                }
                Tok::RParen => {
                    self.bump()?;
                    return Ok(values);
                }
                _ => return Err(self.expected("',' or ')'")),
            }
        }
    }

    fn literal(&mut self) -> Result<Literal, PatternError> {
        let lit = match &self.tok {
            Tok::Str(s) => Literal::Str(s.clone()),
            Tok::Int(n) => Literal::Int(*n),
            Tok::Float(x) => Literal::Float(*x),
            Tok::Binary(s) => Literal::Binary(s.clone()),
            Tok::Hex(s) => Literal::Hex(s.clone()),
            Tok::Time(t) => Literal::Timestamp(t.clone()),
            Tok::Ident(w, _) if w == "true" || w == "TRUE" => Literal::Bool(true),
            Tok::Ident(w, _) if w == "false" || w == "FALSE" => Literal::Bool(false),
            _ => {
                return Err(
                    self.expected("a literal (string, number, boolean, b'…', h'…' or t'…')")
                );
            }
        };
        self.bump()?;
        Ok(lit)
    }

    fn name(&mut self, what: &'static str) -> Result<String, PatternError> {
        match self.tok.clone() {
            Tok::Str(s) => {
                self.bump()?;
                Ok(s)
            }
            Tok::Ident(s, true) => Err(error_at(
                self.lex.src,
                self.at,
                PatternErrorKind::UnquotedHyphen(s),
            )),
            Tok::Ident(s, false) if !is_keyword(&s) => {
                self.bump()?;
                Ok(s)
            }
            _ => Err(self.expected(what)),
        }
    }

    fn path(&mut self) -> Result<ObjectPath, PatternError> {
        let object_type = match self.tok.clone() {
            Tok::Ident(s, _) if !is_keyword(&s) => {
                self.bump()?;
                s
            }
            _ => return Err(self.expected("an object path such as ipv4-addr:value")),
        };
        self.expect(Tok::Colon, "':' after the object type")?;
        let property = self.name("a property name")?;
        let mut steps = Vec::new();
        loop {
            match self.tok {
                Tok::Dot => {
                    self.bump()?;
                    steps.push(PathStep::Key(self.name("a property name after '.'")?));
                }
                Tok::LBrack => {
                    self.bump()?;
                    let step = match self.tok {
                        Tok::Star => PathStep::AnyIndex,
                        Tok::Int(n) => PathStep::Index(n),
                        _ => return Err(self.expected("a list index or '*'")),
                    };
                    self.bump()?;
                    self.expect(Tok::RBrack, "']' closing the list index")?;
                    steps.push(step);
                }
                _ => break,
            }
        }
        Ok(ObjectPath {
            object_type,
            property,
            steps,
        })
    }
}

fn collapse<T>(mut items: Vec<T>, make: fn(Vec<T>) -> T) -> T {
    if items.len() == 1 {
        items.pop().expect("one item")
    } else {
        make(items)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Pattern {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn the_oasis_example_patterns_parse() {
        for s in [
            "[ipv4-addr:value = '198.51.100.1/32']",
            "[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']",
            "[email-message:subject MATCHES '^[IMPORTANT] Please Review Before']",
            "[email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
            "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
            "[ ipv4-addr:value = '10.0.0.0' ]",
            "[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:src_ref.value = '203.0.113.10'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
            "([file:name = 'a'] AND [file:name = 'b']) FOLLOWEDBY [url:value LIKE '%evil%'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
            "[file:size > 1024 AND file:name NOT IN ('a', 'b') AND file:name NOT LIKE 'x%']",
            "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\System\\\\Foo\\\\Bar']",
            "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=' OR artifact:payload_bin = h'ff00']",
            "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
            "[process:extensions.'windows-process-ext'.aslr_enabled = true]",
            "[user-account:account_last_login < t'2016-01-01T00:00:00Z']",
            "[file:size >= -1.5]",
            "[EXISTS file:name]",
        ] {
            let p = ok(s);
            assert_eq!(ok(&p.to_string()), p, "{s} printed as {p}");
        }
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let p = ok("[a:b = 1 OR a:c = 2 AND a:d = 3]");
        let ObservationExpr::Observation(ComparisonExpr::Or(items)) = &p.expr else {
            panic!("{p:?}")
        };
        assert!(matches!(items[1], ComparisonExpr::And(_)));
        let p = ok("[a:b = 1] FOLLOWEDBY [a:b = 2] OR [a:b = 3]");
        assert!(matches!(p.expr, ObservationExpr::FollowedBy(_)));
    }

    #[test]
    fn redundant_parentheses_survive_a_round_trip() {
        let p = ok("[(a:b = 1 AND a:c = 2) AND a:d = 3]");
        assert_eq!(p.to_string(), "[(a:b = 1 AND a:c = 2) AND a:d = 3]");
        let p = ok("[a:b = 1 AND a:c = 2 AND a:d = 3]");
        assert_eq!(p.to_string(), "[a:b = 1 AND a:c = 2 AND a:d = 3]");
    }

    #[test]
    fn errors_point_at_the_fault() {
        let e = parse("[ipv4-addr:value = ]").unwrap_err();
        assert_eq!((e.offset, e.column), (19, 20));
        assert!(e.to_string().contains("expected a literal"), "{e}");
        let e = parse("[file:hashes.SHA-256 = 'x']").unwrap_err();
        assert_eq!(e.kind, PatternErrorKind::UnquotedHyphen("SHA-256".into()));
        assert_eq!(e.offset, 13);
        let e = parse("[file:name = 'a\\.b']").unwrap_err();
        assert_eq!(e.kind, PatternErrorKind::BadEscape('.'));
        let e = parse("[file:name = 'abc").unwrap_err();
        assert_eq!(
            (e.kind, e.offset),
            (PatternErrorKind::UnterminatedString, 13)
        );
        let e = parse("[file:name = 'a'] WITHIN 0 SECONDS").unwrap_err();
        assert!(e.to_string().contains("positive"));
        let e = parse("[a:b = 1] [a:b = 2]").unwrap_err();
        assert_eq!(e.offset, 10);
        assert!(parse("").is_err());
        assert!(parse("[a:b = 1] and [a:b = 2]").is_err());
        assert!(parse("[a:b LIKE 5]").is_err());
        assert!(parse("[a:b = t'2016-13-01T00:00:00Z']").is_err());
    }

    #[test]
    fn hostile_nesting_is_refused_not_overflowed() {
        let deep = format!("{}[a:b = 1]{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(parse(&deep).unwrap_err().kind, PatternErrorKind::TooDeep);
        let deep = format!("[{}a:b = 1{}]", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(parse(&deep).unwrap_err().kind, PatternErrorKind::TooDeep);
        let many = format!("[a:b = 1]{}", " REPEATS 2 TIMES".repeat(1_000));
        assert_eq!(parse(&many).unwrap_err().kind, PatternErrorKind::TooDeep);
    }

    #[test]
    fn long_flat_chains_are_fine() {
        let chain = vec!["[a:b = 1]"; 20_000].join(" OR ");
        let p = ok(&chain);
        let ObservationExpr::Or(items) = &p.expr else {
            panic!()
        };
        assert_eq!(items.len(), 20_000);
    }
}
