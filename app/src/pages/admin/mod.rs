//! Pages for administrators: people (and anonymizing one), the audit log,
//! the mail outbox, the overview across events and data retention.

pub mod anonymize;
pub mod audit;
pub mod outbox;
pub mod overview;
pub mod retention;
pub mod users;
