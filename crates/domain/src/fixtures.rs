//! Builders for tests: the sample agreement, message bodies, envelopes, and cases in any
//! status, so each test states only what it is about.
//!
//! The unit tests use this module as `crate::fixtures`; the integration tests (`tests/it`)
//! compile the same file by `#[path]`, so there is one set of fixtures. It names the crate's
//! types as `crate::Agreement` and so on, which both crates provide. The agreement is the one
//! in `tests/data/sample-agreement.toml`. Its parties are `US` and `CN`; `GB` is a stranger to it. Cases are filed by `US`
//! and answered by `CN`; times are seconds after a fixed moment, [`t`].

use detente_protocol::{
    AcknowledgementBody, AnswerBody, Body, CaseId, ClarificationBody, ClarificationRequestBody,
    DeclineBody, DeclineReason, Envelope, MessageId, PartyId, Priority, RatingBody, RequestBody,
    RequestKind, SecretKey, Timestamp, Tlp, WIRE_VERSION, WithdrawalBody,
};

use crate::{Agreement, Case, CaseStatus, OfficialMessage, Party, Role};

/// The sample agreement document between `US` and `CN`.
pub(crate) const SAMPLE: &str = include_str!("../tests/data/sample-agreement.toml");

/// An hour, in the seconds [`t`] takes.
pub(crate) const HOUR: i64 = 3_600;
/// A day, in the seconds [`t`] takes.
pub(crate) const DAY: i64 = 24 * HOUR;

/// The sample agreement, parsed.
pub(crate) fn agreement() -> Agreement {
    Agreement::from_toml(SAMPLE).expect("the sample agreement is valid")
}

/// The sample agreement with `GB` as a third party, who is no party to US-CN cases.
pub(crate) fn three_party_agreement() -> Agreement {
    let mut a = agreement();
    a.parties.push(Party {
        id: party("GB"),
        name: "NCSC".into(),
        node_url: "http://127.0.0.1:7003".into(),
        public_keys: vec![SecretKey::from_seed(&[7; 32]).public_key()],
    });
    a.validate()
        .expect("three distinct parties with distinct keys");
    a
}

/// A party id from its code.
pub(crate) fn party(code: &str) -> PartyId {
    PartyId::parse(code).expect("a valid party code")
}

/// The case every builder files: `US-2026-0001`.
pub(crate) fn case_id() -> CaseId {
    CaseId::parse("US-2026-0001").expect("a valid case id")
}

/// `seconds` after 2026-05-01T00:00:00Z.
pub(crate) fn t(seconds: i64) -> Timestamp {
    Timestamp::from_unix_millis((1_777_593_600 + seconds) * 1_000).expect("in range")
}

/// A request for information about a botnet, of `priority`.
pub(crate) fn request_body(priority: Priority) -> RequestBody {
    RequestBody {
        kind: RequestKind::Information,
        category: "botnet".into(),
        priority,
        tlp: Tlp::Amber,
        title: "C2 server in your address space".into(),
        narrative: "Who operates 203.0.113.7?".into(),
        observables: Vec::new(),
        attachments: Vec::new(),
        objects: Vec::new(),
        attribution: None,
        preservation: None,
    }
}

/// A normal-priority request.
pub(crate) fn request() -> Body {
    Body::Request(request_body(Priority::Normal))
}

/// An acknowledgement.
pub(crate) fn ack() -> Body {
    Body::Acknowledgement(AcknowledgementBody {
        note: "Taken up by the duty officer".into(),
    })
}

/// A clarification request.
pub(crate) fn question() -> Body {
    Body::ClarificationRequest(ClarificationRequestBody {
        question: "Which port?".into(),
    })
}

/// A clarification.
pub(crate) fn clarification() -> Body {
    Body::Clarification(ClarificationBody { text: "443".into() })
}

/// A partial answer.
pub(crate) fn partial_answer() -> Body {
    answer(false)
}

/// A final answer.
pub(crate) fn final_answer() -> Body {
    answer(true)
}

fn answer(is_final: bool) -> Body {
    Body::Answer(AnswerBody {
        is_final,
        text: "A hosting customer; we have notified them.".into(),
        observables: Vec::new(),
        attachments: Vec::new(),
        objects: Vec::new(),
    })
}

/// A decline for lack of jurisdiction.
pub(crate) fn decline() -> Body {
    Body::Decline(DeclineBody {
        reason: DeclineReason::NoJurisdiction,
        text: "The address is not ours".into(),
    })
}

/// A withdrawal.
pub(crate) fn withdrawal() -> Body {
    Body::Withdrawal(WithdrawalBody {
        reason: "Resolved".into(),
    })
}

/// A rating of `score`.
pub(crate) fn rating(score: u8) -> Body {
    Body::Rating(RatingBody {
        score,
        comment: String::new(),
    })
}

/// An envelope being built; it starts as `seq` 1 of case `US-2026-0001` with a fresh id.
pub(crate) struct EnvelopeBuilder(Envelope);

/// `body` from the requester `US` to the responder `CN`.
pub(crate) fn from_requester(body: Body) -> EnvelopeBuilder {
    EnvelopeBuilder::new("US", "CN", body)
}

/// `body` from the responder `CN` to the requester `US`.
pub(crate) fn from_responder(body: Body) -> EnvelopeBuilder {
    EnvelopeBuilder::new("CN", "US", body)
}

