//! Objections (异议申诉) and credit repair (信用修复): routing for
//! `credit_core::usecase::disputes`, which authorises and audits.
//!
//! | method and path | who |
//! |---|---|
//! | `POST /api/v1/objections`, `POST /api/v1/repairs` | entity; staff with `uscc` |
//! | `GET /api/v1/objections?status=&overdue=&uscc=`, `GET /api/v1/repairs?status=&uscc=` | entity (own), staff (`uscc` of an entity they act for), department (its domains), admin |
//! | `GET /api/v1/{objections,repairs}/{no}`, `…/{no}/evidence` | those who may list it |
//! | `POST /api/v1/objections/{no}/accept`, `/reject`, `/resolve` | the unit answering for the record's domain |
//! | `POST /api/v1/repairs/{no}/approve`, `/reject` | the unit answering for the record's domain |

use credit_core::codes::ReportNo;
use credit_core::dispute::{CaseKind, EvidenceType};
use credit_core::usecase::disputes::{CaseDesk, case_filter};
use platform::{Answer, caller, json, param, query_param, store};
use serde_json::Value;
use spin_sdk::http::{Params, Request, Response, Router};
use spin_sdk::http_component;

/// Base64 of a 2 MiB evidence file plus the rest of the form.
const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

#[http_component]
fn handle(req: Request) -> Response {
    let mut router = Router::new();
    for (kind, base) in [
        (CaseKind::Objection, "/api/v1/objections"),
        (CaseKind::Repair, "/api/v1/repairs"),
    ] {
        router.post(base, move |req, _| file(req, kind));
        router.get(base, move |req, _| list(req, kind));
        router.get(&format!("{base}/:no"), move |req, params| {
            read(req, params, kind)
        });
        router.get(&format!("{base}/:no/evidence"), move |req, params| {
            evidence(req, params, kind)
        });
        router.post(&format!("{base}/:no/:act"), move |req, params| {
            decide(req, params, kind)
        });
    }
    platform::refuse_the_rest(
        &mut router,
        &[
            ("/api/v1/objections", "GET, POST"),
            ("/api/v1/objections/:no", "GET"),
            ("/api/v1/objections/:no/evidence", "GET"),
            ("/api/v1/objections/:no/:act", "POST"),
            ("/api/v1/repairs", "GET, POST"),
            ("/api/v1/repairs/:no", "GET"),
            ("/api/v1/repairs/:no/evidence", "GET"),
            ("/api/v1/repairs/:no/:act", "POST"),
        ],
    );
    router.handle(req)
}

/// Runs `serve` with this caller's case desk.
fn with_desk(
    req: &Request,
    serve: impl FnOnce(&CaseDesk<'_, platform::SpinStore>) -> Answer,
) -> Answer {
    let settings = platform::settings()?;
    let caller = caller(req, &settings)?;
    let kv = store()?;
    serve(&CaseDesk::new(
        &kv,
        &caller,
        &settings.disputes,
        settings.rules.staff_mandate_days,
    ))
}

fn file(req: Request, kind: CaseKind) -> Answer {
    let body = platform::json_body_or_empty(&req, MAX_BODY_BYTES)?;
    with_desk(&req, |desk| {
        let view = match kind {
            CaseKind::Objection => desk.file_objection(&body)?,
            CaseKind::Repair => desk.apply_repair(&body)?,
        };
        let mut response = json(201, &view)?;
        let location = format!(
            "/api/v1/{}/{}",
            kind.plural(),
            view["no"].as_str().unwrap_or_default()
        );
        response.set_header("location", location);
        Ok(response)
    })
}

fn list(req: Request, kind: CaseKind) -> Answer {
    let filter = case_filter(
        kind,
        query_param(&req, "status").as_deref(),
        query_param(&req, "overdue").as_deref(),
        query_param(&req, "uscc").as_deref(),
        platform::page_request(&req)?,
    )?;
    with_desk(&req, |desk| json(200, &desk.list(kind, &filter)?))
}

fn read(req: Request, params: Params, kind: CaseKind) -> Answer {
    with_desk(&req, |desk| {
        json(200, &desk.read(kind, param(&params, "no"))?)
    })
}

fn decide(req: Request, params: Params, kind: CaseKind) -> Answer {
    let body: Value = platform::json_body_or_empty(&req, MAX_BODY_BYTES)?;
    with_desk(&req, |desk| {
        let view = desk.decide(kind, param(&params, "no"), param(&params, "act"), &body)?;
        platform::notify_holders(&revoked_by(&view));
        json(200, &view)
    })
}

/// The reports a decision revoked, as its case view lists them.
fn revoked_by(view: &Value) -> Vec<ReportNo> {
    view["revoked_reports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|no| no.as_str()?.parse().ok())
        .collect()
}

/// Evidence, uploaded by the public, is served as a download only: never
/// rendered inline (`attachment`), never sniffed into another type
/// (`nosniff`), and inert should a browser open it anyway (a sandbox that
/// allows nothing).
fn evidence(req: Request, params: Params, kind: CaseKind) -> Answer {
    with_desk(&req, |desk| {
        let (no, file) = desk.evidence(kind, param(&params, "no"))?;
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
            .header("content-security-policy", "default-src 'none'; sandbox")
            .header("cache-control", "no-store")
            .body(file.bytes)
            .build())
    })
}
