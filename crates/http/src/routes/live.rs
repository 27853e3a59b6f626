//! Live updates for SPAs: one Server-Sent Events stream per signed-in person. Staff hear
//! of new notifications, contacts of new messages from the firm. A stream authenticates
//! with `Authorization: Bearer` (fetch-based clients) or with a one-minute ticket in the
//! URL (`EventSource`, which cannot send headers), so the access token never appears in a
//! URL. Reconnecting with `Last-Event-ID` replays what was missed.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use crate::routing::Routes;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::live::{self, Listener};
use vestibule_domain::ids::LiveEventId;
use vestibule_storage::live::LiveEventRow;

use crate::auth::principal::{Authenticated, resolve, resolve_ticket};
use crate::db;
use crate::error::ApiError;
use crate::json::Query;
use crate::live_streams::StreamSlot;
use crate::problem::{BadRequest, Forbidden, InternalError, Unauthorized, Unprocessable};
use crate::state::AppState;
use vestibule_app::auth::tokens::{Audience, TokenUse};

const TICKET_TTL: Duration = Duration::from_secs(60);
/// How often a stream gets an empty comment. actix learns that a client left only when
/// writing to it fails, the second write after the close: without probes a closed stream
/// lingered for two heartbeats (40 s), with them it ends within two probes.
const PROBE: Duration = Duration::from_secs(2);
/// The last words of a stream replaced by a newer one of the same person.
const REPLACED: &[u8] = b"retry: 60000\n: replaced by a newer stream\n\n";
/// Ids remembered per stream, so an event relayed twice is sent once.
const REMEMBERED: usize = 512;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(create_live_ticket).service(open_live_stream);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LiveTicket {
    /// Pass as `?ticket=` to `GET /v1/live` within a minute.
    pub ticket: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LiveQuery {
    /// A ticket from `POST /v1/live/tickets`, for clients that cannot send headers.
    pub ticket: Option<String>,
}

/// A short-lived ticket that opens one live stream for the caller.
#[utoipa::path(
    tag = "live",
    responses(
        (status = 200, body = LiveTicket, headers(("Cache-Control" = String, description = "`no-store`"))),
        Unauthorized, Forbidden, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/live/tickets")]
pub async fn create_live_ticket(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<HttpResponse, ApiError> {
    let listener = Listener::of(&principal)?;
    let audience = if listener.is_staff() { Audience::Staff } else { Audience::Portal };
    let ticket = state.keys.issue(
        TokenUse::LiveTicket,
        audience,
        &listener.id,
        principal.firm_id().as_str(),
        &listener.session_id,
        TICKET_TTL,
    )?;
    let expires_at = Utc::now() + chrono::Duration::from_std(TICKET_TTL).unwrap_or_default();
    Ok(HttpResponse::Ok().insert_header((CACHE_CONTROL, "no-store")).json(LiveTicket { ticket, expires_at }))
}

/// The caller's live stream (`text/event-stream`). Each event has an `id` (send it back as
/// `Last-Event-ID` when reconnecting), an `event` name and JSON `data`:
/// `notification.created` (staff: `{id, kind, conversation_id, message_id}`) and
/// `message.created` (contacts: `{conversation_id, message_id}`). Comment lines keep idle
/// connections open. The stream ends when the session does.
#[utoipa::path(
    tag = "live",
    params(
        LiveQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "The last event id received, to replay what came after it"),
    ),
    responses(
        (status = 200, content_type = "text/event-stream", body = String, description = "Server-Sent Events until the client disconnects."),
        BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError
    ),
    security(("bearer" = []), ())
)]
#[get("/live")]
pub async fn open_live_stream(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: Query<LiveQuery>,
) -> Result<HttpResponse, ApiError> {
    let principal = match &query.ticket {
        Some(ticket) => resolve_ticket(&state, ticket).await?,
        None => resolve(&req).await?,
    };
    let listener = Listener::of(&principal)?;
    let last_event_id = match req.headers().get("last-event-id").map(|v| v.to_str().unwrap_or_default()) {
        Some(raw) => Some(LiveEventId::parse(raw.trim()).map_err(|_| ApiError::BadRequest {
            code: "invalid_last_event_id",
            detail: "Last-Event-ID is not an event id of this stream".to_owned(),
        })?),
        None => None,
    };
    // Subscribe before replaying, so nothing falls between the two.
    let hub = state.live.subscribe();
    let slot = state.live_streams.open(&listener.id);
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(pump(state.get_ref().clone(), listener, last_event_id.map(String::from), hub, tx, slot));
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), rx))
    });
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/event-stream"))
        .insert_header((CACHE_CONTROL, "no-store"))
        // Proxies such as nginx would otherwise buffer the stream.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

