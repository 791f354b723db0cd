use base64::Engine;
use chrono::TimeZone;
use serde_json::{Value, json};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::*;
use crate::auth::Principal;
use crate::catalog::DomainSelection;
use crate::codes::ReportNo;
use crate::config::{RuleConfig, Settings};
use crate::error::Error;
use crate::kv::{KeyValue, MemoryStore};
use crate::paging::Page;
use crate::record::samples::{self, ENTITY, OTHER_ENTITY};
use crate::record::{Record, RecordId, RecordStatus};
use crate::report::{ApplyRequest, Outcome};
use crate::store::Store;
use crate::uscc::CreditCode;
use crate::vocabulary::RevocationCategory;
use crate::window::{ReportMonths, in_china};

/// The dispute settings as a deployment gets them by default.
fn default_config() -> DisputeConfig {
    Settings::from_lookup(|name| (name == "auth_mode").then(|| "development".into()))
        .expect("the defaults are valid")
        .disputes
}

/// 10:00 China time on a day.
fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 2, 0, 0).unwrap()
}

/// A Friday.
fn now() -> DateTime<Utc> {
    at(2026, 11, 27)
}

fn uscc(s: &str) -> CreditCode {
    s.parse().unwrap()
}

fn entity() -> Principal {
    Principal::Entity {
        sub: "e1".into(),
        uscc: uscc(ENTITY),
        name: None,
    }
}

fn other_entity() -> Principal {
    Principal::Entity {
        sub: "e2".into(),
        uscc: uscc(OTHER_ENTITY),
        name: None,
    }
}

fn tax_department() -> Principal {
    Principal::Department {
        sub: "d1".into(),
        unit: "县税务局".into(),
    }
}

fn market_department() -> Principal {
    Principal::Department {
        sub: "d2".into(),
        unit: "县市场监管局".into(),
    }
}

fn staff() -> Principal {
    Principal::Staff {
        sub: "s1".into(),
        unit: None,
    }
}

fn admin() -> Principal {
    Principal::Admin { sub: "a1".into() }
}

struct World {
    kv: MemoryStore,
    config: DisputeConfig,
}

impl World {
    fn new() -> World {
        World {
            kv: MemoryStore::new(),
            config: default_config(),
        }
    }

    fn with(config: DisputeConfig) -> World {
        World {
            kv: MemoryStore::new(),
            config,
        }
    }

    fn disputes(&self) -> Disputes<'_, MemoryStore> {
        Disputes::new(&self.kv, &self.config)
    }

    fn store(&self) -> Store<'_, MemoryStore> {
        Store::new(&self.kv)
    }

    fn penalty(&self, v: Value) -> RecordId {
        self.store()
            .upsert_record(
                Record::from_json(&v).unwrap(),
                "department:d1:县税务局",
                now(),
            )
            .unwrap()
            .id
    }

    fn report(&self) -> ReportNo {
        let request = ApplyRequest {
            uscc: uscc(ENTITY),
            entity_name: None,
            months: ReportMonths::try_from(12).unwrap(),
            domains: DomainSelection::All,
            purpose: "bidding".into(),
            on_behalf: None,
        };
        self.store()
            .issue_report(&request, "entity:e1", now(), &RuleConfig::default())
            .unwrap()
            .report_no
    }

    fn revoked(&self, no: &ReportNo) -> bool {
        self.store().report_status(no).unwrap().is_some()
    }

    fn status(&self, id: &RecordId) -> RecordStatus {
        self.store().get_record(id).unwrap().unwrap().status
    }

    fn file(&self, id: &RecordId) -> Objection {
        self.disputes()
            .file_objection(&entity(), filing(id), now())
            .unwrap()
    }
}

fn filing(id: &RecordId) -> ObjectionFiling {
    ObjectionFiling::from_json(&json!({
        "record_id": id.as_str(), "ground": "error", "statement": "罚款金额录入错误，应为0.1万元"
    }))
    .unwrap()
}

