//! The contract (docs/api.md), the OpenAPI document (functions/catalog/openapi.json) and
//! spin.toml describe the same API: the same endpoints and routes, and the same problem codes as
//! the core's error type and the host answer with. Reads files and crates only: no component, no
//! running host.

use std::collections::{BTreeMap, BTreeSet};

use credit_core::error::CODES;
use integration_tests::workspace_dir;
use serde_json::Value;

#[path = "../host/src/problem.rs"]
mod host_problem;

use host_problem::HostProblem;

const OPERATION_METHODS: [&str; 7] = ["get", "put", "post", "delete", "patch", "head", "options"];

fn read(relative: &str) -> String {
    std::fs::read_to_string(workspace_dir().join(relative))
        .unwrap_or_else(|e| panic!("reading {relative}: {e}"))
}

fn contract() -> String {
    read("docs/api.md")
}

fn openapi() -> Value {
    serde_json::from_str(&read("functions/catalog/openapi.json")).expect("openapi.json is JSON")
}

/// `(route, component)` of every `[[trigger.http]]` of spin.toml.
fn spin_routes() -> BTreeSet<(String, String)> {
    let manifest: toml::Table = toml::from_str(&read("spin.toml")).expect("spin.toml is TOML");
    manifest["trigger"]["http"]
        .as_array()
        .expect("[[trigger.http]] entries")
        .iter()
        .map(|trigger| {
            let text = |key: &str| trigger[key].as_str().expect(key).to_owned();
            (text("route"), text("component"))
        })
        .collect()
}

/// The text under `heading` (a whole line, e.g. `## Routing`) up to the next heading.
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let start = doc
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("docs/api.md has no heading {heading:?}"))
        + heading.len()
        + 2;
    let rest = &doc[start..];
    let end = rest.find("\n#").map_or(rest.len(), |at| at + 1);
    &rest[..end]
}

/// The cells of the table rows in `text` whose first cell is in backticks (which leaves out
/// the header and separator rows).
fn table_rows(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix('|')?.strip_suffix('|'))
        .map(|row| row.split('|').map(str::trim).collect::<Vec<_>>())
        .filter(|cells| quoted(cells[0]).is_some())
        .collect()
}

/// The text of a cell that is one piece of code, e.g. `` `GET` ``.
fn quoted(cell: &str) -> Option<&str> {
    let inner = cell.strip_prefix('`')?.strip_suffix('`')?;
    (!inner.contains('`')).then_some(inner)
}

/// A path with every parameter written `{}`: `{report_no}` and `:report_no` alike.
fn template(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with(':') || (segment.starts_with('{') && segment.ends_with('}')) {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `METHOD path-template` of every endpoint in the contract's endpoint table.
fn contract_endpoints() -> BTreeSet<String> {
    let doc = contract();
    let mut endpoints = BTreeSet::new();
    for cells in table_rows(section(&doc, "## Endpoints")) {
        let (Some(method), Some(path)) = (quoted(cells[0]), cells.get(1).and_then(|c| quoted(c)))
        else {
            panic!("docs/api.md endpoint row {cells:?} is not `METHOD` | `path` | …");
        };
        assert!(
            endpoints.insert(format!("{method} {}", template(path))),
            "docs/api.md lists {method} {path} twice"
        );
    }
    endpoints
}

/// `METHOD path-template` of every operation of the OpenAPI document.
fn openapi_endpoints(document: &Value) -> BTreeSet<String> {
    let mut endpoints = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if OPERATION_METHODS.contains(&method.as_str()) {
                endpoints.insert(format!("{} {}", method.to_uppercase(), template(path)));
            }
        }
    }
    endpoints
}

/// Whether a Spin route serves a path (`{}` segments match any one segment).
fn route_serves(route: &str, path: &str) -> bool {
    let path: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    if let Some(base) = route.strip_suffix("/...") {
        let base: Vec<&str> = base.split('/').collect();
        return path.len() >= base.len() && segments_match(&base, &path[..base.len()]);
    }
    let route: Vec<&str> = route.split('/').collect();
    route.len() == path.len() && segments_match(&route, &path)
}

fn segments_match(route: &[&str], path: &[&str]) -> bool {
    route
        .iter()
        .zip(path)
        .all(|(r, p)| r == p || r.starts_with(':') || *p == "{}")
}

/// What differs between two sets, for a failure message.
fn difference(
    left_name: &str,
    left: &BTreeSet<String>,
    right_name: &str,
    right: &BTreeSet<String>,
) -> String {
    format!(
        "only in {left_name}: {:?}; only in {right_name}: {:?}",
        left.difference(right).collect::<Vec<_>>(),
        right.difference(left).collect::<Vec<_>>()
    )
}

/// Every problem the host answers itself. The match has no wildcard arm, so a new
/// `HostProblem` does not compile until it is listed here.
fn host_codes() -> BTreeSet<String> {
    use HostProblem::*;
    let every = [
        RouteNotFound,
        PayloadTooLarge,
        DeadlineExceeded,
        ComponentFailed,
        InvalidTestClock,
        ServerBusy,
        RequestTimeout,
        IncompleteBody,
    ];
    for problem in every {
        match problem {
            RouteNotFound | PayloadTooLarge | DeadlineExceeded | ComponentFailed
            | InvalidTestClock | ServerBusy | RequestTimeout | IncompleteBody => {}
        }
    }
    every.into_iter().map(|p| p.code().to_owned()).collect()
}

