//! Payments (seed 004) for staff and integrations: recording money received outside the
//! portal, upserting the billing system's payments, refunds, and a client's account history.

use actix_web::{HttpResponse, get, post, put, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use vestibule_app::payments::record::{self, NewPayment};
use vestibule_app::payments::refunds::{self, NewRefund};
use vestibule_app::payments::statement;
use vestibule_domain::ids::{ClientId, InvoiceId, MatterId, PaymentId};
use vestibule_domain::payment::{PaymentMethod, PaymentStatus};
use vestibule_domain::{ValidationErrors, money, text};
use vestibule_storage::payments::PaymentFilter;

use crate::auth::principal::Caller;
use crate::db;
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, ServiceUnavailable, Unauthorized,
    Unprocessable, UnsupportedMediaType,
};
use crate::routes::{created, upsert_external_id, upserted};
use crate::routing::Routes;
use crate::state::AppState;
use crate::views::payment::{Audience, Payment, Statement, StatementParams};

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_payments)
        .service(record_payment)
        .service(get_payment)
        .service(upsert_payment)
        .service(refund_payment)
        .service(client_statement);
}

/// A payment received outside the portal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPayment {
    pub client_id: ClientId,
    /// Defaults to the matter all allocated invoices share, if they share one.
    pub matter_id: Option<MatterId>,
    pub external_id: Option<String>,
    /// In the currency's minor unit (cents); more than zero.
    #[schema(minimum = 1)]
    pub amount_minor: i64,
    /// ISO 4217; each allocated invoice must be in it.
    pub currency: String,
    pub received_on: NaiveDate,
    pub method: PaymentMethod,
    #[schema(max_length = 200)]
    pub reference: Option<String>,
    /// Invoices of the client it pays, each at most its balance; together at most the
    /// amount (the rest stays on account).
    #[serde(default)]
    pub allocations: Vec<AllocationRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationRequest {
    pub invoice_id: InvoiceId,
    #[schema(minimum = 1)]
    pub amount_minor: i64,
}

