use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vestibule_domain::cursor::Page;

use crate::error::ApiError;

/// `?limit=&cursor=` on every list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn page(&self) -> Result<Page, ApiError> {
        Ok(Page::parse(self.cursor.as_deref(), self.limit)?)
    }
}

impl From<vestibule_domain::FieldError> for ApiError {
    fn from(error: vestibule_domain::FieldError) -> Self {
        Self::Validation(error.into())
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Paginated<T> {
    /// A use case's page, its items mapped to what the API shows.
    pub fn of<R>(listed: vestibule_app::page::Listed<R>, map: impl FnMut(R) -> T) -> Self {
        Self { data: listed.items.into_iter().map(map).collect(), next_cursor: listed.next_cursor }
    }

    /// Finishes a page fetched with one extra row and maps its rows.
    pub fn from_rows<R>(page: &Page, rows: Vec<R>, key_of: impl Fn(&R) -> String, map: impl FnMut(R) -> T) -> Self {
        let (rows, next_cursor) = page.finish(rows, key_of);
        Self { data: rows.into_iter().map(map).collect(), next_cursor }
    }
}
