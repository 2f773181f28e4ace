//! `detente agency`, `detente user` and `detente trail`: the node's administrator manages
//! agencies, users, their roles and API tokens, and reads the trail of who did what.
//!
//! These commands work on the node's database directly, on the node's own machine (like
//! `init`), so that the first administrator can be made before anyone can sign in. Every
//! change is written to the trail in the same transaction, as done by `@cli` (the operator
//! at the node's console). Secrets (an initial password, an API token) are printed once and
//! stored only as hashes.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use detente_domain::Span;
use detente_people::{
    AgencyId, Password, Roles, Secret, TotpSecret, UserName, token::Kind, trail::Record,
};
use detente_protocol::Timestamp;
use detente_server::{config::NodeConfig, node::now};
use detente_store::{Agency, NewUser, Store, TokenInfo, TrailQuery, WriteTx};
use serde_json::json;

use crate::home::open_store;
use crate::term::{clean, out};

/// Who the trail names for changes made with these commands.
const CLI_ACTOR: &str = "@cli";

/// `detente agency ...`.
#[derive(Subcommand)]
pub enum AgencyCommand {
    /// Add an agency (an organisational unit of this party, e.g. fbi).
    Add {
        /// Its short id: a-z, 0-9, '.', '_', '-'.
        id: AgencyId,
        /// Its full name.
        #[arg(long)]
        name: String,
        /// Incoming requests land with this agency from now on.
        #[arg(long)]
        duty: bool,
    },
    /// List the agencies.
    List,
    /// Give the duty (where incoming requests land) to an agency.
    Duty {
        /// The agency.
        id: AgencyId,
    },
}

/// The roles option, validated by clap: a comma-separated list.
fn roles(s: &str) -> Result<Roles, String> {
    Roles::parse_list(s).map_err(|e| e.to_string())
}