fn repair_application(id: &RecordId) -> RepairApplication {
    RepairApplication::from_json(
        &json!({"record_id": id.as_str(), "statement": "已缴清罚款并完成整改"}),
    )
    .unwrap()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn working_days_skip_weekends_and_configured_holidays() {
    let cal = WorkCalendar::default();
    let friday = in_china(now());
    assert_eq!(cal.add_working_days(friday, 0), friday);
    // Friday + 2 working days: Tuesday, same time.
    assert_eq!(cal.add_working_days(friday, 2), in_china(at(2026, 12, 1)));
    let saturday = in_china(at(2026, 11, 28));
    assert_eq!(
        cal.add_working_days(saturday, 1),
        in_china(at(2026, 11, 30))
    );
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    let holidays = WorkCalendar::new([d("2026-11-30")], [d("2026-11-29")]);
    assert!(holidays.is_working_day(d("2026-11-29")), "a working Sunday");
    assert!(!holidays.is_working_day(d("2026-11-30")));
    assert_eq!(
        holidays.add_working_days(friday, 2),
        in_china(at(2026, 12, 1))
    );
}

#[test]
fn configuration_reads_variables_and_rejects_bad_ones() {
    let d = default_config();
    assert_eq!((d.accept_working_days, d.answer_working_days), (2, 10));
    assert_eq!(
        d.repair_min_months,
        RepairPeriods {
            minor: 0,
            general: 3,
            serious: 12
        }
    );
    let vars = |name: &str| match name {
        "public_holidays" => Some("2026-10-01, 2026-10-02;2026-10-05".to_owned()),
        "repair_min_months_serious" => Some("24".to_owned()),
        "auth_mode" => Some("development".to_owned()),
        _ => None,
    };
    let c = Settings::from_lookup(vars).unwrap().disputes;
    assert_eq!(c.repair_min_months.serious, 24);
    assert!(!c.calendar.is_working_day("2026-10-05".parse().unwrap()));
    for (name, value) in [
        ("public_holidays", "2026-13-01"),
        ("repair_min_months_general", "three"),
        ("objection_answer_working_days", "100000"),
    ] {
        let e = Settings::from_lookup(|n| (n == name).then(|| value.to_owned())).unwrap_err();
        assert!(matches!(e, Error::InvalidConfig { ref variable, .. } if variable == name));
    }
}

#[test]
fn case_numbers_parse_only_their_kind() {
    let no = CaseNo::new(CaseKind::Objection, "2026-11-29".parse().unwrap(), 1);
    assert_eq!(no.as_str(), "YY20261129-000001");
    assert_eq!(
        CaseNo::parse(CaseKind::Objection, "YY20261129-000001").unwrap(),
        no
    );
    assert_eq!(
        CaseNo::parse(CaseKind::Repair, "XF20261129-000002")
            .unwrap()
            .kind(),
        CaseKind::Repair
    );
    for bad in [
        "",
        "YY20261129",
        "YY20261332-000001",
        "YY20261129-000000",
        "XF20261129-000001",
        "YY20261129-0001",
        "../etc",
    ] {
        let e = CaseNo::parse(CaseKind::Objection, bad).unwrap_err();
        assert_eq!(
            (e.code(), e.field()),
            ("INVALID_FIELD", Some("no")),
            "{bad}"
        );
    }
}

#[test]
fn filings_are_parsed_with_named_field_errors() {
    let id = "0123456789abcdef0123456789abcdef";
    let ok = ObjectionFiling::from_json(&json!({
        "record_id": id, "ground": "与认定机关不一致", "statement": " 说明 ",
        "uscc": ENTITY, "evidence": format!("data:application/pdf;base64,{}", b64(b"%PDF-1.7\n"))
    }))
    .unwrap();
    assert_eq!(ok.ground, Ground::InconsistentWithAuthority);
    assert_eq!(ok.statement, "说明");
    assert_eq!(ok.evidence.unwrap().media_type, EvidenceType::Pdf);
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"ground": "error", "statement": "x"}),
            "MISSING_FIELD",
            "record_id",
        ),
        (
            json!({"record_id": "nope", "ground": "error", "statement": "x"}),
            "INVALID_FIELD",
            "record_id",
        ),
        (
            json!({"record_id": id, "ground": "angry", "statement": "x"}),
            "INVALID_FIELD",
            "ground",
        ),
        (
            json!({"record_id": id, "ground": "error"}),
            "MISSING_FIELD",
            "statement",
        ),
        (
            json!({"record_id": id, "ground": "error", "statement": "字".repeat(2001)}),
            "INVALID_FIELD",
            "statement",
        ),
        (
            json!({"record_id": id, "ground": "error", "statement": "x", "uscc": "123"}),
            "INVALID_USCC",
            "uscc",
        ),
        (
            json!({"record_id": id, "ground": "error", "statement": "x", "evidence": 7}),
            "INVALID_FIELD",
            "evidence",
        ),
        (
            json!({"record_id": id, "ground": "error", "statement": "x", "evidence": "!!!"}),
            "INVALID_FIELD",
            "evidence",
        ),
        (
            json!({"record_id": id, "ground": "error", "statement": "x", "evidence": b64(b"MZ\x90\x00exe")}),
            "INVALID_FIELD",
            "evidence",
        ),
    ];
    for (body, code, field) in cases {
        let e = ObjectionFiling::from_json(&body).unwrap_err();
        assert_eq!((e.code(), e.field()), (code, Some(field)), "{body}");
    }
    assert_eq!(
        ObjectionFiling::from_json(&json!([])).unwrap_err().code(),
        "INVALID_JSON"
    );
}

