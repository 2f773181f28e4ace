//! The request lifecycle: a pure state machine, and the deterministic merge that lets both
//! parties derive the same case from the same signed messages.
//!
//! ```text
//!            ack            answer(partial)             answer(final)        rating
//!   sent ───────▶ acknowledged ───────▶ partially_answered ───────▶ answered ───────▶ closed
//!    │  ╲              │   ▲                 │   ▲
//!    │   ╲ clarif.req  │   │ clarification   │   │
//!    │    ╰──────▶ clarification_needed ◀────╯   │
//!    │ decline (from any open state but answered) ▶ declined
//!    ╰ withdrawal (requester, from any open state but answered) ▶ withdrawn
//! ```
//!
//! Any first reply of the responder (acknowledgement, clarification request, answer,
//! decline) counts as the acknowledgement, so a clarification of a question asked before any
//! other reply resumes the case as acknowledged. Each party's messages of a case are ordered by
//! their stream sequence; the two parties' chains are merged causally by `in_reply_to`, and
//! concurrent messages by official time, then id. A message that is illegal at its place in
//! that order (the other party's concurrent message won) is *voided*: it stays in the log
//! but changes nothing, identically on both sides.

use std::{
    collections::{BTreeMap, HashSet},
    fmt,
};

use detente_protocol::{
    Body, CaseId, DeclineReason, Envelope, MessageId, MessageType, PartyId, Priority, RequestKind,
    Timestamp, Tlp,
};
use serde::Serialize;

use crate::{Agreement, LifecycleError};

/// Which side of a case a party is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The party that filed the request.
    Requester,
    /// The party asked to help.
    Responder,
}

impl Role {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requester => "requester",
            Self::Responder => "responder",
        }
    }
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Filed, no reply yet.
    Sent,
    /// The responder has taken it up.
    Acknowledged,
    /// The responder asked a question; its clock is paused.
    ClarificationNeeded,
    /// At least one partial answer, no final one yet.
    PartiallyAnswered,
    /// Final answer given, awaiting the requester's rating.
    Answered,
    /// The responder declined. Terminal.
    Declined,
    /// The requester withdrew. Terminal.
    Withdrawn,
    /// The requester rated the final answer. Terminal.
    Closed,
}

impl CaseStatus {
    /// Lower-case name, as in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Acknowledged => "acknowledged",
            Self::ClarificationNeeded => "clarification_needed",
            Self::PartiallyAnswered => "partially_answered",
            Self::Answered => "answered",
            Self::Declined => "declined",
            Self::Withdrawn => "withdrawn",
            Self::Closed => "closed",
        }
    }

    /// Parses the lower-case name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Sent,
            Self::Acknowledged,
            Self::ClarificationNeeded,
            Self::PartiallyAnswered,
            Self::Answered,
            Self::Declined,
            Self::Withdrawn,
            Self::Closed,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// Whether the responder still owes a reply (the case is neither finished nor answered).
    pub fn awaits_responder(self) -> bool {
        matches!(
            self,
            Self::Sent | Self::Acknowledged | Self::PartiallyAnswered
        )
    }

    /// Whether nothing more can happen to the case.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Declined | Self::Withdrawn | Self::Closed)
    }
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state reached from `status` when `role` sends a message of type `message`
/// (`is_final` for answers), or `None` if that step is illegal.
fn step(
    status: CaseStatus,
    role: Role,
    message: MessageType,
    is_final: bool,
) -> Option<CaseStatus> {
    use CaseStatus as S;
    use MessageType as M;
    let open_to_responder = status.awaits_responder();
    match (role, message) {
        (Role::Responder, M::Acknowledgement) => (status == S::Sent).then_some(S::Acknowledged),
        (Role::Responder, M::ClarificationRequest) => {
            open_to_responder.then_some(S::ClarificationNeeded)
        }
        (Role::Responder, M::Answer) => open_to_responder.then_some(if is_final {
            S::Answered
        } else {
            S::PartiallyAnswered
        }),
        (Role::Responder, M::Decline) => {
            (open_to_responder || status == S::ClarificationNeeded).then_some(S::Declined)
        }
        // The status to resume is restored by `Case::apply`; here only legality matters.
        (Role::Requester, M::Clarification) => {
            (status == S::ClarificationNeeded).then_some(S::Acknowledged)
        }
        (Role::Requester, M::Withdrawal) => {
            (open_to_responder || status == S::ClarificationNeeded).then_some(S::Withdrawn)
        }
        (Role::Requester, M::Rating) => (status == S::Answered).then_some(S::Closed),
        _ => None,
    }
}

/// A period during which the responder's clock stood still.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pause {
    /// Official time of the clarification request; never before the filing or the end of
    /// the previous pause, which another clock may have stamped a little later.
    pub from: Timestamp,
    /// Official time of the clarification (or of a decline or withdrawal that ended the
    /// wait), or `None` while still waiting.
    pub until: Option<Timestamp>,
}

/// A message with its official time: the `received_at` of its signed receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialMessage {
    /// The envelope.
    pub envelope: Envelope,
    /// The official time of arrival.
    pub at: Timestamp,
}

/// One message's way from its sender to its receiver.
///
/// The sender signs `sent_at` when it seals the message, and its outbox makes the first
/// attempt to deliver it at once and retries from then on; the receiver's signed receipt
/// sets the official time. The gap is time the message spent undelivered: the network, or a
/// receiver that was down or did not take it. A receiver that stalls pushes every official
/// time it stamps later, to its own advantage, so both sides' figures report the gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// The side of the case the message went to.
    pub to: Role,
    /// The sender's signed sealing time: its first attempt.
    pub sent_at: Timestamp,
    /// The official time of arrival.
    pub at: Timestamp,
}

impl Delivery {
    /// Sealing to arrival; never negative, as the two ends are stamped by two clocks that
    /// may disagree by the allowed skew.
    pub fn delay(&self) -> time::Duration {
        self.at.since(self.sent_at).max(time::Duration::ZERO)
    }
}

