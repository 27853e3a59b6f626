//! Webhook endpoints, where a firm's integrations receive events, and the log of every
//! delivery (webhooks and emails). Signing secrets are returned once, at creation and at
//! rotation.

use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::cursor::Page;
use vestibule_domain::events::{Channel, DeliveryStatus, DisabledReason, EventType};
use vestibule_domain::ids::{DeliveryId, WebhookEndpointId};
use vestibule_domain::{FieldError, ValidationErrors, net, text};
use vestibule_storage::deliveries::{self, AttemptRow, DeliveryFilter, DeliveryRow};
use vestibule_storage::webhooks::{self, EndpointChanges, EndpointRow};
use vestibule_storage::{DbConnection, outbox, write_tx};

use crate::audit::{self, Entry};
use crate::change::audited;
use crate::context::{Context, Settings};
use crate::error::{AppError, AppResult};
use crate::events;
use crate::page::Listed;
use crate::secrets;

/// An endpoint to add, as sent; checked against the operator's settings.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: String,
    pub description: Option<String>,
    /// Empty: every type.
    pub event_types: Vec<EventType>,
}

/// Fields to change, as sent: `None` keeps, `Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub struct EndpointUpdate {
    pub url: Option<String>,
    pub description: Option<Option<String>>,
    pub event_types: Option<Vec<EventType>>,
    /// `true` disables, `false` re-enables and forgets earlier failures.
    pub disabled: Option<bool>,
}

/// A delivery with its attempts, its channel and status read from storage.
#[derive(Debug)]
pub struct DeliveryRecord {
    pub row: DeliveryRow,
    pub channel: Channel,
    pub status: DeliveryStatus,
    pub event_type: Option<EventType>,
    pub attempts: Vec<AttemptRow>,
}

/// The signing secret that replaces the endpoint's, and until when the old one signs too.
#[derive(Debug)]
pub struct Rotated {
    pub secret: String,
    pub previous_secret_expires_at: chrono::NaiveDateTime,
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(conn: &mut DbConnection, ctx: &Context, page: &Page) -> AppResult<Listed<EndpointRow>> {
    authorize(&ctx.principal, Action::ManageWebhooks)?;
    let rows = webhooks::list(conn, ctx.firm_id(), page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |r| r.id.clone()))
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &WebhookEndpointId) -> AppResult<EndpointRow> {
    authorize(&ctx.principal, Action::ManageWebhooks)?;
    Ok(webhooks::get(conn, ctx.firm_id(), id.as_str())?)
}

/// Adds an endpoint; the row returned holds its signing secret.
#[tracing::instrument(skip(conn, ctx))]
pub fn create(conn: &mut DbConnection, ctx: &Context, new: &NewEndpoint) -> AppResult<EndpointRow> {
    authorize(&ctx.principal, Action::ManageWebhooks)?;
    let mut errors = ValidationErrors::default();
    let url = errors.check("", check_url(&new.url, &ctx.settings));
    let description = errors.check("/description", text::optional(new.description.as_deref(), 500)).flatten();
    errors.into_result()?;
    let now = vestibule_storage::now();
    let row = EndpointRow {
        id: WebhookEndpointId::generate().into(),
        firm_id: ctx.firm_id().to_owned(),
        url: url.unwrap_or_default(),
        description,
        event_types: event_filter(&new.event_types),
        secret: new_secret(),
        previous_secret: None,
        previous_secret_expires_at: None,
        disabled_at: None,
        disabled_reason: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
    };
    let id = row.id.clone();
    audited(
        conn,
        ctx,
        Action::ManageWebhooks,
        Entry::success("webhook_endpoint.created", "webhook_endpoint", &id),
        |conn, _| {
            webhooks::insert(conn, &ctx.settings.secret_keys, &row)?;
            Ok(row)
        },
    )
}

