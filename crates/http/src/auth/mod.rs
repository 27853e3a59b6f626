//! Credentials and principals: JWT access tokens, rotating refresh tokens, API keys,
//! password hashing and the login rate limiter.

pub mod jwt;
pub mod login;
pub mod password;
pub mod principal;
pub mod rate_limit;
pub mod secrets;
