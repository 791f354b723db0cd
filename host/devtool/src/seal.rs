//! The development seal: a CA and a seal certificate marked development-only
//! (`credit_core::pdf::sign::DEVELOPMENT_UNIT`), which the components accept
//! only with `auth_mode=development`. Made once per state folder, so reports
//! sealed in earlier runs still verify against it.

use std::path::Path;
use std::time::{Duration, Instant};

use credit_core::pdf::sample::{THREE_PAGES, sample_document};
use credit_core::pdf::sign::Seal;
use credit_core::pdf::sign::development::generate;
use credit_core::pdf::{Sealing, render, render_sealed};

use crate::pem_files;

pub const CA_FILE: &str = "seal-ca.pem";
pub const KEY_FILE: &str = "seal-key.pem";
pub const CHAIN_FILE: &str = "seal-chain.pem";

const CA_NAME: &str = "专用信用报告开发测试根证书（仅供开发）";
const SIGNER: &str = "永昌县发展和改革局（开发测试用）";

/// Writes the three PEM files into `dir` unless all are there; answers
/// what it did.
pub fn development_ca(dir: &Path) -> Result<String, String> {
    let made = pem_files::make_once(dir, [CA_FILE, KEY_FILE, CHAIN_FILE], || {
        let seal = generate(CA_NAME, SIGNER).map_err(|e| format!("generating the seal: {e}"))?;
        Ok([seal.ca_pem, seal.private_key_pem, seal.chain_pem])
    })?;
    Ok(if made {
        format!(
            "development seal made in {} (trust root for offline checks: {CA_FILE})",
            dir.display()
        )
    } else {
        format!("development seal kept in {}", dir.display())
    })
}

/// Medians of `runs` renderings of the sample report (about 4 pages), unsealed and sealed, as a
/// JSON line: the native cost of sealing, which `make bench` sets beside the component's.
pub fn cost(runs: u32) -> Result<String, String> {
    let material = generate(CA_NAME, SIGNER).map_err(|e| format!("generating the seal: {e}"))?;
    let seal = Seal::from_pem(&material.private_key_pem, &material.chain_pem, true)
        .map_err(|e| e.to_string())?;
    let sealing = Sealing {
        seal: &seal,
        signed_at: chrono::DateTime::parse_from_rfc3339("2026-11-29T10:00:00+08:00")
            .map_err(|e| e.to_string())?,
        certificates_url: "http://127.0.0.1:3000/api/v1/seal/certificates".into(),
    };
    let document = sample_document(THREE_PAGES);
    // The two renderings alternate, so that a burst on a shared machine slows both alike.
    let timed = |work: &dyn Fn() -> Result<Vec<u8>, String>| -> Result<(Duration, usize), String> {
        let start = Instant::now();
        let size = work()?.len();
        Ok((start.elapsed(), size))
    };
    let (mut unsealed_times, mut sealed_times) = (Vec::new(), Vec::new());
    let (mut unsealed_bytes, mut sealed_bytes) = (0, 0);
    for _ in 0..runs.max(1) {
        let (time, size) = timed(&|| render(&document).map_err(|e| e.to_string()))?;
        unsealed_times.push(time);
        unsealed_bytes = size;
        let (time, size) =
            timed(&|| render_sealed(&document, &sealing).map_err(|e| e.to_string()))?;
        sealed_times.push(time);
        sealed_bytes = size;
    }
    let median_ms = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2].as_secs_f64() * 1000.0
    };
    let (unsealed, sealed) = (median_ms(&mut unsealed_times), median_ms(&mut sealed_times));
    Ok(serde_json::json!({
        "runs": runs,
        "unsealed_ms": unsealed,
        "sealed_ms": sealed,
        "unsealed_bytes": unsealed_bytes,
        "sealed_bytes": sealed_bytes,
    })
    .to_string())
}
