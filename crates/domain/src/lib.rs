//! The vocabulary of Vestibule: typed ids, value objects that validate on construction,
//! principals and the permission rules that decide what each may do. No I/O lives here.

/// Wire names of a closed set of values: `as_str`, `parse` and `ALL`. Defined before the
/// modules so that each of them may use it.
macro_rules! names {
    ($type:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $type {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|value| value.as_str() == raw)
            }
        }
    };
}

pub mod access_link;
pub mod audit;
pub mod authz;
pub mod conversation;
pub mod cursor;
pub mod device;
pub mod document_request;
pub mod email;
pub mod error;
pub mod events;
pub mod ids;
pub mod invitation;
pub mod mail;
pub mod money;
pub mod net;
pub mod notification;
pub mod password;
pub mod payment;
pub mod portal;
pub mod principal;
pub mod range;
pub mod rate_limit;
pub mod reminder;
pub mod roles;
pub mod scan;
pub mod scope;
pub mod signature;
pub mod signature_certificate;
pub mod template;
pub mod text;
pub mod usage;

pub use error::{FieldError, ValidationErrors};
