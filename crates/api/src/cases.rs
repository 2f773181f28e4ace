//! Cases: filing a request, sending the next message, listing and showing cases.

use std::str::FromStr;

use detente_domain::{Case, CaseStatus, MilestoneState, Pause, Timeliness};
use detente_protocol::{
    Body, CaseId, DeclineReason, Digest, MessageId, PartyId, Priority, RequestBody, RequestKind,
    Timestamp, Tlp,
};
use serde::{Deserialize, Serialize};

use crate::one_of;

/// Defines a closed set of values with one spelling each, parsed with an error that lists
/// the valid ones (for query strings, CLI flags and error messages alike).
macro_rules! closed_set {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The value's one spelling.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Every spelling, in order.
            pub fn names() -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.as_str()).collect()
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| format!("{s:?} is not one of {}", one_of(&Self::names())))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

closed_set! {
    /// Which way a case or a message goes, seen from this node.
    Direction {
        /// Addressed to this node's party.
        Incoming = "incoming",
        /// Sent by this node's party.
        Outgoing = "outgoing",
    }
}

closed_set! {
    /// Where a case stands as this node sees it: its official status once the request is
    /// official, and before that whether the request is still on its way or was refused.
    CaseState {
        /// Committed here, not yet receipted by the partner.
        PendingDelivery = "pending_delivery",
        /// Refused for good by the partner's node.
        Rejected = "rejected",
        /// Filed, no reply yet.
        Sent = "sent",
        /// The responder has taken it up.
        Acknowledged = "acknowledged",
        /// The responder asked a question; its clock is paused.
        ClarificationNeeded = "clarification_needed",
        /// At least one partial answer, no final one yet.
        PartiallyAnswered = "partially_answered",
        /// Final answer given, awaiting the requester's rating.
        Answered = "answered",
        /// The responder declined.
        Declined = "declined",
        /// The requester withdrew.
        Withdrawn = "withdrawn",
        /// The requester rated the final answer.
        Closed = "closed",
    }
}

closed_set! {
    /// Where one message stands.
    MessageState {
        /// Sent by this node, not yet receipted.
        Pending = "pending",
        /// Sent by this node and receipted by the partner.
        Delivered = "delivered",
        /// Received by this node (which issued the receipt).
        Received = "received",
        /// Refused for good by the partner's node.
        Rejected = "rejected",
    }
}

impl From<CaseStatus> for CaseState {
    fn from(s: CaseStatus) -> Self {
        match s {
            CaseStatus::Sent => Self::Sent,
            CaseStatus::Acknowledged => Self::Acknowledged,
            CaseStatus::ClarificationNeeded => Self::ClarificationNeeded,
            CaseStatus::PartiallyAnswered => Self::PartiallyAnswered,
            CaseStatus::Answered => Self::Answered,
            CaseStatus::Declined => Self::Declined,
            CaseStatus::Withdrawn => Self::Withdrawn,
            CaseStatus::Closed => Self::Closed,
        }
    }
}

/// `POST /api/v1/cases`: file a request to a partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// The partner asked.
    pub to: PartyId,
    /// The request.
    pub request: RequestBody,
}

/// What the sender of a message gets back once it is committed locally (it counts once the
/// partner's signed receipt arrives).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The case.
    pub case: CaseId,
    /// The envelope id.
    pub message: MessageId,
    /// The envelope's position in the stream to the partner.
    pub seq: u64,
}

/// The query of `GET /api/v1/cases`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    /// Only cases in this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CaseState>,
    /// Only incoming (addressed to this node) or outgoing (filed by it) cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// Only cases with a deadline passed and unmet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overdue: bool,
    /// At most this many (default 100, at most 10,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `GET /api/v1/cases`: cases, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseList {
    /// The cases.
    pub cases: Vec<CaseSummary>,
}

/// One case in a list: what an officer scans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSummary {
    /// The case id.
    pub case: CaseId,
    /// The party that filed the request.
    pub requester: PartyId,
    /// The party asked.
    pub responder: PartyId,
    /// Incoming or outgoing, seen from this node.
    pub direction: Direction,
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
    /// Where it stands.
    pub status: CaseState,
    /// Official time of filing (the responder's receipt), once there is one.
    pub filed_at: Option<Timestamp>,
    /// This node's messages of the case not yet receipted.
    pub pending_out: u32,
    /// When the earliest unmet deadline passes or passed: the case is overdue at and after
    /// this instant (none while the clock is paused or every deadline is met).
    pub overdue_from: Option<Timestamp>,
    /// Whether a deadline has passed unmet.
    pub overdue: bool,
}

/// `GET /api/v1/cases/{case}`: one case with its deadlines and every message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseDetail {
    /// The list line.
    pub summary: CaseSummary,
    /// The case as derived from its official messages, once the request is official.
    pub case: Option<CaseView>,
    /// The case against its deadlines, now.
    pub timeliness: Option<TimelinessView>,
    /// Every message, in log order.
    pub messages: Vec<MessageView>,
}

/// A case as derived from its official messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseView {
    /// Its official status.
    pub status: CaseState,
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
    pub pauses: Vec<PauseView>,
    /// Messages that lost a race with a concurrent message and changed nothing.
    pub voided: Vec<MessageId>,
}