fn core_codes() -> BTreeSet<String> {
    CODES.iter().map(|code| (*code).to_owned()).collect()
}

#[test]
fn contract_endpoints_are_the_openapi_operations() {
    let document = openapi();
    assert_eq!(document["openapi"], "3.1.0");
    let (contract, openapi) = (contract_endpoints(), openapi_endpoints(&document));
    assert!(
        contract == openapi,
        "docs/api.md and openapi.json list different endpoints: {}",
        difference("docs/api.md", &contract, "openapi.json", &openapi)
    );
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let responses = operation["responses"].as_object().expect("responses");
            assert!(
                !responses.is_empty(),
                "{method} {path} documents no response"
            );
        }
    }
}

#[test]
fn contract_routing_table_is_spin_toml() {
    let doc = contract();
    let documented: BTreeSet<String> = table_rows(section(&doc, "## Routing"))
        .iter()
        .map(|cells| {
            let route = quoted(cells[0]).expect("quoted route");
            let component = cells.get(1).and_then(|c| quoted(c)).unwrap_or("?");
            format!("{route} -> {component}")
        })
        .collect();
    let manifest: BTreeSet<String> = spin_routes()
        .into_iter()
        .map(|(route, component)| format!("{route} -> {component}"))
        .collect();
    assert!(
        documented == manifest,
        "docs/api.md routing table and spin.toml disagree: {}",
        difference("docs/api.md", &documented, "spin.toml", &manifest)
    );
}

#[test]
fn every_api_route_serves_an_endpoint_and_every_endpoint_has_a_route() {
    let api_routes: Vec<String> = spin_routes()
        .into_iter()
        .map(|(route, _)| route)
        // The API and the sign-in; the pages' `/...` route serves everything else.
        .filter(|route| route.starts_with("/api/") || route.starts_with("/auth/"))
        .collect();
    let paths: BTreeSet<String> = contract_endpoints()
        .iter()
        .map(|endpoint| endpoint.split_once(' ').expect("METHOD path").1.to_owned())
        .collect();
    for route in &api_routes {
        assert!(
            paths.iter().any(|path| route_serves(route, path)),
            "spin.toml route {route} serves no endpoint of docs/api.md"
        );
    }
    for path in &paths {
        assert!(
            api_routes.iter().any(|route| route_serves(route, path)),
            "endpoint {path} of docs/api.md is served by no API route of spin.toml"
        );
    }
}

#[test]
fn problem_codes_agree_across_contract_openapi_core_and_host() {
    let (core, host) = (core_codes(), host_codes());
    let answered: BTreeSet<String> = core.union(&host).cloned().collect();

    let doc = contract();
    let mut sources: BTreeMap<String, String> = BTreeMap::new();
    for cells in table_rows(section(&doc, "### Problem codes")) {
        let code = quoted(cells[0]).expect("quoted code").to_owned();
        let source = cells.get(2).copied().unwrap_or_default().to_owned();
        assert!(
            sources.insert(code.clone(), source).is_none(),
            "docs/api.md lists {code} twice"
        );
    }
    let documented: BTreeSet<String> = sources.keys().cloned().collect();
    assert!(
        documented == answered,
        "docs/api.md problem codes differ from what the service answers: {}",
        difference(
            "docs/api.md",
            &documented,
            "Error::CODES and HostProblem",
            &answered
        )
    );
    for (code, source) in &sources {
        let expected: Vec<&str> = [
            ("component", core.contains(code)),
            ("host", host.contains(code)),
        ]
        .into_iter()
        .filter_map(|(name, applies)| applies.then_some(name))
        .collect();
        assert_eq!(
            source,
            &expected.join(", "),
            "source of {code} in docs/api.md"
        );
    }

    let document = openapi();
    let listed: BTreeSet<String> =
        document["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
            .as_array()
            .expect("openapi.json: Problem.code has an enum")
            .iter()
            .map(|code| code.as_str().expect("code is a string").to_owned())
            .collect();
    assert!(
        listed == answered,
        "openapi.json Problem.code enum differs from what the service answers: {}",
        difference(
            "openapi.json",
            &listed,
            "Error::CODES and HostProblem",
            &answered
        )
    );
}

/// docs/api.md prints each record kind's field table as the service has it
/// (`credit_core::record::fields`), the one table that also makes the
/// OpenAPI schemas, the catalog's `record_fields` and the CSV templates.
#[test]
fn contract_prints_the_record_field_table_of_every_kind() {
    let doc = contract();
    for spec in credit_core::record::fields::KINDS {
        let heading = format!("#### `{}` ({})", spec.kind.as_str(), spec.kind.label());
        let table = credit_core::record::fields::markdown_table(spec);
        assert!(
            section(&doc, &heading).contains(&table),
            "docs/api.md {heading} should hold the field table:\n{table}"
        );
    }
}