fn frame(event: &LiveEventRow) -> Bytes {
    Bytes::from(format!("id: {}\nevent: {}\ndata: {}\n\n", event.id, event.kind, event.data))
}

/// Ids already sent on one stream.
#[derive(Default)]
struct Sent {
    order: VecDeque<String>,
    ids: HashSet<String>,
    last: Option<String>,
}

impl Sent {
    fn first_time(&mut self, id: &str) -> bool {
        if !self.ids.insert(id.to_owned()) {
            return false;
        }
        self.order.push_back(id.to_owned());
        if self.order.len() > REMEMBERED
            && let Some(old) = self.order.pop_front()
        {
            self.ids.remove(&old);
        }
        if self.last.as_deref().is_none_or(|last| id > last) {
            self.last = Some(id.to_owned());
        }
        true
    }
}

/// Writes one stream until the client goes away, the session ends or a newer stream of the
/// same person takes its place. Holding `slot` keeps the stream counted.
async fn pump(
    state: AppState,
    listener: Listener,
    resume_after: Option<String>,
    mut hub: broadcast::Receiver<Arc<LiveEventRow>>,
    tx: mpsc::Sender<Bytes>,
    mut slot: StreamSlot,
) {
    let mut sent = Sent { last: resume_after, ..Sent::default() };
    if tx.send(Bytes::from_static(b"retry: 3000\n: connected\n\n")).await.is_err() {
        return;
    }
    if !replay(&state, &listener, &mut sent, &tx).await {
        return;
    }
    let mut heartbeat = tokio::time::interval(state.settings.live_heartbeat);
    heartbeat.tick().await;
    let mut probe = tokio::time::interval(PROBE);
    probe.tick().await;
    loop {
        let keep_going = tokio::select! {
            received = hub.recv() => match received {
                Ok(event) if listener.wants(&event) && sent.first_time(&event.id) => tx.send(frame(&event)).await.is_ok(),
                Ok(_) => true,
                // This stream fell behind the broadcast: read what it missed from the table.
                Err(broadcast::error::RecvError::Lagged(_)) => replay(&state, &listener, &mut sent, &tx).await,
                Err(broadcast::error::RecvError::Closed) => false,
            },
            _ = heartbeat.tick() => {
                session_alive(&state, &listener).await && tx.send(Bytes::from_static(b": keep-alive\n\n")).await.is_ok()
            }
            _ = probe.tick() => tx.send(Bytes::from_static(b":\n")).await.is_ok(),
            // actix drops the body once it found the connection closed.
            () = tx.closed() => false,
            _ = &mut slot.replaced => {
                // An `EventSource` reconnects by itself: not at once, or the replaced tab
                // would take its place back and the two would take turns.
                let _ = tx.try_send(Bytes::from_static(REPLACED));
                false
            }
        };
        if !keep_going {
            return;
        }
    }
}

/// Sends what the listener missed after the last id sent; false when the stream is gone.
async fn replay(state: &AppState, listener: &Listener, sent: &mut Sent, tx: &mpsc::Sender<Bytes>) -> bool {
    let Some(after) = sent.last.clone() else { return true };
    let who = listener.clone();
    let Ok(missed) = db::call(state, move |conn| live::missed(conn, &who, &after)).await else {
        tracing::warn!("replaying missed live events failed");
        return true;
    };
    for event in &missed {
        if sent.first_time(&event.id) && tx.send(frame(event)).await.is_err() {
            return false;
        }
    }
    true
}

async fn session_alive(state: &AppState, listener: &Listener) -> bool {
    let who = listener.clone();
    let alive = db::call(state, move |conn| live::session_alive(conn, &who)).await;
    // A database hiccup does not end the stream; a revoked or expired session does.
    !matches!(alive, Ok(false))
}
