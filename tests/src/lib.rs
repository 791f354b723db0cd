//! Harness for the integration tests: starts the real `credit-host` binary (or `spin up`) on a
//! free port with a manifest, talks HTTP to it, and stops it on drop.
//!
//! ```no_run
//! use integration_tests::{HostOptions, TestHost};
//! let host = TestHost::start(HostOptions::product());
//! let reply = host.get("/api/v1/catalog");
//! assert_eq!(reply.status, 200, "{}", reply.text());
//! ```
//!
//! With [`HostOptions::test_clock`], [`TestHost::at`] sends requests "at" a chosen wall-clock
//! time, so tests reach deadlines and expiries without waiting:
//!
//! ```no_run
//! use integration_tests::fixtures::{china_time, days_ago};
//! use integration_tests::{HostOptions, TestHost};
//! let host = TestHost::start(HostOptions::product().test_clock());
//! let reply = host.at(china_time(days_ago(40), 9, 0, 0)).get("/api/v1/catalog");
//! ```
//!
//! Locations: the workspace's `target/` holds the host (`release/credit-host`) and the
//! components (`wasm32-wasip2/component/*.wasm`). `CREDIT_TARGET_DIR` points both at another
//! cargo target dir; `CREDIT_HOST_BIN` points at another host binary.
//!
//! The same tests run on either server ([`Server`]): our host, or `spin up` of the real Spin CLI
//! when `CREDIT_TEST_SERVER=spin` (`make spin-test`). The Spin CLI is `CREDIT_SPIN_BIN`, or
//! `../shared/tools/spin` beside the workspace. A test that needs what only our host has (the
//! test clock, its limits' flags) starts with [`skip_under_spin!`]; with `CREDIT_TEST_LEDGER`
//! set, every test that ran under Spin, and every one skipped there, is written to that file.

pub mod fixtures;
pub mod oidc;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use credit_core::auth::development::{TokenKey, generate_key};
use credit_core::pdf::sign::development::{DevelopmentSeal, generate};
use tempfile::TempDir;
use ureq::http;

/// The client secret of test hosts that have no identity provider (the variable is required;
/// nothing is ever sent with it). tests/signin.rs sets the test provider's own.
pub const NO_PROVIDER_CLIENT_SECRET: &str = "integration-tests-without-a-provider";

/// The request header a host started with `--test-clock` reads as the instance's wall clock.
pub const TEST_NOW_HEADER: &str = "x-credit-test-now";

/// How long a host may take to compile its components and start listening.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long [`TestHost::wait_for_log`] waits for a line the host is due to write: a bound on a
/// hang, far above the milliseconds it takes.
const LOG_TIMEOUT: Duration = Duration::from_secs(60);

/// The workspace root (parent of `tests/`).
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The cargo target dir holding the built host and components.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CREDIT_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_dir().join("target"),
    }
}

/// The built components: `<target>/wasm32-wasip2/component/*.wasm`.
pub fn component_dir() -> PathBuf {
    target_dir().join("wasm32-wasip2").join("component")
}

/// The environment variable that selects the server: `host` (the default) or `spin`.
pub const SERVER_VARIABLE: &str = "CREDIT_TEST_SERVER";
/// The environment variable naming the Spin CLI.
pub const SPIN_BIN_VARIABLE: &str = "CREDIT_SPIN_BIN";
/// The environment variable naming the file that records which tests ran under Spin.
pub const LEDGER_VARIABLE: &str = "CREDIT_TEST_LEDGER";

/// The server that runs the components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// `credit-host`, this repository's host.
    Host,
    /// `spin up` of the real Spin CLI.
    Spin,
}

impl Server {
    /// The server `CREDIT_TEST_SERVER` names; our host when it is unset.
    pub fn selected() -> Server {
        match std::env::var(SERVER_VARIABLE).as_deref() {
            Err(std::env::VarError::NotPresent) | Ok("") | Ok("host") => Server::Host,
            Ok("spin") => Server::Spin,
            other => panic!("{SERVER_VARIABLE}={other:?}: expected `host` or `spin`"),
        }
    }
}

