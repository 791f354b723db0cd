//! Revocation subscriptions: who holds which report, each client's event
//! feed, and the webhook's progress through it. Events are appended when a
//! report is revoked ([`Store::revoke`] calls [`Store::announce_revocation`])
//! and, in case that append was lost or for expiry, when the client reads
//! its feed ([`Store::catch_up`]); a marker per fact makes each appear once.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::{BATCH, Store, from_json, keys, to_json};
use crate::codes::ReportNo;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::report::Revocation;
use crate::subscription::{ClientId, Delivery, Event, EventKind, Subscriber, Subscription};
use crate::vocabulary::RevocationCategory;
use crate::window::in_china;

/// A feed slot taken this long before a later event was written, and still
/// empty, belongs to a writer that died: requests end at their deadline
/// (10 s) long before.
const ABANDONED_AFTER_SECS: i64 = 60;
/// Slots read past a page, to find an event beyond an abandoned slot.
const LOOK_PAST_ABANDONED: usize = 8;

/// A fact about to enter a feed.
struct Fact<'a> {
    report_no: &'a ReportNo,
    /// When the fact enters the feed (the request announcing it).
    announced_at: DateTime<Utc>,
    kind: EventKind,
    occurred_at: chrono::DateTime<chrono::FixedOffset>,
    reason: Option<RevocationCategory>,
}

