//! Seed 002's contact log for access links: an email to a contact with the link's URL
//! inserted, sent through the outbox and kept as an entry staff can list. The security code
//! never travels with it: a message that contains the current code is refused.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vestibule_app::link_emails::{self, NewLinkEmail};
use vestibule_domain::authz::Action;
use vestibule_domain::ids::{AccessLinkId, ContactId, DocumentId, LinkEmailId};
use vestibule_domain::{FieldError, ValidationErrors, text};
use vestibule_storage::access_links::LinkEmailRow;

use crate::auth::principal::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::{created, utc};
use crate::routing::Routes;
use crate::state::AppState;

/// Documents one email names, at most.
pub(crate) const FILE_LIMIT: usize = 50;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(email_access_link).service(list_access_link_emails).service(get_access_link_email);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendLinkEmail {
    /// A contact of the firm with an email address: the client's person or a service provider.
    pub contact_id: ContactId,
    /// Default: what the link is for, and from whom.
    #[schema(max_length = 200)]
    pub subject: Option<String>,
    /// The body above the inserted link: what to do and until when. Never the code.
    #[schema(min_length = 1, max_length = 10_000)]
    pub message: String,
    /// Download links: up to 50 documents the link shows, named in the email and, by
    /// default, in its subject (seed 002's "Send" on a selection of documents).
    #[serde(default)]
    #[schema(max_items = 50)]
    pub document_ids: Vec<DocumentId>,
}

/// A document an email named.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LinkEmailFile {
    pub document_id: DocumentId,
    pub name: String,
}

/// One entry of a link's contact log.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkEmail {
    pub id: LinkEmailId,
    pub access_link_id: AccessLinkId,
    pub contact_id: ContactId,
    /// The address it went to.
    pub to: String,
    pub subject: String,
    pub message: String,
    pub files: Vec<LinkEmailFile>,
    pub sent_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<LinkEmailRow> for LinkEmail {
    fn from(row: LinkEmailRow) -> Self {
        Self {
            files: serde_json::from_str(&row.files).unwrap_or_default(),
            id: LinkEmailId::from_trusted(row.id),
            access_link_id: AccessLinkId::from_trusted(row.access_link_id),
            contact_id: ContactId::from_trusted(row.contact_id),
            to: row.recipient,
            subject: row.subject,
            message: row.body,
            sent_by: row.sent_by,
            created_at: utc(row.created_at),
        }
    }
}

impl SendLinkEmail {
    fn command(self) -> Result<NewLinkEmail, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let subject = errors.check("/subject", text::optional(self.subject.as_deref(), 200)).flatten();
        let message = errors.check("/message", text::required(&self.message, 10_000));
        if self.document_ids.len() > FILE_LIMIT {
            errors.push(FieldError::new("/document_ids", "too_many", format!("at most {FILE_LIMIT} documents")));
        }
        errors.into_result()?;
        Ok(NewLinkEmail {
            contact_id: self.contact_id,
            subject,
            message: message.unwrap_or_default(),
            document_ids: self.document_ids,
        })
    }
}

/// Emails the link to a contact (a contact-log entry): the message with the URL inserted,
/// through the outbox. The link must open (409 `link_not_open`); a message with the code in
/// it is refused (422 `code_in_message`): send the code by another channel.
#[utoipa::path(
    tag = "access-links",
    params(("access_link_id" = AccessLinkId, Path)),
    request_body = SendLinkEmail,
    responses(
        (status = 201, body = LinkEmail, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/access-links/{access_link_id}/emails")]
pub async fn email_access_link(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AccessLinkId>,
    ApiJson(body): ApiJson<SendLinkEmail>,
) -> Result<HttpResponse, ApiError> {
    let email = body.command()?;
    let id = path.into_inner();
    let links = state.links.clone();
    let entry = caller
        .must(Action::SendMessages)
        .call(&state, move |conn, ctx| link_emails::send(conn, ctx, &links, &id, email))
        .await?;
    let location = format!("/v1/access-links/{}/emails/{}", entry.access_link_id, entry.id);
    Ok(created(location, &LinkEmail::from(entry)))
}

/// The link's contact log, newest first.
#[utoipa::path(
    tag = "access-links",
    params(("access_link_id" = AccessLinkId, Path), PageQuery),
    responses((status = 200, body = Paginated<LinkEmail>), BadRequest, Unauthorized, Forbidden, NotFound, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/access-links/{access_link_id}/emails")]
pub async fn list_access_link_emails(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<AccessLinkId>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<LinkEmail>>, ApiError> {
    let page = page.page()?;
    let id = path.into_inner();
    let listed = caller
        .must(Action::ReadDocuments)
        .call(&state, move |conn, ctx| link_emails::list(conn, ctx, &id, &page))
        .await?;
    Ok(web::Json(Paginated::of(listed, LinkEmail::from)))
}

/// One entry of the link's contact log.
#[utoipa::path(
    tag = "access-links",
    params(("access_link_id" = AccessLinkId, Path), ("link_email_id" = LinkEmailId, Path)),
    responses((status = 200, body = LinkEmail), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/access-links/{access_link_id}/emails/{link_email_id}")]
pub async fn get_access_link_email(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(AccessLinkId, LinkEmailId)>,
) -> Result<web::Json<LinkEmail>, ApiError> {
    let (link_id, id) = path.into_inner();
    let row = caller.call(&state, move |conn, ctx| link_emails::get(conn, ctx, &link_id, &id)).await?;
    Ok(web::Json(row.into()))
}