/// `detente user ...`.
#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user; prints an initial password once (or reads one from --password-file).
    Add {
        /// The sign-in name: a-z, 0-9, '.', '_', '-'.
        name: UserName,
        /// The agency the user acts for.
        #[arg(long)]
        agency: AgencyId,
        /// Roles, comma-separated: admin, liaison, analyst, reviewer, stakeholder.
        #[arg(long, value_parser = roles)]
        roles: Roles,
        /// A file holding the password (at least 12 characters); without it, one is made.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// List the users.
    List,
    /// Replace a user's roles.
    Roles {
        /// The user.
        name: UserName,
        /// Roles, comma-separated.
        #[arg(long, value_parser = roles)]
        roles: Roles,
    },
    /// Set a new password (from --password-file, or a made one printed once); ends the
    /// user's sessions.
    Passwd {
        /// The user.
        name: UserName,
        /// A file holding the new password.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Set up a TOTP second factor (required for administrators to sign in); prints the
    /// secret and its otpauth:// URL once, for an authenticator app.
    Totp {
        /// The user.
        name: UserName,
    },
    /// Disable a user: every token and session of theirs stops working at once.
    Disable {
        /// The user.
        name: UserName,
    },
    /// Make an API token for a user; prints it once.
    Token {
        /// The user.
        name: UserName,
        /// What the token is for (shown in listings).
        #[arg(long, default_value = "api")]
        label: String,
        /// The token's scopes, within the user's roles (default: the user's roles).
        #[arg(long, value_parser = roles)]
        roles: Option<Roles>,
        /// How long it works, e.g. 90d (default: until revoked).
        #[arg(long, value_parser = Span::parse)]
        expires: Option<Span>,
    },
    /// List a user's tokens (their hashes' first digits, never the tokens).
    Tokens {
        /// The user.
        name: UserName,
    },
    /// Revoke a token, named by the first digits of its hash as `tokens` lists them.
    Revoke {
        /// The user.
        name: UserName,
        /// The first 8 or more hex digits of the token's hash.
        hash: String,
    },
}

/// `detente trail`.
#[derive(Args)]
pub struct TrailArgs {
    /// Only this user's actions.
    #[arg(long)]
    user: Option<String>,
    /// Only this agency's.
    #[arg(long)]
    agency: Option<String>,
    /// Only actions on this case.
    #[arg(long)]
    case: Option<String>,
    /// Only records after this position (the last one shown, to page on).
    #[arg(long, default_value_t = 0)]
    after: u64,
    /// At most this many records.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    limit: u32,
    /// Recompute the whole trail's chain instead; exit 1 if it is broken.
    #[arg(long)]
    verify: bool,
}

async fn store(home: &Path, database: Option<&str>) -> anyhow::Result<Store> {
    let config = NodeConfig::load(home).map_err(anyhow::Error::msg)?;
    open_store(home, database, &config).await
}

/// Writes the trail record of a change made here, in the change's transaction.
async fn trail(tx: &mut WriteTx, action: &str, object: &str, detail: String) -> anyhow::Result<()> {
    let mut record = Record {
        seq: 0,
        at_ms: now().unix_millis(),
        user: CLI_ACTOR.into(),
        agency: String::new(),
        action: action.into(),
        case: String::new(),
        object: object.into(),
        detail,
    };
    tx.append_trail(&mut record).await?;
    Ok(())
}

/// `detente agency ...`.
pub async fn agency(
    home: &Path,
    database: Option<&str>,
    cmd: AgencyCommand,
    json: bool,
) -> anyhow::Result<()> {
    let store = store(home, database).await?;
    match cmd {
        AgencyCommand::Add { id, name, duty } => {
            let mut tx = store.write().await?;
            if store.agencies().await?.iter().any(|a| a.id == id) {
                bail!("agency {id} exists already");
            }
            let agency = Agency {
                id: id.clone(),
                name: name.clone(),
                duty,
                created_at: now(),
            };
            tx.add_agency(&agency).await?;
            trail(
                &mut tx,
                "agency.add",
                id.as_str(),
                format!("{name}; duty: {duty}"),
            )
            .await?;
            tx.commit().await?;
            out!("agency {id} added{}", if duty { " (on duty)" } else { "" });
        }
        AgencyCommand::Duty { id } => {
            let mut tx = store.write().await?;
            if !tx.set_duty_agency(&id).await? {
                bail!("no agency {id}; `detente agency list` shows them");
            }
            trail(&mut tx, "agency.duty", id.as_str(), String::new()).await?;
            tx.commit().await?;
            out!("incoming requests now land with {id}");
        }
        AgencyCommand::List => {
            let agencies = store.agencies().await?;
            if json {
                let list: Vec<_> = agencies
                    .iter()
                    .map(|a| json!({"id": a.id, "name": a.name, "duty": a.duty, "created_at": a.created_at}))
                    .collect();
                out!("{}", crate::term::json(&json!({ "agencies": list })));
                return Ok(());
            }
            let mut t = table(["agency", "name", "duty"]);
            for a in &agencies {
                t.add_row([
                    a.id.to_string(),
                    clean(&a.name).into_owned(),
                    if a.duty {
                        "on duty".into()
                    } else {
                        String::new()
                    },
                ]);
            }
            out!("{t}");
        }
    }
    Ok(())
}

fn table<const N: usize>(header: [&str; N]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    t
}

/// The password from `file`, or a made one (printed once by the caller).
fn password(file: Option<&Path>) -> anyhow::Result<(Password, Option<String>)> {
    match file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("reading the password from {}", f.display()))?;
            let p = Password::new(text.trim_end_matches(['\r', '\n']).to_owned())?;
            Ok((p, None))
        }
        None => {
            // 256 random bits in base64url: far beyond guessing, and typed once at most.
            let made = Secret::generate(Kind::Csrf).expose()[4..].to_owned();
            Ok((Password::new(made.clone())?, Some(made)))
        }
    }
}

