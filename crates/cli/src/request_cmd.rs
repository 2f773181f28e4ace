//! `detente request ...`: the liaison officer's commands, one per lifecycle step.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use detente_protocol::{
    AcknowledgementBody, AnswerBody, Body, ClarificationBody, ClarificationRequestBody,
    DeclineBody, DeclineReason, Observable, PartyId, PreservationDetails, Priority, RatingBody,
    RequestBody, RequestKind, StixValue, Tlp, WithdrawalBody,
};
use serde_json::{Value, json};

use crate::client::{Api, ApiArgs};

/// Subcommands of `detente request`.
#[derive(Subcommand)]
pub enum RequestCommand {
    /// File a new request to a partner.
    New(Box<NewArgs>),
    /// List cases, newest first.
    List(ListArgs),
    /// Show one case: status, deadlines and every message.
    Show(CaseArg),
    /// Acknowledge an incoming request.
    Ack {
        #[command(flatten)]
        case: CaseArg,
        /// Optional note, e.g. who handles it.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Ask the requester for clarification (pauses your deadline clock).
    Clarify {
        #[command(flatten)]
        case: CaseArg,
        /// What you need to know.
        #[arg(long)]
        question: String,
    },
    /// Reply to the partner's clarification request (resumes their clock).
    Reply {
        #[command(flatten)]
        case: CaseArg,
        /// The clarification.
        #[arg(long)]
        text: String,
    },
    /// Answer an incoming request, partially or finally (--final).
    Answer {
        #[command(flatten)]
        case: CaseArg,
        /// The answer.
        #[arg(long)]
        text: String,
        /// This is the final answer.
        #[arg(long = "final")]
        is_final: bool,
        /// Observables found or acted on, as type:value; repeatable.
        #[arg(long = "observable", value_parser = Observable::parse)]
        observables: Vec<Observable>,
        /// STIX 2.1 objects to attach (a bundle, an array or one object); repeatable.
        #[arg(long = "objects")]
        objects: Vec<PathBuf>,
    },
    /// Decline an incoming request, with a reason code.
    Decline {
        #[command(flatten)]
        case: CaseArg,
        /// Reason code.
        #[arg(long, value_enum)]
        reason: ReasonArg,
        /// Explanation.
        #[arg(long, default_value = "")]
        text: String,
    },
    /// Withdraw one of your requests.
    Withdraw {
        #[command(flatten)]
        case: CaseArg,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Rate the final answer to one of your requests (1-5); closes the case.
    Rate {
        #[command(flatten)]
        case: CaseArg,
        /// 1 (useless) to 5 (excellent).
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
        score: u8,
        /// Comment.
        #[arg(long, default_value = "")]
        comment: String,
    },
}

/// A case id argument plus API options.
#[derive(Args)]
pub struct CaseArg {
    /// The case, e.g. US-2026-0001.
    pub case: String,
    #[command(flatten)]
    pub api: ApiArgs,
}

/// Options of `request new`.
#[derive(Args)]
pub struct NewArgs {
    /// The partner party to ask.
    #[arg(long)]
    to: PartyId,
    #[arg(long, value_enum)]
    kind: KindArg,
    /// One of the agreement's categories, e.g. ip-theft.
    #[arg(long)]
    category: String,
    #[arg(long, value_enum, default_value = "normal")]
    priority: PriorityArg,
    #[arg(long, value_enum, default_value = "amber")]
    tlp: TlpArg,
    /// One-line title.
    #[arg(long)]
    title: String,
    /// The facts and the ask.
    #[arg(long, conflicts_with = "narrative_file")]
    narrative: Option<String>,
    /// Read the narrative from a file.
    #[arg(long)]
    narrative_file: Option<PathBuf>,
    /// Observables as type:value (ip, cidr, domain, url, md5, sha1, sha256, email, account); repeatable.
    #[arg(long = "observable", value_parser = Observable::parse)]
    observables: Vec<Observable>,
    /// STIX 2.1 objects to share with the request (a bundle, an array or one object), e.g.
    /// indicators; repeatable.
    #[arg(long = "objects")]
    objects: Vec<PathBuf>,
    /// Your attribution claim, if you make one.
    #[arg(long)]
    attribution: Option<String>,
    /// Art. 29(2)a: the authority seeking preservation.
    #[arg(long, required_if_eq("kind", "preservation"))]
    preservation_authority: Option<String>,
    /// Art. 29(2)b: the offence and a brief summary of the facts.
    #[arg(long, required_if_eq("kind", "preservation"))]
    preservation_offence: Option<String>,
    /// Art. 29(2)c: the stored data to preserve and its relationship to the offence.
    #[arg(long, required_if_eq("kind", "preservation"))]
    preservation_data: Option<String>,
    /// Art. 29(2)d: the custodian or location of the data.
    #[arg(long, required_if_eq("kind", "preservation"))]
    preservation_custodian: Option<String>,
    /// Art. 29(2)e: why preservation is necessary.
    #[arg(long, required_if_eq("kind", "preservation"))]
    preservation_necessity: Option<String>,
    /// Art. 29(2)f: a mutual assistance request for the data will follow.
    #[arg(long)]
    mutual_assistance_to_follow: bool,
    #[command(flatten)]
    api: ApiArgs,
}

/// Options of `request list`.
#[derive(Args)]
pub struct ListArgs {
    /// Only cases with this status (sent, acknowledged, clarification_needed, partially_answered,
    /// answered, declined, withdrawn, closed, pending_delivery, rejected).
    #[arg(long)]
    status: Option<String>,
    /// Only requests addressed to this node.
    #[arg(long, conflicts_with = "outgoing")]
    incoming: bool,
    /// Only requests this node filed.
    #[arg(long)]
    outgoing: bool,
    /// Only cases with a passed, unmet deadline.
    #[arg(long)]
    overdue: bool,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    limit: u32,
    #[command(flatten)]
    api: ApiArgs,
}

macro_rules! wire_enum {
    ($name:ident => $target:ty { $($variant:ident = $value:expr),+ $(,)? }) => {
        /// Command-line spelling of the wire enum.
        #[derive(Clone, Copy, ValueEnum)]
        pub enum $name { $($variant),+ }
        impl From<$name> for $target {
            fn from(v: $name) -> Self {
                match v { $($name::$variant => $value),+ }
            }
        }
    };
}

wire_enum!(KindArg => RequestKind {
    Information = RequestKind::Information, Investigation = RequestKind::Investigation,
    Preservation = RequestKind::Preservation, Evidence = RequestKind::Evidence, Mitigation = RequestKind::Mitigation,
});
wire_enum!(PriorityArg => Priority {
    Critical = Priority::Critical, High = Priority::High, Normal = Priority::Normal, Low = Priority::Low,
});
wire_enum!(TlpArg => Tlp {
    Clear = Tlp::Clear, Green = Tlp::Green, Amber = Tlp::Amber, AmberStrict = Tlp::AmberStrict, Red = Tlp::Red,
});
wire_enum!(ReasonArg => DeclineReason {
    OutsideScope = DeclineReason::OutsideScope, InsufficientInformation = DeclineReason::InsufficientInformation,
    NoJurisdiction = DeclineReason::NoJurisdiction, LegalRestriction = DeclineReason::LegalRestriction,
    PoliticalOffence = DeclineReason::PoliticalOffence, EssentialInterests = DeclineReason::EssentialInterests,
    Duplicate = DeclineReason::Duplicate, Other = DeclineReason::Other,
});

/// Runs a request subcommand.
pub async fn run(home: &Path, cmd: RequestCommand, json: bool) -> anyhow::Result<()> {
    match cmd {
        RequestCommand::New(args) => {
            let api = Api::from_home(home, &args.api)?;
            let to = args.to.clone();
            let request = new_request(*args)?;
            let sent = api
                .post("/api/v1/requests", &json!({"to": to, "request": request}))
                .await?;
            print_sent(&sent, "request", json);
        }
        RequestCommand::List(args) => {
            let api = Api::from_home(home, &args.api)?;
            let mut query = vec![("limit", args.limit.to_string())];
            if let Some(s) = args.status {
                query.push(("status", s));
            }
            if args.incoming {
                query.push(("direction", "incoming".into()));
            }
            if args.outgoing {
                query.push(("direction", "outgoing".into()));
            }
            if args.overdue {
                query.push(("overdue", "true".into()));
            }
            let qs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let list = api
                .get(&format!("/api/v1/requests?{}", qs.join("&")))
                .await?;
            if json {
                println!("{list}");
            } else {
                print_list(&list);
            }
        }
        RequestCommand::Show(c) => {
            let api = Api::from_home(home, &c.api)?;
            let case = api.get(&format!("/api/v1/requests/{}", c.case)).await?;
            if json {
                println!("{case}");
            } else {
                print_case(&case);
            }
        }
        RequestCommand::Ack { case, note } => {
            send(
                home,
                case,
                Body::Acknowledgement(AcknowledgementBody { note }),
                json,
            )
            .await?
        }
        RequestCommand::Clarify { case, question } => {
            send(
                home,
                case,
                Body::ClarificationRequest(ClarificationRequestBody { question }),
                json,
            )
            .await?;
        }
        RequestCommand::Reply { case, text } => {
            send(
                home,
                case,
                Body::Clarification(ClarificationBody { text }),
                json,
            )
            .await?
        }
        RequestCommand::Answer {
            case,
            text,
            is_final,
            observables,
            objects,
        } => {
            let body = Body::Answer(AnswerBody {
                is_final,
                text,
                observables,
                attachments: Vec::new(),
                objects: read_objects(&objects)?,
            });
            send(home, case, body, json).await?;
        }
        RequestCommand::Decline { case, reason, text } => {
            send(
                home,
                case,
                Body::Decline(DeclineBody {
                    reason: reason.into(),
                    text,
                }),
                json,
            )
            .await?;
        }
        RequestCommand::Withdraw { case, reason } => {
            send(
                home,
                case,
                Body::Withdrawal(WithdrawalBody { reason }),
                json,
            )
            .await?
        }
        RequestCommand::Rate {
            case,
            score,
            comment,
        } => {
            send(
                home,
                case,
                Body::Rating(RatingBody { score, comment }),
                json,
            )
            .await?
        }
    }
    Ok(())
}

fn new_request(args: NewArgs) -> anyhow::Result<RequestBody> {
    let narrative = match (args.narrative, args.narrative_file) {
        (Some(n), _) => n,
        (None, Some(f)) => {
            std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?
        }
        (None, None) => anyhow::bail!("give --narrative TEXT or --narrative-file FILE"),
    };
    let kind: RequestKind = args.kind.into();
    let preservation = (kind == RequestKind::Preservation).then(|| PreservationDetails {
        authority: args.preservation_authority.unwrap_or_default(),
        offence: args.preservation_offence.unwrap_or_default(),
        data: args.preservation_data.unwrap_or_default(),
        custodian: args.preservation_custodian.unwrap_or_default(),
        necessity: args.preservation_necessity.unwrap_or_default(),
        mutual_assistance_to_follow: args.mutual_assistance_to_follow,
    });
    Ok(RequestBody {
        kind,
        category: args.category,
        priority: args.priority.into(),
        tlp: args.tlp.into(),
        title: args.title,
        narrative,
        observables: args.observables,
        attachments: Vec::new(),
        objects: read_objects(&args.objects)?,
        attribution: args.attribution,
        preservation,
    })
}

/// Reads STIX objects from files, each a bundle, a JSON array of objects or one object.
/// The node validates them and applies TLP before anything is signed.
pub fn read_objects(paths: &[PathBuf]) -> anyhow::Result<Vec<StixValue>> {
    let mut objects = Vec::new();
    for path in paths {
        let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let value: Value = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        let items = match value {
            Value::Object(mut o) if o.get("type").and_then(Value::as_str) == Some("bundle") => {
                match o.remove("objects") {
                    Some(Value::Array(items)) => items,
                    None => Vec::new(),
                    Some(_) => {
                        anyhow::bail!("{}: the bundle's objects is not a list", path.display())
                    }
                }
            }
            Value::Array(items) => items,
            single => vec![single],
        };
        for (i, item) in items.into_iter().enumerate() {
            match item {
                Value::Object(o) => objects.push(o),
                _ => anyhow::bail!("{}: item {i} is not a JSON object", path.display()),
            }
        }
    }
    Ok(objects)
}

async fn send(home: &Path, case: CaseArg, body: Body, json: bool) -> anyhow::Result<()> {
    let api = Api::from_home(home, &case.api)?;
    let kind = body.message_type().as_str();
    let sent = api
        .post(
            &format!("/api/v1/requests/{}/messages", case.case),
            &serde_json::to_value(&body)?,
        )
        .await?;
    print_sent(&sent, kind, json);
    Ok(())
}

fn print_sent(sent: &Value, kind: &str, json: bool) {
    if json {
        println!("{sent}");
    } else {
        println!(
            "{} {kind} committed in case {} (message {}, seq {}); it counts once the partner's signed receipt arrives.",
            if kind == "request" { "New" } else { "Your" },
            text(&sent["case"]),
            text(&sent["message"]),
            sent["seq"]
        );
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn print_list(list: &Value) {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_header([
        "case",
        "from",
        "to",
        "kind",
        "priority",
        "status",
        "filed",
        "overdue from",
        "title",
    ]);
    for r in list["requests"].as_array().into_iter().flatten() {
        let deadline = if r["overdue"] == Value::Bool(true) {
            format!("OVERDUE since {}", text(&r["overdue_from"]))
        } else {
            text(&r["overdue_from"])
        };
        table.add_row([
            text(&r["case"]),
            text(&r["requester"]),
            text(&r["responder"]),
            text(&r["kind"]),
            text(&r["priority"]),
            text(&r["status"]),
            text(&r["filed_at"]),
            deadline,
            text(&r["title"]),
        ]);
    }
    println!("{table}");
}

fn print_case(case: &Value) {
    let s = &case["summary"];
    println!("{}  {}", text(&s["case"]), text(&s["title"]));
    println!(
        "{} → {}   {} / {} / {}   {}   status: {}",
        text(&s["requester"]),
        text(&s["responder"]),
        text(&s["kind"]),
        text(&s["category"]),
        text(&s["priority"]),
        text(&s["tlp"]),
        text(&s["status"])
    );
    if s["overdue"] == Value::Bool(true) {
        println!("OVERDUE since {}", text(&s["overdue_from"]));
    }
    if let Some(t) = case["timeliness"].as_object() {
        for (name, m) in t {
            let line = match m["state"].as_str() {
                Some("met") => format!(
                    "met at {} after {:.1}s ({})",
                    text(&m["at"]),
                    m["elapsed_ms"].as_f64().unwrap_or(0.0) / 1000.0,
                    if m["within_deadline"] == Value::Bool(true) {
                        "in time"
                    } else {
                        "LATE"
                    }
                ),
                Some("pending") => format!(
                    "pending, due {}{}",
                    text(&m["due"]),
                    if m["overdue"] == Value::Bool(true) {
                        " — OVERDUE"
                    } else {
                        ""
                    }
                ),
                Some("missed") => format!(
                    "MISSED: its deadline ({}) passed before the withdrawal",
                    text(&m["due"])
                ),
                _ => "moot: withdrawn while the deadline was still running".into(),
            };
            println!("  {name:<13} {line}");
        }
    }
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_header([
        "#",
        "from",
        "type",
        "state",
        "received (official)",
        "content",
    ]);
    for m in case["messages"].as_array().into_iter().flatten() {
        let body = &m["body"];
        let content = ["title", "note", "question", "text", "reason", "score"]
            .iter()
            .find_map(|k| {
                body.get(*k)
                    .filter(|v| !v.is_null() && *v != &Value::String(String::new()))
            })
            .map(text)
            .unwrap_or_default();
        let mut state = text(&m["state"]);
        if m["voided"] == Value::Bool(true) {
            state.push_str(" (voided)");
        }
        let mut content: String = content.chars().take(60).collect();
        // What travels besides the prose: observables and STIX objects, by kind.
        let mut attached = Vec::new();
        if let Some(n) = body["observables"]
            .as_array()
            .map(Vec::len)
            .filter(|n| *n > 0)
        {
            attached.push(format!("{n} observable(s)"));
        }
        let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
        for o in body["objects"].as_array().into_iter().flatten() {
            *kinds.entry(o["type"].as_str().unwrap_or("?")).or_default() += 1;
        }
        attached.extend(kinds.iter().map(|(k, n)| format!("{n} {k}")));
        if !attached.is_empty() {
            content.push_str(&format!("\n[{}]", attached.join(", ")));
        }
        table.add_row([
            text(&m["log_index"]),
            text(&m["from"]),
            text(&body["type"]),
            state,
            text(&m["received_at"]),
            content,
        ]);
    }
    println!("{table}");
}
