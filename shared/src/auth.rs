//! Bearer tokens: HS256 JWTs signed with the `jwt_secret` Spin variable.
//! Verification takes `now` from the caller; the core reads no clock.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use crate::catalog::catalog;
use crate::error::Error;
use crate::uscc::CreditCode;

/// The development key (spin.toml's default `jwt_secret`). Public: every
/// deployment sets its own.
pub const DEVELOPMENT_SECRET: &str = "development-key-do-not-use-in-production";

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

/// The token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    /// The entity's credit code (role `entity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
    /// The department's unit as the catalog names it (role `department`),
    /// e.g. 县税务局; staff may carry their service centre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The entity's registered name, printed on its reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
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

    /// Records of an entity: the entity itself, staff, departments, admin.
    pub fn can_read_entity(&self, uscc: &CreditCode) -> bool {
        match self {
            Principal::Entity { uscc: own, .. } => own == uscc,
            _ => true,
        }
    }

    /// Reports: their owner and counter staff only (docs/api.md).
    pub fn can_read_report(&self, owner: &CreditCode) -> bool {
        match self {
            Principal::Entity { uscc, .. } => uscc == owner,
            Principal::Staff { .. } => true,
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

fn unauthenticated(detail: &str) -> Error {
    Error::Unauthenticated(detail.to_owned())
}

/// Verifies the `Authorization` header value (`Bearer <jwt>`).
pub fn verify_bearer(
    authorization: Option<&str>,
    secret: &[u8],
    now: DateTime<Utc>,
) -> Result<Principal, Error> {
    let header = authorization
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or_else(|| {
            unauthenticated("缺少身份令牌，请登录后重试（请求头 Authorization: Bearer <令牌>）")
        })?;
    let token = header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .ok_or_else(|| unauthenticated("身份令牌格式不正确，应为 Authorization: Bearer <令牌>"))?;
    verify_token(token, secret, now)
}

/// Verifies a bare JWT.
pub fn verify_token(token: &str, secret: &[u8], now: DateTime<Utc>) -> Result<Principal, Error> {
    if secret.is_empty() {
        return Err(Error::InvalidConfig {
            variable: "jwt_secret".into(),
            detail: "密钥为空".into(),
        });
    }
    let mut validation = Validation::new(Algorithm::HS256);
    // Expiry is checked against the caller's `now` below, not a clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    let key =
        DecodingKey::from_secret(secret).map_err(|e| Error::Internal(format!("jwt key: {e}")))?;
    let claims = decode::<Claims>(token, &key, &validation)
        .map_err(|_| unauthenticated("身份令牌无效，请重新登录"))?
        .claims;
    if claims.exp <= now.timestamp() {
        return Err(unauthenticated("身份令牌已过期，请重新登录"));
    }
    if claims.sub.trim().is_empty() {
        return Err(unauthenticated("身份令牌缺少 sub"));
    }
    let sub = claims.sub;
    Ok(match claims.role {
        Role::Entity => {
            let uscc = claims
                .uscc
                .as_deref()
                .and_then(|u| u.parse().ok())
                .ok_or_else(|| unauthenticated("身份令牌缺少有效的统一社会信用代码（uscc）"))?;
            Principal::Entity {
                sub,
                uscc,
                name: claims.name,
            }
        }
        Role::Staff => Principal::Staff {
            sub,
            unit: claims.unit,
        },
        Role::Department => {
            let unit = claims
                .unit
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty())
                .ok_or_else(|| unauthenticated("身份令牌缺少责任单位（unit）"))?;
            Principal::Department { sub, unit }
        }
        Role::Admin => Principal::Admin { sub },
    })
}

/// Signs claims with HS256: for the development tool and tests.
pub fn mint(secret: &[u8], claims: &Claims) -> Result<String, Error> {
    let key =
        EncodingKey::from_secret(secret).map_err(|e| Error::Internal(format!("jwt key: {e}")))?;
    encode(&Header::new(Algorithm::HS256), claims, &key)
        .map_err(|e| Error::Internal(format!("jwt encode: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const SECRET: &[u8] = DEVELOPMENT_SECRET.as_bytes();

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, 2, 0, 0).unwrap()
    }

    fn claims(role: Role) -> Claims {
        Claims {
            sub: "u1".into(),
            role,
            uscc: Some("91350200776049653A".into()),
            unit: Some("县税务局".into()),
            name: Some("永昌县示例商贸有限公司".into()),
            exp: now().timestamp() + 3600,
            iat: None,
        }
    }

    fn bearer(c: &Claims) -> String {
        format!("Bearer {}", mint(SECRET, c).unwrap())
    }

    #[test]
    fn round_trips_each_role() {
        for role in [Role::Entity, Role::Staff, Role::Department, Role::Admin] {
            let p = verify_bearer(Some(&bearer(&claims(role))), SECRET, now()).unwrap();
            assert_eq!(p.role(), role);
        }
    }

    #[test]
    fn missing_bad_expired_or_foreign_tokens_are_401() {
        let c = claims(Role::Entity);
        let expired = Claims {
            exp: now().timestamp(),
            ..c.clone()
        };
        let no_uscc = Claims {
            uscc: None,
            ..c.clone()
        };
        let bad_uscc = Claims {
            uscc: Some("91350200776049653B".into()),
            ..c.clone()
        };
        let foreign = format!("Bearer {}", mint(b"another-key", &c).unwrap());
        let mut tampered = bearer(&c);
        tampered.insert(tampered.len() - 3, 'x');
        for header in [
            None,
            Some(String::new()),
            Some("Basic abc".into()),
            Some("Bearer not.a.jwt".into()),
            Some(bearer(&expired)),
            Some(bearer(&no_uscc)),
            Some(bearer(&bad_uscc)),
            Some(foreign),
            Some(tampered),
        ] {
            let e = verify_bearer(header.as_deref(), SECRET, now()).unwrap_err();
            assert_eq!(
                (e.status(), e.code()),
                (401, "UNAUTHENTICATED"),
                "{header:?}"
            );
        }
    }

    #[test]
    fn rejects_other_algorithms() {
        // alg "none" with the same claims.
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token = format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(serde_json::to_vec(&claims(Role::Admin)).unwrap())
        );
        assert!(verify_token(&token, SECRET, now()).is_err());
    }

    #[test]
    fn departments_write_only_their_units_domains() {
        let p = verify_bearer(Some(&bearer(&claims(Role::Department))), SECRET, now()).unwrap();
        assert!(p.department_may_write("tax"));
        assert!(!p.department_may_write("market_regulation"));
        assert_eq!(
            p.require_write("market_regulation").unwrap_err().status(),
            403
        );
        let admin = Principal::Admin { sub: "a".into() };
        assert!(!admin.department_may_write("tax"));
        assert!(admin.require_write("tax").is_ok());
        let staff = Principal::Staff {
            sub: "s".into(),
            unit: None,
        };
        assert_eq!(staff.require_record_writer().unwrap_err().status(), 403);
    }

    #[test]
    fn entities_see_and_apply_only_for_themselves() {
        let own: CreditCode = "91350200776049653A".parse().unwrap();
        let other: CreditCode = "91440101MA5CJQ4N59".parse().unwrap();
        let p = verify_bearer(Some(&bearer(&claims(Role::Entity))), SECRET, now()).unwrap();
        assert!(p.can_read_entity(&own) && !p.can_read_entity(&other));
        assert!(p.can_read_report(&own) && !p.can_read_report(&other));
        assert_eq!(p.applicant(None).unwrap(), own);
        assert_eq!(p.applicant(Some(other.clone())).unwrap_err().status(), 403);
        let staff = Principal::Staff {
            sub: "s".into(),
            unit: None,
        };
        assert_eq!(staff.applicant(Some(other.clone())).unwrap(), other);
        assert_eq!(staff.applicant(None).unwrap_err().code(), "MISSING_FIELD");
        let dept = Principal::Department {
            sub: "d".into(),
            unit: "县税务局".into(),
        };
        assert_eq!(dept.applicant(Some(own.clone())).unwrap_err().status(), 403);
        assert!(!dept.can_read_report(&own));
        assert_eq!(
            dept.require(&[Role::Admin]).unwrap_err().code(),
            "FORBIDDEN"
        );
    }
}
