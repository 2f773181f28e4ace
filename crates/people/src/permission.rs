//! The one permission table: for every action, which roles may take it and over which cases.
//! The server asks [`grant`] before every route's work and nowhere else decides; the README's
//! table is [`markdown_table`]'s output (a test keeps them equal).
//!
//! Least privilege, as the agreement's agencies would expect: a liaison officer acts for the
//! cases of their own agency, an analyst reads them and drafts, a reviewer reads what the
//! review needs and changes nothing, and only an administrator manages people and the node.

use crate::role::{Role, Roles};

/// Something a user can ask the node to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read cases: list them, open one, see its messages.
    ReadCases,
    /// File a new request to a partner.
    FileRequest,
    /// Send a case's next message: acknowledge, ask or give a clarification, answer,
    /// decline, withdraw, rate.
    SendMessage,
    /// Save a draft answer for a liaison officer to send.
    DraftAnswer,
    /// Move a case to another agency (an incoming request lands with the duty agency).
    AssignCase,
    /// Read indicators and STIX objects (always within TLP).
    ReadIndicators,
    /// Import indicators, add TAXII users, pull from partners.
    ManageIndicators,
    /// Match indicators against local network data.
    RunMatch,
    /// Read the review and its figures.
    ReadReview,
    /// Read the node's log: entries, proofs, checkpoints, exports.
    ReadLog,
    /// Read the node's status: partners, deliveries, alerts.
    ReadStatus,
    /// Read the trail of who did what.
    ReadTrail,
    /// Add, change and disable users and their tokens; add agencies.
    ManagePeople,
    /// Change the agreement, keys and configuration.
    ManageNode,
}

/// Over which cases a grant holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// The cases of the user's own agency (for actions not about cases: the action itself).
    OwnAgency,
    /// Every case.
    All,
}

use Action::*;
use Scope::{All, OwnAgency};

/// Every action, in the order the table lists them.
pub const ACTIONS: [Action; 14] = [
    ReadCases,
    FileRequest,
    SendMessage,
    DraftAnswer,
    AssignCase,
    ReadIndicators,
    ManageIndicators,
    RunMatch,
    ReadReview,
    ReadLog,
    ReadStatus,
    ReadTrail,
    ManagePeople,
    ManageNode,
];

/// The table itself: what `role` may do with `action`, if anything.
const fn table(role: Role, action: Action) -> Option<Scope> {
    match (role, action) {
        // The administrator runs the node, and must be able to act on any case when a
        // liaison officer is away; every such action is in the trail under their name.
        (Role::Admin, _) => Some(All),

        (Role::Liaison, ReadCases | FileRequest | SendMessage | DraftAnswer | AssignCase) => {
            Some(OwnAgency)
        }
        (Role::Liaison, ReadIndicators | RunMatch | ReadReview | ReadStatus) => Some(All),

        (Role::Analyst, ReadCases | DraftAnswer) => Some(OwnAgency),
        (Role::Analyst, ReadIndicators | ManageIndicators | RunMatch) => Some(All),

        // The review cites every case by its log index, so a reviewer reads them all.
        (Role::Reviewer, ReadCases | ReadReview | ReadLog | ReadStatus | ReadTrail) => Some(All),

        // Reserved for intake: a stakeholder reaches only the intake form, which is not here.
        (Role::Stakeholder, _) => None,
        _ => None,
    }
}

/// The widest scope any of `roles` grants for `action`; `None`: refused.
pub fn grant(roles: Roles, action: Action) -> Option<Scope> {
    roles.iter().filter_map(|r| table(r, action)).max()
}

