//! Response types that several routes show, so that no route module imports another.

pub mod document;
