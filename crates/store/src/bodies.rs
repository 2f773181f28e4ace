//! The bodies of wire version 2 envelopes, stored outside the log (table `bodies`): the log
//! holds each envelope's signed header, which commits to its body, so the log can be handed
//! to an auditor without any content and a body disclosed one at a time. The statements are
//! shared by both backends (`$n` placeholders, which SQLite accepts).

use std::collections::HashMap;

use detente_protocol::{Digest, MessageId};

use crate::{Store, StoreError, WriteTx, backend::dispatch};

const INSERT: &str = "INSERT INTO bodies (message_id, digest, bytes) VALUES ($1, $2, $3) \
                      ON CONFLICT (message_id) DO NOTHING";
const SELECT: &str = "SELECT digest, bytes FROM bodies WHERE message_id = $1";

impl WriteTx {
    /// Stores the body of message `id`, committed to by `digest`. Storing it again is a no-op:
    /// the message's header, and so its body, never change.
    pub async fn insert_body(
        &mut self,
        id: MessageId,
        digest: &Digest,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        dispatch!(WriteTx, self, t => {
            sqlx::query(INSERT)
                .bind(id.to_string())
                .bind(digest.to_string())
                .bind(bytes)
                .execute(&mut *t.tx)
                .await?;
        });
        Ok(())
    }

    /// The stored body of message `id`, with its digest, if there is one.
    pub async fn body(&mut self, id: MessageId) -> Result<Option<(Digest, Vec<u8>)>, StoreError> {
        let row: Option<(String, Vec<u8>)> = dispatch!(WriteTx, self, t => {
            sqlx::query_as(SELECT)
                .bind(id.to_string())
                .fetch_optional(&mut *t.tx)
                .await?
        });
        row.map(decode).transpose()
    }
}

impl Store {
    /// The stored body of message `id`, with its digest, if there is one.
    pub async fn body(&self, id: MessageId) -> Result<Option<(Digest, Vec<u8>)>, StoreError> {
        let row: Option<(String, Vec<u8>)> = dispatch!(Self, self, s => {
            sqlx::query_as(SELECT)
                .bind(id.to_string())
                .fetch_optional(&s.pool)
                .await?
        });
        row.map(decode).transpose()
    }
}

/// Most message ids bound in one statement.
const IDS_PER_STATEMENT: usize = 1_000;

impl Store {
    /// The stored bodies of the messages `ids` (those that have one), with their digests, in
    /// one statement per 1,000 ids: an export of a page of entries asks for all at once.
    pub async fn bodies(
        &self,
        ids: &[MessageId],
    ) -> Result<HashMap<MessageId, (Digest, Vec<u8>)>, StoreError> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let rows: Vec<(String, String, Vec<u8>)> = dispatch!(Self, self, s => {
                let mut q = sqlx::QueryBuilder::new(
                    "SELECT message_id, digest, bytes FROM bodies WHERE message_id IN (",
                );
                let mut ids = q.separated(", ");
                for id in chunk {
                    ids.push_bind(id.to_string());
                }
                ids.push_unseparated(")");
                q.build_query_as().fetch_all(&s.pool).await?
            });
            for (id, digest, bytes) in rows {
                let id = crate::decode::parse(&id, MessageId::parse)?;
                out.insert(id, decode((digest, bytes))?);
            }
        }
        Ok(out)
    }
}

fn decode((digest, bytes): (String, Vec<u8>)) -> Result<(Digest, Vec<u8>), StoreError> {
    Ok((crate::decode::parse(&digest, Digest::parse)?, bytes))
}
