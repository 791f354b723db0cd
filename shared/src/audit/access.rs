//! The access log: public verifications (`verify.code`, `verify.batch`,
//! `verify.file`), one entry per admitted request, no hash chain.
//!
//! A request's rate-limit increment returns `n`; its entry is written once
//! at `acc/{day}/{HHMM}/{client}/{n}`, covering the slots `n - cost + 1 ..=
//! n` (a batch costs its number of codes). The first visit of a minute also
//! writes the visitor index item and the minute's marker in the same
//! `set_many` as its entry. Over-limit attempts are counted but write no
//! entry: slots above the visitor's limit are refusals.
//!
//! A day is checked and pruned from its 1,440 minute markers (read in a few
//! `get_many`), the visitor counters of active minutes, and each visitor's
//! counter: never a key scan.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AuditEntry;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::paging::{Cursor, Listing, Page, PageRequest};
use crate::stats::VerificationTally;
use crate::store::keys::{self, RateMinute};
use crate::store::{Admission, BATCH, IndexedVisitor};
use crate::window::china_date;

/// The rate-limit scopes whose counters are indexed by visitor and pruned
/// by day. Only verification is rate-limited today; a new scope admitted
/// through [`crate::store::admit`] is listed here to be pruned too.
pub const SCOPES: &[&str] = &["verify"];

/// The scope whose requests have access-log entries.
pub const VERIFY_SCOPE: &str = "verify";

/// One public verification as stored: the entry and the slots it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// Rate-limit slots the request took (its number of codes).
    pub cost: u32,
}

/// Writes the access entry of an admitted request, with the visitor's index
/// item on its first visit of the minute: one `set_many`.
pub fn record(
    kv: &(impl KeyValue + ?Sized),
    admission: &Admission,
    entry: AuditEntry,
) -> Result<(), Error> {
    let key = admission
        .minute
        .access_entry(&admission.client, admission.count);
    let stored = AccessEntry {
        entry,
        cost: admission.cost,
    };
    let bytes =
        serde_json::to_vec(&stored).map_err(|e| Error::Internal(format!("serialize: {e}")))?;
    let mut writes = admission.index_writes()?;
    writes.push((key, bytes));
    kv.set_many(&writes)?;
    Ok(())
}

/// What is wrong with a day's access log, at its first problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AccessProblem {
    /// A counted visitor of the minute has no index item.
    MissingVisitor { minute: String, key: String },
    /// An admitted request's entry is absent (the first slot it would
    /// cover is named).
    Missing { minute: String, key: String },
    /// An entry that is not an access entry, or covers slots that overlap
    /// another's.
    Altered { minute: String, key: String },
}

/// A day's access log checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessCheck {
    /// Minutes with visitors.
    pub minutes: u64,
    pub visitors: u64,
    pub entries: u64,
    pub problem: Option<AccessProblem>,
}

/// One visitor's minute as found in the store.
struct VisitorLog {
    minute: RateMinute,
    visitor: IndexedVisitor,
    count: u64,
    /// `(slot, key, entry)` for each present slot up to the limit.
    entries: Vec<(u64, String, Option<AccessEntry>)>,
}

/// Walks a day: every active minute, its visitors, their entries.
/// `problem` is set at the first missing index item (the walk goes on, so
/// pruning still finds everything that is there).
struct DayWalk {
    minutes: Vec<(RateMinute, u64)>,
    visitors: Vec<VisitorLog>,
    problem: Option<AccessProblem>,
}

