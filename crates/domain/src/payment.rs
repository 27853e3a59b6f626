//! Payments, their allocations to invoices and their refunds (seed 004), and what an
//! invoice's balance and status follow from.

use chrono::NaiveDate;

/// How the money came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Card,
    BankTransfer,
    Cheque,
    Cash,
    Other,
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Charged, not settled yet: its allocations already hold the invoices' balance.
    Pending,
    Succeeded,
    /// Declined or abandoned: it allocates nothing.
    Failed,
    Refunded,
    PartiallyRefunded,
}

/// An invoice's status as stored: the settlement follows from the allocations; being
/// overdue depends on the day, so it is worked out when read ([`InvoiceStatus::on`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Draft,
    Open,
    PartiallyPaid,
    Paid,
    Overdue,
    Void,
}

names!(PaymentMethod { Card => "card", BankTransfer => "bank_transfer", Cheque => "cheque", Cash => "cash", Other => "other" });
names!(PaymentStatus {
    Pending => "pending",
    Succeeded => "succeeded",
    Failed => "failed",
    Refunded => "refunded",
    PartiallyRefunded => "partially_refunded",
});
names!(InvoiceStatus {
    Draft => "draft",
    Open => "open",
    PartiallyPaid => "partially_paid",
    Paid => "paid",
    Overdue => "overdue",
    Void => "void",
});

impl PaymentStatus {
    /// A settled payment's status once `refunded` of its `amount` has gone back.
    pub fn after_refunds(amount_minor: i64, refunded_minor: i64) -> Self {
        match refunded_minor {
            0 => Self::Succeeded,
            r if r >= amount_minor => Self::Refunded,
            _ => Self::PartiallyRefunded,
        }
    }

    /// Money that reached the firm (refunds are their own entries).
    pub fn received(self) -> bool {
        matches!(self, Self::Succeeded | Self::Refunded | Self::PartiallyRefunded)
    }

    /// Only money received can be given back.
    pub fn refundable(self) -> bool {
        matches!(self, Self::Succeeded | Self::PartiallyRefunded)
    }
}

impl InvoiceStatus {
    /// The statuses a firm sets; the others follow from payments and the calendar.
    pub const SETTABLE: &'static [Self] = &[Self::Draft, Self::Open, Self::Void];

    /// The stored status of an issued invoice with this balance.
    pub fn settled(total_minor: i64, balance_minor: i64) -> Self {
        match balance_minor {
            0 => Self::Paid,
            b if b < total_minor => Self::PartiallyPaid,
            _ => Self::Open,
        }
    }

    /// What the invoice is on `today`: an unpaid (or partly paid) invoice past its due date
    /// is overdue.
    pub fn on(self, due_date: Option<NaiveDate>, today: NaiveDate) -> Self {
        match self {
            Self::Open | Self::PartiallyPaid if due_date.is_some_and(|due| due < today) => Self::Overdue,
            other => other,
        }
    }

    /// Drafts and void invoices take no money.
    pub fn payable(self) -> bool {
        !matches!(self, Self::Draft | Self::Void | Self::Paid)
    }
}

/// Why an amount cannot go to an invoice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error("the invoice is {0} and takes no payment")]
    NotPayable(&'static str),
    #[error("the invoice is in {invoice}, the payment in {payment}")]
    WrongCurrency { invoice: String, payment: String },
    #[error("the invoice's balance is {balance_minor}")]
    ExceedsBalance { balance_minor: i64 },
}

/// The invoice an allocation would draw on, as it stands now.
#[derive(Debug, Clone, Copy)]
pub struct Payable<'a> {
    pub status: InvoiceStatus,
    pub currency: &'a str,
    pub balance_minor: i64,
}

/// An allocation of `amount` in `currency` may go to the invoice only if it is issued, in the
/// same currency, and owes at least as much.
pub fn check_allocation(invoice: Payable<'_>, currency: &str, amount_minor: i64) -> Result<(), AllocationError> {
    if !invoice.status.payable() {
        return Err(AllocationError::NotPayable(invoice.status.as_str()));
    }
    if invoice.currency != currency {
        return Err(AllocationError::WrongCurrency {
            invoice: invoice.currency.to_owned(),
            payment: currency.to_owned(),
        });
    }
    if amount_minor > invoice.balance_minor {
        return Err(AllocationError::ExceedsBalance { balance_minor: invoice.balance_minor });
    }
    Ok(())
}

/// Allocations never add up to more than the payment, and name each invoice once.
pub fn check_allocations<'a>(
    amount_minor: i64,
    allocations: impl IntoIterator<Item = (&'a str, i64)>,
) -> Result<(), &'static str> {
    let mut seen = std::collections::HashSet::new();
    let mut sum = 0i64;
    for (invoice, amount) in allocations {
        if !seen.insert(invoice) {
            return Err("an invoice appears twice among the allocations");
        }
        sum = sum.saturating_add(amount);
    }
    if sum > amount_minor {
        return Err("the allocations add up to more than the payment");
    }
    Ok(())
}

