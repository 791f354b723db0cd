//! Objections (异议申诉) and credit repair (信用修复) through the real components on the local
//! host: entities file, the responsible department decides, and reports that showed a corrected,
//! withdrawn or repaired record verify as REVOKED.

use base64::Engine;
use chrono::{DateTime, Days, FixedOffset, Months};
use integration_tests::fixtures::{
    AUTHORISATION_REF, Body, admin, assert_bad_requests, assert_problem, bad, china_time,
    credit_code, days_ago, department, entity, monday_weeks_ago, months_ago, records_of, staff,
    store_records, tax_department, tax_penalty, today,
};
use integration_tests::{HostOptions, Reply, TestHost};
use serde_json::{Value, json};

fn market() -> String {
    department("县市场监管局")
}

/// Stores new records with the tax department's token; returns their ids.
fn store(host: &TestHost, items: &[Value]) -> Vec<String> {
    store_records(host, &tax_department(), items, &["created", "updated"])
}

fn record(host: &TestHost, uscc: &str, id: &str) -> Value {
    records_of(host, uscc)
        .into_iter()
        .find(|r| r["id"] == id)
        .unwrap_or(Value::Null)
}

fn report(host: &TestHost, bearer: &str) -> Value {
    let reply = host.post_json(
        "/api/v1/reports",
        &json!({"months": 12, "domains": "all", "purpose": "bidding"}),
        Some(bearer),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()
}

fn shown_records(report: &Value) -> Vec<Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["records"].as_array().unwrap().clone())
        .collect()
}