#[test]
fn evidence_is_sniffed_and_size_limited() {
    let png = b"\x89PNG\r\n\x1a\n....";
    assert_eq!(
        Evidence::from_base64(&b64(png)).unwrap().media_type,
        EvidenceType::Png
    );
    let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10];
    assert_eq!(
        Evidence::from_base64(&b64(&jpeg)).unwrap().media_type,
        EvidenceType::Jpeg
    );
    let mut wrapped = b64(b"%PDF-1.4 some text that is long enough to wrap lines");
    wrapped.insert(20, '\n');
    assert!(Evidence::from_base64(&wrapped).is_ok());
    let mut max = b"%PDF-".to_vec();
    max.resize(MAX_EVIDENCE_BYTES, b' ');
    assert_eq!(
        Evidence::from_base64(&b64(&max)).unwrap().bytes.len(),
        MAX_EVIDENCE_BYTES
    );
    max.push(b' ');
    let e = Evidence::from_base64(&b64(&max)).unwrap_err();
    assert_eq!(e.field(), Some("evidence"));
    assert!(e.to_string().contains("2 MiB"));
}

#[test]
fn resolutions_parse() {
    assert!(matches!(
        Resolution::from_json(&json!({"action": "uphold", "reason": "原记录无误"})).unwrap(),
        Resolution::Uphold { .. }
    ));
    assert_eq!(
        Resolution::from_json(&json!({"action": "withdraw"}))
            .unwrap_err()
            .field(),
        Some("reason")
    );
    assert_eq!(
        Resolution::from_json(&json!({"action": "correct"}))
            .unwrap_err()
            .field(),
        Some("record")
    );
    let mut bad_record = samples::penalty("A-1", "2026-03-01");
    bad_record["uscc"] = json!("91350200776049653B");
    assert_eq!(
        Resolution::from_json(&json!({"action": "correct", "record": bad_record}))
            .unwrap_err()
            .field(),
        Some("uscc")
    );
    assert_eq!(
        Resolution::from_json(&json!({"action": "shrug"}))
            .unwrap_err()
            .field(),
        Some("action")
    );
    assert_eq!(
        reason_from_json(&json!({}), true).unwrap_err().field(),
        Some("reason")
    );
    assert_eq!(reason_from_json(&json!({}), false).unwrap(), None);
}

#[test]
fn objection_accepted_and_corrected_revokes_reports_and_frees_the_record() {
    let w = World::new();
    let id = w.penalty(samples::penalty("A-1", "2026-03-01"));
    let before = w.report();
    let case = w.file(&id);
    assert_eq!(case.no.as_str(), "YY20261127-000001");
    assert_eq!(case.status, ObjectionStatus::Filed);
    assert_eq!(case.accept_by, in_china(at(2026, 12, 1)));
    assert_eq!(w.status(&id), RecordStatus::UnderObjection);
    // A report issued meanwhile shows the label.
    let during = w.report();
    let shown = w.store().get_report(&during).unwrap().unwrap();
    assert_eq!(
        shown
            .findings
            .iter()
            .flat_map(|f| &f.records)
            .next()
            .unwrap()
            .status_label
            .as_deref(),
        Some("异议处理中")
    );

    let accepted = w
        .disputes()
        .accept_objection(&tax_department(), &case.no, at(2026, 11, 30))
        .unwrap();
    assert_eq!(accepted.status, ObjectionStatus::Accepted);
    // Monday + 10 working days.
    assert_eq!(accepted.answer_by, Some(in_china(at(2026, 12, 14))));

    let mut corrected = samples::penalty("A-1", "2026-03-01");
    corrected["fine_wan_yuan"] = json!("0.1");
    corrected["penalty_content"] = json!("罚款0.1万元");
    let resolution =
        Resolution::from_json(&json!({"action": "correct", "record": corrected})).unwrap();
    let done = w
        .disputes()
        .resolve_objection(&tax_department(), &case.no, resolution, at(2026, 11, 30))
        .unwrap();
    assert_eq!(done.status, ObjectionStatus::Corrected);
    assert_eq!(done.revoked_reports.len(), 2);
    assert!(w.revoked(&before) && w.revoked(&during));
    assert_eq!(w.status(&id), RecordStatus::Active);
    let Record::Penalty(p) = w.store().get_record(&id).unwrap().unwrap().record else {
        panic!("a penalty")
    };
    assert_eq!(p.fine_wan_yuan.unwrap().to_string(), "0.1");
    let verification = w
        .store()
        .verify_code(
            &w.store()
                .get_report(&before)
                .unwrap()
                .unwrap()
                .verification_code,
            at(2026, 11, 30),
        )
        .unwrap();
    assert!(matches!(
        verification.outcome,
        Outcome::Revoked {
            reason_code: RevocationCategory::ObjectionUpheld,
            ..
        }
    ));
    // The record is free for a new case.
    assert!(
        w.disputes()
            .file_objection(&entity(), filing(&id), now())
            .is_ok()
    );
}

