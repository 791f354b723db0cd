//! The crate's whole key layout: every key the service reads or writes is
//! built here, and nowhere else.
//!
//! Every key is at most 250 bytes; values are single records, reports,
//! cases, short ids or chunks below 1 MB. A list is a slot counter at
//! `{list}/n` plus write-once values at `{list}/{slot}` ([`ListKeys`]);
//! counters are read only through `increment(key, 0)`, as backends encode
//! them differently. No shared value is read-modified-written without
//! compare-and-swap.
//!
//! | key | value | how it is written |
//! |---|---|---|
//! | `rec/{id}` | [`StoredRecord`] JSON | compare-and-swap |
//! | `ent/{uscc}/rec/n`, `ent/{uscc}/rec/{seq}` | the entity's record ids | list append |
//! | `ent/{uscc}/has/{id}` | marker `1`, so each record takes one slot in the entity's list | set-if-absent |
//! | `ent/{uscc}/names` | [`NamesOnFile`]: the distinct entity names the entity's records carry (a few), for intake's warning without reading every record | compare-and-swap |
//! | `ent/{uscc}/rpt/n`, `ent/{uscc}/rpt/{seq}` | the entity's report numbers | list append |
//! | `ent/{uscc}/apply/{yyyymmdd}` | counter: applications that day (China date) | increment |
//! | `rec/{id}/rpt/n`, `rec/{id}/rpt/{seq}` | reports that showed the record (for revocation) | list append |
//! | `rpt/{report_no}` | [`Report`] JSON, immutable | set-if-absent |
//! | `rpt/{report_no}/status` | [`Revocation`] JSON: the first revocation stands | set-if-absent |
//! | `rpt/{report_no}/pdf` | [`PdfFingerprint`] JSON, after its chunks, with the seal's signature facts read at pinning | set-if-absent; compare-and-swap to add the chunk size |
//! | `rpt/{report_no}/pdf/{sha256}/{i}` | the issued PDF's bytes, [`PDF_CHUNK_BYTES`] per chunk | set (same content, same key) |
//! | `code/{sha256(code)}` | [`AnswerIndex`] JSON: what a verification by code answers (summary, revocation) | set-if-absent at issue; set again at revocation |
//! | `pdf/{sha256}` | [`AnswerIndex`] JSON with the pinned file's size and signature facts: what a genuine file's verification answers | set-if-absent at pinning; set again at revocation |
//! | `staff/{sha256(sub)}/apply/{yyyymmdd}` | counter: a staff member's applications on entities' behalf that day | increment |
//! | `staff/{sha256(sub)}/for/{uscc}` | [`Mandate`]: the staff member acts for the entity until it expires | set (the latest grant) |
//! | `seq/report/{yyyymmdd}` | counter: the day's report sequence | increment |
//! | `code/{sha256(code)}`, `pdf/{sha256}` (legacy) | a bare report number, from before the index carried the answer | read only |
//! | `rl/{scope}/{yyyymmdd}/{HHMM}/c/{client}` | counter: a client's attempts (codes) in one China-time minute; its value names the access entry | increment |
//! | `rl/{scope}/{yyyymmdd}/{HHMM}/v/n`, `…/v/{k}` | counter: the minute's distinct visitors (the global ceiling); item `k`: [`IndexedVisitor`] | increment; item in the entry's `set_many` |
//! | `rl/{scope}/{yyyymmdd}/m/{HHMM}` | marker: the minute had visitors | in the entry's `set_many` |
//! | `acc/{yyyymmdd}/{HHMM}/{client}/{n}` | [`AccessEntry`] JSON: one public verification (access log) | set, once |
//! | `audit/{yyyymmdd}/head` | [`ChainHead`]: the day's last `seq` and entry hash | compare-and-swap |
//! | `audit/{yyyymmdd}/{seq}` | [`ChainedEntry`] JSON by China date (change log, hash chain) | set, once, with the change it records |
//! | `audit/{yyyymmdd}/n` (legacy) | counter of a day logged before the chain | read only |
//! | `case/{no}` | [`Objection`] or [`Repair`] JSON | compare-and-swap |
//! | `case/{no}/evidence/{i}` | evidence bytes, [`EVIDENCE_CHUNK`] per chunk (never in listings) | set |
//! | `rec/{id}/case` | the record's latest case number: a new case may start once it is closed | compare-and-swap |
//! | `ent/{uscc}/obj/n`, `ent/{uscc}/obj/{seq}` | the entity's objections (`rep`: repairs) | list append |
//! | `dom/{domain}/obj/n`, `dom/{domain}/obj/{seq}` | objections on a data domain's records (`rep`: repairs) | list append |
//! | `all/obj/n`, `all/obj/{seq}` | every objection, for the administrator (`rep`: repairs) | list append |
//! | `seq/objection/{yyyymmdd}`, `seq/repair/{yyyymmdd}` | counter: the day's case sequence | increment |
//! | `auth/provider` | [`CachedProvider`]: the identity provider's discovery document and keys, with when they were fetched | set |
//! | `auth/signin/{sha256(state)}` | [`SignInAttempt`]: nonce, PKCE verifier, page to return to, expiry | set; deleted when used |
//! | `auth/session/{sha256(id)}` | [`Session`]: who signed in, the ID token (logout hint), expiry | set; deleted at logout or when found expired |
//! | `sub/{client}` | [`Subscriber`]: the API client's subject and webhook (`client`: a digest of the subject) | set |
//! | `sub/{client}/rpt/{report_no}` | [`Subscription`] | set-if-absent |
//! | `sub/{client}/rpt/n`, `sub/{client}/rpt/{seq}` | the reports the client holds | list append |
//! | `sub/{client}/evt/n`, `sub/{client}/evt/{seq}` | [`Event`]s: the client's feed, `seq` its cursor | list append |
//! | `sub/{client}/said/{report_no}/{kind}` | marker: this event is in the feed (each announced once) | set-if-absent |
//! | `sub/{client}/hook/done` | counter: feed events the webhook has settled (delivered or given up) | increment |
//! | `sub/{client}/hook/try/{seq}` | counter: attempts to deliver event `seq` | increment |
//! | `sub/{client}/dlv/n`, `sub/{client}/dlv/{seq}` | [`Delivery`] log of the webhook | list append |
//! | `rpt/{report_no}/subs/n`, `rpt/{report_no}/subs/{seq}` | clients holding the report (told at revocation) | list append |
//! | `stat/col/{domain}` | [`DomainTally`]: a data domain's records by kind and status, accepted items by day, rejections by code | compare-and-swap, once per batch and per status change |
//! | `stat/unit/{sha256(unit)}` | [`DomainTally`] (rejections only): a unit's rejected items that named none of its domains | compare-and-swap, once per batch |
//! | `stat/day/{yyyymmdd}` | [`DayTally`]: reports issued by purpose, cases filed and decided (China day) | compare-and-swap |
//! | `stat/acc/{yyyymmdd}` | [`VerificationTally`]: a closed day's verifications by channel and outcome, from its access log | set, once the day is over (at first read or at pruning) |
//!
//! Building a report reads the entity's lists and its records only, never
//! a scan.
//!
//! [`StoredRecord`]: crate::record::StoredRecord
//! [`Report`]: crate::report::Report
//! [`Revocation`]: crate::report::Revocation
//! [`PdfFingerprint`]: crate::report::PdfFingerprint
//! [`Mandate`]: super::Mandate
//! [`NamesOnFile`]: super::NamesOnFile
//! [`PDF_CHUNK_BYTES`]: super::PDF_CHUNK_BYTES
//! [`AnswerIndex`]: crate::store::AnswerIndex
//! [`IndexedVisitor`]: crate::audit::access::IndexedVisitor
//! [`AccessEntry`]: crate::audit::access::AccessEntry
//! [`ChainHead`]: crate::audit::chain::ChainHead
//! [`ChainedEntry`]: crate::audit::chain::ChainedEntry
//! [`Objection`]: crate::dispute::Objection
//! [`Repair`]: crate::dispute::Repair
//! [`EVIDENCE_CHUNK`]: crate::dispute::EVIDENCE_CHUNK
//! [`CachedProvider`]: crate::usecase::signin::CachedProvider
//! [`SignInAttempt`]: crate::usecase::signin::SignInAttempt
//! [`Session`]: crate::usecase::signin::Session
//! [`Subscriber`]: crate::subscription::Subscriber
//! [`Subscription`]: crate::subscription::Subscription
//! [`Event`]: crate::subscription::Event
//! [`Delivery`]: crate::subscription::Delivery
//! [`DomainTally`]: crate::stats::DomainTally
//! [`DayTally`]: crate::stats::DayTally
//! [`VerificationTally`]: crate::stats::VerificationTally

