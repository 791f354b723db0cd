//! OpenID Connect, the pure half: the provider's discovery document and key
//! set, the checks of its tokens (ID tokens and API access tokens), the
//! mapping of their claims to a [`Principal`], and the pieces of the browser
//! sign-in (PKCE, the authorization, token and logout requests). Fetching
//! and caching are `usecase::signin`'s.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{Principal, Role, unauthenticated};
use crate::config::ClaimNames;
use crate::error::Error;

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECS: i64 = 60;
/// The longest lifetime (`exp - iat`) a token may claim: a token minted for
/// longer is refused even while it has not expired.
pub const MAX_LIFETIME_SECS: i64 = 24 * 60 * 60;
/// What the sign-in asks the provider for: the ID token's claims, with the
/// credit code, role and unit the provider releases under `profile`.
pub const SCOPE: &str = "openid profile";

/// The parts of the provider's `/.well-known/openid-configuration` used here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    /// RP-initiated logout, when the provider offers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
}

/// Where the provider's discovery document is.
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

impl ProviderMetadata {
    /// Parses the discovery document. Its `issuer` must be the configured
    /// one exactly (OpenID Connect Discovery 4.3), and the endpoints the
    /// service calls itself must be on the issuer's origin, the only host it
    /// may reach.
    pub fn parse(bytes: &[u8], issuer: &str) -> Result<ProviderMetadata, Error> {
        let metadata: ProviderMetadata = serde_json::from_slice(bytes)
            .map_err(|e| Error::IdentityProviderUnavailable(format!("discovery document: {e}")))?;
        if metadata.issuer != issuer {
            return Err(Error::IdentityProviderUnavailable(format!(
                "discovery document names issuer {:?}, configured {issuer:?}",
                metadata.issuer
            )));
        }
        let origin = origin(issuer);
        for (name, url) in [
            ("token_endpoint", &metadata.token_endpoint),
            ("jwks_uri", &metadata.jwks_uri),
        ] {
            if origin.is_none() || origin != self::origin(url) {
                return Err(Error::IdentityProviderUnavailable(format!(
                    "{name} {url} is not on the issuer's origin"
                )));
            }
        }
        Ok(metadata)
    }
}

/// `scheme://host[:port]` of an http(s) URL.
fn origin(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..url.len() - rest.len() + authority_len])
}

/// One signing key of the provider, with the one algorithm it verifies.
#[derive(Clone)]
struct SigningKey {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// The provider's signing keys (its JWKS). Keys for encryption, symmetric
/// keys and algorithms other than RS256, ES256 and EdDSA are left out.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: Vec<SigningKey>,
}

impl KeySet {
    pub fn parse(bytes: &[u8]) -> Result<KeySet, Error> {
        #[derive(Deserialize)]
        struct Raw {
            keys: Vec<Value>,
        }
        let raw: Raw = serde_json::from_slice(bytes)
            .map_err(|e| Error::IdentityProviderUnavailable(format!("JWKS: {e}")))?;
        let keys = raw
            .keys
            .into_iter()
            .filter_map(|value| serde_json::from_value::<Jwk>(value).ok())
            .filter_map(|jwk| {
                let algorithm = algorithm_of(&jwk)?;
                let key = DecodingKey::from_jwk(&jwk).ok()?;
                Some(SigningKey {
                    kid: jwk.common.key_id,
                    algorithm,
                    key,
                })
            })
            .collect();
        Ok(KeySet { keys })
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key a token names by `kid`; without a `kid`, the only key.
    fn find(&self, kid: Option<&str>) -> Option<&SigningKey> {
        match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
            None if self.keys.len() == 1 => self.keys.first(),
            None => None,
        }
    }
}

/// The algorithm a key verifies, decided by the key (its type, curve and
/// declared `alg`), never by a token.
fn algorithm_of(jwk: &Jwk) -> Option<Algorithm> {
    if matches!(
        jwk.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    ) {
        return None;
    }
    let declared = jwk.common.key_algorithm;
    let (algorithm, named) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (Algorithm::RS256, KeyAlgorithm::RS256),
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            (Algorithm::ES256, KeyAlgorithm::ES256)
        }
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            (Algorithm::EdDSA, KeyAlgorithm::EdDSA)
        }
        _ => return None,
    };
    match declared {
        None => Some(algorithm),
        Some(alg) if alg == named => Some(algorithm),
        Some(_) => None,
    }
}

/// A token's verdict when its signature could be checked.
#[derive(Debug)]
pub enum Verified {
    Claims(Map<String, Value>),
    /// The token names a key the set does not hold: the provider may have
    /// rotated its keys.
    UnknownKey,
}

