//! Two parties' logs built in memory with the protocol and ledger crates, the way two nodes
//! would write them: each message logged by its sender, then by its receiver with the
//! receiver's signed receipt, then the receipt by the sender; a signed checkpoint after every
//! write, and each side holding the other's latest checkpoint. Hooks let a test change an
//! envelope or receipt before it is signed, to make a party that signs something wrong.

use std::io::Cursor;

use detente_audit::{Audit, BundleWriter, Direction, EntryKind, Header, Pin, audit};
use detente_domain::{Agreement, Deadlines, Party, Span, Terms};
use detente_ledger::{Checkpoint, Frontier, SignedCheckpoint, hash_leaf};
use detente_protocol::{
    AcknowledgementBody, AnswerBody, Body, CaseId, Envelope, MessageId, PartyId, Priority,
    RatingBody, Receipt, RequestBody, RequestKind, SecretKey, Signed, SignedEnvelope, StixValue,
    Timestamp, Tlp, WIRE_VERSION, WIRE_VERSION_2,
};

pub const US: usize = 0;
pub const CN: usize = 1;

/// One party's log.
pub struct Log {
    pub party: PartyId,
    pub key: SecretKey,
    tree: Frontier,
    pub entries: Vec<(EntryKind, Direction, Vec<u8>)>,
    pub checkpoints: Vec<String>,
    pub held: Vec<(PartyId, String)>,
}

impl Log {
    fn new(party: &str, key: SecretKey) -> Self {
        Self {
            party: PartyId::parse(party).unwrap(),
            key,
            tree: Frontier::new(),
            entries: Vec::new(),
            checkpoints: Vec::new(),
            held: Vec::new(),
        }
    }

    /// Appends an entry and returns its index.
    pub fn push(&mut self, kind: EntryKind, direction: Direction, bytes: Vec<u8>) -> u64 {
        let index = self.tree.size().get();
        self.tree.append(&[hash_leaf(&bytes)]).unwrap();
        self.entries.push((kind, direction, bytes));
        index
    }

    /// Signs a checkpoint of the log as it stands, as a node does after every write.
    pub fn sign(&mut self, agreement: &Agreement) -> String {
        let c = Checkpoint::new(
            &agreement.log_origin(&self.party),
            self.tree.size(),
            self.tree.root(),
        )
        .unwrap();
        let note = SignedCheckpoint::sign(c, &self.key, self.party.as_str())
            .unwrap()
            .to_text();
        self.checkpoints.push(note.clone());
        note
    }

    /// The log as a bundle in the current format.
    pub fn bundle(&self, agreement: &Agreement) -> Vec<u8> {
        let header = Header::new(
            self.party.clone(),
            agreement.clone(),
            self.entries.len() as u64,
        );
        let mut w = BundleWriter::new(Vec::new(), &header).unwrap();
        for note in &self.checkpoints {
            w.checkpoint(note).unwrap();
        }
        for (party, note) in &self.held {
            w.partner_checkpoint(party, note).unwrap();
        }
        for (index, (kind, direction, bytes)) in self.entries.iter().enumerate() {
            w.entry(index as u64, *kind, *direction, bytes).unwrap();
        }
        w.finish().unwrap()
    }
}

/// How a test changes one message before it is signed.
#[derive(Default)]
pub struct Tweak<'a> {
    pub envelope: Option<&'a dyn Fn(&mut Envelope)>,
    pub receipt: Option<&'a dyn Fn(&mut Receipt)>,
    /// The receiver neither logs the envelope nor its receipt, yet sends the receipt.
    pub receiver_logs_nothing: bool,
    /// The sender never logs the receipt (it was still in flight at the export).
    pub sender_misses_receipt: bool,
}

/// Two parties to one agreement and their logs.
pub struct Exchange {
    pub agreement: Agreement,
    pub logs: [Log; 2],
    seq: [u64; 2],
    cases: u32,
    /// Milliseconds since the first message.
    clock: i64,
}

/// Party keys from fixed seeds: the same agreement in every test.
pub fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed(&[seed; 32])
}

