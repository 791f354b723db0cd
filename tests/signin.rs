//! Sign-in against a real OpenID Provider (`oidc-provider`, tests/oidc/provider.mjs) through the
//! host: the browser's code flow walked by hand (login page, callback, session cookie, logout),
//! API access tokens per role from the provider's token endpoint, forged and ill-timed tokens,
//! a key rotation followed without a restart, the provider down; and the service failing closed
//! when no way of signing in is configured, and not starting without its client secret.

use chrono::{Duration, Utc};
use integration_tests::fixtures::{assert_problem, entity, purpose};
use integration_tests::oidc::{Browser, TestProvider, client_secret};
use integration_tests::{HostOptions, Reply, TestHost, development_seal, workspace_dir};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

/// Where the provider sends the browser back to. The tests are the browser, so they carry the
/// callback to the host themselves; the URL only has to be the one registered.
const SERVICE_URL: &str = "https://credit.example.test";
const AUDIENCE: &str = "urn:credit-report";
/// The entity of the test provider's entity-1 and entity-app.
const ENTITY_USCC: &str = "91620321MA72BR0W1E";

fn signed_in_host(provider_port: u16) -> TestHost {
    let issuer = TestProvider::issuer_at(provider_port);
    TestHost::start(
        HostOptions::product_without_sign_in()
            .test_clock()
            .variable("oidc_issuer", &issuer)
            .variable("oidc_issuer_host", &issuer)
            .variable("oidc_client_id", "credit-report")
            .variable("oidc_client_secret", client_secret("credit-report"))
            .variable("oidc_audience", AUDIENCE)
            .variable("public_base_url", SERVICE_URL),
    )
}

/// Signs `account` in through the provider's own login page; returns the browser holding the
/// session cookie and the page the service sent it back to.
fn sign_in(host: &TestHost, provider: &TestProvider, account: &str) -> (Browser, String) {
    let mut browser = Browser::new();
    let to_provider = browser.get(&host.url("/auth/login?return_to=/apply.html"));
    let authorize = Browser::location(&to_provider, &host.url(""));
    assert!(
        authorize.starts_with(&format!("{}/auth?", provider.issuer())),
        "{authorize}"
    );
    let login_page = Browser::location(&browser.get(&authorize), &provider.issuer());
    assert!(login_page.contains("/interaction/"), "{login_page}");
    let page = browser.get(&login_page);
    assert_eq!(page.status, 200, "{}", page.text());
    let submitted = browser.post_form(
        &login_page,
        &[("prompt", "login"), ("login", account), ("password", "any")],
        None,
    );
    let resume = Browser::location(&submitted, &provider.issuer());
    let callback = Browser::location(&browser.get(&resume), &provider.issuer());
    let path = callback
        .strip_prefix(SERVICE_URL)
        .unwrap_or_else(|| panic!("the provider sent the browser to {callback}"));
    assert!(path.starts_with("/auth/callback?"), "{path}");
    let back = browser.get(&host.url(path));
    let page = Browser::location(&back, &host.url(""));
    assert!(
        browser.cookies.contains_key("credit_session"),
        "{:?}",
        back.headers
    );
    let set_cookie = back.header("set-cookie").unwrap();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    (browser, page)
}

