pub mod account;
pub mod admin;
pub mod events;
pub mod login;
pub mod not_found;
