//! Payments against invoices (seed 004): recorded offline by staff and integrations, or
//! charged to a card through a [`processor::CardProcessor`].

pub mod processor;
