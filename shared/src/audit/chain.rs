//! The change log: per China-time day, a hash chain.
//!
//! Entry `seq` (1, 2, 3… per day) lives at `audit/{day}/{seq}` and carries
//! `prev`, the SHA-256 (hex) of the previous entry's stored bytes; the day's
//! first entry links to the previous day's head hash, or to [`GENESIS`] when
//! that day logged nothing. The head `audit/{day}/head` holds the last `seq`
//! and hash. Appending: read the head, build the entry, compare-and-swap
//! the head to `{seq + 1, hash(entry)}` (retried with the fresh head under
//! contention), then write the entry in one `set_many` with the change it
//! records. The hash is over the bytes as stored (written once, never
//! re-serialised), so no canonical form is needed.
//!
//! A crash between the head's swap and the entry's write leaves a missing
//! slot (and no change): [`check_day`] reports it, never skips it.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::AuditEntry;
use crate::codes::hex;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::store::{BATCH, keys};

/// The `prev` of the first entry of a day whose previous day logged nothing.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Swaps of the head tried under contention before the store is reported
/// unavailable.
const MAX_HEAD_ATTEMPTS: usize = 256;

/// The stored form of a change-log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainedEntry {
    pub seq: u64,
    pub prev: String,
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// A day's last entry: its `seq` and the SHA-256 of its stored bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub seq: u64,
    pub hash: String,
}

fn digest(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn read_head(key: &str, bytes: Option<&[u8]>) -> Result<Option<ChainHead>, Error> {
    bytes
        .map(|b| {
            serde_json::from_slice(b)
                .map_err(|e| Error::Internal(format!("corrupt audit head {key}: {e}")))
        })
        .transpose()
}

fn json(value: &impl Serialize) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| Error::Internal(format!("audit serialize: {e}")))
}

/// The hash the day's first entry links to.
fn link_into(kv: &(impl KeyValue + ?Sized), day: NaiveDate) -> Result<String, Error> {
    let key = keys::audit_head(day - Duration::days(1));
    Ok(read_head(&key, kv.get(&key)?.as_deref())?
        .map(|head| head.hash)
        .unwrap_or_else(|| GENESIS.to_owned()))
}

/// Appends an entry to its China-time day's chain; returns its key.
pub fn append(kv: &(impl KeyValue + ?Sized), entry: &AuditEntry) -> Result<String, Error> {
    append_with(kv, entry, Vec::new())
}

/// Appends an entry to its day's chain and writes `change` (the keys of the
/// change it records) in the same `set_many` as the entry: the change is
/// acknowledged only with its entry. Returns the entry's key.
pub fn append_with(
    kv: &(impl KeyValue + ?Sized),
    entry: &AuditEntry,
    mut change: Vec<(String, Vec<u8>)>,
) -> Result<String, Error> {
    let day = entry.at.date_naive();
    let head_key = keys::audit_head(day);
    let mut current = kv.get(&head_key)?;
    for _ in 0..MAX_HEAD_ATTEMPTS {
        let (seq, prev) = match read_head(&head_key, current.as_deref())? {
            Some(head) => (head.seq + 1, head.hash),
            None => (1, link_into(kv, day)?),
        };
        let bytes = json(&ChainedEntry {
            seq,
            prev,
            entry: entry.clone(),
        })?;
        let head = json(&ChainHead {
            seq,
            hash: digest(&bytes),
        })?;
        if kv.compare_and_swap(&head_key, current.as_deref(), &head)? {
            let key = keys::audit_day(day).slot(seq);
            change.push((key.clone(), bytes));
            kv.set_many(&change)?;
            return Ok(key);
        }
        current = kv.get(&head_key)?;
    }
    Err(Error::StoreUnavailable(format!(
        "compare-and-swap contention on {head_key}"
    )))
}

