//! Verification: by code (one or many, in one store round trip) and by an
//! uploaded file's hash (one round trip for a genuine file) and what it
//! claims to be.
//!
//! The code index `code/{sha256(code)}` and the file index `pdf/{sha256}`
//! carry the answer ([`AnswerIndex`]: the summary and the revocation), so a
//! verification reads one key. Whatever changes an answer rewrites them:
//! [`Store::revoke`] (every revocation path goes through it) and pinning a
//! PDF. Indexes written before they carried the answer hold a bare report
//! number and are answered from the report and its status, as before.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, from_json, keys, to_json};
use crate::codes::{ReportNo, VerificationCode};
use crate::error::Error;
use crate::kv::KeyValue;
use crate::pdf::sign::{PinnedSignature, SignatureFacts};
use crate::report::{
    Channel, FileClaim, FileFacts, FileVerification, Outcome, PdfFingerprint, Report,
    ReportSummary, Revocation, Verification,
};

/// What a verification by code, or of a genuine file, answers: kept in the
/// index entry so the answer costs one read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerIndex {
    pub summary: ReportSummary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<Revocation>,
    /// The file index only: the pinned file's size (its SHA-256 is the key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The file index only: the pinned file's signature facts, when they
    /// were recorded at pinning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<PinnedSignature>,
}

impl AnswerIndex {
    /// The entry for `report` as it answers now; with its pinned file's
    /// facts for the file index.
    pub fn of(
        report: &Report,
        revocation: Option<Revocation>,
        pdf: Option<&PdfFingerprint>,
    ) -> AnswerIndex {
        AnswerIndex {
            summary: report.summary(),
            revocation,
            size: pdf.map(|pdf| pdf.size),
            signature: pdf.and_then(|pdf| pdf.signature.clone()),
        }
    }
}

/// A genuine file's answer, and the signature facts recorded when it was
/// pinned (absent on files pinned before they were).
#[derive(Debug)]
pub struct GenuineFile {
    pub answer: FileVerification,
    pub pinned_signature: Option<PinnedSignature>,
}

/// An index entry as read: the answer, or a bare report number written
/// before the index carried it.
enum Indexed {
    Answer(Box<AnswerIndex>),
    Legacy(ReportNo),
}

fn indexed(key: &str, bytes: &[u8]) -> Result<Option<Indexed>, Error> {
    if bytes.first() == Some(&b'{') {
        return Ok(Some(Indexed::Answer(Box::new(from_json(key, bytes)?))));
    }
    Ok(String::from_utf8_lossy(bytes)
        .parse()
        .ok()
        .map(Indexed::Legacy))
}

