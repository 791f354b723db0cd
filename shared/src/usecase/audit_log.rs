//! The administrator's reading of the audit log, a China-time day at a
//! time: the change log paged by position, the access log of public
//! verifications, the check of a day's logs, and pruning an old day's
//! access log to a summary.

use std::ops::RangeInclusive;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::audit::access::{self, AccessEntry, Pruned};
use crate::audit::{self, AuditEntry, DayCheck};
use crate::auth::Role;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::paging::{Cursor, Listing, PageRequest, invalid_cursor};

use super::Caller;

/// Entries per page.
pub const MAX_PAGE: u64 = 1000;

/// `?date=YYYY-MM-DD&cursor=&limit=N` (or the older `after=N` instead of
/// `cursor`): the day (today by default), the entries to skip, and how
/// many to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    pub date: NaiveDate,
    pub after: u64,
    pub limit: u64,
}

impl Query {
    pub fn parse(
        date: Option<&str>,
        cursor: Option<&str>,
        after: Option<&str>,
        limit: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Query, Error> {
        let date = day_param("date", date, now)?;
        // A day holds fewer entries than this, and the next page's
        // position (after + limit) cannot overflow.
        let most = u64::from(u32::MAX);
        let after = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
            Some(cursor) => {
                match PageRequest::parse(Some(cursor), None)?.position(Listing::ChangeLog)? {
                    Some(next) if (1..=most).contains(&next) => next - 1,
                    _ => return Err(invalid_cursor()),
                }
            }
            None => number("after", after, 0, 0..=most)?,
        };
        Ok(Query {
            date,
            after,
            limit: number("limit", limit, MAX_PAGE, 1..=MAX_PAGE)?,
        })
    }
}

/// A `YYYY-MM-DD` query parameter named `name`; today (China) when absent.
pub fn day_param(name: &str, text: Option<&str>, now: DateTime<Utc>) -> Result<NaiveDate, Error> {
    match text {
        None => Ok(audit::today(now)),
        Some(text) => {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| Error::InvalidField {
                field: name.into(),
                detail: format!("“{text}”应为 YYYY-MM-DD 格式的日期"),
            })
        }
    }
}

fn number(
    name: &str,
    text: Option<&str>,
    default: u64,
    allowed: RangeInclusive<u64>,
) -> Result<u64, Error> {
    match text {
        None => Ok(default),
        Some(text) => match text.trim().parse::<u64>() {
            Ok(n) if allowed.contains(&n) => Ok(n),
            _ => Err(Error::InvalidField {
                field: name.into(),
                detail: format!(
                    "“{text}”应为 {} 到 {} 之间的整数",
                    allowed.start(),
                    allowed.end()
                ),
            }),
        },
    }
}

#[derive(Debug, Serialize)]
pub struct Page {
    pub date: NaiveDate,
    pub after: u64,
    pub entries: Vec<AuditEntry>,
    /// `after` for the next page, when slots remain after this one.
    pub next_after: Option<u64>,
    /// The same position as a cursor (`?cursor=`), as every listing pages.
    pub next_cursor: Option<Cursor>,
}

pub fn entries(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    query: &Query,
) -> Result<Page, Error> {
    caller.principal.require(&[Role::Admin])?;
    let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
    let appended = audit::last_seq(kv, query.date)?;
    let entries = audit::list_day(kv, query.date, query.after, limit)?;
    // Pages count slots, not entries: an empty slot (an append that failed halfway) must not
    // end the listing before the entries after it.
    let next_after = (query.after + query.limit < appended).then(|| query.after + query.limit);
    Ok(Page {
        date: query.date,
        after: query.after,
        entries,
        next_after,
        next_cursor: next_after.map(|after| Cursor::at(Listing::ChangeLog, vec![after + 1])),
    })
}

/// `GET /api/v1/audit/check?day=`: both logs of the day checked, with the
/// change log's head hash to export.
pub fn check(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    day: NaiveDate,
    verify_limit: u32,
) -> Result<DayCheck, Error> {
    caller.principal.require(&[Role::Admin])?;
    audit::check_day(kv, day, verify_limit)
}

/// The answer of `GET /api/v1/audit/access?date=`.
#[derive(Debug, Serialize)]
pub struct AccessPage {
    pub date: NaiveDate,
    pub entries: Vec<AccessEntry>,
    pub next_cursor: Option<Cursor>,
}