/// The last `seq` of a day (its head's, or for a day logged before the
/// chain, its slot counter's): how many slots its appends have taken, an
/// empty one among them being an append that failed half way or a deleted
/// entry.
pub fn last_seq(kv: &(impl KeyValue + ?Sized), day: NaiveDate) -> Result<u64, Error> {
    let key = keys::audit_head(day);
    match read_head(&key, kv.get(&key)?.as_deref())? {
        Some(head) => Ok(head.seq),
        None => Ok(kv.increment(&keys::audit_day(day).counter(), 0)?.max(0) as u64),
    }
}

/// The entries of one China-time day, in order of appending. `after`
/// skips that many (paging); at most `limit` are returned.
pub fn list_day(
    kv: &(impl KeyValue + ?Sized),
    day: NaiveDate,
    after: u64,
    limit: usize,
) -> Result<Vec<AuditEntry>, Error> {
    let list = keys::audit_day(day);
    let n = last_seq(kv, day)?;
    let slots: Vec<String> = (after + 1..=n).take(limit).map(|i| list.slot(i)).collect();
    let mut out = Vec::with_capacity(slots.len());
    for chunk in slots.chunks(BATCH) {
        for (key, value) in chunk.iter().zip(kv.get_many(chunk)?) {
            if let Some(bytes) = value {
                out.push(
                    serde_json::from_slice(&bytes)
                        .map_err(|e| Error::Internal(format!("corrupt {key}: {e}")))?,
                );
            }
        }
    }
    Ok(out)
}

/// What is wrong with a day's chain, at its first problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainProblem {
    /// The slot is empty: the entry was deleted, or its writer crashed
    /// after taking the slot.
    Missing { seq: u64, key: String },
    /// The entry's bytes no longer hash to what the next entry (or the
    /// head, for the last) recorded, or they are not an entry of this slot.
    Altered { seq: u64, key: String },
    /// The day's first entry does not link to the previous day's head.
    BrokenLink { seq: u64, key: String },
}

/// A day's change chain checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainCheck {
    /// Entries the head says the day has.
    pub entries: u64,
    /// The day's head hash, to be exported daily: an attacker with write
    /// access to the store could rewrite a whole day, not an exported hash.
    pub head_hash: Option<String>,
    /// The first problem found, walking from `seq` 1.
    pub problem: Option<ChainProblem>,
}

