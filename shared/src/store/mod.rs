//! Persistence over the [`KeyValue`] port: records, reports, issued PDFs,
//! verification and rate limits. The key layout of the whole crate is in
//! [`keys`].
//!
//! | module | owns |
//! |---|---|
//! | [`keys`] | every key string, and the table documenting them |
//! | `records` | upserting records, their status, the entity index |
//! | `reports` | issuing, reading and revoking reports |
//! | `issued_pdf` | pinning a report's PDF bytes at first download |
//! | `verification` | verifying by code and by uploaded file |
//! | `rate_limit` | per-client counters per minute, the visitor ceiling and index |
//! | `subscriptions` | revocation subscriptions, each client's event feed, webhook progress and log |
//! | `mandates` | which entities counter staff act for, and until when |
//! | `stats` | the figures' tallies: per data domain, per unit, per China day |

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::kv::KeyValue;
use crate::paging::{self, Order};

mod issued_pdf;
pub mod keys;
mod mandates;
mod rate_limit;
mod records;
mod reports;
mod stats;
mod subscriptions;
mod verification;

pub use issued_pdf::{IssuedPdf, PDF_CHUNK_BYTES};
pub use mandates::Mandate;
pub use rate_limit::{Admission, IndexedVisitor, Limits, admit, seconds_to_minute_end};
pub use records::{Change, NameOnFile, NamesOnFile, StatusChanged, Upserted};
pub use reports::{MAX_REPORT_RECORDS, MAX_SNAPSHOT_BYTES};
pub(crate) use stats::keep_verifications;
pub use verification::{AnswerIndex, GenuineFile};

use keys::ListKeys;

/// How often a compare-and-swap is retried under contention before the
/// store is reported unavailable.
const MAX_CAS_ATTEMPTS: usize = 256;
/// Keys per `get_many` call.
pub(crate) const BATCH: usize = 200;

/// A page of a list's values with their slots, and the position after it.
pub(crate) struct ListPage {
    pub values: Vec<(u64, String)>,
    pub next: Option<u64>,
}

/// The service's storage, over any key-value backend.
pub struct Store<'a, K: KeyValue + ?Sized> {
    kv: &'a K,
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| Error::Internal(format!("serialize: {e}")))
}

pub(crate) fn from_json<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::Internal(format!("corrupt value at {key}: {e}")))
}

pub(crate) fn contention(key: &str) -> Error {
    Error::StoreUnavailable(format!("compare-and-swap contention on {key}"))
}

impl<'a, K: KeyValue + ?Sized> Store<'a, K> {
    pub fn new(kv: &'a K) -> Self {
        Store { kv }
    }

    fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.kv.get(key)?.map(|b| from_json(key, &b)).transpose()
    }

    /// Replaces the JSON document at `key` (absent: the default) with what
    /// `change` makes of it, by compare-and-swap, retrying with a fresh read
    /// under contention; `change` answering `None` leaves it as it is.
    pub(crate) fn update_json<T>(
        &self,
        key: &str,
        change: impl Fn(T) -> Option<T>,
    ) -> Result<(), Error>
    where
        T: Default + Serialize + DeserializeOwned,
    {
        for _ in 0..MAX_CAS_ATTEMPTS {
            let current = self.kv.get(key)?;
            let document: T = match &current {
                Some(bytes) => from_json(key, bytes)?,
                None => T::default(),
            };
            let Some(changed) = change(document) else {
                return Ok(());
            };
            if self
                .kv
                .compare_and_swap(key, current.as_deref(), &to_json(&changed)?)?
            {
                return Ok(());
            }
        }
        Err(contention(key))
    }

    fn counter(&self, key: &str) -> Result<u64, Error> {
        Ok(self.kv.increment(key, 0)?.max(0) as u64)
    }

    /// Appends `value` to a list: a slot from its counter, then a
    /// write-once value in that slot.
    pub(crate) fn append(&self, list: &ListKeys, value: &str) -> Result<(), Error> {
        let slot = self.kv.increment(&list.counter(), 1)?;
        self.kv
            .set(&list.slot(slot.max(0) as u64), value.as_bytes())?;
        Ok(())
    }

    /// The values of a list, in order, skipping slots a writer has
    /// allocated but not filled yet.
    pub(crate) fn list(&self, list: &ListKeys) -> Result<Vec<String>, Error> {
        let n = self.counter(&list.counter())?;
        let mut out = Vec::new();
        let mut slot = 1u64;
        while slot <= n {
            let end = (slot + BATCH as u64 - 1).min(n);
            let keys: Vec<String> = (slot..=end).map(|i| list.slot(i)).collect();
            for value in self.kv.get_many(&keys)?.into_iter().flatten() {
                out.push(String::from_utf8_lossy(&value).into_owned());
            }
            slot = end + 1;
        }
        Ok(out)
    }

    /// One page of a list's values in `order`, from `position` (a
    /// cursor's; `None` for the first page): reads the counter and at most
    /// `limit` slots. Empty slots (allocated, not yet written) are skipped.
    pub(crate) fn list_page(
        &self,
        list: &ListKeys,
        order: Order,
        position: Option<u64>,
        limit: usize,
    ) -> Result<ListPage, Error> {
        let len = self.counter(&list.counter())?;
        let (slots, next) = paging::slots(order, len, position, limit);
        let keys: Vec<String> = slots.iter().map(|slot| list.slot(*slot)).collect();
        let mut out = Vec::with_capacity(slots.len());
        for (slot, value) in slots.into_iter().zip(self.get_many_raw(&keys)?) {
            if let Some(value) = value {
                out.push((slot, String::from_utf8_lossy(&value).into_owned()));
            }
        }
        Ok(ListPage { values: out, next })
    }

    /// Values in the order of `keys`, however many there are. Each key is
    /// asked for once: a backend may answer `get_many` as a map, losing
    /// repeated keys.
    fn get_many_raw(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, Error> {
        let mut unique: Vec<&String> = keys.iter().collect();
        unique.sort_unstable();
        unique.dedup();
        let mut found = std::collections::HashMap::with_capacity(unique.len());
        for chunk in unique.chunks(BATCH) {
            let chunk: Vec<String> = chunk.iter().map(|k| (*k).clone()).collect();
            let values = self.kv.get_many(&chunk)?;
            if values.len() != chunk.len() {
                return Err(Error::StoreUnavailable(format!(
                    "get_many answered {} values for {} keys",
                    values.len(),
                    chunk.len()
                )));
            }
            found.extend(chunk.into_iter().zip(values));
        }
        Ok(keys
            .iter()
            .map(|k| found.get(k).cloned().flatten())
            .collect())
    }

    pub(crate) fn get_many_json<T: DeserializeOwned>(
        &self,
        keys: &[String],
    ) -> Result<Vec<T>, Error> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH) {
            for (key, value) in chunk.iter().zip(self.kv.get_many(chunk)?) {
                if let Some(bytes) = value {
                    out.push(from_json(key, &bytes)?);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