impl Action {
    /// The action's name in errors ("this needs the permission to ...") and the docs.
    pub fn describe(self) -> &'static str {
        match self {
            ReadCases => "read cases",
            FileRequest => "file requests",
            SendMessage => {
                "send a case's messages (acknowledge, clarify, answer, decline, withdraw, rate)"
            }
            DraftAnswer => "draft answers",
            AssignCase => "assign cases to an agency",
            ReadIndicators => "read indicators (within TLP)",
            ManageIndicators => "import indicators, manage TAXII users and pulls",
            RunMatch => "match indicators against local data",
            ReadReview => "read the review",
            ReadLog => "read the log, proofs and exports",
            ReadStatus => "read the node's status",
            ReadTrail => "read the trail of who did what",
            ManagePeople => "manage users, tokens and agencies",
            ManageNode => "manage the agreement, keys and configuration",
        }
    }
}

/// The table as Markdown, one row per action and one column per role: "own agency", "all"
/// or "—".
pub fn markdown_table() -> String {
    let mut out = String::from("| action |");
    for r in Role::ALL {
        out.push_str(&format!(" {r} |"));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(Role::ALL.len()));
    out.push('\n');
    for a in ACTIONS {
        out.push_str(&format!("| {} |", a.describe()));
        for r in Role::ALL {
            let cell = match table(r, a) {
                Some(All) => "all",
                Some(OwnAgency) => "own agency",
                None => "—",
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_role_means_no_action() {
        for a in ACTIONS {
            assert_eq!(grant(Roles::NONE, a), None, "{a:?}");
        }
    }

    #[test]
    fn a_reviewer_changes_nothing() {
        let reviewer = Roles::of(&[Role::Reviewer]);
        for a in [
            FileRequest,
            SendMessage,
            DraftAnswer,
            AssignCase,
            ManageIndicators,
            ManagePeople,
            ManageNode,
        ] {
            assert_eq!(grant(reviewer, a), None, "{a:?}");
        }
        assert_eq!(grant(reviewer, ReadCases), Some(All));
    }

    #[test]
    fn a_liaison_acts_for_the_own_agency_only_and_manages_no_one() {
        let liaison = Roles::of(&[Role::Liaison]);
        assert_eq!(grant(liaison, SendMessage), Some(OwnAgency));
        assert_eq!(grant(liaison, ManagePeople), None);
        assert_eq!(grant(liaison, ReadLog), None);
    }

    #[test]
    fn an_analyst_drafts_but_never_sends() {
        let analyst = Roles::of(&[Role::Analyst]);
        assert_eq!(grant(analyst, DraftAnswer), Some(OwnAgency));
        assert_eq!(grant(analyst, SendMessage), None);
        assert_eq!(grant(analyst, FileRequest), None);
    }

    #[test]
    fn several_roles_grant_the_widest_scope() {
        let both = Roles::of(&[Role::Liaison, Role::Reviewer]);
        assert_eq!(grant(both, ReadCases), Some(All));
        assert_eq!(grant(both, SendMessage), Some(OwnAgency));
    }

    #[test]
    fn only_an_admin_manages_people_and_the_node() {
        for r in Role::ALL {
            let roles = Roles::of(&[r]);
            let expected = (r == Role::Admin).then_some(All);
            assert_eq!(grant(roles, ManagePeople), expected, "{r}");
            assert_eq!(grant(roles, ManageNode), expected, "{r}");
        }
    }

    #[test]
    fn a_stakeholder_reaches_nothing_here() {
        let s = Roles::of(&[Role::Stakeholder]);
        assert!(ACTIONS.iter().all(|a| grant(s, *a).is_none()));
    }

    #[test]
    fn the_readme_shows_the_table_the_code_enforces() {
        let readme = include_str!("../../../README.md");
        assert!(
            readme.contains(&markdown_table()),
            "README.md's permission table differs from the code's; paste this:\n{}",
            markdown_table()
        );
    }

    #[test]
    fn the_markdown_table_has_a_row_per_action_and_a_column_per_role() {
        let t = markdown_table();
        assert_eq!(t.lines().count(), 2 + ACTIONS.len());
        assert!(t.starts_with("| action | admin | liaison | analyst | reviewer | stakeholder |"));
        assert!(
            t.contains("| draft answers | all | own agency | own agency | — | — |"),
            "{t}"
        );
    }
}
