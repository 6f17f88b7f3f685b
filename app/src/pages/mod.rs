pub mod account;
pub mod admin;
pub mod event;
pub mod events;
pub mod login;
pub mod my_events;
pub mod not_found;
pub mod ticket;
