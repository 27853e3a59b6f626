//! A client's account history (seed 004): invoices, payments and refunds in date order with
//! the balance after each, for staff and for the client's portal contacts. The portal shows
//! only what it grants, and no drafts, void invoices or failed payments.

use chrono::NaiveDate;
use vestibule_domain::FieldError;
use vestibule_domain::authz::{Action, matter_visibility};
use vestibule_domain::cursor::Page;
use vestibule_domain::ids::{ClientId, MatterId};
use vestibule_domain::payment::StatementKind;
use vestibule_storage::statement::{self, Line, Position, Reader, Scope};
use vestibule_storage::{DbConnection, clients, portals};

use super::access;
use crate::context::Context;
use crate::documents::portal_contact;
use crate::error::{AppError, AppResult};
use crate::portal_access::portal_of;

#[derive(Debug, Clone, Default)]
pub struct StatementQuery {
    /// Without one, the currency of the client's latest invoice.
    pub currency: Option<String>,
    pub matter_id: Option<MatterId>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct StatementLine {
    pub line: Line,
    /// What the client owes after this line.
    pub balance_minor: i64,
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub client_id: String,
    /// `None` when the client has nothing to show yet.
    pub currency: Option<String>,
    /// What the client owed before this page's first line.
    pub opening_balance_minor: i64,
    pub lines: Vec<StatementLine>,
    pub next_cursor: Option<String>,
}

#[tracing::instrument(skip(conn, ctx))]
pub fn for_client(
    conn: &mut DbConnection,
    ctx: &Context,
    client_id: &ClientId,
    query: &StatementQuery,
    page: &Page,
) -> AppResult<Statement> {
    access::check(conn, ctx, Action::ReadPayments)?;
    if !clients::exists(conn, ctx.firm_id(), client_id.as_str())? {
        return Err(AppError::NotFound);
    }
    let visibility = matter_visibility(&ctx.principal);
    build(conn, client_id, query, page, Reader::Staff(&visibility))
}

/// The statement of a client the contact's portal grants (wholly, or some of its matters).
#[tracing::instrument(skip(conn, ctx))]
pub fn mine(
    conn: &mut DbConnection,
    ctx: &Context,
    client_id: &ClientId,
    query: &StatementQuery,
    page: &Page,
) -> AppResult<Statement> {
    let me = portal_contact(ctx)?;
    let portal = portal_of(conn, me)?;
    let visible = portals::visible(conn, &portal)?;
    let granted = visible.clients.iter().any(|(id, _)| id == client_id.as_str())
        || visible.matters.iter().any(|(_, _, client)| client == client_id.as_str());
    if !granted {
        return Err(AppError::NotFound);
    }
    build(conn, client_id, query, page, Reader::Portal(&portal))
}

fn build(
    conn: &mut DbConnection,
    client_id: &ClientId,
    query: &StatementQuery,
    page: &Page,
    reader: Reader<'_>,
) -> AppResult<Statement> {
    let after = page.after.as_deref().map(parse_position).transpose()?;
    let currency = match &query.currency {
        Some(currency) => Some(currency.clone()),
        None => statement::usual_currency(conn, client_id.as_str())?,
    };
    let Some(currency) = currency else {
        return Ok(Statement {
            client_id: client_id.to_string(),
            currency: None,
            opening_balance_minor: 0,
            lines: Vec::new(),
            next_cursor: None,
        });
    };
    let scope = Scope {
        client_id: client_id.as_str(),
        currency: &currency,
        matter_id: query.matter_id.as_ref().map(MatterId::as_str),
        from: query.from,
        to: query.to,
        reader,
    };
    let opening = statement::balance_through(conn, &scope, after.as_ref())?;
    let rows = statement::lines(conn, &scope, after.as_ref(), page.limit + 1)?;
    let (rows, next_cursor) = page.finish(rows, |line| position_key(&line.position));
    let mut balance = opening;
    let lines = rows
        .into_iter()
        .map(|line| {
            balance += line.position.kind.signed(line.amount_minor);
            StatementLine { line, balance_minor: balance }
        })
        .collect();
    Ok(Statement {
        client_id: client_id.to_string(),
        currency: Some(currency),
        opening_balance_minor: opening,
        lines,
        next_cursor,
    })
}

/// A line's place as a cursor: `20261103_1_pay_…` (date, kind, id).
fn position_key(position: &Position) -> String {
    let kind = match position.kind {
        StatementKind::Invoice => 0,
        StatementKind::Payment => 1,
        StatementKind::Refund => 2,
    };
    format!("{}_{kind}_{}", position.date.format("%Y%m%d"), position.id)
}

fn parse_position(key: &str) -> AppResult<Position> {
    let invalid = || FieldError::new("#/query/cursor", "invalid_cursor", "is not a cursor returned by this list");
    let (date, rest) = key.split_once('_').ok_or_else(invalid)?;
    let (kind, id) = rest.split_once('_').ok_or_else(invalid)?;
    let date = NaiveDate::parse_from_str(date, "%Y%m%d").map_err(|_| invalid())?;
    let kind = match kind {
        "0" => StatementKind::Invoice,
        "1" => StatementKind::Payment,
        "2" => StatementKind::Refund,
        _ => return Err(invalid().into()),
    };
    Ok(Position { date, kind, id: id.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_names_a_line_by_date_kind_and_id() {
        let position = Position {
            date: NaiveDate::from_ymd_opt(2026, 11, 3).unwrap(),
            kind: StatementKind::Payment,
            id: "pay_0193".to_owned(),
        };
        assert_eq!(position_key(&position), "20261103_1_pay_0193");
        assert_eq!(parse_position("20261103_1_pay_0193").unwrap(), position);
        for bad in ["", "2026_1_x", "20261103_7_x", "20261103"] {
            assert!(parse_position(bad).is_err(), "{bad}");
        }
    }
}
