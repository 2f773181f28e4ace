//! People inside a node, on either backend: agencies, users, API tokens, browser sessions and
//! the trail of who did what (`migrations/*/0005_people.sql`). Every statement reads the same
//! on both backends, so each is written once with `$n` placeholders and run through
//! `dispatch!`.
//!
//! Writes go through the node's single writer ([`WriteTx`]), so that an action and its trail
//! record commit together, and the trail's chain is extended by one writer at a time. Reads
//! that authenticate a request ([`Store::token_bearer`], [`Store::session_bearer`]) are one
//! indexed lookup by the secret's SHA-256 and refuse revoked, expired and disabled at once.

use detente_people::{
    AgencyId, Lockout, PasswordHash, Roles, SecretHash, TotpSecret, UserName,
    trail::{self, Record},
};
use detente_protocol::{CaseId, Timestamp};
use sqlx::ColumnIndex;

use crate::backend::dispatch;
use crate::decode::{StoreRow, parse, to_i64, to_u64, ts};
use crate::{Store, StoreError, WriteTx};

/// An agency (organisational unit) of this node's party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agency {
    /// Its id, e.g. `fbi`.
    pub id: AgencyId,
    /// Its full name.
    pub name: String,
    /// Whether incoming requests land with it.
    pub duty: bool,
    /// When it was added.
    pub created_at: Timestamp,
}

/// A user, as stored.
#[derive(Debug, Clone)]
pub struct User {
    /// The sign-in name.
    pub name: UserName,
    /// The agency the user acts for.
    pub agency: AgencyId,
    /// The roles the user holds.
    pub roles: Roles,
    /// The password's hash; `None` until one is set (a token-only user).
    pub password: Option<PasswordHash>,
    /// The TOTP secret, when a second factor is set up.
    pub totp: Option<TotpSecret>,
    /// The step of the last TOTP code accepted.
    pub totp_last_step: Option<u64>,
    /// The current run of failed sign-ins.
    pub lockout: Lockout,
    /// When the user was disabled, if they were.
    pub disabled_at: Option<Timestamp>,
    /// When the user was added.
    pub created_at: Timestamp,
}

/// A user to add.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The sign-in name.
    pub name: UserName,
    /// The agency the user acts for (it must exist).
    pub agency: AgencyId,
    /// The roles the user holds.
    pub roles: Roles,
    /// The password's hash, if one is set now.
    pub password: Option<PasswordHash>,
}

/// Who a valid token or session speaks for.
#[derive(Debug, Clone)]
pub struct Bearer {
    /// The user.
    pub user: User,
    /// The roles the request may use: a token's scopes within the user's current roles; a
    /// session's are the user's.
    pub roles: Roles,
    /// For a session, the hash of its CSRF token, which every form post must carry.
    pub csrf: Option<SecretHash>,
}

/// An API token's details, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The SHA-256 the token is stored under (its first hex digits name it in listings).
    pub hash: SecretHash,
    /// Whose it is.
    pub user: UserName,
    /// What it is for, as its user said.
    pub label: String,
    /// Its scopes.
    pub roles: Roles,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it stops working, if ever.
    pub expires_at: Option<Timestamp>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

/// A trail record with the link stored for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailEntry {
    /// The record.
    pub record: Record,
    /// Its stored link.
    pub link: [u8; 32],
}

/// Which trail records to read; every filter set must hold.
#[derive(Debug, Clone, Default)]
pub struct TrailQuery {
    /// Only this user's.
    pub user: Option<String>,
    /// Only this agency's.
    pub agency: Option<String>,
    /// Only records about this case.
    pub case: Option<String>,
    /// Only records at or after this time.
    pub from: Option<Timestamp>,
    /// Only records before this time.
    pub until: Option<Timestamp>,
    /// Only records after this position (paging).
    pub after_seq: u64,
    /// At most this many.
    pub limit: u32,
}

/// The user columns [`user`] decodes, in its order. A macro, so that each statement stays
/// one literal (sqlx takes only static SQL).
macro_rules! user_columns {
    () => {
        "u.name, u.agency, u.roles, u.password_hash, u.totp_secret, u.totp_last_step, \
         u.failures, u.last_failure, u.disabled_at, u.created_at"
    };
}