fn with_cookie(
    host: &TestHost,
    browser: &Browser,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Reply {
    let cookie = browser.cookie_header();
    let mut headers = vec![("cookie", cookie.as_str())];
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    host.request(method, path, &headers, &bytes)
}

#[test]
fn browser_sign_in_per_role_then_sign_out_here_and_at_the_provider() {
    let port = TestProvider::free_port();
    let host = signed_in_host(port);
    let provider = TestProvider::start(port, SERVICE_URL);

    for (account, role) in [
        ("entity-1", "entity"),
        ("officer-1", "department"),
        ("staff-1", "staff"),
        ("admin-1", "admin"),
    ] {
        let (browser, page) = sign_in(&host, &provider, account);
        assert_eq!(page, host.url("/apply.html"));
        let session = with_cookie(&host, &browser, "GET", "/auth/session", None);
        assert_eq!(session.status, 200, "{}", session.text());
        let session = session.json();
        assert_eq!(
            (session["signed_in"].as_bool(), session["role"].as_str()),
            (Some(true), Some(role)),
            "{session}"
        );
        assert_eq!(session["provider"], true);
        assert_eq!(session["development"], false);
    }

    // The entity applies with its session and reads its report; its name is the provider's.
    let (browser, _) = sign_in(&host, &provider, "entity-1");
    let request = json!({"months": 12, "domains": "all", "purpose": purpose(&host)});
    let applied = with_cookie(&host, &browser, "POST", "/api/v1/reports", Some(&request));
    assert_eq!(applied.status, 201, "{}", applied.text());
    let report = applied.json();
    assert_eq!(report["uscc"], ENTITY_USCC);
    assert_eq!(report["entity_name"], "浏览器申请测试有限公司", "{report}");
    // The session reaches the PDF too; this host is not in development mode, so the tests'
    // development seal is refused there (nothing is issued unsealed), and the download through
    // a session is covered by tests/browser/signin.mjs against a development-mode host.
    let pdf = with_cookie(
        &host,
        &browser,
        "GET",
        report["pdf_url"].as_str().unwrap(),
        None,
    );
    assert_problem(&pdf, 500, "INVALID_CONFIG");

    // Signing out ends the session here and sends the browser to the provider's logout.
    let cookie = browser.cookie_header();
    let out = host.request("POST", "/auth/logout", &[("cookie", cookie.as_str())], &[]);
    assert_eq!(out.status, 200, "{}", out.text());
    let location = out.json()["location"].as_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{}/session/end?", provider.issuer())),
        "{location}"
    );
    assert!(location.contains("id_token_hint="));
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let after = with_cookie(&host, &browser, "GET", "/api/v1/reports", None);
    assert_problem(&after, 401, "UNAUTHENTICATED");
    let session = with_cookie(&host, &browser, "GET", "/auth/session", None).json();
    assert_eq!(session["signed_in"], false);
}

