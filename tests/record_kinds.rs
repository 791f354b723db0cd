//! The two kinds 发改财金〔2025〕565号 adds, through the real components: administrative
//! coercive measures (supplied by the enforcing unit) and criminal judgments (supplied by
//! the court) arrive as JSON, NDJSON and CSV, count in reports (a lifted measure does not),
//! are printed in the PDF, take objections but not repair, and their switches leave them
//! stored but out of reports.

use std::process::Command;

use chrono::NaiveDate;
use integration_tests::fixtures::{
    assert_problem, authority_uscc, credit_code, csv_row, days_ago, department, entity,
    issue_report, months_ago, pdf_of, records_of, store_all,
};
use integration_tests::{HostOptions, Reply, TestHost};
use serde_json::{Value, json};

const MARKET: &str = "县市场监管局";
const COURT: &str = "县人民法院";

fn coercive_measure(
    uscc: &str,
    document_no: &str,
    decided_on: NaiveDate,
    lifted_on: Option<NaiveDate>,
) -> Value {
    json!({
        "kind": "coercive_measure", "domain": "market_regulation", "document_no": document_no,
        "entity_name": "永昌县测试商贸有限公司", "uscc": uscc,
        "measure_types": ["seal_up", "seize"], "cause": "涉嫌生产销售不符合安全标准的产品",
        "legal_basis": "《中华人民共和国产品质量法》第十八条",
        "decided_on": decided_on.to_string(), "lifted_on": lifted_on.map(|d| d.to_string()),
        "authority": "永昌县市场监督管理局", "authority_uscc": authority_uscc(),
        "source_unit": MARKET, "source_unit_uscc": authority_uscc()
    })
}

fn criminal_judgment(
    uscc: &str,
    document_no: &str,
    judged_on: NaiveDate,
    effective_on: NaiveDate,
) -> Value {
    json!({
        "kind": "criminal_judgment", "domain": "criminal_judgment", "document_no": document_no,
        "entity_name": "永昌县测试商贸有限公司", "uscc": uscc,
        "authority": "永昌县人民法院", "authority_uscc": authority_uscc(),
        "charges": "虚开增值税专用发票罪", "verdict": "判处被告单位罚金人民币二十万元",
        "judged_on": judged_on.to_string(), "effective_on": effective_on.to_string(),
        "unit_crime": true, "source_unit": COURT, "source_unit_uscc": authority_uscc()
    })
}