fn walk(
    kv: &(impl KeyValue + ?Sized),
    scope: &str,
    day: NaiveDate,
    fallback_limit: u32,
    read_entries: bool,
) -> Result<DayWalk, Error> {
    let all = keys::rate_minutes_of(scope, day);
    let mut minutes = Vec::new();
    for chunk in all.chunks(BATCH) {
        let markers: Vec<String> = chunk.iter().map(RateMinute::active).collect();
        for (minute, marker) in chunk.iter().zip(kv.get_many(&markers)?) {
            if marker.is_some() {
                let n = kv.increment(&minute.visitors().counter(), 0)?.max(0) as u64;
                minutes.push((minute.clone(), n));
            }
        }
    }
    let mut problem = None;
    let mut visitors = Vec::new();
    for (minute, n) in &minutes {
        let list = minute.visitors();
        let items: Vec<String> = (1..=*n).map(|k| list.slot(k)).collect();
        for chunk in items.chunks(BATCH) {
            for (key, item) in chunk.iter().zip(kv.get_many(chunk)?) {
                let parsed: Option<IndexedVisitor> =
                    item.and_then(|b| serde_json::from_slice(&b).ok());
                let Some(visitor) = parsed else {
                    problem.get_or_insert(AccessProblem::MissingVisitor {
                        minute: minute.minute().to_owned(),
                        key: key.clone(),
                    });
                    continue;
                };
                let (count, slots) = entry_slots(kv, minute, &visitor, fallback_limit)?;
                let mut entries = Vec::with_capacity(slots.len());
                if read_entries {
                    for chunk in slots.chunks(BATCH) {
                        for (key, value) in chunk.iter().zip(kv.get_many(chunk)?) {
                            let slot = entries.len() as u64 + 1;
                            let entry = value.map(|b| serde_json::from_slice(&b).ok());
                            match entry {
                                None => entries.push((slot, key.clone(), None)),
                                Some(None) => {
                                    problem.get_or_insert(AccessProblem::Altered {
                                        minute: minute.minute().to_owned(),
                                        key: key.clone(),
                                    });
                                    entries.push((slot, key.clone(), None));
                                }
                                Some(entry) => entries.push((slot, key.clone(), entry)),
                            }
                        }
                    }
                } else {
                    entries.extend(
                        slots
                            .into_iter()
                            .enumerate()
                            .map(|(i, key)| (i as u64 + 1, key, None)),
                    );
                }
                visitors.push(VisitorLog {
                    minute: minute.clone(),
                    visitor,
                    count,
                    entries,
                });
            }
        }
    }
    Ok(DayWalk {
        minutes,
        visitors,
        problem,
    })
}

/// The first gap in a visitor's slots: each entry must start where the
/// previous one ended; slots after the last entry are refusals only when
/// the counter passed the limit.
fn first_gap(log: &VisitorLog) -> Option<AccessProblem> {
    let minute = || log.minute.minute().to_owned();
    let mut next = 1u64;
    for (slot, key, entry) in &log.entries {
        let Some(entry) = entry else { continue };
        let start = (slot + 1).checked_sub(u64::from(entry.cost.max(1)));
        match start {
            Some(start) if start == next => next = slot + 1,
            Some(start) if start > next => {
                return Some(AccessProblem::Missing {
                    minute: minute(),
                    key: log.minute.access_entry(&log.visitor.client, next),
                });
            }
            _ => {
                return Some(AccessProblem::Altered {
                    minute: minute(),
                    key: key.clone(),
                });
            }
        }
    }
    let last = log.entries.len() as u64;
    (next <= last && log.count <= u64::from(log.visitor.limit)).then(|| AccessProblem::Missing {
        minute: minute(),
        key: log.minute.access_entry(&log.visitor.client, next),
    })
}

/// Checks a day's access log: every visitor counted in a minute is
/// indexed, and every admitted request of each visitor has its entry.
/// `fallback_limit` is used for visitors indexed without their limit.
pub fn check_day(
    kv: &(impl KeyValue + ?Sized),
    day: NaiveDate,
    fallback_limit: u32,
) -> Result<AccessCheck, Error> {
    let walked = walk(kv, VERIFY_SCOPE, day, fallback_limit, true)?;
    let mut problem = walked.problem;
    for log in &walked.visitors {
        if problem.is_some() {
            break;
        }
        problem = first_gap(log);
    }
    Ok(AccessCheck {
        minutes: walked.minutes.len() as u64,
        visitors: walked.visitors.len() as u64,
        entries: walked
            .visitors
            .iter()
            .flat_map(|v| &v.entries)
            .filter(|(_, _, e)| e.is_some())
            .count() as u64,
        problem,
    })
}

