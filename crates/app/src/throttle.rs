//! Limits on attempts per address (sign-in and password steps, access-link codes), counted in
//! the database so that every instance shares them.

use vestibule_domain::rate_limit::Limit;
use vestibule_storage::{DbConnection, rate_limits};

use crate::error::{AppError, AppResult};

/// One limit and the counters it keeps (`name` keeps sign-in and link-code counts apart).
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    pub name: &'static str,
    pub limit: Limit,
}

impl Throttle {
    pub fn per_minute(name: &'static str, attempts: u32) -> Self {
        Self { name, limit: Limit { attempts, window_secs: 60 } }
    }
}

/// Counts an attempt from `address`; past the limit, refuses it (429 with the wait) and takes
/// it back out of the count.
#[tracing::instrument(skip(conn))]
pub fn attempt(conn: &mut DbConnection, throttle: &Throttle, address: &str, detail: &'static str) -> AppResult<()> {
    let now = vestibule_storage::now().and_utc().timestamp();
    let bucket = format!("{}:{address}", throttle.name);
    let window_start = throttle.limit.window_start(now);
    let hits = rate_limits::hit(conn, &bucket, window_start, throttle.limit.window_secs)?;
    let count = |n: i32| u32::try_from(n).unwrap_or(0);
    match throttle.limit.judge(now, count(hits.hits), count(hits.previous_hits)) {
        Ok(()) => Ok(()),
        Err(retry_after_secs) => {
            rate_limits::take_back(conn, &bucket, window_start)?;
            Err(AppError::TooManyRequests { retry_after_secs, detail })
        }
    }
}