/// `detente user ...`.
pub async fn user(
    home: &Path,
    database: Option<&str>,
    cmd: UserCommand,
    json: bool,
) -> anyhow::Result<()> {
    let store = store(home, database).await?;
    let missing =
        |name: &UserName| anyhow::anyhow!("no user {name}; `detente user list` shows them");
    match cmd {
        UserCommand::Add {
            name,
            agency,
            roles,
            password_file,
        } => {
            if !store.agencies().await?.iter().any(|a| a.id == agency) {
                bail!(
                    "no agency {agency}; add it first with `detente agency add {agency} --name ...`"
                );
            }
            if store.user(&name).await?.is_some() {
                bail!("user {name} exists already");
            }
            let (password, made) = password(password_file.as_deref())?;
            let mut tx = store.write().await?;
            let user = NewUser {
                name: name.clone(),
                agency: agency.clone(),
                roles,
                password: Some(password.hash()),
            };
            tx.add_user(&user, now()).await?;
            trail(
                &mut tx,
                "user.add",
                name.as_str(),
                format!("agency {agency}; roles {roles}"),
            )
            .await?;
            tx.commit().await?;
            out!("user {name} added to {agency} with roles {roles}");
            if let Some(made) = made {
                out!(
                    "initial password (shown once; give it to the user over a channel you trust): {made}"
                );
            }
        }
        UserCommand::List => {
            let users = store.users().await?;
            if json {
                let list: Vec<_> = users
                    .iter()
                    .map(|u| {
                        json!({
                            "name": u.name, "agency": u.agency, "roles": u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                            "totp": u.totp.is_some(), "disabled_at": u.disabled_at, "created_at": u.created_at,
                        })
                    })
                    .collect();
                out!("{}", crate::term::json(&json!({ "users": list })));
                return Ok(());
            }
            let mut t = table(["user", "agency", "roles", "second factor", "state"]);
            for u in &users {
                t.add_row([
                    u.name.to_string(),
                    u.agency.to_string(),
                    u.roles.to_string(),
                    if u.totp.is_some() { "TOTP" } else { "none" }.into(),
                    u.disabled_at
                        .map_or("active".into(), |t| format!("disabled {t}")),
                ]);
            }
            out!("{t}");
        }
        UserCommand::Roles { name, roles } => {
            let mut tx = store.write().await?;
            if !tx.set_roles(&name, roles).await? {
                return Err(missing(&name));
            }
            trail(&mut tx, "user.roles", name.as_str(), roles.to_string()).await?;
            tx.commit().await?;
            out!("{name} now has roles {roles}");
        }
        UserCommand::Passwd {
            name,
            password_file,
        } => {
            let (password, made) = password(password_file.as_deref())?;
            let mut tx = store.write().await?;
            if !tx.set_password(&name, &password.hash(), now()).await? {
                return Err(missing(&name));
            }
            trail(&mut tx, "user.passwd", name.as_str(), String::new()).await?;
            tx.commit().await?;
            out!("password of {name} changed; their sessions are ended");
            if let Some(made) = made {
                out!("new password (shown once): {made}");
            }
        }
        UserCommand::Totp { name } => {
            let config = NodeConfig::load(home).map_err(anyhow::Error::msg)?;
            let secret = TotpSecret::generate();
            let url = secret.otpauth_url(&format!("detente {}", config.party), name.as_str())?;
            let mut tx = store.write().await?;
            if !tx.set_totp(&name, Some(&secret)).await? {
                return Err(missing(&name));
            }
            trail(&mut tx, "user.totp", name.as_str(), String::new()).await?;
            tx.commit().await?;
            out!("TOTP for {name}, shown once: add it to the user's authenticator app");
            out!("secret: {}", secret.to_base32());
            out!("url:    {url}");
        }
        UserCommand::Disable { name } => {
            let mut tx = store.write().await?;
            if !tx.disable_user(&name, now()).await? {
                bail!("no active user {name}");
            }
            trail(&mut tx, "user.disable", name.as_str(), String::new()).await?;
            tx.commit().await?;
            out!("{name} is disabled: their tokens and sessions no longer work");
        }
        UserCommand::Token {
            name,
            label,
            roles,
            expires,
        } => {
            let user = store.user(&name).await?.ok_or_else(|| missing(&name))?;
            let roles = roles.unwrap_or(user.roles);
            if !roles.within(user.roles) {
                bail!("a token's roles must be among its user's ({})", user.roles);
            }
            let now = now();
            let expires_at = expires
                .map(|s| {
                    let ms = i64::try_from(s.as_secs()).unwrap_or(i64::MAX / 1000) * 1000;
                    Timestamp::from_unix_millis(now.unix_millis().saturating_add(ms))
                })
                .transpose()
                .context("the expiry is too far ahead")?;
            let secret = Secret::generate(Kind::ApiToken);
            let info = TokenInfo {
                hash: secret.hash(),
                user: name.clone(),
                label: label.clone(),
                roles,
                created_at: now,
                expires_at,
                revoked_at: None,
            };
            let mut tx = store.write().await?;
            tx.add_token(&info).await?;
            let hash = info.hash.to_hex();
            trail(
                &mut tx,
                "token.add",
                name.as_str(),
                format!("{label}; roles {roles}; hash {}", &hash[..8]),
            )
            .await?;
            tx.commit().await?;
            if json {
                out!(
                    "{}",
                    crate::term::json(
                        &json!({"token": secret.expose(), "hash": hash, "roles": roles.to_string(), "expires_at": expires_at})
                    )
                );
            } else {
                out!("token for {name} ({label}, roles {roles}), shown once:");
                out!("{}", secret.expose());
            }
        }
        UserCommand::Tokens { name } => {
            let tokens = store.tokens(&name).await?;
            if json {
                let list: Vec<_> = tokens
                    .iter()
                    .map(|t| json!({"hash": t.hash.to_hex(), "label": t.label, "roles": t.roles.to_string(), "created_at": t.created_at, "expires_at": t.expires_at, "revoked_at": t.revoked_at}))
                    .collect();
                out!("{}", crate::term::json(&json!({ "tokens": list })));
                return Ok(());
            }
            let mut t = table(["hash", "label", "roles", "made", "expires", "revoked"]);
            let when = |t: Option<Timestamp>| t.map_or(String::new(), |t| t.to_string());
            for tok in &tokens {
                t.add_row([
                    tok.hash.to_hex()[..12].to_owned(),
                    clean(&tok.label).into_owned(),
                    tok.roles.to_string(),
                    tok.created_at.to_string(),
                    when(tok.expires_at),
                    when(tok.revoked_at),
                ]);
            }
            out!("{t}");
        }
        UserCommand::Revoke { name, hash } => {
            if hash.len() < 8 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                bail!(
                    "give at least the first 8 hex digits of the token's hash, as `detente user tokens {name}` lists it"
                );
            }
            let hash = hash.to_ascii_lowercase();
            let matching: Vec<TokenInfo> = store
                .tokens(&name)
                .await?
                .into_iter()
                .filter(|t| t.hash.to_hex().starts_with(&hash))
                .collect();
            let [token] = matching.as_slice() else {
                bail!(
                    "{} tokens of {name} match {hash}; give more digits",
                    matching.len()
                );
            };
            let mut tx = store.write().await?;
            if !tx.revoke_token(token.hash, now()).await? {
                bail!("that token was revoked already");
            }
            trail(
                &mut tx,
                "token.revoke",
                name.as_str(),
                token.hash.to_hex()[..8].to_owned(),
            )
            .await?;
            tx.commit().await?;
            out!("token {} of {name} revoked", &token.hash.to_hex()[..12]);
        }
    }
    Ok(())
}

