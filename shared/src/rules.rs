//! Which records count in a report, and the findings per report domain.
//!
//! A penalty counts when it was decided inside the window, was not under the
//! simplified procedure (unless `include_simplified_procedure`), was not a
//! 不予行政处罚 decision, is not withdrawn, is not repaired (unless
//! `show_repaired_records`: then printed labelled 已修复), and (under
//! `end_publicity_at_expiry`) its publicity has not ended before the issue
//! date. Publicity ends after its 公示截止期 (`publicity_until`) or, when the
//! source unit gave none, by itself at the maximum period for its severity
//! (信用修复管理办法, 国家发展改革委令2025年第36号: minor 3 months, general 1
//! year, serious 3 years from the decision date; variables
//! `publicity_max_months_minor` / `_general` / `_serious`). A penalty with
//! neither a 公示截止期 nor a severity takes the longest maximum, so nothing
//! is hidden early. The last day published is the period's last day as
//! counted by 民法典 第二百零一条、第二百零二条 (decided 2026-01-10, minor:
//! published through 2026-04-10, not from 2026-04-11).
//! A list entry counts when it was listed at any time during the window:
//! `listed_on <= end` and (`removed_on` is none or `>= start`). Records under
//! objection count, labelled 异议处理中.
//!
//! The two kinds 发改财金〔2025〕565号 adds count only under their switches
//! (`include_coercive_measures`, `include_criminal_judgments`, both on by
//! default). A coercive measure counts as a penalty does, by its decision
//! date inside the window, and stops counting once lifted: a 解除日期 on or
//! before the issue date (the window's last day). A criminal judgment
//! counts by its 生效日期 inside the window: a judgment is a record from the
//! day it takes effect, so one pronounced before the window but effective
//! inside counts, and one pronounced inside but not yet effective does not.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::catalog::ReportDomain;
use crate::config::RuleConfig;
use crate::record::{Penalty, Procedure, Record, RecordId, RecordStatus, StoredRecord};
use crate::window::Window;

/// A record as it appears in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundRecord {
    pub id: RecordId,
    pub status: RecordStatus,
    /// e.g. "异议处理中" or "已修复".
    pub status_label: Option<String>,
    /// The record's version when the report was built: a later change
    /// revokes the report.
    pub version: u64,
    #[serde(flatten)]
    pub record: Record,
}

/// One chosen report domain with the records that count in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub domain: String,
    pub name: String,
    pub unit: String,
    pub records: Vec<FoundRecord>,
}

/// Whether `stored` counts in a report over `window`.
pub fn counts(stored: &StoredRecord, window: &Window, config: &RuleConfig) -> bool {
    match stored.status {
        RecordStatus::Withdrawn => return false,
        RecordStatus::Repaired if !config.show_repaired_records => return false,
        _ => {}
    }
    match &stored.record {
        Record::Penalty(p) => {
            window.contains(p.decided_on)
                && (p.procedure == Procedure::General || config.include_simplified_procedure)
                && !p.not_penalized
                && !(config.end_publicity_at_expiry && publicity_last_day(p, config) < window.end)
        }
        Record::DishonestList(l) | Record::AbnormalList(l) => {
            window.overlaps_listing(l.listed_on, l.removed_on)
        }
        Record::CoerciveMeasure(m) => {
            config.include_coercive_measures
                && window.contains(m.decided_on)
                && m.lifted_on.is_none_or(|lifted| lifted > window.end)
        }
        Record::CriminalJudgment(j) => {
            config.include_criminal_judgments && window.contains(j.effective_on)
        }
    }
}

/// The last day a penalty is published: its 公示截止期, else the maximum
/// period for its severity.
pub fn publicity_last_day(penalty: &Penalty, config: &RuleConfig) -> NaiveDate {
    penalty.publicity_until.unwrap_or_else(|| {
        config
            .publicity_max_months
            .last_day(penalty.decided_on, penalty.severity)
    })
}

/// The findings for the chosen domains, in the given order. Records inside
/// a domain are sorted newest first, then by id, so a snapshot is stable.
pub fn findings(
    records: &[StoredRecord],
    domains: &[&ReportDomain],
    window: &Window,
    config: &RuleConfig,
) -> Vec<Finding> {
    domains
        .iter()
        .map(|domain| {
            let mut found: Vec<FoundRecord> = records
                .iter()
                .filter(|s| domain.data_domains.iter().any(|d| d == s.record.domain()))
                .filter(|s| counts(s, window, config))
                .map(|s| FoundRecord {
                    id: s.id.clone(),
                    status: s.status,
                    status_label: s.status.label().map(str::to_owned),
                    version: s.version,
                    record: s.record.clone(),
                })
                .collect();
            found.sort_by(|a, b| {
                event_date(&b.record)
                    .cmp(&event_date(&a.record))
                    .then_with(|| a.id.cmp(&b.id))
            });
            Finding {
                domain: domain.code.clone(),
                name: domain.name.clone(),
                unit: domain.unit.clone(),
                records: found,
            }
        })
        .collect()
}

