//! Public verification: by code, by a batch of codes, by the PDF file.
//!
//! A verifier is admitted against its per-minute limit before its request
//! body is read; every verification is audited (never the upload itself).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::audit;
use crate::codes::{VerificationCode, hex};
use crate::error::Error;
use crate::inspect;
use crate::kv::KeyValue;
use crate::pdf::sign::{self, Certificates};
use crate::report::{FileClaim, FileVerification, Outcome, Verification};
use crate::store::{Store, check_rate_limit};

use super::Visitor;

/// Codes per `POST /api/v1/verify/batch`.
pub const MAX_BATCH: usize = 100;

/// A verifier within its rate limit.
pub struct Verifier<'a, K: KeyValue + ?Sized> {
    kv: &'a K,
    visitor: Visitor,
    limit_per_minute: u32,
}

/// The answer to `POST /api/v1/verify/batch`: one item per submitted code,
/// in order, a verification or the problem with that item.
#[derive(Debug, Serialize)]
pub struct BatchVerification {
    pub results: Vec<BatchItem>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum BatchItem {
    Verified(Box<Verification>),
    Rejected { problem: Value },
}

impl<'a, K: KeyValue + ?Sized> Verifier<'a, K> {
    /// Counts one verification against the visitor's limit per minute:
    /// `RATE_LIMITED` once it is passed. Called before the request body is
    /// read, so a visitor over its limit costs no parsing.
    pub fn admit(kv: &'a K, visitor: Visitor, limit_per_minute: u32) -> Result<Self, Error> {
        check_rate_limit(
            kv,
            "verify",
            &visitor.client,
            1,
            limit_per_minute,
            visitor.now,
        )?;
        Ok(Verifier {
            kv,
            visitor,
            limit_per_minute,
        })
    }

    /// `{"code": "…"}`: VALID, EXPIRED, REVOKED or NOT_FOUND; a malformed
    /// code is an error.
    pub fn code(&self, body: &Value) -> Result<Verification, Error> {
        if !body.is_object() {
            return Err(Error::InvalidJson(
                "请求体应为 JSON 对象 {\"code\": \"…\"}".into(),
            ));
        }
        let code = parse_code(body.get("code").unwrap_or(&Value::Null))?;
        let verification = Store::new(self.kv).verify_code(&code, self.visitor.now)?;
        let mut entry = self
            .visitor
            .entry("verify.code", verification.outcome.code());
        if let Some(report) = &verification.report {
            entry = entry.target(&report.report_no);
        }
        audit::append(self.kv, &entry)?;
        Ok(verification)
    }

    /// `{"codes": [...]}`, at most [`MAX_BATCH`], answered in order; a
    /// malformed code is that item's problem. Every code counts against the
    /// visitor's limit, so a batch is no way around it.
    pub fn batch(&self, body: &Value) -> Result<BatchVerification, Error> {
        let Some(items) = body.get("codes").and_then(Value::as_array) else {
            return Err(Error::InvalidJson(
                "请求体应为 JSON 对象 {\"codes\": [\"…\"]}".into(),
            ));
        };
        if items.len() > MAX_BATCH {
            return Err(Error::TooManyItems { limit: MAX_BATCH });
        }
        if items.is_empty() {
            return Err(Error::InvalidField {
                field: "codes".into(),
                detail: "至少提交 1 个核验码".into(),
            });
        }
        // Admitted for one code; the others count now.
        let more = u32::try_from(items.len() - 1).unwrap_or(u32::MAX);
        if more > 0 {
            let (client, now) = (&self.visitor.client, self.visitor.now);
            check_rate_limit(self.kv, "verify", client, more, self.limit_per_minute, now)?;
        }
        // Every well-formed code is looked up together: two store round
        // trips for the whole batch.
        let parsed: Vec<Result<VerificationCode, Error>> = items.iter().map(parse_code).collect();
        let codes: Vec<VerificationCode> = parsed.iter().filter_map(|p| p.clone().ok()).collect();
        let mut verified = Store::new(self.kv)
            .verify_codes(&codes, self.visitor.now)?
            .into_iter();
        let mut results = Vec::with_capacity(parsed.len());
        let mut audited = Vec::with_capacity(parsed.len());
        for item in parsed {
            match item {
                Ok(_) => {
                    let verification = verified.next().ok_or_else(|| {
                        Error::Internal("a code of the batch was not answered".into())
                    })?;
                    audited.push(json!({
                        "outcome": verification.outcome.code(),
                        "report": verification.report.as_ref().map(|r| r.report_no.as_str()),
                    }));
                    results.push(BatchItem::Verified(Box::new(verification)));
                }
                Err(error) => {
                    audited.push(json!({ "outcome": error.code() }));
                    results.push(BatchItem::Rejected {
                        problem: error.to_problem(),
                    });
                }
            }
        }
        let entry = self
            .visitor
            .entry("verify.batch", &format!("{} codes", results.len()))
            .details(json!({ "results": audited }));
        audit::append(self.kv, &entry)?;
        Ok(BatchVerification { results })
    }