/// Changes an endpoint. Disabling one drops what is still pending for it; disabling one
/// already off keeps when and why it was turned off.
#[tracing::instrument(skip(conn, ctx))]
pub fn update(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &WebhookEndpointId,
    update: EndpointUpdate,
) -> AppResult<EndpointRow> {
    authorize(&ctx.principal, Action::ManageWebhooks)?;
    let mut errors = ValidationErrors::default();
    let url = update.url.as_deref().and_then(|u| errors.check("", check_url(u, &ctx.settings)));
    let description =
        update.description.map(|d| errors.check("/description", text::optional(d.as_deref(), 500)).flatten());
    errors.into_result()?;
    let now = vestibule_storage::now();
    let entry = Entry::success("webhook_endpoint.updated", "webhook_endpoint", id.as_str());
    audited(conn, ctx, Action::ManageWebhooks, entry, |conn, firm_id| {
        let was_disabled = webhooks::get(conn, firm_id, id.as_str())?.disabled_at.is_some();
        // Already off: keep when and why it was turned off.
        let disabled = update.disabled.filter(|&off| !(off && was_disabled));
        let changes = EndpointChanges {
            url,
            description,
            event_types: update.event_types.as_deref().map(event_filter),
            disabled_at: disabled.map(|off| off.then_some(now)),
            disabled_reason: disabled.map(|off| off.then(|| DisabledReason::Manual.as_str().to_owned())),
            failing_since: disabled.filter(|off| !off).map(|_| None),
            updated_at: now,
        };
        let row = webhooks::update(conn, firm_id, id.as_str(), &changes)?;
        if row.disabled_at.is_some() && !was_disabled {
            deliveries::drop_pending_for_endpoint(conn, id.as_str(), "the endpoint was disabled")?;
        }
        Ok(row)
    })
}

/// Deletes the endpoint and its delivery log.
#[tracing::instrument(skip(conn, ctx))]
pub fn delete(conn: &mut DbConnection, ctx: &Context, id: &WebhookEndpointId) -> AppResult<()> {
    let entry = Entry::success("webhook_endpoint.deleted", "webhook_endpoint", id.as_str());
    audited(conn, ctx, Action::ManageWebhooks, entry, |conn, firm_id| Ok(webhooks::delete(conn, firm_id, id.as_str())?))
}

/// A new signing secret; the old one keeps signing for the configured overlap.
#[tracing::instrument(skip(conn, ctx))]
pub fn rotate_secret(conn: &mut DbConnection, ctx: &Context, id: &WebhookEndpointId) -> AppResult<Rotated> {
    let secret = new_secret();
    let overlap =
        chrono::Duration::from_std(ctx.settings.secret_rotation_overlap).unwrap_or(chrono::Duration::hours(24));
    let until = vestibule_storage::now() + overlap;
    let entry = Entry::success("webhook_endpoint.secret_rotated", "webhook_endpoint", id.as_str());
    audited(conn, ctx, Action::ManageWebhooks, entry, |conn, firm_id| {
        webhooks::rotate_secret(conn, &ctx.settings.secret_keys, firm_id, id.as_str(), &secret, until)?;
        Ok(())
    })?;
    Ok(Rotated { secret, previous_secret_expires_at: until })
}

/// Queues a `webhook.test` event for this endpoint only, even when it filters types.
#[tracing::instrument(skip(conn, ctx))]
pub fn send_test(conn: &mut DbConnection, ctx: &Context, id: &WebhookEndpointId) -> AppResult<DeliveryRecord> {
    authorize(&ctx.principal, Action::ManageWebhooks)?;
    write_tx(conn, |conn| {
        let firm_id = ctx.firm_id();
        let endpoint = enabled_endpoint(conn, firm_id, id.as_str())?;
        audit::record(conn, ctx, Entry::success("webhook_endpoint.tested", "webhook_endpoint", &endpoint.id))?;
        let event = events::publish_to_endpoint(conn, firm_id, EventType::WebhookTest, &endpoint.id, &endpoint.id)?;
        let row = deliveries::latest_for_event(conn, &event.id)?;
        record(row, Vec::new(), Some(EventType::WebhookTest))
    })
}

