//! Where route modules register their handlers: into actix (to serve them) and into the
//! OpenAPI document (to describe them), remembering every schema each handler names.
//! utoipa keeps one schema per name and silently drops the others, so two Rust types
//! published under one name would make the spec lie; [`schema_registrations`] lets a test
//! see every one of them.

use actix_web::dev::HttpServiceFactory;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa_actix_web::OpenApiFactory;
use utoipa_actix_web::service_config::ServiceConfig;

pub type SchemaRegistration = (String, RefOr<Schema>);

pub struct Routes<'c, 's> {
    cfg: &'c mut ServiceConfig<'s>,
    schemas: &'c mut Vec<SchemaRegistration>,
}

impl<'c, 's> Routes<'c, 's> {
    pub fn new(cfg: &'c mut ServiceConfig<'s>, schemas: &'c mut Vec<SchemaRegistration>) -> Self {
        Self { cfg, schemas }
    }

    pub fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        factory.schemas(self.schemas);
        self.cfg.service(factory);
        self
    }
}
