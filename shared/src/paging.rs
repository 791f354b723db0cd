//! Cursor paging of listings: `?cursor=&limit=` in, `next_cursor` out.
//!
//! A cursor names positions in the store's append-only lists (slot
//! numbers), so a page reads at most `limit` slots of each list it walks
//! and never the whole list; the order is the lists' own (stable: slots are
//! written once). A cursor names its listing, whose positions mean nothing
//! to another: a listing refuses another's cursor. Clients treat it as
//! opaque: it is base64url text, and one that does not decode or is
//! another listing's is refused with `INVALID_FIELD` (field `cursor`).

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Serialize, Serializer};

use crate::error::Error;

/// Items per page when `?limit=` is absent.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest `?limit=`: a page of records is then about 1 MB of JSON.
pub const MAX_LIMIT: usize = 500;

/// What a cursor's text starts with once decoded: its format's version
/// (`c1` cursors named no listing).
const VERSION: &str = "c2";
/// More positions than any listing walks (one per data domain of a unit).
const MAX_POSITIONS: usize = 64;

/// The listings that page with cursors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Records,
    Reports,
    Objections,
    Repairs,
    ChangeLog,
    AccessLog,
}

impl Listing {
    const ALL: [Listing; 6] = [
        Listing::Records,
        Listing::Reports,
        Listing::Objections,
        Listing::Repairs,
        Listing::ChangeLog,
        Listing::AccessLog,
    ];

    /// As a cursor's text names it: stable, cursors are handed out.
    fn tag(self) -> &'static str {
        match self {
            Listing::Records => "records",
            Listing::Reports => "reports",
            Listing::Objections => "objections",
            Listing::Repairs => "repairs",
            Listing::ChangeLog => "audit",
            Listing::AccessLog => "access",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Listing::Records => "记录列表",
            Listing::Reports => "报告列表",
            Listing::Objections => "异议申诉列表",
            Listing::Repairs => "信用修复列表",
            Listing::ChangeLog => "变更日志",
            Listing::AccessLog => "访问日志",
        }
    }
}

/// Where a listing continues: one position per list it walks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    listing: Listing,
    positions: Vec<u64>,
}

impl Cursor {
    pub fn at(listing: Listing, positions: Vec<u64>) -> Cursor {
        Cursor { listing, positions }
    }

    /// The positions, for `listing` only: another listing's are refused.
    fn positions_in(&self, listing: Listing) -> Result<&[u64], Error> {
        if self.listing != listing {
            return Err(Error::InvalidField {
                field: "cursor".into(),
                detail: format!(
                    "分页游标属于{}，不能用于{}，请去掉 cursor 参数从第一页重新查询",
                    self.listing.label(),
                    listing.label()
                ),
            });
        }
        Ok(&self.positions)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = format!("{VERSION}.{}", self.listing.tag());
        for position in &self.positions {
            text.push('.');
            text.push_str(&position.to_string());
        }
        f.write_str(&URL_SAFE_NO_PAD.encode(text))
    }
}

/// The answer to a cursor that names no position of its listing.
pub fn invalid_cursor() -> Error {
    Error::InvalidField {
        field: "cursor".into(),
        detail: "分页游标无效，请去掉 cursor 参数从第一页重新查询".into(),
    }
}

impl FromStr for Cursor {
    type Err = Error;

    fn from_str(s: &str) -> Result<Cursor, Error> {
        let bytes = URL_SAFE_NO_PAD
            .decode(s.trim())
            .map_err(|_| invalid_cursor())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid_cursor())?;
        let mut parts = text.split('.');
        if parts.next() != Some(VERSION) {
            return Err(invalid_cursor());
        }
        let tag = parts.next();
        let listing = Listing::ALL
            .into_iter()
            .find(|listing| Some(listing.tag()) == tag)
            .ok_or_else(invalid_cursor)?;
        let positions = parts
            .map(|p| p.parse::<u64>().map_err(|_| invalid_cursor()))
            .collect::<Result<Vec<u64>, Error>>()?;
        if positions.is_empty() || positions.len() > MAX_POSITIONS {
            return Err(invalid_cursor());
        }
        Ok(Cursor { listing, positions })
    }
}

impl Serialize for Cursor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A listing's `?cursor=&limit=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// `None`: the first page.
    pub cursor: Option<Cursor>,
    pub limit: usize,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            cursor: None,
            limit: DEFAULT_LIMIT,
        }
    }
}

impl PageRequest {
    pub fn parse(cursor: Option<&str>, limit: Option<&str>) -> Result<PageRequest, Error> {
        let cursor = cursor
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::parse)
            .transpose()?;
        let limit = match limit.map(str::trim).filter(|l| !l.is_empty()) {
            None => DEFAULT_LIMIT,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(Error::InvalidField {
                        field: "limit".into(),
                        detail: format!("“{text}”应为 1 到 {MAX_LIMIT} 之间的整数"),
                    });
                }
            },
        };
        Ok(PageRequest { cursor, limit })
    }

    /// The single position of a cursor of `listing` over one list.
    pub fn position(&self, listing: Listing) -> Result<Option<u64>, Error> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        match cursor.positions_in(listing)? {
            [position] => Ok(Some(*position)),
            _ => Err(invalid_cursor()),
        }
    }

    /// The positions of a cursor of `listing` over `lists` lists (`None`
    /// each on the first page).
    pub fn positions(&self, listing: Listing, lists: usize) -> Result<Vec<Option<u64>>, Error> {
        let Some(cursor) = &self.cursor else {
            return Ok(vec![None; lists]);
        };
        match cursor.positions_in(listing)? {
            positions if positions.len() == lists => {
                Ok(positions.iter().copied().map(Some).collect())
            }
            _ => Err(invalid_cursor()),
        }
    }
}

