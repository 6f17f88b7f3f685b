//! Pages for administrators: people and the audit log.

pub mod audit;
pub mod users;
