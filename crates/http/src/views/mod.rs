//! Response types that several routes show, so that no route module imports another.

pub mod contact;
pub mod document;
pub mod firm;
pub mod invoice;
pub mod portal;
pub mod staff;
