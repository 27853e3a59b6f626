//! Invoices (seed 004): created by staff or upserted by the billing system, emailed to
//! recipients typed as semicolon-separated lists, optionally inviting the `to` recipients to
//! the portal (never cc or bcc).

use crate::routing::Routes;
use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::authz::{Action, authorize, matter_visibility};
use vestibule_domain::email::{EmailAddress, parse_recipients};
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{ClientId, InvoiceId, MatterId};
use vestibule_domain::mail::{self, Email};
use vestibule_domain::portal::{InvitationSource, PortalKind};
use vestibule_domain::principal::Principal;
use vestibule_domain::{FieldError, ValidationErrors, text};
use vestibule_storage::invoices::{self, InvoiceFilter, InvoiceRow};
use vestibule_storage::{DbConnection, clients, matters, outbox, write_tx};

use crate::audit::{self, Entry, Origin};
use crate::auth::principal::Authenticated;
use crate::db;
use crate::error::{ApiError, OrUnknown};
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::portal_access::{self, Invitee};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::invitations::contact_for;
use crate::routes::{created, upsert_external_id, upserted, utc};
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_invoices)
        .service(create_invoice)
        .service(get_invoice)
        .service(upsert_invoice)
        .service(email_invoice);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Draft,
    Issued,
    PartiallyPaid,
    Paid,
    Overdue,
    Void,
}