fn user<R: StoreRow>(r: &R) -> Result<User, StoreError>
where
    usize: ColumnIndex<R>,
{
    Ok(User {
        name: parse(&r.text(0)?, UserName::parse)?,
        agency: parse(&r.text(1)?, AgencyId::parse)?,
        roles: roles(r.int(2)?)?,
        password: r
            .opt_text(3)?
            .map(|h| parse(&h, PasswordHash::parse))
            .transpose()?,
        totp: r
            .opt_text(4)?
            .map(|s| parse(&s, TotpSecret::from_base32))
            .transpose()?,
        totp_last_step: r.opt_int(5)?.map(to_u64).transpose()?,
        lockout: Lockout {
            failures: u32::try_from(r.int(6)?).unwrap_or(u32::MAX),
            last_failure: to_u64(r.int(7)?)?,
        },
        disabled_at: r.opt_int(8)?.map(ts).transpose()?,
        created_at: ts(r.int(9)?)?,
    })
}

fn roles(bits: i64) -> Result<Roles, StoreError> {
    let bits = u8::try_from(bits).map_err(|_| StoreError::Corrupt(format!("role bits {bits}")))?;
    parse("role bits", |_| Roles::from_bits(bits))
}

fn agency<R: StoreRow>(r: &R) -> Result<Agency, StoreError>
where
    usize: ColumnIndex<R>,
{
    Ok(Agency {
        id: parse(&r.text(0)?, AgencyId::parse)?,
        name: r.text(1)?,
        duty: r.int(2)? == 1,
        created_at: ts(r.int(3)?)?,
    })
}

fn token_info<R: StoreRow>(r: &R) -> Result<TokenInfo, StoreError>
where
    usize: ColumnIndex<R>,
{
    Ok(TokenInfo {
        hash: parse(&r.text(0)?, SecretHash::from_hex)?,
        user: parse(&r.text(1)?, UserName::parse)?,
        label: r.text(2)?,
        roles: roles(r.int(3)?)?,
        created_at: ts(r.int(4)?)?,
        expires_at: r.opt_int(5)?.map(ts).transpose()?,
        revoked_at: r.opt_int(6)?.map(ts).transpose()?,
    })
}

fn trail_entry<R: StoreRow>(r: &R) -> Result<TrailEntry, StoreError>
where
    usize: ColumnIndex<R>,
{
    Ok(TrailEntry {
        record: Record {
            seq: to_u64(r.int(0)?)?,
            at_ms: r.int(1)?,
            user: r.text(2)?,
            agency: r.text(3)?,
            action: r.text(4)?,
            case: r.text(5)?,
            object: r.text(6)?,
            detail: r.text(7)?,
        },
        link: link_from_hex(&r.text(8)?)?,
    })
}

fn link_from_hex(s: &str) -> Result<[u8; 32], StoreError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out)
        .map_err(|_| StoreError::Corrupt(format!("trail link {s:?} is not 64 hex digits")))?;
    Ok(out)
}

fn secs(t: Timestamp) -> u64 {
    u64::try_from(t.unix_millis() / 1000).unwrap_or(0)
}

impl Store {
    /// Every agency, by id.
    pub async fn agencies(&self) -> Result<Vec<Agency>, StoreError> {
        dispatch!(Self, self, s => {
            sqlx::query("SELECT id, name, duty, created_at FROM agencies ORDER BY id")
                .fetch_all(&s.pool).await?.iter().map(agency).collect()
        })
    }

    /// The agency `case` is routed to: the one it was assigned, else the duty agency; `None`
    /// when neither exists (a node without agencies).
    pub async fn case_agency(&self, case: &CaseId) -> Result<Option<AgencyId>, StoreError> {
        const SQL: &str = "SELECT COALESCE((SELECT agency FROM case_agencies WHERE case_id = $1), \
                           (SELECT id FROM agencies WHERE duty = 1))";
        let found: Option<String> = dispatch!(Self, self, s => {
            sqlx::query(SQL).bind(case.to_string()).fetch_one(&s.pool).await?.opt_text(0)?
        });
        found.map(|a| parse(&a, AgencyId::parse)).transpose()
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        const SQL: &str = concat!("SELECT ", user_columns!(), " FROM users u ORDER BY u.name");
        dispatch!(Self, self, s => {
            sqlx::query(SQL).fetch_all(&s.pool).await?.iter().map(user).collect()
        })
    }