/// Verifies a token signed by the provider: signature with the key it
/// names (the key's algorithm only), `iss`, `aud`, then `exp`, `nbf` and
/// `iat` against `now` with [`LEEWAY_SECS`], and a lifetime of at most
/// [`MAX_LIFETIME_SECS`]. Any failure is 401.
pub fn verify(
    token: &str,
    keys: &KeySet,
    issuer: &str,
    audience: &str,
    now: DateTime<Utc>,
) -> Result<Verified, Error> {
    let invalid = || unauthenticated("身份令牌无效，请重新登录");
    let header = decode_header(token).map_err(|_| invalid())?;
    let Some(key) = keys.find(header.kid.as_deref()) else {
        return Ok(if header.kid.is_some() {
            Verified::UnknownKey
        } else {
            return Err(invalid());
        });
    };
    let mut validation = Validation::new(key.algorithm);
    validation.algorithms = vec![key.algorithm];
    // Times are checked below against the caller's `now`, not a clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.required_spec_claims = ["iss", "aud", "exp", "sub"]
        .into_iter()
        .map(str::to_owned)
        .collect::<HashSet<_>>();
    let claims = decode::<Map<String, Value>>(token, &key.key, &validation)
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::InvalidIssuer => {
                    unauthenticated("身份令牌不是本服务信任的统一身份认证平台签发的")
                }
                ErrorKind::InvalidAudience => {
                    unauthenticated("身份令牌不是签发给本服务的（aud 不符）")
                }
                _ => invalid(),
            }
        })?
        .claims;
    check_times(&claims, now.timestamp())?;
    Ok(Verified::Claims(claims))
}

fn check_times(claims: &Map<String, Value>, now: i64) -> Result<(), Error> {
    let time = |name: &str| claims.get(name).and_then(Value::as_i64);
    let exp = time("exp").ok_or_else(|| unauthenticated("身份令牌缺少有效期（exp）"))?;
    let iat = time("iat").ok_or_else(|| unauthenticated("身份令牌缺少签发时间（iat）"))?;
    if now > exp.saturating_add(LEEWAY_SECS) {
        return Err(unauthenticated("身份令牌已过期，请重新登录"));
    }
    let not_before = time("nbf").unwrap_or(iat).max(iat);
    if not_before > now.saturating_add(LEEWAY_SECS) {
        return Err(unauthenticated("身份令牌尚未生效（签发时间晚于当前时间）"));
    }
    if exp.saturating_sub(iat) > MAX_LIFETIME_SECS {
        return Err(unauthenticated("身份令牌的有效期超过本服务允许的上限"));
    }
    Ok(())
}

/// The caller a verified token describes. Its role claim must be one of
/// entity, staff, department or admin (403 otherwise: the provider vouches
/// for the caller, but not for a role here). The entity's name comes from
/// the standard `name` claim when the provider releases it.
pub fn principal(claims: &Map<String, Value>, names: &ClaimNames) -> Result<Principal, Error> {
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let sub = text("sub").ok_or_else(|| unauthenticated("身份令牌缺少 sub"))?;
    let role = text(&names.role)
        .and_then(|r| r.parse::<Role>().ok())
        .ok_or_else(|| {
            Error::Forbidden(format!(
                "统一身份认证平台未授予本服务的角色（{} 应为 entity、staff、department 或 admin）",
                names.role
            ))
        })?;
    Principal::from_parts(
        role,
        sub.to_owned(),
        text(&names.uscc),
        text(&names.unit).map(str::to_owned),
        text("name").map(str::to_owned),
    )
}

/// A fresh random value (256 bits, URL-safe) from the operating system's
/// CSPRNG: session ids, `state`, `nonce`, PKCE verifiers.
pub fn random_token() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("getrandom: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The PKCE S256 challenge of a verifier (RFC 7636).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// What the browser is sent to the provider with.
pub struct AuthorizationRequest<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub nonce: &'a str,
    pub code_verifier: &'a str,
}

/// The provider's authorization URL for a code flow with PKCE.
pub fn authorization_url(metadata: &ProviderMetadata, request: &AuthorizationRequest) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", request.client_id)
        .append_pair("redirect_uri", request.redirect_uri)
        .append_pair("scope", SCOPE)
        .append_pair("state", request.state)
        .append_pair("nonce", request.nonce)
        .append_pair("code_challenge", &pkce_challenge(request.code_verifier))
        .append_pair("code_challenge_method", "S256")
        .finish();
    with_query(&metadata.authorization_endpoint, &query)
}

fn with_query(url: &str, query: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{query}")
}

/// The body of the token request exchanging an authorization code.
pub fn token_request_body(code: &str, redirect_uri: &str, code_verifier: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("code_verifier", code_verifier)
        .finish()
}

/// `client_secret_basic` (RFC 6749 2.3.1): both parts form-encoded first.
pub fn client_authorization(client_id: &str, client_secret: &str) -> String {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(client_id), encode(client_secret)))
    )
}

/// The token endpoint's answer.
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    pub id_token: String,
}

/// The token endpoint's error answer (RFC 6749 5.2).
#[derive(Debug, Deserialize)]
pub struct TokenError {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// The provider's logout URL (RP-initiated logout), when it offers one.
pub fn end_session_url(
    metadata: &ProviderMetadata,
    id_token_hint: &str,
    post_logout_redirect_uri: &str,
    client_id: &str,
) -> Option<String> {
    let endpoint = metadata.end_session_endpoint.as_deref()?;
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("id_token_hint", id_token_hint)
        .append_pair("post_logout_redirect_uri", post_logout_redirect_uri)
        .append_pair("client_id", client_id)
        .finish();
    Some(with_query(endpoint, &query))
}