#[test]
fn a_forged_or_foreign_callback_and_the_providers_refusal_are_pages_in_chinese() {
    let port = TestProvider::free_port();
    let host = signed_in_host(port);
    let provider = TestProvider::start(port, SERVICE_URL);

    // The provider's refusal, as it redirects back.
    let mut browser = Browser::new();
    let start = browser.get(&host.url("/auth/login"));
    let state = browser.cookies["credit_sign_in"].clone();
    assert!(Browser::location(&start, "").starts_with(&provider.issuer()));
    let refused = browser.get(&host.url(&format!(
        "/auth/callback?error=access_denied&error_description=user%20cancelled&state={state}"
    )));
    assert_eq!(refused.status, 401);
    assert!(
        refused
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let page = refused.text();
    assert!(
        page.contains("统一身份认证平台未完成登录（access_denied：user cancelled）"),
        "{page}"
    );
    assert!(
        page.contains(r#"href="/auth/login"#) && page.contains(r#"href="/""#),
        "a way back: {page}"
    );

    // A callback for a state this browser did not start (login CSRF), or a code without state.
    let start = browser.get(&host.url("/auth/login"));
    assert_eq!(start.status, 303);
    let mut stranger = Browser::new();
    let forged = stranger.get(&host.url(&format!(
        "/auth/callback?code=x&state={}",
        browser.cookies["credit_sign_in"]
    )));
    assert_eq!(forged.status, 401);
    assert!(
        forged.text().contains("登录状态与本浏览器不符"),
        "{}",
        forged.text()
    );
    assert_eq!(stranger.get(&host.url("/auth/callback?code=x")).status, 401);

    // Markup in the provider's description is shown as text.
    let start = browser.get(&host.url("/auth/login"));
    assert_eq!(start.status, 303);
    let state = browser.cookies["credit_sign_in"].clone();
    let page = browser
        .get(&host.url(&format!(
            "/auth/callback?error=x&error_description=%3Cscript%3E&state={state}"
        )))
        .text();
    assert!(
        page.contains("&lt;script&gt;") && !page.contains("<script>"),
        "{page}"
    );
}

/// Signs `claims` as the provider would, with its own key, or with `header` overridden.
fn forge(provider: &TestProvider, claims: &Value) -> String {
    let (kid, der) = provider.signing_key();
    let header = Header {
        kid: Some(kid),
        typ: Some("at+jwt".into()),
        ..Header::new(Algorithm::ES256)
    };
    encode(&header, claims, &EncodingKey::from_ec_der(&der)).unwrap()
}

fn api_claims(provider: &TestProvider) -> Value {
    let now = Utc::now().timestamp();
    json!({
        "iss": provider.issuer(), "aud": AUDIENCE, "sub": "admin-tool", "client_id": "admin-tool",
        "iat": now, "exp": now + 600, "role": "admin",
    })
}

#[test]
fn api_tokens_from_the_provider_per_role_and_every_forgery_refused() {
    let port = TestProvider::free_port();
    let host = signed_in_host(port);
    let mut provider = TestProvider::start(port, SERVICE_URL);

    // Machines with client credentials, one per role; the tender platform has none here.
    // Counter staff act for no entity yet: their listing must name one (400), which only
    // staff are asked (an entity lists its own, other roles are refused).
    let reports = format!("/api/v1/reports?uscc={ENTITY_USCC}");
    for (client, path, status) in [
        ("entity-app", reports.as_str(), 200),
        ("counter-system", "/api/v1/reports", 400),
        ("tax-system", "/api/v1/records?uscc=91620321MA72BR0W1E", 200),
        ("admin-tool", "/api/v1/audit", 200),
        ("tax-system", "/api/v1/audit", 403),
        ("tender-platform", reports.as_str(), 403),
    ] {
        let token = provider.client_credentials_token(client);
        let reply = host.get_auth(path, &token);
        assert_eq!(reply.status, status, "{client} {path}: {}", reply.text());
    }
    // The tender platform needs no role to follow the reports it holds (docs/integration.md).
    let tender = provider.client_credentials_token("tender-platform");
    let feed = host.get_auth("/api/v1/subscriptions/events", &tender);
    assert_eq!(feed.status, 200, "{}", feed.text());
    assert_eq!(feed.json()["events"], json!([]));
    // Public verification needs no token.
    let verified = host.post_json(
        "/api/v1/verify/code",
        &json!({"code": "ABCD-EFGH-JKMN"}),
        None,
    );
    assert!(matches!(verified.status, 200 | 400), "{}", verified.text());

    // A genuine token, and the same claims forged every wrong way.
    let base = api_claims(&provider);
    assert_eq!(
        host.get_auth("/api/v1/audit", &forge(&provider, &base))
            .status,
        200
    );
    let now = Utc::now().timestamp();
    let with = |changes: Value| {
        let mut claims = base.clone();
        for (k, v) in changes.as_object().unwrap() {
            claims[k] = v.clone();
        }
        claims
    };
    let public_jwk = host_visible_jwks(&provider);
    let b64 = |v: &Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let (kid, _) = provider.signing_key();
    let hs256_keyed_with_public_key = encode(
        &Header {
            kid: Some(kid.clone()),
            ..Header::new(Algorithm::HS256)
        },
        &base,
        &EncodingKey::from_secret(public_jwk.as_bytes()).unwrap(),
    )
    .unwrap();
    let unknown_kid = {
        let (_, der) = provider.signing_key();
        encode(
            &Header {
                kid: Some("not-a-key-of-the-provider".into()),
                ..Header::new(Algorithm::ES256)
            },
            &base,
            &EncodingKey::from_ec_der(&der),
        )
        .unwrap()
    };
    for (what, token) in [
        (
            "wrong issuer",
            forge(&provider, &with(json!({"iss": "http://127.0.0.1:9"}))),
        ),
        (
            "wrong audience",
            forge(&provider, &with(json!({"aud": "urn:another-service"}))),
        ),
        (
            "expired",
            forge(
                &provider,
                &with(json!({"iat": now - 3600, "exp": now - 120})),
            ),
        ),
        (
            "not yet valid",
            forge(
                &provider,
                &with(json!({"nbf": now + 600, "exp": now + 1200})),
            ),
        ),
        (
            "longer-lived than allowed",
            forge(&provider, &with(json!({"exp": now + 3 * 86400}))),
        ),
        ("unknown kid", unknown_kid),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "kid": kid})),
                b64(&base)
            ),
        ),
        (
            "HS256 with the provider's public key",
            hs256_keyed_with_public_key,
        ),
    ] {
        let reply = host.get_auth("/api/v1/audit", &token);
        assert_eq!(reply.status, 401, "{what}: {}", reply.text());
        assert_problem(&reply, 401, "UNAUTHENTICATED");
    }
    // The provider rotates its key (a restart with a new one): followed without restarting the
    // service, once the minute since its last fetch has passed.
    provider.restart();
    let rotated = provider.client_credentials_token("admin-tool");
    let next_minute = host.at(Utc::now() + Duration::seconds(90));
    assert_eq!(next_minute.get_auth("/api/v1/audit", &rotated).status, 200);

    // A real token, read an hour later by the service's clock: expired.
    let later = host
        .at(Utc::now() + Duration::hours(1))
        .get_auth("/api/v1/audit", &rotated);
    assert_problem(&later, 401, "UNAUTHENTICATED");
}

