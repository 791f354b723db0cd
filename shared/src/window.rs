//! The report period and the time conventions of the service.
//!
//! All times the service prints are China Standard Time (UTC+08:00); "now" is
//! always passed in, the core never reads a clock.
//!
//! A window of N months ends on the issue date (inclusive) and starts on the
//! day after the same calendar day N months earlier: issued 2026-11-29, 12
//! months cover 2025-11-30 to 2026-11-29, so a window holds exactly N months
//! of days and a record decided on 2025-11-29 is outside it. (Where the
//! earlier month is shorter, chrono clamps to its last day: issued
//! 2026-03-31, 12 months start 2025-04-01.) Data counts from 2021-01-01
//! (县 notice, 四（一）), so a window never starts before that day.

use std::fmt;

use chrono::{DateTime, Days, FixedOffset, Months, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The first day the collected data covers.
pub const DATA_START: NaiveDate = match NaiveDate::from_ymd_opt(2021, 1, 1) {
    Some(d) => d,
    None => panic!("valid constant date"),
};

/// UTC+08:00.
pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"))
}

/// `now` as China Standard Time, whole seconds (what the service prints).
pub fn in_china(now: DateTime<Utc>) -> DateTime<FixedOffset> {
    now.with_timezone(&china()).trunc_subsecs(0)
}

/// The calendar date in China at `now`.
pub fn china_date(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&china()).date_naive()
}

/// "2026年11月29日"
pub fn chinese_date(d: NaiveDate) -> String {
    d.format("%Y年%m月%d日").to_string()
}

/// The report lengths the notice allows: 12, 24 or 36 months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct ReportMonths(u32);

impl ReportMonths {
    /// The periods an applicant picks from (附件3: 12, 24 or 36 months).
    pub const ALL: [ReportMonths; 3] = [ReportMonths(12), ReportMonths(24), ReportMonths(36)];

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for ReportMonths {
    type Error = Error;
    fn try_from(n: u32) -> Result<Self, Error> {
        match n {
            12 | 24 | 36 => Ok(ReportMonths(n)),
            other => Err(Error::InvalidMonths(other.to_string())),
        }
    }
}

impl TryFrom<&serde_json::Value> for ReportMonths {
    type Error = Error;
    fn try_from(v: &serde_json::Value) -> Result<Self, Error> {
        match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) => ReportMonths::try_from(n),
            None => Err(Error::InvalidMonths(v.to_string())),
        }
    }
}

impl From<ReportMonths> for u32 {
    fn from(m: ReportMonths) -> u32 {
        m.0
    }
}

impl fmt::Display for ReportMonths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

fn unclipped_start(months: ReportMonths, end: NaiveDate) -> NaiveDate {
    end.checked_sub_months(Months::new(months.get()))
        .and_then(|d| d.checked_add_days(Days::new(1)))
        .unwrap_or(NaiveDate::MIN)
}

/// An inclusive date range a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub months: ReportMonths,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Window {
    pub fn ending_on(months: ReportMonths, issue_date: NaiveDate) -> Window {
        let start = unclipped_start(months, issue_date).max(DATA_START);
        Window {
            months,
            start,
            end: issue_date.max(start),
        }
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && day <= self.end
    }

    /// Whether a listing from `listed_on` until `removed_on` (exclusive of
    /// nothing: both days count as listed) overlaps the window.
    pub fn overlaps_listing(&self, listed_on: NaiveDate, removed_on: Option<NaiveDate>) -> bool {
        listed_on <= self.end && removed_on.is_none_or(|r| r >= self.start)
    }

    /// True when the 2021-01-01 floor shortened the window.
    pub fn clipped(&self) -> bool {
        unclipped_start(self.months, self.end) < DATA_START
    }

    /// "2025年11月30日至2026年11月29日（近12个月）"
    pub fn describe(&self) -> String {
        let clip = if self.clipped() {
            "，数据自2021年1月1日起归集"
        } else {
            ""
        };
        format!(
            "{}至{}（近{}个月{}）",
            chinese_date(self.start),
            chinese_date(self.end),
            self.months,
            clip
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn m(n: u32) -> ReportMonths {
        ReportMonths::try_from(n).unwrap()
    }

    #[test]
    fn twelve_months_end_on_issue_date_and_start_the_day_after() {
        let w = Window::ending_on(m(12), d("2026-11-29"));
        assert_eq!((w.start, w.end), (d("2025-11-30"), d("2026-11-29")));
        assert!(!w.contains(d("2025-11-29")));
        assert!(w.contains(d("2025-11-30")));
        assert!(w.contains(d("2026-11-29")));
        assert!(!w.contains(d("2026-11-30")));
        assert_eq!(w.describe(), "2025年11月30日至2026年11月29日（近12个月）");
    }

    #[test]
    fn never_starts_before_2021() {
        let w = Window::ending_on(m(36), d("2022-06-15"));
        assert_eq!(w.start, d("2021-01-01"));
        assert!(w.clipped());
        assert!(!w.contains(d("2020-12-31")));
        assert!(w.describe().contains("数据自2021年1月1日起归集"));
        let exact = Window::ending_on(m(12), d("2021-12-31"));
        assert_eq!(exact.start, d("2021-01-01"));
        assert!(!exact.clipped());
    }

    #[test]
    fn month_ends_clamp() {
        assert_eq!(
            Window::ending_on(m(12), d("2026-03-31")).start,
            d("2025-04-01")
        );
        assert_eq!(
            Window::ending_on(m(24), d("2026-02-28")).start,
            d("2024-02-29")
        );
    }

    #[test]
    fn only_12_24_36_months() {
        for n in [0, 1, 6, 13, 48] {
            assert_eq!(
                ReportMonths::try_from(n).unwrap_err().code(),
                "INVALID_MONTHS"
            );
        }
        assert!(ReportMonths::try_from(&serde_json::json!("12")).is_err());
        assert!(ReportMonths::try_from(&serde_json::json!(24)).is_ok());
    }

    #[test]
    fn listings_overlap_when_listed_at_any_time_in_the_window() {
        let w = Window::ending_on(m(12), d("2026-11-29"));
        assert!(w.overlaps_listing(d("2020-05-01"), None));
        assert!(w.overlaps_listing(d("2024-01-01"), Some(d("2025-11-30"))));
        assert!(!w.overlaps_listing(d("2024-01-01"), Some(d("2025-11-29"))));
        assert!(w.overlaps_listing(d("2026-11-29"), None));
        assert!(!w.overlaps_listing(d("2026-11-30"), None));
    }
}