impl<K: KeyValue + ?Sized> Store<'_, K> {
    pub fn subscriber(&self, client: &ClientId) -> Result<Option<Subscriber>, Error> {
        self.get_json(&keys::subscriber(client))
    }

    pub fn save_subscriber(&self, client: &ClientId, subscriber: &Subscriber) -> Result<(), Error> {
        Ok(self
            .kv
            .set(&keys::subscriber(client), &to_json(subscriber)?)?)
    }

    /// Registers that `client` holds the report; whether it is new.
    pub fn subscribe(&self, client: &ClientId, subscription: &Subscription) -> Result<bool, Error> {
        let key = keys::subscription(client, &subscription.report_no);
        if !self
            .kv
            .compare_and_swap(&key, None, &to_json(subscription)?)?
        {
            return Ok(false);
        }
        let no = subscription.report_no.to_string();
        self.append(&keys::subscriptions_of(client), &no)?;
        self.append(
            &keys::subscribers_of(&subscription.report_no),
            client.as_str(),
        )?;
        Ok(true)
    }

    /// The reports `client` holds, each once.
    pub fn subscriptions_of(&self, client: &ClientId) -> Result<Vec<Subscription>, Error> {
        let mut seen = HashSet::new();
        let keys: Vec<String> = self
            .list(&keys::subscriptions_of(client))?
            .into_iter()
            .filter(|no| seen.insert(no.clone()))
            .filter_map(|no| no.parse::<ReportNo>().ok())
            .map(|no| keys::subscription(client, &no))
            .collect();
        let mut out = Vec::with_capacity(keys.len());
        for (key, value) in keys.iter().zip(self.get_many_raw(&keys)?) {
            if let Some(value) = value {
                out.push(from_json(key, &value)?);
            }
        }
        Ok(out)
    }

    /// Puts the revocation in the feed of every client holding the report:
    /// the one call of the revocation path.
    pub(crate) fn announce_revocation(
        &self,
        report_no: &ReportNo,
        revocation: &Revocation,
    ) -> Result<(), Error> {
        let mut seen = HashSet::new();
        for client in self.list(&keys::subscribers_of(report_no))? {
            let Some(client) = ClientId::parse(&client).filter(|_| seen.insert(client.clone()))
            else {
                continue;
            };
            self.announce(
                &client,
                Fact {
                    report_no,
                    kind: EventKind::Revoked,
                    occurred_at: revocation.revoked_at,
                    announced_at: revocation.revoked_at.with_timezone(&Utc),
                    reason: Some(revocation.category),
                },
            )?;
        }
        Ok(())
    }

    /// Appends the fact to the client's feed unless it is there already.
    /// The marker is set only after the event is written: a writer that
    /// dies half way leaves the fact unannounced (the next catch-up
    /// announces it again; receivers drop repeats by `event_id`), never
    /// marked and missing.
    fn announce(&self, client: &ClientId, fact: Fact<'_>) -> Result<(), Error> {
        let marker = keys::event_announced(client, fact.report_no, fact.kind);
        if self.kv.exists(&marker)? {
            return Ok(());
        }
        let feed = keys::events_of(client);
        let cursor = self.kv.increment(&feed.counter(), 1)?.max(0) as u64;
        let event = Event {
            cursor,
            event_id: Event::id_of(fact.report_no, fact.kind),
            kind: fact.kind,
            report_no: fact.report_no.clone(),
            occurred_at: fact.occurred_at,
            reason_code: fact.reason,
            reason: fact.reason.map(|c| c.label().to_owned()),
            announced_at: in_china(fact.announced_at),
        };
        self.kv.set(&feed.slot(cursor), &to_json(&event)?)?;
        Ok(self.kv.set(&marker, b"1")?)
    }

    /// Announces what the client's reports went through that its feed does
    /// not say yet: a revocation whose event was lost, and every expiry
    /// (validity passed by `now`), which no request marks when it happens.
    pub fn catch_up(&self, client: &ClientId, now: DateTime<Utc>) -> Result<(), Error> {
        let subscriptions = self.subscriptions_of(client)?;
        for chunk in subscriptions.chunks(BATCH) {
            let status_keys: Vec<String> = chunk
                .iter()
                .map(|s| keys::report_status(&s.report_no))
                .collect();
            let statuses = self.get_many_raw(&status_keys)?;
            for ((subscription, key), status) in chunk.iter().zip(&status_keys).zip(statuses) {
                let fact = match status {
                    Some(bytes) => {
                        let revocation: Revocation = from_json(key, &bytes)?;
                        Fact {
                            report_no: &subscription.report_no,
                            kind: EventKind::Revoked,
                            occurred_at: revocation.revoked_at,
                            announced_at: now,
                            reason: Some(revocation.category),
                        }
                    }
                    None if now > subscription.valid_until => Fact {
                        report_no: &subscription.report_no,
                        kind: EventKind::Expired,
                        occurred_at: subscription.valid_until,
                        announced_at: now,
                        reason: None,
                    },
                    None => continue,
                };
                self.announce(client, fact)?;
            }
        }
        Ok(())
    }

    /// Up to `limit` events after `after`, in order. A page ends before a
    /// slot a writer has taken but not filled yet, so a cursor never passes
    /// an event that is still being written; a slot whose writer died is
    /// passed once a later event is older than [`ABANDONED_AFTER_SECS`]
    /// (no request lives that long), so one lost writer cannot stop a feed.
    pub fn events_after(
        &self,
        client: &ClientId,
        after: u64,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<Event>, Error> {
        let feed = keys::events_of(client);
        let last = self.counter(&feed.counter())?;
        // Read past the page by a few slots, to see beyond an abandoned one.
        let slots: Vec<String> = (after.saturating_add(1)..=last)
            .take(limit.saturating_add(LOOK_PAST_ABANDONED))
            .map(|i| feed.slot(i))
            .collect();
        let mut found: Vec<Option<Event>> = Vec::with_capacity(slots.len());
        for (key, value) in slots.iter().zip(self.get_many_raw(&slots)?) {
            found.push(value.map(|v| from_json(key, &v)).transpose()?);
        }
        let abandoned_before = now - chrono::Duration::seconds(ABANDONED_AFTER_SECS);
        let mut events = Vec::with_capacity(limit);
        for (i, slot) in found.iter().enumerate() {
            if events.len() == limit {
                break;
            }
            match slot {
                Some(event) => events.push(event.clone()),
                None => {
                    let abandoned = found[i + 1..]
                        .iter()
                        .flatten()
                        .any(|later| later.announced_at <= abandoned_before);
                    if !abandoned {
                        break;
                    }
                }
            }
        }
        Ok(events)
    }

    /// The feed position up to which the webhook has settled every event.
    pub fn webhook_settled(&self, client: &ClientId) -> Result<u64, Error> {
        Ok(self
            .kv
            .get(&keys::webhook_settled(client))?
            .and_then(|v| String::from_utf8_lossy(&v).parse().ok())
            .unwrap_or(0))
    }

    /// Moves the webhook from `from` to `cursor`, unless another delivery
    /// moved it first; whether this call moved it.
    pub fn settle_webhook(&self, client: &ClientId, from: u64, cursor: u64) -> Result<bool, Error> {
        let key = keys::webhook_settled(client);
        let current = self.kv.get(&key)?;
        let previous = current
            .as_deref()
            .and_then(|v| String::from_utf8_lossy(v).parse::<u64>().ok())
            .unwrap_or(0);
        if previous != from || cursor <= from {
            return Ok(false);
        }
        Ok(self
            .kv
            .compare_and_swap(&key, current.as_deref(), cursor.to_string().as_bytes())?)
    }

    pub fn webhook_attempt(&self, client: &ClientId, cursor: u64) -> Result<u32, Error> {
        let n = self
            .kv
            .increment(&keys::webhook_attempts(client, cursor), 1)?;
        Ok(u32::try_from(n.max(0)).unwrap_or(u32::MAX))
    }

    pub fn log_delivery(&self, client: &ClientId, delivery: &Delivery) -> Result<(), Error> {
        let list = keys::deliveries_of(client);
        let slot = self.kv.increment(&list.counter(), 1)?.max(0) as u64;
        Ok(self.kv.set(&list.slot(slot), &to_json(delivery)?)?)
    }

    /// The newest `limit` entries of the delivery log, newest first.
    pub fn deliveries_of(&self, client: &ClientId, limit: usize) -> Result<Vec<Delivery>, Error> {
        let list = keys::deliveries_of(client);
        let last = self.counter(&list.counter())?;
        let slots: Vec<String> = (1..=last).rev().take(limit).map(|i| list.slot(i)).collect();
        let mut out = Vec::with_capacity(slots.len());
        for (key, value) in slots.iter().zip(self.get_many_raw(&slots)?) {
            if let Some(value) = value {
                out.push(from_json(key, &value)?);
            }
        }
        Ok(out)
    }
}
