//! Which methods each path has, read from the served OpenAPI document (which the spec's
//! snapshot test holds equal to what the routes describe, so it cannot disagree with them):
//! a request that no route takes answers 405 with `Allow` when its path exists with other
//! methods, and 404 when it does not exist.

use actix_web::dev::ResourceDef;
use actix_web::http::Method;

use crate::error::ApiError;

/// The order `Allow` lists methods in, whatever the spec's.
const ORDER: [Method; 8] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
    Method::TRACE,
];

/// Every path template of the API with its methods, matched as the router matches them.
pub struct KnownPaths(Vec<(ResourceDef, Vec<Method>)>);

impl KnownPaths {
    /// The paths of an OpenAPI document in JSON; none when it is not one.
    pub fn of(document: &[u8]) -> Self {
        let paths = serde_json::from_slice::<Document>(document).map(|d| d.paths).unwrap_or_default();
        Self(
            paths
                .into_iter()
                .map(|(template, item)| {
                    let methods = ORDER.into_iter().filter(|m| item.contains_key(&m.as_str().to_lowercase())).collect();
                    (ResourceDef::new(template.as_str()), methods)
                })
                .collect(),
        )
    }

    /// Why no route took a request for `path` (as the router saw it, normalised).
    pub fn refusal(&self, method: &Method, path: &str) -> ApiError {
        let matching: Vec<&[Method]> = self
            .0
            .iter()
            .filter(|(template, _)| template.is_match(path))
            .map(|(_, methods)| methods.as_slice())
            .collect();
        let allowed: Vec<Method> =
            ORDER.into_iter().filter(|candidate| matching.iter().any(|methods| methods.contains(candidate))).collect();
        // A path the spec gives this method but no route took cannot be answered with an
        // `Allow` that names the method itself.
        if allowed.is_empty() || allowed.contains(method) {
            ApiError::NotFound
        } else {
            ApiError::MethodNotAllowed(allowed)
        }
    }
}

/// Only what the paths need of the document: each template's method keys.
#[derive(serde::Deserialize)]
struct Document {
    paths: std::collections::BTreeMap<String, std::collections::BTreeMap<String, serde::de::IgnoredAny>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paths_and_methods_come_from_the_document() {
        let document = br#"{"paths": {"/v1/clients/{id}": {"get": {}, "delete": {}, "parameters": []}}}"#;
        let known = KnownPaths::of(document);
        assert!(matches!(known.refusal(&Method::GET, "/v1/nope"), ApiError::NotFound));
        match known.refusal(&Method::PUT, "/v1/clients/cli_1") {
            ApiError::MethodNotAllowed(allowed) => assert_eq!(allowed, [Method::GET, Method::DELETE]),
            other => panic!("{other:?}"),
        }
    }
}
