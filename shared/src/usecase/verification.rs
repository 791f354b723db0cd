//! Public verification: by code, by a batch of codes, by the PDF file.
//!
//! A verifier is counted against its per-minute limit (and the ceiling of
//! visitors per minute) first; every admitted request writes one access-log
//! entry at the slot its counter names, whatever its outcome (a malformed
//! body too), never the upload itself. Store operations: the rate-limit
//! increment (plus the visitor counter on a client's first request of the
//! minute), one lookup, one `set_many` with the entry.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::audit::access::{self, VERIFY_SCOPE};
use crate::codes::{ReportNo, VerificationCode};
use crate::error::Error;
use crate::inspect;
use crate::kv::KeyValue;
use crate::pdf::sign::{self, PublishedChain, SignatureFacts};
use crate::report::{FileClaim, FileFacts, FileVerification, Outcome, Verification};
use crate::store::{Admission, Limits, Store, admit};
use crate::upload::Upload;

use super::Visitor;

/// Codes per `POST /api/v1/verify/batch`.
pub const MAX_BATCH: usize = 100;

/// A verifier, before and after its admission.
pub struct Verifier<'a, K: KeyValue + ?Sized> {
    kv: &'a K,
    visitor: Visitor,
    limits: Limits,
}

/// The answer to `POST /api/v1/verify/batch`: one item per submitted code,
/// in order, a verification or the problem with that item.
#[derive(Debug, Serialize)]
pub struct BatchVerification {
    pub results: Vec<BatchItem>,
}

/// One code's answer, with where it stood in the request (`index`, from 0
/// as everywhere in the API) and the code itself when it was well formed.
#[derive(Debug, Serialize)]
pub struct BatchItem {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(flatten)]
    pub answer: BatchAnswer,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum BatchAnswer {
    Verified(Box<Verification>),
    Rejected { problem: Value },
}

