//! Rate limits: per client and China-time minute, plus a global ceiling of
//! distinct visitors per minute. One atomic `increment` for a repeat visitor,
//! a second one for the first visit of a minute (the visitor counter).
//!
//! The counter's value after the increment names the request's access-log
//! slot ([`crate::audit::access`]); the minute's visitors are indexed (item
//! written with the visitor's first access entry) so that a day's counters
//! are found, checked and pruned without a key scan.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::keys::{self, RateMinute};
use crate::error::Error;
use crate::kv::KeyValue;

/// The limits one scope is admitted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Attempts (codes, for a batch) per client and minute.
    pub per_client: u32,
    /// Distinct clients per minute, for the whole service.
    pub visitors: u32,
}

/// The visitor index item: who the k-th visitor of a minute was, and the
/// per-client limit it was admitted under (the checker needs it to know
/// which slots were refusals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedVisitor {
    pub client: String,
    pub limit: u32,
}

/// A request counted against its limits and admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub minute: RateMinute,
    pub client: String,
    /// The client's counter after this request: the last slot it covers.
    pub count: u64,
    /// Slots this request covers (codes in a batch).
    pub cost: u32,
    pub limit: u32,
    /// Seconds until the minute ends and the counter starts again.
    pub reset_secs: u64,
    /// For the first visit of the minute: the visitor's position `k`, whose
    /// index item is written with the access entry.
    pub visitor: Option<u64>,
}

impl Admission {
    pub fn remaining(&self) -> u64 {
        u64::from(self.limit).saturating_sub(self.count)
    }

    /// The writes that index this visitor, when this is its first visit of
    /// the minute: to go in the same `set_many` as the access entry.
    pub fn index_writes(&self) -> Result<Vec<(String, Vec<u8>)>, Error> {
        visitor_writes(&self.minute, self.visitor, &self.client, self.limit)
    }
}

fn visitor_writes(
    minute: &RateMinute,
    visitor: Option<u64>,
    client: &str,
    limit: u32,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let Some(k) = visitor else {
        return Ok(Vec::new());
    };
    let item = serde_json::to_vec(&IndexedVisitor {
        client: client.to_owned(),
        limit,
    })
    .map_err(|e| Error::Internal(format!("serialize: {e}")))?;
    Ok(vec![
        (minute.visitors().slot(k), item),
        (minute.active(), b"1".to_vec()),
    ])
}

/// Seconds left in `now`'s minute (1..=60).
pub fn seconds_to_minute_end(now: DateTime<Utc>) -> u64 {
    60 - now.timestamp().rem_euclid(60) as u64
}

/// Counts `cost` attempts by `client` in the current minute under `scope`.
/// Over the per-client limit: `RATE_LIMITED`; a new visitor past the
/// ceiling of distinct visitors: `TOO_MANY_VISITORS` (and its counter is raised
/// past its limit, so the rest of its minute is refused too, without
/// counting it as a visitor again). Both with the seconds left in the
/// minute. A refused first visit is still indexed, so its counter is pruned
/// with the day.
pub fn admit(
    kv: &(impl KeyValue + ?Sized),
    scope: &str,
    client: &str,
    cost: u32,
    limits: Limits,
    now: DateTime<Utc>,
) -> Result<Admission, Error> {
    let minute = keys::rate_minute(scope, now);
    let cost = cost.max(1);
    let counter = minute.client(client);
    let count = kv.increment(&counter, i64::from(cost))?.max(0) as u64;
    let reset_secs = seconds_to_minute_end(now);
    let first = count == u64::from(cost);
    let visitor = if first {
        Some(kv.increment(&minute.visitors().counter(), 1)?.max(0) as u64)
    } else {
        None
    };
    let refuse = |error: Error| -> Result<Admission, Error> {
        let index = visitor_writes(&minute, visitor, client, limits.per_client)?;
        if !index.is_empty() {
            kv.set_many(&index)?;
        }
        Err(error)
    };
    if visitor.is_some_and(|k| k > u64::from(limits.visitors)) {
        kv.increment(&counter, i64::from(limits.per_client))?;
        return refuse(Error::TooManyVisitors {
            retry_after_secs: reset_secs,
        });
    }
    if count > u64::from(limits.per_client) {
        return refuse(Error::RateLimited {
            retry_after_secs: reset_secs,
        });
    }
    Ok(Admission {
        minute,
        client: client.to_owned(),
        count,
        cost,
        limit: limits.per_client,
        reset_secs,
        visitor,
    })
}
