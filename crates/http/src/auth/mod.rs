//! Credentials and principals: JWT access tokens, rotating refresh tokens, API keys,
//! access-link secrets and sessions, password hashing and the rate limiter.

pub mod jwt;
pub mod link;
pub mod login;
pub mod principal;
pub mod rate_limit;
