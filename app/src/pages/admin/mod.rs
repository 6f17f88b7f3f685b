//! Pages for administrators: people, the audit log, the mail outbox and the
//! overview across events.

pub mod audit;
pub mod outbox;
pub mod overview;
pub mod users;
