//! Firm-wide message templates (seed 001). Owners and admins keep them; every staff member
//! uses them. Placeholders are checked when a template is saved and filled when it is used.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::messaging::{MAX_BODY_CHARS, MAX_SUBJECT_CHARS};
use vestibule_app::templates::{self, NewTemplate, RenderFor, TemplateUpdate};
use vestibule_domain::authz::Action;
use vestibule_domain::ids::{ClientId, ContactId, MatterId, TemplateId};
use vestibule_domain::template::TemplateText;
use vestibule_domain::{ValidationErrors, text};
use vestibule_storage::templates::TemplateRow;

use crate::auth::principal::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, Query};
use crate::pagination::{PageQuery, Paginated};
use crate::problem::{
    BadRequest, Conflict, Forbidden, InternalError, NotFound, PayloadTooLarge, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use crate::routes::{created, utc};
use crate::routing::Routes;
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(list_templates)
        .service(create_template)
        .service(get_template)
        .service(update_template)
        .service(delete_template)
        .service(render_template);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageTemplate {
    pub id: TemplateId,
    pub name: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<TemplateRow> for MessageTemplate {
    fn from(row: TemplateRow) -> Self {
        Self {
            id: TemplateId::from_trusted(row.id),
            name: row.name,
            subject: row.subject,
            body: row.body,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

/// `subject` and `body` may use `{{client.name}}`, `{{contact.first_name}}`,
/// `{{contact.last_name}}`, `{{contact.full_name}}`, `{{matter.title}}`,
/// `{{matter.reference}}`, `{{firm.name}}` and `{{staff.name}}` (the sender). Anything else
/// in double braces is refused with `unknown_placeholder`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTemplate {
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    pub subject: String,
    pub body: String,
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTemplate {
    #[schema(max_length = 120)]
    pub name: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
}

/// The conversation a template is rendered for, as the "import a template" step of the
/// message editor needs it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderTemplate {
    pub contact_id: ContactId,
    /// Defaults to the matter's client, or else the contact's client.
    pub client_id: Option<ClientId>,
    pub matter_id: Option<MatterId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RenderedTemplate {
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateListQuery {
    /// Case-insensitive substring of the name.
    pub q: Option<String>,
}

fn checked(errors: &mut ValidationErrors, pointer: &str, raw: &str, max: usize) -> Option<String> {
    let value = errors.check(pointer, text::required(raw, max))?;
    errors.check(pointer, TemplateText::parse(&value)).map(|_| value)
}

impl CreateTemplate {
    fn command(self) -> Result<NewTemplate, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = errors.check("/name", text::required(&self.name, 120));
        let subject = checked(&mut errors, "/subject", &self.subject, MAX_SUBJECT_CHARS);
        let body = checked(&mut errors, "/body", &self.body, MAX_BODY_CHARS);
        errors.into_result()?;
        Ok(NewTemplate {
            name: name.unwrap_or_default(),
            subject: subject.unwrap_or_default(),
            body: body.unwrap_or_default(),
        })
    }
}

impl UpdateTemplate {
    fn command(self) -> Result<TemplateUpdate, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let update = TemplateUpdate {
            name: self.name.and_then(|v| errors.check("/name", text::required(&v, 120))),
            subject: self.subject.and_then(|v| checked(&mut errors, "/subject", &v, MAX_SUBJECT_CHARS)),
            body: self.body.and_then(|v| checked(&mut errors, "/body", &v, MAX_BODY_CHARS)),
        };
        errors.into_result().map(|()| update)
    }
}

/// The firm's message templates.
#[utoipa::path(
    tag = "messages",
    params(TemplateListQuery, PageQuery),
    responses((status = 200, body = Paginated<MessageTemplate>), BadRequest, Unauthorized, Forbidden, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[get("/message-templates")]
pub async fn list_templates(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<TemplateListQuery>,
    page: Query<PageQuery>,
) -> Result<web::Json<Paginated<MessageTemplate>>, ApiError> {
    let page = page.page()?;
    let needle = query.into_inner().q.filter(|q| !q.trim().is_empty());
    let listed = caller
        .must(Action::UseTemplates)
        .call(&state, move |conn, ctx| templates::list(conn, ctx, needle.as_deref(), &page))
        .await?;
    Ok(web::Json(Paginated::of(listed, MessageTemplate::from)))
}

/// Create a message template.
#[utoipa::path(
    tag = "messages",
    request_body = CreateTemplate,
    responses(
        (status = 201, body = MessageTemplate, headers(("Location" = String))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/message-templates")]
pub async fn create_template(
    state: web::Data<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateTemplate>,
) -> Result<HttpResponse, ApiError> {
    let new = body.command()?;
    let row =
        caller.must(Action::ManageTemplates).call(&state, move |conn, ctx| templates::create(conn, ctx, new)).await?;
    Ok(created(format!("/v1/message-templates/{}", row.id), &MessageTemplate::from(row)))
}

/// One message template.
#[utoipa::path(
    tag = "messages",
    params(("template_id" = TemplateId, Path)),
    responses((status = 200, body = MessageTemplate), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[get("/message-templates/{template_id}")]
pub async fn get_template(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<TemplateId>,
) -> Result<web::Json<MessageTemplate>, ApiError> {
    let id = path.into_inner();
    Ok(web::Json(caller.call(&state, move |conn, ctx| templates::get(conn, ctx, &id)).await?.into()))
}

/// Change a message template.
#[utoipa::path(
    tag = "messages",
    params(("template_id" = TemplateId, Path)),
    request_body = UpdateTemplate,
    responses(
        (status = 200, body = MessageTemplate),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[patch("/message-templates/{template_id}")]
pub async fn update_template(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<TemplateId>,
    ApiJson(body): ApiJson<UpdateTemplate>,
) -> Result<web::Json<MessageTemplate>, ApiError> {
    let update = body.command()?;
    let id = path.into_inner();
    Ok(web::Json(
        caller
            .must(Action::ManageTemplates)
            .call(&state, move |conn, ctx| templates::update(conn, ctx, &id, update))
            .await?
            .into(),
    ))
}

/// Delete a message template.
#[utoipa::path(
    tag = "messages",
    params(("template_id" = TemplateId, Path)),
    responses((status = 204, description = "Deleted."), Unauthorized, Forbidden, NotFound, InternalError),
    security(("bearer" = []))
)]
#[delete("/message-templates/{template_id}")]
pub async fn delete_template(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<TemplateId>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    caller.call(&state, move |conn, ctx| templates::delete(conn, ctx, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Fills the template for a contact (and client or matter) with the caller as sender, for
/// the editor to show before sending. A placeholder the conversation has no value for
/// (`{{matter.title}}` without a matter) is a 422 `placeholder_unavailable`.
#[utoipa::path(
    tag = "messages",
    params(("template_id" = TemplateId, Path)),
    request_body = RenderTemplate,
    responses(
        (status = 200, body = RenderedTemplate),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError
    ),
    security(("bearer" = []))
)]
#[post("/message-templates/{template_id}/render")]
pub async fn render_template(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<TemplateId>,
    ApiJson(body): ApiJson<RenderTemplate>,
) -> Result<web::Json<RenderedTemplate>, ApiError> {
    let id = path.into_inner();
    let about = RenderFor { contact_id: body.contact_id, client_id: body.client_id, matter_id: body.matter_id };
    let (subject, body) = caller.call(&state, move |conn, ctx| templates::render(conn, ctx, &id, about)).await?;
    Ok(web::Json(RenderedTemplate { subject, body }))
}
