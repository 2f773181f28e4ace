//! The audit of two bundles. See the crate documentation for what is checked.

use std::{
    collections::{BTreeMap, HashMap},
    io::BufRead,
};

use detente_domain::{Agreement, OfficialMessage, derive_case};
use detente_ledger::{Checkpoint, Frontier, SignedCheckpoint, hash_leaf};
use detente_protocol::{
    CaseId, Digest, MessageId, PartyId, Receipt, SaltedBody, Signable, Signed, SignedEnvelope,
    Timestamp,
};
use detente_report::{DirectionSummary, Summarizer};

use crate::{
    bundle::{BundleReader, Decoded, Direction, Head, Header},
    compact::{Compact, Officials},
    finding::{Finding, FindingKind},
    signatures::SignatureBatch,
};

/// The agreement an auditor holds, obtained out of band (from the parties' operators, read
/// over the phone, published), against which the bundles are audited.
#[derive(Debug, Clone)]
pub enum Pin {
    /// Nothing pinned: the agreement, and with it the parties' keys, come from the bundles'
    /// headers. Whoever made both bundles could then have re-signed everything with keys of
    /// their own, so such an audit is never [`Audit::verified`].
    None,
    /// The agreement's digest: the headers must carry an agreement with this digest, whose
    /// keys are then used.
    Digest(Digest),
    /// The agreement itself: the headers must carry the same one (by digest).
    Agreement(Agreement),
}

/// Why an audit could not even start: the input is not a pair of bundles of one agreement.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The input is not usable as a bundle pair.
    #[error("unusable input: {0}")]
    Unusable(String),
    /// A bundle's header carries another agreement than the pinned one.
    #[error(
        "{party}'s bundle carries agreement {found} (fingerprint {}), not the pinned {pinned} \
         (fingerprint {}): its header was changed, or it is the log of another agreement",
        found.fingerprint(),
        pinned.fingerprint()
    )]
    AgreementMismatch {
        /// The party whose bundle it is.
        party: PartyId,
        /// The digest the auditor pinned.
        pinned: Digest,
        /// The digest of the agreement in the bundle's header.
        found: Digest,
    },
}

/// What the audit found.
#[derive(Debug)]
pub struct Audit {
    /// The two parties, in the order the bundles were given.
    pub parties: [PartyId; 2],
    /// The id of the agreement the logs were audited under.
    pub agreement_id: String,
    /// The digest of that agreement: every signed envelope and receipt names it.
    pub agreement: Digest,
    /// Whether the auditor pinned that agreement; if not, it came from the bundles.
    pub pinned: bool,
    /// Entries read from each bundle.
    pub entries: [u64; 2],
    /// Signatures verified (envelopes, receipts, checkpoints).
    pub signatures: u64,
    /// Checkpoint roots compared with the recomputed trees.
    pub checkpoints_checked: u64,
    /// Bodies of version 2 envelopes checked against their signed headers (full bundles).
    pub bodies_checked: u64,
    /// Version 2 envelopes whose bodies the bundles left out (redacted bundles): every check
    /// but their content ran.
    pub bodies_withheld: u64,
    /// Everything that does not check out.
    pub findings: Vec<Finding>,
    /// The timeliness figures per direction, recomputed from the logs.
    pub figures: Vec<DirectionSummary>,
    /// The instant the figures are computed at: the latest receipt time in either log.
    pub as_of: Option<Timestamp>,
    /// Messages that lost a race with a concurrent message (legal, and counted for the record).
    pub voided: usize,
}

impl Audit {
    /// Whether everything checked out under a pinned agreement. With nothing pinned the keys
    /// came from the bundles themselves, which proves only that the bundles agree with each
    /// other, so the audit is not verified even with no findings.
    pub fn verified(&self) -> bool {
        self.pinned && self.findings.is_empty()
    }
}

/// What one bundle committed to before its entries: expected roots at sizes.
struct Expectation {
    root: Digest,
    source: String,
}