fn verify(host: &TestHost, report: &Value) -> Value {
    let reply = host.post_json(
        "/api/v1/verify/code",
        &json!({"code": report["verification_code"]}),
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

fn post(host: &TestHost, path: &str, body: Value, bearer: &str) -> Reply {
    host.post_json(path, &body, Some(bearer))
}

fn object(host: &TestHost, bearer: &str, body: Value) -> Value {
    let reply = post(host, "/api/v1/objections", body, bearer);
    assert_eq!(reply.status, 201, "{}", reply.text());
    let case = reply.json();
    let no = case["no"].as_str().unwrap();
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/objections/{no}").as_str())
    );
    case
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn listed(reply: &Reply, key: &str) -> Vec<Value> {
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()[key].as_array().unwrap().clone()
}

#[test]
fn an_accepted_objection_corrects_the_record_revokes_the_old_report_and_the_new_one_is_clean() {
    let host = TestHost::start(HostOptions::product());
    let uscc = credit_code(71, 1);
    let real_offender = credit_code(71, 2);
    let penalty = tax_penalty(&uscc, "永税罚〔2026〕701号", days_ago(40), "general");
    let id = store(&host, std::slice::from_ref(&penalty)).remove(0);
    let before = report(&host, &entity(&uscc));
    assert_eq!(before["clean"], false);

    let evidence = b"%PDF-1.4\n% evidence: the penalty names another company\n".to_vec();
    let case = object(
        &host,
        &entity(&uscc),
        json!({"record_id": id, "ground": "error", "statement": "该处罚的当事人并非本公司，统一社会信用代码录入错误",
               "evidence": base64(&evidence)}),
    );
    let no = case["no"].as_str().unwrap().to_owned();
    assert!(
        no.starts_with(&format!("YY{}", today().format("%Y%m%d"))),
        "{no}"
    );
    assert_eq!(case["status"], "filed");
    assert_eq!(case["status_label"], "待受理");
    assert_eq!(case["ground_label"], "错误");
    assert_eq!(case["overdue"], false);
    assert!(
        case["accept_by"].as_str().unwrap() > case["filed_at"].as_str().unwrap(),
        "{case}"
    );
    assert_eq!(case["evidence"]["media_type"], "application/pdf");
    assert_eq!(case["evidence"]["size"], evidence.len());
    assert_eq!(record(&host, &uscc, &id)["status"], "under_objection");

    // While open, a new report shows the record labelled 异议处理中.
    let during = report(&host, &entity(&uscc));
    assert_eq!(
        shown_records(&during)[0]["status_label"],
        "异议处理中",
        "{during}"
    );

    // The tax department sees it among its open cases, with its evidence but not inside the listing.
    let open = listed(
        &host.get_auth("/api/v1/objections?status=open", &tax_department()),
        "objections",
    );
    let mine = open
        .iter()
        .find(|c| c["no"] == no.as_str())
        .expect("listed for the department");
    assert!(!mine.to_string().contains(&base64(&evidence)));
    let file = host.get_auth(
        &format!("/api/v1/objections/{no}/evidence"),
        &tax_department(),
    );
    assert_eq!(file.status, 200);
    assert_eq!(file.header("content-type"), Some("application/pdf"));
    assert_eq!(file.body, evidence);
    // Evidence comes from the public: a download only, never rendered inline, never sniffed
    // into another type, and inert even if a browser opened it.
    let disposition = file.header("content-disposition").unwrap_or_default();
    assert!(
        disposition.starts_with("attachment;")
            && disposition.contains(&format!("{no}-evidence.pdf")),
        "{disposition}"
    );
    assert_eq!(file.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        file.header("content-security-policy"),
        Some("default-src 'none'; sandbox")
    );

    let accepted = post(
        &host,
        &format!("/api/v1/objections/{no}/accept"),
        json!({}),
        &tax_department(),
    );
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    assert_eq!(accepted.json()["status"], "accepted");
    assert!(accepted.json()["answer_by"].is_string());

    let mut corrected = penalty.clone();
    corrected["uscc"] = json!(real_offender);
    corrected["entity_name"] = json!("永昌县真实当事人有限公司");
    let resolved = post(
        &host,
        &format!("/api/v1/objections/{no}/resolve"),
        json!({"action": "correct", "record": corrected}),
        &tax_department(),
    );
    assert_eq!(resolved.status, 200, "{}", resolved.text());
    let resolved = resolved.json();
    assert_eq!(resolved["status"], "corrected");
    let revoked: Vec<&str> = resolved["revoked_reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    for r in [&before, &during] {
        assert!(
            revoked.contains(&r["report_no"].as_str().unwrap()),
            "{resolved}"
        );
        let verification = verify(&host, r);
        assert_eq!(verification["outcome"], "REVOKED", "{verification}");
        assert!(
            verification["reason"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "{verification}"
        );
    }
    assert_eq!(record(&host, &real_offender, &id)["status"], "active");

    let after = report(&host, &entity(&uscc));
    assert_eq!(after["clean"], true, "{after}");
    assert_eq!(verify(&host, &after)["outcome"], "VALID");

    let seen = host.get_auth(&format!("/api/v1/objections/{no}"), &entity(&uscc));
    assert_eq!(seen.status, 200, "{}", seen.text());
    assert_eq!(seen.json()["status_label"], "已办结：记录已更正");
    assert_problem(
        &post(
            &host,
            &format!("/api/v1/objections/{no}/accept"),
            json!({}),
            &tax_department(),
        ),
        409,
        "CONFLICT",
    );
}

#[test]
fn a_rejected_objection_leaves_the_record_and_its_report_valid() {
    let host = TestHost::start(HostOptions::product());
    let uscc = credit_code(72, 1);
    let id = store(
        &host,
        &[tax_penalty(
            &uscc,
            "永税罚〔2026〕702号",
            days_ago(30),
            "general",
        )],
    )
    .remove(0);
    let shown = report(&host, &entity(&uscc));
    let original = record(&host, &uscc, &id);
    let case = object(
        &host,
        &entity(&uscc),
        json!({"record_id": id, "ground": "不应公示", "statement": "罚款已缴纳"}),
    );
    let no = case["no"].as_str().unwrap();

    let path = format!("/api/v1/objections/{no}/reject");
    assert_problem(
        &post(&host, &path, json!({}), &tax_department()),
        400,
        "MISSING_FIELD",
    );
    let rejected = post(
        &host,
        &path,
        json!({"reason": "缴纳罚款不属于撤销公示的法定情形"}),
        &tax_department(),
    );
    assert_eq!(rejected.status, 200, "{}", rejected.text());
    assert_eq!(rejected.json()["status"], "rejected");
    assert_eq!(
        rejected.json()["decision_reason"],
        "缴纳罚款不属于撤销公示的法定情形"
    );

    let now = record(&host, &uscc, &id);
    assert_eq!(now["status"], "active");
    for field in [
        "document_no",
        "facts",
        "fine_wan_yuan",
        "decided_on",
        "uscc",
    ] {
        assert_eq!(now[field], original[field], "{field}");
    }
    assert_eq!(verify(&host, &shown)["outcome"], "VALID");
    assert_problem(
        &post(
            &host,
            &format!("/api/v1/objections/{no}/resolve"),
            json!({"action": "uphold", "reason": "x"}),
            &tax_department(),
        ),
        409,
        "CONFLICT",
    );
}

#[test]
fn an_upheld_objection_keeps_reports_valid_and_a_withdrawal_revokes_them() {
    let host = TestHost::start(HostOptions::product());
    let uscc = credit_code(73, 1);
    let ids = store(
        &host,
        &[
            tax_penalty(&uscc, "永税罚〔2026〕731号", days_ago(30), "general"),
            tax_penalty(&uscc, "永税罚〔2026〕732号", days_ago(20), "general"),
        ],
    );
    let shown = report(&host, &entity(&uscc));
    let decide = |id: &str, resolution: Value| {
        let case = object(
            &host,
            &entity(&uscc),
            json!({"record_id": id, "ground": "duplicate", "statement": "重复公示"}),
        );
        let no = case["no"].as_str().unwrap().to_owned();
        assert_eq!(
            post(
                &host,
                &format!("/api/v1/objections/{no}/accept"),
                json!({}),
                &tax_department()
            )
            .status,
            200
        );
        let reply = post(
            &host,
            &format!("/api/v1/objections/{no}/resolve"),
            resolution,
            &tax_department(),
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    };
    let upheld = decide(
        &ids[0],
        json!({"action": "uphold", "reason": "两条记录为不同违法行为"}),
    );
    assert_eq!(
        (
            upheld["status"].as_str(),
            upheld["revoked_reports"].as_array().unwrap().len()
        ),
        (Some("upheld"), 0)
    );
    assert_eq!(record(&host, &uscc, &ids[0])["status"], "active");
    assert_eq!(verify(&host, &shown)["outcome"], "VALID");

    let withdrawn = decide(
        &ids[1],
        json!({"action": "withdraw", "reason": "与永税罚〔2026〕731号重复"}),
    );
    assert_eq!(withdrawn["status"], "withdrawn");
    assert_eq!(record(&host, &uscc, &ids[1])["status"], "withdrawn");
    let verification = verify(&host, &shown);
    assert_eq!(verification["outcome"], "REVOKED");
    // The public learns the fixed category, not the unit's words.
    assert_eq!(verification["reason_code"], "OBJECTION_UPHELD");
    assert_eq!(verification["reason"], "异议成立");
    assert!(!verification.to_string().contains("重复"), "{verification}");
}

#[test]
fn a_repair_applied_for_too_early_is_refused_with_the_date_it_becomes_possible() {
    let host = TestHost::start(HostOptions::product());
    let uscc = credit_code(74, 1);
    let general_on = days_ago(10);
    let serious_on = months_ago(6);
    let ids = store(
        &host,
        &[
            tax_penalty(&uscc, "永税罚〔2026〕741号", general_on, "general"),
            tax_penalty(&uscc, "永税罚〔2026〕742号", serious_on, "serious"),
        ],
    );
    for (id, decided_on, months) in [(&ids[0], general_on, 3), (&ids[1], serious_on, 12)] {
        let reply = post(
            &host,
            "/api/v1/repairs",
            json!({"record_id": id, "statement": "已整改"}),
            &entity(&uscc),
        );
        let problem = assert_problem(&reply, 409, "REPAIR_NOT_YET_ALLOWED");
        let available_on = decided_on
            .checked_add_months(Months::new(months))
            .unwrap()
            .to_string();
        assert_eq!(problem["available_on"], available_on.as_str());
        assert!(
            problem["detail"].as_str().unwrap().contains(&available_on),
            "{problem}"
        );
    }
    assert!(listed(&host.get_auth("/api/v1/repairs", &entity(&uscc)), "repairs").is_empty());
}

#[test]
fn an_approved_repair_drops_the_record_from_new_reports_and_revokes_old_ones() {
    let host = TestHost::start(HostOptions::product());
    let uscc = credit_code(75, 1);
    let id = store(
        &host,
        &[tax_penalty(
            &uscc,
            "永税罚〔2026〕751号",
            months_ago(4),
            "general",
        )],
    )
    .remove(0);
    let before = report(&host, &entity(&uscc));
    assert_eq!(before["clean"], false);

    let reply = post(
        &host,
        "/api/v1/repairs",
        json!({"record_id": id, "statement": "已缴清罚款并完成整改，承诺守法经营"}),
        &entity(&uscc),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    let case = reply.json();
    let no = case["no"].as_str().unwrap().to_owned();
    assert!(no.starts_with("XF"), "{no}");
    assert_eq!(case["status"], "applied");
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/repairs/{no}").as_str())
    );
    let pending = listed(
        &host.get_auth("/api/v1/repairs?status=applied", &tax_department()),
        "repairs",
    );
    assert!(pending.iter().any(|c| c["no"] == no.as_str()));

    let approve = format!("/api/v1/repairs/{no}/approve");
    assert_problem(
        &post(&host, &approve, json!({}), &market()),
        404,
        "NOT_FOUND",
    );
    assert_problem(
        &post(&host, &approve, json!({}), &entity(&uscc)),
        403,
        "FORBIDDEN",
    );
    let approved = post(
        &host,
        &approve,
        json!({"reason": "已履行处罚决定，整改到位"}),
        &tax_department(),
    );
    assert_eq!(approved.status, 200, "{}", approved.text());
    assert_eq!(approved.json()["status"], "approved");
    assert_eq!(
        approved.json()["revoked_reports"],
        json!([before["report_no"]])
    );
    assert_eq!(record(&host, &uscc, &id)["status"], "repaired");

    let verification = verify(&host, &before);
    assert_eq!(verification["outcome"], "REVOKED");
    assert!(
        verification["reason"]
            .as_str()
            .unwrap()
            .contains("信用修复"),
        "{verification}"
    );
    let after = report(&host, &entity(&uscc));
    assert_eq!(after["clean"], true, "{after}");
    assert_problem(
        &post(
            &host,
            &format!("/api/v1/repairs/{no}/reject"),
            json!({"reason": "x"}),
            &tax_department(),
        ),
        409,
        "CONFLICT",
    );
}

#[test]
fn with_show_repaired_records_a_repaired_record_is_printed_labelled() {
    let host = TestHost::start(HostOptions::product().variable("show_repaired_records", "true"));
    let uscc = credit_code(76, 1);
    let id = store(
        &host,
        &[tax_penalty(
            &uscc,
            "永税罚〔2026〕761号",
            months_ago(4),
            "general",
        )],
    )
    .remove(0);
    let case = post(
        &host,
        "/api/v1/repairs",
        json!({"record_id": id, "statement": "已整改"}),
        &entity(&uscc),
    )
    .json();
    let no = case["no"].as_str().unwrap();
    assert_eq!(
        post(
            &host,
            &format!("/api/v1/repairs/{no}/approve"),
            json!({}),
            &tax_department()
        )
        .status,
        200
    );
    let after = report(&host, &entity(&uscc));
    assert_eq!(
        shown_records(&after)[0]["status_label"],
        "已修复",
        "{after}"
    );
}

#[test]
fn an_objection_not_accepted_in_time_is_listed_as_overdue() {
    integration_tests::skip_under_spin!("deadlines are reached through the test clock");
    // The default deadlines: 2 working days to accept, then 10 to answer.
    let host = TestHost::start(HostOptions::product().test_clock());
    let uscc = credit_code(77, 1);
    let ids = store(
        &host,
        &[
            tax_penalty(&uscc, "永税罚〔2026〕771号", days_ago(60), "general"),
            tax_penalty(&uscc, "永税罚〔2026〕772号", days_ago(61), "general"),
        ],
    );
    let monday = monday_weeks_ago(5);
    let day = |n: u64| monday.checked_add_days(Days::new(n)).unwrap();
    let filed = host.at(china_time(monday, 9, 0, 0));
    let file = |id: &str| {
        let reply = filed.post_json(
            "/api/v1/objections",
            &json!({"record_id": id, "ground": "error", "statement": "金额有误"}),
            Some(&entity(&uscc)),
        );
        assert_eq!(reply.status, 201, "{}", reply.text());
        reply.json()
    };
    let late = file(&ids[0]);
    let handled = file(&ids[1]);
    let accept_by = DateTime::parse_from_rfc3339(late["accept_by"].as_str().unwrap()).unwrap();
    assert_eq!(accept_by, china_time(day(2), 9, 0, 0));
    let handled_no = handled["no"].as_str().unwrap();
    let accepted = filed.post_json(
        &format!("/api/v1/objections/{handled_no}/accept"),
        &json!({}),
        Some(&tax_department()),
    );
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    let late_no = late["no"].as_str().unwrap();

    let overdue_at = |at: DateTime<FixedOffset>, bearer: &str| -> Vec<String> {
        let reply = host
            .at(at)
            .get_auth("/api/v1/objections?overdue=true", bearer);
        listed(&reply, "objections")
            .iter()
            .map(|c| c["no"].as_str().unwrap().to_owned())
            .collect()
    };
    // Due on Wednesday at the time of filing: not overdue at that moment, overdue right after.
    assert!(overdue_at(china_time(day(2), 9, 0, 0), &admin()).is_empty());
    for bearer in [tax_department(), admin()] {
        assert_eq!(overdue_at(china_time(day(2), 9, 0, 1), &bearer), [late_no]);
    }
    assert!(overdue_at(china_time(day(2), 9, 0, 1), &market()).is_empty());
    let own = listed(
        &host
            .at(china_time(day(2), 9, 0, 1))
            .get_auth("/api/v1/objections", &entity(&uscc)),
        "objections",
    );
    assert_eq!(own.len(), 2);
    let overdue: Vec<&str> = own
        .iter()
        .filter(|c| c["overdue"] == true)
        .map(|c| c["no"].as_str().unwrap())
        .collect();
    assert_eq!(overdue, [late_no]);
    // Accepted on Monday, the answer is due ten working days later: the Monday two weeks on.
    assert_eq!(
        overdue_at(china_time(day(14), 9, 0, 0), &admin()),
        [late_no]
    );
    let mut both = overdue_at(china_time(day(14), 9, 1, 0), &admin());
    both.sort();
    let mut expected = [late_no, handled_no];
    expected.sort();
    assert_eq!(both, expected);
}

#[test]
fn a_repair_not_decided_in_time_is_listed_as_overdue_with_the_configured_deadline() {
    integration_tests::skip_under_spin!("deadlines are reached through the test clock");
    let host = TestHost::start(
        HostOptions::product()
            .test_clock()
            .variable("repair_answer_working_days", "3")
            .variable("guide_contact_text", "县发改局信用股\n电话 0935-0000000"),
    );
    let uscc = credit_code(78, 1);
    let id = store(
        &host,
        &[tax_penalty(
            &uscc,
            "永税罚〔2026〕781号",
            months_ago(6),
            "general",
        )],
    )
    .remove(0);
    let monday = monday_weeks_ago(5);
    let day = |n: u64| monday.checked_add_days(Days::new(n)).unwrap();
    let applied = host.at(china_time(monday, 9, 0, 0)).post_json(
        "/api/v1/repairs",
        &json!({"record_id": id, "statement": "已缴清罚款并完成整改"}),
        Some(&entity(&uscc)),
    );
    assert_eq!(applied.status, 201, "{}", applied.text());
    let case = applied.json();
    let no = case["no"].as_str().unwrap().to_owned();
    // Three working days after Monday 09:00: Thursday 09:00.
    let answer_by = DateTime::parse_from_rfc3339(case["answer_by"].as_str().unwrap()).unwrap();
    assert_eq!(answer_by, china_time(day(3), 9, 0, 0));
    assert_eq!(case["overdue"], false);

    let overdue_at = |at: DateTime<FixedOffset>| -> Vec<Value> {
        listed(
            &host
                .at(at)
                .get_auth("/api/v1/repairs?overdue=true", &tax_department()),
            "repairs",
        )
    };
    assert!(overdue_at(china_time(day(3), 9, 0, 0)).is_empty());
    let late = overdue_at(china_time(day(3), 9, 0, 1));
    assert_eq!(late.len(), 1);
    assert_eq!(
        (late[0]["no"].as_str(), &late[0]["overdue"]),
        (Some(no.as_str()), &json!(true))
    );
    let read = host
        .at(china_time(day(3), 9, 0, 1))
        .get_auth(&format!("/api/v1/repairs/{no}"), &entity(&uscc));
    assert_eq!(read.json()["overdue"], true, "{}", read.text());

    let approved = host.at(china_time(day(4), 9, 0, 0)).post_json(
        &format!("/api/v1/repairs/{no}/approve"),
        &json!({}),
        Some(&tax_department()),
    );
    assert_eq!(approved.status, 200, "{}", approved.text());
    assert_eq!(approved.json()["overdue"], false);
    assert!(overdue_at(china_time(day(4), 9, 0, 1)).is_empty());

    // The catalog states the deadline and the contacts the guides page shows.
    let guide = host.get("/api/v1/catalog").json()["guide"].clone();
    assert_eq!(guide["repair_answer_working_days"], 3, "{guide}");
    assert_eq!(
        guide["contact_text"], "县发改局信用股\n电话 0935-0000000",
        "{guide}"
    );
    assert_eq!(guide["objection_answer_working_days"], 10, "{guide}");
}

#[test]
fn other_entities_and_departments_are_denied() {
    let host = TestHost::start(HostOptions::product());
    let uscc = credit_code(78, 1);
    let stranger = credit_code(78, 2);
    let id = store(
        &host,
        &[tax_penalty(
            &uscc,
            "永税罚〔2026〕781号",
            days_ago(30),
            "general",
        )],
    )
    .remove(0);
    let filing = json!({"record_id": id, "ground": "error", "statement": "有误"});
    let on_behalf_of = |entity: &str| {
        let mut body = filing.clone();
        body["uscc"] = json!(entity);
        body["authorisation_ref"] = json!(AUTHORISATION_REF);
        Body::Json(body)
    };
    let (stranger_token, tax, clerk) = (entity(&stranger), tax_department(), staff("clerk-9"));
    let (them, tax, clerk) = (
        Some(stranger_token.as_str()),
        Some(tax.as_str()),
        Some(clerk.as_str()),
    );
    let objections = "/api/v1/objections";
    #[rustfmt::skip]
    let table = [
        bad("POST", objections, Body::Json(filing.clone()), None, 401, "UNAUTHENTICATED"),
        // Another entity's record answers as an absent one: filing confirms nothing.
        bad("POST", objections, Body::Json(filing.clone()), them, 404, "NOT_FOUND"),
        bad("POST", objections, Body::Json(filing.clone()), tax, 403, "FORBIDDEN"),
        bad("POST", "/api/v1/repairs", Body::Json(json!({"record_id": id, "statement": "x"})), them, 404, "NOT_FOUND"),
        bad("POST", objections, Body::Json(filing.clone()), clerk, 400, "MISSING_FIELD").naming("uscc"),
        bad("POST", objections, Body::Json(json!({"record_id": id, "ground": "error", "statement": "有误", "uscc": uscc})), clerk, 400, "MISSING_FIELD").naming("authorisation_ref"),
        bad("POST", objections, on_behalf_of(&stranger), clerk, 404, "NOT_FOUND"),
    ];
    assert_bad_requests(&host, &table);

    // Counter staff file on the entity's behalf; audited with both identities.
    let mut on_behalf = filing.clone();
    on_behalf["uscc"] = json!(uscc);
    on_behalf["authorisation_ref"] = json!(AUTHORISATION_REF);
    let case = object(&host, &staff("clerk-9"), on_behalf);
    let no = case["no"].as_str().unwrap().to_owned();
    assert_eq!(case["filed_by"], "staff:clerk-9");
    assert_eq!(case["authorisation_ref"], AUTHORISATION_REF);
    // Filing makes the clerk act for the entity: they read its cases and records. Another clerk,
    // acting for it in nothing, gets the case answered as if it did not exist.
    let case_path = format!("/api/v1/objections/{no}");
    assert_eq!(host.get_auth(&case_path, &staff("clerk-9")).status, 200);
    let for_entity = format!("/api/v1/objections?uscc={uscc}");
    assert_eq!(
        listed(&host.get_auth(&for_entity, &staff("clerk-9")), "objections").len(),
        1
    );
    let records = format!("/api/v1/records?uscc={uscc}");
    assert_eq!(host.get_auth(&records, &staff("clerk-9")).status, 200);
    let idle = staff("clerk-10");
    assert_problem(&host.get_auth(&case_path, &idle), 404, "NOT_FOUND");
    assert_problem(
        &host.get_auth(&format!("{case_path}/evidence"), &idle),
        404,
        "NOT_FOUND",
    );
    assert_problem(&host.get_auth(&for_entity, &idle), 403, "FORBIDDEN");
    assert_problem(&host.get_auth(&records, &idle), 403, "FORBIDDEN");
    assert_problem(
        &post(&host, "/api/v1/objections", filing, &entity(&uscc)),
        409,
        "CONFLICT",
    );

    let path = format!("/api/v1/objections/{no}");
    assert_eq!(host.get_auth(&path, &entity(&uscc)).status, 200);
    assert_eq!(host.get_auth(&path, &admin()).status, 200);
    assert!(listed(&host.get_auth(objections, &stranger_token), "objections").is_empty());
    assert!(listed(&host.get_auth(objections, &market()), "objections").is_empty());
    let (owner, other_department, root) = (entity(&uscc), market(), admin());
    let (owner, other_department, root) = (
        Some(owner.as_str()),
        Some(other_department.as_str()),
        Some(root.as_str()),
    );
    let accept = format!("{path}/accept");
    // Who may not read the case is answered as if it did not exist; who
    // may read but not decide it is refused.
    #[rustfmt::skip]
    let mut denied = vec![
        bad("GET", path.as_str(), Body::None, them, 404, "NOT_FOUND"),
        bad("GET", path.as_str(), Body::None, other_department, 404, "NOT_FOUND"),
        bad("GET", format!("{path}/evidence"), Body::None, them, 404, "NOT_FOUND"),
        bad("GET", format!("{objections}?uscc={uscc}"), Body::None, them, 403, "FORBIDDEN"),
        bad("POST", accept.as_str(), Body::Json(json!({})), other_department, 404, "NOT_FOUND"),
    ];
    for bearer in [owner, root, clerk] {
        denied.push(bad(
            "POST",
            accept.as_str(),
            Body::Json(json!({})),
            bearer,
            403,
            "FORBIDDEN",
        ));
    }
    assert_bad_requests(&host, &denied);
    assert_eq!(
        host.get_auth(&path, &entity(&uscc)).json()["status"],
        "filed"
    );

    let day = today().to_string();
    let audit = host.get_auth(&format!("/api/v1/audit?date={day}"), &admin());
    assert_eq!(audit.status, 200, "{}", audit.text());
    let entries = audit.json()["entries"].as_array().unwrap().clone();
    let filed = entries
        .iter()
        .find(|e| e["action"] == "objection.file" && e["target"] == no.as_str())
        .unwrap_or_else(|| panic!("no audit entry for {no}: {entries:?}"));
    assert_eq!(filed["on_behalf_of"], uscc.as_str());
    assert_eq!(filed["outcome"], "filed");
    assert_eq!(filed["details"]["authorisation_ref"], AUTHORISATION_REF);
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "objection.accept" && e["outcome"] == "FORBIDDEN")
    );
}

#[test]
fn bad_requests_are_problem_json() {
    let host = TestHost::start(HostOptions::product());
    let uscc = credit_code(79, 1);
    let id = store(
        &host,
        &[tax_penalty(
            &uscc,
            "永税罚〔2026〕791号",
            days_ago(30),
            "general",
        )],
    )
    .remove(0);
    let (me, tax, clerk) = (entity(&uscc), tax_department(), staff("clerk"));
    let (me, tax, clerk) = (Some(me.as_str()), Some(tax.as_str()), Some(clerk.as_str()));
    let filing = |evidence: Option<String>, ground: &str, record_id: &str| {
        let mut body = json!({"record_id": record_id, "ground": ground, "statement": "x"});
        if let Some(evidence) = evidence {
            body["evidence"] = json!(evidence);
        }
        Body::Json(body)
    };
    let exe = base64(b"MZ\x90\x00not a pdf");
    let mut big = b"%PDF-".to_vec();
    big.resize(2 * 1024 * 1024 + 1, b' ');
    let unknown_record = "0123456789abcdef0123456789abcdef";
    let objections = "/api/v1/objections";
    #[rustfmt::skip]
    let table = [
        bad("POST", objections, filing(Some(exe), "error", &id), me, 400, "INVALID_FIELD").naming("evidence"),
        bad("POST", objections, filing(Some(base64(&big)), "error", &id), me, 400, "INVALID_FIELD").naming("evidence"),
        bad("POST", objections, filing(None, "nope", &id), me, 400, "INVALID_FIELD").naming("ground"),
        bad("POST", objections, filing(None, "error", unknown_record), me, 404, "NOT_FOUND"),
        bad("POST", objections, Body::raw("application/json", b"{"), me, 400, "INVALID_JSON"),
        bad("GET", format!("{objections}/not-a-case"), Body::None, me, 400, "INVALID_FIELD"),
        bad("GET", format!("{objections}/XF20261129-000001"), Body::None, me, 400, "INVALID_FIELD"),
        bad("GET", format!("{objections}/YY20200101-000001"), Body::None, me, 404, "NOT_FOUND"),
        bad("GET", format!("{objections}?status=maybe"), Body::None, me, 400, "INVALID_FIELD"),
        bad("GET", format!("{objections}?overdue=soon"), Body::None, me, 400, "INVALID_FIELD"),
        bad("DELETE", objections, Body::None, me, 405, "METHOD_NOT_ALLOWED"),
        bad("POST", format!("{objections}/YY20200101-000001/shred"), Body::Json(json!({})), tax, 404, "NOT_FOUND"),
        bad("GET", "/api/v1/repairs", Body::None, clerk, 400, "MISSING_FIELD"),
    ];
    assert_bad_requests(&host, &table);
}

/// Follows `next_cursor` from `path` (which has a `?`), collecting `key`'s items page by page.
fn every_page(host: &TestHost, path: &str, key: &str, bearer: &str) -> (Vec<Value>, usize) {
    let (mut items, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        let page = host.get_auth(&url, bearer);
        items.extend(listed(&page, key));
        pages += 1;
        match page.json()["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (items, pages),
        }
    }
}

#[test]
fn cases_and_the_change_log_page_with_a_cursor() {
    let host = TestHost::start(HostOptions::product());
    let uscc = credit_code(71, 9);
    let ids = store(
        &host,
        &(1..=3)
            .map(|n| {
                tax_penalty(
                    &uscc,
                    &format!("永税罚〔2026〕79{n}号"),
                    days_ago(30),
                    "general",
                )
            })
            .collect::<Vec<_>>(),
    );
    for id in &ids {
        object(
            &host,
            &entity(&uscc),
            json!({"record_id": id, "ground": "error", "statement": "分页测试：处罚对象有误"}),
        );
    }
    let (cases, pages) = every_page(
        &host,
        "/api/v1/objections?limit=2",
        "objections",
        &entity(&uscc),
    );
    assert_eq!(pages, 2);
    let mut numbers: Vec<&str> = cases.iter().filter_map(|c| c["no"].as_str()).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 3, "{cases:?}");

    let path = format!("/api/v1/audit?date={}&limit=2", today());
    let (entries, pages) = every_page(&host, &path, "entries", &admin());
    // Reading the log is itself logged, so the whole day read afterwards goes on beyond the pages.
    let whole = listed(
        &host.get_auth(&format!("/api/v1/audit?date={}", today()), &admin()),
        "entries",
    );
    assert!(
        pages > 3 && entries.len() >= 6,
        "{pages} pages, {entries:?}"
    );
    assert!(
        whole.starts_with(&entries),
        "the pages are the day's log, in order, without gaps or repeats"
    );
}
