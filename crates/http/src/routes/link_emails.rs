//! Seed 002's contact log for access links: an email to a contact with the link's URL
//! inserted, sent through the outbox and kept as an entry staff can list. The security code
//! never travels with it: a message that contains the current code is refused.

use crate::routing::Routes;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use vestibule_domain::access_link::{CODE_DIGITS, LinkKind};
use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{AccessLinkId, ContactId, DocumentId, LinkEmailId};
use vestibule_domain::mail::{self, Email};
use vestibule_domain::{FieldError, ValidationErrors, text};
use vestibule_storage::access_links::{self, Link, LinkEmailRow};
use vestibule_storage::{DbConnection, contacts, firms, outbox, write_tx};

use crate::audit::{self, Entry, Origin};
use crate::auth::link::LinkSecret;
use crate::auth::principal::Authenticated;
use crate::db;
use crate::error::{ApiError, OrUnknown};
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::access_links::{url_of, visible_link};
use crate::routes::{created, utc};
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

/// Whether `text` holds the link's current code, however its digits are separated (spaces of
/// any kind, dashes, dots, slashes). Letters end a run of digits.
fn holds_code(links: &LinkSecret, link: &Link, text: &str) -> bool {
    let kept: Vec<u8> =
        text.chars().filter(|c| c.is_alphanumeric()).map(|c| if c.is_ascii_digit() { c as u8 } else { b'x' }).collect();
    kept.split(|b| !b.is_ascii_digit()).filter(|run| run.len() >= CODE_DIGITS).any(|run| {
        run.windows(CODE_DIGITS).any(|window| {
            let candidate = String::from_utf8_lossy(window);
            links.code_matches(&link.row.id, &candidate, &link.guard.code_hash)
        })
    })
}

/// The documents an email names, in the order given: each one the link shows.
fn named_files(conn: &mut DbConnection, link: &Link, ids: &[DocumentId]) -> Result<Vec<LinkEmailFile>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    if LinkKind::from_stored(&link.row.kind) != LinkKind::Download {
        return Err(ApiError::field("/document_ids", "download_links_only", "an upload link shows no documents"));
    }
    let wanted: Vec<&str> = ids.iter().map(DocumentId::as_str).collect();
    let found = access_links::documents_among(conn, &link.row, &wanted)?;
    wanted
        .iter()
        .enumerate()
        .map(|(index, id)| {
            let document = found.iter().find(|d| d.id == *id).ok_or_else(|| {
                ApiError::field(
                    &format!("/document_ids/{index}"),
                    "unknown_reference",
                    "not a document this link shows",
                )
            })?;
            Ok(LinkEmailFile {
                document_id: DocumentId::from_trusted(document.id.clone()),
                name: document.name.clone(),
            })
        })
        .collect()
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<AccessLinkId>,
    ApiJson(body): ApiJson<SendLinkEmail>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::SendMessages)?;
    let mut errors = ValidationErrors::default();
    let subject = errors.check("/subject", text::optional(body.subject.as_deref(), 200)).flatten();
    let message = errors.check("/message", text::required(&body.message, 10_000));
    if body.document_ids.len() > FILE_LIMIT {
        errors.push(FieldError::new("/document_ids", "too_many", format!("at most {FILE_LIMIT} documents")));
    }
    errors.into_result()?;
    let id = path.into_inner();
    let app = state.clone();
    let entry = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let link = visible_link(conn, &principal, id.as_str())?;
            if !link.status(vestibule_storage::now()).opens() {
                return Err(ApiError::conflict("link_not_open", "the link is disabled, expired or locked"));
            }
            let mut errors = ValidationErrors::default();
            for (pointer, text) in [("/subject", subject.as_deref()), ("/message", message.as_deref())] {
                if text.is_some_and(|t| holds_code(&app.links, &link, t)) {
                    let detail = "the security code must not travel with the link; send it by another channel";
                    errors.push(FieldError::new(pointer, "code_in_message", detail));
                }
            }
            errors.into_result()?;
            let firm_id = principal.firm_id().as_str();
            let contact = contacts::get(conn, firm_id, body.contact_id.as_str())
                .or_unknown("/contact_id", "no such contact in this firm")?;
            if contact.disabled_at.is_some() {
                return Err(ApiError::field("/contact_id", "contact_disabled", "the contact is disabled"));
            }
            let to = contact
                .email
                .ok_or_else(|| ApiError::field("/contact_id", "no_email", "the contact has no email address"))?;
            let files = named_files(conn, &link, &body.document_ids)?;
            let firm_name = firms::get(conn, firm_id)?.email_display_name;
            let subject = subject.unwrap_or_else(|| match LinkKind::from_stored(&link.row.kind) {
                LinkKind::Download if files.is_empty() => format!("Documents for you from {firm_name}"),
                LinkKind::Download => {
                    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
                    let subject = format!("Documents for you from {firm_name}: {}", names.join(", "));
                    subject.chars().take(200).collect()
                }
                LinkKind::Upload => format!("{firm_name} asks you to upload documents"),
            });
            let row = LinkEmailRow {
                id: LinkEmailId::generate().into(),
                firm_id: firm_id.to_owned(),
                access_link_id: link.row.id.clone(),
                contact_id: contact.id,
                recipient: to,
                subject,
                body: message.unwrap_or_default(),
                files: serde_json::to_string(&files).map_err(anyhow::Error::from)?,
                sent_by: principal.actor().1.to_owned(),
                created_at: vestibule_storage::now(),
            };
            access_links::insert_email(conn, &row)?;
            let event = outbox::publish(conn, firm_id, EventType::AccessLinkEmailed, &json!({ "id": row.id }))?;
            let content = Email::AccessLinkEmailed(mail::LinkEmail {
                subject: row.subject.clone(),
                message: row.body.clone(),
                link: url_of(&app.settings, &app.links, &link),
                kind: LinkKind::from_stored(&link.row.kind),
                expires_at: utc(link.row.expires_at),
                files: files.iter().map(|f| f.name.clone()).collect(),
            });
            outbox::queue_email(conn, &event, &row.recipient, &content)?;
            let audit_entry = Entry::success("access_link.emailed", "access_link", &link.row.id)
                .with_details(json!({ "contact_id": row.contact_id, "entry_id": row.id }));
            audit::record(conn, &origin, &principal, audit_entry)?;
            Ok(row)
        })
    })
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
    Authenticated(principal): Authenticated,
    path: web::Path<AccessLinkId>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<LinkEmail>>, ApiError> {
    authorize(&principal, Action::ReadDocuments)?;
    let page = page.page()?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        let link = visible_link(conn, &principal, id.as_str())?;
        let rows = access_links::emails(conn, &link.row.id, page.after.as_deref(), page.limit)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |r| r.id.clone(), LinkEmail::from)))
    })
    .await
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
    Authenticated(principal): Authenticated,
    path: web::Path<(AccessLinkId, LinkEmailId)>,
) -> Result<web::Json<LinkEmail>, ApiError> {
    authorize(&principal, Action::ReadDocuments)?;
    let (link_id, id) = path.into_inner();
    db::run(&state, move |conn| {
        let link = visible_link(conn, &principal, link_id.as_str())?;
        Ok(web::Json(access_links::email(conn, &link.row.id, id.as_str())?.into()))
    })
    .await
}