/// The `RateLimit-Policy` and `RateLimit` headers of a verification answer
/// (draft-ietf-httpapi-ratelimit-headers): the quota per 60 s window, what
/// remains of it and the seconds until it resets.
pub fn rate_limit_headers(
    limit: u32,
    remaining: u64,
    reset_secs: u64,
) -> [(&'static str, String); 2] {
    [
        (
            "ratelimit-policy",
            format!("\"{VERIFY_SCOPE}\";q={limit};w=60"),
        ),
        (
            "ratelimit",
            format!("\"{VERIFY_SCOPE}\";r={remaining};t={reset_secs}"),
        ),
    ]
}

impl Admission {
    /// This admitted request's rate-limit headers.
    pub fn headers(&self) -> [(&'static str, String); 2] {
        rate_limit_headers(self.limit, self.remaining(), self.reset_secs)
    }
}

/// The cost of a batch body: its number of codes (at least 1, at most
/// one over [`MAX_BATCH`], which is refused whole).
pub fn batch_cost(body: &Result<Value, Error>) -> u32 {
    let codes = body
        .as_ref()
        .ok()
        .and_then(|b| b.get("codes"))
        .and_then(Value::as_array)
        .map_or(1, Vec::len);
    codes.clamp(1, MAX_BATCH + 1) as u32
}

impl<'a, K: KeyValue + ?Sized> Verifier<'a, K> {
    pub fn new(kv: &'a K, visitor: Visitor, limits: Limits) -> Self {
        Verifier {
            kv,
            visitor,
            limits,
        }
    }

    /// Counts `cost` verifications against the visitor's limit per minute
    /// and the ceiling of visitors: `RATE_LIMITED` or `TOO_MANY_VISITORS` once
    /// passed. A single code and a file are admitted before their body is
    /// read, so a refused visitor costs no parsing.
    pub fn admit(&self, cost: u32) -> Result<Admission, Error> {
        admit(
            self.kv,
            VERIFY_SCOPE,
            &self.visitor.client,
            cost,
            self.limits,
            self.visitor.now,
        )
    }

    /// Writes the access entry of an admitted request with `result`'s
    /// outcome (a verification outcome or an error code), then hands the
    /// result on.
    fn logged<T>(
        &self,
        admission: &Admission,
        action: &str,
        result: Result<T, Error>,
        describe: impl FnOnce(&T, crate::audit::AuditEntry) -> crate::audit::AuditEntry,
        outcome: impl FnOnce(&T) -> String,
    ) -> Result<T, Error> {
        let entry = match &result {
            Ok(answer) => describe(answer, self.visitor.entry(action, &outcome(answer))),
            Err(error) => self.visitor.entry(action, error.code()),
        };
        access::record(self.kv, admission, entry)?;
        result
    }

    /// `{"code": "…"}`: VALID, EXPIRED, REVOKED or NOT_FOUND; a malformed
    /// code is an error.
    pub fn code(
        &self,
        admission: &Admission,
        body: Result<Value, Error>,
    ) -> Result<Verification, Error> {
        let result = body.and_then(|body| {
            if !body.is_object() {
                return Err(Error::InvalidJson(
                    "请求体应为 JSON 对象 {\"code\": \"…\"}".into(),
                ));
            }
            let code = parse_code(body.get("code").unwrap_or(&Value::Null))?;
            Store::new(self.kv).verify_code(&code, self.visitor.now)
        });
        self.logged(
            admission,
            "verify.code",
            result,
            |verification, entry| match &verification.report {
                Some(report) => entry.target(&report.report_no),
                None => entry,
            },
            |verification| verification.outcome.code().to_owned(),
        )
    }

    /// `{"codes": [...]}`, at most [`MAX_BATCH`], answered in order; a
    /// malformed code is that item's problem. Admitted for its number of
    /// codes ([`batch_cost`]), so a batch is no way around the limit.
    pub fn batch(
        &self,
        admission: &Admission,
        body: Result<Value, Error>,
    ) -> Result<BatchVerification, Error> {
        let result = body.and_then(|body| self.verify_batch(&body));
        self.logged(
            admission,
            "verify.batch",
            result,
            |(_, audited), entry| entry.details(json!({ "results": audited })),
            |(answer, _)| format!("{} codes", answer.results.len()),
        )
        .map(|(answer, _)| answer)
    }

    fn verify_batch(&self, body: &Value) -> Result<(BatchVerification, Vec<Value>), Error> {
        // The same mistakes answer as they do for one code: not an object is bad JSON, no
        // `codes` a missing field, anything but an array a bad one.
        let Some(fields) = body.as_object() else {
            return Err(Error::InvalidJson(
                "请求体应为 JSON 对象 {\"codes\": [\"…\"]}".into(),
            ));
        };
        let Some(codes) = fields.get("codes") else {
            return Err(Error::MissingField {
                field: "codes".into(),
            });
        };
        let Some(items) = codes.as_array() else {
            return Err(Error::InvalidField {
                field: "codes".into(),
                detail: "应为核验码数组，如 [\"…\"]".into(),
            });
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
        // Every well-formed code is looked up together: one store round
        // trip for the whole batch.
        let parsed: Vec<Result<VerificationCode, Error>> = items.iter().map(parse_code).collect();
        let codes: Vec<VerificationCode> = parsed.iter().filter_map(|p| p.clone().ok()).collect();
        let mut verified = Store::new(self.kv)
            .verify_codes(&codes, self.visitor.now)?
            .into_iter();
        let mut results = Vec::with_capacity(parsed.len());
        let mut audited = Vec::with_capacity(parsed.len());
        for (index, item) in parsed.into_iter().enumerate() {
            match item {
                Ok(code) => {
                    let verification = verified.next().ok_or_else(|| {
                        Error::Internal("a code of the batch was not answered".into())
                    })?;
                    audited.push(json!({
                        "outcome": verification.outcome.code(),
                        "report": verification.report.as_ref().map(|r| r.report_no.as_str()),
                    }));
                    results.push(BatchItem {
                        index,
                        code: Some(code.to_string()),
                        answer: BatchAnswer::Verified(Box::new(verification)),
                    });
                }
                Err(error) => {
                    audited.push(json!({ "outcome": error.code() }));
                    results.push(BatchItem {
                        index,
                        code: None,
                        answer: BatchAnswer::Rejected {
                            problem: error.to_problem(),
                        },
                    });
                }
            }
        }
        Ok((BatchVerification { results }, audited))
    }

    /// An uploaded file (or why it could not be read), and the published
    /// chain its signature is checked against.
    pub fn file(
        &self,
        admission: &Admission,
        upload: Result<Upload, Error>,
        published: &PublishedChain,
    ) -> Result<FileVerification, Error> {
        let result =
            upload.and_then(|upload| verify_upload(self.kv, &upload, self.visitor.now, published));
        self.logged(
            admission,
            "verify.file",
            result,
            |answer, entry| {
                let entry = entry.details(json!({
                    "sha256": answer.file.sha256,
                    "size": answer.file.size,
                    "signature_valid": answer.signature.valid,
                }));
                match answer
                    .verification
                    .report
                    .as_ref()
                    .map(|r| r.report_no.clone())
                    .or_else(|| answer.claimed_report_no.clone())
                {
                    Some(no) => entry.target(no),
                    None => entry,
                }
            },
            |answer| answer.verification.outcome.code().to_owned(),
        )
    }
}

pub(crate) fn parse_code(raw: &Value) -> Result<VerificationCode, Error> {
    match raw {
        Value::String(s) => s.parse(),
        Value::Null => Err(Error::MissingField {
            field: "code".into(),
        }),
        _ => Err(Error::InvalidCode("核验码应为字符串".into())),
    }
}

/// What an uploaded file is, given its exact bytes. The upload's SHA-256
/// (taken as it was read) is compared with the recorded ones: the pinned
/// copy is the reference, and a file that is that copy is answered from its
/// hash alone, with the signature facts recorded when it was pinned while
/// the same chain is `published` (else read as [`sign::facts_of_pinned`]
/// does). Any other file is parsed (bounded) for its signature, checked
/// against the `published` chain, and,
/// when it is not an original, for the report it claims to be. A TAMPERED
/// file is marked as an appended incremental update when it begins with the
/// original's exact bytes or its signature no longer covers the whole file,
/// and as signed by another when its intact signature is not our seal. Not
/// audited: the fuzzer drives this directly.
pub fn verify_upload(
    kv: &(impl KeyValue + ?Sized),
    upload: &Upload,
    now: DateTime<Utc>,
    published: &PublishedChain,
) -> Result<FileVerification, Error> {
    let bytes = upload.bytes();
    let sha256 = upload.sha256();
    let size = bytes.len() as u64;
    let store = Store::new(kv);
    if let Some(genuine) = store.verify_genuine_file(sha256, size, now)? {
        // The pinned copy itself: answered from its hash (one read), never
        // parsed.
        let mut answer = genuine.answer;
        answer.signature = match genuine
            .pinned_signature
            .as_ref()
            .and_then(|pinned| pinned.read_against(published))
        {
            Some(facts) => facts.clone(),
            None => sign::facts_of_pinned(bytes, &published.certificates()?),
        };
        return Ok(answer);
    }
    let ours = published.certificates()?;
    // The report the file names near its start and that report's pinned
    // PDF, read once for both the cut-short and the appended-update checks.
    let leading = match inspect::leading_report_no(bytes).and_then(|no| no.parse::<ReportNo>().ok())
    {
        Some(no) => {
            let pinned = store.pdf_of(&no)?;
            Some((no, pinned))
        }
        None => None,
    };
    if let Some((no, Some(pinned))) = &leading
        && store.is_truncated_copy(no, pinned, bytes)?
    {
        return Ok(incomplete(no, sha256, size));
    }
    let inspection = inspect::inspect(bytes);
    let mut answer = store.verify_claims(sha256, size, &file_claims(&inspection.claims))?;
    if let Some(dictionary) = &inspection.signature {
        answer.signature = sign::check(bytes, dictionary, &ours);
    }
    if matches!(answer.verification.outcome, Outcome::Tampered { .. }) {
        let signature = &answer.signature;
        let appended = signature.valid && !signature.covers_whole_file
            || match &answer.claimed_report_no {
                Some(no) => {
                    let original = match &leading {
                        Some((leading_no, pinned)) if leading_no == no => pinned.clone(),
                        _ => store.pdf_of(no)?,
                    };
                    original.is_some_and(|o| inspect::extends_original(bytes, o.size, &o.sha256))
                }
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

/// INCOMPLETE: the file names a report near its start (the XMP packet
/// reports write first) and is exactly the start of that report's pinned
/// PDF, a download cut short, answered before any parsing.
fn incomplete(report_no: &ReportNo, sha256: &str, size: u64) -> FileVerification {
    FileVerification {
        verification: Verification::incomplete(report_no),
        file: FileFacts {
            sha256: sha256.to_owned(),
            size,
            matches_original: false,
        },
        signature: SignatureFacts::default(),
        claimed_report_no: Some(report_no.clone()),
    }
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
