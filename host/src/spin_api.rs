//! The Spin interfaces bound from `wit/`: `fermyon:spin/key-value@2.0.0`,
//! `fermyon:spin/variables@2.0.0` and `wasi:keyvalue@0.2.0-draft2` (store, atomics, batch).

use std::collections::HashMap;
use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker, Resource};

use crate::kv::Backend;
use crate::state::RequestState;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "credit:host/spin-host",
    imports: { default: async | trappable },
    with: {
        "fermyon:spin/key-value.store": SpinStore,
        "wasi:keyvalue/store.bucket": Bucket,
        "wasi:keyvalue/atomics.cas": Cas,
    },
});

use fermyon::spin::{key_value, variables};
use wasi::keyvalue::{atomics, batch, store};

/// What one component may reach: its declared stores and its resolved variables.
pub struct ComponentScope {
    /// Declared label -> backend. A label absent here is refused with `access-denied`.
    pub stores: HashMap<String, Arc<Backend>>,
    pub variables: HashMap<String, String>,
}

pub struct SpinStore {
    label: String,
    backend: Arc<Backend>,
}

pub struct Bucket {
    label: String,
    backend: Arc<Backend>,
}

/// A compare-and-swap handle: remembers the value (or absence) last observed, and `swap`
/// writes only if the key still holds it.
pub struct Cas {
    label: String,
    key: String,
    backend: Arc<Backend>,
    observed: Option<Vec<u8>>,
}

pub fn add_to_linker(linker: &mut Linker<RequestState>) -> wasmtime::Result<()> {
    SpinHost::add_to_linker::<RequestState, HasSelf<RequestState>>(linker, |state| state)
}

impl RequestState {
    fn backend_for(&self, label: &str) -> Option<Arc<Backend>> {
        self.scope.stores.get(label).cloned()
    }

    /// The resource a store call is about to use, counting the call as one store operation
    /// (a round trip to the backend) for the request log.
    fn store_operation<R: 'static>(&mut self, resource: &Resource<R>) -> wasmtime::Result<&R> {
        self.store_operations += 1;
        Ok(self.table.get(resource)?)
    }
}

type Ret<T, E> = wasmtime::Result<Result<T, E>>;

impl key_value::Host for RequestState {}

impl key_value::HostStore for RequestState {
    async fn open(&mut self, label: String) -> Ret<Resource<SpinStore>, key_value::Error> {
        let Some(backend) = self.backend_for(&label) else {
            return Ok(Err(key_value::Error::AccessDenied));
        };
        Ok(Ok(self.table.push(SpinStore { label, backend })?))
    }

    async fn get(
        &mut self,
        this: Resource<SpinStore>,
        key: String,
    ) -> Ret<Option<Vec<u8>>, key_value::Error> {
        let s = self.store_operation(&this)?;
        Ok(s.backend
            .get(&s.label, &key)
            .await
            .map_err(key_value::Error::Other))
    }

    async fn set(
        &mut self,
        this: Resource<SpinStore>,
        key: String,
        value: Vec<u8>,
    ) -> Ret<(), key_value::Error> {
        let s = self.store_operation(&this)?;
        Ok(s.backend
            .set(&s.label, &key, value)
            .await
            .map_err(key_value::Error::Other))
    }

    async fn delete(
        &mut self,
        this: Resource<SpinStore>,
        key: String,
    ) -> Ret<(), key_value::Error> {
        let s = self.store_operation(&this)?;
        Ok(s.backend
            .delete(&s.label, &key)
            .await
            .map_err(key_value::Error::Other))
    }

    async fn exists(
        &mut self,
        this: Resource<SpinStore>,
        key: String,
    ) -> Ret<bool, key_value::Error> {
        let s = self.store_operation(&this)?;
        Ok(s.backend
            .exists(&s.label, &key)
            .await
            .map_err(key_value::Error::Other))
    }

    async fn get_keys(&mut self, this: Resource<SpinStore>) -> Ret<Vec<String>, key_value::Error> {
        let s = self.store_operation(&this)?;
        Ok(s.backend
            .keys(&s.label)
            .await
            .map_err(key_value::Error::Other))
    }

