//! End-to-end suites. Every scenario runs on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::large_futures)]

mod support;

mod access_links;
mod api_keys;
mod audit;
mod audit_checkpoints;
mod auth;
mod blob_stores;
mod card_payments;
mod certificates;
mod clients;
mod document_requests;
mod documents;
mod file_transfers;
mod idempotency;
mod instances;
mod invitations;
mod invoices;
mod isolation;
mod live;
mod maintenance;
mod matters;
mod messaging;
mod payments;
mod people;
mod portals;
mod problems;
mod scanning;
mod secrets_at_rest;
mod sessions;
mod sharing;
mod signatures;
mod slow_bodies;
mod spec;
mod staff_invitations;
mod statements;
mod two_factor;
mod webhooks;
