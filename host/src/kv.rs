//! Key-value backends: SQLite with Spin's own schema (the file is interchangeable with
//! `spin up`'s `.spin/sqlite_key_value.db`), or Redis as Spin's Redis provider uses it.

use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// Error text for the WIT `other(string)` case.
pub type KvError = String;

pub enum Backend {
    Sqlite(SqliteKv),
    Redis(RedisKv),
}

impl Backend {
    pub async fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        match self {
            Backend::Sqlite(s) => s.get(store, key),
            Backend::Redis(r) => r.get(key).await,
        }
    }

    pub async fn set(&self, store: &str, key: &str, value: &[u8]) -> Result<(), KvError> {
        match self {
            Backend::Sqlite(s) => s.set_many(store, &[(key, value)]),
            Backend::Redis(r) => r.set_many(&[(key, value)]).await,
        }
    }

    pub async fn delete(&self, store: &str, key: &str) -> Result<(), KvError> {
        self.delete_many(store, &[key.to_owned()]).await
    }

    pub async fn exists(&self, store: &str, key: &str) -> Result<bool, KvError> {
        match self {
            Backend::Sqlite(s) => s.exists(store, key),
            Backend::Redis(r) => r.exists(key).await,
        }
    }

    pub async fn keys(&self, store: &str) -> Result<Vec<String>, KvError> {
        match self {
            Backend::Sqlite(s) => s.keys(store),
            Backend::Redis(r) => r.keys().await,
        }
    }

    pub async fn increment(&self, store: &str, key: &str, delta: i64) -> Result<i64, KvError> {
        match self {
            Backend::Sqlite(s) => s.increment(store, key, delta),
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
        match self {
            Backend::Sqlite(s) => s.compare_and_swap(store, key, expected, new),
            Backend::Redis(r) => r.compare_and_swap(key, expected, new).await,
        }
    }

    pub async fn get_many(
        &self,
        store: &str,
        keys: Vec<String>,
    ) -> Result<Vec<(String, Option<Vec<u8>>)>, KvError> {
        match self {
            Backend::Sqlite(s) => s.get_many(store, keys),
            Backend::Redis(r) => r.get_many(keys).await,
        }
    }

    pub async fn set_many(&self, store: &str, entries: &[(&str, &[u8])]) -> Result<(), KvError> {
        match self {
            Backend::Sqlite(s) => s.set_many(store, entries),
            Backend::Redis(r) => r.set_many(entries).await,
        }
    }

    pub async fn delete_many(&self, store: &str, keys: &[String]) -> Result<(), KvError> {
        match self {
            Backend::Sqlite(s) => s.delete_many(store, keys),
            Backend::Redis(r) => r.delete_many(keys).await,
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

/// One connection behind a mutex: every operation is a few microseconds, and the mutex makes
/// read-modify-write sequences (increment, compare-and-swap) atomic across requests. Those
/// sequences take the write lock up front (`BEGIN IMMEDIATE`): a deferred transaction that reads
/// and then writes fails at once with "database is locked" when the checkpointer restarted the
/// WAL in between, whereas a waiting writer is covered by the busy timeout.
pub struct SqliteKv {
    conn: Mutex<Connection>,
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
        // checkpointer (a few ms) that way stalls a request and its worker thread far longer.
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
        // Checkpoints fsync. Instead of one every 1000 pages inside some request's commit, a
        // side connection runs one a second; RESTART lets the next writer reuse the WAL from
        // its start, so the file stays small under sustained writes.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpointer = Connection::open(path)?;
        checkpointer.busy_timeout(std::time::Duration::from_secs(5))?;
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
                let done = checkpointer.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()));
                if let Err(e) = done {
                    eprintln!("credit-host: key-value checkpoint failed: {e}");
                }
            }
        });
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent: keep serving.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let conn = self.lock();
        read(&conn, store, key).map_err(other)
    }

    fn exists(&self, store: &str, key: &str) -> Result<bool, KvError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached("SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2")
            .map_err(other)?;
        stmt.exists(params![store, key]).map_err(other)
    }

    fn keys(&self, store: &str) -> Result<Vec<String>, KvError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1 ORDER BY key")
            .map_err(other)?;
        let rows = stmt
            .query_map(params![store], |row| row.get(0))
            .map_err(other)?;
        rows.collect::<Result<_, _>>().map_err(other)
    }

    fn increment(&self, store: &str, key: &str, delta: i64) -> Result<i64, KvError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(other)?;
        let current =
            match read(&tx, store, key).map_err(other)? {
                None => 0,
                // Spin's SQLite backend stores counters as little-endian i64.
                Some(bytes) => i64::from_le_bytes(bytes.try_into().map_err(|_| {
                    format!("value of {key:?} is not an 8-byte little-endian integer")
                })?),
            };
        let next = current
            .checked_add(delta)
            .ok_or_else(|| format!("incrementing {key:?} overflows"))?;
        tx.prepare_cached(UPSERT)
            .map_err(other)?
            .execute(params![store, key, next.to_le_bytes().as_slice()])
            .map_err(other)?;
        tx.commit().map_err(other)?;
        Ok(next)
    }

    fn compare_and_swap(
        &self,
        store: &str,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, KvError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(other)?;
        if read(&tx, store, key).map_err(other)?.as_deref() != expected {
            return Ok(false);
        }
        tx.prepare_cached(UPSERT)
            .map_err(other)?
            .execute(params![store, key, new])
            .map_err(other)?;
        tx.commit().map_err(other)?;
        Ok(true)
    }

    fn get_many(
        &self,
        store: &str,
        keys: Vec<String>,
    ) -> Result<Vec<(String, Option<Vec<u8>>)>, KvError> {
        let conn = self.lock();
        keys.into_iter()
            .map(|key| {
                let value = read(&conn, store, &key).map_err(other)?;
                Ok((key, value))
            })
            .collect()
    }

    fn set_many(&self, store: &str, entries: &[(&str, &[u8])]) -> Result<(), KvError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(other)?;
        {
            let mut stmt = tx.prepare_cached(UPSERT).map_err(other)?;
            for (key, value) in entries {
                stmt.execute(params![store, key, value]).map_err(other)?;
            }
        }
        tx.commit().map_err(other)
    }

    fn delete_many(&self, store: &str, keys: &[String]) -> Result<(), KvError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(other)?;
        {
            let mut stmt = tx.prepare_cached(DELETE).map_err(other)?;
            for key in keys {
                stmt.execute(params![store, key]).map_err(other)?;
            }
        }
        tx.commit().map_err(other)
    }
}

fn read(conn: &Connection, store: &str, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare_cached(SELECT)?
        .query_row(params![store, key], |row| row.get(0))
        .optional()
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
        let conn = redis::aio::ConnectionManager::new(client)
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

    async fn set_many(&self, entries: &[(&str, &[u8])]) -> Result<(), KvError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("MSET");
        for (key, value) in entries {
            cmd.arg(*key).arg(*value);
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
