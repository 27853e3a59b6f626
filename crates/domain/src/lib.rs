//! The vocabulary of Vestibule: typed ids, value objects that validate on construction,
//! principals and the permission rules that decide what each may do. No I/O lives here.

pub mod access_link;
pub mod audit;
pub mod authz;
pub mod conversation;
pub mod cursor;
pub mod email;
pub mod error;
pub mod events;
pub mod ids;
pub mod mail;
pub mod money;
pub mod net;
pub mod password;
pub mod payment;
pub mod portal;
pub mod principal;
pub mod range;
pub mod roles;
pub mod scope;
pub mod signature;
pub mod template;
pub mod text;

pub use error::{FieldError, ValidationErrors};
