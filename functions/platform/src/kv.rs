//! [`KeyValue`] over Spin's `wasi:keyvalue@0.2.0-draft2` bindings (store,
//! atomics, batch), which Spin and the local host both implement over the
//! same labelled store as `fermyon:spin/key-value`.

use std::time::Duration;

use credit_core::kv::{KeyValue, StoreError};
use spin_sdk::wit::wasi::keyvalue::{atomics, batch, store};

/// Pauses between tries of an operation the store refused as busy: doubling from the first,
/// about three seconds in all, then the error stands (503 `STORE_UNAVAILABLE`).
const FIRST_BUSY_PAUSE: Duration = Duration::from_millis(1);
const LONGEST_BUSY_PAUSE: Duration = Duration::from_millis(50);
const BUSY_TRIES: u32 = 70;

/// The application's `default` store, opened once per request.
pub struct SpinStore {
    bucket: store::Bucket,
}

impl SpinStore {
    pub fn open_default() -> Result<Self, StoreError> {
        let bucket = store::open("default").map_err(to_store_error)?;
        Ok(Self { bucket })
    }
}

/// Spin's SQLite store answers "database is locked" while another instance writes (our host
/// never does). The refused statement did not run, so trying it again after a pause is safe.
fn is_busy(error: &store::Error) -> bool {
    matches!(error, store::Error::Other(message) if message.contains("database is locked"))
}

fn retry_busy<T>(mut operation: impl FnMut() -> Result<T, store::Error>) -> Result<T, StoreError> {
    let mut pause = FIRST_BUSY_PAUSE;
    for _ in 1..BUSY_TRIES {
        match operation() {
            Err(error) if is_busy(&error) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(LONGEST_BUSY_PAUSE);
            }
            done => return done.map_err(to_store_error),
        }
    }
    operation().map_err(to_store_error)
}

fn to_store_error(error: store::Error) -> StoreError {
    StoreError(match error {
        store::Error::NoSuchStore => "no such store".to_owned(),
        store::Error::AccessDenied => "access to the store denied".to_owned(),
        store::Error::Other(message) => message,
    })
}

impl KeyValue for SpinStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        retry_busy(|| self.bucket.get(key))
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // Spin's Redis backend (4.1) answers a batch read with `KEYS <key>…`: one present key
        // panics the host's Redis client, several are an error. One key is read alone, and a
        // batch that fails is read key by key (an unavailable store fails that way too).
        let [key] = keys else {
            return match retry_busy(|| batch::get_many(&self.bucket, keys)) {
                Ok(found) => {
                    // The interface promises pairs, not their order: index them by key.
                    let mut by_key: std::collections::HashMap<String, Option<Vec<u8>>> =
                        found.into_iter().collect();
                    Ok(keys.iter().map(|k| by_key.remove(k).flatten()).collect())
                }
                Err(_) => keys.iter().map(|k| self.get(k)).collect(),
            };
        };
        Ok(vec![self.get(key)?])
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        retry_busy(|| self.bucket.set(key, value))
    }

    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        match entries {
            [] => Ok(()),
            [(key, value)] => self.set(key, value),
            _ => retry_busy(|| batch::set_many(&self.bucket, entries)),
        }
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        retry_busy(|| self.bucket.delete(key))
    }

    fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        match keys {
            [] => Ok(()),
            [key] => self.delete(key),
            _ => retry_busy(|| batch::delete_many(&self.bucket, keys)),
        }
    }

    fn exists(&self, key: &str) -> Result<bool, StoreError> {
        retry_busy(|| self.bucket.exists(key))
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        retry_busy(|| atomics::increment(&self.bucket, key, delta))
    }

    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, StoreError> {
        // `None`: the store says the swap failed, which may not be so (below).
        let swapped = retry_busy(|| {
            let cas = atomics::Cas::new(&self.bucket, key)?;
            if cas.current()?.as_deref() != expected {
                return Ok(Some(false));
            }
            match atomics::swap(cas, new) {
                Ok(()) => Ok(Some(true)),
                Err(atomics::CasError::CasFailed(_)) => Ok(None),
                Err(atomics::CasError::StoreError(error)) => Err(error),
            }
        })?;
        match swapped {
            Some(swapped) => Ok(swapped),
            // Spin's Redis backend (4.1) reports every swap as failed, the ones it made too: it
            // ends each with `UNWATCH <key>`, which Redis refuses. The key holding exactly our
            // bytes says the swap took effect. Another writer's identical bytes read the same;
            // the core tolerates that as it does an unconditional write (docs/operations.md).
            None => Ok(self.get(key)?.as_deref() == Some(new)),
        }
    }
}