/// `body` from the party playing `role` in the builders' cases.
pub(crate) fn from_role(role: Role, body: Body) -> EnvelopeBuilder {
    match role {
        Role::Requester => from_requester(body),
        Role::Responder => from_responder(body),
    }
}

impl EnvelopeBuilder {
    fn new(from: &str, to: &str, body: Body) -> Self {
        Self(Envelope {
            v: WIRE_VERSION,
            id: MessageId::random(),
            agreement: agreement().digest(),
            from: party(from),
            to: party(to),
            seq: 1,
            sent_at: t(0),
            case: case_id(),
            in_reply_to: None,
            checkpoint: None,
            agency: None,
            body,
        })
    }

    /// Sent by `code` instead.
    pub(crate) fn from(mut self, code: &str) -> Self {
        self.0.from = party(code);
        self
    }

    /// Addressed to `code` instead.
    pub(crate) fn to(mut self, code: &str) -> Self {
        self.0.to = party(code);
        self
    }

    /// Filed under `case` instead.
    pub(crate) fn case(mut self, case: &str) -> Self {
        self.0.case = CaseId::parse(case).expect("a valid case id");
        self
    }

    /// At position `seq` of the sender's stream.
    pub(crate) fn seq(mut self, seq: u64) -> Self {
        self.0.seq = seq;
        self
    }

    /// Replying to `id`.
    pub(crate) fn reply_to(mut self, id: MessageId) -> Self {
        self.0.in_reply_to = Some(id);
        self
    }

    /// The envelope.
    pub(crate) fn build(self) -> Envelope {
        self.0
    }

    /// The envelope, officially received `seconds` after [`t`]`(0)`.
    pub(crate) fn at(self, seconds: i64) -> OfficialMessage {
        OfficialMessage {
            envelope: self.0,
            at: t(seconds),
        }
    }
}

/// A normal-priority case filed at `t(0)`.
pub(crate) fn open_case() -> Case {
    open_case_with(Priority::Normal)
}

/// A case of `priority` filed at `t(0)`.
pub(crate) fn open_case_with(priority: Priority) -> Case {
    let request = from_requester(Body::Request(request_body(priority))).build();
    Case::open(&agreement(), &request, t(0)).expect("the sample request is within the terms")
}

/// A normal-priority case brought to `status` by the shortest legal path, one hour a step.
pub(crate) fn case_in(status: CaseStatus) -> Case {
    use CaseStatus as S;
    let path: &[(Role, Body)] = match status {
        S::Sent => &[],
        S::Acknowledged => &[(Role::Responder, ack())],
        S::ClarificationNeeded => &[(Role::Responder, ack()), (Role::Responder, question())],
        S::PartiallyAnswered => &[
            (Role::Responder, ack()),
            (Role::Responder, partial_answer()),
        ],
        S::Answered => &[(Role::Responder, ack()), (Role::Responder, final_answer())],
        S::Declined => &[(Role::Responder, decline())],
        S::Withdrawn => &[(Role::Requester, withdrawal())],
        S::Closed => &[
            (Role::Responder, ack()),
            (Role::Responder, final_answer()),
            (Role::Requester, rating(4)),
        ],
    };
    let mut case = open_case();
    for (hour, (role, body)) in (1..).zip(path) {
        let envelope = from_role(*role, body.clone()).build();
        case.apply(&envelope, t(hour * HOUR))
            .expect("the path to each status is legal");
    }
    assert_eq!(case.status, status, "the path leads to {status}");
    case
}

/// A case's messages written one by one, each party's numbered in stream order and replying
/// to the latest message it has from the other side, unless told otherwise.
pub(crate) struct Conversation {
    messages: Vec<OfficialMessage>,
    seq: [u64; 2],
    latest: [Option<MessageId>; 2],
}

impl Conversation {
    /// A conversation that starts with the normal-priority request, received at `t(0)`.
    pub(crate) fn new() -> Self {
        let request = from_requester(request()).at(0);
        let id = request.envelope.id;
        Self {
            messages: vec![request],
            seq: [1, 0],
            latest: [Some(id), None],
        }
    }

    /// `body` from the requester, officially received at `t(seconds)`; returns its id.
    pub(crate) fn requester(&mut self, body: Body, seconds: i64) -> MessageId {
        let seen = self.latest[1];
        self.send(Role::Requester, body, seconds, seen)
    }

    /// `body` from the responder, officially received at `t(seconds)`; returns its id.
    pub(crate) fn responder(&mut self, body: Body, seconds: i64) -> MessageId {
        let seen = self.latest[0];
        self.send(Role::Responder, body, seconds, seen)
    }

    /// `body` from `role`, replying to `in_reply_to`: use it to write a message that crossed
    /// the other side's latest one in transit.
    pub(crate) fn send(
        &mut self,
        role: Role,
        body: Body,
        seconds: i64,
        in_reply_to: Option<MessageId>,
    ) -> MessageId {
        let slot = usize::from(role == Role::Responder);
        self.seq[slot] += 1;
        let mut builder = from_role(role, body).seq(self.seq[slot]);
        if let Some(id) = in_reply_to {
            builder = builder.reply_to(id);
        }
        let message = builder.at(seconds);
        let id = message.envelope.id;
        self.latest[slot] = Some(id);
        self.messages.push(message);
        id
    }

    /// The id of the request.
    pub(crate) fn request_id(&self) -> MessageId {
        self.messages[0].envelope.id
    }

    /// All messages so far, in the order written.
    pub(crate) fn messages(&self) -> Vec<OfficialMessage> {
        self.messages.clone()
    }
}