/// True when no chosen domain has a record that counts.
pub fn clean(findings: &[Finding]) -> bool {
    findings.iter().all(|f| f.records.is_empty())
}

fn event_date(r: &Record) -> NaiveDate {
    match r {
        Record::Penalty(p) => p.decided_on,
        Record::DishonestList(l) | Record::AbnormalList(l) => l.listed_on,
        Record::CoerciveMeasure(m) => m.decided_on,
        Record::CriminalJudgment(j) => j.effective_on,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::catalog;
    use crate::record::samples;
    use crate::window::ReportMonths;
    use chrono::{NaiveDate, TimeZone, Utc};
    use serde_json::{Value, json};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn stored(v: Value, status: RecordStatus) -> StoredRecord {
        let record = Record::from_json(&v).unwrap();
        let at = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .unwrap()
            .fixed_offset();
        StoredRecord {
            id: record.id(),
            status,
            status_reason: None,
            status_changed_at: None,
            version: 1,
            created_at: at,
            created_by: "test".into(),
            updated_at: at,
            updated_by: "test".into(),
            record,
        }
    }

    fn penalty_with(decided_on: &str, changes: Value) -> StoredRecord {
        let mut v = samples::penalty("P", decided_on);
        for (k, val) in changes.as_object().unwrap() {
            v[k] = val.clone();
        }
        stored(v, RecordStatus::Active)
    }

    /// Issued 2026-11-29, 12 months: 2025-11-30 ..= 2026-11-29.
    fn window() -> Window {
        Window::ending_on(ReportMonths::try_from(12).unwrap(), d("2026-11-29"))
    }

    fn cfg() -> RuleConfig {
        RuleConfig::default()
    }

    /// The domains of a report over all domains that show records, with how many.
    fn domains_with_records(records: &[StoredRecord], config: &RuleConfig) -> Vec<(String, usize)> {
        let domains = catalog()
            .select(&crate::catalog::DomainSelection::All)
            .unwrap();
        findings(records, &domains, &window(), config)
            .iter()
            .filter(|f| !f.records.is_empty())
            .map(|f| (f.domain.clone(), f.records.len()))
            .collect()
    }

    #[test]
    fn penalty_window_edges() {
        let w = window();
        assert!(
            !counts(&penalty_with("2025-11-29", json!({})), &w, &cfg()),
            "day before"
        );
        assert!(
            counts(&penalty_with("2025-11-30", json!({})), &w, &cfg()),
            "first day"
        );
        assert!(
            counts(&penalty_with("2026-11-29", json!({})), &w, &cfg()),
            "last day"
        );
        assert!(
            !counts(&penalty_with("2026-11-30", json!({})), &w, &cfg()),
            "after issue"
        );
    }

    #[test]
    fn data_before_2021_never_counts() {
        let w = Window::ending_on(ReportMonths::try_from(36).unwrap(), d("2022-06-30"));
        // Serious: still published 18 months on.
        let serious = json!({"severity": "serious"});
        assert!(!counts(
            &penalty_with("2020-12-31", serious.clone()),
            &w,
            &cfg()
        ));
        assert!(counts(&penalty_with("2021-01-01", serious), &w, &cfg()));
    }

    #[test]
    fn simplified_procedure_is_excluded_unless_switched_on() {
        let p = penalty_with("2026-05-01", json!({"procedure": "simplified"}));
        assert!(!counts(&p, &window(), &cfg()));
        let national = RuleConfig {
            include_simplified_procedure: true,
            ..cfg()
        };
        assert!(counts(&p, &window(), &national));
    }

    #[test]
    fn not_penalized_never_counts() {
        let p = penalty_with("2026-05-01", json!({"not_penalized": true}));
        assert!(!counts(&p, &window(), &cfg()));
        assert!(!counts(
            &p,
            &window(),
            &RuleConfig {
                include_simplified_procedure: true,
                ..cfg()
            }
        ));
    }

    #[test]
    fn withdrawn_never_counts_repaired_only_under_the_switch() {
        let mut p = penalty_with("2026-05-01", json!({}));
        p.status = RecordStatus::Withdrawn;
        assert!(!counts(
            &p,
            &window(),
            &RuleConfig {
                show_repaired_records: true,
                ..cfg()
            }
        ));
        p.status = RecordStatus::Repaired;
        assert!(!counts(&p, &window(), &cfg()));
        let show = RuleConfig {
            show_repaired_records: true,
            ..cfg()
        };
        assert!(counts(&p, &window(), &show));
        let domains = catalog()
            .select(&crate::catalog::DomainSelection::Codes(vec!["tax".into()]))
            .unwrap();
        let f = findings(&[p], &domains, &window(), &show);
        assert_eq!(f[0].records[0].status_label.as_deref(), Some("已修复"));
    }

    #[test]
    fn under_objection_counts_with_its_label() {
        let mut p = penalty_with("2026-05-01", json!({}));
        p.status = RecordStatus::UnderObjection;
        let domains = catalog()
            .select(&crate::catalog::DomainSelection::Codes(vec!["tax".into()]))
            .unwrap();
        let f = findings(&[p], &domains, &window(), &cfg());
        assert_eq!(f[0].records[0].status_label.as_deref(), Some("异议处理中"));
        assert!(!clean(&f));
    }

    #[test]
    fn publicity_ends_at_its_end_date() {
        let ended = penalty_with("2026-01-10", json!({"publicity_until": "2026-04-10"}));
        assert!(!counts(&ended, &window(), &cfg()));
        assert!(counts(
            &ended,
            &window(),
            &RuleConfig {
                end_publicity_at_expiry: false,
                ..cfg()
            }
        ));
        let running = penalty_with("2026-01-10", json!({"publicity_until": "2026-11-29"}));
        assert!(counts(&running, &window(), &cfg()));
    }

    /// A penalty without 公示截止期, of `severity` (None: not graded).
    fn ungraded_or(decided_on: &str, severity: Option<&str>) -> StoredRecord {
        penalty_with(
            decided_on,
            json!({"publicity_until": null, "severity": severity}),
        )
    }

    fn issued_on(months: u32, day: &str) -> Window {
        Window::ending_on(ReportMonths::try_from(months).unwrap(), d(day))
    }

    #[test]
    fn without_an_end_date_publicity_ends_at_the_maximum_for_its_severity() {
        // Issued 2026-11-29: the last day published is the issue date itself.
        let w = window();
        assert!(
            counts(&ungraded_or("2026-08-29", Some("minor")), &w, &cfg()),
            "minor, last day published"
        );
        assert!(
            !counts(&ungraded_or("2026-08-28", Some("minor")), &w, &cfg()),
            "minor, first day not published"
        );
        let two_years = issued_on(24, "2026-11-29");
        assert!(
            counts(
                &ungraded_or("2025-11-29", Some("general")),
                &two_years,
                &cfg()
            ),
            "general, last day published"
        );
        assert!(
            !counts(
                &ungraded_or("2025-11-28", Some("general")),
                &two_years,
                &cfg()
            ),
            "general, first day not published"
        );
        assert!(counts(
            &ungraded_or("2025-11-28", Some("serious")),
            &two_years,
            &cfg()
        ));
        // The month has no 31st: its last day ends the period.
        let minor = ungraded_or("2026-08-31", Some("minor"));
        assert!(counts(&minor, &issued_on(12, "2026-11-30"), &cfg()));
        assert!(!counts(&minor, &issued_on(12, "2026-12-01"), &cfg()));
        assert!(
            counts(
                &minor,
                &issued_on(12, "2026-12-01"),
                &RuleConfig {
                    end_publicity_at_expiry: false,
                    ..cfg()
                }
            ),
            "the switch turns expiry off"
        );
    }

    #[test]
    fn serious_and_ungraded_penalties_take_the_longest_configured_maximum() {
        // 36 months outlasts every window; a shorter configured maximum shows the edge.
        let shorter = RuleConfig {
            publicity_max_months: crate::config::PublicityMaxima {
                minor: 3,
                general: 12,
                serious: 24,
            },
            ..cfg()
        };
        let w = issued_on(36, "2026-11-29");
        for severity in [Some("serious"), None] {
            assert!(
                counts(&ungraded_or("2024-11-29", severity), &w, &shorter),
                "{severity:?}, last day published"
            );
            assert!(
                !counts(&ungraded_or("2024-11-28", severity), &w, &shorter),
                "{severity:?}, first day not published"
            );
            assert!(
                counts(&ungraded_or("2023-11-30", severity), &w, &cfg()),
                "{severity:?}, default 3 years: shown all through a 36-month report"
            );
        }
    }

    #[test]
    fn a_stated_end_date_takes_precedence_over_the_maximum() {
        let longer = penalty_with(
            "2026-01-10",
            json!({"severity": "minor", "publicity_until": "2026-11-29"}),
        );
        assert!(counts(&longer, &window(), &cfg()));
        let shorter = penalty_with(
            "2026-10-01",
            json!({"severity": "serious", "publicity_until": "2026-11-28"}),
        );
        assert!(!counts(&shorter, &window(), &cfg()));
    }

    #[test]
    fn list_entries_count_when_listed_at_any_time_in_the_window() {
        let w = window();
        let l = |listed: &str, removed: Option<&str>| {
            stored(samples::listing("L", listed, removed), RecordStatus::Active)
        };
        assert!(
            counts(&l("2023-01-01", None), &w, &cfg()),
            "listed before, still listed"
        );
        assert!(
            counts(&l("2023-01-01", Some("2026-02-01")), &w, &cfg()),
            "listed before, removed during"
        );
        assert!(
            counts(&l("2023-01-01", Some("2025-11-30")), &w, &cfg()),
            "removed on the first day"
        );
        assert!(
            !counts(&l("2023-01-01", Some("2025-11-29")), &w, &cfg()),
            "removed the day before"
        );
        assert!(
            counts(&l("2026-11-29", None), &w, &cfg()),
            "listed on the last day"
        );
        assert!(!counts(&l("2026-11-30", None), &w, &cfg()), "listed after");
    }

    #[test]
    fn findings_put_records_under_their_report_domain_only() {
        let tax = penalty_with("2026-05-01", json!({}));
        let listing = stored(
            samples::listing("L", "2026-02-01", None),
            RecordStatus::Active,
        );
        let excluded = penalty_with(
            "2026-06-01",
            json!({"document_no": "S", "procedure": "simplified"}),
        );
        let records = [tax, listing, excluded];
        assert_eq!(
            domains_with_records(&records, &cfg()),
            [("market_regulation".to_owned(), 1), ("tax".to_owned(), 1)]
        );
        let only_others = catalog()
            .select(&crate::catalog::DomainSelection::Codes(vec![
                "education".into(),
                "finance".into(),
            ]))
            .unwrap();
        assert!(clean(&findings(&records, &only_others, &window(), &cfg())));
    }

    fn coercive(decided_on: &str, lifted_on: Option<&str>) -> StoredRecord {
        stored(
            samples::coercive_measure("C", decided_on, lifted_on),
            RecordStatus::Active,
        )
    }

    fn judgment(judged_on: &str, effective_on: &str) -> StoredRecord {
        stored(
            samples::criminal_judgment("J", judged_on, effective_on),
            RecordStatus::Active,
        )
    }

    #[test]
    fn a_coercive_measure_counts_by_its_decision_until_lifted() {
        let w = window();
        assert!(
            counts(&coercive("2026-05-01", None), &w, &cfg()),
            "in force"
        );
        assert!(
            !counts(&coercive("2025-11-29", None), &w, &cfg()),
            "decided before the window"
        );
        assert!(
            counts(&coercive("2025-11-30", None), &w, &cfg()),
            "decided on the first day"
        );
        assert!(
            !counts(&coercive("2026-05-01", Some("2026-11-29")), &w, &cfg()),
            "lifted on the issue date"
        );
        assert!(
            !counts(&coercive("2026-05-01", Some("2026-06-01")), &w, &cfg()),
            "lifted before"
        );
        assert!(
            counts(&coercive("2026-05-01", Some("2026-11-30")), &w, &cfg()),
            "lifted after the issue date: still in force on it"
        );
        let off = RuleConfig {
            include_coercive_measures: false,
            ..cfg()
        };
        assert!(!counts(&coercive("2026-05-01", None), &w, &off));
    }

    #[test]
    fn a_criminal_judgment_counts_from_its_effective_date() {
        let w = window();
        assert!(counts(&judgment("2026-02-10", "2026-02-25"), &w, &cfg()));
        assert!(
            counts(&judgment("2025-11-01", "2025-11-30"), &w, &cfg()),
            "pronounced before the window, effective on its first day"
        );
        assert!(
            !counts(&judgment("2025-11-01", "2025-11-29"), &w, &cfg()),
            "effective the day before the window"
        );
        assert!(
            !counts(&judgment("2026-11-20", "2026-11-30"), &w, &cfg()),
            "pronounced inside, effective after the issue date"
        );
        let off = RuleConfig {
            include_criminal_judgments: false,
            ..cfg()
        };
        assert!(!counts(&judgment("2026-02-10", "2026-02-25"), &w, &off));
        let mut withdrawn = judgment("2026-02-10", "2026-02-25");
        withdrawn.status = RecordStatus::Withdrawn;
        assert!(!counts(&withdrawn, &w, &cfg()));
    }

    #[test]
    fn the_new_kinds_are_shown_under_their_report_domains() {
        let records = [
            coercive("2026-05-01", None),
            judgment("2026-02-10", "2026-02-25"),
        ];
        assert_eq!(
            domains_with_records(&records, &cfg()),
            [
                ("market_regulation".to_owned(), 1),
                ("criminal_judgment".to_owned(), 1)
            ]
        );
        let neither = RuleConfig {
            include_coercive_measures: false,
            include_criminal_judgments: false,
            ..cfg()
        };
        assert!(domains_with_records(&records, &neither).is_empty());
    }
}
