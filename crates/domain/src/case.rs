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
//! decline) counts as the acknowledgement. Each party's messages of a case are ordered by
//! their stream sequence; the two parties' chains are merged causally by `in_reply_to`, and
//! concurrent messages by official time, then id. A message that is illegal at its place in
//! that order (the other party's concurrent message won) is *voided*: it stays in the log
//! but changes nothing, identically on both sides.

use std::fmt;

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
    /// Official time of the clarification request.
    pub from: Timestamp,
    /// Official time of the clarification, or `None` while still waiting.
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

    /// Applies one message with its official time.
    pub fn apply(&mut self, envelope: &Envelope, at: Timestamp) -> Result<(), LifecycleError> {
        let next = self.next_status(&envelope.from, &envelope.body)?;
        let role = self.role_of(&envelope.from)?;
        if role == Role::Responder && self.acknowledged_at.is_none() {
            self.acknowledged_at = Some(at);
        }
        match &envelope.body {
            Body::ClarificationRequest(_) => {
                self.resume = self.status;
                self.pauses.push(Pause {
                    from: at,
                    until: None,
                });
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
            }
            Body::Withdrawal(_) => self.withdrawn_at = Some(at),
            Body::Rating(r) => {
                self.rating = Some(r.score);
                self.closed_at = Some(at);
            }
            Body::Acknowledgement(_) | Body::Request(_) => {}
        }
        self.status = next;
        self.applied.push(envelope.id);
        let slot = usize::from(role == Role::Responder);
        self.latest[slot] = Some(envelope.id);
        Ok(())
    }

    /// The total time the responder's clock stood still up to `now`.
    pub fn paused_until(&self, now: Timestamp) -> time::Duration {
        self.pauses
            .iter()
            .map(|p| {
                let end = p.until.unwrap_or(now).min(now);
                if end > p.from {
                    end.since(p.from)
                } else {
                    time::Duration::ZERO
                }
            })
            .sum()
    }
}

/// Derives a case from all of its official messages, in any order.
///
/// The request opens the case. The rest are merged: each party's messages in stream order,
/// a message never before the other party's message it replies to, and otherwise earliest
/// official time first (ties by id). Messages illegal at their place are voided.
pub fn derive_case(
    agreement: &Agreement,
    messages: &[OfficialMessage],
) -> Result<Case, LifecycleError> {
    let request = messages
        .iter()
        .find(|m| m.envelope.body.message_type() == MessageType::Request)
        .ok_or(LifecycleError::MissingRequest)?;
    let mut case = Case::open(agreement, &request.envelope, request.at)?;
    let mut chains: [Vec<&OfficialMessage>; 2] = [Vec::new(), Vec::new()];
    for m in messages
        .iter()
        .filter(|m| m.envelope.id != request.envelope.id)
    {
        if m.envelope.case != case.id {
            return Err(LifecycleError::WrongCase {
                expected: case.id.clone(),
                actual: m.envelope.case.clone(),
                message: m.envelope.id,
            });
        }
        let slot = usize::from(case.role_of(&m.envelope.from)? == Role::Responder);
        chains[slot].push(m);
    }
    for chain in &mut chains {
        chain.sort_by_key(|m| m.envelope.seq);
    }
    let mut emitted: Vec<MessageId> = vec![request.envelope.id];
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
        emitted.push(m.envelope.id);
        if case.apply(&m.envelope, m.at).is_err() {
            case.voided.push(m.envelope.id);
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
