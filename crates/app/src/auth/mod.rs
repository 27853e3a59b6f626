//! Who a caller is: password sign-in (with a second step for two-factor accounts),
//! refresh-token rotation, logout and sessions for staff and portal contacts, registration
//! by invitation, password resets, and the principal behind an access token or an API key.

pub mod challenge;
mod new_device;
pub mod principal;
pub mod registration;
pub mod sessions;
pub mod sign_in;
pub mod tokens;
pub mod two_factor;

pub use sign_in::{AccountKind, Tokens};
