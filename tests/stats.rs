//! The figures through the real components: the collection accountability list
//! (`GET /api/v1/stats/collection`, JSON and CSV, per unit) and the usage figures
//! (`GET /api/v1/stats/usage`) after records are submitted, reports issued and verified by
//! code, batch and file, and an objection decided.

use chrono::{DateTime, Days, FixedOffset};
use integration_tests::fixtures::{
    admin, assert_problem, china_time, credit_code, days_ago, entity, pdf_of, store_all,
    tax_department, tax_penalty, today,
};
use integration_tests::{HostOptions, Reply, TestHost};
use serde_json::{Value, json};

const COLLECTION: &str = "/api/v1/stats/collection";

fn put_records_at(host: &TestHost, at: DateTime<FixedOffset>, items: &[Value]) -> Value {
    let auth = format!("Bearer {}", tax_department());
    let reply = host.at(at).request(
        "PUT",
        "/api/v1/records",
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        json!(items).to_string().as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

fn figures(reply: &Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

fn row<'a>(figures: &'a Value, domain: &str) -> &'a Value {
    figures["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["domain"] == domain)
        .unwrap_or_else(|| panic!("no row for {domain}: {figures}"))
}

fn unit<'a>(figures: &'a Value, name: &str) -> &'a Value {
    figures["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == name)
        .unwrap_or_else(|| panic!("no unit {name}: {figures}"))
}

fn penalties(row: &Value) -> &Value {
    row["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "penalty")
        .unwrap()
}

#[test]
fn collection_counts_a_units_submissions_and_rejections_and_flags_it_after_the_overdue_days() {
    integration_tests::skip_under_spin!("the days pass through the test clock");
    let host = TestHost::start(HostOptions::product().test_clock());
    let submitted = china_time(days_ago(60), 10, 0, 0);
    let (first, second) = (credit_code(81, 1), credit_code(81, 2));
    let mut bad_code = tax_penalty(
        &credit_code(81, 3),
        "永税罚〔2026〕803号",
        days_ago(70),
        "minor",
    );
    bad_code["uscc"] = json!("91350200776049653X");
    let mut missing = tax_penalty(
        &credit_code(81, 4),
        "永税罚〔2026〕804号",
        days_ago(70),
        "minor",
    );
    missing.as_object_mut().unwrap().remove("facts");
    let mut elsewhere = tax_penalty(
        &credit_code(81, 5),
        "永市监罚〔2026〕805号",
        days_ago(70),
        "minor",
    );
    elsewhere["domain"] = json!("market_regulation");
    let answer = put_records_at(
        &host,
        submitted,
        &[
            tax_penalty(&first, "永税罚〔2026〕801号", days_ago(70), "minor"),
            tax_penalty(&second, "永税罚〔2026〕802号", days_ago(70), "minor"),
            bad_code,
            missing,
            elsewhere,
        ],
    );
    assert_eq!(answer["summary"]["created"], 2, "{answer}");
    assert_eq!(answer["summary"]["rejected"], 3, "{answer}");
    let withdrawn_id = answer["results"][1]["id"].as_str().unwrap().to_owned();
    let withdrawal = host.at(submitted).request(
        "DELETE",
        &format!("/api/v1/records/{withdrawn_id}?reason=%E5%BD%95%E5%85%A5%E9%94%99%E8%AF%AF"),
        &[("authorization", &format!("Bearer {}", tax_department()))],
        b"",
    );
    assert_eq!(withdrawal.status, 200, "{}", withdrawal.text());

    // 29 days on: the department sees its own unit only, not yet overdue.
    let day_29 = submitted.checked_add_days(Days::new(29)).unwrap();
    let own = figures(&host.at(day_29).get_auth(COLLECTION, &tax_department()));
    let units = own["units"].as_array().unwrap();
    assert_eq!(units.len(), 1, "{own}");
    assert_eq!(units[0]["unit"], "县税务局");
    assert_eq!(units[0]["overdue"], false);
    assert_eq!(units[0]["days_since_submission"], 29);
    assert!(
        own["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["unit"] == "县税务局")
    );
    let tax = row(&own, "tax");
    assert_eq!(tax["submissions_30d"], 2, "{tax}");
    assert_eq!(tax["overdue"], false);
    let counts = penalties(tax);
    assert_eq!(counts["by_status"]["active"], 1, "{tax}");
    assert_eq!(counts["by_status"]["withdrawn"], 1, "{tax}");
    assert_eq!(counts["total"], 2);
    // Rejections by code, with examples that do not repeat the item.
    assert_eq!(tax["rejected_total"], 2, "{tax}");
    let codes: Vec<(&str, u64)> = tax["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["code"].as_str().unwrap(), r["count"].as_u64().unwrap()))
        .collect();
    assert!(codes.contains(&("INVALID_USCC", 1)), "{codes:?}");
    assert!(codes.contains(&("MISSING_FIELD", 1)), "{codes:?}");
    let example = &tax["rejected"][0]["examples"][0];
    assert!(example["index"].is_u64(), "{example}");
    assert!(
        !example.to_string().contains("91350200776049653X"),
        "{example}"
    );
    // The item naming another unit's domain counts against the submitting unit.
    assert_eq!(
        units[0]["rejected_elsewhere"][0]["code"], "FORBIDDEN",
        "{own}"
    );

    // 30 days on: flagged.
    let day_30 = submitted.checked_add_days(Days::new(30)).unwrap();
    let late = figures(&host.at(day_30).get_auth(COLLECTION, &tax_department()));
    assert_eq!(late["units"][0]["overdue"], true, "{late}");
    assert_eq!(row(&late, "tax")["overdue"], true);
    assert_eq!(late["overdue_days"], 30);

    // Another unit's list is not the department's to read.
    assert_problem(
        &host.at(day_29).get_auth(
            &format!("{COLLECTION}?unit=%E5%8E%BF%E5%B8%82%E5%9C%BA%E7%9B%91%E7%AE%A1%E5%B1%80"),
            &tax_department(),
        ),
        403,
        "FORBIDDEN",
    );
    assert_problem(
        &host.get_auth(COLLECTION, &entity(&first)),
        403,
        "FORBIDDEN",
    );

    // The administrator sees every unit; one that never submitted is flagged.
    let all = figures(&host.at(day_29).get_auth(COLLECTION, &admin()));
    assert!(all["units"].as_array().unwrap().len() > 20, "{all}");
    assert_eq!(unit(&all, "县税务局")["overdue"], false);
    assert_eq!(unit(&all, "县市场监管局")["overdue"], true);
    assert!(unit(&all, "县市场监管局")["last_submission_at"].is_null());
    assert_eq!(row(&all, "market_regulation")["submissions_30d"], 0);
}

#[test]
fn collection_comes_as_csv_with_a_bom_and_chinese_headers() {
    let host = TestHost::start(HostOptions::product());
    store_all(
        &host,
        &tax_department(),
        &[tax_penalty(
            &credit_code(82, 1),
            "永税罚〔2026〕821号",
            days_ago(10),
            "minor",
        )],
    );
    for reply in [
        host.get_auth(&format!("{COLLECTION}?format=csv"), &tax_department()),
        host.request(
            "GET",
            COLLECTION,
            &[
                ("authorization", &format!("Bearer {}", tax_department())),
                ("accept", "text/csv"),
            ],
            b"",
        ),
    ] {
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(
            reply.header("content-type"),
            Some("text/csv; charset=utf-8")
        );
        assert!(reply.body.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(reply.body[3..].to_vec()).unwrap();
        let mut lines = text.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("责任单位,数据领域,领域代码,最近报送时间")
        );
        let tax = lines.find(|l| l.contains(",tax,")).expect("a line for tax");
        assert!(tax.starts_with("县税务局,"), "{tax}");
        assert!(tax.ends_with(",否"), "{tax}");
    }
}

#[test]
fn usage_counts_reports_verifications_by_channel_and_a_decided_objection() {
    let host = TestHost::start(HostOptions::product());
    let (offender, clean) = (credit_code(83, 1), credit_code(83, 2));
    let id = store_all(
        &host,
        &tax_department(),
        &[tax_penalty(
            &offender,
            "永税罚〔2026〕831号",
            days_ago(30),
            "general",
        )],
    )
    .remove(0);
    let apply = |uscc: &str, purpose: &str| {
        let reply = host.post_json(
            "/api/v1/reports",
            &json!({"months": 12, "domains": "all", "purpose": purpose}),
            Some(&entity(uscc)),
        );
        assert_eq!(reply.status, 201, "{}", reply.text());
        reply.json()
    };
    let with_records = apply(&offender, "bidding");
    let without = apply(&clean, "listing");
    let domains = with_records["domains"].as_array().unwrap().len() as u64;

    let code = |report: &Value| report["verification_code"].clone();
    let by_code = host.post_json(
        "/api/v1/verify/code",
        &json!({"code": code(&with_records)}),
        None,
    );
    assert_eq!(by_code.status, 200, "{}", by_code.text());
    let batch = host.post_json(
        "/api/v1/verify/batch",
        &json!({"codes": [code(&with_records), code(&without)]}),
        None,
    );
    assert_eq!(batch.status, 200, "{}", batch.text());
    let pdf = pdf_of(&host, &without);
    let by_file = host.post("/api/v1/verify/file", "application/pdf", &pdf);
    assert_eq!(by_file.status, 200, "{}", by_file.text());

    let filed = host.post_json(
        "/api/v1/objections",
        &json!({"record_id": id, "ground": "error", "statement": "处罚对象有误，请核实"}),
        Some(&entity(&offender)),
    );
    assert_eq!(filed.status, 201, "{}", filed.text());
    let no = filed.json()["no"].as_str().unwrap().to_owned();
    let accepted = host.post_json(
        &format!("/api/v1/objections/{no}/accept"),
        &json!({}),
        Some(&tax_department()),
    );
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    let upheld = host.post_json(
        &format!("/api/v1/objections/{no}/resolve"),
        &json!({"action": "uphold", "reason": "经核实，处罚对象无误"}),
        Some(&tax_department()),
    );
    assert_eq!(upheld.status, 200, "{}", upheld.text());

    let month = today().format("%Y-%m").to_string();
    let usage = figures(&host.get_auth(
        &format!("/api/v1/stats/usage?from={month}&to={month}"),
        &admin(),
    ));
    assert_eq!(
        (usage["from"].as_str(), usage["to"].as_str()),
        (Some(month.as_str()), Some(month.as_str()))
    );
    let this_month = &usage["months"][0];
    assert_eq!(this_month["month"], month);
    assert_eq!(this_month["reports"], 2, "{this_month}");
    assert_eq!(this_month["with_records"], 1);
    assert_eq!(this_month["without_records"], 1);
    assert_eq!(this_month["share_with_records"], 0.5);
    assert_eq!(this_month["certificates_replaced"], 2 * domains);
    assert_eq!(this_month["by_edition"]["listing"], 1, "{this_month}");
    assert_eq!(this_month["by_edition"]["general"], 1);
    let verifications = &this_month["verifications"];
    assert_eq!(verifications["code"]["VALID"], 1, "{verifications}");
    assert_eq!(verifications["batch"]["VALID"], 2, "{verifications}");
    assert_eq!(verifications["file"]["VALID"], 1, "{verifications}");
    let objections = &this_month["cases"]["objection"];
    assert_eq!(objections["filed"], 1, "{objections}");
    assert_eq!(objections["decided"], 1);
    assert_eq!(objections["on_time"], 1);
    assert_eq!(objections["overdue"], 0);
    assert_eq!(objections["median_days"], 0);
    assert_eq!(usage["total"]["reports"], 2);

    assert_problem(
        &host.get_auth("/api/v1/stats/usage", &tax_department()),
        403,
        "FORBIDDEN",
    );
    assert_problem(
        &host.get_auth("/api/v1/stats/usage?from=2026-13", &admin()),
        400,
        "INVALID_FIELD",
    );
}
