//! Folders of a client's or matter's documents (seed 002's work folders, seed 003's target
//! folder). They nest; names are unique among siblings, ignoring case; a folder is deleted
//! only when empty.

use crate::routing::Routes;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::places::{Place, folder_in, visible_folder};
use vestibule_domain::authz::{Action, authorize, matter_visibility};
use vestibule_domain::ids::{ClientId, FolderId, MatterId};
use vestibule_domain::text;
use vestibule_storage::folders::{self, FolderFilter, FolderRow};
use vestibule_storage::{DbConnection, StorageError, write_tx};

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

fn check_name(row: &FolderRow, conn: &mut DbConnection) -> Result<(), ApiError> {
    if folders::name_taken(conn, row)? {
        return Err(ApiError::conflict("folder_name_taken", "a folder of this name is already there"));
    }
    Ok(())
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
    Authenticated(principal): Authenticated,
    query: Query<FolderListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<Folder>>, ApiError> {
    authorize(&principal, Action::ReadDocuments)?;
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
    db::run(&state, move |conn| {
        let visibility = matter_visibility(&principal);
        let firm_id = principal.firm_id().as_str();
        let rows = folders::list(conn, firm_id, &visibility, &filter, page.after.as_deref(), page.limit)?;
        Ok(web::Json(Paginated::from_rows(&page, rows, |r| r.id.clone(), Folder::from)))
    })
    .await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<CreateFolder>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteDocuments)?;
    let name = text::required(&body.name, 120).map_err(|e| ApiError::from(e.at("/name")))?;
    let row = db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let place = Place::resolve(
                conn,
                &principal,
                body.client_id.as_ref(),
                body.matter_id.as_ref(),
                ("parent_id", body.parent_id.as_ref()),
                "",
            )?;
            let now = vestibule_storage::now();
            let row = FolderRow {
                id: FolderId::generate().into(),
                firm_id: principal.firm_id().to_string(),
                client_id: place.client_id,
                matter_id: place.matter_id,
                parent_id: place.folder_id,
                name,
                created_at: now,
                updated_at: now,
            };
            check_name(&row, conn)?;
            folders::insert(conn, &row)?;
            audit::record(conn, &origin, &principal, Entry::success("folder.created", "folder", &row.id))?;
            Ok(row)
        })
    })
    .await?;
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
    Authenticated(principal): Authenticated,
    path: web::Path<FolderId>,
) -> Result<web::Json<Folder>, ApiError> {
    authorize(&principal, Action::ReadDocuments)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        let visibility = matter_visibility(&principal);
        Ok(web::Json(folders::get(conn, principal.firm_id().as_str(), id.as_str(), &visibility)?.into()))
    })
    .await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<FolderId>,
    ApiJson(body): ApiJson<UpdateFolder>,
) -> Result<web::Json<Folder>, ApiError> {
    authorize(&principal, Action::WriteDocuments)?;
    let name =
        body.name.as_deref().map(|n| text::required(n, 120)).transpose().map_err(|e| ApiError::from(e.at("/name")))?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let visibility = matter_visibility(&principal);
            let mut row = visible_folder(conn, &principal, &visibility, id.as_str())?;
            if let Some(parent) = body.parent_id {
                if let Some(parent) = &parent {
                    let place = (row.client_id.as_str(), row.matter_id.as_deref());
                    let target = folder_in(conn, &principal, parent, place, "/parent_id")?;
                    if folders::is_within(conn, &row.id, &target.id)? {
                        return Err(ApiError::field("/parent_id", "cycle", "a folder cannot move into itself"));
                    }
                }
                row.parent_id = parent.map(String::from);
            }
            if let Some(name) = name {
                row.name = name;
            }
            row.updated_at = vestibule_storage::now();
            check_name(&row, conn)?;
            folders::update(conn, &row)?;
            audit::record(conn, &origin, &principal, Entry::success("folder.updated", "folder", &row.id))?;
            Ok(web::Json(row.into()))
        })
    })
    .await
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
    origin: Origin,
    Authenticated(principal): Authenticated,
    path: web::Path<FolderId>,
) -> Result<HttpResponse, ApiError> {
    authorize(&principal, Action::WriteDocuments)?;
    let id = path.into_inner();
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let visibility = matter_visibility(&principal);
            let row = visible_folder(conn, &principal, &visibility, id.as_str())?;
            folders::delete_empty(conn, &row.id).map_err(|error| match error {
                StorageError::Conflict(_) => {
                    ApiError::conflict("folder_not_empty", "move or delete its folders and documents first")
                }
                other => other.into(),
            })?;
            audit::record(conn, &origin, &principal, Entry::success("folder.deleted", "folder", &row.id))?;
            Ok(())
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
