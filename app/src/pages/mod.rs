pub mod events;
pub mod not_found;
