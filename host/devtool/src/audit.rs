//! `credit-dev audit-verify` and `credit-dev audit-prune`: the core's audit
//! check and pruning run directly on a state folder's SQLite store (Spin's
//! file and schema, as the host writes it: store `default`, counters as
//! 8-byte little-endian integers). For a Redis store, or a deployment this
//! machine cannot reach, use the admin endpoints (`GET /api/v1/audit/check`,
//! `POST /api/v1/audit/prune`) instead.

use std::path::Path;

use chrono::{NaiveDate, Utc};
use credit_core::audit::{self, AuditEntry};
use credit_core::kv::{KeyValue, StoreError};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// The store label every component uses.
const STORE: &str = "default";

/// [`KeyValue`] over the host's SQLite file. Safe beside a running host:
/// SQLite locks the file, and each read-modify-write is one immediate
/// transaction.
struct SqliteStore {
    conn: std::cell::RefCell<Connection>,
}

fn failed(e: rusqlite::Error) -> StoreError {
    StoreError(e.to_string())
}

impl SqliteStore {
    fn open(state_dir: &Path) -> Result<Self, String> {
        let path = state_dir.join("sqlite_key_value.db");
        if !path.is_file() {
            return Err(format!("no key-value store at {}", path.display()));
        }
        let conn = Connection::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| e.to_string())?;
        Ok(Self {
            conn: std::cell::RefCell::new(conn),
        })
    }

    fn read(conn: &Connection, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
        conn.prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
            .query_row(params![STORE, key], |row| row.get(0))
            .optional()
    }

    fn write(conn: &Connection, key: &str, value: &[u8]) -> rusqlite::Result<()> {
        conn.prepare_cached(
            "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3) \
             ON CONFLICT(store, key) DO UPDATE SET value = excluded.value",
        )?
        .execute(params![STORE, key, value])?;
        Ok(())
    }

    fn remove(conn: &Connection, key: &str) -> rusqlite::Result<()> {
        conn.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
            .execute(params![STORE, key])?;
        Ok(())
    }

    /// Runs `work` in one immediate transaction.
    fn atomically<T>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.borrow_mut();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)?;
        let out = work(&tx).map_err(failed)?;
        tx.commit().map_err(failed)?;
        Ok(out)
    }
}

impl KeyValue for SqliteStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Self::read(&self.conn.borrow(), key).map_err(failed)
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let conn = self.conn.borrow();
        keys.iter()
            .map(|k| Self::read(&conn, k).map_err(failed))
            .collect()
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.atomically(|conn| Self::write(conn, key, value))
    }

    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        self.atomically(|conn| {
            entries
                .iter()
                .try_for_each(|(key, value)| Self::write(conn, key, value))
        })
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.atomically(|conn| Self::remove(conn, key))
    }

    fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        self.atomically(|conn| keys.iter().try_for_each(|key| Self::remove(conn, key)))
    }

    fn exists(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.get(key)?.is_some())
    }

    /// Reading a counter (`delta` 0) writes nothing, unlike Spin's
    /// increment of an absent key: a check leaves the store as it found it.
    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        self.atomically(|conn| {
            let current = match Self::read(conn, key)? {
                Some(bytes) => bytes
                    .as_slice()
                    .try_into()
                    .map(i64::from_le_bytes)
                    .map_err(|_| rusqlite::Error::InvalidQuery)?,
                None => 0,
            };
            if delta != 0 {
                Self::write(conn, key, &(current + delta).to_le_bytes())?;
            }
            Ok(current + delta)
        })
    }

    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, StoreError> {
        self.atomically(|conn| {
            if Self::read(conn, key)?.as_deref() != expected {
                return Ok(false);
            }
            Self::write(conn, key, new)?;
            Ok(true)
        })
    }
}

/// Checks a day's change chain and access log: the check as JSON, and
/// whether the day is intact.
pub fn verify(
    state_dir: &Path,
    day: NaiveDate,
    verify_limit: u32,
) -> Result<(String, bool), String> {
    let store = SqliteStore::open(state_dir)?;
    let check = audit::check_day(&store, day, verify_limit).map_err(|e| format!("{e:?}"))?;
    let json = serde_json::to_string_pretty(&check).map_err(|e| e.to_string())?;
    Ok((json, check.intact))
}

/// Prunes a day's access log older than `retention_days` to its summary.
pub fn prune(
    state_dir: &Path,
    day: NaiveDate,
    retention_days: u32,
    verify_limit: u32,
) -> Result<String, String> {
    let store = SqliteStore::open(state_dir)?;
    let now = Utc::now();
    let operator = AuditEntry::new(None, "audit.prune", "pruned", now).client("credit-dev");
    let operator = AuditEntry {
        actor: "operator:credit-dev".into(),
        ..operator
    };
    let pruned = audit::access::prune_day(&store, day, retention_days, verify_limit, operator, now)
        .map_err(|e| e.to_string())?;
    serde_json::to_string_pretty(&pruned).map_err(|e| e.to_string())
}
