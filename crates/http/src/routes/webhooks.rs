//! Webhook endpoints: where a firm's integrations receive events, signed per the Standard
//! Webhooks specification. The signing secret is shown once, at creation and at rotation.

use crate::routing::Routes;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::events::{DisabledReason, EventType};
use vestibule_domain::ids::{DeliveryId, EventId, WebhookEndpointId};
use vestibule_domain::principal::Principal;
use vestibule_domain::{FieldError, ValidationErrors, text};
use vestibule_storage::deliveries::{self, AttemptRow, DeliveryFilter, DeliveryRow};
use vestibule_storage::webhooks::{self, EndpointChanges, EndpointRow};
use vestibule_storage::{outbox, write_tx};

use crate::audit::{self, Entry, Origin};
use crate::auth::principal::Authenticated;
use crate::db;
use crate::error::ApiError;
use crate::json::{ApiJson, Query, nullable};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::{created, utc};
use crate::state::AppState;
use vestibule_app::secrets;

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

impl Delivery {
    fn from_parts(
        row: DeliveryRow,
        attempts: Vec<AttemptRow>,
        event_type: Option<EventType>,
    ) -> Result<Self, ApiError> {
        let pending = row.status == deliveries::PENDING;
        let unknown = |what: &str, value: &str| ApiError::Internal(anyhow::anyhow!("stored delivery {what} {value:?}"));
        Ok(Self {
            channel: Channel::from_stored(&row.channel).ok_or_else(|| unknown("channel", &row.channel))?,
            status: DeliveryStatus::from_stored(&row.status).ok_or_else(|| unknown("status", &row.status))?,
            id: DeliveryId::from_trusted(row.id),
            endpoint_id: row.endpoint_id.map(WebhookEndpointId::from_trusted),
            recipient: row.recipient,
            event_id: EventId::from_trusted(row.event_id),
            event_type,
            attempts: row.attempts,
            next_attempt_at: pending.then(|| utc(row.next_attempt_at)),
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
        })
    }
}

fn new_secret() -> String {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let random = URL_SAFE_NO_PAD.decode(secrets::random_secret()).unwrap_or_default();
    format!("whsec_{}", STANDARD.encode(random))
}

/// Checks a target URL: http(s), no credentials in it, and not an internal address unless
/// the operator allowed that host (`WEBHOOK_ALLOWED_HOSTS`). Names are checked again when
/// they resolve, at every delivery.
fn check_url(raw: &str, allowed_hosts: &[String]) -> Result<String, FieldError> {
    let invalid = |code: &str, detail: &str| FieldError::new("/url", code, detail);
    let url = url::Url::parse(raw.trim()).map_err(|_| invalid("invalid_url", "is not a URL"))?;
    let host = url.host_str().ok_or_else(|| invalid("invalid_url", "has no host"))?.to_ascii_lowercase();
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("invalid_url", "must not contain credentials"));
    }
    let allowed = allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(host.trim_matches(['[', ']'])));
    match url.scheme() {
        "https" => {}
        "http" if allowed => {}
        _ => return Err(invalid("insecure_url", "must use https")),
    }
    let internal = match url.host() {
        Some(url::Host::Ipv4(ip)) => !vestibule_domain::net::is_public(ip.into()),
        Some(url::Host::Ipv6(ip)) => !vestibule_domain::net::is_public(ip.into()),
        _ => vestibule_domain::net::is_internal_name(&host),
    };
    if internal && !allowed {
        return Err(invalid("private_address", "points into a private network; an operator must allow the host"));
    }
    Ok(url.to_string())
}

fn event_filter(types: &[EventType]) -> String {
    let mut names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(" ")
}

/// The endpoint, if it may receive messages now.
fn enabled_endpoint(
    conn: &mut vestibule_storage::DbConnection,
    firm_id: &str,
    id: &str,
) -> Result<EndpointRow, ApiError> {
    let endpoint = webhooks::get(conn, firm_id, id)?;
    if endpoint.disabled_at.is_some() {
        return Err(ApiError::conflict("endpoint_disabled", "the endpoint is disabled; enable it first"));
    }
    Ok(endpoint)
}

fn admin(principal: &Principal) -> Result<(), ApiError> {
    Ok(authorize(principal, Action::ManageWebhooks)?)
}

