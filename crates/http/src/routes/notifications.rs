//! In-app notifications of the signed-in staff member (seed 001): a client started a
//! conversation, or answered one.

use std::collections::HashMap;

use crate::routing::Routes;
use actix_web::{get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::ids::{ClientId, ConversationId, MessageId, NotificationId};
use vestibule_storage::notifications::{self, NotificationRow};
use vestibule_storage::{clients, write_tx};

use crate::auth::principal::StaffUser;
use crate::db;
use crate::error::ApiError;
use crate::json::Query;
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{BadRequest, Forbidden, InternalError, NotFound, Unauthorized, Unprocessable};
use crate::routes::utc;
use crate::state::AppState;
use vestibule_app::messaging;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_notifications)
        .service(count_unread_notifications)
        .service(mark_all_notifications_read)
        .service(mark_notification_read);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A client started a conversation from the portal.
    ConversationStarted,
    /// A client answered in a conversation.
    MessageReceived,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Notification {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub client_id: ClientId,
    pub client_name: String,
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

fn notification(row: NotificationRow, names: &HashMap<String, String>) -> Notification {
    Notification {
        id: NotificationId::from_trusted(row.id),
        kind: if row.kind == messaging::STARTED {
            NotificationKind::ConversationStarted
        } else {
            NotificationKind::MessageReceived
        },
        client_name: names.get(&row.client_id).cloned().unwrap_or_default(),
        client_id: ClientId::from_trusted(row.client_id),
        conversation_id: ConversationId::from_trusted(row.conversation_id),
        message_id: MessageId::from_trusted(row.message_id),
        created_at: utc(row.created_at),
        read_at: row.read_at.map(utc),
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
    StaffUser(me): StaffUser,
    query: Query<NotificationListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Notification>>, ApiError> {
    let page = page.page()?;
    let unread_only = query.unread.unwrap_or(false);
    db::run(&state, move |conn| {
        let firm_id = me.firm_id.as_str();
        let rows =
            notifications::list(conn, firm_id, me.staff_id.as_str(), unread_only, page.after.as_deref(), page.limit)?;
        let client_ids: Vec<&str> = rows.iter().map(|r| r.client_id.as_str()).collect();
        let names = clients::names(conn, firm_id, &client_ids)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |r| r.id.clone(), |r| notification(r, &names))))
    })
    .await
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
    StaffUser(me): StaffUser,
) -> Result<web::Json<UnreadCount>, ApiError> {
    db::run(&state, move |conn| {
        Ok(web::Json(UnreadCount {
            unread: notifications::unread_count(conn, me.firm_id.as_str(), me.staff_id.as_str())?,
        }))
    })
    .await
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
    StaffUser(me): StaffUser,
    path: web::Path<NotificationId>,
) -> Result<web::Json<Notification>, ApiError> {
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = me.firm_id.as_str();
            let row = notifications::mark_read(conn, firm_id, me.staff_id.as_str(), id.as_str())?;
            let names = clients::names(conn, firm_id, &[row.client_id.as_str()])?;
            Ok(web::Json(notification(row, &names)))
        })
    })
    .await
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
    StaffUser(me): StaffUser,
) -> Result<web::Json<MarkedRead>, ApiError> {
    db::run(&state, move |conn| {
        let marked = notifications::mark_all_read(conn, me.firm_id.as_str(), me.staff_id.as_str())?;
        Ok(web::Json(MarkedRead { marked }))
    })
    .await
}
