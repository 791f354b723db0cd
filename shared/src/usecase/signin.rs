//! Signing in through the identity provider, and who a request comes from.
//!
//! - The provider's discovery document and keys are cached in the store
//!   ([`CachedProvider`]) for [`PROVIDER_CACHE_SECS`]; a token naming an
//!   unknown key refreshes them once, at most every
//!   [`REFRESH_COOLDOWN_SECS`], so a rotation is followed without a restart
//!   and a flood of forged key ids costs no more than one fetch a minute.
//!   While the provider is unreachable the last keys fetched stay in use;
//!   a sign-in, though, starts only when the provider answers.
//! - Browser sign-in is the authorization code flow with PKCE: [`begin`]
//!   stores a [`SignInAttempt`] under its `state`, [`complete`] checks the
//!   state against the browser's cookie, exchanges the code, verifies the
//!   ID token and its nonce, and opens a [`Session`]; [`end`] closes it.
//! - Fetching is the [`ProviderHttp`] port's (Spin outbound HTTP in the
//!   components, a map in tests).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::audit::{self, AuditEntry};
use crate::auth::oidc::{self, KeySet, ProviderMetadata, Verified};
use crate::auth::{Principal, Role, development, unauthenticated};
use crate::config::{AuthSettings, ProviderSettings};
use crate::error::Error;
use crate::kv::KeyValue;
use crate::store::keys;

/// How long the provider's documents are used before they are fetched again.
pub const PROVIDER_CACHE_SECS: i64 = 60 * 60;
/// The least time between two fetches of the provider's documents.
pub const REFRESH_COOLDOWN_SECS: i64 = 60;
/// How long a browser may take at the provider to sign in.
pub const SIGN_IN_SECS: i64 = 10 * 60;
/// How long a session lasts: a working day.
pub const SESSION_SECS: i64 = 8 * 60 * 60;
/// The path the provider sends the browser back to.
pub const CALLBACK_PATH: &str = "/auth/callback";

/// An HTTP answer the port got.
#[derive(Debug, Clone)]
pub struct HttpReply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Outbound HTTP to the identity provider. `Err` is a transport failure
/// (the provider unreachable), with its cause for the log.
pub trait ProviderHttp {
    fn get(&self, url: &str) -> Result<HttpReply, String>;
    /// POST of an `application/x-www-form-urlencoded` body.
    fn post_form(&self, url: &str, authorization: &str, body: &str) -> Result<HttpReply, String>;
}

/// The provider's documents as last fetched.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedProvider {
    pub metadata: ProviderMetadata,
    /// The JWKS as the provider served it.
    pub jwks: serde_json::Value,
    /// When the documents were fetched (Unix seconds).
    pub fetched_at: i64,
    /// When a fetch was last tried, successful or not (Unix seconds).
    pub tried_at: i64,
}

/// A sign-in under way, stored under its `state`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignInAttempt {
    pub nonce: String,
    pub code_verifier: String,
    pub return_to: String,
    pub expires_at: i64,
}

/// A signed-in browser, stored under the digest of its session id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub role: Role,
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The ID token, as the hint of the provider's logout.
    pub id_token: String,
    pub expires_at: i64,
}

/// The provider's documents and keys, from the store when fresh enough.
struct Provider {
    metadata: ProviderMetadata,
    keys: KeySet,
    /// Whether these came from a fetch just now.
    fetched: bool,
}

fn unavailable(cause: String) -> Error {
    Error::IdentityProviderUnavailable(cause)
}

