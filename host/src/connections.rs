//! Who may hold a connection: a cap on all connections and one per client address, the answer
//! to a connection over either cap, and what the accept loop does when the process runs out of
//! file descriptors.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::problem::HostProblem;

/// File descriptors kept free for everything but client connections: the store's files, the
/// module cache, outbound requests, the refusals themselves.
pub const RESERVED_FDS: u64 = 256;
/// How long a refused client is given to take its 503 before the socket is closed anyway.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_secs(1);
/// Seconds a refused client is told to wait (`Retry-After`).
pub const RETRY_AFTER_SECS: u64 = 1;
/// First and longest pause of the accept loop after the process ran out of descriptors.
const ACCEPT_PAUSE_FIRST: Duration = Duration::from_millis(10);
const ACCEPT_PAUSE_MAX: Duration = Duration::from_secs(1);

/// Raises the soft limit on open files to the hard limit (connections are files) and returns
/// the limit now in force.
pub fn raise_fd_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            eprintln!("credit-host: cannot raise the open-file limit: {e}");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
        }
    }
}

/// The client a connection counts against: its IPv4 address, or its IPv6 /64 (one subscriber's
/// network holds 2^64 addresses, so a single IPv6 address would cap nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => ClientKey(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey(IpAddr::V4(v4)),
                None => {
                    let network = u128::from(v6) & !((1u128 << 64) - 1);
                    ClientKey(IpAddr::V6(network.into()))
                }
            },
        }
    }
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The host holds its maximum of connections.
    Total,
    /// This client holds its maximum of connections.
    PerClient,
}

/// Counts open connections, in all and per client.
pub struct ConnectionLimiter {
    max_total: usize,
    max_per_client: usize,
    open: Mutex<Open>,
    refusals: Mutex<RefusalLog>,
}

#[derive(Default)]
struct Open {
    total: usize,
    per_client: HashMap<ClientKey, usize>,
}

/// Refusals are logged at most once a second, with how many there were, so that a flood does
/// not become a flood of log lines.
struct RefusalLog {
    since_last_line: u64,
    last_line: Option<Instant>,
}

impl ConnectionLimiter {
    pub fn new(max_total: usize, max_per_client: usize) -> Arc<Self> {
        Arc::new(Self {
            max_total,
            max_per_client,
            open: Mutex::default(),
            refusals: Mutex::new(RefusalLog {
                since_last_line: 0,
                last_line: None,
            }),
        })
    }

    pub fn max_total(&self) -> usize {
        self.max_total
    }

    pub fn max_per_client(&self) -> usize {
        self.max_per_client
    }

    /// A place for one more connection from `ip`, held until the permit is dropped.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<ConnectionPermit, Refusal> {
        let client = ClientKey::of(ip);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.total >= self.max_total {
            return Err(Refusal::Total);
        }
        let of_client = open.per_client.entry(client).or_insert(0);
        if *of_client >= self.max_per_client {
            return Err(Refusal::PerClient);
        }
        *of_client += 1;
        open.total += 1;
        Ok(ConnectionPermit {
            limiter: self.clone(),
            client,
        })
    }

    fn release(&self, client: ClientKey) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.total -= 1;
        if let Some(count) = open.per_client.get_mut(&client) {
            *count -= 1;
            if *count == 0 {
                open.per_client.remove(&client);
            }
        }
    }

    /// Answers a refused connection with a 503 and closes it, without reading its request:
    /// an idle or slow client gets no more of the host than that.
    pub fn refuse(&self, stream: TcpStream, ip: IpAddr, refusal: Refusal) {
        self.log_refusal(ip, refusal);
        tokio::spawn(async move {
            let mut stream = stream;
            let _ = tokio::time::timeout(REFUSAL_WRITE_TIMEOUT, async {
                stream.write_all(&refusal_response(refusal)).await?;
                stream.shutdown().await
            })
            .await;
        });
    }

    fn log_refusal(&self, ip: IpAddr, refusal: Refusal) {
        let mut log = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
        log.since_last_line += 1;
        if log
            .last_line
            .is_some_and(|at| at.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        let cap = match refusal {
            Refusal::Total => format!("the host's {} connections", self.max_total),
            Refusal::PerClient => format!("{} connections per client", self.max_per_client),
        };
        eprintln!(
            "credit-host: refused {} connection(s) over the cap (latest from {ip}: {cap})",
            log.since_last_line
        );
        log.since_last_line = 0;
        log.last_line = Some(Instant::now());
    }
}

/// One admitted connection; dropping it frees its place.
pub struct ConnectionPermit {
    limiter: Arc<ConnectionLimiter>,
    client: ClientKey,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        self.limiter.release(self.client);
    }
}

/// The whole HTTP answer to a refused connection: a `SERVER_BUSY` problem that closes it.
fn refusal_response(refusal: Refusal) -> Vec<u8> {
    let detail = match refusal {
        Refusal::Total => "服务繁忙，连接数已达上限，请稍后再试",
        Refusal::PerClient => "来自该地址的连接过多，请关闭空闲连接后再试",
    };
    let body = serde_json::json!({
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "code": HostProblem::ServerBusy.code(),
        "detail": detail,
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: {RETRY_AFTER_SECS}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Whether an accept error means the process or the system is out of descriptors or memory:
/// accepting again at once would fail again, so the loop pauses instead of spinning.
pub fn out_of_resources(error: &std::io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    ) || error.kind() == ErrorKind::OutOfMemory
}

/// The accept loop's pause after running out of resources: doubling from 10 ms to 1 s while
/// it lasts, back to the start after a successful accept.
pub struct AcceptBackoff {
    next: Duration,
}

impl AcceptBackoff {
    pub fn new() -> Self {
        Self {
            next: ACCEPT_PAUSE_FIRST,
        }
    }

    /// Whether this is the first pause of a streak (worth a log line).
    pub fn is_first(&self) -> bool {
        self.next == ACCEPT_PAUSE_FIRST
    }

    pub fn pause(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(ACCEPT_PAUSE_MAX);
        pause
    }

    pub fn reset(&mut self) {
        self.next = ACCEPT_PAUSE_FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64_network_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ClientKey::of(a), ClientKey::of(b));
        assert_ne!(ClientKey::of(a), ClientKey::of(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(ClientKey::of(mapped), ClientKey::of(v4));
    }

    #[test]
    fn caps_hold_and_dropped_permits_free_their_place() {
        let limiter = ConnectionLimiter::new(3, 2);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let first = limiter.admit(a).unwrap();
        let _second = limiter.admit(a).unwrap();
        assert_eq!(limiter.admit(a).err(), Some(Refusal::PerClient));
        let _third = limiter.admit(b).unwrap();
        assert_eq!(limiter.admit(b).err(), Some(Refusal::Total));
        drop(first);
        assert!(limiter.admit(a).is_ok());
    }
}
