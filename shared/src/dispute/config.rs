//! Deadlines and minimum publicity periods, from the rule configuration
//! and the component's variables.

use chrono::NaiveDate;

use super::calendar::WorkCalendar;
use crate::config::RuleConfig;
use crate::error::Error;
use crate::record::Severity;

/// Longest deadline, in working days: a bound on configuration, not policy.
const MAX_WORKING_DAYS: u32 = 250;

/// Minimum publicity before a repair may be applied for, in months from the
/// decision date, by severity (信用修复管理办法: minor at most 3 months,
/// general 3 months to 1 year, serious 1 to 3 years). A penalty without a
/// severity is treated as general.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepairPeriods {
    pub minor: u32,
    pub general: u32,
    pub serious: u32,
}

impl RepairPeriods {
    pub fn min_months(&self, severity: Option<Severity>) -> u32 {
        match severity {
            Some(Severity::Minor) => self.minor,
            Some(Severity::Serious) => self.serious,
            Some(Severity::General) | None => self.general,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeConfig {
    pub accept_working_days: u32,
    pub answer_working_days: u32,
    pub calendar: WorkCalendar,
    pub repair_min_months: RepairPeriods,
}

impl Default for DisputeConfig {
    fn default() -> Self {
        DisputeConfig::from_lookup(&RuleConfig::default(), |_| None)
            .expect("the defaults are valid (tested)")
    }
}

impl DisputeConfig {
    /// The objection limits of `rules`, plus the variables
    /// `repair_min_months_minor` (default 0), `repair_min_months_general`
    /// (3), `repair_min_months_serious` (12), `public_holidays` and
    /// `working_weekends` (dates `YYYY-MM-DD`, separated by commas or
    /// spaces; default empty).
    pub fn from_lookup(
        rules: &RuleConfig,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<DisputeConfig, Error> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let months = |name: &str, default: u32| match get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n <= 120 => Ok(n),
                _ => Err(bad(name, format!("“{v}”应为 0 到 120 之间的整数（月）"))),
            },
        };
        let dates = |name: &str| -> Result<Vec<NaiveDate>, Error> {
            get(name)
                .unwrap_or_default()
                .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(|s| {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .map_err(|_| bad(name, format!("“{s}”不是 YYYY-MM-DD 格式的日期")))
                })
                .collect()
        };
        for (name, days) in [
            (
                "objection_accept_working_days",
                rules.objection_accept_working_days,
            ),
            (
                "objection_answer_working_days",
                rules.objection_answer_working_days,
            ),
        ] {
            if days > MAX_WORKING_DAYS {
                return Err(bad(
                    name,
                    format!("{days} 超过 {MAX_WORKING_DAYS} 个工作日的上限"),
                ));
            }
        }
        Ok(DisputeConfig {
            accept_working_days: rules.objection_accept_working_days,
            answer_working_days: rules.objection_answer_working_days,
            calendar: WorkCalendar::new(dates("public_holidays")?, dates("working_weekends")?),
            repair_min_months: RepairPeriods {
                minor: months("repair_min_months_minor", 0)?,
                general: months("repair_min_months_general", 3)?,
                serious: months("repair_min_months_serious", 12)?,
            },
        })
    }
}

fn bad(variable: &str, detail: String) -> Error {
    Error::InvalidConfig {
        variable: variable.to_owned(),
        detail,
    }
}
