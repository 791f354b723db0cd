//! Figures for the people who run the scheme (issue 18): the collection
//! accountability list (数据归集责任清单, "谁提供谁负责") and the usage
//! figures. Pure: the tallies as stored, how a change updates them, and the
//! answers made from them. Where they are kept and why:
//! docs/decisions.md, "Figures from tallies kept at write time".

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, FixedOffset, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::AccessEntry;
use crate::catalog::catalog;
use crate::error::Error;
use crate::vocabulary::{RecordKind, RecordStatus, ReportEdition};
use crate::window::{china_date, in_china};

/// "Submissions in the last 30 days" (the notice's monthly rhythm).
pub const SUBMISSION_WINDOW_DAYS: i64 = 30;
/// Days of accepted-item counts a tally keeps: the window and a margin.
const KEPT_DAYS: i64 = 62;
/// Examples kept per rejection code: the latest ones.
pub const REJECTION_EXAMPLES: usize = 5;
/// The longest month range `GET /api/v1/stats/usage` answers.
pub const MAX_USAGE_MONTHS: u32 = 24;

/// One rejected item, as much as the unit needs to find it again in its
/// own file: never the item's content (names, credit codes, amounts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionExample {
    pub at: DateTime<FixedOffset>,
    /// The field the problem names, when it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The line of the submitted body (NDJSON, CSV), else the item's
    /// position in the batch from 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub index: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejections {
    pub count: u64,
    /// The latest [`REJECTION_EXAMPLES`], oldest first.
    pub examples: Vec<RejectionExample>,
}

/// What a data domain's unit has supplied: `stat/col/{domain}`. Record
/// counts are keyed by the kinds' and statuses' codes, so a new kind is
/// counted without a change here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainTally {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_submission_at: Option<DateTime<FixedOffset>>,
    /// Items accepted (created, updated or resubmitted unchanged) by China
    /// day, the last [`KEPT_DAYS`] days.
    #[serde(default)]
    pub accepted_by_day: BTreeMap<NaiveDate, u64>,
    /// kind code → status code → records.
    #[serde(default)]
    pub records: BTreeMap<String, BTreeMap<String, u64>>,
    /// problem code → rejections.
    #[serde(default)]
    pub rejected: BTreeMap<String, Rejections>,
}

/// What one intake batch changes in one domain's (or one unit's) tally.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchTally {
    pub accepted: u64,
    /// Records created, by kind: each starts in force.
    pub created: BTreeMap<String, u64>,
    pub rejected: Vec<(String, RejectionExample)>,
}

impl BatchTally {
    pub fn is_empty(&self) -> bool {
        self.accepted == 0 && self.created.is_empty() && self.rejected.is_empty()
    }
}

pub fn status_code(status: RecordStatus) -> &'static str {
    match status {
        RecordStatus::Active => "active",
        RecordStatus::UnderObjection => "under_objection",
        RecordStatus::Repaired => "repaired",
        RecordStatus::Withdrawn => "withdrawn",
    }
}

impl DomainTally {
    /// Adds a batch's changes, at `now`; forgets days older than the
    /// tally keeps.
    pub fn add_batch(&mut self, batch: &BatchTally, now: DateTime<Utc>) {
        let today = china_date(now);
        if batch.accepted > 0 {
            self.last_submission_at = Some(in_china(now));
            *self.accepted_by_day.entry(today).or_default() += batch.accepted;
        }
        let oldest = today - chrono::Duration::days(KEPT_DAYS);
        self.accepted_by_day.retain(|day, _| *day > oldest);
        for (kind, n) in &batch.created {
            *self
                .records
                .entry(kind.clone())
                .or_default()
                .entry(status_code(RecordStatus::Active).to_owned())
                .or_default() += n;
        }
        for (code, example) in &batch.rejected {
            let rejections = self.rejected.entry(code.clone()).or_default();
            rejections.count += 1;
            rejections.examples.push(example.clone());
            let excess = rejections.examples.len().saturating_sub(REJECTION_EXAMPLES);
            rejections.examples.drain(..excess);
        }
    }

