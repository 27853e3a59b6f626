//! Where documents sit: a client, maybe a matter, maybe a folder, and which of them the
//! caller may see. Shared by every use case that puts or picks documents.

use vestibule_domain::authz::{MatterVisibility, matter_visibility};
use vestibule_domain::ids::{ClientId, DocumentId, FolderId, MatterId};
use vestibule_domain::principal::Principal;
use vestibule_domain::roles::MatterRole;
use vestibule_domain::{FieldError, ValidationErrors};
use vestibule_storage::documents::{self, DocumentRow};
use vestibule_storage::folders::{self, FolderRow};
use vestibule_storage::{DbConnection, clients, matters};

use crate::error::{AppError, AppResult, OrUnknown};

/// Where a document or folder lives: a client, optionally one of its matters, optionally a
/// folder of that client or matter. Refused fields are named at their pointers, which are
/// `prefix` (empty for a JSON body, `#/query` for query parameters) and the field's name.
#[derive(Debug, Clone)]
pub struct Place {
    pub client_id: String,
    pub matter_id: Option<String>,
    pub folder_id: Option<String>,
}

impl Place {
    pub fn resolve(
        conn: &mut DbConnection,
        principal: &Principal,
        client_id: Option<&ClientId>,
        matter_id: Option<&MatterId>,
        folder: (&str, Option<&FolderId>),
        prefix: &str,
    ) -> AppResult<Self> {
        let (folder_field, folder_id) = folder;
        let folder_pointer = format!("{prefix}/{folder_field}");
        let (client_pointer, matter_pointer) = (format!("{prefix}/client_id"), format!("{prefix}/matter_id"));
        let firm_id = principal.firm_id().as_str();
        let visibility = matter_visibility(principal);
        let folder = match folder_id {
            Some(id) => Some(
                folders::get(conn, firm_id, id.as_str(), &visibility)
                    .or_unknown(&folder_pointer, "no such folder visible to you")?,
            ),
            None => None,
        };
        let matter = match matter_id {
            Some(id) => Some(
                matters::get(conn, firm_id, id.as_str(), &visibility)
                    .or_unknown(&matter_pointer, "no such matter visible to you")?,
            ),
            None => None,
        };
        let client_id = match (client_id, &matter, &folder) {
            (_, Some(matter), _) => {
                if client_id.is_some_and(|c| c.as_str() != matter.client_id) {
                    return Err(AppError::field(
                        &matter_pointer,
                        "wrong_client",
                        "the matter belongs to another client",
                    ));
                }
                matter.client_id.clone()
            }
            (Some(client), None, _) => client.to_string(),
            (None, None, Some(folder)) => folder.client_id.clone(),
            (None, None, None) => {
                return Err(AppError::field(&client_pointer, "required", "name a client, matter or folder"));
            }
        };
        if !clients::exists(conn, firm_id, &client_id)? {
            return Err(AppError::field(&client_pointer, "unknown_reference", "no such client in this firm"));
        }
        let matter_id = matter.map(|m| m.id).or_else(|| folder.as_ref().and_then(|f| f.matter_id.clone()));
        if let Some(folder) = &folder
            && (folder.client_id != client_id || folder.matter_id != matter_id)
        {
            return Err(AppError::field(
                &folder_pointer,
                "wrong_place",
                "the folder belongs to another client or matter",
            ));
        }
        Ok(Self { client_id, matter_id, folder_id: folder.map(|f| f.id) })
    }
}

/// The staff caller's role on the matter, if any: what sharing and document requests ask of
/// members (neither owners nor admins) on a matter.
pub fn role_on_matter(
    conn: &mut DbConnection,
    principal: &Principal,
    matter_id: Option<&str>,
) -> AppResult<Option<MatterRole>> {
    Ok(match (matter_id, principal) {
        (Some(matter), Principal::Staff(me)) => {
            matters::role_of(conn, me.firm_id.as_str(), matter, me.staff_id.as_str())?
                .as_deref()
                .and_then(MatterRole::from_stored)
        }
        _ => None,
    })
}

pub fn visible_folder(
    conn: &mut DbConnection,
    principal: &Principal,
    visibility: &MatterVisibility,
    id: &str,
) -> AppResult<FolderRow> {
    Ok(folders::get(conn, principal.firm_id().as_str(), id, visibility)?)
}

/// A folder the caller may see that belongs to this client and matter: where documents and
/// folders of that place may go. Anything else is refused at `pointer`.
pub fn folder_in(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &FolderId,
    (client_id, matter_id): (&str, Option<&str>),
    pointer: &str,
) -> AppResult<FolderRow> {
    let folder = visible_folder(conn, principal, &matter_visibility(principal), id.as_str())
        .or_unknown(pointer, "no such folder visible to you")?;
    if folder.client_id != client_id || folder.matter_id.as_deref() != matter_id {
        return Err(AppError::field(pointer, "wrong_place", "the folder belongs to another client or matter"));
    }
    Ok(folder)
}

/// Where a selection of documents sits in a request body: the list's pointer, and what
/// follows an item's index (`""` for a list of ids, `"/document_id"` for a list of objects).
#[derive(Clone, Copy)]
pub struct Selection<'a> {
    pub list: &'a str,
    pub item: &'a str,
}

impl Selection<'_> {
    pub const IDS: Selection<'static> = Selection { list: "/document_ids", item: "" };
}

/// The documents named by a selection, in its order; every id the caller cannot see is
/// named at its place in the selection, and then nothing is returned.
pub fn visible_documents(
    conn: &mut DbConnection,
    principal: &Principal,
    ids: &[DocumentId],
    at: Selection<'_>,
) -> AppResult<Vec<DocumentRow>> {
    let wanted: Vec<&str> = ids.iter().map(DocumentId::as_str).collect();
    let mut found = documents::get_many(conn, principal.firm_id().as_str(), &wanted, &matter_visibility(principal))?;
    let mut errors = ValidationErrors::default();
    let mut rows = Vec::with_capacity(ids.len());
    for (index, id) in wanted.iter().enumerate() {
        match found.iter().position(|row| row.id == *id) {
            Some(at) => rows.push(found.swap_remove(at)),
            None if rows.iter().any(|row: &DocumentRow| row.id == *id) => {}
            None => errors.push(FieldError::new(
                format!("{}/{index}{}", at.list, at.item),
                "unknown_reference",
                "no such document visible to you",
            )),
        }
    }
    errors.into_result()?;
    Ok(rows)
}