/// Sizes a log must have the stated roots at.
type Expectations = BTreeMap<u64, Vec<Expectation>>;

/// Audits bundles `a` and `b` of two parties to one agreement, under the agreement `pin`
/// names (see [`Pin`]).
pub fn audit<A: BufRead + Send, B: BufRead + Send>(
    a: A,
    b: B,
    pin: &Pin,
) -> Result<Audit, AuditError> {
    let (head_a, entries_a) = BundleReader::open(a)?;
    let (head_b, entries_b) = BundleReader::open(b)?;
    let agreement = agreement_to_audit(pin, [&head_a.header, &head_b.header])?;
    let digest = agreement.digest();
    let (pa, pb) = (head_a.header.party.clone(), head_b.header.party.clone());
    if pa == pb || agreement.party(&pa).is_none() || agreement.party(&pb).is_none() {
        return Err(AuditError::Unusable(format!(
            "need the bundles of two different parties to the agreement, got {pa} and {pb}"
        )));
    }
    let mut findings = Vec::new();
    let mut signatures = 0u64;
    let expect = expectations(
        &agreement,
        [&head_a, &head_b],
        &mut findings,
        &mut signatures,
    );
    // The two bundles are independent until the cross-checks: scan them on two cores.
    let [expect_a, expect_b] = &expect;
    let (mut scan_a, mut scan_b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| Scan::new(&agreement, &pa, &pb, true).run(entries_a, expect_a));
        let b = Scan::new(&agreement, &pb, &pa, false).run(entries_b, expect_b);
        (
            a.join()
                .expect("the scan of the first bundle does not panic"),
            b,
        )
    });
    for (header, s) in [(&head_a.header, &mut scan_a), (&head_b.header, &mut scan_b)] {
        findings.append(&mut s.findings);
        signatures += s.signatures;
        if header.size != s.count {
            findings.push(Finding::new(
                &header.party,
                None,
                FindingKind::HeaderSize,
                format!(
                    "the header announces {} entries, the bundle holds {}",
                    header.size, s.count
                ),
            ));
        }
    }
    cross_check(&pa, &scan_a.hashes, &pb, &scan_b.hashes, &mut findings);
    cross_check(&pb, &scan_b.hashes, &pa, &scan_a.hashes, &mut findings);
    let as_of = scan_a.latest_receipt.max(scan_b.latest_receipt);
    let official = scan_a.official.take().unwrap_or_default();
    // Both logs must hold the same official messages (envelopes with their receipt times),
    // or the figures would depend on whose log was read.
    scan_a.official_keys.sort_unstable();
    scan_b.official_keys.sort_unstable();
    if scan_a.official_keys != scan_b.official_keys {
        findings.push(Finding::new(
            &pa,
            None,
            FindingKind::OfficialsDiffer,
            format!(
                "{pa}'s log holds {} receipted messages and {pb}'s {}, or the same number but not the same ones: the figures would differ",
                scan_a.official_keys.len(),
                scan_b.official_keys.len()
            ),
        ));
    }
    let checkpoints_checked = scan_a.checkpoints_checked + scan_b.checkpoints_checked;
    let bodies_checked = scan_a.bodies_checked + scan_b.bodies_checked;
    let bodies_withheld = scan_a.bodies_withheld + scan_b.bodies_withheld;
    let entries = [scan_a.count, scan_b.count];
    // The sets are done with: free them before the cases take their turn.
    drop((scan_a, scan_b));
    let (figures, voided) = match as_of {
        Some(at) => figures(&agreement, [&pa, &pb], official, at, &mut findings),
        None => (Vec::new(), 0),
    };
    Ok(Audit {
        parties: [pa, pb],
        agreement_id: agreement.id.clone(),
        agreement: digest,
        pinned: !matches!(pin, Pin::None),
        entries,
        signatures,
        checkpoints_checked,
        bodies_checked,
        bodies_withheld,
        findings,
        figures,
        as_of,
        voided,
    })
}

