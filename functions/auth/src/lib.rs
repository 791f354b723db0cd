//! Browser sign-in through the identity provider (authorization code flow
//! with PKCE, `credit_core::usecase::signin`):
//! `GET /auth/login?return_to=/apply.html` sends the browser to the
//! provider, `GET /auth/callback` opens the session, `POST /auth/logout`
//! ends it (here and at the provider), `GET /auth/session` says who is
//! signed in and which ways of signing in are offered.
//!
//! Login and callback are browser navigations: their failures are pages in
//! Chinese with a way back, not problem+json.

use credit_core::error::Error;
use credit_core::usecase::signin::{self, CALLBACK_PATH, Callback, SIGN_IN_SECS};
use platform::{
    Answer, OutboundHttp, SESSION_COOKIE, client_addr, cookie, json, now, query_param, store,
};
use spin_sdk::http::{Params, Request, Response, Router};
use spin_sdk::http_component;

/// Binds a sign-in's `state` to the browser that started it. SameSite=Lax:
/// the provider's redirect back is a cross-site navigation.
const SIGN_IN_COOKIE: &str = "credit_sign_in";

#[http_component]
fn handle(req: Request) -> Response {
    let mut router = Router::new();
    router.get("/auth/login", login);
    router.get(CALLBACK_PATH, callback);
    router.post("/auth/logout", logout);
    router.get("/auth/session", session);
    platform::refuse_the_rest(
        &mut router,
        &[
            ("/auth/login", "GET"),
            (CALLBACK_PATH, "GET"),
            ("/auth/logout", "POST"),
            ("/auth/session", "GET"),
        ],
    );
    router.handle(req)
}

fn login(req: Request, _: Params) -> Response {
    let started = (|| -> Result<_, Error> {
        signin::begin(
            &store()?,
            &OutboundHttp,
            &platform::settings()?.auth,
            query_param(&req, "return_to").as_deref(),
            now(),
        )
    })();
    match started {
        Ok(start) => redirect(&start.location)
            .header(
                "set-cookie",
                format!(
                    "{SIGN_IN_COOKIE}={}; Path={CALLBACK_PATH}; HttpOnly; Secure; SameSite=Lax; Max-Age={SIGN_IN_SECS}",
                    start.state
                ),
            )
            .build(),
        Err(error) => error_page(&error),
    }
}

fn callback(req: Request, _: Params) -> Response {
    let answer = Callback {
        code: query_param(&req, "code"),
        state: query_param(&req, "state"),
        error: query_param(&req, "error"),
        error_description: query_param(&req, "error_description"),
        state_cookie: cookie(&req, SIGN_IN_COOKIE).map(str::to_owned),
    };
    let signed_in = (|| -> Result<_, Error> {
        let settings = platform::settings()?;
        signin::complete(
            &store()?,
            &OutboundHttp,
            &settings.auth,
            platform::variable("oidc_client_secret").as_deref(),
            &answer,
            &client_addr(&req, &settings),
            now(),
        )
    })();
    // Spin's response holds one value per header name, so a success sets
    // the session cookie only; the sign-in cookie then expires by itself,
    // its state already used up.
    let clear_attempt = format!(
        "{SIGN_IN_COOKIE}=; Path={CALLBACK_PATH}; HttpOnly; Secure; SameSite=Lax; Max-Age=0"
    );
    match signed_in {
        Ok(session) => redirect(&session.return_to)
            .header(
                "set-cookie",
                format!(
                    "{SESSION_COOKIE}={}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
                    session.session_id, session.max_age_secs
                ),
            )
            .build(),
        Err(error) => {
            let mut page = error_page(&error);
            page.set_header("set-cookie", clear_attempt);
            page
        }
    }
}

/// Answers JSON with where to go next (the provider's logout, or the front
/// page): the page navigates there itself, as the pages' CSP lets forms
/// post only to this site.
fn logout(req: Request, _: Params) -> Answer {
    let settings = platform::settings()?;
    let location = signin::end(
        &store()?,
        &settings.auth,
        cookie(&req, SESSION_COOKIE),
        &client_addr(&req, &settings),
        now(),
    )?;
    let mut answer = json(200, &LogoutAnswer { location })?;
    answer.set_header(
        "set-cookie",
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0"),
    );
    Ok(answer)
}

#[derive(serde::Serialize)]
struct LogoutAnswer {
    location: String,
}

fn session(req: Request, _: Params) -> Answer {
    json(
        200,
        &signin::view(
            &store()?,
            &platform::settings()?.auth,
            cookie(&req, SESSION_COOKIE),
            now(),
        )?,
    )
}

fn redirect(location: &str) -> spin_sdk::http::ResponseBuilder {
    let mut builder = Response::builder();
    builder
        .status(303)
        .header("location", location)
        .header("cache-control", "no-store");
    builder
}

/// A failed sign-in as a page: what happened, in Chinese, and the ways
/// back. Internal causes go to the log only.
fn error_page(error: &Error) -> Response {
    if let Some(cause) = error.cause() {
        eprintln!("sign-in {}: {cause}", error.code());
    }
    let detail = html_escape::encode_text(&error.to_string()).into_owned();
    let body = format!(
        r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>登录未成功 - 专用信用报告服务</title><link rel="stylesheet" href="/app.css"></head>
<body><main class="page narrow"><h1>登录未成功</h1>
<p class="error" id="sign-in-error" data-code="{code}">{detail}</p>
<p><a href="/auth/login?return_to=/apply.html">重新登录</a> · <a href="/apply.html">返回申请页</a> · <a href="/">返回首页</a></p>
</main></body></html>
"#,
        code = error.code(),
    );
    Response::builder()
        .status(error.status())
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .header(
            "content-security-policy",
            "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'",
        )
        .body(body)
        .build()
}