/// A case as derived from its messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Case {
    /// The case id.
    pub id: CaseId,
    /// The party that filed the request.
    pub requester: PartyId,
    /// The party asked to help.
    pub responder: PartyId,
    /// Request kind.
    pub kind: RequestKind,
    /// Category.
    pub category: String,
    /// Priority.
    pub priority: Priority,
    /// TLP of the request.
    pub tlp: Tlp,
    /// Title.
    pub title: String,
    /// Current status.
    pub status: CaseStatus,
    /// Official time the request arrived.
    pub filed_at: Timestamp,
    /// Official time of the responder's first reply of any kind.
    pub acknowledged_at: Option<Timestamp>,
    /// Official time of the first answer (partial or final) or decline.
    pub first_answer_at: Option<Timestamp>,
    /// Official time of the final answer or decline.
    pub final_answer_at: Option<Timestamp>,
    /// Why it was declined, if it was.
    pub decline_reason: Option<DeclineReason>,
    /// Official time of withdrawal.
    pub withdrawn_at: Option<Timestamp>,
    /// Official time of the rating.
    pub closed_at: Option<Timestamp>,
    /// The requester's rating of the final answer (1-5).
    pub rating: Option<u8>,
    /// Clarification rounds; the last may still be open.
    pub pauses: Vec<Pause>,
    /// Messages applied, in merged order.
    pub applied: Vec<MessageId>,
    /// Messages that lost a race with a concurrent message and changed nothing.
    pub voided: Vec<MessageId>,
    /// How each message of the case, applied or voided, reached its receiver.
    #[serde(skip)]
    pub deliveries: Vec<Delivery>,
    /// The latest message from each role, for `in_reply_to`.
    #[serde(skip)]
    latest: [Option<MessageId>; 2],
    /// The status to resume when a clarification arrives.
    #[serde(skip)]
    resume: CaseStatus,
}

impl Case {
    /// Opens a case from its request. Checks the request against the agreement's terms.
    pub fn open(
        agreement: &Agreement,
        envelope: &Envelope,
        at: Timestamp,
    ) -> Result<Self, LifecycleError> {
        let Body::Request(r) = &envelope.body else {
            return Err(LifecycleError::NotARequest {
                case: envelope.case.clone(),
            });
        };
        for party in [&envelope.from, &envelope.to] {
            if agreement.party(party).is_none() {
                return Err(LifecycleError::NotAParty {
                    case: envelope.case.clone(),
                    party: party.clone(),
                });
            }
        }
        if envelope.case.party() != &envelope.from {
            return Err(LifecycleError::WrongRequester {
                case: envelope.case.clone(),
                expected: envelope.case.party().clone(),
                actual: envelope.from.clone(),
            });
        }
        if !agreement.terms.kinds.contains(&r.kind) {
            return Err(LifecycleError::OutsideTerms(format!(
                "request kind {:?} is not in the agreement's terms",
                r.kind.as_str()
            )));
        }
        if !agreement.terms.categories.contains(&r.category) {
            return Err(LifecycleError::OutsideTerms(format!(
                "category {:?} is not in the agreement's terms ({})",
                r.category,
                agreement.terms.categories.join(", ")
            )));
        }
        Ok(Self {
            id: envelope.case.clone(),
            requester: envelope.from.clone(),
            responder: envelope.to.clone(),
            kind: r.kind,
            category: r.category.clone(),
            priority: r.priority,
            tlp: r.tlp,
            title: r.title.clone(),
            status: CaseStatus::Sent,
            filed_at: at,
            acknowledged_at: None,
            first_answer_at: None,
            final_answer_at: None,
            decline_reason: None,
            withdrawn_at: None,
            closed_at: None,
            rating: None,
            pauses: Vec::new(),
            applied: vec![envelope.id],
            voided: Vec::new(),
            deliveries: vec![Delivery {
                to: Role::Responder,
                sent_at: envelope.sent_at,
                at,
            }],
            latest: [Some(envelope.id), None],
            resume: CaseStatus::Sent,
        })
    }

    /// The role `party` plays in this case.
    pub fn role_of(&self, party: &PartyId) -> Result<Role, LifecycleError> {
        if party == &self.requester {
            Ok(Role::Requester)
        } else if party == &self.responder {
            Ok(Role::Responder)
        } else {
            Err(LifecycleError::NotAParty {
                case: self.id.clone(),
                party: party.clone(),
            })
        }
    }

    /// The sender's role, once the envelope is known to belong to this case and to go from one
    /// of its parties to the other.
    fn sender_role(&self, envelope: &Envelope) -> Result<Role, LifecycleError> {
        if envelope.case != self.id {
            return Err(LifecycleError::WrongCase {
                expected: self.id.clone(),
                actual: envelope.case.clone(),
                message: envelope.id,
            });
        }
        let role = self.role_of(&envelope.from)?;
        let counterpart = match role {
            Role::Requester => &self.responder,
            Role::Responder => &self.requester,
        };
        if &envelope.to != counterpart {
            return Err(LifecycleError::NotAParty {
                case: self.id.clone(),
                party: envelope.to.clone(),
            });
        }
        Ok(role)
    }

    /// The latest message `party` has received in this case: what its next `in_reply_to` is.
    pub fn latest_from_other_side(
        &self,
        party: &PartyId,
    ) -> Result<Option<MessageId>, LifecycleError> {
        Ok(match self.role_of(party)? {
            Role::Requester => self.latest[1],
            Role::Responder => self.latest[0],
        })
    }

    /// The status `body` from `from` would lead to, or why it is illegal now.
    pub fn next_status(&self, from: &PartyId, body: &Body) -> Result<CaseStatus, LifecycleError> {
        let role = self.role_of(from)?;
        let message = body.message_type();
        if message == MessageType::Request {
            return Err(LifecycleError::DuplicateRequest(self.id.clone()));
        }
        let is_final = matches!(body, Body::Answer(a) if a.is_final);
        let next = step(self.status, role, message, is_final)
            .ok_or_else(|| LifecycleError::illegal(&self.id, self.status, message, role))?;
        Ok(if message == MessageType::Clarification {
            self.resume
        } else {
            next
        })
    }

    /// Applies one message with its official time. On error the case is left unchanged.
    pub fn apply(&mut self, envelope: &Envelope, at: Timestamp) -> Result<(), LifecycleError> {
        let role = self.sender_role(envelope)?;
        let next = self.next_status(&envelope.from, &envelope.body)?;
        if role == Role::Responder && self.acknowledged_at.is_none() {
            self.acknowledged_at = Some(at);
        }
        match &envelope.body {
            Body::ClarificationRequest(_) => {
                // The question itself acknowledged a request that had no reply yet, so the
                // clarification resumes the case as acknowledged, not as sent.
                self.resume = match self.status {
                    CaseStatus::Sent => CaseStatus::Acknowledged,
                    status => status,
                };
                // The two ends of a pause are stamped by two clocks that may disagree by the
                // allowed skew; a pause never starts before the filing or the previous pause's
                // end, so pauses stay apart and never add up to more than the time that passed.
                let from = self
                    .pauses
                    .last()
                    .and_then(|p| p.until)
                    .map_or(at, |end| at.max(end))
                    .max(self.filed_at);
                self.pauses.push(Pause { from, until: None });
            }
            Body::Clarification(_) => {
                if let Some(p) = self.pauses.last_mut() {
                    // Clocks of two parties set the two ends; never let a pause run backwards.
                    p.until = Some(at.max(p.from));
                }
            }
            Body::Answer(a) => {
                self.first_answer_at.get_or_insert(at);
                if a.is_final {
                    self.final_answer_at = Some(at);
                }
            }
            Body::Decline(d) => {
                self.first_answer_at.get_or_insert(at);
                self.final_answer_at = Some(at);
                self.decline_reason = Some(d.reason);
                self.end_open_pause(at);
            }
            Body::Withdrawal(_) => {
                self.withdrawn_at = Some(at);
                self.end_open_pause(at);
            }
            Body::Rating(r) => {
                self.rating = Some(r.score);
                self.closed_at = Some(at);
            }
            Body::Acknowledgement(_) | Body::Request(_) => {}
        }
        self.status = next;
        self.applied.push(envelope.id);
        self.record_delivery(role, envelope, at);
        let slot = usize::from(role == Role::Responder);
        self.latest[slot] = Some(envelope.id);
        Ok(())
    }

