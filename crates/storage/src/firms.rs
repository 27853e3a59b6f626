use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::firms;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = firms)]
pub struct FirmRow {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub email_display_name: String,
    pub thread_notification_policy: String,
    pub default_link_expiry_days: i32,
    pub upload_limit_bytes: i64,
    pub member_payment_access: String,
    /// `domain::reminder::ReminderPolicy` as JSON.
    pub reminder_policy: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub require_two_factor_staff: bool,
    pub require_two_factor_contacts: bool,
    /// Email people when they sign in from a device not seen on their sessions before.
    pub new_device_alerts: bool,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = firms)]
pub struct FirmChanges {
    pub name: Option<String>,
    pub email_display_name: Option<String>,
    pub thread_notification_policy: Option<String>,
    pub default_link_expiry_days: Option<i32>,
    pub upload_limit_bytes: Option<i64>,
    pub member_payment_access: Option<String>,
    pub reminder_policy: Option<String>,
    pub require_two_factor_staff: Option<bool>,
    pub require_two_factor_contacts: Option<bool>,
    pub new_device_alerts: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Creates the firm and starts its audit chain.
pub fn insert(conn: &mut DbConnection, row: &FirmRow) -> StorageResult<()> {
    diesel::insert_into(firms::table).values(row).execute(conn)?;
    crate::audit::start_chain(conn, &row.id)
}

pub fn get(conn: &mut DbConnection, firm_id: &str) -> StorageResult<FirmRow> {
    Ok(firms::table.find(firm_id).select(FirmRow::as_select()).limit_literal(1).get_result(conn)?)
}

pub fn find_by_slug(conn: &mut DbConnection, slug: &str) -> StorageResult<Option<FirmRow>> {
    Ok(firms::table
        .filter(firms::slug.eq(slug))
        .select(FirmRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

pub fn update(conn: &mut DbConnection, firm_id: &str, changes: &FirmChanges) -> StorageResult<FirmRow> {
    diesel::update(firms::table.find(firm_id)).set(changes).execute(conn)?;
    get(conn, firm_id)
}
