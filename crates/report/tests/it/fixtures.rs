//! Builders for the review's tests: the sample US–CN agreement and cases written as a
//! conversation with official times, applied through the domain's own `Case::open` and
//! `Case::apply`, so the review is tested on cases exactly as the domain derives them.
//!
//! Times are given in days (and hours) after 2026-01-01T00:00:00Z, the start of 2026-H1;
//! 2026-H1 is days 0 to 181 (exclusive).

use detente_domain::{Agreement, Case};
use detente_protocol::{
    AcknowledgementBody, AnswerBody, Body, CaseId, ClarificationBody, ClarificationRequestBody,
    DeclineBody, DeclineReason, Envelope, MessageId, PartyId, PreservationDetails, Priority,
    RatingBody, RequestBody, RequestKind, Timestamp, Tlp, WIRE_VERSION, WithdrawalBody,
};

/// The sample agreement: US and CN; categories `ip-theft` and `botnet`; deadlines
/// (acknowledge / first answer / final answer) critical 1h/24h/3d, high 4h/3d/14d,
/// normal 1d/7d/30d, low 3d/14d/60d.
pub const AGREEMENT: &str = include_str!("../data/agreement.toml");

pub const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 24 * HOUR;
/// 2026-01-01T00:00:00Z in Unix milliseconds.
const T0: i64 = 1_767_225_600_000;

pub fn agreement() -> Agreement {
    Agreement::from_toml(AGREEMENT).expect("the sample agreement is valid")
}

/// `ms` milliseconds after 2026-01-01T00:00:00Z.
pub fn t(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(T0 + ms).expect("in range")
}

pub fn party(code: &str) -> PartyId {
    PartyId::parse(code).expect("a valid party code")
}

/// A case being written, message by message.
pub struct CaseBuilder {
    agreement: Agreement,
    case: Case,
    filed: i64,
}

/// A request numbered `n`, from `from` to the other party, filed at `at` ms.
pub fn request(n: u32, from: &str, kind: RequestKind, priority: Priority, at: i64) -> CaseBuilder {
    request_in(n, from, kind, "botnet", priority, Tlp::Amber, at)
}

/// A request with every attribute given.
pub fn request_in(
    n: u32,
    from: &str,
    kind: RequestKind,
    category: &str,
    priority: Priority,
    tlp: Tlp,
    at: i64,
) -> CaseBuilder {
    let agreement = agreement();
    let to = if from == "US" { "CN" } else { "US" };
    let body = RequestBody {
        kind,
        category: category.into(),
        priority,
        tlp,
        title: format!("Request {n} <{}>", tlp.label()),
        narrative: "The facts and the ask.".into(),
        observables: Vec::new(),
        attachments: Vec::new(),
        objects: Vec::new(),
        attribution: None,
        preservation: (kind == RequestKind::Preservation).then(|| PreservationDetails {
            authority: "A".into(),
            offence: "B".into(),
            data: "C".into(),
            custodian: "D".into(),
            necessity: "E".into(),
            mutual_assistance_to_follow: true,
        }),
    };
    let id = CaseId::new(party(from), 2026, n);
    let envelope = envelope(&agreement, from, to, &id, Body::Request(body), at);
    let case = Case::open(&agreement, &envelope, t(at)).expect("the request is within terms");
    CaseBuilder {
        agreement,
        case,
        filed: at,
    }
}

/// Messages take this long from sealing to receipt, as on a healthy link.
pub const TRANSIT_MS: i64 = 250;

/// An envelope officially received at `t(at)`, sealed [`TRANSIT_MS`] before.
fn envelope(
    agreement: &Agreement,
    from: &str,
    to: &str,
    case: &CaseId,
    body: Body,
    at: i64,
) -> Envelope {
    Envelope {
        v: WIRE_VERSION,
        id: MessageId::random(),
        agreement: agreement.digest(),
        from: party(from),
        to: party(to),
        seq: 1,
        sent_at: t(at - TRANSIT_MS),
        case: case.clone(),
        in_reply_to: None,
        checkpoint: None,
        agency: None,
        body,
    }
}

impl CaseBuilder {
    fn send(mut self, responder: bool, body: Body, after: i64) -> Self {
        let (from, to) = if responder {
            (self.case.responder.clone(), self.case.requester.clone())
        } else {
            (self.case.requester.clone(), self.case.responder.clone())
        };
        let e = envelope(
            &self.agreement,
            from.as_str(),
            to.as_str(),
            &self.case.id.clone(),
            body,
            self.filed + after,
        );
        self.case
            .apply(&e, t(self.filed + after))
            .expect("the scripted step is legal");
        self
    }

    /// The responder acknowledges, `after` ms after filing.
    pub fn ack(self, after: i64) -> Self {
        self.send(
            true,
            Body::Acknowledgement(AcknowledgementBody {
                note: String::new(),
            }),
            after,
        )
    }

