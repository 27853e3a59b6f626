//! Invoices (seed 004): created by staff or upserted by the billing system, emailed to
//! recipients, optionally inviting the `to` recipients to the portal (never cc or bcc); and
//! the invoices a signed-in contact's portal shows.

use vestibule_domain::authz::{Action, authorize, matter_visibility};
use vestibule_domain::cursor::Page;
use vestibule_domain::events::EventType;
use vestibule_domain::ids::{ClientId, InvoiceId, MatterId};
use vestibule_domain::mail::{self, Email};
use vestibule_domain::payment::InvoiceStatus;
use vestibule_domain::portal::{InvitationSource, PortalKind};
use vestibule_domain::principal::{ContactPrincipal, Principal};
use vestibule_storage::invoices::{self, InvoiceFilter, InvoiceRow};
use vestibule_storage::{DbConnection, clients, matters, outbox, write_tx};

use crate::audit::{self, Entry};
use crate::context::Context;
use crate::error::{AppError, AppResult, OrUnknown};
use crate::page::Listed;
use crate::portal_access::{self, Invitee};
use crate::upsert::Upserted;

/// An invoice to create, or to become under an external id; values already validated.
#[derive(Debug, Clone)]
pub struct NewInvoice {
    pub client_id: ClientId,
    pub matter_id: Option<MatterId>,
    pub number: String,
    pub external_id: Option<String>,
    pub issue_date: chrono::NaiveDate,
    pub due_date: Option<chrono::NaiveDate>,
    /// ISO 4217, upper case.
    pub currency: String,
    pub total_minor: i64,
    /// One of [`InvoiceStatus::SETTABLE`]; payments settle the rest.
    pub status: InvoiceStatus,
    /// The lines as stored: a JSON array.
    pub lines: String,
}

impl NewInvoice {
    /// The invoice as stored once `paid_minor` of it has been paid.
    fn row(self, firm_id: &str, id: String, paid_minor: i64) -> InvoiceRow {
        let now = vestibule_storage::now();
        let balance_minor = self.total_minor - paid_minor;
        let status = match self.status {
            InvoiceStatus::Draft | InvoiceStatus::Void => self.status,
            _ => InvoiceStatus::settled(self.total_minor, balance_minor),
        };
        InvoiceRow {
            id,
            firm_id: firm_id.to_owned(),
            client_id: self.client_id.into(),
            matter_id: self.matter_id.map(String::from),
            number: self.number,
            external_id: self.external_id,
            issue_date: self.issue_date,
            due_date: self.due_date,
            currency: self.currency,
            total_minor: self.total_minor,
            balance_minor,
            status: status.as_str().to_owned(),
            lines: self.lines,
            created_at: now,
            updated_at: now,
            viewed_at: None,
        }
    }
}

/// The "email invoice" dialog, its addresses parsed; `to` empty means the default.
#[derive(Debug)]
pub struct InvoiceEmail {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: Option<String>,
    pub message: Option<String>,
    pub invite_recipients: bool,
}

/// Whom the invoice went to, and which `to` recipients were invited to the portal now.
#[derive(Debug)]
pub struct Emailed {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub invited: Vec<String>,
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(
    conn: &mut DbConnection,
    ctx: &Context,
    filter: &InvoiceFilter,
    page: &Page,
) -> AppResult<Listed<InvoiceRow>> {
    authorize(&ctx.principal, Action::ReadInvoices)?;
    let visibility = matter_visibility(&ctx.principal);
    let rows = invoices::list(conn, ctx.firm_id(), &visibility, filter, page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |r| r.id.clone()))
}

#[tracing::instrument(skip(conn, ctx))]
pub fn get(conn: &mut DbConnection, ctx: &Context, id: &InvoiceId) -> AppResult<InvoiceRow> {
    authorize(&ctx.principal, Action::ReadInvoices)?;
    Ok(invoices::get(conn, ctx.firm_id(), id.as_str(), &matter_visibility(&ctx.principal))?)
}

#[tracing::instrument(skip(conn, ctx))]
pub fn create(conn: &mut DbConnection, ctx: &Context, new: NewInvoice) -> AppResult<InvoiceRow> {
    authorize(&ctx.principal, Action::WriteInvoices)?;
    let row = new.row(ctx.firm_id(), InvoiceId::generate().into(), 0);
    write_tx(conn, |conn| insert(conn, ctx, row))
}

