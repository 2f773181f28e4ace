//! The rules of detente, with no I/O: agreements and their terms, the request lifecycle
//! state machine, and the deadline clock.
//!
//! Everything here is a pure function of its inputs. Time comes in as official receipt
//! timestamps or an explicit `now`, never from a system clock, so both parties (and an
//! auditor) that feed the same signed messages in get the same answer out.

mod agreement;
mod case;
mod clock;
mod error;
#[cfg(test)]
mod fixtures;
mod span;

pub use agreement::{Agreement, Deadlines, Party, Terms};
pub use case::{Case, CaseStatus, Delivery, OfficialMessage, Pause, Role, derive_case};
pub use clock::{MilestoneState, Timeliness};
pub use error::{AgreementError, LifecycleError};
pub use span::Span;
