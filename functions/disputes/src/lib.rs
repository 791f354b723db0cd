//! Objections (异议申诉) and credit repair (信用修复). The workflow is
//! `credit_core::dispute`; this component routes, authenticates and audits.
//!
//! | method and path | who |
//! |---|---|
//! | `POST /api/v1/objections` | entity; staff with `uscc` |
//! | `GET /api/v1/objections?status=&overdue=&uscc=` | entity (own), staff (`uscc`), department (its domains), admin |
//! | `GET /api/v1/objections/{no}` | those who may list it |
//! | `GET /api/v1/objections/{no}/evidence` | those who may list it |
//! | `POST /api/v1/objections/{no}/accept`, `/reject`, `/resolve` | the unit answering for the record's domain |
//! | `POST /api/v1/repairs` | entity; staff with `uscc` |
//! | `GET /api/v1/repairs?status=&uscc=` | as objections |
//! | `GET /api/v1/repairs/{no}`, `/{no}/evidence` | as objections |
//! | `POST /api/v1/repairs/{no}/approve`, `/reject` | the unit answering for the record's domain |
//!
//! Every request, allowed or not, leaves one audit entry.

use chrono::{DateTime, Utc};
use credit_core::audit::{self, AuditEntry};
use credit_core::auth::Principal;
use credit_core::dispute::{
    CaseFilter, CaseKind, CaseNo, DisputeConfig, Disputes, EvidenceType, ObjectionFiling,
    RepairApplication, Resolution, StatusFilter, reason_from_json,
};
use credit_core::error::Error;
use credit_core::uscc::{CreditCode, UsccError};
use serde_json::{Value, json};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

/// Base64 of a 2 MiB evidence file plus the rest of the form.
const MAX_BODY_BYTES: u64 = 3 * 1024 * 1024;

/// Who did what, for the audit entry written after the answer is known.
#[derive(Default)]
struct Trail {
    principal: Option<Principal>,
    action: String,
    target: Option<String>,
    entity: Option<CreditCode>,
    details: Value,
}

#[http_component]
fn handle(req: Request) -> Response {
    let now = platform::now();
    let mut trail = Trail::default();
    let result = serve(&req, now, &mut trail);
    let outcome = match &result {
        Ok(response) => response.status().to_string(),
        Err(error) => error.code().to_owned(),
    };
    write_audit(&req, now, trail, &outcome);
    platform::respond(|| result)
}

fn write_audit(req: &Request, now: DateTime<Utc>, trail: Trail, outcome: &str) {
    let mut entry = AuditEntry::new(trail.principal.as_ref(), &trail.action, outcome, now)
        .client(platform::client_addr(req))
        .details(trail.details);
    entry.target = trail.target;
    if let (Some(Principal::Staff { .. }), Some(uscc)) = (&trail.principal, &trail.entity) {
        entry = entry.on_behalf_of(uscc);
    }
    let appended = platform::store().and_then(|kv| audit::append(&kv, &entry));
    if let Err(error) = appended {
        eprintln!("audit entry lost ({error:?}): {entry:?}");
    }
}

/// What the path asks for.
enum Endpoint {
    Collection,
    Case(String),
    Evidence(String),
    Act(String, String),
}

fn endpoint(req: &Request) -> Result<(CaseKind, Endpoint), Error> {
    let kind = if req.path().starts_with("/api/v1/repairs") {
        CaseKind::Repair
    } else {
        CaseKind::Objection
    };
    let info = platform::path_info(req);
    let segments: Vec<&str> = info.split('/').filter(|s| !s.is_empty()).collect();
    let endpoint = match segments.as_slice() {
        [] => Endpoint::Collection,
        [no] => Endpoint::Case((*no).to_owned()),
        [no, "evidence"] => Endpoint::Evidence((*no).to_owned()),
        [no, act] => Endpoint::Act((*no).to_owned(), (*act).to_owned()),
        _ => return Err(Error::NotFound("没有这个接口".into())),
    };
    Ok((kind, endpoint))
}

fn action_name(kind: CaseKind, endpoint: &Endpoint, method: &Method) -> String {
    let noun = match kind {
        CaseKind::Objection => "objection",
        CaseKind::Repair => "repair",
    };
    let verb = match (endpoint, method) {
        (Endpoint::Collection, Method::Post) => "file",
        (Endpoint::Collection, _) => "list",
        (Endpoint::Case(_), _) => "read",
        (Endpoint::Evidence(_), _) => "evidence",
        (Endpoint::Act(_, act), _) => act.as_str(),
    };
    format!("{noun}.{verb}")
}

