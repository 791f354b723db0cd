//! Key-value backends: SQLite with Spin's own schema (the file is interchangeable with
//! `spin up`'s `.spin/sqlite_key_value.db`), or Redis as Spin's Redis provider uses it.

use std::path::Path;

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};

/// Error text for the WIT `other(string)` case.
pub type KvError = String;

/// The largest key and value a component may write: the sizes Spin's key-value specification
/// (SIP 010) requires every store to take, so whatever runs here fits any Spin store. Larger
/// ones are answered as a store error, never a trap.
pub const MAX_KEY_BYTES: usize = 256;
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;
/// The most bytes one read (a batch of values, a key listing) may hand a component: far more
/// than any request needs, and under an instance's memory, so that the answer is a store error
/// rather than a guest that traps while taking it.
pub const MAX_RESULT_BYTES: usize = 32 * 1024 * 1024;

fn check_key(key: &str) -> Result<(), KvError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(format!(
            "key of {} bytes is over the limit of {MAX_KEY_BYTES} bytes",
            key.len()
        ));
    }
    Ok(())
}

fn check_value(value: &[u8]) -> Result<(), KvError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(format!(
            "value of {} bytes is over the limit of {MAX_VALUE_BYTES} bytes",
            value.len()
        ));
    }
    Ok(())
}

fn check_result(bytes: usize) -> Result<(), KvError> {
    if bytes > MAX_RESULT_BYTES {
        return Err(format!(
            "result of {bytes} bytes is over the limit of {MAX_RESULT_BYTES} bytes"
        ));
    }
    Ok(())
}

pub enum Backend {
    Sqlite(SqliteKv),
    Redis(RedisKv),
}

impl Backend {
    pub async fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        check_key(key)?;
        match self {
            Backend::Sqlite(s) => s.get(store, key).await,
            Backend::Redis(r) => r.get(key).await,
        }
    }

    pub async fn set(&self, store: &str, key: &str, value: Vec<u8>) -> Result<(), KvError> {
        self.set_many(store, vec![(key.to_owned(), value)]).await
    }

    pub async fn delete(&self, store: &str, key: &str) -> Result<(), KvError> {
        self.delete_many(store, vec![key.to_owned()]).await
    }

    pub async fn exists(&self, store: &str, key: &str) -> Result<bool, KvError> {
        check_key(key)?;
        match self {
            Backend::Sqlite(s) => s.exists(store, key).await,
            Backend::Redis(r) => r.exists(key).await,
        }
    }

    pub async fn keys(&self, store: &str) -> Result<Vec<String>, KvError> {
        let keys = match self {
            Backend::Sqlite(s) => s.keys(store).await,
            Backend::Redis(r) => r.keys().await,
        }?;
        check_result(keys.iter().map(String::len).sum())?;
        Ok(keys)
    }

    pub async fn increment(&self, store: &str, key: &str, delta: i64) -> Result<i64, KvError> {
        check_key(key)?;
        match self {
            Backend::Sqlite(s) => s.increment(store, key, delta).await,
            Backend::Redis(r) => r.increment(key, delta).await,
        }
    }

    /// Writes `new` only if the key still holds `expected` (`None`: still absent), atomically.
    /// Returns whether the write happened.
    pub async fn compare_and_swap(
        &self,
        store: &str,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, KvError> {
        check_key(key)?;
        check_value(new)?;
        match self {
            Backend::Sqlite(s) => s.compare_and_swap(store, key, expected, new).await,
            Backend::Redis(r) => r.compare_and_swap(key, expected, new).await,
        }
    }

    pub async fn get_many(
        &self,
        store: &str,
        keys: Vec<String>,
    ) -> Result<Vec<(String, Option<Vec<u8>>)>, KvError> {
        keys.iter().try_for_each(|k| check_key(k))?;
        let found = match self {
            Backend::Sqlite(s) => s.get_many(store, keys).await,
            Backend::Redis(r) => r.get_many(keys).await,
        }?;
        check_result(
            found
                .iter()
                .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
                .sum(),
        )?;
        Ok(found)
    }

    pub async fn set_many(
        &self,
        store: &str,
        entries: Vec<(String, Vec<u8>)>,
    ) -> Result<(), KvError> {
        for (key, value) in &entries {
            check_key(key)?;
            check_value(value)?;
        }
        match self {
            Backend::Sqlite(s) => s.set_many(store, entries).await,
            Backend::Redis(r) => r.set_many(&entries).await,
        }
    }

    pub async fn delete_many(&self, store: &str, keys: Vec<String>) -> Result<(), KvError> {
        keys.iter().try_for_each(|k| check_key(k))?;
        match self {
            Backend::Sqlite(s) => s.delete_many(store, keys).await,
            Backend::Redis(r) => r.delete_many(&keys).await,
        }
    }
}

