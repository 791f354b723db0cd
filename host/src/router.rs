//! Spin 3 routing: `routefinder` semantics (exact > `:param` > trailing wildcard, segment by
//! segment), `/...` as the trailing wildcard, and the `spin-*` request headers Spin sets.

use std::net::SocketAddr;

use anyhow::{Result, anyhow};

use crate::manifest::HttpRoute;

#[derive(Debug)]
struct Handler {
    /// Index of the component in the app's component list.
    component: usize,
    /// The route as written in the manifest (Spin's "raw" and "based" route: Spin 3 has no base).
    raw_route: String,
}

pub struct Router {
    inner: routefinder::Router<Handler>,
}

/// What a path resolved to.
pub struct RouteMatch<'a> {
    pub component: usize,
    raw_route: &'a str,
    params: Vec<(String, String)>,
    path_info: String,
}

impl Router {
    /// `component_index` maps a component id to its index.
    pub fn build(
        routes: &[HttpRoute],
        component_index: impl Fn(&str) -> Option<usize>,
    ) -> Result<Self> {
        let mut inner = routefinder::Router::new();
        for r in routes {
            let component = component_index(&r.component).ok_or_else(|| {
                anyhow!(
                    "route {} refers to unknown component {}",
                    r.route,
                    r.component
                )
            })?;
            let normalized = normalize(&r.route);
            let spec = match normalized.strip_suffix("/...") {
                Some(prefix) => format!("{prefix}/*"),
                None => normalized,
            };
            inner
                .add(
                    spec.as_str(),
                    Handler {
                        component,
                        raw_route: r.route.clone(),
                    },
                )
                .map_err(|e| anyhow!("invalid route {}: {e}", r.route))?;
        }
        Ok(Self { inner })
    }

    pub fn route<'a>(&'a self, path: &str) -> Option<RouteMatch<'a>> {
        let m = self.inner.best_match(path)?;
        let captures = m.captures();
        // Spin keeps the trailing slash routefinder drops, and a leading one.
        let path_info = match (captures.wildcard(), path.ends_with('/')) {
            (None, _) => String::new(),
            (Some(""), false) => String::new(),
            (Some(""), true) => "/".to_owned(),
            (Some(w), false) => format!("/{w}"),
            (Some(w), true) => format!("/{w}/"),
        };
        let handler = m.handler();
        Some(RouteMatch {
            component: handler.component,
            raw_route: &handler.raw_route,
            params: captures
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            path_info,
        })
    }
}

/// Absolute, without one trailing slash (as Spin sanitizes routes).
fn normalize(route: &str) -> String {
    let absolute = if route.starts_with('/') {
        route.to_owned()
    } else {
        format!("/{route}")
    };
    match absolute.strip_suffix('/') {
        Some(stripped) => stripped.to_owned(),
        None => absolute,
    }
}

impl RouteMatch<'_> {
    /// Spin's request headers for this match, lowercase names.
    pub fn spin_headers(
        &self,
        scheme: &str,
        host: &str,
        path_and_query: &str,
        client: SocketAddr,
    ) -> Vec<(String, String)> {
        let component_route = self
            .raw_route
            .strip_suffix("/...")
            .unwrap_or(self.raw_route);
        let mut headers = vec![
            ("spin-path-info".to_owned(), self.path_info.clone()),
            (
                "spin-full-url".to_owned(),
                format!("{scheme}://{host}{path_and_query}"),
            ),
            ("spin-matched-route".to_owned(), self.raw_route.to_owned()),
            ("spin-base-path".to_owned(), "/".to_owned()),
            (
                "spin-raw-component-route".to_owned(),
                self.raw_route.to_owned(),
            ),
            (
                "spin-component-route".to_owned(),
                component_route.to_owned(),
            ),
            ("spin-client-addr".to_owned(), client.to_string()),
        ];
        for (name, value) in &self.params {
            // Spin derives the header from SPIN_PATH_MATCH_<NAME>: `_` becomes `-`.
            let header = format!(
                "spin-path-match-{}",
                name.to_ascii_lowercase().replace('_', "-")
            );
            headers.push((header, value.clone()));
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, usize)]) -> Router {
        let routes: Vec<HttpRoute> = routes
            .iter()
            .map(|(r, c)| HttpRoute {
                route: (*r).to_owned(),
                component: c.to_string(),
            })
            .collect();
        Router::build(&routes, |id| id.parse().ok()).unwrap()
    }

    #[test]
    fn most_specific_route_wins() {
        let r = router(&[
            ("/...", 0),
            ("/api/v1/reports/...", 1),
            ("/api/v1/reports/:report_no/pdf", 2),
            ("/api/v1/catalog", 3),
        ]);
        let component = |p: &str| r.route(p).map(|m| m.component);
        assert_eq!(component("/api/v1/catalog"), Some(3));
        assert_eq!(component("/api/v1/catalog/x"), Some(0));
        assert_eq!(component("/api/v1/reports"), Some(1));
        assert_eq!(component("/api/v1/reports/R1"), Some(1));
        assert_eq!(component("/api/v1/reports/R1/pdf"), Some(2));
        assert_eq!(component("/"), Some(0));
    }

    #[test]
    fn no_route_is_none() {
        let r = router(&[("/a", 0)]);
        assert!(r.route("/b").is_none());
    }

    #[test]
    fn headers_follow_spin() {
        let r = router(&[("/foo/:user_id/...", 0)]);
        let m = r.route("/foo/42/bar/").unwrap();
        let h = m.spin_headers(
            "http",
            "h:1",
            "/foo/42/bar/?q=1",
            "127.0.0.1:9".parse().unwrap(),
        );
        let get = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("spin-path-info"), Some("/bar/"));
        assert_eq!(get("spin-full-url"), Some("http://h:1/foo/42/bar/?q=1"));
        assert_eq!(get("spin-component-route"), Some("/foo/:user_id"));
        assert_eq!(get("spin-raw-component-route"), Some("/foo/:user_id/..."));
        assert_eq!(get("spin-path-match-user-id"), Some("42"));
    }
}
