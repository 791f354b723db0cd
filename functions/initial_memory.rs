//! The components' build script: each is linked with an initial linear memory that holds what
//! its usual request uses, so an instance does not grow its memory on the common path.
//!
//! Why it matters: a pooled instance slot is handed to the next instance at the module's
//! initial size, so memory the previous instance grew is taken back with `mprotect`, whose TLB
//! shootdown interrupts every core, on every request. A verify-code one page short of its
//! need answered 10% fewer verifications (docs/decisions.md, "Each component starts with the
//! memory its requests use"). The web component keeps the linker's size: it serves its pages
//! from its data and never grows.

/// The components whose usual request needs more than [`DEFAULT_MIB`], in MiB.
const LARGER: &[(&str, u32)] = &[
    // A 5 MiB upload is held whole while it is hashed and inspected: 7 MiB.
    ("verify-file", 8),
    // The linked-in fonts take 6.4 MiB; a 30-page report renders within 7.6 MiB.
    ("generate", 8),
];

/// Above what a request to any other component uses: 1.1 to 1.6 MiB.
const DEFAULT_MIB: u32 = 2;

fn main() {
    println!("cargo:rerun-if-changed=../initial_memory.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() != Ok("wasm32") {
        return;
    }
    let package = std::env::var("CARGO_PKG_NAME").expect("cargo names the package");
    let mib = LARGER
        .iter()
        .find(|(name, _)| *name == package)
        .map_or(DEFAULT_MIB, |&(_, mib)| mib);
    // wasm-ld refuses a size below the component's data and stack: the build fails, it does
    // not shrink the component.
    println!("cargo:rustc-link-arg=--initial-memory={}", mib << 20);
}
