//! Benchmark of the review: generates 10k, 100k and 1M synthetic cases and times computing
//! the review of 2026-H1 (figures, trend over four previous half-years, appendix) and
//! rendering it as JSON and HTML; prints the median of three runs and the peak resident
//! memory (VmHWM) of the process.
//!
//! `cargo run --release -p detente-report --example review-bench` runs each size in a fresh
//! process (peak memory is per process); `... -- 250000` runs one size. With
//! `REVIEW_BENCH_PHASES=1` it also prints resident memory after computing and after the JSON;
//! with `REVIEW_BENCH_STREAM=1` the JSON is streamed (`Review::write_json`) to a byte counter
//! instead of built as one string.

use std::{process::Command, time::Instant};

use detente_domain::{Agreement, Case};
use detente_protocol::{
    AcknowledgementBody, AnswerBody, Body, CaseId, ClarificationBody, ClarificationRequestBody,
    DeclineBody, DeclineReason, Envelope, MessageId, PartyId, Priority, RatingBody, RequestBody,
    RequestKind, Timestamp, Tlp, WIRE_VERSION, WithdrawalBody,
};
use detente_report::{CaseRecord, Period, ReviewOptions, compute, csv, html};

const AGREEMENT: &str = include_str!("../tests/data/agreement.toml");
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {
            let exe = std::env::current_exe().expect("the benchmark knows its own path");
            for n in [10_000, 100_000, 1_000_000] {
                let status = Command::new(&exe)
                    .arg(n.to_string())
                    .status()
                    .expect("the benchmark can run itself");
                assert!(status.success(), "the run with {n} cases failed");
            }
        }
        [n] => run(n.parse().expect("a number of cases")),
        _ => eprintln!("usage: review-bench [CASES]"),
    }
}

fn run(n: u32) {
    let t = Instant::now();
    let cases = generate(n);
    let generated = t.elapsed();
    let rss_cases = status_kib("VmRSS");
    let records: Vec<CaseRecord<'_>> = cases
        .iter()
        .zip(0u64..)
        .map(|(case, i)| CaseRecord {
            case,
            log_index: i * 5,
        })
        .collect();
    let agreement = Agreement::from_toml(AGREEMENT).expect("valid agreement");
    let options = ReviewOptions::new(Period::parse("2026-H1").expect("valid period"));
    let stream = std::env::var_os("REVIEW_BENCH_STREAM").is_some();
    let mut runs = Vec::new();
    for _ in 0..3 {
        let cpu0 = cpu_ns();
        let t0 = Instant::now();
        let review = compute(&agreement, &records, &options).expect("computable");
        let t1 = Instant::now();
        phase("after computing");
        let json = if stream {
            let mut counter = Counter(0);
            review.write_json(&mut counter).expect("serialisable");
            counter.0
        } else {
            review.to_json().expect("serialisable").len()
        };
        phase("after the JSON");
        let t2 = Instant::now();
        let page = html::review_page(&review).expect("renders").len();
        let t3 = Instant::now();
        let cpu = cpu_ns().saturating_sub(cpu0);
        // Not part of the timed review: the CSV is another rendering of the same appendix.
        let appendix = csv::appendix(&review).len();
        let t4 = Instant::now();
        runs.push((
            t3 - t0,
            t1 - t0,
            t2 - t1,
            t3 - t2,
            t4 - t3,
            json,
            page,
            appendix,
            review.appendix.rows.len(),
            cpu,
        ));
    }
    runs.sort_by_key(|r| r.0);
    let (total, comp, json, page, appendix, json_len, page_len, csv_len, rows, cpu) = runs[1];
    println!(
        "{n:>9} cases: review {:>6.3} s, on CPU {:.3} s (compute {:.3} s, JSON {:.3} s, HTML {:.3} s); \
         CSV appendix {:.3} s; peak RSS {} MiB (cases alone {} MiB); \
         {rows} appendix rows, JSON {:.1} MB, HTML {:.0} kB, CSV {:.1} MB; generated in {:.1} s",
        total.as_secs_f64(),
        cpu as f64 / 1e9,
        comp.as_secs_f64(),
        json.as_secs_f64(),
        page.as_secs_f64(),
        appendix.as_secs_f64(),
        status_kib("VmHWM") / 1024,
        rss_cases / 1024,
        json_len as f64 / 1e6,
        page_len as f64 / 1e3,
        csv_len as f64 / 1e6,
        generated.as_secs_f64(),
    );
}

/// Counts the bytes written to it.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn phase(what: &str) {
    if std::env::var_os("REVIEW_BENCH_PHASES").is_some() {
        eprintln!(
            "{what}: RSS {} MiB, peak {} MiB",
            status_kib("VmRSS") / 1024,
            status_kib("VmHWM") / 1024
        );
    }
}

/// Time this thread has spent on a CPU, in ns (the first field of its schedstat), so the
/// figure holds even when other work shares the machine.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// A field of /proc/self/status in KiB (0 where there is none).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }

    fn ms(&mut self, max: i64) -> i64 {
        i64::try_from(self.below(u64::try_from(max).expect("positive"))).expect("fits") + 1
    }
}

