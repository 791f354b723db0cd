use std::sync::Mutex;

use chrono::TimeZone;
use serde_json::{Value, json};

use super::*;
use sha2::Digest;

use chrono::{DateTime, Duration, Utc};

use crate::auth::Principal;
use crate::catalog::DomainSelection;
use crate::codes::{ReportNo, VerificationCode, hex};
use crate::config::RuleConfig;
use crate::error::Error;
use crate::kv::{MemoryStore, StoreError};
use crate::record::samples::{self, ENTITY, OTHER_ENTITY};
use crate::record::{Record, RecordStatus, StoredRecord};
use crate::report::{
    ApplyRequest, Channel, FileClaim, OnBehalf, Outcome, PdfFingerprint, RenderedPdf, Report,
    Verification, report_document,
};
use crate::upload::Upload;
use crate::uscc::CreditCode;
use crate::vocabulary::RevocationCategory;
use crate::window::ReportMonths;

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    // 10:00 in China.
    Utc.with_ymd_and_hms(y, m, d, 2, 0, 0).unwrap()
}

fn now() -> DateTime<Utc> {
    at(2026, 11, 29)
}

fn uscc(s: &str) -> CreditCode {
    s.parse().unwrap()
}

/// Every record of an entity, page by page.
fn every_record(store: &Store<'_, MemoryStore>, uscc: &CreditCode) -> Vec<StoredRecord> {
    let mut records = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.records_page(uscc, cursor.as_ref(), 100).unwrap();
        records.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return records,
        }
    }
}

fn rec(v: Value) -> Record {
    Record::from_json(&v).unwrap()
}

fn apply(domains: DomainSelection) -> ApplyRequest {
    ApplyRequest {
        uscc: uscc(ENTITY),
        entity_name: None,
        months: ReportMonths::try_from(12).unwrap(),
        domains,
        purpose: "bidding".into(),
        on_behalf: None,
    }
}

fn all() -> ApplyRequest {
    apply(DomainSelection::All)
}

#[test]
fn upsert_creates_then_replays_unchanged_then_updates() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let first = store
        .upsert_record(
            rec(samples::penalty("P1", "2026-05-01")),
            "department:d:县税务局",
            now(),
        )
        .unwrap();
    assert_eq!(first.change, Change::Created);
    let replay = store
        .upsert_record(rec(samples::penalty("P1", "2026-05-01")), "x", now())
        .unwrap();
    assert_eq!((replay.change, &replay.id), (Change::Unchanged, &first.id));
    let mut changed = samples::penalty("P1", "2026-05-01");
    changed["facts"] = json!("更正后的违法事实");
    let update = store.upsert_record(rec(changed), "x", now()).unwrap();
    assert_eq!(update.change, Change::Updated);
    let stored = store.get_record(&first.id).unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.created_by, "department:d:县税务局");
    assert_eq!(every_record(&store, &uscc(ENTITY)).len(), 1);
    assert!(every_record(&store, &uscc(OTHER_ENTITY)).is_empty());
}

#[test]
fn stored_records_serialize_flat_and_back() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let id = store
        .upsert_record(rec(samples::penalty("P1", "2026-05-01")), "x", now())
        .unwrap()
        .id;
    let stored = store.get_record(&id).unwrap().unwrap();
    let v = serde_json::to_value(&stored).unwrap();
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["status"], "active");
    assert_eq!(v["kind"], "penalty");
    assert_eq!(v["document_no"], "P1");
    assert_eq!(v["created_at"], "2026-11-29T10:00:00+08:00");
    assert_eq!(serde_json::from_value::<StoredRecord>(v).unwrap(), stored);
}

#[test]
fn a_record_moved_to_another_entity_follows_it() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    store
        .upsert_record(rec(samples::penalty("P1", "2026-05-01")), "x", now())
        .unwrap();
    let mut moved = samples::penalty("P1", "2026-05-01");
    moved["uscc"] = json!(OTHER_ENTITY);
    store.upsert_record(rec(moved), "x", now()).unwrap();
    assert!(every_record(&store, &uscc(ENTITY)).is_empty());
    assert_eq!(every_record(&store, &uscc(OTHER_ENTITY)).len(), 1);
}

#[test]
fn thirty_two_writers_for_one_entity_lose_nothing() {
    let kv = MemoryStore::new();
    std::thread::scope(|s| {
        for t in 0..32 {
            let kv = &kv;
            s.spawn(move || {
                let store = Store::new(kv);
                for i in 0..20 {
                    let doc = format!("T{t}-{i}");
                    store
                        .upsert_record(rec(samples::penalty(&doc, "2026-05-01")), "x", now())
                        .unwrap();
                    // Every thread also races on one shared record.
                    store
                        .upsert_record(rec(samples::penalty("SHARED", "2026-05-01")), "x", now())
                        .unwrap();
                }
            });
        }
    });
    let records = every_record(&Store::new(&kv), &uscc(ENTITY));
    assert_eq!(records.len(), 32 * 20 + 1);
    for t in 0..32 {
        for i in 0..20 {
            let doc = format!("T{t}-{i}");
            assert!(
                records.iter().any(|r| r.record.common().document_no == doc),
                "{doc} lost"
            );
        }
    }
    assert_eq!(
        kv.keys_with_prefix(&format!("ent/{ENTITY}/rec/")).len(),
        32 * 20 + 1 + 1
    );
}

#[test]
fn concurrent_creates_of_one_record_yield_one_created() {
    let kv = MemoryStore::new();
    let changes = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..16 {
            let (kv, changes) = (&kv, &changes);
            s.spawn(move || {
                let up = Store::new(kv)
                    .upsert_record(rec(samples::penalty("ONE", "2026-05-01")), "x", now())
                    .unwrap();
                changes.lock().unwrap().push(up.change);
            });
        }
    });
    let changes = changes.into_inner().unwrap();
    assert_eq!(changes.iter().filter(|c| **c == Change::Created).count(), 1);
    assert_eq!(
        changes.iter().filter(|c| **c == Change::Unchanged).count(),
        15
    );
}

#[test]
fn a_report_reads_only_its_entitys_keys() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    for i in 0..50 {
        let mut other = samples::penalty(&format!("O{i}"), "2026-05-01");
        other["uscc"] = json!(OTHER_ENTITY);
        store.upsert_record(rec(other), "x", now()).unwrap();
    }
    store
        .upsert_record(rec(samples::penalty("MINE", "2026-05-01")), "x", now())
        .unwrap();
    let journal = Journal::new(&kv);
    let report = Store::new(&journal)
        .issue_report(&all(), "entity:e", now(), &RuleConfig::default())
        .unwrap();
    assert_eq!(report.record_count(), 1);
    let mine_id = rec(samples::penalty("MINE", "2026-05-01")).id();
    // Every call but a blind write reads the key it names.
    let reads = journal
        .take()
        .into_iter()
        .filter(|(op, _)| !matches!(*op, "set" | "delete"))
        .flat_map(|(_, keys)| keys);
    for key in reads {
        let allowed = key.starts_with(&format!("ent/{ENTITY}/"))
            || key.starts_with(&format!("rec/{mine_id}"))
            || key.starts_with("seq/report/")
            || key.starts_with("rpt/")
            || key.starts_with("code/");
        assert!(allowed, "report read {key}");
    }
}

