//! Objections (异议申诉) and credit repair (信用修复) through the real components on the local
//! host: entities file, the responsible department decides, and reports that showed a corrected,
//! withdrawn or repaired record verify as REVOKED.

use base64::Engine;
use chrono::Months;
use integration_tests::fixtures::{
    admin, assert_problem, credit_code, days_ago, department, entity, months_ago, records_of, staff,
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
    assert!(no.starts_with(&format!("YY{}", today().format("%Y%m%d"))), "{no}");
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
    assert_eq!(shown_records(&during)[0]["status_label"], "异议处理中", "{during}");

    // The tax department sees it among its open cases, with its evidence but not inside the listing.
    let open = listed(&host.get_auth("/api/v1/objections?status=open", &tax_department()), "objections");
    let mine = open
        .iter()
        .find(|c| c["no"] == no.as_str())
        .expect("listed for the department");
    assert!(!mine.to_string().contains(&base64(&evidence)));
    let file = host.get_auth(&format!("/api/v1/objections/{no}/evidence"), &tax_department());
    assert_eq!(file.status, 200);
    assert_eq!(file.header("content-type"), Some("application/pdf"));
    assert_eq!(file.body, evidence);

    let accepted = post(&host, &format!("/api/v1/objections/{no}/accept"), json!({}), &tax_department());
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
        assert!(revoked.contains(&r["report_no"].as_str().unwrap()), "{resolved}");
        let verification = verify(&host, r);
        assert_eq!(verification["outcome"], "REVOKED", "{verification}");
        assert!(
            verification["reason"].as_str().is_some_and(|s| !s.is_empty()),
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
        &post(&host, &format!("/api/v1/objections/{no}/accept"), json!({}), &tax_department()),
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
        &[tax_penalty(&uscc, "永税罚〔2026〕702号", days_ago(30), "general")],
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
    assert_problem(&post(&host, &path, json!({}), &tax_department()), 400, "MISSING_FIELD");
    let rejected = post(
        &host,
        &path,
        json!({"reason": "缴纳罚款不属于撤销公示的法定情形"}),
        &tax_department(),
    );
    assert_eq!(rejected.status, 200, "{}", rejected.text());
    assert_eq!(rejected.json()["status"], "rejected");
    assert_eq!(rejected.json()["decision_reason"], "缴纳罚款不属于撤销公示的法定情形");

    let now = record(&host, &uscc, &id);
    assert_eq!(now["status"], "active");
    for field in ["document_no", "facts", "fine_wan_yuan", "decided_on", "uscc"] {
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
            post(&host, &format!("/api/v1/objections/{no}/accept"), json!({}), &tax_department()).status,
            200
        );
        let reply = post(&host, &format!("/api/v1/objections/{no}/resolve"), resolution, &tax_department());
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    };
    let upheld = decide(&ids[0], json!({"action": "uphold", "reason": "两条记录为不同违法行为"}));
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
    assert!(
        verification["reason"].as_str().unwrap().contains("重复"),
        "{verification}"
    );
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
        let available_on = decided_on.checked_add_months(Months::new(months)).unwrap().to_string();
        assert_eq!(problem["available_on"], available_on.as_str());
        assert!(problem["detail"].as_str().unwrap().contains(&available_on), "{problem}");
    }
    assert!(listed(&host.get_auth("/api/v1/repairs", &entity(&uscc)), "repairs").is_empty());
}

