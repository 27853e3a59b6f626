//! In-app notifications of the signed-in person: a staff member hears what the client side
//! did (seed 001's conversations, uploads, request items, signatures, payments), a contact in
//! the portal what the firm did (messages, shares, requests, signature requests).

use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::notifications::{self, NotificationRecord};
use vestibule_domain::ids::{ClientId, ConversationId, MessageId, NotificationId};
use vestibule_domain::notification::{NotificationKind, SubjectType};

use crate::auth::principal::Caller;
use crate::db;
use crate::error::ApiError;
use crate::json::Query;
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{BadRequest, Forbidden, InternalError, NotFound, Unauthorized, Unprocessable};
use crate::routes::utc;
use crate::routing::Routes;
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_notifications)
        .service(count_unread_notifications)
        .service(mark_all_notifications_read)
        .service(mark_notification_read);
}

/// One notification. `subject_type` and `subject_id` say what to open; notifications about a
/// conversation also carry `conversation_id` and, for a message, `message_id`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Notification {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub client_id: ClientId,
    pub client_name: String,
    pub subject_type: SubjectType,
    pub subject_id: String,
    pub conversation_id: Option<ConversationId>,
    pub message_id: Option<MessageId>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

impl From<NotificationRecord> for Notification {
    fn from(record: NotificationRecord) -> Self {
        let NotificationRecord { row, client_name } = record;
        let subject_type = SubjectType::parse(&row.subject_type).unwrap_or(SubjectType::Conversation);
        Self {
            id: NotificationId::from_trusted(row.id),
            kind: NotificationKind::parse(&row.kind).unwrap_or(NotificationKind::MessageReceived),
            client_name,
            client_id: ClientId::from_trusted(row.client_id),
            conversation_id: (subject_type == SubjectType::Conversation)
                .then(|| ConversationId::from_trusted(row.subject_id.clone())),
            message_id: row.message_id.map(MessageId::from_trusted),
            subject_type,
            subject_id: row.subject_id,
            created_at: utc(row.created_at),
            read_at: row.read_at.map(utc),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationListQuery {
    /// `true`: unread ones only.
    pub unread: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCount {
    pub unread: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedRead {
    /// How many notifications were unread and are read now.
    pub marked: usize,
}

/// Newest first.
#[utoipa::path(
    tag = "notifications",
    params(NotificationListQuery, PageQuery),
    responses((status = 200, body = Paginated<Notification>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/notifications")]
pub async fn list_notifications(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<NotificationListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Notification>>, ApiError> {
    let ctx = caller.context(&state).await?;
    notifications::recipient(&ctx.principal)?;
    let page = page.page()?;
    let unread_only = query.unread.unwrap_or(false);
    let listed = db::call(&state, move |conn| notifications::list(conn, &ctx, unread_only, &page)).await?;
    Ok(web::Json(Paginated::of(listed, Notification::from)))
}

/// The badge number.
#[utoipa::path(
    tag = "notifications",
    responses((status = 200, body = UnreadCount), Unauthorized, Forbidden, InternalError),
    security(("bearer" = []))
)]
#[get("/notifications/unread-count")]
pub async fn count_unread_notifications(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<UnreadCount>, ApiError> {
    let unread = caller.call(&state, notifications::unread_count).await?;
    Ok(web::Json(UnreadCount { unread }))
}

/// Mark one notification read.
#[utoipa::path(
    tag = "notifications",
    params(("notification_id" = NotificationId, Path)),
    responses((status = 200, body = Notification), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[post("/notifications/{notification_id}/read")]
pub async fn mark_notification_read(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<NotificationId>,
) -> Result<web::Json<Notification>, ApiError> {
    let id = path.into_inner();
    let record = caller.call(&state, move |conn, ctx| notifications::mark_read(conn, ctx, &id)).await?;
    Ok(web::Json(record.into()))
}

/// Mark all of the caller's notifications read.
#[utoipa::path(
    tag = "notifications",
    responses((status = 200, body = MarkedRead), Unauthorized, Forbidden, InternalError),
    security(("bearer" = []))
)]
#[post("/notifications/read-all")]
pub async fn mark_all_notifications_read(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<MarkedRead>, ApiError> {
    let marked = caller.call(&state, notifications::mark_all_read).await?;
    Ok(web::Json(MarkedRead { marked }))
}
