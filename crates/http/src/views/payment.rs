//! Payments, refunds, saved cards and the account history, as staff and portal contacts see
//! them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_app::payments::PaymentRecord;
use vestibule_app::payments::statement::{Statement as StatementRecord, StatementLine as LineRecord, StatementQuery};
use vestibule_domain::ids::{ClientId, ContactId, InvoiceId, MatterId, PaymentId, PaymentMethodId, RefundId, StaffId};
use vestibule_domain::money;
use vestibule_domain::payment::{PaymentMethod, PaymentStatus, StatementKind};
use vestibule_storage::payment_methods::PaymentMethodRow;
use vestibule_storage::payments::{AllocationRow, ChargeRow, RefundRow};

use crate::error::ApiError;
use crate::routes::utc;

#[derive(Debug, Serialize, ToSchema)]
pub struct Payment {
    pub id: PaymentId,
    pub client_id: ClientId,
    pub matter_id: Option<MatterId>,
    /// The payment's id in the billing system.
    pub external_id: Option<String>,
    /// In the currency's minor unit (cents).
    pub amount_minor: i64,
    /// How much of it has been given back (or is being).
    pub refunded_minor: i64,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    pub received_on: NaiveDate,
    pub method: PaymentMethod,
    /// The payer's or the bank's reference.
    pub reference: Option<String>,
    /// `pending` while a card payment awaits the processor (its amount is held on the
    /// invoices); `failed` ones allocate nothing.
    pub status: PaymentStatus,
    /// What it paid, invoice by invoice; anything left stays on the client's account.
    pub allocations: Vec<Allocation>,
    pub refunds: Vec<Refund>,
    /// For card payments through the portal.
    pub card: Option<CardCharge>,
    /// The staff member who recorded it; `null` for integrations and card payments.
    pub recorded_by_staff_id: Option<StaffId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Allocation {
    pub invoice_id: InvoiceId,
    pub amount_minor: i64,
    /// How much of this allocation refunds gave back.
    pub refunded_minor: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Refund {
    pub id: RefundId,
    pub amount_minor: i64,
    pub currency: String,
    pub refunded_on: NaiveDate,
    /// Staff's note; not shown in the portal.
    pub reason: Option<String>,
    pub status: RefundStatus,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Asked of the processor, not confirmed yet.
    Pending,
    Succeeded,
    Failed,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CardCharge {
    /// `stripe`.
    pub processor: String,
    pub paid_by_contact_id: ContactId,
    /// The saved card it was paid with; `null` for a card entered for this payment.
    pub payment_method_id: Option<PaymentMethodId>,
    /// Why it failed, in the processor's words.
    pub failure_reason: Option<String>,
    /// The card holder disputed it with their bank.
    pub disputed: bool,
}

/// Who looks: the portal sees neither staff ids nor staff's refund notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Staff,
    Portal,
}

impl Payment {
    pub fn view(record: PaymentRecord, audience: Audience) -> Self {
        let PaymentRecord { payment, charge, allocations, refunds } = record;
        let staff = audience == Audience::Staff;
        Self {
            id: PaymentId::from_trusted(payment.id),
            client_id: ClientId::from_trusted(payment.client_id),
            matter_id: payment.matter_id.map(MatterId::from_trusted),
            external_id: payment.external_id,
            amount_minor: payment.amount_minor,
            refunded_minor: payment.refunded_minor,
            currency: payment.currency,
            received_on: payment.received_on,
            method: PaymentMethod::parse(&payment.method).unwrap_or(PaymentMethod::Other),
            reference: payment.reference,
            status: PaymentStatus::parse(&payment.status).unwrap_or(PaymentStatus::Pending),
            allocations: allocations.into_iter().map(Allocation::from).collect(),
            refunds: refunds.into_iter().map(|r| Refund::view(r, staff)).collect(),
            card: charge.map(CardCharge::from),
            recorded_by_staff_id: payment.recorded_by_staff_id.filter(|_| staff).map(StaffId::from_trusted),
            created_at: utc(payment.created_at),
            updated_at: utc(payment.updated_at),
        }
    }
}

impl From<AllocationRow> for Allocation {
    fn from(row: AllocationRow) -> Self {
        Self {
            invoice_id: InvoiceId::from_trusted(row.invoice_id),
            amount_minor: row.amount_minor,
            refunded_minor: row.refunded_minor,
        }
    }
}

impl Refund {
    fn view(row: RefundRow, staff: bool) -> Self {
        Self {
            id: RefundId::from_trusted(row.id),
            amount_minor: row.amount_minor,
            currency: row.currency,
            refunded_on: row.refunded_on,
            reason: row.reason.filter(|_| staff),
            status: match row.status.as_str() {
                "succeeded" => RefundStatus::Succeeded,
                "failed" => RefundStatus::Failed,
                _ => RefundStatus::Pending,
            },
            created_at: utc(row.created_at),
        }
    }
}

impl From<ChargeRow> for CardCharge {
    fn from(row: ChargeRow) -> Self {
        Self {
            processor: row.processor,
            paid_by_contact_id: ContactId::from_trusted(row.contact_id),
            payment_method_id: row.payment_method_id.map(PaymentMethodId::from_trusted),
            failure_reason: row.failure_reason,
            disputed: row.disputed_at.is_some(),
        }
    }
}

/// A card a contact saved at the processor: display fields only.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedCard {
    pub id: PaymentMethodId,
    /// `visa`, `mastercard`, `amex`, …
    pub brand: String,
    pub last4: String,
    #[schema(minimum = 1, maximum = 12)]
    pub exp_month: i32,
    pub exp_year: i32,
    /// Offered first when paying.
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

impl From<PaymentMethodRow> for SavedCard {
    fn from(row: PaymentMethodRow) -> Self {
        Self {
            id: PaymentMethodId::from_trusted(row.id),
            brand: row.brand,
            last4: row.last4,
            exp_month: row.exp_month,
            exp_year: row.exp_year,
            is_default: row.is_default,
            created_at: utc(row.created_at),
        }
    }
}

/// A client's account history, one page of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Statement {
    pub client_id: ClientId,
    /// The currency of every line; `null` while the client has no issued invoice.
    pub currency: Option<String>,
    /// What the client owed before this page's first line (before `from` on the first page).
    pub opening_balance_minor: i64,
    pub data: Vec<StatementLine>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementLine {
    pub kind: StatementKind,
    /// The invoice's, payment's or refund's id.
    pub id: String,
    pub date: NaiveDate,
    /// Always positive: invoices and refunds add to what the client owes, payments take
    /// from it.
    pub amount_minor: i64,
    pub matter_id: Option<MatterId>,
    /// The invoice's number, or the payment's reference.
    pub label: Option<String>,
    /// For payments: how the money came.
    pub method: Option<PaymentMethod>,
    /// For refunds: the payment it gave money back on.
    pub payment_id: Option<PaymentId>,
    /// What the client owes after this line (negative: money on account).
    pub balance_minor: i64,
}

impl From<StatementRecord> for Statement {
    fn from(record: StatementRecord) -> Self {
        Self {
            client_id: ClientId::from_trusted(record.client_id),
            currency: record.currency,
            opening_balance_minor: record.opening_balance_minor,
            data: record.lines.into_iter().map(StatementLine::from).collect(),
            next_cursor: record.next_cursor,
        }
    }
}

impl From<LineRecord> for StatementLine {
    fn from(record: LineRecord) -> Self {
        let LineRecord { line, balance_minor } = record;
        Self {
            kind: line.position.kind,
            id: line.position.id,
            date: line.position.date,
            amount_minor: line.amount_minor,
            matter_id: line.matter_id.map(MatterId::from_trusted),
            label: line.label,
            method: line.method.as_deref().and_then(PaymentMethod::parse),
            payment_id: line.payment_id.map(PaymentId::from_trusted),
            balance_minor,
        }
    }
}

/// The account history's filters, for staff and for the portal.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementParams {
    /// ISO 4217; defaults to the currency of the client's latest invoice.
    pub currency: Option<String>,
    pub matter_id: Option<MatterId>,
    /// First day, inclusive; what was owed before it is the opening balance.
    pub from: Option<NaiveDate>,
    /// Last day, inclusive.
    pub to: Option<NaiveDate>,
}

impl StatementParams {
    pub fn query(self) -> Result<StatementQuery, ApiError> {
        let currency = self.currency.map(|c| money::currency(&c).map_err(|e| e.at("#/query/currency"))).transpose()?;
        if let (Some(from), Some(to)) = (self.from, self.to)
            && to < from
        {
            return Err(ApiError::field("#/query/to", "before_from", "the range ends before it starts"));
        }
        Ok(StatementQuery { currency, matter_id: self.matter_id, from: self.from, to: self.to })
    }
}