    /// An uploaded file, given its exact bytes, and the published seal
    /// certificates its signature is checked against.
    pub fn file(&self, bytes: &[u8], seal: &Certificates) -> Result<FileVerification, Error> {
        let answer = verify_upload(self.kv, bytes, self.visitor.now, seal)?;
        let target = answer
            .verification
            .report
            .as_ref()
            .map(|r| r.report_no.clone())
            .or_else(|| answer.claimed_report_no.clone());
        let mut entry = self
            .visitor
            .entry("verify.file", answer.verification.outcome.code())
            .details(json!({
                "sha256": answer.file.sha256,
                "size": answer.file.size,
                "signature_valid": answer.signature.valid,
            }));
        if let Some(no) = target {
            entry = entry.target(no);
        }
        audit::append(self.kv, &entry)?;
        Ok(answer)
    }
}

fn parse_code(raw: &Value) -> Result<VerificationCode, Error> {
    match raw {
        Value::String(s) => s.parse(),
        Value::Null => Err(Error::MissingField {
            field: "code".into(),
        }),
        _ => Err(Error::InvalidCode("核验码应为字符串".into())),
    }
}

/// What an uploaded file is, given its exact bytes. The upload's SHA-256 is
/// compared with the recorded ones: the pinned copy is the reference, and a
/// file that is that copy is answered from its hash alone (its signature
/// read as [`sign::facts_of_pinned`] does). Any other file is parsed
/// (bounded) for its signature, checked against `seal`, and,
/// when it is not an original, for the report it claims to be. A TAMPERED
/// file is marked as an appended incremental update when it begins with the
/// original's exact bytes or its signature no longer covers the whole file,
/// and as signed by another when its intact signature is not our seal. Not
/// audited: the fuzzer drives this directly.
pub fn verify_upload(
    kv: &(impl KeyValue + ?Sized),
    bytes: &[u8],
    now: DateTime<Utc>,
    seal: &Certificates,
) -> Result<FileVerification, Error> {
    let sha256 = hex(&Sha256::digest(bytes));
    let size = bytes.len() as u64;
    let store = Store::new(kv);
    let indexed = store.find_by_sha256(&sha256)?.is_some();
    if indexed {
        let mut answer = store.verify_file(&sha256, size, &[], now)?;
        if answer.file.matches_original {
            // The pinned copy itself: answered from its hash, never parsed.
            answer.signature = sign::facts_of_pinned(bytes, seal);
            return Ok(answer);
        }
    }
    let inspection = inspect::inspect(bytes);
    let claims = if indexed {
        Vec::new()
    } else {
        file_claims(&inspection.claims)
    };
    let mut answer = store.verify_file(&sha256, size, &claims, now)?;
    if let Some(dictionary) = &inspection.signature {
        answer.signature = sign::check(bytes, dictionary, seal);
    }
    if matches!(answer.verification.outcome, Outcome::Tampered { .. }) {
        let signature = &answer.signature;
        let appended = signature.valid && !signature.covers_whole_file
            || match &answer.claimed_report_no {
                Some(no) => store
                    .pdf_of(no)?
                    .is_some_and(|o| inspect::extends_original(bytes, o.size, &o.sha256)),
                None => false,
            };
        if appended {
            answer.verification.mark_appended_update();
        }
        if signature.valid && !signature.by_issuer {
            answer.verification.mark_signed_by_other();
        }
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
