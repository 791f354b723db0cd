//! Revocation notices for relying parties: an API client registers the
//! reports it accepted (the code proves it holds them), reads its feed of
//! revocations and expiries, and, with a callback URL, is sent each event
//! signed (see [`crate::subscription`]). Spin has no background jobs, so
//! webhooks go out when something happens: at a revocation (the component
//! that revoked calls [`notify_holders`]), and again at every feed read of
//! the client ([`feed`]), up to [`MAX_ATTEMPTS`] per event.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::audit::{self, AuditEntry};
use crate::auth::oidc::random_token;
use crate::codes::ReportNo;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::store::{Store, keys};
use crate::subscription::{
    ClientId, Delivery, EVENT_ID_HEADER, Event, MAX_ATTEMPTS, MAX_PAGE, SIGNATURE_HEADER,
    Subscriber, Subscription, TIMESTAMP_HEADER, Webhook, parse_callback_url, sign,
};
use crate::usecase::verification::parse_code;
use crate::window::in_china;

/// Events a webhook sends per client and trigger, at most: a revocation
/// request is not held up by a client's long backlog (its feed has it all).
const DELIVERIES_PER_TRIGGER: usize = 10;
/// Entries of the delivery log shown, newest first.
const DELIVERY_LOG_PAGE: usize = 100;

/// Posts a webhook; the HTTP status, or why nothing was answered.
pub trait WebhookSender {
    fn post(&self, url: &str, headers: &[(&str, String)], body: &[u8]) -> Result<u16, String>;
}

/// An API client: any valid bearer token of the provider (a tender platform
/// needs no role), known by its subject.
#[derive(Debug, Clone)]
pub struct ApiClient {
    pub sub: String,
    pub client: String,
    pub now: DateTime<Utc>,
}

impl ApiClient {
    fn id(&self) -> ClientId {
        ClientId::of_subject(&self.sub)
    }

    fn entry(&self, action: &str, outcome: &str) -> AuditEntry {
        let mut entry = AuditEntry::new(None, action, outcome, self.now).client(&self.client);
        entry.actor = format!("api-client:{}", self.sub);
        entry
    }
}

/// The answer to a registration.
#[derive(Debug, Serialize)]
pub struct Registered {
    pub report_no: ReportNo,
    /// The report's state now (VALID, EXPIRED or REVOKED); a revoked or
    /// expired report's event is already in the feed.
    pub status: &'static str,
    pub valid_until: chrono::DateTime<chrono::FixedOffset>,
    /// Whether this call registered it (false: it was registered before).
    pub created: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// The webhook's signing secret: only in the answer that made it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
}

/// `{"report_no", "code", "callback_url"?}`. The code must be the report's
/// own (404 otherwise, as if the report did not exist). A callback URL is
/// the client's one webhook: the first one makes its secret, a later one
/// moves the webhook and keeps the secret.
pub fn subscribe(
    kv: &(impl KeyValue + ?Sized),
    client: &ApiClient,
    body: &Value,
) -> Result<Registered, Error> {
    if !body.is_object() {
        return Err(Error::InvalidJson(
            "请求体应为 JSON 对象 {\"report_no\", \"code\", \"callback_url\"}".into(),
        ));
    }
    let report_no: ReportNo = match body.get("report_no") {
        Some(Value::String(s)) => s.trim().parse()?,
        None | Some(Value::Null) => {
            return Err(Error::MissingField {
                field: "report_no".into(),
            });
        }
        Some(_) => return Err(Error::InvalidReportNo("报告编号应为字符串".into())),
    };
    let code = parse_code(body.get("code").unwrap_or(&Value::Null))?;
    let callback_url = match body.get("callback_url") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(parse_callback_url(s)?),
        Some(_) => {
            return Err(Error::InvalidField {
                field: "callback_url".into(),
                detail: "回调地址应为字符串".into(),
            });
        }
    };
    let store = Store::new(kv);
    let verification = store.verify_code(&code, client.now)?;
    let report = verification
        .report
        .filter(|r| r.report_no == report_no)
        .ok_or_else(|| Error::NotFound("没有与该报告编号和核验码相符的报告".into()))?;

    let id = client.id();
    let mut subscriber = store.subscriber(&id)?.unwrap_or(Subscriber {
        sub: client.sub.clone(),
        webhook: None,
    });
    let mut webhook_secret = None;
    if let Some(url) = &callback_url {
        subscriber.webhook = Some(match subscriber.webhook.take() {
            Some(webhook) => Webhook {
                callback_url: url.clone(),
                ..webhook
            },
            None => {
                let secret = random_token()?;
                webhook_secret = Some(secret.clone());
                Webhook {
                    callback_url: url.clone(),
                    secret,
                }
            }
        });
    }
    store.save_subscriber(&id, &subscriber)?;
    let created = store.subscribe(
        &id,
        &Subscription {
            report_no: report_no.clone(),
            subscribed_at: in_china(client.now),
            valid_until: report.valid_until,
        },
    )?;
    store.catch_up(&id, client.now)?;
    let status = verification.outcome.code();
    audit::append(
        kv,
        &client
            .entry(
                "subscription.create",
                if created { "created" } else { "exists" },
            )
            .target(&report_no)
            .details(json!({ "status": status, "callback_url": callback_url })),
    )?;
    Ok(Registered {
        report_no,
        status,
        valid_until: report.valid_until,
        created,
        callback_url: subscriber.webhook.map(|w| w.callback_url),
        webhook_secret,
    })
}

