//! What the handlers' own declarations cannot say: the behaviour of layers that wrap every
//! handler (request ids, idempotency, rate limits), the document's top level (servers, the
//! webhooks an integration receives) and the shape utoipa gives generic lists. Each rule
//! here mirrors one mechanism in code, and names it, so that the two change together.

use serde_json::{Value, json};
use vestibule_domain::events::EventType;

use utoipa::IntoResponses;

use crate::middleware::link_privacy::is_link_path;
use crate::problem::{Conflict, RequestTimeout, Unprocessable};

const REQUEST_ID: &str = "x-request-id";
const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// The finished document, as exported and served.
pub fn finish(api: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(api).unwrap_or_default();
    doc["servers"] =
        json!([{ "url": "http://127.0.0.1:8080", "description": "`vestibule serve` on its default address" }]);
    add_components(&mut doc);
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for (method, operation) in item.iter_mut() {
                describe_operation(path, method, operation);
            }
        }
    }
    refer_list_items(&mut doc);
    doc["webhooks"] = webhooks();
    doc
}

fn add_components(doc: &mut Value) {
    let components = &mut doc["components"];
    components["headers"] = json!({
        "RequestId": {
            "description": "The request's id, as logged; quote it when reporting a problem. Echoes a well-formed `x-request-id` of the request.",
            "required": true,
            "schema": { "type": "string" }
        },
        "IdempotentReplayed": {
            "description": "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.",
            "schema": { "type": "string", "enum": ["true"] }
        }
    });
    components["parameters"] = json!({
        "IdempotencyKey": idempotency_key_parameter(),
        "WebhookId": { "name": "webhook-id", "in": "header", "required": true, "description": "The event id (`evt_…`), the same on every attempt: drop repeats by it.", "schema": { "type": "string" } },
        "WebhookTimestamp": { "name": "webhook-timestamp", "in": "header", "required": true, "description": "Unix seconds of this attempt.", "schema": { "type": "string", "pattern": "^[0-9]+$" } },
        "WebhookSignature": { "name": "webhook-signature", "in": "header", "required": true, "description": "`v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the endpoint's secret; several, space-separated, during a secret rotation.", "schema": { "type": "string" } }
    });
}

fn idempotency_key_parameter() -> Value {
    json!({
        "name": "Idempotency-Key",
        "in": "header",
        "required": false,
        "description": "Makes a retry safe: the first answer is stored for 24 hours and replayed for a repeat with the same key (with `idempotent-replayed: true`). The same key with another request answers 422, a repeat while the first is still running 409.",
        "schema": { "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$" }
    })
}

fn describe_operation(path: &str, method: &str, operation: &mut Value) {
    let secured = operation["security"].as_array().is_some_and(|s| !s.is_empty());
    if !secured {
        operation["security"] = json!([]);
    }
    // Mirrors `middleware::body_pace`: any body that comes too slowly is cut.
    if operation.get("requestBody").is_some()
        && let Some(response) = RequestTimeout::responses().get("408")
    {
        operation["responses"]["408"] = serde_json::to_value(response).unwrap_or_default();
    }
    if honours_idempotency_key(path, method, secured, operation) {
        if let Some(parameters) = entry(operation, "parameters", json!([])).as_array_mut() {
            // An operation that insists on a key (paying) declares it itself: it keeps the
            // shared description and limits, and stays required.
            match parameters.iter_mut().find(|p| p["in"] == "header" && p["name"] == "Idempotency-Key") {
                Some(required) => {
                    let mut shared = idempotency_key_parameter();
                    shared["required"] = Value::Bool(true);
                    shared["description"] =
                        json!(format!("Required here. {}", shared["description"].as_str().unwrap_or_default()));
                    *required = shared;
                }
                None => parameters.push(json!({ "$ref": "#/components/parameters/IdempotencyKey" })),
            }
        }
        // A key in flight, or reused for another request.
        for (status, problem) in [("409", Conflict::responses()), ("422", Unprocessable::responses())] {
            if let (None, Some(response)) = (operation["responses"].get(status), problem.get(status)) {
                operation["responses"][status] = serde_json::to_value(response).unwrap_or_default();
            }
        }
        // Every answer but a server error is stored, and replayed.
        for_each_response(operation, |status, response| {
            if let (false, Some(headers)) =
                (status.starts_with('5'), entry(response, "headers", json!({})).as_object_mut())
            {
                headers.insert(
                    IDEMPOTENT_REPLAYED.to_owned(),
                    json!({ "$ref": "#/components/headers/IdempotentReplayed" }),
                );
            }
        });
    }
    for_each_response(operation, |_, response| {
        let Some(headers) = entry(response, "headers", json!({})).as_object_mut() else { return };
        // What a handler declares inline, it always sends (utoipa cannot say `required`);
        // headers a layer adds only at times are references, added above.
        for header in headers.values_mut().filter(|h| h.get("$ref").is_none()) {
            header["required"] = Value::Bool(true);
        }
        headers.insert(REQUEST_ID.to_owned(), json!({ "$ref": "#/components/headers/RequestId" }));
    });
}

