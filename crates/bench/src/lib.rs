//! Shared bits of the benchmark binaries: repeated rounds and medians.
//!
//! Machines here are shared and noisy, so every benchmark runs its baselines and detente in
//! the same process, several rounds each, and reports medians and ratios.

/// The median of `values` (the lower middle one for an even count).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[(values.len() - 1) / 2]
}

/// Formats a rate with thousands separators.
pub fn rate(r: f64) -> String {
    let n = r.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The terms the delivery benchmarks run under: every kind, one category, generous deadlines.
pub fn terms() -> detente_domain::Terms {
    use detente_domain::{Deadlines, Span, Terms};
    use detente_protocol::{Priority, RequestKind};
    let d = Deadlines {
        acknowledge: Span::from_secs(3600),
        first_answer: Span::from_secs(86_400),
        final_answer: Span::from_secs(7 * 86_400),
    };
    Terms {
        kinds: RequestKind::ALL.to_vec(),
        categories: vec!["botnet".into()],
        deadlines: Priority::ALL.iter().map(|p| (*p, d)).collect(),
        clock_skew: Span::from_secs(300),
    }
}

/// The `i`th request the delivery benchmarks file: a typical mitigation request.
pub fn request(i: usize) -> detente_protocol::RequestBody {
    use detente_protocol::{Priority, RequestBody, RequestKind, Tlp};
    RequestBody {
        kind: RequestKind::Mitigation,
        category: "botnet".into(),
        priority: Priority::High,
        tlp: Tlp::Amber,
        title: format!("Botnet C2 server {i} in your territory"),
        narrative: "A command-and-control server of a Mirai-variant botnet is active in your \
                    address space; please take it down and preserve its disk."
            .into(),
        observables: Vec::new(),
        attachments: Vec::new(),
        objects: Vec::new(),
        attribution: None,
        preservation: None,
    }
}