/// Sends a delivery's event to its endpoint again, as a new delivery of the same event.
#[tracing::instrument(skip(conn, ctx))]
pub fn replay(
    conn: &mut DbConnection,
    ctx: &Context,
    endpoint_id: &WebhookEndpointId,
    delivery_id: &DeliveryId,
) -> AppResult<DeliveryRecord> {
    authorize(&ctx.principal, Action::ManageWebhooks)?;
    write_tx(conn, |conn| {
        let firm_id = ctx.firm_id();
        let original = deliveries::get(conn, firm_id, delivery_id.as_str())?;
        if original.endpoint_id.as_deref() != Some(endpoint_id.as_str()) {
            return Err(AppError::NotFound);
        }
        enabled_endpoint(conn, firm_id, endpoint_id.as_str())?;
        let event = outbox::get_event(conn, firm_id, &original.event_id)?;
        let new_id = outbox::queue(conn, &event, outbox::WEBHOOK, Some(endpoint_id.as_str()), None)?;
        let entry = Entry::success("webhook_delivery.replayed", "webhook_delivery", delivery_id.as_str());
        audit::record(conn, ctx, entry)?;
        let row = deliveries::get(conn, firm_id, &new_id)?;
        record(row, Vec::new(), EventType::from_stored(&event.event_type))
    })
}

/// One endpoint's deliveries with their attempts, oldest first.
#[tracing::instrument(skip(conn, ctx))]
pub fn endpoint_deliveries(
    conn: &mut DbConnection,
    ctx: &Context,
    id: &WebhookEndpointId,
    page: &Page,
) -> AppResult<Listed<DeliveryRecord>> {
    authorize(&ctx.principal, Action::ManageWebhooks)?;
    webhooks::get(conn, ctx.firm_id(), id.as_str())?;
    let filter = DeliveryFilter { endpoint_id: Some(id.to_string()), ..Default::default() };
    delivery_page(conn, ctx.firm_id(), &filter, page)
}

/// Every delivery of the firm's events, webhooks and emails alike.
#[tracing::instrument(skip(conn, ctx))]
pub fn all_deliveries(
    conn: &mut DbConnection,
    ctx: &Context,
    channel: Option<Channel>,
    status: Option<DeliveryStatus>,
    page: &Page,
) -> AppResult<Listed<DeliveryRecord>> {
    authorize(&ctx.principal, Action::ManageWebhooks)?;
    let filter = DeliveryFilter {
        endpoint_id: None,
        channel: channel.map(|c| c.as_str().to_owned()),
        status: status.map(|s| s.as_str().to_owned()),
    };
    delivery_page(conn, ctx.firm_id(), &filter, page)
}

fn delivery_page(
    conn: &mut DbConnection,
    firm_id: &str,
    filter: &DeliveryFilter,
    page: &Page,
) -> AppResult<Listed<DeliveryRecord>> {
    let rows = deliveries::list(conn, firm_id, filter, page.after.as_deref(), page.limit)?;
    let types = deliveries::event_types_of(conn, rows.iter().map(|(d, _)| d.event_id.as_str()))?;
    let Listed { items, next_cursor } = Listed::finish(page, rows, |(d, _)| d.id.clone());
    let items = items
        .into_iter()
        .map(|(row, attempts)| {
            let event_type = types.get(&row.event_id).copied();
            record(row, attempts, event_type)
        })
        .collect::<AppResult<_>>()?;
    Ok(Listed { items, next_cursor })
}

/// A stored channel or status this build does not know is a broken invariant, not the
/// caller's mistake.
fn record(row: DeliveryRow, attempts: Vec<AttemptRow>, event_type: Option<EventType>) -> AppResult<DeliveryRecord> {
    let unknown = |what: &str, value: &str| AppError::Internal(anyhow::anyhow!("stored delivery {what} {value:?}"));
    Ok(DeliveryRecord {
        channel: Channel::from_stored(&row.channel).ok_or_else(|| unknown("channel", &row.channel))?,
        status: DeliveryStatus::from_stored(&row.status).ok_or_else(|| unknown("status", &row.status))?,
        row,
        event_type,
        attempts,
    })
}

