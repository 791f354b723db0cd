//! The mixed load of the drills: each worker stores a batch of records for an entity (from one
//! of two departments), applies for that entity's report, downloads its PDF, verifies it by
//! code and by file, and moves to the next entity. What was acknowledged is remembered, to be
//! checked afterwards; what failed is counted with why.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use integration_tests::Reply;
use integration_tests::fixtures::{
    STORED, admin, authority_uscc, credit_code, department, entity, tax_penalty, today,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::Client;

/// Records in one batch of the load.
pub const BATCH_ITEMS: usize = 10;

/// A report acknowledged with 201.
#[derive(Debug, Clone)]
pub struct Issued {
    pub report_no: String,
    pub code: String,
    pub uscc: String,
    /// SHA-256 of the PDF, once downloaded.
    pub pdf_sha256: Option<String>,
}

/// What one worker (or all) saw.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Record ids acknowledged (200 and a stored status), by entity.
    pub records: BTreeMap<String, Vec<String>>,
    pub reports: Vec<Issued>,
    /// Every entity a batch was sent for, acknowledged or not.
    pub entities: HashSet<String>,
    /// Requests answered as expected, by operation.
    pub ok: BTreeMap<&'static str, usize>,
    /// Requests that failed, by operation and why (status and code, or the transport error).
    pub failed: BTreeMap<(&'static str, String), usize>,
}

impl Outcome {
    pub fn merge(&mut self, other: Outcome) {
        for (uscc, ids) in other.records {
            self.records.entry(uscc).or_default().extend(ids);
        }
        self.reports.extend(other.reports);
        self.entities.extend(other.entities);
        for (k, v) in other.ok {
            *self.ok.entry(k).or_default() += v;
        }
        for (k, v) in other.failed {
            *self.failed.entry(k).or_default() += v;
        }
    }

    pub fn total_ok(&self) -> usize {
        self.ok.values().sum()
    }

    pub fn total_failed(&self) -> usize {
        self.failed.values().sum()
    }

    pub fn record_count(&self) -> usize {
        self.records.values().map(Vec::len).sum()
    }

    pub fn summary(&self, seconds: f64) -> String {
        format!(
            "{} requests answered as expected ({:.0}/s: {:?}), {} failed {:?}; {} records and {} reports acknowledged",
            self.total_ok(),
            self.total_ok() as f64 / seconds,
            self.ok,
            self.total_failed(),
            self.failed,
            self.record_count(),
            self.reports.len()
        )
    }
}

/// Why a request failed, in a few words: its status and problem code, or the transport error.
pub fn why(reply: &Result<Reply, String>) -> String {
    match reply {
        Ok(r) => {
            let code = serde_json::from_slice::<Value>(&r.body)
                .ok()
                .and_then(|b| b["code"].as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{} {code}", r.status)
        }
        Err(e) => format!("transport: {}", e.chars().take(60).collect::<String>()),
    }
}

/// Why a batch was not acknowledged whole: the answer's, or its first failed item's.
fn batch_failure(reply: &Result<Reply, String>) -> String {
    let item = reply
        .as_ref()
        .ok()
        .filter(|r| r.status == 200)
        .and_then(|r| {
            r.json()["results"].as_array()?.iter().find_map(|item| {
                item["problem"]["code"]
                    .as_str()
                    .map(|code| format!("200 item {code}"))
            })
        });
    item.unwrap_or_else(|| why(reply))
}

/// A client address of its own for each verification, so that the load stays clear of the
/// per-client rate limit (which the rate-limit drill checks separately).
fn fresh_client_address(worker: usize, n: usize) -> String {
    format!("10.{}.{}.{}", 100 + worker, (n / 250) % 250, n % 250 + 1)
}

fn abnormal_listing(uscc: &str, document_no: &str) -> Value {
    json!({
        "kind": "abnormal_list", "domain": "market_regulation", "document_no": document_no,
        "entity_name": "永昌县测试商贸有限公司", "uscc": uscc,
        "authority": "永昌县市场监督管理局", "authority_uscc": authority_uscc(),
        "source_unit": "县市场监管局", "source_unit_uscc": authority_uscc(),
        "reason": "未按规定报送年度报告", "listed_on": today().to_string(), "removed_on": null
    })
}

/// One worker's loop until `stop` is set or `duration` has passed.
pub fn worker(
    client: Client,
    series: u32,
    worker: usize,
    purpose: String,
    duration: Duration,
    stop: Arc<AtomicBool>,
) -> Outcome {
    let started = Instant::now();
    let mut outcome = Outcome::default();
    let mut n = 0;
    let mut entity_no = 0u32;
    while started.elapsed() < duration && !stop.load(Ordering::Relaxed) {
        entity_no += 1;
        let uscc = credit_code(series, worker as u32 * 10_000 + entity_no);
        outcome.entities.insert(uscc.clone());
        // Two departments in turn: the tax bureau and market regulation.
        let (unit, items): (&str, Vec<Value>) = if entity_no.is_multiple_of(2) {
            let items = (0..BATCH_ITEMS)
                .map(|j| {
                    tax_penalty(
                        &uscc,
                        &format!("税罚-{series}-{worker}-{entity_no}-{j}"),
                        today(),
                        "general",
                    )
                })
                .collect();
            ("县税务局", items)
        } else {
            let items = (0..BATCH_ITEMS)
                .map(|j| {
                    abnormal_listing(&uscc, &format!("异常-{series}-{worker}-{entity_no}-{j}"))
                })
                .collect();
            ("县市场监管局", items)
        };
        let reply = client.json(
            "PUT",
            "/api/v1/records",
            &json!(items),
            Some(&department(unit)),
            &[],
        );
        let stored: Option<Vec<String>> =
            reply
                .as_ref()
                .ok()
                .filter(|r| r.status == 200)
                .and_then(|r| {
                    r.json()["results"]
                        .as_array()?
                        .iter()
                        .map(|item| {
                            item["status"]
                                .as_str()
                                .filter(|s| STORED.contains(s))
                                .and(item["id"].as_str().map(str::to_owned))
                        })
                        .collect()
                });
        match stored {
            Some(ids) => {
                *outcome.ok.entry("records batch").or_default() += 1;
                outcome.records.entry(uscc.clone()).or_default().extend(ids);
            }
            None => {
                *outcome
                    .failed
                    .entry(("records batch", batch_failure(&reply)))
                    .or_default() += 1;
                continue;
            }
        }

        let token = entity(&uscc);
        let body = json!({"months": 12, "domains": "all", "purpose": purpose});
        let reply = client.json("POST", "/api/v1/reports", &body, Some(&token), &[]);
        let mut issued = match &reply {
            Ok(r) if r.status == 201 => {
                let report = r.json();
                Issued {
                    report_no: report["report_no"].as_str().unwrap().to_owned(),
                    code: report["verification_code"].as_str().unwrap().to_owned(),
                    uscc: uscc.clone(),
                    pdf_sha256: None,
                }
            }
            _ => {
                *outcome.failed.entry(("apply", why(&reply))).or_default() += 1;
                continue;
            }
        };
        *outcome.ok.entry("apply").or_default() += 1;

        let auth = format!("Bearer {token}");
        let reply = client.get(
            &format!("/api/v1/reports/{}/pdf", issued.report_no),
            &[("authorization", &auth)],
        );
        let pdf = match &reply {
            Ok(r) if r.status == 200 && r.body.starts_with(b"%PDF-") => {
                *outcome.ok.entry("pdf download").or_default() += 1;
                issued.pdf_sha256 = Some(base16(&Sha256::digest(&r.body)));
                Some(r.body.clone())
            }
            _ => {
                *outcome
                    .failed
                    .entry(("pdf download", why(&reply)))
                    .or_default() += 1;
                None
            }
        };
        outcome.reports.push(issued.clone());

        n += 1;
        let address = fresh_client_address(worker, n);
        let reply = client.json(
            "POST",
            "/api/v1/verify/code",
            &json!({"code": issued.code}),
            None,
            &[("x-forwarded-for", &address)],
        );
        match &reply {
            Ok(r) if r.status == 200 && r.json()["outcome"] == "VALID" => {
                *outcome.ok.entry("verify code").or_default() += 1;
            }
            _ => {
                *outcome
                    .failed
                    .entry(("verify code", why(&reply)))
                    .or_default() += 1
            }
        }

        if let Some(pdf) = pdf {
            n += 1;
            let address = fresh_client_address(worker, n);
            let reply = client.request(
                "POST",
                "/api/v1/verify/file",
                &[
                    ("content-type", "application/pdf"),
                    ("x-forwarded-for", &address),
                ],
                &pdf,
            );
            match &reply {
                Ok(r) if r.status == 200 && r.json()["outcome"] == "VALID" => {
                    *outcome.ok.entry("verify file").or_default() += 1;
                }
                _ => {
                    *outcome
                        .failed
                        .entry(("verify file", why(&reply)))
                        .or_default() += 1
                }
            }
        }
    }
    outcome
}

pub fn base16(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `workers` workers against `client` for `duration` (or until `stop`), while `meanwhile`
/// runs on the calling thread (the disruption of a drill); returns what they saw in all.
pub fn run<T>(
    client: &Client,
    series: u32,
    workers: usize,
    duration: Duration,
    meanwhile: impl FnOnce(&Arc<AtomicBool>) -> T,
) -> (Outcome, T, f64) {
    let purpose =
        client.get("/api/v1/catalog", &[]).expect("catalog").json()["purposes"][0]["code"]
            .as_str()
            .unwrap()
            .to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let (client, purpose, stop) = (client.clone(), purpose.clone(), stop.clone());
            std::thread::spawn(move || worker(client, series, w, purpose, duration, stop))
        })
        .collect();
    let result = meanwhile(&stop);
    let mut outcome = Outcome::default();
    for handle in handles {
        outcome.merge(handle.join().expect("a load worker panicked"));
    }
    (outcome, result, started.elapsed().as_secs_f64())
}

/// What [`check_nothing_lost`] found.
pub struct Stored {
    /// Records stored for the load's entities, acknowledged or not.
    pub records: usize,
    /// Records stored without their audit entry: only ever items of batches whose answer was
    /// lost (the node died between storing an item and appending its audit entry, which are
    /// separate writes; resending the batch answers `unchanged` and writes none).
    pub unaudited: Vec<String>,
}

/// After the load: every acknowledged record is stored and audited; every stored record of
/// those entities (answered or not) is whole; report numbers are unique; every acknowledged
/// report verifies by code, and its PDF, once downloaded, is the same file.
pub fn check_nothing_lost(client: &Client, outcome: &Outcome) -> Stored {
    let admin_auth = format!("Bearer {}", admin());
    let audited = audited_record_ids(client, &admin_auth);
    let mut stored_count = 0;
    let mut unaudited = Vec::new();
    let acknowledged: HashSet<&str> = outcome
        .records
        .values()
        .flatten()
        .map(String::as_str)
        .collect();
    for uscc in &outcome.entities {
        let listed = records_of(client, uscc, &admin_auth);
        let stored: HashSet<&str> = listed.iter().map(|r| r["id"].as_str().unwrap()).collect();
        for record in &listed {
            assert!(
                record["document_no"].is_string()
                    && record["status"] == "active"
                    && record["version"].is_number(),
                "a half-written record: {record}"
            );
            let id = record["id"].as_str().unwrap();
            if !audited.contains(id) {
                assert!(
                    !acknowledged.contains(id),
                    "acknowledged record {id} has no audit entry"
                );
                unaudited.push(id.to_owned());
            }
        }
        for id in outcome.records.get(uscc).into_iter().flatten() {
            assert!(
                stored.contains(id.as_str()),
                "acknowledged record {id} of {uscc} is lost"
            );
        }
        stored_count += listed.len();
    }

    let numbers: HashSet<&str> = outcome
        .reports
        .iter()
        .map(|r| r.report_no.as_str())
        .collect();
    assert_eq!(
        numbers.len(),
        outcome.reports.len(),
        "a report number was issued twice"
    );

    let by_code: HashMap<&str, &Issued> = outcome
        .reports
        .iter()
        .map(|r| (r.code.as_str(), r))
        .collect();
    for (n, chunk) in outcome.reports.chunks(100).enumerate() {
        let codes: Vec<&str> = chunk.iter().map(|r| r.code.as_str()).collect();
        let address = format!("10.99.{}.{}", n / 250, n % 250 + 1);
        let reply = client
            .json(
                "POST",
                "/api/v1/verify/batch",
                &json!({"codes": codes}),
                None,
                &[("x-forwarded-for", &address)],
            )
            .expect("verifying a batch");
        assert_eq!(reply.status, 200, "{}", reply.text());
        for (code, result) in codes
            .iter()
            .zip(reply.json()["results"].as_array().unwrap())
        {
            assert_eq!(result["outcome"], "VALID", "{code}: {result}");
            assert_eq!(
                result["report"]["report_no"],
                by_code[code].report_no.as_str(),
                "{result}"
            );
        }
    }
    for report in outcome.reports.iter().filter(|r| r.pdf_sha256.is_some()) {
        let reply = client
            .get(
                &format!("/api/v1/reports/{}/pdf", report.report_no),
                &[("authorization", &format!("Bearer {}", entity(&report.uscc)))],
            )
            .expect("downloading a PDF again");
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(
            Some(base16(&Sha256::digest(&reply.body))),
            report.pdf_sha256,
            "{}: the pinned PDF changed",
            report.report_no
        );
    }
    Stored {
        records: stored_count,
        unaudited,
    }
}

/// The ids of today's `records.upsert` audit entries.
/// Every stored record of `uscc`, page by page.
fn records_of(client: &Client, uscc: &str, admin_auth: &str) -> Vec<Value> {
    let mut records = Vec::new();
    let mut cursor = String::new();
    loop {
        let reply = client
            .get(
                &format!("/api/v1/records?uscc={uscc}&limit=500{cursor}"),
                &[("authorization", admin_auth)],
            )
            .expect("listing records");
        assert_eq!(reply.status, 200, "{}", reply.text());
        let page = reply.json();
        records.extend(page["records"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return records,
        }
    }
}

fn audited_record_ids(client: &Client, admin_auth: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut after = 0u64;
    loop {
        let reply = client
            .get(
                &format!("/api/v1/audit?date={}&after={after}&limit=1000", today()),
                &[("authorization", admin_auth)],
            )
            .expect("reading the audit log");
        assert_eq!(reply.status, 200, "{}", reply.text());
        let page = reply.json();
        for entry in page["entries"].as_array().unwrap() {
            if entry["action"] == "records.upsert" {
                ids.insert(entry["target"].as_str().unwrap_or_default().to_owned());
            }
        }
        match page["next_after"].as_u64() {
            Some(next) => after = next,
            None => return ids,
        }
    }
}

/// How many of today's change-log slots 1..=`slots` hold an entry (reading the log appends
/// entries of its own, after them).
fn entries_in_slots(client: &Client, slots: u64) -> u64 {
    let admin_auth = format!("Bearer {}", admin());
    let mut listed = 0;
    let mut after = 0;
    while after < slots {
        let limit = (slots - after).min(1000);
        let reply = client
            .get(
                &format!("/api/v1/audit?date={}&after={after}&limit={limit}", today()),
                &[("authorization", admin_auth.as_str())],
            )
            .expect("reading the audit log");
        assert_eq!(reply.status, 200, "{}", reply.text());
        listed += reply.json()["entries"].as_array().unwrap().len() as u64;
        after += limit;
    }
    listed
}

/// Today's audit check on a node restored from a backup taken while writes continued: no
/// entry altered and the chain unbroken; entries may be missing only for writes in flight at the
/// backup's instant (a slot taken, its entry not yet written: at most one per connection) or in
/// the access log (a verification in flight). Returns the check.
pub fn check_audit_after_restore(client: &Client, in_flight: u64) -> Value {
    let reply = client
        .get(
            &format!("/api/v1/audit/check?day={}", today()),
            &[("authorization", &format!("Bearer {}", admin()))],
        )
        .expect("checking the audit log");
    assert_eq!(reply.status, 200, "{}", reply.text());
    let check = reply.json();
    let changes = &check["changes"];
    if let Some(problem) = changes["problem"].as_object() {
        // A writer stalled between taking its slot and writing its entry may leave its slot
        // anywhere in the chain, so the slots are counted, not placed.
        let slots = changes["entries"].as_u64().unwrap_or(0);
        let missing = slots - entries_in_slots(client, slots);
        assert!(
            problem["kind"] == "missing" && missing <= in_flight,
            "the restored change log is not intact short of what was in flight \
             ({missing} empty slots, at most {in_flight} in flight): {check}"
        );
    }
    if let Some(problem) = check["access"]["problem"].as_object() {
        assert_eq!(problem["kind"], "missing", "{check}");
    }
    check
}
