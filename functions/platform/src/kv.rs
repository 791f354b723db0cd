//! [`KeyValue`] over Spin's `wasi:keyvalue@0.2.0-draft2` bindings (store,
//! atomics, batch), which Spin and the local host both implement over the
//! same labelled store as `fermyon:spin/key-value`.

use credit_core::kv::{KeyValue, StoreError};
use spin_sdk::wit::wasi::keyvalue::{atomics, batch, store};

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

fn to_store_error(error: store::Error) -> StoreError {
    StoreError(match error {
        store::Error::NoSuchStore => "no such store".to_owned(),
        store::Error::AccessDenied => "access to the store denied".to_owned(),
        store::Error::Other(message) => message,
    })
}

impl KeyValue for SpinStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.bucket.get(key).map_err(to_store_error)
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let found = batch::get_many(&self.bucket, keys).map_err(to_store_error)?;
        // The interface promises pairs, not their order: index them by key.
        let mut by_key: std::collections::HashMap<String, Option<Vec<u8>>> =
            found.into_iter().collect();
        Ok(keys.iter().map(|k| by_key.remove(k).flatten()).collect())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.bucket.set(key, value).map_err(to_store_error)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.bucket.delete(key).map_err(to_store_error)
    }

    fn exists(&self, key: &str) -> Result<bool, StoreError> {
        self.bucket.exists(key).map_err(to_store_error)
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        atomics::increment(&self.bucket, key, delta).map_err(to_store_error)
    }

    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, StoreError> {
        let cas = atomics::Cas::new(&self.bucket, key).map_err(to_store_error)?;
        if cas.current().map_err(to_store_error)?.as_deref() != expected {
            return Ok(false);
        }
        match atomics::swap(cas, new) {
            Ok(()) => Ok(true),
            Err(atomics::CasError::CasFailed(_)) => Ok(false),
            Err(atomics::CasError::StoreError(error)) => Err(to_store_error(error)),
        }
    }
}
