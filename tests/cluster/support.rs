//! The scripted cluster: a Redis with AOF, `credit-host` nodes on fixed loopback ports (so a
//! node killed and restarted comes back where the balancer looks for it) and HAProxy in front.
//!
//! Every process is started with `PR_SET_PDEATHSIG` = SIGKILL from the test's own thread: when
//! the test process ends in any way (a failed assertion, Ctrl-C, `timeout`), its children die
//! with it; everything it writes lives in one temporary folder (`TMPDIR` of
//! `tests/cluster/run.sh`, which removes it on exit).

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use integration_tests::{
    NO_PROVIDER_CLIENT_SECRET, Reply, development_seal, development_token_key, free_port,
    host_binary, resolve_manifest, target_dir, workspace_dir,
};
use tempfile::TempDir;

/// How long a node may take to start listening (components come from the shared cache).
const NODE_START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long Redis and HAProxy may take to start, and HAProxy to see every node healthy.
const SERVICE_START_TIMEOUT: Duration = Duration::from_secs(20);

/// Makes the child die with the thread that started it: a test that ends, however it ends,
/// leaves no process behind.
fn dies_with_parent(cmd: &mut Command) -> &mut Command {
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

fn log_file(path: &Path) -> (File, File) {
    let file = File::create(path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
    (file.try_clone().unwrap(), file)
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "{what}: not after {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// Stops a child: SIGTERM, then SIGKILL after `grace`.
fn stop(child: &mut Child, grace: Duration) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `redis-server` with the append-only file on and `appendfsync always`: a write is answered
/// only once it is in the AOF on disk, so neither a killed Redis nor a lost machine loses an
/// acknowledged write.
pub struct Redis {
    pub port: u16,
    pub dir: PathBuf,
    child: Option<Child>,
    append_only: bool,
}

impl Redis {
    pub fn start(dir: PathBuf) -> Redis {
        Self::start_with(dir, true)
    }

    /// `append_only` false: for a restore, which loads the copied RDB file (Redis ignores the
    /// RDB when AOF is on) and turns AOF on afterwards ([`Redis::enable_append_only`]).
    pub fn start_with(dir: PathBuf, append_only: bool) -> Redis {
        std::fs::create_dir_all(&dir).unwrap();
        let mut redis = Redis {
            port: free_port(),
            dir,
            child: None,
            append_only,
        };
        redis.spawn();
        redis
    }

    fn spawn(&mut self) {
        let (out, err) = log_file(&self.dir.join("redis.log"));
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendfsync", "always"])
            .args(["--appendonly", if self.append_only { "yes" } else { "no" }])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = dies_with_parent(&mut cmd).spawn().unwrap_or_else(|e| {
            panic!("cannot start redis-server ({e}): install the Debian package redis-server (`make setup`)")
        });
        self.child = Some(child);
        let port = self.port;
        wait_for("redis-server listening", SERVICE_START_TIMEOUT, || {
            listening(port)
        });
        wait_for(
            "redis-server loaded its data",
            SERVICE_START_TIMEOUT,
            || self.cli(&["PING"]) == "PONG",
        );
    }

    /// A `redis-cli` command; its output, trimmed.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("running redis-cli");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// SIGKILL, as a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and folder: it replays its AOF.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// `BGSAVE`, waits for it to finish, and copies the RDB file to `to`.
    pub fn backup_to(&self, to: &Path) {
        let before = self.cli(&["LASTSAVE"]);
        assert!(
            self.cli(&["BGSAVE"]).contains("Background saving started"),
            "BGSAVE refused"
        );
        wait_for("BGSAVE finished", SERVICE_START_TIMEOUT, || {
            self.cli(&["LASTSAVE"]) != before
                && self
                    .cli(&["INFO", "persistence"])
                    .contains("rdb_bgsave_in_progress:0")
        });
        assert!(
            self.cli(&["INFO", "persistence"])
                .contains("rdb_last_bgsave_status:ok"),
            "BGSAVE failed"
        );
        std::fs::copy(self.dir.join("dump.rdb"), to).expect("copying dump.rdb");
    }

    /// Turns AOF on in a running Redis (it writes the AOF from the data set) and waits until
    /// the file is written.
    pub fn enable_append_only(&self) {
        assert_eq!(self.cli(&["CONFIG", "SET", "appendonly", "yes"]), "OK");
        wait_for("AOF rewrite finished", SERVICE_START_TIMEOUT, || {
            let info = self.cli(&["INFO", "persistence"]);
            info.contains("aof_enabled:1") && info.contains("aof_rewrite_in_progress:0")
        });
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `deploy/runtime-config-redis.toml`, pointed at this Redis.
    pub fn runtime_config(&self) -> PathBuf {
        let template =
            std::fs::read_to_string(workspace_dir().join("deploy/runtime-config-redis.toml"))
                .expect("reading deploy/runtime-config-redis.toml");
        assert!(template.contains("redis://127.0.0.1:6379"), "{template}");
        let path = self.dir.join("runtime-config-redis.toml");
        std::fs::write(
            &path,
            template.replace("redis://127.0.0.1:6379", &self.url()),
        )
        .unwrap();
        path
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One `credit-host` on a fixed loopback port, in development mode, with the test clock, the
/// test process's development seal and 127.0.0.1 as its trusted proxy (HAProxy).
pub struct Node {
    pub name: String,
    pub port: u16,
    pub state_dir: PathBuf,
    runtime_config: Option<PathBuf>,
    manifest: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    starts: u32,
}

impl Node {
    /// A node in `dir`; its store is Redis through `runtime_config`, or SQLite in `dir/state`.
    pub fn start(name: &str, dir: &Path, runtime_config: Option<PathBuf>) -> Node {
        std::fs::create_dir_all(dir).unwrap();
        let manifest = dir.join("spin.toml");
        resolve_manifest(&workspace_dir().join("spin.toml"), &manifest);
        let mut node = Node {
            name: name.to_owned(),
            port: free_port(),
            state_dir: dir.join("state"),
            runtime_config,
            manifest,
            log: dir.join("host.log"),
            child: None,
            starts: 0,
        };
        node.spawn();
        node
    }

    fn spawn(&mut self) {
        self.starts += 1;
        let log = self.log.with_extension(format!("{}.log", self.starts));
        let (out, err) = log_file(&log);
        let seal = development_seal();
        let mut cmd = Command::new(host_binary());
        cmd.env(
            "CREDIT_HOST_CACHE_DIR",
            target_dir().join("credit-host-cache"),
        )
        .env("SPIN_VARIABLE_AUTH_MODE", "development")
        .env(
            "SPIN_VARIABLE_DEVELOPMENT_TOKEN_PUBLIC_KEY",
            &development_token_key().public_key_pem,
        )
        .env(
            "SPIN_VARIABLE_OIDC_CLIENT_SECRET",
            NO_PROVIDER_CLIENT_SECRET,
        )
        .env("SPIN_VARIABLE_SEAL_PRIVATE_KEY_PEM", &seal.private_key_pem)
        .env("SPIN_VARIABLE_SEAL_CERTIFICATE_CHAIN_PEM", &seal.chain_pem)
        .env("SPIN_VARIABLE_TRUSTED_PROXIES", "127.0.0.1/32")
        // Behind the balancer every connection comes from HAProxy.
        .env("CREDIT_HOST_MAX_CONNECTIONS_PER_CLIENT", "4096")
        .arg("--manifest")
        .arg(&self.manifest)
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", self.port))
        .arg("--state-dir")
        .arg(&self.state_dir)
        .arg("--test-clock")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
        if let Some(rc) = &self.runtime_config {
            cmd.arg("--runtime-config-file").arg(rc);
        }
        let child = dies_with_parent(&mut cmd)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", host_binary().display()));
        self.child = Some(child);
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("listening on http://") {
                return;
            }
            let exited = self
                .child
                .as_mut()
                .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))));
            assert!(!exited, "{} exited before listening:\n{text}", self.name);
            assert!(
                started.elapsed() < NODE_START_TIMEOUT,
                "{} not listening after {NODE_START_TIMEOUT:?}:\n{text}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: requests in flight on it die with it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and state.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop(&mut child, Duration::from_secs(10));
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The node's resident memory (VmRSS), in MiB.
    pub fn resident_mib(&self) -> f64 {
        let pid = self.child.as_ref().expect("the node is running").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

/// HAProxy (Debian) in front of the nodes: round robin, health checks every 500 ms on the
/// catalog (which needs no store, so a Redis outage reaches clients as the components' own
/// 503 rather than HAProxy's), the serving node named in `x-served-by`.
pub struct Balancer {
    pub port: u16,
    child: Option<Child>,
}

impl Balancer {
    pub fn start(dir: &Path, nodes: &[&Node]) -> Balancer {
        let port = free_port();
        let servers: String = nodes
            .iter()
            .map(|n| {
                format!(
                    "    server {} 127.0.0.1:{} check inter 500ms fall 2 rise 2\n",
                    n.name, n.port
                )
            })
            .collect();
        let config = format!(
            "global\n    maxconn 1024\n\
             defaults\n    mode http\n    timeout connect 2s\n    timeout client 60s\n    \
             timeout server 60s\n    timeout check 2s\n    retries 2\n    option redispatch\n\
             frontend credit\n    bind 127.0.0.1:{port}\n\
             {FORWARDED_FOR}    default_backend nodes\n\
             backend nodes\n    balance roundrobin\n    option httpchk GET /api/v1/catalog\n    \
             http-check expect status 200\n    http-response set-header x-served-by %[srv_name]\n\
             {servers}"
        );
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, config).unwrap();
        let (out, err) = log_file(&dir.join("haproxy.log"));
        let mut cmd = Command::new("haproxy");
        cmd.arg("-db")
            .arg("-f")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = dies_with_parent(&mut cmd).spawn().unwrap_or_else(|e| {
            panic!("cannot start haproxy ({e}): install the Debian package haproxy (`make setup`)")
        });
        let balancer = Balancer {
            port,
            child: Some(child),
        };
        wait_for("haproxy listening", SERVICE_START_TIMEOUT, || {
            listening(port)
        });
        balancer
    }

    pub fn client(&self) -> Client {
        Client::new(&format!("http://127.0.0.1:{}", self.port))
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop(&mut child, Duration::from_secs(5));
        }
    }
}

/// X-Forwarded-For as ONE header line, the client's address appended to what came in. Not
/// `option forwardfor`: it adds a second line, and a component sees only one line of a header
/// (spin-sdk's `Request` keeps the last), so a client's own X-Forwarded-For would hide the
/// address the balancer saw and every such client would count as the balancer.
const FORWARDED_FOR: &str = "    http-request set-header X-Forwarded-For \"%[req.fhdr(X-Forwarded-For)], %[src]\" if { req.hdr(X-Forwarded-For) -m found }\n    \
     http-request set-header X-Forwarded-For %[src] unless { req.hdr(X-Forwarded-For) -m found }\n";

/// Redis, three nodes on it and HAProxy in front, in one temporary folder.
pub struct Cluster {
    pub balancer: Balancer,
    pub nodes: Vec<Node>,
    pub redis: Redis,
    pub dir: TempDir,
}

impl Cluster {
    pub fn start(node_count: usize) -> Cluster {
        let dir = tempfile::tempdir().expect("creating a temporary folder");
        let redis = Redis::start(dir.path().join("redis"));
        let config = redis.runtime_config();
        let nodes: Vec<Node> = (1..=node_count)
            .map(|i| {
                Node::start(
                    &format!("node{i}"),
                    &dir.path().join(format!("node{i}")),
                    Some(config.clone()),
                )
            })
            .collect();
        let balancer = Balancer::start(dir.path(), &nodes.iter().collect::<Vec<_>>());
        let cluster = Cluster {
            balancer,
            nodes,
            redis,
            dir,
        };
        cluster.wait_until_all_healthy();
        cluster
    }

    /// Until HAProxy has sent requests to every node (its checks found them all up).
    pub fn wait_until_all_healthy(&self) {
        let client = self.balancer.client();
        let mut seen = std::collections::HashSet::new();
        wait_for(
            "every node behind the balancer",
            SERVICE_START_TIMEOUT,
            || {
                if let Ok(reply) = client.get("/api/v1/catalog", &[])
                    && reply.status == 200
                {
                    seen.extend(reply.header("x-served-by").map(str::to_owned));
                }
                seen.len() == self.nodes.len()
            },
        );
    }
}

/// An HTTP client whose transport failures are answers too (a killed node's requests fail).
#[derive(Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(base: &str) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Client {
            base: base.to_owned(),
            agent,
        }
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Result<Reply, String> {
        self.request("GET", path, headers, &[])
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Reply, String> {
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(body.to_vec()).map_err(|e| e.to_string())?;
        let mut response = self.agent.run(request).map_err(|e| e.to_string())?;
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
            .map_err(|e| e.to_string())?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    pub fn json(
        &self,
        method: &str,
        path: &str,
        body: &serde_json::Value,
        bearer: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<Reply, String> {
        let auth = bearer.map(|b| format!("Bearer {b}"));
        let mut all = vec![("content-type", "application/json")];
        all.extend(auth.iter().map(|a| ("authorization", a.as_str())));
        all.extend_from_slice(headers);
        self.request(method, path, &all, body.to_string().as_bytes())
    }
}
