//! Where route modules register their handlers: into actix (to serve them) or into the
//! OpenAPI document (to describe them), remembering every schema each handler names.
//! Serving does not build the description: each worker would build the whole document
//! again, and its allocations stayed resident in that worker's heap (24 MiB a worker).
//! utoipa keeps one schema per name and silently drops the others, so two Rust types
//! published under one name would make the spec lie; [`schema_registrations`] lets a test
//! see every one of them.
//!
//! [`schema_registrations`]: crate::schema_registrations

use actix_web::dev::HttpServiceFactory;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa_actix_web::OpenApiFactory;

pub type SchemaRegistration = (String, RefOr<Schema>);

pub enum Routes<'c, 's> {
    Serve(&'c mut actix_web::web::ServiceConfig),
    Describe {
        cfg: &'c mut utoipa_actix_web::service_config::ServiceConfig<'s>,
        schemas: &'c mut Vec<SchemaRegistration>,
    },
}

impl Routes<'_, '_> {
    pub fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        match self {
            Self::Serve(cfg) => {
                cfg.service(factory);
            }
            Self::Describe { cfg, schemas } => {
                factory.schemas(schemas);
                cfg.service(factory);
            }
        }
        self
    }
}
