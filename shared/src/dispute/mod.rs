//! Objections (异议申诉) and credit repair (信用修复): the workflow over
//! the record store.
//!
//! An objection is filed by the entity (or counter staff on its behalf) on
//! one of its records; the record shows 异议处理中 while the case is open.
//! The unit answering for the record's data domain accepts or rejects it
//! within `objection_accept_working_days`, then resolves it within
//! `objection_answer_working_days` of acceptance: correct the record, withdraw
//! it, or uphold it. A correction or withdrawal revokes every unexpired
//! report that showed the record; upholding leaves them valid.
//!
//! A repair is applied for on a penalty once its minimum publicity period
//! (by severity, from the decision date) has passed; the unit approves it
//! (record 已修复, reports that showed it revoked) or rejects it.
//!
//! Deadlines count working days: Monday to Friday, minus the dates of the
//! `public_holidays` variable, plus the dates of `working_weekends` (调休).
//! Both lists are empty by default, so by default public holidays are not
//! modelled: a deployment sets them each year from the State Council notice.
//! A deadline is the same time of day on the Nth working day after filing
//! (acceptance, for the answer); 0 days means at once.
//!
//! Cases, their evidence and their indexes are stored under the keys of
//! [`crate::store::keys`].
//!
//! | module | owns |
//! |---|---|
//! | `calendar` | working days |
//! | `config` | deadlines and repair periods from configuration |
//! | `case_no` | case numbers and kinds |
//! | `request` | parsing request bodies, evidence decoding |
//! | `case` | what objections and repairs share: storage, indexes, listing, status transitions, evidence |
//! | `objection`, `repair` | each kind's case, statuses and workflow |
//! | `access` | who may file, read and decide |

mod access;
mod calendar;
mod case;
mod case_no;
mod config;
mod objection;
mod repair;
mod request;

pub use calendar::WorkCalendar;
pub use case::{CaseFilter, EVIDENCE_CHUNK, EvidenceInfo, StatusFilter};
pub use case_no::{CaseKind, CaseNo};
pub use config::{DisputeConfig, RepairPeriods};
pub use objection::{Objection, ObjectionStatus};
pub use repair::{Repair, RepairStatus};
pub use request::{
    Evidence, EvidenceType, Ground, MAX_EVIDENCE_BYTES, MAX_STATEMENT_CHARS, ObjectionFiling,
    RepairApplication, Resolution, reason_from_json,
};

use crate::kv::KeyValue;
use crate::store::Store;

/// Objections and repairs over the store.
pub struct Disputes<'a, K: KeyValue + ?Sized> {
    kv: &'a K,
    store: Store<'a, K>,
    config: &'a DisputeConfig,
}

impl<'a, K: KeyValue + ?Sized> Disputes<'a, K> {
    pub fn new(kv: &'a K, config: &'a DisputeConfig) -> Self {
        Disputes {
            kv,
            store: Store::new(kv),
            config,
        }
    }
}

#[cfg(test)]
mod tests;