    /// Records how a message from `sender` reached the other side.
    fn record_delivery(&mut self, sender: Role, envelope: &Envelope, at: Timestamp) {
        let to = match sender {
            Role::Requester => Role::Responder,
            Role::Responder => Role::Requester,
        };
        self.deliveries.push(Delivery {
            to,
            sent_at: envelope.sent_at,
            at,
        });
    }

    /// A case that ends while the responder waits for a clarification waits no longer.
    fn end_open_pause(&mut self, at: Timestamp) {
        if let Some(p) = self.pauses.last_mut().filter(|p| p.until.is_none()) {
            p.until = Some(at.max(p.from));
        }
    }

    /// The total time the responder's clock stood still between filing and `now`.
    ///
    /// Time is counted once even if pauses overlap, so it never exceeds the time that passed.
    pub fn paused_until(&self, now: Timestamp) -> time::Duration {
        let mut counted_to = self.filed_at;
        let mut total = time::Duration::ZERO;
        for p in &self.pauses {
            let start = p.from.max(counted_to);
            let end = p.until.unwrap_or(now).min(now);
            if end > start {
                total += end.since(start);
                counted_to = end;
            }
        }
        total
    }
}

/// Derives a case from all of its official messages, in any order.
///
/// The request opens the case (if there are several, the earliest by official time, then id;
/// the others are voided). The rest are merged: each party's messages in stream order, a
/// message never before the other party's message it replies to, and otherwise earliest
/// official time first (ties by id). Messages illegal at their place are voided. Copies of one
/// message count once. The result, error or case, does not depend on the order of `messages`.
pub fn derive_case(
    agreement: &Agreement,
    messages: &[OfficialMessage],
) -> Result<Case, LifecycleError> {
    let messages = distinct(messages)?;
    let request = messages
        .iter()
        .filter(|m| m.envelope.body.message_type() == MessageType::Request)
        .min_by_key(|m| (m.at, m.envelope.id))
        .ok_or(LifecycleError::MissingRequest)?;
    let mut case = Case::open(agreement, &request.envelope, request.at)?;
    let mut chains: [Vec<&OfficialMessage>; 2] = [Vec::new(), Vec::new()];
    for m in messages
        .iter()
        .filter(|m| m.envelope.id != request.envelope.id)
    {
        let slot = usize::from(case.sender_role(&m.envelope)? == Role::Responder);
        chains[slot].push(m);
    }
    for chain in &mut chains {
        chain.sort_by_key(|m| (m.envelope.seq, m.envelope.id));
    }
    let mut emitted: HashSet<MessageId> = HashSet::from([request.envelope.id]);
    let mut heads = [0usize, 0usize];
    loop {
        let ready = |slot: usize| -> Option<&OfficialMessage> {
            let m = chains[slot].get(heads[slot])?;
            match m.envelope.in_reply_to {
                Some(r) if !emitted.contains(&r) => None,
                _ => Some(m),
            }
        };
        let pick = match (ready(0), ready(1)) {
            (Some(a), Some(b)) => usize::from((b.at, b.envelope.id) < (a.at, a.envelope.id)),
            (Some(_), None) => 0,
            (None, Some(_)) => 1,
            (None, None) => break,
        };
        let m = chains[pick][heads[pick]];
        heads[pick] += 1;
        emitted.insert(m.envelope.id);
        if case.apply(&m.envelope, m.at).is_err() {
            case.voided.push(m.envelope.id);
            // It changed nothing, but it was delivered: its way counts like any other.
            let sender = if pick == 0 {
                Role::Requester
            } else {
                Role::Responder
            };
            case.record_delivery(sender, &m.envelope, m.at);
            // A voided message was still received, so the other party's next message names it
            // in `in_reply_to`; `latest_from_other_side` must say so.
            case.latest[pick] = Some(m.envelope.id);
        }
    }
    // A message that replies to something never seen cannot be placed: that is not a race
    // but a broken or forged history, and the caller must hear of it.
    if let Some(m) = (0..2).find_map(|s| chains[s].get(heads[s])) {
        return Err(LifecycleError::UnknownReply {
            case: case.id.clone(),
            message: m.envelope.id,
            reply_to: m
                .envelope
                .in_reply_to
                .expect("only a message waiting on a reply stays unplaced"),
        });
    }
    Ok(case)
}

