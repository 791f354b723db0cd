//! What an uploaded file is, given its exact bytes: free of Spin, so the fuzz
//! target (fuzz/) runs this same code natively over a `MemoryStore`.

use chrono::{DateTime, Utc};
use credit_core::codes::hex;
use credit_core::error::Error;
use credit_core::inspect;
use credit_core::kv::KeyValue;
use credit_core::report::{FileClaim, FileVerification, Outcome};
use credit_core::store::Store;
use sha2::{Digest, Sha256};

/// Compares the upload's SHA-256 with the recorded ones; only a file that is
/// not an original is parsed (bounded), to name the report it claims to be.
/// A TAMPERED file that begins with the original's exact bytes is marked as
/// an appended incremental update.
pub fn verify_upload(
    kv: &(impl KeyValue + ?Sized),
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<FileVerification, Error> {
    let sha256 = hex(&Sha256::digest(bytes));
    let size = bytes.len() as u64;
    let store = Store::new(kv);
    let claims = if store.find_by_sha256(&sha256)?.is_some() {
        Vec::new()
    } else {
        file_claims(&inspect::claims(bytes))
    };
    let mut answer = store.verify_file(&sha256, size, &claims, now)?;
    if matches!(answer.verification.outcome, Outcome::Tampered { .. })
        && let Some(no) = &answer.claimed_report_no
        && let Some(original) = store.pdf_of(no)?
        && inspect::extends_original(bytes, original.size, &original.sha256)
    {
        answer.verification.mark_appended_update();
    }
    Ok(answer)
}

/// Every well-formed code, then every well-formed report number the file
/// names; malformed values name nothing.
fn file_claims(claims: &inspect::Claims) -> Vec<FileClaim> {
    let codes = claims
        .all_codes
        .iter()
        .filter_map(|c| c.parse().ok())
        .map(FileClaim::Code);
    let numbers = claims
        .all_report_nos
        .iter()
        .filter_map(|n| n.parse().ok())
        .map(FileClaim::ReportNo);
    codes.chain(numbers).collect()
}