    /// A record of `kind` moved from one status to another.
    pub fn move_record(&mut self, kind: RecordKind, from: RecordStatus, to: RecordStatus) {
        let counts = self.records.entry(kind.as_str().to_owned()).or_default();
        if let Some(n) = counts.get_mut(status_code(from)) {
            *n = n.saturating_sub(1);
        }
        *counts.entry(status_code(to).to_owned()).or_default() += 1;
    }

    fn accepted_since(&self, first_day: NaiveDate) -> u64 {
        self.accepted_by_day
            .range(first_day..)
            .map(|(_, n)| n)
            .sum()
    }
}

// ----- the collection answer -----

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    pub kind: String,
    pub label: String,
    /// status code → records, every status of the model.
    pub by_status: BTreeMap<String, u64>,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectionFigures {
    pub code: String,
    pub count: u64,
    pub examples: Vec<RejectionExample>,
}

/// One row of the accountability list: a responsible unit's data domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollectionRow {
    pub unit: String,
    pub domain: String,
    pub domain_name: String,
    pub last_submission_at: Option<DateTime<FixedOffset>>,
    /// Whole days since the last submission (China dates); none if never.
    pub days_since_submission: Option<i64>,
    /// Items accepted in the last [`SUBMISSION_WINDOW_DAYS`] days.
    pub submissions_30d: u64,
    pub records: Vec<KindCounts>,
    pub rejected_total: u64,
    pub rejected: Vec<RejectionFigures>,
    /// No submission in this domain for `collection_overdue_days`.
    pub overdue: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitFigures {
    pub unit: String,
    pub domains: Vec<String>,
    pub last_submission_at: Option<DateTime<FixedOffset>>,
    pub days_since_submission: Option<i64>,
    pub submissions_30d: u64,
    /// Rejected items that named none of the unit's domains.
    pub rejected_elsewhere: Vec<RejectionFigures>,
    /// No submission in any of its domains for `collection_overdue_days`.
    pub overdue: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollectionFigures {
    pub generated_at: DateTime<FixedOffset>,
    pub overdue_days: u32,
    pub window_days: i64,
    pub units: Vec<UnitFigures>,
    pub rows: Vec<CollectionRow>,
}

/// The responsible units (责任单位) of the catalog, each once, in catalog
/// order, by the name the catalog prints.
pub fn responsible_units() -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    for domain in &catalog().data_domains {
        if !units.contains(&domain.unit) {
            units.push(domain.unit.clone());
        }
    }
    units
}

/// A department's unit by the name the catalog prints (a token may carry
/// an alias); none when the catalog gives it no domain.
pub fn catalog_unit(unit: &str) -> Option<String> {
    catalog()
        .data_domains_of_unit(unit)
        .first()
        .map(|d| d.unit.clone())
}

fn rejection_figures(tally: &DomainTally) -> Vec<RejectionFigures> {
    let mut figures: Vec<RejectionFigures> = tally
        .rejected
        .iter()
        .map(|(code, r)| RejectionFigures {
            code: code.clone(),
            count: r.count,
            examples: r.examples.clone(),
        })
        .collect();
    figures.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
    figures
}

/// Every kind of the model first (in its order, zeros included), then any
/// kind a tally names that the model no longer has.
fn kind_counts(tally: &DomainTally) -> Vec<KindCounts> {
    let mut kinds: Vec<String> = RecordKind::ALL
        .iter()
        .map(|k| k.as_str().to_owned())
        .collect();
    kinds.extend(
        tally
            .records
            .keys()
            .filter(|k| RecordKind::parse(k).is_none())
            .cloned(),
    );
    kinds
        .into_iter()
        .map(|kind| {
            let stored = tally.records.get(&kind);
            let mut by_status: BTreeMap<String, u64> = RecordStatus::ALL
                .iter()
                .map(|s| (status_code(*s).to_owned(), 0))
                .collect();
            if let Some(stored) = stored {
                for (status, n) in stored {
                    *by_status.entry(status.clone()).or_default() += n;
                }
            }
            KindCounts {
                label: RecordKind::parse(&kind).map_or_else(|| kind.clone(), |k| k.label().into()),
                total: by_status.values().sum(),
                kind,
                by_status,
            }
        })
        .collect()
}

