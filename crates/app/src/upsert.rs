//! What an upsert by external id did, so that the caller can answer 201 or 200.

pub enum Upserted<T> {
    Created(T),
    Existed(T),
}

impl<T> Upserted<T> {
    /// The record, and whether this call created it.
    pub fn into_parts(self) -> (T, bool) {
        match self {
            Self::Created(record) => (record, true),
            Self::Existed(record) => (record, false),
        }
    }
}
