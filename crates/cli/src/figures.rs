//! The per-direction timeliness table that `detente audit` and the demo print, with
//! durations and shares written for people.

use crate::term::out;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use detente_report::{DirectionSummary, Share};

/// Prints the per-direction timeliness table; the caller prints what it is a table of.
pub fn print_table(rows: &[DirectionSummary]) {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "direction",
        "filed",
        "ack'd",
        "answered",
        "declined",
        "withdrawn",
        "open",
        "median ack",
        "ack in time",
        "median final",
        "final in time",
        "overdue",
        "mean rating",
    ]);
    for r in rows {
        t.add_row([
            format!("{} → {}", r.requester, r.responder),
            r.filed.to_string(),
            r.acknowledged.to_string(),
            r.answered.to_string(),
            r.declined.values().sum::<usize>().to_string(),
            r.withdrawn.to_string(),
            r.open.to_string(),
            duration(r.time_to_acknowledge.median_ms),
            pct(r.acknowledged_in_time),
            duration(r.time_to_final_answer.median_ms),
            pct(r.answered_in_time),
            r.overdue.to_string(),
            r.mean_rating
                .map_or_else(|| "-".into(), |m| format!("{m:.1} ({})", r.rated)),
        ]);
    }
    out!("{t}");
}

/// A duration in the largest units that fit, rounded to the last unit shown: `850 ms`,
/// `2.8 s`, `12m 5s`, `4h 12m`, `9d 0h`; `-` for none. A median of nine days then reads
/// `9d 0h`, not `777600.0s`.
pub fn duration(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "-".into();
    };
    let sign = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs();
    // Each unit rounds to its own precision first, so 59.96 s is `1m 0s`, never `60.0 s`.
    let (tenths, secs) = ((ms + 50) / 100, (ms + 500) / 1000);
    let (mins, hours) = ((ms + 30_000) / 60_000, (ms + 1_800_000) / 3_600_000);
    if ms < 1000 {
        format!("{sign}{ms} ms")
    } else if tenths < 600 {
        format!("{sign}{}.{} s", tenths / 10, tenths % 10)
    } else if secs < 3600 {
        format!("{sign}{}m {}s", secs / 60, secs % 60)
    } else if mins < 24 * 60 {
        format!("{sign}{}h {}m", mins / 60, mins % 60)
    } else {
        format!("{sign}{}d {}h", hours / 24, hours % 24)
    }
}

fn pct(s: Share) -> String {
    s.ratio().map_or_else(
        || "-".into(),
        |r| format!("{:.0}% ({}/{})", r * 100.0, s.met, s.due),
    )
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_read_in_the_largest_units_that_fit_and_round() {
        // Arrange
        let (s, m, h, d) = (1_000, 60_000, 3_600_000, 86_400_000);
        let cases = [
            (None, "-"),
            (Some(0), "0 ms"),
            (Some(850), "850 ms"),
            (Some(2_785), "2.8 s"),
            (Some(59_960), "1m 0s"),
            (Some(12 * m + 5 * s), "12m 5s"),
            (Some(4 * h + 12 * m + 20 * s), "4h 12m"),
            (Some(4 * h + 12 * m + 40 * s), "4h 13m"),
            (Some(23 * h + 59 * m + 45 * s), "1d 0h"),
            (Some(9 * d), "9d 0h"),
            (Some(3 * d + 4 * h + 31 * m), "3d 5h"),
            (Some(-2_500), "-2.5 s"),
        ];

        for (ms, want) in cases {
            // Act
            let got = duration(ms);

            // Assert
            assert_eq!(got, want, "{ms:?}");
        }
    }
}