    /// The user called `name`, if there is one.
    pub async fn user(&self, name: &UserName) -> Result<Option<User>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.name = $1"
        );
        dispatch!(Self, self, s => {
            sqlx::query(SQL).bind(name.as_str()).fetch_optional(&s.pool).await?
                .as_ref().map(user).transpose()
        })
    }

    /// The user's API tokens, newest first, without their secrets.
    pub async fn tokens(&self, name: &UserName) -> Result<Vec<TokenInfo>, StoreError> {
        dispatch!(Self, self, s => {
            sqlx::query(
                "SELECT hash, user_name, label, roles, created_at, expires_at, revoked_at \
                 FROM user_tokens WHERE user_name = $1 ORDER BY created_at DESC, hash",
            )
            .bind(name.as_str())
            .fetch_all(&s.pool).await?.iter().map(token_info).collect()
        })
    }

    /// Who the API token hashing to `hash` speaks for at `now`: `None` if no such token, or
    /// it is revoked or expired, or its user is disabled.
    pub async fn token_bearer(
        &self,
        hash: SecretHash,
        now: Timestamp,
    ) -> Result<Option<Bearer>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            user_columns!(),
            ", t.roles FROM user_tokens t JOIN users u ON u.name = t.user_name \
             WHERE t.hash = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL \
             AND (t.expires_at IS NULL OR t.expires_at > $2)"
        );
        let found = dispatch!(Self, self, s => {
            sqlx::query(SQL).bind(hash.to_hex()).bind(now.unix_millis())
                .fetch_optional(&s.pool).await?
                .as_ref().map(|r| Ok::<_, StoreError>((user(r)?, roles(r.int(10)?)?))).transpose()?
        });
        Ok(found.map(|(user, scopes)| Bearer {
            roles: scopes.and(user.roles),
            user,
            csrf: None,
        }))
    }

    /// Who the session hashing to `hash` speaks for at `now`: `None` if no such session, or
    /// it is revoked or expired, or its user is disabled.
    pub async fn session_bearer(
        &self,
        hash: SecretHash,
        now: Timestamp,
    ) -> Result<Option<Bearer>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            user_columns!(),
            ", s.csrf_hash FROM sessions s JOIN users u ON u.name = s.user_name \
             WHERE s.hash = $1 AND s.revoked_at IS NULL AND u.disabled_at IS NULL \
             AND s.expires_at > $2"
        );
        let found = dispatch!(Self, self, s => {
            sqlx::query(SQL).bind(hash.to_hex()).bind(now.unix_millis())
                .fetch_optional(&s.pool).await?
                .as_ref()
                .map(|r| Ok::<_, StoreError>((user(r)?, parse(&r.text(10)?, SecretHash::from_hex)?)))
                .transpose()?
        });
        Ok(found.map(|(user, csrf)| Bearer {
            roles: user.roles,
            user,
            csrf: Some(csrf),
        }))
    }

    /// Trail records matching `q`, oldest first.
    pub async fn trail(&self, q: &TrailQuery) -> Result<Vec<TrailEntry>, StoreError> {
        // Each filter is a bound parameter that is either NULL (no filter) or compared: one
        // statement for every combination, and no SQL built from input.
        const SQL: &str = "SELECT seq, at, user_name, agency, action, case_id, object, detail, link \
             FROM trail WHERE seq > $1 \
             AND ($2 IS NULL OR user_name = $2) AND ($3 IS NULL OR agency = $3) \
             AND ($4 IS NULL OR case_id = $4) AND ($5 IS NULL OR at >= $5) \
             AND ($6 IS NULL OR at < $6) ORDER BY seq LIMIT $7";
        dispatch!(Self, self, s => {
            sqlx::query(SQL)
                .bind(to_i64(q.after_seq)?)
                .bind(q.user.as_deref())
                .bind(q.agency.as_deref())
                .bind(q.case.as_deref())
                .bind(q.from.map(Timestamp::unix_millis))
                .bind(q.until.map(Timestamp::unix_millis))
                .bind(i64::from(q.limit))
                .fetch_all(&s.pool).await?.iter().map(trail_entry).collect()
        })
    }

    /// Recomputes the whole trail's chain; the first break, if any. O(n), in pages.
    pub async fn verify_trail(&self) -> Result<Result<Option<[u8; 32]>, trail::Break>, StoreError> {
        const PAGE: u32 = 10_000;
        let mut prev = trail::GENESIS;
        let mut last = None;
        let mut after = 0;
        loop {
            let page = self
                .trail(&TrailQuery {
                    after_seq: after,
                    limit: PAGE,
                    ..TrailQuery::default()
                })
                .await?;
            let Some(end) = page.last() else {
                return Ok(Ok(last));
            };
            let next_after = end.record.seq;
            match trail::verify(prev, after + 1, page.iter().map(|e| (&e.record, &e.link))) {
                Ok(link) => prev = link,
                Err(b) => return Ok(Err(b)),
            }
            last = Some(prev);
            after = next_after;
        }
    }
}

