//! Revocation notices for relying parties (tender platforms, department
//! systems): what a subscription, an event and a webhook delivery are, and
//! how a webhook body is signed and checked.
//!
//! An API client registers the reports it accepted; every revocation of one
//! of them, and its expiry, becomes an event in the client's own feed, an
//! append-only log whose cursor is the event's slot number. The feed is the
//! source of truth; a webhook to the client's callback URL is a courtesy
//! that may fail and is caught up by the feed.

use chrono::{DateTime, FixedOffset, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::codes::{ReportNo, hex};
use crate::error::Error;
use crate::vocabulary::RevocationCategory;

/// Events per feed page, at most.
pub const MAX_PAGE: usize = 100;
/// Attempts to deliver one event to a callback before the webhook gives up
/// on it (the feed still has it).
pub const MAX_ATTEMPTS: u32 = 5;
/// How far a webhook's timestamp may be from the receiver's clock before the
/// receiver refuses it as a replay (docs/integration.md).
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;
/// The webhook headers.
pub const TIMESTAMP_HEADER: &str = "credit-webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "credit-webhook-signature";
pub const EVENT_ID_HEADER: &str = "credit-webhook-id";

/// An API client, known by a digest of its token's subject, so keys stay
/// short and the subject itself is never a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientId(String);

impl ClientId {
    pub fn of_subject(sub: &str) -> ClientId {
        ClientId(hex(&Sha256::digest(sub.as_bytes()))[..32].to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A stored id (from a report's subscriber list): 32 lowercase hex digits.
    pub fn parse(stored: &str) -> Option<ClientId> {
        (stored.len() == 32 && stored.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| ClientId(stored.to_owned()))
    }
}

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A client's webhook: where events are posted and the key they are signed
/// with (made when the callback is first registered, shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub callback_url: String,
    pub secret: String,
}

/// What the service keeps about a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscriber {
    /// The token's subject, for the audit log and the client's own view.
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<Webhook>,
}

/// A report a client holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub report_no: ReportNo,
    pub subscribed_at: DateTime<FixedOffset>,
    pub valid_until: DateTime<FixedOffset>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "report.revoked")]
    Revoked,
    #[serde(rename = "report.expired")]
    Expired,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Revoked => "revoked",
            EventKind::Expired => "expired",
        }
    }
}

/// One entry of a client's feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The feed position: `?after=` this value reads what follows.
    pub cursor: u64,
    /// `{report_no}:{revoked|expired}`: the same fact always has the same id,
    /// so a receiver drops repeats by it.
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub report_no: ReportNo,
    /// When the report was revoked, or when its validity ended.
    pub occurred_at: DateTime<FixedOffset>,
    /// A revocation's fixed category (never the deciding unit's words) …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<RevocationCategory>,
    /// … and its Chinese label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the event entered the feed.
    pub announced_at: DateTime<FixedOffset>,
}

impl Event {
    pub fn id_of(report_no: &ReportNo, kind: EventKind) -> String {
        format!("{report_no}:{}", kind.as_str())
    }
}

/// One attempt to post an event to a client's callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub at: DateTime<FixedOffset>,
    pub event_id: String,
    pub cursor: u64,
    pub attempt: u32,
    /// `delivered`, `failed` (tried again at the next trigger) or `gave_up`
    /// (after [`MAX_ATTEMPTS`]; the feed still has the event).
    pub result: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A callback URL: absolute `https`, or `http` to a loopback address only
/// (a receiver on the same machine, for testing). The host's outbound
/// allow-list decides whether it can actually be reached.
pub fn parse_callback_url(raw: &str) -> Result<String, Error> {
    let invalid = |detail: &str| Error::InvalidField {
        field: "callback_url".into(),
        detail: detail.into(),
    };
    let url = url::Url::parse(raw.trim()).map_err(|_| invalid("回调地址不是有效的 URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("回调地址不能包含用户名或密码"));
    }
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => return Err(invalid("回调地址缺少主机名")),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(invalid("回调地址必须使用 https")),
    }
    if url.as_str().len() > 512 {
        return Err(invalid("回调地址过长（最多 512 个字符）"));
    }
    Ok(url.into())
}

/// The signature header's value for a body sent at `timestamp` (Unix
/// seconds): `v1=` and the hex HMAC-SHA256, keyed with the client's secret,
/// of `"{timestamp}.{body}"`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1={}",
        hex(&mac(secret, timestamp, body).finalize().into_bytes())
    )
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The receiver's check (docs/integration.md shows it in other languages):
/// the timestamp within [`SIGNATURE_TOLERANCE_SECS`] of `now`, and the
/// signature the body's own, compared in constant time. Receivers also drop
/// an `event_id` they have already handled.
pub fn verify_signature(
    secret: &str,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> bool {
    let Ok(timestamp) = timestamp.trim().parse::<i64>() else {
        return false;
    };
    if (now.timestamp() - timestamp).abs() > SIGNATURE_TOLERANCE_SECS {
        return false;
    }
    let Some(hex_signature) = signature.trim().strip_prefix("v1=") else {
        return false;
    };
    let Ok(bytes) = base16ct::mixed::decode_vec(hex_signature) else {
        return false;
    };
    mac(secret, timestamp, body).verify_slice(&bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn signatures_hold_only_for_their_body_secret_and_time() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
        let body = br#"{"event_id":"X:revoked"}"#;
        let signature = sign("s3cret", now.timestamp(), body);
        let ts = now.timestamp().to_string();
        assert!(verify_signature("s3cret", &ts, &signature, body, now));
        assert!(!verify_signature("other", &ts, &signature, body, now));
        assert!(!verify_signature("s3cret", &ts, &signature, b"{}", now));
        let later = now + chrono::Duration::seconds(SIGNATURE_TOLERANCE_SECS + 1);
        assert!(
            !verify_signature("s3cret", &ts, &signature, body, later),
            "replayed later"
        );
        let moved = (now.timestamp() + 1).to_string();
        assert!(!verify_signature("s3cret", &moved, &signature, body, now));
        assert!(!verify_signature("s3cret", &ts, "v1=zz", body, now));
        assert!(!verify_signature("s3cret", "soon", &signature, body, now));
    }

    #[test]
    fn callbacks_are_https_or_loopback_http() {
        assert!(parse_callback_url("https://tender.example.cn/hooks/credit").is_ok());
        assert!(parse_callback_url("http://127.0.0.1:8080/hook").is_ok());
        for bad in [
            "http://tender.example.cn/hook",
            "ftp://x/",
            "not a url",
            "https://user:pw@x.cn/",
            "/relative",
        ] {
            assert!(parse_callback_url(bad).is_err(), "{bad}");
        }
    }
}