/// Creates or replaces the invoice with this external id; `true` when it created. The same
/// values again change nothing.
#[tracing::instrument(skip(conn, ctx))]
pub fn upsert(
    conn: &mut DbConnection,
    ctx: &Context,
    external_id: &str,
    new: NewInvoice,
) -> AppResult<Upserted<InvoiceRow>> {
    authorize(&ctx.principal, Action::WriteInvoices)?;
    write_tx(conn, |conn| {
        let firm_id = ctx.firm_id();
        let Some(existing) = invoices::find_by_external_id(conn, firm_id, external_id)? else {
            return Ok(Upserted::Created(insert(conn, ctx, new.row(firm_id, InvoiceId::generate().into(), 0))?));
        };
        // An invoice the caller cannot see stays invisible, even through its external id.
        invoices::get(conn, firm_id, &existing.id, &matter_visibility(&ctx.principal))?;
        let paid = existing.total_minor - existing.balance_minor;
        if paid > 0 && !new.status.payable() {
            return Err(AppError::conflict(
                "invoice_has_payments",
                "an invoice with payments cannot become a draft or void; refund the payments first",
            ));
        }
        if new.total_minor < paid {
            return Err(AppError::conflict(
                "total_below_paid",
                format!("{paid} has been paid on this invoice; its total cannot be less"),
            ));
        }
        let mut row = new.row(firm_id, existing.id.clone(), paid);
        check_references(conn, &ctx.principal, &row)?;
        row.created_at = existing.created_at;
        row.viewed_at = existing.viewed_at;
        if (InvoiceRow { updated_at: existing.updated_at, ..row.clone() }) == existing {
            return Ok(Upserted::Existed(existing));
        }
        invoices::replace(conn, &row)?;
        let entry = Entry::success("invoice.updated", "invoice", &row.id).publishes(EventType::InvoiceUpdated);
        audit::record(conn, ctx, entry)?;
        Ok(Upserted::Existed(row))
    })
}

fn insert(conn: &mut DbConnection, ctx: &Context, row: InvoiceRow) -> AppResult<InvoiceRow> {
    check_references(conn, &ctx.principal, &row)?;
    invoices::insert(conn, &row)?;
    let entry = Entry::success("invoice.created", "invoice", &row.id).publishes(EventType::InvoiceCreated);
    audit::record(conn, ctx, entry)?;
    Ok(row)
}

/// The client exists and the matter, if any, is the client's and visible to the caller.
fn check_references(conn: &mut DbConnection, principal: &Principal, row: &InvoiceRow) -> AppResult<()> {
    let firm_id = principal.firm_id().as_str();
    if !clients::exists(conn, firm_id, &row.client_id)? {
        return Err(AppError::field("/client_id", "unknown_reference", "no such client in this firm"));
    }
    if let Some(matter) = &row.matter_id {
        let found = matters::get(conn, firm_id, matter, &matter_visibility(principal))
            .or_unknown("/matter_id", "no such matter visible to you")?;
        if found.client_id != row.client_id {
            return Err(AppError::field("/matter_id", "wrong_client", "the matter belongs to another client"));
        }
    }
    Ok(())
}

