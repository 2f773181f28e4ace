//! Errors of the domain rules.

use detente_protocol::{CaseId, MessageId, MessageType, PartyId};
use thiserror::Error;

use crate::CaseStatus;

/// Why an agreement document was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AgreementError {
    /// The document is not valid TOML of the agreement's shape.
    #[error("agreement document is malformed: {0}")]
    Malformed(String),
    /// The document parses but breaks a rule of agreements.
    #[error("agreement is invalid: {0}")]
    Invalid(String),
}

/// Why a message cannot be applied to a case.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LifecycleError {
    /// The message type is not allowed in the case's current state for the sender's role.
    #[error("{message} from the {role} is not allowed while case {case} is {status}")]
    IllegalTransition {
        /// The case.
        case: CaseId,
        /// Its current status.
        status: CaseStatus,
        /// The attempted step.
        message: &'static str,
        /// Who attempted it.
        role: &'static str,
    },
    /// The first message of a case must be a request, and only the first.
    #[error("case {case} does not start with a request")]
    NotARequest {
        /// The case.
        case: CaseId,
    },
    /// No request among a case's messages.
    #[error("the messages contain no request to open a case with")]
    MissingRequest,
    /// A message replies to one that is not part of the case: a broken or forged history.
    #[error(
        "message {message} of case {case} replies to {reply_to}, which the case does not contain"
    )]
    UnknownReply {
        /// The case.
        case: CaseId,
        /// The message that cannot be placed.
        message: MessageId,
        /// What it claims to reply to.
        reply_to: MessageId,
    },
    /// A message filed under another case.
    #[error("message {message} belongs to case {actual}, not {expected}")]
    WrongCase {
        /// The case being derived.
        expected: CaseId,
        /// The case the message names.
        actual: CaseId,
        /// The message.
        message: MessageId,
    },
    /// Two copies of one message disagree: same id, different envelope or official time.
    #[error("message {message} of case {case} appears twice with different contents")]
    ConflictingCopies {
        /// The case.
        case: CaseId,
        /// The message whose copies disagree.
        message: MessageId,
    },
    /// A request for a case that already exists.
    #[error("case {0} already exists")]
    DuplicateRequest(CaseId),
    /// The sender is neither the requester nor the responder of the case.
    #[error("{party} is not a party to case {case}")]
    NotAParty {
        /// The case.
        case: CaseId,
        /// The intruding party.
        party: PartyId,
    },
    /// A request's case id must name the requesting party.
    #[error("case {case} must be filed by {expected}, not {actual}")]
    WrongRequester {
        /// The case.
        case: CaseId,
        /// The party the case id names.
        expected: PartyId,
        /// The party that sent the request.
        actual: PartyId,
    },
    /// The message names a request kind, category or priority the agreement does not have.
    #[error("{0}")]
    OutsideTerms(String),
}

impl LifecycleError {
    pub(crate) fn illegal(
        case: &CaseId,
        status: CaseStatus,
        message: MessageType,
        role: crate::Role,
    ) -> Self {
        Self::IllegalTransition {
            case: case.clone(),
            status,
            message: message.as_str(),
            role: role.as_str(),
        }
    }
}