    /// The responder asks a question.
    pub fn question(self, after: i64) -> Self {
        self.send(
            true,
            Body::ClarificationRequest(ClarificationRequestBody {
                question: "Which port?".into(),
            }),
            after,
        )
    }

    /// The requester clarifies.
    pub fn clarify(self, after: i64) -> Self {
        self.send(
            false,
            Body::Clarification(ClarificationBody { text: "443".into() }),
            after,
        )
    }

    fn answer(self, is_final: bool, after: i64) -> Self {
        self.send(
            true,
            Body::Answer(AnswerBody {
                is_final,
                text: "Done.".into(),
                observables: Vec::new(),
                attachments: Vec::new(),
                objects: Vec::new(),
            }),
            after,
        )
    }

    /// A partial answer.
    pub fn partial(self, after: i64) -> Self {
        self.answer(false, after)
    }

    /// The final answer.
    pub fn answer_finally(self, after: i64) -> Self {
        self.answer(true, after)
    }

    /// A decline.
    pub fn decline(self, reason: DeclineReason, after: i64) -> Self {
        self.send(
            true,
            Body::Decline(DeclineBody {
                reason,
                text: String::new(),
            }),
            after,
        )
    }

    /// The requester withdraws.
    pub fn withdraw(self, after: i64) -> Self {
        self.send(
            false,
            Body::Withdrawal(WithdrawalBody {
                reason: String::new(),
            }),
            after,
        )
    }

    /// The requester rates the final answer.
    pub fn rate(self, score: u8, after: i64) -> Self {
        self.send(
            false,
            Body::Rating(RatingBody {
                score,
                comment: String::new(),
            }),
            after,
        )
    }

    pub fn build(self) -> Case {
        self.case
    }
}

/// A small, fast pseudo-random sequence (xorshift64*), so shuffles are repeatable.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = usize::try_from(self.below(i as u64 + 1)).expect("fits");
            v.swap(i, j);
        }
    }
}

/// `n` random cases filed between 2025-06-15 and 2026-06-30, in both directions, of every
/// kind, priority and category, along every path of the lifecycle.
pub fn synthetic(n: u32, seed: u64) -> Vec<Case> {
    let mut rng = Rng::new(seed);
    let kinds = RequestKind::ALL;
    let priorities = Priority::ALL;
    let reasons = [
        DeclineReason::OutsideScope,
        DeclineReason::NoJurisdiction,
        DeclineReason::Duplicate,
    ];
    let tlps = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];
    let mut numbers = [0u32; 2];
    (0..n)
        .map(|_| {
            let side = usize::from(rng.below(3) == 0);
            numbers[side] += 1;
            let filed = -200 * DAY + i64::try_from(rng.below(380 * 24)).expect("fits") * HOUR;
            let step = |rng: &mut Rng, scale: i64| {
                i64::try_from(rng.below(u64::try_from(scale).expect("positive"))).expect("fits") + 1
            };
            let pick =
                |rng: &mut Rng, len: usize| usize::try_from(rng.below(len as u64)).expect("fits");
            let b = request_in(
                numbers[side],
                ["US", "CN"][side],
                kinds[pick(&mut rng, kinds.len())],
                ["botnet", "ip-theft"][pick(&mut rng, 2)],
                priorities[pick(&mut rng, priorities.len())],
                tlps[pick(&mut rng, tlps.len())],
                filed,
            );
            let mut at = step(&mut rng, 2 * DAY);
            let mut next = |rng: &mut Rng, scale: i64| {
                at += step(rng, scale);
                at
            };
            match rng.below(8) {
                0 => b,
                1 => b.ack(next(&mut rng, DAY)),
                2 => b
                    .ack(next(&mut rng, DAY))
                    .answer_finally(next(&mut rng, 20 * DAY)),
                3 => b
                    .ack(next(&mut rng, DAY))
                    .partial(next(&mut rng, 10 * DAY))
                    .answer_finally(next(&mut rng, 30 * DAY))
                    .rate(
                        1 + u8::try_from(rng.below(5)).expect("fits"),
                        next(&mut rng, 5 * DAY),
                    ),
                4 => b
                    .ack(next(&mut rng, DAY))
                    .question(next(&mut rng, DAY))
                    .clarify(next(&mut rng, 10 * DAY))
                    .answer_finally(next(&mut rng, 20 * DAY))
                    .rate(
                        1 + u8::try_from(rng.below(5)).expect("fits"),
                        next(&mut rng, 5 * DAY),
                    ),
                5 => b.decline(
                    reasons[pick(&mut rng, reasons.len())],
                    next(&mut rng, 5 * DAY),
                ),
                6 => b
                    .ack(next(&mut rng, DAY))
                    .withdraw(next(&mut rng, 10 * DAY)),
                _ => b.question(next(&mut rng, DAY)).decline(
                    reasons[pick(&mut rng, reasons.len())],
                    next(&mut rng, 10 * DAY),
                ),
            }
            .build()
        })
        .collect()
}