fn days_since(last: Option<DateTime<FixedOffset>>, today: NaiveDate) -> Option<i64> {
    last.map(|at| (today - at.date_naive()).num_days().max(0))
}

fn is_overdue(days: Option<i64>, overdue_days: u32) -> bool {
    days.is_none_or(|d| d >= i64::from(overdue_days))
}

/// The accountability list of `units` (catalog order), from their domains'
/// tallies (`domains`: domain code → tally) and their own
/// (`units_elsewhere`: unit → tally of rejections naming no domain of it).
pub fn collection_figures(
    units: &[String],
    domains: &BTreeMap<String, DomainTally>,
    units_elsewhere: &BTreeMap<String, DomainTally>,
    overdue_days: u32,
    now: DateTime<Utc>,
) -> CollectionFigures {
    let today = china_date(now);
    let window_start = today - chrono::Duration::days(SUBMISSION_WINDOW_DAYS - 1);
    let empty = DomainTally::default();
    let mut rows = Vec::new();
    let mut unit_figures = Vec::new();
    for unit in units {
        let mut unit_last: Option<DateTime<FixedOffset>> = None;
        let mut unit_recent = 0;
        let mut codes = Vec::new();
        for domain in catalog().data_domains_of_unit(unit) {
            let tally = domains.get(&domain.code).unwrap_or(&empty);
            let days = days_since(tally.last_submission_at, today);
            let recent = tally.accepted_since(window_start);
            unit_last = unit_last.max(tally.last_submission_at);
            unit_recent += recent;
            codes.push(domain.code.clone());
            let rejected = rejection_figures(tally);
            rows.push(CollectionRow {
                unit: unit.clone(),
                domain: domain.code.clone(),
                domain_name: domain.name.clone(),
                last_submission_at: tally.last_submission_at,
                days_since_submission: days,
                submissions_30d: recent,
                records: kind_counts(tally),
                rejected_total: rejected.iter().map(|r| r.count).sum(),
                rejected,
                overdue: is_overdue(days, overdue_days),
            });
        }
        let days = days_since(unit_last, today);
        unit_figures.push(UnitFigures {
            unit: unit.clone(),
            domains: codes,
            last_submission_at: unit_last,
            days_since_submission: days,
            submissions_30d: unit_recent,
            rejected_elsewhere: units_elsewhere
                .get(unit)
                .map(rejection_figures)
                .unwrap_or_default(),
            overdue: is_overdue(days, overdue_days),
        });
    }
    CollectionFigures {
        generated_at: in_china(now),
        overdue_days,
        window_days: SUBMISSION_WINDOW_DAYS,
        units: unit_figures,
        rows,
    }
}

