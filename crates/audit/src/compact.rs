//! What the audit keeps of each official message: a fixed-size record per message, enough to
//! derive the case and its figures, and nothing else (no narratives, no party names).

use std::collections::HashMap;

use detente_domain::Agreement;
use detente_protocol::{
    AcknowledgementBody, AnswerBody, Body, CaseId, ClarificationBody, ClarificationRequestBody,
    DeclineBody, DeclineReason, Digest, Envelope, MessageId, PartyId, Priority, RatingBody,
    RequestBody, RequestKind, Timestamp, Tlp, WIRE_VERSION, WithdrawalBody,
};

/// One log's official messages in fixed-size records, with the case's party interned: a
/// million-entry log's cases as maps of strings and vectors took over 100 MB.
#[derive(Default)]
pub(crate) struct Officials {
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
    pub(crate) fn push(&mut self, case: &CaseId, compact: Compact, at: Timestamp) {
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
    pub(crate) fn into_cases(self) -> impl Iterator<Item = (CaseId, Vec<(Compact, Timestamp)>)> {
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

/// What the lifecycle and the figures need of an envelope, and nothing else: an audit of a
/// million entries must not hold every narrative (or even every party name) in memory.
pub(crate) struct Compact {
    id: MessageId,
    from_scanner: bool,
    seq: u64,
    pub(crate) sent_at: Timestamp,
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
    pub(crate) fn of(env: &Envelope, from_scanner: bool, agreement: &Agreement) -> Self {
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
    pub(crate) fn envelope(
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
            agency: None,
            body,
        }
    }
}
