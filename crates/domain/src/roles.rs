use serde::{Deserialize, Serialize};

/// A staff member's role in the firm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Owner,
    Admin,
    Member,
}

/// A staff member's role on a matter (seed 003).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatterRole {
    CaseHandler,
    Assistant,
}

/// Whether a client is a natural person or an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    Person,
    Organisation,
}

/// Who a contact belongs to: the *of* field of seed 000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactOfKind {
    Client,
    Staff,
    Office,
}

/// Which staff a client-started thread notifies (seed 001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThreadNotificationPolicy {
    Assignees,
    AssigneesAndOwner,
    AllMembers,
    NoOne,
}

/// Text forms stored in the database; one table for all the enums above.
macro_rules! stored_as_text {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn from_stored(raw: &str) -> Option<Self> {
                match raw { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

stored_as_text!(StaffRole { Owner => "owner", Admin => "admin", Member => "member" });
stored_as_text!(MatterRole { CaseHandler => "case_handler", Assistant => "assistant" });
stored_as_text!(ClientKind { Person => "person", Organisation => "organisation" });
stored_as_text!(ContactOfKind { Client => "client", Staff => "staff", Office => "office" });
stored_as_text!(ThreadNotificationPolicy {
    Assignees => "assignees",
    AssigneesAndOwner => "assignees_and_owner",
    AllMembers => "all_members",
    NoOne => "no_one",
});

impl ThreadNotificationPolicy {
    /// Whether a staff member with access to a conversation a client started hears of it
    /// (seed 001); replies reach every member with access, whatever the policy.
    pub fn notifies(self, staff_id: &str, assignees: &[String], owner: Option<&str>) -> bool {
        let assigned = assignees.iter().any(|id| id == staff_id);
        match self {
            Self::Assignees => assigned,
            Self::AssigneesAndOwner => assigned || owner == Some(staff_id),
            Self::AllMembers => true,
            Self::NoOne => false,
        }
    }
}

impl StaffRole {
    pub fn is_admin(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }
}

#[cfg(test)]
mod tests {
    use super::ThreadNotificationPolicy::{AllMembers, Assignees, AssigneesAndOwner, NoOne};

    #[test]
    fn a_client_started_thread_reaches_whom_the_policy_names() {
        let assignees = vec!["stf_a".to_owned()];
        let owner = Some("stf_o");
        assert!(Assignees.notifies("stf_a", &assignees, owner));
        assert!(!Assignees.notifies("stf_o", &assignees, owner));
        assert!(AssigneesAndOwner.notifies("stf_o", &assignees, owner));
        assert!(!AssigneesAndOwner.notifies("stf_x", &assignees, owner));
        assert!(AllMembers.notifies("stf_x", &assignees, owner));
        assert!(!NoOne.notifies("stf_a", &assignees, owner));
    }
}