#[test]
fn clean_and_dirty_reports() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let cfg = RuleConfig::default();
    // Only excluded records: simplified, not penalized, outside the window.
    let mut simplified = samples::penalty("S", "2026-05-01");
    simplified["procedure"] = json!("simplified");
    let mut waived = samples::penalty("W", "2026-05-01");
    waived["not_penalized"] = json!(true);
    for v in [simplified, waived, samples::penalty("OLD", "2025-11-29")] {
        store.upsert_record(rec(v), "x", now()).unwrap();
    }
    let report = store.issue_report(&all(), "entity:e", now(), &cfg).unwrap();
    assert!(report.clean);
    assert_eq!(report.report_no.as_str(), "YC20261129-000001");
    assert_eq!(report.findings.len(), 47);
    assert_eq!(report.entity_name, "永昌县示例商贸有限公司");
    assert_eq!(
        (
            report.period_start.to_string(),
            report.period_end.to_string()
        ),
        ("2025-11-30".into(), "2026-11-29".into())
    );
    assert_eq!(report.valid_until.to_rfc3339(), "2026-12-29T10:00:00+08:00");
    assert_eq!(report.snapshot_digest, report.compute_digest().unwrap());

    store
        .upsert_record(rec(samples::penalty("COUNTS", "2026-05-01")), "x", now())
        .unwrap();
    let dirty = store.issue_report(&all(), "entity:e", now(), &cfg).unwrap();
    assert_eq!(dirty.report_no.as_str(), "YC20261129-000002");
    assert!(!dirty.clean);
    let tax = dirty.findings.iter().find(|f| f.domain == "tax").unwrap();
    assert_eq!(tax.records.len(), 1);
    assert_eq!(dirty.record_count(), 1);
    let elsewhere = store
        .issue_report(
            &apply(DomainSelection::Codes(vec!["education".into()])),
            "e",
            now(),
            &cfg,
        )
        .unwrap();
    assert!(elsewhere.clean);
    assert_eq!(store.get_report(&dirty.report_no).unwrap().unwrap(), dirty);
    assert_eq!(
        store
            .reports_page(&uscc(ENTITY), &crate::paging::PageRequest::default())
            .unwrap()
            .items
            .len(),
        3
    );
    // The reports listing's cursor means nothing to the records listing,
    // and the other way round: each refuses the other's.
    let first_report = crate::paging::PageRequest {
        cursor: None,
        limit: 1,
    };
    let reports_cursor = store
        .reports_page(&uscc(ENTITY), &first_report)
        .unwrap()
        .next
        .unwrap();
    let refused = store
        .records_page(&uscc(ENTITY), Some(&reports_cursor), 1)
        .unwrap_err();
    assert_eq!(
        (refused.code(), refused.field()),
        ("INVALID_FIELD", Some("cursor"))
    );
    let records_cursor = store
        .records_page(&uscc(ENTITY), None, 1)
        .unwrap()
        .next
        .unwrap();
    let by_records_cursor = crate::paging::PageRequest {
        cursor: Some(records_cursor),
        limit: 1,
    };
    let refused = store
        .reports_page(&uscc(ENTITY), &by_records_cursor)
        .unwrap_err();
    assert_eq!(
        (refused.code(), refused.field()),
        ("INVALID_FIELD", Some("cursor"))
    );
    let national = RuleConfig {
        include_simplified_procedure: true,
        ..cfg
    };
    assert_eq!(
        store
            .issue_report(&all(), "e", now(), &national)
            .unwrap()
            .record_count(),
        2
    );
}

#[test]
fn applications_are_limited_per_entity_per_day() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let cfg = RuleConfig {
        apply_limit_per_day: 2,
        ..RuleConfig::default()
    };
    store.issue_report(&all(), "e", now(), &cfg).unwrap();
    store.issue_report(&all(), "e", now(), &cfg).unwrap();
    let e = store.issue_report(&all(), "e", now(), &cfg).unwrap_err();
    assert_eq!((e.status(), e.code()), (429, "TOO_MANY_APPLICATIONS"));
    // 10:00 China time: 14 hours to midnight.
    assert_eq!(e.retry_after(), Some(14 * 3600));
    let other = ApplyRequest {
        uscc: uscc(OTHER_ENTITY),
        ..all()
    };
    assert!(store.issue_report(&other, "e", now(), &cfg).is_ok());
    assert!(
        store
            .issue_report(&all(), "e", at(2026, 11, 30), &cfg)
            .is_ok()
    );
}

#[test]
fn staff_applications_have_their_own_quota_and_leave_the_entitys_alone() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let cfg = RuleConfig {
        apply_limit_per_day: 1,
        staff_apply_limit_per_day: 2,
        ..RuleConfig::default()
    };
    let by = |staff: &str| ApplyRequest {
        on_behalf: Some(OnBehalf {
            staff_sub: staff.into(),
            authorisation_ref: "永授〔2026〕1号".parse().unwrap(),
        }),
        ..all()
    };
    let issued = store
        .issue_report(&by("clerk-1"), "staff:clerk-1", now(), &cfg)
        .unwrap();
    assert_eq!(
        issued.authorisation_ref.unwrap().as_str(),
        "永授〔2026〕1号"
    );
    store
        .issue_report(&by("clerk-1"), "staff:clerk-1", now(), &cfg)
        .unwrap();
    let e = store
        .issue_report(&by("clerk-1"), "staff:clerk-1", now(), &cfg)
        .unwrap_err();
    assert_eq!((e.status(), e.code()), (429, "TOO_MANY_APPLICATIONS"));
    assert!(e.to_string().contains("代为申请"), "{e}");
    // Another clerk has a quota of their own, and the entity's own limit is untouched.
    store
        .issue_report(&by("clerk-2"), "staff:clerk-2", now(), &cfg)
        .unwrap();
    store.issue_report(&all(), "e", now(), &cfg).unwrap();
    let e = store.issue_report(&all(), "e", now(), &cfg).unwrap_err();
    assert!(e.to_string().contains("该主体"), "{e}");
}

#[test]
fn a_mandate_is_in_force_until_it_expires_for_its_staff_member_and_entity_only() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let entity = uscc(ENTITY);
    assert!(store.mandate("clerk-1", &entity, now()).unwrap().is_none());
    let mandate = Mandate::new("YC20261130-000001", None, now(), 30);
    store.grant_mandate("clerk-1", &entity, &mandate).unwrap();
    assert_eq!(
        store.mandate("clerk-1", &entity, now()).unwrap(),
        Some(mandate.clone())
    );
    let last_moment = mandate.until.with_timezone(&Utc);
    assert!(
        store
            .mandate("clerk-1", &entity, last_moment)
            .unwrap()
            .is_some()
    );
    let after = last_moment + Duration::seconds(1);
    assert!(store.mandate("clerk-1", &entity, after).unwrap().is_none());
    assert!(store.mandate("clerk-2", &entity, now()).unwrap().is_none());
    assert!(
        store
            .mandate("clerk-1", &uscc(OTHER_ENTITY), now())
            .unwrap()
            .is_none()
    );
}

