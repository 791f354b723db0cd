//! Case numbers: "YY" (异议) or "XF" (修复) + filing date + the day's
//! sequence.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::paging::Listing;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseKind {
    Objection,
    Repair,
}

impl CaseKind {
    fn prefix(self) -> &'static str {
        match self {
            CaseKind::Objection => "YY",
            CaseKind::Repair => "XF",
        }
    }

    /// As the API's paths and audit actions name it.
    pub fn noun(self) -> &'static str {
        match self {
            CaseKind::Objection => "objection",
            CaseKind::Repair => "repair",
        }
    }

    /// The listing of this kind's cases, as its cursors name it.
    pub fn listing(self) -> Listing {
        match self {
            CaseKind::Objection => Listing::Objections,
            CaseKind::Repair => Listing::Repairs,
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            CaseKind::Objection => "objections",
            CaseKind::Repair => "repairs",
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            CaseKind::Objection => "异议申诉",
            CaseKind::Repair => "信用修复申请",
        }
    }
}

/// A tracking number: "YY" (异议) or "XF" (修复) + filing date + "-" + the
/// day's sequence, e.g. "YY20261129-000001".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseNo(String);

impl CaseNo {
    pub fn new(kind: CaseKind, day: NaiveDate, sequence: u64) -> CaseNo {
        CaseNo(format!(
            "{}{}-{sequence:06}",
            kind.prefix(),
            day.format("%Y%m%d")
        ))
    }

    /// Parses a number of the given kind; anything else is `INVALID_FIELD` on `no`.
    pub fn parse(kind: CaseKind, s: &str) -> Result<CaseNo, Error> {
        let no: CaseNo = s.parse()?;
        if no.kind() == kind {
            Ok(no)
        } else {
            Err(invalid_no(s, kind))
        }
    }

    pub fn kind(&self) -> CaseKind {
        if self.0.starts_with("XF") {
            CaseKind::Repair
        } else {
            CaseKind::Objection
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn invalid_no(s: &str, kind: CaseKind) -> Error {
    let example = CaseNo::new(
        kind,
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap_or_default(),
        1,
    );
    Error::InvalidField {
        field: "no".into(),
        detail: format!("案件编号“{s}”格式不正确，应形如 {example}"),
    }
}

impl std::str::FromStr for CaseNo {
    type Err = Error;
    fn from_str(s: &str) -> Result<CaseNo, Error> {
        let s = s.trim();
        let kind = if s.starts_with("XF") {
            CaseKind::Repair
        } else {
            CaseKind::Objection
        };
        let rest = s
            .strip_prefix(kind.prefix())
            .ok_or_else(|| invalid_no(s, kind))?;
        let (date, seq) = rest.split_once('-').ok_or_else(|| invalid_no(s, kind))?;
        let ok = date.len() == 8
            && date.bytes().all(|b| b.is_ascii_digit())
            && NaiveDate::parse_from_str(date, "%Y%m%d").is_ok()
            && (6..=12).contains(&seq.len())
            && seq.bytes().all(|b| b.is_ascii_digit())
            && seq.bytes().any(|b| b != b'0');
        if ok {
            Ok(CaseNo(s.to_owned()))
        } else {
            Err(invalid_no(s, kind))
        }
    }
}

impl TryFrom<String> for CaseNo {
    type Error = Error;
    fn try_from(s: String) -> Result<CaseNo, Error> {
        s.parse()
    }
}

impl From<CaseNo> for String {
    fn from(c: CaseNo) -> String {
        c.0
    }
}

impl std::fmt::Display for CaseNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
