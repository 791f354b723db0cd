//! Per-client rate limits: one counter per client and minute, incremented
//! atomically and never read again once the minute is over.

use chrono::{DateTime, Utc};

use super::keys;
use crate::error::Error;
use crate::kv::KeyValue;

/// Counts `cost` attempts by `client` in the current minute under `scope`
/// (e.g. "verify"), and answers `RATE_LIMITED` with the seconds left in
/// the minute once `limit` is passed. Atomic `increment` only; old
/// minutes' counters are never read again (a backend with expiry may drop
/// them).
pub fn check_rate_limit(
    kv: &(impl KeyValue + ?Sized),
    scope: &str,
    client: &str,
    cost: u32,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let count = kv.increment(
        &keys::rate_limit(scope, client, now),
        i64::from(cost.max(1)),
    )?;
    if count > i64::from(limit) {
        let retry_after_secs = 60 - u64::from(now.timestamp().rem_euclid(60) as u32);
        return Err(Error::RateLimited { retry_after_secs });
    }
    Ok(())
}