#[test]
fn verification_by_code_valid_expired_not_found() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let report = issued_report(&store);
    let v = store.verify_code(&report.verification_code, now()).unwrap();
    assert_eq!(v.outcome, Outcome::Valid);
    assert_eq!(v.report.as_ref().unwrap().report_no, report.report_no);
    let body = serde_json::to_value(&v).unwrap();
    assert_eq!(body["outcome"], "VALID");
    assert_eq!(body["report"]["record_count"], 0);
    assert_eq!(body["report"]["months"], 12);
    // The last second of validity, then one past it.
    let last = report.valid_until.with_timezone(&Utc);
    assert_eq!(
        store
            .verify_code(&report.verification_code, last)
            .unwrap()
            .outcome,
        Outcome::Valid
    );
    let after = last + Duration::seconds(1);
    assert_eq!(
        store
            .verify_code(&report.verification_code, after)
            .unwrap()
            .outcome,
        Outcome::Expired
    );
    let swapped: String = report
        .verification_code
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    if let Ok(wrong_case) = swapped.parse::<VerificationCode>() {
        assert_eq!(
            store.verify_code(&wrong_case, now()).unwrap().outcome,
            Outcome::NotFound
        );
    }
    let unknown = VerificationCode::generate().unwrap();
    let nf = store.verify_code(&unknown, now()).unwrap();
    assert_eq!((nf.outcome, nf.report), (Outcome::NotFound, None));
    let zero = RuleConfig {
        report_validity_days: 0,
        ..RuleConfig::default()
    };
    let instant = store.issue_report(&all(), "e", now(), &zero).unwrap();
    let later = now() + Duration::seconds(1);
    assert_eq!(
        store
            .verify_code(&instant.verification_code, later)
            .unwrap()
            .outcome,
        Outcome::Expired
    );
}

#[test]
fn repair_withdrawal_and_correction_revoke_reports_that_showed_the_record() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let cfg = RuleConfig::default();
    let shown = store
        .upsert_record(rec(samples::penalty("P1", "2026-05-01")), "x", now())
        .unwrap()
        .id;
    let unrelated = store
        .upsert_record(rec(samples::penalty("P2", "2026-06-01")), "x", now())
        .unwrap()
        .id;
    let tax_only = store
        .issue_report(
            &apply(DomainSelection::Codes(vec!["tax".into()])),
            "e",
            now(),
            &cfg,
        )
        .unwrap();
    let education = store
        .issue_report(
            &apply(DomainSelection::Codes(vec!["education".into()])),
            "e",
            now(),
            &cfg,
        )
        .unwrap();
    let old = store
        .issue_report(&all(), "e", at(2026, 9, 1), &cfg)
        .unwrap();
    assert_eq!(old.record_count(), 2);

    // An objection does not revoke; the new report shows the label.
    store
        .set_record_status(
            &shown,
            RecordStatus::UnderObjection,
            "主体提出异议",
            "e",
            now(),
        )
        .unwrap();
    assert_eq!(
        store
            .verify_code(&tax_only.verification_code, now())
            .unwrap()
            .outcome,
        Outcome::Valid
    );
    let during = store.issue_report(&all(), "e", now(), &cfg).unwrap();
    let labels: Vec<_> = during
        .findings
        .iter()
        .flat_map(|f| &f.records)
        .filter_map(|r| r.status_label.clone())
        .collect();
    assert_eq!(labels, ["异议处理中"]);

    let later = now() + Duration::hours(1);
    let changed = store
        .set_record_status(
            &shown,
            RecordStatus::Repaired,
            "已履行处罚并提交信用承诺",
            "department:d",
            later,
        )
        .unwrap();
    assert_eq!(
        changed.revoked,
        vec![tax_only.report_no.clone(), during.report_no.clone()]
    );
    let v = store
        .verify_code(&tax_only.verification_code, later)
        .unwrap();
    let Outcome::Revoked {
        reason,
        reason_code,
        revoked_at,
    } = &v.outcome
    else {
        panic!("{v:?}")
    };
    // The public sees the fixed category, never the unit's own words.
    assert_eq!(
        (*reason_code, reason.as_str()),
        (RevocationCategory::CreditRepair, "信用修复")
    );
    assert_eq!(revoked_at.to_rfc3339(), "2026-11-29T11:00:00+08:00");
    assert!(
        v.message.contains("被撤销，原因：信用修复。"),
        "{}",
        v.message
    );
    let public = serde_json::to_string(&v).unwrap();
    assert!(!public.contains("已履行处罚"), "{public}");
    assert!(
        public.contains("\"reason_code\":\"CREDIT_REPAIR\""),
        "{public}"
    );
    // The holder's view keeps the unit's reason.
    let kept = store.report_status(&tax_only.report_no).unwrap().unwrap();
    assert!(kept.reason.contains("已履行处罚并提交信用承诺"));
    assert_eq!(
        store
            .verify_code(&education.verification_code, later)
            .unwrap()
            .outcome,
        Outcome::Valid
    );
    // The September report had expired by then: it stays EXPIRED.
    assert_eq!(
        store
            .verify_code(&old.verification_code, later)
            .unwrap()
            .outcome,
        Outcome::Expired
    );
    let fresh = store.issue_report(&all(), "e", later, &cfg).unwrap();
    assert_eq!(fresh.record_count(), 1);

    // Correcting the other record revokes the fresh report.
    let mut corrected = samples::penalty("P2", "2026-06-01");
    corrected["penalty_content"] = json!("罚款0.1万元");
    let up = store
        .upsert_record(rec(corrected), "department:d", later)
        .unwrap();
    assert_eq!(up.revoked, vec![fresh.report_no.clone()]);
    let next = store.issue_report(&all(), "e", later, &cfg).unwrap();
    let withdrawn = store
        .withdraw_record(
            &unrelated,
            RevocationCategory::RecordWithdrawn,
            "复议撤销",
            "department:d",
            later,
        )
        .unwrap();
    assert_eq!(withdrawn.revoked, vec![next.report_no.clone()]);
    assert_eq!(
        store
            .issue_report(&all(), "e", later, &cfg)
            .unwrap()
            .record_count(),
        0
    );
    assert_eq!(
        store
            .withdraw_record(
                &unrelated,
                RevocationCategory::RecordWithdrawn,
                " ",
                "d",
                later
            )
            .unwrap_err()
            .code(),
        "MISSING_FIELD"
    );
}

