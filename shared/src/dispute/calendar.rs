//! Working days for deadlines: Monday to Friday, minus configured public
//! holidays, plus configured working weekends (调休).

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Weekday};

/// Which days count as working days for deadlines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    holidays: BTreeSet<NaiveDate>,
    working_weekends: BTreeSet<NaiveDate>,
}

impl WorkCalendar {
    pub fn new(
        holidays: impl IntoIterator<Item = NaiveDate>,
        working_weekends: impl IntoIterator<Item = NaiveDate>,
    ) -> WorkCalendar {
        WorkCalendar {
            holidays: holidays.into_iter().collect(),
            working_weekends: working_weekends.into_iter().collect(),
        }
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        self.working_weekends.contains(&day)
            || !(matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
                || self.holidays.contains(&day))
    }

    /// The same time of day on the `days`th working day after `start`'s
    /// date; `start` itself for 0.
    pub fn add_working_days(
        &self,
        start: DateTime<FixedOffset>,
        days: u32,
    ) -> DateTime<FixedOffset> {
        let mut at = start;
        let mut left = days;
        while left > 0 {
            at += Duration::days(1);
            if self.is_working_day(at.date_naive()) {
                left -= 1;
            }
        }
        at
    }
}