/// Runs one statement in the write transaction with its binds; the rows it changed.
macro_rules! execute {
    ($tx:expr, $sql:expr $(, $bind:expr)* $(,)?) => {
        dispatch!(WriteTx, $tx, t => {
            sqlx::query($sql)$(.bind($bind))*.execute(&mut *t.tx).await?.rows_affected()
        })
    };
}

impl WriteTx {
    /// Adds an agency; with `duty`, incoming requests land with it from now on (and no
    /// longer with the agency that had the duty).
    pub async fn add_agency(&mut self, a: &Agency) -> Result<(), StoreError> {
        if a.duty {
            execute!(self, "UPDATE agencies SET duty = 0 WHERE duty = 1");
        }
        execute!(
            self,
            "INSERT INTO agencies (id, name, duty, created_at) VALUES ($1, $2, $3, $4)",
            a.id.as_str(),
            &a.name,
            i64::from(a.duty),
            a.created_at.unix_millis(),
        );
        Ok(())
    }

    /// Gives the duty to `agency`; false (and nothing changed) if there is no such agency.
    pub async fn set_duty_agency(&mut self, agency: &AgencyId) -> Result<bool, StoreError> {
        // One statement, so that the duty never rests with no agency or with two.
        let n = execute!(
            self,
            "UPDATE agencies SET duty = CASE WHEN id = $1 THEN 1 ELSE 0 END \
             WHERE EXISTS (SELECT 1 FROM agencies WHERE id = $1)",
            agency.as_str(),
        );
        Ok(n > 0)
    }

