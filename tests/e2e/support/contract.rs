//! The spec as a contract: every answer a test receives goes through [`check`], which fails
//! the test that made the request unless the OpenAPI document declares it exactly: the
//! status for the operation called, the content type for that status, a JSON body valid
//! against its schema (JSON Schema 2020-12), the headers it declares as required, and no
//! contract header it leaves undeclared.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Headers a client acts on: a response that carries one must declare it.
const CONTRACT_HEADERS: [&str; 6] =
    ["location", "etag", "idempotent-replayed", "retry-after", "x-request-id", "content-range"];

/// Served beside the API but not part of it: the spec itself, its docs page, and CORS
/// preflights (answered by the CORS layer for every path).
fn outside_the_spec(method: &Method, path: &str) -> bool {
    method == Method::OPTIONS || path == "/openapi.json" || path == "/docs" || path.starts_with("/docs/")
}

struct Route {
    template: String,
    /// `None` for a `{parameter}` segment.
    segments: Vec<Option<String>>,
}

impl Route {
    fn matches(&self, segments: &[&str]) -> bool {
        self.segments.len() == segments.len()
            && self.segments.iter().zip(segments).all(|(want, got)| match want {
                Some(literal) => literal == got,
                None => !got.is_empty(),
            })
    }

    fn literals(&self) -> usize {
        self.segments.iter().filter(|s| s.is_some()).count()
    }
}

struct Contract {
    spec: Value,
    routes: Vec<Route>,
    /// The spec's components, with every object closed to properties it does not declare.
    components: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let spec: Value = serde_json::from_str(&vestibule_server::openapi_json().expect("the OpenAPI document"))
            .expect("the OpenAPI document is JSON");
        let routes = spec["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .map(|template| Route {
                template: template.clone(),
                segments: template
                    .split('/')
                    .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_owned()))
                    .collect(),
            })
            .collect();
        let mut components = spec["components"].clone();
        closed(&mut components, false);
        let open: serde_json::Map<String, Value> = components["schemas"]
            .as_object()
            .expect("schemas")
            .iter()
            .map(|(name, schema)| {
                let mut schema = schema.clone();
                if let Some(map) = schema.as_object_mut() {
                    map.remove("unevaluatedProperties");
                }
                (name.clone(), schema)
            })
            .collect();
        components[OPEN] = Value::Object(open);
        Contract { spec, routes, components, validators: Mutex::default() }
    })
}

/// Checks one answer. `body` is `None` when the caller streams it (downloads, live streams):
/// then status, content type and headers are checked, the body is not.
pub fn check(method: &Method, path: &str, status: StatusCode, headers: &HeaderMap, body: Option<&[u8]>) {
    contract().check(method, path, status, headers, body);
}

impl Contract {
    fn check(&self, method: &Method, path: &str, status: StatusCode, headers: &HeaderMap, body: Option<&[u8]>) {
        if outside_the_spec(method, path) {
            return;
        }
        // An answer to HEAD has the headers of a GET and no body.
        let body = body.filter(|_| method != Method::HEAD);
        let segments: Vec<&str> = path.split('/').collect();
        let operation_key = method.as_str().to_ascii_lowercase();
        // As the router does: a path several templates match goes to one with this method.
        let has_method = |r: &&&Route| self.spec["paths"][&r.template].get(&operation_key).is_some();
        let matching: Vec<&Route> = self.routes.iter().filter(|r| r.matches(&segments)).collect();
        let route = matching
            .iter()
            .filter(has_method)
            .max_by_key(|r| r.literals())
            .or_else(|| matching.iter().max_by_key(|r| r.literals()))
            .copied();
        let Some(route) = route else {
            let what = format!("{method} {path} (no such path)");
            assert_eq!(status, StatusCode::NOT_FOUND, "{what}: answered {status}: {}", lossy(body));
            return self.check_problem(&what, headers, body);
        };
        let item = &self.spec["paths"][&route.template];
        let Some(operation) = item.get(&operation_key) else {
            let what = format!("{method} {} (no such operation)", route.template);
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{what}: answered {status}: {}", lossy(body));
            assert!(headers.contains_key("allow"), "{what}: 405 without Allow");
            return self.check_problem(&what, headers, body);
        };
        let operation_id = operation["operationId"].as_str().unwrap_or("?");
        let what = format!("{operation_id} ({method} {}) answered {status}", route.template);
        let code = status.as_u16().to_string();
        let declared = operation["responses"].get(&code).unwrap_or_else(|| {
            let known: Vec<&String> =
                operation["responses"].as_object().map(|r| r.keys().collect()).unwrap_or_default();
            panic!("{what}: status not declared (declared: {known:?}); body: {}", lossy(body))
        });
        let declared = self.resolve(declared);
        let pointer =
            format!("/paths/{}/{operation_key}/responses/{code}", route.template.replace('~', "~0").replace('/', "~1"));
        self.check_headers(&what, declared, headers);
        self.check_content(&what, &pointer, declared, headers, body);
    }

    fn check_problem(&self, what: &str, headers: &HeaderMap, body: Option<&[u8]>) {
        let problem = json!({ "content": { "application/problem+json": {
            "schema": { "$ref": "#/components/schemas/Problem" } } } });
        self.check_content(what, "#problem", &problem, headers, body);
    }

