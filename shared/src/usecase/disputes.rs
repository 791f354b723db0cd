//! Objections (异议申诉) and credit repair (信用修复) as requests ask for
//! them: filing, listing, reading, the evidence, and the unit's decisions.
//! Every request of a signed-in caller leaves one audit entry, refused ones
//! too; its target is a case number only once the number parsed.

use serde_json::{Value, json};

use crate::audit;
use crate::auth::Principal;
use crate::codes::AuthorisationRef;
use crate::dispute::{
    CaseFilter, CaseKind, CaseNo, DisputeConfig, Disputes, Evidence, ObjectionFiling,
    RepairApplication, Resolution, StatusFilter, reason_from_json,
};
use crate::error::Error;
use crate::kv::KeyValue;
use crate::paging::PageRequest;
use crate::store::{Mandate, Store};
use crate::uscc::CreditCode;

use super::{Caller, entity_param};

/// The listing filters of `?status=&overdue=&uscc=`.
pub fn case_filter(
    kind: CaseKind,
    status: Option<&str>,
    overdue: Option<&str>,
    uscc: Option<&str>,
    page: PageRequest,
) -> Result<CaseFilter, Error> {
    let overdue_only = match overdue {
        None | Some("") | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(other) => {
            return Err(Error::InvalidField {
                field: "overdue".into(),
                detail: format!("“{other}”应为 true 或 false"),
            });
        }
    };
    Ok(CaseFilter {
        status: StatusFilter::parse(kind, status)?,
        overdue_only,
        uscc: entity_param(uscc.filter(|u| !u.trim().is_empty()))?,
        page,
    })
}

/// A case answer and what its audit entry says.
struct Handled {
    view: Value,
    target: Option<CaseNo>,
    entity: Option<CreditCode>,
    outcome: &'static str,
    details: Value,
}

/// One caller's requests on cases. Counter staff read an entity's cases
/// only while they act for it ([`Caller::acts_for`]); filing a case on its
/// behalf makes them act for it for `staff_mandate_days`.
pub struct CaseDesk<'a, K: KeyValue + ?Sized> {
    kv: &'a K,
    caller: &'a Caller,
    disputes: Disputes<'a, K>,
    staff_mandate_days: u32,
}

impl<'a, K: KeyValue + ?Sized> CaseDesk<'a, K> {
    pub fn new(
        kv: &'a K,
        caller: &'a Caller,
        config: &'a DisputeConfig,
        staff_mandate_days: u32,
    ) -> Self {
        CaseDesk {
            kv,
            caller,
            disputes: Disputes::new(kv, config),
            staff_mandate_days,
        }
    }

    /// Counter staff who filed a case on an entity's behalf, under its
    /// written authorisation, act for it.
    fn grant_mandate(
        &self,
        no: &CaseNo,
        entity: &CreditCode,
        authorisation: Option<&AuthorisationRef>,
    ) -> Result<(), Error> {
        if let Principal::Staff { sub, .. } = &self.caller.principal {
            let mandate = Mandate::new(
                no.as_str(),
                authorisation.cloned(),
                self.caller.now,
                self.staff_mandate_days,
            );
            Store::new(self.kv).grant_mandate(sub, entity, &mandate)?;
        }
        Ok(())
    }

    /// Whether counter staff may read a case of `entity` (other roles are
    /// scoped by `Disputes` itself): a case of an entity they do not act
    /// for answers as one that does not exist.
    fn readable(&self, no: &CaseNo, entity: &CreditCode) -> Result<(), Error> {
        if self.caller.acts_for(self.kv, entity)?
            || !matches!(self.caller.principal, Principal::Staff { .. })
        {
            return Ok(());
        }
        Err(Error::NotFound(format!(
            "没有编号为 {no} 的{}",
            no.kind().label()
        )))
    }