/// The agreement to audit under: the pinned one, which both headers must carry, or with
/// nothing pinned the one both headers carry.
fn agreement_to_audit(pin: &Pin, headers: [&Header; 2]) -> Result<Agreement, AuditError> {
    let pinned = match pin {
        Pin::Agreement(a) => a.digest(),
        Pin::Digest(d) => *d,
        Pin::None => {
            let [a, b] = headers.map(|h| h.agreement.digest());
            if a != b {
                return Err(AuditError::Unusable(format!(
                    "the two bundles carry different agreements: {} {a}, {} {b}",
                    headers[0].party, headers[1].party
                )));
            }
            a
        }
    };
    for h in headers {
        let found = h.agreement.digest();
        if found != pinned {
            return Err(AuditError::AgreementMismatch {
                party: h.party.clone(),
                pinned,
                found,
            });
        }
    }
    Ok(match pin {
        Pin::Agreement(a) => a.clone(),
        Pin::Digest(_) | Pin::None => headers[0].agreement.clone(),
    })
}

/// The sizes each log must have the stated roots at: from its own checkpoints, and from the
/// checkpoints the other party holds from it. Notes that do not verify become findings.
fn expectations(
    agreement: &Agreement,
    heads: [&Head; 2],
    findings: &mut Vec<Finding>,
    signatures: &mut u64,
) -> [Expectations; 2] {
    let mut expect: [Expectations; 2] = [BTreeMap::new(), BTreeMap::new()];
    let parties = heads.map(|h| &h.header.party);
    for (slot, head) in heads.iter().enumerate() {
        let (me, other) = (parties[slot], parties[1 - slot]);
        let own = head.checkpoints.iter().map(|(line, note)| {
            (
                slot,
                me,
                note,
                format!("its own checkpoint on line {line}"),
                format!("checkpoint on line {line}"),
            )
        });
        let held = head
            .partner_checkpoints
            .iter()
            .filter(|(_, party, _)| party == other)
            .map(|(line, _, note)| {
                (
                    1 - slot,
                    other,
                    note,
                    format!("the checkpoint {me} holds from it (line {line} of {me}'s bundle)"),
                    format!("partner checkpoint on line {line}"),
                )
            });
        for (log, signer, note, source, name) in own.chain(held) {
            *signatures += 1;
            match verify_checkpoint(agreement, signer, note) {
                Ok(c) => expect[log]
                    .entry(c.size().get())
                    .or_default()
                    .push(Expectation {
                        root: c.root(),
                        source,
                    }),
                // A note that is not its signer's makes the bundle that holds it wrong.
                Err(e) => findings.push(Finding::new(
                    me,
                    None,
                    FindingKind::BadCheckpoint,
                    format!("{name} {e}"),
                )),
            }
        }
    }
    expect
}

/// Derives every case of the first log from its official messages and counts each into the
/// figures, dropping it at once.
fn figures(
    agreement: &Agreement,
    [pa, pb]: [&PartyId; 2],
    official: Officials,
    at: Timestamp,
    findings: &mut Vec<Finding>,
) -> (Vec<DirectionSummary>, usize) {
    let digest = agreement.digest();
    let mut voided = 0;
    let mut summary = Summarizer::new(agreement, at);
    for (id, messages) in official.into_cases() {
        let messages: Vec<OfficialMessage> = messages
            .iter()
            .map(|(c, at)| OfficialMessage {
                envelope: c.envelope(&id, pa, pb, agreement, digest),
                at: *at,
            })
            .collect();
        match derive_case(agreement, &messages) {
            Ok(c) => {
                voided += c.voided.len();
                summary.add(&c);
            }
            Err(e) => findings.push(Finding::new(
                pa,
                None,
                FindingKind::IllegalLifecycle,
                format!("case {id} is not a legal history: {e}"),
            )),
        }
    }
    (summary.finish(), voided)
}