#[test]
fn rejected_objection_leaves_record_and_reports_alone() {
    let w = World::new();
    let id = w.penalty(samples::penalty("A-1", "2026-03-01"));
    let report = w.report();
    let case = w.file(&id);
    let version = w.store().get_record(&id).unwrap().unwrap().record;
    let rejected = w
        .disputes()
        .reject_objection(&tax_department(), &case.no, "异议事由不属于受理范围", now())
        .unwrap();
    assert_eq!(rejected.status, ObjectionStatus::Rejected);
    assert_eq!(
        rejected.decision_reason.as_deref(),
        Some("异议事由不属于受理范围")
    );
    assert_eq!(w.status(&id), RecordStatus::Active);
    assert_eq!(w.store().get_record(&id).unwrap().unwrap().record, version);
    assert!(!w.revoked(&report));
    let again = w
        .disputes()
        .accept_objection(&tax_department(), &case.no, now())
        .unwrap_err();
    assert_eq!(again.status(), 409);
}

#[test]
fn upheld_objection_keeps_reports_valid_and_withdrawal_revokes_them() {
    let w = World::new();
    let kept = w.penalty(samples::penalty("A-1", "2026-03-01"));
    let gone = w.penalty(samples::penalty("A-2", "2026-04-01"));
    let report = w.report();
    let d = w.disputes();
    let first = w.file(&kept);
    d.accept_objection(&tax_department(), &first.no, now())
        .unwrap();
    let upheld = d
        .resolve_objection(
            &tax_department(),
            &first.no,
            Resolution::Uphold {
                reason: "经核实原记录无误".into(),
            },
            now(),
        )
        .unwrap();
    assert_eq!(
        (upheld.status, upheld.revoked_reports.len()),
        (ObjectionStatus::Upheld, 0)
    );
    assert_eq!(w.status(&kept), RecordStatus::Active);
    assert!(!w.revoked(&report));

    let second = w.file(&gone);
    let early = d
        .resolve_objection(
            &tax_department(),
            &second.no,
            Resolution::Uphold { reason: "x".into() },
            now(),
        )
        .unwrap_err();
    assert_eq!(early.status(), 409, "resolving needs acceptance first");
    d.accept_objection(&tax_department(), &second.no, now())
        .unwrap();
    let withdrawn = d
        .resolve_objection(
            &tax_department(),
            &second.no,
            Resolution::Withdraw {
                reason: "处罚决定已被复议撤销".into(),
            },
            now(),
        )
        .unwrap();
    assert_eq!(withdrawn.status, ObjectionStatus::Withdrawn);
    assert_eq!(withdrawn.revoked_reports, vec![report.clone()]);
    assert_eq!(w.status(&gone), RecordStatus::Withdrawn);
    let revocation = w.store().report_status(&report).unwrap().unwrap();
    assert!(
        revocation.reason.contains("处罚决定已被复议撤销"),
        "{revocation:?}"
    );
    assert_eq!(revocation.category, RevocationCategory::ObjectionUpheld);
}

#[test]
fn corrections_must_keep_the_identity_and_change_something() {
    let w = World::new();
    let id = w.penalty(samples::penalty("A-1", "2026-03-01"));
    let case = w.file(&id);
    let d = w.disputes();
    d.accept_objection(&tax_department(), &case.no, now())
        .unwrap();
    let correct = |v: Value| Resolution::Correct(Box::new(Record::from_json(&v).unwrap()));
    let other = d
        .resolve_objection(
            &tax_department(),
            &case.no,
            correct(samples::penalty("A-9", "2026-03-01")),
            now(),
        )
        .unwrap_err();
    assert_eq!(other.field(), Some("record"));
    let same = d
        .resolve_objection(
            &tax_department(),
            &case.no,
            correct(samples::penalty("A-1", "2026-03-01")),
            now(),
        )
        .unwrap_err();
    assert_eq!(same.field(), Some("record"));
    assert_eq!(
        d.objection(&entity(), &case.no).unwrap().status,
        ObjectionStatus::Accepted
    );
}

