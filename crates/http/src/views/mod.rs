//! Response types that several route modules answer with.

pub mod contact;
pub mod firm;
pub mod invoice;
pub mod portal;
pub mod staff;