/// The Spin CLI: `CREDIT_SPIN_BIN`, or `../shared/tools/spin` beside the workspace.
pub fn spin_binary() -> PathBuf {
    match std::env::var_os(SPIN_BIN_VARIABLE) {
        Some(bin) => PathBuf::from(bin),
        None => workspace_dir().join("../shared/tools/spin"),
    }
}

/// Under Spin, records that the running test is skipped there and why, and returns true; the
/// test then returns at once. Use it through [`skip_under_spin!`].
pub fn skipped_under_spin(why: &str) -> bool {
    if Server::selected() != Server::Spin {
        return false;
    }
    eprintln!("skipped under Spin: {why}");
    record_in_ledger(&format!("skipped {}: {why}", test_name()));
    true
}

/// Marks a test that needs what only our host has: under Spin it returns at once, recorded as
/// skipped with the reason given.
#[macro_export]
macro_rules! skip_under_spin {
    ($why:expr) => {
        if $crate::skipped_under_spin($why) {
            return;
        }
    };
}

/// The running test's name (libtest names each test's thread after it).
fn test_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("unnamed test")
        .to_owned()
}

/// Appends one line to the `CREDIT_TEST_LEDGER` file, when it is set. Tests run in parallel:
/// each line is one append, which the system does not interleave.
fn record_in_ledger(line: &str) {
    let Some(path) = std::env::var_os(LEDGER_VARIABLE) else {
        return;
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("opening {}: {e}", Path::new(&path).display()));
    file.write_all(format!("{line}\n").as_bytes())
        .expect("writing the test ledger");
}

pub fn host_binary() -> PathBuf {
    match std::env::var_os("CREDIT_HOST_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => target_dir().join("release").join("credit-host"),
    }
}

/// The development seal every product host of this test process signs with; `ca_pem` is the
/// trust root for the independent validators.
pub fn development_seal() -> &'static DevelopmentSeal {
    static SEAL: OnceLock<DevelopmentSeal> = OnceLock::new();
    SEAL.get_or_init(|| {
        generate("集成测试根证书（仅供开发）", DEVELOPMENT_SIGNER)
            .expect("generating the development seal")
    })
}

/// The development token key of this test process: test hosts in development mode check
/// tokens with its public half, [`fixtures::token`] signs with its private half.
pub fn development_token_key() -> &'static TokenKey {
    static KEY: OnceLock<TokenKey> = OnceLock::new();
    KEY.get_or_init(|| generate_key().expect("generating the development token key"))
}

/// The signer the development seal names.
pub const DEVELOPMENT_SIGNER: &str = "永昌县发展和改革局（开发测试用）";

/// How to start a host.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// The Spin manifest to serve.
    pub manifest: PathBuf,
    /// The host's `--state-dir`; `None` gives a fresh temporary folder, removed on drop.
    pub state_dir: Option<PathBuf>,
    /// Extra environment for the host, e.g. `SPIN_VARIABLE_AUTH_MODE`.
    pub env: Vec<(String, String)>,
    /// A Spin runtime-config file (`--runtime-config-file`).
    pub runtime_config: Option<PathBuf>,
    /// Per-request deadline; the host's default (10 s) when `None`.
    pub deadline: Option<Duration>,
    /// Request body cap in bytes; the host's default (8 MiB) when `None`.
    pub max_body_bytes: Option<usize>,
    /// Starts the host with `--test-clock`, for [`TestHost::at`].
    pub test_clock: bool,
    /// The server: [`Server::selected`] unless a test chooses.
    pub server: Server,
}

/// The `public_base_url` of hosts outside development mode, which must be https.
pub const PRODUCTION_BASE_URL: &str = "https://credit.example.test";

impl HostOptions {
    pub fn new(manifest: impl Into<PathBuf>) -> Self {
        Self {
            manifest: manifest.into(),
            state_dir: None,
            env: Vec::new(),
            runtime_config: None,
            deadline: None,
            max_body_bytes: None,
            test_clock: false,
            server: Server::selected(),
        }
    }

