//! Response types that several routes show, so that no route module imports another.

pub mod contact;
pub mod conversation;
pub mod document;
pub mod firm;
pub mod invoice;
pub mod message;
pub mod portal;
pub mod staff;