#[test]
fn an_approved_repair_drops_the_record_from_new_reports_and_revokes_old_ones() {
    let host = TestHost::start(HostOptions::product());
    let uscc = credit_code(75, 1);
    let id = store(
        &host,
        &[tax_penalty(&uscc, "永税罚〔2026〕751号", months_ago(4), "general")],
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
    assert_eq!(reply.header("location"), Some(format!("/api/v1/repairs/{no}").as_str()));
    let pending = listed(&host.get_auth("/api/v1/repairs?status=applied", &tax_department()), "repairs");
    assert!(pending.iter().any(|c| c["no"] == no.as_str()));

    let approve = format!("/api/v1/repairs/{no}/approve");
    assert_problem(&post(&host, &approve, json!({}), &market()), 403, "FORBIDDEN");
    assert_problem(&post(&host, &approve, json!({}), &entity(&uscc)), 403, "FORBIDDEN");
    let approved = post(&host, &approve, json!({"reason": "已履行处罚决定，整改到位"}), &tax_department());
    assert_eq!(approved.status, 200, "{}", approved.text());
    assert_eq!(approved.json()["status"], "approved");
    assert_eq!(approved.json()["revoked_reports"], json!([before["report_no"]]));
    assert_eq!(record(&host, &uscc, &id)["status"], "repaired");

    let verification = verify(&host, &before);
    assert_eq!(verification["outcome"], "REVOKED");
    assert!(
        verification["reason"].as_str().unwrap().contains("信用修复"),
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
        &[tax_penalty(&uscc, "永税罚〔2026〕761号", months_ago(4), "general")],
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
        post(&host, &format!("/api/v1/repairs/{no}/approve"), json!({}), &tax_department()).status,
        200
    );
    let after = report(&host, &entity(&uscc));
    assert_eq!(shown_records(&after)[0]["status_label"], "已修复", "{after}");
}

#[test]
fn an_objection_not_accepted_in_time_is_listed_as_overdue() {
    // With 0 working days to accept, a case is overdue as soon as it is filed.
    let host = TestHost::start(HostOptions::product().variable("objection_accept_working_days", "0"));
    let uscc = credit_code(77, 1);
    let ids = store(
        &host,
        &[
            tax_penalty(&uscc, "永税罚〔2026〕771号", days_ago(30), "general"),
            tax_penalty(&uscc, "永税罚〔2026〕772号", days_ago(31), "general"),
        ],
    );
    let late = object(
        &host,
        &entity(&uscc),
        json!({"record_id": ids[0], "ground": "error", "statement": "金额有误"}),
    );
    let handled = object(
        &host,
        &entity(&uscc),
        json!({"record_id": ids[1], "ground": "error", "statement": "金额有误"}),
    );
    assert_eq!(late["accept_by"], late["filed_at"]);
    let handled_no = handled["no"].as_str().unwrap();
    assert_eq!(
        post(
            &host,
            &format!("/api/v1/objections/{handled_no}/accept"),
            json!({}),
            &tax_department()
        )
        .status,
        200
    );
    std::thread::sleep(std::time::Duration::from_millis(20));

    for bearer in [tax_department(), admin()] {
        let overdue = listed(&host.get_auth("/api/v1/objections?overdue=true", &bearer), "objections");
        let nos: Vec<&str> = overdue.iter().map(|c| c["no"].as_str().unwrap()).collect();
        assert_eq!(nos, [late["no"].as_str().unwrap()]);
        assert_eq!(overdue[0]["overdue"], true);
    }
    assert!(
        listed(
            &host.get_auth("/api/v1/objections?overdue=true", &market()),
            "objections"
        )
        .is_empty()
    );
    let own = listed(&host.get_auth("/api/v1/objections", &entity(&uscc)), "objections");
    assert_eq!(own.len(), 2);
    assert_eq!(own.iter().filter(|c| c["overdue"] == true).count(), 1);
}

#[test]
fn other_entities_and_departments_are_denied() {
    let host = TestHost::start(HostOptions::product());
    let uscc = credit_code(78, 1);
    let stranger = credit_code(78, 2);
    let id = store(
        &host,
        &[tax_penalty(&uscc, "永税罚〔2026〕781号", days_ago(30), "general")],
    )
    .remove(0);
    let filing = json!({"record_id": id, "ground": "error", "statement": "有误"});

    assert_problem(
        &host.post_json("/api/v1/objections", &filing, None),
        401,
        "UNAUTHENTICATED",
    );
    assert_problem(
        &post(&host, "/api/v1/objections", filing.clone(), &entity(&stranger)),
        403,
        "FORBIDDEN",
    );
    assert_problem(
        &post(&host, "/api/v1/objections", filing.clone(), &tax_department()),
        403,
        "FORBIDDEN",
    );
    assert_problem(
        &post(
            &host,
            "/api/v1/repairs",
            json!({"record_id": id, "statement": "x"}),
            &entity(&stranger),
        ),
        403,
        "FORBIDDEN",
    );
    assert_problem(
        &post(&host, "/api/v1/objections", filing.clone(), &staff("clerk-9")),
        400,
        "MISSING_FIELD",
    );
    let mut for_stranger = filing.clone();
    for_stranger["uscc"] = json!(stranger);
    assert_problem(
        &post(&host, "/api/v1/objections", for_stranger, &staff("clerk-9")),
        403,
        "FORBIDDEN",
    );

    // Counter staff file on the entity's behalf; audited with both identities.
    let mut on_behalf = filing.clone();
    on_behalf["uscc"] = json!(uscc);
    let case = object(&host, &staff("clerk-9"), on_behalf);
    let no = case["no"].as_str().unwrap().to_owned();
    assert_eq!(case["filed_by"], "staff:clerk-9");
    assert_problem(
        &post(&host, "/api/v1/objections", filing, &entity(&uscc)),
        409,
        "CONFLICT",
    );

    let path = format!("/api/v1/objections/{no}");
    assert_eq!(host.get_auth(&path, &entity(&uscc)).status, 200);
    assert_eq!(host.get_auth(&path, &admin()).status, 200);
    assert_problem(&host.get_auth(&path, &entity(&stranger)), 403, "FORBIDDEN");
    assert_problem(&host.get_auth(&path, &market()), 403, "FORBIDDEN");
    assert_problem(
        &host.get_auth(&format!("{path}/evidence"), &entity(&stranger)),
        403,
        "FORBIDDEN",
    );
    assert!(listed(&host.get_auth("/api/v1/objections", &entity(&stranger)), "objections").is_empty());
    assert!(listed(&host.get_auth("/api/v1/objections", &market()), "objections").is_empty());
    assert_problem(
        &host.get_auth(&format!("/api/v1/objections?uscc={uscc}"), &entity(&stranger)),
        403,
        "FORBIDDEN",
    );
    for bearer in [market(), entity(&uscc), admin(), staff("clerk-9")] {
        assert_problem(
            &post(&host, &format!("{path}/accept"), json!({}), &bearer),
            403,
            "FORBIDDEN",
        );
    }
    assert_eq!(host.get_auth(&path, &entity(&uscc)).json()["status"], "filed");

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
        &[tax_penalty(&uscc, "永税罚〔2026〕791号", days_ago(30), "general")],
    )
    .remove(0);
    let me = entity(&uscc);
    let file = |body: Value| post(&host, "/api/v1/objections", body, &me);

    let exe = base64(b"MZ\x90\x00not a pdf");
    let problem = assert_problem(
        &file(json!({"record_id": id, "ground": "error", "statement": "x", "evidence": exe})),
        400,
        "INVALID_FIELD",
    );
    assert_eq!(problem["field"], "evidence");
    let mut big = b"%PDF-".to_vec();
    big.resize(2 * 1024 * 1024 + 1, b' ');
    let problem = assert_problem(
        &file(json!({"record_id": id, "ground": "error", "statement": "x", "evidence": base64(&big)})),
        400,
        "INVALID_FIELD",
    );
    assert_eq!(problem["field"], "evidence");
    assert_eq!(
        assert_problem(
            &file(json!({"record_id": id, "ground": "nope", "statement": "x"})),
            400,
            "INVALID_FIELD"
        )["field"],
        "ground"
    );
    assert_problem(
        &file(json!({"record_id": "0123456789abcdef0123456789abcdef", "ground": "error", "statement": "x"})),
        404,
        "NOT_FOUND",
    );
    assert_problem(
        &host.request(
            "POST",
            "/api/v1/objections",
            &[
                ("authorization", &format!("Bearer {me}")),
                ("content-type", "application/json"),
            ],
            b"{",
        ),
        400,
        "INVALID_JSON",
    );
    assert_problem(
        &host.get_auth("/api/v1/objections/not-a-case", &me),
        400,
        "INVALID_FIELD",
    );
    assert_problem(
        &host.get_auth("/api/v1/objections/XF20261129-000001", &me),
        400,
        "INVALID_FIELD",
    );
    assert_problem(
        &host.get_auth("/api/v1/objections/YY20200101-000001", &me),
        404,
        "NOT_FOUND",
    );
    assert_problem(
        &host.get_auth("/api/v1/objections?status=maybe", &me),
        400,
        "INVALID_FIELD",
    );
    assert_problem(
        &host.get_auth("/api/v1/objections?overdue=soon", &me),
        400,
        "INVALID_FIELD",
    );
    assert_problem(&host.delete("/api/v1/objections", Some(&me)), 405, "METHOD_NOT_ALLOWED");
    assert_problem(
        &post(&host, "/api/v1/objections/YY20200101-000001/shred", json!({}), &tax_department()),
        404,
        "NOT_FOUND",
    );
    assert_problem(&host.get_auth("/api/v1/repairs", &staff("clerk")), 400, "MISSING_FIELD");
}
