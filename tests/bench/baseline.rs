//! The bare baseline: actix-web and diesel with nothing else, no authentication, no
//! application layer, no middleware. It runs the storage queries Vestibule runs for the same
//! answer, on the same database through the same pool, so a ratio shows what Vestibule's own
//! layers cost above its SQL.

// Bare actix on purpose: the app's NUL-refusing query extractor is one of the layers a ratio
// measures.
#![allow(clippy::disallowed_types)]

use std::sync::Arc;

use actix_web::body::SizedStream;
use actix_web::web::Query;
use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use vestibule_blobs::BlobStore;
use vestibule_domain::authz::MatterVisibility;
use vestibule_storage::clients::{self, ClientFilter, ClientRecord};
use vestibule_storage::conversations::{self, ConversationFilter, MessageRow, Viewer};
use vestibule_storage::{DbConnection, DbPool, StorageError, documents, shares};

/// Whose data the baseline serves, fixed at start since it authenticates no one.
pub struct Scope {
    pub firm_id: String,
    pub reader_id: String,
}

struct State {
    pool: DbPool,
    blobs: BlobStore,
    scope: Scope,
}

/// Starts the baseline on a port of its own, with `workers` threads like the app; returns its
/// base URL.
pub fn start(pool: DbPool, blobs: BlobStore, scope: Scope, workers: usize) -> String {
    let state = web::Data::new(State { pool, blobs, scope });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/clients", web::get().to(client_list))
            .route("/clients/{id}", web::get().to(client_get))
            .route("/conversations", web::get().to(conversation_list))
            .route("/conversations/{id}/messages", web::get().to(message_page))
            .route("/conversations/{id}/messages", web::post().to(message_post))
            .route("/documents/{id}/content", web::get().to(document_content))
    })
    .workers(workers)
    .bind(("127.0.0.1", 0))
    .expect("baseline port");
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    format!("http://127.0.0.1:{port}")
}

/// One blocking hop and one pooled connection, as a plain diesel handler has.
async fn blocking<T: Send + 'static>(
    state: &web::Data<State>,
    work: impl FnOnce(&mut DbConnection, &Scope) -> Result<T, StorageError> + Send + 'static,
) -> Result<T, actix_web::Error> {
    let state = Arc::clone(state);
    web::block(move || {
        let mut conn = state.pool.get().map_err(|e| e.to_string())?;
        work(&mut conn, &state.scope).map_err(|e| e.to_string())
    })
    .await?
    .map_err(actix_web::error::ErrorInternalServerError)
}

#[derive(serde::Deserialize)]
struct Limit {
    limit: i64,
}

fn client_json(record: &ClientRecord) -> Value {
    let row = &record.row;
    json!({
        "id": row.id, "kind": row.kind, "name": row.name, "external_id": row.external_id,
        "owner_staff_id": row.owner_staff_id, "emails": record.emails, "assignee_staff_ids": record.assignees,
        "version": row.version, "created_at": row.created_at, "updated_at": row.updated_at,
    })
}

fn message_json(row: &MessageRow, author_name: Option<&String>) -> Value {
    json!({
        "id": row.id, "conversation_id": row.conversation_id, "author_kind": row.author_kind,
        "author_id": row.author_id, "author_name": author_name, "body": row.body, "created_at": row.created_at,
    })
}

async fn client_list(state: web::Data<State>, query: Query<Limit>) -> actix_web::Result<HttpResponse> {
    let limit = query.limit;
    let rows =
        blocking(&state, move |conn, scope| clients::list(conn, &scope.firm_id, &ClientFilter::default(), None, limit))
            .await?;
    let data: Vec<Value> = rows.iter().take(limit as usize).map(client_json).collect();
    Ok(HttpResponse::Ok().json(json!({ "data": data, "next_cursor": rows.last().map(|r| &r.row.id) })))
}

async fn client_get(state: web::Data<State>, id: web::Path<String>) -> actix_web::Result<HttpResponse> {
    let id = id.into_inner();
    let record = blocking(&state, move |conn, scope| clients::get(conn, &scope.firm_id, &id)).await?;
    Ok(HttpResponse::Ok().json(client_json(&record)))
}

