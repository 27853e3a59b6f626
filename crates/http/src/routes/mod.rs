//! One module per resource; each registers its handlers, and every handler carries its
//! `#[utoipa::path]`, so a route cannot be served without appearing in the spec.

use actix_web::HttpResponse;
use actix_web::http::header::LOCATION;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use vestibule_domain::text;

use crate::error::ApiError;
use crate::routing::Routes;

pub mod access_links;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod certificates;
pub mod clients;
pub mod contacts;
pub mod conversations;
pub mod document_requests;
pub mod documents;
pub mod file_transfers;
pub mod firm;
pub mod folders;
pub mod health;
pub mod invitations;
pub mod invoices;
pub mod link_emails;
pub mod links;
pub mod live;
pub mod matters;
pub mod notifications;
pub mod offices;
pub mod payment_processor;
pub mod payments;
pub mod portal;
pub mod portal_conversations;
pub mod portal_documents;
pub mod portal_payments;
pub mod portal_requests;
pub mod portal_sessions;
pub mod portal_two_factor;
pub mod portals;
pub mod sessions;
pub mod shares;
pub mod signatures;
pub mod staff;
pub mod staff_invitations;
pub mod templates;
pub mod two_factor;
pub mod webhooks;

/// The versioned API under `/v1`.
pub fn v1(cfg: &mut Routes<'_, '_>) {
    auth::routes(cfg);
    two_factor::routes(cfg);
    sessions::routes(cfg);
    portal::routes(cfg);
    portal_two_factor::routes(cfg);
    portal_sessions::routes(cfg);
    firm::routes(cfg);
    staff::routes(cfg);
    staff_invitations::routes(cfg);
    offices::routes(cfg);
    clients::routes(cfg);
    contacts::routes(cfg);
    matters::routes(cfg);
    api_keys::routes(cfg);
    audit::routes(cfg);
    webhooks::routes(cfg);
    portals::routes(cfg);
    invitations::routes(cfg);
    invoices::routes(cfg);
    payments::routes(cfg);
    portal_payments::routes(cfg);
    payment_processor::routes(cfg);
    conversations::routes(cfg);
    portal_conversations::routes(cfg);
    templates::routes(cfg);
    notifications::routes(cfg);
    live::routes(cfg);
    folders::routes(cfg);
    documents::routes(cfg);
    portal_documents::routes(cfg);
    document_requests::routes(cfg);
    portal_requests::routes(cfg);
    shares::routes(cfg);
    signatures::routes(cfg);
    certificates::routes(cfg);
    file_transfers::routes(cfg);
    access_links::routes(cfg);
    link_emails::routes(cfg);
    links::routes(cfg);
}

pub fn utc(time: NaiveDateTime) -> DateTime<Utc> {
    time.and_utc()
}

/// `201 Created` with `Location` and the new resource.
pub fn created<T: Serialize>(location: String, body: &T) -> HttpResponse {
    HttpResponse::Created().insert_header((LOCATION, location)).json(body)
}

/// The external id an upsert names in its path. The body may repeat it but not contradict
/// it; afterwards the body carries it. A malformed one is refused where the caller put it,
/// since an upsert would create what it names: 422 at `#/path/external_id`.
pub fn upsert_external_id(raw: &str, in_body: &mut Option<String>) -> Result<String, ApiError> {
    let external_id =
        text::external_id(raw).map_err(|error| ApiError::Validation(error.at("#/path/external_id").into()))?;
    if in_body.as_ref().is_some_and(|given| given != &external_id) {
        return Err(ApiError::field("/external_id", "mismatch", "must be absent or equal the external id in the path"));
    }
    *in_body = Some(external_id.clone());
    Ok(external_id)
}

/// An upsert's answer: `201 Created` with `Location` when it created, `200` when it existed.
pub fn upserted<T: Serialize>(was_created: bool, location: String, body: &T) -> HttpResponse {
    if was_created { created(location, body) } else { HttpResponse::Ok().json(body) }
}