/// A visitor's counter in a minute, and the keys of its access entries: one
/// per request the counter admitted, up to the limit it was admitted under
/// (`fallback_limit` for visitors indexed before the limit was recorded).
fn entry_slots(
    kv: &(impl KeyValue + ?Sized),
    minute: &RateMinute,
    visitor: &IndexedVisitor,
    fallback_limit: u32,
) -> Result<(u64, Vec<String>), Error> {
    let count = kv.increment(&minute.client(&visitor.client), 0)?.max(0) as u64;
    let limit = if visitor.limit > 0 {
        visitor.limit
    } else {
        fallback_limit
    };
    let slots = (1..=count.min(u64::from(limit)))
        .map(|slot| minute.access_entry(&visitor.client, slot))
        .collect();
    Ok((count, slots))
}

/// A day's access entries, in minute order, then by visitor, then by slot:
/// the whole day at once, for the day's verification figures.
pub fn list_day(
    kv: &(impl KeyValue + ?Sized),
    day: NaiveDate,
    fallback_limit: u32,
) -> Result<Vec<AccessEntry>, Error> {
    let walked = walk(kv, VERIFY_SCOPE, day, fallback_limit, true)?;
    Ok(walked
        .visitors
        .into_iter()
        .flat_map(|v| v.entries)
        .filter_map(|(_, _, e)| e)
        .collect())
}

/// A page of a day's access entries for the administrator, in minute
/// order, then by visitor, then by slot: whole visitors until at least
/// `limit` entries. The cursor holds the minute's index in the day and the
/// visitor's slot in it. Reads the day's minute markers from that minute
/// on and the page's visitors only.
pub fn list_page(
    kv: &(impl KeyValue + ?Sized),
    day: NaiveDate,
    fallback_limit: u32,
    page: &PageRequest,
) -> Result<Page<AccessEntry>, Error> {
    let (first_minute, first_visitor) = match page.positions(Listing::AccessLog, 2)?.as_slice() {
        [Some(minute), Some(visitor)] => (*minute, *visitor),
        _ => (0, 1),
    };
    let limit = page.limit;
    let minutes = keys::rate_minutes_of(VERIFY_SCOPE, day);
    let mut entries = Vec::new();
    let from = usize::try_from(first_minute).unwrap_or(usize::MAX);
    let remaining: Vec<(usize, &RateMinute)> = minutes.iter().enumerate().skip(from).collect();
    for chunk in remaining.chunks(BATCH) {
        let markers: Vec<String> = chunk.iter().map(|(_, m)| m.active()).collect();
        let active = kv.get_many(&markers)?;
        for ((index, minute), marker) in chunk.iter().zip(active) {
            if marker.is_none() {
                continue;
            }
            let list = minute.visitors();
            let visitors = kv.increment(&list.counter(), 0)?.max(0) as u64;
            let start = if *index == from {
                first_visitor.max(1)
            } else {
                1
            };
            for k in start..=visitors {
                if entries.len() >= limit {
                    return Ok(Page {
                        items: entries,
                        next: Some(Cursor::at(Listing::AccessLog, vec![*index as u64, k])),
                    });
                }
                let Some(visitor) = kv
                    .get(&list.slot(k))?
                    .and_then(|b| serde_json::from_slice::<IndexedVisitor>(&b).ok())
                else {
                    continue;
                };
                let (_, slots) = entry_slots(kv, minute, &visitor, fallback_limit)?;
                for chunk in slots.chunks(BATCH) {
                    for value in kv.get_many(chunk)?.into_iter().flatten() {
                        if let Ok(entry) = serde_json::from_slice(&value) {
                            entries.push(entry);
                        }
                    }
                }
            }
        }
    }
    Ok(Page {
        items: entries,
        next: None,
    })
}

/// What pruning a day did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pruned {
    pub day: NaiveDate,
    pub visitors: u64,
    pub entries: u64,
    /// Access entries by action and outcome (e.g. `verify.code` →
    /// `VALID` → 12).
    pub outcomes: BTreeMap<String, BTreeMap<String, u64>>,
    /// Keys deleted.
    pub deleted: u64,
    /// The change-log entry that keeps the summary, when there was anything
    /// to prune.
    pub summary_entry: Option<String>,
}