fn serve(req: &Request, now: DateTime<Utc>, trail: &mut Trail) -> Result<Response, Error> {
    let (kind, endpoint) = endpoint(req)?;
    let method = req.method().clone();
    trail.action = action_name(kind, &endpoint, &method);
    if let Endpoint::Case(no) | Endpoint::Evidence(no) | Endpoint::Act(no, _) = &endpoint {
        trail.target = Some(no.clone());
    }
    let allowed = match &endpoint {
        Endpoint::Collection => "GET, POST",
        Endpoint::Case(_) | Endpoint::Evidence(_) => "GET",
        Endpoint::Act(..) => "POST",
    };
    let method_fits = matches!(
        (&endpoint, &method),
        (Endpoint::Collection, Method::Get | Method::Post)
            | (Endpoint::Case(_) | Endpoint::Evidence(_), Method::Get)
            | (Endpoint::Act(..), Method::Post)
    );
    if !method_fits {
        return Err(Error::MethodNotAllowed {
            allowed: allowed.into(),
        });
    }
    let who = platform::principal(req, now)?;
    trail.principal = Some(who.clone());
    let kv = platform::store()?;
    let rules = platform::rules()?;
    let config = DisputeConfig::from_lookup(&rules, platform::variable)?;
    let disputes = Disputes::new(&kv, &config);
    let call = Call {
        req,
        who: &who,
        now,
        disputes: &disputes,
        trail,
    };
    match kind {
        CaseKind::Objection => call.objections(endpoint),
        CaseKind::Repair => call.repairs(endpoint),
    }
}

struct Call<'a, 'd> {
    req: &'a Request,
    who: &'a Principal,
    now: DateTime<Utc>,
    disputes: &'a Disputes<'d, platform::SpinStore>,
    trail: &'a mut Trail,
}

impl Call<'_, '_> {
    fn objections(self, endpoint: Endpoint) -> Result<Response, Error> {
        let (who, now, d) = (self.who, self.now, self.disputes);
        match endpoint {
            Endpoint::Collection if *self.req.method() == Method::Post => {
                let filing = ObjectionFiling::from_json(&body(self.req)?)?;
                self.trail.entity = filing.uscc.clone();
                let case = d.file_objection(who, filing, now)?;
                self.trail.target = Some(case.no.to_string());
                self.trail.entity = Some(case.uscc.clone());
                let location = format!("/api/v1/objections/{}", case.no);
                Ok(created(&case.view(now)?, &location))
            }
            Endpoint::Collection => {
                let filter = filter(self.req, CaseKind::Objection)?;
                self.trail.entity = filter.uscc.clone();
                let cases = d.list_objections(who, &filter, now)?;
                let views = cases
                    .iter()
                    .map(|c| c.view(now))
                    .collect::<Result<Vec<Value>, Error>>()?;
                Ok(platform::json(
                    200,
                    &json!({"count": views.len(), "objections": views}),
                ))
            }
            Endpoint::Case(no) => {
                let case = d.objection(who, &CaseNo::parse(CaseKind::Objection, &no)?)?;
                self.trail.entity = Some(case.uscc.clone());
                Ok(platform::json(200, &case.view(now)?))
            }
            Endpoint::Evidence(no) => evidence(d, who, &CaseNo::parse(CaseKind::Objection, &no)?),
            Endpoint::Act(no, act) => {
                let no = CaseNo::parse(CaseKind::Objection, &no)?;
                let case = match act.as_str() {
                    "accept" => d.accept_objection(who, &no, now)?,
                    "reject" => {
                        let reason = reason_from_json(&body(self.req)?, true)?.unwrap_or_default();
                        d.reject_objection(who, &no, &reason, now)?
                    }
                    "resolve" => {
                        let resolution = Resolution::from_json(&body(self.req)?)?;
                        d.resolve_objection(who, &no, resolution, now)?
                    }
                    _ => return Err(unknown_action(&act, "accept、reject 或 resolve")),
                };
                self.trail.entity = Some(case.uscc.clone());
                self.trail.details =
                    json!({"status": case.status, "revoked_reports": case.revoked_reports});
                Ok(platform::json(200, &case.view(now)?))
            }
        }
    }

