#!/usr/bin/env python3
"""Checks deploy/spinkube/ against spin.toml: every file is valid YAML of the expected kinds,
the SpinApp names only variables spin.toml declares and sets every required one, every secret
variable comes from the variables Secret and nowhere else, no development-only one is set,
that Secret holds only placeholders, and the runtime-config Secret selects Redis for `default`."""
import pathlib
import sys
import tomllib

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "spinkube"
# For auth_mode=development only: never part of a production deployment.
DEVELOPMENT_ONLY = {"development_token_public_key"}


def load(name):
    docs = list(yaml.safe_load_all((DEPLOY / name).read_text(encoding="utf-8")))
    assert len(docs) == 1, f"{name}: expected one document"
    return docs[0]


def main():
    spin = tomllib.loads((ROOT / "spin.toml").read_text(encoding="utf-8"))
    declared = spin["variables"]
    secrets = {n for n, v in declared.items() if v.get("secret")}
    required = {n for n, v in declared.items() if v.get("required")}

    app = load("spinapp.yaml")
    assert app["apiVersion"] == "core.spinkube.dev/v1alpha1" and app["kind"] == "SpinApp", app
    spec = app["spec"]
    assert spec["image"] and spec["executor"] and spec["replicas"] >= 2, spec
    variables = {v["name"]: v for v in spec["variables"]}
    assert len(variables) == len(spec["variables"]), "a variable is set twice"
    unknown = set(variables) - set(declared)
    assert not unknown, f"the SpinApp sets variables spin.toml does not declare: {sorted(unknown)}"
    assert not set(variables) & DEVELOPMENT_ONLY, "a development-only variable in production"
    missing = required - set(variables)
    assert not missing, f"required variables not set: {sorted(missing)}"

    secret = load("variables-secret.yaml")
    assert secret["kind"] == "Secret", secret
    secret_name = secret["metadata"]["name"]
    assert set(secret["stringData"]) == secrets, (
        f"the variables Secret must hold exactly the secret variables {sorted(secrets)}")
    for key, value in secret["stringData"].items():
        assert value.startswith("REPLACE-"), f"{key}: only placeholders belong in the repository"
    for name in secrets:
        ref = variables.get(name, {}).get("valueFrom", {}).get("secretKeyRef")
        assert ref == {"name": secret_name, "key": name}, f"{name} must come from {secret_name}"
        assert "value" not in variables[name], f"{name} is a secret: no inline value"

    runtime = load("runtime-config-secret.yaml")
    assert runtime["kind"] == "Secret", runtime
    assert spec["runtimeConfig"]["loadFromSecret"] == runtime["metadata"]["name"]
    config = tomllib.loads(runtime["stringData"]["runtime-config.toml"])
    store = config["key_value_store"]["default"]
    assert store["type"] == "redis" and store["url"].startswith("redis"), store

    print(f"deploy/spinkube: valid; {len(variables)} variables, all declared in spin.toml; "
          f"secrets {sorted(secrets)} from {secret_name}; key-value store in Redis")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        sys.exit(f"deploy/spinkube: {e}")
