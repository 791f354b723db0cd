//! The OpenAPI document the catalog component serves describes every API route of spin.toml,
//! and names no path that no route serves.

use std::collections::BTreeSet;

use integration_tests::{HostOptions, TestHost, workspace_dir};

/// API routes of spin.toml, as written there (`/...` wildcards, `:name` parameters).
fn api_routes() -> Vec<String> {
    let manifest = std::fs::read_to_string(workspace_dir().join("spin.toml")).expect("reading spin.toml");
    let manifest: toml::Table = toml::from_str(&manifest).expect("spin.toml is TOML");
    manifest["trigger"]["http"]
        .as_array()
        .expect("[[trigger.http]] entries")
        .iter()
        .map(|trigger| trigger["route"].as_str().expect("route").to_owned())
        .filter(|route| route.starts_with("/api/"))
        .collect()
}

/// Whether a Spin route serves an OpenAPI path (`{name}` segments match anything).
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
    route.iter().zip(path).all(|(r, p)| r == p || r.starts_with(':') || p.starts_with('{'))
}

#[test]
fn openapi_document_covers_every_api_route_and_only_those() {
    let host = TestHost::start(HostOptions::product());
    let reply = host.get("/api/v1/openapi.json");
    assert_eq!(reply.status, 200, "{}", reply.text());
    let document = reply.json();
    assert_eq!(document["openapi"], "3.1.0");
    let paths: Vec<String> =
        document["paths"].as_object().expect("paths").keys().cloned().collect();

    for route in api_routes() {
        assert!(
            paths.iter().any(|path| route_serves(&route, path)),
            "spin.toml route {route} is not in the OpenAPI document"
        );
    }
    for path in &paths {
        assert!(
            api_routes().iter().any(|route| route_serves(route, path)),
            "OpenAPI path {path} is served by no API route of spin.toml"
        );
        for (method, operation) in document["paths"][path].as_object().expect("operations") {
            let responses = operation["responses"].as_object().expect("responses");
            assert!(!responses.is_empty(), "{method} {path} documents no response");
        }
    }
}

#[test]
fn catalog_serves_every_word_list_the_openapi_document_names() {
    let host = TestHost::start(HostOptions::product());
    let document = host.get("/api/v1/openapi.json").json();
    let documented: BTreeSet<&String> =
        document["components"]["schemas"]["Vocabulary"]["properties"]
            .as_object()
            .expect("Vocabulary schema properties")
            .keys()
            .collect();
    let catalog = host.get("/api/v1/catalog").json();
    let served = catalog["vocabulary"]
        .as_object()
        .expect("vocabulary section");
    assert_eq!(served.keys().collect::<BTreeSet<_>>(), documented);
    for (list, terms) in served {
        let terms = terms.as_array().expect("a word list is an array");
        assert!(!terms.is_empty(), "{list} is empty");
        for term in terms {
            assert!(
                term["code"].as_str().is_some_and(|c| !c.is_empty())
                    && term["label"].as_str().is_some_and(|l| !l.is_empty()),
                "{list} has {term}"
            );
        }
    }
    assert_eq!(
        catalog["vocabulary"]["objection_grounds"][0],
        serde_json::json!({"code": "error", "label": "错误"})
    );
}
