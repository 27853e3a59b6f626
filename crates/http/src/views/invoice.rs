//! An invoice as staff and portal contacts see it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vestibule_domain::ids::{ClientId, InvoiceId, MatterId};
use vestibule_domain::payment::InvoiceStatus;
use vestibule_storage::invoices::InvoiceRow;

use crate::routes::utc;

/// The statuses a firm sets on an invoice; payments and the calendar settle the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SettableInvoiceStatus {
    Draft,
    Open,
    Void,
}

impl From<SettableInvoiceStatus> for InvoiceStatus {
    fn from(status: SettableInvoiceStatus) -> Self {
        match status {
            SettableInvoiceStatus::Draft => Self::Draft,
            SettableInvoiceStatus::Open => Self::Open,
            SettableInvoiceStatus::Void => Self::Void,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceLine {
    #[schema(min_length = 1, max_length = 500)]
    pub description: String,
    /// In thousandths, so 1.5 hours is 1500.
    pub quantity_milli: i64,
    /// In the currency's minor unit (cents).
    pub unit_price_minor: i64,
    pub amount_minor: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invoice {
    pub id: InvoiceId,
    pub number: String,
    pub client_id: ClientId,
    pub matter_id: Option<MatterId>,
    pub external_id: Option<String>,
    pub issue_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    /// In the currency's minor unit (cents).
    pub total_minor: i64,
    /// What is still to be paid, in the minor unit: the total less what payments allocated.
    pub balance_minor: i64,
    /// `open`, `partially_paid` and `paid` follow from payments; `overdue` is an unpaid (or
    /// partly paid) invoice past its due date.
    pub status: InvoiceStatus,
    pub lines: Vec<InvoiceLine>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When a portal contact first opened it; `null` until then.
    pub viewed_at: Option<DateTime<Utc>>,
}

impl From<InvoiceRow> for Invoice {
    fn from(row: InvoiceRow) -> Self {
        Self {
            id: InvoiceId::from_trusted(row.id),
            number: row.number,
            client_id: ClientId::from_trusted(row.client_id),
            matter_id: row.matter_id.map(MatterId::from_trusted),
            external_id: row.external_id,
            issue_date: row.issue_date,
            due_date: row.due_date,
            currency: row.currency,
            total_minor: row.total_minor,
            balance_minor: row.balance_minor,
            status: InvoiceStatus::parse(&row.status)
                .unwrap_or(InvoiceStatus::Open)
                .on(row.due_date, chrono::Utc::now().date_naive()),
            lines: serde_json::from_str(&row.lines).unwrap_or_default(),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            viewed_at: row.viewed_at.map(utc),
        }
    }
}
