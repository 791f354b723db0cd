//! The parts of a Spin manifest (v2) and of a Spin runtime-config file that this host honours.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct RawManifest {
    spin_manifest_version: u32,
    #[serde(default)]
    variables: BTreeMap<String, RawVariable>,
    #[serde(default)]
    trigger: RawTriggers,
    #[serde(default)]
    component: BTreeMap<String, RawComponent>,
}

#[derive(Debug, Default, Deserialize)]
struct RawTriggers {
    #[serde(default)]
    http: Vec<RawHttpTrigger>,
}

#[derive(Debug, Deserialize)]
struct RawHttpTrigger {
    route: RawRoute,
    component: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawRoute {
    Path(String),
    Private { private: bool },
}

#[derive(Debug, Deserialize)]
struct RawVariable {
    default: Option<String>,
    #[serde(default)]
    required: bool,
}

#[derive(Debug, Deserialize)]
struct RawComponent {
    source: String,
    #[serde(default)]
    key_value_stores: Vec<String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

/// One `[component.X]`, with its variables resolved and its source made absolute.
#[derive(Debug, Clone)]
pub struct ComponentConfig {
    pub id: String,
    pub source: PathBuf,
    pub key_value_stores: Vec<String>,
    /// `allowed_outbound_hosts`, templates resolved against the application variables.
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variable name -> resolved value.
    pub variables: HashMap<String, String>,
}

/// A `[[trigger.http]]` with a public route.
#[derive(Debug, Clone)]
pub struct HttpRoute {
    pub route: String,
    pub component: String,
}

#[derive(Debug)]
pub struct App {
    pub components: Vec<ComponentConfig>,
    pub routes: Vec<HttpRoute>,
}

/// Loads the manifest, resolving variables against `env` (the process environment in production).
pub fn load(path: &Path, env: &HashMap<String, String>) -> Result<App> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading manifest {}", path.display()))?;
    let raw: RawManifest =
        toml::from_str(&text).with_context(|| format!("parsing manifest {}", path.display()))?;
    if raw.spin_manifest_version != 2 {
        bail!("only spin_manifest_version = 2 is supported");
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let app_vars = resolve_app_variables(&raw.variables, env)?;

    let mut components = Vec::new();
    for (id, c) in &raw.component {
        let mut variables = HashMap::new();
        for (name, template) in &c.variables {
            validate_variable_name(name)
                .with_context(|| format!("component {id}: variable {name:?}"))?;
            let value = expand_template(template, &app_vars)
                .with_context(|| format!("component {id}: variable {name}"))?;
            variables.insert(name.clone(), value);
        }
        let allowed_outbound_hosts = c
            .allowed_outbound_hosts
            .iter()
            .map(|entry| expand_template(entry, &app_vars))
            .collect::<Result<_>>()
            .with_context(|| format!("component {id}: allowed_outbound_hosts"))?;
        components.push(ComponentConfig {
            id: id.clone(),
            source: base.join(&c.source),
            key_value_stores: c.key_value_stores.clone(),
            allowed_outbound_hosts,
            variables,
        });
    }

    let mut routes = Vec::new();
    for t in raw.trigger.http {
        if !raw.component.contains_key(&t.component) {
            bail!(
                "trigger route refers to unknown component {:?}",
                t.component
            );
        }
        match t.route {
            RawRoute::Path(route) => routes.push(HttpRoute {
                route,
                component: t.component,
            }),
            RawRoute::Private { private: true } => {}
            RawRoute::Private { private: false } => {
                bail!(
                    "component {}: route must be a string or {{ private = true }}",
                    t.component
                )
            }
        }
    }
    Ok(App { components, routes })
}

fn resolve_app_variables(
    declared: &BTreeMap<String, RawVariable>,
    env: &HashMap<String, String>,
) -> Result<HashMap<String, String>> {
    let mut resolved = HashMap::new();
    let mut missing = Vec::new();
    for (name, var) in declared {
        validate_variable_name(name)?;
        if var.required && var.default.is_some() {
            bail!("variable {name} is both required and has a default");
        }
        let from_env = env.get(&format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()));
        match from_env.or(var.default.as_ref()) {
            Some(value) => {
                resolved.insert(name.clone(), value.clone());
            }
            None => missing.push(format!(
                "{name} (set SPIN_VARIABLE_{})",
                name.to_ascii_uppercase()
            )),
        }
    }
    if !missing.is_empty() {
        bail!("required variables have no value: {}", missing.join(", "));
    }
    Ok(resolved)
}

/// Spin's rule: lowercase ASCII letters, digits and underscores, starting with a letter.
pub fn validate_variable_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        bail!(
            "invalid variable name {name:?}: use lowercase letters, digits and '_', starting with a letter"
        );
    }
    Ok(())
}

/// Expands `{{ name }}` references to application variables.
fn expand_template(template: &str, vars: &HashMap<String, String>) -> Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .with_context(|| format!("unclosed '{{{{' in {template:?}"))?;
        let name = after[..end].trim();
        let value = vars
            .get(name)
            .with_context(|| format!("template refers to undeclared variable {name:?}"))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Where the key-value store labels live, from a Spin runtime-config file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StoreBackend {
    Sqlite(PathBuf),
    Redis(String),
}

#[derive(Debug, Default, Deserialize)]
struct RawRuntimeConfig {
    #[serde(default)]
    key_value_store: BTreeMap<String, RawStore>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum RawStore {
    Spin { path: Option<PathBuf> },
    Redis { url: String },
}

/// The backend of every store label: `default` is `<state_dir>/sqlite_key_value.db` unless the
/// runtime config says otherwise. Relative paths are relative to the runtime-config file, as in Spin.
pub fn load_stores(
    runtime_config: Option<&Path>,
    state_dir: &Path,
) -> Result<HashMap<String, StoreBackend>> {
    let default_db = state_dir.join("sqlite_key_value.db");
    let mut stores = HashMap::from([(
        "default".to_owned(),
        StoreBackend::Sqlite(default_db.clone()),
    )]);
    let Some(path) = runtime_config else {
        return Ok(stores);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading runtime config {}", path.display()))?;
    let raw: RawRuntimeConfig = toml::from_str(&text)
        .with_context(|| format!("parsing runtime config {}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    for (label, store) in raw.key_value_store {
        let backend = match store {
            RawStore::Spin { path: Some(p) } => StoreBackend::Sqlite(base.join(p)),
            RawStore::Spin { path: None } => StoreBackend::Sqlite(default_db.clone()),
            RawStore::Redis { url } => StoreBackend::Redis(url),
        };
        stores.insert(label, backend);
    }
    Ok(stores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_and_reject_unknown_names() {
        let vars = HashMap::from([("a".to_owned(), "1".to_owned())]);
        assert_eq!(expand_template("x{{ a }}y{{a}}", &vars).unwrap(), "x1y1");
        assert!(expand_template("{{ b }}", &vars).is_err());
    }

    #[test]
    fn environment_overrides_defaults_and_fills_required() {
        let declared: BTreeMap<String, RawVariable> =
            toml::from_str("a = { default = \"1\" }\nb = { required = true }").unwrap();
        let env = HashMap::from([("SPIN_VARIABLE_B".to_owned(), "2".to_owned())]);
        let vars = resolve_app_variables(&declared, &env).unwrap();
        assert_eq!((vars["a"].as_str(), vars["b"].as_str()), ("1", "2"));
        let err = resolve_app_variables(&declared, &HashMap::new()).unwrap_err();
        assert!(err.to_string().contains("SPIN_VARIABLE_B"), "{err}");
    }
}