impl RecordPayment {
    fn command(self) -> Result<NewPayment, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let external_id = self.external_id.as_deref().and_then(|e| errors.check("/external_id", text::external_id(e)));
        let currency = errors.check("/currency", money::currency(&self.currency));
        errors.check("/amount_minor", money::positive(self.amount_minor));
        let reference = errors.check("/reference", text::optional(self.reference.as_deref(), 200)).flatten();
        for (index, allocation) in self.allocations.iter().enumerate() {
            errors.check(&format!("/allocations/{index}/amount_minor"), money::positive(allocation.amount_minor));
        }
        errors.into_result()?;
        Ok(NewPayment {
            client_id: self.client_id,
            matter_id: self.matter_id,
            external_id,
            amount_minor: self.amount_minor,
            currency: currency.unwrap_or_default(),
            received_on: self.received_on,
            method: self.method,
            reference,
            allocations: self
                .allocations
                .into_iter()
                .map(|a| record::Allocation { invoice_id: a.invoice_id.into(), amount_minor: a.amount_minor })
                .collect(),
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentListQuery {
    pub client_id: Option<ClientId>,
    /// Payments with an allocation to this invoice.
    pub invoice_id: Option<InvoiceId>,
    pub status: Option<PaymentStatus>,
}

/// Payments, with filters (owners and admins; members as the firm's
/// `member_payment_access` allows).
#[utoipa::path(
    tag = "payments",
    params(PaymentListQuery, PageQuery),
    responses((status = 200, body = Paginated<Payment>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/payments")]
pub async fn list_payments(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<PaymentListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Payment>>, ApiError> {
    let page = page.page()?;
    let query = query.into_inner();
    let filter = PaymentFilter {
        client_id: query.client_id.map(String::from),
        invoice_id: query.invoice_id.map(String::from),
        status: query.status.map(|s| s.as_str().to_owned()),
    };
    let listed = caller.call(&state, move |conn, ctx| record::list(conn, ctx, &filter, &page)).await?;
    Ok(web::Json(Paginated::of(listed, |r| Payment::view(r, Audience::Staff))))
}

/// Records a payment received outside the portal and allocates it to the client's invoices;
/// their balances and statuses follow in the same transaction.
#[utoipa::path(
    tag = "payments",
    request_body = RecordPayment,
    responses(
        (status = 201, body = Payment, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/payments")]
pub async fn record_payment(
    state: web::Data<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<RecordPayment>,
) -> Result<HttpResponse, ApiError> {
    let new = body.command()?;
    let record = caller.call(&state, move |conn, ctx| record::record(conn, ctx, new)).await?;
    let location = format!("/v1/payments/{}", record.payment.id);
    Ok(created(location, &Payment::view(record, Audience::Staff)))
}

/// One payment, with its allocations and refunds.
#[utoipa::path(
    tag = "payments",
    params(("payment_id" = PaymentId, Path)),
    responses((status = 200, body = Payment), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/payments/{payment_id}")]
pub async fn get_payment(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PaymentId>,
) -> Result<web::Json<Payment>, ApiError> {
    let id = path.into_inner();
    let record = caller.call(&state, move |conn, ctx| record::get(conn, ctx, &id)).await?;
    Ok(web::Json(Payment::view(record, Audience::Staff)))
}

/// Records the billing system's payment with this `external_id` once (201); the same payment
/// again answers 200 and changes nothing. Other values are refused (409): payments are not
/// edited, they are refunded.
#[utoipa::path(
    tag = "payments",
    params(("external_id" = String, Path, description = "The payment's id in the billing system", min_length = 1, max_length = 128, pattern = r"^[A-Za-z0-9._:@-]+$")),
    request_body = RecordPayment,
    responses(
        (status = 200, body = Payment),
        (status = 201, body = Payment, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[put("/payments/external/{external_id}")]
pub async fn upsert_payment(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    ApiJson(mut body): ApiJson<RecordPayment>,
) -> Result<HttpResponse, ApiError> {
    let external_id = upsert_external_id(&path.into_inner(), &mut body.external_id)?;
    let new = body.command()?;
    let (record, was_created) =
        caller.call(&state, move |conn, ctx| record::upsert(conn, ctx, &external_id, new)).await?.into_parts();
    let location = format!("/v1/payments/{}", record.payment.id);
    Ok(upserted(was_created, location, &Payment::view(record, Audience::Staff)))
}

/// A refund of a payment, whole or in part.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRefund {
    /// Defaults to all that is left to refund.
    #[schema(minimum = 1)]
    pub amount_minor: Option<i64>,
    #[schema(max_length = 500)]
    pub reason: Option<String>,
    /// Defaults to today.
    pub refunded_on: Option<NaiveDate>,
}

/// Gives money back on a payment (owners and admins, or integrations with `payments:write`).
/// A card payment's refund goes through the processor; an offline one is recorded as made.
/// The invoices owe the amount again, latest allocation first.
#[utoipa::path(
    tag = "payments",
    params(("payment_id" = PaymentId, Path)),
    request_body = CreateRefund,
    responses(
        (status = 201, body = Payment, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable,
        ServiceUnavailable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/payments/{payment_id}/refunds")]
pub async fn refund_payment(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PaymentId>,
    ApiJson(body): ApiJson<CreateRefund>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    let mut errors = ValidationErrors::default();
    if let Some(amount) = body.amount_minor {
        errors.check("/amount_minor", money::positive(amount));
    }
    let reason = errors.check("/reason", text::optional(body.reason.as_deref(), 500)).flatten();
    errors.into_result()?;
    let new = NewRefund { amount_minor: body.amount_minor, reason, refunded_on: body.refunded_on };
    let id = path.into_inner();
    let record = refunds::refund(&db::runner(&state), &ctx, id, new).await?;
    let location = format!("/v1/payments/{}", record.payment.id);
    Ok(created(location, &Payment::view(record, Audience::Staff)))
}

/// The client's account history: issued invoices, payments received and refunds, in date
/// order, with the balance after each line.
#[utoipa::path(
    tag = "payments",
    params(("client_id" = ClientId, Path), StatementParams, PageQuery),
    responses((status = 200, body = Statement), BadRequest, Unauthorized, Forbidden, NotFound, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/clients/{client_id}/statement")]
pub async fn client_statement(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ClientId>,
    params: Query<StatementParams>,
    page: Query<PageQuery>,
) -> Result<web::Json<Statement>, ApiError> {
    let page = page.page()?;
    let query = params.into_inner().query()?;
    let client_id = path.into_inner();
    let statement =
        caller.call(&state, move |conn, ctx| statement::for_client(conn, ctx, &client_id, &query, &page)).await?;
    Ok(web::Json(statement.into()))
}
