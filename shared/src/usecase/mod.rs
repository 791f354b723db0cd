//! The service's use cases: what one HTTP request asks of the core, from
//! parsed input to the body of the answer, with its authorisation, its
//! rate limit and its audit entry. A component parses the request, calls one
//! function here and writes what it returns.

pub mod audit_log;
pub mod disputes;
pub mod intake;
pub mod reports;
pub mod signin;
pub mod subscriptions;
pub mod verification;

use chrono::{DateTime, Utc};

use crate::audit::AuditEntry;
use crate::auth::Principal;
use crate::error::Error;
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