    /// The product (`<workspace>/spin.toml`) in development mode, set explicitly as
    /// [`HostOptions::development`] does, so that [`fixtures::token`]s sign in and the
    /// development seal is accepted.
    pub fn product() -> Self {
        Self::sealed_product().development()
    }

    /// The product with no sign-in variables set: it fails closed (503 `AUTH_NOT_CONFIGURED`).
    /// Outside development mode `public_base_url` must be https, so it is set to
    /// [`PRODUCTION_BASE_URL`].
    pub fn product_without_sign_in() -> Self {
        Self::sealed_product().variable("public_base_url", PRODUCTION_BASE_URL)
    }

    /// The product with this test process's [`development_seal`] and a client secret (the
    /// secrets are required: no host starts without them).
    fn sealed_product() -> Self {
        let seal = development_seal();
        Self::new(workspace_dir().join("spin.toml"))
            .variable("seal_private_key_pem", &seal.private_key_pem)
            .variable("seal_certificate_chain_pem", &seal.chain_pem)
            .variable("oidc_client_secret", NO_PROVIDER_CLIENT_SECRET)
    }

    /// `auth_mode=development`, checking tokens with [`development_token_key`].
    pub fn development(self) -> Self {
        self.variable("auth_mode", "development").variable(
            "development_token_public_key",
            &development_token_key().public_key_pem,
        )
    }

    /// The host-test probe: `tests/probe/spin.toml`.
    pub fn probe() -> Self {
        Self::new(workspace_dir().join("tests/probe/spin.toml"))
    }

    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Sets a Spin variable as `SPIN_VARIABLE_<NAME>` does.
    pub fn variable(self, name: &str, value: impl Into<String>) -> Self {
        self.env(
            format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()),
            value,
        )
    }

    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    pub fn runtime_config(mut self, file: impl Into<PathBuf>) -> Self {
        self.runtime_config = Some(file.into());
        self
    }

    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = Some(bytes);
        self
    }

    /// Lets requests set the wall clock their instance reads ([`TestHost::at`]).
    pub fn test_clock(mut self) -> Self {
        self.test_clock = true;
        self
    }

    /// Runs on this server whatever `CREDIT_TEST_SERVER` says.
    pub fn server(mut self, server: Server) -> Self {
        self.server = server;
        self
    }

    /// The options only our host has, which Spin cannot be given.
    fn host_only_options(&self) -> Vec<&'static str> {
        [
            (self.test_clock, "the test clock"),
            (self.deadline.is_some(), "a request deadline"),
            (self.max_body_bytes.is_some(), "a request body cap"),
        ]
        .into_iter()
        .filter_map(|(set, what)| set.then_some(what))
        .collect()
    }
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// Lowercase names, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}), status {}: {}",
                self.status,
                self.text()
            )
        })
    }
}

/// Server output (stdout and stderr) captured so far, and whether it said it is listening.
#[derive(Default)]
struct Output {
    text: String,
    listening: bool,
    /// Streams that reached their end (of the two): both, once the server has exited.
    closed_streams: u8,
}

impl Output {
    fn exited(&self) -> bool {
        self.closed_streams == 2
    }
}

/// A running server (our host or Spin) serving a manifest. Stopped on drop.
pub struct TestHost {
    options: HostOptions,
    child: Option<Child>,
    port: u16,
    output: Arc<(Mutex<Output>, Condvar)>,
    state_dir: PathBuf,
    /// Owns the temporary state folder and the resolved manifest.
    _scratch: TempDir,
    resolved_manifest: PathBuf,
    agent: ureq::Agent,
}

impl TestHost {
    /// Starts a server and waits until it listens. Panics with its output if it cannot.
    pub fn start(options: HostOptions) -> TestHost {
        let server = options.server;
        Self::try_start(options).unwrap_or_else(|log| panic!("{server:?} did not start:\n{log}"))
    }

    /// Like [`TestHost::start`], but a server that exits before listening gives its output.
    pub fn try_start(options: HostOptions) -> Result<TestHost, String> {
        let scratch = tempfile::tempdir().expect("creating a temporary folder");
        let state_dir = options
            .state_dir
            .clone()
            .unwrap_or_else(|| scratch.path().join("state"));
        let resolved_manifest = scratch.path().join("spin.toml");
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut host = TestHost {
            options,
            child: None,
            port: 0,
            output: Arc::default(),
            state_dir,
            _scratch: scratch,
            resolved_manifest,
            agent,
        };
        host.spawn()?;
        Ok(host)
    }

