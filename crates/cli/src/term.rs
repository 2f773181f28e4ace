//! What the CLI writes to the operator's terminal, made safe and quiet:
//!
//! - Text that comes from elsewhere (a partner's titles and answers, log lines, STIX names)
//!   has its control characters neutralised before it is printed: escape sequences could
//!   clear the screen, rewrite earlier lines, set the window title or hide text, and
//!   right-to-left overrides could make a line read differently from what it says.
//! - Output to a closed pipe (`detente request list | head -2`) ends the command quietly
//!   with success, as other Unix tools do, instead of a panic.

use std::{
    borrow::Cow,
    fmt,
    io::{self, Write},
    sync::atomic::{AtomicBool, Ordering},
};

/// Prints a line to standard output, ending the process quietly if the reader went away.
macro_rules! out {
    () => { $crate::term::write_line(format_args!("")) };
    ($($arg:tt)*) => { $crate::term::write_line(format_args!($($arg)*)) };
}
pub(crate) use out;

/// Whether anything was written with [`out!`].
static WROTE: AtomicBool = AtomicBool::new(false);

/// Whether the command has written to standard output: a `--json` error then goes only to
/// standard error, so that standard output stays one JSON document.
pub fn wrote_output() -> bool {
    WROTE.load(Ordering::Relaxed)
}

/// Writes one line to standard output (see [`out!`]).
pub fn write_line(args: fmt::Arguments<'_>) {
    WROTE.store(true, Ordering::Relaxed);
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout
        .write_fmt(args)
        .and_then(|()| stdout.write_all(b"\n"))
    {
        if e.kind() == io::ErrorKind::BrokenPipe {
            // The reader has what it wanted (`| head`): nothing is wrong.
            std::process::exit(0);
        }
        eprintln!("error: writing to standard output: {e}");
        std::process::exit(1);
    }
}

/// Whether `c` is invisible formatting that can change how a line reads: bidirectional
/// overrides and isolates, and the zero-width characters around them.
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}')
}

/// `s` with every control character (C0 but newline and tab, DEL, C1) and every invisible
/// formatting character shown as a visible escape, e.g. `\u{1b}`.
pub fn clean(s: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| (c.is_control() && c != '\n' && c != '\t') || is_format(c);
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if unsafe_char(c) {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// [`clean`], on one line: line breaks and tabs become spaces.
pub fn one_line(s: &str) -> String {
    clean(s).replace(['\n', '\t', '\r'], " ")
}

/// `value` as pretty JSON, with invisible formatting characters and C1 controls escaped as
/// `\uXXXX` (still the same JSON): JSON escapes C0 controls itself, but not these.
pub fn json(value: &impl serde::Serialize) -> String {
    let text = serde_json::to_string_pretty(value).expect("API values always serialise");
    if !text
        .chars()
        .any(|c| is_format(c) || c.is_control() && c > '\u{7f}')
    {
        return text;
    }
    text.chars()
        .map(|c| {
            if is_format(c) || (c.is_control() && c > '\u{7f}') {
                format!("\\u{:04x}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_overrides_are_shown_not_obeyed() {
        let hostile = "ok\u{1b}]0;owned\u{7}\u{1b}[2J\u{0}\u{202e}gpj.exe\u{9b}";
        let shown = clean(hostile);
        assert!(
            !shown.chars().any(|c| c.is_control() || is_format(c)),
            "{shown:?}"
        );
        assert!(
            shown.contains("\\u{1b}") && shown.contains("\\u{202e}"),
            "{shown}"
        );
        assert_eq!(clean("plain, 中文, and\nlines"), "plain, 中文, and\nlines");
    }

    #[test]
    fn json_output_stays_json_with_the_overrides_escaped() {
        let v = serde_json::json!({"title": "a\u{202e}b\u{85}c\u{1b}"});
        let text = json(&v);
        assert!(!text.contains('\u{202e}') && !text.contains('\u{85}') && !text.contains('\u{1b}'));
        let back: serde_json::Value = serde_json::from_str(&text).expect("still JSON");
        assert_eq!(back, v);
    }
}
