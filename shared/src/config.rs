//! Runtime configuration from Spin variables (names fixed by docs/api.md),
//! defaulting to the county notice. Components pass a lookup closure over
//! `spin_sdk::variables::get`; tests pass a map.

use chrono::{Months, NaiveDate};

use crate::error::Error;
use crate::record::Severity;

/// The longest a penalty is published, in months from its decision date, by
/// severity (国家发展改革委令2025年第36号《信用修复管理办法》: minor at most 3
/// months, general at most 1 year, serious at most 3 years). At the maximum
/// publicity ends by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicityMaxima {
    pub minor: u32,
    pub general: u32,
    pub serious: u32,
}

impl PublicityMaxima {
    /// A penalty without a severity gets the longest of the three, so
    /// nothing is hidden before its time.
    pub fn months(&self, severity: Option<Severity>) -> u32 {
        match severity {
            Some(Severity::Minor) => self.minor,
            Some(Severity::General) => self.general,
            Some(Severity::Serious) => self.serious,
            None => self.minor.max(self.general).max(self.serious),
        }
    }

    /// The last day a penalty decided on `decided_on` is published. Periods
    /// count as 民法典 第二百零一条、第二百零二条 count them: from the day
    /// after the decision, ending on the same day of the last month, or on
    /// that month's last day when it has no such day.
    pub fn last_day(&self, decided_on: NaiveDate, severity: Option<Severity>) -> NaiveDate {
        decided_on
            .checked_add_months(Months::new(self.months(severity)))
            .unwrap_or(NaiveDate::MAX)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleConfig {
    /// `include_simplified_procedure`: count simplified-procedure penalties
    /// (national notice 565号). Default false (county notice).
    pub include_simplified_procedure: bool,
    /// `show_repaired_records`: print repaired records labelled 已修复
    /// instead of omitting them. Default false.
    pub show_repaired_records: bool,
    /// `end_publicity_at_expiry`: a penalty whose 公示截止期 has passed on the
    /// issue date stops counting (信用修复管理办法: publicity ends by itself
    /// at the maximum period). Default true.
    pub end_publicity_at_expiry: bool,
    /// `publicity_max_months_minor`, `_general`, `_serious`: how long a
    /// penalty without a 公示截止期 is published (defaults 3, 12, 36). Applies
    /// under `end_publicity_at_expiry`; a stated 公示截止期 takes precedence.
    pub publicity_max_months: PublicityMaxima,
    /// `report_validity_days`: days a report verifies as VALID. Default 30.
    pub report_validity_days: u32,
    /// `apply_limit_per_day`: report applications per entity per day. Default 10.
    pub apply_limit_per_day: u32,
    /// `verify_rate_limit_per_minute`: per client address. Default 120.
    pub verify_rate_limit_per_minute: u32,
    /// `public_base_url`: base of the verification link. Default http://127.0.0.1:3000.
    pub public_base_url: String,
    /// `objection_accept_working_days`. Default 2. 0 means "at once": a
    /// case not accepted on filing is overdue.
    pub objection_accept_working_days: u32,
    /// `objection_answer_working_days`. Default 10; 0 as above.
    pub objection_answer_working_days: u32,
}

impl Default for RuleConfig {
    fn default() -> Self {
        RuleConfig {
            include_simplified_procedure: false,
            show_repaired_records: false,
            end_publicity_at_expiry: true,
            publicity_max_months: PublicityMaxima {
                minor: 3,
                general: 12,
                serious: 36,
            },
            report_validity_days: 30,
            apply_limit_per_day: 10,
            verify_rate_limit_per_minute: 120,
            public_base_url: "http://127.0.0.1:3000".into(),
            objection_accept_working_days: 2,
            objection_answer_working_days: 10,
        }
    }
}

impl RuleConfig {
    /// Reads every variable through `lookup`; absent or empty ones take
    /// their default, malformed ones are `INVALID_CONFIG`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<RuleConfig, Error> {
        let d = RuleConfig::default();
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let flag = |name: &str, default: bool| match get(name) {
            None => Ok(default),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(bad(name, format!("“{v}”应为 true 或 false"))),
            },
        };
        let number = |name: &str, default: u32, min: u32| match get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n >= min => Ok(n),
                _ => Err(bad(name, format!("“{v}”应为不小于 {min} 的整数"))),
            },
        };
        let base = match get("public_base_url") {
            None => d.public_base_url.clone(),
            Some(v) if v.starts_with("http://") || v.starts_with("https://") => {
                v.trim_end_matches('/').to_owned()
            }
            Some(v) => {
                return Err(bad(
                    "public_base_url",
                    format!("“{v}”应以 http:// 或 https:// 开头"),
                ));
            }
        };
        Ok(RuleConfig {
            include_simplified_procedure: flag(
                "include_simplified_procedure",
                d.include_simplified_procedure,
            )?,
            show_repaired_records: flag("show_repaired_records", d.show_repaired_records)?,
            end_publicity_at_expiry: flag("end_publicity_at_expiry", d.end_publicity_at_expiry)?,
            publicity_max_months: PublicityMaxima {
                minor: number(
                    "publicity_max_months_minor",
                    d.publicity_max_months.minor,
                    1,
                )?,
                general: number(
                    "publicity_max_months_general",
                    d.publicity_max_months.general,
                    1,
                )?,
                serious: number(
                    "publicity_max_months_serious",
                    d.publicity_max_months.serious,
                    1,
                )?,
            },
            report_validity_days: number("report_validity_days", d.report_validity_days, 0)?,
            apply_limit_per_day: number("apply_limit_per_day", d.apply_limit_per_day, 1)?,
            verify_rate_limit_per_minute: number(
                "verify_rate_limit_per_minute",
                d.verify_rate_limit_per_minute,
                1,
            )?,
            public_base_url: base,
            objection_accept_working_days: number(
                "objection_accept_working_days",
                d.objection_accept_working_days,
                0,
            )?,
            objection_answer_working_days: number(
                "objection_answer_working_days",
                d.objection_answer_working_days,
                0,
            )?,
        })
    }
}