fn other(e: impl std::fmt::Display) -> KvError {
    e.to_string()
}

const SELECT: &str = "SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2";
const UPSERT: &str = "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3) \
                      ON CONFLICT(store, key) DO UPDATE SET value = excluded.value";
const DELETE: &str = "DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2";

/// Wait between tries while the checkpointer holds a lock, and how many tries (5 s in all)
/// before the operation fails.
const BUSY_RETRY: std::time::Duration = std::time::Duration::from_micros(250);
const BUSY_RETRIES: i32 = 20_000;

/// The most operations one commit takes: a bound on how long the first of them waits for its
/// answer while the others run.
const MAX_GROUP: usize = 256;

/// How often the side connection checkpoints the WAL into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// A WAL longer than this many pages (4 KiB each: 64 MiB) after a passive checkpoint is
/// restarted, which holds writers off for one checkpoint.
const WAL_RESTART_PAGES: i64 = 16 * 1024;

/// An operation for the SQLite thread. It runs inside the group's transaction and gives back
/// how to answer its caller, which happens once the group has committed (or failed to).
type Job = Box<dyn FnOnce(&Connection) -> Reply + Send>;
type Reply = Box<dyn FnOnce(Result<(), KvError>) + Send>;

/// One connection, owned by one dedicated thread that runs every operation in turn: SQLite's
/// blocking calls (and the busy handler's waits) never stall the async workers that serve
/// requests, and running one operation at a time makes read-modify-write sequences
/// (increment, compare-and-swap) atomic across requests.
///
/// Group commit: the thread takes every operation waiting in its queue (up to [`MAX_GROUP`]),
/// runs them one after the other in one write transaction, each inside a savepoint of its own
/// (an operation that fails is rolled back alone), commits once, and only then answers each
/// caller. Concurrent requests thus share one commit instead of paying one each, and nobody is
/// told of a write that is not committed: if the commit fails, every operation of the group is
/// answered with the error. Reads in the group see the writes before them, as they would run
/// one by one.
///
/// Durability: WAL with `synchronous = NORMAL`. An operation is answered once its group has
/// committed to the WAL: it survives the host process crashing or being killed. The WAL is
/// fsynced at checkpoints (a side connection runs one every second), so an operating-system
/// crash or power loss may lose the commits of the last second or so, never corrupting the
/// file. `synchronous = FULL` would fsync the WAL at every commit (with group commit, one
/// fsync per group) and lose nothing answered even on power loss; docs/operations.md says why
/// NORMAL is the choice here.
///
/// Checkpoints are PASSIVE: they copy the WAL into the database file and fsync it beside the
/// writes, never holding them off. The next write after a checkpoint that caught up starts the
/// WAL again from its beginning, and the checkpointer makes that write itself, so that the
/// fsync of the new WAL header is not in a request's path; under writes so sustained that it
/// never catches up, a WAL over [`WAL_RESTART_PAGES`] gets one RESTART checkpoint, which waits
/// for the writer and holds it off while it copies the rest, so the file stays bounded.
pub struct SqliteKv {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl SqliteKv {
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // SQLite's own busy timeout sleeps up to 100 ms between tries; waiting out the
        // checkpointer (a few ms) that way stalls every queued operation far longer.
        conn.busy_handler(Some(|tries: i32| {
            std::thread::sleep(BUSY_RETRY);
            tries < BUSY_RETRIES
        }))?;
        conn.execute(
            "CREATE TABLE IF NOT EXISTS spin_key_value (store TEXT NOT NULL, key TEXT NOT NULL, \
             value BLOB NOT NULL, PRIMARY KEY (store, key))",
            [],
        )?;
        conn.set_prepared_statement_cache_capacity(32);
        // Checkpoints fsync: not inside some operation's commit (SQLite's automatic checkpoint
        // every 1000 pages) but on a side connection, off the operations' path.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpointer = Connection::open(path)?;
        checkpointer.busy_timeout(std::time::Duration::from_secs(5))?;
        checkpointer.execute(WAL_RESTARTS_TABLE, [])?;
        std::thread::Builder::new()
            .name("credit-host-sqlite-checkpoint".to_owned())
            .spawn(move || {
                let mut writes_checkpointed = None;
                loop {
                    std::thread::sleep(CHECKPOINT_EVERY);
                    if let Err(e) = checkpoint_new_writes(&checkpointer, &mut writes_checkpointed) {
                        eprintln!("credit-host: key-value checkpoint failed: {e}");
                    }
                }
            })
            .context("starting the SQLite checkpointer")?;
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("credit-host-sqlite".to_owned())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut group = vec![first];
                    group.extend(queue.try_iter().take(MAX_GROUP - 1));
                    commit_group(&conn, group);
                }
            })
            .context("starting the SQLite thread")?;
        Ok(Self { jobs })
    }

    /// Runs `work` on the SQLite thread and waits for its answer, given once its write has
    /// committed, without blocking the caller's worker thread.
    async fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, KvError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |conn| {
                let outcome = in_savepoint(conn, work);
                Box::new(move |committed: Result<(), KvError>| {
                    let _ = reply.send(committed.and(outcome));
                })
            }))
            .map_err(|_| "the key-value thread has stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "the key-value operation failed without an answer".to_owned())?
    }

    async fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let (store, key) = (store.to_owned(), key.to_owned());
        self.call(move |conn| read(conn, &store, &key)).await
    }

    async fn exists(&self, store: &str, key: &str) -> Result<bool, KvError> {
        let (store, key) = (store.to_owned(), key.to_owned());
        self.call(move |conn| {
            conn.prepare_cached("SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .exists(params![store, key])
        })
        .await
    }

    async fn keys(&self, store: &str) -> Result<Vec<String>, KvError> {
        let store = store.to_owned();
        self.call(move |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")?;
            let rows = stmt.query_map(params![store], |row| row.get(0))?;
            rows.collect()
        })
        .await
    }

    async fn increment(&self, store: &str, key: &str, delta: i64) -> Result<i64, KvError> {
        let (store, key) = (store.to_owned(), key.to_owned());
        self.call(move |conn| {
            // Spin's SQLite backend stores counters as little-endian i64.
            let current = match read(conn, &store, &key)? {
                None => Ok(0),
                Some(bytes) => bytes.try_into().map(i64::from_le_bytes).map_err(|_| {
                    format!("value of {key:?} is not an 8-byte little-endian integer")
                }),
            };
            let next = current.and_then(|current| {
                current
                    .checked_add(delta)
                    .ok_or_else(|| format!("incrementing {key:?} overflows"))
            });
            let next = match next {
                Ok(next) => next,
                Err(refused) => return Ok(Err(refused)),
            };
            conn.prepare_cached(UPSERT)?.execute(params![
                store,
                key,
                next.to_le_bytes().as_slice()
            ])?;
            Ok(Ok(next))
        })
        .await?
    }

    async fn compare_and_swap(
        &self,
        store: &str,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, KvError> {
        let (store, key) = (store.to_owned(), key.to_owned());
        let (expected, new) = (expected.map(<[u8]>::to_vec), new.to_vec());
        self.call(move |conn| {
            if read(conn, &store, &key)? != expected {
                return Ok(false);
            }
            conn.prepare_cached(UPSERT)?
                .execute(params![store, key, new])?;
            Ok(true)
        })
        .await
    }

    async fn get_many(
        &self,
        store: &str,
        keys: Vec<String>,
    ) -> Result<Vec<(String, Option<Vec<u8>>)>, KvError> {
        let store = store.to_owned();
        self.call(move |conn| {
            keys.into_iter()
                .map(|key| {
                    let value = read(conn, &store, &key)?;
                    Ok((key, value))
                })
                .collect()
        })
        .await
    }

    async fn set_many(&self, store: &str, entries: Vec<(String, Vec<u8>)>) -> Result<(), KvError> {
        let store = store.to_owned();
        self.call(move |conn| {
            let mut stmt = conn.prepare_cached(UPSERT)?;
            for (key, value) in &entries {
                stmt.execute(params![store, key, value])?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_many(&self, store: &str, keys: Vec<String>) -> Result<(), KvError> {
        let store = store.to_owned();
        self.call(move |conn| {
            let mut stmt = conn.prepare_cached(DELETE)?;
            for key in &keys {
                stmt.execute(params![store, key])?;
            }
            Ok(())
        })
        .await
    }
}

/// Runs one group of operations in one write transaction and answers them after its commit.
/// Should the transaction not start, each operation runs as a transaction of its own (its
/// savepoint, released, commits it).
fn commit_group(conn: &Connection, group: Vec<Job>) {
    let began = control(conn, "BEGIN IMMEDIATE");
    if let Err(e) = &began {
        eprintln!("credit-host: key-value group transaction did not start ({e}); one by one");
    }
    let replies: Vec<Reply> = group.into_iter().map(|job| job(conn)).collect();
    let committed = match began {
        Err(_) => Ok(()),
        Ok(()) => control(conn, "COMMIT").map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            format!("committing the key-value write failed: {e}")
        }),
    };
    for reply in replies {
        reply(committed.clone());
    }
}

/// Runs one operation inside a savepoint: undone alone if it fails or panics, kept otherwise.
fn in_savepoint<T>(
    conn: &Connection,
    work: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> Result<T, KvError> {
    control(conn, "SAVEPOINT operation").map_err(other)?;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(conn)));
    let outcome = match outcome {
        Ok(Ok(value)) => match control(conn, "RELEASE operation") {
            Ok(()) => return Ok(value),
            Err(e) => Err(other(e)),
        },
        Ok(Err(e)) => Err(other(e)),
        Err(_) => Err("the key-value operation panicked".to_owned()),
    };
    let _ = conn.execute_batch("ROLLBACK TO operation; RELEASE operation");
    outcome
}

/// A transaction-control statement, prepared once per connection: these run around every
/// operation and every group, and parsing them each time cost as much as executing the
/// operations' own statements (about 1% of the host's time under verification load).
fn control(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// The checkpointer's one row, rewritten to restart the WAL (see [`checkpoint_new_writes`]).
const WAL_RESTARTS_TABLE: &str = "CREATE TABLE IF NOT EXISTS credit_host_wal_restarts \
     (id INTEGER PRIMARY KEY CHECK (id = 1), restarts INTEGER NOT NULL)";

/// Checkpoints what the SQLite thread committed since the last checkpoint that caught up
/// (`writes_checkpointed`: the connection's `data_version` then), and nothing when it committed
/// nothing.
///
/// A checkpoint that caught up is followed by a write of the checkpointer's own. SQLite starts
/// the WAL again from its beginning at the first write after such a checkpoint and, under
/// `synchronous = NORMAL`, fsyncs the new WAL header in that write's commit. Without this write
/// the fsync fell to the SQLite thread, in the first request after every pause: 0.5 ms on a
/// quiet disk, up to 760 ms on a busy one (docs/benchmarks.md). The checkpointer's own write
/// does not change its `data_version`, so the next tick finds nothing new, and the row's frame
/// stays in the WAL for the next request's write to follow without a restart.
fn checkpoint_new_writes(
    conn: &Connection,
    writes_checkpointed: &mut Option<i64>,
) -> rusqlite::Result<()> {
    let writes: i64 = conn.query_row("PRAGMA data_version", [], |row| row.get(0))?;
    if *writes_checkpointed == Some(writes) {
        return Ok(());
    }
    if checkpoint(conn)? {
        conn.execute(
            "INSERT INTO credit_host_wal_restarts (id, restarts) VALUES (1, 1) \
             ON CONFLICT (id) DO UPDATE SET restarts = restarts + 1",
            [],
        )?;
        *writes_checkpointed = Some(writes);
    }
    Ok(())
}

/// A passive checkpoint; a RESTART one when the WAL it left is over [`WAL_RESTART_PAGES`].
/// Whether it caught up: every frame of the WAL copied into the database file.
fn checkpoint(conn: &Connection) -> rusqlite::Result<bool> {
    let outcome = |row: &rusqlite::Row| -> rusqlite::Result<(i64, i64, i64)> {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    };
    let (busy, wal_pages, copied) =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], outcome)?;
    if wal_pages > WAL_RESTART_PAGES {
        let (busy, _, _) = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], outcome)?;
        return Ok(busy == 0);
    }
    Ok(busy == 0 && wal_pages == copied)
}

