//! The checked-in OpenAPI document is the one the code generates, and it declares what
//! handlers answer.

use std::path::Path;

/// Regenerate with `make openapi` (or `UPDATE_OPENAPI=1 cargo test --workspace`).
#[test]
fn the_checked_in_openapi_document_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json");
    let generated = vestibule_server::openapi_json().unwrap();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(checked_in == generated, "openapi/openapi.json is stale: run `make openapi` and commit the result");
}

/// utoipa keeps one schema per name: a second Rust type under a taken name would silently
/// replace the first, and every operation using the first would describe the wrong shape.
#[test]
fn no_two_types_share_a_schema_name() {
    let mut seen: std::collections::HashMap<String, serde_json::Value> = std::collections::HashMap::new();
    for (name, schema) in vestibule_http::schema_registrations() {
        let schema = serde_json::to_value(schema).unwrap();
        if let Some(first) = seen.get(&name) {
            assert!(*first == schema, "two types are published as the schema `{name}`:\n{first}\n{schema}");
        } else {
            seen.insert(name, schema);
        }
    }
}

#[test]
fn every_reference_resolves() {
    fn walk(spec: &serde_json::Value, node: &serde_json::Value, at: &str) {
        match node {
            serde_json::Value::Object(map) => {
                if let Some(reference) = map.get("$ref").and_then(|r| r.as_str()) {
                    let target = reference.strip_prefix('#').and_then(|pointer| spec.pointer(pointer));
                    assert!(target.is_some(), "{at}: $ref {reference} does not resolve");
                }
                for (key, value) in map {
                    walk(spec, value, &format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")));
                }
            }
            serde_json::Value::Array(items) => {
                for (i, value) in items.iter().enumerate() {
                    walk(spec, value, &format!("{at}/{i}"));
                }
            }
            _ => {}
        }
    }
    let spec = vestibule_http::openapi_document();
    walk(&spec, &spec, "");
}

#[test]
fn every_operation_declares_its_errors_and_security() {
    let spec = vestibule_http::openapi_document();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let what = format!("{} {path}", method.to_uppercase());
            let responses = operation["responses"].as_object().unwrap();
            assert!(operation["operationId"].is_string(), "{what} has no operationId");
            if path.starts_with("/v1/") {
                for code in responses.keys().filter(|c| c.starts_with('4') || c.starts_with('5')) {
                    assert_eq!(
                        responses[code]["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{what} {code} is not a problem"
                    );
                }
                assert!(responses.contains_key("500"), "{what} does not declare 500");
            }
            let secured = operation["security"].as_array().is_some_and(|s| !s.is_empty());
            if secured {
                assert!(responses.contains_key("401"), "{what} is secured but does not declare 401");
                assert!(responses.contains_key("403"), "{what} is secured but does not declare 403");
            }
            // The query extractor answers 400 for what does not parse, 422 for what it refuses.
            let queried = operation["parameters"].as_array().is_some_and(|p| p.iter().any(|p| p["in"] == "query"));
            if queried {
                for code in ["400", "422"] {
                    assert!(responses.contains_key(code), "{what} takes query parameters but does not declare {code}");
                }
            }
            if let Some(body) = operation.get("requestBody") {
                // Only JSON bodies can be of the wrong media type; uploads take any bytes.
                let json = body["content"].get("application/json").is_some();
                let expected: &[&str] = if json { &["400", "413", "415", "422"] } else { &["400", "413", "422"] };
                for code in expected {
                    assert!(responses.contains_key(*code), "{what} takes a body but does not declare {code}");
                }
            }
        }
    }
}
