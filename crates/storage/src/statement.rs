//! A client's account history: its issued invoices, the payments received and the refunds,
//! in date order, one currency at a time, with what was owed before the page starts.

use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};
use vestibule_domain::authz::MatterVisibility;
use vestibule_domain::payment::StatementKind;

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::limit::LimitLiteral;
use crate::schema::{invoices, payments, refunds};

/// Who reads the statement decides which of the client's items it holds.
#[derive(Debug, Clone, Copy)]
pub enum Reader<'a> {
    Staff(&'a MatterVisibility),
    /// A portal shows what it grants: the whole client, or only some of its matters.
    Portal(&'a str),
}

#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub client_id: &'a str,
    pub currency: &'a str,
    pub matter_id: Option<&'a str>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub reader: Reader<'a>,
}

/// Where a line sits: by date, then invoices before payments before refunds of one day,
/// then by id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub date: NaiveDate,
    pub kind: StatementKind,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub position: Position,
    pub amount_minor: i64,
    pub matter_id: Option<String>,
    /// The invoice's number, or the payment's reference.
    pub label: Option<String>,
    /// How a payment came (`card`, `cheque`, …).
    pub method: Option<String>,
    /// The payment a refund gave money back on.
    pub payment_id: Option<String>,
}

/// Applies what every table of the statement shares: the client, the currency, the matter,
/// the reader's view, the date range and where the page starts.
macro_rules! scoped {
    ($table:ident, $date:expr, $rank:expr, $scope:expr, $start:expr) => {{
        let scope: &Scope<'_> = $scope;
        let mut query = $table::table
            .filter($table::client_id.eq(scope.client_id))
            .filter($table::currency.eq(scope.currency))
            .into_boxed();
        if let Some(matter) = scope.matter_id {
            query = query.filter($table::matter_id.eq(matter));
        }
        match scope.reader {
            Reader::Staff(visibility) => {
                query = matter_visible!(query, $table::matter_id, $table::id, visibility);
            }
            Reader::Portal(portal_id) => {
                query = query.filter(granted_to_portal!($table::client_id, $table::matter_id, portal_id));
            }
        }
        if let Some(to) = scope.to {
            query = query.filter($date.le(to));
        }
        match $start {
            Start::After(position) => {
                query = match $rank.cmp(&position.kind) {
                    std::cmp::Ordering::Less => query.filter($date.gt(position.date)),
                    std::cmp::Ordering::Equal => query.filter(
                        $date.gt(position.date).or($date.eq(position.date).and($table::id.gt(position.id.clone()))),
                    ),
                    std::cmp::Ordering::Greater => query.filter($date.ge(position.date)),
                };
                if let Some(from) = scope.from {
                    query = query.filter($date.ge(from));
                }
            }
            Start::From => {
                if let Some(from) = scope.from {
                    query = query.filter($date.ge(from));
                }
            }
            Start::Before(position) => {
                query = match position {
                    Some(position) => match $rank.cmp(&position.kind) {
                        std::cmp::Ordering::Less => query.filter($date.le(position.date)),
                        std::cmp::Ordering::Equal => query.filter(
                            $date.lt(position.date).or($date.eq(position.date).and($table::id.le(position.id.clone()))),
                        ),
                        std::cmp::Ordering::Greater => query.filter($date.lt(position.date)),
                    },
                    None => match scope.from {
                        Some(from) => query.filter($date.lt(from)),
                        // Nothing comes before an open range.
                        None => query.filter($table::id.is_null()),
                    },
                };
            }
        }
        query
    }};
}

