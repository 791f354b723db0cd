//! Staff mandates (代办授权): counter staff read an entity's reports,
//! records and cases only while they act for it, that is for
//! `staff_mandate_days` after they applied for a report under the entity's
//! written authorisation or filed a case on its behalf.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, keys, to_json};
use crate::codes::AuthorisationRef;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::uscc::CreditCode;
use crate::window::in_china;

/// Why and until when a staff member acts for an entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mandate {
    /// What it was granted by: the report number of an application, or a
    /// case number.
    pub basis: String,
    /// The entity's written authorisation, for applications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorisation_ref: Option<AuthorisationRef>,
    pub granted_at: DateTime<FixedOffset>,
    pub until: DateTime<FixedOffset>,
}

impl Mandate {
    pub fn new(
        basis: &str,
        authorisation_ref: Option<AuthorisationRef>,
        now: DateTime<Utc>,
        days: u32,
    ) -> Mandate {
        let granted_at = in_china(now);
        Mandate {
            basis: basis.to_owned(),
            authorisation_ref,
            granted_at,
            until: granted_at + Duration::days(i64::from(days)),
        }
    }
}

impl<K: KeyValue + ?Sized> Store<'_, K> {
    /// Records that `staff_sub` acts for `uscc`; the latest grant stands
    /// (all last the same number of days, so the latest lasts longest).
    pub fn grant_mandate(
        &self,
        staff_sub: &str,
        uscc: &CreditCode,
        mandate: &Mandate,
    ) -> Result<(), Error> {
        self.kv
            .set(&keys::staff_mandate(staff_sub, uscc), &to_json(mandate)?)?;
        Ok(())
    }

    /// The staff member's mandate for the entity, if one is in force at `now`.
    pub fn mandate(
        &self,
        staff_sub: &str,
        uscc: &CreditCode,
        now: DateTime<Utc>,
    ) -> Result<Option<Mandate>, Error> {
        let mandate: Option<Mandate> = self.get_json(&keys::staff_mandate(staff_sub, uscc))?;
        Ok(mandate.filter(|m| now <= m.until))
    }
}
