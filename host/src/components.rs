//! The manifest's components. Their configuration (stores, outbound hosts) is checked before
//! the host listens; their code is loaded once (read from the compiled-component cache or
//! compiled, type-checked against the host's imports, pre-instantiated) by the first request
//! that needs it or by the loader that goes through all of them once the host listens. A start
//! answers its first request after loading one component, not all of them; a component that
//! cannot be loaded still stops the host (`serve` waits on the loader).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::kv::Backend;
use crate::manifest::ComponentConfig;
use crate::module_cache::ModuleCache;
use crate::outbound::OutboundPolicy;
use crate::spin_api::ComponentScope;
use crate::state::RequestState;

/// One component of the manifest, ready to serve.
pub struct LoadedComponent {
    pub id: String,
    pub pre: ProxyPre<RequestState>,
    pub scope: Arc<ComponentScope>,
    /// Where the component may send HTTP requests (its `allowed_outbound_hosts`).
    pub outbound: Arc<OutboundPolicy>,
}

/// What loading a component needs, and each component once loaded.
pub struct Components {
    engine: Engine,
    linker: Linker<RequestState>,
    cache: ModuleCache,
    slots: Vec<Slot>,
}

/// A component whose configuration is checked (its stores exist, its outbound hosts parse), and
/// whose code is loaded once.
struct Slot {
    id: String,
    source: PathBuf,
    scope: Arc<ComponentScope>,
    outbound: Arc<OutboundPolicy>,
    /// Set by the first load, a request's or the loader's; the others await it, however many
    /// requests a burst after a start brings.
    loaded: OnceCell<Arc<LoadedComponent>>,
}

impl Components {
    /// Checks every component's configuration, so that a mistake there stops the start before
    /// the host listens; loads no code.
    pub fn new(
        engine: Engine,
        linker: Linker<RequestState>,
        cache: ModuleCache,
        backends: &HashMap<String, Arc<Backend>>,
        configs: Vec<ComponentConfig>,
    ) -> Result<Self> {
        let slots = configs
            .into_iter()
            .map(|c| configured(c, backends))
            .collect::<Result<_>>()?;
        Ok(Components {
            engine,
            linker,
            cache,
            slots,
        })
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn id(&self, index: usize) -> &str {
        &self.slots[index].id
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.slots.iter().position(|slot| slot.id == id)
    }

    /// The component at `index`; loaded on a blocking thread if neither a request nor the loader
    /// has loaded it yet.
    pub async fn get(self: &Arc<Self>, index: usize) -> Result<Arc<LoadedComponent>> {
        self.slots[index]
            .loaded
            .get_or_try_init(|| {
                let components = self.clone();
                async move {
                    tokio::task::spawn_blocking(move || components.pre_instantiated(index))
                        .await
                        .context("loading a component panicked")?
                        .map(Arc::new)
                }
            })
            .await
            .cloned()
    }

    /// Loads every component not loaded yet, one at a time, so that a request's own load keeps
    /// the other core. The first that fails is the error.
    pub async fn load_all(self: Arc<Self>) -> Result<()> {
        for index in 0..self.slots.len() {
            self.get(index).await?;
        }
        Ok(())
    }

    /// A component's code, compiled (or read from the cache), type-checked against the host's
    /// imports and pre-instantiated.
    fn pre_instantiated(&self, index: usize) -> Result<LoadedComponent> {
        let slot = &self.slots[index];
        let id = &slot.id;
        let component = compile(&self.engine, &slot.source, &self.cache)
            .with_context(|| format!("component {id}"))?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!("component {id}: it imports something this host does not provide")
            })?;
        let pre = ProxyPre::new(pre)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!("component {id}: not a wasi:http/incoming-handler component")
            })?;
        Ok(LoadedComponent {
            id: id.clone(),
            pre,
            scope: slot.scope.clone(),
            outbound: slot.outbound.clone(),
        })
    }
}

/// A component's stores and outbound policy, from the manifest and the runtime config.
fn configured(c: ComponentConfig, backends: &HashMap<String, Arc<Backend>>) -> Result<Slot> {
    let mut stores = HashMap::new();
    for label in &c.key_value_stores {
        let backend = backends.get(label).with_context(|| {
            format!(
                "component {}: key-value store {label:?} is not configured (runtime config)",
                c.id
            )
        })?;
        stores.insert(label.clone(), backend.clone());
    }
    let outbound = OutboundPolicy::parse(&c.id, &c.allowed_outbound_hosts)
        .with_context(|| format!("component {}", c.id))?;
    Ok(Slot {
        scope: Arc::new(ComponentScope {
            stores,
            variables: c.variables,
        }),
        outbound: Arc::new(outbound),
        id: c.id,
        source: c.source,
        loaded: OnceCell::new(),
    })
}

/// Compiles a component, or loads the artifact a previous start compiled from the same bytes.
fn compile(engine: &Engine, source: &Path, cache: &ModuleCache) -> Result<Component> {
    let wasm = std::fs::read(source).with_context(|| format!("reading {}", source.display()))?;
    let mut compat = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut compat);
    let digest = Sha256::new()
        .chain_update(&wasm)
        .chain_update(compat.finish().to_le_bytes())
        .finalize();
    let name = format!("{}.cwasm", base16ct::lower::encode_string(&digest));
    if let Some(component) = cache.load(engine, &name) {
        return Ok(component);
    }
    let component = Component::new(engine, &wasm)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("compiling {}", source.display()))?;
    if let Ok(bytes) = component.serialize() {
        cache.store(&name, &bytes);
    }
    Ok(component)
}