#[test]
fn file_verification_outcomes() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let report = issued_report(&store);
    let pinned = store
        .pin_pdf(
            &report.report_no,
            unrecorded(b"%PDF-1.7 original".repeat(3_500)),
        )
        .unwrap();
    let sha = pinned.fingerprint.sha256.clone();
    assert_eq!(pinned.fingerprint.size, 59_500);
    // A second, different file does not replace the first, nor verify.
    let late = store
        .pin_pdf(&report.report_no, unrecorded(b"%PDF-1.7 late".to_vec()))
        .unwrap();
    assert_eq!(late.fingerprint.sha256, sha);
    assert_eq!(late.bytes, pinned.bytes);
    let late_sha = hex(&sha2::Sha256::digest(b"%PDF-1.7 late"));
    assert_eq!(
        store
            .verify_file(&late_sha, 13, &[], now())
            .unwrap()
            .verification
            .outcome,
        Outcome::Unrecognized
    );
    assert_eq!(
        store.find_by_sha256(&sha.to_uppercase()).unwrap(),
        Some(report.report_no.clone())
    );

    let original = store.verify_file(&sha, 59_500, &[], now()).unwrap();
    assert_eq!(original.verification.outcome, Outcome::Valid);
    assert!(original.file.matches_original);

    let other_sha = "ef".repeat(32);
    let by_code = store
        .verify_file(
            &other_sha,
            61_000,
            &[FileClaim::Code(report.verification_code.clone())],
            now(),
        )
        .unwrap();
    assert_eq!(
        by_code.verification.outcome,
        Outcome::Tampered {
            appended_update: false,
            signed_by_other: false,
        }
    );
    assert_eq!(
        by_code.verification.report.as_ref().unwrap().report_no,
        report.report_no
    );
    assert!(!by_code.file.matches_original);
    let mut appended = by_code.clone();
    appended.verification.mark_appended_update();
    assert!(appended.verification.message.contains("增量更新"));
    let mut resigned = by_code.clone();
    resigned.verification.mark_signed_by_other();
    assert!(resigned.verification.message.contains("其他签章者"));

    let by_number = store
        .verify_file(
            &other_sha,
            61_000,
            &[FileClaim::ReportNo(report.report_no.clone())],
            now(),
        )
        .unwrap();
    assert_eq!(by_number.verification.outcome.code(), "TAMPERED");
    assert_eq!(by_number.verification.report, None);
    assert_eq!(by_number.claimed_report_no, Some(report.report_no.clone()));

    let stranger = store
        .verify_file(
            &other_sha,
            10,
            &[FileClaim::ReportNo("YC20260101-000009".parse().unwrap())],
            now(),
        )
        .unwrap();
    assert_eq!(stranger.verification.outcome, Outcome::Unrecognized);
    let body = serde_json::to_value(&stranger).unwrap();
    assert_eq!(body["outcome"], "UNRECOGNIZED");
    assert_eq!(body["file"]["sha256"], other_sha);
    assert!(store.verify_file("xyz", 1, &[], now()).is_err());
}

#[test]
fn every_outcome_has_its_own_message() {
    let outcomes = [
        Outcome::Valid,
        Outcome::Expired,
        Outcome::Revoked {
            revoked_at: crate::window::in_china(now()),
            reason_code: RevocationCategory::Other,
            reason: RevocationCategory::Other.label().into(),
        },
        Outcome::Tampered {
            appended_update: false,
            signed_by_other: false,
        },
        Outcome::Tampered {
            appended_update: true,
            signed_by_other: false,
        },
        Outcome::Tampered {
            appended_update: false,
            signed_by_other: true,
        },
        Outcome::NotFound,
        Outcome::Unrecognized,
    ];
    let messages: std::collections::HashSet<String> = outcomes
        .iter()
        .map(|o| Verification::new(o.clone(), None, Channel::File).message)
        .collect();
    assert_eq!(messages.len(), outcomes.len());
}

/// A code proves that a report was issued here, not that the file in hand is its original: only
/// the file comparison says the file matches.
#[test]
fn a_valid_code_does_not_vouch_for_the_file_in_hand() {
    let by_code = Verification::new(Outcome::Valid, None, Channel::Code).message;
    let by_file = Verification::new(Outcome::Valid, None, Channel::File).message;
    assert!(by_code.contains("不能证明所持文件未被改动"), "{by_code}");
    assert!(!by_code.contains("原件完全一致"), "{by_code}");
    assert!(by_file.contains("原件完全一致"), "{by_file}");
}

#[test]
fn the_document_is_formatted_for_print() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    store
        .upsert_record(rec(samples::penalty("P1", "2026-05-01")), "x", now())
        .unwrap();
    let req = ApplyRequest {
        purpose: "listing".into(),
        ..apply(DomainSelection::Codes(vec![
            "tax".into(),
            "commerce".into(),
        ]))
    };
    let report = store
        .issue_report(&req, "e", now(), &RuleConfig::default())
        .unwrap();
    let doc = report_document(&report, "https://credit.example.cn/");
    // The code rides in the fragment: browsers never send it, so it stays
    // out of server and proxy logs.
    assert_eq!(
        doc.verify_url,
        format!(
            "https://credit.example.cn/#code={}",
            report.verification_code
        )
    );
    assert_eq!(doc.edition, "上市版");
    assert_eq!(doc.purpose, "金融市场应用·企业上市");
    assert_eq!(doc.period, "2025年11月30日至2026年11月29日（近12个月）");
    assert_eq!(
        (doc.issued_on.as_str(), doc.valid_until.as_str()),
        ("2026年11月29日", "2026年12月29日")
    );
    assert_eq!(
        doc.domains
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>(),
        ["商务", "税务"]
    );
    let tax = &doc.domains[1];
    assert_eq!(tax.records[0].kind, "行政处罚");
    assert!(
        tax.records[0]
            .fields
            .contains(&("罚款金额".to_string(), "0.2万元".to_string()))
    );
    assert!(doc.notes.iter().any(|n| n.contains(
        "商务领域尚未列入数据归集责任清单（附件1），暂无归集数据，本报告未在该领域查询"
    )));
    // 商务 has no unit in 附件1: not looked up, so never certified clean.
    assert_eq!(
        doc.domains
            .iter()
            .map(|d| (d.name.as_str(), d.collected))
            .collect::<Vec<_>>(),
        [("商务", false), ("税务", true)]
    );
    assert_eq!(doc.snapshot_digest, report.snapshot_digest);
}

#[test]
fn the_notes_say_penalties_past_their_publicity_are_left_out() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    // General severity, decided 20 months before issue: inside a 24-month
    // period, but published for 1 year only.
    store
        .upsert_record(rec(samples::penalty("ENDED", "2025-03-29")), "x", now())
        .unwrap();
    let over_24_months = ApplyRequest {
        months: ReportMonths::try_from(24).unwrap(),
        ..all()
    };
    let report = store
        .issue_report(&over_24_months, "e", now(), &RuleConfig::default())
        .unwrap();
    assert_eq!(report.record_count(), 0);
    let notes = report_document(&report, "https://credit.example.cn").notes;
    assert!(
        notes.contains(&"公示期已届满的行政处罚不在本报告中展示，即使其在报告期间内作出。公示期以数据来源单位报送的公示截止期为准；未报送的，按《信用修复管理办法》（国家发展改革委令2025年第36号）规定的最长公示期自处罚决定日期起计算：轻微的3个月，一般的1年，严重的3年，未标明程度的按其中最长的3年计。".to_owned()),
        "{notes:#?}"
    );

    let configured = RuleConfig {
        publicity_max_months: crate::config::PublicityMaxima {
            minor: 6,
            general: 18,
            serious: 60,
        },
        ..RuleConfig::default()
    };
    let report = store
        .issue_report(&over_24_months, "e", now(), &configured)
        .unwrap();
    let notes = report_document(&report, "https://credit.example.cn").notes;
    assert!(
        notes
            .iter()
            .any(|n| n
                .contains("轻微的6个月，一般的18个月，严重的5年，未标明程度的按其中最长的5年计。")),
        "{notes:#?}"
    );

    let shown_until_the_end = RuleConfig {
        end_publicity_at_expiry: false,
        ..RuleConfig::default()
    };
    let report = store
        .issue_report(&over_24_months, "e", now(), &shown_until_the_end)
        .unwrap();
    assert_eq!(report.record_count(), 1);
    assert_eq!(report.rules.publicity_max_months, None);
    let notes = report_document(&report, "https://credit.example.cn").notes;
    assert!(!notes.iter().any(|n| n.contains("公示期")), "{notes:#?}");
}

