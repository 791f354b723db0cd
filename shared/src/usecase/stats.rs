//! The figures: `GET /api/v1/stats/collection` (the collection
//! accountability list: the administrator sees every unit, a department
//! its own) and `GET /api/v1/stats/usage` (the administrator). Both read
//! tallies by key: the work is bounded by the catalog and the months asked
//! for, not by the records stored.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::json;

use crate::audit;
use crate::auth::{Principal, Role};
use crate::catalog::catalog;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::stats::{self, CollectionFigures, UsageFigures};
use crate::store::Store;

use super::Caller;

/// The accountability list: every responsible unit for the administrator
/// (or the one `?unit=` names), a department's own unit for a department.
pub fn collection(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    unit: Option<&str>,
    overdue_days: u32,
) -> Result<CollectionFigures, Error> {
    caller.principal.require(&[Role::Admin, Role::Department])?;
    let requested = unit.map(str::trim).filter(|u| !u.is_empty());
    let units: Vec<String> = match (&caller.principal, requested) {
        (Principal::Department { unit: own, .. }, requested) => {
            let own = stats::catalog_unit(own)
                .ok_or_else(|| Error::Forbidden(format!("{own}在数据目录中没有归集责任领域")))?;
            if let Some(requested) = requested
                && stats::catalog_unit(requested).as_deref() != Some(own.as_str())
            {
                return Err(Error::Forbidden("部门只能查看本单位的数据归集情况".into()));
            }
            vec![own]
        }
        (_, Some(requested)) => vec![
            stats::catalog_unit(requested)
                .ok_or_else(|| Error::NotFound(format!("数据目录中没有责任单位“{requested}”")))?,
        ],
        (_, None) => stats::responsible_units(),
    };
    let domains: Vec<String> = units
        .iter()
        .flat_map(|u| catalog().data_domains_of_unit(u))
        .map(|d| d.code.clone())
        .collect();
    let store = Store::new(kv);
    let figures = stats::collection_figures(
        &units,
        &store.domain_tallies(&domains)?,
        &store.unit_tallies(&units)?,
        overdue_days,
        caller.now,
    );
    audit::append(
        kv,
        &caller
            .entry("stats.collection", "read")
            .details(json!({ "units": units.len() })),
    )?;
    Ok(figures)
}

/// The usage figures of `?from=&to=` (months, `YYYY-MM`; the last twelve
/// by default). `verify_limit` is the per-client limit in force (the access
/// log's reader needs it for visitors indexed without theirs).
pub fn usage(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    from: Option<&str>,
    to: Option<&str>,
    verify_limit: u32,
) -> Result<UsageFigures, Error> {
    caller.principal.require(&[Role::Admin])?;
    let months = stats::usage_months(from, to, caller.now)?;
    let days: Vec<NaiveDate> = months
        .iter()
        .flat_map(|m| {
            m.first_day()
                .iter_days()
                .take_while(move |d| *d <= m.last_day())
        })
        .collect();
    let tallies: BTreeMap<_, _> = Store::new(kv).usage_days(&days, caller.now, verify_limit)?;
    let figures = stats::usage_figures(&months, &tallies);
    audit::append(
        kv,
        &caller
            .entry("stats.usage", "read")
            .details(json!({ "from": figures.from, "to": figures.to })),
    )?;
    Ok(figures)
}
