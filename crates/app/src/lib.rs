//! The use cases of Vestibule, one module per capability. Each takes a [`Context`] (or, for
//! anonymous callers, an [`Origin`]) and a typed command, asks `domain::authz`, owns its
//! transaction, writes audit, outbox and live events, and returns a typed result or an
//! [`AppError`]. Nothing here knows HTTP: the CLI, the dispatcher and tests call the same
//! functions as the routes.
//!
//! Use cases are synchronous and take a connection, because diesel is: the caller decides on
//! which thread the work runs (the HTTP layer runs it on the blocking pool).

pub mod access_links;
pub mod api_keys;
pub mod audit;
pub mod audit_checkpoints;
pub mod audit_log;
pub mod auth;
pub mod certificate_pdf;
pub mod certificates;
mod change;
pub mod clients;
pub mod contacts;
pub mod context;
pub mod conversations;
pub mod document_requests;
pub mod documents;
pub mod error;
pub mod events;
pub mod firm;
pub mod folders;
pub mod health;
pub mod invitations;
pub mod invoices;
pub mod link_documents;
pub mod link_emails;
pub mod link_secret;
pub mod links;
pub mod live;
pub mod matters;
pub mod messaging;
pub mod notifications;
pub mod offices;
pub mod outstanding;
pub mod page;
pub mod password;
pub mod payments;
pub mod places;
pub mod portal_access;
pub mod portal_requests;
pub mod portal_uploads;
pub mod portals;
pub mod reminders;
pub mod request_links;
pub mod runner;
pub mod scanner;
pub mod scanning;
pub mod secrets;
pub mod secrets_at_rest;
pub mod shares;
pub mod signatures;
pub mod staff;
pub mod staff_invitations;
pub mod templates;
pub mod throttle;
pub mod transfers;
pub mod upsert;
pub mod webhooks;

pub use context::{Context, Origin, Settings};
pub use error::{AppError, AppResult, OrUnknown};
