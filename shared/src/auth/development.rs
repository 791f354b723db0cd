//! Development tokens: HS256 JWTs signed with the secret
//! `development_signing_key` (at least [`MIN_KEY_BYTES`] bytes), accepted
//! only when `auth_mode=development` is set explicitly. `make run`, the
//! tests and `credit-dev token` use them; production never does.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use super::{Principal, Role, unauthenticated};
use crate::error::Error;

/// The secret variable holding the development key.
pub const KEY_VARIABLE: &str = "development_signing_key";
/// HS256 wants a key as long as its hash: shorter keys are refused.
pub const MIN_KEY_BYTES: usize = 32;

/// A development token's claims.
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

/// Whether a token says it is HS256, the development tokens' algorithm: such
/// a token is only ever checked against the development key, never against
/// the provider's keys.
pub fn is_development_token(token: &str) -> bool {
    jsonwebtoken::decode_header(token).is_ok_and(|h| h.alg == Algorithm::HS256)
}

fn checked_key(key: &[u8]) -> Result<&[u8], Error> {
    if key.len() < MIN_KEY_BYTES {
        return Err(Error::AuthNotConfigured(format!(
            "auth_mode=development needs {KEY_VARIABLE} of at least {MIN_KEY_BYTES} bytes, it has {}",
            key.len()
        )));
    }
    Ok(key)
}

/// Verifies a development token.
pub fn verify_token(token: &str, key: &[u8], now: DateTime<Utc>) -> Result<Principal, Error> {
    let key = checked_key(key)?;
    let mut validation = Validation::new(Algorithm::HS256);
    // Expiry is checked against the caller's `now` below, not a clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    let key =
        DecodingKey::from_secret(key).map_err(|e| Error::Internal(format!("jwt key: {e}")))?;
    let claims = decode::<Claims>(token, &key, &validation)
        .map_err(|_| unauthenticated("身份令牌无效，请重新登录"))?
        .claims;
    if claims.exp <= now.timestamp() {
        return Err(unauthenticated("身份令牌已过期，请重新登录"));
    }
    Principal::from_parts(
        claims.role,
        claims.sub,
        claims.uscc.as_deref(),
        claims.unit,
        claims.name,
    )
}

/// Signs claims with HS256: for the development tool and tests.
pub fn mint(key: &[u8], claims: &Claims) -> Result<String, Error> {
    let key = checked_key(key)?;
    let key =
        EncodingKey::from_secret(key).map_err(|e| Error::Internal(format!("jwt key: {e}")))?;
    encode(&Header::new(Algorithm::HS256), claims, &key)
        .map_err(|e| Error::Internal(format!("jwt encode: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::bearer_token;
    use crate::uscc::CreditCode;
    use chrono::TimeZone;

    const SECRET: &[u8] = b"a-test-key-that-is-at-least-32-bytes-long";

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

    fn verify(header: Option<&str>, key: &[u8], now: DateTime<Utc>) -> Result<Principal, Error> {
        verify_token(bearer_token(header)?, key, now)
    }

    fn bearer(c: &Claims) -> String {
        format!("Bearer {}", mint(SECRET, c).unwrap())
    }

    #[test]
    fn round_trips_each_role() {
        for role in [Role::Entity, Role::Staff, Role::Department, Role::Admin] {
            let p = verify(Some(&bearer(&claims(role))), SECRET, now()).unwrap();
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
        let foreign = format!(
            "Bearer {}",
            mint(b"another-key-that-is-also-32-bytes-long", &c).unwrap()
        );
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
            let e = verify(header.as_deref(), SECRET, now()).unwrap_err();
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
        // HS256 is the only algorithm of development tokens.
        assert!(is_development_token(
            &mint(SECRET, &claims(Role::Admin)).unwrap()
        ));
        assert!(!is_development_token(&token));
    }

    #[test]
    fn short_keys_are_refused() {
        let short = b"only-31-bytes-long-key-xxxxxxxx";
        assert_eq!(short.len(), 31);
        let token = mint(SECRET, &claims(Role::Admin)).unwrap();
        let e = verify_token(&token, short, now()).unwrap_err();
        assert_eq!(e.code(), "AUTH_NOT_CONFIGURED");
        assert_eq!(
            mint(short, &claims(Role::Admin)).unwrap_err().code(),
            "AUTH_NOT_CONFIGURED"
        );
    }

    #[test]
    fn departments_write_only_their_units_domains() {
        let p = verify(Some(&bearer(&claims(Role::Department))), SECRET, now()).unwrap();
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
        let p = verify(Some(&bearer(&claims(Role::Entity))), SECRET, now()).unwrap();
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
