//! `credit-dev seed`: demo records pushed over HTTP, once per state folder, and a guide with
//! development tokens to try them with.
//!
//! The demo covers a clean entity, one whose records are all excluded from reports
//! (simplified procedure, 不予处罚, outside every window, removed from a list before the
//! window, withdrawn by the department) and two with records that count. Repaired records are
//! not seeded: repair goes through the disputes endpoints, not a record field.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{Days, FixedOffset, Months, NaiveDate, Utc};
use credit_core::auth::Role;
use credit_core::auth::development::{Claims, mint};
use credit_core::uscc::CreditCode;
use serde_json::{Value, json};

/// How long to wait for a host that is still compiling its components.
const HOST_WAIT: Duration = Duration::from_secs(180);
/// Demo tokens are for a working day or so.
const TOKEN_HOURS: i64 = 24;

struct Entity {
    uscc: CreditCode,
    name: &'static str,
    /// What a report for it shows, for the guide.
    story: &'static str,
}

fn entity(serial: u32, name: &'static str, story: &'static str) -> Entity {
    let uscc = CreditCode::with_check_character(&format!("91620321MA72YC{serial:03}"))
        .expect("demo credit codes are well-formed");
    Entity { uscc, name, story }
}

fn entities() -> [Entity; 4] {
    [
        entity(
            1,
            "永昌县清源商贸有限公司",
            "无任何记录，报告为“无违法违规记录” / no records: clean",
        ),
        entity(
            2,
            "永昌县金川建材有限公司",
            "只有不计入报告的记录（简易程序、不予处罚、超出查询期间、已移出名录、已撤销、已解除的行政强制措施），报告为“无记录” / only excluded records: clean",
        ),
        entity(
            3,
            "永昌县河西物流有限公司",
            "税务行政处罚 1 条、经营异常名录 1 条（未移出）、行政强制措施 1 条（未解除） / a tax penalty, an abnormal-operation listing and a coercive measure in force",
        ),
        entity(
            4,
            "永昌县祁连化工有限公司",
            "生态环境处罚与环境违法企业黑名单、刑事裁判 1 条；市场监管严重行政处罚在 20 个月前（公示 3 年），只出现在 24、36 个月报告中 / environment penalty, blacklist and a criminal judgment; a serious market penalty (published 3 years) only 24/36-month reports show",
        ),
    ]
}

/// Departments that push the demo records, by the catalog's unit names.
const TAX: &str = "县税务局";
const MARKET: &str = "县市场监管局";
const ENVIRONMENT: &str = "市生态环境局永昌分局";
const COURT: &str = "县人民法院";

/// Seeds with tokens signed by `private_key_pem`, the development token key.
pub fn run(base_url: &str, marker: &Path, private_key_pem: String) -> Result<String, String> {
    let tokens = Tokens { private_key_pem };
    let demo = entities();
    if marker.exists() {
        eprintln!("# demo data already seeded ({} exists)", marker.display());
    } else {
        let client = Client::new(base_url);
        client.wait_until_up()?;
        seed(&client, &tokens, &demo)?;
        if let Some(dir) = marker.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        }
        let note = json!({
            "seeded_at": Utc::now().to_rfc3339(),
            "entities": demo.iter().map(|e| e.uscc.to_string()).collect::<Vec<_>>(),
        });
        std::fs::write(marker, format!("{note:#}\n"))
            .map_err(|e| format!("writing {}: {e}", marker.display()))?;
    }
    guide(base_url, &tokens, &demo)
}

struct Tokens {
    private_key_pem: String,
}

impl Tokens {
    fn mint(
        &self,
        role: Role,
        sub: &str,
        uscc: Option<&Entity>,
        unit: Option<&str>,
    ) -> Result<String, String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: sub.to_owned(),
            role,
            uscc: uscc.map(|e| e.uscc.to_string()),
            unit: unit.map(str::to_owned),
            name: uscc.map(|e| e.name.to_owned()),
            exp: now + TOKEN_HOURS * 3600,
            iat: Some(now),
        };
        mint(&self.private_key_pem, &claims).map_err(|e| e.to_string())
    }

    fn department(&self, unit: &str) -> Result<String, String> {
        self.mint(Role::Department, "demo-department", None, Some(unit))
    }
}

struct Client {
    base_url: String,
    agent: ureq::Agent,
}

