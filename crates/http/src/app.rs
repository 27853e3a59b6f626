//! Assembles the application. The same function builds the served app and the OpenAPI
//! document, so the spec can only describe routes that exist, and every route is in it.

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
        .service(scope::scope("/v1").configure(|cfg| routes::v1(&mut Routes::new(cfg, &mut schemas))))
        .configure(|cfg| routes::health::routes(&mut Routes::new(cfg, &mut schemas)))
        .split_for_parts();
    (api, schemas)
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
    let mut schemas = Vec::new();
    let (app, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .app_data(web::Data::new(state))
        .app_data(payload_config)
        .app_data(json::path_config())
        .app_data(json::query_config())
        .service(
            scope::scope("/v1")
                .wrap(from_fn(idempotency::idempotency))
                .configure(|cfg| routes::v1(&mut Routes::new(cfg, &mut schemas))),
        )
        .configure(|cfg| routes::health::routes(&mut Routes::new(cfg, &mut schemas)))
        .split_for_parts();
    let known_paths = std::sync::Arc::new(KnownPaths::of(&api));
    let spec = web::Bytes::from(openapi::finish(api).to_string());
    app.service(web::resource("/openapi.json").route(web::get().to(move || {
        let spec = spec.clone();
        async move { HttpResponse::Ok().content_type("application/json").body(spec) }
    })))
    .service(SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json")))
    .default_service(web::to(move |req: HttpRequest| {
        let refusal = known_paths.refusal(req.method(), req.match_info().as_str());
        async move { Err::<HttpResponse, _>(refusal) }
    }))
    .wrap(from_fn(body_pace::body_pace))
    .wrap(from_fn(link_privacy::link_privacy))
    .wrap(cors)
    .wrap(from_fn(metrics::record))
    .wrap(from_fn(request_id::request_id))
}
