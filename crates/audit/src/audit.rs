//! The audit of two bundles. See the crate documentation for what is checked.

use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    io::BufRead,
};

use detente_domain::{Agreement, OfficialMessage, derive_case};
use detente_ledger::{Checkpoint, Frontier, SignedCheckpoint, hash_leaf};
use detente_protocol::{
    AcknowledgementBody, AnswerBody, Body, CaseId, ClarificationBody, ClarificationRequestBody,
    DeclineBody, DeclineReason, Digest, Envelope, MessageId, PartyId, Priority, RatingBody,
    Receipt, RequestBody, RequestKind, Signed, Timestamp, Tlp, WIRE_VERSION, WithdrawalBody,
    canonical_bytes,
};
use detente_report::{DirectionSummary, Summarizer};

use crate::{
    bundle::{BUNDLE_FORMAT, BundleLine, Header},
    signatures::SignatureBatch,
};

/// Why an audit could not even start: the input is not a pair of bundles of one agreement.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The input is not usable as a bundle pair.
    #[error("unusable input: {0}")]
    Unusable(String),
}

/// One thing that does not check out, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The party whose bundle it was found in.
    pub party: PartyId,
    /// The entry concerned, if one can be named.
    pub entry: Option<u64>,
    /// What is wrong.
    pub what: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.entry {
            Some(i) => write!(f, "{} entry {i}: {}", self.party, self.what),
            None => write!(f, "{}: {}", self.party, self.what),
        }
    }
}

/// What the audit found.
#[derive(Debug)]
pub struct Audit {
    /// The two parties, in the order the bundles were given.
    pub parties: [PartyId; 2],
    /// Entries read from each bundle.
    pub entries: [u64; 2],
    /// Signatures verified (envelopes, receipts, checkpoints).
    pub signatures: u64,
    /// Checkpoint roots compared with the recomputed trees.
    pub checkpoints_checked: u64,
    /// Everything that does not check out; empty means verified.
    pub findings: Vec<Finding>,
    /// The timeliness figures per direction, recomputed from the logs.
    pub figures: Vec<DirectionSummary>,
    /// The instant the figures are computed at: the latest receipt time in either log.
    pub as_of: Option<Timestamp>,
    /// Messages that lost a race with a concurrent message (legal, and counted for the record).
    pub voided: usize,
}

impl Audit {
    /// Whether everything checked out.
    pub fn verified(&self) -> bool {
        self.findings.is_empty()
    }
}

/// What one bundle committed to before its entries: expected roots at sizes.
struct Expectation {
    root: Digest,
    source: String,
}

/// What the head of a bundle says.
struct Head {
    header: Header,
    checkpoints: Vec<(usize, String)>,
    partner_checkpoints: Vec<(usize, PartyId, String)>,
    first_entry: Option<(usize, String)>,
}

/// The state of one bundle's entries after streaming them.
#[derive(Default)]
struct Scan {
    count: u64,
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

/// One log's official messages in fixed-size records, with the case's party interned: a
/// million-entry log's cases as maps of strings and vectors took over 100 MB.
#[derive(Default)]
struct Officials {
    messages: Vec<Official>,
    parties: HashMap<PartyId, u32>,
}

struct Official {
    party: u32,
    year: u16,
    number: u32,
    at: Timestamp,
    compact: Compact,
}

impl Officials {
    fn push(&mut self, case: &CaseId, compact: Compact, at: Timestamp) {
        let next = u32::try_from(self.parties.len()).expect("fewer parties than entries");
        let party = *self.parties.entry(case.party().clone()).or_insert(next);
        self.messages.push(Official {
            party,
            year: case.year(),
            number: case.number(),
            at,
            compact,
        });
    }