impl From<&Case> for CaseView {
    fn from(c: &Case) -> Self {
        Self {
            status: c.status.into(),
            filed_at: c.filed_at,
            acknowledged_at: c.acknowledged_at,
            first_answer_at: c.first_answer_at,
            final_answer_at: c.final_answer_at,
            decline_reason: c.decline_reason,
            withdrawn_at: c.withdrawn_at,
            closed_at: c.closed_at,
            rating: c.rating,
            pauses: c.pauses.iter().map(PauseView::from).collect(),
            voided: c.voided.clone(),
        }
    }
}

/// A period during which the responder's clock stood still.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseView {
    /// Official time of the clarification request.
    pub from: Timestamp,
    /// Official time the wait ended, or `None` while still waiting.
    pub until: Option<Timestamp>,
}

impl From<&Pause> for PauseView {
    fn from(p: &Pause) -> Self {
        Self {
            from: p.from,
            until: p.until,
        }
    }
}

/// A case against its three deadlines at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelinessView {
    /// Time to acknowledge.
    pub acknowledge: Milestone,
    /// Time to first answer.
    pub first_answer: Milestone,
    /// Time to final answer.
    pub final_answer: Milestone,
}

impl TimelinessView {
    /// The three milestones with their names, in order.
    pub fn named(&self) -> [(&'static str, Milestone); 3] {
        [
            ("acknowledge", self.acknowledge),
            ("first answer", self.first_answer),
            ("final answer", self.final_answer),
        ]
    }
}

impl From<&Timeliness> for TimelinessView {
    fn from(t: &Timeliness) -> Self {
        Self {
            acknowledge: t.acknowledge.into(),
            first_answer: t.first_answer.into(),
            final_answer: t.final_answer.into(),
        }
    }
}

/// Where a case stands against one deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Milestone {
    /// Reached at `at`, after `elapsed_ms` of the responder's time (pauses excluded).
    Met {
        /// Official time it was reached.
        at: Timestamp,
        /// Responder time it took, in milliseconds.
        elapsed_ms: i64,
        /// Whether that was within the deadline.
        within_deadline: bool,
    },
    /// Not reached yet.
    Pending {
        /// When it falls due; `None` while the clock is paused.
        due: Option<Timestamp>,
        /// Whether the deadline has passed.
        overdue: bool,
    },
    /// Never reached: the case was withdrawn after the deadline had passed, so the miss
    /// stands.
    Missed {
        /// When the deadline fell.
        due: Timestamp,
    },
    /// Never to be reached: withdrawn while the deadline was still running.
    Moot,
}

impl From<MilestoneState> for Milestone {
    fn from(m: MilestoneState) -> Self {
        match m {
            MilestoneState::Met {
                at,
                elapsed_ms,
                within_deadline,
            } => Self::Met {
                at,
                elapsed_ms,
                within_deadline,
            },
            MilestoneState::Pending { due, overdue } => Self::Pending { due, overdue },
            MilestoneState::Missed { due } => Self::Missed { due },
            MilestoneState::Moot => Self::Moot,
        }
    }
}

/// One message of a case, with its receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    /// The envelope id.
    pub id: MessageId,
    /// Sent by this node (outgoing) or received (incoming).
    pub direction: Direction,
    /// Sender.
    pub from: PartyId,
    /// Addressee.
    pub to: PartyId,
    /// The sender's agency that acted, as the signed envelope names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// Position in the sender's stream to the addressee.
    pub seq: u64,
    /// Where it stands.
    pub state: MessageState,
    /// When the sender sealed it (the sender's clock).
    pub sent_at: Timestamp,
    /// Official time of arrival, from the signed receipt.
    pub received_at: Option<Timestamp>,
    /// The partner's message it answers.
    pub in_reply_to: Option<MessageId>,
    /// What it says.
    pub body: Body,
    /// SHA-256 of the signed envelope's canonical payload.
    pub envelope_hash: Digest,
    /// Who signed its receipt.
    pub receipt_signed_by: Option<PartyId>,
    /// Why the partner refused it, if it did.
    pub rejection: Option<String>,
    /// Where this node logged it.
    pub log_index: u64,
    /// Whether it lost a race with a concurrent message and changed nothing.
    pub voided: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_state_is_refused_with_the_list_of_valid_ones() {
        let err = "answerd".parse::<CaseState>().expect_err("not a state");
        assert!(err.contains("\"answered\""), "{err}");
        assert!(err.contains("\"pending_delivery\""), "{err}");
        assert_eq!("answered".parse::<CaseState>(), Ok(CaseState::Answered));
    }

    #[test]
    fn every_value_has_one_spelling_on_the_wire_and_in_text() {
        for s in CaseState::ALL {
            let wire = serde_json::to_value(s).expect("JSON");
            assert_eq!(wire, serde_json::Value::String(s.as_str().into()));
            assert_eq!(s.as_str().parse::<CaseState>(), Ok(*s));
        }
        assert_eq!(
            serde_json::to_value(Direction::Incoming).expect("JSON"),
            "incoming"
        );
    }
}
