//! The catalog component serves the OpenAPI document of the repository as it is; tests/contract.rs
//! checks that document against spin.toml, docs/api.md and the problem codes.

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