    /// Follows a `$ref` to `#/components/...`.
    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("external $ref {reference}"));
                self.spec.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {reference}"))
            }
            None => value,
        }
    }

    fn check_headers(&self, what: &str, declared: &Value, headers: &HeaderMap) {
        let declared_headers: HashMap<String, &Value> = declared["headers"]
            .as_object()
            .map(|h| h.iter().map(|(name, header)| (name.to_ascii_lowercase(), self.resolve(header))).collect())
            .unwrap_or_default();
        for (name, header) in &declared_headers {
            if header["required"] == true {
                assert!(headers.contains_key(name.as_str()), "{what}: required header {name} is missing");
            }
        }
        for name in CONTRACT_HEADERS {
            if headers.contains_key(name) {
                assert!(declared_headers.contains_key(name), "{what}: sends header {name}, which is not declared");
            }
        }
    }

    fn check_content(&self, what: &str, pointer: &str, declared: &Value, headers: &HeaderMap, body: Option<&[u8]>) {
        let content = declared["content"].as_object();
        let media_type = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
        let Some(media_type) = media_type else {
            let empty = body.is_none_or(<[u8]>::is_empty);
            assert!(empty, "{what}: a body without a content type: {}", lossy(body));
            assert!(
                content.is_none_or(|c| c.is_empty()),
                "{what}: declares content {:?} but sent no body",
                content.map(|c| c.keys().collect::<Vec<_>>())
            );
            return;
        };
        let Some(content) = content.filter(|c| !c.is_empty()) else {
            panic!("{what}: sent {media_type}, but declares no content; body: {}", lossy(body));
        };
        let (_, wildcard) = media_type.split_once('/').unwrap_or((&media_type, ""));
        let essence = |declared: &String| declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        let family = format!("{}/*", media_type.split('/').next().unwrap_or_default());
        let key = [media_type.clone(), family, "*/*".to_owned()]
            .into_iter()
            .find_map(|wanted| content.keys().find(|declared| essence(declared) == wanted).cloned())
            .unwrap_or_else(|| {
                panic!(
                    "{what}: content type {media_type} is not declared (declared: {:?})",
                    content.keys().collect::<Vec<_>>()
                )
            });
        let is_json = media_type == "application/json" || wildcard.ends_with("+json");
        let (Some(body), true) = (body, is_json) else { return };
        let instance: Value = serde_json::from_slice(body)
            .unwrap_or_else(|e| panic!("{what}: the {media_type} body is not JSON ({e}): {}", lossy(Some(body))));
        let Some(schema) = content[&key].get("schema") else { return };
        let validator = self.validator(&format!("{pointer}/content/{key}"), schema);
        let failures: Vec<String> = validator
            .iter_errors(&instance)
            .take(5)
            .map(|e| format!("at {} (schema {}): {e}", e.instance_path(), e.schema_path()))
            .collect();
        assert!(
            failures.is_empty(),
            "{what}: the body does not match the spec:\n  {}\nbody: {instance}",
            failures.join("\n  ")
        );
    }

    /// One compiled validator per schema, with the document's components beside it so that
    /// `#/components/...` references resolve.
    fn validator(&self, key: &str, schema: &Value) -> Arc<jsonschema::Validator> {
        let mut validators = self.validators.lock().unwrap();
        validators
            .entry(key.to_owned())
            .or_insert_with(|| {
                let mut schema = schema.clone();
                closed(&mut schema, false);
                let document = json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "allOf": [schema],
                    "components": self.components,
                });
                let validator = jsonschema::draft202012::options()
                    .should_validate_formats(true)
                    .build(&document)
                    .unwrap_or_else(|e| panic!("the schema at {key} does not compile: {e}"));
                Arc::new(validator)
            })
            .clone()
    }
}

/// Where the validator keeps each component schema open at its top level, for use as one
/// part of an `allOf` (its siblings declare the rest).
const OPEN: &str = "x-open";

/// Closes every object schema to the properties it declares, so that a field the server
/// sends but the spec does not describe fails the check. An `allOf` is closed as a whole,
/// its parts are left open.
fn closed(node: &mut Value, in_all_of: bool) {
    match node {
        Value::Object(map) => {
            let object = map.contains_key("properties") || map.contains_key("allOf");
            if !in_all_of && object && !map.contains_key("additionalProperties") {
                map.insert("unevaluatedProperties".to_owned(), Value::Bool(false));
            }
            if in_all_of && let Some(Value::String(reference)) = map.get_mut("$ref") {
                *reference = reference.replace("#/components/schemas/", &format!("#/components/{OPEN}/"));
            }
            for (key, value) in map.iter_mut() {
                if key == "allOf" {
                    if let Value::Array(parts) = value {
                        parts.iter_mut().for_each(|part| closed(part, true));
                    }
                } else if key != "$ref" {
                    closed(value, false);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| closed(item, false)),
        _ => {}
    }
}

fn lossy(body: Option<&[u8]>) -> String {
    body.map(|b| String::from_utf8_lossy(&b[..b.len().min(2000)]).into_owned()).unwrap_or_else(|| "(streamed)".into())
}
