//! Login sessions and their rotating refresh tokens. A session is one login; each refresh
//! replaces its token. Presenting a token that was already used means it leaked, so the
//! whole session is revoked.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::contacts::ContactRow;
use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::{contacts, refresh_tokens, sessions, staff};
use crate::staff::StaffRow;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub firm_id: String,
    pub staff_id: Option<String>,
    pub contact_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
}

#[derive(Debug)]
pub enum Rotation {
    Rotated(SessionRow),
    /// The token had been used before: the session is now revoked.
    Reused(SessionRow),
    /// No such token, or its session is expired or revoked.
    Invalid,
}

pub fn create(conn: &mut DbConnection, session: &SessionRow, token_hash: &str) -> StorageResult<()> {
    diesel::insert_into(sessions::table).values(session).execute(conn)?;
    insert_token(conn, &session.id, token_hash, session.created_at)
}

fn insert_token(conn: &mut DbConnection, session_id: &str, token_hash: &str, now: NaiveDateTime) -> StorageResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn get_active(conn: &mut DbConnection, session_id: &str, now: NaiveDateTime) -> StorageResult<Option<SessionRow>> {
    Ok(sessions::table
        .filter(sessions::id.eq(session_id).and(sessions::revoked_at.is_null()).and(sessions::expires_at.gt(now)))
        .select(SessionRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

/// A live session of staff member `staff_id` of the firm, with the member, in one lookup.
pub fn active_of_staff(
    conn: &mut DbConnection,
    session_id: &str,
    firm_id: &str,
    staff_id: &str,
    now: NaiveDateTime,
) -> StorageResult<Option<(SessionRow, StaffRow)>> {
    Ok(sessions::table
        .inner_join(staff::table.on(staff::id.nullable().eq(sessions::staff_id)))
        .filter(sessions::id.eq(session_id).and(sessions::revoked_at.is_null()).and(sessions::expires_at.gt(now)))
        .filter(staff::firm_id.eq(firm_id).and(staff::id.eq(staff_id)))
        .select((SessionRow::as_select(), StaffRow::as_select()))
        .get_result(conn)
        .optional()?)
}

/// A live session of contact `contact_id` of the firm, with the contact, in one lookup.
pub fn active_of_contact(
    conn: &mut DbConnection,
    session_id: &str,
    firm_id: &str,
    contact_id: &str,
    now: NaiveDateTime,
) -> StorageResult<Option<(SessionRow, ContactRow)>> {
    Ok(sessions::table
        .inner_join(contacts::table.on(contacts::id.nullable().eq(sessions::contact_id)))
        .filter(sessions::id.eq(session_id).and(sessions::revoked_at.is_null()).and(sessions::expires_at.gt(now)))
        .filter(contacts::firm_id.eq(firm_id).and(contacts::id.eq(contact_id)))
        .select((SessionRow::as_select(), ContactRow::as_select()))
        .get_result(conn)
        .optional()?)
}

/// Call inside a write transaction.
pub fn rotate(conn: &mut DbConnection, old_hash: &str, new_hash: &str, now: NaiveDateTime) -> StorageResult<Rotation> {
    let found = refresh_tokens::table
        .inner_join(sessions::table)
        .filter(refresh_tokens::token_hash.eq(old_hash))
        .select((refresh_tokens::used_at, SessionRow::as_select()))
        .limit_literal(1)
        .get_result::<(Option<NaiveDateTime>, SessionRow)>(conn)
        .optional()?;
    let Some((used_at, session)) = found else {
        return Ok(Rotation::Invalid);
    };
    if session.revoked_at.is_some() || session.expires_at <= now {
        return Ok(Rotation::Invalid);
    }
    let claimed = used_at.is_none()
        && diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(old_hash).and(refresh_tokens::used_at.is_null())),
        )
        .set(refresh_tokens::used_at.eq(now))
        .execute(conn)?
            == 1;
    if !claimed {
        revoke(conn, &session.id, now)?;
        return Ok(Rotation::Reused(session));
    }
    insert_token(conn, &session.id, new_hash, now)?;
    Ok(Rotation::Rotated(session))
}

pub fn revoke(conn: &mut DbConnection, session_id: &str, now: NaiveDateTime) -> StorageResult<()> {
    diesel::update(sessions::table.filter(sessions::id.eq(session_id).and(sessions::revoked_at.is_null())))
        .set(sessions::revoked_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Ends every session of a staff member or contact (disabling, password change).
pub fn revoke_all_of(conn: &mut DbConnection, owner_id: &str, now: NaiveDateTime) -> StorageResult<usize> {
    Ok(diesel::update(
        sessions::table
            .filter(sessions::staff_id.eq(owner_id).or(sessions::contact_id.eq(owner_id)))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)?)
}

/// Deletes sessions (and their refresh tokens) that expired or were revoked before `cutoff`.
pub fn purge_ended_before(conn: &mut DbConnection, cutoff: NaiveDateTime) -> StorageResult<usize> {
    Ok(diesel::delete(sessions::table.filter(sessions::expires_at.lt(cutoff).or(sessions::revoked_at.lt(cutoff))))
        .execute(conn)?)
}

/// Ends every session of a staff member or contact but `keep` (after a password change).
pub fn revoke_all_except(
    conn: &mut DbConnection,
    owner_id: &str,
    keep: &str,
    now: NaiveDateTime,
) -> StorageResult<usize> {
    Ok(diesel::update(
        sessions::table
            .filter(sessions::staff_id.eq(owner_id).or(sessions::contact_id.eq(owner_id)))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::id.ne(keep)),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)?)
}

/// The live sessions of a staff member or contact, newest first.
pub fn list_active_of(conn: &mut DbConnection, owner_id: &str, now: NaiveDateTime) -> StorageResult<Vec<SessionRow>> {
    Ok(sessions::table
        .filter(sessions::staff_id.eq(owner_id).or(sessions::contact_id.eq(owner_id)))
        .filter(sessions::revoked_at.is_null().and(sessions::expires_at.gt(now)))
        .order((sessions::created_at.desc(), sessions::id.desc()))
        .select(SessionRow::as_select())
        .load(conn)?)
}

/// Ends one session of a staff member or contact: whether it was live.
pub fn revoke_of(conn: &mut DbConnection, owner_id: &str, session_id: &str, now: NaiveDateTime) -> StorageResult<bool> {
    Ok(diesel::update(
        sessions::table
            .filter(sessions::id.eq(session_id))
            .filter(sessions::staff_id.eq(owner_id).or(sessions::contact_id.eq(owner_id)))
            .filter(sessions::revoked_at.is_null().and(sessions::expires_at.gt(now))),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)?
        == 1)
}

pub fn touch(conn: &mut DbConnection, session_id: &str, now: NaiveDateTime) -> StorageResult<()> {
    diesel::update(sessions::table.find(session_id)).set(sessions::last_used_at.eq(now)).execute(conn)?;
    Ok(())
}

/// The (user agent, address) pairs of the account's sessions still on record, ended or not.
pub fn devices_of(conn: &mut DbConnection, owner_id: &str) -> StorageResult<Vec<(Option<String>, Option<String>)>> {
    Ok(sessions::table
        .filter(sessions::staff_id.eq(owner_id).or(sessions::contact_id.eq(owner_id)))
        .select((sessions::user_agent, sessions::ip))
        .distinct()
        .load(conn)?)
}
