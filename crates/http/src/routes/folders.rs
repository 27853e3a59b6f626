//! Folders of a client's or matter's documents (seed 002's work folders, seed 003's target
//! folder). They nest; names are unique among siblings, ignoring case; a folder is deleted
//! only when empty.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::folders::{self, FolderChanges, NewFolder};
use vestibule_domain::authz::Action;
use vestibule_domain::ids::{ClientId, FolderId, MatterId};
use vestibule_domain::text;
use vestibule_storage::folders::{FolderFilter, FolderRow};

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
    cfg.service(list_folders).service(create_folder).service(get_folder).service(update_folder).service(delete_folder);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Folder {
    pub id: FolderId,
    pub client_id: ClientId,
    pub matter_id: Option<MatterId>,
    pub parent_id: Option<FolderId>,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<FolderRow> for Folder {
    fn from(row: FolderRow) -> Self {
        Self {
            id: FolderId::from_trusted(row.id),
            client_id: ClientId::from_trusted(row.client_id),
            matter_id: row.matter_id.map(MatterId::from_trusted),
            parent_id: row.parent_id.map(FolderId::from_trusted),
            name: row.name,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

/// A new folder: in a parent folder (and so its client or matter), or at the top of a
/// client's or matter's documents.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFolder {
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    pub parent_id: Option<FolderId>,
    /// Defaults to the matter's or the parent's client.
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
}

/// Rename or move (`parent_id: null` moves to the top). Absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFolder {
    #[schema(max_length = 120)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<FolderId>)]
    pub parent_id: Option<Option<FolderId>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FolderListQuery {
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
    /// Children of this folder.
    pub parent_id: Option<FolderId>,
    /// `true`: top-level folders only.
    pub top_level: Option<bool>,
}

/// Folders of a client or matter.
#[utoipa::path(
    tag = "documents",
    params(FolderListQuery, PageQuery),
    responses((status = 200, body = Paginated<Folder>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/folders")]
pub async fn list_folders(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<FolderListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Folder>>, ApiError> {
    let page = page.page()?;
    let query = query.into_inner();
    let parent_id = match (query.parent_id, query.top_level) {
        (Some(parent), _) => Some(Some(parent.to_string())),
        (None, Some(true)) => Some(None),
        (None, _) => None,
    };
    let filter = FolderFilter {
        client_id: query.client_id.map(String::from),
        matter_id: query.matter_id.map(String::from),
        parent_id,
    };
    let listed = caller
        .must(Action::ReadDocuments)
        .call(&state, move |conn, ctx| folders::list(conn, ctx, &filter, &page))
        .await?;
    Ok(web::Json(Paginated::of(listed, Folder::from)))
}

/// Create a folder.
#[utoipa::path(
    tag = "documents",
    request_body = CreateFolder,
    responses(
        (status = 201, body = Folder, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/folders")]
pub async fn create_folder(
    state: web::Data<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateFolder>,
) -> Result<HttpResponse, ApiError> {
    let name = text::required(&body.name, 120).map_err(|e| ApiError::from(e.at("/name")))?;
    let new = NewFolder { name, parent: body.parent_id, client: body.client_id, matter: body.matter_id };
    let row =
        caller.must(Action::WriteDocuments).call(&state, move |conn, ctx| folders::create(conn, ctx, new)).await?;
    Ok(created(format!("/v1/folders/{}", row.id), &Folder::from(row)))
}

/// One folder.
#[utoipa::path(
    tag = "documents",
    params(("folder_id" = FolderId, Path)),
    responses((status = 200, body = Folder), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/folders/{folder_id}")]
pub async fn get_folder(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<FolderId>,
) -> Result<web::Json<Folder>, ApiError> {
    let id = path.into_inner();
    Ok(web::Json(caller.call(&state, move |conn, ctx| folders::get(conn, ctx, &id)).await?.into()))
}

/// Renames or moves a folder within its client or matter (not into itself or below).
#[utoipa::path(
    tag = "documents",
    params(("folder_id" = FolderId, Path)),
    request_body = UpdateFolder,
    responses(
        (status = 200, body = Folder),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[patch("/folders/{folder_id}")]
pub async fn update_folder(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<FolderId>,
    ApiJson(body): ApiJson<UpdateFolder>,
) -> Result<web::Json<Folder>, ApiError> {
    let name =
        body.name.as_deref().map(|n| text::required(n, 120)).transpose().map_err(|e| ApiError::from(e.at("/name")))?;
    let changes = FolderChanges { name, parent: body.parent_id };
    let id = path.into_inner();
    Ok(web::Json(
        caller
            .must(Action::WriteDocuments)
            .call(&state, move |conn, ctx| folders::update(conn, ctx, &id, changes))
            .await?
            .into(),
    ))
}

/// Deletes an empty folder: 409 `folder_not_empty` while it holds folders or documents.
#[utoipa::path(
    tag = "documents",
    params(("folder_id" = FolderId, Path)),
    responses((status = 204, description = "Deleted."), Unauthorized, Forbidden, NotFound, Conflict, InternalError),
    security(("bearer" = []))
)]
#[delete("/folders/{folder_id}")]
pub async fn delete_folder(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<FolderId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    caller.must(Action::WriteDocuments).call(&state, move |conn, ctx| folders::delete(conn, ctx, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
