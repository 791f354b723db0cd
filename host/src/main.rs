//! credit-host: a local Spin-compatible HTTP host for the credit report components.
//!
//! Reads a Spin manifest (v2), compiles each component once, and serves every request with a
//! fresh instance under a body cap, a memory limit and an epoch deadline.

mod backup;
mod body;
mod components;
mod connections;
mod kv;
mod manifest;
mod module_cache;
mod outbound;
mod problem;
mod router;
mod server;
mod spin_api;
mod state;
mod test_clock;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use wasmtime::component::Linker;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::components::Components;
use crate::connections::{AcceptBackoff, ConnectionLimiter, RESERVED_FDS};
use crate::kv::{Backend, RedisKv, SqliteKv};
use crate::manifest::StoreBackend;
use crate::module_cache::ModuleCache;
use crate::server::Limits;
use crate::state::RequestState;

/// How often the epoch advances: the granularity of deadlines and of guest yields.
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Bytes of each pooled table and stack kept mapped between instances.
const KEEP_RESIDENT: usize = 1024 * 1024;
/// Bytes of each pooled linear memory kept mapped between instances: above what a 5 MiB upload
/// uses (7 MiB), so that a slot is reset without the madvise whose TLB shootdowns and the page
/// faults after it cost more than resetting. With PAGEMAP_SCAN only the pages an instance wrote
/// are reset and kept, so a slot holds what its largest request used, at most this much: the
/// host's resident memory is bounded by this times `--max-instances`.
const KEEP_MEMORY_RESIDENT: usize = 8 * 1024 * 1024;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Local Spin-compatible host for the credit report components"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The Spin manifest (v2); component sources are relative to its directory.
    #[arg(long, default_value = "spin.toml")]
    manifest: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Folder for the key-value store (sqlite_key_value.db), as Spin's `.spin/`.
    #[arg(long, default_value = ".spin")]
    state_dir: PathBuf,
    /// A Spin runtime-config file selecting key-value backends (`type = "spin"` or `"redis"`).
    #[arg(long)]
    runtime_config_file: Option<PathBuf>,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "CREDIT_HOST_MAX_BODY_BYTES", default_value_t = 8 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Linear-memory limit of one instance, in MiB.
    #[arg(long, env = "CREDIT_HOST_MEMORY_MIB", default_value_t = 64)]
    memory_mib: usize,
    /// Time one request may run before its instance is stopped with a 500, in milliseconds.
    #[arg(long, env = "CREDIT_HOST_DEADLINE_MS", default_value_t = 10_000)]
    deadline_ms: u64,
    /// Folder for compiled components, reused across starts; private to this user (mode 0700)
    /// (default: <state-dir>/module-cache).
    #[arg(long, env = "CREDIT_HOST_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Time a connection has to send a complete request head, from its opening or from the end
    /// of its previous answer (so also how long an idle keep-alive connection stays open), in
    /// milliseconds.
    #[arg(
        long,
        env = "CREDIT_HOST_HEADER_READ_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    header_read_timeout_ms: u64,
    /// Connections open at once; more are answered 503 and closed (lowered to what the
    /// open-file limit allows).
    #[arg(long, env = "CREDIT_HOST_MAX_CONNECTIONS", default_value_t = 4096)]
    max_connections: usize,
    /// Connections open at once from one client address (IPv6: one /64). Behind a proxy or
    /// load balancer every client is the proxy: raise it to --max-connections there.
    #[arg(
        long,
        env = "CREDIT_HOST_MAX_CONNECTIONS_PER_CLIENT",
        default_value_t = 128
    )]
    max_connections_per_client: usize,
    /// Instances running at once; further requests wait for one, up to the deadline.
    #[arg(long, env = "CREDIT_HOST_MAX_INSTANCES", default_value_t = 256)]
    max_instances: u32,
    /// For tests only, never in production: honour the `x-credit-test-now` request header (an
    /// RFC 3339 time, e.g. 2026-03-02T09:00:00+08:00) as the wall clock that request's instance
    /// reads. Without this flag the header has no effect.
    #[arg(long)]
    test_clock: bool,
}

