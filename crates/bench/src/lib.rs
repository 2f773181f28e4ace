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
