//! Verification: by code (one or many, in two store round trips) and by an
//! uploaded file's hash and what it claims to be.

use chrono::{DateTime, Utc};

use super::{Store, from_json, keys};
use crate::codes::{ReportNo, VerificationCode};
use crate::error::Error;
use crate::kv::KeyValue;
use crate::pdf::sign::SignatureFacts;
use crate::report::{
    FileClaim, FileFacts, FileVerification, Outcome, Report, Revocation, Verification,
};

impl<K: KeyValue + ?Sized> Store<'_, K> {
    /// The report number a code's digest points to (not yet compared with
    /// the report's own code).
    fn report_no_for_code(&self, code: &VerificationCode) -> Result<Option<ReportNo>, Error> {
        Ok(self
            .kv
            .get(&keys::report_by_code(code))?
            .and_then(|no| String::from_utf8_lossy(&no).parse().ok()))
    }

    /// The report a code belongs to. The lookup is by the code's digest and
    /// the stored code is compared in constant time.
    pub fn find_by_code(&self, code: &VerificationCode) -> Result<Option<Report>, Error> {
        let Some(no) = self.report_no_for_code(code)? else {
            return Ok(None);
        };
        Ok(self
            .get_report(&no)?
            .filter(|r| r.verification_code.matches(code)))
    }

    pub fn find_by_sha256(&self, sha256: &str) -> Result<Option<ReportNo>, Error> {
        let Ok(sha256) = normalize_sha256(sha256) else {
            return Ok(None);
        };
        Ok(self
            .kv
            .get(&keys::report_by_pdf(&sha256))?
            .and_then(|b| String::from_utf8_lossy(&b).parse().ok()))
    }

    /// Verifies by code: VALID, EXPIRED, REVOKED or NOT_FOUND. Two store
    /// round trips: the code lookup, then the report with its status.
    pub fn verify_code(
        &self,
        code: &VerificationCode,
        now: DateTime<Utc>,
    ) -> Result<Verification, Error> {
        self.verify_codes(std::slice::from_ref(code), now)?
            .pop()
            .ok_or_else(|| Error::Internal("no verification answered".into()))
    }

    /// Verifies each code as [`Store::verify_code`] does, answered in order,
    /// with the same two round trips for the whole list: every code lookup
    /// in one `get_many`, then every report with its status in another.
    pub fn verify_codes(
        &self,
        codes: &[VerificationCode],
        now: DateTime<Utc>,
    ) -> Result<Vec<Verification>, Error> {
        let code_keys: Vec<String> = codes.iter().map(keys::report_by_code).collect();
        let numbers: Vec<Option<ReportNo>> = self
            .get_many_raw(&code_keys)?
            .into_iter()
            .map(|no| no.and_then(|no| String::from_utf8_lossy(&no).parse().ok()))
            .collect();
        let keys: Vec<String> = numbers
            .iter()
            .flatten()
            .flat_map(|no| [keys::report(no), keys::report_status(no)])
            .collect();
        let values = self.get_many_raw(&keys)?;
        let mut pairs = keys.chunks_exact(2).zip(values.chunks_exact(2));
        let mut out = Vec::with_capacity(codes.len());
        for (code, no) in codes.iter().zip(&numbers) {
            let pair = if no.is_some() { pairs.next() } else { None };
            let mut answer = Verification::new(Outcome::NotFound, None);
            if let Some(([report_key, status_key], [Some(report), status])) = pair {
                let report: Report = from_json(report_key, report)?;
                if report.verification_code.matches(code) {
                    let status: Option<Revocation> = status
                        .as_ref()
                        .map(|b| from_json(status_key, b))
                        .transpose()?;
                    answer = Verification::of_authentic(&report, status, now);
                }
            }
            out.push(answer);
        }
        Ok(out)
    }

    /// Verifies an uploaded file by the SHA-256 of its exact bytes, then by
    /// what it claims to be: identical bytes → VALID / EXPIRED / REVOKED;
    /// different bytes naming one of our reports → TAMPERED; else
    /// UNRECOGNIZED. A claim by report number alone identifies the report
    /// but does not disclose its summary (numbers are sequential).
    pub fn verify_file(
        &self,
        sha256: &str,
        size: u64,
        claims: &[FileClaim],
        now: DateTime<Utc>,
    ) -> Result<FileVerification, Error> {
        let sha = normalize_sha256(sha256)?;
        let file = |matches_original| FileFacts {
            sha256: sha.clone(),
            size,
            matches_original,
        };
        if let Some(no) = self.find_by_sha256(&sha)?
            && let Some(report) = self.get_report(&no)?
            && self
                .pdf_of(&no)?
                .is_some_and(|p| p.sha256 == sha && p.size == size)
        {
            let status = self.report_status(&no)?;
            return Ok(FileVerification {
                verification: Verification::of_authentic(&report, status, now),
                file: file(true),
                signature: SignatureFacts::default(),
                claimed_report_no: None,
            });
        }
        for claim in claims {
            if let FileClaim::Code(code) = claim
                && let Some(report) = self.find_by_code(code)?
            {
                return Ok(FileVerification {
                    verification: Verification::new(
                        Outcome::Tampered {
                            appended_update: false,
                            signed_by_other: false,
                        },
                        Some(report.summary()),
                    ),
                    file: file(false),
                    signature: SignatureFacts::default(),
                    claimed_report_no: Some(report.report_no),
                });
            }
        }
        for claim in claims {
            if let FileClaim::ReportNo(no) = claim
                && self.get_report(no)?.is_some()
            {
                return Ok(FileVerification {
                    verification: Verification::new(
                        Outcome::Tampered {
                            appended_update: false,
                            signed_by_other: false,
                        },
                        None,
                    ),
                    file: file(false),
                    signature: SignatureFacts::default(),
                    claimed_report_no: Some(no.clone()),
                });
            }
        }
        Ok(FileVerification {
            verification: Verification::new(Outcome::Unrecognized, None),
            file: file(false),
            signature: SignatureFacts::default(),
            claimed_report_no: None,
        })
    }
}

fn normalize_sha256(hex: &str) -> Result<String, Error> {
    let lower = hex.trim().to_ascii_lowercase();
    if lower.len() == 64 && lower.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(lower)
    } else {
        Err(Error::InvalidField {
            field: "sha256".into(),
            detail: "应为 64 位十六进制 SHA-256".into(),
        })
    }
}
