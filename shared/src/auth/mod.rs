//! Who calls and what they may do: roles and principals. How callers prove
//! who they are: the identity provider's tokens and sign-in ([`oidc`]), or,
//! only in an explicitly configured development mode, development tokens
//! ([`development`]). Verification takes `now` from the caller; the core
//! reads no clock.

pub mod development;
pub mod oidc;

use serde::{Deserialize, Serialize};

use crate::catalog::catalog;
use crate::error::Error;
use crate::text::is_one_printable_line;
use crate::uscc::CreditCode;

/// Longer than any registered name of a market entity; a token's name beyond it is not one.
const MAX_ENTITY_NAME_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Entity,
    Staff,
    Department,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Entity => "entity",
            Role::Staff => "staff",
            Role::Department => "department",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Role, Error> {
        [Role::Entity, Role::Staff, Role::Department, Role::Admin]
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| Error::InvalidField {
                field: "role".into(),
                detail: format!("未知角色“{s}”"),
            })
    }
}

/// Who is calling, as a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Entity {
        sub: String,
        uscc: CreditCode,
        name: Option<String>,
    },
    Staff {
        sub: String,
        unit: Option<String>,
    },
    Department {
        sub: String,
        unit: String,
    },
    Admin {
        sub: String,
    },
}

impl Principal {
    pub fn role(&self) -> Role {
        match self {
            Principal::Entity { .. } => Role::Entity,
            Principal::Staff { .. } => Role::Staff,
            Principal::Department { .. } => Role::Department,
            Principal::Admin { .. } => Role::Admin,
        }
    }

    pub fn sub(&self) -> &str {
        match self {
            Principal::Entity { sub, .. }
            | Principal::Staff { sub, .. }
            | Principal::Department { sub, .. }
            | Principal::Admin { sub } => sub,
        }
    }

    /// "role:sub", plus the credit code or unit: who did it, for stored
    /// stamps and the audit log.
    pub fn audit_name(&self) -> String {
        match self {
            Principal::Entity { sub, uscc, .. } => format!("entity:{sub}:{uscc}"),
            Principal::Department { sub, unit } => format!("department:{sub}:{unit}"),
            Principal::Staff { sub, .. } => format!("staff:{sub}"),
            Principal::Admin { sub } => format!("admin:{sub}"),
        }
    }

    /// `FORBIDDEN` unless the principal has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), Error> {
        if roles.contains(&self.role()) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "当前身份（{}）无权进行此操作",
                self.role().as_str()
            )))
        }
    }

    /// Records of an entity, by role alone: the entity itself,
    /// departments (within their domains), admin. Counter staff only while
    /// they act for the entity, which only the store knows
    /// ([`crate::usecase::Caller::acts_for`]).
    pub fn can_read_entity(&self, uscc: &CreditCode) -> bool {
        match self {
            Principal::Entity { uscc: own, .. } => own == uscc,
            Principal::Staff { .. } => false,
            Principal::Department { .. } | Principal::Admin { .. } => true,
        }
    }

    /// Reports, by role alone: their owner. Counter staff only while they
    /// act for the owner ([`crate::usecase::Caller::acts_for`]).
    pub fn can_read_report(&self, owner: &CreditCode) -> bool {
        match self {
            Principal::Entity { uscc, .. } => uscc == owner,
            _ => false,
        }
    }

    /// A department writes only in the data domains its unit answers for.
    pub fn department_may_write(&self, data_domain: &str) -> bool {
        match self {
            Principal::Department { unit, .. } => catalog()
                .data_domains_of_unit(unit)
                .iter()
                .any(|d| d.code == data_domain),
            _ => false,
        }
    }

    /// `FORBIDDEN` unless the principal may submit or withdraw records at
    /// all: departments and the administrator.
    pub fn require_record_writer(&self) -> Result<(), Error> {
        self.require(&[Role::Department, Role::Admin])
    }

    /// `FORBIDDEN` naming the domain unless the principal may write the
    /// domain's records: the unit answering for it, or the administrator.
    pub fn require_write(&self, data_domain: &str) -> Result<(), Error> {
        if matches!(self, Principal::Admin { .. }) || self.department_may_write(data_domain) {
            return Ok(());
        }
        Err(match self {
            Principal::Department { unit, .. } => Error::Forbidden(format!(
                "{unit}不是“{data_domain}”领域的数据归集责任单位，不能报送该领域的记录"
            )),
            _ => Error::Forbidden("只有数据归集责任单位可以报送记录".into()),
        })
    }

    /// The entity a report application is for: an entity applies for
    /// itself; staff must name the entity; other roles may not apply.
    pub fn applicant(&self, requested: Option<CreditCode>) -> Result<CreditCode, Error> {
        match (self, requested) {
            (Principal::Entity { uscc, .. }, None) => Ok(uscc.clone()),
            (Principal::Entity { uscc, .. }, Some(r)) if &r == uscc => Ok(r),
            (Principal::Entity { .. }, Some(_)) => {
                Err(Error::Forbidden("市场主体只能为本主体申请报告".into()))
            }
            (Principal::Staff { .. }, Some(r)) => Ok(r),
            (Principal::Staff { .. }, None) => Err(Error::MissingField {
                field: "uscc".into(),
            }),
            _ => Err(Error::Forbidden(
                "只有市场主体或窗口帮办人员可以申请报告".into(),
            )),
        }
    }
}

