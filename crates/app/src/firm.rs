//! The caller's firm and its settings.

use vestibule_domain::authz::{Action, authorize};
use vestibule_domain::payment::MemberPaymentAccess;
use vestibule_domain::reminder::ReminderPolicy;
use vestibule_domain::roles::ThreadNotificationPolicy;
use vestibule_storage::DbConnection;
use vestibule_storage::firms::{self, FirmChanges, FirmRow};

use crate::audit::Entry;
use crate::change::audited;
use crate::context::Context;
use crate::error::AppResult;

/// Settings to change; `None` keeps. Values already validated.
#[derive(Debug, Clone, Default)]
pub struct FirmUpdate {
    pub name: Option<String>,
    pub email_display_name: Option<String>,
    pub thread_notification_policy: Option<ThreadNotificationPolicy>,
    pub default_link_expiry_days: Option<i32>,
    pub upload_limit_bytes: Option<i64>,
    pub member_payment_access: Option<MemberPaymentAccess>,
    pub reminder_policy: Option<ReminderPolicy>,
    pub require_two_factor_staff: Option<bool>,
    pub require_two_factor_contacts: Option<bool>,
    pub new_device_alerts: Option<bool>,
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context) -> AppResult<FirmRow> {
    authorize(&ctx.principal, Action::ReadFirm)?;
    Ok(firms::get(conn, ctx.firm_id())?)
}

#[tracing::instrument(skip(conn, ctx))]
pub fn update(conn: &mut DbConnection, ctx: &Context, update: FirmUpdate) -> AppResult<FirmRow> {
    let entry = Entry::success("firm.updated", "firm", ctx.firm_id());
    audited(conn, ctx, Action::UpdateFirm, entry, |conn, firm_id| {
        let changes = FirmChanges {
            name: update.name,
            email_display_name: update.email_display_name,
            thread_notification_policy: update.thread_notification_policy.map(|p| p.as_str().to_owned()),
            default_link_expiry_days: update.default_link_expiry_days,
            upload_limit_bytes: update.upload_limit_bytes,
            member_payment_access: update.member_payment_access.map(|a| a.as_str().to_owned()),
            reminder_policy: update.reminder_policy.map(|p| p.to_stored()),
            require_two_factor_staff: update.require_two_factor_staff,
            require_two_factor_contacts: update.require_two_factor_contacts,
            new_device_alerts: update.new_device_alerts,
            updated_at: Some(vestibule_storage::now()),
        };
        Ok(firms::update(conn, firm_id, &changes)?)
    })
}