    fn repairs(self, endpoint: Endpoint) -> Result<Response, Error> {
        let (who, now, d) = (self.who, self.now, self.disputes);
        match endpoint {
            Endpoint::Collection if *self.req.method() == Method::Post => {
                let application = RepairApplication::from_json(&body(self.req)?)?;
                self.trail.entity = application.uscc.clone();
                let case = d.apply_repair(who, application, now)?;
                self.trail.target = Some(case.no.to_string());
                self.trail.entity = Some(case.uscc.clone());
                let location = format!("/api/v1/repairs/{}", case.no);
                Ok(created(&case.view()?, &location))
            }
            Endpoint::Collection => {
                let filter = filter(self.req, CaseKind::Repair)?;
                self.trail.entity = filter.uscc.clone();
                let cases = d.list_repairs(who, &filter)?;
                let views = cases
                    .iter()
                    .map(|c| c.view())
                    .collect::<Result<Vec<Value>, Error>>()?;
                Ok(platform::json(
                    200,
                    &json!({"count": views.len(), "repairs": views}),
                ))
            }
            Endpoint::Case(no) => {
                let case = d.repair(who, &CaseNo::parse(CaseKind::Repair, &no)?)?;
                self.trail.entity = Some(case.uscc.clone());
                Ok(platform::json(200, &case.view()?))
            }
            Endpoint::Evidence(no) => evidence(d, who, &CaseNo::parse(CaseKind::Repair, &no)?),
            Endpoint::Act(no, act) => {
                let no = CaseNo::parse(CaseKind::Repair, &no)?;
                let case = match act.as_str() {
                    "approve" => {
                        d.approve_repair(who, &no, reason_from_json(&body(self.req)?, false)?, now)?
                    }
                    "reject" => {
                        let reason = reason_from_json(&body(self.req)?, true)?.unwrap_or_default();
                        d.reject_repair(who, &no, &reason, now)?
                    }
                    _ => return Err(unknown_action(&act, "approve 或 reject")),
                };
                self.trail.entity = Some(case.uscc.clone());
                self.trail.details =
                    json!({"status": case.status, "revoked_reports": case.revoked_reports});
                Ok(platform::json(200, &case.view()?))
            }
        }
    }
}

fn unknown_action(act: &str, known: &str) -> Error {
    Error::NotFound(format!("没有“{act}”这个操作，可用：{known}"))
}

/// The JSON body; an empty body is `{}` (accept and approve need none).
fn body(req: &Request) -> Result<Value, Error> {
    if req.body().len() as u64 > MAX_BODY_BYTES {
        return Err(Error::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    if req.body().iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    platform::json_body(req)
}

fn filter(req: &Request, kind: CaseKind) -> Result<CaseFilter, Error> {
    let status = StatusFilter::parse(kind, platform::query_param(req, "status").as_deref())?;
    let overdue_only = match platform::query_param(req, "overdue").as_deref() {
        None | Some("") | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(other) => {
            return Err(Error::InvalidField {
                field: "overdue".into(),
                detail: format!("“{other}”应为 true 或 false"),
            });
        }
    };
    let uscc = platform::query_param(req, "uscc")
        .filter(|u| !u.trim().is_empty())
        .map(|u| {
            u.trim()
                .parse::<CreditCode>()
                .map_err(|e: UsccError| e.for_field("uscc"))
        })
        .transpose()?;
    Ok(CaseFilter {
        status,
        overdue_only,
        uscc,
    })
}

fn created(body: &Value, location: &str) -> Response {
    let mut response = platform::json(201, body);
    response.set_header("location", location);
    response
}

fn evidence(
    d: &Disputes<'_, platform::SpinStore>,
    who: &Principal,
    no: &CaseNo,
) -> Result<Response, Error> {
    let file = d.evidence(who, no)?;
    let extension = match file.media_type {
        EvidenceType::Pdf => "pdf",
        EvidenceType::Png => "png",
        EvidenceType::Jpeg => "jpg",
    };
    Ok(Response::builder()
        .status(200)
        .header("content-type", file.media_type.media_type())
        .header(
            "content-disposition",
            format!("attachment; filename=\"{no}-evidence.{extension}\""),
        )
        .header("x-content-type-options", "nosniff")
        .header("cache-control", "no-store")
        .body(file.bytes)
        .build())
}