#[test]
fn a_report_issued_before_the_maxima_were_kept_reads_and_digests_as_before() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let mut report = issued_report(&store);
    assert!(report.rules.publicity_max_months.is_some());
    report.rules.publicity_max_months = None;
    report.snapshot_digest = report.compute_digest().unwrap();
    // As a snapshot stored before the field existed: byte for byte.
    let stored = serde_json::to_string(&report).unwrap();
    assert!(!stored.contains("publicity_max_months"));
    let read: Report = serde_json::from_str(&stored).unwrap();
    assert_eq!(serde_json::to_string(&read).unwrap(), stored);
    assert_eq!(read.compute_digest().unwrap(), report.snapshot_digest);
    let notes = report_document(&read, "https://credit.example.cn").notes;
    assert!(
        notes
            .iter()
            .any(|n| n.ends_with("规定的最长公示期自处罚决定日期起计算。"))
    );
}

#[test]
fn apply_requests_parse_for_each_principal() {
    let entity = Principal::Entity {
        sub: "e".into(),
        uscc: uscc(ENTITY),
        name: Some("甲公司".into()),
    };
    let req = ApplyRequest::from_json(
        &json!({"months": 24, "domains": "all", "purpose": "bidding"}),
        &entity,
    )
    .unwrap();
    assert_eq!(
        (
            req.uscc.as_str(),
            req.months.get(),
            req.entity_name.as_deref()
        ),
        (ENTITY, 24, Some("甲公司"))
    );
    let staff = Principal::Staff {
        sub: "s".into(),
        unit: None,
    };
    // Staff apply for the named entity under its written authorisation.
    let body = json!({"months": 12, "domains": ["tax"], "purpose": "listing",
        "uscc": OTHER_ENTITY, "authorisation_ref": " 永授〔2026〕7号 "});
    let on_behalf = ApplyRequest::from_json(&body, &staff).unwrap();
    assert_eq!(on_behalf.uscc.as_str(), OTHER_ENTITY);
    assert_eq!(
        on_behalf
            .on_behalf
            .map(|s| (s.staff_sub, s.authorisation_ref.to_string())),
        Some(("s".to_owned(), "永授〔2026〕7号".to_owned()))
    );
    let without =
        json!({"months": 12, "domains": ["tax"], "purpose": "listing", "uscc": OTHER_ENTITY});
    let refused = ApplyRequest::from_json(&without, &staff).unwrap_err();
    assert!(matches!(refused, Error::MissingField { ref field } if field == "authorisation_ref"));
    for bad in [json!(""), json!("a b"), json!(7)] {
        let mut body = body.clone();
        body["authorisation_ref"] = bad;
        let refused = ApplyRequest::from_json(&body, &staff).unwrap_err();
        assert!(
            matches!(refused, Error::InvalidField { ref field, .. } if field == "authorisation_ref")
        );
    }
    // An entity applying for itself gives no authorisation.
    assert!(
        ApplyRequest::from_json(
            &json!({"months": 12, "domains": "all", "purpose": "bidding", "authorisation_ref": "SQ-0001"}),
            &entity
        )
        .is_err()
    );
    assert!(req.on_behalf.is_none());
    let cases = [
        (
            json!({"months": 6, "domains": "all", "purpose": "bidding"}),
            "INVALID_MONTHS",
        ),
        (
            json!({"months": 12, "domains": ["nope"], "purpose": "bidding"}),
            "UNKNOWN_DOMAIN",
        ),
        (
            json!({"months": 12, "domains": "all", "purpose": "nope"}),
            "UNKNOWN_PURPOSE",
        ),
        (json!({"months": 12, "domains": "all"}), "MISSING_FIELD"),
        (
            json!({"months": 12, "domains": "all", "purpose": "bidding", "uscc": "bad"}),
            "INVALID_USCC",
        ),
        (
            json!({"months": 12, "domains": "all", "purpose": "bidding", "uscc": OTHER_ENTITY}),
            "FORBIDDEN",
        ),
        (json!([]), "INVALID_JSON"),
    ];
    for (body, code) in cases {
        assert_eq!(
            ApplyRequest::from_json(&body, &entity).unwrap_err().code(),
            code,
            "{body}"
        );
    }
}

#[test]
fn keys_stay_short_and_reports_serialize_as_the_contract() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let id = store
        .upsert_record(
            rec(samples::penalty("永税罚〔2026〕1号", "2026-05-01")),
            "x",
            now(),
        )
        .unwrap()
        .id;
    let report = issued_report(&store);
    store
        .pin_pdf(&report.report_no, unrecorded(b"%PDF-1.7".to_vec()))
        .unwrap();
    store
        .withdraw_record(&id, RevocationCategory::RecordWithdrawn, "撤销", "d", now())
        .unwrap();
    assert!(kv.keys_with_prefix("").iter().all(|k| k.len() <= 250));
    let v = serde_json::to_value(&report).unwrap();
    for field in [
        "report_no",
        "verification_code",
        "issued_at",
        "valid_until",
        "period_start",
        "period_end",
        "clean",
    ] {
        assert!(!v[field].is_null(), "{field}");
    }
    let tax = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["domain"] == "tax")
        .unwrap();
    assert_eq!(tax["records"][0]["id"], id.as_str());
    assert_eq!(tax["records"][0]["document_no"], "永税罚〔2026〕1号");
    assert_eq!(serde_json::from_value::<Report>(v).unwrap(), report);
}

#[test]
fn rate_limits_count_per_client_per_minute() {
    let kv = MemoryStore::new();
    let t = Utc.with_ymd_and_hms(2026, 11, 29, 2, 0, 45).unwrap();
    let limits = Limits {
        per_client: 5,
        visitors: 100,
    };
    for _ in 0..3 {
        admit(&kv, "verify", "10.1.1.1", 1, limits, t).unwrap();
    }
    let e = admit(&kv, "verify", "10.1.1.1", 3, limits, t).unwrap_err();
    assert_eq!((e.code(), e.retry_after()), ("RATE_LIMITED", Some(15)));
    let full = admit(&kv, "verify", "10.2.2.2", 5, limits, t).unwrap();
    assert_eq!((full.count, full.remaining(), full.reset_secs), (5, 0, 15));
    let next = admit(
        &kv,
        "verify",
        "10.1.1.1",
        1,
        limits,
        t + Duration::seconds(15),
    )
    .unwrap();
    // 02:01:00 is a new minute: its first visitor.
    assert_eq!((next.count, next.visitor), (1, Some(1)));
}

/// Logs every call with its keys, in order: for round-trip counts and
/// write ordering.
struct Journal<'a> {
    inner: &'a MemoryStore,
    calls: Mutex<Vec<(&'static str, Vec<String>)>>,
}

impl<'a> Journal<'a> {
    fn new(inner: &'a MemoryStore) -> Self {
        Journal {
            inner,
            calls: Mutex::new(Vec::new()),
        }
    }
    fn log(&self, op: &'static str, keys: &[String]) {
        self.calls.lock().unwrap().push((op, keys.to_vec()));
    }
    fn take(&self) -> Vec<(&'static str, Vec<String>)> {
        std::mem::take(&mut self.calls.lock().unwrap())
    }
}