/// Checks a day's chain: every slot 1..=head present, each entry's hash
/// equal to the next one's `prev` (the last one's to the head), the first
/// linked to the previous day. Names the first problem.
pub fn check_day(kv: &(impl KeyValue + ?Sized), day: NaiveDate) -> Result<ChainCheck, Error> {
    let head_key = keys::audit_head(day);
    let Some(head) = read_head(&head_key, kv.get(&head_key)?.as_deref())? else {
        return Ok(ChainCheck {
            entries: 0,
            head_hash: None,
            problem: None,
        });
    };
    let list = keys::audit_day(day);
    let mut expected_prev = link_into(kv, day)?;
    // The entry before the one being read, whose hash the reader's `prev`
    // must equal.
    let mut previous: Option<(u64, String)> = None;
    let mut problem = None;
    let mut seq = 1u64;
    'walk: while seq <= head.seq {
        let end = (seq + BATCH as u64 - 1).min(head.seq);
        let slots: Vec<String> = (seq..=end).map(|i| list.slot(i)).collect();
        for (i, (key, value)) in (seq..=end).zip(slots.iter().zip(kv.get_many(&slots)?)) {
            let Some(bytes) = value else {
                problem = Some(ChainProblem::Missing {
                    seq: i,
                    key: key.clone(),
                });
                break 'walk;
            };
            let parsed: Option<ChainedEntry> = serde_json::from_slice(&bytes).ok();
            let Some(entry) = parsed.filter(|e| e.seq == i) else {
                problem = Some(ChainProblem::Altered {
                    seq: i,
                    key: key.clone(),
                });
                break 'walk;
            };
            if entry.prev != expected_prev {
                problem = Some(match &previous {
                    // The previous entry's bytes changed after this one
                    // recorded their hash.
                    Some((seq, key)) => ChainProblem::Altered {
                        seq: *seq,
                        key: key.clone(),
                    },
                    None => ChainProblem::BrokenLink {
                        seq: i,
                        key: key.clone(),
                    },
                });
                break 'walk;
            }
            expected_prev = digest(&bytes);
            previous = Some((i, key.clone()));
        }
        seq = end + 1;
    }
    if problem.is_none()
        && expected_prev != head.hash
        && let Some((seq, key)) = previous
    {
        problem = Some(ChainProblem::Altered { seq, key });
    }
    Ok(ChainCheck {
        entries: head.seq,
        head_hash: Some(head.hash),
        problem,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::kv::MemoryStore;

    fn entries(kv: &MemoryStore, day_offset: i64, n: usize) -> NaiveDate {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 2, 0, 0).unwrap() + Duration::days(day_offset);
        for i in 0..n {
            append(
                kv,
                &AuditEntry::new(None, "record.withdraw", "withdrawn", now).target(i),
            )
            .unwrap();
        }
        crate::window::china_date(now)
    }

    #[test]
    fn an_intact_chain_links_days_and_reports_its_head() {
        let kv = MemoryStore::new();
        let first = entries(&kv, 0, 3);
        let second = entries(&kv, 1, 2);
        let check = check_day(&kv, first).unwrap();
        assert_eq!((check.entries, check.problem), (3, None));
        let stored: ChainedEntry =
            serde_json::from_slice(&kv.get(&keys::audit_day(second).slot(1)).unwrap().unwrap())
                .unwrap();
        assert_eq!(Some(stored.prev), check.head_hash);
        assert_eq!(check_day(&kv, second).unwrap().problem, None);
        let first_entry: ChainedEntry =
            serde_json::from_slice(&kv.get(&keys::audit_day(first).slot(1)).unwrap().unwrap())
                .unwrap();
        assert_eq!(first_entry.prev, GENESIS);
        assert_eq!(list_day(&kv, first, 0, 10).unwrap().len(), 3);
    }

    #[test]
    fn a_deleted_entry_is_named_missing() {
        let kv = MemoryStore::new();
        let day = entries(&kv, 0, 5);
        kv.delete(&keys::audit_day(day).slot(3)).unwrap();
        assert_eq!(
            check_day(&kv, day).unwrap().problem,
            Some(ChainProblem::Missing {
                seq: 3,
                key: "audit/20261129/3".into()
            })
        );
    }

    #[test]
    fn an_edited_entry_is_named_altered_even_the_last() {
        for seq in [2, 5] {
            let kv = MemoryStore::new();
            let day = entries(&kv, 0, 5);
            let key = keys::audit_day(day).slot(seq);
            let text = String::from_utf8(kv.get(&key).unwrap().unwrap()).unwrap();
            kv.set(&key, text.replace("withdrawn", "created").as_bytes())
                .unwrap();
            assert_eq!(
                check_day(&kv, day).unwrap().problem,
                Some(ChainProblem::Altered { seq, key })
            );
        }
    }

    #[test]
    fn a_first_entry_not_linked_to_the_previous_day_is_a_broken_link() {
        let kv = MemoryStore::new();
        let day = entries(&kv, 1, 2);
        // The previous day gains a head afterwards (e.g. rewritten).
        entries(&kv, 0, 1);
        assert_eq!(
            check_day(&kv, day).unwrap().problem,
            Some(ChainProblem::BrokenLink {
                seq: 1,
                key: "audit/20261130/1".into()
            })
        );
    }

    #[test]
    fn the_change_is_written_in_the_same_set_many_as_its_entry() {
        let kv = MemoryStore::new();
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 2, 0, 0).unwrap();
        let key = append_with(
            &kv,
            &AuditEntry::new(None, "report.revoke", "revoked", now),
            vec![("rpt/x/status".into(), b"{}".to_vec())],
        )
        .unwrap();
        assert_eq!(key, "audit/20261129/1");
        assert_eq!(kv.get("rpt/x/status").unwrap().unwrap(), b"{}");
    }
}
