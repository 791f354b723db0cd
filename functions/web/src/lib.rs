//! Static web pages: the public verification page, the applicant page, the department desk and
//! the figures (the collection accountability list and the usage charts).
//!
//! Every asset is embedded at build time (see build.rs), so serving is a table lookup: no file
//! system, no network, nothing that can fail at run time.

use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;

/// One embedded file, addressed by its URL path.
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    /// Quoted strong validator derived from the file's SHA-256.
    pub etag: &'static str,
    pub body: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// Pages carry no fingerprint in their names, so every response is revalidated; the ETag makes
/// that a cheap 304.
const CACHE_CONTROL: &str = "no-cache";

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

const NOT_FOUND_PAGE: &str = r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>页面不存在 - 专用信用报告服务</title><link rel="stylesheet" href="/app.css"></head>
<body><main class="page narrow"><h1>页面不存在</h1>
<p>您访问的地址没有对应的页面，请检查地址是否正确。</p>
<p><a href="/">返回专用信用报告核验</a></p></main></body></html>
"#;

const API_NOT_FOUND: &str = r#"{"type":"about:blank","title":"Not Found","status":404,"code":"NOT_FOUND","detail":"没有这个接口，请核对请求地址"}"#;

/// What to answer, independent of the Spin types so it can be tested natively.
#[derive(Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: &'static [u8],
}

/// Decides the answer for a request. Never fails: every input maps to a reply.
pub fn serve(method: &str, path: &str, if_none_match: Option<&str>) -> Reply {
    if path.starts_with("/api/") {
        return Reply {
            status: 404,
            headers: vec![("content-type", "application/problem+json".to_owned())],
            body: API_NOT_FOUND.as_bytes(),
        };
    }
    let head = method.eq_ignore_ascii_case("HEAD");
    if !head && !method.eq_ignore_ascii_case("GET") {
        return Reply {
            status: 405,
            headers: vec![
                ("allow", "GET, HEAD".to_owned()),
                ("content-type", "text/plain; charset=utf-8".to_owned()),
            ],
            body: "只支持 GET 和 HEAD 请求".as_bytes(),
        };
    }
    let mut headers = vec![
        ("x-content-type-options", "nosniff".to_owned()),
        (
            "content-security-policy",
            CONTENT_SECURITY_POLICY.to_owned(),
        ),
        ("referrer-policy", "no-referrer".to_owned()),
    ];
    let Some(asset) = find(path) else {
        headers.push(("content-type", "text/html; charset=utf-8".to_owned()));
        headers.push(("cache-control", CACHE_CONTROL.to_owned()));
        return Reply {
            status: 404,
            headers,
            body: if head { b"" } else { NOT_FOUND_PAGE.as_bytes() },
        };
    };
    headers.push(("etag", asset.etag.to_owned()));
    headers.push(("cache-control", CACHE_CONTROL.to_owned()));
    if if_none_match.is_some_and(|tags| etag_matches(tags, asset.etag)) {
        return Reply {
            status: 304,
            headers,
            body: b"",
        };
    }
    headers.push(("content-type", asset.content_type.to_owned()));
    Reply {
        status: 200,
        headers,
        body: if head { b"" } else { asset.body },
    }
}

fn find(path: &str) -> Option<&'static Asset> {
    let lookup = |p: &str| ASSETS.iter().find(|a| a.path == p);
    match path {
        "/" => lookup("/index.html"),
        _ => lookup(path).or_else(|| {
            // Extensionless page addresses (/apply, /desk) are friendlier to type and to print.
            let page = format!("{}.html", path.trim_end_matches('/'));
            lookup(&page).filter(|a| a.content_type.starts_with("text/html"))
        }),
    }
}