impl KeyValue for Journal<'_> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.log("get", &[key.into()]);
        self.inner.get(key)
    }
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.log("get_many", keys);
        self.inner.get_many(keys)
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.log("set", &[key.into()]);
        self.inner.set(key, value)
    }
    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let keys: Vec<String> = entries.iter().map(|(k, _)| k.clone()).collect();
        self.log("set_many", &keys);
        self.inner.set_many(entries)
    }
    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.log("delete", &[key.into()]);
        self.inner.delete(key)
    }
    fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        self.log("delete_many", keys);
        self.inner.delete_many(keys)
    }
    fn exists(&self, key: &str) -> Result<bool, StoreError> {
        self.log("exists", &[key.into()]);
        self.inner.exists(key)
    }
    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        self.log("increment", &[key.into()]);
        self.inner.increment(key, delta)
    }
    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, StoreError> {
        self.log("cas", &[key.into()]);
        self.inner.compare_and_swap(key, expected, new)
    }
}

#[test]
fn code_verification_reads_one_index_entry_that_revocation_rewrote() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let report = issued_report(&store);
    assert_eq!(
        store
            .verify_code(&report.verification_code, now())
            .unwrap()
            .outcome,
        Outcome::Valid
    );
    store
        .revoke(
            &report.report_no,
            RevocationCategory::Other,
            "测试撤销",
            now(),
        )
        .unwrap();
    let journal = Journal::new(&kv);
    let answer = Store::new(&journal)
        .verify_code(&report.verification_code, now())
        .unwrap();
    assert_eq!(answer.outcome.code(), "REVOKED");
    assert_eq!(answer.report, Some(report.summary()));
    assert_eq!(
        journal.take(),
        [(
            "get_many",
            vec![format!("code/{}", report.verification_code.lookup_digest())]
        )]
    );
}

#[test]
fn codes_indexed_before_the_index_carried_the_answer_still_verify() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let report = issued_report(&store);
    let no = report.report_no.as_str();
    kv.set(
        &keys::report_by_code(&report.verification_code),
        no.as_bytes(),
    )
    .unwrap();
    kv.set(
        &keys::report_status(&report.report_no),
        &serde_json::to_vec(&crate::report::Revocation {
            revoked_at: crate::window::in_china(now()),
            category: RevocationCategory::Other,
            reason: "旧数据".into(),
        })
        .unwrap(),
    )
    .unwrap();
    let answer = store.verify_code(&report.verification_code, now()).unwrap();
    assert_eq!(answer.outcome.code(), "REVOKED");
    assert_eq!(
        store.find_by_code(&report.verification_code).unwrap(),
        Some(report)
    );
}

#[test]
fn a_batch_of_codes_takes_one_round_trip_and_answers_in_order() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let valid = issued_report(&store);
    let revoked = issued_report(&store);
    store
        .revoke(
            &revoked.report_no,
            RevocationCategory::Other,
            "测试撤销",
            now(),
        )
        .unwrap();
    let unknown: VerificationCode = "ABCDEFGHJKMNPQRS".parse().unwrap();
    let codes = [
        unknown.clone(),
        revoked.verification_code.clone(),
        valid.verification_code.clone(),
        unknown,
        valid.verification_code.clone(),
    ];
    let journal = Journal::new(&kv);
    let answers = Store::new(&journal).verify_codes(&codes, now()).unwrap();
    let outcomes: Vec<&str> = answers.iter().map(|a| a.outcome.code()).collect();
    assert_eq!(
        outcomes,
        ["NOT_FOUND", "REVOKED", "VALID", "NOT_FOUND", "VALID"]
    );
    assert_eq!(
        answers[2].report.as_ref().unwrap().report_no,
        valid.report_no
    );
    let calls = journal.take();
    assert_eq!(calls.len(), 1);
    // Repeated codes are asked for once: a backend may answer as a map.
    assert_eq!(calls[0].1.len(), 3);
    for code in &codes {
        assert_eq!(
            store.verify_code(code, now()).unwrap(),
            answers[codes.iter().position(|c| c == code).unwrap()]
        );
    }
}

fn issued(store: &Store<'_, impl KeyValue>) -> ReportNo {
    issued_report(store).report_no
}

/// A report over every domain for entity "e", issued now.
fn issued_report(store: &Store<'_, impl KeyValue>) -> Report {
    store
        .issue_report(&all(), "e", now(), &RuleConfig::default())
        .unwrap()
}

/// A file pinned without signature facts: read from the file at each
/// genuine verification.
fn unrecorded(bytes: Vec<u8>) -> RenderedPdf {
    RenderedPdf {
        bytes,
        signature: None,
    }
}

fn never_rendered() -> Result<RenderedPdf, Error> {
    panic!("a pinned PDF must not be rendered again")
}

/// 1.2 MB of deterministic bytes: three chunks.
fn big_pdf(seed: u8) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend((0..1_200_000u32).map(|i| (i % 251) as u8 ^ seed));
    bytes
}

#[test]
fn the_first_download_pins_the_bytes_and_later_ones_serve_them() {
    let kv = MemoryStore::new();
    let no = issued(&Store::new(&kv));
    let journal = Journal::new(&kv);
    let store = Store::new(&journal);
    let first = store
        .issued_pdf(&no, || Ok(unrecorded(big_pdf(0))))
        .unwrap();
    assert_eq!(
        (first.bytes.len(), first.problem.clone()),
        (1_200_009, None)
    );
    // Bytes are written before the fingerprint, the answer indexes (by
    // code, by file) once it is pinned.
    let writes: Vec<String> = journal
        .take()
        .into_iter()
        .filter(|(op, _)| *op == "set" || *op == "cas" || *op == "set_many")
        .flat_map(|(_, keys)| keys)
        .collect();
    let sha = &first.fingerprint.sha256;
    let code = store.get_report(&no).unwrap().unwrap().verification_code;
    assert_eq!(
        writes,
        [
            format!("rpt/{no}/pdf/{sha}/0"),
            format!("rpt/{no}/pdf/{sha}/1"),
            format!("rpt/{no}/pdf/{sha}/2"),
            format!("rpt/{no}/pdf"),
            format!("code/{}", code.lookup_digest()),
            format!("pdf/{sha}"),
        ]
    );
    for key in kv.keys_with_prefix(&format!("rpt/{no}/pdf/")) {
        assert!(kv.get(&key).unwrap().unwrap().len() <= PDF_CHUNK_BYTES);
    }
    // A changed renderer, font or base URL cannot alter the issued file.
    let again = store.issued_pdf(&no, never_rendered).unwrap();
    assert_eq!(again, first);
    assert_eq!(
        store
            .verify_file(sha, first.fingerprint.size, &[], now())
            .unwrap()
            .verification
            .outcome,
        Outcome::Valid
    );
}

#[test]
fn racing_first_downloads_leave_one_intact_file() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let no = issued(&store);
    let a = store.pin_pdf(&no, unrecorded(big_pdf(0))).unwrap();
    // Same renderer: identical bytes under identical keys.
    let same = store.pin_pdf(&no, unrecorded(big_pdf(0))).unwrap();
    assert_eq!((same.bytes == a.bytes, same.problem), (true, None));
    // A different renderer mid-rollout loses, and its chunks go.
    let other = store.pin_pdf(&no, unrecorded(big_pdf(7))).unwrap();
    assert_eq!((other.bytes == a.bytes, other.problem), (true, None));
    assert_eq!(kv.keys_with_prefix(&format!("rpt/{no}/pdf/")).len(), 3);
    assert_eq!(store.issued_pdf(&no, never_rendered).unwrap(), a);
}