impl Client {
    fn new(base_url: &str) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Client {
            base_url: base_url.to_owned(),
            agent,
        }
    }

    fn wait_until_up(&self) -> Result<(), String> {
        let url = format!("{}/api/v1/catalog", self.base_url);
        let started = Instant::now();
        loop {
            match self.agent.get(&url).call() {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) if started.elapsed() > HOST_WAIT => {
                    return Err(format!("{url} answers {}", response.status()));
                }
                Err(e) if started.elapsed() > HOST_WAIT => {
                    return Err(format!("{url} not reachable after {HOST_WAIT:?}: {e}"));
                }
                _ => std::thread::sleep(Duration::from_millis(300)),
            }
        }
    }

    /// Puts a batch with a department's token; every item must be stored. Returns the ids.
    fn put_records(&self, bearer: &str, items: &[Value]) -> Result<Vec<String>, String> {
        let url = format!("{}/api/v1/records", self.base_url);
        let mut response = self
            .agent
            .put(&url)
            .header("authorization", &format!("Bearer {bearer}"))
            .content_type("application/json")
            .send(Value::from(items.to_vec()).to_string())
            .map_err(|e| format!("PUT {url}: {e}"))?;
        let status = response.status();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("PUT {url}: {e}"))?;
        if !status.is_success() {
            return Err(format!("PUT {url}: {status}: {text}"));
        }
        let body: Value =
            serde_json::from_str(&text).map_err(|e| format!("PUT {url}: {e}: {text}"))?;
        let results = body["results"]
            .as_array()
            .ok_or_else(|| format!("PUT {url}: no results: {text}"))?;
        results
            .iter()
            .map(|r| match (r["status"].as_str(), r["id"].as_str()) {
                (Some("created" | "updated" | "unchanged"), Some(id)) => Ok(id.to_owned()),
                _ => Err(format!("PUT {url}: item refused: {r}")),
            })
            .collect()
    }

    fn withdraw(&self, bearer: &str, id: &str, reason: &str) -> Result<(), String> {
        let reason: String = form_urlencoded::byte_serialize(reason.as_bytes()).collect();
        let url = format!("{}/api/v1/records/{id}?reason={reason}", self.base_url);
        let mut response = self
            .agent
            .delete(&url)
            .header("authorization", &format!("Bearer {bearer}"))
            .call()
            .map_err(|e| format!("DELETE {url}: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.body_mut().read_to_string().unwrap_or_default();
            return Err(format!("DELETE {url}: {status}: {text}"));
        }
        Ok(())
    }
}

fn today() -> NaiveDate {
    let china = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    Utc::now().with_timezone(&china).date_naive()
}

fn days_ago(n: u64) -> String {
    today()
        .checked_sub_days(Days::new(n))
        .unwrap_or(today())
        .to_string()
}

fn months_ago(n: u32) -> String {
    today()
        .checked_sub_months(Months::new(n))
        .unwrap_or(today())
        .to_string()
}

/// The issuing authority's and source unit's credit code (a demo value).
fn authority_uscc(serial: u32) -> String {
    CreditCode::with_check_character(&format!("11620321MB0{serial:06}"))
        .expect("demo credit codes are well-formed")
        .to_string()
}

/// What a department penalizes, for the demo penalties it issues.
struct Violation {
    domain: &'static str,
    unit: &'static str,
    authority: &'static str,
    kind: &'static str,
    facts: &'static str,
    basis: &'static str,
    fine_wan_yuan: &'static str,
}

const LATE_TAX_RETURN: Violation = Violation {
    domain: "tax",
    unit: TAX,
    authority: "国家税务总局永昌县税务局",
    kind: "未按期办理纳税申报",
    facts: "当事人未按照规定期限办理增值税纳税申报",
    basis: "《中华人民共和国税收征收管理法》第六十二条",
    fine_wan_yuan: "0.2",
};

const SUBSTANDARD_PRODUCT: Violation = Violation {
    domain: "market_regulation",
    unit: MARKET,
    authority: "永昌县市场监督管理局",
    kind: "产品质量违法",
    facts: "当事人销售的产品经抽检不合格",
    basis: "《中华人民共和国产品质量法》第四十九条",
    fine_wan_yuan: "1.5",
};

const AIR_POLLUTION: Violation = Violation {
    domain: "ecology_environment",
    unit: ENVIRONMENT,
    authority: "金昌市生态环境局永昌分局",
    kind: "超标排放大气污染物",
    facts: "当事人废气排放口颗粒物浓度超过排放标准",
    basis: "《中华人民共和国大气污染防治法》第九十九条",
    fine_wan_yuan: "20",
};