/// Checks a signed checkpoint note of `party`'s log: well formed, signed by a key the
/// agreement pins for `party`, naming that party's log under this agreement. The node's own
/// start-up and `log verify` checks use it too, so a node and an auditor accept the same notes.
pub fn verify_checkpoint(
    agreement: &Agreement,
    party: &PartyId,
    note: &str,
) -> Result<Checkpoint, String> {
    let signed = SignedCheckpoint::parse(note).map_err(|e| format!("is malformed: {e}"))?;
    let keys = agreement
        .party(party)
        .map(|p| p.public_keys.as_slice())
        .unwrap_or_default();
    let c = keys
        .iter()
        .find_map(|k| signed.verify(k, party.as_str()).ok())
        .ok_or_else(|| format!("is not signed by a key the agreement pins for {party}"))?;
    let origin = agreement.log_origin(party);
    if c.origin() != origin {
        return Err(format!("names log {:?}, not {origin:?}", c.origin()));
    }
    Ok(c.clone())
}

/// One bundle's entries, streamed once: the tree, signatures, directions, receipts and
/// official messages, and what did not check out.
struct Scan<'a> {
    agreement: &'a Agreement,
    digest: Digest,
    me: &'a PartyId,
    partner: &'a PartyId,
    count: u64,
    findings: Vec<Finding>,
    signatures: u64,
    checkpoints_checked: u64,
    bodies_checked: u64,
    bodies_withheld: u64,
    hashes: Hashes,
    // Official messages, kept for the first bundle only: the second is compared by
    // `official_keys`, so the audit holds one log's official messages, compactly, and never two.
    official: Option<Officials>,
    // One key per official message (envelope hash, official time), compared as sorted lists:
    // an exact comparison at 16 bytes a message. (A sum of per-message digests would be
    // smaller, but sums can be matched by a forger choosing many messages; lists cannot.)
    official_keys: Vec<Key>,
    latest_receipt: Option<Timestamp>,
    latest_out_receipt: Option<Timestamp>,
    // Envelopes waiting for their receipt, by id: (entry, hash, compact form, case).
    waiting: HashMap<MessageId, (u64, Digest, Compact, CaseId)>,
}

impl<'a> Scan<'a> {
    fn new(
        agreement: &'a Agreement,
        me: &'a PartyId,
        partner: &'a PartyId,
        keep_cases: bool,
    ) -> Self {
        Self {
            agreement,
            digest: agreement.digest(),
            me,
            partner,
            count: 0,
            findings: Vec::new(),
            signatures: 0,
            checkpoints_checked: 0,
            bodies_checked: 0,
            bodies_withheld: 0,
            hashes: Hashes::default(),
            official: keep_cases.then(Officials::default),
            official_keys: Vec::new(),
            latest_receipt: None,
            latest_out_receipt: None,
            waiting: HashMap::new(),
        }
    }

    fn finding(&mut self, entry: Option<u64>, kind: FindingKind, what: String) {
        self.findings.push(Finding::new(self.me, entry, kind, what));
    }