    /// Runs one request and audits it, whatever its outcome.
    fn audited(
        &self,
        action: &str,
        target: Option<&CaseNo>,
        run: impl FnOnce() -> Result<Handled, Error>,
    ) -> Result<Value, Error> {
        let result = run();
        let (outcome, target, entity, details) = match &result {
            Ok(done) => (
                done.outcome,
                done.target.as_ref().or(target),
                done.entity.as_ref(),
                done.details.clone(),
            ),
            Err(error) => (error.code(), target, None, Value::Null),
        };
        let mut entry = match entity {
            Some(entity) => self.caller.entry_about(entity, action, outcome),
            None => self.caller.entry(action, outcome),
        }
        .details(details);
        if let Some(no) = target {
            entry = entry.target(no);
        }
        audit::append(self.kv, &entry)?;
        result.map(|done| done.view)
    }

    fn number(kind: CaseKind, no: &str) -> (Result<CaseNo, Error>, Option<CaseNo>) {
        let parsed = CaseNo::parse(kind, no);
        let target = parsed.as_ref().ok().cloned();
        (parsed, target)
    }

    pub fn file_objection(&self, body: &Value) -> Result<Value, Error> {
        let (who, now) = (&self.caller.principal, self.caller.now);
        self.audited("objection.file", None, || {
            let case = self
                .disputes
                .file_objection(who, ObjectionFiling::from_json(body)?, now)?;
            self.grant_mandate(&case.no, &case.uscc, case.authorisation_ref.as_ref())?;
            Ok(Handled {
                view: case.view(now)?,
                target: Some(case.no.clone()),
                entity: Some(case.uscc.clone()),
                outcome: case.status.code(),
                details: authorisation_details(case.authorisation_ref.as_ref()),
            })
        })
    }

    pub fn apply_repair(&self, body: &Value) -> Result<Value, Error> {
        let (who, now) = (&self.caller.principal, self.caller.now);
        self.audited("repair.file", None, || {
            let case = self
                .disputes
                .apply_repair(who, RepairApplication::from_json(body)?, now)?;
            self.grant_mandate(&case.no, &case.uscc, case.authorisation_ref.as_ref())?;
            Ok(Handled {
                view: case.view(now)?,
                target: Some(case.no.clone()),
                entity: Some(case.uscc.clone()),
                outcome: case.status.code(),
                details: authorisation_details(case.authorisation_ref.as_ref()),
            })
        })
    }

    /// A page of `{"count", "objections", "next_cursor"}` or `{"count",
    /// "repairs", "next_cursor"}`, newest first.
    pub fn list(&self, kind: CaseKind, filter: &CaseFilter) -> Result<Value, Error> {
        let (who, now) = (&self.caller.principal, self.caller.now);
        let action = format!("{}.list", kind.noun());
        self.audited(&action, None, || {
            if let (Principal::Staff { .. }, Some(entity)) = (who, &filter.uscc) {
                self.caller.require_acting_for(self.kv, entity)?;
            }
            let (views, next_cursor) = match kind {
                CaseKind::Objection => {
                    let page = self.disputes.list_objections(who, filter, now)?;
                    let views = page
                        .iter()
                        .map(|c| c.view(now))
                        .collect::<Result<Vec<_>, _>>()?;
                    (views, page.next)
                }
                CaseKind::Repair => {
                    let page = self.disputes.list_repairs(who, filter, now)?;
                    let views = page
                        .iter()
                        .map(|c| c.view(now))
                        .collect::<Result<Vec<_>, _>>()?;
                    (views, page.next)
                }
            };
            let mut view = json!({ "count": views.len(), "next_cursor": next_cursor });
            view[kind.plural()] = Value::Array(views);
            Ok(Handled {
                view,
                target: None,
                entity: filter.uscc.clone(),
                outcome: "listed",
                details: Value::Null,
            })
        })
    }

