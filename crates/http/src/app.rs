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
use crate::middleware::{idempotency, link_privacy, metrics, request_id};
use crate::openapi::ApiDoc;
use crate::routes;
use crate::state::AppState;

/// The OpenAPI document, as `vestibule openapi` exports it.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(scope::scope("/v1").configure(routes::v1))
        .configure(routes::health::routes)
        .split_for_parts();
    api
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
    let (app, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .app_data(web::Data::new(state))
        .app_data(payload_config)
        .app_data(json::path_config())
        .app_data(json::query_config())
        .service(scope::scope("/v1").wrap(from_fn(idempotency::idempotency)).configure(routes::v1))
        .configure(routes::health::routes)
        .split_for_parts();
    let known_paths = std::sync::Arc::new(KnownPaths::of(&api));
    app.service(web::resource("/openapi.json").route(web::get().to({
        let api = api.clone();
        move || {
            let api = api.clone();
            async move { HttpResponse::Ok().json(api) }
        }
    })))
    .service(SwaggerUi::new("/docs/{_:.*}").url("/docs/openapi.json", api))
    .default_service(web::to(move |req: HttpRequest| {
        let refusal = known_paths.refusal(req.method(), req.match_info().as_str());
        async move { Err::<HttpResponse, _>(refusal) }
    }))
    .wrap(from_fn(link_privacy::link_privacy))
    .wrap(cors)
    .wrap(from_fn(metrics::record))
    .wrap(from_fn(request_id::request_id))
}