/// What else the binary does besides serving.
#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Copies the SQLite key-value store to a file while a host may keep serving from it.
    Backup(backup::BackupArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Backup(args)) = &cli.command {
        return backup::run(args);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let served = runtime.block_on(run(cli));
    // Not waiting for the blocking pool: the loader may be compiling a component nobody asked
    // for yet, and requests were drained before `run` returned.
    runtime.shutdown_background();
    served
}

async fn run(cli: Cli) -> Result<()> {
    let fd_limit = connections::raise_fd_limit();
    let env: HashMap<String, String> = std::env::vars().collect();
    let app_config = manifest::load(&cli.manifest, &env)?;
    // A store is opened only when some component declares it.
    let declared: HashSet<&str> = app_config
        .components
        .iter()
        .flat_map(|c| c.key_value_stores.iter().map(String::as_str))
        .collect();
    let backends = open_backends(
        cli.runtime_config_file.as_deref(),
        &cli.state_dir,
        &declared,
    )
    .await?;

    let memory_bytes = cli.memory_mib * 1024 * 1024;
    let max_instances = cli.max_instances.max(1);
    let engine = engine(memory_bytes, max_instances)?;
    let mut linker = Linker::<RequestState>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .map_err(anyhow::Error::from)?;
    spin_api::add_to_linker(&mut linker).map_err(anyhow::Error::from)?;

    let cache = ModuleCache::open(
        &cli.cache_dir
            .clone()
            .unwrap_or_else(|| cli.state_dir.join("module-cache")),
    );
    log_sign_in_mode(&app_config.components);
    let components = Arc::new(Components::new(
        engine.clone(),
        linker,
        cache,
        &backends,
        app_config.components,
    )?);
    let router = router::Router::build(&app_config.routes, |id| components.position(id))?;

    let ticker = engine.weak();
    std::thread::spawn(move || {
        while let Some(engine) = ticker.upgrade() {
            engine.increment_epoch();
            drop(engine);
            std::thread::sleep(EPOCH_TICK);
        }
    });

    let app = Arc::new(server::App {
        engine,
        components,
        router,
        limits: Limits {
            max_body_bytes: cli.max_body_bytes,
            memory_bytes,
            deadline: Duration::from_millis(cli.deadline_ms),
        },
        instances: Arc::new(tokio::sync::Semaphore::new(max_instances as usize)),
        uploads: Arc::new(tokio::sync::Semaphore::new(
            (max_instances as usize / 2).max(1),
        )),
        test_clock: cli.test_clock,
    });
    let max_connections = cli
        .max_connections
        .min(usize::try_from(fd_limit.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX))
        .max(1);
    let limiter = ConnectionLimiter::new(max_connections, cli.max_connections_per_client.max(1));
    let header_read_timeout = Duration::from_millis(cli.header_read_timeout_ms);
    serve(app, cli.listen, limiter, header_read_timeout).await
}

fn engine(memory_bytes: usize, max_instances: u32) -> Result<Engine> {
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(max_instances)
        .total_stacks(max_instances)
        .total_core_instances(max_instances * 8)
        .total_memories(max_instances * 2)
        .total_tables(max_instances * 4)
        .max_memory_size(memory_bytes)
        // Reset reused slots with memset instead of madvise: saves page faults on every request.
        .linear_memory_keep_resident(KEEP_MEMORY_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT)
        .async_stack_keep_resident(KEEP_RESIDENT)
        // Linux 6.7+: reset only the pages the instance wrote, not the whole kept range (the
        // memset of 2 MiB per request was 8% of a verification); older kernels memset as before.
        .pagemap_scan(wasmtime::Enabled::Auto);
    let mut config = Config::new();
    config
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    Engine::new(&config).map_err(anyhow::Error::from)
}

/// One backend per store label; labels sharing a SQLite file share its connection.
async fn open_backends(
    runtime_config: Option<&Path>,
    state_dir: &Path,
    declared: &HashSet<&str>,
) -> Result<HashMap<String, Arc<Backend>>> {
    let mut by_location: HashMap<StoreBackend, Arc<Backend>> = HashMap::new();
    let mut backends = HashMap::new();
    for (label, location) in manifest::load_stores(runtime_config, state_dir)? {
        if !declared.contains(label.as_str()) {
            continue;
        }
        let backend = match by_location.get(&location) {
            Some(b) => b.clone(),
            None => {
                let b = Arc::new(match &location {
                    StoreBackend::Sqlite(path) => Backend::Sqlite(SqliteKv::open(path)?),
                    StoreBackend::Redis(url) => Backend::Redis(RedisKv::connect(url).await?),
                });
                by_location.insert(location.clone(), b.clone());
                b
            }
        };
        backends.insert(label, backend);
    }
    Ok(backends)
}