fn bad(variable: &str, detail: String) -> Error {
    Error::InvalidConfig {
        variable: variable.to_owned(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<RuleConfig, Error> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        RuleConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_follow_the_county_notice_and_api_md() {
        assert_eq!(from(&[]).unwrap(), RuleConfig::default());
        let d = RuleConfig::default();
        assert!(!d.include_simplified_procedure && !d.show_repaired_records);
        assert_eq!(
            (
                d.report_validity_days,
                d.apply_limit_per_day,
                d.verify_rate_limit_per_minute
            ),
            (30, 10, 120)
        );
    }

    #[test]
    fn reads_overrides() {
        let c = from(&[
            ("include_simplified_procedure", "true"),
            ("show_repaired_records", "1"),
            ("report_validity_days", "0"),
            ("apply_limit_per_day", "3"),
            ("public_base_url", "https://credit.example.cn/"),
            ("publicity_max_months_serious", "24"),
        ])
        .unwrap();
        assert_eq!(
            c.publicity_max_months,
            PublicityMaxima {
                minor: 3,
                general: 12,
                serious: 24
            }
        );
        assert!(c.include_simplified_procedure && c.show_repaired_records);
        assert_eq!((c.report_validity_days, c.apply_limit_per_day), (0, 3));
        assert_eq!(c.public_base_url, "https://credit.example.cn");
    }

    #[test]
    fn bad_values_are_typed_errors() {
        for (k, v) in [
            ("include_simplified_procedure", "maybe"),
            ("report_validity_days", "-1"),
            ("apply_limit_per_day", "0"),
            ("public_base_url", "ftp://x"),
            ("publicity_max_months_minor", "0"),
            ("publicity_max_months_general", "a year"),
        ] {
            let e = from(&[(k, v)]).unwrap_err();
            assert_eq!(e.code(), "INVALID_CONFIG");
            assert!(matches!(e, Error::InvalidConfig { ref variable, .. } if variable == k));
        }
    }

    #[test]
    fn publicity_maxima_follow_order_36_and_count_like_the_civil_code() {
        let m = RuleConfig::default().publicity_max_months;
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            m.last_day(d("2026-01-10"), Some(Severity::Minor)),
            d("2026-04-10")
        );
        assert_eq!(
            m.last_day(d("2026-01-10"), Some(Severity::General)),
            d("2027-01-10")
        );
        assert_eq!(
            m.last_day(d("2026-01-10"), Some(Severity::Serious)),
            d("2029-01-10")
        );
        // No such day in the last month: its last day.
        assert_eq!(
            m.last_day(d("2026-08-31"), Some(Severity::Minor)),
            d("2026-11-30")
        );
        assert_eq!(
            m.last_day(d("2024-02-29"), Some(Severity::General)),
            d("2025-02-28")
        );
        // Without a severity: the longest, whichever that is.
        assert_eq!(m.months(None), 36);
        let reordered = PublicityMaxima {
            minor: 3,
            general: 48,
            serious: 36,
        };
        assert_eq!(reordered.months(None), 48);
    }
}
