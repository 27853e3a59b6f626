//! Access tokens are issued by the sign-in use cases; the server's startup and the live
//! routes name their types through here.

pub use vestibule_app::auth::tokens::{AccessClaims, Audience, SigningKey, TokenKeys, TokenUse};
