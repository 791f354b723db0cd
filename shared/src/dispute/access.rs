//! Who may file a case, read it, and decide it.

use super::case_no::CaseKind;
use crate::auth::Principal;
use crate::codes::AuthorisationRef;
use crate::error::Error;
use crate::record::StoredRecord;
use crate::uscc::CreditCode;

/// The entity a case is filed for: an entity files on its own records;
/// staff name the entity, which must own the record, and give its written
/// authorisation (`authorisation_ref`). A record of another
/// entity answers as one that does not exist, so filing never confirms
/// that a record exists.
pub(super) fn check_filer(
    who: &Principal,
    named: Option<&CreditCode>,
    authorisation: Option<&AuthorisationRef>,
    record: &StoredRecord,
    kind: CaseKind,
) -> Result<(), Error> {
    let owner = record.record.uscc();
    let not_found = || Error::NotFound(format!("没有编号为 {} 的记录", record.id));
    match who {
        Principal::Entity { uscc, .. } => {
            if named.is_some_and(|n| n != uscc) {
                return Err(Error::Forbidden(format!(
                    "市场主体只能对本主体的记录提出{}",
                    kind.label()
                )));
            }
            if authorisation.is_some() {
                return Err(Error::InvalidField {
                    field: AuthorisationRef::FIELD.into(),
                    detail: "仅窗口帮办人员代为提出时填写（市场主体的授权委托书编号）".into(),
                });
            }
            if owner != uscc {
                return Err(not_found());
            }
            Ok(())
        }
        Principal::Staff { .. } => {
            let named = named.ok_or_else(|| Error::MissingField {
                field: "uscc".into(),
            })?;
            if authorisation.is_none() {
                return Err(Error::MissingField {
                    field: AuthorisationRef::FIELD.into(),
                });
            }
            if named != owner {
                return Err(not_found());
            }
            Ok(())
        }
        _ => Err(Error::Forbidden(format!(
            "只有市场主体或窗口帮办人员可以提出{}",
            kind.label()
        ))),
    }
}

/// Who may read a case: its entity, staff (only while acting for the
/// entity: `usecase::disputes::CaseDesk` checks their mandate, which needs
/// the store and the time), the unit answering for its domain, the
/// administrator.
pub(super) fn may_read(who: &Principal, uscc: &CreditCode, domain: &str) -> bool {
    match who {
        Principal::Entity { .. } => who.can_read_entity(uscc),
        Principal::Staff { .. } => true,
        Principal::Department { .. } => who.department_may_write(domain),
        Principal::Admin { .. } => true,
    }
}

/// Only the unit answering for the record's domain decides.
pub(super) fn check_decider(who: &Principal, domain: &str) -> Result<(), Error> {
    match who {
        Principal::Department { .. } if who.department_may_write(domain) => Ok(()),
        Principal::Department { unit, .. } => Err(Error::Forbidden(format!(
            "{unit}不是该记录所属领域的责任单位，不能处理此案件"
        ))),
        _ => Err(Error::Forbidden(
            "只有记录所属领域的责任单位可以处理此案件".into(),
        )),
    }
}