/// One page of a client's feed.
#[derive(Debug, Serialize)]
pub struct FeedPage {
    pub events: Vec<Event>,
    /// `?after=` for the next read: the last event's cursor, or the one
    /// asked with when there is nothing new.
    pub next_cursor: u64,
    /// Whether more events follow at once.
    pub has_more: bool,
}

/// `?after=` the cursor of the last event handled (0 or absent: from the
/// start). Expiries and lost announcements are caught up first; the
/// client's pending webhooks are tried again after the page is read.
pub fn feed(
    kv: &(impl KeyValue + ?Sized),
    sender: &impl WebhookSender,
    client: &ApiClient,
    after: Option<&str>,
) -> Result<FeedPage, Error> {
    let after = match after.map(str::trim) {
        None | Some("") => 0,
        Some(text) => text.parse::<u64>().map_err(|_| Error::InvalidField {
            field: "after".into(),
            detail: format!("“{text}”应为上一页返回的 next_cursor（非负整数）"),
        })?,
    };
    let store = Store::new(kv);
    let id = client.id();
    store.catch_up(&id, client.now)?;
    let events = store.events_after(&id, after, MAX_PAGE + 1, client.now)?;
    let has_more = events.len() > MAX_PAGE;
    let events: Vec<Event> = events.into_iter().take(MAX_PAGE).collect();
    let next_cursor = events.last().map_or(after, |e| e.cursor);
    deliver(kv, sender, &id, client.now)?;
    Ok(FeedPage {
        events,
        next_cursor,
        has_more,
    })
}

/// The client's webhook and its newest delivery attempts.
#[derive(Debug, Serialize)]
pub struct DeliveryLog {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// The feed cursor up to which every event was delivered or given up.
    pub settled_cursor: u64,
    pub deliveries: Vec<Delivery>,
}

pub fn deliveries(kv: &(impl KeyValue + ?Sized), client: &ApiClient) -> Result<DeliveryLog, Error> {
    let store = Store::new(kv);
    let id = client.id();
    Ok(DeliveryLog {
        callback_url: store
            .subscriber(&id)?
            .and_then(|s| s.webhook)
            .map(|w| w.callback_url),
        settled_cursor: store.webhook_settled(&id)?,
        deliveries: store.deliveries_of(&id, DELIVERY_LOG_PAGE)?,
    })
}

/// Sends the revocations of `reports` to the webhooks of the clients that
/// hold them (their feeds already have the events).
pub fn notify_holders(
    kv: &(impl KeyValue + ?Sized),
    sender: &impl WebhookSender,
    reports: &[ReportNo],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let store = Store::new(kv);
    let mut seen = HashSet::new();
    for report in reports {
        for client in store.list(&keys::subscribers_of(report))? {
            if let Some(id) = ClientId::parse(&client).filter(|_| seen.insert(client.clone())) {
                deliver(kv, sender, &id, now)?;
            }
        }
    }
    Ok(())
}

/// Posts the client's unsettled events in order. A refused or failed post
/// stops the round (tried again at the next trigger) until the event's
/// [`MAX_ATTEMPTS`]th attempt, after which the webhook gives up on it.
fn deliver(
    kv: &(impl KeyValue + ?Sized),
    sender: &impl WebhookSender,
    id: &ClientId,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let store = Store::new(kv);
    let Some(webhook) = store.subscriber(id)?.and_then(|s| s.webhook) else {
        return Ok(());
    };
    let mut settled = store.webhook_settled(id)?;
    for event in store.events_after(id, settled, DELIVERIES_PER_TRIGGER, now)? {
        let attempt = store.webhook_attempt(id, event.cursor)?;
        let body = serde_json::to_vec(&event)
            .map_err(|e| Error::Internal(format!("serialize event: {e}")))?;
        let timestamp = now.timestamp();
        let headers = [
            ("content-type", "application/json".to_owned()),
            (TIMESTAMP_HEADER, timestamp.to_string()),
            (SIGNATURE_HEADER, sign(&webhook.secret, timestamp, &body)),
            (EVENT_ID_HEADER, event.event_id.clone()),
        ];
        let answer = sender.post(&webhook.callback_url, &headers, &body);
        let delivered = matches!(answer, Ok(status) if (200..300).contains(&status));
        let result = match (delivered, attempt >= MAX_ATTEMPTS) {
            (true, _) => "delivered",
            (false, true) => "gave_up",
            (false, false) => "failed",
        };
        store.log_delivery(
            id,
            &Delivery {
                at: in_china(now),
                event_id: event.event_id.clone(),
                cursor: event.cursor,
                attempt,
                result: result.to_owned(),
                http_status: answer.as_ref().ok().copied(),
                error: answer.err(),
            },
        )?;
        if result == "failed" || !store.settle_webhook(id, settled, event.cursor)? {
            break;
        }
        settled = event.cursor;
    }
    Ok(())
}
