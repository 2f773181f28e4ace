//! `detente request ...`: the liaison officer's commands, one per lifecycle step.

use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand};
use comfy_table::{ColumnConstraint, ContentArrangement, Table, presets::UTF8_BORDERS_ONLY};
use detente_api::{
    CaseDetail, CaseList, CaseQuery, CaseState, Direction, MessageState, MessageView, Milestone,
    NewRequest, Sent,
};
use detente_domain::Agreement;
use detente_protocol::{
    AcknowledgementBody, AnswerBody, Body, CaseId, ClarificationBody, ClarificationRequestBody,
    DeclineBody, DeclineReason, Observable, PartyId, PreservationDetails, Priority, RatingBody,
    RequestBody, RequestKind, StixValue, Timestamp, Tlp, WithdrawalBody,
};
use detente_server::config::NodeConfig;
use serde_json::Value;

use crate::{
    client::{Api, ApiArgs, CliError},
    input::{KIND, PRIORITY, REASON, STATE, TLP},
    term::{self, out},
};

/// Subcommands of `detente request`.
#[derive(Subcommand)]
pub enum RequestCommand {
    /// File a new request to a partner.
    New(Box<NewArgs>),
    /// List cases, newest first.
    List(ListArgs),
    /// Show one case in full: status, deadlines, the request and every message.
    Show(CaseArg),
    /// Acknowledge an incoming request.
    Ack {
        #[command(flatten)]
        case: CaseArg,
        /// Optional note, e.g. who handles it.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Ask the requester for clarification (pauses your deadline clock).
    Clarify {
        #[command(flatten)]
        case: CaseArg,
        /// What you need to know.
        #[arg(
            long,
            required_unless_present = "text_file",
            conflicts_with = "text_file"
        )]
        question: Option<String>,
        #[command(flatten)]
        file: TextFile,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Reply to the partner's clarification request (resumes their clock).
    Reply {
        #[command(flatten)]
        case: CaseArg,
        /// The clarification.
        #[arg(
            long,
            required_unless_present = "text_file",
            conflicts_with = "text_file"
        )]
        text: Option<String>,
        #[command(flatten)]
        file: TextFile,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Answer an incoming request, partially or finally (--final).
    Answer {
        #[command(flatten)]
        case: CaseArg,
        /// The answer.
        #[arg(
            long,
            required_unless_present = "text_file",
            conflicts_with = "text_file"
        )]
        text: Option<String>,
        #[command(flatten)]
        file: TextFile,
        /// This is the final answer.
        #[arg(long = "final")]
        is_final: bool,
        /// Observables found or acted on, as type:value; repeatable.
        #[arg(long = "observable", value_parser = Observable::parse)]
        observables: Vec<Observable>,
        /// STIX 2.1 objects to attach (a bundle, an array or one object); repeatable.
        #[arg(long = "objects")]
        objects: Vec<PathBuf>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Decline an incoming request, with a reason code.
    Decline {
        #[command(flatten)]
        case: CaseArg,
        /// Reason code.
        #[arg(long, value_parser = REASON)]
        reason: DeclineReason,
        /// Explanation.
        #[arg(long, conflicts_with = "text_file")]
        text: Option<String>,
        #[command(flatten)]
        file: TextFile,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Withdraw one of your requests.
    Withdraw {
        #[command(flatten)]
        case: CaseArg,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
        #[command(flatten)]
        wait: WaitArgs,
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
        #[command(flatten)]
        wait: WaitArgs,
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

/// A long text read from a file instead of the command line.
#[derive(Args)]
pub struct TextFile {
    /// Read the text from this file (for long texts; `-` is standard input).
    #[arg(long)]
    text_file: Option<PathBuf>,
}

/// Waiting for the partner's receipt after sending.
#[derive(Args, Clone, Copy)]
pub struct WaitArgs {
    /// Return only once the partner's signed receipt is in (at most 60 s, or --wait-secs).
    #[arg(long)]
    wait: bool,
    /// Like --wait, for at most this many seconds.
    #[arg(long, value_name = "N")]
    wait_secs: Option<u64>,
}

impl WaitArgs {
    /// How long to wait for the receipt, if at all.
    fn limit(self) -> Option<Duration> {
        match (self.wait, self.wait_secs) {
            (_, Some(n)) => Some(Duration::from_secs(n)),
            (true, None) => Some(Duration::from_secs(60)),
            (false, None) => None,
        }
    }
}

/// Options of `request new`.
#[derive(Args)]
pub struct NewArgs {
    /// The partner party to ask.
    #[arg(long)]
    to: PartyId,
    #[arg(long, value_parser = KIND)]
    kind: RequestKind,
    /// One of the agreement's categories, e.g. ip-theft (`detente agreement show` lists them).
    #[arg(long)]
    category: String,
    #[arg(long, value_parser = PRIORITY, default_value = "normal")]
    priority: Priority,
    /// TLP of the request (also TLP:AMBER, as FIRST writes it).
    #[arg(long, default_value = "amber", value_parser = TLP)]
    tlp: Tlp,
    /// One-line title.
    #[arg(long)]
    title: String,
    /// The facts and the ask.
    #[arg(long, conflicts_with = "narrative_file")]
    narrative: Option<String>,
    /// Read the narrative from a file (`-` is standard input).
    #[arg(long, visible_alias = "text-file")]
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
    wait: WaitArgs,
    #[command(flatten)]
    api: ApiArgs,
}

/// Options of `request list`.
#[derive(Args)]
pub struct ListArgs {
    /// Only cases in this state.
    #[arg(long, value_parser = STATE)]
    status: Option<CaseState>,
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

/// Runs a request subcommand.
pub async fn run(home: &Path, cmd: RequestCommand, json: bool) -> anyhow::Result<()> {
    match cmd {
        RequestCommand::New(args) => {
            let api = Api::from_home(home, &args.api)?;
            let wait = args.wait;
            let to = args.to.clone();
            check_category(home, &args.category)?;
            let request = new_request(*args)?;
            let sent: Sent = api
                .post("/api/v1/cases", &NewRequest { to, request })
                .await?;
            print_sent(&sent, "request", json);
            wait_for_receipt(&api, &sent, wait).await?;
        }
        RequestCommand::List(args) => {
            let api = Api::from_home(home, &args.api)?;
            let query = CaseQuery {
                status: args.status,
                direction: match (args.incoming, args.outgoing) {
                    (true, _) => Some(Direction::Incoming),
                    (_, true) => Some(Direction::Outgoing),
                    _ => None,
                },
                overdue: args.overdue,
                limit: Some(args.limit),
            };
            let list: CaseList = api.get_query("/api/v1/cases", &query).await?;
            if json {
                out!("{}", term::json(&list));
            } else {
                print_list(&list);
            }
        }
        RequestCommand::Show(c) => {
            let api = Api::from_home(home, &c.api)?;
            let id = case_id(&c.case)?;
            let case: CaseDetail = api.get(&format!("/api/v1/cases/{id}")).await?;
            if json {
                out!("{}", term::json(&case));
            } else {
                print_case(&case);
            }
        }
        RequestCommand::Ack { case, note, wait } => {
            let body = Body::Acknowledgement(AcknowledgementBody { note });
            send(home, case, body, wait, json).await?;
        }
        RequestCommand::Clarify {
            case,
            question,
            file,
            wait,
        } => {
            let question = long_text(question, file)?;
            let body = Body::ClarificationRequest(ClarificationRequestBody { question });
            send(home, case, body, wait, json).await?;
        }
        RequestCommand::Reply {
            case,
            text,
            file,
            wait,
        } => {
            let text = long_text(text, file)?;
            send(
                home,
                case,
                Body::Clarification(ClarificationBody { text }),
                wait,
                json,
            )
            .await?;
        }
        RequestCommand::Answer {
            case,
            text,
            file,
            is_final,
            observables,
            objects,
            wait,
        } => {
            let body = Body::Answer(AnswerBody {
                is_final,
                text: long_text(text, file)?,
                observables,
                attachments: Vec::new(),
                objects: read_objects(&objects)?,
            });
            send(home, case, body, wait, json).await?;
        }
        RequestCommand::Decline {
            case,
            reason,
            text,
            file,
            wait,
        } => {
            let text = match (text, &file.text_file) {
                (None, None) => String::new(),
                (text, _) => long_text(text, file)?,
            };
            let body = Body::Decline(DeclineBody { reason, text });
            send(home, case, body, wait, json).await?;
        }
        RequestCommand::Withdraw { case, reason, wait } => {
            let body = Body::Withdrawal(WithdrawalBody { reason });
            send(home, case, body, wait, json).await?;
        }
        RequestCommand::Rate {
            case,
            score,
            comment,
            wait,
        } => {
            let body = Body::Rating(RatingBody { score, comment });
            send(home, case, body, wait, json).await?;
        }
    }
    Ok(())
}

/// A case id from the command line; one that cannot be a case id is bad input, said plainly
/// before anything goes to the node.
fn case_id(s: &str) -> Result<CaseId, CliError> {
    CaseId::parse(s).map_err(|_| {
        CliError::BadInput(format!(
            "{:?} is not a case id: a case id reads like US-2026-0001 (`detente request list` \
             shows them)",
            term::one_line(s)
        ))
    })
}

/// Refuses a category the agreement in `home` does not name, listing the ones it does. Without
/// a readable agreement (a remote node given by --api) the node checks it instead.
fn check_category(home: &Path, category: &str) -> Result<(), CliError> {
    let Ok(config) = NodeConfig::load(home) else {
        return Ok(());
    };
    let Ok(text) = std::fs::read_to_string(home.join(&config.agreement)) else {
        return Ok(());
    };
    let Ok(agreement) = Agreement::from_toml(&text) else {
        return Ok(());
    };
    let categories = &agreement.terms.categories;
    if categories.iter().any(|c| c == category) {
        return Ok(());
    }
    let names: Vec<&str> = categories.iter().map(String::as_str).collect();
    Err(CliError::BadInput(format!(
        "category {:?} is not in the agreement; use {}",
        term::one_line(category),
        detente_api::one_of(&names)
    )))
}

/// The text given inline, or read from --text-file (`-` for standard input).
fn long_text(inline: Option<String>, file: TextFile) -> Result<String, CliError> {
    match (inline, file.text_file) {
        (Some(text), _) => Ok(text),
        (None, Some(path)) => read_text(&path),
        (None, None) => Err(CliError::BadInput(
            "give the text inline or with --text-file FILE".to_owned(),
        )),
    }
}

fn read_text(path: &Path) -> Result<String, CliError> {
    let read = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    };
    read.map_err(|e| CliError::BadInput(format!("reading {}: {e}", path.display())))
}

fn new_request(args: NewArgs) -> anyhow::Result<RequestBody> {
    let narrative = match (args.narrative, args.narrative_file) {
        (Some(n), _) => n,
        (None, Some(f)) => read_text(&f)?,
        (None, None) => {
            return Err(CliError::BadInput(
                "give --narrative TEXT or --narrative-file FILE".into(),
            )
            .into());
        }
    };
    let kind = args.kind;
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
        priority: args.priority,
        tlp: args.tlp,
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

async fn send(
    home: &Path,
    case: CaseArg,
    body: Body,
    wait: WaitArgs,
    json: bool,
) -> anyhow::Result<()> {
    let api = Api::from_home(home, &case.api)?;
    let id = case_id(&case.case)?;
    let kind = body.message_type().as_str();
    let sent: Sent = api
        .post(&format!("/api/v1/cases/{id}/messages"), &body)
        .await?;
    print_sent(&sent, kind, json);
    wait_for_receipt(&api, &sent, wait).await
}

/// With --wait, polls the case until the partner's signed receipt of `sent` is in: the message
/// then counts. A refusal, or no receipt in time, is an error; the message stays committed and
/// the node keeps delivering it.
async fn wait_for_receipt(api: &Api, sent: &Sent, wait: WaitArgs) -> anyhow::Result<()> {
    let Some(limit) = wait.limit() else {
        return Ok(());
    };
    let deadline = Instant::now() + limit;
    loop {
        let case: CaseDetail = api.get(&format!("/api/v1/cases/{}", sent.case)).await?;
        let message = case.messages.iter().find(|m| m.id == sent.message);
        match message.map(|m| (m.state, m)) {
            Some((MessageState::Delivered, m)) => {
                eprintln!(
                    "The partner's receipt is in: official time {}.",
                    m.received_at
                        .map_or_else(|| "-".to_owned(), |t| t.to_string())
                );
                return Ok(());
            }
            Some((MessageState::Rejected, m)) => {
                return Err(CliError::Attention(format!(
                    "the partner's node refused message {} for good: {}",
                    sent.message,
                    term::one_line(m.rejection.as_deref().unwrap_or("no reason given"))
                ))
                .into());
            }
            _ => {}
        }
        if Instant::now() >= deadline {
            return Err(CliError::Unreachable(format!(
                "no receipt from the partner within {} s; message {} stays committed and the \
                 node keeps delivering it (`detente status` shows why it waits)",
                limit.as_secs(),
                sent.message
            ))
            .into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn print_sent(sent: &Sent, kind: &str, json: bool) {
    if json {
        out!("{}", term::json(sent));
    } else {
        out!(
            "{} {kind} committed in case {} (message {}, seq {}); it counts once the partner's signed receipt arrives.",
            if kind == "request" { "New" } else { "Your" },
            sent.case,
            sent.message,
            sent.seq
        );
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// A table that fits the terminal: as wide as it is (or `COLUMNS`, when set), wrapping
/// cells; as wide as its content when standard output is not a terminal.
fn table() -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(width) = columns() {
        table.set_width(width);
    }
    table
}

/// The width asked for in `COLUMNS`, if any.
fn columns() -> Option<u16> {
    std::env::var("COLUMNS").ok()?.trim().parse().ok()
}

/// The width to wrap prose at: the terminal's, or none when output is not a terminal.
fn text_width() -> Option<usize> {
    table().width().map(usize::from)
}

/// `text` cleaned of control characters, each line wrapped at word boundaries to `width`
/// (less `indent`) and indented.
fn wrapped(text: &str, indent: usize, width: Option<usize>) -> String {
    let pad = " ".repeat(indent);
    let limit = width.map(|w| w.saturating_sub(indent).max(20));
    let mut lines = Vec::new();
    for line in term::clean(text).lines() {
        let line = line.replace('\t', "    ");
        let Some(limit) = limit else {
            lines.push(format!("{pad}{line}"));
            continue;
        };
        let mut current = String::new();
        for word in line.split(' ') {
            let len = current.chars().count();
            if len > 0 && len + 1 + word.chars().count() > limit {
                lines.push(format!("{pad}{current}"));
                current.clear();
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
            // A word longer than the line is cut where it must be.
            while current.chars().count() > limit {
                let head: String = current.chars().take(limit).collect();
                current = current.chars().skip(limit).collect();
                lines.push(format!("{pad}{head}"));
            }
        }
        lines.push(format!("{pad}{current}"));
    }
    lines.join("\n")
}

/// An instant to the minute, for a table: `2026-12-02 14:02` (UTC).
fn minute(t: Timestamp) -> String {
    let full = t.to_string();
    match (full.get(..10), full.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time}"),
        _ => full,
    }
}

/// Cases, one row each, with the columns an officer scans first; the rest is in `request
/// show`. Ids, parties, states and times never wrap, so the title takes what is left.
fn print_list(list: &CaseList) {
    let mut table = table();
    table.set_header(["case", "parties", "status", "overdue from (UTC)", "title"]);
    for r in &list.cases {
        let due = match r.overdue_from {
            Some(t) if r.overdue => format!("OVERDUE since\n{}", minute(t)),
            Some(t) => minute(t),
            None => "-".to_owned(),
        };
        table.add_row([
            r.case.to_string(),
            format!("{} → {}", r.requester, r.responder),
            r.status.to_string(),
            due,
            format!(
                "{}\n{} {}, {}",
                term::one_line(&r.title),
                r.priority.as_str(),
                r.kind.as_str(),
                r.tlp.label()
            ),
        ]);
    }
    for i in 0..4 {
        if let Some(column) = table.column_mut(i) {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    out!("{table}");
}

fn print_case(case: &CaseDetail) {
    let width = text_width();
    let s = &case.summary;
    out!("{}  {}", s.case, term::one_line(&s.title));
    out!(
        "{} → {}   {} / {} / {}   {}   status: {}",
        s.requester,
        s.responder,
        s.kind.as_str(),
        term::one_line(&s.category),
        s.priority.as_str(),
        s.tlp.label(),
        s.status
    );
    if s.overdue {
        out!("OVERDUE since {}", opt(s.overdue_from));
    }
    if let Some(c) = &case.case {
        if let Some(reason) = c.decline_reason {
            out!("declined: {}", reason.as_str());
        }
        if let Some(rating) = c.rating {
            out!("rated {rating}/5");
        }
    }
    if let Some(t) = &case.timeliness {
        for (name, m) in t.named() {
            let line = match m {
                Milestone::Met {
                    at,
                    elapsed_ms,
                    within_deadline,
                } => format!(
                    "met at {at} after {} ({})",
                    crate::figures::duration(Some(elapsed_ms)),
                    if within_deadline { "in time" } else { "LATE" }
                ),
                Milestone::Pending { due, overdue } => format!(
                    "pending, due {}{}",
                    opt(due),
                    if overdue { " — OVERDUE" } else { "" }
                ),
                Milestone::Missed { due } => {
                    format!("MISSED: its deadline ({due}) passed before the withdrawal")
                }
                Milestone::Moot => "moot: withdrawn while the deadline was still running".into(),
            };
            out!("  {name:<13} {line}");
        }
    }
    for m in &case.messages {
        out!();
        print_message(m, width);
    }
}

/// One message in full: who, when, where it stands, and everything it says.
fn print_message(m: &MessageView, width: Option<usize>) {
    // The agency comes from the partner's signed envelope: shown as text, never obeyed.
    let agency = m
        .agency
        .as_deref()
        .map(|a| format!(" ({})", term::one_line(a)))
        .unwrap_or_default();
    out!(
        "── #{} {} from {}{agency} to {} ({})",
        m.log_index,
        m.body.message_type().as_str(),
        m.from,
        m.to,
        m.state
    );
    out!(
        "   sent {}, received {} (official)",
        m.sent_at,
        opt(m.received_at)
    );
    if m.voided {
        out!("   voided: it lost a race with a concurrent message and changed nothing");
    }
    if let Some(why) = &m.rejection {
        out!("   REFUSED by the partner's node:");
        out!("{}", wrapped(why, 6, width));
    }
    let field = |label: &str, text: &str| {
        if !text.is_empty() {
            out!("   {label}:");
            out!("{}", wrapped(text, 6, width));
        }
    };
    match &m.body {
        Body::Request(r) => {
            out!(
                "   {} / {} / {} / {}",
                r.kind.as_str(),
                term::one_line(&r.category),
                r.priority.as_str(),
                r.tlp.label()
            );
            field("title", &r.title);
            field("narrative", &r.narrative);
            if let Some(a) = &r.attribution {
                field("attribution", a);
            }
            if let Some(p) = &r.preservation {
                field("preservation authority", &p.authority);
                field("offence", &p.offence);
                field("data to preserve", &p.data);
                field("custodian", &p.custodian);
                field("necessity", &p.necessity);
                if p.mutual_assistance_to_follow {
                    out!("   a mutual assistance request for the data will follow");
                }
            }
            print_attached(&r.observables, &r.objects, width);
        }
        Body::Acknowledgement(a) => field("note", &a.note),
        Body::ClarificationRequest(c) => field("question", &c.question),
        Body::Clarification(c) => field("clarification", &c.text),
        Body::Answer(a) => {
            field(
                if a.is_final {
                    "final answer"
                } else {
                    "partial answer"
                },
                &a.text,
            );
            print_attached(&a.observables, &a.objects, width);
        }
        Body::Decline(d) => {
            out!("   reason: {}", d.reason.as_str());
            field("explanation", &d.text);
        }
        Body::Withdrawal(w) => field("reason", &w.reason),
        Body::Rating(r) => {
            out!("   score: {}/5", r.score);
            field("comment", &r.comment);
        }
    }
}

/// Observables one per line, and STIX objects by type, id and name.
fn print_attached(observables: &[Observable], objects: &[StixValue], width: Option<usize>) {
    if !observables.is_empty() {
        out!("   observables:");
        for o in observables {
            let kind = serde_json::to_value(o.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            out!("{}", wrapped(&format!("{kind}: {}", o.value), 6, width));
        }
    }
    if !objects.is_empty() {
        out!("   STIX objects:");
        for o in objects {
            let get = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("");
            let name = [get("name"), get("pattern")]
                .into_iter()
                .find(|v| !v.is_empty())
                .unwrap_or("");
            out!("{}", wrapped(&format!("{} {name}", get("id")), 6, width));
        }
    }
}