    pub fn read(&self, kind: CaseKind, no: &str) -> Result<Value, Error> {
        let (parsed, target) = Self::number(kind, no);
        let (who, now) = (&self.caller.principal, self.caller.now);
        self.audited(&format!("{}.read", kind.noun()), target.as_ref(), || {
            let no = parsed?;
            let (view, uscc) = match kind {
                CaseKind::Objection => {
                    let case = self.disputes.objection(who, &no)?;
                    (case.view(now)?, case.uscc)
                }
                CaseKind::Repair => {
                    let case = self.disputes.repair(who, &no)?;
                    (case.view(now)?, case.uscc)
                }
            };
            self.readable(&no, &uscc)?;
            Ok(Handled {
                view,
                target: None,
                entity: Some(uscc),
                outcome: "read",
                details: Value::Null,
            })
        })
    }

    pub fn evidence(&self, kind: CaseKind, no: &str) -> Result<(CaseNo, Evidence), Error> {
        let (parsed, target) = Self::number(kind, no);
        let mut file = None;
        self.audited(
            &format!("{}.evidence", kind.noun()),
            target.as_ref(),
            || {
                let no = parsed?;
                let who = &self.caller.principal;
                let entity = match kind {
                    CaseKind::Objection => self.disputes.objection(who, &no)?.uscc,
                    CaseKind::Repair => self.disputes.repair(who, &no)?.uscc,
                };
                self.readable(&no, &entity)?;
                file = Some((no.clone(), self.disputes.evidence(who, &no)?));
                Ok(Handled {
                    view: Value::Null,
                    target: None,
                    entity: Some(entity),
                    outcome: "read",
                    details: Value::Null,
                })
            },
        )?;
        file.ok_or_else(|| Error::Internal("evidence read but not kept".into()))
    }

    /// A unit's decision: `accept`, `reject` or `resolve` an objection;
    /// `approve` or `reject` a repair.
    pub fn decide(
        &self,
        kind: CaseKind,
        no: &str,
        act: &str,
        body: &Value,
    ) -> Result<Value, Error> {
        let (parsed, target) = Self::number(kind, no);
        let (who, now) = (&self.caller.principal, self.caller.now);
        let d = &self.disputes;
        let action = format!(
            "{}.{}",
            kind.noun(),
            act.chars().take(16).collect::<String>()
        );
        self.audited(&action, target.as_ref(), || {
            let no = parsed?;
            let (view, uscc, status, revoked) = match (kind, act) {
                (CaseKind::Objection, "accept" | "reject" | "resolve") => {
                    let case = match act {
                        "accept" => d.accept_objection(who, &no, now)?,
                        "reject" => d.reject_objection(who, &no, &required_reason(body)?, now)?,
                        _ => d.resolve_objection(who, &no, Resolution::from_json(body)?, now)?,
                    };
                    (
                        case.view(now)?,
                        case.uscc,
                        case.status.code(),
                        case.revoked_reports,
                    )
                }
                (CaseKind::Repair, "approve" | "reject") => {
                    let case = match act {
                        "approve" => {
                            d.approve_repair(who, &no, reason_from_json(body, false)?, now)?
                        }
                        _ => d.reject_repair(who, &no, &required_reason(body)?, now)?,
                    };
                    (
                        case.view(now)?,
                        case.uscc,
                        case.status.code(),
                        case.revoked_reports,
                    )
                }
                (CaseKind::Objection, _) => {
                    return Err(unknown_action(act, "accept、reject 或 resolve"));
                }
                (CaseKind::Repair, _) => return Err(unknown_action(act, "approve 或 reject")),
            };
            Ok(Handled {
                view,
                target: None,
                entity: Some(uscc),
                outcome: status,
                details: json!({ "status": status, "revoked_reports": revoked }),
            })
        })
    }
}

/// A staff filing's audit details: the authorisation it was made under.
fn authorisation_details(authorisation: Option<&AuthorisationRef>) -> Value {
    authorisation.map_or(Value::Null, |r| json!({ "authorisation_ref": r }))
}

fn required_reason(body: &Value) -> Result<String, Error> {
    Ok(reason_from_json(body, true)?.unwrap_or_default())
}

fn unknown_action(act: &str, known: &str) -> Error {
    let act: String = act.chars().take(32).collect();
    Error::NotFound(format!("没有“{act}”这个操作，可用：{known}"))
}