    /// Routes `case` to `agency` (filing, or reassigning).
    pub async fn assign_case(
        &mut self,
        case: &CaseId,
        agency: &AgencyId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "INSERT INTO case_agencies (case_id, agency, assigned_at) VALUES ($1, $2, $3) \
             ON CONFLICT (case_id) DO UPDATE SET agency = excluded.agency, \
             assigned_at = excluded.assigned_at",
            case.to_string(),
            agency.as_str(),
            at.unix_millis(),
        );
        Ok(())
    }

    /// Adds a user.
    pub async fn add_user(&mut self, u: &NewUser, at: Timestamp) -> Result<(), StoreError> {
        execute!(
            self,
            "INSERT INTO users (name, agency, roles, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
            u.name.as_str(),
            u.agency.as_str(),
            i64::from(u.roles.bits()),
            u.password.as_ref().map(PasswordHash::as_str),
            at.unix_millis(),
        );
        Ok(())
    }

    /// Sets a new password hash and ends the user's sessions: whoever knew the old password
    /// may be signed in. False if there is no such user.
    pub async fn set_password(
        &mut self,
        name: &UserName,
        hash: &PasswordHash,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let n = execute!(
            self,
            "UPDATE users SET password_hash = $2, failures = 0 WHERE name = $1",
            name.as_str(),
            hash.as_str(),
        );
        self.revoke_sessions(name, at).await?;
        Ok(n == 1)
    }

    /// Replaces the user's roles (every token of the user is bounded by them at once).
    pub async fn set_roles(&mut self, name: &UserName, roles: Roles) -> Result<bool, StoreError> {
        let n = execute!(
            self,
            "UPDATE users SET roles = $2 WHERE name = $1",
            name.as_str(),
            i64::from(roles.bits()),
        );
        Ok(n == 1)
    }

    /// Sets (or with `None` removes) the user's TOTP secret.
    pub async fn set_totp(
        &mut self,
        name: &UserName,
        secret: Option<&TotpSecret>,
    ) -> Result<bool, StoreError> {
        let n = execute!(
            self,
            "UPDATE users SET totp_secret = $2, totp_last_step = NULL WHERE name = $1",
            name.as_str(),
            secret.map(TotpSecret::to_base32),
        );
        Ok(n == 1)
    }

    /// Records a successful sign-in: the run of failures ends, and the TOTP step used (if
    /// any) can never be used again.
    pub async fn sign_in_succeeded(
        &mut self,
        name: &UserName,
        totp_step: Option<u64>,
    ) -> Result<bool, StoreError> {
        let n = execute!(
            self,
            "UPDATE users SET failures = 0, totp_last_step = COALESCE($2, totp_last_step) \
             WHERE name = $1",
            name.as_str(),
            totp_step.map(to_i64).transpose()?,
        );
        Ok(n == 1)
    }

    /// Records a failed sign-in at `at`; the run of failures it makes, `None` if there is no
    /// such user.
    pub async fn sign_in_failed(
        &mut self,
        name: &UserName,
        at: Timestamp,
    ) -> Result<Option<Lockout>, StoreError> {
        let row = dispatch!(WriteTx, self, t => {
            sqlx::query(
                "UPDATE users SET failures = failures + 1, last_failure = $2 WHERE name = $1 \
                 RETURNING failures, last_failure",
            )
            .bind(name.as_str())
            .bind(to_i64(secs(at))?)
            .fetch_optional(&mut *t.tx)
            .await?
            .map(|r| Ok::<_, StoreError>((r.int(0)?, r.int(1)?)))
            .transpose()?
        });
        row.map(|(failures, last)| {
            Ok(Lockout {
                failures: u32::try_from(failures).unwrap_or(u32::MAX),
                last_failure: to_u64(last)?,
            })
        })
        .transpose()
    }

    /// Disables the user at `at`: every token and session of theirs stops working at once.
    /// False if there is no such user or they were disabled already.
    pub async fn disable_user(
        &mut self,
        name: &UserName,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let n = execute!(
            self,
            "UPDATE users SET disabled_at = $2 WHERE name = $1 AND disabled_at IS NULL",
            name.as_str(),
            at.unix_millis(),
        );
        self.revoke_sessions(name, at).await?;
        Ok(n == 1)
    }

    /// Stores an API token by its hash.
    pub async fn add_token(&mut self, token: &TokenInfo) -> Result<(), StoreError> {
        execute!(
            self,
            "INSERT INTO user_tokens (hash, user_name, label, roles, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            token.hash.to_hex(),
            token.user.as_str(),
            &token.label,
            i64::from(token.roles.bits()),
            token.created_at.unix_millis(),
            token.expires_at.map(Timestamp::unix_millis),
        );
        Ok(())
    }

    /// Revokes the token hashing to `hash`; false if there is none or it was revoked already.
    pub async fn revoke_token(
        &mut self,
        hash: SecretHash,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let n = execute!(
            self,
            "UPDATE user_tokens SET revoked_at = $2 WHERE hash = $1 AND revoked_at IS NULL",
            hash.to_hex(),
            at.unix_millis(),
        );
        Ok(n == 1)
    }

    /// Stores a session by its hash and its CSRF token's hash.
    pub async fn add_session(
        &mut self,
        hash: SecretHash,
        user: &UserName,
        csrf: SecretHash,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "INSERT INTO sessions (hash, user_name, csrf_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
            hash.to_hex(),
            user.as_str(),
            csrf.to_hex(),
            at.unix_millis(),
            expires_at.unix_millis(),
        );
        Ok(())
    }

    /// Ends one session (sign-out); false if there is none or it had ended.
    pub async fn revoke_session(
        &mut self,
        hash: SecretHash,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let n = execute!(
            self,
            "UPDATE sessions SET revoked_at = $2 WHERE hash = $1 AND revoked_at IS NULL",
            hash.to_hex(),
            at.unix_millis(),
        );
        Ok(n == 1)
    }

    /// Ends every session of the user; how many were open.
    pub async fn revoke_sessions(
        &mut self,
        user: &UserName,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        Ok(execute!(
            self,
            "UPDATE sessions SET revoked_at = $2 WHERE user_name = $1 AND revoked_at IS NULL",
            user.as_str(),
            at.unix_millis(),
        ))
    }

    /// Appends a record to the trail, chained to the last one; its `seq` is set here.
    /// Returns the record's link.
    pub async fn append_trail(&mut self, record: &mut Record) -> Result<[u8; 32], StoreError> {
        let last = dispatch!(WriteTx, self, t => {
            sqlx::query("SELECT seq, link FROM trail ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *t.tx).await?
                .map(|r| Ok::<_, StoreError>((to_u64(r.int(0)?)?, r.text(1)?))).transpose()?
        });
        let (seq, prev) = match last {
            Some((seq, link)) => (seq + 1, link_from_hex(&link)?),
            None => (1, trail::GENESIS),
        };
        record.seq = seq;
        let link = record.link(&prev);
        execute!(
            self,
            "INSERT INTO trail (seq, at, user_name, agency, action, case_id, object, detail, link) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            to_i64(seq)?,
            record.at_ms,
            &record.user,
            &record.agency,
            &record.action,
            &record.case,
            &record.object,
            &record.detail,
            hex::encode(link),
        );
        Ok(link)
    }
}
