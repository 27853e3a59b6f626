//! The client's side of payments (seed 004): the account history, payments, saved cards and
//! paying an invoice by card, for a signed-in portal contact.

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vestibule_app::payments::card::{self, Card, PayInvoice};
use vestibule_app::payments::{methods, record, statement};
use vestibule_domain::ids::{ClientId, InvoiceId, PaymentId, PaymentMethodId, PaymentSetupId};
use vestibule_domain::{ValidationErrors, money};

use crate::auth::principal::Caller;
use crate::db;
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::middleware::idempotency::IDEMPOTENCY_KEY;
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, PaymentRequired, ServiceUnavailable,
    Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::routes::created;
use crate::routing::Routes;
use crate::state::AppState;
use crate::views::payment::{Audience, Payment, SavedCard, Statement, StatementParams};

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(payment_settings)
        .service(my_statement)
        .service(list_my_payments)
        .service(get_my_payment)
        .service(pay_invoice)
        .service(list_my_cards)
        .service(start_card_setup)
        .service(confirm_card_setup)
        .service(make_card_default)
        .service(remove_card);
}

/// What the portal offers for paying.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentSettings {
    /// Whether invoices can be paid by card here; without it, pay as the invoice says.
    pub card_payments: bool,
    /// The processor whose JavaScript collects cards (`stripe`); `null` without card payments.
    pub processor: Option<String>,
    /// The processor's publishable key for its JavaScript.
    pub publishable_key: Option<String>,
}

