//! One page of a list, as every list use case returns it.

use vestibule_domain::cursor::Page;

#[derive(Debug)]
pub struct Listed<T> {
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last one.
    pub next_cursor: Option<String>,
}

impl<T> Listed<T> {
    /// Finishes a page fetched with one extra row.
    pub fn finish(page: &Page, rows: Vec<T>, key_of: impl Fn(&T) -> String) -> Self {
        let (items, next_cursor) = page.finish(rows, key_of);
        Self { items, next_cursor }
    }
}
