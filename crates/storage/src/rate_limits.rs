//! Attempt counters shared by every instance (see `vestibule_domain::rate_limit`).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

use crate::db::DbConnection;
use crate::error::StorageResult;
use crate::schema::rate_limits;

/// The counts of a bucket after an attempt: this window's (the attempt included) and the
/// previous window's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct Hits {
    #[diesel(sql_type = Integer)]
    pub hits: i32,
    #[diesel(sql_type = Integer)]
    pub previous_hits: i32,
}

/// Counts one attempt in `bucket` in the fixed window starting at `window_start` (Unix
/// seconds, `window_secs` long), in one statement, so attempts racing on several instances
/// are all counted.
pub fn hit(conn: &mut DbConnection, bucket: &str, window_start: i64, window_secs: i64) -> StorageResult<Hits> {
    // `?N` is a numbered parameter on SQLite and `$N` on PostgreSQL; the statement is the same.
    let sql = |p: char| {
        format!(
            "INSERT INTO rate_limits (bucket, window_start, hits, previous_hits) VALUES ({p}1, {p}2, 1, 0) \
             ON CONFLICT (bucket) DO UPDATE SET \
             previous_hits = CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.previous_hits \
                                  WHEN rate_limits.window_start = excluded.window_start - {p}3 THEN rate_limits.hits \
                                  ELSE 0 END, \
             hits = CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.hits + 1 ELSE 1 END, \
             window_start = excluded.window_start \
             RETURNING hits, previous_hits"
        )
    };
    let hits = match conn {
        DbConnection::Postgres(pg) => diesel::sql_query(sql('$'))
            .bind::<Text, _>(bucket)
            .bind::<BigInt, _>(window_start)
            .bind::<BigInt, _>(window_secs)
            .get_result(pg)?,
        DbConnection::Sqlite(sqlite) => diesel::sql_query(sql('?'))
            .bind::<Text, _>(bucket)
            .bind::<BigInt, _>(window_start)
            .bind::<BigInt, _>(window_secs)
            .get_result(sqlite)?,
    };
    Ok(hits)
}

/// Deletes the counters of windows that started before `window_start`.
pub fn purge_before(conn: &mut DbConnection, window_start: i64) -> StorageResult<usize> {
    Ok(diesel::delete(rate_limits::table.filter(rate_limits::window_start.lt(window_start))).execute(conn)?)
}

/// Takes a refused attempt back out of the window it was counted in.
pub fn take_back(conn: &mut DbConnection, bucket: &str, window_start: i64) -> StorageResult<()> {
    diesel::update(
        rate_limits::table
            .filter(rate_limits::bucket.eq(bucket).and(rate_limits::window_start.eq(window_start)))
            .filter(rate_limits::hits.gt(0)),
    )
    .set(rate_limits::hits.eq(rate_limits::hits - 1))
    .execute(conn)?;
    Ok(())
}
