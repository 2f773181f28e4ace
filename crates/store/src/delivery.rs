//! What the outbox says about delivery to each partner: how many messages wait, how often
//! the oldest was tried, when the next attempt is due and why the last one failed. The
//! operator's status shows it, so a partner that is down, a wrong pinned CA or a changed
//! agreement is never silent. One statement, the same on both backends.

use detente_protocol::{PartyId, Timestamp};

use crate::backend::dispatch;
use crate::decode::{StoreRow, parse, to_u64, ts};
use crate::{Store, StoreError};

/// Delivery to one partner, while messages wait for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryState {
    /// The partner.
    pub recipient: PartyId,
    /// Messages waiting.
    pub pending: u64,
    /// Failed attempts of the oldest waiting message.
    pub attempts: u32,
    /// When the next attempt is due.
    pub next_attempt_at: Timestamp,
    /// Why the last attempt failed, if one did.
    pub last_error: Option<String>,
}

// Every waiting message to a partner is deferred together, so the oldest one's error and
// attempts speak for all of them.
const SQL: &str = "SELECT o.recipient, COUNT(*), MAX(o.attempts), MIN(o.next_attempt_at), \
                   (SELECT x.last_error FROM outbox x WHERE x.recipient = o.recipient \
                    ORDER BY x.seq LIMIT 1) \
                   FROM outbox o GROUP BY o.recipient ORDER BY o.recipient";

fn delivery_state<R: StoreRow>(r: &R) -> Result<DeliveryState, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
{
    Ok(DeliveryState {
        recipient: parse(&r.text(0)?, PartyId::parse)?,
        pending: to_u64(r.int(1)?)?,
        attempts: u32::try_from(r.int(2)?).unwrap_or(u32::MAX),
        next_attempt_at: ts(r.int(3)?)?,
        last_error: r.opt_text(4)?,
    })
}

impl Store {
    /// Delivery to each partner that has messages waiting, by partner.
    pub async fn delivery_states(&self) -> Result<Vec<DeliveryState>, StoreError> {
        dispatch!(Self, self, s => {
            sqlx::query(SQL)
                .fetch_all(&s.pool)
                .await?
                .iter()
                .map(delivery_state)
                .collect()
        })
    }
}