    fn run<R: BufRead>(mut self, entries: BundleReader<R>, expect: &Expectations) -> Self {
        let mut frontier = Frontier::new();
        let mut last_checked = 0u64;
        // Batched signatures fail after the entry has been taken in; the audit fails all the
        // same, and the failure names the entry.
        let mut batch = SignatureBatch::new(self.agreement);
        for item in entries {
            let pos = self.count;
            self.count += 1;
            let (leaf, entry) = match item {
                Ok(e) => (hash_leaf(&e.bytes), Some(e)),
                Err(bad) => {
                    let what = format!("line {} {}", bad.line, bad.why);
                    self.finding(Some(pos), FindingKind::Malformed, what);
                    // The line takes the entry's place, so later roots are still checked.
                    (hash_leaf(bad.text.as_bytes()), None)
                }
            };
            if frontier.append(&[leaf]).is_err() {
                let what = "the log is too large for a Merkle tree".into();
                self.finding(Some(pos), FindingKind::Malformed, what);
            }
            let size = frontier.size().get();
            if let Some(exps) = expect.get(&size) {
                let root = frontier.root();
                for e in exps {
                    self.checkpoints_checked += 1;
                    if e.root != root {
                        let what = format!(
                            "the log does not match {} at size {size}: entries {last_checked}..{} were changed, dropped, reordered or inserted",
                            e.source,
                            size - 1
                        );
                        self.finding(Some(pos), FindingKind::RootMismatch, what);
                    }
                }
                last_checked = size;
            }
            let Some(entry) = entry else { continue };
            if entry.index != pos {
                let what = format!(
                    "is numbered {}: entries were dropped, inserted or reordered here",
                    entry.index
                );
                self.finding(Some(pos), FindingKind::OutOfOrder, what);
            }
            let outgoing = entry.direction == Direction::Out;
            match entry.decode() {
                Ok(Decoded::Envelope(signed)) => {
                    let queued = match &signed {
                        SignedEnvelope::V1(s) => self.queue(&mut batch, pos, s),
                        SignedEnvelope::V2(s) => self.queue(&mut batch, pos, s),
                    };
                    if queued {
                        self.body(pos, &signed, entry.body.as_deref());
                        self.envelope(pos, outgoing, &signed);
                    }
                }
                Ok(Decoded::Receipt(signed)) => {
                    if self.queue(&mut batch, pos, &signed) {
                        self.receipt(pos, outgoing, &signed);
                    }
                }
                Err(e) => self.finding(Some(pos), FindingKind::Malformed, e),
            }
        }
        for (entry, what) in batch.finish() {
            self.finding(Some(entry), FindingKind::BadSignature, what);
        }
        self.findings.sort_by_key(|f| f.entry);
        self.hashes.seal();
        self.ends(expect);
        self
    }

    /// Queues an entry's signature for its batch; false, with a finding, if the signer's keys
    /// already show it false (a signer with several keys is checked at once).
    fn queue<T: Signable>(
        &mut self,
        batch: &mut SignatureBatch<'_>,
        pos: u64,
        signed: &Signed<T>,
    ) -> bool {
        self.signatures += 1;
        match batch.check(pos, signed) {
            Ok(()) => true,
            Err(e) => {
                self.finding(Some(pos), FindingKind::BadSignature, e);
                false
            }
        }
    }

    /// The bundle must reach every size a checkpoint of its party commits to, and end at one.
    fn ends(&mut self, expect: &Expectations) {
        for (size, exps) in expect.range(self.count + 1..) {
            for e in exps {
                let what = format!(
                    "{} commits to size {size} ({}), but the bundle holds only {} entries: entries were dropped at the end",
                    e.source, e.root, self.count
                );
                self.finding(None, FindingKind::Truncated, what);
            }
        }
        let signed = expect.keys().next_back().copied().unwrap_or(0);
        if self.count > signed {
            let unsigned = match self.count - signed {
                1 => format!("entry {signed} comes"),
                n => format!("entries {signed} to {} ({n}) come", self.count - 1),
            };
            let what = format!(
                "{unsigned} after the last checkpoint {} signed: nothing commits {} to them, so a bundle must end at one of its party's checkpoints",
                self.me, self.me
            );
            self.finding(Some(signed), FindingKind::UnsignedTail, what);
        }
    }

    /// Whether a logged envelope or receipt signs the audited agreement and goes between the
    /// parties its place in this log says (`from` sends an envelope, or issues a receipt, to
    /// `to`); a finding if not.
    fn in_place(
        &mut self,
        pos: u64,
        outgoing: bool,
        what: &str,
        agreement: Digest,
        [from, to]: [&PartyId; 2],
    ) -> bool {
        let direction = if outgoing { "out" } else { "in" };
        if agreement != self.digest {
            let what = format!(
                "a logged {direction} {what} is signed under agreement {agreement}, not the audited {}",
                self.digest
            );
            self.finding(Some(pos), FindingKind::ForeignAgreement, what);
            return false;
        }
        let want = if outgoing {
            [self.me, self.partner]
        } else {
            [self.partner, self.me]
        };
        if [from, to] != want {
            let what = format!("a logged {direction} {what} goes {from} -> {to}");
            self.finding(Some(pos), FindingKind::WrongParties, what);
            return false;
        }
        true
    }