fn read_json<T: for<'de> Deserialize<'de>>(
    kv: &(impl KeyValue + ?Sized),
    key: &str,
) -> Result<Option<T>, Error> {
    // A value this version cannot read is treated as absent: it is
    // fetched or signed in again, never trusted.
    Ok(kv
        .get(key)?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

fn write_json(
    kv: &(impl KeyValue + ?Sized),
    key: &str,
    value: &impl Serialize,
) -> Result<(), Error> {
    let bytes =
        serde_json::to_vec(value).map_err(|e| Error::Internal(format!("serialize: {e}")))?;
    Ok(kv.set(key, &bytes)?)
}

fn fetch_documents(
    http: &impl ProviderHttp,
    issuer: &str,
) -> Result<(ProviderMetadata, serde_json::Value), Error> {
    let get = |url: &str| -> Result<Vec<u8>, Error> {
        let reply = http
            .get(url)
            .map_err(|e| unavailable(format!("GET {url}: {e}")))?;
        if reply.status != 200 {
            return Err(unavailable(format!("GET {url}: status {}", reply.status)));
        }
        Ok(reply.body)
    };
    let metadata = ProviderMetadata::parse(&get(&oidc::discovery_url(issuer))?, issuer)?;
    let jwks_bytes = get(&metadata.jwks_uri)?;
    KeySet::parse(&jwks_bytes)?;
    let jwks =
        serde_json::from_slice(&jwks_bytes).map_err(|e| unavailable(format!("JWKS: {e}")))?;
    Ok((metadata, jwks))
}

/// How current the provider's documents must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freshness {
    /// The cached ones while fresh.
    Cached,
    /// Fetched again, unless a fetch was tried within the cooldown; the
    /// cached ones when the fetch fails.
    Refreshed,
    /// Fetched now: a sign-in starts only when the provider answers, so
    /// that the browser is never sent to a provider that is down.
    Live,
}

/// The provider's documents as `freshness` asks.
fn provider(
    kv: &(impl KeyValue + ?Sized),
    http: &impl ProviderHttp,
    issuer: &str,
    now: i64,
    freshness: Freshness,
) -> Result<Provider, Error> {
    let key = keys::identity_provider();
    let cached: Option<CachedProvider> =
        read_json(kv, &key)?.filter(|c: &CachedProvider| c.metadata.issuer == issuer);
    let from_cache = |cached: &CachedProvider| -> Result<Provider, Error> {
        Ok(Provider {
            metadata: cached.metadata.clone(),
            keys: KeySet::parse(cached.jwks.to_string().as_bytes())?,
            fetched: false,
        })
    };
    if let Some(cached) = &cached {
        let fresh = now < cached.fetched_at + PROVIDER_CACHE_SECS;
        let tried_recently = now < cached.tried_at + REFRESH_COOLDOWN_SECS;
        match freshness {
            Freshness::Cached if fresh || tried_recently => return from_cache(cached),
            Freshness::Refreshed if tried_recently => return from_cache(cached),
            _ => {}
        }
    }
    match fetch_documents(http, issuer) {
        Ok((metadata, jwks)) => {
            let keys = KeySet::parse(jwks.to_string().as_bytes())?;
            let fresh = CachedProvider {
                metadata: metadata.clone(),
                jwks,
                fetched_at: now,
                tried_at: now,
            };
            write_json(kv, &key, &fresh)?;
            Ok(Provider {
                metadata,
                keys,
                fetched: true,
            })
        }
        Err(error) => match cached {
            Some(mut stale) if freshness != Freshness::Live => {
                stale.tried_at = now;
                write_json(kv, &key, &stale)?;
                from_cache(&stale)
            }
            _ => Err(error),
        },
    }
}

/// Verifies a token of the provider with its keys, refreshing them once
/// when the token names a key they lack.
fn verify_with_provider(
    kv: &(impl KeyValue + ?Sized),
    http: &impl ProviderHttp,
    issuer: &str,
    audience: &str,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(serde_json::Map<String, serde_json::Value>, ProviderMetadata), Error> {
    let mut current = provider(kv, http, issuer, now.timestamp(), Freshness::Cached)?;
    loop {
        match oidc::verify(token, &current.keys, issuer, audience, now)? {
            Verified::Claims(claims) => return Ok((claims, current.metadata)),
            Verified::UnknownKey if !current.fetched => {
                current = provider(kv, http, issuer, now.timestamp(), Freshness::Refreshed)?;
                if !current.fetched {
                    return Err(unauthenticated("身份令牌的签名密钥未知"));
                }
            }
            Verified::UnknownKey => return Err(unauthenticated("身份令牌的签名密钥未知")),
        }
    }
}

/// What a request presents to prove who it comes from.
pub struct Credentials<'a> {
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The session cookie's value.
    pub session: Option<&'a str>,
}

/// Who a request comes from: a bearer token (a development token in
/// development mode, else the provider's access token), or else a session
/// cookie. 503 `AUTH_NOT_CONFIGURED` when no way of signing in is set up;
/// 401 when the credentials are missing or invalid.
pub fn authenticate(
    kv: &(impl KeyValue + ?Sized),
    http: &impl ProviderHttp,
    settings: &AuthSettings,
    credentials: &Credentials,
    now: DateTime<Utc>,
) -> Result<Principal, Error> {
    settings.require_configured()?;
    if credentials.authorization.is_none()
        && let Some(session) = credentials.session
    {
        return session_principal(kv, session, now);
    }
    let token = crate::auth::bearer_token(credentials.authorization)?;
    if development::is_development_token(token) {
        return development_principal(settings, token, now);
    }
    verify_access_token(kv, http, token_provider(settings)?, token, now)
}

/// A development token's principal: only in development mode (else 401),
/// checked with the configured public key.
fn development_principal(
    settings: &AuthSettings,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Principal, Error> {
    if !settings.development {
        return Err(unauthenticated("身份令牌无效，请重新登录"));
    }
    development::verify_token(token, settings.development_token_public_key.as_deref(), now)
}

/// The provider a bearer token that is not a development token must come
/// from: 401 where none is configured.
fn token_provider(settings: &AuthSettings) -> Result<&ProviderSettings, Error> {
    settings
        .provider
        .as_ref()
        .ok_or_else(|| unauthenticated("身份令牌无效，请重新登录"))
}

/// The subject of an API client's bearer token (no session cookie: the
/// subscription endpoints are for systems). Unlike [`authenticate`], no
/// role is needed: a tender platform's token carries none.
pub fn authenticate_client(
    kv: &(impl KeyValue + ?Sized),
    http: &impl ProviderHttp,
    settings: &AuthSettings,
    authorization: Option<&str>,
    now: DateTime<Utc>,
) -> Result<String, Error> {
    settings.require_configured()?;
    let token = crate::auth::bearer_token(authorization)?;
    if development::is_development_token(token) {
        return Ok(development_principal(settings, token, now)?
            .sub()
            .to_owned());
    }
    let provider = token_provider(settings)?;
    let (claims, _) =
        verify_with_provider(kv, http, &provider.issuer, &provider.audience, token, now)?;
    claims
        .get("sub")
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|sub| !sub.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| unauthenticated("身份令牌缺少 sub"))
}

/// Verifies an API access token from the provider.
pub fn verify_access_token(
    kv: &(impl KeyValue + ?Sized),
    http: &impl ProviderHttp,
    provider: &ProviderSettings,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Principal, Error> {
    let (claims, _) =
        verify_with_provider(kv, http, &provider.issuer, &provider.audience, token, now)?;
    oidc::principal(&claims, &provider.claims)
}

/// The principal of a session cookie; 401 when it is unknown or expired.
pub fn session_principal(
    kv: &(impl KeyValue + ?Sized),
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<Principal, Error> {
    let key = keys::session(session_id);
    let session: Session =
        read_json(kv, &key)?.ok_or_else(|| unauthenticated("登录已失效，请重新登录"))?;
    if session.expires_at <= now.timestamp() {
        kv.delete(&key)?;
        return Err(unauthenticated("登录已过期，请重新登录"));
    }
    Principal::from_parts(
        session.role,
        session.sub,
        session.uscc.as_deref(),
        session.unit,
        session.name,
    )
}

fn provider_settings(settings: &AuthSettings) -> Result<&ProviderSettings, Error> {
    settings
        .provider
        .as_ref()
        .ok_or_else(|| Error::NotFound("本服务未接入统一身份认证平台（未设置 oidc_issuer）".into()))
}

fn redirect_uri(settings: &AuthSettings) -> String {
    format!("{}{CALLBACK_PATH}", settings.public_base_url)
}

/// A page of this service to return to after signing in: a local path,
/// never another site.
pub fn local_path(requested: Option<&str>) -> String {
    match requested {
        Some(p)
            if p.starts_with('/') && !p.starts_with("//") && !p.contains(['\\', '\r', '\n']) =>
        {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// Where to send the browser to sign in, and the `state` its cookie binds.
#[derive(Debug)]
pub struct SignInStart {
    pub location: String,
    pub state: String,
}

/// Starts a sign-in: the provider's authorization URL with a fresh state,
/// nonce and PKCE verifier, stored until [`SIGN_IN_SECS`] from now.
pub fn begin(
    kv: &(impl KeyValue + ?Sized),
    http: &impl ProviderHttp,
    settings: &AuthSettings,
    return_to: Option<&str>,
    now: DateTime<Utc>,
) -> Result<SignInStart, Error> {
    let config = provider_settings(settings)?;
    let provider = provider(kv, http, &config.issuer, now.timestamp(), Freshness::Live)?;
    let attempt = SignInAttempt {
        nonce: oidc::random_token()?,
        code_verifier: oidc::random_token()?,
        return_to: local_path(return_to),
        expires_at: now.timestamp() + SIGN_IN_SECS,
    };
    let state = oidc::random_token()?;
    write_json(kv, &keys::sign_in_attempt(&state), &attempt)?;
    let location = oidc::authorization_url(
        &provider.metadata,
        &oidc::AuthorizationRequest {
            client_id: &config.client_id,
            redirect_uri: &redirect_uri(settings),
            state: &state,
            nonce: &attempt.nonce,
            code_verifier: &attempt.code_verifier,
        },
    );
    Ok(SignInStart { location, state })
}

/// What the browser brings back to the callback: the provider's answer, as
/// the query carries it, and the sign-in cookie set when the attempt began.
#[derive(Debug, Default, Clone)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// The attempt's state, as this browser's cookie keeps it.
    pub state_cookie: Option<String>,
}

/// A session just opened.
#[derive(Debug)]
pub struct SignedIn {
    pub session_id: String,
    pub return_to: String,
    pub max_age_secs: i64,
    pub principal: Principal,
}

/// Completes a sign-in: the state must be this browser's (its `state_cookie`)
/// and unused, the provider's error is reported, the code is exchanged
/// with the verifier, and the ID token must be the provider's, for this
/// client, with the attempt's nonce. Audited, failed or not.
pub fn complete(
    kv: &(impl KeyValue + ?Sized),
    http: &impl ProviderHttp,
    settings: &AuthSettings,
    client_secret: Option<&str>,
    callback: &Callback,
    client: &str,
    now: DateTime<Utc>,
) -> Result<SignedIn, Error> {
    let outcome = exchange(kv, http, settings, client_secret, callback, now);
    let entry = match &outcome {
        Ok(signed_in) => {
            AuditEntry::new(Some(&signed_in.principal), "auth.sign_in", "signed_in", now)
        }
        Err(error) => AuditEntry::new(None, "auth.sign_in", error.code(), now)
            .details(serde_json::json!({ "reason": error.to_string() })),
    };
    audit::append(kv, &entry.client(client))?;
    outcome
}

fn exchange(
    kv: &(impl KeyValue + ?Sized),
    http: &impl ProviderHttp,
    settings: &AuthSettings,
    client_secret: Option<&str>,
    callback: &Callback,
    now: DateTime<Utc>,
) -> Result<SignedIn, Error> {
    let config = provider_settings(settings)?;
    let state = callback
        .state
        .as_deref()
        .ok_or_else(|| unauthenticated("登录回调缺少 state，请从本服务页面重新登录"))?;
    let same_browser = callback
        .state_cookie
        .as_deref()
        .is_some_and(|c| bool::from(c.as_bytes().ct_eq(state.as_bytes())));
    if !same_browser {
        return Err(unauthenticated(
            "登录状态与本浏览器不符（可能已在其他窗口登录或链接被转发），请从本服务页面重新登录",
        ));
    }
    let attempt_key = keys::sign_in_attempt(state);
    let attempt: Option<SignInAttempt> = read_json(kv, &attempt_key)?;
    kv.delete(&attempt_key)?;
    let attempt = attempt
        .filter(|a| a.expires_at > now.timestamp())
        .ok_or_else(|| unauthenticated("登录已超时或已完成，请重新登录"))?;
    if let Some(error) = &callback.error {
        let description = callback.error_description.as_deref().unwrap_or("");
        return Err(unauthenticated(&format!(
            "统一身份认证平台未完成登录（{error}{}{description}），请重新登录",
            if description.is_empty() { "" } else { "：" }
        )));
    }
    let code = callback
        .code
        .as_deref()
        .ok_or_else(|| unauthenticated("登录回调缺少授权码，请重新登录"))?;
    let client_secret = client_secret.filter(|s| !s.is_empty()).ok_or_else(|| {
        Error::AuthNotConfigured(
            "oidc_client_secret is not set: the code cannot be exchanged".into(),
        )
    })?;
    let provider = provider(kv, http, &config.issuer, now.timestamp(), Freshness::Cached)?;
    let token_endpoint = &provider.metadata.token_endpoint;
    let reply = http
        .post_form(
            token_endpoint,
            &oidc::client_authorization(&config.client_id, client_secret),
            &oidc::token_request_body(code, &redirect_uri(settings), &attempt.code_verifier),
        )
        .map_err(|e| unavailable(format!("POST {token_endpoint}: {e}")))?;
    if reply.status != 200 {
        let reason = serde_json::from_slice::<oidc::TokenError>(&reply.body)
            .map(|e| e.error)
            .unwrap_or_else(|_| format!("HTTP {}", reply.status));
        return Err(unauthenticated(&format!(
            "统一身份认证平台未能兑换授权码（{reason}），请重新登录"
        )));
    }
    let tokens: oidc::TokenResponse = serde_json::from_slice(&reply.body)
        .map_err(|e| unavailable(format!("token response: {e}")))?;
    let (claims, _) = verify_with_provider(
        kv,
        http,
        &config.issuer,
        &config.client_id,
        &tokens.id_token,
        now,
    )?;
    let nonce_matches = claims
        .get("nonce")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|n| bool::from(n.as_bytes().ct_eq(attempt.nonce.as_bytes())));
    if !nonce_matches {
        return Err(unauthenticated(
            "ID 令牌的 nonce 与本次登录不符，请重新登录",
        ));
    }
    let principal = oidc::principal(&claims, &config.claims)?;
    let session = Session {
        role: principal.role(),
        sub: principal.sub().to_owned(),
        uscc: principal.uscc().map(ToString::to_string),
        unit: principal.unit().map(str::to_owned),
        name: principal.name().map(str::to_owned),
        id_token: tokens.id_token,
        expires_at: now.timestamp() + SESSION_SECS,
    };
    let session_id = oidc::random_token()?;
    write_json(kv, &keys::session(&session_id), &session)?;
    Ok(SignedIn {
        session_id,
        return_to: attempt.return_to,
        max_age_secs: SESSION_SECS,
        principal,
    })
}

/// Ends a session here and says where to send the browser: the provider's
/// logout (RP-initiated, with the ID token as hint) when it offers one and
/// its documents are at hand, else this service's front page. Never
/// fetches: signing out works while the provider is down.
pub fn end(
    kv: &(impl KeyValue + ?Sized),
    settings: &AuthSettings,
    session_id: Option<&str>,
    client: &str,
    now: DateTime<Utc>,
) -> Result<String, Error> {
    let front_page = format!("{}/", settings.public_base_url);
    let Some(session_id) = session_id else {
        return Ok(front_page);
    };
    let key = keys::session(session_id);
    let Some(session) = read_json::<Session>(kv, &key)? else {
        return Ok(front_page);
    };
    kv.delete(&key)?;
    let principal = Principal::from_parts(
        session.role,
        session.sub.clone(),
        session.uscc.as_deref(),
        session.unit.clone(),
        session.name.clone(),
    )
    .ok();
    audit::append(
        kv,
        &AuditEntry::new(principal.as_ref(), "auth.sign_out", "signed_out", now).client(client),
    )?;
    let provider_logout = settings.provider.as_ref().and_then(|config| {
        let cached: CachedProvider = read_json(kv, &keys::identity_provider()).ok()??;
        (cached.metadata.issuer == config.issuer)
            .then(|| {
                oidc::end_session_url(
                    &cached.metadata,
                    &session.id_token,
                    &front_page,
                    &config.client_id,
                )
            })
            .flatten()
    });
    Ok(provider_logout.unwrap_or(front_page))
}

/// What the pages show about sign-in: who is signed in (if anyone) and
/// which ways of signing in this deployment offers.
#[derive(Debug, Serialize)]
pub struct SessionView {
    pub signed_in: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Sign-in through the identity provider is offered.
    pub provider: bool,
    /// Development tokens are accepted (development mode).
    pub development: bool,
}

/// The session view of a browser: 503 `AUTH_NOT_CONFIGURED` when nobody
/// can sign in; an unknown or expired cookie is simply "not signed in".
pub fn view(
    kv: &(impl KeyValue + ?Sized),
    settings: &AuthSettings,
    session_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<SessionView, Error> {
    settings.require_configured()?;
    let principal = match session_id {
        Some(id) => match session_principal(kv, id, now) {
            Ok(p) => Some(p),
            Err(Error::Unauthenticated(_)) => None,
            Err(other) => return Err(other),
        },
        None => None,
    };
    Ok(SessionView {
        signed_in: principal.is_some(),
        role: principal.as_ref().map(Principal::role),
        sub: principal.as_ref().map(|p| p.sub().to_owned()),
        uscc: principal
            .as_ref()
            .and_then(|p| p.uscc().map(ToString::to_string)),
        unit: principal.as_ref().and_then(|p| p.unit().map(str::to_owned)),
        name: principal.as_ref().and_then(|p| p.name().map(str::to_owned)),
        provider: settings.provider.is_some(),
        development: settings.development,
    })
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use chrono::TimeZone;
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    use serde_json::{Value, json};

    use super::*;
    use crate::config::ClaimNames;
    use crate::kv::MemoryStore;

    const ISSUER: &str = "https://id.example.test/oidc";
    const ED_KEY: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIAr8vij6qBE+zVctoqxwt2/8LyZseR0NReap9ib5p65Y
-----END PRIVATE KEY-----";
    const EC_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgD3GXNLBiBPW3AJCJ
r6P4/u+vzujpV9oUhWABO6Oges6hRANCAAStg14AzS3r5iqC2Ue7qKfQyZcqNHA/
ZYxpGG2x6hqwRn3+dfIq9LFTEDbiAgidAna7wIj3lWfnn4LwJbRJRsBj
-----END PRIVATE KEY-----";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, 2, 0, 0).unwrap()
    }

    /// The PKCS#8 DER inside a PEM.
    fn der(pem: &str) -> Vec<u8> {
        use base64::Engine;
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    }

    /// A signing key of the fake provider.
    struct Signer {
        kid: &'static str,
        alg: Algorithm,
        key: EncodingKey,
    }

    fn ed(kid: &'static str) -> Signer {
        Signer {
            kid,
            alg: Algorithm::EdDSA,
            key: EncodingKey::from_ed_der(&der(ED_KEY)),
        }
    }

    fn ec(kid: &'static str) -> Signer {
        Signer {
            kid,
            alg: Algorithm::ES256,
            key: EncodingKey::from_ec_der(&der(EC_KEY)),
        }
    }

    impl Signer {
        fn jwk(&self) -> Value {
            let mut jwk = Jwk::from_encoding_key(&self.key, self.alg).unwrap();
            jwk.common.key_id = Some(self.kid.into());
            serde_json::to_value(jwk).unwrap()
        }

        fn sign(&self, claims: &Value) -> String {
            let mut header = Header::new(self.alg);
            header.kid = Some(self.kid.into());
            encode(&header, claims, &self.key).unwrap()
        }
    }

    /// The provider as the port sees it: documents, a token endpoint, and
    /// a switch to take it down.
    #[derive(Default)]
    struct FakeProvider {
        jwks: RefCell<Vec<Value>>,
        down: Cell<bool>,
        fetches: Cell<usize>,
        id_token: RefCell<String>,
        token_requests: RefCell<Vec<String>>,
    }

    impl FakeProvider {
        fn with(keys: &[&Signer]) -> FakeProvider {
            let fake = FakeProvider::default();
            fake.publish(keys);
            fake
        }

        fn publish(&self, keys: &[&Signer]) {
            *self.jwks.borrow_mut() = keys.iter().map(|k| k.jwk()).collect();
        }
    }

    impl ProviderHttp for FakeProvider {
        fn get(&self, url: &str) -> Result<HttpReply, String> {
            if self.down.get() {
                return Err("connection refused".into());
            }
            let body = if url == oidc::discovery_url(ISSUER) {
                self.fetches.set(self.fetches.get() + 1);
                json!({
                    "issuer": ISSUER,
                    "authorization_endpoint": format!("{ISSUER}/auth"),
                    "token_endpoint": format!("{ISSUER}/token"),
                    "jwks_uri": format!("{ISSUER}/jwks"),
                    "end_session_endpoint": format!("{ISSUER}/session/end"),
                })
            } else if url == format!("{ISSUER}/jwks") {
                json!({ "keys": *self.jwks.borrow() })
            } else {
                return Ok(HttpReply {
                    status: 404,
                    body: vec![],
                });
            };
            Ok(HttpReply {
                status: 200,
                body: body.to_string().into_bytes(),
            })
        }

        fn post_form(
            &self,
            url: &str,
            authorization: &str,
            body: &str,
        ) -> Result<HttpReply, String> {
            if self.down.get() {
                return Err("connection refused".into());
            }
            assert_eq!(url, format!("{ISSUER}/token"));
            assert!(authorization.starts_with("Basic "));
            self.token_requests.borrow_mut().push(body.to_owned());
            Ok(HttpReply {
                status: 200,
                body: json!({ "id_token": *self.id_token.borrow(), "token_type": "Bearer" })
                    .to_string()
                    .into_bytes(),
            })
        }
    }

    fn settings() -> AuthSettings {
        AuthSettings {
            development: false,
            development_token_public_key: None,
            provider: Some(ProviderSettings {
                issuer: ISSUER.into(),
                audience: "urn:credit-report".into(),
                client_id: "credit-report".into(),
                claims: ClaimNames {
                    uscc: "uscc".into(),
                    role: "role".into(),
                    unit: "unit".into(),
                },
            }),
            public_base_url: "https://credit.example.test".into(),
        }
    }

    fn access_claims(role: &str) -> Value {
        let t = now().timestamp();
        json!({
            "iss": ISSUER, "aud": "urn:credit-report", "sub": "u-1", "iat": t, "exp": t + 600,
            "role": role, "uscc": "91350200776049653A", "unit": "县税务局", "name": "永昌县示例商贸有限公司",
        })
    }

    fn with(mut claims: Value, changes: Value) -> Value {
        for (k, v) in changes.as_object().unwrap() {
            claims[k] = v.clone();
        }
        claims
    }

    fn check(store: &MemoryStore, fake: &FakeProvider, token: &str) -> Result<Principal, Error> {
        let credentials = Credentials {
            authorization: Some(&format!("Bearer {token}")),
            session: None,
        };
        authenticate(store, fake, &settings(), &credentials, now())
    }

    #[test]
    fn provider_tokens_give_each_role_with_either_key_type() {
        let (store, keys) = (MemoryStore::new(), [ed("ed-1"), ec("ec-1")]);
        let fake = FakeProvider::with(&[&keys[0], &keys[1]]);
        for key in &keys {
            for role in ["entity", "staff", "department", "admin"] {
                let p = check(&store, &fake, &key.sign(&access_claims(role))).unwrap();
                assert_eq!(p.role().as_str(), role);
            }
        }
        let entity = check(&store, &fake, &keys[0].sign(&access_claims("entity"))).unwrap();
        assert_eq!(entity.name(), Some("永昌县示例商贸有限公司"));
        // Documents fetched once, then served from the store.
        assert_eq!(fake.fetches.get(), 1);
    }

    #[test]
    fn forged_foreign_and_ill_timed_tokens_are_401() {
        let (store, key) = (MemoryStore::new(), ed("ed-1"));
        let fake = FakeProvider::with(&[&key]);
        let base = access_claims("admin");
        let t = now().timestamp();
        let b64 = |v: &Value| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let public_x = key.jwk()["x"].as_str().unwrap().to_owned();
        let hs256_with_public_key = encode(
            &Header {
                kid: Some("ed-1".into()),
                ..Header::new(Algorithm::HS256)
            },
            &base,
            &EncodingKey::from_secret(public_x.as_bytes()).unwrap(),
        )
        .unwrap();
        let bad = [
            (
                "wrong issuer",
                key.sign(&with(base.clone(), json!({"iss": "https://evil.test"}))),
            ),
            (
                "wrong audience",
                key.sign(&with(base.clone(), json!({"aud": "someone-else"}))),
            ),
            (
                "expired",
                key.sign(&with(base.clone(), json!({"iat": t - 7200, "exp": t - 61}))),
            ),
            (
                "not yet valid",
                key.sign(&with(base.clone(), json!({"nbf": t + 120}))),
            ),
            (
                "issued in the future",
                key.sign(&with(base.clone(), json!({"iat": t + 120, "exp": t + 600}))),
            ),
            (
                "too long-lived",
                key.sign(&with(base.clone(), json!({"exp": t + 2 * 86400}))),
            ),
            (
                "no iat",
                key.sign(&{
                    let mut c = base.clone();
                    c.as_object_mut().unwrap().remove("iat");
                    c
                }),
            ),
            (
                "alg none",
                format!(
                    "{}.{}.",
                    b64(&json!({"alg": "none", "kid": "ed-1"})),
                    b64(&base)
                ),
            ),
            ("HS256 keyed with the public key", hs256_with_public_key),
            ("unknown kid", ed("ed-elsewhere").sign(&base)),
            ("tampered", {
                let mut s = key.sign(&base);
                s.insert(s.len() - 4, 'A');
                s
            }),
        ];
        for (what, token) in bad {
            let e = check(&store, &fake, &token).unwrap_err();
            assert_eq!((e.status(), e.code()), (401, "UNAUTHENTICATED"), "{what}");
        }
        // Within the leeway is fine.
        let skewed = key.sign(&with(base.clone(), json!({"iat": t + 50, "exp": t + 600})));
        assert!(check(&store, &fake, &skewed).is_ok());
        // A valid token without a role here: the provider vouches for the caller, not a role.
        let roleless = key.sign(&with(base, json!({"role": "tenderer"})));
        assert_eq!(
            check(&store, &fake, &roleless).unwrap_err().code(),
            "FORBIDDEN"
        );
    }

    #[test]
    fn a_rotated_key_is_followed_once_and_forged_kids_cost_one_fetch_a_minute() {
        let store = MemoryStore::new();
        let (old, new) = (ed("old"), ec("new"));
        let fake = FakeProvider::with(&[&old]);
        assert!(check(&store, &fake, &old.sign(&access_claims("admin"))).is_ok());
        fake.publish(&[&new]);
        // The next minute's token under the new key: one refresh, then accepted.
        let later = now() + chrono::Duration::seconds(REFRESH_COOLDOWN_SECS);
        let token = new.sign(&access_claims("admin"));
        let credentials = Credentials {
            authorization: Some(&format!("Bearer {token}")),
            session: None,
        };
        assert!(authenticate(&store, &fake, &settings(), &credentials, later).is_ok());
        assert_eq!(fake.fetches.get(), 2);
        // Unknown kids right after: no further fetch.
        for _ in 0..5 {
            assert!(check(&store, &fake, &ed("forged").sign(&access_claims("admin"))).is_err());
        }
        assert_eq!(fake.fetches.get(), 2);
    }

    #[test]
    fn a_provider_down_keeps_the_keys_fetched_before_and_a_first_contact_fails_clearly() {
        let key = ed("ed-1");
        let fake = FakeProvider::with(&[&key]);
        fake.down.set(true);
        let e = check(
            &MemoryStore::new(),
            &fake,
            &key.sign(&access_claims("admin")),
        )
        .unwrap_err();
        assert_eq!(
            (e.status(), e.code()),
            (503, "IDENTITY_PROVIDER_UNAVAILABLE")
        );
        let store = MemoryStore::new();
        fake.down.set(false);
        assert!(check(&store, &fake, &key.sign(&access_claims("admin"))).is_ok());
        fake.down.set(true);
        let hours_later = now() + chrono::Duration::seconds(PROVIDER_CACHE_SECS + 1);
        let mut claims = access_claims("admin");
        claims["iat"] = json!(hours_later.timestamp());
        claims["exp"] = json!(hours_later.timestamp() + 600);
        let credentials = Credentials {
            authorization: Some(&format!("Bearer {}", key.sign(&claims))),
            session: None,
        };
        assert!(authenticate(&store, &fake, &settings(), &credentials, hours_later).is_ok());
        // A sign-in never sends the browser to a provider that is down.
        let e = begin(&store, &fake, &settings(), None, now()).unwrap_err();
        assert_eq!(e.code(), "IDENTITY_PROVIDER_UNAVAILABLE");
    }

    #[test]
    fn nothing_configured_is_503_and_development_tokens_need_development_mode() {
        let store = MemoryStore::new();
        let fake = FakeProvider::default();
        let unconfigured = AuthSettings {
            development: false,
            development_token_public_key: None,
            provider: None,
            public_base_url: String::new(),
        };
        let key = development::generate_key().unwrap();
        let token = development::mint(
            &key.private_key_pem,
            &development::Claims {
                sub: "root".into(),
                role: Role::Admin,
                uscc: None,
                unit: None,
                name: None,
                exp: now().timestamp() + 60,
                iat: None,
            },
        )
        .unwrap();
        let bearer = format!("Bearer {token}");
        let credentials = Credentials {
            authorization: Some(&bearer),
            session: None,
        };
        let e = authenticate(&store, &fake, &unconfigured, &credentials, now()).unwrap_err();
        assert_eq!((e.status(), e.code()), (503, "AUTH_NOT_CONFIGURED"));
        // With a provider but not in development mode: the development token is refused.
        let e = authenticate(&store, &fake, &settings(), &credentials, now()).unwrap_err();
        assert_eq!(e.code(), "UNAUTHENTICATED");
        let development = AuthSettings {
            development: true,
            development_token_public_key: Some(key.public_key_pem),
            ..unconfigured
        };
        assert!(authenticate(&store, &fake, &development, &credentials, now()).is_ok());
        assert_eq!(fake.fetches.get(), 0);
    }

    fn query_value(url: &str, name: &str) -> String {
        let query = url.split_once('?').unwrap().1;
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    }

    fn id_token(key: &Signer, nonce: &str) -> String {
        let t = now().timestamp();
        key.sign(&json!({
            "iss": ISSUER, "aud": "credit-report", "sub": "legal-person-1", "iat": t, "exp": t + 300,
            "nonce": nonce, "role": "entity", "uscc": "91350200776049653A", "name": "永昌县示例商贸有限公司",
        }))
    }

    #[test]
    fn browser_sign_in_checks_state_nonce_and_pkce_and_opens_a_session_until_logout() {
        let (store, key) = (MemoryStore::new(), ec("ec-1"));
        let fake = FakeProvider::with(&[&key]);
        let settings = settings();
        let start = begin(&store, &fake, &settings, Some("/apply.html"), now()).unwrap();
        let url = &start.location;
        assert!(url.starts_with(&format!("{ISSUER}/auth?")));
        assert_eq!(query_value(url, "state"), start.state);
        assert_eq!(query_value(url, "code_challenge_method"), "S256");
        assert_eq!(
            query_value(url, "redirect_uri"),
            "https://credit.example.test/auth/callback"
        );
        let nonce = query_value(url, "nonce");
        // As this browser brings it back: the provider's answer and the attempt's cookie.
        let callback = Callback {
            code: Some("the-code".into()),
            state: Some(start.state.clone()),
            state_cookie: Some(start.state.clone()),
            ..Callback::default()
        };
        // Another browser (no or another cookie) cannot complete it.
        for cookie in [None, Some("someone-else")] {
            let e = complete(
                &store,
                &fake,
                &settings,
                Some("s3cret"),
                &Callback {
                    state_cookie: cookie.map(str::to_owned),
                    ..callback.clone()
                },
                "1.2.3.4",
                now(),
            )
            .unwrap_err();
            assert_eq!(e.code(), "UNAUTHENTICATED");
        }
        // An ID token with another nonce is refused (and uses up the attempt).
        *fake.id_token.borrow_mut() = id_token(&key, "another-nonce");
        let e = complete(
            &store,
            &fake,
            &settings,
            Some("s3cret"),
            &callback,
            "1.2.3.4",
            now(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("nonce"), "{e}");
        let e = complete(
            &store,
            &fake,
            &settings,
            Some("s3cret"),
            &callback,
            "1.2.3.4",
            now(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("已完成"), "{e}");
        // A fresh attempt with the right nonce signs in.
        let start = begin(&store, &fake, &settings, Some("//evil.test/"), now()).unwrap();
        *fake.id_token.borrow_mut() = id_token(&key, &query_value(&start.location, "nonce"));
        let callback = Callback {
            state: Some(start.state.clone()),
            state_cookie: Some(start.state.clone()),
            ..callback
        };
        let signed_in = complete(
            &store,
            &fake,
            &settings,
            Some("s3cret"),
            &callback,
            "1.2.3.4",
            now(),
        )
        .unwrap();
        assert_eq!(signed_in.return_to, "/");
        let verifier_sent = query_value(
            &format!("?{}", fake.token_requests.borrow().last().unwrap()),
            "code_verifier",
        );
        assert_eq!(
            oidc::pkce_challenge(&verifier_sent),
            query_value(&start.location, "code_challenge")
        );
        let _ = nonce;
        // The session works, also while the provider is down, until it expires.
        fake.down.set(true);
        let p = session_principal(&store, &signed_in.session_id, now()).unwrap();
        assert_eq!(p.uscc().unwrap().as_str(), "91350200776049653A");
        let expired = now() + chrono::Duration::seconds(SESSION_SECS);
        assert_eq!(
            session_principal(&store, &signed_in.session_id, expired)
                .unwrap_err()
                .code(),
            "UNAUTHENTICATED"
        );
        // Logout ends it here and at the provider.
        let store2 = MemoryStore::new();
        fake.down.set(false);
        let start = begin(&store2, &fake, &settings, None, now()).unwrap();
        *fake.id_token.borrow_mut() = id_token(&key, &query_value(&start.location, "nonce"));
        let callback = Callback {
            state: Some(start.state.clone()),
            state_cookie: Some(start.state.clone()),
            ..callback
        };
        let signed_in = complete(
            &store2,
            &fake,
            &settings,
            Some("s3cret"),
            &callback,
            "1.2.3.4",
            now(),
        )
        .unwrap();
        let location = end(
            &store2,
            &settings,
            Some(&signed_in.session_id),
            "1.2.3.4",
            now(),
        )
        .unwrap();
        assert!(
            location.starts_with(&format!("{ISSUER}/session/end?")),
            "{location}"
        );
        assert_eq!(
            query_value(&location, "post_logout_redirect_uri"),
            "https://credit.example.test/"
        );
        assert!(session_principal(&store2, &signed_in.session_id, now()).is_err());
    }

    #[test]
    fn the_providers_refusal_is_reported_in_chinese_and_sign_in_without_a_provider_is_404() {
        let (store, key) = (MemoryStore::new(), ed("ed-1"));
        let fake = FakeProvider::with(&[&key]);
        let start = begin(&store, &fake, &settings(), None, now()).unwrap();
        let callback = Callback {
            state: Some(start.state.clone()),
            error: Some("access_denied".into()),
            error_description: Some("用户取消了授权".into()),
            state_cookie: Some(start.state.clone()),
            ..Callback::default()
        };
        let e = complete(&store, &fake, &settings(), Some("s"), &callback, "c", now()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "统一身份认证平台未完成登录（access_denied：用户取消了授权），请重新登录"
        );
        let development_only = AuthSettings {
            development: true,
            development_token_public_key: None,
            provider: None,
            public_base_url: String::new(),
        };
        assert_eq!(
            begin(&store, &fake, &development_only, None, now())
                .unwrap_err()
                .status(),
            404
        );
        fake.down.set(true);
        let e = begin(&MemoryStore::new(), &fake, &settings(), None, now()).unwrap_err();
        assert_eq!(e.code(), "IDENTITY_PROVIDER_UNAVAILABLE");
        assert_eq!(local_path(Some("/desk.html?x=1")), "/desk.html?x=1");
        for evil in [
            "https://evil.test/",
            "//evil.test",
            "/\\evil.test",
            "desk.html",
        ] {
            assert_eq!(local_path(Some(evil)), "/");
        }
    }
}