/// One page of a listing and where the next one starts (`None`: this was
/// the last). A page may hold fewer than `limit` items, none even, when
/// the slots it read held items the caller may not see: only
/// `next_cursor` says whether the listing goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

/// A page reads as the slice of its items.
impl<T> std::ops::Deref for Page<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.items
    }
}

/// Which way a listing walks its lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Oldest first: slot 1 up.
    Appended,
    /// Newest first: the last slot down.
    NewestFirst,
}

/// The slots a page reads from a list of `len` slots, from `position`
/// (the cursor's; `None` the first page), and the position after them.
pub fn slots(
    order: Order,
    len: u64,
    position: Option<u64>,
    limit: usize,
) -> (Vec<u64>, Option<u64>) {
    let limit = limit as u64;
    match order {
        Order::Appended => {
            let start = position.unwrap_or(1).max(1);
            if start > len {
                return (Vec::new(), None);
            }
            let end = start.saturating_add(limit - 1).min(len);
            let next = (end < len).then_some(end + 1);
            ((start..=end).collect(), next)
        }
        Order::NewestFirst => {
            let start = position.unwrap_or(len).min(len);
            if start == 0 {
                return (Vec::new(), None);
            }
            let end = start.saturating_sub(limit - 1).max(1);
            let next = (end > 1).then_some(end - 1);
            ((end..=start).rev().collect(), next)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_is_opaque_text_that_reads_back() {
        let cursor = Cursor::at(Listing::Objections, vec![101, 7]);
        let text = cursor.to_string();
        assert!(
            text.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(text.parse::<Cursor>().unwrap(), cursor);
        assert_eq!(
            serde_json::to_value(&cursor).unwrap(),
            serde_json::json!(text)
        );
    }

    #[test]
    fn a_cursor_that_does_not_decode_is_refused() {
        let encode = |text: &str| URL_SAFE_NO_PAD.encode(text);
        let bad = [
            "".to_owned(),
            "!!".to_owned(),
            encode("c2"),
            encode("c2.records"),
            encode("c2.records.x"),
            encode("c2.records.-1"),
            encode("c2.nothing.1"),
            // Written before cursors named their listing.
            encode("c1.1"),
        ];
        for bad in bad {
            let error = bad.parse::<Cursor>().unwrap_err();
            assert_eq!(error.code(), "INVALID_FIELD", "{bad}");
        }
        assert_eq!(
            PageRequest::parse(
                Some(&Cursor::at(Listing::Records, vec![1, 2]).to_string()),
                None
            )
            .unwrap()
            .position(Listing::Records)
            .unwrap_err()
            .code(),
            "INVALID_FIELD"
        );
    }

    #[test]
    fn a_listing_refuses_the_cursor_of_another() {
        for made_by in Listing::ALL {
            let text = Cursor::at(made_by, vec![7]).to_string();
            let page = PageRequest::parse(Some(&text), None).unwrap();
            for reader in Listing::ALL {
                let position = page.position(reader);
                let positions = page.positions(reader, 1);
                if reader == made_by {
                    assert_eq!(position.unwrap(), Some(7));
                    assert_eq!(positions.unwrap(), vec![Some(7)]);
                } else {
                    for error in [position.unwrap_err(), positions.unwrap_err()] {
                        assert_eq!(error.code(), "INVALID_FIELD");
                        assert_eq!(error.field(), Some("cursor"));
                    }
                }
            }
        }
    }

    #[test]
    fn limit_has_a_default_and_a_maximum() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, DEFAULT_LIMIT);
        assert_eq!(
            PageRequest::parse(None, Some("500")).unwrap().limit,
            MAX_LIMIT
        );
        for bad in ["0", "501", "-1", "ten"] {
            assert_eq!(
                PageRequest::parse(None, Some(bad)).unwrap_err().code(),
                "INVALID_FIELD"
            );
        }
    }

    #[test]
    fn slots_walk_a_list_either_way_without_gaps_or_repeats() {
        for order in [Order::Appended, Order::NewestFirst] {
            for len in [0, 1, 9, 10, 11, 25] {
                let mut seen = Vec::new();
                let mut position = None;
                loop {
                    let (page, next) = slots(order, len, position, 10);
                    assert!(page.len() <= 10);
                    seen.extend(page);
                    match next {
                        Some(next) => position = Some(next),
                        None => break,
                    }
                }
                let mut expected: Vec<u64> = (1..=len).collect();
                if order == Order::NewestFirst {
                    expected.reverse();
                }
                assert_eq!(seen, expected, "{order:?} {len}");
            }
        }
    }

    #[test]
    fn a_position_past_the_end_is_an_empty_last_page() {
        assert_eq!(slots(Order::Appended, 5, Some(99), 10), (vec![], None));
        assert_eq!(
            slots(Order::NewestFirst, 5, Some(99), 2),
            (vec![5, 4], Some(3))
        );
    }
}