/// One copy of each message, in id order. Copies that disagree are an error, reported for the
/// smallest such id so the outcome does not depend on the input order.
fn distinct(messages: &[OfficialMessage]) -> Result<Vec<&OfficialMessage>, LifecycleError> {
    let mut by_id: BTreeMap<MessageId, Vec<&OfficialMessage>> = BTreeMap::new();
    for m in messages {
        by_id.entry(m.envelope.id).or_default().push(m);
    }
    by_id
        .into_values()
        .map(|copies| {
            let first = copies[0];
            if copies.iter().all(|c| *c == first) {
                return Ok(first);
            }
            let case = copies
                .iter()
                .map(|c| &c.envelope.case)
                .min()
                .expect("a group holds at least one copy");
            Err(LifecycleError::ConflictingCopies {
                case: case.clone(),
                message: first.envelope.id,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use detente_protocol::{Body, DeclineReason, MessageType, Priority, RequestKind};

    use super::*;
    use crate::fixtures::{
        Conversation, DAY, HOUR, ack, agreement, case_id, case_in, clarification, decline,
        final_answer, from_requester, from_responder, from_role, open_case, partial_answer, party,
        question, rating, request, request_body, t, three_party_agreement, withdrawal,
    };

    const EVERY_STATUS: [CaseStatus; 8] = [
        CaseStatus::Sent,
        CaseStatus::Acknowledged,
        CaseStatus::ClarificationNeeded,
        CaseStatus::PartiallyAnswered,
        CaseStatus::Answered,
        CaseStatus::Declined,
        CaseStatus::Withdrawn,
        CaseStatus::Closed,
    ];

    /// Every message a party could try, by a short name for the transition table.
    fn every_step() -> Vec<(&'static str, Role, Body)> {
        let mut steps = Vec::new();
        for role in [Role::Requester, Role::Responder] {
            steps.extend([
                ("ack", role, ack()),
                ("question", role, question()),
                ("partial", role, partial_answer()),
                ("final", role, final_answer()),
                ("decline", role, decline()),
                ("clarification", role, clarification()),
                ("withdrawal", role, withdrawal()),
                ("rating", role, rating(5)),
            ]);
        }
        steps
    }

    /// The legal transitions, written out from the lifecycle diagram independently of `step`.
    fn expected(status: CaseStatus, role: Role, step: &str) -> Option<CaseStatus> {
        use CaseStatus as S;
        use Role::{Requester, Responder};
        let open = matches!(
            status,
            S::Sent | S::Acknowledged | S::ClarificationNeeded | S::PartiallyAnswered
        );
        let awaits = matches!(status, S::Sent | S::Acknowledged | S::PartiallyAnswered);
        match (role, step) {
            (Responder, "ack") => (status == S::Sent).then_some(S::Acknowledged),
            (Responder, "question") => awaits.then_some(S::ClarificationNeeded),
            (Responder, "partial") => awaits.then_some(S::PartiallyAnswered),
            (Responder, "final") => awaits.then_some(S::Answered),
            (Responder, "decline") => open.then_some(S::Declined),
            // `case_in` reaches clarification_needed by ack then question.
            (Requester, "clarification") => {
                (status == S::ClarificationNeeded).then_some(S::Acknowledged)
            }
            (Requester, "withdrawal") => open.then_some(S::Withdrawn),
            (Requester, "rating") => (status == S::Answered).then_some(S::Closed),
            _ => None,
        }
    }

    #[test]
    fn every_step_is_legal_exactly_where_the_lifecycle_allows_it() {
        let mut legal = 0;
        for status in EVERY_STATUS {
            for (name, role, body) in every_step() {
                // Arrange
                let mut case = case_in(status);
                let envelope = from_role(role, body).build();
                // Act
                let result = case.apply(&envelope, t(DAY));
                // Assert
                match expected(status, role, name) {
                    Some(next) => {
                        legal += 1;
                        assert_eq!(result, Ok(()), "{name} from the {role:?} in {status}");
                        assert_eq!(case.status, next, "{name} from the {role:?} in {status}");
                        assert_eq!(case.applied.last(), Some(&envelope.id));
                    }
                    None => assert!(
                        matches!(
                            result,
                            Err(LifecycleError::IllegalTransition { status: s, .. }) if s == status
                        ),
                        "{name} from the {role:?} in {status} gave {result:?}"
                    ),
                }
            }
        }
        assert_eq!(legal, 20, "the diagram has twenty edges");
    }

    #[test]
    fn a_rejected_message_leaves_the_case_unchanged() {
        for status in EVERY_STATUS {
            for (name, role, body) in every_step() {
                if expected(status, role, name).is_some() {
                    continue;
                }
                // Arrange
                let mut case = case_in(status);
                let before = case.clone();
                // Act
                let result = case.apply(&from_role(role, body).build(), t(DAY));
                // Assert
                assert!(result.is_err());
                assert_eq!(case, before, "{name} from the {role:?} in {status}");
            }
        }
    }

    #[test]
    fn a_request_opens_a_case_in_sent_status() {
        // Arrange
        let envelope = from_requester(request()).build();
        // Act
        let case = Case::open(&agreement(), &envelope, t(0)).expect("valid request");
        // Assert
        assert_eq!(case.id, case_id());
        assert_eq!(case.requester, party("US"));
        assert_eq!(case.responder, party("CN"));
        assert_eq!(case.status, CaseStatus::Sent);
        assert_eq!(case.priority, Priority::Normal);
        assert_eq!(case.category, "botnet");
        assert_eq!(case.filed_at, t(0));
        assert_eq!(case.applied, vec![envelope.id]);
        assert_eq!(case.acknowledged_at, None);
        assert!(case.voided.is_empty() && case.pauses.is_empty());
    }

    #[test]
    fn a_request_of_a_kind_outside_the_agreement_is_rejected() {
        // Arrange
        let mut a = agreement();
        a.terms.kinds = vec![RequestKind::Mitigation];
        let envelope = from_requester(request()).build();
        // Act
        let result = Case::open(&a, &envelope, t(0));
        // Assert
        assert!(
            matches!(result, Err(LifecycleError::OutsideTerms(m)) if m.contains("information"))
        );
    }

    #[test]
    fn a_request_in_a_category_outside_the_agreement_is_rejected() {
        // Arrange
        let mut body = request_body(Priority::High);
        body.category = "espionage".into();
        let envelope = from_requester(Body::Request(body)).build();
        // Act
        let result = Case::open(&agreement(), &envelope, t(0));
        // Assert
        assert!(matches!(result, Err(LifecycleError::OutsideTerms(m)) if m.contains("espionage")));
    }

    #[test]
    fn a_case_id_not_naming_the_requester_is_rejected() {
        // Arrange
        let envelope = from_responder(request()).build();
        // Act
        let result = Case::open(&agreement(), &envelope, t(0));
        // Assert
        assert_eq!(
            result,
            Err(LifecycleError::WrongRequester {
                case: case_id(),
                expected: party("US"),
                actual: party("CN"),
            })
        );
    }

    #[test]
    fn a_request_to_a_party_outside_the_agreement_is_rejected() {
        // Regression: `open` used to accept any receiver, so a case could name a responder
        // that had never agreed to anything.
        let envelope = from_requester(request()).to("GB").build();
        let result = Case::open(&agreement(), &envelope, t(0));
        assert_eq!(
            result,
            Err(LifecycleError::NotAParty {
                case: case_id(),
                party: party("GB"),
            })
        );
    }

    #[test]
    fn a_request_from_a_party_outside_the_agreement_is_rejected() {
        let envelope = from_requester(request())
            .from("GB")
            .case("GB-2026-0001")
            .build();
        let result = Case::open(&agreement(), &envelope, t(0));
        assert!(
            matches!(result, Err(LifecycleError::NotAParty { party: p, .. }) if p == party("GB"))
        );
    }

    #[test]
    fn opening_a_case_with_anything_but_a_request_is_rejected() {
        let envelope = from_responder(ack()).build();
        let result = Case::open(&agreement(), &envelope, t(0));
        assert_eq!(result, Err(LifecycleError::NotARequest { case: case_id() }));
    }

    #[test]
    fn a_second_request_for_the_same_case_is_rejected() {
        let mut case = open_case();
        let result = case.apply(&from_requester(request()).build(), t(HOUR));
        assert_eq!(result, Err(LifecycleError::DuplicateRequest(case_id())));
    }

    #[test]
    fn a_message_from_a_third_party_is_rejected() {
        // Arrange: GB is a party to the agreement but not to this US-CN case.
        let a = three_party_agreement();
        let request = from_requester(request()).build();
        let mut case = Case::open(&a, &request, t(0)).expect("valid request");
        // Act
        let result = case.apply(&from_responder(ack()).from("GB").build(), t(HOUR));
        // Assert
        assert_eq!(
            result,
            Err(LifecycleError::NotAParty {
                case: case_id(),
                party: party("GB"),
            })
        );
        assert_eq!(case.status, CaseStatus::Sent);
    }

    #[test]
    fn a_message_addressed_to_a_third_party_is_rejected() {
        // Regression: the receiver was never checked, so the responder could answer a case
        // in a message to someone else.
        let mut case = open_case();
        let result = case.apply(&from_responder(ack()).to("GB").build(), t(HOUR));
        assert_eq!(
            result,
            Err(LifecycleError::NotAParty {
                case: case_id(),
                party: party("GB"),
            })
        );
        assert_eq!(case.status, CaseStatus::Sent);
    }

    #[test]
    fn a_message_of_another_case_is_rejected() {
        // Regression: `apply` did not look at the envelope's case at all.
        let mut case = open_case();
        let envelope = from_responder(ack()).case("US-2026-0002").build();
        let result = case.apply(&envelope, t(HOUR));
        assert!(
            matches!(result, Err(LifecycleError::WrongCase { message, .. }) if message == envelope.id)
        );
        assert_eq!(case.status, CaseStatus::Sent);
    }

    #[test]
    fn acknowledging_a_sent_request_records_when() {
        let mut case = open_case();
        case.apply(&from_responder(ack()).build(), t(HOUR))
            .expect("legal");
        assert_eq!(case.status, CaseStatus::Acknowledged);
        assert_eq!(case.acknowledged_at, Some(t(HOUR)));
        assert_eq!(case.first_answer_at, None);
    }

    #[test]
    fn acknowledging_a_withdrawn_request_is_rejected() {
        let mut case = case_in(CaseStatus::Withdrawn);
        let result = case.apply(&from_responder(ack()).build(), t(DAY));
        assert_eq!(
            result,
            Err(LifecycleError::IllegalTransition {
                case: case_id(),
                status: CaseStatus::Withdrawn,
                message: "acknowledgement",
                role: "responder",
            })
        );
    }

    #[test]
    fn acknowledging_twice_is_rejected() {
        let mut case = case_in(CaseStatus::Acknowledged);
        let result = case.apply(&from_responder(ack()).build(), t(DAY));
        assert!(matches!(
            result,
            Err(LifecycleError::IllegalTransition { .. })
        ));
        assert_eq!(case.acknowledged_at, Some(t(HOUR)));
    }

    #[test]
    fn the_requester_cannot_acknowledge_its_own_request() {
        let mut case = open_case();
        let result = case.apply(&from_requester(ack()).build(), t(HOUR));
        assert!(
            matches!(result, Err(LifecycleError::IllegalTransition { role, .. }) if role == "requester")
        );
    }

    #[test]
    fn the_first_reply_of_any_kind_counts_as_acknowledgement() {
        for reply in [
            ack(),
            question(),
            partial_answer(),
            final_answer(),
            decline(),
        ] {
            // Arrange
            let mut case = open_case();
            let kind = reply.message_type();
            // Act
            case.apply(&from_responder(reply).build(), t(2 * HOUR))
                .expect("legal first reply");
            // Assert
            assert_eq!(case.acknowledged_at, Some(t(2 * HOUR)), "{kind:?}");
        }
    }

    #[test]
    fn a_requester_message_does_not_count_as_acknowledgement() {
        let mut case = open_case();
        case.apply(&from_requester(withdrawal()).build(), t(HOUR))
            .expect("legal");
        assert_eq!(case.acknowledged_at, None);
    }

    #[test]
    fn later_replies_keep_the_first_acknowledgement_time() {
        let mut case = case_in(CaseStatus::Acknowledged);
        case.apply(&from_responder(partial_answer()).build(), t(5 * HOUR))
            .expect("legal");
        assert_eq!(case.acknowledged_at, Some(t(HOUR)));
    }

    #[test]
    fn a_clarification_request_opens_a_pause() {
        let mut case = case_in(CaseStatus::Acknowledged);
        case.apply(&from_responder(question()).build(), t(3 * HOUR))
            .expect("legal");
        assert_eq!(case.status, CaseStatus::ClarificationNeeded);
        assert_eq!(
            case.pauses,
            vec![Pause {
                from: t(3 * HOUR),
                until: None,
            }]
        );
    }

    #[test]
    fn a_clarification_resumes_the_status_before_the_pause() {
        for before in [CaseStatus::Acknowledged, CaseStatus::PartiallyAnswered] {
            // Arrange
            let mut case = case_in(before);
            case.apply(&from_responder(question()).build(), t(3 * HOUR))
                .expect("legal");
            // Act
            case.apply(&from_requester(clarification()).build(), t(5 * HOUR))
                .expect("legal");
            // Assert
            assert_eq!(case.status, before);
            assert_eq!(
                case.pauses.last(),
                Some(&Pause {
                    from: t(3 * HOUR),
                    until: Some(t(5 * HOUR)),
                })
            );
        }
    }

    #[test]
    fn a_clarification_of_a_question_asked_as_first_reply_resumes_as_acknowledged() {
        // Regression: the case resumed as `sent` although the question had acknowledged it,
        // so it read `sent` with an acknowledgement time and took a second acknowledgement.
        let mut case = open_case();
        case.apply(&from_responder(question()).build(), t(HOUR))
            .expect("legal");
        case.apply(&from_requester(clarification()).build(), t(2 * HOUR))
            .expect("legal");
        assert_eq!(case.status, CaseStatus::Acknowledged);
        assert_eq!(case.acknowledged_at, Some(t(HOUR)));
        assert!(
            case.apply(&from_responder(ack()).build(), t(3 * HOUR))
                .is_err()
        );
    }

    #[test]
    fn a_clarification_without_a_question_is_rejected() {
        let mut case = case_in(CaseStatus::Acknowledged);
        let result = case.apply(&from_requester(clarification()).build(), t(DAY));
        assert!(matches!(
            result,
            Err(LifecycleError::IllegalTransition {
                status: CaseStatus::Acknowledged,
                message: "clarification",
                ..
            })
        ));
    }

    #[test]
    fn a_second_question_while_one_is_open_is_rejected() {
        let mut case = case_in(CaseStatus::ClarificationNeeded);
        let result = case.apply(&from_responder(question()).build(), t(DAY));
        assert!(matches!(
            result,
            Err(LifecycleError::IllegalTransition { .. })
        ));
        assert_eq!(case.pauses.len(), 1);
    }

    #[test]
    fn answering_while_a_clarification_is_pending_is_rejected() {
        for answer in [partial_answer(), final_answer()] {
            let mut case = case_in(CaseStatus::ClarificationNeeded);
            let result = case.apply(&from_responder(answer).build(), t(DAY));
            assert!(matches!(
                result,
                Err(LifecycleError::IllegalTransition {
                    status: CaseStatus::ClarificationNeeded,
                    ..
                })
            ));
        }
    }

    #[test]
    fn a_second_round_of_clarification_opens_a_second_pause() {
        let mut case = case_in(CaseStatus::ClarificationNeeded);
        case.apply(&from_requester(clarification()).build(), t(3 * HOUR))
            .expect("legal");
        case.apply(&from_responder(question()).build(), t(4 * HOUR))
            .expect("legal");
        case.apply(&from_requester(clarification()).build(), t(6 * HOUR))
            .expect("legal");
        assert_eq!(case.status, CaseStatus::Acknowledged);
        assert_eq!(
            case.pauses,
            vec![
                Pause {
                    from: t(2 * HOUR),
                    until: Some(t(3 * HOUR)),
                },
                Pause {
                    from: t(4 * HOUR),
                    until: Some(t(6 * HOUR)),
                },
            ]
        );
    }

    #[test]
    fn a_pause_never_starts_before_the_previous_one_ended() {
        // Regression: the question is stamped by the requester's clock and the clarification
        // before it by the responder's; 2 s of skew made the pauses overlap and the clock
        // count the overlap twice.
        let mut case = case_in(CaseStatus::ClarificationNeeded);
        case.apply(&from_requester(clarification()).build(), t(3 * HOUR))
            .expect("legal");
        case.apply(&from_responder(question()).build(), t(3 * HOUR - 2))
            .expect("legal");
        assert_eq!(case.pauses[1].from, t(3 * HOUR));
        assert_eq!(case.acknowledged_at, Some(t(HOUR)));
    }

    #[test]
    fn a_pause_never_starts_before_the_filing() {
        // Regression: a question stamped by a clock behind the responder's predated the
        // request, and the pause counted time before the case existed.
        let mut case = open_case();
        case.apply(&from_responder(question()).build(), t(-3))
            .expect("legal");
        assert_eq!(case.pauses[0].from, t(0));
        assert_eq!(case.acknowledged_at, Some(t(-3)));
    }

    #[test]
    fn a_partial_answer_is_the_first_answer_but_not_the_final_one() {
        let mut case = case_in(CaseStatus::Acknowledged);
        case.apply(&from_responder(partial_answer()).build(), t(2 * HOUR))
            .expect("legal");
        assert_eq!(case.status, CaseStatus::PartiallyAnswered);
        assert_eq!(case.first_answer_at, Some(t(2 * HOUR)));
        assert_eq!(case.final_answer_at, None);
    }

    #[test]
    fn further_partial_answers_keep_the_first_answer_time() {
        let mut case = case_in(CaseStatus::PartiallyAnswered);
        case.apply(&from_responder(partial_answer()).build(), t(DAY))
            .expect("legal");
        assert_eq!(case.status, CaseStatus::PartiallyAnswered);
        assert_eq!(case.first_answer_at, Some(t(2 * HOUR)));
    }

    #[test]
    fn a_final_answer_without_a_partial_one_is_both_first_and_final() {
        let mut case = case_in(CaseStatus::Acknowledged);
        case.apply(&from_responder(final_answer()).build(), t(DAY))
            .expect("legal");
        assert_eq!(case.status, CaseStatus::Answered);
        assert_eq!(case.first_answer_at, Some(t(DAY)));
        assert_eq!(case.final_answer_at, Some(t(DAY)));
    }

    #[test]
    fn a_final_answer_after_partial_ones_keeps_the_first_answer_time() {
        let mut case = case_in(CaseStatus::PartiallyAnswered);
        case.apply(&from_responder(final_answer()).build(), t(DAY))
            .expect("legal");
        assert_eq!(case.first_answer_at, Some(t(2 * HOUR)));
        assert_eq!(case.final_answer_at, Some(t(DAY)));
    }

    #[test]
    fn answering_after_the_final_answer_is_rejected() {
        for answer in [partial_answer(), final_answer()] {
            let mut case = case_in(CaseStatus::Answered);
            assert!(case.apply(&from_responder(answer).build(), t(DAY)).is_err());
            assert_eq!(case.final_answer_at, Some(t(2 * HOUR)));
        }
    }

    #[test]
    fn a_decline_is_the_first_and_final_answer_and_keeps_its_reason() {
        let mut case = case_in(CaseStatus::Acknowledged);
        case.apply(&from_responder(decline()).build(), t(DAY))
            .expect("legal");
        assert_eq!(case.status, CaseStatus::Declined);
        assert_eq!(case.first_answer_at, Some(t(DAY)));
        assert_eq!(case.final_answer_at, Some(t(DAY)));
        assert_eq!(case.decline_reason, Some(DeclineReason::NoJurisdiction));
    }

    #[test]
    fn declining_while_a_clarification_is_pending_ends_the_pause() {
        let mut case = case_in(CaseStatus::ClarificationNeeded);
        case.apply(&from_responder(decline()).build(), t(DAY))
            .expect("legal");
        assert_eq!(case.status, CaseStatus::Declined);
        assert_eq!(case.pauses[0].until, Some(t(DAY)));
    }

    #[test]
    fn declining_an_answered_request_is_rejected() {
        let mut case = case_in(CaseStatus::Answered);
        assert!(
            case.apply(&from_responder(decline()).build(), t(DAY))
                .is_err()
        );
        assert_eq!(case.decline_reason, None);
    }

    #[test]
    fn the_requester_can_withdraw_from_every_open_status() {
        for status in [
            CaseStatus::Sent,
            CaseStatus::Acknowledged,
            CaseStatus::ClarificationNeeded,
            CaseStatus::PartiallyAnswered,
        ] {
            let mut case = case_in(status);
            case.apply(&from_requester(withdrawal()).build(), t(DAY))
                .expect("legal");
            assert_eq!(case.status, CaseStatus::Withdrawn, "from {status}");
            assert_eq!(case.withdrawn_at, Some(t(DAY)));
            assert!(case.pauses.iter().all(|p| p.until.is_some()));
        }
    }

    #[test]
    fn withdrawing_an_answered_request_is_rejected() {
        let mut case = case_in(CaseStatus::Answered);
        assert!(
            case.apply(&from_requester(withdrawal()).build(), t(DAY))
                .is_err()
        );
        assert_eq!(case.withdrawn_at, None);
    }

    #[test]
    fn the_responder_cannot_withdraw_or_rate() {
        for body in [withdrawal(), rating(1)] {
            let mut case = case_in(CaseStatus::Answered);
            let result = case.apply(&from_responder(body).build(), t(DAY));
            assert!(
                matches!(result, Err(LifecycleError::IllegalTransition { role, .. }) if role == "responder")
            );
        }
    }

    #[test]
    fn a_rating_before_the_final_answer_is_rejected() {
        for status in [
            CaseStatus::Sent,
            CaseStatus::Acknowledged,
            CaseStatus::PartiallyAnswered,
        ] {
            let mut case = case_in(status);
            let result = case.apply(&from_requester(rating(5)).build(), t(DAY));
            assert!(
                matches!(result, Err(LifecycleError::IllegalTransition { message, .. }) if message == "rating")
            );
            assert_eq!(case.rating, None);
        }
    }

    #[test]
    fn a_rating_closes_an_answered_case_with_its_score() {
        let mut case = case_in(CaseStatus::Answered);
        case.apply(&from_requester(rating(2)).build(), t(DAY))
            .expect("legal");
        assert_eq!(case.status, CaseStatus::Closed);
        assert_eq!(case.rating, Some(2));
        assert_eq!(case.closed_at, Some(t(DAY)));
    }

    #[test]
    fn nothing_is_accepted_once_a_case_is_terminal() {
        for status in [
            CaseStatus::Declined,
            CaseStatus::Withdrawn,
            CaseStatus::Closed,
        ] {
            assert!(status.is_terminal());
            for (name, role, body) in every_step() {
                let mut case = case_in(status);
                let result = case.apply(&from_role(role, body).build(), t(DAY));
                assert!(result.is_err(), "{name} from the {role:?} in {status}");
            }
        }
    }

    #[test]
    fn next_status_previews_without_applying() {
        let case = case_in(CaseStatus::Acknowledged);
        assert_eq!(
            case.next_status(&party("CN"), &final_answer()),
            Ok(CaseStatus::Answered)
        );
        assert_eq!(case.status, CaseStatus::Acknowledged);
        assert_eq!(
            case.next_status(&party("GB"), &final_answer()),
            Err(LifecycleError::NotAParty {
                case: case_id(),
                party: party("GB"),
            })
        );
    }

    #[test]
    fn status_names_round_trip_and_unknown_names_are_refused() {
        for status in EVERY_STATUS {
            assert_eq!(CaseStatus::parse(status.as_str()), Some(status));
            assert_eq!(status.to_string(), status.as_str());
        }
        assert_eq!(CaseStatus::parse("open"), None);
        assert_eq!(CaseStatus::parse("Sent"), None);
    }

    #[test]
    fn only_declined_withdrawn_and_closed_are_terminal() {
        let terminal: Vec<_> = EVERY_STATUS
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(
            terminal,
            [
                CaseStatus::Declined,
                CaseStatus::Withdrawn,
                CaseStatus::Closed
            ]
        );
        let awaiting: Vec<_> = EVERY_STATUS
            .into_iter()
            .filter(|s| s.awaits_responder())
            .collect();
        assert_eq!(
            awaiting,
            [
                CaseStatus::Sent,
                CaseStatus::Acknowledged,
                CaseStatus::PartiallyAnswered
            ]
        );
    }

    #[test]
    fn roles_follow_the_request() {
        let case = open_case();
        assert_eq!(case.role_of(&party("US")), Ok(Role::Requester));
        assert_eq!(case.role_of(&party("CN")), Ok(Role::Responder));
        assert!(case.role_of(&party("GB")).is_err());
    }

    #[test]
    fn each_side_replies_to_the_latest_message_of_the_other() {
        let mut case = open_case();
        let request = case.applied[0];
        assert_eq!(case.latest_from_other_side(&party("CN")), Ok(Some(request)));
        assert_eq!(case.latest_from_other_side(&party("US")), Ok(None));
        let ack = from_responder(ack()).build();
        case.apply(&ack, t(HOUR)).expect("legal");
        assert_eq!(case.latest_from_other_side(&party("US")), Ok(Some(ack.id)));
        assert!(case.latest_from_other_side(&party("GB")).is_err());
    }

    // derive_case

    #[test]
    fn deriving_a_case_without_a_request_is_refused() {
        let messages = [from_responder(ack()).at(HOUR)];
        assert_eq!(
            derive_case(&agreement(), &messages),
            Err(LifecycleError::MissingRequest)
        );
        assert_eq!(
            derive_case(&agreement(), &[]),
            Err(LifecycleError::MissingRequest)
        );
    }

    #[test]
    fn derive_case_matches_applying_a_sequential_conversation() {
        // Arrange
        let mut c = Conversation::new();
        c.responder(ack(), HOUR);
        c.responder(question(), 2 * HOUR);
        c.requester(clarification(), 3 * HOUR);
        c.responder(partial_answer(), 4 * HOUR);
        c.responder(final_answer(), 5 * HOUR);
        c.requester(rating(5), 6 * HOUR);
        let messages = c.messages();
        let mut expected =
            Case::open(&agreement(), &messages[0].envelope, messages[0].at).expect("valid");
        for m in &messages[1..] {
            expected.apply(&m.envelope, m.at).expect("legal");
        }
        // Act
        let derived = derive_case(&agreement(), &messages).expect("derivable");
        // Assert
        assert_eq!(derived, expected);
        assert_eq!(derived.status, CaseStatus::Closed);
        assert!(derived.voided.is_empty());
    }

    #[test]
    fn derive_case_does_not_depend_on_the_order_of_its_input() {
        let mut c = Conversation::new();
        c.responder(ack(), HOUR);
        c.responder(partial_answer(), 2 * HOUR);
        c.responder(final_answer(), 3 * HOUR);
        let mut messages = c.messages();
        let forward = derive_case(&agreement(), &messages).expect("derivable");
        messages.reverse();
        assert_eq!(derive_case(&agreement(), &messages), Ok(forward.clone()));
        messages.rotate_left(1);
        assert_eq!(derive_case(&agreement(), &messages), Ok(forward));
    }

    #[test]
    fn a_partys_messages_follow_its_stream_order_not_their_times() {
        // Arrange: the final answer (seq 2) reached the requester before the ack (seq 1)
        // by the requester's clock.
        let mut c = Conversation::new();
        c.send(Role::Responder, ack(), 2 * HOUR, None);
        c.send(Role::Responder, final_answer(), HOUR, None);
        // Act
        let case = derive_case(&agreement(), &c.messages()).expect("derivable");
        // Assert
        assert_eq!(case.status, CaseStatus::Answered);
        assert!(case.voided.is_empty());
    }

    #[test]
    fn a_reply_is_never_placed_before_the_message_it_answers() {
        // Arrange: the clarification's official time precedes the question's by clock skew.
        let mut c = Conversation::new();
        c.responder(question(), 10);
        c.requester(clarification(), 8);
        // Act
        let case = derive_case(&agreement(), &c.messages()).expect("derivable");
        // Assert
        assert_eq!(case.status, CaseStatus::Acknowledged);
        assert!(case.voided.is_empty());
        assert_eq!(case.pauses[0].until, Some(case.pauses[0].from));
    }

    #[test]
    fn of_two_crossing_messages_the_earlier_official_one_wins_and_the_other_is_voided() {
        // Arrange: the withdrawal and the final answer crossed in transit.
        let mut c = Conversation::new();
        let ack = c.responder(ack(), HOUR);
        let withdrawal = c.requester(withdrawal(), 3 * HOUR);
        let answer = c.send(
            Role::Responder,
            final_answer(),
            2 * HOUR,
            Some(c.request_id()),
        );
        // Act
        let case = derive_case(&agreement(), &c.messages()).expect("derivable");
        // Assert
        assert_eq!(case.status, CaseStatus::Answered);
        assert_eq!(case.voided, vec![withdrawal]);
        assert_eq!(case.applied[1..], [ack, answer]);
        assert_eq!(case.withdrawn_at, None);
    }

    #[test]
    fn every_message_applied_or_voided_records_its_way_to_the_other_side() {
        // Arrange: the withdrawal and the final answer crossed; the fixtures seal at t(0).
        let mut c = Conversation::new();
        c.responder(ack(), HOUR);
        c.requester(withdrawal(), 3 * HOUR);
        c.send(
            Role::Responder,
            final_answer(),
            2 * HOUR,
            Some(c.request_id()),
        );
        // Act
        let case = derive_case(&agreement(), &c.messages()).expect("derivable");
        // Assert: the request, the acknowledgement, the answer and the voided withdrawal.
        let mut ways: Vec<(Role, Timestamp)> =
            case.deliveries.iter().map(|d| (d.to, d.at)).collect();
        ways.sort_by_key(|(_, at)| *at);
        assert_eq!(
            ways,
            [
                (Role::Responder, case.filed_at),
                (Role::Requester, t(HOUR)),
                (Role::Requester, t(2 * HOUR)),
                (Role::Responder, t(3 * HOUR)),
            ]
        );
        let withdrawal = case.deliveries.iter().max_by_key(|d| d.at).expect("four");
        assert_eq!(withdrawal.delay(), t(3 * HOUR).since(t(0)));
    }

    #[test]
    fn crossing_messages_at_the_same_official_time_are_ordered_by_id() {
        let mut c = Conversation::new();
        let withdrawal = c.requester(withdrawal(), HOUR);
        let decline = c.send(Role::Responder, decline(), HOUR, Some(c.request_id()));
        let case = derive_case(&agreement(), &c.messages()).expect("derivable");
        let (winner, loser) = if withdrawal < decline {
            (CaseStatus::Withdrawn, decline)
        } else {
            (CaseStatus::Declined, withdrawal)
        };
        assert_eq!(case.status, winner);
        assert_eq!(case.voided, vec![loser]);
    }

    #[test]
    fn a_voided_message_still_counts_as_received() {
        // Regression: `latest_from_other_side` skipped voided messages, so the next message
        // named an older one in `in_reply_to` and could be merged before what its sender
        // had already seen.
        let mut c = Conversation::new();
        c.requester(withdrawal(), HOUR);
        let late_ack = c.send(Role::Responder, ack(), 2 * HOUR, Some(c.request_id()));
        let case = derive_case(&agreement(), &c.messages()).expect("derivable");
        assert_eq!(case.voided, vec![late_ack]);
        assert_eq!(
            case.latest_from_other_side(&party("US")),
            Ok(Some(late_ack))
        );
    }

    #[test]
    fn a_reply_to_an_unknown_message_is_refused() {
        let mut c = Conversation::new();
        let ghost = from_responder(ack()).build().id;
        let stray = c.send(Role::Requester, withdrawal(), HOUR, Some(ghost));
        assert_eq!(
            derive_case(&agreement(), &c.messages()),
            Err(LifecycleError::UnknownReply {
                case: case_id(),
                message: stray,
                reply_to: ghost,
            })
        );
    }

    #[test]
    fn a_message_of_another_case_among_the_messages_is_refused() {
        let mut messages = Conversation::new().messages();
        let stray = from_responder(ack()).case("US-2026-0002").at(HOUR);
        let id = stray.envelope.id;
        messages.push(stray);
        assert!(matches!(
            derive_case(&agreement(), &messages),
            Err(LifecycleError::WrongCase { message, .. }) if message == id
        ));
    }

    #[test]
    fn a_message_from_a_third_party_among_the_messages_is_refused() {
        let mut messages = Conversation::new().messages();
        messages.push(from_responder(ack()).from("GB").at(HOUR));
        assert!(matches!(
            derive_case(&three_party_agreement(), &messages),
            Err(LifecycleError::NotAParty { party: p, .. }) if p == party("GB")
        ));
    }

    #[test]
    fn copies_of_one_message_count_once() {
        // Regression: a message delivered twice was applied twice (a partial answer shows
        // up twice in `applied`).
        let mut c = Conversation::new();
        c.responder(ack(), HOUR);
        let partial = c.responder(partial_answer(), 2 * HOUR);
        let once = derive_case(&agreement(), &c.messages()).expect("derivable");
        let mut twice = c.messages();
        twice.extend(c.messages());
        let case = derive_case(&agreement(), &twice).expect("derivable");
        assert_eq!(case, once);
        assert_eq!(case.applied.iter().filter(|id| **id == partial).count(), 1);
    }

    #[test]
    fn copies_of_one_message_that_disagree_are_refused() {
        let mut c = Conversation::new();
        let ack = c.responder(ack(), HOUR);
        let mut messages = c.messages();
        let mut forged = messages[1].clone();
        forged.at = t(2 * HOUR);
        messages.push(forged);
        assert_eq!(
            derive_case(&agreement(), &messages),
            Err(LifecycleError::ConflictingCopies {
                case: case_id(),
                message: ack,
            })
        );
    }

    #[test]
    fn of_two_requests_the_earliest_opens_the_case_whatever_the_input_order() {
        // Regression: the first request in the slice opened the case, so two orders of the
        // same messages could derive different cases.
        let first = from_requester(request()).seq(1).at(0);
        let mut later_body = request_body(Priority::Critical);
        later_body.title = "A second try".into();
        let second = from_requester(Body::Request(later_body)).seq(2).at(60);
        let a = derive_case(&agreement(), &[first.clone(), second.clone()]).expect("derivable");
        let b = derive_case(&agreement(), &[second.clone(), first.clone()]).expect("derivable");
        assert_eq!(a, b);
        assert_eq!(a.priority, Priority::Normal);
        assert_eq!(a.voided, vec![second.envelope.id]);
    }

    #[test]
    fn a_request_is_never_a_step_of_an_existing_case() {
        let case = open_case();
        for status in EVERY_STATUS {
            let case = Case {
                status,
                ..case.clone()
            };
            assert_eq!(
                case.next_status(&party("US"), &request()),
                Err(LifecycleError::DuplicateRequest(case_id()))
            );
        }
        assert_eq!(request().message_type(), MessageType::Request);
    }
}
