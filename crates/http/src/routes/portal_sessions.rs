//! A portal contact's signed-in sessions: list and end their own.

use actix_web::{HttpResponse, delete, get, web};
use vestibule_app::auth::sessions;
use vestibule_domain::ids::SessionId;

use crate::auth::principal::{Caller, ContactUser};
use crate::error::ApiError;
use crate::problem::{Forbidden, InternalError, NotFound, Unauthorized};
use crate::routing::Routes;
use crate::state::AppState;
use crate::views::session::SessionList;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_my_portal_sessions).service(end_my_portal_session);
}

/// The signed-in contact's live sessions, newest first; `current` marks this request's.
#[utoipa::path(
    tag = "portal",
    responses((status = 200, body = SessionList), Unauthorized, Forbidden, InternalError),
    security(("bearer" = []))
)]
#[get("/portal/me/sessions")]
pub async fn list_my_portal_sessions(
    state: web::Data<AppState>,
    _: ContactUser,
    caller: Caller,
) -> Result<web::Json<SessionList>, ApiError> {
    let (rows, current) = caller.call(&state, sessions::list).await?;
    Ok(web::Json(SessionList::of(rows, &current)))
}

/// Ends one of the contact's sessions: its refresh token stops working, its access tokens
/// are refused from the next request on.
#[utoipa::path(
    tag = "portal",
    params(("session_id" = SessionId, Path)),
    responses((status = 204, description = "Ended."), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[delete("/portal/me/sessions/{session_id}")]
pub async fn end_my_portal_session(
    state: web::Data<AppState>,
    _: ContactUser,
    caller: Caller,
    path: web::Path<SessionId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    caller.call(&state, move |conn, ctx| sessions::end(conn, ctx, id.as_str())).await?;
    Ok(HttpResponse::NoContent().finish())
}
