//! Which methods each path has, read from the OpenAPI document that the route registration
//! generates (so it cannot disagree with the routes): a request that no route takes answers
//! 405 with `Allow` when its path exists with other methods, and 404 when it does not exist.

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use utoipa::openapi::{OpenApi, PathItem};

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
    pub fn of(api: &OpenApi) -> Self {
        Self(
            api.paths
                .paths
                .iter()
                .map(|(template, item)| (ResourceDef::new(template.as_str()), methods_of(item)))
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

fn methods_of(item: &PathItem) -> Vec<Method> {
    [
        (Method::GET, &item.get),
        (Method::HEAD, &item.head),
        (Method::POST, &item.post),
        (Method::PUT, &item.put),
        (Method::PATCH, &item.patch),
        (Method::DELETE, &item.delete),
        (Method::OPTIONS, &item.options),
        (Method::TRACE, &item.trace),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.is_some().then_some(method))
    .collect()
}
