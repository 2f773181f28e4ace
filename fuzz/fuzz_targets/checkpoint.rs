//! Fuzzes the parsers of signed notes and checkpoints (C2SP signed-note format), which a node
//! reads from every partner message and an auditor from every bundle.
//!
//! Any text may be refused, but none may panic, and whatever is accepted must write out as
//! the very text it was read from: a checkpoint has one spelling, so two parties can never
//! hold different texts of the same signed statement.

#![no_main]

use detente_ledger::{Checkpoint, SignedCheckpoint, SignedNote};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(note) = SignedNote::parse(text) {
        assert_eq!(note.to_text(), text, "a note has one spelling");
        let again = SignedNote::parse(&note.to_text()).expect("our own note text parses");
        assert_eq!(again, note);
    }
    if let Ok(checkpoint) = SignedCheckpoint::parse(text) {
        assert_eq!(checkpoint.to_text(), text, "a checkpoint has one spelling");
        let again =
            SignedCheckpoint::parse(&checkpoint.to_text()).expect("our own checkpoint parses");
        assert_eq!(again, checkpoint);
    }
    if let Ok(body) = Checkpoint::parse_body(text) {
        assert_eq!(body.to_body(), text, "a checkpoint body has one spelling");
    }
});
