//! Reminders sent, one row per subject and day: inserting the row is the claim on that day's
//! reminder, so however many instances run the pass, one of them sends it.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::{DbConnection, write_tx};
use crate::error::StorageResult;
use crate::schema::reminders_sent;

/// Claims today's reminder about `subject_id`; false when it was already sent today (by this
/// instance or another). Runs in a savepoint, so a lost claim leaves the caller's
/// transaction usable.
pub fn claim(
    conn: &mut DbConnection,
    firm_id: &str,
    subject_id: &str,
    today: NaiveDate,
    rule: &str,
) -> StorageResult<bool> {
    let inserted = write_tx(conn, |conn| {
        diesel::insert_into(reminders_sent::table)
            .values((
                reminders_sent::subject_id.eq(subject_id),
                reminders_sent::sent_on.eq(today),
                reminders_sent::firm_id.eq(firm_id),
                reminders_sent::rule.eq(rule),
                reminders_sent::created_at.eq(crate::now()),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(other) => Err(other.into()),
    }
}

/// The day of the latest reminder about each subject, in one query.
pub fn last_sent(conn: &mut DbConnection, subject_ids: &[&str]) -> StorageResult<HashMap<String, NaiveDate>> {
    let rows: Vec<(String, Option<NaiveDate>)> = reminders_sent::table
        .filter(reminders_sent::subject_id.eq_any(subject_ids))
        .group_by(reminders_sent::subject_id)
        .select((reminders_sent::subject_id, diesel::dsl::max(reminders_sent::sent_on)))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(id, day)| day.map(|d| (id, d))).collect())
}

/// The rules of every reminder sent about each subject, in one query.
pub fn rules_sent(conn: &mut DbConnection, subject_ids: &[&str]) -> StorageResult<HashMap<String, Vec<String>>> {
    let rows: Vec<(String, String)> = reminders_sent::table
        .filter(reminders_sent::subject_id.eq_any(subject_ids))
        .select((reminders_sent::subject_id, reminders_sent::rule))
        .load(conn)?;
    let mut by_subject: HashMap<String, Vec<String>> = HashMap::new();
    for (subject, rule) in rows {
        by_subject.entry(subject).or_default().push(rule);
    }
    Ok(by_subject)
}