/// The agreement between US and CN with the given keys.
pub fn agreement_with(keys: [&SecretKey; 2]) -> Agreement {
    let d = Deadlines {
        acknowledge: Span::from_secs(3600),
        first_answer: Span::from_secs(86_400),
        final_answer: Span::from_secs(7 * 86_400),
    };
    let party = |id: &str, key: &SecretKey| Party {
        id: PartyId::parse(id).unwrap(),
        name: format!("{id}-CERT"),
        node_url: format!("https://{}.example", id.to_lowercase()),
        public_keys: vec![key.public_key()],
    };
    Agreement {
        id: "us-cn-test".into(),
        title: "test agreement".into(),
        parties: vec![party("US", keys[0]), party("CN", keys[1])],
        terms: Terms {
            kinds: RequestKind::ALL.to_vec(),
            categories: vec!["botnet".into(), "ip-theft".into()],
            deadlines: Priority::ALL.iter().map(|p| (*p, d)).collect(),
            clock_skew: Span::from_secs(300),
        },
        in_force_from: None,
        protocol: detente_protocol::WIRE_VERSION,
    }
}

impl Exchange {
    /// Two empty logs under the test agreement, keys from seeds 1 (US) and 2 (CN).
    pub fn new() -> Self {
        Self::with_keys(key(1), key(2))
    }

    pub fn with_keys(us: SecretKey, cn: SecretKey) -> Self {
        Self::under_protocol(us, cn, WIRE_VERSION)
    }

    /// Two empty logs under the test agreement with `protocol = 2`: every envelope is a
    /// signed header, and the bundles are redacted (no bodies beside the entries).
    pub fn redacted_with_keys(us: SecretKey, cn: SecretKey) -> Self {
        Self::under_protocol(us, cn, WIRE_VERSION_2)
    }

    fn under_protocol(us: SecretKey, cn: SecretKey, protocol: u32) -> Self {
        let mut agreement = agreement_with([&us, &cn]);
        agreement.protocol = protocol;
        Self {
            agreement,
            logs: [Log::new("US", us), Log::new("CN", cn)],
            seq: [0, 0],
            cases: 0,
            clock: 0,
        }
    }

    fn now(&mut self) -> Timestamp {
        self.clock += 1000;
        Timestamp::from_unix_millis(1_795_000_000_000 + self.clock).unwrap()
    }

    /// `from` sends `body` in `case`; it travels, is receipted and the receipt comes back.
    pub fn send(
        &mut self,
        from: usize,
        case: &CaseId,
        in_reply_to: Option<MessageId>,
        body: Body,
        tweak: &Tweak<'_>,
    ) -> MessageId {
        let to = 1 - from;
        self.seq[from] += 1;
        let mut envelope = Envelope {
            // Sealed in this version (a tweak may change it): the agreement's.
            v: self.agreement.protocol,
            id: MessageId::random(),
            agreement: self.agreement.digest(),
            from: self.logs[from].party.clone(),
            to: self.logs[to].party.clone(),
            seq: self.seq[from],
            sent_at: self.now(),
            case: case.clone(),
            in_reply_to,
            checkpoint: None,
            agency: None,
            body,
        };
        if let Some(t) = tweak.envelope {
            t(&mut envelope);
        }
        let (id, version) = (envelope.id, envelope.v);
        let (signed, _) = SignedEnvelope::seal(envelope, version, &self.logs[from].key).unwrap();
        self.logs[from].push(EntryKind::Envelope, Direction::Out, signed.to_bytes());
        let note = self.logs[from].sign(&self.agreement);
        let sender = self.logs[from].party.clone();
        let index = if tweak.receiver_logs_nothing {
            self.logs[to].tree.size().get()
        } else {
            self.logs[to].held.push((sender, note));
            self.logs[to].push(EntryKind::Envelope, Direction::In, signed.to_bytes())
        };
        let e = &signed.view();
        let mut receipt = Receipt {
            v: WIRE_VERSION,
            agreement: self.agreement.digest(),
            issuer: self.logs[to].party.clone(),
            sender: self.logs[from].party.clone(),
            envelope_id: e.id,
            envelope_hash: signed.payload_hash(),
            seq: e.seq,
            case: e.case.clone(),
            received_at: self.now(),
            log_index: Some(index),
            checkpoint: None,
        };
        if let Some(t) = tweak.receipt {
            t(&mut receipt);
        }
        let receipt = Signed::seal(receipt, &self.logs[to].key)
            .unwrap()
            .to_bytes();
        if !tweak.receiver_logs_nothing {
            self.logs[to].push(EntryKind::Receipt, Direction::Out, receipt.clone());
            let note = self.logs[to].sign(&self.agreement);
            let party = self.logs[to].party.clone();
            self.logs[from].held.push((party, note));
        }
        if !tweak.sender_misses_receipt {
            self.logs[from].push(EntryKind::Receipt, Direction::In, receipt);
            self.logs[from].sign(&self.agreement);
        }
        id
    }