    /// The body a full bundle carries beside a version 2 envelope must be the one its signed
    /// header commits to and say the header's facts; a redacted bundle carries none, and the
    /// content is then the one thing left unchecked.
    fn body(&mut self, pos: u64, signed: &SignedEnvelope, body: Option<&[u8]>) {
        let Some(bytes) = body else {
            if signed.body_digest().is_some() {
                self.bodies_withheld += 1;
            }
            return;
        };
        let checked = SaltedBody::parse(bytes, usize::MAX)
            .map_err(|e| format!("the body beside it is malformed: {e}"))
            .and_then(|b| signed.open(Some(&b)).map_err(|e| e.to_string()));
        match checked {
            Ok(_) => self.bodies_checked += 1,
            Err(what) => self.finding(Some(pos), FindingKind::BodyMismatch, what),
        }
    }

    /// An envelope whose signature is queued: its agreement, its parties, and its hash for
    /// the cross-checks; it then waits for its receipt.
    fn envelope(&mut self, pos: u64, outgoing: bool, signed: &SignedEnvelope) {
        let env = &signed.view();
        if !self.in_place(
            pos,
            outgoing,
            "envelope",
            env.agreement,
            [&env.from, &env.to],
        ) {
            return;
        }
        if signed.version() != self.agreement.protocol {
            let what = format!(
                "an envelope sealed in wire version {}, where the agreement says protocol = {}",
                signed.version(),
                self.agreement.protocol
            );
            self.finding(Some(pos), FindingKind::WireVersion, what);
        }
        let hash = signed.payload_hash();
        if outgoing {
            self.hashes.out_envelopes.insert(key(&hash));
        } else {
            self.hashes.in_envelopes_from_partner.insert(key(&hash));
        }
        let compact = Compact::of(env, outgoing, self.agreement);
        self.waiting
            .insert(env.id, (pos, hash, compact, env.case.clone()));
    }

    /// A receipt whose signature is queued: its agreement, its parties, its time, and the
    /// envelope it makes official.
    fn receipt(&mut self, pos: u64, outgoing: bool, signed: &Signed<Receipt>) {
        let r = signed.payload();
        if !self.in_place(
            pos,
            outgoing,
            "receipt",
            r.agreement,
            [&r.issuer, &r.sender],
        ) {
            return;
        }
        if outgoing {
            // A node's receipt times only move forward, in log order.
            if self.latest_out_receipt.is_some_and(|l| r.received_at < l) {
                let what = format!(
                    "receipt time {} is earlier than a receipt issued before it",
                    r.received_at
                );
                self.finding(Some(pos), FindingKind::ReceiptTime, what);
            }
            self.latest_out_receipt = Some(r.received_at);
            self.hashes.out_receipts.insert(key(&signed.payload_hash()));
        } else {
            self.hashes
                .in_receipts
                .push((pos, key(&r.envelope_hash), key(&signed.payload_hash())));
        }
        self.latest_receipt = self.latest_receipt.max(Some(r.received_at));
        match self.waiting.remove(&r.envelope_id) {
            Some((entry, hash, compact, case)) if hash == r.envelope_hash => {
                // The index this party's receipt signs for the envelope is the one the
                // partner cites the request by: it must be where it logged it.
                if let Some(index) = r.log_index.filter(|i| outgoing && *i != entry) {
                    let what = format!(
                        "its receipt signs log index {index} for the envelope it logged at entry {entry}"
                    );
                    self.finding(Some(pos), FindingKind::LogIndex, what);
                }
                let skew = self.agreement.terms.clock_skew.duration();
                if r.received_at.add(skew) < compact.sent_at {
                    let what = format!(
                        "receipt time {} is before the envelope was sent ({}) beyond the agreed skew",
                        r.received_at, compact.sent_at
                    );
                    self.finding(Some(pos), FindingKind::ReceiptTime, what);
                }
                self.official_keys.push(official_key(&hash, r.received_at));
                if let Some(official) = &mut self.official {
                    official.push(&case, compact, r.received_at);
                }
            }
            Some((entry, _, _, _)) => {
                let what = format!("receipt does not cover the envelope logged at entry {entry}");
                self.finding(Some(pos), FindingKind::UnmatchedReceipt, what);
            }
            None => {
                let what = format!(
                    "receipt for envelope {} which the log does not hold before it",
                    r.envelope_id
                );
                self.finding(Some(pos), FindingKind::UnmatchedReceipt, what);
            }
        }
    }
}

