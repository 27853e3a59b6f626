//! A staff member's signed-in sessions: list and end their own; owners and admins end all of
//! a member's.

use actix_web::{HttpResponse, delete, get, web};
use vestibule_app::auth::sessions;
use vestibule_domain::ids::{SessionId, StaffId};

use crate::auth::principal::{Caller, StaffUser};
use crate::error::ApiError;
use crate::problem::{Forbidden, InternalError, NotFound, Unauthorized};
use crate::routing::Routes;
use crate::state::AppState;
use crate::views::session::SessionList;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_my_sessions).service(end_my_session).service(end_staff_sessions);
}

/// The signed-in member's live sessions, newest first; `current` marks this request's.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, body = SessionList), Unauthorized, Forbidden, InternalError),
    security(("bearer" = []))
)]
#[get("/me/sessions")]
pub async fn list_my_sessions(
    state: web::Data<AppState>,
    _: StaffUser,
    caller: Caller,
) -> Result<web::Json<SessionList>, ApiError> {
    let (rows, current) = caller.call(&state, sessions::list).await?;
    Ok(web::Json(SessionList::of(rows, &current)))
}

/// Ends one of the member's sessions: its refresh token stops working, its access tokens
/// are refused from the next request on.
#[utoipa::path(
    tag = "auth",
    params(("session_id" = SessionId, Path)),
    responses((status = 204, description = "Ended."), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[delete("/me/sessions/{session_id}")]
pub async fn end_my_session(
    state: web::Data<AppState>,
    _: StaffUser,
    caller: Caller,
    path: web::Path<SessionId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    caller.call(&state, move |conn, ctx| sessions::end(conn, ctx, id.as_str())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ends every session of a member (owners and admins; an owner's by an owner); audited.
#[utoipa::path(
    tag = "staff",
    params(("staff_id" = StaffId, Path)),
    responses((status = 204, description = "Ended."), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[delete("/staff/{staff_id}/sessions")]
pub async fn end_staff_sessions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<StaffId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    caller.call(&state, move |conn, ctx| sessions::end_all_of_staff(conn, ctx, id.as_str())).await?;
    Ok(HttpResponse::NoContent().finish())
}