    /// US files a request to CN with `objects`; returns the case and the request's id.
    pub fn file_with(&mut self, objects: Vec<StixValue>, tweak: &Tweak<'_>) -> (CaseId, MessageId) {
        self.cases += 1;
        let case = CaseId::new(self.logs[US].party.clone(), 2026, self.cases);
        let body = Body::Request(RequestBody {
            kind: RequestKind::Investigation,
            category: "botnet".into(),
            priority: Priority::High,
            tlp: Tlp::Amber,
            title: format!("case {}", self.cases),
            narrative: "The listed host runs a botnet controller.".into(),
            observables: Vec::new(),
            attachments: Vec::new(),
            objects,
            attribution: None,
            preservation: None,
        });
        let id = self.send(US, &case, None, body, tweak);
        (case, id)
    }

    /// A whole case: US files, CN acknowledges and answers finally, US rates.
    pub fn work_case(&mut self) {
        let (case, request) = self.file_with(Vec::new(), &Tweak::default());
        let ack = self.send(
            CN,
            &case,
            Some(request),
            Body::Acknowledgement(AcknowledgementBody {
                note: "seen".into(),
            }),
            &Tweak::default(),
        );
        let answer = self.send(
            CN,
            &case,
            Some(ack),
            Body::Answer(AnswerBody {
                is_final: true,
                text: "done".into(),
                observables: Vec::new(),
                attachments: Vec::new(),
                objects: Vec::new(),
            }),
            &Tweak::default(),
        );
        self.send(
            US,
            &case,
            Some(answer),
            Body::Rating(RatingBody {
                score: 4,
                comment: String::new(),
            }),
            &Tweak::default(),
        );
    }

    /// Both logs as bundles, US first.
    pub fn bundles(&self) -> [Vec<u8>; 2] {
        [
            self.logs[US].bundle(&self.agreement),
            self.logs[CN].bundle(&self.agreement),
        ]
    }

    /// Audits both logs under this exchange's agreement, pinned.
    pub fn audit(&self) -> Audit {
        let [us, cn] = self.bundles();
        audit_pinned(&us, &cn, &self.agreement)
    }
}

/// Audits two bundles under `agreement`, pinned.
pub fn audit_pinned(a: &[u8], b: &[u8], agreement: &Agreement) -> Audit {
    audit(
        Cursor::new(a),
        Cursor::new(b),
        &Pin::Agreement(agreement.clone()),
    )
    .unwrap()
}

/// A bundle's lines, to doctor.
pub fn lines(bundle: &[u8]) -> Vec<String> {
    String::from_utf8(bundle.to_vec())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Lines back into a bundle.
pub fn join(lines: &[String]) -> Vec<u8> {
    (lines.join("\n") + "\n").into_bytes()
}

/// The line of entry `index`.
pub fn entry_line(lines: &[String], index: u64) -> usize {
    let prefix = format!("{{\"entry\":{{\"index\":{index},");
    lines.iter().position(|l| l.starts_with(&prefix)).unwrap()
}
