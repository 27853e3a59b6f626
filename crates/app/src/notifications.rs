//! In-app notifications of staff members and portal contacts: what happened, about which
//! client and what (a conversation, a document, a request…). Use cases that cause one call
//! [`notify`]; who among staff hears of something the client side did is [`staff_to_tell`].

use serde_json::json;
use vestibule_domain::cursor::Page;
use vestibule_domain::ids::NotificationId;
use vestibule_domain::notification::{NotificationKind, SubjectType};
use vestibule_domain::principal::Principal;
use vestibule_domain::roles::ThreadNotificationPolicy;
use vestibule_storage::conversations::{CONTACT, STAFF};
use vestibule_storage::notifications::{self, NotificationRow};
use vestibule_storage::staff::{self, StaffRow};
use vestibule_storage::{DbConnection, clients, firms, live, write_tx};

use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::page::Listed;

/// The live event a new notification sends to its recipient's streams.
pub const LIVE_NOTIFICATION: &str = "notification.created";

/// A notification with the name of the client it is about.
#[derive(Debug)]
pub struct NotificationRecord {
    pub row: NotificationRow,
    pub client_name: String,
}

/// Who is told: a staff member or a contact, by id.
#[derive(Debug, Clone, Copy)]
pub enum Recipient<'a> {
    Staff(&'a str),
    Contact(&'a str),
}

impl<'a> Recipient<'a> {
    fn key(self) -> (&'static str, &'a str) {
        match self {
            Self::Staff(id) => (STAFF, id),
            Self::Contact(id) => (CONTACT, id),
        }
    }
}

/// What one notification says.
#[derive(Debug, Clone, Copy)]
pub struct Notice<'a> {
    pub kind: NotificationKind,
    pub client_id: &'a str,
    pub subject: (SubjectType, &'a str),
    /// The message, for notifications about one.
    pub message_id: Option<&'a str>,
}

impl<'a> Notice<'a> {
    pub fn new(kind: NotificationKind, client_id: &'a str, subject: (SubjectType, &'a str)) -> Self {
        Self { kind, client_id, subject, message_id: None }
    }
}

/// Stores the notice for each recipient and wakes their live streams, in the caller's
/// transaction.
pub fn notify<'a>(
    conn: &mut DbConnection,
    firm_id: &str,
    recipients: impl IntoIterator<Item = Recipient<'a>>,
    notice: Notice<'_>,
) -> AppResult<()> {
    let (subject_type, subject_id) = notice.subject;
    for recipient in recipients {
        let (recipient_kind, recipient_id) = recipient.key();
        let row = NotificationRow {
            id: NotificationId::generate().into(),
            firm_id: firm_id.to_owned(),
            recipient_kind: recipient_kind.to_owned(),
            recipient_id: recipient_id.to_owned(),
            kind: notice.kind.as_str().to_owned(),
            client_id: notice.client_id.to_owned(),
            subject_type: subject_type.as_str().to_owned(),
            subject_id: subject_id.to_owned(),
            message_id: notice.message_id.map(str::to_owned),
            created_at: vestibule_storage::now(),
            read_at: None,
        };
        notifications::insert(conn, &row)?;
        let mut data = json!({
            "id": row.id, "kind": row.kind, "subject_type": row.subject_type, "subject_id": row.subject_id,
        });
        if subject_type == SubjectType::Conversation {
            data["conversation_id"] = json!(subject_id);
        }
        if let Some(message) = notice.message_id {
            data["message_id"] = json!(message);
        }
        live::push(conn, firm_id, (recipient_kind, recipient_id), LIVE_NOTIFICATION, &data)?;
    }
    Ok(())
}

/// The staff who hear of what the client side starts or hands over about a client (or one
/// of its matters): those with access to it whom the firm's notification policy names. The
/// one rule for client-started conversations, uploads and request items.
pub fn staff_to_tell(
    conn: &mut DbConnection,
    firm_id: &str,
    client_id: &str,
    matter_id: Option<&str>,
) -> AppResult<Vec<StaffRow>> {
    let with_access = staff::with_access(conn, firm_id, matter_id)?;
    let policy = ThreadNotificationPolicy::from_stored(&firms::get(conn, firm_id)?.thread_notification_policy)
        .unwrap_or(ThreadNotificationPolicy::Assignees);
    let client = clients::get(conn, firm_id, client_id)?;
    let owner = client.row.owner_staff_id.as_deref();
    Ok(with_access.into_iter().filter(|member| policy.notifies(&member.id, &client.assignees, owner)).collect())
}

/// The staff as recipients.
pub fn to_staff(members: &[StaffRow]) -> impl Iterator<Item = Recipient<'_>> {
    members.iter().map(|m| Recipient::Staff(&m.id))
}

/// Notifications belong to a person: a staff member or a contact, signed in with a password.
pub fn recipient(principal: &Principal) -> AppResult<(&'static str, &str)> {
    match principal {
        Principal::Staff(me) => Ok((STAFF, me.staff_id.as_str())),
        Principal::Contact(me) => Ok((CONTACT, me.contact_id.as_str())),
        Principal::Integration(_) => {
            Err(AppError::Forbidden("notifications are for people signed in with a password".to_owned()))
        }
    }
}

/// Newest first.
#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    unread_only: bool,
    page: &Page,
) -> AppResult<Listed<NotificationRecord>> {
    let me = recipient(&ctx.principal)?;
    let rows = notifications::list(conn, ctx.firm_id(), me, unread_only, page.after.as_deref(), page.limit)?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id.clone());
    Ok(Listed { items: with_client_names(conn, ctx, rows)?, next_cursor })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn unread_count(conn: &mut DbConnection, ctx: &Context) -> AppResult<i64> {
    let me = recipient(&ctx.principal)?;
    Ok(notifications::unread_count(conn, ctx.firm_id(), me)?)
}

/// Marks one of the caller's notifications read; reading it again keeps the first time.
#[tracing::instrument(skip(conn, ctx))]
pub fn mark_read(conn: &mut DbConnection, ctx: &Context, id: &NotificationId) -> AppResult<NotificationRecord> {
    let me = recipient(&ctx.principal)?;
    write_tx(conn, |conn| {
        let row = notifications::mark_read(conn, ctx.firm_id(), me, id.as_str())?;
        with_client_names(conn, ctx, vec![row])?.pop().ok_or(AppError::NotFound)
    })
}

/// Marks every unread notification of the caller read; returns how many there were.
#[tracing::instrument(skip(conn, ctx))]
pub fn mark_all_read(conn: &mut DbConnection, ctx: &Context) -> AppResult<usize> {
    let me = recipient(&ctx.principal)?;
    Ok(notifications::mark_all_read(conn, ctx.firm_id(), me)?)
}

fn with_client_names(
    conn: &mut DbConnection,
    ctx: &Context,
    rows: Vec<NotificationRow>,
) -> AppResult<Vec<NotificationRecord>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.client_id.as_str()).collect();
    let names = clients::names(conn, ctx.firm_id(), &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| NotificationRecord { client_name: names.get(&row.client_id).cloned().unwrap_or_default(), row })
        .collect())
}