    /// The server this one runs on.
    pub fn server(&self) -> Server {
        self.options.server
    }

    fn spawn(&mut self) -> Result<(), String> {
        resolve_manifest(&self.options.manifest, &self.resolved_manifest);
        if self.options.server == Server::Spin {
            let host_only = self.options.host_only_options();
            assert!(
                host_only.is_empty(),
                "Spin has no {}: start the test with skip_under_spin!, or choose Server::Host",
                host_only.join(", ")
            );
            record_in_ledger(&format!("ran {}", test_name()));
        }
        // A port taken between the probe and the server's bind makes the start fail: retry then.
        for _attempt in 0..3 {
            self.port = free_port();
            let mut cmd = match self.options.server {
                Server::Host => self.host_command(),
                Server::Spin => self.spin_command(),
            };
            cmd.envs(
                self.options
                    .env
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
            let program = cmd.get_program().to_string_lossy().into_owned();
            let mut child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("starting {program}: {e}"));
            let output: Arc<(Mutex<Output>, Condvar)> = Arc::default();
            let prefix = match self.options.server {
                Server::Host => "[host]",
                Server::Spin => "[spin]",
            };
            let streams: [Box<dyn Read + Send>; 2] = [
                Box::new(child.stdout.take().expect("stdout is piped")),
                Box::new(child.stderr.take().expect("stderr is piped")),
            ];
            for stream in streams {
                let sink = output.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(stream).lines() {
                        let Ok(line) = line else { break };
                        eprintln!("{prefix} {line}");
                        let (lock, ready) = &*sink;
                        let mut out = lock.lock().unwrap();
                        // Our host says "listening on http://…", Spin "Serving http://…".
                        out.listening |= line.contains("listening on http://")
                            || line.starts_with("Serving http://");
                        out.text.push_str(&line);
                        out.text.push('\n');
                        ready.notify_all();
                    }
                    let (lock, ready) = &*sink;
                    lock.lock().unwrap().closed_streams += 1;
                    ready.notify_all();
                });
            }
            self.output = output;
            self.child = Some(child);
            match self.wait_until_listening() {
                Ok(()) => return Ok(()),
                Err(log) if log.contains("Address already in use") => self.stop(),
                Err(log) => {
                    self.stop();
                    return Err(log);
                }
            }
        }
        Err("no free port could be bound in 3 attempts".to_owned())
    }

    fn host_command(&self) -> Command {
        let bin = host_binary();
        assert!(
            bin.exists(),
            "host binary {} not found: run `cargo build --release -p credit-host` (or `make host`), \
             or set CREDIT_HOST_BIN / CREDIT_TARGET_DIR",
            bin.display()
        );
        let mut cmd = Command::new(&bin);
        // One compiled-component cache for every test host (the host's default, inside the
        // state folder, would compile every component again for each test); options' own
        // environment, applied after, may choose another.
        cmd.env(
            "CREDIT_HOST_CACHE_DIR",
            target_dir().join("credit-host-cache"),
        );
        cmd.arg("--manifest")
            .arg(&self.resolved_manifest)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--state-dir")
            .arg(&self.state_dir);
        if let Some(rc) = &self.options.runtime_config {
            cmd.arg("--runtime-config-file").arg(rc);
        }
        if let Some(deadline) = self.options.deadline {
            cmd.arg("--deadline-ms")
                .arg(deadline.as_millis().to_string());
        }
        if let Some(bytes) = self.options.max_body_bytes {
            cmd.arg("--max-body-bytes").arg(bytes.to_string());
        }
        if self.options.test_clock {
            cmd.arg("--test-clock");
        }
        cmd
    }

    /// `spin up` of the same manifest, state folder and runtime config.
    fn spin_command(&self) -> Command {
        let bin = spin_binary();
        assert!(
            bin.exists(),
            "{SERVER_VARIABLE}=spin, but there is no Spin CLI at {}: set {SPIN_BIN_VARIABLE}",
            bin.display()
        );
        let mut cmd = Command::new(&bin);
        cmd.arg("up")
            .arg("--from")
            .arg(&self.resolved_manifest)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--state-dir")
            .arg(&self.state_dir);
        if let Some(rc) = &self.options.runtime_config {
            cmd.arg("--runtime-config-file").arg(rc);
        }
        cmd
    }

    fn wait_until_listening(&self) -> Result<(), String> {
        let (lock, ready) = &*self.output;
        let started = Instant::now();
        let mut out = lock.lock().unwrap();
        while !out.listening {
            if out.exited() {
                return Err(out.text.clone());
            }
            let left = START_TIMEOUT
                .checked_sub(started.elapsed())
                .ok_or_else(|| format!("not listening after {:?}:\n{}", START_TIMEOUT, out.text))?;
            out = ready.wait_timeout(out, left).unwrap().0;
        }
        Ok(())
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s) and starts it again with the same
    /// options and state folder.
    pub fn restart(&mut self) {
        self.stop();
        if let Err(log) = self.spawn() {
            panic!("{:?} did not restart:\n{log}", self.options.server);
        }
    }

    /// Stops the server and starts the one `options` describe on the same state folder (their
    /// own `state_dir` is ignored): e.g. Spin serving what our host wrote, or our host without
    /// the test clock after it wrote the past.
    pub fn serve_with(&mut self, options: HostOptions) {
        self.stop();
        self.options = HostOptions {
            state_dir: Some(self.state_dir.clone()),
            ..options
        };
        if let Err(log) = self.spawn() {
            panic!("{:?} did not start:\n{log}", self.options.server);
        }
    }

    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Everything the server wrote (stderr and stdout) since its last (re)start.
    pub fn log(&self) -> String {
        self.output.0.lock().unwrap().text.clone()
    }

    /// Waits until the host's log satisfies `written` and returns it: for lines the host writes
    /// after it has answered (it logs a request once its instance has finished). Panics when the
    /// host exits or hangs first.
    pub fn wait_for_log(&self, written: impl Fn(&str) -> bool) -> String {
        let (lock, ready) = &*self.output;
        let started = Instant::now();
        let mut out = lock.lock().unwrap();
        while !written(&out.text) {
            assert!(!out.exited(), "the server exited:\n{}", out.text);
            let left = LOG_TIMEOUT
                .checked_sub(started.elapsed())
                .unwrap_or_else(|| panic!("the awaited log line never came:\n{}", out.text));
            out = ready.wait_timeout(out, left).unwrap().0;
        }
        out.text.clone()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The host's process id, e.g. to count its open sockets in `/proc/<pid>/fd`.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the host is running").id()
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Requests whose instances read `now` as the wall-clock time. The host must have been
    /// started with [`HostOptions::test_clock`].
    pub fn at(&self, now: impl Into<DateTime<FixedOffset>>) -> At<'_> {
        assert!(
            self.options.test_clock,
            "TestHost::at needs a host started with HostOptions::test_clock()"
        );
        At {
            host: self,
            now: now.into().to_rfc3339(),
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], &[])
    }

    /// GET with a bearer token.
    pub fn get_auth(&self, path: &str, bearer: &str) -> Reply {
        self.request(
            "GET",
            path,
            &[("authorization", &format!("Bearer {bearer}"))],
            &[],
        )
    }

    pub fn post_json(&self, path: &str, json: &serde_json::Value, bearer: Option<&str>) -> Reply {
        self.send_json("POST", path, json, bearer)
    }

    pub fn put_json(&self, path: &str, json: &serde_json::Value, bearer: Option<&str>) -> Reply {
        self.send_json("PUT", path, json, bearer)
    }

    /// POST of a raw body with its content type.
    pub fn post(&self, path: &str, content_type: &str, body: &[u8]) -> Reply {
        self.request("POST", path, &[("content-type", content_type)], body)
    }

    /// PUT of a raw body with its content type.
    pub fn put(&self, path: &str, content_type: &str, body: &[u8]) -> Reply {
        self.request("PUT", path, &[("content-type", content_type)], body)
    }

    pub fn delete(&self, path: &str, bearer: Option<&str>) -> Reply {
        let auth = bearer.map(|b| format!("Bearer {b}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.request("DELETE", path, &headers, &[])
    }

    fn send_json(
        &self,
        method: &str,
        path: &str,
        json: &serde_json::Value,
        bearer: Option<&str>,
    ) -> Reply {
        let auth = bearer.map(|b| format!("Bearer {b}"));
        let mut headers = vec![("content-type", "application/json")];
        headers.extend(auth.iter().map(|a| ("authorization", a.as_str())));
        self.request(method, path, &headers, json.to_string().as_bytes())
    }

    /// Any request. Panics on transport errors (not on HTTP error statuses).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let mut builder = http::Request::builder().method(method).uri(self.url(path));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(body.to_vec()).expect("valid request");
        let mut response = self
            .agent
            .run(request)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\nhost log:\n{}", self.log()));
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .unwrap_or_else(|e| panic!("{method} {path}: reading body: {e}"));
        Reply {
            status,
            headers,
            body,
        }
    }
}

