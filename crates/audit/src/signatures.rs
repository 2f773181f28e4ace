//! The audit's signature checks, verified in batches.
//!
//! Verifying one Ed25519 signature at a time is most of an audit's work. Batch verification
//! checks a few hundred in one multi-scalar multiplication for less than half the cost each;
//! only when a batch fails are its signatures checked one by one, strictly, to name the
//! entries at fault. What batching accepts that strict verification would not, and why that
//! is harmless here, is documented at [`detente_protocol::verify_batch`].

use detente_domain::Agreement;
use detente_protocol::{PartyId, PublicKey, Signable, Signed, verify_batch};

/// Signatures per batch: enough for ed25519-dalek's multi-scalar multiplication to switch to
/// Pippenger's method (above 190 points, two per signature), few enough that re-checking a
/// failed batch one by one stays cheap.
const BATCH: usize = 256;

/// Signatures waiting to be verified, and the entries whose signatures failed.
pub(crate) struct SignatureBatch<'a> {
    agreement: &'a Agreement,
    pending: Vec<Pending>,
    failures: Vec<(u64, String)>,
}

struct Pending {
    entry: u64,
    signer: PartyId,
    key: PublicKey,
    message: Vec<u8>,
    signature: [u8; 64],
}

impl<'a> SignatureBatch<'a> {
    pub(crate) fn new(agreement: &'a Agreement) -> Self {
        Self {
            agreement,
            pending: Vec::with_capacity(BATCH),
            failures: Vec::new(),
        }
    }

    /// Queues the signature of the entry at `entry` for the next batch. A signer with several
    /// pinned keys (a key rollover) is checked at once against each, as a node would, because
    /// a batch needs to know the one key each signature is meant to verify under.
    pub(crate) fn check<T: Signable>(
        &mut self,
        entry: u64,
        signed: &Signed<T>,
    ) -> Result<(), String> {
        let signer = signed.payload().signer();
        match self
            .agreement
            .party(signer)
            .map(|p| p.public_keys.as_slice())
        {
            Some(&[key]) => {
                self.pending.push(Pending {
                    entry,
                    signer: signer.clone(),
                    key,
                    message: signed.signed_message(),
                    signature: *signed.signature(),
                });
                if self.pending.len() == BATCH {
                    self.flush();
                }
                Ok(())
            }
            keys => {
                if keys
                    .unwrap_or_default()
                    .iter()
                    .any(|k| signed.verify(k).is_ok())
                {
                    Ok(())
                } else {
                    Err(not_verified(signer))
                }
            }
        }
    }

    /// Verifies what is queued and returns every entry whose signature failed, with why.
    pub(crate) fn finish(mut self) -> Vec<(u64, String)> {
        self.flush();
        self.failures
    }

    fn flush(&mut self) {
        let messages: Vec<&[u8]> = self.pending.iter().map(|p| p.message.as_slice()).collect();
        let signatures: Vec<[u8; 64]> = self.pending.iter().map(|p| p.signature).collect();
        let keys: Vec<PublicKey> = self.pending.iter().map(|p| p.key).collect();
        if verify_batch(&messages, &signatures, &keys).is_err() {
            for p in &self.pending {
                if p.key.verify(&p.message, &p.signature).is_err() {
                    self.failures.push((p.entry, not_verified(&p.signer)));
                }
            }
        }
        self.pending.clear();
    }
}

fn not_verified(signer: &PartyId) -> String {
    format!("signature does not verify under a key of {signer}")
}
