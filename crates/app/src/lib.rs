//! The use cases of Vestibule, one module per capability. Each takes a [`Context`] (or, for
//! anonymous callers, an [`Origin`]) and a typed command, asks `domain::authz`, owns its
//! transaction, writes audit, outbox and live events, and returns a typed result or an
//! [`AppError`]. Nothing here knows HTTP: the CLI, the dispatcher and tests call the same
//! functions as the routes.
//!
//! Use cases are synchronous and take a connection, because diesel is: the caller decides on
//! which thread the work runs (the HTTP layer runs it on the blocking pool).

pub mod audit;
pub mod clients;
pub mod context;
pub mod documents;
pub mod error;
pub mod events;
pub mod folders;
pub mod messaging;
pub mod page;
pub mod password;
pub mod places;
pub mod portal_access;
pub mod secrets;
pub mod shares;
pub mod signatures;
pub mod transfers;

pub use context::{Context, Origin, Settings};
pub use error::{AppError, AppResult, OrUnknown};
