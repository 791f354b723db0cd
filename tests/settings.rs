//! The settings table (`credit_core::config::SETTINGS`), spin.toml and the
//! README say the same: every setting is an application variable with the
//! table's default, every component that reads settings declares all of
//! them, and the README's configuration table lists each with its default.

use std::collections::BTreeMap;

use credit_core::config::SETTINGS;
use integration_tests::workspace_dir;

fn manifest() -> toml::Table {
    let text =
        std::fs::read_to_string(workspace_dir().join("spin.toml")).expect("reading spin.toml");
    toml::from_str(&text).expect("spin.toml is TOML")
}

fn table() -> BTreeMap<&'static str, &'static str> {
    SETTINGS.iter().map(|s| (s.name, s.default)).collect()
}

#[test]
fn spin_toml_declares_every_setting_with_the_tables_default_and_nothing_else_unexplained() {
    let manifest = manifest();
    let variables = manifest["variables"].as_table().expect("[variables]");
    let mut declared = BTreeMap::new();
    for (name, spec) in variables {
        if spec.get("secret").and_then(toml::Value::as_bool) == Some(true) {
            continue;
        }
        let default = spec["default"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: default"));
        declared.insert(name.as_str(), default);
    }
    let table = table();
    assert_eq!(
        declared.keys().collect::<Vec<_>>(),
        table.keys().collect::<Vec<_>>(),
        "spin.toml [variables] (secrets aside) and the settings table name different settings"
    );
    for (name, default) in &table {
        assert_eq!(
            declared[name], *default,
            "{name}: spin.toml default differs from the table"
        );
    }
}

#[test]
fn every_component_that_reads_settings_declares_all_of_them() {
    let manifest = manifest();
    let components = manifest["component"].as_table().expect("[component.*]");
    let mut readers = 0;
    for (name, component) in components {
        let source_dir = workspace_dir().join("functions").join(name).join("src");
        let reads_settings = std::fs::read_dir(&source_dir)
            .unwrap_or_else(|e| panic!("{}: {e}", source_dir.display()))
            .filter_map(Result::ok)
            .any(|file| {
                std::fs::read_to_string(file.path())
                    .is_ok_and(|source| source.contains("platform::settings()"))
            });
        if !reads_settings {
            continue;
        }
        readers += 1;
        let variables = component
            .get("variables")
            .and_then(toml::Value::as_table)
            .unwrap_or_else(|| panic!("component {name} reads settings but declares no variables"));
        for setting in SETTINGS {
            let expected = format!("{{{{ {} }}}}", setting.name);
            assert_eq!(
                variables.get(setting.name).and_then(toml::Value::as_str),
                Some(expected.as_str()),
                "component {name} reads settings but does not declare {}",
                setting.name
            );
        }
    }
    assert!(
        readers >= 4,
        "only {readers} components read settings: is the marker still platform::settings()?"
    );
}

#[test]
fn the_readme_prints_every_setting_with_its_default() {
    let readme = std::fs::read_to_string(workspace_dir().join("README.md")).expect("README.md");
    let rows: BTreeMap<String, String> = readme
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            // | `name` | `default` | allowed | meaning |
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let default = cells.get(2)?.trim_matches('`');
            Some((name.to_owned(), default.to_owned()))
        })
        .filter(|(name, _)| SETTINGS.iter().any(|s| s.name == name) || name.ends_with("_secret"))
        .collect();
    for setting in SETTINGS {
        assert_eq!(
            rows.get(setting.name).map(String::as_str),
            Some(if setting.default.is_empty() {
                ""
            } else {
                setting.default
            }),
            "README's configuration table: row for {}",
            setting.name
        );
    }
}

/// The sign-in settings (`auth_mode`, `oidc_*`, `development_token_public_key`) and the base URL
/// the redirect URI is made of.
fn sign_in_settings() -> Vec<&'static str> {
    SETTINGS
        .iter()
        .map(|s| s.name)
        .filter(|name| {
            name.starts_with("auth_")
                || name.starts_with("oidc_")
                || name.starts_with("development_")
                || *name == "public_base_url"
        })
        .collect()
}

#[test]
fn every_component_that_authenticates_declares_the_sign_in_variables_and_only_the_providers_host() {
    let manifest = manifest();
    let components = manifest["component"].as_table().expect("[component.*]");
    let mut authenticating = Vec::new();
    for (name, component) in components {
        let source_dir = workspace_dir().join("functions").join(name).join("src");
        let authenticates = std::fs::read_dir(&source_dir)
            .unwrap_or_else(|e| panic!("{}: {e}", source_dir.display()))
            .filter_map(Result::ok)
            .any(|file| {
                std::fs::read_to_string(file.path()).is_ok_and(|source| {
                    source.contains("caller(")
                        || source.contains("api_client(")
                        || source.contains("OutboundHttp")
                })
            });
        let outbound = component
            .get("allowed_outbound_hosts")
            .and_then(toml::Value::as_array)
            .map(|hosts| {
                hosts
                    .iter()
                    .filter_map(toml::Value::as_str)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        if !authenticates {
            assert!(
                outbound.is_empty(),
                "component {name} calls no provider but may reach {outbound:?}"
            );
            continue;
        }
        authenticating.push(name.clone());
        // Components that revoke reports or read the feed also post webhooks (docs/integration.md).
        let expected: &[&str] = if ["records", "disputes", "subscriptions"].contains(&name.as_str())
        {
            &["{{ oidc_issuer_host }}", "{{ webhook_host }}"]
        } else {
            &["{{ oidc_issuer_host }}"]
        };
        assert_eq!(
            outbound, expected,
            "component {name} authenticates: it may reach the identity provider (and webhook receivers) and nothing else"
        );
        let variables = component
            .get("variables")
            .and_then(toml::Value::as_table)
            .unwrap_or_else(|| panic!("component {name} authenticates but declares no variables"));
        for setting in sign_in_settings() {
            assert_eq!(
                variables.get(setting).and_then(toml::Value::as_str),
                Some(format!("{{{{ {setting} }}}}").as_str()),
                "component {name} authenticates but does not declare {setting}"
            );
        }
    }
    for expected in [
        "auth",
        "request",
        "generate",
        "records",
        "disputes",
        "subscriptions",
    ] {
        assert!(
            authenticating.iter().any(|n| n == expected),
            "{expected} authenticates: {authenticating:?}"
        );
    }
}

/// No secret has a default (docs/security.md, "Secrets"): every secret is `required = true`, so
/// the application does not start without a value, and every required variable is a secret.
#[test]
fn no_secret_has_a_default() {
    let manifest = manifest();
    let variables = manifest["variables"].as_table().expect("[variables]");
    let mut required = Vec::new();
    for (name, spec) in variables {
        let secret = spec.get("secret").and_then(toml::Value::as_bool) == Some(true);
        let is_required = spec.get("required").and_then(toml::Value::as_bool) == Some(true);
        let default = spec.get("default").and_then(toml::Value::as_str);
        assert_eq!(
            secret, is_required,
            "{name}: secret and required go together"
        );
        if is_required {
            assert_eq!(default, None, "{name} is required and has a default");
            required.push(name.as_str());
        }
    }
    required.sort();
    assert_eq!(
        required,
        [
            "oidc_client_secret",
            "seal_certificate_chain_pem",
            "seal_private_key_pem"
        ]
    );
}