#[test]
fn only_owners_file_and_only_the_responsible_unit_decides() {
    let w = World::new();
    let id = w.penalty(samples::penalty("A-1", "2026-03-01"));
    let d = w.disputes();
    for who in [tax_department(), admin()] {
        assert_eq!(
            d.file_objection(&who, filing(&id), now())
                .unwrap_err()
                .status(),
            403
        );
    }
    // Another entity's record answers as an absent one: filing confirms nothing.
    let theirs = d
        .file_objection(&other_entity(), filing(&id), now())
        .unwrap_err();
    let absent = d
        .file_objection(
            &other_entity(),
            filing(&"0".repeat(32).parse().unwrap()),
            now(),
        )
        .unwrap_err();
    assert_eq!(theirs.status(), 404);
    assert_eq!(
        theirs.to_string(),
        absent.to_string().replace(&"0".repeat(32), id.as_str())
    );
    let mut by_staff = filing(&id);
    assert_eq!(
        d.file_objection(&staff(), by_staff.clone(), now())
            .unwrap_err()
            .field(),
        Some("uscc")
    );
    by_staff.uscc = Some(uscc(ENTITY));
    assert_eq!(
        d.file_objection(&staff(), by_staff.clone(), now())
            .unwrap_err()
            .field(),
        Some("authorisation_ref")
    );
    by_staff.authorisation_ref = Some("永授〔2026〕9号".parse().unwrap());
    // An entity files for itself: it gives no authorisation.
    let mut own_with_reference = filing(&id);
    own_with_reference.authorisation_ref = by_staff.authorisation_ref.clone();
    assert_eq!(
        d.file_objection(&entity(), own_with_reference, now())
            .unwrap_err()
            .field(),
        Some("authorisation_ref")
    );
    by_staff.uscc = Some(uscc(OTHER_ENTITY));
    assert_eq!(
        d.file_objection(&staff(), by_staff.clone(), now())
            .unwrap_err()
            .status(),
        404
    );
    by_staff.uscc = Some(uscc(ENTITY));
    let case = d.file_objection(&staff(), by_staff, now()).unwrap();
    assert_eq!(case.filed_by, "staff:s1");
    assert_eq!(
        case.authorisation_ref.as_ref().unwrap().as_str(),
        "永授〔2026〕9号"
    );
    // One open case per record.
    assert_eq!(
        w.disputes()
            .file_objection(&entity(), filing(&id), now())
            .unwrap_err()
            .status(),
        409
    );

    // Those who may not read a case are answered as if it did not exist.
    assert_eq!(
        d.objection(&other_entity(), &case.no).unwrap_err().status(),
        404
    );
    assert_eq!(
        d.objection(&market_department(), &case.no)
            .unwrap_err()
            .status(),
        404
    );
    assert!(d.objection(&entity(), &case.no).is_ok());
    assert!(d.objection(&tax_department(), &case.no).is_ok());
    for (who, status) in [
        (market_department(), 404),
        (entity(), 403),
        (admin(), 403),
        (staff(), 403),
    ] {
        assert_eq!(
            d.accept_objection(&who, &case.no, now())
                .unwrap_err()
                .status(),
            status
        );
        assert_eq!(
            d.reject_objection(&who, &case.no, "x", now())
                .unwrap_err()
                .status(),
            status
        );
    }
    let unknown = CaseNo::parse(CaseKind::Objection, "YY20261127-000099").unwrap();
    assert_eq!(d.objection(&entity(), &unknown).unwrap_err().status(), 404);
}