/// Replaces an old day's access log by a summary: the counts by outcome are
/// appended to today's change chain (`audit.prune`, so the chain stays
/// intact), then the day's access entries, visitor index, minute markers
/// and rate-limit counters (every scope in [`SCOPES`]) are deleted.
/// Refused for a day within `retention_days` of `now`'s China date.
/// Running it again finds nothing and appends nothing.
pub fn prune_day(
    kv: &(impl KeyValue + ?Sized),
    day: NaiveDate,
    retention_days: u32,
    fallback_limit: u32,
    actor: AuditEntry,
    now: DateTime<Utc>,
) -> Result<Pruned, Error> {
    let oldest_kept = china_date(now) - Duration::days(i64::from(retention_days));
    if day >= oldest_kept {
        return Err(Error::InvalidField {
            field: "day".into(),
            detail: format!("只能清理 {oldest_kept} 之前的访问记录（保留 {retention_days} 天）"),
        });
    }
    let mut outcomes: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut doomed: Vec<String> = Vec::new();
    let (mut visitors, mut entries) = (0u64, 0u64);
    let mut verifications = VerificationTally::default();
    for scope in SCOPES {
        let walked = walk(kv, scope, day, fallback_limit, *scope == VERIFY_SCOPE)?;
        for (minute, n) in &walked.minutes {
            doomed.push(minute.active());
            doomed.push(minute.visitors().counter());
            doomed.extend((1..=*n).map(|k| minute.visitors().slot(k)));
        }
        for log in walked.visitors {
            visitors += 1;
            doomed.push(log.minute.client(&log.visitor.client));
            for (_, key, entry) in log.entries {
                if let Some(entry) = entry {
                    entries += 1;
                    verifications.add_entry(&entry);
                    *outcomes
                        .entry(entry.entry.action)
                        .or_default()
                        .entry(entry.entry.outcome)
                        .or_default() += 1;
                }
                doomed.push(key);
            }
        }
    }
    let summary_entry = if doomed.is_empty() {
        None
    } else {
        let entry = actor.target(day).details(json!({
            "visitors": visitors,
            "entries": entries,
            "outcomes": outcomes,
        }));
        Some(super::append(kv, &entry)?)
    };
    if !doomed.is_empty() {
        // The usage figures read the day from here once its entries are
        // gone (pruning again finds nothing and keeps what was kept).
        crate::store::keep_verifications(kv, day, &verifications)?;
    }
    for chunk in doomed.chunks(BATCH) {
        kv.delete_many(chunk)?;
    }
    Ok(Pruned {
        day,
        visitors,
        entries,
        outcomes,
        deleted: doomed.len() as u64,
        summary_entry,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::kv::MemoryStore;
    use crate::store::{Limits, admit};

    const LIMITS: Limits = Limits {
        per_client: 5,
        visitors: 2,
    };

    fn at(minute: u32) -> DateTime<Utc> {
        // 02:xx UTC is 10:xx in China, 2026-11-29.
        Utc.with_ymd_and_hms(2026, 11, 29, 2, minute, 30).unwrap()
    }

    fn day() -> NaiveDate {
        "2026-11-29".parse().unwrap()
    }

    fn verify(kv: &MemoryStore, client: &str, cost: u32, now: DateTime<Utc>) -> Result<(), Error> {
        let admission = admit(kv, VERIFY_SCOPE, client, cost, LIMITS, now)?;
        let entry = AuditEntry::new(None, "verify.code", "VALID", now).client(client);
        record(kv, &admission, entry)
    }

    #[test]
    fn a_day_of_visits_checks_intact_and_refusals_are_not_gaps() {
        let kv = MemoryStore::new();
        verify(&kv, "10.0.0.1", 1, at(0)).unwrap();
        verify(&kv, "10.0.0.1", 3, at(0)).unwrap();
        // 5 + 1 > 5: refused, counted, no entry.
        verify(&kv, "10.0.0.1", 2, at(0)).unwrap_err();
        verify(&kv, "10.0.0.2", 1, at(0)).unwrap();
        // A third visitor is over the ceiling: busy for the rest of the minute.
        let busy = verify(&kv, "10.0.0.3", 1, at(0)).unwrap_err();
        assert_eq!(
            (busy.code(), busy.retry_after()),
            ("TOO_MANY_VISITORS", Some(30))
        );
        assert_eq!(
            verify(&kv, "10.0.0.3", 1, at(0)).unwrap_err().code(),
            "RATE_LIMITED"
        );
        verify(&kv, "10.0.0.3", 1, at(1)).unwrap();
        let check = check_day(&kv, day(), 5).unwrap();
        assert_eq!(
            (check.minutes, check.visitors, check.entries, check.problem),
            (2, 4, 4, None)
        );
        let whole_day = list_page(&kv, day(), 5, &PageRequest::default()).unwrap();
        assert_eq!((whole_day.len(), &whole_day.next), (4, &None));
        // A visitor at a time: the same entries, none twice.
        let mut paged = Vec::new();
        let mut page = PageRequest {
            cursor: None,
            limit: 1,
        };
        loop {
            let entries = list_page(&kv, day(), 5, &page).unwrap();
            paged.extend(entries.items);
            match entries.next {
                Some(next) => page.cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(json!(paged), json!(whole_day.items));
    }

    #[test]
    fn a_deleted_or_edited_access_entry_is_named() {
        let kv = MemoryStore::new();
        for _ in 0..3 {
            verify(&kv, "10.0.0.1", 1, at(0)).unwrap();
        }
        let minute = keys::rate_minute(VERIFY_SCOPE, at(0));
        let second = minute.access_entry("10.0.0.1", 2);
        let bytes = kv.get(&second).unwrap().unwrap();
        kv.delete(&second).unwrap();
        assert_eq!(
            check_day(&kv, day(), 5).unwrap().problem,
            Some(AccessProblem::Missing {
                minute: "1000".into(),
                key: second.clone()
            })
        );
        kv.set(&second, &bytes[..bytes.len() - 3]).unwrap();
        assert_eq!(
            check_day(&kv, day(), 5).unwrap().problem,
            Some(AccessProblem::Altered {
                minute: "1000".into(),
                key: second
            })
        );
        // The last entry of a visitor within its limit is no refusal.
        let kv = MemoryStore::new();
        verify(&kv, "10.0.0.1", 1, at(0)).unwrap();
        verify(&kv, "10.0.0.1", 1, at(0)).unwrap();
        let last = minute.access_entry("10.0.0.1", 2);
        kv.delete(&last).unwrap();
        assert_eq!(
            check_day(&kv, day(), 5).unwrap().problem,
            Some(AccessProblem::Missing {
                minute: "1000".into(),
                key: last
            })
        );
    }

    #[test]
    fn pruning_keeps_a_summary_in_the_chain_and_deletes_the_day() {
        let kv = MemoryStore::new();
        verify(&kv, "10.0.0.1", 1, at(0)).unwrap();
        verify(&kv, "10.0.0.1", 9, at(0)).unwrap_err();
        verify(&kv, "10.0.0.2", 2, at(5)).unwrap();
        let now = at(0) + Duration::days(181);
        let admin = AuditEntry::new(None, "audit.prune", "pruned", now);
        let early = prune_day(&kv, day(), 181, 5, admin.clone(), now).unwrap_err();
        assert_eq!(early.code(), "INVALID_FIELD");
        let pruned = prune_day(&kv, day(), 180, 5, admin.clone(), now).unwrap();
        assert_eq!((pruned.visitors, pruned.entries), (2, 2));
        assert_eq!(pruned.outcomes["verify.code"]["VALID"], 2);
        assert!(
            kv.keys_with_prefix("rl/").is_empty(),
            "{:?}",
            kv.keys_with_prefix("rl/")
        );
        assert!(kv.keys_with_prefix("acc/").is_empty());
        let today = china_date(now);
        let summary = super::super::list_day(&kv, today, 0, 10).unwrap();
        assert_eq!(summary[0].target.as_deref(), Some("2026-11-29"));
        assert_eq!(summary[0].details["entries"], 2);
        assert_eq!(
            super::super::chain::check_day(&kv, today).unwrap().problem,
            None
        );
        let again = prune_day(&kv, day(), 180, 5, admin, now).unwrap();
        assert_eq!((again.deleted, again.summary_entry), (0, None));
        // The usage figures still count the day, from what pruning kept
        // (pruning again kept it as it was).
        let figures = crate::store::Store::new(&kv)
            .usage_days(&[day()], now, 5)
            .unwrap();
        assert_eq!(figures[&day()].1.0["code"]["VALID"], 2);
    }
}