/// RFC 9110 If-None-Match: a list of entity tags or `*`, compared weakly.
fn etag_matches(header: &str, etag: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let method = match req.method() {
        Method::Get => "GET",
        Method::Head => "HEAD",
        _ => "OTHER",
    };
    // spin-sdk gives an empty path when the URI does not parse; the raw URI then still names it.
    let path = match req.path() {
        "" => req.uri().split(['?', '#']).next().unwrap_or_default(),
        path => path,
    };
    let reply = serve(
        method,
        path,
        req.header("if-none-match").and_then(|v| v.as_str()),
    );
    let mut response = Response::builder();
    response.status(reply.status);
    for (name, value) in reply.headers {
        response.header(name, value);
    }
    Ok(response.body(reply.body.to_vec()).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
        reply
            .headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn root_serves_the_verification_page_as_html() {
        let reply = serve("GET", "/", None);
        assert_eq!(reply.status, 200);
        assert_eq!(
            header(&reply, "content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(
            std::str::from_utf8(reply.body)
                .unwrap()
                .contains("请输入专用信用报告封面右上方的核验码")
        );
    }

    #[test]
    fn every_page_script_and_stylesheet_is_embedded_with_its_type() {
        for (path, ty) in [
            ("/apply.html", "text/html; charset=utf-8"),
            ("/desk.html", "text/html; charset=utf-8"),
            ("/guide.html", "text/html; charset=utf-8"),
            ("/js/guide.js", "text/javascript; charset=utf-8"),
            ("/app.css", "text/css; charset=utf-8"),
            ("/js/common.js", "text/javascript; charset=utf-8"),
            ("/js/verify.js", "text/javascript; charset=utf-8"),
            ("/js/apply.js", "text/javascript; charset=utf-8"),
            ("/js/desk.js", "text/javascript; charset=utf-8"),
            ("/js/csv.js", "text/javascript; charset=utf-8"),
            ("/embed.js", "text/javascript; charset=utf-8"),
            ("/embed-example.html", "text/html; charset=utf-8"),
            ("/stats-collection.html", "text/html; charset=utf-8"),
            ("/stats-usage.html", "text/html; charset=utf-8"),
            ("/js/stats-collection.js", "text/javascript; charset=utf-8"),
            ("/js/stats-usage.js", "text/javascript; charset=utf-8"),
        ] {
            let reply = serve("GET", path, None);
            assert_eq!(reply.status, 200, "{path}");
            assert_eq!(header(&reply, "content-type"), Some(ty), "{path}");
        }
    }

    #[test]
    fn every_page_links_the_guides_in_its_navigation() {
        for page in [
            "/index.html",
            "/apply.html",
            "/desk.html",
            "/guide.html",
            "/stats-collection.html",
            "/stats-usage.html",
        ] {
            let body = String::from_utf8_lossy(serve("GET", page, None).body).into_owned();
            let nav = &body[body.find("<nav").unwrap()..body.find("</nav>").unwrap()];
            assert!(nav.contains(r#"<a href="/guide.html""#), "{page}");
        }
    }

    #[test]
    fn extensionless_page_address_serves_the_page() {
        assert_eq!(
            serve("GET", "/apply", None).body,
            serve("GET", "/apply.html", None).body
        );
    }

    #[test]
    fn matching_etag_is_answered_not_modified_without_body() {
        let first = serve("GET", "/app.css", None);
        let etag = header(&first, "etag").unwrap().to_owned();
        let again = serve("GET", "/app.css", Some(&format!("\"other\", W/{etag}")));
        assert_eq!(again.status, 304);
        assert!(again.body.is_empty());
        assert_eq!(serve("GET", "/app.css", Some("\"other\"")).status, 200);
    }

    #[test]
    fn head_gives_the_headers_of_get_without_body() {
        let get = serve("GET", "/desk.html", None);
        let head = serve("HEAD", "/desk.html", None);
        assert_eq!(head.status, 200);
        assert_eq!(head.headers, get.headers);
        assert!(head.body.is_empty());
    }

    #[test]
    fn unknown_path_is_a_chinese_404_page() {
        let reply = serve("GET", "/no/such/page", None);
        assert_eq!(reply.status, 404);
        assert!(
            std::str::from_utf8(reply.body)
                .unwrap()
                .contains("页面不存在")
        );
        assert_eq!(serve("GET", "/app.css.html", None).status, 404);
    }

    #[test]
    fn unknown_api_path_is_problem_json() {
        let reply = serve("POST", "/api/v1/nothing", None);
        assert_eq!(reply.status, 404);
        assert_eq!(
            header(&reply, "content-type"),
            Some("application/problem+json")
        );
    }

    #[test]
    fn writes_are_refused_with_allow() {
        let reply = serve("POST", "/", None);
        assert_eq!(reply.status, 405);
        assert_eq!(header(&reply, "allow"), Some("GET, HEAD"));
    }

    #[test]
    fn no_page_loads_anything_from_another_origin() {
        for asset in ASSETS {
            // The SVG namespace is a name, not an address anything is fetched from.
            let text =
                String::from_utf8_lossy(asset.body).replace("http://www.w3.org/2000/svg", "");
            assert!(
                !text.contains("http://") && !text.contains("https://") && !text.contains("\"//"),
                "{} refers to another origin",
                asset.path
            );
        }
    }
}