#[test]
fn listings_are_scoped_and_flag_overdue_cases() {
    let w = World::new();
    let d = w.disputes();
    let tax = w.penalty(samples::penalty("A-1", "2026-03-01"));
    let late = w.penalty(samples::penalty("A-2", "2026-03-02"));
    let mut theirs = samples::penalty("B-1", "2026-03-01");
    theirs["uscc"] = json!(OTHER_ENTITY);
    let other = w.penalty(theirs);
    let listing = Record::from_json(&samples::listing("L-1", "2026-01-01", None)).unwrap();
    let market = w.store().upsert_record(listing, "x", now()).unwrap().id;

    let on_tax = w.file(&tax);
    let on_late = w.file(&late);
    let on_market = w.file(&market);
    let mut for_other = filing(&other);
    for_other.uscc = Some(uscc(OTHER_ENTITY));
    for_other.authorisation_ref = Some("SQ-0002".parse().unwrap());
    d.file_objection(&staff(), for_other, now()).unwrap();
    d.accept_objection(&tax_department(), &on_tax.no, now())
        .unwrap();

    let nos = |cases: Page<Objection>| cases.items.into_iter().map(|c| c.no).collect::<Vec<_>>();
    let any = CaseFilter::default();
    assert_eq!(
        nos(d.list_objections(&entity(), &any, now()).unwrap()),
        [on_market.no.clone(), on_late.no.clone(), on_tax.no.clone()]
    );
    assert_eq!(
        d.list_objections(&tax_department(), &any, now())
            .unwrap()
            .len(),
        3,
        "two own, one other entity's"
    );
    assert_eq!(
        nos(d
            .list_objections(&market_department(), &any, now())
            .unwrap()),
        [on_market.no]
    );
    assert_eq!(d.list_objections(&admin(), &any, now()).unwrap().len(), 4);
    let mine = CaseFilter {
        uscc: Some(uscc(ENTITY)),
        ..CaseFilter::default()
    };
    assert_eq!(d.list_objections(&staff(), &mine, now()).unwrap().len(), 3);
    assert_eq!(
        d.list_objections(&staff(), &any, now())
            .unwrap_err()
            .field(),
        Some("uscc")
    );
    let theirs = CaseFilter {
        uscc: Some(uscc(OTHER_ENTITY)),
        ..CaseFilter::default()
    };
    assert_eq!(
        d.list_objections(&entity(), &theirs, now())
            .unwrap_err()
            .status(),
        403
    );

    let filed = CaseFilter {
        status: StatusFilter::parse(CaseKind::Objection, Some("filed")).unwrap(),
        ..CaseFilter::default()
    };
    assert_eq!(
        d.list_objections(&tax_department(), &filed, now())
            .unwrap()
            .len(),
        2
    );
    let open = CaseFilter {
        status: StatusFilter::Open,
        ..CaseFilter::default()
    };
    assert_eq!(
        d.list_objections(&tax_department(), &open, now())
            .unwrap()
            .len(),
        3
    );
    assert!(StatusFilter::parse(CaseKind::Objection, Some("approved")).is_err());

    // Friday 10:00 + 2 working days is Tuesday 10:00; one minute later the
    // filed cases are overdue, the accepted one is not (answer due 12-11).
    let overdue = CaseFilter {
        overdue_only: true,
        ..CaseFilter::default()
    };
    let tuesday = at(2026, 12, 1);
    assert!(
        d.list_objections(&admin(), &overdue, tuesday)
            .unwrap()
            .is_empty()
    );
    let later = tuesday + Duration::minutes(1);
    let flagged = d.list_objections(&admin(), &overdue, later).unwrap();
    assert_eq!(flagged.len(), 3);
    assert!(flagged.iter().all(|c| c.status == ObjectionStatus::Filed));
    assert_eq!(flagged[0].view(later).unwrap()["overdue"], true);
    assert_eq!(flagged[0].view(later).unwrap()["status_label"], "待受理");
    let answer_late = at(2026, 12, 11) + Duration::minutes(1);
    assert!(
        d.list_objections(&tax_department(), &overdue, answer_late)
            .unwrap()
            .iter()
            .any(|c| c.no == on_tax.no)
    );
}

#[test]
fn zero_accept_days_make_a_fresh_case_overdue() {
    let w = World::with(DisputeConfig {
        accept_working_days: 0,
        ..default_config()
    });
    let id = w.penalty(samples::penalty("A-1", "2026-03-01"));
    let case = w.file(&id);
    assert!(!case.overdue(now()));
    assert!(case.overdue(now() + Duration::seconds(1)));
}

#[test]
fn evidence_is_stored_apart_and_read_back_by_readers_only() {
    let w = World::new();
    let id = w.penalty(samples::penalty("A-1", "2026-03-01"));
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(EVIDENCE_CHUNK * 2 + 10, b'x');
    let mut f = filing(&id);
    f.evidence = Some(Evidence::from_base64(&b64(&pdf)).unwrap());
    let case = w.disputes().file_objection(&entity(), f, now()).unwrap();
    let info = case.evidence.clone().unwrap();
    assert_eq!((info.size, info.chunks), (pdf.len() as u64, 3));
    assert!(
        !w.kv
            .get(&format!("case/{}", case.no))
            .unwrap()
            .unwrap()
            .windows(9)
            .any(|s| s == b"%PDF-1.7\n")
    );
    let back = w.disputes().evidence(&tax_department(), &case.no).unwrap();
    assert_eq!((back.media_type, back.bytes), (EvidenceType::Pdf, pdf));
    assert_eq!(
        w.disputes()
            .evidence(&other_entity(), &case.no)
            .unwrap_err()
            .status(),
        404
    );
    let plain = w.penalty(samples::penalty("A-2", "2026-03-01"));
    let without = w.file(&plain);
    assert_eq!(
        w.disputes()
            .evidence(&entity(), &without.no)
            .unwrap_err()
            .status(),
        404
    );
}

#[test]
fn repair_before_the_minimum_period_names_the_date() {
    let w = World::new();
    // General: 3 months from 2026-09-01 is 2026-12-01; today is 2026-11-27.
    let id = w.penalty(samples::penalty("A-1", "2026-09-01"));
    let e = w
        .disputes()
        .apply_repair(&entity(), repair_application(&id), now())
        .unwrap_err();
    assert_eq!((e.status(), e.code()), (409, "REPAIR_NOT_YET_ALLOWED"));
    assert_eq!(e.to_problem()["available_on"], "2026-12-01");
    assert!(e.to_string().contains("2026-12-01"), "{e}");
    assert!(
        w.disputes()
            .apply_repair(&entity(), repair_application(&id), at(2026, 12, 1))
            .is_ok()
    );

    let mut serious = samples::penalty("A-2", "2026-01-15");
    serious["severity"] = json!("serious");
    let serious = w.penalty(serious);
    let e = w
        .disputes()
        .apply_repair(&entity(), repair_application(&serious), now())
        .unwrap_err();
    assert_eq!(e.to_problem()["available_on"], "2027-01-15");
    let mut minor = samples::penalty("A-3", "2026-11-27");
    minor["severity"] = json!("minor");
    let minor = w.penalty(minor);
    assert!(
        w.disputes()
            .apply_repair(&entity(), repair_application(&minor), now())
            .is_ok()
    );
}

