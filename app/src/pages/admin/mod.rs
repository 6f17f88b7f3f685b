//! Pages for administrators: people, the audit log and the mail outbox.

pub mod audit;
pub mod outbox;
pub mod users;