impl<K: KeyValue + ?Sized> Store<'_, K> {
    /// The report a code belongs to. The lookup is by the code's digest and
    /// the stored code is compared in constant time.
    pub fn find_by_code(&self, code: &VerificationCode) -> Result<Option<Report>, Error> {
        let key = keys::report_by_code(code);
        let no = match self.kv.get(&key)?.map(|b| indexed(&key, &b)).transpose()? {
            Some(Some(Indexed::Answer(answer))) => answer.summary.report_no,
            Some(Some(Indexed::Legacy(no))) => no,
            _ => return Ok(None),
        };
        Ok(self
            .get_report(&no)?
            .filter(|r| r.verification_code.matches(code)))
    }

    pub fn find_by_sha256(&self, sha256: &str) -> Result<Option<ReportNo>, Error> {
        let Ok(sha256) = normalize_sha256(sha256) else {
            return Ok(None);
        };
        let key = keys::report_by_pdf(&sha256);
        Ok(
            match self.kv.get(&key)?.map(|b| indexed(&key, &b)).transpose()? {
                Some(Some(Indexed::Answer(answer))) => Some(answer.summary.report_no),
                Some(Some(Indexed::Legacy(no))) => Some(no),
                _ => None,
            },
        )
    }

    /// Rewrites the report's answer indexes (by code; by file once pinned)
    /// from its snapshot, status and fingerprint: after anything that
    /// changes its answer. One read, one `set_many`.
    ///
    /// A revocation is permanent: when this wrote an unrevoked answer, the
    /// status is read again, and a revocation made meanwhile (whose own
    /// rewrite may have landed first) is written over it.
    pub(crate) fn refresh_answer_indexes(&self, report_no: &ReportNo) -> Result<(), Error> {
        if !self.write_answer_indexes(report_no)? && self.report_status(report_no)?.is_some() {
            self.write_answer_indexes(report_no)?;
        }
        Ok(())
    }

    /// Writes the answer indexes as the report answers now; returns whether
    /// they say revoked.
    fn write_answer_indexes(&self, report_no: &ReportNo) -> Result<bool, Error> {
        let keys = [
            keys::report(report_no),
            keys::report_status(report_no),
            keys::pdf_fingerprint(report_no),
        ];
        let values = self.get_many_raw(&keys)?;
        let [Some(report), status, pdf] = values.as_slice() else {
            return Ok(false);
        };
        let report: Report = from_json(&keys[0], report)?;
        let revocation: Option<Revocation> = status
            .as_ref()
            .map(|b| from_json(&keys[1], b))
            .transpose()?;
        let revoked = revocation.is_some();
        let pdf: Option<PdfFingerprint> =
            pdf.as_ref().map(|b| from_json(&keys[2], b)).transpose()?;
        let mut writes = vec![(
            keys::report_by_code(&report.verification_code),
            to_json(&AnswerIndex::of(&report, revocation.clone(), None))?,
        )];
        if let Some(pdf) = pdf {
            writes.push((
                keys::report_by_pdf(&pdf.sha256),
                to_json(&AnswerIndex::of(&report, revocation, Some(&pdf)))?,
            ));
        }
        self.kv.set_many(&writes)?;
        Ok(revoked)
    }

    /// Verifies by code: VALID, EXPIRED, REVOKED or NOT_FOUND. One store
    /// round trip: the code's index entry carries the answer.
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
    /// with one `get_many` for the whole list (a second one only for codes
    /// indexed before the index carried the answer).
    pub fn verify_codes(
        &self,
        codes: &[VerificationCode],
        now: DateTime<Utc>,
    ) -> Result<Vec<Verification>, Error> {
        let code_keys: Vec<String> = codes.iter().map(keys::report_by_code).collect();
        let found: Vec<Option<Indexed>> = code_keys
            .iter()
            .zip(self.get_many_raw(&code_keys)?)
            .map(|(key, value)| Ok(value.map(|b| indexed(key, &b)).transpose()?.flatten()))
            .collect::<Result<_, Error>>()?;
        let legacy: Vec<ReportNo> = found
            .iter()
            .filter_map(|f| match f {
                Some(Indexed::Legacy(no)) => Some(no.clone()),
                _ => None,
            })
            .collect();
        let legacy_reports = if legacy.is_empty() {
            Vec::new()
        } else {
            self.reports_with_status(&legacy)?
        };
        let mut out = Vec::with_capacity(codes.len());
        for (code, found) in codes.iter().zip(found) {
            let answer = match found {
                Some(Indexed::Answer(index)) => {
                    Verification::of_summary(index.summary, index.revocation, now, Channel::Code)
                }
                Some(Indexed::Legacy(no)) => legacy_reports
                    .iter()
                    .find(|(r, _)| r.report_no == no && r.verification_code.matches(code))
                    .map(|(r, status)| {
                        Verification::of_authentic(r, status.clone(), now, Channel::Code)
                    })
                    .unwrap_or_else(|| Verification::new(Outcome::NotFound, None, Channel::Code)),
                None => Verification::new(Outcome::NotFound, None, Channel::Code),
            };
            out.push(answer);
        }
        Ok(out)
    }

    /// A genuine file's answer from its hash alone (one read), or None when
    /// the hash names no pinned report file of that size. Its signature
    /// facts are left to the caller, which may take the pinned ones.
    pub fn verify_genuine_file(
        &self,
        sha256: &str,
        size: u64,
        now: DateTime<Utc>,
    ) -> Result<Option<GenuineFile>, Error> {
        let sha = normalize_sha256(sha256)?;
        let key = keys::report_by_pdf(&sha);
        let (verification, pinned_signature) =
            match self.kv.get(&key)?.map(|b| indexed(&key, &b)).transpose()? {
                Some(Some(Indexed::Answer(index))) if index.size == Some(size) => (
                    Verification::of_summary(index.summary, index.revocation, now, Channel::File),
                    index.signature,
                ),
                Some(Some(Indexed::Legacy(no))) => {
                    let Some(report) = self.get_report(&no)? else {
                        return Ok(None);
                    };
                    let Some(pdf) = self
                        .pdf_of(&no)?
                        .filter(|p| p.sha256 == sha && p.size == size)
                    else {
                        return Ok(None);
                    };
                    (
                        Verification::of_authentic(
                            &report,
                            self.report_status(&no)?,
                            now,
                            Channel::File,
                        ),
                        pdf.signature,
                    )
                }
                _ => return Ok(None),
            };
        Ok(Some(GenuineFile {
            answer: FileVerification {
                verification,
                file: FileFacts {
                    sha256: sha,
                    size,
                    matches_original: true,
                },
                signature: SignatureFacts::default(),
                claimed_report_no: None,
            },
            pinned_signature,
        }))
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
        if let Some(genuine) = self.verify_genuine_file(sha256, size, now)? {
            return Ok(genuine.answer);
        }
        self.verify_claims(sha256, size, claims)
    }

    /// A file that is not an original: TAMPERED when it claims one of our
    /// reports, else UNRECOGNIZED.
    pub fn verify_claims(
        &self,
        sha256: &str,
        size: u64,
        claims: &[FileClaim],
    ) -> Result<FileVerification, Error> {
        let sha = normalize_sha256(sha256)?;
        let file = |matches_original| FileFacts {
            sha256: sha.clone(),
            size,
            matches_original,
        };
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
                        Channel::File,
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
                        Channel::File,
                    ),
                    file: file(false),
                    signature: SignatureFacts::default(),
                    claimed_report_no: Some(no.clone()),
                });
            }
        }
        Ok(FileVerification {
            verification: Verification::new(Outcome::Unrecognized, None, Channel::File),
            file: file(false),
            signature: SignatureFacts::default(),
            claimed_report_no: None,
        })
    }
}

/// The index entry of `report` as it answers now.
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
