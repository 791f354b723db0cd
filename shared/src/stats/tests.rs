use chrono::TimeZone;

use super::*;
use crate::kv::MemoryStore;
use crate::store::Store;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    // 02:00 UTC is 10:00 in China.
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

fn example(index: usize, now: DateTime<Utc>) -> RejectionExample {
    RejectionExample {
        at: in_china(now),
        field: Some("uscc".into()),
        line: None,
        index,
    }
}

fn batch(accepted: u64, created: u64, rejected: &[&str], now: DateTime<Utc>) -> BatchTally {
    BatchTally {
        accepted,
        created: [("penalty".to_owned(), created)]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .collect(),
        rejected: rejected
            .iter()
            .enumerate()
            .map(|(i, code)| ((*code).to_owned(), example(i, now)))
            .collect(),
    }
}

#[test]
fn a_domain_tally_counts_batches_statuses_and_rejections_by_code() {
    let kv = MemoryStore::new();
    let store = Store::new(&kv);
    store
        .tally_domain_batch("tax", &batch(3, 2, &["INVALID_USCC"], at(1, 2)), at(1, 2))
        .unwrap();
    let many: Vec<&str> = vec!["MISSING_FIELD"; 7];
    store
        .tally_domain_batch("tax", &batch(1, 0, &many, at(2, 2)), at(2, 2))
        .unwrap();
    store
        .tally_status_change(
            "tax",
            RecordKind::Penalty,
            RecordStatus::Active,
            RecordStatus::Withdrawn,
        )
        .unwrap();
    let tally = &store.domain_tallies(&["tax".into()]).unwrap()["tax"];
    assert_eq!(tally.last_submission_at, Some(in_china(at(2, 2))));
    assert_eq!(tally.records["penalty"]["active"], 1);
    assert_eq!(tally.records["penalty"]["withdrawn"], 1);
    assert_eq!(tally.rejected["INVALID_USCC"].count, 1);
    let missing = &tally.rejected["MISSING_FIELD"];
    assert_eq!(missing.count, 7);
    // Only the latest examples, and never the item's content.
    assert_eq!(missing.examples.len(), REJECTION_EXAMPLES);
    assert_eq!(missing.examples.last().unwrap().index, 6);
}

#[test]
fn collection_flags_units_without_a_submission_for_the_overdue_days() {
    let mut tax = DomainTally::default();
    tax.add_batch(&batch(4, 4, &["INVALID_USCC"], at(1, 2)), at(1, 2));
    let domains: BTreeMap<String, DomainTally> = [("tax".to_owned(), tax)].into();
    let units = vec!["县税务局".to_owned(), "县统计局".to_owned()];

    let figures = collection_figures(&units, &domains, &BTreeMap::new(), 30, at(20, 2));
    let tax_row = figures.rows.iter().find(|r| r.domain == "tax").unwrap();
    assert_eq!(tax_row.unit, "县税务局");
    assert_eq!(tax_row.submissions_30d, 4);
    assert_eq!(tax_row.days_since_submission, Some(19));
    assert_eq!(tax_row.rejected_total, 1);
    let penalty = tax_row
        .records
        .iter()
        .find(|k| k.kind == "penalty")
        .unwrap();
    assert_eq!((penalty.total, penalty.by_status["active"]), (4, 4));
    // Every kind of the model has its counts, zeros included.
    assert_eq!(tax_row.records.len(), RecordKind::ALL.len());
    assert!(!figures.units[0].overdue);
    // Never submitted: overdue from the start.
    assert!(figures.units[1].overdue);
    assert_eq!(figures.units[1].days_since_submission, None);

    // 30 days after the last submission the unit is flagged, and the
    // submission has left the 30-day window.
    let later = collection_figures(&units, &domains, &BTreeMap::new(), 30, at(30, 20));
    assert_eq!(later.units[0].days_since_submission, Some(30));
    assert!(later.units[0].overdue);
    assert_eq!(later.units[0].submissions_30d, 0);
    let day_before = collection_figures(&units, &domains, &BTreeMap::new(), 30, at(30, 2));
    assert!(!day_before.units[0].overdue);
    assert_eq!(day_before.units[0].submissions_30d, 4);
}

