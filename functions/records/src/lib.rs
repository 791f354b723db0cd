//! Department record intake and the admin's audit log:
//! `PUT /api/v1/records` (batch upsert, JSON array, NDJSON or CSV),
//! `GET /api/v1/records?uscc=&cursor=&limit=` (paged), `GET|DELETE /api/v1/records/{id}`,
//! `GET /api/v1/records/templates/{kind}` (the CSV header row of a kind),
//! `GET /api/v1/audit?date=YYYY-MM-DD&cursor=&limit=` (the change log),
//! `GET /api/v1/audit/access?date=&cursor=&limit=` (public verifications),
//! `GET /api/v1/audit/check?day=` (both logs of a day checked) and
//! `POST /api/v1/audit/prune?day=` (an old day's access log to a summary),
//! `GET /api/v1/stats/collection` (the collection accountability list,
//! JSON or CSV) and `GET /api/v1/stats/usage?from=&to=` (usage figures).

use credit_core::stats::collection_csv;
use credit_core::usecase::{audit_log, entity_param, intake, stats};
use platform::{Answer, caller, json, param, query_param, store};
use spin_sdk::http::{Params, Request, Response, Router};
use spin_sdk::http_component;

/// A batch of 1000 typical records takes about 1.5 MB.
const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// A withdrawal's reason.
const MAX_REASON_BYTES: usize = 64 * 1024;

#[http_component]
fn handle(req: Request) -> Response {
    let mut router = Router::new();
    router.put("/api/v1/records", upsert_batch);
    router.get("/api/v1/records", list);
    router.get("/api/v1/records/:id", show);
    router.delete("/api/v1/records/:id", withdraw);
    router.get("/api/v1/records/templates/:kind", template);
    router.get("/api/v1/audit", audit_entries);
    router.get("/api/v1/audit/access", access_entries);
    router.get("/api/v1/audit/check", check_day);
    router.post("/api/v1/audit/prune", prune_day);
    router.get("/api/v1/stats/collection", collection_figures);
    router.get("/api/v1/stats/usage", usage_figures);
    platform::refuse_the_rest(
        &mut router,
        &[
            ("/api/v1/records", "GET, PUT"),
            ("/api/v1/records/:id", "GET, DELETE"),
            ("/api/v1/records/templates/:kind", "GET"),
            ("/api/v1/audit", "GET"),
            ("/api/v1/audit/access", "GET"),
            ("/api/v1/audit/check", "GET"),
            ("/api/v1/audit/prune", "POST"),
            ("/api/v1/stats/collection", "GET"),
            ("/api/v1/stats/usage", "GET"),
        ],
    );
    router.handle(req)
}

fn upsert_batch(req: Request, _: Params) -> Answer {
    let settings = platform::settings()?;
    let caller = caller(&req, &settings)?;
    let body = platform::body_within(&req, MAX_BATCH_BYTES)?;
    let defaults = intake::batch_defaults(|name| query_param(&req, name));
    let batch = intake::batch_items(platform::content_type(&req).as_deref(), body, &defaults)?;
    let stored = intake::upsert_batch(&store()?, &caller, batch)?;
    let revoked: Vec<_> = stored
        .results
        .iter()
        .flat_map(|item| item.revoked_reports.iter().cloned())
        .collect();
    platform::notify_holders(&revoked);
    json(200, &stored)
}

/// Public: a template holds no data.
fn template(_: Request, params: Params) -> Answer {
    let kind = param(&params, "kind");
    let header = intake::csv_template(kind)?;
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/csv; charset=utf-8")
        .header(
            "content-disposition",
            format!("attachment; filename=\"{kind}-template.csv\""),
        )
        .header("cache-control", "public, max-age=300")
        .body(header)
        .build())
}

fn list(req: Request, _: Params) -> Answer {
    let settings = platform::settings()?;
    let caller = caller(&req, &settings)?;
    let requested = entity_param(query_param(&req, "uscc").as_deref())?;
    let page = platform::page_request(&req)?;
    json(
        200,
        &intake::records_of(&store()?, &caller, requested, &page)?,
    )
}

