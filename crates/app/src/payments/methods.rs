//! Cards a portal contact saves for later payments (seed 004). The processor's JavaScript
//! collects the card against a setup Vestibule starts; the card appears here once the
//! processor confirms it (the contact's confirm call or the processor's webhook). Only the
//! processor's tokens and display fields are kept.

use vestibule_domain::events::EventType;
use vestibule_domain::ids::{PaymentMethodId, PaymentSetupId};
use vestibule_storage::payment_methods::{self as rows, PaymentMethodRow, SetupRow};
use vestibule_storage::{DbConnection, contacts, write_tx};

use super::card::{processor_of, unavailable};
use super::ledger::Actor;
use super::processor::{Card, CardProcessor, NewCustomer, ProcessorError, SetupState};
use crate::audit::Entry;
use crate::context::Context;
use crate::documents::portal_contact;
use crate::error::{AppError, AppResult};
use crate::runner::Db;

/// A started setup: the frontend hands `client_secret` to the processor's JavaScript.
#[derive(Debug, Clone)]
pub struct SetupStarted {
    pub setup: SetupRow,
    pub client_secret: String,
}

/// The processor's customer for the signed-in contact, made the first time it is needed.
pub(super) async fn customer(db: &Db, ctx: &Context, processor: &dyn CardProcessor) -> AppResult<String> {
    let me = portal_contact(ctx)?.clone();
    let name = processor.name();
    let (firm_id, contact_id) = (me.firm_id.to_string(), me.contact_id.to_string());
    let (known, contact) = {
        let (firm_id, contact_id) = (firm_id.clone(), contact_id.clone());
        db.run(move |conn| {
            Ok((rows::customer_of(conn, &contact_id, name)?, contacts::get(conn, &firm_id, &contact_id)?))
        })
        .await?
    };
    if let Some(customer) = known {
        return Ok(customer);
    }
    let new = NewCustomer {
        email: contact.email.unwrap_or_default(),
        name: format!("{} {}", contact.first_name, contact.last_name).trim().to_owned(),
        reference: contact_id.clone(),
    };
    let created = processor.create_customer(&new).await.map_err(unavailable)?;
    db.run(move |conn| {
        write_tx(conn, |conn| {
            // Two first payments at once: the one that lost uses the winner's customer.
            if let Some(customer) = rows::customer_of(conn, &contact_id, name)? {
                return Ok(customer);
            }
            rows::insert_customer(conn, &firm_id, &contact_id, name, &created)?;
            Ok(created)
        })
    })
    .await
}

#[tracing::instrument(skip(db, ctx))]
pub async fn start_setup(db: &Db, ctx: &Context) -> AppResult<SetupStarted> {
    let me = portal_contact(ctx)?.clone();
    let processor = processor_of(&ctx.settings)?;
    let customer = customer(db, ctx, processor.as_ref()).await?;
    let started = processor.start_setup(&customer).await.map_err(unavailable)?;
    let setup = SetupRow {
        id: PaymentSetupId::generate().into(),
        firm_id: me.firm_id.to_string(),
        contact_id: me.contact_id.to_string(),
        processor: processor.name().to_owned(),
        processor_ref: started.processor_ref,
        payment_method_id: None,
        created_at: vestibule_storage::now(),
    };
    let row = setup.clone();
    db.run(move |conn| Ok(rows::insert_setup(conn, &row)?)).await?;
    Ok(SetupStarted { setup, client_secret: started.client_secret })
}

