//! The rules of the figures are written once (`detente_report::rules`): the review page prints
//! them and the README carries them; this keeps the README's copy the same.

use detente_report::{Period, ReviewOptions, compute, html, rules};

use crate::fixtures::agreement;

const START: &str = "<!-- rules: generated from crates/report/src/rules.rs; UPDATE_README=1 cargo test -p detente-report rules -->\n";
const END: &str = "<!-- end of rules -->";

#[test]
fn the_readme_carries_the_rules_the_page_prints() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&path).expect("the README");
    let start = readme
        .find(START)
        .expect("the README marks where the rules start")
        + START.len();
    let end = start + readme[start..].find(END).expect("and where they end");
    let expected = format!("\n{}", rules::markdown());
    if readme[start..end] != expected {
        if std::env::var_os("UPDATE_README").is_some() {
            let updated = format!("{}{expected}{}", &readme[..start], &readme[end..]);
            std::fs::write(&path, updated).expect("writing the README");
        } else {
            panic!(
                "the README's rules differ from crates/report/src/rules.rs; run \
                 UPDATE_README=1 cargo test -p detente-report rules"
            );
        }
    }
}

#[test]
fn the_page_prints_every_rule() {
    let review = compute(
        &agreement(),
        &[],
        &ReviewOptions::new(Period::parse("2026-H1").expect("valid")),
    )
    .expect("computable");
    let page = html::review_page(&review).expect("renders");
    // Askama escapes quotes and apostrophes; compare the stretch before the first of them.
    let plain = |s: &str| -> String {
        s.chars()
            .take_while(|c| !matches!(c, '\'' | '"' | '&' | '<'))
            .collect()
    };
    for (title, text) in rules::RULES {
        assert!(page.contains(&plain(title)), "{title}");
        assert!(page.contains(&plain(text)), "{title}: {}", plain(text));
    }
}