/// `n` cases in both directions, filed from 2025-10-01 to 2026-06-30 (nine tenths in
/// 2026-H1), along every path of the lifecycle, built with the domain's `Case::open` and
/// `Case::apply` from envelope templates.
fn generate(n: u32) -> Vec<Case> {
    let agreement = Agreement::from_toml(AGREEMENT).expect("valid agreement");
    let digest = agreement.digest();
    let parties = [
        PartyId::parse("US").expect("valid"),
        PartyId::parse("CN").expect("valid"),
    ];
    let template = |body: Body| Envelope {
        v: WIRE_VERSION,
        id: MessageId::random(),
        agreement: digest,
        from: parties[0].clone(),
        to: parties[1].clone(),
        seq: 1,
        sent_at: Timestamp::from_unix_millis(T0).expect("valid"),
        case: CaseId::new(parties[0].clone(), 2026, 1),
        in_reply_to: None,
        checkpoint: None,
        agency: None,
        body,
    };
    let request = template(Body::Request(RequestBody {
        kind: RequestKind::Information,
        category: "botnet".into(),
        priority: Priority::Normal,
        tlp: Tlp::Amber,
        title: "C2 server in your address space".into(),
        narrative: "Who operates it?".into(),
        observables: Vec::new(),
        attachments: Vec::new(),
        objects: Vec::new(),
        attribution: None,
        preservation: None,
    }));
    let ack = template(Body::Acknowledgement(AcknowledgementBody {
        note: String::new(),
    }));
    let question = template(Body::ClarificationRequest(ClarificationRequestBody {
        question: "Which port?".into(),
    }));
    let clarification = template(Body::Clarification(ClarificationBody {
        text: "443".into(),
    }));
    let answer = |is_final| {
        template(Body::Answer(AnswerBody {
            is_final,
            text: "Done.".into(),
            observables: Vec::new(),
            attachments: Vec::new(),
            objects: Vec::new(),
        }))
    };
    let (partial, last) = (answer(false), answer(true));
    let decline = template(Body::Decline(DeclineBody {
        reason: DeclineReason::NoJurisdiction,
        text: String::new(),
    }));
    let withdrawal = template(Body::Withdrawal(WithdrawalBody {
        reason: String::new(),
    }));
    let rating = |score| {
        template(Body::Rating(RatingBody {
            score,
            comment: String::new(),
        }))
    };
    let ratings: Vec<Envelope> = (1..=5).map(rating).collect();
    let kinds = [
        RequestKind::Information,
        RequestKind::Investigation,
        RequestKind::Evidence,
        RequestKind::Mitigation,
    ];
    let categories = ["botnet", "ip-theft"];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut numbers = [0u32; 2];
    let h1 = 181 * DAY;
    let mut cases = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let side = usize::from(rng.below(5) < 2);
        numbers[side] += 1;
        let (from, to) = (&parties[side], &parties[1 - side]);
        let filed = if rng.below(10) == 0 {
            -rng.ms(92 * DAY)
        } else {
            rng.ms(h1) - 1
        };
        let id = CaseId::new(from.clone(), 2026, numbers[side]);
        let mut r = request.clone();
        if let Body::Request(b) = &mut r.body {
            b.kind = kinds[rng.below(4) as usize];
            b.category = categories[rng.below(2) as usize].into();
            b.priority = Priority::ALL[rng.below(4) as usize];
        }
        r.from = from.clone();
        r.to = to.clone();
        r.case = id.clone();
        let at = |ms: i64| Timestamp::from_unix_millis(T0 + filed + ms).expect("valid");
        let mut case = Case::open(&agreement, &r, at(0)).expect("within terms");
        let mut t = 0;
        let mut step =
            |case: &mut Case, e: &Envelope, responder: bool, scale: i64, rng: &mut Rng| {
                t += rng.ms(scale);
                let mut e = e.clone();
                e.case = id.clone();
                (e.from, e.to) = if responder {
                    (to.clone(), from.clone())
                } else {
                    (from.clone(), to.clone())
                };
                case.apply(&e, at(t)).expect("legal step");
            };
        match rng.below(10) {
            0 => {}
            1 => step(&mut case, &ack, true, DAY, &mut rng),
            2 | 3 => {
                step(&mut case, &ack, true, DAY, &mut rng);
                step(&mut case, &last, true, 20 * DAY, &mut rng);
                let score = rng.below(5) as usize;
                step(&mut case, &ratings[score], false, 5 * DAY, &mut rng);
            }
            4 | 5 => {
                step(&mut case, &ack, true, 2 * HOUR, &mut rng);
                step(&mut case, &partial, true, 5 * DAY, &mut rng);
                step(&mut case, &last, true, 30 * DAY, &mut rng);
            }
            6 => {
                step(&mut case, &ack, true, DAY, &mut rng);
                step(&mut case, &question, true, DAY, &mut rng);
                step(&mut case, &clarification, false, 10 * DAY, &mut rng);
                step(&mut case, &last, true, 20 * DAY, &mut rng);
                let score = rng.below(5) as usize;
                step(&mut case, &ratings[score], false, 5 * DAY, &mut rng);
            }
            7 => {
                step(&mut case, &ack, true, DAY, &mut rng);
                step(&mut case, &decline, true, 5 * DAY, &mut rng);
            }
            8 => {
                step(&mut case, &ack, true, DAY, &mut rng);
                step(&mut case, &withdrawal, false, 10 * DAY, &mut rng);
            }
            _ => {
                step(&mut case, &question, true, 4 * HOUR, &mut rng);
            }
        }
        cases.push(case);
    }
    cases
}