#[test]
fn a_repair_not_decided_within_its_working_days_is_overdue() {
    let w = World::new();
    let id = w.penalty(samples::penalty("A-1", "2026-03-01"));
    let d = w.disputes();
    // Applied on Friday 2026-11-27 10:00: 5 working days is Friday 12-04 10:00.
    let case = d
        .apply_repair(&entity(), repair_application(&id), now())
        .unwrap();
    let due = at(2026, 12, 4);
    assert_eq!(case.answer_by.map(|by| by.to_utc()), Some(due));
    assert!(!case.overdue(due));
    assert!(case.overdue(due + Duration::seconds(1)));
    let view = case.view(due + Duration::seconds(1)).unwrap();
    assert_eq!(view["overdue"], true);
    assert_eq!(view["answer_by"], "2026-12-04T10:00:00+08:00");

    let overdue = CaseFilter {
        overdue_only: true,
        ..CaseFilter::default()
    };
    assert!(d.list_repairs(&admin(), &overdue, due).unwrap().is_empty());
    let late = due + Duration::days(1);
    assert_eq!(d.list_repairs(&admin(), &overdue, late).unwrap().len(), 1);
    // Decided, it is no longer overdue.
    let approved = d
        .approve_repair(&tax_department(), &case.no, None, late)
        .unwrap();
    assert!(!approved.overdue(late));
    assert!(d.list_repairs(&admin(), &overdue, late).unwrap().is_empty());

    // A case stored before repairs had a deadline is never overdue.
    let mut stored = serde_json::to_value(&approved).unwrap();
    stored["status"] = "applied".into();
    stored.as_object_mut().unwrap().remove("answer_by");
    let before: Repair = serde_json::from_value(stored).unwrap();
    assert!(!before.overdue(late + Duration::days(365)));
}