#[derive(Debug, Clone, Copy)]
enum Start<'a> {
    /// The page after this line (within the range).
    After(&'a Position),
    /// The first page of the range.
    From,
    /// Everything up to and including this line, or, without one, before the range.
    Before(Option<&'a Position>),
}

/// Id, date, amount, matter, and one more column of the line's kind.
type Row<T> = (String, NaiveDate, i64, Option<String>, T);

/// A payment's line: its reference and method.
type PaymentLine = (String, NaiveDate, i64, Option<String>, Option<String>, String);

/// Up to `limit` lines from where the page starts, in order.
pub fn lines(
    conn: &mut DbConnection,
    scope: &Scope<'_>,
    after: Option<&Position>,
    limit: i64,
) -> StorageResult<Vec<Line>> {
    let start = after.map_or(Start::From, Start::After);
    let invoices: Vec<Row<String>> = scoped!(invoices, invoices::issue_date, StatementKind::Invoice, scope, start)
        .filter(invoices::status.ne_all(["draft", "void"]))
        .order((invoices::issue_date.asc(), invoices::id.asc()))
        .select((invoices::id, invoices::issue_date, invoices::total_minor, invoices::matter_id, invoices::number))
        .limit_literal(limit)
        .load(conn)?;
    let payments: Vec<PaymentLine> = scoped!(payments, payments::received_on, StatementKind::Payment, scope, start)
        .filter(payments::status.eq_any(RECEIVED))
        .order((payments::received_on.asc(), payments::id.asc()))
        .select((
            payments::id,
            payments::received_on,
            payments::amount_minor,
            payments::matter_id,
            payments::reference,
            payments::method,
        ))
        .limit_literal(limit)
        .load(conn)?;
    let refunds: Vec<Row<String>> = scoped!(refunds, refunds::refunded_on, StatementKind::Refund, scope, start)
        .filter(refunds::status.eq("succeeded"))
        .order((refunds::refunded_on.asc(), refunds::id.asc()))
        .select((refunds::id, refunds::refunded_on, refunds::amount_minor, refunds::matter_id, refunds::payment_id))
        .limit_literal(limit)
        .load(conn)?;
    let mut lines: Vec<Line> = invoices
        .into_iter()
        .map(|(id, date, amount, matter_id, number)| Line {
            position: Position { date, kind: StatementKind::Invoice, id },
            amount_minor: amount,
            matter_id,
            label: Some(number),
            method: None,
            payment_id: None,
        })
        .chain(payments.into_iter().map(|(id, date, amount, matter_id, reference, method)| Line {
            position: Position { date, kind: StatementKind::Payment, id },
            amount_minor: amount,
            matter_id,
            label: reference,
            method: Some(method),
            payment_id: None,
        }))
        .chain(refunds.into_iter().map(|(id, date, amount, matter_id, payment_id)| Line {
            position: Position { date, kind: StatementKind::Refund, id },
            amount_minor: amount,
            matter_id,
            label: None,
            method: None,
            payment_id: Some(payment_id),
        }))
        .collect();
    lines.sort_by(|a, b| a.position.cmp(&b.position));
    lines.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(lines)
}

/// Money counts on a statement once it has come in; a refund is its own line.
const RECEIVED: [&str; 3] = ["succeeded", "partially_refunded", "refunded"];

/// What the client owed just after `position` (the previous page's last line), or, without
/// one, before the range starts.
pub fn balance_through(conn: &mut DbConnection, scope: &Scope<'_>, position: Option<&Position>) -> StorageResult<i64> {
    if position.is_none() && scope.from.is_none() {
        return Ok(0);
    }
    let start = Start::Before(position);
    let total = || sql::<Nullable<BigInt>>("CAST(SUM(total_minor) AS BIGINT)");
    let amount = || sql::<Nullable<BigInt>>("CAST(SUM(amount_minor) AS BIGINT)");
    let invoiced: Option<i64> = scoped!(invoices, invoices::issue_date, StatementKind::Invoice, scope, start)
        .filter(invoices::status.ne_all(["draft", "void"]))
        .select(total())
        .limit_literal(1)
        .get_result(conn)?;
    let paid: Option<i64> = scoped!(payments, payments::received_on, StatementKind::Payment, scope, start)
        .filter(payments::status.eq_any(RECEIVED))
        .select(amount())
        .limit_literal(1)
        .get_result(conn)?;
    let refunded: Option<i64> = scoped!(refunds, refunds::refunded_on, StatementKind::Refund, scope, start)
        .filter(refunds::status.eq("succeeded"))
        .select(amount())
        .limit_literal(1)
        .get_result(conn)?;
    Ok(StatementKind::Invoice.signed(invoiced.unwrap_or(0))
        + StatementKind::Payment.signed(paid.unwrap_or(0))
        + StatementKind::Refund.signed(refunded.unwrap_or(0)))
}

/// The currency a client's statement is in unless the reader names one: that of its latest
/// issued invoice.
pub fn usual_currency(conn: &mut DbConnection, client_id: &str) -> StorageResult<Option<String>> {
    Ok(invoices::table
        .filter(invoices::client_id.eq(client_id).and(invoices::status.ne_all(["draft", "void"])))
        .order((invoices::issue_date.desc(), invoices::id.desc()))
        .select(invoices::currency)
        .limit_literal(1)
        .get_result(conn)
        .optional()?)
}
