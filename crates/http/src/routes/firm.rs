//! The caller's firm and its settings.

use actix_web::{get, patch, web};
use serde::Deserialize;
use utoipa::ToSchema;
use vestibule_app::firm::{self, FirmUpdate};
use vestibule_domain::authz::Action;
use vestibule_domain::payment::MemberPaymentAccess;
use vestibule_domain::reminder::ReminderPolicy;
use vestibule_domain::roles::ThreadNotificationPolicy;
use vestibule_domain::{FieldError, ValidationErrors, text};

use crate::auth::principal::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::problem::{
    BadRequest, Forbidden, InternalError, PayloadTooLarge, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use crate::routing::Routes;
use crate::state::AppState;
// Until routes/auth.rs names the view itself.
use crate::views::firm::Firm;

pub fn routes(cfg: &mut Routes<'_, '_>) {
    cfg.service(get_firm).service(update_firm);
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
    pub member_payment_access: Option<MemberPaymentAccess>,
    /// When contacts are reminded of documents a request still waits for; replaces the whole
    /// schedule (absent fields take their defaults).
    pub reminders: Option<ReminderPolicy>,
    /// Staff must sign in with a code of an authenticator app; those without one set it up
    /// at their next sign-in.
    pub require_two_factor_staff: Option<bool>,
    /// The same for portal contacts.
    pub require_two_factor_contacts: Option<bool>,
    /// Email people when they sign in from a new device.
    pub new_device_alerts: Option<bool>,
}

impl UpdateFirm {
    fn command(self) -> Result<FirmUpdate, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = self.name.and_then(|v| errors.check("/name", text::required(&v, 200)));
        let email_display_name =
            self.email_display_name.and_then(|v| errors.check("/email_display_name", text::required(&v, 200)));
        let mut in_range = |pointer: &str, ok: bool, detail: &str| {
            if !ok {
                errors.push(FieldError::new(pointer, "out_of_range", detail));
            }
            ok
        };
        let default_link_expiry_days = self
            .default_link_expiry_days
            .filter(|days| in_range("/default_link_expiry_days", (1..=365).contains(days), "must be 1–365"));
        let upload_limit_bytes =
            self.upload_limit_bytes.filter(|bytes| in_range("/upload_limit_bytes", *bytes >= 1, "must be positive"));
        let update = FirmUpdate {
            name,
            email_display_name,
            thread_notification_policy: self.thread_notification_policy,
            default_link_expiry_days,
            upload_limit_bytes,
            member_payment_access: self.member_payment_access,
            reminder_policy: None,
            require_two_factor_staff: self.require_two_factor_staff,
            require_two_factor_contacts: self.require_two_factor_contacts,
            new_device_alerts: self.new_device_alerts,
        };
        let reminder_policy = match self.reminders.map(|p| p.validate("/reminders")) {
            Some(Ok(policy)) => Some(policy),
            Some(Err(invalid)) => {
                errors.0.extend(invalid.0);
                None
            }
            None => None,
        };
        errors.into_result().map(|()| FirmUpdate { reminder_policy, ..update })
    }
}

/// The caller's firm.
#[utoipa::path(tag = "firm", responses((status = 200, body = Firm), Unauthorized, Forbidden, InternalError), security(("bearer" = [])))]
#[get("/firm")]
pub async fn get_firm(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<Firm>, ApiError> {
    let row = caller.call(&state, firm::get).await?;
    Ok(web::Json(row.into()))
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
    caller: Caller,
    ApiJson(body): ApiJson<UpdateFirm>,
) -> Result<web::Json<Firm>, ApiError> {
    let update = body.command()?;
    let row = caller.must(Action::UpdateFirm).call(&state, move |conn, ctx| firm::update(conn, ctx, update)).await?;
    Ok(web::Json(row.into()))
}