#[test]
fn approved_repair_marks_the_record_and_revokes_reports() {
    let w = World::new();
    let id = w.penalty(samples::penalty("A-1", "2026-03-01"));
    let report = w.report();
    let d = w.disputes();
    let case = d
        .apply_repair(&entity(), repair_application(&id), now())
        .unwrap();
    assert_eq!(
        (case.no.as_str(), case.status),
        ("XF20261127-000001", RepairStatus::Applied)
    );
    assert_eq!(
        case.available_on,
        "2026-06-01".parse::<NaiveDate>().unwrap()
    );
    // An objection cannot start while the repair is open.
    assert_eq!(
        d.file_objection(&entity(), filing(&id), now())
            .unwrap_err()
            .status(),
        409
    );
    assert_eq!(
        d.approve_repair(&market_department(), &case.no, None, now())
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(
        d.approve_repair(&entity(), &case.no, None, now())
            .unwrap_err()
            .status(),
        403
    );
    let approved = d
        .approve_repair(&tax_department(), &case.no, None, now())
        .unwrap();
    assert_eq!(approved.status, RepairStatus::Approved);
    assert_eq!(approved.revoked_reports, vec![report.clone()]);
    assert_eq!(w.status(&id), RecordStatus::Repaired);
    assert!(
        w.store()
            .report_status(&report)
            .unwrap()
            .unwrap()
            .reason
            .contains("信用修复")
    );
    let fresh = w.store().get_report(&w.report()).unwrap().unwrap();
    assert!(fresh.clean);
    assert_eq!(
        d.apply_repair(&entity(), repair_application(&id), now())
            .unwrap_err()
            .status(),
        409
    );
    assert_eq!(
        d.reject_repair(&tax_department(), &case.no, "x", now())
            .unwrap_err()
            .status(),
        409
    );
}

#[test]
fn rejected_repair_keeps_the_record_and_lists_by_scope() {
    let w = World::new();
    let id = w.penalty(samples::penalty("A-1", "2026-03-01"));
    let report = w.report();
    let d = w.disputes();
    let case = d
        .apply_repair(&entity(), repair_application(&id), now())
        .unwrap();
    let rejected = d
        .reject_repair(&tax_department(), &case.no, "罚款尚未缴清", now())
        .unwrap();
    assert_eq!(rejected.status, RepairStatus::Rejected);
    assert_eq!(w.status(&id), RecordStatus::Active);
    assert!(!w.revoked(&report));
    assert_eq!(rejected.view(now()).unwrap()["status_label"], "未通过");
    assert_eq!(
        d.list_repairs(&entity(), &CaseFilter::default(), now())
            .unwrap()
            .len(),
        1
    );
    assert!(
        d.list_repairs(&other_entity(), &CaseFilter::default(), now())
            .unwrap()
            .is_empty()
    );
    assert!(
        d.list_repairs(&market_department(), &CaseFilter::default(), now())
            .unwrap()
            .is_empty()
    );
    let open = CaseFilter {
        status: StatusFilter::Open,
        ..CaseFilter::default()
    };
    assert!(
        d.list_repairs(&tax_department(), &open, now())
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        d.repair(&other_entity(), &case.no).unwrap_err().status(),
        404
    );
    let listing = Record::from_json(&samples::listing("L-1", "2025-01-01", None)).unwrap();
    let listed = w.store().upsert_record(listing, "x", now()).unwrap().id;
    assert_eq!(
        d.apply_repair(&entity(), repair_application(&listed), now())
            .unwrap_err()
            .field(),
        Some("record_id")
    );
}

#[test]
fn keys_stay_short_and_cases_are_indexed_without_scans() {
    let w = World::new();
    let id = w.penalty(samples::penalty("A-1", "2026-03-01"));
    let case = w.file(&id);
    for key in [
        format!("case/{}", case.no),
        format!("rec/{id}/case"),
        format!("ent/{ENTITY}/obj/1"),
        "dom/tax/obj/1".to_owned(),
        "all/obj/1".to_owned(),
    ] {
        assert!(w.kv.exists(&key).unwrap(), "{key}");
    }
    assert!(w.kv.keys_with_prefix("").iter().all(|k| k.len() <= 250));
}

#[test]
fn an_objection_on_a_coercive_measure_withdraws_it_and_revokes_the_report() {
    let w = World::new();
    let measure = w.penalty(samples::coercive_measure(
        "永市监强〔2026〕3号",
        "2026-03-01",
        None,
    ));
    let report = w.report();
    let d = w.disputes();
    let case = w.file(&measure);
    assert_eq!(w.status(&measure), RecordStatus::UnderObjection);
    d.accept_objection(&market_department(), &case.no, now())
        .unwrap();
    let withdrawn = d
        .resolve_objection(
            &market_department(),
            &case.no,
            Resolution::Withdraw {
                reason: "查封决定已被行政复议撤销".into(),
            },
            now(),
        )
        .unwrap();
    assert_eq!(withdrawn.revoked_reports, vec![report.clone()]);
    assert_eq!(w.status(&measure), RecordStatus::Withdrawn);
}

#[test]
fn repair_does_not_apply_to_coercive_measures_nor_criminal_judgments() {
    let w = World::new();
    let d = w.disputes();
    for (record, says) in [
        (
            samples::coercive_measure("永市监强〔2025〕3号", "2025-03-01", None),
            "请向实施机关申请解除",
        ),
        (
            samples::criminal_judgment("（2025）甘0321刑初12号", "2025-02-10", "2025-02-25"),
            "审判监督程序",
        ),
    ] {
        let id = w.penalty(record);
        let refused = d
            .apply_repair(&entity(), repair_application(&id), now())
            .unwrap_err();
        assert_eq!(
            (refused.code(), refused.status(), refused.field()),
            ("REPAIR_NOT_APPLICABLE", 409, Some("record_id"))
        );
        assert!(refused.to_string().contains(says), "{refused}");
        assert_eq!(w.status(&id), RecordStatus::Active);
    }
}

#[test]
fn a_departments_domains_page_newest_first_without_gaps_or_repeats() {
    let kv = MemoryStore::new();
    let config = default_config();
    let d = Disputes::new(&kv, &config);
    let store = Store::new(&kv);
    let lists = [
        crate::store::keys::domain_cases("tax", CaseKind::Objection),
        crate::store::keys::domain_cases("customs", CaseKind::Objection),
        crate::store::keys::domain_cases("empty", CaseKind::Objection),
    ];
    let mut filed = Vec::new();
    for sequence in 1..=23u64 {
        let no = CaseNo::new(
            CaseKind::Objection,
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            sequence,
        );
        // Two domains' cases interleave, in filing order.
        let list = &lists[usize::from(sequence % 3 == 0)];
        store.append(list, &no.to_string()).unwrap();
        filed.push(no);
    }
    let mut listed = Vec::new();
    let mut page = crate::paging::PageRequest {
        cursor: None,
        limit: 5,
    };
    loop {
        let numbers = d
            .merged_page(crate::paging::Listing::Objections, &lists, &page)
            .unwrap();
        assert!(numbers.len() <= 5);
        listed.extend(numbers.items.iter().cloned());
        match numbers.next {
            Some(next) => page.cursor = Some(next),
            None => break,
        }
    }
    filed.reverse();
    assert_eq!(listed, filed);
}