#[test]
fn collection_csv_has_a_bom_chinese_headers_and_a_line_per_row() {
    let units = vec!["县税务局".to_owned()];
    let figures = collection_figures(&units, &BTreeMap::new(), &BTreeMap::new(), 30, at(1, 2));
    let csv = collection_csv(&figures).unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("责任单位,数据领域,领域代码,最近报送时间"));
    assert!(header.contains("行政处罚·正常"));
    assert!(header.ends_with("逾期未报送"));
    let row = lines.next().unwrap();
    assert!(row.starts_with("县税务局,"), "{row}");
    assert!(row.ends_with(",是"), "{row}");
    assert_eq!(lines.next(), None);
}

#[test]
fn usage_sums_days_into_months_with_shares_certificates_and_case_medians() {
    let filed = in_china(at(2, 2));
    let mut first = DayTally::default();
    first.add_report("bidding", true, 3);
    first.add_report("bidding", false, 46);
    first.add_report("listing", false, 2);
    first.add_filed_case("objection");
    first.add_decided_case(
        "objection",
        filed,
        in_china(at(3, 2)),
        Some(in_china(at(4, 2))),
    );
    first.add_decided_case(
        "objection",
        filed,
        in_china(at(9, 2)),
        Some(in_china(at(4, 2))),
    );
    first.add_decided_case("repair", filed, in_china(at(12, 2)), None);
    let mut verifications = VerificationTally::default();
    verifications
        .0
        .entry("code".into())
        .or_default()
        .insert("VALID".into(), 2);
    let mut days = BTreeMap::new();
    days.insert(at(2, 2).date_naive(), (first, verifications));
    let months = usage_months(Some("2026-10"), Some("2026-11"), at(20, 2)).unwrap();
    let figures = usage_figures(&months, &days);

    assert_eq!(
        (figures.from.as_str(), figures.to.as_str()),
        ("2026-10", "2026-11")
    );
    assert_eq!(figures.months[0].reports, 0);
    let november = &figures.months[1];
    assert_eq!(november.reports, 3);
    assert_eq!((november.with_records, november.without_records), (1, 2));
    assert_eq!(november.certificates_replaced, 51);
    assert_eq!(november.by_edition["listing"], 1);
    assert_eq!(november.by_edition["general"], 2);
    let bidding = november
        .by_purpose
        .iter()
        .find(|p| p.purpose == "bidding")
        .unwrap();
    assert_eq!(
        (bidding.total, bidding.label.as_str()),
        (2, "商务应用·招标投标")
    );
    assert_eq!(november.verifications["code"]["VALID"], 2);
    let objections = &november.cases["objection"];
    assert_eq!((objections.filed, objections.decided), (1, 2));
    assert_eq!((objections.on_time, objections.overdue), (1, 1));
    assert_eq!(objections.median_days, Some(1));
    let repairs = &november.cases["repair"];
    assert_eq!(
        (repairs.on_time, repairs.overdue, repairs.median_days),
        (0, 0, Some(10))
    );
    assert_eq!(figures.total.reports, 3);
}

#[test]
fn usage_months_default_to_the_last_twelve_and_refuse_bad_ranges() {
    let months = usage_months(None, None, at(20, 2)).unwrap();
    assert_eq!(months.len(), 12);
    assert_eq!(months[0].to_string(), "2025-12");
    assert_eq!(months[11].to_string(), "2026-11");
    for (from, to) in [
        (Some("2026-12"), Some("2026-11")),
        (Some("2026-13"), None),
        (Some("2026-1"), None),
        (Some("2020-01"), Some("2026-01")),
    ] {
        let error = usage_months(from, to, at(20, 2)).unwrap_err();
        assert_eq!(error.code(), "INVALID_FIELD", "{from:?} {to:?}");
    }
}

#[test]
fn a_verification_tally_counts_channels_and_each_code_of_a_batch() {
    use crate::audit::AuditEntry;
    let entry = |action: &str, outcome: &str, details: Value| AccessEntry {
        entry: AuditEntry::new(None, action, outcome, at(1, 2)).details(details),
        cost: 1,
    };
    let mut tally = VerificationTally::default();
    tally.add_entry(&entry("verify.code", "VALID", Value::Null));
    tally.add_entry(&entry("verify.file", "TAMPERED", Value::Null));
    tally.add_entry(&entry(
        "verify.batch",
        "2 codes",
        serde_json::json!({"results": [{"outcome": "VALID"}, {"outcome": "NOT_FOUND"}]}),
    ));
    assert_eq!(tally.0["code"]["VALID"], 1);
    assert_eq!(tally.0["file"]["TAMPERED"], 1);
    assert_eq!(tally.0["batch"]["VALID"], 1);
    assert_eq!(tally.0["batch"]["NOT_FOUND"], 1);
}