fn penalty(e: &Entity, v: &Violation, document_no: &str, decided_on: &str) -> Value {
    json!({
        "kind": "penalty", "domain": v.domain, "document_no": document_no,
        "entity_name": e.name, "uscc": e.uscc,
        "authority": v.authority, "authority_uscc": authority_uscc(1),
        "source_unit": v.unit, "source_unit_uscc": authority_uscc(1),
        "entity_category": "法人及非法人组织", "legal_representative": "王建国",
        "violation_type": v.kind, "facts": v.facts, "legal_basis": v.basis,
        "penalty_categories": ["罚款"], "penalty_content": format!("罚款{}万元", v.fine_wan_yuan),
        "fine_wan_yuan": v.fine_wan_yuan, "decided_on": decided_on, "penalty_valid_until": "2030-12-31",
        "procedure": "general", "not_penalized": false, "severity": "general"
    })
}

/// A list a department keeps, for the demo listings.
struct List {
    kind: &'static str,
    domain: &'static str,
    unit: &'static str,
    name: &'static str,
}

const ABNORMAL_OPERATION: List = List {
    kind: "abnormal_list",
    domain: "market_regulation",
    unit: MARKET,
    name: "经营异常名录",
};

const ENVIRONMENTAL_BLACKLIST: List = List {
    kind: "dishonest_list",
    domain: "ecology_environment",
    unit: ENVIRONMENT,
    name: "环境违法企业黑名单",
};

fn listing(
    e: &Entity,
    list: &List,
    document_no: &str,
    listed_on: &str,
    removed_on: Option<&str>,
) -> Value {
    json!({
        "kind": list.kind, "domain": list.domain, "document_no": document_no,
        "entity_name": e.name, "uscc": e.uscc,
        "authority": list.unit, "authority_uscc": authority_uscc(2),
        "source_unit": list.unit, "source_unit_uscc": authority_uscc(2),
        "list_name": list.name,
        "reason": "未按规定履行法定义务", "basis": "相关管理办法",
        "listed_on": listed_on, "removed_on": removed_on
    })
}

/// A market-regulation 查封、扣押, lifted on `lifted_on` or still in force.
fn coercive_measure(
    e: &Entity,
    document_no: &str,
    decided_on: &str,
    lifted_on: Option<&str>,
) -> Value {
    json!({
        "kind": "coercive_measure", "domain": "market_regulation", "document_no": document_no,
        "entity_name": e.name, "uscc": e.uscc,
        "measure_types": ["查封", "扣押"], "cause": "涉嫌销售不符合保障人体健康和人身、财产安全的国家标准的产品",
        "legal_basis": "《中华人民共和国产品质量法》第十八条",
        "decided_on": decided_on, "lifted_on": lifted_on,
        "authority": "永昌县市场监督管理局", "authority_uscc": authority_uscc(1),
        "source_unit": MARKET, "source_unit_uscc": authority_uscc(1)
    })
}

fn criminal_judgment(e: &Entity, document_no: &str, judged_on: &str, effective_on: &str) -> Value {
    json!({
        "kind": "criminal_judgment", "domain": "criminal_judgment", "document_no": document_no,
        "entity_name": e.name, "uscc": e.uscc,
        "authority": "永昌县人民法院", "authority_uscc": authority_uscc(3),
        "charges": "污染环境罪", "verdict": "判处被告单位罚金人民币三十万元",
        "judged_on": judged_on, "effective_on": effective_on, "unit_crime": true,
        "source_unit": COURT, "source_unit_uscc": authority_uscc(3)
    })
}

