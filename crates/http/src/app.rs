//! Assembles the application. The served app and the OpenAPI document register the same
//! route modules, so the spec can only describe routes that exist, and every route is in it.

use std::sync::LazyLock;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpResponse, web};
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::SwaggerUi;

use crate::allow::KnownPaths;
use crate::json;
use crate::middleware::{body_pace, idempotency, link_privacy, metrics, request_id};
use crate::openapi::{self, ApiDoc};
use crate::routes;
use crate::routing::{Routes, SchemaRegistration};
use crate::state::AppState;

/// The OpenAPI document, as `vestibule openapi` exports it and `/openapi.json` serves it.
pub fn openapi_document() -> serde_json::Value {
    openapi::finish(described().0)
}

/// Every schema the handlers name, duplicates included, beside the document's own.
pub fn schema_registrations() -> Vec<SchemaRegistration> {
    let (_, mut schemas) = described();
    let own = ApiDoc::openapi().components.map(|c| c.schemas).unwrap_or_default();
    schemas.extend(own);
    schemas
}

fn described() -> (utoipa::openapi::OpenApi, Vec<SchemaRegistration>) {
    let mut schemas = Vec::new();
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(scope::scope("/v1").configure(|cfg| routes::v1(&mut Routes::Describe { cfg, schemas: &mut schemas })))
        .configure(|cfg| routes::health::routes(&mut Routes::Describe { cfg, schemas: &mut schemas }))
        .split_for_parts();
    (api, schemas)
}

/// The document as checked in, which the spec's snapshot test holds equal to what the code
/// describes (`openapi_document`): served as it is, never built at run time, where building
/// it left about 24 MiB resident in the heap of each worker that did.
const SPEC: &[u8] = include_bytes!("../../../openapi/openapi.json");

fn known_paths() -> &'static KnownPaths {
    static KNOWN: LazyLock<KnownPaths> = LazyLock::new(|| KnownPaths::of(SPEC));
    &KNOWN
}

/// The whole application for one worker.
pub fn configure_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let payload_config = json::payload_config(&state);
    let cors = crate::middleware::cors::cors(&state.settings.cors_origins);
    App::new()
        .app_data(web::Data::new(state))
        .app_data(payload_config)
        .app_data(json::path_config())
        .app_data(json::query_config())
        .service(
            web::scope("/v1")
                .wrap(from_fn(idempotency::idempotency))
                .configure(|cfg| routes::v1(&mut Routes::Serve(cfg))),
        )
        .configure(|cfg| routes::health::routes(&mut Routes::Serve(cfg)))
        .service(
            web::resource("/openapi.json")
                .route(web::get().to(|| async { HttpResponse::Ok().content_type("application/json").body(SPEC) })),
        )
        .service(SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json")))
        .default_service(web::to(|req: HttpRequest| {
            let refusal = known_paths().refusal(req.method(), req.match_info().as_str());
            async move { Err::<HttpResponse, _>(refusal) }
        }))
        .wrap(from_fn(body_pace::body_pace))
        .wrap(from_fn(link_privacy::link_privacy))
        .wrap(cors)
        .wrap(from_fn(metrics::record))
        .wrap(from_fn(request_id::request_id))
}
