//! `detente agreement new | show`: writing the agreement document two operators share, and
//! printing its digest so they can compare it over the phone before going live.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use clap::Subcommand;
use detente_domain::{Agreement, Deadlines, Span, Terms};
use detente_protocol::{Priority, RequestKind};
use detente_server::config::NodeConfig;

use detente_server::home::{PARTY_FILE, read_party_snippet};

use crate::term::{self, out};

/// Subcommands of `detente agreement`.
#[derive(Subcommand)]
pub enum AgreementCommand {
    /// Write agreement.toml from this node's party.toml and the partners' party files,
    /// with the recommended terms (edit them before sharing).
    New {
        /// A partner's party.toml (as written by their `detente init`); repeat for more.
        #[arg(long = "partner", required = true)]
        partners: Vec<PathBuf>,
        /// Short stable id of the agreement.
        #[arg(long, default_value = "bilateral-cyber-cooperation")]
        id: String,
        /// Title of the agreement.
        #[arg(
            long,
            default_value = "Bilateral agreement on cyber security cooperation"
        )]
        title: String,
        /// The wire version both nodes seal in: 2 signs headers that commit to detached
        /// bodies, so the logs can be audited without any content (`log export --redacted`).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=2))]
        protocol: u32,
    },
    /// Print the agreement's digest, parties, keys and deadlines.
    Show,
}

/// The project's recommended terms: all five request kinds, common categories, and
/// deadlines per priority modelled on 24/7 network practice (Budapest Convention art. 35).
pub fn recommended_terms() -> Terms {
    let d = |a: u64, f: u64, l: u64| Deadlines {
        acknowledge: Span::from_secs(a),
        first_answer: Span::from_secs(f),
        final_answer: Span::from_secs(l),
    };
    const H: u64 = 3600;
    const D: u64 = 86_400;
    Terms {
        kinds: RequestKind::ALL.to_vec(),
        categories: [
            "ip-theft",
            "critical-infrastructure",
            "ransomware",
            "botnet",
            "fraud",
            "phishing",
            "ddos",
            "espionage",
            "other",
        ]
        .map(String::from)
        .to_vec(),
        deadlines: BTreeMap::from([
            (Priority::Critical, d(H, D, 3 * D)),
            (Priority::High, d(4 * H, 3 * D, 14 * D)),
            (Priority::Normal, d(D, 7 * D, 30 * D)),
            (Priority::Low, d(3 * D, 14 * D, 60 * D)),
        ]),
        clock_skew: Span::from_secs(300),
    }
}

/// Runs an agreement subcommand.
pub fn run(home: &Path, cmd: AgreementCommand, json: bool) -> anyhow::Result<()> {
    let config = NodeConfig::load(home).map_err(anyhow::Error::msg)?;
    let path = home.join(&config.agreement);
    match cmd {
        AgreementCommand::New {
            partners,
            id,
            title,
            protocol,
        } => {
            if path.exists() {
                bail!(
                    "{} exists; remove it first if you mean to replace the agreement",
                    path.display()
                );
            }
            let mut parties =
                vec![read_party_snippet(&home.join(PARTY_FILE)).map_err(anyhow::Error::msg)?];
            for p in &partners {
                parties.push(read_party_snippet(p).map_err(anyhow::Error::msg)?);
            }
            let agreement = Agreement {
                id,
                title,
                parties,
                terms: recommended_terms(),
                in_force_from: None,
                protocol,
            };
            agreement.validate()?;
            fs::write(&path, agreement.to_toml())
                .with_context(|| format!("writing {}", path.display()))?;
            out!(
                "Wrote {} (digest {}, fingerprint {}).",
                path.display(),
                agreement.digest(),
                agreement.digest().fingerprint()
            );
            out!(
                "Review the terms, then send the file to every partner; each copies it into its node home."
            );
            Ok(())
        }
        AgreementCommand::Show => {
            let text = fs::read_to_string(&path).with_context(|| {
                format!(
                    "reading {}; write it with `detente agreement new`",
                    path.display()
                )
            })?;
            let a = Agreement::from_toml(&text)?;
            let digest = a.digest();
            if json {
                out!(
                    "{}",
                    term::json(&serde_json::json!({
                        "digest": digest,
                        "fingerprint": digest.fingerprint(),
                        "agreement": a,
                    }))
                );
                return Ok(());
            }
            out!("{} ({})", term::one_line(&a.title), term::one_line(&a.id));
            out!("digest: {digest}");
            // Short enough to read over the phone; both operators must hear the same groups.
            out!("fingerprint: {}", digest.fingerprint());
            out!("protocol: wire version {}", a.protocol);
            for p in &a.parties {
                let keys: Vec<String> = p.public_keys.iter().map(ToString::to_string).collect();
                out!(
                    "  {:<8} {:<28} {}  {}",
                    p.id.as_str(),
                    term::one_line(&p.name),
                    term::one_line(&p.node_url.to_string()),
                    keys.join(", ")
                );
            }
            out!(
                "  categories: {}",
                term::one_line(&a.terms.categories.join(", "))
            );
            for (prio, d) in &a.terms.deadlines {
                out!(
                    "  {:<9} acknowledge {:<5} first answer {:<5} final answer {}",
                    prio.as_str(),
                    d.acknowledge.to_string(),
                    d.first_answer.to_string(),
                    d.final_answer
                );
            }
            Ok(())
        }
    }
}
