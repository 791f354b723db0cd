//! The record schema as documentation, made from the field table: the
//! OpenAPI schema of each kind (required fields, 双公示 names, allowed values
//! with the Chinese words accepted, a complete example) and the example
//! records. The catalog component adds these schemas to the OpenAPI
//! document it serves.

use serde_json::{Map, Value, json};

use super::MAX_TEXT_CHARS;
use super::fields::{FieldSpec, FieldType, KINDS, KindSpec};
use crate::catalog::catalog;
use crate::error::Error;
use crate::vocabulary::{CoerciveMeasureType, PenaltyCategory, Procedure, RecordKind, Severity};

/// A complete record of the kind that passes every check.
pub fn example(spec: &KindSpec) -> Value {
    let mut object = Map::new();
    for field in spec.fields {
        let value = match field.field_type {
            FieldType::Kind => json!(spec.kind.as_str()),
            FieldType::Domain => json!(domains_of(spec.kind).first().copied().unwrap_or_default()),
            _ if field.example.is_empty() => continue,
            FieldType::Flag => json!(field.example == "是"),
            FieldType::PenaltyCategories | FieldType::CoerciveMeasureTypes => {
                json!([field.example])
            }
            _ => json!(field.example),
        };
        object.insert(field.name.to_owned(), value);
    }
    Value::Object(object)
}

/// The data domains that collect the kind.
pub fn domains_of(kind: RecordKind) -> Vec<&'static str> {
    catalog()
        .data_domains
        .iter()
        .filter(|d| d.scope.contains(&kind))
        .map(|d| d.code.as_str())
        .collect()
}

/// The OpenAPI schema of one kind.
pub fn openapi_schema(spec: &KindSpec) -> Value {
    let properties: Map<String, Value> = spec
        .fields
        .iter()
        .map(|f| (f.name.to_owned(), property(spec.kind, f)))
        .collect();
    let required: Vec<&str> = spec.required().map(|f| f.name).collect();
    json!({
        "type": "object",
        "title": spec.kind.label(),
        "description": format!(
            "{}记录。CSV 列名即各字段的 title（双公示名称），x-csv-aliases 为也接受的列名；未知字段会被警告（UNKNOWN_FIELD）并忽略。",
            spec.kind.label()
        ),
        "required": required,
        "properties": properties,
        "example": example(spec),
    })
}

fn property(kind: RecordKind, field: &FieldSpec) -> Value {
    let words = |pairs: Vec<(&str, &str)>| -> Value {
        let mut accepted: Vec<&str> = pairs.iter().map(|(code, _)| *code).collect();
        accepted.extend(pairs.iter().map(|(_, label)| *label));
        json!({ "type": "string", "enum": accepted })
    };
    let mut schema = match field.field_type {
        FieldType::Text => json!({ "type": "string", "maxLength": MAX_TEXT_CHARS }),
        FieldType::CreditCode => json!({
            "type": "string",
            "pattern": "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
        }),
        FieldType::Date => json!({
            "type": "string",
            "examples": ["2026-03-01", "2026/3/1", "2026年3月1日"]
        }),
        FieldType::Amount => json!({
            "type": ["string", "number"],
            "pattern": "^[0-9]+(\\.[0-9]+)?$"
        }),
        FieldType::Flag => {
            json!({ "type": ["boolean", "string"], "enum": [true, false, "是", "否", "true", "false"] })
        }
        FieldType::Kind => words(vec![(kind.as_str(), kind.label())]),
        FieldType::Domain => json!({ "type": "string", "enum": domains_of(kind) }),
        FieldType::PenaltyCategories => {
            let item = words(
                PenaltyCategory::ALL
                    .map(|c| (c.as_str(), c.label()))
                    .to_vec(),
            );
            json!({
                "oneOf": [
                    { "type": "array", "minItems": 1, "items": item },
                    { "type": "string", "description": "以“；”“、”分隔的处罚类别，如“罚款；警告”" }
                ]
            })
        }
        FieldType::CoerciveMeasureTypes => {
            let mut item = words(
                CoerciveMeasureType::ALL
                    .map(|m| (m.as_str(), m.label()))
                    .to_vec(),
            );
            if let Some(accepted) = item["enum"].as_array_mut() {
                accepted.extend(CoerciveMeasureType::ALL.map(|m| json!(m.short_label())));
            }
            json!({
                "oneOf": [
                    { "type": "array", "minItems": 1, "items": item },
                    { "type": "string", "description": "以“；”“、”分隔的强制措施种类，如“查封；扣押”；也接受简称 查封、扣押、冻结、其他" }
                ]
            })
        }
        FieldType::Procedure => words(Procedure::ALL.map(|p| (p.as_str(), p.label())).to_vec()),
        FieldType::Severity => words(Severity::ALL.map(|s| (s.as_str(), s.label())).to_vec()),
    };
    if let Some(object) = schema.as_object_mut() {
        object.insert("title".into(), json!(field.column));
        object.insert("description".into(), json!(field.description));
        if !field.aliases.is_empty() {
            object.insert("x-csv-aliases".into(), json!(field.aliases));
        }
    }
    schema
}