/// Asks the processor how the contact's setup ended; a confirmed card is saved (once, however
/// often this is asked, and whether or not the webhook came first).
#[tracing::instrument(skip(db, ctx))]
pub async fn confirm_setup(db: &Db, ctx: &Context, id: PaymentSetupId) -> AppResult<PaymentMethodRow> {
    let me = portal_contact(ctx)?.clone();
    let contact_id = me.contact_id.to_string();
    let setup = db.run(move |conn| Ok(rows::setup_of(conn, &contact_id, id.as_str())?)).await?;
    let processor = processor_of(&ctx.settings)?;
    let state = processor.setup_state(&setup.processor_ref).await.map_err(unavailable)?;
    let step = ctx.clone();
    match state {
        SetupState::Succeeded(card) => db.run(move |conn| save(conn, Actor::of(&step), &setup, card)).await,
        SetupState::Pending => Err(AppError::conflict(
            "setup_pending",
            "the processor has not confirmed the card yet; confirm it in the card form first",
        )),
        SetupState::Failed(message) => Err(AppError::Declined { decline_code: "setup_failed".to_owned(), message }),
    }
}

/// Saves the card a setup confirmed; the contact's first card becomes their default.
pub(super) fn save(
    conn: &mut DbConnection,
    actor: Actor<'_>,
    setup: &SetupRow,
    card: Card,
) -> AppResult<PaymentMethodRow> {
    write_tx(conn, |conn| {
        if let Some(known) = rows::by_processor_ref(conn, &setup.processor, &card.processor_ref)? {
            return Ok(known);
        }
        let first = rows::list_of(conn, &setup.contact_id)?.is_empty();
        let row = PaymentMethodRow {
            id: PaymentMethodId::generate().into(),
            firm_id: setup.firm_id.clone(),
            contact_id: setup.contact_id.clone(),
            processor: setup.processor.clone(),
            processor_ref: card.processor_ref,
            brand: card.brand,
            last4: card.last4,
            exp_month: card.exp_month,
            exp_year: card.exp_year,
            is_default: first,
            created_at: vestibule_storage::now(),
        };
        rows::insert(conn, &row)?;
        rows::complete_setup(conn, &setup.id, &row.id)?;
        let entry =
            Entry::success("payment_method.saved", "payment_method", &row.id).publishes(EventType::PaymentMethodSaved);
        actor.record(conn, entry)?;
        Ok(row)
    })
}

#[tracing::instrument(skip(conn, ctx))]
pub fn list(conn: &mut DbConnection, ctx: &Context) -> AppResult<Vec<PaymentMethodRow>> {
    let me = portal_contact(ctx)?;
    Ok(rows::list_of(conn, me.contact_id.as_str())?)
}

#[tracing::instrument(skip(conn, ctx))]
pub fn make_default(conn: &mut DbConnection, ctx: &Context, id: &PaymentMethodId) -> AppResult<PaymentMethodRow> {
    let me = portal_contact(ctx)?;
    write_tx(conn, |conn| {
        let method = rows::get_of(conn, me.contact_id.as_str(), id.as_str())?;
        rows::set_default(conn, &method.contact_id, &method.id)?;
        Ok(PaymentMethodRow { is_default: true, ..method })
    })
}

/// Detaches the card at the processor, then forgets it. A card the processor no longer
/// knows is forgotten all the same.
#[tracing::instrument(skip(db, ctx))]
pub async fn remove(db: &Db, ctx: &Context, id: PaymentMethodId) -> AppResult<()> {
    let me = portal_contact(ctx)?.clone();
    let contact_id = me.contact_id.to_string();
    let method = db.run(move |conn| Ok(rows::get_of(conn, &contact_id, id.as_str())?)).await?;
    let processor = processor_of(&ctx.settings)?;
    match processor.detach(&method.processor_ref).await {
        Ok(()) | Err(ProcessorError::Rejected { status: 404, .. }) => {}
        Err(error) => return Err(unavailable(error)),
    }
    let step = ctx.clone();
    db.run(move |conn| {
        write_tx(conn, |conn| {
            rows::delete(conn, &method.id)?;
            if method.is_default
                && let Some(next) = rows::list_of(conn, &method.contact_id)?.first()
            {
                rows::set_default(conn, &method.contact_id, &next.id)?;
            }
            let entry = Entry::success("payment_method.removed", "payment_method", &method.id)
                .publishes(EventType::PaymentMethodRemoved);
            Actor::of(&step).record(conn, entry)?;
            Ok(())
        })
    })
    .await
}
