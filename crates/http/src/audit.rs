//! Where a request came from, as the audit log records it.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use crate::state::AppState;

/// The request's origin, as an extractor.
#[derive(Debug, Clone, Default)]
pub struct Origin(pub vestibule_app::Origin);

impl Origin {
    pub fn of(req: &HttpRequest) -> Self {
        let trust_forwarded =
            req.app_data::<actix_web::web::Data<AppState>>().is_some_and(|s| s.settings.trust_forwarded_for);
        let ip = if trust_forwarded {
            req.connection_info().realip_remote_addr().map(str::to_owned)
        } else {
            req.peer_addr().map(|addr| addr.ip().to_string())
        };
        let user_agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect());
        Self(vestibule_app::Origin { ip, user_agent })
    }
}

impl std::ops::Deref for Origin {
    type Target = vestibule_app::Origin;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FromRequest for Origin {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}