/// `GET /api/v1/audit/access?date=&cursor=&limit=`: a page of the day's
/// public verifications (whole visitors of a minute: a page may hold a
/// few more than `limit`).
pub fn access_entries(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    date: NaiveDate,
    page: &PageRequest,
    verify_limit: u32,
) -> Result<AccessPage, Error> {
    caller.principal.require(&[Role::Admin])?;
    let entries = access::list_page(kv, date, verify_limit, page)?;
    Ok(AccessPage {
        date,
        entries: entries.items,
        next_cursor: entries.next,
    })
}

/// `POST /api/v1/audit/prune?day=`: an access log older than the retention
/// replaced by its summary in the change log (see
/// [`access::prune_day`]). Audited even when there was nothing to prune.
pub fn prune(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    day: NaiveDate,
    retention_days: u32,
    verify_limit: u32,
) -> Result<Pruned, Error> {
    caller.principal.require(&[Role::Admin])?;
    let entry = caller.entry("audit.prune", "pruned");
    let pruned = access::prune_day(kv, day, retention_days, verify_limit, entry, caller.now)?;
    if pruned.summary_entry.is_none() {
        audit::append(kv, &caller.entry("audit.prune", "nothing").target(day))?;
    }
    Ok(pruned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Principal;
    use crate::kv::MemoryStore;

    #[test]
    fn an_empty_slot_does_not_end_the_listing() {
        let kv = MemoryStore::new();
        let now = "2026-03-02T01:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let admin = Caller {
            principal: Principal::Admin { sub: "root".into() },
            client: "127.0.0.1".into(),
            now,
        };
        let day = audit::today(now);
        audit::append(&kv, &admin.entry("records.upsert", "created")).unwrap();
        // A slot whose entry is gone (its writer died after taking it).
        let lost = audit::append(&kv, &admin.entry("records.upsert", "lost")).unwrap();
        kv.delete(&lost).unwrap();
        audit::append(&kv, &admin.entry("records.upsert", "updated")).unwrap();
        let page = |after| {
            let query =
                Query::parse(Some(&day.to_string()), None, Some(after), Some("2"), now).unwrap();
            entries(&kv, &admin, &query).unwrap()
        };
        let first = page("0");
        assert_eq!(first.entries.len(), 1);
        assert_eq!(first.next_after, Some(2));
        let second = page("2");
        assert_eq!(second.entries[0].outcome, "updated");
        assert_eq!(second.next_after, None);
        // The cursor names the same position as `after`.
        let cursor = first.next_cursor.unwrap().to_string();
        let query =
            Query::parse(Some(&day.to_string()), Some(&cursor), None, Some("2"), now).unwrap();
        let by_cursor = entries(&kv, &admin, &query).unwrap();
        assert_eq!((by_cursor.after, by_cursor.next_cursor), (2, None));
    }

    #[test]
    fn paging_positions_are_bounded_so_the_next_page_cannot_overflow() {
        let now = "2026-03-02T01:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let huge = u64::MAX.to_string();
        let e = Query::parse(None, None, Some(&huge), None, now).unwrap_err();
        assert_eq!(e.code(), "INVALID_FIELD");
        let q = Query::parse(
            Some("2026-03-02"),
            None,
            Some("4294967295"),
            Some("1000"),
            now,
        )
        .unwrap();
        assert_eq!(q.after + q.limit, 4_294_968_295);
        assert_eq!(
            Query::parse(None, None, None, Some("1001"), now)
                .unwrap_err()
                .code(),
            "INVALID_FIELD"
        );
    }

    #[test]
    fn limit_is_one_to_a_thousand_as_every_listing_pages() {
        let now = "2026-03-02T01:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let limit = |text| Query::parse(None, None, None, Some(text), now);
        for refused in ["0", "1001", "-1"] {
            let error = limit(refused).unwrap_err();
            assert_eq!(
                (error.code(), error.field()),
                ("INVALID_FIELD", Some("limit"))
            );
        }
        assert_eq!(limit("1").unwrap().limit, 1);
        assert_eq!(limit("1000").unwrap().limit, MAX_PAGE);
        assert_eq!(
            Query::parse(None, None, None, None, now).unwrap().limit,
            MAX_PAGE
        );
    }
}
