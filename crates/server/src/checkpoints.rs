//! The checkpoint watcher: proves that each partner's log only ever grows.
//!
//! Every envelope and receipt carries its sender's latest signed checkpoint. The watcher takes
//! each new one, asks the partner's node for a consistency proof against the largest
//! checkpoint already proven (RFC 9162 §2.1.4), and verifies it. A proof that fails, or two
//! roots for one size, is equivocation: both signed notes are kept and an alert raised.

use std::{sync::Arc, time::Duration};

use detente_ledger::verify_consistency;
use detente_protocol::Digest;
use serde::Deserialize;

use crate::{error::ApiError, node::Node, outbox::Partners};

/// Runs until `stop` turns true, checking new partner checkpoints every second.
pub async fn run(
    node: Arc<Node>,
    partners: Arc<Partners>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        if let Err(e) = check_pending(&node, &partners).await {
            tracing::error!(error = %e, "checkpoint check failed");
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => {}
        }
    }
}

#[derive(Deserialize)]
struct ProofAnswer {
    proof: Vec<Digest>,
}

/// Checks every unverified partner checkpoint it can; a partner that cannot be reached is
/// asked again on the next pass.
pub async fn check_pending(node: &Node, partners: &Partners) -> Result<(), ApiError> {
    for checkpoint in node.store().unverified_partner_checkpoints().await? {
        let proven = node
            .store()
            .consistent_partner_checkpoints(&checkpoint.party)
            .await?;
        let Some(anchor) = proven.first() else {
            // The first checkpoint seen from a partner is the baseline the rest must extend.
            node.record_consistency(&checkpoint, None, true).await?;
            continue;
        };
        let consistent = if anchor.size == checkpoint.size {
            anchor.root == checkpoint.root
        } else {
            let (old, new) = if anchor.size < checkpoint.size {
                (anchor, &checkpoint)
            } else {
                (&checkpoint, anchor)
            };
            let path = format!(
                "/federation/v1/log/proof/consistency?from={}&to={}",
                old.size.get(),
                new.size.get()
            );
            match partners.get(node, &checkpoint.party, &path).await {
                Ok(answer) => match serde_json::from_value::<ProofAnswer>(answer) {
                    Ok(a) => verify_consistency(old.size, new.size, &a.proof, &old.root, &new.root)
                        .is_ok(),
                    Err(e) => {
                        tracing::warn!(party = %checkpoint.party, error = %e, "malformed consistency proof; will ask again");
                        continue;
                    }
                },
                Err(e) => {
                    tracing::debug!(party = %checkpoint.party, error = %e, "partner unreachable for a consistency proof");
                    continue;
                }
            }
        };
        tracing::debug!(party = %checkpoint.party, size = checkpoint.size.get(), consistent, "partner checkpoint checked");
        node.record_consistency(&checkpoint, Some(anchor), consistent)
            .await?;
    }
    Ok(())
}