/// The list as CSV for a spreadsheet: UTF-8 with a byte-order mark (so
/// Excel reads the Chinese), Chinese headers, one line per row.
pub fn collection_csv(figures: &CollectionFigures) -> Result<Vec<u8>, Error> {
    let internal = |e: csv::Error| Error::Internal(format!("collection CSV: {e}"));
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let kinds: Vec<(String, String)> = figures
        .rows
        .first()
        .map(|r| {
            r.records
                .iter()
                .map(|k| (k.kind.clone(), k.label.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut header: Vec<String> = [
        "责任单位",
        "数据领域",
        "领域代码",
        "最近报送时间",
        "距今天数",
        "近30天报送条数",
    ]
    .map(String::from)
    .to_vec();
    for (_, label) in &kinds {
        for status in RecordStatus::ALL {
            header.push(format!("{label}·{}", status.name()));
        }
    }
    header.extend(["退回条数", "退回原因", "逾期未报送"].map(String::from));
    writer.write_record(&header).map_err(internal)?;
    for row in &figures.rows {
        let mut line = vec![
            row.unit.clone(),
            row.domain_name.clone(),
            row.domain.clone(),
            row.last_submission_at
                .map(|at| at.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            row.days_since_submission
                .map(|d| d.to_string())
                .unwrap_or_default(),
            row.submissions_30d.to_string(),
        ];
        for (kind, _) in &kinds {
            let counts = row.records.iter().find(|k| &k.kind == kind);
            for status in RecordStatus::ALL {
                let n = counts
                    .and_then(|k| k.by_status.get(status_code(status)))
                    .copied()
                    .unwrap_or(0);
                line.push(n.to_string());
            }
        }
        line.push(row.rejected_total.to_string());
        line.push(
            row.rejected
                .iter()
                .map(|r| format!("{}×{}", r.code, r.count))
                .collect::<Vec<_>>()
                .join("；"),
        );
        line.push(if row.overdue { "是" } else { "否" }.to_owned());
        writer.write_record(&line).map_err(internal)?;
    }
    writer
        .into_inner()
        .map_err(|e| Error::Internal(format!("collection CSV: {e}")))
}

// ----- usage -----

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportCounts {
    pub with_records: u64,
    pub without_records: u64,
    /// Certificates the reports stand for: one per report domain.
    pub certificates: u64,
}

impl ReportCounts {
    fn add(&mut self, other: &ReportCounts) {
        self.with_records += other.with_records;
        self.without_records += other.without_records;
        self.certificates += other.certificates;
    }
}

/// Cases of one kind: filed, and decided with their processing times.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseCounts {
    pub filed: u64,
    pub decided: u64,
    /// Decided by the deadline the case had when it was decided.
    pub on_time: u64,
    pub overdue: u64,
    /// Calendar days from filing to decision → cases.
    #[serde(default)]
    pub days: BTreeMap<u32, u64>,
}

impl CaseCounts {
    fn add(&mut self, other: &CaseCounts) {
        self.filed += other.filed;
        self.decided += other.decided;
        self.on_time += other.on_time;
        self.overdue += other.overdue;
        for (d, n) in &other.days {
            *self.days.entry(*d).or_default() += n;
        }
    }

    /// The median processing time in days (the lower median).
    pub fn median_days(&self) -> Option<u32> {
        let total: u64 = self.days.values().sum();
        let middle = total.checked_sub(1)? / 2;
        let mut seen = 0;
        for (d, n) in &self.days {
            seen += n;
            if seen > middle {
                return Some(*d);
            }
        }
        None
    }
}

/// A China day's usage: `stat/day/{yyyymmdd}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTally {
    /// purpose code → reports issued.
    #[serde(default)]
    pub reports: BTreeMap<String, ReportCounts>,
    /// `objection` / `repair` → cases.
    #[serde(default)]
    pub cases: BTreeMap<String, CaseCounts>,
}

impl DayTally {
    pub fn add_report(&mut self, purpose: &str, has_records: bool, domains: usize) {
        let counts = self.reports.entry(purpose.to_owned()).or_default();
        if has_records {
            counts.with_records += 1;
        } else {
            counts.without_records += 1;
        }
        counts.certificates += domains as u64;
    }

    pub fn add_filed_case(&mut self, kind: &str) {
        self.cases.entry(kind.to_owned()).or_default().filed += 1;
    }

    /// A case decided at `decided_at`; `deadline`, when it had one, says
    /// whether in time.
    pub fn add_decided_case(
        &mut self,
        kind: &str,
        filed_at: DateTime<FixedOffset>,
        decided_at: DateTime<FixedOffset>,
        deadline: Option<DateTime<FixedOffset>>,
    ) {
        let counts = self.cases.entry(kind.to_owned()).or_default();
        counts.decided += 1;
        match deadline {
            Some(by) if decided_at <= by => counts.on_time += 1,
            Some(_) => counts.overdue += 1,
            None => {}
        }
        let days = (decided_at.date_naive() - filed_at.date_naive())
            .num_days()
            .max(0);
        *counts.days.entry(days as u32).or_default() += 1;
    }

    fn add(&mut self, other: &DayTally) {
        for (purpose, counts) in &other.reports {
            self.reports.entry(purpose.clone()).or_default().add(counts);
        }
        for (kind, counts) in &other.cases {
            self.cases.entry(kind.clone()).or_default().add(counts);
        }
    }
}

/// A day's public verifications: channel (`code`, `file`, `batch`) →
/// outcome → count; a batch counts each of its codes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationTally(pub BTreeMap<String, BTreeMap<String, u64>>);

impl VerificationTally {
    pub fn add_entry(&mut self, entry: &AccessEntry) {
        let Some(channel) = entry.entry.action.strip_prefix("verify.") else {
            return;
        };
        let outcomes = self.0.entry(channel.to_owned()).or_default();
        let items = entry
            .entry
            .details
            .get("results")
            .and_then(Value::as_array)
            .filter(|_| channel == "batch");
        match items {
            Some(items) => {
                for item in items {
                    let outcome = item.get("outcome").and_then(Value::as_str).unwrap_or("?");
                    *outcomes.entry(outcome.to_owned()).or_default() += 1;
                }
            }
            None => *outcomes.entry(entry.entry.outcome.clone()).or_default() += 1,
        }
    }

    fn add(&mut self, other: &VerificationTally) {
        for (channel, outcomes) in &other.0 {
            let mine = self.0.entry(channel.clone()).or_default();
            for (outcome, n) in outcomes {
                *mine.entry(outcome.clone()).or_default() += n;
            }
        }
    }
}

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month(NaiveDate);

impl Month {
    pub fn of(day: NaiveDate) -> Month {
        Month(day.with_day(1).unwrap_or(day))
    }

    pub fn parse(field: &str, text: &str) -> Result<Month, Error> {
        NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d")
            .ok()
            .filter(|_| text.trim().len() == 7)
            .map(Month)
            .ok_or_else(|| Error::InvalidField {
                field: field.into(),
                detail: format!("“{text}”不是月份，应为 YYYY-MM，如 2026-11"),
            })
    }

    pub fn first_day(self) -> NaiveDate {
        self.0
    }

    pub fn next(self) -> Month {
        Month(self.0 + Months::new(1))
    }

    pub fn minus(self, months: u32) -> Month {
        Month(self.0 - Months::new(months))
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().0.pred_opt().unwrap_or(self.0)
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m"))
    }
}

/// The months a usage query covers: `?from=&to=` (`YYYY-MM`); by default
/// the twelve months up to `now`'s. At most [`MAX_USAGE_MONTHS`].
pub fn usage_months(
    from: Option<&str>,
    to: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<Month>, Error> {
    let to = match to {
        Some(to) => Month::parse("to", to)?,
        None => Month::of(china_date(now)),
    };
    let from = match from {
        Some(from) => Month::parse("from", from)?,
        None => to.minus(11),
    };
    if from > to {
        return Err(Error::InvalidField {
            field: "from".into(),
            detail: format!("起始月份 {from} 晚于截止月份 {to}"),
        });
    }
    let mut months = vec![from];
    while let Some(last) = months.last().copied().filter(|m| *m < to) {
        if months.len() as u32 >= MAX_USAGE_MONTHS {
            return Err(Error::InvalidField {
                field: "from".into(),
                detail: format!("一次最多统计 {MAX_USAGE_MONTHS} 个月"),
            });
        }
        months.push(last.next());
    }
    Ok(months)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PurposeFigures {
    pub purpose: String,
    pub label: String,
    pub edition: ReportEdition,
    pub with_records: u64,
    pub without_records: u64,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseFigures {
    pub filed: u64,
    pub decided: u64,
    pub on_time: u64,
    pub overdue: u64,
    pub median_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsagePeriod {
    /// `YYYY-MM`, or `total` for the whole range.
    pub month: String,
    pub reports: u64,
    pub with_records: u64,
    pub without_records: u64,
    /// Share of reports that showed records, 0–1 (none when no reports).
    pub share_with_records: Option<f64>,
    pub certificates_replaced: u64,
    /// Reports by purpose (and the purpose's edition).
    pub by_purpose: Vec<PurposeFigures>,
    /// Reports by edition code.
    pub by_edition: BTreeMap<String, u64>,
    /// channel → outcome → verifications.
    pub verifications: BTreeMap<String, BTreeMap<String, u64>>,
    /// `objection` / `repair`.
    pub cases: BTreeMap<String, CaseFigures>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageFigures {
    pub from: String,
    pub to: String,
    pub months: Vec<UsagePeriod>,
    pub total: UsagePeriod,
}

fn edition_code(edition: ReportEdition) -> &'static str {
    match edition {
        ReportEdition::Listing => "listing",
        ReportEdition::General => "general",
    }
}

fn period(label: String, usage: &DayTally, verifications: &VerificationTally) -> UsagePeriod {
    let mut total = ReportCounts::default();
    let mut by_edition: BTreeMap<String, u64> = BTreeMap::new();
    let by_purpose: Vec<PurposeFigures> = usage
        .reports
        .iter()
        .map(|(code, counts)| {
            total.add(counts);
            let purpose = catalog().purpose(code);
            let edition = purpose.map_or(ReportEdition::General, |p| p.report_edition());
            let n = counts.with_records + counts.without_records;
            *by_edition
                .entry(edition_code(edition).to_owned())
                .or_default() += n;
            PurposeFigures {
                purpose: code.clone(),
                label: purpose.map_or_else(|| code.clone(), |p| p.label()),
                edition,
                with_records: counts.with_records,
                without_records: counts.without_records,
                total: n,
            }
        })
        .collect();
    let reports = total.with_records + total.without_records;
    UsagePeriod {
        month: label,
        reports,
        with_records: total.with_records,
        without_records: total.without_records,
        share_with_records: (reports > 0).then(|| total.with_records as f64 / reports as f64),
        certificates_replaced: total.certificates,
        by_purpose,
        by_edition,
        verifications: verifications.0.clone(),
        cases: usage
            .cases
            .iter()
            .map(|(kind, c)| {
                (
                    kind.clone(),
                    CaseFigures {
                        filed: c.filed,
                        decided: c.decided,
                        on_time: c.on_time,
                        overdue: c.overdue,
                        median_days: c.median_days(),
                    },
                )
            })
            .collect(),
    }
}

/// The usage figures of `months` from the days' tallies (`days`: China day
/// → usage and verifications; days without figures are absent).
pub fn usage_figures(
    months: &[Month],
    days: &BTreeMap<NaiveDate, (DayTally, VerificationTally)>,
) -> UsageFigures {
    let (mut all_usage, mut all_verifications) =
        (DayTally::default(), VerificationTally::default());
    let periods = months
        .iter()
        .map(|month| {
            let (mut usage, mut verifications) =
                (DayTally::default(), VerificationTally::default());
            for (u, v) in days
                .range(month.first_day()..=month.last_day())
                .map(|(_, t)| t)
            {
                usage.add(u);
                verifications.add(v);
            }
            all_usage.add(&usage);
            all_verifications.add(&verifications);
            period(month.to_string(), &usage, &verifications)
        })
        .collect();
    UsageFigures {
        from: months.first().map(Month::to_string).unwrap_or_default(),
        to: months.last().map(Month::to_string).unwrap_or_default(),
        months: periods,
        total: period("total".into(), &all_usage, &all_verifications),
    }
}

#[cfg(test)]
mod tests;
