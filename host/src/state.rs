//! Per-request store data: everything one fresh instance can reach.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::outbound::OutboundGate;
use crate::spin_api::ComponentScope;

pub struct RequestState {
    pub table: ResourceTable,
    /// wasi:sockets stays closed: `WasiCtx`'s default address check refuses every address.
    pub wasi: WasiCtx,
    pub http: WasiHttpCtx,
    pub limits: MemoryTracker,
    pub scope: Arc<ComponentScope>,
    /// Outbound HTTP only where the component's `allowed_outbound_hosts` allows it.
    pub outbound: OutboundGate,
    /// Key-value calls made so far (each a round trip to the store), for the request log.
    pub store_operations: usize,
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for RequestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

/// The store's limits, and the instance's peak linear memory for the request log.
pub struct MemoryTracker {
    limits: StoreLimits,
    /// Bytes of all linear memories together, now and at their largest.
    current: usize,
    peak: usize,
}

impl MemoryTracker {
    pub fn new(limits: StoreLimits) -> Self {
        Self {
            limits,
            current: 0,
            peak: 0,
        }
    }

    pub fn peak(&self) -> usize {
        self.peak
    }
}

impl ResourceLimiter for MemoryTracker {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            // Also called with `current == 0` when an instance creates a memory, so the sum
            // covers every memory of the instance.
            self.current = self.current.saturating_add(desired).saturating_sub(current);
            self.peak = self.peak.max(self.current);
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}