#[test]
fn stored_bytes_that_fail_the_check_are_rendered_again_and_reported() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let no = issued(&store);
    let pinned = store
        .issued_pdf(&no, || Ok(unrecorded(big_pdf(0))))
        .unwrap();
    let chunk = format!("rpt/{no}/pdf/{}/1", pinned.fingerprint.sha256);
    kv.set(&chunk, b"bit rot").unwrap();
    let repaired = store
        .issued_pdf(&no, || Ok(unrecorded(big_pdf(0))))
        .unwrap();
    assert_eq!(repaired.bytes, pinned.bytes);
    assert!(repaired.problem.unwrap().contains("corrupt"));
    assert_eq!(store.issued_pdf(&no, never_rendered).unwrap(), pinned);

    kv.delete(&chunk).unwrap();
    let changed = store
        .issued_pdf(&no, || Ok(unrecorded(big_pdf(7))))
        .unwrap();
    assert_eq!(changed.bytes, big_pdf(7));
    assert_eq!(changed.fingerprint, pinned.fingerprint);
    let problem = changed.problem.unwrap();
    assert!(problem.contains("missing") && problem.contains("TAMPERED"));
}

#[test]
fn a_fingerprint_recorded_before_bytes_were_kept_is_pinned_when_it_still_matches() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let no = issued(&store);
    let legacy = |bytes: &[u8]| PdfFingerprint {
        chunk_bytes: None,
        ..PdfFingerprint::of(bytes, 1)
    };
    kv.set(
        &format!("rpt/{no}/pdf"),
        &serde_json::to_vec(&legacy(&big_pdf(0))).unwrap(),
    )
    .unwrap();
    let changed = store
        .issued_pdf(&no, || Ok(unrecorded(big_pdf(7))))
        .unwrap();
    assert!(changed.problem.unwrap().contains("TAMPERED"));
    assert!(kv.keys_with_prefix(&format!("rpt/{no}/pdf/")).is_empty());
    let matching = store
        .issued_pdf(&no, || Ok(unrecorded(big_pdf(0))))
        .unwrap();
    assert_eq!((matching.bytes, matching.problem), (big_pdf(0), None));
    let pinned = store.pdf_of(&no).unwrap().unwrap();
    assert_eq!(pinned.chunk_bytes, Some(PDF_CHUNK_BYTES as u64));
    assert_eq!(
        store.issued_pdf(&no, never_rendered).unwrap().bytes,
        big_pdf(0)
    );
}

#[test]
fn a_revocation_enters_each_holders_feed_once_and_expiry_is_caught_up() {
    use crate::subscription::{ClientId, EventKind, Subscription};
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let cfg = RuleConfig::default();
    let report = store.issue_report(&all(), "e", now(), &cfg).unwrap();
    let (a, b) = (ClientId::of_subject("a"), ClientId::of_subject("b"));
    let holds = Subscription {
        report_no: report.report_no.clone(),
        subscribed_at: report.issued_at,
        valid_until: report.valid_until,
    };
    assert!(store.subscribe(&a, &holds).unwrap());
    assert!(!store.subscribe(&a, &holds).unwrap(), "registered once");
    assert!(store.subscribe(&b, &holds).unwrap());

    assert!(
        store
            .revoke(
                &report.report_no,
                RevocationCategory::RecordCorrected,
                "更正",
                now()
            )
            .unwrap()
    );
    assert!(
        !store
            .revoke(
                &report.report_no,
                RevocationCategory::RecordCorrected,
                "again",
                now()
            )
            .unwrap()
    );
    for client in [&a, &b] {
        store.catch_up(client, now()).unwrap();
        let feed = store.events_after(client, 0, 10, now()).unwrap();
        assert_eq!(feed.len(), 1, "{feed:?}");
        assert_eq!(feed[0].cursor, 1);
        assert_eq!(feed[0].kind, EventKind::Revoked);
        assert_eq!(
            feed[0].reason.as_deref(),
            Some("记录更正"),
            "the category, not the unit's words"
        );
    }
    assert!(store.events_after(&a, 1, 10, now()).unwrap().is_empty());

    // Another report of `a` expires: announced at the first read after its validity.
    let later = store.issue_report(&all(), "e", now(), &cfg).unwrap();
    let expiring = Subscription {
        report_no: later.report_no.clone(),
        subscribed_at: later.issued_at,
        valid_until: later.valid_until,
    };
    store.subscribe(&a, &expiring).unwrap();
    store.catch_up(&a, now()).unwrap();
    assert_eq!(store.events_after(&a, 1, 10, now()).unwrap(), vec![]);
    let after_expiry = now() + Duration::days(400);
    store.catch_up(&a, after_expiry).unwrap();
    store.catch_up(&a, after_expiry).unwrap();
    let feed = store.events_after(&a, 1, 10, now()).unwrap();
    assert_eq!(feed.len(), 1, "{feed:?}");
    assert_eq!(feed[0].kind, EventKind::Expired);
    assert_eq!(feed[0].occurred_at, later.valid_until);
}

#[test]
fn a_feed_slot_whose_writer_died_stops_the_feed_only_while_a_writer_could_still_fill_it() {
    use crate::subscription::{ClientId, Subscription};
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let cfg = RuleConfig::default();
    let a = ClientId::of_subject("a");
    // A writer took slot 1 and died before writing it.
    let feed = keys::events_of(&a);
    kv.increment(&feed.counter(), 1).unwrap();
    let report = store.issue_report(&all(), "e", now(), &cfg).unwrap();
    store
        .subscribe(
            &a,
            &Subscription {
                report_no: report.report_no.clone(),
                subscribed_at: report.issued_at,
                valid_until: report.valid_until,
            },
        )
        .unwrap();
    assert!(
        store
            .revoke(
                &report.report_no,
                RevocationCategory::RecordCorrected,
                "更正",
                now()
            )
            .unwrap()
    );

    assert_eq!(
        store.events_after(&a, 0, 10, now()).unwrap(),
        vec![],
        "slot 1 may still be written"
    );
    let later = now() + Duration::seconds(61);
    let events = store.events_after(&a, 0, 10, later).unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].cursor, 2);

    // The webhook settles past the abandoned slot too.
    assert!(store.settle_webhook(&a, 0, 2).unwrap());
    assert!(!store.settle_webhook(&a, 0, 2).unwrap(), "moved once");
    assert_eq!(store.webhook_settled(&a).unwrap(), 2);
}

#[test]
fn a_fact_whose_event_was_not_written_is_announced_again() {
    use crate::subscription::{ClientId, EventKind, Subscription};
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let cfg = RuleConfig::default();
    let a = ClientId::of_subject("a");
    let report = store.issue_report(&all(), "e", now(), &cfg).unwrap();
    store
        .subscribe(
            &a,
            &Subscription {
                report_no: report.report_no.clone(),
                subscribed_at: report.issued_at,
                valid_until: report.valid_until,
            },
        )
        .unwrap();
    assert!(
        store
            .revoke(
                &report.report_no,
                RevocationCategory::RecordCorrected,
                "更正",
                now()
            )
            .unwrap()
    );
    // The announcing request died after taking the slot, before writing.
    let feed = keys::events_of(&a);
    kv.delete(&feed.slot(1)).unwrap();
    kv.delete(&keys::event_announced(
        &a,
        &report.report_no,
        EventKind::Revoked,
    ))
    .unwrap();

    let later = now() + Duration::seconds(61);
    store.catch_up(&a, later).unwrap();
    let events = store
        .events_after(&a, 0, 10, later + Duration::seconds(61))
        .unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].kind, EventKind::Revoked);
    assert_eq!(events[0].cursor, 2);
}

