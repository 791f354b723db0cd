//! The catalog component serves the OpenAPI document of the repository as it is; tests/contract.rs
//! checks that document against spin.toml, docs/api.md and the problem codes.

use std::collections::BTreeSet;

use integration_tests::{HostOptions, TestHost, workspace_dir};

#[test]
fn serves_the_openapi_document_of_the_repository() {
    let host = TestHost::start(HostOptions::product());
    let reply = host.get("/api/v1/openapi.json");
    assert_eq!(reply.status, 200, "{}", reply.text());
    let source = workspace_dir().join("functions/catalog/openapi.json");
    let file = std::fs::read_to_string(&source).expect("reading openapi.json");
    let file: serde_json::Value = serde_json::from_str(&file).expect("openapi.json is JSON");
    assert_eq!(reply.json(), file);
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
