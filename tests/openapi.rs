//! The catalog component serves the OpenAPI document of the repository with the record schemas
//! made from the core's field table; tests/contract.rs checks that document against spin.toml,
//! docs/api.md and the problem codes.

use std::collections::BTreeSet;

use credit_core::record::fields::KINDS;
use credit_core::record::schema;
use integration_tests::fixtures::admin;
use integration_tests::{HostOptions, TestHost, workspace_dir};
use serde_json::{Value, json};

#[test]
fn serves_the_openapi_document_of_the_repository() {
    let host = TestHost::start(HostOptions::product());
    let reply = host.get("/api/v1/openapi.json");
    assert_eq!(reply.status, 200, "{}", reply.text());
    let source = workspace_dir().join("functions/catalog/openapi.json");
    let file = std::fs::read_to_string(&source).expect("reading openapi.json");
    let expected = schema::openapi_document(&file).expect("openapi.json is JSON");
    let served = reply.json();
    assert_eq!(served, expected);
    // The catalog component's three documents answer HEAD with GET's headers and no body.
    for path in [
        "/api/v1/openapi.json",
        "/api/v1/catalog",
        "/api/v1/seal/certificates",
    ] {
        let get = host.get(path);
        let head = host.request("HEAD", path, &[], b"");
        assert_eq!(head.status, 200, "HEAD {path}: {}", head.text());
        assert!(head.body.is_empty(), "HEAD {path} has a body");
        for name in ["content-type", "cache-control"] {
            assert_eq!(head.header(name), get.header(name), "HEAD {path}: {name}");
        }
    }
    let put = host.request("PUT", "/api/v1/catalog", &[], b"");
    assert_eq!(put.status, 405);
    assert_eq!(put.header("allow"), Some("GET, HEAD"));
    let mut refs = Vec::new();
    collect_refs(&served, &mut refs);
    for reference in refs {
        let pointer = reference.trim_start_matches('#');
        assert!(
            served.pointer(pointer).is_some(),
            "{reference} names nothing in the served document"
        );
    }
}

fn collect_refs(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, member) in map {
                match (key.as_str(), member) {
                    ("$ref", Value::String(target)) => into.push(target.clone()),
                    _ => collect_refs(member, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, into)),
        _ => {}
    }
}

/// Each kind's schema requires exactly what the field table requires (the
/// parser's own test holds the table to what it rejects as missing), names
/// each field with its 双公示 column, lists the accepted words and carries an
/// example the service accepts as it is.
#[test]
fn record_schemas_per_kind_are_the_field_table_and_their_examples_are_accepted() {
    let host = TestHost::start(HostOptions::product());
    let document = host.get("/api/v1/openapi.json").json();
    let catalog = host.get("/api/v1/catalog").json();
    let schemas = &document["components"]["schemas"];
    for spec in KINDS {
        let schema = &schemas[spec.schema];
        let required: Vec<&str> = spec.required().map(|f| f.name).collect();
        assert_eq!(schema["required"], json!(required), "{}", spec.schema);
        for field in spec.fields {
            let property = &schema["properties"][field.name];
            assert_eq!(
                property["title"], field.column,
                "{}.{}",
                spec.schema, field.name
            );
            assert!(
                property["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty())
            );
        }
        let served_fields = catalog["record_fields"]
            .as_array()
            .expect("record_fields")
            .iter()
            .find(|k| k["kind"] == spec.kind.as_str())
            .expect("the kind's fields in the catalog");
        assert_eq!(served_fields["schema"], spec.schema);
        assert_eq!(
            served_fields["fields"].as_array().map(Vec::len),
            Some(spec.fields.len())
        );
    }
    let categories =
        &schemas["PenaltyRecord"]["properties"]["penalty_categories"]["oneOf"][0]["items"]["enum"];
    assert!(categories.as_array().unwrap().contains(&json!("罚款")));
    assert!(categories.as_array().unwrap().contains(&json!("fine")));

    let admin = admin();
    for spec in KINDS {
        let mut example = schemas[spec.schema]["example"].clone();
        example["document_no"] = json!(format!("示例-{}", spec.kind.as_str()));
        let answer = host
            .put_json("/api/v1/records", &json!([example]), Some(&admin))
            .json();
        let result = &answer["results"][0];
        assert_eq!(result["status"], "created", "{}: {result}", spec.schema);
        assert_eq!(result.get("warnings"), None, "{}: {result}", spec.schema);
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