use chrono::{DateTime, NaiveDate, Utc};

use crate::codes::{ReportNo, VerificationCode};
use crate::dispute::{CaseKind, CaseNo};
use crate::record::RecordId;
use crate::subscription::{ClientId, EventKind};
use crate::uscc::CreditCode;
use crate::window::in_china;

/// The keys of an append-only list: its slot counter and its slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListKeys(String);

impl ListKeys {
    pub fn counter(&self) -> String {
        format!("{}/n", self.0)
    }

    /// Slots start at 1: the counter's value after the first increment.
    pub fn slot(&self, slot: u64) -> String {
        format!("{}/{slot}", self.0)
    }
}

fn day(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

// ----- records -----

pub fn record(id: &RecordId) -> String {
    format!("rec/{id}")
}

pub fn entity_records(uscc: &CreditCode) -> ListKeys {
    ListKeys(format!("ent/{uscc}/rec"))
}

pub fn entity_has_record(uscc: &CreditCode, id: &RecordId) -> String {
    format!("ent/{uscc}/has/{id}")
}

pub fn entity_names(uscc: &CreditCode) -> String {
    format!("ent/{uscc}/names")
}

// ----- reports -----

pub fn report(report_no: &ReportNo) -> String {
    format!("rpt/{report_no}")
}

pub fn report_status(report_no: &ReportNo) -> String {
    format!("rpt/{report_no}/status")
}

pub fn entity_reports(uscc: &CreditCode) -> ListKeys {
    ListKeys(format!("ent/{uscc}/rpt"))
}

pub fn reports_showing(id: &RecordId) -> ListKeys {
    ListKeys(format!("rec/{id}/rpt"))
}

pub fn applications_on(uscc: &CreditCode, china_day: NaiveDate) -> String {
    format!("ent/{uscc}/apply/{}", day(china_day))
}

/// A staff member's keys: the subject's digest (32 hex digits), so a long
/// or odd `sub` never makes a long or odd key.
fn staff(sub: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::codes::hex(&Sha256::digest(sub.as_bytes()))[..32].to_owned()
}

pub fn staff_applications_on(staff_sub: &str, china_day: NaiveDate) -> String {
    format!("staff/{}/apply/{}", staff(staff_sub), day(china_day))
}

pub fn staff_mandate(staff_sub: &str, uscc: &CreditCode) -> String {
    format!("staff/{}/for/{uscc}", staff(staff_sub))
}

pub fn report_sequence(china_day: NaiveDate) -> String {
    format!("seq/report/{}", day(china_day))
}

/// Keyed by the code's digest: the code itself is never a key.
pub fn report_by_code(code: &VerificationCode) -> String {
    format!("code/{}", code.lookup_digest())
}

// ----- issued PDFs -----

pub fn pdf_fingerprint(report_no: &ReportNo) -> String {
    format!("rpt/{report_no}/pdf")
}

/// Chunk keys name the content's SHA-256, so writers of one key always
/// write the same bytes.
pub fn pdf_chunk(report_no: &ReportNo, sha256: &str, index: u64) -> String {
    format!("rpt/{report_no}/pdf/{sha256}/{index}")
}

/// `sha256` in lowercase hex.
pub fn report_by_pdf(sha256: &str) -> String {
    format!("pdf/{sha256}")
}

// ----- rate limits and the access log -----

/// A client as it appears in a key: cut to 64 printable ASCII characters,
/// so a hostile address cannot make a long or odd key.
fn key_client(client: &str) -> String {
    client
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(64)
        .collect()
}

/// The keys of one China-time minute of a rate-limit scope (e.g. "verify"):
/// the clients' counters, the minute's visitors, and the day's marker that
/// the minute had any. Grouped under the day, so a day is found, checked
/// and pruned without a key scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateMinute {
    scope: String,
    day: String,
    minute: String,
}