/// The OpenAPI document of `text` with the record schemas added.
pub fn openapi_document(text: &str) -> Result<Value, Error> {
    let mut document: Value =
        serde_json::from_str(text).map_err(|e| Error::Internal(format!("openapi.json: {e}")))?;
    complete_openapi(&mut document);
    Ok(document)
}

/// Adds every kind's schema, and `Record` as one of them, to an OpenAPI
/// document's `components.schemas`.
pub fn complete_openapi(document: &mut Value) {
    let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let refs: Vec<Value> = KINDS
        .iter()
        .map(|k| json!({ "$ref": format!("#/components/schemas/{}", k.schema) }))
        .collect();
    for spec in KINDS {
        schemas.insert(spec.schema.to_owned(), openapi_schema(spec));
    }
    schemas.insert(
        "Record".into(),
        json!({
            "description": "一条记录，按 kind 分为下列类型之一（字段表见 GET /api/v1/catalog 的 record_fields）",
            "oneOf": refs,
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Record, fields::kind_spec};
    use chrono::NaiveDate;

    fn today() -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2026, 12, 1)
    }

    #[test]
    fn every_example_passes_every_check_without_warnings() {
        for spec in KINDS {
            let checked = Record::check(&example(spec), today())
                .unwrap_or_else(|r| panic!("{:?}: {:?}", spec.kind, r.problems));
            assert_eq!(checked.record.kind(), spec.kind);
            assert_eq!(checked.warnings, [], "{:?}", spec.kind);
        }
    }

    /// The schema's required list is what the parser requires: leaving out
    /// a required field is `MISSING_FIELD` for that field and that field only;
    /// leaving out any other still parses, but for the fields its description
    /// says another field makes required.
    /// The fine amount, required with the category 罚款 that the examples carry.
    const CONDITIONALLY_REQUIRED: [&str; 1] = ["fine_wan_yuan"];

    #[test]
    fn schema_required_lists_are_what_the_parser_requires() {
        for spec in KINDS {
            let schema = openapi_schema(spec);
            let required: Vec<&str> = schema["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            for field in spec.fields {
                let mut item = example(spec);
                item.as_object_mut().unwrap().remove(field.name);
                let outcome = Record::check(&item, today());
                if required.contains(&field.name) {
                    let problems = outcome.expect_err(field.name).problems;
                    let named: Vec<_> = problems.iter().map(|p| (p.code(), p.field())).collect();
                    assert_eq!(
                        named,
                        [("MISSING_FIELD", Some(field.name))],
                        "{:?}",
                        spec.kind
                    );
                } else if CONDITIONALLY_REQUIRED.contains(&field.name) {
                    let problems = outcome.expect_err(field.name).problems;
                    let named: Vec<_> = problems.iter().map(|p| (p.code(), p.field())).collect();
                    assert_eq!(named, [("INVALID_FIELD", Some(field.name))]);
                    assert!(field.description.contains("必填"), "{}", field.name);
                } else {
                    assert!(
                        outcome.is_ok(),
                        "{:?} {}: {:?}",
                        spec.kind,
                        field.name,
                        outcome.err()
                    );
                }
            }
        }
    }

    #[test]
    fn every_allowed_word_is_accepted_and_documented() {
        let penalty = kind_spec(RecordKind::Penalty);
        let schema = openapi_schema(penalty);
        let procedures = &schema["properties"]["procedure"]["enum"];
        for word in ["general", "普通程序", "simplified", "简易程序"] {
            assert!(
                procedures.as_array().unwrap().contains(&json!(word)),
                "{word}"
            );
            let mut item = example(penalty);
            item["procedure"] = json!(word);
            assert!(Record::check(&item, today()).is_ok(), "{word}");
        }
        assert_eq!(
            schema["properties"]["penalty_categories"]["title"],
            "处罚类别"
        );
        assert_eq!(
            schema["properties"]["domain"]["enum"],
            json!(domains_of(RecordKind::Penalty))
        );
    }

    #[test]
    fn the_document_gets_every_kind_and_record_as_one_of_them() {
        let mut document = json!({ "components": { "schemas": { "Problem": {} } } });
        complete_openapi(&mut document);
        let schemas = document["components"]["schemas"].as_object().unwrap();
        for spec in KINDS {
            assert!(schemas.contains_key(spec.schema));
        }
        assert_eq!(
            schemas["Record"]["oneOf"].as_array().unwrap().len(),
            KINDS.len()
        );
    }
}