impl Principal {
    /// The principal a verified token or session describes: an entity must
    /// carry a valid credit code, a department its unit.
    pub fn from_parts(
        role: Role,
        sub: String,
        uscc: Option<&str>,
        unit: Option<String>,
        name: Option<String>,
    ) -> Result<Principal, Error> {
        if sub.trim().is_empty() {
            return Err(unauthenticated("身份令牌缺少 sub"));
        }
        let unit = unit.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
        // The name is printed on the entity's reports and shown to verifiers: one the report
        // could not print as sent is left out, and the name of its newest record is used.
        let name = name
            .map(|n| n.trim().to_owned())
            .filter(|n| is_printable_entity_name(n));
        Ok(match role {
            Role::Entity => {
                let uscc = uscc
                    .and_then(|u| u.parse().ok())
                    .ok_or_else(|| unauthenticated("身份令牌缺少有效的统一社会信用代码（uscc）"))?;
                Principal::Entity { sub, uscc, name }
            }
            Role::Staff => Principal::Staff { sub, unit },
            Role::Department => Principal::Department {
                sub,
                unit: unit.ok_or_else(|| unauthenticated("身份令牌缺少责任单位（unit）"))?,
            },
            Role::Admin => Principal::Admin { sub },
        })
    }

    /// The credit code of an entity.
    pub fn uscc(&self) -> Option<&CreditCode> {
        match self {
            Principal::Entity { uscc, .. } => Some(uscc),
            _ => None,
        }
    }

    /// The unit of a department officer or of staff who carry one.
    pub fn unit(&self) -> Option<&str> {
        match self {
            Principal::Department { unit, .. } => Some(unit),
            Principal::Staff { unit, .. } => unit.as_deref(),
            _ => None,
        }
    }

    /// The entity's name as its token or session carries it.
    pub fn name(&self) -> Option<&str> {
        match self {
            Principal::Entity { name, .. } => name.as_deref(),
            _ => None,
        }
    }
}

pub(crate) fn unauthenticated(detail: &str) -> Error {
    Error::Unauthenticated(detail.to_owned())
}

/// The token of an `Authorization: Bearer <token>` header; 401 when the
/// header is missing or has another scheme.
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, Error> {
    let header = authorization
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or_else(|| {
            unauthenticated("缺少身份令牌，请登录后重试（请求头 Authorization: Bearer <令牌>）")
        })?;
    header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthenticated("身份令牌格式不正确，应为 Authorization: Bearer <令牌>"))
}

/// Whether a token's entity name can be printed on a report as it is.
fn is_printable_entity_name(name: &str) -> bool {
    !name.is_empty() && name.chars().count() <= MAX_ENTITY_NAME_CHARS && is_one_printable_line(name)
}
