//! Response types that several route modules answer with.

pub mod invoice;
pub mod portal;
