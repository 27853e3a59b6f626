//! Invoices (seed 004): created by staff or upserted by the billing system, emailed to
//! recipients typed as semicolon-separated lists, optionally inviting the `to` recipients to
//! the portal (never cc or bcc).

use actix_web::{HttpResponse, get, post, put, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::invoices::{self, InvoiceEmail, NewInvoice};
use vestibule_domain::authz::Action;
use vestibule_domain::email::parse_recipients;
use vestibule_domain::ids::{ClientId, InvoiceId, MatterId};
use vestibule_domain::payment::InvoiceStatus;
use vestibule_domain::{FieldError, ValidationErrors, money, text};
use vestibule_storage::invoices::InvoiceFilter;

use crate::auth::principal::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::{created, upsert_external_id, upserted};
use crate::routing::Routes;
use crate::state::AppState;
use crate::views::invoice::{Invoice, InvoiceLine, SettableInvoiceStatus};

fn open() -> SettableInvoiceStatus {
    SettableInvoiceStatus::Open
}

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_invoices)
        .service(create_invoice)
        .service(get_invoice)
        .service(upsert_invoice)
        .service(email_invoice);
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
    #[schema(minimum = 0)]
    pub total_minor: i64,
    /// `open` (the default) issues it; the balance and the paid statuses follow from payments.
    #[serde(default = "open")]
    pub status: SettableInvoiceStatus,
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
    fn command(self) -> Result<NewInvoice, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let number = errors.check("/number", text::required(&self.number, 64));
        let external_id = self.external_id.as_deref().and_then(|e| errors.check("/external_id", text::external_id(e)));
        let currency = errors.check("/currency", money::currency(&self.currency));
        if self.total_minor < 0 {
            errors.push(FieldError::new("/total_minor", "out_of_range", "the total is not negative"));
        }
        if self.due_date.is_some_and(|due| due < self.issue_date) {
            errors.push(FieldError::new("/due_date", "before_issue_date", "the due date is not before the issue date"));
        }
        for (index, line) in self.lines.iter().enumerate() {
            errors.check(&format!("/lines/{index}/description"), text::required(&line.description, 500));
        }
        errors.into_result()?;
        Ok(NewInvoice {
            client_id: self.client_id,
            matter_id: self.matter_id,
            number: number.unwrap_or_default(),
            external_id,
            issue_date: self.issue_date,
            due_date: self.due_date,
            currency: currency.unwrap_or_default(),
            total_minor: self.total_minor,
            status: self.status.into(),
            lines: serde_json::to_string(&self.lines).unwrap_or_else(|_| "[]".to_owned()),
        })
    }
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
    caller: Caller,
    query: Query<InvoiceListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Invoice>>, ApiError> {
    let page = page.page()?;
    let query = query.into_inner();
    let filter = InvoiceFilter {
        client_id: query.client_id.map(String::from),
        matter_id: query.matter_id.map(String::from),
        status: query.status,
        today: chrono::Utc::now().date_naive(),
    };
    let listed = caller
        .must(Action::ReadInvoices)
        .call(&state, move |conn, ctx| invoices::list(conn, ctx, &filter, &page))
        .await?;
    Ok(web::Json(Paginated::of(listed, Invoice::from)))
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
    caller: Caller,
    ApiJson(body): ApiJson<CreateInvoice>,
) -> Result<HttpResponse, ApiError> {
    let new = body.command()?;
    let row =
        caller.must(Action::WriteInvoices).call(&state, move |conn, ctx| invoices::create(conn, ctx, new)).await?;
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
    caller: Caller,
    path: web::Path<InvoiceId>,
) -> Result<web::Json<Invoice>, ApiError> {
    let id = path.into_inner();
    Ok(web::Json(
        caller.must(Action::ReadInvoices).call(&state, move |conn, ctx| invoices::get(conn, ctx, &id)).await?.into(),
    ))
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
    caller: Caller,
    path: web::Path<String>,
    ApiJson(mut body): ApiJson<CreateInvoice>,
) -> Result<HttpResponse, ApiError> {
    let external_id = upsert_external_id(&path.into_inner(), &mut body.external_id)?;
    let new = body.command()?;
    let (row, was_created) = caller
        .must(Action::WriteInvoices)
        .call(&state, move |conn, ctx| invoices::upsert(conn, ctx, &external_id, new))
        .await?
        .into_parts();
    Ok(upserted(was_created, format!("/v1/invoices/{}", row.id), &Invoice::from(row)))
}

fn recipients(errors: &mut ValidationErrors, pointer: &str, raw: Option<&str>) -> Vec<String> {
    let parsed = errors.check(pointer, parse_recipients(raw.unwrap_or_default())).unwrap_or_default();
    parsed.into_iter().map(String::from).collect()
}

impl EmailInvoice {
    fn command(self) -> Result<InvoiceEmail, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let to = recipients(&mut errors, "/to", self.to.as_deref());
        let cc = recipients(&mut errors, "/cc", self.cc.as_deref());
        let bcc = recipients(&mut errors, "/bcc", self.bcc.as_deref());
        let subject = errors.check("/subject", text::optional(self.subject.as_deref(), 200)).flatten();
        let message = errors.check("/message", text::optional(self.message.as_deref(), 10_000)).flatten();
        errors.into_result()?;
        Ok(InvoiceEmail { to, cc, bcc, subject, message, invite_recipients: self.invite_recipients })
    }
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
    caller: Caller,
    path: web::Path<InvoiceId>,
    ApiJson(body): ApiJson<EmailInvoice>,
) -> Result<HttpResponse, ApiError> {
    let email = body.command()?;
    let id = path.into_inner();
    let emailed = caller
        .must(Action::WriteInvoices)
        .call(&state, move |conn, ctx| invoices::email(conn, ctx, &id, email))
        .await?;
    let invoices::Emailed { to, cc, bcc, invited } = emailed;
    Ok(HttpResponse::Accepted().json(EmailedInvoice { to, cc, bcc, invited }))
}