/// How the portal takes payments.
#[utoipa::path(
    tag = "portal",
    responses((status = 200, body = PaymentSettings), Unauthorized, Forbidden, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/payment-settings")]
pub async fn payment_settings(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<PaymentSettings>, ApiError> {
    let ctx = caller.context(&state).await?;
    let offered = card::offered(&ctx)?;
    Ok(web::Json(PaymentSettings {
        card_payments: offered.is_some(),
        processor: offered.as_ref().map(|(name, _)| (*name).to_owned()),
        publishable_key: offered.and_then(|(_, key)| key),
    }))
}

/// The account history of a client the portal grants (wholly, or some of its matters):
/// issued invoices, payments and refunds, with the balance after each line.
#[utoipa::path(
    tag = "portal",
    params(("client_id" = ClientId, Path), StatementParams, PageQuery),
    responses((status = 200, body = Statement), BadRequest, Unauthorized, Forbidden, NotFound, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/clients/{client_id}/statement")]
pub async fn my_statement(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ClientId>,
    params: Query<StatementParams>,
    page: Query<PageQuery>,
) -> Result<web::Json<Statement>, ApiError> {
    let page = page.page()?;
    let query = params.into_inner().query()?;
    let client_id = path.into_inner();
    let statement = caller.call(&state, move |conn, ctx| statement::mine(conn, ctx, &client_id, &query, &page)).await?;
    Ok(web::Json(statement.into()))
}

/// Payments of the clients and matters the portal grants.
#[utoipa::path(
    tag = "portal",
    params(PageQuery),
    responses((status = 200, body = Paginated<Payment>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/payments")]
pub async fn list_my_payments(
    state: web::Data<AppState>,
    caller: Caller,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Payment>>, ApiError> {
    let page = page.page()?;
    let listed = caller.call(&state, move |conn, ctx| record::list_mine(conn, ctx, &page)).await?;
    Ok(web::Json(Paginated::of(listed, |r| Payment::view(r, Audience::Portal))))
}

/// One payment the portal shows: its receipt.
#[utoipa::path(
    tag = "portal",
    params(("payment_id" = PaymentId, Path)),
    responses((status = 200, body = Payment), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/payments/{payment_id}")]
pub async fn get_my_payment(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PaymentId>,
) -> Result<web::Json<Payment>, ApiError> {
    let id = path.into_inner();
    let record = caller.call(&state, move |conn, ctx| record::get_mine(conn, ctx, &id)).await?;
    Ok(web::Json(Payment::view(record, Audience::Portal)))
}

/// Pays an invoice by card: a saved card, or one the processor's JavaScript just tokenised.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayInvoiceRequest {
    /// Defaults to the whole balance.
    #[schema(minimum = 1)]
    pub amount_minor: Option<i64>,
    /// A saved card; or else `card_token`.
    pub payment_method_id: Option<PaymentMethodId>,
    /// The processor's token for a card entered now (Stripe: a `pm_…` PaymentMethod id).
    #[schema(min_length = 1, max_length = 255)]
    pub card_token: Option<String>,
}

/// Pays an invoice of the portal by card. `Idempotency-Key` is required, so a second click
/// never charges twice. A declined card answers 402 with the processor's reason and
/// allocates nothing; success allocates the payment, emails a receipt and publishes
/// `payment.succeeded` (and `invoice.paid` when nothing is left to pay). `pending`: the
/// processor has not settled it yet, and its webhook will.
#[utoipa::path(
    tag = "portal",
    params(
        ("invoice_id" = InvoiceId, Path),
        ("Idempotency-Key" = String, Header, description = "One key per attempt to pay.")
    ),
    request_body = PayInvoiceRequest,
    responses(
        (status = 201, body = Payment, headers(("Location" = String))),
        BadRequest, Unauthorized, PaymentRequired, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, ServiceUnavailable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/portal/invoices/{invoice_id}/payments")]
pub async fn pay_invoice(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<InvoiceId>,
    ApiJson(body): ApiJson<PayInvoiceRequest>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    vestibule_app::documents::portal_contact(&ctx)?;
    if !req.headers().contains_key(IDEMPOTENCY_KEY) {
        return Err(ApiError::BadRequest {
            code: "idempotency_key_required",
            detail: "paying needs an Idempotency-Key header, so that a retry never charges twice".to_owned(),
        });
    }
    let mut errors = ValidationErrors::default();
    if let Some(amount) = body.amount_minor {
        errors.check("/amount_minor", money::positive(amount));
    }
    let card = match (body.payment_method_id, body.card_token) {
        (Some(saved), None) => Some(Card::Saved(saved)),
        (None, Some(token)) if !token.trim().is_empty() && token.len() <= 255 => Some(Card::New(token)),
        (None, Some(_)) => {
            errors.push(vestibule_domain::FieldError::new("/card_token", "invalid", "a token from the card form"));
            None
        }
        _ => {
            errors.push(vestibule_domain::FieldError::new(
                "/payment_method_id",
                "one_of",
                "name a saved card or send a card_token, not both",
            ));
            None
        }
    };
    errors.into_result()?;
    let Some(card) = card else { return Err(ApiError::field("/card_token", "required", "name a card")) };
    let pay = PayInvoice { invoice_id: path.into_inner(), amount_minor: body.amount_minor, card };
    let record = card::pay(&db::runner(&state), &ctx, pay).await?;
    let location = format!("/v1/portal/payments/{}", record.payment.id);
    Ok(created(location, &Payment::view(record, Audience::Portal)))
}

/// The contact's saved cards.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedCards {
    pub data: Vec<SavedCard>,
}

/// The signed-in contact's saved cards, the default first among equals.
#[utoipa::path(
    tag = "portal",
    responses((status = 200, body = SavedCards), Unauthorized, Forbidden, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/payment-methods")]
pub async fn list_my_cards(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<SavedCards>, ApiError> {
    let cards = caller.call(&state, methods::list).await?;
    Ok(web::Json(SavedCards { data: cards.into_iter().map(SavedCard::from).collect() }))
}

/// A started "save a card": hand `client_secret` to the processor's JavaScript (Stripe:
/// `stripe.confirmCardSetup`), then confirm here.
#[derive(Debug, Serialize, ToSchema)]
pub struct CardSetup {
    pub id: PaymentSetupId,
    /// `stripe`.
    pub processor: String,
    /// For the processor's JavaScript only; shown once.
    pub client_secret: String,
}

/// Starts saving a card for later payments (seed 004). Card numbers never reach Vestibule.
#[utoipa::path(
    tag = "portal",
    responses(
        (status = 201, body = CardSetup, headers(("Cache-Control" = String, description = "`no-store`: the client secret is shown once"))),
        Unauthorized, Forbidden, Conflict, ServiceUnavailable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/portal/payment-methods/setups")]
pub async fn start_card_setup(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    let started = methods::start_setup(&db::runner(&state), &ctx).await?;
    let body = CardSetup {
        id: PaymentSetupId::from_trusted(started.setup.id),
        processor: started.setup.processor,
        client_secret: started.client_secret,
    };
    let mut response = HttpResponse::Created().json(body);
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Saves the card once the processor has confirmed the setup (asking again answers the same
/// card). 409 `setup_pending` while the card form has not finished; 402 if the card was
/// declined.
#[utoipa::path(
    tag = "portal",
    params(("setup_id" = PaymentSetupId, Path)),
    responses(
        (status = 200, body = SavedCard),
        Unauthorized, PaymentRequired, Forbidden, NotFound, Conflict, ServiceUnavailable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/portal/payment-methods/setups/{setup_id}/confirm")]
pub async fn confirm_card_setup(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PaymentSetupId>,
) -> Result<web::Json<SavedCard>, ApiError> {
    let ctx = caller.context(&state).await?;
    let card = methods::confirm_setup(&db::runner(&state), &ctx, path.into_inner()).await?;
    Ok(web::Json(card.into()))
}

/// Makes the card the one offered first.
#[utoipa::path(
    tag = "portal",
    params(("payment_method_id" = PaymentMethodId, Path)),
    responses((status = 200, body = SavedCard), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[post("/portal/payment-methods/{payment_method_id}/default")]
pub async fn make_card_default(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PaymentMethodId>,
) -> Result<web::Json<SavedCard>, ApiError> {
    let id = path.into_inner();
    let card = caller.call(&state, move |conn, ctx| methods::make_default(conn, ctx, &id)).await?;
    Ok(web::Json(card.into()))
}

/// Removes a saved card: detached at the processor, forgotten here.
#[utoipa::path(
    tag = "portal",
    params(("payment_method_id" = PaymentMethodId, Path)),
    responses((status = 204, description = "Removed."), Unauthorized, Forbidden, NotFound, Conflict, ServiceUnavailable, InternalError),
    security(("bearer" = []))
)]
#[delete("/portal/payment-methods/{payment_method_id}")]
pub async fn remove_card(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<PaymentMethodId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&state).await?;
    methods::remove(&db::runner(&state), &ctx, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
