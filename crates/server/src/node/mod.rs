//! The node core: what happens when a liaison officer sends a message ([`send`]), when a
//! partner's envelope arrives ([`receive`]), when a partner's receipt comes back
//! ([`settle`]), when partners' checkpoints are checked ([`partners`]), and how case rows are
//! projected from the log ([`projection`]) or rebuilt from it ([`rebuild`]).
//!
//! The core knows nothing of HTTP: HTTP handlers, the outbox worker and the CLI call in here
//! and map a [`NodeError`] to what they answer. Every step is one write transaction, so a
//! killed process leaves either all of a step or none of it; what needs no database
//! (signatures, checkpoint notes, the shape of a message) is checked before the node's single
//! writer is taken.

mod error;
mod partners;
mod projection;
mod rebuild;
mod receive;
mod send;
mod settle;

use std::{collections::HashMap, sync::Arc};

use detente_domain::Agreement;
use detente_ledger::{Checkpoint, SignedCheckpoint};
use detente_protocol::{Digest, PartyId, PublicKey, SecretKey, Signable, Signed, Timestamp};
use detente_stix::AccessRule;
use detente_store::{Store, WriteTx};
use time::OffsetDateTime;
use tokio::sync::Notify;

pub use error::NodeError;
pub use partners::inclusion_counter;
pub use projection::{
    LOG_DAMAGED_ALERT, derived_cases, each_derived_case, log_damaged, official_case, stored_body,
};
pub use send::{Actor, Sent};
pub use settle::Delivery;

use crate::error::ErrorCode;

/// A running node's state, shared by the HTTP handlers and the outbox worker.
pub struct Node {
    party: PartyId,
    agreement: Agreement,
    agreement_digest: Digest,
    key: SecretKey,
    store: Store,
    outbox_wakeup: Notify,
    queue: std::sync::Mutex<Vec<send::Queued>>,
    // The latest receipt time issued, so receipt times never go backwards; read from the
    // database on first use.
    last_receipt: std::sync::Mutex<Option<i64>>,
    // This node's latest committed checkpoint (signed note), carried in every message it sends.
    latest_checkpoint: std::sync::Mutex<Option<String>>,
    // The latest partner checkpoint note verified, per partner.
    verified_notes: std::sync::Mutex<HashMap<PartyId, (String, Checkpoint)>>,
    // TLP for STIX objects in outgoing messages, with the configured level for unmarked ones.
    access_rule: AccessRule,
}

/// The current time, truncated to the millisecond. The only clock the node reads.
pub fn now() -> Timestamp {
    Timestamp::from_datetime(OffsetDateTime::now_utc())
}

impl Node {
    /// A node for `party` under `agreement`, signing with `key`, storing in `store`, applying
    /// `access_rule` to the STIX objects its messages carry.
    pub fn new(
        party: PartyId,
        agreement: Agreement,
        key: SecretKey,
        store: Store,
        latest_checkpoint: Option<String>,
        access_rule: AccessRule,
    ) -> Result<Arc<Self>, String> {
        let me = agreement
            .party(&party)
            .ok_or_else(|| format!("party {party} is not a party to agreement {}", agreement.id))?;
        if !me.public_keys.contains(&key.public_key()) {
            return Err(format!(
                "the node's key {} is not among the keys the agreement pins for {party}; \
                 add it to the agreement or use the right key file",
                key.public_key()
            ));
        }
        Ok(Arc::new(Self {
            party,
            agreement_digest: agreement.digest(),
            agreement,
            key,
            store,
            outbox_wakeup: Notify::new(),
            queue: std::sync::Mutex::new(Vec::new()),
            last_receipt: std::sync::Mutex::new(None),
            access_rule,
            latest_checkpoint: std::sync::Mutex::new(latest_checkpoint),
            verified_notes: std::sync::Mutex::new(HashMap::new()),
        }))
    }

    /// The party this node speaks for.
    pub fn party(&self) -> &PartyId {
        &self.party
    }

    /// The agreement the node works under.
    pub fn agreement(&self) -> &Agreement {
        &self.agreement
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A 32-byte secret for `purpose` derived from the node's key: the same in every process
    /// of this node and across restarts, and unknown to anyone without the key. For tokens
    /// the node hands out and must recognise, such as opaque TAXII page cursors.
    pub fn derived_secret(&self, purpose: &str) -> [u8; 32] {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        h.update(b"detente/v1/derived-secret\0");
        h.update(purpose.as_bytes());
        h.update(b"\0");
        h.update(self.key.to_pkcs8_pem().as_bytes());
        h.finalize().into()
    }

    /// Wakes the outbox worker (after a new message was committed).
    pub fn wake_outbox(&self) {
        self.outbox_wakeup.notify_one();
    }

    /// Waits until `wake_outbox` is called.
    pub async fn outbox_woken(&self) {
        self.outbox_wakeup.notified().await;
    }

    /// The origin line of `party`'s checkpoints: names the agreement and the party, so a
    /// checkpoint of one log can never pass for another's.
    pub fn origin(&self, party: &PartyId) -> String {
        format!("detente/{}/{party}", self.agreement.id)
    }

    /// The headers of a request to a partner node signed by this node: `method`,
    /// `path_and_query` and `body` are bound by the signature, with the time and a fresh
    /// nonce (see `detente_protocol::RequestLine`).
    pub fn sign_request(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
    ) -> [(&'static str, String); 4] {
        let nonce = detente_protocol::new_nonce();
        detente_protocol::RequestLine {
            party: &self.party,
            time: now(),
            nonce: &nonce,
            method,
            path_and_query,
            body,
        }
        .sign(&self.key)
    }

    /// This node's latest committed checkpoint.
    pub fn latest_checkpoint(&self) -> Option<String> {
        self.latest_checkpoint
            .lock()
            .expect("never poisoned")
            .clone()
    }

    /// Signs a checkpoint of the tree if this transaction appended to the log, commits, and
    /// makes that checkpoint the one carried by later messages.
    async fn commit(&self, mut tx: WriteTx, now: Timestamp) -> Result<(), NodeError> {
        let note = if tx.appended() {
            let (size, root) = tx.tree_head();
            let checkpoint = Checkpoint::new(&self.origin(&self.party), size, root)
                .map_err(NodeError::internal)?;
            let note = SignedCheckpoint::sign(checkpoint, &self.key, self.party.as_str())
                .map_err(NodeError::internal)?
                .to_text();
            tx.insert_checkpoint(size, root, &note, now).await?;
            Some(note)
        } else {
            None
        };
        tx.commit().await?;
        if let Some(note) = note {
            *self.latest_checkpoint.lock().expect("never poisoned") = Some(note);
        }
        Ok(())
    }
}

/// Checks that one of `keys` signed `signed`.
fn verify_any<T: Signable>(signed: &Signed<T>, keys: &[PublicKey]) -> Result<(), NodeError> {
    if keys.iter().any(|k| signed.verify(k).is_ok()) {
        Ok(())
    } else {
        Err(NodeError::refused(
            ErrorCode::BadSignature,
            format!(
                "signature does not verify under any key pinned for {}",
                signed.payload().signer()
            ),
        ))
    }
}
