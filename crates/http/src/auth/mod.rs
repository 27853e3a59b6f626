//! The HTTP side of credentials: extractors that resolve a request's principal (the lookups
//! are `vestibule_app::auth`), the sign-in bodies, access-link sessions and the per-address
//! rate limiter.

pub mod link;
pub mod login;
pub mod principal;
pub mod two_factor;