impl RateMinute {
    /// The counter of `client`'s attempts in this minute.
    pub fn client(&self, client: &str) -> String {
        format!(
            "rl/{}/{}/{}/c/{}",
            self.scope,
            self.day,
            self.minute,
            key_client(client)
        )
    }

    /// The minute's distinct visitors: counter `…/v/n`, item `k` names the
    /// k-th visitor (a [`Visitor`](crate::audit::access::IndexedVisitor)).
    pub fn visitors(&self) -> ListKeys {
        ListKeys(format!("rl/{}/{}/{}/v", self.scope, self.day, self.minute))
    }

    /// Marker: the minute had visitors (written by each first visit).
    pub fn active(&self) -> String {
        format!("rl/{}/{}/m/{}", self.scope, self.day, self.minute)
    }

    /// Access log entry `slot` of `client` in this minute (the value of its
    /// rate-limit counter after the request was counted).
    pub fn access_entry(&self, client: &str, slot: u64) -> String {
        format!(
            "acc/{}/{}/{}/{slot}",
            self.day,
            self.minute,
            key_client(client)
        )
    }

    /// `HHMM`, China time.
    pub fn minute(&self) -> &str {
        &self.minute
    }
}

/// The minute of `now` (China time) under `scope`.
pub fn rate_minute(scope: &str, now: DateTime<Utc>) -> RateMinute {
    let china = in_china(now);
    RateMinute {
        scope: scope.to_owned(),
        day: china.format("%Y%m%d").to_string(),
        minute: china.format("%H%M").to_string(),
    }
}