async fn conversation_list(state: web::Data<State>, query: Query<Limit>) -> actix_web::Result<HttpResponse> {
    let limit = query.limit;
    let data = blocking(&state, move |conn, scope| {
        let viewer = Viewer::Firm { reader_id: &scope.reader_id, visibility: &MatterVisibility::All };
        let rows = conversations::list(conn, &scope.firm_id, viewer, &ConversationFilter::default(), None, limit)?;
        let views = conversations::with_details(conn, viewer, rows.into_iter().take(limit as usize).collect())?;
        let last: Vec<&MessageRow> = views.iter().filter_map(|v| v.last_message.as_ref()).collect();
        let names = conversations::author_names(conn, &scope.firm_id, &last)?;
        let ids: Vec<&str> = last.iter().map(|m| m.id.as_str()).collect();
        shares::attachments(conn, &ids)?;
        Ok(views
            .iter()
            .map(|v| {
                json!({
                    "id": v.row.id, "client_id": v.row.client_id, "contact_id": v.row.contact_id,
                    "subject": v.row.subject, "unread_count": v.unread_count,
                    "last_read_message_id": v.last_read_message_id,
                    "last_message": v.last_message.as_ref().map(|m| message_json(m, names.get(&m.author_id))),
                })
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "data": data })))
}

async fn message_page(
    state: web::Data<State>,
    id: web::Path<String>,
    query: Query<Limit>,
) -> actix_web::Result<HttpResponse> {
    let (id, limit) = (id.into_inner(), query.limit);
    let data = blocking(&state, move |conn, scope| {
        let viewer = Viewer::Firm { reader_id: &scope.reader_id, visibility: &MatterVisibility::All };
        let conversation = conversations::get(conn, &scope.firm_id, &id, viewer)?;
        let rows = conversations::messages(conn, &conversation.id, None, limit)?;
        let refs: Vec<&MessageRow> = rows.iter().take(limit as usize).collect();
        let names = conversations::author_names(conn, &scope.firm_id, &refs)?;
        let ids: Vec<&str> = refs.iter().map(|m| m.id.as_str()).collect();
        shares::attachments(conn, &ids)?;
        Ok(refs.iter().map(|m| message_json(m, names.get(&m.author_id))).collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "data": data })))
}

#[derive(serde::Deserialize)]
struct NewMessage {
    body: String,
}

async fn message_post(
    state: web::Data<State>,
    id: web::Path<String>,
    body: web::Json<NewMessage>,
) -> actix_web::Result<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner().body);
    let message = blocking(&state, move |conn, scope| {
        vestibule_storage::write_tx(conn, |conn| {
            let viewer = Viewer::Firm { reader_id: &scope.reader_id, visibility: &MatterVisibility::All };
            let conversation = conversations::get(conn, &scope.firm_id, &id, viewer)?;
            let message = MessageRow {
                id: vestibule_domain::ids::MessageId::generate().into(),
                firm_id: scope.firm_id.clone(),
                conversation_id: conversation.id,
                author_kind: conversations::STAFF.to_owned(),
                author_id: scope.reader_id.clone(),
                body,
                created_at: vestibule_storage::now(),
            };
            conversations::insert_message(conn, &message)?;
            Ok(message)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(message_json(&message, None)))
}

async fn document_content(state: web::Data<State>, id: web::Path<String>) -> actix_web::Result<HttpResponse> {
    let id = id.into_inner();
    let document =
        blocking(&state, move |conn, scope| documents::get(conn, &scope.firm_id, &id, &MatterVisibility::All)).await?;
    let stream = state
        .blobs
        .read(&document.blob_key, None)
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))?;
    // Sized, as Vestibule sends it: a chunked answer waits on delayed ACKs between requests.
    let size = u64::try_from(document.size).unwrap_or(0);
    Ok(HttpResponse::Ok().content_type(document.content_type).body(SizedStream::new(size, stream)))
}