fn no_store(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The event catalogue. Every webhook request carries a `WebhookPayload` (see the schema).
#[utoipa::path(tag = "webhooks", responses((status = 200, body = Vec<EventTypeInfo>), Unauthorized, Forbidden, InternalError), security(("bearer" = [])))]
#[get("/webhook-event-types")]
pub async fn list_event_types(
    Authenticated(principal): Authenticated,
) -> Result<web::Json<Vec<EventTypeInfo>>, ApiError> {
    admin(&principal)?;
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
    Authenticated(principal): Authenticated,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<WebhookEndpoint>>, ApiError> {
    admin(&principal)?;
    let page = page.page()?;
    db::run(&state, move |conn| {
        let rows = webhooks::list(conn, principal.firm_id().as_str(), page.after.as_deref(), page.limit)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |r| r.id.clone(), WebhookEndpoint::from)))
    })
    .await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<CreateWebhookEndpoint>,
) -> Result<HttpResponse, ApiError> {
    admin(&principal)?;
    let mut errors = ValidationErrors::default();
    let url = errors.check("", check_url(&body.url, &state.settings.app.webhook_allowed_hosts));
    let description = errors.check("/description", text::optional(body.description.as_deref(), 500)).flatten();
    errors.into_result()?;
    let now = vestibule_storage::now();
    let secret = new_secret();
    let row = EndpointRow {
        id: WebhookEndpointId::generate().into(),
        firm_id: principal.firm_id().to_string(),
        url: url.unwrap_or_default(),
        description,
        event_types: event_filter(&body.event_types),
        secret: secret.clone(),
        previous_secret: None,
        previous_secret_expires_at: None,
        disabled_at: None,
        disabled_reason: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
    };
    let row = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            webhooks::insert(conn, &row)?;
            audit::record(
                conn,
                &origin,
                &principal,
                Entry::success("webhook_endpoint.created", "webhook_endpoint", &row.id),
            )?;
            Ok(row)
        })
    })
    .await?;
    let location = format!("/v1/webhook-endpoints/{}", row.id);
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
    Authenticated(principal): Authenticated,
    path: web::Path<WebhookEndpointId>,
) -> Result<web::Json<WebhookEndpoint>, ApiError> {
    admin(&principal)?;
    let id = path.into_inner();
    db::run(&state, move |conn| Ok(web::Json(webhooks::get(conn, principal.firm_id().as_str(), id.as_str())?.into())))
        .await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<WebhookEndpointId>,
    ApiJson(body): ApiJson<UpdateWebhookEndpoint>,
) -> Result<web::Json<WebhookEndpoint>, ApiError> {
    admin(&principal)?;
    let id = path.into_inner();
    let mut errors = ValidationErrors::default();
    let url =
        body.url.as_deref().and_then(|u| errors.check("", check_url(u, &state.settings.app.webhook_allowed_hosts)));
    let description =
        body.description.map(|d| errors.check("/description", text::optional(d.as_deref(), 500)).flatten());
    errors.into_result()?;
    let now = vestibule_storage::now();
    let changes = EndpointChanges {
        url,
        description,
        event_types: body.event_types.as_deref().map(event_filter),
        disabled_at: body.disabled.map(|off| off.then_some(now)),
        disabled_reason: body.disabled.map(|off| off.then(|| DisabledReason::Manual.as_str().to_owned())),
        failing_since: body.disabled.filter(|off| !off).map(|_| None),
        updated_at: now,
    };
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let was_disabled = webhooks::get(conn, firm_id, id.as_str())?.disabled_at.is_some();
            let mut changes = changes;
            if was_disabled && changes.disabled_at == Some(Some(now)) {
                // Already off: keep when and why it was turned off.
                changes.disabled_at = None;
                changes.disabled_reason = None;
            }
            let row = webhooks::update(conn, firm_id, id.as_str(), &changes)?;
            if row.disabled_at.is_some() && !was_disabled {
                deliveries::drop_pending_for_endpoint(conn, id.as_str(), "the endpoint was disabled")?;
            }
            audit::record(
                conn,
                &origin,
                &principal,
                Entry::success("webhook_endpoint.updated", "webhook_endpoint", id.as_str()),
            )?;
            Ok(web::Json(row.into()))
        })
    })
    .await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<WebhookEndpointId>,
) -> Result<HttpResponse, ApiError> {
    admin(&principal)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            webhooks::delete(conn, principal.firm_id().as_str(), id.as_str())?;
            audit::record(
                conn,
                &origin,
                &principal,
                Entry::success("webhook_endpoint.deleted", "webhook_endpoint", id.as_str()),
            )?;
            Ok(())
        })
    })
    .await?;
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<WebhookEndpointId>,
) -> Result<HttpResponse, ApiError> {
    admin(&principal)?;
    let id = path.into_inner();
    let secret = new_secret();
    let overlap =
        chrono::Duration::from_std(state.settings.app.secret_rotation_overlap).unwrap_or(chrono::Duration::hours(24));
    let until = vestibule_storage::now() + overlap;
    let stored = secret.clone();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            webhooks::rotate_secret(conn, principal.firm_id().as_str(), id.as_str(), &stored, until)?;
            let entry = Entry::success("webhook_endpoint.secret_rotated", "webhook_endpoint", id.as_str());
            audit::record(conn, &origin, &principal, entry)?;
            Ok(())
        })
    })
    .await?;
    Ok(no_store(HttpResponse::Ok().json(RotatedSecret { secret, previous_secret_expires_at: utc(until) })))
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<WebhookEndpointId>,
) -> Result<HttpResponse, ApiError> {
    admin(&principal)?;
    let id = path.into_inner();
    let delivery = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let endpoint = enabled_endpoint(conn, firm_id, id.as_str())?;
            audit::record(
                conn,
                &origin,
                &principal,
                Entry::success("webhook_endpoint.tested", "webhook_endpoint", &endpoint.id),
            )?;
            let data = serde_json::json!({ "id": endpoint.id });
            let event = outbox::publish_to_endpoint(conn, firm_id, EventType::WebhookTest, &data, &endpoint.id)?;
            let delivery = deliveries::latest_for_event(conn, &event.id)?;
            Delivery::from_parts(delivery, Vec::new(), Some(EventType::WebhookTest))
        })
    })
    .await?;
    Ok(HttpResponse::Accepted().json(delivery))
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
    Authenticated(principal): Authenticated,
    path: web::Path<WebhookEndpointId>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Delivery>>, ApiError> {
    admin(&principal)?;
    let page = page.page()?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        let firm_id = principal.firm_id().as_str();
        webhooks::get(conn, firm_id, id.as_str())?;
        let filter = DeliveryFilter { endpoint_id: Some(id.to_string()), ..Default::default() };
        delivery_page(conn, firm_id, &filter, &page).map(web::Json)
    })
    .await
}

