//! Keyset pagination shared by every list: `limit` plus an opaque cursor (the last id seen).

use serde::Serialize;
use uuid::Uuid;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    /// Continue after this id (exclusive), in the list's order.
    pub after: Option<Uuid>,
}

impl PageRequest {
    /// Builds a request from user input, clamping the limit to `1..=MAX_LIMIT`.
    pub fn new(limit: Option<u32>, after: Option<Uuid>) -> Self {
        Self {
            limit: limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
            after,
        }
    }

    pub fn first(limit: u32) -> Self {
        Self::new(Some(limit), None)
    }

    /// The number of rows to fetch: one more than the limit tells whether a next page exists.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::new(None, None)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

impl<T> Page<T> {
    /// Cuts an over-fetched row set (see [`PageRequest::fetch`]) into a page.
    pub fn from_rows(mut rows: Vec<T>, req: PageRequest, id_of: impl Fn(&T) -> Uuid) -> Self {
        let more = rows.len() > req.limit as usize;
        rows.truncate(req.limit as usize);
        let next_cursor = if more { rows.last().map(&id_of) } else { None };
        Self {
            items: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_clamped() {
        assert_eq!(PageRequest::new(Some(0), None).limit, 1);
        assert_eq!(PageRequest::new(Some(10_000), None).limit, MAX_LIMIT);
        assert_eq!(PageRequest::new(None, None).limit, DEFAULT_LIMIT);
    }

    #[test]
    fn over_fetch_yields_cursor_only_when_more_rows_exist() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let req = PageRequest::first(2);
        let page = Page::from_rows(ids.clone(), req, |u| *u);
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next_cursor, Some(ids[1]));
        let page = Page::from_rows(ids[..2].to_vec(), req, |u| *u);
        assert_eq!(page.next_cursor, None);
    }
}