/// The hashes of one bundle's envelopes and receipts that the cross-checks look up.
#[derive(Default)]
struct Hashes {
    out_envelopes: KeySet,
    in_envelopes_from_partner: KeySet,
    out_receipts: KeySet,
    // Receipts the party holds for its envelopes: (entry, envelope hash, receipt hash).
    in_receipts: Vec<(u64, Key, Key)>,
}

/// A set of keys as a vector, sorted once the scan ends: 16 bytes a key, where a hash set of a
/// million keys takes 20 to 40 and most of an audit's memory.
#[derive(Default)]
struct KeySet(Vec<Key>);

impl KeySet {
    fn insert(&mut self, k: Key) {
        self.0.push(k);
    }

    /// Sorts and deduplicates; lookups before this are wrong.
    fn seal(&mut self) {
        self.0.sort_unstable();
        self.0.dedup();
        self.0.shrink_to_fit();
    }

    fn contains(&self, k: &Key) -> bool {
        self.0.binary_search(k).is_ok()
    }

    fn iter(&self) -> impl Iterator<Item = &Key> {
        self.0.iter()
    }
}

impl Hashes {
    fn seal(&mut self) {
        self.out_envelopes.seal();
        self.in_envelopes_from_partner.seal();
        self.out_receipts.seal();
        self.in_receipts.shrink_to_fit();
    }
}

/// What `holder` claims the `other` party received and receipted must be in `other`'s log,
/// and what `other` logged as received from `holder` must be in `holder`'s log.
fn cross_check(
    holder: &PartyId,
    h: &Hashes,
    other: &PartyId,
    o: &Hashes,
    findings: &mut Vec<Finding>,
) {
    for (entry, envelope_hash, receipt_hash) in &h.in_receipts {
        if !o.in_envelopes_from_partner.contains(envelope_hash) {
            findings.push(Finding::new(
                other,
                None,
                FindingKind::Omission,
                format!("{holder} holds {other}'s receipt (its entry {entry}) for an envelope {other}'s log does not contain"),
            ));
        }
        if !o.out_receipts.contains(receipt_hash) {
            findings.push(Finding::new(
                other,
                None,
                FindingKind::Omission,
                format!("{holder} holds a receipt signed by {other} (its entry {entry}) that {other}'s log does not contain"),
            ));
        }
    }
    let missing = o
        .in_envelopes_from_partner
        .iter()
        .filter(|h2| !h.out_envelopes.contains(h2))
        .count();
    if missing > 0 {
        findings.push(Finding::new(
            holder,
            None,
            FindingKind::Omission,
            format!("{other} logged {missing} envelope(s) signed by {holder} that {holder}'s log does not contain"),
        ));
    }
}

/// A digest truncated to 128 bits for the audit's membership sets: finding two entries that
/// collide would take about 2^64 work, and the sets of a million entries halve in size.
type Key = [u8; 16];

fn key(d: &Digest) -> Key {
    let mut k = [0u8; 16];
    k.copy_from_slice(&d.as_bytes()[..16]);
    k
}

/// One official message's key: its envelope and its official time.
fn official_key(envelope_hash: &Digest, at: Timestamp) -> Key {
    let mut bytes = envelope_hash.as_bytes().to_vec();
    bytes.extend_from_slice(&at.unix_millis().to_be_bytes());
    key(&Digest::of(&bytes))
}
