//! Deadlines and minimum publicity periods. They are settings, read and
//! bounded with the others by [`crate::config::Settings`].

use super::calendar::WorkCalendar;
use crate::record::Severity;

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
    /// Working days from a repair application to its decision.
    pub repair_answer_working_days: u32,
    pub calendar: WorkCalendar,
    pub repair_min_months: RepairPeriods,
}
