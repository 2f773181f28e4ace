//! `detente demo`: two real nodes (US and CN) on loopback, in temporary homes, under an
//! agreement whose deadlines are scaled to seconds, work through 22 realistic cases in both
//! directions; then each node computes the timeliness table from its own log and the demo
//! checks that both got the same numbers.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::Args;
use detente_domain::{Case, Deadlines, Span, Terms};
use detente_protocol::{
    AcknowledgementBody, AnswerBody, Body, ClarificationBody, ClarificationRequestBody,
    DeclineBody, DeclineReason, Observable, PreservationDetails, Priority, RatingBody, RequestBody,
    RequestKind, Timestamp, Tlp, WithdrawalBody,
};
use detente_report::{
    CaseRecord, DirectionSummary, Period, ReviewOptions, compute, html, summarize,
};
use detente_server::{
    local_pair::LocalPair,
    node::{Node, derived_cases, now},
};
use serde_json::json;

use crate::term::out;
use crate::{agreement_cmd::recommended_terms, client::Api, figures::print_table, match_cmd};

/// Options of `detente demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Keep the two node homes in this folder (default: a temporary folder, removed after).
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// The agreement's wire version: 2 seals signed headers committing to detached bodies,
    /// so the logs can be exported redacted (`log export --redacted`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=2))]
    pub protocol: u32,
}

/// Who acts in a step.
#[derive(Clone, Copy)]
enum By {
    Requester,
    Responder,
}

/// One scripted step: after `at_ms` from the start of the case, `by` acts.
struct Step {
    at_ms: u64,
    by: By,
    action: Action,
}

/// What a step sends.
enum Action {
    /// A fixed message (boxed: a request body is large, the other variant small).
    Send(Box<Body>),
    /// Match the case's indicators against the actor's network logs and answer with the
    /// sightings, as `detente match --case ID --answer` does.
    MatchAndAnswer { is_final: bool, note: &'static str },
}

/// One scripted case.
struct Script {
    from: &'static str,
    request: RequestBody,
    steps: Vec<Step>,
}

/// Runs the demo.
pub async fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let temp;
    let dir: &Path = match &args.keep {
        Some(p) => {
            std::fs::create_dir_all(p)?;
            p
        }
        None => {
            temp = tempfile::tempdir()?;
            temp.path()
        }
    };
    out!(
        "detente demo: two nodes, US and CN, on loopback; homes in {}",
        dir.display()
    );
    let pair = LocalPair::start_with_protocol(
        dir,
        [
            ("US", "US-CERT / FBI Cyber Division"),
            ("CN", "CNCERT/CC / MPS Cybersecurity Bureau"),
        ],
        "us-cn-2015-demo",
        "US-China cyber cooperation (demo: deadlines in seconds)",
        demo_terms(),
        args.protocol,
    )
    .await
    .map_err(anyhow::Error::msg)?;
    out!(
        "agreement {} digest {}",
        pair.agreement.id,
        pair.agreement.digest()
    );
    for n in &pair.nodes {
        out!("node {} listening at {}", n.node.party(), n.url);
    }
    let running: Vec<(Arc<Node>, Api)> = pair
        .nodes
        .iter()
        .map(|n| {
            Ok((
                Arc::clone(&n.node),
                Api::plain(n.url.clone(), n.token.clone())?,
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let apis: BTreeMap<&str, Api> =
        [("US", running[0].1.clone()), ("CN", running[1].1.clone())].into();
    let t0 = Instant::now();
    let scripts = scenario();
    out!("running {} cases in both directions ...\n", scripts.len());
    let mut tasks = Vec::new();
    for (i, script) in scripts.into_iter().enumerate() {
        let apis = apis.clone();
        // Stagger filings a little, as a real desk would.
        let offset = Duration::from_millis(150 * i as u64);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            play(&apis, script, t0).await
        }));
    }
    for t in tasks {
        t.await??;
    }
    // Let the overdue cases age past their deadlines, then wait for every receipt.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (node, _) in &running {
        wait_for_outbox(node).await?;
    }
    let at = now();
    let us = figures(&running[0].0, at).await?;
    let cn = figures(&running[1].0, at).await?;
    out!(
        "\nTimeliness per direction (deadlines scaled to seconds; pauses for clarification excluded)"
    );
    print_table(&us);
    let agree = us == cn;
    out!(
        "\nBoth nodes computed these figures from their own logs at {at}: {}",
        if agree {
            "identical on US and CN."
        } else {
            "THEY DIFFER."
        }
    );
    let page = review_page(&running[0].0, at).await?;
    let review_path = args
        .keep
        .clone()
        .unwrap_or_else(std::env::temp_dir)
        .join("detente-demo-review.html");
    std::fs::write(&review_path, page)
        .with_context(|| format!("writing {}", review_path.display()))?;
    out!(
        "The review of this half-year, with charts: {} (open it in a browser)",
        review_path.display()
    );
    pair.stop().await.map_err(anyhow::Error::msg)?;
    out!("demo finished in {:.1}s", started.elapsed().as_secs_f64());
    if !agree {
        bail!("the two nodes disagree on the figures: {us:#?} vs {cn:#?}");
    }
    Ok(())
}