impl InvoiceStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Issued => "issued",
            Self::PartiallyPaid => "partially_paid",
            Self::Paid => "paid",
            Self::Overdue => "overdue",
            Self::Void => "void",
        }
    }

    fn from_stored(raw: &str) -> Self {
        [Self::Draft, Self::Issued, Self::PartiallyPaid, Self::Paid, Self::Overdue, Self::Void]
            .into_iter()
            .find(|s| s.as_str() == raw)
            .unwrap_or(Self::Issued)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceLine {
    #[schema(min_length = 1, max_length = 500)]
    pub description: String,
    /// In thousandths, so 1.5 hours is 1500.
    pub quantity_milli: i64,
    /// In the currency's minor unit (cents).
    pub unit_price_minor: i64,
    pub amount_minor: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invoice {
    pub id: InvoiceId,
    pub number: String,
    pub client_id: ClientId,
    pub matter_id: Option<MatterId>,
    pub external_id: Option<String>,
    pub issue_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    /// In the currency's minor unit (cents).
    pub total_minor: i64,
    /// What is still to be paid, in the minor unit.
    pub balance_minor: i64,
    pub status: InvoiceStatus,
    pub lines: Vec<InvoiceLine>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<InvoiceRow> for Invoice {
    fn from(row: InvoiceRow) -> Self {
        Self {
            id: InvoiceId::from_trusted(row.id),
            number: row.number,
            client_id: ClientId::from_trusted(row.client_id),
            matter_id: row.matter_id.map(MatterId::from_trusted),
            external_id: row.external_id,
            issue_date: row.issue_date,
            due_date: row.due_date,
            currency: row.currency,
            total_minor: row.total_minor,
            balance_minor: row.balance_minor,
            status: InvoiceStatus::from_stored(&row.status),
            lines: serde_json::from_str(&row.lines).unwrap_or_default(),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvoice {
    #[schema(min_length = 1, max_length = 64)]
    pub number: String,
    pub client_id: ClientId,
    pub matter_id: Option<MatterId>,
    pub external_id: Option<String>,
    pub issue_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub currency: String,
    pub total_minor: i64,
    pub balance_minor: i64,
    pub status: InvoiceStatus,
    #[serde(default)]
    pub lines: Vec<InvoiceLine>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceListQuery {
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    pub status: Option<InvoiceStatus>,
}

/// The "email invoice" dialog. Recipient fields take several addresses separated by
/// semicolons.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailInvoice {
    /// Defaults to the matter's email when the invoice has a matter with one, else the client's.
    pub to: Option<String>,
    pub cc: Option<String>,
    pub bcc: Option<String>,
    #[schema(max_length = 200)]
    pub subject: Option<String>,
    #[schema(max_length = 10_000)]
    pub message: Option<String>,
    /// Invite the `to` recipients to the client's portal (cc and bcc never are).
    #[serde(default)]
    pub invite_recipients: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmailedInvoice {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    /// The `to` recipients who were invited to the portal now.
    pub invited: Vec<String>,
}

impl CreateInvoice {
    fn validate(self, firm_id: &str, id: String) -> Result<InvoiceRow, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let number = errors.check("/number", text::required(&self.number, 64));
        let external_id = self.external_id.as_deref().and_then(|e| errors.check("/external_id", text::external_id(e)));
        let currency = self.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.push(FieldError::new("/currency", "invalid_currency", "an ISO 4217 code such as EUR"));
        }
        if self.total_minor < 0 || self.balance_minor < 0 || self.balance_minor > self.total_minor {
            errors.push(FieldError::new(
                "/balance_minor",
                "out_of_range",
                "amounts are not negative and the balance is at most the total",
            ));
        }
        if self.due_date.is_some_and(|due| due < self.issue_date) {
            errors.push(FieldError::new("/due_date", "before_issue_date", "the due date is not before the issue date"));
        }
        for (index, line) in self.lines.iter().enumerate() {
            errors.check(&format!("/lines/{index}/description"), text::required(&line.description, 500));
        }
        errors.into_result()?;
        let now = vestibule_storage::now();
        Ok(InvoiceRow {
            id,
            firm_id: firm_id.to_owned(),
            client_id: self.client_id.into(),
            matter_id: self.matter_id.map(String::from),
            number: number.unwrap_or_default(),
            external_id,
            issue_date: self.issue_date,
            due_date: self.due_date,
            currency,
            total_minor: self.total_minor,
            balance_minor: self.balance_minor,
            status: self.status.as_str().to_owned(),
            lines: serde_json::to_string(&self.lines).unwrap_or_else(|_| "[]".to_owned()),
            created_at: now,
            updated_at: now,
        })
    }
}

/// The client exists and the matter, if any, is the client's and visible to the caller.
fn check_references(conn: &mut DbConnection, principal: &Principal, row: &InvoiceRow) -> Result<(), ApiError> {
    let firm_id = principal.firm_id().as_str();
    if !clients::exists(conn, firm_id, &row.client_id)? {
        return Err(ApiError::field("/client_id", "unknown_reference", "no such client in this firm"));
    }
    if let Some(matter) = &row.matter_id {
        let found = matters::get(conn, firm_id, matter, &matter_visibility(principal))
            .or_unknown("/matter_id", "no such matter visible to you")?;
        if found.client_id != row.client_id {
            return Err(ApiError::field("/matter_id", "wrong_client", "the matter belongs to another client"));
        }
    }
    Ok(())
}

/// Invoices, with filters.
#[utoipa::path(
    tag = "invoices",
    params(InvoiceListQuery, PageQuery),
    responses((status = 200, body = Paginated<Invoice>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/invoices")]
pub async fn list_invoices(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    query: Query<InvoiceListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Invoice>>, ApiError> {
    authorize(&principal, Action::ReadInvoices)?;
    let page = page.page()?;
    let query = query.into_inner();
    let filter = InvoiceFilter {
        client_id: query.client_id.map(String::from),
        matter_id: query.matter_id.map(String::from),
        status: query.status.map(|s| s.as_str().to_owned()),
    };
    db::run(&state, move |conn| {
        let visibility = matter_visibility(&principal);
        let rows = invoices::list(
            conn,
            principal.firm_id().as_str(),
            &visibility,
            &filter,
            page.after.as_deref(),
            page.limit,
        )?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |r| r.id.clone(), Invoice::from)))
    })
    .await
}

/// Create an invoice.
#[utoipa::path(
    tag = "invoices",
    request_body = CreateInvoice,
    responses(
        (status = 201, body = Invoice, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/invoices")]
pub async fn create_invoice(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<CreateInvoice>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteInvoices)?;
    let row = body.validate(principal.firm_id().as_str(), InvoiceId::generate().into())?;
    let row = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            check_references(conn, &principal, &row)?;
            invoices::insert(conn, &row)?;
            audit::record(conn, &origin, &principal, Entry::success("invoice.created", "invoice", &row.id))?;
            Ok(row)
        })
    })
    .await?;
    Ok(created(format!("/v1/invoices/{}", row.id), &Invoice::from(row)))
}

/// One invoice.
#[utoipa::path(
    tag = "invoices",
    params(("invoice_id" = InvoiceId, Path)),
    responses((status = 200, body = Invoice), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/invoices/{invoice_id}")]
pub async fn get_invoice(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    path: web::Path<InvoiceId>,
) -> Result<web::Json<Invoice>, ApiError> {
    authorize(&principal, Action::ReadInvoices)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        let visibility = matter_visibility(&principal);
        Ok(web::Json(invoices::get(conn, principal.firm_id().as_str(), id.as_str(), &visibility)?.into()))
    })
    .await
}

/// Creates or replaces the invoice with this `external_id` (201 created, 200 existed).
#[utoipa::path(
    tag = "invoices",
    params(("external_id" = String, Path, description = "The invoice's id in the billing system", min_length = 1, max_length = 128, pattern = r"^[A-Za-z0-9._:@-]+$")),
    request_body = CreateInvoice,
    responses(
        (status = 200, body = Invoice),
        (status = 201, body = Invoice, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[put("/invoices/external/{external_id}")]
pub async fn upsert_invoice(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<String>,
    ApiJson(mut body): ApiJson<CreateInvoice>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteInvoices)?;
    let external_id = upsert_external_id(&path.into_inner(), &mut body.external_id)?;
    let firm_id = principal.firm_id().to_string();
    let (row, was_created) = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let existing = invoices::find_by_external_id(conn, &firm_id, &external_id)?;
            let id = existing.as_ref().map_or_else(|| InvoiceId::generate().into(), |e| e.id.clone());
            let mut row = body.validate(&firm_id, id)?;
            check_references(conn, &principal, &row)?;
            let Some(existing) = existing else {
                invoices::insert(conn, &row)?;
                audit::record(conn, &origin, &principal, Entry::success("invoice.created", "invoice", &row.id))?;
                return Ok((row, true));
            };
            // An invoice the caller cannot see stays invisible, even through its external id.
            invoices::get(conn, &firm_id, &existing.id, &matter_visibility(&principal))?;
            row.created_at = existing.created_at;
            let unchanged = InvoiceRow { updated_at: existing.updated_at, ..row.clone() } == existing;
            if unchanged {
                return Ok((existing, false));
            }
            invoices::replace(conn, &row)?;
            audit::record(conn, &origin, &principal, Entry::success("invoice.updated", "invoice", &row.id))?;
            Ok((row, false))
        })
    })
    .await?;
    Ok(upserted(was_created, format!("/v1/invoices/{}", row.id), &Invoice::from(row)))
}

