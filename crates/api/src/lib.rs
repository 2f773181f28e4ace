//! The JSON API contract of a detente node: every request body, query and response of
//! `/api/v1`, and the error envelope with its stable codes. The node serialises these types
//! and the CLI deserialises the same ones, so neither reads the other by string keys, and each
//! value has one spelling (`incoming`, `amber`, `pending_delivery`).
//!
//! These are wire types, kept apart from the domain's: the domain may change how it derives a
//! case without changing what clients read, and a change here is a change of the API.

mod cases;
mod error;
mod status;

pub use cases::{
    CaseDetail, CaseList, CaseQuery, CaseState, CaseSummary, CaseView, Direction, MessageState,
    MessageView, Milestone, NewRequest, PauseView, Sent, TimelinessView,
};
pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use status::{
    AgreementView, AlertView, LogHead, OutboxView, PartnerView, ProvenCheckpoint, PullHistory,
    PullReport, StatusView,
};

/// Values of a closed set, listed for an error message: `"a", "b" or "c"`.
pub fn one_of(values: &[&str]) -> String {
    match values {
        [] => String::new(),
        [one] => format!("{one:?}"),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(|v| format!("{v:?}")).collect();
            format!("{} or {last:?}", init.join(", "))
        }
    }
}