fn show(req: Request, params: Params) -> Answer {
    let settings = platform::settings()?;
    let caller = caller(&req, &settings)?;
    json(
        200,
        &intake::record(&store()?, &caller, param(&params, "id"))?,
    )
}

fn withdraw(req: Request, params: Params) -> Answer {
    let settings = platform::settings()?;
    let caller = caller(&req, &settings)?;
    let body = platform::json_body_or_empty(&req, MAX_REASON_BYTES)?;
    let reason = intake::withdrawal_reason(&body, query_param(&req, "reason"))?;
    let withdrawn = intake::withdraw(&store()?, &caller, param(&params, "id"), &reason)?;
    platform::notify_holders(&withdrawn.revoked_reports);
    json(200, &withdrawn)
}

fn audit_entries(req: Request, _: Params) -> Answer {
    let settings = platform::settings()?;
    let caller = caller(&req, &settings)?;
    let query = audit_log::Query::parse(
        query_param(&req, "date").as_deref(),
        query_param(&req, "cursor").as_deref(),
        query_param(&req, "after").as_deref(),
        query_param(&req, "limit").as_deref(),
        caller.now,
    )?;
    json(200, &audit_log::entries(&store()?, &caller, &query)?)
}

fn access_entries(req: Request, _: Params) -> Answer {
    let settings = platform::settings()?;
    let caller = caller(&req, &settings)?;
    let date = audit_log::day_param("date", query_param(&req, "date").as_deref(), caller.now)?;
    let page = platform::page_request(&req)?;
    json(
        200,
        &audit_log::access_entries(
            &store()?,
            &caller,
            date,
            &page,
            settings.visitors.verify_rate_limit_per_minute,
        )?,
    )
}

fn check_day(req: Request, _: Params) -> Answer {
    let settings = platform::settings()?;
    let caller = caller(&req, &settings)?;
    let day = audit_log::day_param("day", query_param(&req, "day").as_deref(), caller.now)?;
    json(
        200,
        &audit_log::check(
            &store()?,
            &caller,
            day,
            settings.visitors.verify_rate_limit_per_minute,
        )?,
    )
}

fn prune_day(req: Request, _: Params) -> Answer {
    let settings = platform::settings()?;
    let caller = caller(&req, &settings)?;
    let Some(day) = query_param(&req, "day") else {
        return Err(credit_core::error::Error::MissingField {
            field: "day".into(),
        }
        .into());
    };
    let day = audit_log::day_param("day", Some(&day), caller.now)?;
    json(
        200,
        &audit_log::prune(
            &store()?,
            &caller,
            day,
            settings.verifier_address_retention_days,
            settings.visitors.verify_rate_limit_per_minute,
        )?,
    )
}

/// JSON, or CSV for a spreadsheet (`Accept: text/csv` or `?format=csv`).
fn collection_figures(req: Request, _: Params) -> Answer {
    let settings = platform::settings()?;
    let caller = caller(&req, &settings)?;
    let figures = stats::collection(
        &store()?,
        &caller,
        query_param(&req, "unit").as_deref(),
        settings.collection_overdue_days,
    )?;
    let wants_csv = query_param(&req, "format").as_deref() == Some("csv")
        || platform::header(&req, "accept").is_some_and(|accept| accept.contains("text/csv"));
    if !wants_csv {
        return json(200, &figures);
    }
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/csv; charset=utf-8")
        .header(
            "content-disposition",
            format!(
                "attachment; filename=\"collection-{}.csv\"",
                figures.generated_at.format("%Y%m%d")
            ),
        )
        .header("cache-control", "no-store")
        .body(collection_csv(&figures)?)
        .build())
}

fn usage_figures(req: Request, _: Params) -> Answer {
    let settings = platform::settings()?;
    let caller = caller(&req, &settings)?;
    json(
        200,
        &stats::usage(
            &store()?,
            &caller,
            query_param(&req, "from").as_deref(),
            query_param(&req, "to").as_deref(),
            settings.visitors.verify_rate_limit_per_minute,
        )?,
    )
}