/// Queues the invoice email. Without `to`, it goes to the matter's address, else the
/// client's first. With `invite_recipients`, each `to` recipient becomes (or stays) a
/// contact of the client with a portal granting the client, and is invited unless
/// registered already.
#[tracing::instrument(skip(conn, ctx, email))]
pub fn email(conn: &mut DbConnection, ctx: &Context, id: &InvoiceId, email: InvoiceEmail) -> AppResult<Emailed> {
    authorize(&ctx.principal, Action::WriteInvoices)?;
    write_tx(conn, |conn| {
        let firm_id = ctx.firm_id();
        let visibility = matter_visibility(&ctx.principal);
        let invoice = invoices::get(conn, firm_id, id.as_str(), &visibility)?;
        let client = clients::get(conn, firm_id, &invoice.client_id)?;
        let to: Vec<String> = if email.to.is_empty() {
            let matter_email = match &invoice.matter_id {
                Some(matter) => matters::get(conn, firm_id, matter, &visibility)?.email,
                None => None,
            };
            matter_email.or_else(|| client.emails.first().cloned()).into_iter().collect()
        } else {
            email.to
        };
        let Some(first) = to.first() else {
            return Err(AppError::field(
                "/to",
                "required",
                "the invoice's matter and client have no email; name a recipient",
            ));
        };
        let mut invited = Vec::new();
        if email.invite_recipients {
            for address in &to {
                if invite_recipient(conn, ctx, &invoice, &client.row.name, address)? {
                    invited.push(address.clone());
                }
            }
        }
        let (cc, bcc) = (email.cc, email.bcc);
        let entry = Entry::success("invoice.emailed", "invoice", &invoice.id).with_details(
            serde_json::json!({ "to": to.len(), "cc": cc.len(), "bcc": bcc.len(), "invited": invited.len() }),
        );
        let event = audit::record_publishing(conn, ctx, entry, EventType::InvoiceEmailed)?;
        let content = Email::InvoiceEmailed(mail::Invoice {
            to: to.clone(),
            cc: cc.clone(),
            bcc: bcc.clone(),
            subject: email.subject,
            message: email.message,
            number: invoice.number.clone(),
            link: ctx.settings.link(&format!("/portal/invoices/{}", invoice.id)),
            pay_link: payable_by_card(&ctx.settings, &invoice)
                .then(|| ctx.settings.link(&format!("/portal/invoices/{}/pay", invoice.id))),
        });
        outbox::queue_email(conn, &event, first, &content)?;
        Ok(Emailed { to, cc, bcc, invited })
    })
}

/// The portal takes a card for it: the firm has a processor and the invoice owes something.
pub fn payable_by_card(settings: &crate::Settings, invoice: &InvoiceRow) -> bool {
    settings.processor.is_some()
        && invoice.balance_minor > 0
        && InvoiceStatus::parse(&invoice.status).is_some_and(InvoiceStatus::payable)
}

/// Gives a `to` recipient the client's portal; `true` when an invitation went out.
fn invite_recipient(
    conn: &mut DbConnection,
    ctx: &Context,
    invoice: &InvoiceRow,
    client_name: &str,
    address: &str,
) -> AppResult<bool> {
    let local = address.split('@').next().unwrap_or(address).to_owned();
    let names = Some((local, client_name.to_owned()));
    let contact = portal_access::contact_by_email(conn, ctx.firm_id(), &invoice.client_id, address, names)?;
    let (portal, _) = portal_access::ensure_portal(conn, ctx, &contact, PortalKind::Full, None)?;
    portal_access::grant(conn, ctx, &portal, Some(&invoice.client_id), None)?;
    if portal.activated_at.is_some() {
        return Ok(false);
    }
    let invitee = Invitee {
        portal: &portal,
        contact: &contact,
        client_id: Some(&invoice.client_id),
        source: InvitationSource::Invoice,
    };
    portal_access::invite(conn, ctx, invitee)?;
    Ok(true)
}

/// Invoices of the clients and matters the contact's portal grants (drafts excepted).
#[tracing::instrument(skip_all)]
pub fn list_mine(conn: &mut DbConnection, me: &ContactPrincipal, page: &Page) -> AppResult<Listed<InvoiceRow>> {
    let portal = portal_access::portal_of(conn, me)?;
    let rows = invoices::list_for_portal(conn, &portal, page.after.as_deref(), page.limit)?;
    Ok(Listed::finish(page, rows, |r| r.id.clone()))
}

/// One invoice of the contact's portal. The first time a contact opens it, the firm hears of
/// it (`invoice.viewed`); later views write nothing.
#[tracing::instrument(skip(conn, ctx))]
pub fn get_mine(conn: &mut DbConnection, ctx: &Context, id: &InvoiceId) -> AppResult<InvoiceRow> {
    let me = crate::documents::portal_contact(ctx)?;
    let portal = portal_access::portal_of(conn, me)?;
    let invoice = invoices::get_for_portal(conn, &portal, id.as_str())?;
    if invoice.viewed_at.is_some() {
        return Ok(invoice);
    }
    write_tx(conn, |conn| {
        if invoices::mark_viewed(conn, &invoice.id)? {
            let entry = Entry::success("invoice.viewed", "invoice", &invoice.id).publishes(EventType::InvoiceViewed);
            audit::record(conn, ctx, entry)?;
        }
        Ok(InvoiceRow { viewed_at: Some(vestibule_storage::now()), ..invoice })
    })
}