fn seed(client: &Client, tokens: &Tokens, demo: &[Entity; 4]) -> Result<(), String> {
    let [_clean, excluded, counting, environmental] = demo;
    let tax = tokens.department(TAX)?;
    let market = tokens.department(MARKET)?;
    let environment = tokens.department(ENVIRONMENT)?;

    let mut simplified = penalty(
        excluded,
        &LATE_TAX_RETURN,
        "永税简罚〔示例〕1号",
        &days_ago(45),
    );
    simplified["procedure"] = json!("simplified");
    let tax_ids = client.put_records(
        &tax,
        &[
            simplified,
            penalty(
                excluded,
                &LATE_TAX_RETURN,
                "永税罚〔示例〕2号",
                &months_ago(40),
            ),
            penalty(
                excluded,
                &LATE_TAX_RETURN,
                "永税罚〔示例〕3号",
                &days_ago(60),
            ),
            penalty(
                counting,
                &LATE_TAX_RETURN,
                "永税罚〔示例〕4号",
                &days_ago(90),
            ),
        ],
    )?;
    client.withdraw(&tax, &tax_ids[2], "经行政复议撤销原处罚决定")?;

    let mut not_penalized = penalty(
        excluded,
        &SUBSTANDARD_PRODUCT,
        "永市监不罚〔示例〕1号",
        &days_ago(30),
    );
    not_penalized["not_penalized"] = json!(true);
    not_penalized["penalty_categories"] = json!(["其他"]);
    not_penalized["penalty_content"] = json!("依法不予行政处罚");
    not_penalized["fine_wan_yuan"] = Value::Null;
    // Serious: its 3 years of publicity outlast a 24-month period, where a
    // general penalty's 1 year would leave it out of every report.
    let mut older_serious_penalty = penalty(
        environmental,
        &SUBSTANDARD_PRODUCT,
        "永市监罚〔示例〕3号",
        &months_ago(20),
    );
    older_serious_penalty["severity"] = json!("serious");
    client.put_records(
        &market,
        &[
            not_penalized,
            listing(
                excluded,
                &ABNORMAL_OPERATION,
                "永市监异〔示例〕1号",
                &months_ago(48),
                Some(&months_ago(40)),
            ),
            listing(
                counting,
                &ABNORMAL_OPERATION,
                "永市监异〔示例〕2号",
                &days_ago(120),
                None,
            ),
            older_serious_penalty,
        ],
    )?;

    let mut serious = penalty(
        environmental,
        &AIR_POLLUTION,
        "永环罚〔示例〕1号",
        &days_ago(150),
    );
    serious["severity"] = json!("serious");
    client.put_records(
        &environment,
        &[
            serious,
            listing(
                environmental,
                &ENVIRONMENTAL_BLACKLIST,
                "永环黑〔示例〕1号",
                &days_ago(100),
                None,
            ),
        ],
    )?;
    client.put_records(
        &market,
        &[
            coercive_measure(
                excluded,
                "永市监强〔示例〕1号",
                &days_ago(80),
                Some(&days_ago(50)),
            ),
            coercive_measure(counting, "永市监强〔示例〕2号", &days_ago(40), None),
        ],
    )?;
    client.put_records(
        &tokens.department(COURT)?,
        &[criminal_judgment(
            environmental,
            "（示例）甘0321刑初1号",
            &days_ago(200),
            &days_ago(185),
        )],
    )?;
    Ok(())
}

fn guide(base_url: &str, tokens: &Tokens, demo: &[Entity; 4]) -> Result<String, String> {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!("专用信用报告 演示环境 / demo: {base_url}"));
    line(format!(
        "开发令牌 {TOKEN_HOURS} 小时内有效 / development tokens, valid {TOKEN_HOURS} h (curl -H \"Authorization: Bearer <token>\")"
    ));
    line(String::new());
    line("市场主体 / entities (申请报告 apply: POST /api/v1/reports {\"months\":12,\"domains\":\"all\",\"purpose\":\"bidding\"}):".into());
    for e in demo {
        line(format!("  {} {}", e.uscc, e.name));
        line(format!("    {}", e.story));
        line(format!(
            "    {}",
            tokens.mint(Role::Entity, &format!("demo-{}", e.uscc), Some(e), None)?
        ));
    }
    line(String::new());
    line(format!(
        "责任单位 / department ({TAX}, writes tax records: PUT /api/v1/records):"
    ));
    line(format!("  {}", tokens.department(TAX)?));
    line(format!("责任单位 / department ({MARKET}):"));
    line(format!("  {}", tokens.department(MARKET)?));
    line(format!(
        "责任单位 / department ({COURT}, criminal judgments):"
    ));
    line(format!("  {}", tokens.department(COURT)?));
    line("窗口帮办 / counter staff (applies with \"uscc\" and \"authorisation_ref\" on an entity's behalf):".into());
    line(format!(
        "  {}",
        tokens.mint(Role::Staff, "demo-staff", None, Some("县政务服务中心"))?
    ));
    line("管理员 / admin (GET /api/v1/audit?date=YYYY-MM-DD):".into());
    line(format!(
        "  {}",
        tokens.mint(Role::Admin, "demo-admin", None, None)?
    ));
    line(String::new());
    line(format!(
        "页面 / pages: {base_url}/ (核验 verify), {base_url}/apply (申请 apply), {base_url}/desk (责任单位工作台 department desk)"
    ));
    line("未演示“已修复”记录：信用修复经异议与修复接口办理 / repaired records are not seeded (repair goes through the disputes endpoints)".into());
    Ok(out.trim_end().to_owned())
}
