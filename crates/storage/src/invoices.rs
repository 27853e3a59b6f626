//! Invoices, for staff and for the portal contacts of their clients.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use vestibule_domain::authz::MatterVisibility;
use vestibule_domain::payment::InvoiceStatus;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::invoices;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = invoices)]
pub struct InvoiceRow {
    pub id: String,
    pub firm_id: String,
    pub client_id: String,
    pub matter_id: Option<String>,
    pub number: String,
    pub external_id: Option<String>,
    pub issue_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub currency: String,
    pub total_minor: i64,
    pub balance_minor: i64,
    pub status: String,
    /// JSON array of lines.
    pub lines: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When a portal contact first opened it.
    pub viewed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Default)]
pub struct InvoiceFilter {
    pub client_id: Option<String>,
    pub matter_id: Option<String>,
    pub status: Option<InvoiceStatus>,
    /// Being overdue depends on the day.
    pub today: NaiveDate,
}

type Boxed<'a> = invoices::BoxedQuery<'a, <DbConnection as diesel::Connection>::Backend>;

/// Staff see an invoice of a matter only when they may see the matter: the same rule as
/// `matters::visible`, so an invoice cannot reveal a restricted matter.
fn visible<'a>(query: Boxed<'a>, visibility: &'a MatterVisibility) -> Boxed<'a> {
    matter_visible!(query, invoices::matter_id, invoices::id, visibility)
}

pub fn insert(conn: &mut DbConnection, row: &InvoiceRow) -> StorageResult<()> {
    diesel::insert_into(invoices::table).values(row).execute(conn)?;
    Ok(())
}

pub fn get(
    conn: &mut DbConnection,
    firm_id: &str,
    id: &str,
    visibility: &MatterVisibility,
) -> StorageResult<InvoiceRow> {
    let query = invoices::table.filter(invoices::firm_id.eq(firm_id).and(invoices::id.eq(id))).into_boxed();
    Ok(visible(query, visibility).select(InvoiceRow::as_select()).limit_literal(1).get_result(conn)?)
}

pub fn find_by_external_id(
    conn: &mut DbConnection,
    firm_id: &str,
    external_id: &str,
) -> StorageResult<Option<InvoiceRow>> {
    Ok(invoices::table
        .filter(invoices::firm_id.eq(firm_id).and(invoices::external_id.eq(external_id)))
        .select(InvoiceRow::as_select())
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}

/// Replaces every field but the id, firm and creation time.
pub fn replace(conn: &mut DbConnection, row: &InvoiceRow) -> StorageResult<()> {
    diesel::update(invoices::table.filter(invoices::firm_id.eq(&row.firm_id).and(invoices::id.eq(&row.id))))
        .set((
            invoices::client_id.eq(&row.client_id),
            invoices::matter_id.eq(&row.matter_id),
            invoices::number.eq(&row.number),
            invoices::issue_date.eq(row.issue_date),
            invoices::due_date.eq(row.due_date),
            invoices::currency.eq(&row.currency),
            invoices::total_minor.eq(row.total_minor),
            invoices::balance_minor.eq(row.balance_minor),
            invoices::status.eq(&row.status),
            invoices::lines.eq(&row.lines),
            invoices::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn list(
    conn: &mut DbConnection,
    firm_id: &str,
    visibility: &MatterVisibility,
    filter: &InvoiceFilter,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<InvoiceRow>> {
    let mut query = visible(invoices::table.filter(invoices::firm_id.eq(firm_id)).into_boxed(), visibility);
    if let Some(client) = &filter.client_id {
        query = query.filter(invoices::client_id.eq(client));
    }
    if let Some(matter) = &filter.matter_id {
        query = query.filter(invoices::matter_id.eq(matter));
    }
    if let Some(status) = filter.status {
        let today = filter.today;
        let unpaid = [InvoiceStatus::Open.as_str(), InvoiceStatus::PartiallyPaid.as_str()];
        query = match status {
            InvoiceStatus::Overdue => {
                query.filter(invoices::status.eq_any(unpaid)).filter(invoices::due_date.lt(today))
            }
            InvoiceStatus::Open | InvoiceStatus::PartiallyPaid => query
                .filter(invoices::status.eq(status.as_str()))
                .filter(invoices::due_date.is_null().or(invoices::due_date.ge(today))),
            other => query.filter(invoices::status.eq(other.as_str())),
        };
    }
    if let Some(after) = after {
        query = query.filter(invoices::id.gt(after));
    }
    Ok(query.order(invoices::id.asc()).select(InvoiceRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

/// Invoices a portal shows: of its granted clients, or of its granted matters; never drafts.
fn of_portal<'a>(portal_id: &'a str) -> Boxed<'a> {
    invoices::table
        .filter(granted_to_portal!(invoices::client_id, invoices::matter_id, portal_id))
        .filter(invoices::status.ne("draft"))
        .into_boxed()
}

pub fn list_for_portal(
    conn: &mut DbConnection,
    portal_id: &str,
    after: Option<&str>,
    limit: i64,
) -> StorageResult<Vec<InvoiceRow>> {
    let mut query = of_portal(portal_id);
    if let Some(after) = after {
        query = query.filter(invoices::id.gt(after));
    }
    Ok(query.order(invoices::id.asc()).select(InvoiceRow::as_select()).limit_literal(limit + 1).load(conn)?)
}

pub fn get_for_portal(conn: &mut DbConnection, portal_id: &str, id: &str) -> StorageResult<InvoiceRow> {
    Ok(of_portal(portal_id)
        .filter(invoices::id.eq(id))
        .select(InvoiceRow::as_select())
        .limit_literal(1)
        .get_result(conn)?)
}

/// Notes the first time a portal contact opens the invoice; `true` that first time only.
pub fn mark_viewed(conn: &mut DbConnection, id: &str) -> StorageResult<bool> {
    let marked = diesel::update(invoices::table.filter(invoices::id.eq(id).and(invoices::viewed_at.is_null())))
        .set(invoices::viewed_at.eq(crate::now()))
        .execute(conn)?;
    Ok(marked == 1)
}

/// The matter of an invoice of the firm (`None` for a client-level one, or none at all).
pub fn matter_of(conn: &mut DbConnection, firm_id: &str, id: &str) -> StorageResult<Option<String>> {
    Ok(invoices::table
        .filter(invoices::firm_id.eq(firm_id).and(invoices::id.eq(id)))
        .select(invoices::matter_id)
        .limit_literal(1)
        .get_result(conn)
        .optional()?
        .flatten())
}