/// Sign-in fails closed (the components answer 503 `AUTH_NOT_CONFIGURED`):
/// say why once at start, and say loudly when development tokens are on.
fn log_sign_in_mode(components: &[manifest::ComponentConfig]) {
    let Some(variables) = components
        .iter()
        .map(|c| &c.variables)
        .find(|v| v.contains_key("auth_mode"))
    else {
        return;
    };
    let set = |name: &str| {
        variables
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    if set("auth_mode") == Some("development") {
        eprintln!(
            "credit-host: DEVELOPMENT MODE (auth_mode=development): development tokens are accepted; never in production"
        );
    } else if set("oidc_issuer").is_none() {
        eprintln!(
            "credit-host: sign-in is not configured: neither oidc_issuer nor auth_mode=development is set, \
             so every authenticated endpoint answers 503 AUTH_NOT_CONFIGURED (docs/operations.md, \"Sign-in\"); \
             public verification works"
        );
    }
}

async fn serve(
    app: Arc<server::App>,
    listen: SocketAddr,
    limiter: Arc<ConnectionLimiter>,
    header_read_timeout: Duration,
) -> Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let local = listener.local_addr()?;
    let graceful = GracefulShutdown::new();
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    // The timer makes hyper enforce the header-read timeout, which runs from a connection's
    // opening and again from the end of each answer: it closes slow heads and idle keep-alive
    // connections alike.
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    if app.test_clock {
        eprintln!(
            "credit-host: test clock on: the {} header sets a request's wall clock",
            test_clock::TEST_NOW_HEADER
        );
    }
    eprintln!(
        "credit-host: at most {} connections, {} per client; header read timeout {header_read_timeout:?}",
        limiter.max_total(),
        limiter.max_per_client()
    );
    eprintln!(
        "credit-host: {} components, listening on http://{local}",
        app.components.len()
    );
    // Requests load the component they need; this loads the rest, and a component that cannot
    // be loaded stops the host as it did when every component was loaded before listening.
    let started = Instant::now();
    let mut loading = tokio::spawn(app.components.clone().load_all());
    let mut all_loaded = false;
    let mut failure = None;
    let mut backoff = AcceptBackoff::new();
    loop {
        tokio::select! {
            loaded = &mut loading, if !all_loaded => {
                match loaded.context("the component loader panicked").and_then(|r| r) {
                    Ok(()) => {
                        all_loaded = true;
                        eprintln!(
                            "credit-host: all {} components loaded, {:?} after listening",
                            app.components.len(),
                            started.elapsed()
                        );
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            accepted = listener.accept() => {
                let (stream, client) = match accepted {
                    Ok(a) => a,
                    Err(e) if connections::out_of_resources(&e) => {
                        // Accepting again at once would fail again: pause, so that closing
                        // connections can free descriptors, instead of spinning.
                        if backoff.is_first() {
                            eprintln!("credit-host: accept failed: {e}; pausing accepts");
                        }
                        tokio::time::sleep(backoff.pause()).await;
                        continue;
                    }
                    Err(e) => { eprintln!("credit-host: accept failed: {e}"); continue; }
                };
                backoff.reset();
                let permit = match limiter.admit(client.ip()) {
                    Ok(permit) => permit,
                    Err(refusal) => {
                        limiter.refuse(stream, client.ip(), refusal);
                        continue;
                    }
                };
                // Without it keep-alive responses stall on Nagle + delayed ACK (~40 ms).
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                let service = hyper::service::service_fn(move |req| app.clone().handle(req, client));
                let connection = http.serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = connection.await;
                    drop(permit);
                });
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = sigterm.recv() => break,
        }
    }
    eprintln!("credit-host: shutting down");
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(5), graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!("credit-host: requests still running after 5 s, stopping anyway");
    }
    server::close_request_log();
    failure.map_or(Ok(()), Err)
}
