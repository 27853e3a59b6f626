//! The email about a sign-in from a new device. A device is new when no session of the
//! account still on record (ended ones included, until maintenance purges them a week after
//! they end) has the same user agent and the same address. The very first sign-in of an
//! account has nothing to compare with and sends nothing; nor does a firm that turned
//! `new_device_alerts` off.

use vestibule_domain::device;
use vestibule_domain::events::EventType;
use vestibule_domain::mail::{Email, NewDevice};
use vestibule_storage::{DbConnection, contacts, firms, outbox, sessions, staff};

use super::sign_in::AccountKind;
use crate::context::{Origin, Settings};
use crate::error::AppResult;
use crate::events;

/// Queues the email when this sign-in comes from a new device. Call inside the sign-in's
/// write transaction, before its session is recorded.
pub(crate) fn alert_if_new(
    conn: &mut DbConnection,
    settings: &Settings,
    origin: &Origin,
    kind: AccountKind,
    firm_id: &str,
    account_id: &str,
) -> AppResult<()> {
    if !firms::get(conn, firm_id)?.new_device_alerts {
        return Ok(());
    }
    let seen = sessions::devices_of(conn, account_id)?;
    if seen.is_empty() || seen.iter().any(|(agent, ip)| *agent == origin.user_agent && *ip == origin.ip) {
        return Ok(());
    }
    let (recipient, page) = match kind {
        AccountKind::Staff => (Some(staff::get(conn, firm_id, account_id)?.email), "/settings/sessions"),
        AccountKind::Contact => (contacts::get(conn, firm_id, account_id)?.email, "/portal/settings/sessions"),
    };
    let Some(recipient) = recipient else { return Ok(()) };
    let event = events::publish(conn, firm_id, EventType::NewDeviceSignIn, account_id)?;
    let email = Email::NewDeviceSignIn(NewDevice {
        device: device::describe(origin.user_agent.as_deref()),
        ip: origin.ip.clone(),
        signed_in_at: chrono::Utc::now(),
        link: settings.link(page),
    });
    outbox::queue_email(conn, &event, &recipient, &email)?;
    Ok(())
}