fn read(conn: &Connection, store: &str, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare_cached(SELECT)?
        .query_row(params![store, key], |row| row.get(0))
        .optional()
}

/// While Redis is down, a request fails within a fraction of a second (503 `STORE_UNAVAILABLE`,
/// `Retry-After`) instead of waiting on the default reconnection backoff (six tries, about
/// 12 s: past the request deadline); the next request after Redis is back reconnects. A Redis
/// that accepts but does not answer fails the operation after the response timeout.
fn redis_reconnection() -> redis::aio::ConnectionManagerConfig {
    redis::aio::ConnectionManagerConfig::new()
        .set_number_of_retries(1)
        .set_factor(50)
        .set_connection_timeout(std::time::Duration::from_secs(1))
        .set_response_timeout(std::time::Duration::from_secs(3))
}

/// Redis as Spin's provider uses it: one Redis database per store label, keys used as they are.
pub struct RedisKv {
    conn: redis::aio::ConnectionManager,
    compare_and_swap: redis::Script,
}

impl RedisKv {
    pub async fn connect(url: &str) -> Result<Self> {
        let client =
            redis::Client::open(url).with_context(|| format!("invalid Redis URL {url}"))?;
        let conn = redis::aio::ConnectionManager::new_with_config(client, redis_reconnection())
            .await
            .with_context(|| format!("connecting to Redis at {url}"))?;
        // ARGV[1] = "1" if a value is expected, ARGV[2] = expected value, ARGV[3] = new value.
        let compare_and_swap = redis::Script::new(
            r"local current = redis.call('GET', KEYS[1])
              if (ARGV[1] == '0' and current == false) or (ARGV[1] == '1' and current == ARGV[2]) then
                redis.call('SET', KEYS[1], ARGV[3])
                return 1
              end
              return 0",
        );
        Ok(Self {
            conn,
            compare_and_swap,
        })
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        redis::cmd("GET")
            .arg(key)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(other)
    }