/// How a refund is spread back over a payment's allocations: the latest allocation first,
/// each at most what is left of it. `allocations` are `(index, amount left)` in the order
/// they were made; the answer is `(index, amount given back)`.
pub fn spread_refund(allocations: &[i64], refund_minor: i64) -> Vec<(usize, i64)> {
    let mut left = refund_minor;
    let mut spread = Vec::new();
    for (index, &open) in allocations.iter().enumerate().rev() {
        if left == 0 {
            break;
        }
        let back = open.min(left);
        if back > 0 {
            spread.push((index, back));
            left -= back;
        }
    }
    spread
}

/// Which members (neither owners nor admins) may work with payments: a firm setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberPaymentAccess {
    None,
    View,
    Record,
}

names!(MemberPaymentAccess { None => "none", View => "view", Record => "record" });

/// One line of a client's account history.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    Invoice,
    Payment,
    Refund,
}

names!(StatementKind { Invoice => "invoice", Payment => "payment", Refund => "refund" });

impl StatementKind {
    /// What the line does to the client's balance: invoices and refunds raise what the client
    /// owes, payments lower it.
    pub fn signed(self, amount_minor: i64) -> i64 {
        match self {
            Self::Invoice | Self::Refund => amount_minor,
            Self::Payment => -amount_minor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    #[test]
    fn an_invoice_is_settled_by_its_balance_and_overdue_by_the_calendar() {
        assert_eq!(InvoiceStatus::settled(100, 100), InvoiceStatus::Open);
        assert_eq!(InvoiceStatus::settled(100, 40), InvoiceStatus::PartiallyPaid);
        assert_eq!(InvoiceStatus::settled(100, 0), InvoiceStatus::Paid);
        assert_eq!(InvoiceStatus::Open.on(Some(day(10)), day(11)), InvoiceStatus::Overdue);
        assert_eq!(InvoiceStatus::PartiallyPaid.on(Some(day(10)), day(11)), InvoiceStatus::Overdue);
        assert_eq!(InvoiceStatus::Open.on(Some(day(10)), day(10)), InvoiceStatus::Open, "due today is not late");
        assert_eq!(InvoiceStatus::Paid.on(Some(day(1)), day(11)), InvoiceStatus::Paid);
        assert_eq!(InvoiceStatus::Open.on(None, day(11)), InvoiceStatus::Open);
    }

    #[test]
    fn an_allocation_draws_on_an_issued_invoice_in_its_currency_up_to_its_balance() {
        let open = Payable { status: InvoiceStatus::Open, currency: "EUR", balance_minor: 500 };
        assert!(check_allocation(open, "EUR", 500).is_ok());
        assert_eq!(check_allocation(open, "EUR", 501), Err(AllocationError::ExceedsBalance { balance_minor: 500 }));
        assert!(matches!(check_allocation(open, "USD", 1), Err(AllocationError::WrongCurrency { .. })));
        for status in [InvoiceStatus::Draft, InvoiceStatus::Void, InvoiceStatus::Paid] {
            let payable = Payable { status, ..open };
            assert!(matches!(check_allocation(payable, "EUR", 1), Err(AllocationError::NotPayable(_))));
        }
    }

    #[test]
    fn allocations_stay_within_the_payment_and_name_each_invoice_once() {
        assert!(check_allocations(100, [("a", 60), ("b", 40)]).is_ok());
        assert!(check_allocations(100, [("a", 60)]).is_ok(), "the rest stays on account");
        assert!(check_allocations(100, [("a", 60), ("b", 41)]).is_err());
        assert!(check_allocations(100, [("a", 10), ("a", 10)]).is_err());
    }

    #[test]
    fn a_refund_gives_back_the_latest_allocation_first() {
        assert_eq!(spread_refund(&[60, 40], 50), vec![(1, 40), (0, 10)]);
        assert_eq!(spread_refund(&[60, 0], 10), vec![(0, 10)]);
        assert_eq!(spread_refund(&[60, 40], 0), vec![]);
        assert_eq!(spread_refund(&[30], 50), vec![(0, 30)], "what exceeds the allocations was on account");
    }

    #[test]
    fn refunds_move_a_payment_to_partly_and_wholly_refunded() {
        assert_eq!(PaymentStatus::after_refunds(100, 0), PaymentStatus::Succeeded);
        assert_eq!(PaymentStatus::after_refunds(100, 30), PaymentStatus::PartiallyRefunded);
        assert_eq!(PaymentStatus::after_refunds(100, 100), PaymentStatus::Refunded);
        assert!(!PaymentStatus::Refunded.refundable());
        assert!(!PaymentStatus::Pending.refundable());
    }

    #[test]
    fn payments_lower_what_the_client_owes_and_invoices_and_refunds_raise_it() {
        let lines = [(StatementKind::Invoice, 1000), (StatementKind::Payment, 400), (StatementKind::Refund, 100)];
        let balance: i64 = lines.iter().map(|(kind, amount)| kind.signed(*amount)).sum();
        assert_eq!(balance, 700);
    }
}
