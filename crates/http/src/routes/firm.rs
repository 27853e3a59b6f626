//! The caller's firm and its settings.

use crate::routing::Routes;
use actix_web::{get, patch, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vestibule_domain::ValidationErrors;
use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::ids::FirmId;
use vestibule_domain::roles::ThreadNotificationPolicy;
use vestibule_domain::text;
use vestibule_storage::firms::{self, FirmChanges, FirmRow};
use vestibule_storage::write_tx;

use crate::audit::{self, Entry, Origin};
use crate::auth::principal::Authenticated;
use crate::db;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::problem::{
    BadRequest, Forbidden, InternalError, PayloadTooLarge, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::routes::utc;
use crate::state::AppState;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(get_firm).service(update_firm);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Firm {
    pub id: FirmId,
    /// What users type at sign-in to name the firm.
    pub slug: String,
    pub name: String,
    pub settings: FirmSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FirmSettings {
    /// The sender name on emails to clients.
    pub email_display_name: String,
    /// Who is notified when a client starts a conversation.
    pub thread_notification_policy: ThreadNotificationPolicy,
    /// Default lifetime of access links, in days.
    pub default_link_expiry_days: i32,
    /// Largest accepted upload, in bytes.
    pub upload_limit_bytes: i64,
}

impl From<FirmRow> for Firm {
    fn from(row: FirmRow) -> Self {
        Self {
            id: FirmId::from_trusted(row.id),
            slug: row.slug,
            name: row.name,
            settings: FirmSettings {
                email_display_name: row.email_display_name,
                thread_notification_policy: ThreadNotificationPolicy::from_stored(&row.thread_notification_policy)
                    .unwrap_or(ThreadNotificationPolicy::Assignees),
                default_link_expiry_days: row.default_link_expiry_days,
                upload_limit_bytes: row.upload_limit_bytes,
            },
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFirm {
    pub name: Option<String>,
    pub email_display_name: Option<String>,
    pub thread_notification_policy: Option<ThreadNotificationPolicy>,
    #[schema(minimum = 1, maximum = 365)]
    pub default_link_expiry_days: Option<i32>,
    #[schema(minimum = 1)]
    pub upload_limit_bytes: Option<i64>,
}

impl UpdateFirm {
    fn into_changes(self) -> Result<FirmChanges, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let changes = FirmChanges {
            name: self.name.and_then(|v| errors.check("/name", text::required(&v, 200))),
            email_display_name: self
                .email_display_name
                .and_then(|v| errors.check("/email_display_name", text::required(&v, 200))),
            thread_notification_policy: self.thread_notification_policy.map(|p| p.as_str().to_owned()),
            default_link_expiry_days: self.default_link_expiry_days.filter(|days| {
                let ok = (1..=365).contains(days);
                if !ok {
                    errors.push(vestibule_domain::FieldError::new(
                        "/default_link_expiry_days",
                        "out_of_range",
                        "must be 1–365",
                    ));
                }
                ok
            }),
            upload_limit_bytes: self.upload_limit_bytes.filter(|bytes| {
                let ok = *bytes >= 1;
                if !ok {
                    errors.push(vestibule_domain::FieldError::new(
                        "/upload_limit_bytes",
                        "out_of_range",
                        "must be positive",
                    ));
                }
                ok
            }),
            updated_at: Some(vestibule_storage::now()),
        };
        errors.into_result().map(|()| changes)
    }
}

/// The caller's firm.
#[utoipa::path(tag = "firm", responses((status = 200, body = Firm), Unauthorized, Forbidden, InternalError), security(("bearer" = [])))]
#[get("/firm")]
pub async fn get_firm(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<web::Json<Firm>, ApiError> {
    authorize(&principal, Action::ReadFirm)?;
    db::run(&state, move |conn| Ok(web::Json(firms::get(conn, principal.firm_id().as_str())?.into()))).await
}

/// Changes the firm's name or settings (owners and admins).
#[utoipa::path(
    tag = "firm",
    request_body = UpdateFirm,
    responses((status = 200, body = Firm), BadRequest, Unauthorized, Forbidden, PayloadTooLarge, UnsupportedMediaType, Unprocessable, InternalError),
    security(("bearer" = []))
)]
#[patch("/firm")]
pub async fn update_firm(
    state: web::Data<AppState>,
    origin: Origin,
    Authenticated(principal): Authenticated,
    ApiJson(body): ApiJson<UpdateFirm>,
) -> Result<web::Json<Firm>, ApiError> {
    authorize(&principal, Action::UpdateFirm)?;
    let changes = body.into_changes()?;
    db::run(&state, move |conn| {
        write_tx(conn, |conn| {
            let firm_id = principal.firm_id().as_str();
            let firm = firms::update(conn, firm_id, &changes)?;
            audit::record(conn, &origin, &principal, Entry::success("firm.updated", "firm", firm_id))?;
            Ok(web::Json(firm.into()))
        })
    })
    .await
}
