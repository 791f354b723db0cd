//! Development tokens: EdDSA (Ed25519) JWTs whose header names the key id
//! [`KEY_ID`], accepted only when `auth_mode=development` is set explicitly,
//! and checked against the public key in the setting
//! `development_token_public_key`. The private key never reaches the
//! service: `credit-dev` holds it (`make run` makes one per state folder),
//! and so do the tests. `make run`, the tests and `credit-dev token` use
//! them; production never does.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::oidc::LEEWAY_SECS;
use super::{Principal, Role, unauthenticated};
use crate::config::DEVELOPMENT_TOKEN_PUBLIC_KEY;
use crate::error::Error;

/// The `kid` of development tokens: such a token is only ever checked
/// against the development key, never against the provider's keys.
pub const KEY_ID: &str = "development";

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

/// Whether a token's header names the development key.
pub fn is_development_token(token: &str) -> bool {
    jsonwebtoken::decode_header(token).is_ok_and(|h| h.kid.as_deref() == Some(KEY_ID))
}

/// Verifies a development token against `public_key_pem` (an Ed25519
/// public key, SPKI PEM). `AUTH_NOT_CONFIGURED` without a usable key.
pub fn verify_token(
    token: &str,
    public_key_pem: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Principal, Error> {
    let key = public_key_pem
        .and_then(|pem| DecodingKey::from_ed_pem(pem.as_bytes()).ok())
        .ok_or_else(|| {
            Error::AuthNotConfigured(format!(
                "auth_mode=development needs {}: the Ed25519 public key (PEM) of credit-dev's token key",
                DEVELOPMENT_TOKEN_PUBLIC_KEY.name
            ))
        })?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    // Expiry is checked against the caller's `now` below, not a clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    let invalid = || unauthenticated("身份令牌无效，请重新登录");
    let claims = decode::<Map<String, Value>>(token, &key, &validation)
        .map_err(|_| invalid())?
        .claims;
    // A signed token with a role this service does not know is 403, as a provider's is.
    if claims
        .get("role")
        .and_then(Value::as_str)
        .is_none_or(|role| role.parse::<Role>().is_err())
    {
        return Err(Error::Forbidden(
            "开发令牌的角色（role）应为 entity、staff、department 或 admin".into(),
        ));
    }
    let claims: Claims = serde_json::from_value(Value::Object(claims)).map_err(|_| invalid())?;
    if now.timestamp() > claims.exp.saturating_add(LEEWAY_SECS) {
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

/// Signs claims with an Ed25519 private key (PKCS#8 PEM): for the
/// development tool and tests.
pub fn mint(private_key_pem: &str, claims: &Claims) -> Result<String, Error> {
    let key = EncodingKey::from_ed_pem(private_key_pem.as_bytes())
        .map_err(|e| Error::Internal(format!("development token key: {e}")))?;
    let header = Header {
        kid: Some(KEY_ID.into()),
        ..Header::new(Algorithm::EdDSA)
    };
    encode(&header, claims, &key).map_err(|e| Error::Internal(format!("jwt encode: {e}")))
}

/// A development token key pair, freshly generated: the private key
/// (PKCS#8 PEM) for `credit-dev` and the tests, the public one (SPKI PEM)
/// for the setting. Never compiled into a component.
#[cfg(feature = "development")]
pub fn generate_key() -> Result<TokenKey, rcgen::Error> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)?;
    Ok(TokenKey {
        private_key_pem: key.serialize_pem(),
        public_key_pem: key.public_key_pem(),
    })
}

/// A development token key pair, PEM.
#[cfg(feature = "development")]
#[derive(Debug, Clone)]
pub struct TokenKey {
    pub private_key_pem: String,
    pub public_key_pem: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::bearer_token;
    use crate::uscc::CreditCode;
    use chrono::TimeZone;

    use std::sync::LazyLock;

    static KEY: LazyLock<TokenKey> = LazyLock::new(|| generate_key().unwrap());
    static OTHER_KEY: LazyLock<TokenKey> = LazyLock::new(|| generate_key().unwrap());

    fn public() -> Option<&'static str> {
        Some(&KEY.public_key_pem)
    }

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

    fn verify(header: Option<&str>, now: DateTime<Utc>) -> Result<Principal, Error> {
        verify_token(bearer_token(header)?, public(), now)
    }

    fn bearer(c: &Claims) -> String {
        format!("Bearer {}", mint(&KEY.private_key_pem, c).unwrap())
    }

    #[test]
    fn round_trips_each_role() {
        for role in [Role::Entity, Role::Staff, Role::Department, Role::Admin] {
            let p = verify(Some(&bearer(&claims(role))), now()).unwrap();
            assert_eq!(p.role(), role);
        }
    }

    /// The name is printed on reports: one that could not be printed as sent is left out, and
    /// the caller is still known by its credit code.
    #[test]
    fn an_unprintable_entity_name_is_left_out() {
        let named = |name: &str| {
            let c = Claims {
                name: Some(name.into()),
                ..claims(Role::Entity)
            };
            verify(Some(&bearer(&c)), now())
                .unwrap()
                .name()
                .map(str::to_owned)
        };
        assert_eq!(
            named(" 永昌县示例商贸有限公司 ").as_deref(),
            Some("永昌县示例商贸有限公司")
        );
        for unprintable in [
            "永昌\u{0}公司",
            "永昌\u{202E}公司",
            "永昌\n公司",
            &"名".repeat(201),
            " ",
        ] {
            assert_eq!(named(unprintable), None, "{unprintable:?}");
        }
    }

    #[test]
    fn a_signed_token_with_an_unknown_role_is_403() {
        let mut unknown = serde_json::to_value(claims(Role::Entity)).unwrap();
        unknown["role"] = "superuser".into();
        let key = EncodingKey::from_ed_pem(KEY.private_key_pem.as_bytes()).unwrap();
        let header = Header {
            kid: Some(KEY_ID.into()),
            ..Header::new(Algorithm::EdDSA)
        };
        let token = encode(&header, &unknown, &key).unwrap();
        let e = verify(Some(&format!("Bearer {token}")), now()).unwrap_err();
        assert_eq!((e.status(), e.code()), (403, "FORBIDDEN"));
    }

    #[test]
    fn missing_bad_expired_or_foreign_tokens_are_401() {
        let c = claims(Role::Entity);
        let expired = Claims {
            exp: now().timestamp() - LEEWAY_SECS - 1,
            ..c.clone()
        };
        // Within the clock leeway a provider's token is given, a development token still works.
        let just_expired = Claims {
            exp: now().timestamp() - LEEWAY_SECS,
            ..c.clone()
        };
        assert!(verify(Some(&bearer(&just_expired)), now()).is_ok());
        let no_uscc = Claims {
            uscc: None,
            ..c.clone()
        };
        let bad_uscc = Claims {
            uscc: Some("91350200776049653B".into()),
            ..c.clone()
        };
        let foreign = format!("Bearer {}", mint(&OTHER_KEY.private_key_pem, &c).unwrap());
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
            let e = verify(header.as_deref(), now()).unwrap_err();
            assert_eq!(
                (e.status(), e.code()),
                (401, "UNAUTHENTICATED"),
                "{header:?}"
            );
        }
    }

    #[test]
    fn rejects_other_algorithms() {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let body = b64.encode(serde_json::to_vec(&claims(Role::Admin)).unwrap());
        // alg "none" with the development key id and the same claims.
        let none = format!(
            "{}.{body}.",
            b64.encode(br#"{"alg":"none","typ":"JWT","kid":"development"}"#)
        );
        assert!(verify_token(&none, public(), now()).is_err());
        // HS256 keyed with the public key's text (the classic confusion).
        let hs256 = encode(
            &Header {
                kid: Some(KEY_ID.into()),
                ..Header::new(Algorithm::HS256)
            },
            &claims(Role::Admin),
            &EncodingKey::from_secret(KEY.public_key_pem.as_bytes()).unwrap(),
        )
        .unwrap();
        assert!(verify_token(&hs256, public(), now()).is_err());
        // Only the key id makes a token a development token.
        assert!(is_development_token(
            &mint(&KEY.private_key_pem, &claims(Role::Admin)).unwrap()
        ));
        let unnamed = format!("{}.{body}.", b64.encode(br#"{"alg":"EdDSA","typ":"JWT"}"#));
        assert!(!is_development_token(&unnamed));
    }

    #[test]
    fn without_a_public_key_nothing_is_accepted() {
        let token = mint(&KEY.private_key_pem, &claims(Role::Admin)).unwrap();
        for key in [
            None,
            Some(""),
            Some("not a key"),
            Some(&*KEY.private_key_pem),
        ] {
            let e = verify_token(&token, key, now()).unwrap_err();
            assert_eq!(e.code(), "AUTH_NOT_CONFIGURED", "{key:?}");
        }
    }

    #[test]
    fn departments_write_only_their_units_domains() {
        let p = verify(Some(&bearer(&claims(Role::Department))), now()).unwrap();
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
        let p = verify(Some(&bearer(&claims(Role::Entity))), now()).unwrap();
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
