//! The review page in a real headless Chromium: it loads without console errors, every chart
//! has drawn elements, count axes have whole-number ticks, both trend lines are drawn, the
//! page cites its log checkpoints and carries its rules, and a screenshot is kept as a test
//! artifact (`artifacts/review.png`). And `detente review`'s refusals.

use std::process::Command;

use crate::harness::{detente, pair, work_cases};

const CHROMIUM: &str = "/usr/bin/chromium";

fn chromium(args: &[&str], profile: &std::path::Path) -> std::process::Output {
    Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--enable-logging=stderr", "--v=0"])
        .args(args)
        .output()
        .expect("chromium runs (apt-get install chromium; .ci/run installs it)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_renders_in_chromium_with_every_chart_drawn() {
    assert!(
        std::path::Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let (mut us, mut cn) = pair(dir.path());
    us.start().await;
    cn.start().await;
    work_cases(&us, &cn, 3).await;
    us.terminate();
    cn.terminate();

    let page = dir.path().join("review.html");
    let year = detente_server::node::now().datetime().year();
    let out = detente()
        .arg("--home")
        .arg(&us.home)
        .args(["review", "--period", &year.to_string(), "--out"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let url = format!("file://{}", page.display());
    let profile = dir.path().join("profile");
    let dom = chromium(&["--dump-dom", &url], &profile);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let stderr = String::from_utf8_lossy(&dom.stderr);
    let console_errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(
        console_errors.is_empty(),
        "console errors: {console_errors:?}"
    );
    let html = String::from_utf8_lossy(&dom.stdout);
    let charts: Vec<&str> = html.split("<svg").skip(1).collect();
    assert!(
        charts.len() >= 6,
        "expected the review's charts, found {} <svg>",
        charts.len()
    );
    for (i, svg) in charts.iter().enumerate() {
        let svg = svg.split("</svg>").next().unwrap_or_default();
        let drawn = ["<rect", "<path", "<polyline", "<circle", "<line"]
            .iter()
            .any(|t| svg.contains(t));
        assert!(
            drawn || svg.contains("No data"),
            "chart {i} has no drawn elements"
        );
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page must not load anything from outside"
    );
    // Issue 20, item 11: the page's rough edges, read from what Chromium rendered.
    let chart = |id: &str| -> &str {
        let start = html
            .find(&format!("id=\"chart-{id}\""))
            .unwrap_or_else(|| panic!("chart {id}"));
        let end = start + html[start..].find("</figure>").expect("closed");
        &html[start..end]
    };
    let texts = |svg: &str| -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| t.split('>').nth(1))
            .map(|t| t.split('<').next().unwrap_or_default().trim().to_owned())
            .collect()
    };
    for id in ["time-to-acknowledge", "trend-filed", "quality"] {
        let ticks = texts(chart(id));
        assert!(
            ticks
                .iter()
                .all(|t| t.parse::<f64>().map_or(true, |v| v.fract() == 0.0)),
            "{id} has fractional count ticks: {ticks:?}"
        );
    }
    // US filed three requests to CN and CN none: both directions' lines are drawn.
    let trend = chart("trend-filed");
    assert!(
        trend.contains("#0072B2") && trend.contains("#E69F00"),
        "{trend}"
    );
    assert!(
        html.contains("entries, root"),
        "the page cites the log checkpoints its figures come from"
    );
    assert!(html.contains("How the figures are computed") && html.contains("Withdrawals"));
    assert!(!html.contains("p90"));

    let artifacts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let png = artifacts.join("review.png");
    let shot = chromium(
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1200,2400",
            &url,
        ],
        &profile,
    );
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    assert!(
        std::fs::metadata(&png).unwrap().len() > 10_000,
        "the screenshot has content"
    );
}

#[test]
fn a_trend_longer_than_twenty_periods_is_refused_with_a_clear_message() {
    // Regression: `detente review --trend 100000000000000` aborted on a huge allocation
    // (exit 134).
    let dir = tempfile::tempdir().unwrap();
    let out = detente()
        .arg("--home")
        .arg(dir.path())
        .args([
            "review",
            "--period",
            "2026-H1",
            "--trend",
            "100000000000000",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("0..=20"), "{stderr}");
}