/// The provider's public keys as it publishes them: what an attacker can read.
fn host_visible_jwks(provider: &TestProvider) -> String {
    let mut browser = Browser::new();
    browser.get(&format!("{}/jwks", provider.issuer())).text()
}

#[test]
fn provider_down_sign_in_fails_clearly_and_sessions_and_known_keys_keep_working() {
    let port = TestProvider::free_port();
    let host = signed_in_host(port);
    let mut provider = TestProvider::start(port, SERVICE_URL);
    let (browser, _) = sign_in(&host, &provider, "staff-1");
    let token = provider.client_credentials_token("admin-tool");
    assert_eq!(host.get_auth("/api/v1/audit", &token).status, 200);

    provider.stop();
    let mut newcomer = Browser::new();
    let refused = newcomer.get(&host.url("/auth/login?return_to=/desk.html"));
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert!(
        refused.text().contains("统一身份认证平台暂时无法访问"),
        "{}",
        refused.text()
    );
    host.wait_for_log(|log| log.contains("sign-in IDENTITY_PROVIDER_UNAVAILABLE"));
    // The signed-in staff member goes on working, and so does the token already verified:
    // still signed in as staff, whom a listing without `uscc` asks to name the entity (400).
    let session = with_cookie(&host, &browser, "GET", "/auth/session", None).json();
    assert_eq!(session["signed_in"], true, "{session}");
    let reports = with_cookie(&host, &browser, "GET", "/api/v1/reports", None);
    assert_problem(&reports, 400, "MISSING_FIELD");
    assert_eq!(host.get_auth("/api/v1/audit", &token).status, 200);
    // The session ends when it expires (8 hours).
    let expired = host.at(Utc::now() + Duration::hours(9)).request(
        "GET",
        "/api/v1/reports?uscc=91620321MA72BR0W1E",
        &[("cookie", &browser.cookie_header())],
        &[],
    );
    assert_problem(&expired, 401, "UNAUTHENTICATED");
}

#[test]
fn without_the_client_secret_the_service_does_not_start() {
    let seal = development_seal();
    let refused = TestHost::try_start(
        HostOptions::new(workspace_dir().join("spin.toml"))
            .variable("seal_private_key_pem", &seal.private_key_pem)
            .variable("seal_certificate_chain_pem", &seal.chain_pem),
    )
    .err()
    .expect("a host without oidc_client_secret must not start");
    assert!(refused.contains("oidc_client_secret"), "{refused}");
}

#[test]
fn without_a_provider_or_development_mode_the_service_fails_closed_but_verifies() {
    let host = TestHost::start(HostOptions::product_without_sign_in());
    assert!(
        host.log().contains("sign-in is not configured"),
        "the host says why at start:\n{}",
        host.log()
    );
    let token = entity(ENTITY_USCC);
    for (method, path) in [
        ("GET", "/api/v1/reports"),
        ("POST", "/api/v1/reports"),
        ("GET", "/api/v1/records?uscc=91620321MA72BR0W1E"),
        ("GET", "/api/v1/audit"),
        ("GET", "/auth/session"),
    ] {
        let auth = format!("Bearer {token}");
        let reply = host.request(method, path, &[("authorization", &auth)], b"{}");
        let body = assert_problem(&reply, 503, "AUTH_NOT_CONFIGURED");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("尚未配置登录方式"),
            "{body}"
        );
    }
    // Development tokens are refused too: development mode must be set explicitly.
    let reply = host.get_auth("/api/v1/reports", &token);
    assert_problem(&reply, 503, "AUTH_NOT_CONFIGURED");
    // Public verification keeps working.
    let verified = host.post_json(
        "/api/v1/verify/code",
        &json!({"code": "ABCD-EFGH-JKMN"}),
        None,
    );
    assert_ne!(verified.status, 503, "{}", verified.text());
    assert_eq!(host.get("/api/v1/catalog").status, 200);

    // Development mode without a usable development token key is no way in either.
    let short = TestHost::start(
        HostOptions::product_without_sign_in()
            .variable("auth_mode", "development")
            .variable("development_token_public_key", "not a key"),
    );
    assert!(short.log().contains("DEVELOPMENT MODE"), "{}", short.log());
    assert_problem(
        &short.get_auth("/api/v1/reports", &token),
        503,
        "AUTH_NOT_CONFIGURED",
    );
}