/// Every minute of a China-time day under `scope`, in order.
pub fn rate_minutes_of(scope: &str, china_day: NaiveDate) -> Vec<RateMinute> {
    (0..24 * 60)
        .map(|m| RateMinute {
            scope: scope.to_owned(),
            day: day(china_day),
            minute: format!("{:02}{:02}", m / 60, m % 60),
        })
        .collect()
}

// ----- audit -----

/// The change log of a China-time day: entries at `audit/{day}/{seq}`.
pub fn audit_day(china_day: NaiveDate) -> ListKeys {
    ListKeys(format!("audit/{}", day(china_day)))
}

/// The head of a day's change log: the last entry's `seq` and hash.
pub fn audit_head(china_day: NaiveDate) -> String {
    format!("audit/{}/head", day(china_day))
}

// ----- disputes -----

pub fn case(no: &CaseNo) -> String {
    format!("case/{no}")
}

pub fn evidence_chunk(no: &CaseNo, index: u32) -> String {
    format!("case/{no}/evidence/{index}")
}

pub fn record_case(id: &RecordId) -> String {
    format!("rec/{id}/case")
}

fn case_list(kind: CaseKind) -> &'static str {
    match kind {
        CaseKind::Objection => "obj",
        CaseKind::Repair => "rep",
    }
}

pub fn entity_cases(uscc: &CreditCode, kind: CaseKind) -> ListKeys {
    ListKeys(format!("ent/{uscc}/{}", case_list(kind)))
}

pub fn domain_cases(domain: &str, kind: CaseKind) -> ListKeys {
    ListKeys(format!("dom/{domain}/{}", case_list(kind)))
}

pub fn all_cases(kind: CaseKind) -> ListKeys {
    ListKeys(format!("all/{}", case_list(kind)))
}

pub fn case_sequence(kind: CaseKind, china_day: NaiveDate) -> String {
    let sequence = match kind {
        CaseKind::Objection => "objection",
        CaseKind::Repair => "repair",
    };
    format!("seq/{sequence}/{}", day(china_day))
}

// ----- sign-in -----
// Session ids and `state` values are secrets: the store keeps their digests
// only, so a copy of the store signs nobody in.

pub fn identity_provider() -> String {
    "auth/provider".to_owned()
}

pub fn sign_in_attempt(state: &str) -> String {
    format!("auth/signin/{}", digest(state))
}

pub fn session(id: &str) -> String {
    format!("auth/session/{}", digest(id))
}

// ----- revocation subscriptions -----

pub fn subscriber(client: &ClientId) -> String {
    format!("sub/{client}")
}

pub fn subscription(client: &ClientId, report_no: &ReportNo) -> String {
    format!("sub/{client}/rpt/{report_no}")
}

pub fn subscriptions_of(client: &ClientId) -> ListKeys {
    ListKeys(format!("sub/{client}/rpt"))
}

pub fn events_of(client: &ClientId) -> ListKeys {
    ListKeys(format!("sub/{client}/evt"))
}

pub fn event_announced(client: &ClientId, report_no: &ReportNo, kind: EventKind) -> String {
    format!("sub/{client}/said/{report_no}/{}", kind.as_str())
}

pub fn webhook_settled(client: &ClientId) -> String {
    format!("sub/{client}/hook/done")
}

pub fn webhook_attempts(client: &ClientId, cursor: u64) -> String {
    format!("sub/{client}/hook/try/{cursor}")
}

pub fn deliveries_of(client: &ClientId) -> ListKeys {
    ListKeys(format!("sub/{client}/dlv"))
}

pub fn subscribers_of(report_no: &ReportNo) -> ListKeys {
    ListKeys(format!("rpt/{report_no}/subs"))
}