/// The endpoint, if it may receive messages now.
fn enabled_endpoint(conn: &mut DbConnection, firm_id: &str, id: &str) -> AppResult<EndpointRow> {
    let endpoint = webhooks::get(conn, firm_id, id)?;
    if endpoint.disabled_at.is_some() {
        return Err(AppError::conflict("endpoint_disabled", "the endpoint is disabled; enable it first"));
    }
    Ok(endpoint)
}

fn new_secret() -> String {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let random = URL_SAFE_NO_PAD.decode(secrets::random_secret()).unwrap_or_default();
    format!("whsec_{}", STANDARD.encode(random))
}

fn event_filter(types: &[EventType]) -> String {
    let mut names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(" ")
}

/// Checks a target URL: http(s), no credentials in it, and not an internal address unless
/// the operator allowed that host (`WEBHOOK_ALLOWED_HOSTS`). Names are checked again when
/// they resolve, at every delivery.
fn check_url(raw: &str, settings: &Settings) -> Result<String, FieldError> {
    let invalid = |code: &str, detail: &str| FieldError::new("/url", code, detail);
    let url = url::Url::parse(raw.trim()).map_err(|_| invalid("invalid_url", "is not a URL"))?;
    let host = url.host_str().ok_or_else(|| invalid("invalid_url", "has no host"))?.to_ascii_lowercase();
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("invalid_url", "must not contain credentials"));
    }
    let allowed = settings.webhook_allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(host.trim_matches(['[', ']'])));
    match url.scheme() {
        "https" => {}
        "http" if allowed => {}
        _ => return Err(invalid("insecure_url", "must use https")),
    }
    let internal = match url.host() {
        Some(url::Host::Ipv4(ip)) => !net::is_public(ip.into()),
        Some(url::Host::Ipv6(ip)) => !net::is_public(ip.into()),
        _ => net::is_internal_name(&host),
    };
    if internal && !allowed {
        return Err(invalid("private_address", "points into a private network; an operator must allow the host"));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn settings(allowed: &[&str]) -> Settings {
        Settings {
            issuer: "test".to_owned(),
            access_token_ttl: Duration::from_secs(60),
            refresh_token_ttl: Duration::from_secs(60),
            lockout_threshold: 5,
            lockout_duration: Duration::from_secs(60),
            webhook_allowed_hosts: allowed.iter().map(|h| (*h).to_owned()).collect(),
            secret_rotation_overlap: Duration::from_secs(60),
            public_base_url: "https://portal.test".to_owned(),
            invitation_ttl: Duration::from_secs(60),
            processor: None,
            processor_publishable_key: None,
            scanner: None,
            secret_keys: std::sync::Arc::new(
                vestibule_storage::sealing::SecretKeys::new(vec![("test".to_owned(), vec![7; 32])]).unwrap(),
            ),
        }
    }

    #[test]
    fn a_webhook_url_is_public_https_without_credentials_unless_the_operator_allows_the_host() {
        let none = settings(&[]);
        assert_eq!(check_url(" https://hooks.example.com/in ", &none).unwrap(), "https://hooks.example.com/in");
        assert_eq!(check_url("http://hooks.example.com/in", &none).unwrap_err().code, "insecure_url");
        assert_eq!(check_url("https://u:p@hooks.example.com/", &none).unwrap_err().code, "invalid_url");
        assert_eq!(check_url("https://10.0.0.5/", &none).unwrap_err().code, "private_address");
        assert_eq!(check_url("https://localhost/", &none).unwrap_err().code, "private_address");
        let local = settings(&["localhost"]);
        assert!(check_url("http://localhost:9000/hook", &local).is_ok());
    }

    #[test]
    fn the_domain_names_channels_and_statuses_as_storage_does() {
        assert_eq!(Channel::Webhook.as_str(), outbox::WEBHOOK);
        assert_eq!(Channel::Email.as_str(), outbox::EMAIL);
        assert_eq!(DeliveryStatus::Pending.as_str(), deliveries::PENDING);
        assert_eq!(DeliveryStatus::Delivering.as_str(), deliveries::DELIVERING);
        assert_eq!(DeliveryStatus::Delivered.as_str(), deliveries::DELIVERED);
        assert_eq!(DeliveryStatus::Dead.as_str(), deliveries::DEAD);
    }
}
