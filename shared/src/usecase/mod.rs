//! The service's use cases: what one HTTP request asks of the core, from
//! parsed input to the body of the answer, with its authorisation, its
//! rate limit and its audit entry. A component parses the request, calls one
//! function here and writes what it returns.

pub mod audit_log;
pub mod disputes;
pub mod intake;
pub mod reports;
pub mod signin;
pub mod stats;
pub mod subscriptions;
pub mod verification;

use chrono::{DateTime, Utc};

use crate::audit::AuditEntry;
use crate::auth::Principal;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::store::Store;
use crate::uscc::{CreditCode, UsccError};

/// A signed-in caller, where it called from and when: what a use case
/// needs to authorise the request and audit it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The client's address as the host reports it.
    pub client: String,
    pub now: DateTime<Utc>,
}

impl Caller {
    /// An audit entry of this caller's action.
    pub fn entry(&self, action: &str, outcome: &str) -> AuditEntry {
        AuditEntry::new(Some(&self.principal), action, outcome, self.now).client(&self.client)
    }

    /// Whether the caller may read `entity`'s reports, records and cases:
    /// counter staff while a mandate for it is in force (they applied or
    /// filed a case on its behalf), other roles as their role allows.
    pub fn acts_for(
        &self,
        kv: &(impl KeyValue + ?Sized),
        entity: &CreditCode,
    ) -> Result<bool, Error> {
        match &self.principal {
            Principal::Staff { sub, .. } => {
                Ok(Store::new(kv).mandate(sub, entity, self.now)?.is_some())
            }
            other => Ok(other.can_read_entity(entity)),
        }
    }

    /// `FORBIDDEN` unless the caller may read `entity`'s data
    /// ([`Caller::acts_for`]); for listings, where a refusal reveals
    /// nothing a caller could not know.
    pub fn require_acting_for(
        &self,
        kv: &(impl KeyValue + ?Sized),
        entity: &CreditCode,
    ) -> Result<(), Error> {
        if self.acts_for(kv, entity)? {
            return Ok(());
        }
        Err(Error::Forbidden(match self.principal {
            Principal::Staff { .. } => "窗口帮办人员只能查看正在代办的主体的信息：请先凭该主体的授权委托书代为申请报告，或代为提出异议申诉、信用修复申请".into(),
            _ => "只能查看本主体的信息".into(),
        }))
    }

    /// An audit entry of an action on `entity`'s data: counter staff always
    /// act on an entity's behalf, and the entry names it.
    pub fn entry_about(&self, entity: &CreditCode, action: &str, outcome: &str) -> AuditEntry {
        let entry = self.entry(action, outcome);
        match self.principal {
            Principal::Staff { .. } => entry.on_behalf_of(entity),
            _ => entry,
        }
    }
}

/// An anonymous member of the public (a verifier).
#[derive(Debug, Clone)]
pub struct Visitor {
    pub client: String,
    pub now: DateTime<Utc>,
}

impl Visitor {
    pub fn entry(&self, action: &str, outcome: &str) -> AuditEntry {
        AuditEntry::new(None, action, outcome, self.now).client(&self.client)
    }
}

/// The `?uscc=` query parameter: absent, or a valid credit code.
pub fn entity_param(raw: Option<&str>) -> Result<Option<CreditCode>, Error> {
    raw.map(|code| {
        code.trim()
            .parse::<CreditCode>()
            .map_err(|e: UsccError| e.for_field("uscc"))
    })
    .transpose()
}