/// The store operations of public verifications, as docs/benchmarks.md
/// lists them: a repeat visitor's code costs 3, the first request of a
/// minute 4, a genuine file 3.
#[test]
fn verifications_cost_three_store_operations() {
    use crate::pdf::sign::PublishedChain;
    use crate::usecase::Visitor;
    use crate::usecase::verification::Verifier;

    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let report = issued_report(&store);
    let pdf = big_pdf(0);
    store
        .pin_pdf(&report.report_no, unrecorded(pdf.clone()))
        .unwrap();
    let journal = Journal::new(&kv);
    let limits = Limits {
        per_client: 60,
        visitors: 1000,
    };
    let verifier = Verifier::new(
        &journal,
        Visitor {
            client: "10.9.9.9".into(),
            now: now(),
        },
        limits,
    );
    let body = || Ok(json!({ "code": report.verification_code.as_str() }));
    let ops = |journal: &Journal| -> Vec<&'static str> {
        journal.take().into_iter().map(|(op, _)| op).collect()
    };

    let first = verifier.admit(1).unwrap();
    assert_eq!(
        verifier.code(&first, body()).unwrap().outcome,
        Outcome::Valid
    );
    assert_eq!(
        ops(&journal),
        ["increment", "increment", "get_many", "set_many"]
    );

    let again = verifier.admit(1).unwrap();
    assert_eq!(
        verifier.code(&again, body()).unwrap().outcome,
        Outcome::Valid
    );
    assert_eq!(ops(&journal), ["increment", "get_many", "set_many"]);
    assert_eq!((again.count, again.remaining()), (2, 58));

    let development = crate::pdf::sign::development::generate("测试 CA", "测试印章").unwrap();
    let published = PublishedChain::new(development.chain_pem, true);
    let file = verifier.admit(1).unwrap();
    let answer = verifier.file(&file, Upload::new(&pdf), &published).unwrap();
    assert_eq!(answer.verification.outcome, Outcome::Valid);
    assert!(answer.file.matches_original);
    assert_eq!(ops(&journal), ["increment", "get", "set_many"]);

    // A malformed body is logged too: no gap in the visitor's slots.
    let bad = verifier.admit(1).unwrap();
    let e = verifier.code(&bad, Ok(json!({ "code": 7 }))).unwrap_err();
    assert_eq!(e.code(), "INVALID_CODE");
    let day = crate::window::china_date(now());
    let check = crate::audit::access::check_day(&kv, day, 60).unwrap();
    assert_eq!((check.entries, check.problem), (4, None));
}

#[test]
fn a_report_beyond_the_bound_is_refused_before_a_number_is_issued() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let cfg = RuleConfig::default();
    for i in 0..MAX_REPORT_RECORDS {
        let record = samples::penalty(&format!("永税罚〔2026〕{i}号"), "2026-05-01");
        store.upsert_record(rec(record), "x", now()).unwrap();
    }
    // Outside the window: read, not counted.
    store
        .upsert_record(rec(samples::penalty("OLD", "2025-11-29")), "x", now())
        .unwrap();
    let report = store.issue_report(&all(), "entity:e", now(), &cfg).unwrap();
    assert_eq!(report.record_count(), MAX_REPORT_RECORDS);
    assert!(to_json(&report).unwrap().len() <= MAX_SNAPSHOT_BYTES);

    store
        .upsert_record(rec(samples::penalty("ONE-MORE", "2026-05-02")), "x", now())
        .unwrap();
    let refused = store
        .issue_report(&all(), "entity:e", now(), &cfg)
        .unwrap_err();
    assert_eq!(refused.code(), "REPORT_TOO_LARGE");
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .to_string()
            .contains(&MAX_REPORT_RECORDS.to_string())
    );
    let issued_today = kv
        .increment(&keys::report_sequence(crate::window::china_date(now())), 0)
        .unwrap();
    assert_eq!(issued_today, 1, "the refusal took no report number");
}

#[test]
fn an_entitys_records_page_through_without_gaps_or_repeats() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let mut stored = Vec::new();
    for i in 0..25 {
        let record = samples::penalty(&format!("永税罚〔2026〕{i}号"), "2026-05-01");
        stored.push(store.upsert_record(rec(record), "x", now()).unwrap().id);
    }
    // A correction keeps the record's place.
    let mut corrected = samples::penalty("永税罚〔2026〕3号", "2026-05-01");
    corrected["facts"] = json!("更正后的违法事实");
    store.upsert_record(rec(corrected), "x", now()).unwrap();
    let mut listed = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .records_page(&uscc(ENTITY), cursor.as_ref(), 10)
            .unwrap();
        assert!(page.items.len() <= 10);
        listed.extend(page.items.into_iter().map(|r| r.id));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(listed, stored);
}

#[test]
fn a_snapshot_beyond_one_store_value_is_refused_before_a_number_is_issued() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let long_facts = "违法事实".repeat(250);
    for i in 0..300 {
        let mut record = samples::penalty(&format!("永税罚〔2026〕{i}号"), "2026-05-01");
        record["facts"] = json!(long_facts);
        store.upsert_record(rec(record), "x", now()).unwrap();
    }
    let refused = store
        .issue_report(&all(), "entity:e", now(), &RuleConfig::default())
        .unwrap_err();
    assert_eq!(refused.code(), "REPORT_TOO_LARGE");
    let numbered = kv
        .increment(&keys::report_sequence(crate::window::china_date(now())), 0)
        .unwrap();
    assert_eq!(numbered, 0, "no report number was taken");
}

/// An upload that appends to a report it names near its start (the bench's
/// 5 MiB upload) reads that report's PDF fingerprint once, for both the
/// cut-short check and the appended-update check.
#[test]
fn an_appended_upload_reads_the_originals_fingerprint_once() {
    use crate::pdf::sign::development::generate;
    use crate::pdf::sign::{PublishedChain, Seal};
    use crate::usecase::reports::sealed_rendering;
    use crate::usecase::verification::verify_upload;

    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    let report = issued_report(&store);
    let material = generate("测试 CA", "测试印章").unwrap();
    let seal = Seal::from_pem(&material.private_key_pem, &material.chain_pem, true).unwrap();
    let original = store
        .issued_pdf(&report.report_no, || {
            sealed_rendering(&report, "http://127.0.0.1:3000", &seal)
        })
        .unwrap()
        .bytes;
    let mut appended = original.to_vec();
    appended.extend_from_slice(b"%");
    appended.extend_from_slice(&[b'x'; 4096]);
    appended.extend_from_slice(b"\n");

    let journal = Journal::new(&kv);
    let published = PublishedChain::new(material.chain_pem, true);
    let answer = verify_upload(
        &journal,
        &Upload::new(&appended).unwrap(),
        now(),
        &published,
    )
    .unwrap();
    assert!(matches!(
        answer.verification.outcome,
        Outcome::Tampered {
            appended_update: true,
            ..
        }
    ));
    assert_eq!(answer.claimed_report_no.as_ref(), Some(&report.report_no));
    let fingerprint = keys::pdf_fingerprint(&report.report_no);
    let reads = journal
        .take()
        .into_iter()
        .filter(|(_, keys)| keys.contains(&fingerprint))
        .count();
    assert_eq!(reads, 1);
}