fn delivery_page(
    conn: &mut vestibule_storage::DbConnection,
    firm_id: &str,
    filter: &DeliveryFilter,
    page: &vestibule_domain::cursor::Page,
) -> Result<Paginated<Delivery>, ApiError> {
    let rows = deliveries::list(conn, firm_id, filter, page.after.as_deref(), page.limit)?;
    let types = deliveries::event_types_of(conn, rows.iter().map(|(d, _)| d.event_id.as_str()))?;
    let (rows, next_cursor) = page.finish(rows, |(d, _)| d.id.clone());
    let data = rows
        .into_iter()
        .map(|(d, attempts)| {
            let event_type = types.get(&d.event_id).copied();
            Delivery::from_parts(d, attempts, event_type)
        })
        .collect::<Result<_, _>>()?;
    Ok(Paginated { data, next_cursor })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryListQuery {
    /// `webhook` or `email`.
    pub channel: Option<Channel>,
    pub status: Option<DeliveryStatus>,
}

/// How an event leaves: as a webhook or as an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Webhook,
    Email,
}

impl Channel {
    fn stored(self) -> &'static str {
        match self {
            Self::Webhook => outbox::WEBHOOK,
            Self::Email => outbox::EMAIL,
        }
    }

    fn from_stored(raw: &str) -> Option<Self> {
        match raw {
            outbox::WEBHOOK => Some(Self::Webhook),
            outbox::EMAIL => Some(Self::Email),
            _ => None,
        }
    }
}

/// `pending` until tried or between retries, `delivering` while claimed, then `delivered`
/// or `dead` (retries exhausted, or the endpoint disabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivering,
    Delivered,
    Dead,
}

impl DeliveryStatus {
    fn stored(self) -> &'static str {
        match self {
            Self::Pending => deliveries::PENDING,
            Self::Delivering => deliveries::DELIVERING,
            Self::Delivered => deliveries::DELIVERED,
            Self::Dead => deliveries::DEAD,
        }
    }

    fn from_stored(raw: &str) -> Option<Self> {
        match raw {
            deliveries::PENDING => Some(Self::Pending),
            deliveries::DELIVERING => Some(Self::Delivering),
            deliveries::DELIVERED => Some(Self::Delivered),
            deliveries::DEAD => Some(Self::Dead),
            _ => None,
        }
    }
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
    Authenticated(principal): Authenticated,
    query: Query<DeliveryListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Delivery>>, ApiError> {
    admin(&principal)?;
    let page = page.page()?;
    let filter = DeliveryFilter {
        endpoint_id: None,
        channel: query.channel.map(|c| c.stored().to_owned()),
        status: query.status.map(|s| s.stored().to_owned()),
    };
    db::run(&state, move |conn| delivery_page(conn, principal.firm_id().as_str(), &filter, &page).map(web::Json)).await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<(WebhookEndpointId, DeliveryId)>,
) -> Result<HttpResponse, ApiError> {
    admin(&principal)?;
    let (endpoint_id, delivery_id) = path.into_inner();
    let delivery = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let original = deliveries::get(conn, firm_id, delivery_id.as_str())?;
            if original.endpoint_id.as_deref() != Some(endpoint_id.as_str()) {
                return Err(ApiError::NotFound);
            }
            enabled_endpoint(conn, firm_id, endpoint_id.as_str())?;
            let event = outbox::get_event(conn, firm_id, &original.event_id)?;
            let new_id = outbox::queue(conn, &event, outbox::WEBHOOK, Some(endpoint_id.as_str()), None)?;
            let entry = Entry::success("webhook_delivery.replayed", "webhook_delivery", delivery_id.as_str());
            audit::record(conn, &origin, &principal, entry)?;
            let row = deliveries::get(conn, firm_id, &new_id)?;
            Delivery::from_parts(row, Vec::new(), EventType::from_stored(&event.event_type))
        })
    })
    .await?;
    Ok(HttpResponse::Accepted().json(delivery))
}
