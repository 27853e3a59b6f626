//! CORS for the browser SPAs: only configured origins, credentials never (tokens travel in
//! the `Authorization` header, not cookies).

use actix_cors::Cors;

pub fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers(["authorization", "content-type", "idempotency-key", "if-match", "x-request-id"])
        .expose_headers(["etag", "location", "retry-after", "x-request-id", "idempotent-replayed"])
        .max_age(600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}
