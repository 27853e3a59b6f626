//! Webhook endpoints: where a firm's integrations receive events, signed per the Standard
//! Webhooks specification. The signing secret is shown once, at creation and at rotation.

use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::webhooks::{self, DeliveryRecord, EndpointUpdate, NewEndpoint};
use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::events::{Channel, DeliveryStatus, DisabledReason, EventType};
use vestibule_domain::ids::{DeliveryId, EventId, WebhookEndpointId};
use vestibule_storage::webhooks::EndpointRow;

use crate::auth::principal::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, Query, nullable};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::{created, utc};
use crate::routing::Routes;
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_event_types)
        .service(list_webhook_endpoints)
        .service(create_webhook_endpoint)
        .service(get_webhook_endpoint)
        .service(update_webhook_endpoint)
        .service(delete_webhook_endpoint)
        .service(rotate_webhook_secret)
        .service(send_test_event)
        .service(list_webhook_deliveries)
        .service(replay_webhook_delivery)
        .service(list_deliveries);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpoint {
    pub id: WebhookEndpointId,
    pub url: String,
    pub description: Option<String>,
    /// The types this endpoint receives; empty means every type.
    pub event_types: Vec<EventType>,
    /// Set while disabled; a disabled endpoint receives nothing.
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<DisabledReason>,
    /// Since when every delivery has failed; cleared by a success.
    pub failing_since: Option<DateTime<Utc>>,
    /// Until then the previous secret signs too (after a rotation).
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<EndpointRow> for WebhookEndpoint {
    fn from(row: EndpointRow) -> Self {
        Self {
            id: WebhookEndpointId::from_trusted(row.id),
            url: row.url,
            description: row.description,
            event_types: row.event_types.split_whitespace().filter_map(EventType::from_stored).collect(),
            disabled_at: row.disabled_at.map(utc),
            disabled_reason: row.disabled_reason.as_deref().and_then(DisabledReason::from_stored),
            failing_since: row.failing_since.map(utc),
            previous_secret_expires_at: row.previous_secret_expires_at.map(utc),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

/// An endpoint with its signing secret, shown only in this response.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// `whsec_` + base64 key; verify `webhook-signature` with it (see docs/webhooks.md).
    #[schema(example = "whsec_Zx8Wm0s3dPq5Vb1Rk7Tn2Yc9Hj4Lf6Ga0Ue3Io5Xw8E=")]
    pub secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookEndpoint {
    /// `https://…`; plain `http` only for hosts the operator allows.
    pub url: String,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Types to receive; empty or absent means every type.
    #[serde(default)]
    pub event_types: Vec<EventType>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookEndpoint {
    pub url: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Option<Option<String>>,
    pub event_types: Option<Vec<EventType>>,
    /// `true` disables, `false` re-enables (and forgets earlier failures).
    pub disabled: Option<bool>,
}

/// A catalogued event type.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeInfo {
    pub name: EventType,
    pub description: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    pub id: DeliveryId,
    pub channel: Channel,
    /// For webhooks: the endpoint.
    pub endpoint_id: Option<WebhookEndpointId>,
    /// For emails: the address.
    pub recipient: Option<String>,
    /// Also the `webhook-id` header: the same for every attempt and replay of the event.
    pub event_id: EventId,
    pub event_type: Option<EventType>,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub attempt_log: Vec<DeliveryAttempt>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAttempt {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; `null` when no response arrived.
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

impl From<DeliveryRecord> for Delivery {
    fn from(record: DeliveryRecord) -> Self {
        let DeliveryRecord { row, channel, status, event_type, attempts } = record;
        Self {
            id: DeliveryId::from_trusted(row.id),
            channel,
            endpoint_id: row.endpoint_id.map(WebhookEndpointId::from_trusted),
            recipient: row.recipient,
            event_id: EventId::from_trusted(row.event_id),
            event_type,
            next_attempt_at: (status == DeliveryStatus::Pending).then(|| utc(row.next_attempt_at)),
            status,
            attempts: row.attempts,
            last_error: row.last_error,
            delivered_at: row.delivered_at.map(utc),
            created_at: utc(row.created_at),
            attempt_log: attempts
                .into_iter()
                .map(|a| DeliveryAttempt {
                    attempted_at: utc(a.attempted_at),
                    status_code: a.status_code,
                    latency_ms: a.latency_ms,
                    error: a.error,
                })
                .collect(),
        }
    }
}

fn no_store(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The event catalogue. Every webhook request carries a `WebhookPayload` (see the schema).
#[utoipa::path(tag = "webhooks", responses((status = 200, body = Vec<EventTypeInfo>), Unauthorized, Forbidden, InternalError), security(("bearer" = [])))]
#[get("/webhook-event-types")]
pub async fn list_event_types(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<Vec<EventTypeInfo>>, ApiError> {
    let ctx = caller.context(&state).await?;
    authorize(&ctx.principal, Action::ManageWebhooks)?;
    Ok(web::Json(EventType::ALL.iter().map(|&name| EventTypeInfo { name, description: name.description() }).collect()))
}

/// The firm's webhook endpoints.
#[utoipa::path(
    tag = "webhooks",
    params(PageQuery),
    responses((status = 200, body = Paginated<WebhookEndpoint>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/webhook-endpoints")]
pub async fn list_webhook_endpoints(
    state: web::Data<AppState>,
    caller: Caller,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<WebhookEndpoint>>, ApiError> {
    let page = page.page()?;
    let listed =
        caller.must(Action::ManageWebhooks).call(&state, move |conn, ctx| webhooks::list(conn, ctx, &page)).await?;
    Ok(web::Json(Paginated::of(listed, WebhookEndpoint::from)))
}

/// Adds an endpoint (owners, admins, `webhooks:manage` keys). The response holds the signing
/// secret, once.
#[utoipa::path(
    tag = "webhooks",
    request_body = CreateWebhookEndpoint,
    responses(
        (status = 201, body = WebhookEndpointWithSecret, headers(("Location" = String), ("Cache-Control" = String, description = "`no-store`"))),
        BadRequest, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/webhook-endpoints")]
pub async fn create_webhook_endpoint(
    state: web::Data<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateWebhookEndpoint>,
) -> Result<HttpResponse, ApiError> {
    let new = NewEndpoint { url: body.url, description: body.description, event_types: body.event_types };
    let mut row = caller.call(&state, move |conn, ctx| webhooks::create(conn, ctx, &new)).await?;
    let location = format!("/v1/webhook-endpoints/{}", row.id);
    let secret = std::mem::take(&mut row.secret);
    Ok(no_store(created(location, &WebhookEndpointWithSecret { endpoint: row.into(), secret })))
}

/// One webhook endpoint.
#[utoipa::path(
    tag = "webhooks",
    params(("endpoint_id" = WebhookEndpointId, Path)),
    responses((status = 200, body = WebhookEndpoint), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/webhook-endpoints/{endpoint_id}")]
pub async fn get_webhook_endpoint(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<WebhookEndpointId>,
) -> Result<web::Json<WebhookEndpoint>, ApiError> {
    let id = path.into_inner();
    Ok(web::Json(caller.call(&state, move |conn, ctx| webhooks::get(conn, ctx, &id)).await?.into()))
}

/// Changes the URL, description or filter, or disables / re-enables the endpoint.
#[utoipa::path(
    tag = "webhooks",
    params(("endpoint_id" = WebhookEndpointId, Path)),
    request_body = UpdateWebhookEndpoint,
    responses(
        (status = 200, body = WebhookEndpoint),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[patch("/webhook-endpoints/{endpoint_id}")]
pub async fn update_webhook_endpoint(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<WebhookEndpointId>,
    ApiJson(body): ApiJson<UpdateWebhookEndpoint>,
) -> Result<web::Json<WebhookEndpoint>, ApiError> {
    let id = path.into_inner();
    let update = EndpointUpdate {
        url: body.url,
        description: body.description,
        event_types: body.event_types,
        disabled: body.disabled,
    };
    Ok(web::Json(caller.call(&state, move |conn, ctx| webhooks::update(conn, ctx, &id, update)).await?.into()))
}

/// Deletes the endpoint and its delivery log.
#[utoipa::path(
    tag = "webhooks",
    params(("endpoint_id" = WebhookEndpointId, Path)),
    responses((status = 204, description = "Deleted."), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[delete("/webhook-endpoints/{endpoint_id}")]
pub async fn delete_webhook_endpoint(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<WebhookEndpointId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    caller.call(&state, move |conn, ctx| webhooks::delete(conn, ctx, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new signing secret; the old one keeps signing alongside it for the overlap window, so
/// receivers can switch without losing messages.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedSecret {
    pub secret: String,
    pub previous_secret_expires_at: DateTime<Utc>,
}

/// Rotate an endpoint's signing secret; both secrets sign until the previous one expires.
#[utoipa::path(
    tag = "webhooks",
    params(("endpoint_id" = WebhookEndpointId, Path)),
    responses(
        (status = 200, body = RotatedSecret, headers(("Cache-Control" = String, description = "`no-store`"))),
        Unauthorized, Forbidden, NotFound, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/webhook-endpoints/{endpoint_id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<WebhookEndpointId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let rotated = caller.call(&state, move |conn, ctx| webhooks::rotate_secret(conn, ctx, &id)).await?;
    let body =
        RotatedSecret { secret: rotated.secret, previous_secret_expires_at: utc(rotated.previous_secret_expires_at) };
    Ok(no_store(HttpResponse::Ok().json(body)))
}

/// Sends a `webhook.test` event to this endpoint only (even when it filters types).
#[utoipa::path(
    tag = "webhooks",
    params(("endpoint_id" = WebhookEndpointId, Path)),
    responses((status = 202, body = Delivery, description = "Queued."), Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[post("/webhook-endpoints/{endpoint_id}/test")]
pub async fn send_test_event(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<WebhookEndpointId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let delivery = caller.call(&state, move |conn, ctx| webhooks::send_test(conn, ctx, &id)).await?;
    Ok(HttpResponse::Accepted().json(Delivery::from(delivery)))
}

/// The endpoint's delivery log: every delivery with its attempts, oldest first.
#[utoipa::path(
    tag = "webhooks",
    params(("endpoint_id" = WebhookEndpointId, Path), PageQuery),
    responses((status = 200, body = Paginated<Delivery>), BadRequest, Unauthorized, Forbidden, NotFound, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/webhook-endpoints/{endpoint_id}/deliveries")]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<WebhookEndpointId>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Delivery>>, ApiError> {
    let page = page.page()?;
    let id = path.into_inner();
    let listed = caller
        .must(Action::ManageWebhooks)
        .call(&state, move |conn, ctx| webhooks::endpoint_deliveries(conn, ctx, &id, &page))
        .await?;
    Ok(web::Json(Paginated::of(listed, Delivery::from)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryListQuery {
    /// `webhook` or `email`.
    pub channel: Option<Channel>,
    pub status: Option<DeliveryStatus>,
}

/// Every delivery of the firm's events, webhooks and emails alike, with status, attempts and
/// last error: where an admin looks when a notification did not arrive.
#[utoipa::path(
    tag = "webhooks",
    params(DeliveryListQuery, PageQuery),
    responses((status = 200, body = Paginated<Delivery>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<DeliveryListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Delivery>>, ApiError> {
    let page = page.page()?;
    let DeliveryListQuery { channel, status } = query.into_inner();
    let listed = caller
        .must(Action::ManageWebhooks)
        .call(&state, move |conn, ctx| webhooks::all_deliveries(conn, ctx, channel, status, &page))
        .await?;
    Ok(web::Json(Paginated::of(listed, Delivery::from)))
}

/// Sends the delivery's event to the endpoint again, as a new delivery with the same
/// `webhook-id`.
#[utoipa::path(
    tag = "webhooks",
    params(("endpoint_id" = WebhookEndpointId, Path), ("delivery_id" = DeliveryId, Path)),
    responses((status = 202, body = Delivery, description = "Queued."), Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[post("/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/replay")]
pub async fn replay_webhook_delivery(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(WebhookEndpointId, DeliveryId)>,
) -> Result<HttpResponse, ApiError> {
    let (endpoint_id, delivery_id) = path.into_inner();
    let delivery =
        caller.call(&state, move |conn, ctx| webhooks::replay(conn, ctx, &endpoint_id, &delivery_id)).await?;
    Ok(HttpResponse::Accepted().json(Delivery::from(delivery)))
}
