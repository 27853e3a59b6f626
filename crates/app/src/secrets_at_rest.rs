//! Keeping the secrets stored in the database sealed with the current key: values stored
//! before sealing existed, or under a key being rotated out, are sealed again.

use vestibule_storage::sealing::SecretKeys;
use vestibule_storage::{DbConnection, two_factor, webhooks, write_tx};

use crate::error::AppResult;

/// How many stored secrets a pass sealed again, table by table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Resealed {
    pub webhook_endpoints: usize,
    pub authenticators: usize,
}

impl Resealed {
    pub fn total(&self) -> usize {
        self.webhook_endpoints + self.authenticators
    }
}

/// Seals every stored secret with the current key, in one transaction: a value that does
/// not open (its key is gone) stops the pass with nothing changed.
#[tracing::instrument(skip_all, fields(key = keys.current_id()))]
pub fn reseal(conn: &mut DbConnection, keys: &SecretKeys) -> AppResult<Resealed> {
    write_tx(conn, |conn| {
        Ok(Resealed {
            webhook_endpoints: webhooks::reseal(conn, keys)?,
            authenticators: two_factor::reseal(conn, keys)?,
        })
    })
}
