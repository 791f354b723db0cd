//! Every built component imports only interfaces a Spin 3.x host provides, and exports the
//! HTTP handler Spin calls. Reads `<target>/wasm32-wasip2/component/*.wasm`.

use integration_tests::component_dir;
use wasmparser::{Parser, Payload};

/// The top-level imports and exports of a component (not those of its nested modules).
fn interfaces(wasm: &[u8]) -> (Vec<String>, Vec<String>) {
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    let mut depth = 0;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.expect("a valid component") {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            Payload::ComponentImportSection(section) if depth == 1 => {
                imports.extend(
                    section
                        .into_iter()
                        .map(|i| i.expect("import").name.name.to_owned()),
                );
            }
            Payload::ComponentExportSection(section) if depth == 1 => {
                exports.extend(
                    section
                        .into_iter()
                        .map(|e| e.expect("export").name.name.to_owned()),
                );
            }
            _ => {}
        }
    }
    (imports, exports)
}

/// Interfaces of Spin 3.x's `platform` world (and the unversioned Spin 1 ones it still serves).
fn spin3_provides(import: &str) -> bool {
    let (path, version) = match import.split_once('@') {
        Some((path, version)) => (path, Some(version)),
        None => (import, None),
    };
    let Some((package, interface)) = path.split_once('/') else {
        return false;
    };
    match (package, version) {
        (
            "wasi:cli" | "wasi:clocks" | "wasi:filesystem" | "wasi:io" | "wasi:random"
            | "wasi:sockets" | "wasi:http",
            Some(v),
        ) => v.starts_with("0.2."),
        ("wasi:keyvalue", Some("0.2.0-draft2")) => {
            matches!(interface, "store" | "atomics" | "batch")
        }
        ("wasi:config", Some("0.2.0-draft-2024-09-27")) => interface == "store",
        ("fermyon:spin", Some("2.0.0")) => matches!(
            interface,
            "key-value"
                | "variables"
                | "llm"
                | "redis"
                | "mqtt"
                | "postgres"
                | "mysql"
                | "sqlite"
                | "rdbms-types"
        ),
        ("fermyon:spin", None) => matches!(
            interface,
            "config"
                | "http"
                | "http-types"
                | "key-value"
                | "llm"
                | "mysql"
                | "postgres"
                | "rdbms-types"
                | "redis"
                | "redis-types"
                | "sqlite"
        ),
        ("spin:postgres", Some("3.0.0" | "4.0.0")) => interface == "postgres",
        ("spin:sqlite", Some("3.0.0")) => interface == "sqlite",
        _ => false,
    }
}

#[test]
fn components_import_only_what_spin_3_provides() {
    let dir = component_dir();
    let mut components: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; build the components first (make components)",
                dir.display()
            )
        })
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    components.sort();
    assert!(
        components.iter().any(|p| p.ends_with("probe.wasm")),
        "no probe.wasm in {}: build the components first (make components)",
        dir.display()
    );

    let mut problems = Vec::new();
    for path in &components {
        let wasm = std::fs::read(path).unwrap();
        let (imports, exports) = interfaces(&wasm);
        let name = path.file_name().unwrap().to_string_lossy();
        for import in imports.iter().filter(|i| !spin3_provides(i)) {
            problems.push(format!(
                "{name} imports {import}, which Spin 3.x does not provide"
            ));
        }
        if !exports
            .iter()
            .any(|e| e.starts_with("wasi:http/incoming-handler@0.2."))
        {
            problems.push(format!(
                "{name} exports no wasi:http/incoming-handler@0.2.x (exports: {exports:?})"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_allow_list_rejects_what_spin_3_lacks() {
    assert!(spin3_provides("wasi:io/poll@0.2.6"));
    assert!(spin3_provides("fermyon:spin/key-value@2.0.0"));
    assert!(spin3_provides("wasi:keyvalue/atomics@0.2.0-draft2"));
    assert!(!spin3_provides("wasi:http/handler@0.3.0-rc-2026-01-06"));
    assert!(!spin3_provides("wasi:keyvalue/watcher@0.2.0-draft2"));
    assert!(!spin3_provides("spin:key-value/key-value@3.0.0"));
    assert!(!spin3_provides("example:thing/api@1.0.0"));
}
