//! The real OpenID Provider of the sign-in tests (`tests/oidc/provider.mjs`, the npm
//! `oidc-provider`), started on a loopback port and stopped on drop, and a [`Browser`]: an HTTP
//! client that keeps cookies and does not follow redirects, to walk the sign-in by hand.
//!
//! ```no_run
//! use integration_tests::oidc::TestProvider;
//! let port = TestProvider::free_port();
//! // ... start the host with oidc_issuer = TestProvider::issuer_at(port) ...
//! let provider = TestProvider::start(port, "https://credit.example.test");
//! ```

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;
use ureq::http;

use crate::{Reply, workspace_dir};

/// How long the provider may take to listen (Node starts in well under a second).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Every client secret of the test provider is `<client id>-secret`.
pub fn client_secret(client_id: &str) -> String {
    format!("{client_id}-secret")
}

/// A running test provider. Stopped on drop.
pub struct TestProvider {
    child: Option<Child>,
    port: u16,
    service_url: String,
    scratch: TempDir,
}

impl TestProvider {
    /// A free loopback port, to give the host its issuer before the provider starts.
    pub fn free_port() -> u16 {
        crate::free_port()
    }

    pub fn issuer_at(port: u16) -> String {
        format!("http://127.0.0.1:{port}")
    }

    /// Starts the provider on `port` for a service reached at `service_url` (its redirect URI
    /// is `<service_url>/auth/callback`).
    pub fn start(port: u16, service_url: &str) -> TestProvider {
        let mut provider = TestProvider {
            child: None,
            port,
            service_url: service_url.to_owned(),
            scratch: tempfile::tempdir().expect("creating a temporary folder"),
        };
        provider.spawn();
        provider
    }

    fn spawn(&mut self) {
        let dir = workspace_dir().join("tests/oidc");
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "tests/oidc/node_modules is missing: run `make setup` (npm ci in tests/oidc)"
        );
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .args(["--port", &self.port.to_string()])
            .args(["--service-url", &self.service_url])
            .arg("--export-key")
            .arg(self.key_file())
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("starting node tests/oidc/provider.mjs ({e}): `make setup`")
            });
        let stdout = child.stdout.take().expect("stdout is piped");
        let (ready, listening) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                eprintln!("[provider] {line}");
                if line.contains("listening on") {
                    let _ = ready.send(());
                }
            }
        });
        self.child = Some(child);
        if listening.recv_timeout(START_TIMEOUT).is_err() {
            self.stop();
            panic!(
                "the test provider did not listen on port {} within {START_TIMEOUT:?}",
                self.port
            );
        }
    }

    fn key_file(&self) -> PathBuf {
        self.scratch.path().join("signing-key.json")
    }

    /// Stops the provider: it is down until [`TestProvider::restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, with a new signing key: a key rotation.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    pub fn issuer(&self) -> String {
        Self::issuer_at(self.port)
    }

    /// The provider's current signing key: `(kid, PKCS#8 DER)`, for forging tokens with it.
    pub fn signing_key(&self) -> (String, Vec<u8>) {
        use base64::Engine;
        let text = std::fs::read_to_string(self.key_file()).expect("the provider exported its key");
        let key: Value = serde_json::from_str(&text).expect("key file is JSON");
        let der = base64::engine::general_purpose::STANDARD
            .decode(key["pkcs8_der_base64"].as_str().expect("pkcs8_der_base64"))
            .expect("base64");
        (key["kid"].as_str().expect("kid").to_owned(), der)
    }

    /// An access token from the token endpoint for a client-credentials client.
    pub fn client_credentials_token(&self, client_id: &str) -> String {
        let reply = Browser::new().post_form(
            &format!("{}/token", self.issuer()),
            &[("grant_type", "client_credentials")],
            Some((client_id, &client_secret(client_id))),
        );
        assert_eq!(reply.status, 200, "token for {client_id}: {}", reply.text());
        reply.json()["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An HTTP client that keeps cookies (by name, whatever their host: every server here is on
/// 127.0.0.1, where cookies ignore the port as browsers do) and leaves redirects to the caller.
pub struct Browser {
    agent: ureq::Agent,
    pub cookies: BTreeMap<String, String>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Browser {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Browser {
            agent,
            cookies: BTreeMap::new(),
        }
    }

    pub fn get(&mut self, url: &str) -> Reply {
        self.send("GET", url, &[], Vec::new())
    }

    pub fn post_form(
        &mut self,
        url: &str,
        fields: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let authorization = basic.map(|(user, password)| {
            use base64::Engine;
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )
        });
        let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
        headers.extend(authorization.iter().map(|a| ("authorization", a.as_str())));
        self.send("POST", url, &headers, body.into_bytes())
    }

    /// Any request, with the cookies kept so far; keeps the cookies the answer sets.
    pub fn send(
        &mut self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let mut builder = http::Request::builder().method(method).uri(url);
        if !self.cookies.is_empty() {
            builder = builder.header("cookie", self.cookie_header());
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let mut response = self
            .agent
            .run(builder.body(body).expect("valid request"))
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let reply = Reply {
            status: response.status().as_u16(),
            headers: response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: response.body_mut().read_to_vec().unwrap_or_default(),
        };
        for (name, value) in &reply.headers {
            if name != "set-cookie" {
                continue;
            }
            let pair = value.split(';').next().unwrap_or_default();
            let Some((key, val)) = pair.split_once('=') else {
                continue;
            };
            let removed = value.to_ascii_lowercase().contains("max-age=0") || val.is_empty();
            if removed {
                self.cookies.remove(key.trim());
            } else {
                self.cookies
                    .insert(key.trim().to_owned(), val.trim().to_owned());
            }
        }
        reply
    }

    /// The `Cookie` header of every cookie kept.
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The `Location` of a redirect, made absolute against `base`.
    pub fn location(reply: &Reply, base: &str) -> String {
        assert!(
            (300..400).contains(&reply.status),
            "expected a redirect, got {}: {}",
            reply.status,
            reply.text()
        );
        let location = reply.header("location").expect("a Location header");
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_owned()
        } else {
            format!("{}{location}", base.trim_end_matches('/'))
        }
    }
}
