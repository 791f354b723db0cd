//! The figures' tallies: small JSON documents changed by compare-and-swap
//! where records, reports and cases are written, and read by key, never
//! by a scan (docs/decisions.md, "Figures from tallies kept at write time").

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Store, from_json, keys, to_json};
use crate::audit::access;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::stats::{BatchTally, DayTally, DomainTally, VerificationTally};
use crate::vocabulary::{RecordKind, RecordStatus};
use crate::window::china_date;

impl<K: KeyValue + ?Sized> Store<'_, K> {
    /// Applies `change` to the tally at `key` (absent: the default).
    pub(crate) fn tally<T>(&self, key: &str, change: impl Fn(&mut T)) -> Result<(), Error>
    where
        T: Default + Serialize + DeserializeOwned,
    {
        self.update_json(key, |mut tally: T| {
            change(&mut tally);
            Some(tally)
        })
    }

    /// Adds an intake batch's changes to a data domain's tally.
    pub fn tally_domain_batch(
        &self,
        data_domain: &str,
        batch: &BatchTally,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        self.tally(
            &keys::collection_tally(data_domain),
            |t: &mut DomainTally| t.add_batch(batch, now),
        )
    }

    /// Adds rejections that named none of `unit`'s domains to its tally.
    pub fn tally_unit_batch(
        &self,
        unit: &str,
        batch: &BatchTally,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        self.tally(&keys::unit_tally(unit), |t: &mut DomainTally| {
            t.add_batch(batch, now)
        })
    }

    /// A record moved between statuses: its domain's counts follow.
    pub(crate) fn tally_status_change(
        &self,
        data_domain: &str,
        kind: RecordKind,
        from: RecordStatus,
        to: RecordStatus,
    ) -> Result<(), Error> {
        self.tally(
            &keys::collection_tally(data_domain),
            |t: &mut DomainTally| t.move_record(kind, from, to),
        )
    }

    /// Changes the usage tally of `now`'s China day.
    pub fn tally_usage(
        &self,
        now: DateTime<Utc>,
        change: impl Fn(&mut DayTally),
    ) -> Result<(), Error> {
        self.tally(&keys::usage_tally(china_date(now)), change)
    }

    /// The tallies at `keys`, by key; absent ones are the default.
    fn tallies<T: Default + DeserializeOwned>(&self, keys: &[String]) -> Result<Vec<T>, Error> {
        keys.iter()
            .zip(self.get_many_raw(keys)?)
            .map(|(key, value)| match value {
                Some(bytes) => from_json(key, &bytes),
                None => Ok(T::default()),
            })
            .collect()
    }

    /// The tallies of `data_domains`: one `get_many`.
    pub fn domain_tallies(
        &self,
        data_domains: &[String],
    ) -> Result<BTreeMap<String, DomainTally>, Error> {
        let keys: Vec<String> = data_domains
            .iter()
            .map(|d| keys::collection_tally(d))
            .collect();
        Ok(data_domains
            .iter()
            .cloned()
            .zip(self.tallies(&keys)?)
            .collect())
    }

    /// The rejection tallies of `units`: one `get_many`.
    pub fn unit_tallies(&self, units: &[String]) -> Result<BTreeMap<String, DomainTally>, Error> {
        let keys: Vec<String> = units.iter().map(|u| keys::unit_tally(u)).collect();
        Ok(units.iter().cloned().zip(self.tallies(&keys)?).collect())
    }

    /// The usage and verifications of `days`. A closed day's verifications
    /// are read from its access log once and kept (`stat/acc/{day}`);
    /// today's are read from the log each time. A day's walk reads its
    /// minute markers and the entries of its visitors, bounded by the rate
    /// limits; days after today have none.
    pub fn usage_days(
        &self,
        days: &[NaiveDate],
        now: DateTime<Utc>,
        verify_limit: u32,
    ) -> Result<BTreeMap<NaiveDate, (DayTally, VerificationTally)>, Error> {
        let today = china_date(now);
        let days: Vec<NaiveDate> = days.iter().copied().filter(|d| *d <= today).collect();
        let usage_keys: Vec<String> = days.iter().map(|d| keys::usage_tally(*d)).collect();
        let usage: Vec<DayTally> = self.tallies(&usage_keys)?;
        let kept_keys: Vec<String> = days.iter().map(|d| keys::verification_tally(*d)).collect();
        let kept = self.get_many_raw(&kept_keys)?;
        let mut out = BTreeMap::new();
        for ((day, usage), (key, kept)) in
            days.into_iter().zip(usage).zip(kept_keys.iter().zip(kept))
        {
            let verifications = match kept {
                Some(bytes) => from_json(key, &bytes)?,
                None => {
                    let tally = verifications_of(self.kv, day, verify_limit)?;
                    if day < today {
                        keep_verifications(self.kv, day, &tally)?;
                    }
                    tally
                }
            };
            out.insert(day, (usage, verifications));
        }
        Ok(out)
    }
}

/// A day's verifications, from its access log.
fn verifications_of(
    kv: &(impl KeyValue + ?Sized),
    day: NaiveDate,
    verify_limit: u32,
) -> Result<VerificationTally, Error> {
    let mut tally = VerificationTally::default();
    for entry in access::list_day(kv, day, verify_limit)? {
        tally.add_entry(&entry);
    }
    Ok(tally)
}

/// Keeps a day's verification figures before its access log is pruned.
pub(crate) fn keep_verifications(
    kv: &(impl KeyValue + ?Sized),
    day: NaiveDate,
    tally: &VerificationTally,
) -> Result<(), Error> {
    kv.set(&keys::verification_tally(day), &to_json(tally)?)?;
    Ok(())
}
