//! RFC 8785 canonical JSON against published vectors: the reference implementation's test data
//! (cyberphone/json-canonicalization `testdata/`) and the examples in the RFC's own text.
//! Sources are cited in `tests/vectors/README.md`.

use detente_protocol::{MAX_MESSAGE_BYTES, canonical_bytes, parse_strict};
use serde_json::{Number, Value};

use crate::support::{vector, vector_path};

/// Every pair of the reference test data, by file name.
const CYBERPHONE: [&str; 6] = [
    "arrays",
    "french",
    "structures",
    "unicode",
    "values",
    "weird",
];

fn canonicalise(input: &[u8]) -> Vec<u8> {
    let value =
        parse_strict(input, MAX_MESSAGE_BYTES).expect("the published input parses strictly");
    canonical_bytes(&value)
}

fn assert_same_bytes(actual: &[u8], expected: &[u8], what: &str) {
    assert!(
        actual == expected,
        "{what}\n  actual:   {}\n  expected: {}",
        String::from_utf8_lossy(actual),
        String::from_utf8_lossy(expected)
    );
}

#[test]
fn every_reference_input_canonicalises_to_its_published_output() {
    for name in CYBERPHONE {
        let input = vector(&format!("jcs/cyberphone/input/{name}.json"));
        let expected = vector(&format!("jcs/cyberphone/output/{name}.json"));

        let actual = canonicalise(&input);

        assert_same_bytes(&actual, &expected, name);
    }
}

#[test]
fn every_reference_output_matches_its_published_hex_dump() {
    for name in CYBERPHONE {
        let output = vector(&format!("jcs/cyberphone/output/{name}.json"));
        let hex_dump = vector(&format!("jcs/cyberphone/outhex/{name}.txt"));
        let hex_dump = String::from_utf8(hex_dump).expect("the hex dump is ASCII");

        let from_hex = hex::decode(hex_dump.split_whitespace().collect::<String>())
            .expect("the hex dump is hex");

        assert_eq!(from_hex, output, "{name}");
        assert_same_bytes(&canonicalise(&output), &output, name);
    }
}

#[test]
fn no_reference_vector_is_left_untested() {
    for folder in ["input", "output", "outhex"] {
        let mut names: Vec<String> =
            std::fs::read_dir(vector_path(&format!("jcs/cyberphone/{folder}")))
                .expect("the vector folder exists")
                .map(|entry| {
                    let path = entry.expect("a readable folder entry").path();
                    path.file_stem()
                        .and_then(|s| s.to_str())
                        .expect("a UTF-8 file name")
                        .to_owned()
                })
                .collect();
        names.sort();

        assert_eq!(names, CYBERPHONE, "{folder}");
    }
}

#[test]
fn canonical_output_is_a_fixed_point() {
    for name in CYBERPHONE {
        let once = canonicalise(&vector(&format!("jcs/cyberphone/input/{name}.json")));

        let twice = canonicalise(&once);

        assert_same_bytes(&twice, &once, name);
    }
}

#[test]
fn the_rfc_section_3_2_2_example_serialises_primitives_as_published() {
    let input = vector("jcs/rfc8785/section-3.2.2.input.json");
    let expected = vector("jcs/rfc8785/section-3.2.2.expected.json");

    assert_same_bytes(&canonicalise(&input), &expected, "RFC 8785 §3.2.2");
}

#[test]
fn the_rfc_section_3_2_4_hex_dump_is_what_we_produce() {
    // RFC 8785 §3.2.4: the UTF-8 bytes of the §3.2.2 example's canonical form.
    let published = "\
        7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72 \
        75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a \
        5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31 \
        65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37 \
        5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30 \
        30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d";
    let expected = hex::decode(published.split_whitespace().collect::<String>()).expect("hex");

    let actual = canonicalise(&vector("jcs/rfc8785/section-3.2.2.input.json"));

    assert_eq!(actual, expected);
}

#[test]
fn the_rfc_section_3_2_3_example_sorts_keys_by_utf16_code_units() {
    let input = vector("jcs/rfc8785/section-3.2.3.input.json");
    let expected = vector("jcs/rfc8785/section-3.2.3.expected.json");

    assert_same_bytes(&canonicalise(&input), &expected, "RFC 8785 §3.2.3");
}

/// The rows of RFC 8785 Appendix B: IEEE-754 bits, expected text (empty for NaN and Infinity).
fn appendix_b() -> Vec<(u64, String)> {
    let table = String::from_utf8(vector("jcs/rfc8785/appendix-b-numbers.csv")).expect("ASCII");
    table
        .lines()
        .map(|line| {
            let mut cells = line.splitn(3, ',');
            let bits = cells.next().expect("a hex column");
            let text = cells.next().expect("an expected-text column");
            let bits = u64::from_str_radix(bits, 16).expect("IEEE-754 bits in hex");
            (bits, text.to_owned())
        })
        .collect()
}

#[test]
fn every_appendix_b_number_serialises_as_published() {
    let rows = appendix_b();
    assert_eq!(rows.len(), 26, "Appendix B has 26 rows");

    for (bits, expected) in rows {
        let x = f64::from_bits(bits);
        let number = Number::from_f64(x);

        if expected.is_empty() {
            // The RFC requires an error for NaN and Infinity; a JSON value cannot even hold one.
            assert!(!x.is_finite() && number.is_none(), "{bits:016x}");
            continue;
        }
        let value = Value::Number(number.expect("a finite number"));
        assert_eq!(
            String::from_utf8(canonical_bytes(&value)).expect("UTF-8"),
            expected,
            "{bits:016x}"
        );
    }
}

#[test]
fn every_appendix_b_text_parses_back_to_itself() {
    for (bits, expected) in appendix_b() {
        if expected.is_empty() {
            continue;
        }

        let value = parse_strict(expected.as_bytes(), 64).expect("a published number parses");

        assert_eq!(
            String::from_utf8(canonical_bytes(&value)).expect("UTF-8"),
            expected,
            "{bits:016x}"
        );
        // The parser reads exactly the double the RFC started from (−0 reads as 0).
        let read = value.as_f64().expect("a number");
        assert_eq!(read, f64::from_bits(bits), "{bits:016x}");
    }
}

#[test]
fn a_published_input_with_a_repeated_key_would_be_refused_not_canonicalised() {
    // No published input repeats a key; serde_json alone would keep the last value and
    // canonicalise happily, so this pins down that our parser is the stricter one.
    let input = br#"{"peach":"This sorting order","peach":"is wrong according to French"}"#;

    assert!(serde_json::from_slice::<Value>(input).is_ok());
    assert_eq!(
        parse_strict(input, MAX_MESSAGE_BYTES),
        Err(detente_protocol::ProtocolError::DuplicateKey(
            "peach".into()
        ))
    );
}
