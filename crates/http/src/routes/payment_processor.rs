//! The card processor's webhook: public, authenticated by the processor's signature over the
//! raw body (Stripe's `Stripe-Signature` scheme, with a timestamp tolerance).

use actix_web::{HttpMessage, HttpRequest, post, web};
use serde::Serialize;
use utoipa::ToSchema;
use vestibule_app::payments::webhook::{self, Received};

use crate::db;
use crate::error::ApiError;
use crate::problem::{
    BadRequest, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::routing::Routes;
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(processor_webhook);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookReceipt {
    pub received: WebhookOutcome,
}

/// What became of the event.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookOutcome {
    Acted,
    /// Seen before (a replay or a retry): nothing was done again.
    Replayed,
    /// About nothing Vestibule knows, or of a kind it does not act on.
    Ignored,
}

/// Events from the card processor (payment succeeded or failed, refunds, disputes, a saved
/// card confirmed). Configure this URL in the processor's dashboard with the signing secret
/// in `STRIPE_WEBHOOK_SECRET`. 404 when no processor is configured.
#[utoipa::path(
    tag = "payments",
    params(("Stripe-Signature" = String, Header, description = "`t=<unix time>,v1=<HMAC-SHA256 hex>`")),
    request_body(content = serde_json::Value, content_type = "application/json", description = "The processor's event, verified byte for byte."),
    responses((status = 200, body = WebhookReceipt), BadRequest, Unauthorized, NotFound, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError)
)]
#[post("/payment-processor/webhook")]
pub async fn processor_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<web::Json<WebhookReceipt>, ApiError> {
    if !req.content_type().eq_ignore_ascii_case("application/json") {
        return Err(ApiError::UnsupportedMediaType);
    }
    let signature = req.headers().get("stripe-signature").and_then(|v| v.to_str().ok());
    let received = webhook::receive(&db::runner(&state), &state.settings.app, &body, signature).await?;
    let received = match received {
        Received::Acted => WebhookOutcome::Acted,
        Received::Replayed => WebhookOutcome::Replayed,
        Received::Ignored => WebhookOutcome::Ignored,
    };
    Ok(web::Json(WebhookReceipt { received }))
}