/// Deadlines scaled from hours and days to seconds, so the demo shows met and missed ones.
fn demo_terms() -> Terms {
    let d = |a, f, l| Deadlines {
        acknowledge: Span::from_secs(a),
        first_answer: Span::from_secs(f),
        final_answer: Span::from_secs(l),
    };
    Terms {
        deadlines: BTreeMap::from([
            (Priority::Critical, d(2, 4, 8)),
            (Priority::High, d(3, 6, 10)),
            (Priority::Normal, d(4, 8, 12)),
            (Priority::Low, d(6, 10, 15)),
        ]),
        clock_skew: Span::from_secs(5),
        ..recommended_terms()
    }
}

async fn play(apis: &BTreeMap<&str, Api>, script: Script, t0: Instant) -> anyhow::Result<()> {
    let requester = script.from;
    let responder = if requester == "US" { "CN" } else { "US" };
    let title = script.request.title.clone();
    let sent: detente_api::Sent = apis[requester]
        .post(
            "/api/v1/cases",
            &json!({"to": responder, "request": script.request}),
        )
        .await?;
    let case = sent.case.to_string();
    let start = Instant::now();
    out!(
        "[{:>5.1}s] {requester} files {case} to {responder}: {title}",
        t0.elapsed().as_secs_f64()
    );
    for step in script.steps {
        let wait = Duration::from_millis(step.at_ms).saturating_sub(start.elapsed());
        tokio::time::sleep(wait).await;
        let actor = match step.by {
            By::Requester => requester,
            By::Responder => responder,
        };
        // The actor can only act on what has officially reached it.
        wait_until_settled(&apis[requester], &apis[responder], &case).await?;
        let body = match step.action {
            Action::Send(body) => *body,
            Action::MatchAndAnswer { is_final, note } => {
                let (body, said) = match_network_logs(&apis[actor], &case, is_final, note).await?;
                out!("[{:>5.1}s] {actor} {said}", t0.elapsed().as_secs_f64());
                body
            }
        };
        let kind = body.message_type().as_str();
        apis[actor]
            .post::<detente_api::Sent>(&format!("/api/v1/cases/{case}/messages"), &body)
            .await
            .with_context(|| format!("{actor} sending {kind} in {case}"))?;
        out!(
            "[{:>5.1}s] {actor} sends {kind} in {case}",
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Hosts in the responder's networks that talk to the botnet, in the demo's flow log.
const INFECTED: [&str; 3] = ["10.20.1.17", "10.20.4.2", "10.31.0.9"];

/// A day of the responder's network logs in Zeek's conn format: background traffic with a few
/// infected hosts calling the C2 servers (and one near miss, the next address over).
fn network_logs() -> String {
    let mut log = String::from(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
         #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n\
         #types\ttime\tstring\taddr\tport\taddr\tport\tenum\n",
    );
    let t0 = 1_777_593_600u64; // 2026-05-01T00:00:00Z
    for i in 0..20_000u64 {
        let (src, dst, port) = match i % 997 {
            0 => (INFECTED[(i / 997) as usize % 3], "198.51.100.7", 23),
            1 => (INFECTED[0], "198.51.100.8", 48_101),
            2 => ("10.20.9.9", "198.51.100.9", 443),
            _ => ("10.20.7.5", "192.0.2.80", 443),
        };
        log.push_str(&format!(
            "{}.{:03}\tC{i}\t{src}\t{}\t{dst}\t{port}\ttcp\n",
            t0 + i * 4,
            i % 1000,
            40_000 + i % 20_000
        ));
    }
    log
}

/// Matches the indicators of `case` against the demo's network logs and drafts the answer.
async fn match_network_logs(
    api: &Api,
    case: &str,
    is_final: bool,
    note: &str,
) -> anyhow::Result<(Body, String)> {
    let shown: detente_api::CaseDetail = api.get(&format!("/api/v1/cases/{case}")).await?;
    let at = detente_match::EventTime::from_datetime(time::OffsetDateTime::now_utc());
    let mut builder = detente_match::IndexBuilder::new(at);
    let source = match_cmd::load_case(&mut builder, case, &shown);
    let index = builder.build();
    let input = detente_match::input::Input::from_reader(
        "conn.log",
        std::io::Cursor::new(network_logs().into_bytes()),
        detente_match::input::Format::Auto,
    );
    let mut sightings = detente_match::Sightings::default();
    let report = detente_match::run(
        &index,
        vec![input],
        &detente_match::RunOptions::default(),
        &mut sightings,
    );
    let stix = sightings.to_stix(&index, None, at, &["conn.log".to_owned()]);
    let said = format!(
        "matches {} indicator(s) of {case} against {} log lines: {} hit(s), {} indicator(s) sighted",
        source.added,
        report.lines(),
        report.hits(),
        stix.len()
    );
    Ok((
        match_cmd::answer_body(
            &report,
            &stix,
            &shown,
            is_final,
            Some(note),
            &match_cmd::Coverage::of(&[source], &sightings.candidates(&index), None),
        )?,
        said,
    ))
}

/// Waits until neither node has an undelivered message in `case`.
async fn wait_until_settled(a: &Api, b: &Api, case: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut settled = true;
        for api in [a, b] {
            match api
                .get::<detente_api::CaseDetail>(&format!("/api/v1/cases/{case}"))
                .await
            {
                Ok(v) => {
                    settled &= v.summary.pending_out == 0
                        && v.summary.status != detente_api::CaseState::PendingDelivery
                }
                Err(_) => settled = false,
            }
        }
        if settled {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("case {case} did not settle within 20 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_for_outbox(node: &Node) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while node.store().outbox_next_due().await?.is_some() {
        if Instant::now() > deadline {
            bail!(
                "node {} could not deliver its outbox within 20 s",
                node.party()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// The per-direction figures as one node sees them, computed from its log's cases.
pub async fn figures(node: &Node, at: Timestamp) -> anyhow::Result<Vec<DirectionSummary>> {
    let cases: Vec<Case> = derived_cases(node.store(), node.agreement(), node.party())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    Ok(summarize(node.agreement(), &cases, at))
}

/// The HTML review of the current half-year, computed from `node`'s log as of `at`.
async fn review_page(node: &Node, at: Timestamp) -> anyhow::Result<String> {
    let cases = derived_cases(node.store(), node.agreement(), node.party())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let records: Vec<CaseRecord<'_>> = cases
        .iter()
        .map(|(case, log_index)| CaseRecord {
            case,
            log_index: *log_index,
        })
        .collect();
    let t = at.datetime();
    let half = if u8::from(t.month()) <= 6 { 1 } else { 2 };
    let period =
        Period::parse(&format!("{}-H{half}", t.year())).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut options = ReviewOptions::new(period);
    options.as_of = Some(at);
    let review =
        compute(node.agreement(), &records, &options).map_err(|e| anyhow::anyhow!("{e}"))?;
    html::review_page(&review).map_err(|e| anyhow::anyhow!("{e}"))
}

fn req(
    kind: RequestKind,
    category: &str,
    priority: Priority,
    tlp: Tlp,
    title: &str,
    narrative: &str,
    obs: &[&str],
) -> RequestBody {
    RequestBody {
        kind,
        category: category.into(),
        priority,
        tlp,
        title: title.into(),
        narrative: narrative.into(),
        observables: obs
            .iter()
            .map(|o| Observable::parse(o).expect("scripted observables are valid"))
            .collect(),
        attachments: Vec::new(),
        objects: Vec::new(),
        attribution: None,
        preservation: None,
    }
}

/// `request` with a STIX 2.1 indicator for `pattern`, made by `party` and marked like the
/// request (TLP:GREEN in the demo).
fn with_indicator(mut request: RequestBody, party: &str, pattern: &str) -> RequestBody {
    let party: detente_protocol::PartyId = party.parse().expect("a scripted party");
    let serde_json::Value::Object(indicator) = json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--5f0c2b8e-3d1a-4c59-9a7e-1b2c3d4e5f60",
        "created": "2026-05-01T00:00:00.000Z",
        "modified": "2026-05-01T00:00:00.000Z",
        "created_by_ref": detente_server::objects::party_identity(&party),
        "name": "Mirai-variant C2 servers",
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-05-01T00:00:00Z",
        "object_marking_refs": [detente_stix::tlp::TLP_GREEN_ID],
    }) else {
        unreachable!("an object literal")
    };
    request.objects.push(indicator);
    request
}

fn ack(at_ms: u64) -> Step {
    Step {
        at_ms,
        by: By::Responder,
        action: Action::Send(Box::new(Body::Acknowledgement(AcknowledgementBody {
            note: "Assigned to the duty officer.".into(),
        }))),
    }
}

fn answer(at_ms: u64, is_final: bool, text: &str) -> Step {
    Step {
        at_ms,
        by: By::Responder,
        action: Action::Send(Box::new(Body::Answer(AnswerBody {
            is_final,
            text: text.into(),
            observables: Vec::new(),
            attachments: Vec::new(),
            objects: Vec::new(),
        }))),
    }
}

fn rate(at_ms: u64, score: u8) -> Step {
    Step {
        at_ms,
        by: By::Requester,
        action: Action::Send(Box::new(Body::Rating(RatingBody {
            score,
            comment: String::new(),
        }))),
    }
}

fn clarify(at_ms: u64, question: &str) -> Step {
    Step {
        at_ms,
        by: By::Responder,
        action: Action::Send(Box::new(Body::ClarificationRequest(
            ClarificationRequestBody {
                question: question.into(),
            },
        ))),
    }
}

fn reply(at_ms: u64, text: &str) -> Step {
    Step {
        at_ms,
        by: By::Requester,
        action: Action::Send(Box::new(Body::Clarification(ClarificationBody {
            text: text.into(),
        }))),
    }
}

fn decline(at_ms: u64, reason: DeclineReason, text: &str) -> Step {
    Step {
        at_ms,
        by: By::Responder,
        action: Action::Send(Box::new(Body::Decline(DeclineBody {
            reason,
            text: text.into(),
        }))),
    }
}

fn withdraw(at_ms: u64, reason: &str) -> Step {
    Step {
        at_ms,
        by: By::Requester,
        action: Action::Send(Box::new(Body::Withdrawal(WithdrawalBody {
            reason: reason.into(),
        }))),
    }
}

/// The 22 scripted cases.
fn scenario() -> Vec<Script> {
    use Priority::*;
    use RequestKind::*;
    let mut preservation = req(
        Preservation,
        "ip-theft",
        Critical,
        Tlp::Red,
        "Preserve mailbox and access logs of a staging server used in trade-secret theft",
        "Expedited preservation under art. 29 of stored data on a hosting provider in your territory.",
        &["ip:203.0.113.45", "email:ops-stage@mail.example"],
    );
    preservation.preservation = Some(PreservationDetails {
        authority: "US Department of Justice, Computer Crime and Intellectual Property Section".into(),
        offence: "Theft of trade secrets (18 U.S.C. 1832): design files exfiltrated from an aerospace firm in March 2026.".into(),
        data: "Mailbox contents and SSH/HTTP access logs of the staging host, 1 Feb - 31 Mar 2026; the host relayed the stolen archives.".into(),
        custodian: "Hosting provider operating 203.0.113.0/24 (AS64500).".into(),
        necessity: "The provider's retention period is 90 days; the logs will be overwritten in early June.".into(),
        mutual_assistance_to_follow: true,
    });
    let mut cn_preservation = req(
        Preservation,
        "ransomware",
        Critical,
        Tlp::Amber,
        "Preserve cloud account used to stage ransomware against a provincial hospital",
        "Expedited preservation of a cloud storage account hosted in your territory.",
        &["account:cloud:stage-7781", "ip:198.51.100.23"],
    );
    cn_preservation.preservation = Some(PreservationDetails {
        authority: "Ministry of Public Security, Cybersecurity Bureau".into(),
        offence:
            "Ransomware attack (Criminal Law art. 286) against a provincial hospital on 2 May 2026."
                .into(),
        data: "Account registration data, login IPs and stored objects of the staging account."
            .into(),
        custodian: "Cloud provider headquartered in your territory; account id stage-7781.".into(),
        necessity: "The operators are deleting staging data; logs are kept 30 days.".into(),
        mutual_assistance_to_follow: true,
    });
    vec![
        Script {
            from: "US",
            request: req(
                Investigation,
                "ip-theft",
                High,
                Tlp::Amber,
                "Intrusion into aerospace design network from hosts in your territory",
                "Between March and April 2026 an aerospace manufacturer lost design files to an intruder using the listed infrastructure. We ask you to investigate the operators.",
                &[
                    "ip:203.0.113.45",
                    "domain:update-check.example",
                    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                ],
            ),
            steps: vec![
                ack(500),
                answer(
                    2500,
                    false,
                    "Hosting provider identified; server seized for forensic copy.",
                ),
                answer(
                    5000,
                    true,
                    "Operators identified and questioned; forensic report attached.",
                ),
                rate(6000, 4),
            ],
        },
        Script {
            from: "US",
            request: preservation,
            steps: vec![
                ack(300),
                answer(
                    1800,
                    true,
                    "Data preserved for 90 days under reference P-2026-117.",
                ),
                rate(2500, 5),
            ],
        },
        Script {
            from: "US",
            request: with_indicator(
                req(
                    Mitigation,
                    "botnet",
                    High,
                    Tlp::Green,
                    "Botnet C2 servers hosted in your territory",
                    "Three command-and-control servers of a Mirai-variant botnet are active in your address space. Please take them down and find the infected hosts.",
                    &["domain:cnc.botnet.example"],
                ),
                "US",
                "[ipv4-addr:value = '198.51.100.7'] OR [ipv4-addr:value = '198.51.100.8']",
            ),
            steps: vec![
                ack(800),
                clarify(1500, "Please give first-seen times and the ports used."),
                reply(4500, "First seen 2026-05-01T02:00Z, tcp/23 and tcp/48101."),
                Step {
                    at_ms: 6500,
                    by: By::Responder,
                    action: Action::MatchAndAnswer {
                        is_final: true,
                        note: "All three servers taken offline; sinkhole in place; owners of the infected hosts notified.",
                    },
                },
                rate(7200, 4),
            ],
        },
        Script {
            from: "US",
            request: req(
                Information,
                "ransomware",
                Normal,
                Tlp::Amber,
                "Payment infrastructure of a ransomware affiliate",
                "We ask for subscriber information of the listed addresses used for ransom negotiation.",
                &["ip:192.0.2.77"],
            ),
            steps: vec![
                ack(1000),
                decline(
                    2500,
                    DeclineReason::NoJurisdiction,
                    "The addresses are allocated to a provider outside our territory.",
                ),
            ],
        },
        Script {
            from: "US",
            request: req(
                Investigation,
                "critical-infrastructure",
                Critical,
                Tlp::Red,
                "Intrusion into water utility SCADA from your address space",
                "Unauthorised access to a municipal water utility's HMI. Urgent investigation requested.",
                &["ip:203.0.113.200"],
            ),
            steps: vec![],
        },
        Script {
            from: "US",
            request: req(
                Evidence,
                "fraud",
                Normal,
                Tlp::Amber,
                "Evidence of business e-mail compromise against a US exporter",
                "We ask for account records of the mailbox that received the diverted payments.",
                &["email:payments@invoice-mail.example"],
            ),
            steps: vec![
                ack(1200),
                answer(
                    4000,
                    true,
                    "Account records provided through the central authority.",
                ),
                rate(4600, 3),
            ],
        },
        Script {
            from: "US",
            request: req(
                Mitigation,
                "phishing",
                Low,
                Tlp::Clear,
                "Phishing kit impersonating a US bank",
                "Please take down the phishing site.",
                &["url:http://secure-login.bank-verify.example/login"],
            ),
            steps: vec![
                ack(1500),
                answer(3500, true, "Site taken down by the registrar."),
                rate(4000, 5),
            ],
        },
        Script {
            from: "US",
            request: req(
                Information,
                "espionage",
                Normal,
                Tlp::Amber,
                "Infrastructure of a spear-phishing campaign",
                "Information on the listed domain's registrant is requested.",
                &["domain:mofa-news.example"],
            ),
            steps: vec![
                ack(700),
                withdraw(2000, "Resolved through another channel."),
            ],
        },
        Script {
            from: "US",
            request: req(
                Mitigation,
                "ddos",
                High,
                Tlp::Green,
                "Reflection DDoS sources against US election infrastructure",
                "Open resolvers in your territory are being used for reflection attacks.",
                &["cidr:198.51.100.0/28"],
            ),
            steps: vec![
                ack(3600),
                answer(6000, true, "Operators notified; resolvers closed."),
                rate(6500, 2),
            ],
        },
        Script {
            from: "US",
            request: req(
                Evidence,
                "ip-theft",
                Normal,
                Tlp::Amber,
                "Evidence from a file-sharing account holding stolen source code",
                "We ask for the content and logs of the listed account.",
                &["account:fileshare:dev-archive-22"],
            ),
            steps: vec![
                ack(900),
                answer(
                    3000,
                    false,
                    "Account located; legal review of disclosure under way.",
                ),
            ],
        },
        Script {
            from: "US",
            request: req(
                Information,
                "botnet",
                Low,
                Tlp::Green,
                "Sinkhole data for a banking trojan",
                "Please share infection counts for your networks from your sinkhole.",
                &["domain:gate.trojan.example"],
            ),
            steps: vec![
                ack(1100),
                answer(
                    3000,
                    true,
                    "412 infected hosts in 37 networks; owners notified.",
                ),
            ],
        },
        Script {
            from: "CN",
            request: req(
                Mitigation,
                "ransomware",
                High,
                Tlp::Amber,
                "Ransomware C2 hosted by a US provider",
                "C2 server of a ransomware family that hit Chinese manufacturers is hosted in your territory.",
                &["ip:192.0.2.10", "domain:pay.ransom.example"],
            ),
            steps: vec![
                ack(600),
                answer(3000, true, "Server taken down; disk image preserved."),
                rate(3500, 5),
            ],
        },
        Script {
            from: "CN",
            request: cn_preservation,
            steps: vec![
                ack(400),
                answer(2200, true, "Account preserved for 90 days."),
            ],
        },
        Script {
            from: "CN",
            request: req(
                Information,
                "phishing",
                Normal,
                Tlp::Green,
                "Phishing against Chinese banks from US-hosted sites",
                "Registration and hosting information requested.",
                &["domain:icbc-secure.example"],
            ),
            steps: vec![
                ack(900),
                clarify(1400, "Which of the 40 listed URLs are still live?"),
                reply(3600, "Eleven remain live; list attached."),
                answer(5800, true, "Hosting and registration records provided."),
                rate(6400, 4),
            ],
        },
        Script {
            from: "CN",
            request: req(
                Investigation,
                "ddos",
                Critical,
                Tlp::Amber,
                "DDoS against a provincial power grid operator",
                "Botnet traffic from US address space hit the grid operator's portal.",
                &["cidr:203.0.113.128/25"],
            ),
            steps: vec![
                ack(1000),
                decline(
                    2800,
                    DeclineReason::InsufficientInformation,
                    "No timestamps or flow data; please file again with flow records.",
                ),
            ],
        },
        Script {
            from: "CN",
            request: req(
                Investigation,
                "ip-theft",
                Normal,
                Tlp::Amber,
                "Theft of chip designs by an insider who fled abroad",
                "We ask for investigation of the listed accounts used to move the designs.",
                &["email:designs.backup@mail.example"],
            ),
            steps: vec![
                ack(1300),
                answer(3000, false, "Accounts identified; provider served."),
                answer(6000, true, "Records obtained and shared."),
                rate(6600, 3),
            ],
        },
        Script {
            from: "CN",
            request: req(
                Information,
                "fraud",
                Low,
                Tlp::Green,
                "Investment fraud site targeting Chinese citizens",
                "Hosting details requested.",
                &["domain:invest-guaranteed.example"],
            ),
            steps: vec![ack(2000)],
        },
        Script {
            from: "CN",
            request: req(
                Investigation,
                "critical-infrastructure",
                High,
                Tlp::Red,
                "Scanning of railway signalling systems from US hosts",
                "Repeated scans of railway signalling controllers; please investigate.",
                &["ip:198.51.100.99"],
            ),
            steps: vec![],
        },
        Script {
            from: "CN",
            request: req(
                Evidence,
                "botnet",
                Normal,
                Tlp::Amber,
                "Evidence on a botnet herder's US server",
                "Disk image and logs of the server are requested.",
                &["ip:192.0.2.50"],
            ),
            steps: vec![
                ack(800),
                answer(4200, true, "Disk image transmitted via MLAT channel."),
                rate(4800, 4),
            ],
        },
        Script {
            from: "CN",
            request: req(
                Information,
                "espionage",
                Normal,
                Tlp::Amber,
                "Information on a US-based group targeting government networks",
                "Identity of operators behind the listed infrastructure is requested.",
                &["domain:gov-update.example"],
            ),
            steps: vec![decline(
                1500,
                DeclineReason::EssentialInterests,
                "The request concerns matters of national security.",
            )],
        },
        Script {
            from: "CN",
            request: req(
                Mitigation,
                "ddos",
                High,
                Tlp::Green,
                "Booter service hosted in US",
                "A DDoS-for-hire service used against Chinese game servers is hosted in your territory.",
                &["domain:booter.example"],
            ),
            steps: vec![
                ack(1000),
                answer(11_000, true, "Service taken down after court order."),
                rate(11_500, 3),
            ],
        },
        Script {
            from: "CN",
            request: req(
                Information,
                "botnet",
                Low,
                Tlp::Clear,
                "Infection statistics for an IoT botnet",
                "Please share counts of infected devices.",
                &["domain:iot.botnet.example"],
            ),
            steps: vec![withdraw(1000, "Data obtained from a public report.")],
        },
    ]
}
