//! The checkpoint watcher: proves that each partner's log only ever grows, and that it holds
//! every envelope this node delivered where the partner's receipt says.
//!
//! Every envelope and receipt carries its sender's latest signed checkpoint. The watcher takes
//! each new one, asks the partner's node for a consistency proof against the largest
//! checkpoint already proven (RFC 9162 §2.1.4), and verifies it. A proof that fails, or two
//! roots for one size, is equivocation: both signed notes are kept and an alert raised.
//!
//! Each receipt also signs the index at which the partner logged the envelope. Once a proven
//! checkpoint covers that index, the watcher asks for the inclusion proof (RFC 9162 §2.1.3) of
//! exactly that entry and checks it against the envelope this node sent. A partner that
//! receipted an envelope and then dropped or changed it in its log cannot prove it: that is
//! an omission alert, with the signed receipt and checkpoint as evidence.

use std::{sync::Arc, time::Duration};

use detente_ledger::{LeafIndex, hash_leaf, verify_consistency, verify_inclusion};
use detente_protocol::{Digest, PartyId, Receipt, Signed};
use serde::Deserialize;

use crate::{
    node::{Node, NodeError, inclusion_counter},
    outbox::Partners,
};

/// Envelopes checked per partner and pass: a backlog is worked off over several passes.
const INCLUSIONS_PER_PASS: u32 = 64;

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
        if let Err(e) = check_inclusions(&node, &partners).await {
            tracing::error!(error = %e, "inclusion check failed");
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
pub async fn check_pending(node: &Node, partners: &Partners) -> Result<(), NodeError> {
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

/// For each partner, checks the next envelopes this node delivered against the partner's
/// largest proven checkpoint: each must be in the partner's log at the index its receipt
/// names. Stops at the first envelope the checkpoint does not cover yet, or when the partner
/// cannot be reached, and goes on from there on the next pass.
pub async fn check_inclusions(node: &Node, partners: &Partners) -> Result<(), NodeError> {
    let me = node.party().clone();
    let parties: Vec<PartyId> = node
        .agreement()
        .parties
        .iter()
        .map(|p| p.id.clone())
        .filter(|p| *p != me)
        .collect();
    for party in parties {
        let store = node.store();
        let Some(anchor) = store
            .consistent_partner_checkpoints(&party)
            .await?
            .into_iter()
            .next()
        else {
            continue;
        };
        let proven = store.read_counter(&inclusion_counter(&party)).await?;
        let mut through = proven;
        let mut omissions = Vec::new();
        for row in store
            .delivered_after(&party, proven, INCLUSIONS_PER_PASS)
            .await?
        {
            let Some(receipt_bytes) = row.receipt.as_deref() else {
                break;
            };
            let receipt = Signed::<Receipt>::parse(receipt_bytes, usize::MAX)?;
            let Some(index) = receipt.payload().log_index else {
                // A receipt that names no index promises nothing to check.
                through = row.seq;
                continue;
            };
            if index >= anchor.size.get() {
                break;
            }
            let path = format!(
                "/federation/v1/log/proof/inclusion?index={index}&size={}",
                anchor.size.get()
            );
            let proof = match partners.get(node, &party, &path).await {
                Ok(answer) => serde_json::from_value::<ProofAnswer>(answer),
                Err(e) => {
                    tracing::debug!(party = %party, error = %e, "partner unreachable for an inclusion proof");
                    break;
                }
            };
            let holds = match proof {
                Ok(p) => verify_inclusion(
                    &hash_leaf(&row.envelope),
                    LeafIndex::new(index),
                    anchor.size,
                    &p.proof,
                    &anchor.root,
                )
                .is_ok(),
                // A partner that answers with no proof at all cannot prove it either.
                Err(_) => false,
            };
            if !holds {
                omissions.push((
                    format!(
                        "{party} receipted envelope {} (case {}, seq {}) as its log entry {index}, \
                         but cannot prove that entry in its log of size {}",
                        row.id,
                        row.case_id,
                        row.seq,
                        anchor.size.get()
                    ),
                    format!(
                        "{}\n{}",
                        String::from_utf8_lossy(receipt_bytes),
                        anchor.note
                    ),
                ));
            }
            through = row.seq;
        }
        if through > proven || !omissions.is_empty() {
            node.record_inclusions(&party, through, &omissions).await?;
        }
    }
    Ok(())
}
