//! Tsudoi's domain core: the rules of the product and the storage behind them.
//!
//! Everything here is plain Rust and plain async functions, so tests call it
//! directly without a browser or an HTTP server. The types in [`model`],
//! [`error`], [`audit`], [`checkin`], [`events`], [`mail`], [`registrations`], [`surveys`] and
//! [`ticket_token`] also compile for the browser (wasm) build; everything that needs a database, a clock or the
//! network sits behind the `server` feature.

pub mod access;
pub mod audit;
pub mod checkin;
pub mod error;
pub mod events;
pub mod mail;
pub mod model;
pub mod reason;
pub mod registrations;
pub mod surveys;
#[cfg(feature = "server")]
pub mod text_rules;
pub mod ticket_token;

#[cfg(feature = "server")]
pub mod backup;
#[cfg(feature = "server")]
pub mod caching;
#[cfg(feature = "server")]
pub mod calendar;
#[cfg(feature = "server")]
pub mod csv_export;
#[cfg(feature = "server")]
pub mod demo;
#[cfg(feature = "server")]
mod file_checksum;
#[cfg(feature = "server")]
mod observe;
#[cfg(feature = "server")]
pub mod retention;
#[cfg(feature = "server")]
pub mod site;
#[cfg(feature = "server")]
pub mod storage;
#[cfg(feature = "server")]
pub mod tickets;
#[cfg(feature = "server")]
pub mod users;

pub use error::{Error, Result};
pub use reason::{Field, Reason};