/// `detente trail`.
pub async fn show_trail(
    home: &Path,
    database: Option<&str>,
    args: &TrailArgs,
    json: bool,
) -> anyhow::Result<()> {
    let store = store(home, database).await?;
    if args.verify {
        return match store.verify_trail().await? {
            Ok(last) => {
                out!(
                    "trail verified: {}",
                    last.map_or("empty".into(), |l| format!("last link {}", hex::encode(l)))
                );
                Ok(())
            }
            Err(b) => {
                out!("TAMPERED  trail record {} {}", b.seq, b.what);
                Err(crate::log_cmd::Verdict::Tampered.into())
            }
        };
    }
    let entries = store
        .trail(&TrailQuery {
            user: args.user.clone(),
            agency: args.agency.clone(),
            case: args.case.clone(),
            after_seq: args.after,
            limit: args.limit,
            ..TrailQuery::default()
        })
        .await?;
    if json {
        let list: Vec<_> = entries
            .iter()
            .map(|e| {
                let r = &e.record;
                json!({"seq": r.seq, "at": Timestamp::from_unix_millis(r.at_ms).ok(), "user": r.user, "agency": r.agency,
                       "action": r.action, "case": r.case, "object": r.object, "detail": r.detail, "link": hex::encode(e.link)})
            })
            .collect();
        out!("{}", crate::term::json(&json!({ "trail": list })));
        return Ok(());
    }
    let mut t = table([
        "#", "at", "user", "agency", "action", "case", "object", "detail",
    ]);
    for e in &entries {
        let r = &e.record;
        t.add_row([
            r.seq.to_string(),
            Timestamp::from_unix_millis(r.at_ms).map_or(String::new(), |t| t.to_string()),
            clean(&r.user).into_owned(),
            clean(&r.agency).into_owned(),
            clean(&r.action).into_owned(),
            clean(&r.case).into_owned(),
            clean(&r.object).into_owned(),
            clean(&r.detail).into_owned(),
        ]);
    }
    out!("{t}");
    Ok(())
}