fn put(host: &TestHost, bearer: &str, content_type: &str, body: &[u8]) -> Value {
    let reply = host.request(
        "PUT",
        "/api/v1/records",
        &[
            ("content-type", content_type),
            ("authorization", &format!("Bearer {bearer}")),
        ],
        body,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

fn statuses(answer: &Value) -> Vec<String> {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect()
}

/// The kind's CSV template header and one row of `record` under it, as a
/// spreadsheet writes the cells (arrays joined by ；, flags 是/否).
fn csv_of(host: &TestHost, kind: &str, records: &[Value]) -> String {
    let template = host.get(&format!("/api/v1/records/templates/{kind}"));
    assert_eq!(template.status, 200, "{}", template.text());
    let header = template.text();
    let header = header.trim_start_matches('\u{feff}').trim_end().to_owned();
    let catalog = host.get("/api/v1/catalog").json();
    let columns: Vec<&str> = header.split(',').collect();
    let mut text = format!("{header}\r\n");
    for record in records {
        text.push_str(&csv_row(&columns, record, &catalog, kind));
        text.push_str("\r\n");
    }
    text
}

fn documents_under(report: &Value, domain: &str) -> Vec<String> {
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["domain"] == domain)
        .unwrap_or_else(|| panic!("no finding for {domain}: {report}"));
    let mut docs: Vec<String> = finding["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["document_no"].as_str().unwrap().to_owned())
        .collect();
    docs.sort();
    docs
}

/// The PDF's text as a reader extracts it, without whitespace.
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils, `make setup`)");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

#[test]
fn both_kinds_arrive_as_json_ndjson_and_csv_count_in_the_report_and_are_printed() {
    let host = TestHost::start(HostOptions::product());
    let uscc = credit_code(81, 1);
    let market = department(MARKET);
    let court = department(COURT);

    // JSON: a measure in force and one lifted yesterday; a judgment that took effect
    // 13 months ago (outside a 12-month report) and one pronounced 14 months ago that
    // took effect inside.
    store_all(
        &host,
        &market,
        &[
            coercive_measure(&uscc, "永市监强〔2026〕1号", days_ago(40), None),
            coercive_measure(
                &uscc,
                "永市监强〔2026〕2号",
                days_ago(40),
                Some(days_ago(1)),
            ),
        ],
    );
    store_all(
        &host,
        &court,
        &[
            criminal_judgment(
                &uscc,
                "（2025）甘0321刑初1号",
                months_ago(14),
                months_ago(13),
            ),
            criminal_judgment(
                &uscc,
                "（2025）甘0321刑初2号",
                months_ago(14),
                months_ago(11),
            ),
        ],
    );
    // NDJSON: a measure whose 解除日期 comes before its decision is rejected on that field.
    let lines = [
        coercive_measure(&uscc, "永市监强〔2026〕3号", days_ago(20), None).to_string(),
        coercive_measure(
            &uscc,
            "永市监强〔2026〕4号",
            days_ago(20),
            Some(days_ago(21)),
        )
        .to_string(),
    ];
    let answer = put(
        &host,
        &market,
        "application/x-ndjson",
        lines.join("\n").as_bytes(),
    );
    assert_eq!(statuses(&answer), ["created", "rejected"], "{answer}");
    assert_eq!(answer["results"][1]["problem"]["field"], "lifted_on");
    // CSV from each kind's template, with the template's Chinese columns.
    let mut by_word = coercive_measure(&uscc, "永市监强〔2026〕5号", days_ago(10), None);
    by_word["measure_types"] = json!(["冻结"]);
    let csv = csv_of(&host, "coercive_measure", &[by_word]);
    assert!(csv.starts_with(
        "记录类型,领域,行政相对人名称,统一社会信用代码,行政强制决定书文号,强制措施种类"
    ));
    let answer = put(&host, &market, "text/csv; charset=utf-8", csv.as_bytes());
    assert_eq!(statuses(&answer), ["created"], "{answer}");
    let csv = csv_of(
        &host,
        "criminal_judgment",
        &[criminal_judgment(
            &uscc,
            "（2026）甘0321刑初3号",
            days_ago(30),
            days_ago(15),
        )],
    );
    assert!(csv.contains(
        "案号,审理法院,审理法院统一社会信用代码,罪名,判决结果,判决日期,生效日期,是否单位犯罪"
    ));
    let answer = put(&host, &court, "text/csv; charset=utf-8", csv.as_bytes());
    assert_eq!(statuses(&answer), ["created"], "{answer}");

    // The record views carry the kinds' own fields.
    let records = records_of(&host, &uscc);
    assert_eq!(records.len(), 7);
    let frozen = records
        .iter()
        .find(|r| r["document_no"] == "永市监强〔2026〕5号")
        .unwrap();
    assert_eq!(frozen["measure_types"], json!(["freeze"]));
    assert_eq!(frozen["lifted_on"], Value::Null);
    let judged = records
        .iter()
        .find(|r| r["document_no"] == "（2026）甘0321刑初3号")
        .unwrap();
    assert_eq!(
        (&judged["unit_crime"], &judged["effective_on"]),
        (&json!(true), &json!(days_ago(15).to_string()))
    );

    let report = issue_report(&host, &uscc);
    assert_eq!(report["clean"], false);
    assert_eq!(
        documents_under(&report, "market_regulation"),
        [
            "永市监强〔2026〕1号",
            "永市监强〔2026〕3号",
            "永市监强〔2026〕5号"
        ]
    );
    assert_eq!(
        documents_under(&report, "criminal_judgment"),
        ["（2025）甘0321刑初2号", "（2026）甘0321刑初3号"]
    );

    let text = pdf_text(&pdf_of(&host, &report));
    for printed in [
        "行政强制措施",
        "永市监强〔2026〕1号",
        "冻结存款、汇款",
        "未解除",
        "刑事裁判",
        "（2026）甘0321刑初3号",
        "虚开增值税专用发票罪",
        "是否单位犯罪",
    ] {
        assert!(text.contains(printed), "{printed} missing from:\n{text}");
    }
    for left_out in ["永市监强〔2026〕2号", "（2025）甘0321刑初1号"] {
        assert!(!text.contains(left_out), "{left_out} printed:\n{text}");
    }
}

#[test]
fn switched_off_kinds_are_stored_but_neither_counted_nor_printed() {
    let host = TestHost::start(
        HostOptions::product()
            .variable("include_coercive_measures", "false")
            .variable("include_criminal_judgments", "false"),
    );
    let uscc = credit_code(81, 2);
    store_all(
        &host,
        &department(MARKET),
        &[coercive_measure(
            &uscc,
            "永市监强〔2026〕21号",
            days_ago(5),
            None,
        )],
    );
    store_all(
        &host,
        &department(COURT),
        &[criminal_judgment(
            &uscc,
            "（2026）甘0321刑初21号",
            days_ago(30),
            days_ago(10),
        )],
    );
    assert_eq!(records_of(&host, &uscc).len(), 2);
    let report = issue_report(&host, &uscc);
    assert_eq!(report["clean"], true, "{report}");
    assert_eq!(report["rules"]["include_coercive_measures"], false);
    assert_eq!(report["rules"]["include_criminal_judgments"], false);
    let text = pdf_text(&pdf_of(&host, &report));
    assert!(text.contains("行政强制措施不列入本报告"), "{text}");
    assert!(text.contains("刑事裁判不列入本报告"), "{text}");
    assert!(!text.contains("永市监强〔2026〕21号"));
    assert!(!text.contains("（2026）甘0321刑初21号"));
}

fn post(host: &TestHost, path: &str, body: Value, bearer: &str) -> Reply {
    host.post_json(path, &body, Some(bearer))
}

#[test]
fn an_objection_is_filed_on_a_judgment_and_repair_is_refused_for_both_kinds() {
    let host = TestHost::start(HostOptions::product());
    let uscc = credit_code(81, 3);
    let measure = store_all(
        &host,
        &department(MARKET),
        &[coercive_measure(
            &uscc,
            "永市监强〔2026〕31号",
            days_ago(200),
            None,
        )],
    );
    let judgment = store_all(
        &host,
        &department(COURT),
        &[criminal_judgment(
            &uscc,
            "（2026）甘0321刑初31号",
            days_ago(200),
            days_ago(180),
        )],
    );
    let objection = post(
        &host,
        "/api/v1/objections",
        json!({"record_id": judgment[0], "ground": "error", "statement": "本公司不是该案被告单位"}),
        &entity(&uscc),
    );
    assert_eq!(objection.status, 201, "{}", objection.text());
    let shown = records_of(&host, &uscc);
    let objected = shown
        .iter()
        .find(|r| r["id"] == judgment[0].as_str())
        .unwrap();
    assert_eq!(objected["status"], "under_objection");
    let court_cases = host.get_auth("/api/v1/objections", &department(COURT));
    assert_eq!(court_cases.status, 200, "{}", court_cases.text());
    assert_eq!(
        court_cases.json()["count"],
        1,
        "the court answers the objection"
    );

    for (id, says) in [(&measure[0], "实施机关"), (&judgment[0], "审判监督程序")] {
        let reply = post(
            &host,
            "/api/v1/repairs",
            json!({"record_id": id, "statement": "已整改"}),
            &entity(&uscc),
        );
        let problem = assert_problem(&reply, 409, "REPAIR_NOT_APPLICABLE");
        assert_eq!(problem["field"], "record_id");
        assert!(
            problem["detail"].as_str().unwrap().contains(says),
            "{problem}"
        );
    }
}