    async fn drop(&mut self, this: Resource<SpinStore>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl variables::Host for RequestState {
    async fn get(&mut self, name: String) -> Ret<String, variables::Error> {
        if crate::manifest::validate_variable_name(&name).is_err() {
            return Ok(Err(variables::Error::InvalidName(name)));
        }
        Ok(self
            .scope
            .variables
            .get(&name)
            .cloned()
            .ok_or(variables::Error::Undefined(name)))
    }
}

impl store::Host for RequestState {
    async fn open(&mut self, label: String) -> Ret<Resource<Bucket>, store::Error> {
        let Some(backend) = self.backend_for(&label) else {
            return Ok(Err(store::Error::AccessDenied));
        };
        Ok(Ok(self.table.push(Bucket { label, backend })?))
    }
}

impl store::HostBucket for RequestState {
    async fn get(
        &mut self,
        this: Resource<Bucket>,
        key: String,
    ) -> Ret<Option<Vec<u8>>, store::Error> {
        let b = self.store_operation(&this)?;
        Ok(b.backend
            .get(&b.label, &key)
            .await
            .map_err(store::Error::Other))
    }

    async fn set(
        &mut self,
        this: Resource<Bucket>,
        key: String,
        value: Vec<u8>,
    ) -> Ret<(), store::Error> {
        let b = self.store_operation(&this)?;
        Ok(b.backend
            .set(&b.label, &key, value)
            .await
            .map_err(store::Error::Other))
    }

    async fn delete(&mut self, this: Resource<Bucket>, key: String) -> Ret<(), store::Error> {
        let b = self.store_operation(&this)?;
        Ok(b.backend
            .delete(&b.label, &key)
            .await
            .map_err(store::Error::Other))
    }

    async fn exists(&mut self, this: Resource<Bucket>, key: String) -> Ret<bool, store::Error> {
        let b = self.store_operation(&this)?;
        Ok(b.backend
            .exists(&b.label, &key)
            .await
            .map_err(store::Error::Other))
    }

    async fn list_keys(
        &mut self,
        this: Resource<Bucket>,
        cursor: Option<String>,
    ) -> Ret<store::KeyResponse, store::Error> {
        // Every key in one page, as Spin does; a cursor is never handed out.
        if cursor.is_some() {
            return Ok(Err(store::Error::Other(
                "cursors are not supported".to_owned(),
            )));
        }
        let b = self.store_operation(&this)?;
        Ok(b.backend
            .keys(&b.label)
            .await
            .map(|keys| store::KeyResponse { keys, cursor: None })
            .map_err(store::Error::Other))
    }

    async fn drop(&mut self, this: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl atomics::Host for RequestState {
    async fn increment(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
        delta: i64,
    ) -> Ret<i64, store::Error> {
        let b = self.store_operation(&bucket)?;
        Ok(b.backend
            .increment(&b.label, &key, delta)
            .await
            .map_err(store::Error::Other))
    }

    async fn swap(&mut self, cas: Resource<Cas>, value: Vec<u8>) -> Ret<(), atomics::CasError> {
        self.store_operations += 1;
        let c = self.table.delete(cas)?;
        match c
            .backend
            .compare_and_swap(&c.label, &c.key, c.observed.as_deref(), &value)
            .await
        {
            Ok(true) => Ok(Ok(())),
            Ok(false) => Ok(Err(atomics::CasError::CasFailed(self.table.push(c)?))),
            Err(e) => Ok(Err(atomics::CasError::StoreError(store::Error::Other(e)))),
        }
    }
}

impl atomics::HostCas for RequestState {
    async fn new(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
    ) -> Ret<Resource<Cas>, store::Error> {
        let b = self.store_operation(&bucket)?;
        let (label, backend) = (b.label.clone(), b.backend.clone());
        let observed = match backend.get(&label, &key).await {
            Ok(v) => v,
            Err(e) => return Ok(Err(store::Error::Other(e))),
        };
        Ok(Ok(self.table.push(Cas {
            label,
            key,
            backend,
            observed,
        })?))
    }

    async fn current(&mut self, this: Resource<Cas>) -> Ret<Option<Vec<u8>>, store::Error> {
        let c = self.store_operation(&this)?;
        let value = match c.backend.get(&c.label, &c.key).await {
            Ok(v) => v,
            Err(e) => return Ok(Err(store::Error::Other(e))),
        };
        self.table.get_mut(&this)?.observed.clone_from(&value);
        Ok(Ok(value))
    }

    async fn drop(&mut self, this: Resource<Cas>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl batch::Host for RequestState {
    async fn get_many(
        &mut self,
        bucket: Resource<Bucket>,
        keys: Vec<String>,
    ) -> Ret<Vec<(String, Option<Vec<u8>>)>, store::Error> {
        let b = self.store_operation(&bucket)?;
        Ok(b.backend
            .get_many(&b.label, keys)
            .await
            .map_err(store::Error::Other))
    }

    async fn set_many(
        &mut self,
        bucket: Resource<Bucket>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> Ret<(), store::Error> {
        let b = self.store_operation(&bucket)?;
        Ok(b.backend
            .set_many(&b.label, key_values)
            .await
            .map_err(store::Error::Other))
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<Bucket>,
        keys: Vec<String>,
    ) -> Ret<(), store::Error> {
        let b = self.store_operation(&bucket)?;
        Ok(b.backend
            .delete_many(&b.label, keys)
            .await
            .map_err(store::Error::Other))
    }
}