// ----- figures (stats) -----

pub fn collection_tally(data_domain: &str) -> String {
    format!("stat/col/{data_domain}")
}

/// Keyed by the unit's digest: unit names are free Chinese text.
pub fn unit_tally(unit: &str) -> String {
    format!("stat/unit/{}", &digest(unit)[..32])
}

pub fn usage_tally(china_day: NaiveDate) -> String {
    format!("stat/day/{}", day(china_day))
}

pub fn verification_tally(china_day: NaiveDate) -> String {
    format!("stat/acc/{}", day(china_day))
}

fn digest(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::codes::hex(&Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn keys_keep_the_layout_of_existing_state() {
        let uscc: CreditCode = "91350200776049653A".parse().unwrap();
        let id: RecordId = "0123456789abcdef0123456789abcdef".parse().unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let report_no = ReportNo::new(day, 7);
        let case_no = CaseNo::new(CaseKind::Repair, day, 3);
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 2, 5, 59).unwrap();

        assert_eq!(record(&id), "rec/0123456789abcdef0123456789abcdef");
        assert_eq!(
            entity_records(&uscc).slot(2),
            "ent/91350200776049653A/rec/2"
        );
        assert_eq!(
            entity_has_record(&uscc, &id),
            "ent/91350200776049653A/has/0123456789abcdef0123456789abcdef"
        );
        assert_eq!(report(&report_no), "rpt/YC20261129-000007");
        assert_eq!(report_status(&report_no), "rpt/YC20261129-000007/status");
        assert_eq!(
            reports_showing(&id).counter(),
            "rec/0123456789abcdef0123456789abcdef/rpt/n"
        );
        assert_eq!(
            applications_on(&uscc, day),
            "ent/91350200776049653A/apply/20261129"
        );
        assert_eq!(report_sequence(day), "seq/report/20261129");
        assert_eq!(
            pdf_chunk(&report_no, "ab12", 1),
            "rpt/YC20261129-000007/pdf/ab12/1"
        );
        assert_eq!(report_by_pdf("ab12"), "pdf/ab12");
        // 02:05 UTC is 10:05 in China.
        let minute = rate_minute("verify", now);
        assert_eq!(
            minute.client("10.0.0.1 \n"),
            "rl/verify/20261129/1005/c/10.0.0.1"
        );
        assert_eq!(minute.visitors().slot(3), "rl/verify/20261129/1005/v/3");
        assert_eq!(minute.active(), "rl/verify/20261129/m/1005");
        assert_eq!(
            minute.access_entry("10.0.0.1", 7),
            "acc/20261129/1005/10.0.0.1/7"
        );
        assert_eq!(
            rate_minutes_of("verify", day)[1439],
            rate_minute(
                "verify",
                Utc.with_ymd_and_hms(2026, 11, 29, 15, 59, 0).unwrap()
            )
        );
        assert_eq!(audit_day(day).slot(4), "audit/20261129/4");
        assert_eq!(audit_head(day), "audit/20261129/head");
        assert_eq!(case(&case_no), "case/XF20261129-000003");
        assert_eq!(
            evidence_chunk(&case_no, 0),
            "case/XF20261129-000003/evidence/0"
        );
        assert_eq!(
            record_case(&id),
            "rec/0123456789abcdef0123456789abcdef/case"
        );
        assert_eq!(
            entity_cases(&uscc, CaseKind::Objection).slot(1),
            "ent/91350200776049653A/obj/1"
        );
        assert_eq!(
            domain_cases("tax", CaseKind::Repair).counter(),
            "dom/tax/rep/n"
        );
        assert_eq!(all_cases(CaseKind::Objection).slot(4), "all/obj/4");
        assert_eq!(
            case_sequence(CaseKind::Objection, day),
            "seq/objection/20261129"
        );
        assert_eq!(case_sequence(CaseKind::Repair, day), "seq/repair/20261129");
        assert_eq!(identity_provider(), "auth/provider");
        // sha256("abc"): the secret itself is never part of a key.
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sign_in_attempt("abc"), format!("auth/signin/{abc}"));
        assert_eq!(session("abc"), format!("auth/session/{abc}"));
        assert_eq!(collection_tally("tax"), "stat/col/tax");
        assert_eq!(unit_tally("abc"), format!("stat/unit/{}", &abc[..32]));
        assert_eq!(usage_tally(day), "stat/day/20261129");
        assert_eq!(verification_tally(day), "stat/acc/20261129");
    }
}