/// Mirrors `middleware::idempotency`: POSTs by a principal with a JSON body or none, except
/// on access links.
fn honours_idempotency_key(path: &str, method: &str, secured: bool, operation: &Value) -> bool {
    let json_or_no_body =
        operation.get("requestBody").is_none_or(|body| body["content"].get("application/json").is_some());
    method == "post" && secured && !is_link_path(path) && json_or_no_body
}

fn for_each_response(operation: &mut Value, mut each: impl FnMut(&str, &mut Value)) {
    if let Some(responses) = operation["responses"].as_object_mut() {
        for (status, response) in responses.iter_mut() {
            each(status, response);
        }
    }
}

/// The member `key` of an object, inserted as `empty` when absent.
fn entry<'a>(object: &'a mut Value, key: &str, empty: Value) -> &'a mut Value {
    if object.get(key).is_none() {
        object[key] = empty;
    }
    &mut object[key]
}

/// utoipa inlines the item of a generic `Paginated<T>` into each `Paginated_T`, which gives
/// every SDK a second class for each item; refer to the item's own schema instead.
fn refer_list_items(doc: &mut Value) {
    let Some(schemas) = doc["components"]["schemas"].as_object_mut() else { return };
    let known: Vec<String> = schemas.keys().cloned().collect();
    for (name, schema) in schemas.iter_mut() {
        if let Some(item) = name.strip_prefix("Paginated_").filter(|item| known.iter().any(|k| k == item)) {
            schema["properties"]["data"]["items"] = json!({ "$ref": format!("#/components/schemas/{item}") });
        }
    }
}

/// OpenAPI 3.1 `webhooks`: one entry per event type, with its payload.
fn webhooks() -> Value {
    let signature_headers = json!([
        { "$ref": "#/components/parameters/WebhookId" },
        { "$ref": "#/components/parameters/WebhookTimestamp" },
        { "$ref": "#/components/parameters/WebhookSignature" }
    ]);
    let entries = EventType::ALL.iter().map(|event| {
        let name = event.as_str();
        let operation = json!({
            "post": {
                "tags": ["webhooks"],
                "summary": event.description(),
                "operationId": format!("on_{}", name.replace('.', "_")),
                "parameters": signature_headers,
                "requestBody": {
                    "required": true,
                    "content": { "application/json": { "schema": { "allOf": [
                        { "$ref": "#/components/schemas/WebhookPayload" },
                        { "type": "object", "properties": { "type": { "const": name } } }
                    ] } } }
                },
                "responses": {
                    "200": { "description": "Any 2xx acknowledges the event; any other answer, or none within the timeout, is retried with backoff." }
                },
                "security": []
            }
        });
        (name.to_owned(), operation)
    });
    Value::Object(entries.collect())
}