    /// Each case with its official messages, in case id order.
    fn into_cases(self) -> impl Iterator<Item = (CaseId, Vec<(Compact, Timestamp)>)> {
        let mut names: Vec<(PartyId, u32)> = self.parties.into_iter().collect();
        names.sort_unstable();
        let mut rank = vec![0u32; names.len()];
        for (r, (_, i)) in (0u32..).zip(&names) {
            rank[*i as usize] = r;
        }
        let mut messages = self.messages;
        // Case ids order by party name, then year and number; the rank of the name stands in
        // for it. The order within a case does not matter to `derive_case`.
        messages.sort_unstable_by_key(|m| (rank[m.party as usize], m.year, m.number));
        let mut messages = messages.into_iter().peekable();
        std::iter::from_fn(move || {
            let first = messages.next()?;
            let case = CaseId::new(
                names[rank[first.party as usize] as usize].0.clone(),
                first.year,
                first.number,
            );
            let mut group = vec![(first.compact, first.at)];
            while let Some(m) = messages
                .next_if(|m| (m.party, m.year, m.number) == (first.party, first.year, first.number))
            {
                group.push((m.compact, m.at));
            }
            Some((case, group))
        })
    }
}

/// Audits bundles `a` and `b` of the two parties to one agreement.
pub fn audit<A: BufRead + Send, B: BufRead + Send>(a: A, b: B) -> Result<Audit, AuditError> {
    let mut lines_a = a.lines().enumerate();
    let mut lines_b = b.lines().enumerate();
    let mut head_a = read_head(&mut lines_a)?;
    let mut head_b = read_head(&mut lines_b)?;
    let agreement = head_a.header.agreement.clone();
    let digest = agreement.digest();
    if digest != head_b.header.agreement.digest() {
        return Err(AuditError::Unusable(
            "the two bundles were written under different agreements".into(),
        ));
    }
    let (pa, pb) = (head_a.header.party.clone(), head_b.header.party.clone());
    if pa == pb || agreement.party(&pa).is_none() || agreement.party(&pb).is_none() {
        return Err(AuditError::Unusable(format!(
            "need the bundles of two different parties to the agreement, got {pa} and {pb}"
        )));
    }
    let mut findings = Vec::new();
    let mut signatures = 0u64;
    // Sizes each log must have the stated roots at: from its own checkpoints, and from the
    // checkpoints the other party holds from it.
    let mut expect: [BTreeMap<u64, Vec<Expectation>>; 2] = [BTreeMap::new(), BTreeMap::new()];
    for (slot, head, me) in [(0, &head_a, &pa), (1, &head_b, &pb)] {
        for (line, note) in &head.checkpoints {
            signatures += 1;
            match verify_checkpoint(&agreement, me, note) {
                Ok(c) => expect[slot]
                    .entry(c.size().get())
                    .or_default()
                    .push(Expectation {
                        root: c.root(),
                        source: format!("its own checkpoint on line {line}"),
                    }),
                Err(e) => findings.push(Finding {
                    party: me.clone(),
                    entry: None,
                    what: format!("checkpoint on line {line} {e}"),
                }),
            }
        }
        for (line, party, note) in &head.partner_checkpoints {
            let other = if slot == 0 { &pb } else { &pa };
            if party != other {
                continue;
            }
            signatures += 1;
            match verify_checkpoint(&agreement, party, note) {
                Ok(c) => expect[1 - slot]
                    .entry(c.size().get())
                    .or_default()
                    .push(Expectation {
                        root: c.root(),
                        source: format!(
                            "the checkpoint {me} holds from it (line {line} of {me}'s bundle)"
                        ),
                    }),
                // The holder kept a note that is not the partner's: the holder's bundle is wrong.
                Err(e) => findings.push(Finding {
                    party: me.clone(),
                    entry: None,
                    what: format!("partner checkpoint on line {line} {e}"),
                }),
            }
        }
    }
    // The two bundles are independent until the cross-checks: scan them on two cores.
    let (first_a, first_b) = (head_a.first_entry.take(), head_b.first_entry.take());
    let [expect_a, expect_b] = &expect;
    let ((mut scan_a, found_a, sigs_a, checked_a), (mut scan_b, found_b, sigs_b, checked_b)) =
        std::thread::scope(|scope| {
            let a =
                scope.spawn(|| scan(&agreement, &pa, &pb, first_a, &mut lines_a, expect_a, true));
            let b = scan(&agreement, &pb, &pa, first_b, &mut lines_b, expect_b, false);
            (
                a.join()
                    .expect("the scan of the first bundle does not panic"),
                b,
            )
        });
    findings.extend(found_a);
    findings.extend(found_b);
    signatures += sigs_a + sigs_b;
    let checkpoints_checked = checked_a + checked_b;
    for (me, header, s) in [
        (&pa, &head_a.header, &scan_a),
        (&pb, &head_b.header, &scan_b),
    ] {
        if header.size != s.count {
            findings.push(Finding {
                party: me.clone(),
                entry: None,
                what: format!(
                    "the header announces {} entries, the bundle holds {}",
                    header.size, s.count
                ),
            });
        }
    }
    cross_check(&pa, &scan_a.hashes, &pb, &scan_b.hashes, &mut findings);
    cross_check(&pb, &scan_b.hashes, &pa, &scan_a.hashes, &mut findings);
    let as_of = scan_a.latest_receipt.max(scan_b.latest_receipt);
    let mut voided = 0;
    let mut figures = Vec::new();
    let official = scan_a.official.take().unwrap_or_default();
    // Both logs must hold the same official messages (envelopes with their receipt times),
    // or the figures would depend on whose log was read.
    scan_a.official_keys.sort_unstable();
    scan_b.official_keys.sort_unstable();
    let same_officials = scan_a.official_keys == scan_b.official_keys;
    let official_counts = (scan_a.official_keys.len(), scan_b.official_keys.len());
    // The sets are done with: free them before the cases take their turn.
    drop((scan_a.hashes, scan_b.hashes));
    drop((scan_a.official_keys, scan_b.official_keys));
    if let Some(at) = as_of {
        // Each case is counted and dropped as soon as it is derived.
        let mut summary = Summarizer::new(&agreement, at);
        for (id, messages) in official.into_cases() {
            let messages: Vec<OfficialMessage> = messages
                .iter()
                .map(|(c, at)| OfficialMessage {
                    envelope: c.envelope(&id, &pa, &pb, &agreement, digest),
                    at: *at,
                })
                .collect();
            match derive_case(&agreement, &messages) {
                Ok(c) => {
                    voided += c.voided.len();
                    summary.add(&c);
                }
                Err(e) => findings.push(Finding {
                    party: pa.clone(),
                    entry: None,
                    what: format!("case {id} is not a legal history: {e}"),
                }),
            }
        }
        figures = summary.finish();
    }
    if !same_officials {
        findings.push(Finding {
            party: pa.clone(),
            entry: None,
            what: format!(
                "{pa}'s log holds {} receipted messages and {pb}'s {}, or the same number but not the same ones: the figures would differ",
                official_counts.0, official_counts.1
            ),
        });
    }
    Ok(Audit {
        parties: [pa, pb],
        entries: [scan_a.count, scan_b.count],
        signatures,
        checkpoints_checked,
        findings,
        figures,
        as_of,
        voided,
    })
}

type Lines<R> = std::iter::Enumerate<std::io::Lines<R>>;

fn read_head<R: BufRead>(lines: &mut Lines<R>) -> Result<Head, AuditError> {
    let unusable = |m: String| AuditError::Unusable(m);
    let (_, first) = lines
        .next()
        .ok_or_else(|| unusable("empty bundle".into()))?;
    let first = first.map_err(|e| unusable(format!("cannot read the bundle: {e}")))?;
    let header = match serde_json::from_str::<BundleLine>(&first) {
        Ok(BundleLine::Header(h)) if h.format == BUNDLE_FORMAT => h,
        Ok(BundleLine::Header(h)) => {
            return Err(unusable(format!(
                "bundle format {:?} is not {BUNDLE_FORMAT}",
                h.format
            )));
        }
        _ => {
            return Err(unusable(
                "the first line is not a detente bundle header".into(),
            ));
        }
    };
    header
        .agreement
        .validate()
        .map_err(|e| unusable(format!("the bundle's agreement: {e}")))?;
    let mut head = Head {
        header,
        checkpoints: Vec::new(),
        partner_checkpoints: Vec::new(),
        first_entry: None,
    };
    for (n, line) in lines.by_ref() {
        let line = line.map_err(|e| unusable(format!("cannot read line {}: {e}", n + 1)))?;
        match serde_json::from_str::<BundleLine>(&line) {
            Ok(BundleLine::Checkpoint(note)) => head.checkpoints.push((n + 1, note)),
            Ok(BundleLine::PartnerCheckpoint { party, note }) => {
                head.partner_checkpoints.push((n + 1, party, note))
            }
            // The first entry (or a damaged line where entries begin) ends the head.
            _ => {
                head.first_entry = Some((n + 1, line));
                break;
            }
        }
    }
    Ok(head)
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
    let origin = format!("detente/{}/{party}", agreement.id);
    if c.origin() != origin {
        return Err(format!("names log {:?}, not {origin:?}", c.origin()));
    }
    Ok(c.clone())
}

/// Streams one bundle's entries: tree, signatures, directions, receipts, official messages.
fn scan<R: BufRead>(
    agreement: &Agreement,
    me: &PartyId,
    partner: &PartyId,
    first: Option<(usize, String)>,
    lines: &mut Lines<R>,
    expect: &BTreeMap<u64, Vec<Expectation>>,
    keep_cases: bool,
) -> (Scan, Vec<Finding>, u64, u64) {
    let mut findings = Vec::new();
    let (mut signatures, mut checkpoints_checked) = (0u64, 0u64);
    let mut s = Scan {
        official: keep_cases.then(Officials::default),
        ..Scan::default()
    };
    let mut frontier = Frontier::new();
    let mut last_checked = 0u64;
    let skew = agreement.terms.clock_skew.duration();
    // Envelopes waiting for their receipt, by id: (entry, hash, compact form, case).
    let mut waiting: HashMap<MessageId, (u64, Digest, Compact, CaseId)> = HashMap::new();
    // Batched signatures fail after the entry has been taken in; the audit fails all the same,
    // and the failure names the entry.
    let mut batch = SignatureBatch::new(agreement);
    let rest = lines.map(|(n, l)| (n + 1, l.unwrap_or_default()));
    for (line_no, line) in first.into_iter().chain(rest) {
        let pos = s.count;
        s.count += 1;
        let mut finding = |what: String| {
            findings.push(Finding {
                party: me.clone(),
                entry: Some(pos),
                what,
            })
        };
        let (index, kind, direction, data) = match serde_json::from_str::<BundleLine>(&line) {
            Ok(BundleLine::Entry {
                index,
                kind,
                direction,
                data,
            }) => (index, kind, direction, data),
            _ => {
                finding(format!("line {line_no} is not a well-formed entry"));
                let _ = frontier.append(&[hash_leaf(line.as_bytes())]);
                continue;
            }
        };
        if index != pos {
            finding(format!(
                "is numbered {index}: entries were dropped, inserted or reordered here"
            ));
        }
        let bytes = canonical_bytes(&data);
        if frontier.append(&[hash_leaf(&bytes)]).is_err() {
            finding("the log is too large for a Merkle tree".into());
        }
        let size = frontier.size().get();
        if let Some(exps) = expect.get(&size) {
            let root = frontier.root();
            for e in exps {
                checkpoints_checked += 1;
                if e.root != root {
                    finding(format!(
                        "the log does not match {} at size {size}: entries {last_checked}..{} were changed, dropped, reordered or inserted",
                        e.source,
                        size - 1
                    ));
                }
            }
            last_checked = size;
        }
        let outgoing = match direction.as_str() {
            "out" => true,
            "in" => false,
            other => {
                finding(format!("direction {other:?} is neither in nor out"));
                continue;
            }
        };
        match kind.as_str() {
            "envelope" => {
                let signed = match Signed::<Envelope>::from_value(data) {
                    Ok(e) => e,
                    Err(e) => {
                        finding(format!("envelope is malformed: {e}"));
                        continue;
                    }
                };
                signatures += 1;
                let env = signed.payload();
                if let Err(e) = batch.check(pos, &signed) {
                    finding(e);
                    continue;
                }
                let (want_from, want_to) = if outgoing {
                    (me, partner)
                } else {
                    (partner, me)
                };
                if &env.from != want_from || &env.to != want_to {
                    finding(format!(
                        "a logged {direction} envelope goes {} -> {}",
                        env.from, env.to
                    ));
                    continue;
                }
                let hash = signed.payload_hash();
                if outgoing {
                    s.hashes.out_envelopes.insert(key(&hash));
                } else {
                    s.hashes.in_envelopes_from_partner.insert(key(&hash));
                }
                let compact = Compact::of(env, outgoing, agreement);
                waiting.insert(env.id, (pos, hash, compact, env.case.clone()));
            }
            "receipt" => {
                let signed = match Signed::<Receipt>::from_value(data) {
                    Ok(r) => r,
                    Err(e) => {
                        finding(format!("receipt is malformed: {e}"));
                        continue;
                    }
                };
                signatures += 1;
                if let Err(e) = batch.check(pos, &signed) {
                    finding(e);
                    continue;
                }
                let r = signed.payload();
                let (want_issuer, want_sender) = if outgoing {
                    (me, partner)
                } else {
                    (partner, me)
                };
                if &r.issuer != want_issuer || &r.sender != want_sender {
                    finding(format!(
                        "a logged {direction} receipt is issued by {} for {}",
                        r.issuer, r.sender
                    ));
                    continue;
                }
                if outgoing {
                    // A node's receipt times only move forward, in log order.
                    if s.latest_out_receipt.is_some_and(|l| r.received_at < l) {
                        finding(format!(
                            "receipt time {} is earlier than a receipt issued before it",
                            r.received_at
                        ));
                    }
                    s.latest_out_receipt = Some(r.received_at);
                    s.hashes.out_receipts.insert(key(&signed.payload_hash()));
                } else {
                    s.hashes.in_receipts.push((
                        pos,
                        key(&r.envelope_hash),
                        key(&signed.payload_hash()),
                    ));
                }
                s.latest_receipt = s.latest_receipt.max(Some(r.received_at));
                match waiting.remove(&r.envelope_id) {
                    Some((entry, hash, compact, case)) if hash == r.envelope_hash => {
                        // The index this party's receipt signs for the envelope is the one
                        // the partner cites the request by: it must be where it logged it.
                        if outgoing && r.log_index.is_some_and(|i| i != entry) {
                            finding(format!(
                                "its receipt signs log index {} for the envelope it logged at entry {entry}",
                                r.log_index.unwrap_or_default()
                            ));
                        }
                        if r.received_at.add(skew) < compact.sent_at {
                            finding(format!(
                                "receipt time {} is before the envelope was sent ({}) beyond the agreed skew",
                                r.received_at, compact.sent_at
                            ));
                        }
                        s.official_keys.push(official_key(&hash, r.received_at));
                        if let Some(official) = &mut s.official {
                            official.push(&case, compact, r.received_at);
                        }
                    }
                    Some((entry, _, _, _)) => finding(format!(
                        "receipt does not cover the envelope logged at entry {entry}"
                    )),
                    None => finding(format!(
                        "receipt for envelope {} which the log does not hold before it",
                        r.envelope_id
                    )),
                }
            }
            other => finding(format!("kind {other:?} is neither envelope nor receipt")),
        }
    }
    findings.extend(batch.finish().into_iter().map(|(entry, what)| Finding {
        party: me.clone(),
        entry: Some(entry),
        what,
    }));
    findings.sort_by_key(|f| f.entry);
    s.hashes.seal();
    for (size, exps) in expect.range(s.count + 1..) {
        for e in exps {
            findings.push(Finding {
                party: me.clone(),
                entry: None,
                what: format!(
                    "{} commits to size {size} ({}), but the bundle holds only {} entries: entries were dropped at the end",
                    e.source, e.root, s.count
                ),
            });
        }
    }
    (s, findings, signatures, checkpoints_checked)
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
            findings.push(Finding {
                party: other.clone(),
                entry: None,
                what: format!("{holder} holds {other}'s receipt (its entry {entry}) for an envelope {other}'s log does not contain"),
            });
        }
        if !o.out_receipts.contains(receipt_hash) {
            findings.push(Finding {
                party: other.clone(),
                entry: None,
                what: format!("{holder} holds a receipt signed by {other} (its entry {entry}) that {other}'s log does not contain"),
            });
        }
    }
    let missing = o
        .in_envelopes_from_partner
        .iter()
        .filter(|h2| !h.out_envelopes.contains(h2))
        .count();
    if missing > 0 {
        findings.push(Finding {
            party: holder.clone(),
            entry: None,
            what: format!("{other} logged {missing} envelope(s) signed by {holder} that {holder}'s log does not contain"),
        });
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

/// What the lifecycle and the figures need of an envelope, and nothing else: an audit of a
/// million entries must not hold every narrative (or even every party name) in memory.
struct Compact {
    id: MessageId,
    from_scanner: bool,
    seq: u64,
    sent_at: Timestamp,
    in_reply_to: Option<MessageId>,
    body: CompactBody,
}

enum CompactBody {
    Request {
        kind: RequestKind,
        category: Option<u16>,
        priority: Priority,
        tlp: Tlp,
    },
    Acknowledgement,
    ClarificationRequest,
    Clarification,
    Answer {
        is_final: bool,
    },
    Decline(DeclineReason),
    Withdrawal,
    Rating(u8),
}

impl Compact {
    fn of(env: &Envelope, from_scanner: bool, agreement: &Agreement) -> Self {
        let body = match &env.body {
            Body::Request(r) => CompactBody::Request {
                kind: r.kind,
                // A category outside the terms stays unknown, and opening the case then fails.
                category: agreement
                    .terms
                    .categories
                    .iter()
                    .position(|c| c == &r.category)
                    .and_then(|i| u16::try_from(i).ok()),
                priority: r.priority,
                tlp: r.tlp,
            },
            Body::Acknowledgement(_) => CompactBody::Acknowledgement,
            Body::ClarificationRequest(_) => CompactBody::ClarificationRequest,
            Body::Clarification(_) => CompactBody::Clarification,
            Body::Answer(a) => CompactBody::Answer {
                is_final: a.is_final,
            },
            Body::Decline(d) => CompactBody::Decline(d.reason),
            Body::Withdrawal(_) => CompactBody::Withdrawal,
            Body::Rating(r) => CompactBody::Rating(r.score),
        };
        Self {
            id: env.id,
            from_scanner,
            seq: env.seq,
            sent_at: env.sent_at,
            in_reply_to: env.in_reply_to,
            body,
        }
    }

    /// The envelope again, with its free text empty.
    fn envelope(
        &self,
        case: &CaseId,
        scanner: &PartyId,
        partner: &PartyId,
        agreement: &Agreement,
        digest: Digest,
    ) -> Envelope {
        let (from, to) = if self.from_scanner {
            (scanner, partner)
        } else {
            (partner, scanner)
        };
        let body = match &self.body {
            CompactBody::Request {
                kind,
                category,
                priority,
                tlp,
            } => Body::Request(RequestBody {
                kind: *kind,
                category: category
                    .and_then(|i| agreement.terms.categories.get(usize::from(i)).cloned())
                    .unwrap_or_default(),
                priority: *priority,
                tlp: *tlp,
                title: String::new(),
                narrative: String::new(),
                observables: Vec::new(),
                attachments: Vec::new(),
                objects: Vec::new(),
                attribution: None,
                preservation: None,
            }),
            CompactBody::Acknowledgement => Body::Acknowledgement(AcknowledgementBody {
                note: String::new(),
            }),
            CompactBody::ClarificationRequest => {
                Body::ClarificationRequest(ClarificationRequestBody {
                    question: String::new(),
                })
            }
            CompactBody::Clarification => Body::Clarification(ClarificationBody {
                text: String::new(),
            }),
            CompactBody::Answer { is_final } => Body::Answer(AnswerBody {
                is_final: *is_final,
                text: String::new(),
                observables: Vec::new(),
                attachments: Vec::new(),
                objects: Vec::new(),
            }),
            CompactBody::Decline(reason) => Body::Decline(DeclineBody {
                reason: *reason,
                text: String::new(),
            }),
            CompactBody::Withdrawal => Body::Withdrawal(WithdrawalBody {
                reason: String::new(),
            }),
            CompactBody::Rating(score) => Body::Rating(RatingBody {
                score: *score,
                comment: String::new(),
            }),
        };
        Envelope {
            v: WIRE_VERSION,
            id: self.id,
            agreement: digest,
            from: from.clone(),
            to: to.clone(),
            seq: self.seq,
            sent_at: self.sent_at,
            case: case.clone(),
            in_reply_to: self.in_reply_to,
            checkpoint: None,
            body,
        }
    }
}
