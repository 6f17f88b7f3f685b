//! Who may do what, in one table, so every server function asks the same
//! question and the role × action matrix test checks the same answers.
//!
//! Compiles for the browser too: pages use it to decide which links to show,
//! while the server decides what is actually allowed.

use serde::{Deserialize, Serialize};

use crate::model::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Permission {
    /// Register for events, see and cancel one's own registrations.
    AttendEvents,
    /// Check attendees in at the door, for any event.
    CheckInAttendees,
    /// Create events and manage the ones one organizes.
    OrganizeEvents,
    /// Manage every event, whoever organizes it.
    ManageAllEvents,
    /// Create users, change roles, deactivate, import employees.
    AdministerUsers,
    /// Browse the audit log.
    ReadAuditLog,
    /// See the mail outbox and send dead mail again.
    ManageMail,
}

impl Role {
    /// Roles are cumulative: each one can do everything of the one before.
    pub fn grants(self, permission: Permission) -> bool {
        let needed = match permission {
            Permission::AttendEvents => Role::Employee,
            Permission::CheckInAttendees => Role::Staff,
            Permission::OrganizeEvents => Role::Organizer,
            Permission::ManageAllEvents
            | Permission::AdministerUsers
            | Permission::ReadAuditLog
            | Permission::ManageMail => Role::Admin,
        };
        self.rank() >= needed.rank()
    }

    fn rank(self) -> u8 {
        match self {
            Role::Employee => 0,
            Role::Staff => 1,
            Role::Organizer => 2,
            Role::Admin => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_what_the_product_promises() {
        use Permission::*;
        let expected = [
            (
                Role::Employee,
                [true, false, false, false, false, false, false],
            ),
            (Role::Staff, [true, true, false, false, false, false, false]),
            (
                Role::Organizer,
                [true, true, true, false, false, false, false],
            ),
            (Role::Admin, [true, true, true, true, true, true, true]),
        ];
        let permissions = [
            AttendEvents,
            CheckInAttendees,
            OrganizeEvents,
            ManageAllEvents,
            AdministerUsers,
            ReadAuditLog,
            ManageMail,
        ];
        for (role, answers) in expected {
            for (permission, allowed) in permissions.iter().zip(answers) {
                assert_eq!(role.grants(*permission), allowed, "{role:?} {permission:?}");
            }
        }
    }
}