/// Requests sent "at" a wall-clock time: see [`TestHost::at`].
pub struct At<'a> {
    host: &'a TestHost,
    /// RFC 3339.
    now: String,
}

impl At<'_> {
    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], &[])
    }

    /// GET with a bearer token.
    pub fn get_auth(&self, path: &str, bearer: &str) -> Reply {
        let auth = format!("Bearer {bearer}");
        self.request("GET", path, &[("authorization", &auth)], &[])
    }

    pub fn post_json(&self, path: &str, json: &serde_json::Value, bearer: Option<&str>) -> Reply {
        let auth = bearer.map(|b| format!("Bearer {b}"));
        let mut headers = vec![("content-type", "application/json")];
        headers.extend(auth.iter().map(|a| ("authorization", a.as_str())));
        self.request("POST", path, &headers, json.to_string().as_bytes())
    }

    /// Any request, with the test-clock header added.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let mut with_clock = vec![(TEST_NOW_HEADER, self.now.as_str())];
        with_clock.extend_from_slice(headers);
        self.host.request(method, path, &with_clock, body)
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding a free port")
        .port()
}

/// Writes `manifest` to `out` with every component source made absolute; sources under a
/// `target/` folder are redirected to [`target_dir`].
pub fn resolve_manifest(manifest: &Path, out: &Path) {
    let text = std::fs::read_to_string(manifest)
        .unwrap_or_else(|e| panic!("reading {}: {e}", manifest.display()));
    let mut doc: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", manifest.display()));
    let base = manifest.parent().expect("manifest has a folder");
    if let Some(components) = doc.get_mut("component").and_then(|c| c.as_table_mut()) {
        for (_, component) in components.iter_mut() {
            let Some(source) = component.get_mut("source") else {
                continue;
            };
            let Some(path) = source.as_str() else {
                continue;
            };
            let resolved = match path.split_once("target/") {
                Some((_, inside)) => target_dir().join(inside),
                None => base.join(path),
            };
            *source = toml::Value::String(resolved.to_string_lossy().into_owned());
        }
    }
    std::fs::write(out, toml::to_string(&doc).expect("manifest serializes"))
        .expect("writing resolved manifest");
}

/// A `redis-server` on a free port for the duration of a test, without persistence.
pub struct RedisServer {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl RedisServer {
    /// Starts `redis-server` (Debian package `redis-server`); panics clearly when it is missing.
    pub fn start() -> RedisServer {
        let dir = tempfile::tempdir().expect("creating a temporary folder");
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start redis-server ({e}): install the Debian package redis-server (`make setup`)")
            });
        let server = RedisServer { child, port, dir };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not listen on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A Spin runtime-config file putting the `default` store in this server.
    pub fn runtime_config(&self) -> PathBuf {
        let path = self.dir.path().join("runtime-config.toml");
        let text = format!(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"{}\"\n",
            self.url()
        );
        std::fs::write(&path, text).expect("writing runtime config");
        path
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