fn recipients(errors: &mut ValidationErrors, pointer: &str, raw: Option<&str>) -> Vec<EmailAddress> {
    errors.check(pointer, parse_recipients(raw.unwrap_or_default())).unwrap_or_default()
}

/// Emails the invoice. With `invite_recipients`, each `to` recipient becomes (or stays) a
/// contact of the client with a portal granting the client, and gets an invitation unless
/// registered already. cc and bcc are never invited.
#[utoipa::path(
    tag = "invoices",
    params(("invoice_id" = InvoiceId, Path)),
    request_body = EmailInvoice,
    responses(
        (status = 202, body = EmailedInvoice, description = "Queued."),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/invoices/{invoice_id}/email")]
pub async fn email_invoice(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<InvoiceId>,
    ApiJson(body): ApiJson<EmailInvoice>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteInvoices)?;
    let mut errors = ValidationErrors::default();
    let typed_to = recipients(&mut errors, "/to", body.to.as_deref());
    let cc = recipients(&mut errors, "/cc", body.cc.as_deref());
    let bcc = recipients(&mut errors, "/bcc", body.bcc.as_deref());
    let subject = errors.check("/subject", text::optional(body.subject.as_deref(), 200)).flatten();
    let message = errors.check("/message", text::optional(body.message.as_deref(), 10_000)).flatten();
    errors.into_result()?;
    let id = path.into_inner();
    let settings = state.settings.clone();
    let emailed = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let visibility = matter_visibility(&principal);
            let invoice = invoices::get(conn, firm_id, id.as_str(), &visibility)?;
            let client = clients::get(conn, firm_id, &invoice.client_id)?;
            let to: Vec<String> = if typed_to.is_empty() {
                let matter_email = match &invoice.matter_id {
                    Some(matter) => matters::get(conn, firm_id, matter, &visibility)?.email,
                    None => None,
                };
                matter_email.or_else(|| client.emails.first().cloned()).into_iter().collect()
            } else {
                typed_to.into_iter().map(String::from).collect()
            };
            if to.is_empty() {
                return Err(ApiError::field(
                    "/to",
                    "required",
                    "the invoice's matter and client have no email; name a recipient",
                ));
            }
            let cc: Vec<String> = cc.into_iter().map(String::from).collect();
            let bcc: Vec<String> = bcc.into_iter().map(String::from).collect();
            let mut invited = Vec::new();
            if body.invite_recipients {
                for address in &to {
                    let local = address.split('@').next().unwrap_or(address).to_owned();
                    let contact = contact_for(
                        conn,
                        firm_id,
                        &invoice.client_id,
                        address,
                        Some((local, client.row.name.clone())),
                    )?;
                    let (portal, _) =
                        portal_access::ensure_portal(conn, &origin, &principal, &contact, PortalKind::Full, None)?;
                    portal_access::grant(conn, &principal, &portal, Some(&invoice.client_id), None)?;
                    if portal.activated_at.is_none() {
                        let invitee = Invitee {
                            portal: &portal,
                            contact: &contact,
                            client_id: Some(&invoice.client_id),
                            source: InvitationSource::Invoice,
                        };
                        portal_access::invite(conn, &origin, &principal, &settings, invitee)?;
                        invited.push(address.clone());
                    }
                }
            }
            let event =
                outbox::publish(conn, firm_id, EventType::InvoiceEmailed, &serde_json::json!({ "id": invoice.id }))?;
            let content = Email::InvoiceEmailed(mail::Invoice {
                to: to.clone(),
                cc: cc.clone(),
                bcc: bcc.clone(),
                subject: subject.clone(),
                message: message.clone(),
                number: invoice.number.clone(),
                link: format!("{}/portal/invoices/{}", settings.public_base_url.trim_end_matches('/'), invoice.id),
            });
            outbox::queue_email(conn, &event, &to[0], &content)?;
            let entry = Entry::success("invoice.emailed", "invoice", &invoice.id).with_details(
                serde_json::json!({ "to": to.len(), "cc": cc.len(), "bcc": bcc.len(), "invited": invited.len() }),
            );
            audit::record(conn, &origin, &principal, entry)?;
            Ok(EmailedInvoice { to, cc, bcc, invited })
        })
    })
    .await?;
    Ok(HttpResponse::Accepted().json(emailed))
}