    async fn exists(&self, key: &str) -> Result<bool, KvError> {
        redis::cmd("EXISTS")
            .arg(key)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(other)
    }

    async fn keys(&self) -> Result<Vec<String>, KvError> {
        redis::cmd("KEYS")
            .arg("*")
            .query_async(&mut self.conn.clone())
            .await
            .map_err(other)
    }

    async fn increment(&self, key: &str, delta: i64) -> Result<i64, KvError> {
        redis::cmd("INCRBY")
            .arg(key)
            .arg(delta)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(other)
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, KvError> {
        let swapped: i64 = self
            .compare_and_swap
            .key(key)
            .arg(if expected.is_some() { "1" } else { "0" })
            .arg(expected.unwrap_or_default())
            .arg(new)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(other)?;
        Ok(swapped == 1)
    }

    async fn get_many(&self, keys: Vec<String>) -> Result<Vec<(String, Option<Vec<u8>>)>, KvError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(other)?;
        Ok(keys.into_iter().zip(values).collect())
    }

    async fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), KvError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("MSET");
        for (key, value) in entries {
            cmd.arg(key).arg(value);
        }
        cmd.query_async(&mut self.conn.clone()).await.map_err(other)
    }

    async fn delete_many(&self, keys: &[String]) -> Result<(), KvError> {
        if keys.is_empty() {
            return Ok(());
        }
        let _deleted: i64 = redis::cmd("DEL")
            .arg(keys)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(other)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The WAL header's two salts: SQLite draws new ones whenever it starts the WAL again.
    fn wal_salts(db: &Path) -> Vec<u8> {
        let wal = std::fs::read(format!("{}-wal", db.display())).unwrap();
        wal[16..24].to_vec()
    }

    #[tokio::test]
    async fn the_checkpointer_restarts_the_wal_so_that_the_next_write_does_not() {
        let dir = std::env::temp_dir().join(format!("credit-host-kv-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let db = dir.join("kv.db");
        let kv = SqliteKv::open(&db).unwrap();
        kv.set_many("default", vec![("k".into(), b"1".to_vec())])
            .await
            .unwrap();

        // Within a tick the checkpointer copies the write into the database file and then
        // writes its own row, which starts the WAL again on its connection.
        let observer = Connection::open(&db).unwrap();
        let restarted = (0..200).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            observer
                .query_row("SELECT restarts FROM credit_host_wal_restarts", [], |row| {
                    row.get::<_, i64>(0)
                })
                .is_ok()
        });
        assert!(restarted, "the checkpointer never restarted the WAL");

        let salts = wal_salts(&db);
        kv.set_many("default", vec![("k".into(), b"2".to_vec())])
            .await
            .unwrap();
        assert_eq!(
            wal_salts(&db),
            salts,
            "the SQLite thread's write started the WAL again (and fsynced its header)"
        );
        assert_eq!(kv.get("default", "k").await.unwrap(), Some(b"2".to_vec()));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
