//! Types that several routes show (and the few request types they share), so that no route
//! module imports another.

pub mod contact;
pub mod conversation;
pub mod document;
pub mod document_request;
pub mod firm;
pub mod invoice;
pub mod message;
pub mod payment;
pub mod portal;
pub mod session;
pub mod staff;
pub mod staff_invitation;
