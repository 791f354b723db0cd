//! A report's PDF as issued: rendered once, pinned by its fingerprint and
//! stored in chunks, then served from storage on every later download.

use super::{BATCH, Store, contention, keys, to_json};
use crate::codes::ReportNo;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::report::{PdfFingerprint, RenderedPdf};

/// Bytes per stored PDF chunk: Spin's key-value values are limited to about
/// 1 MB on Fermyon Cloud.
pub const PDF_CHUNK_BYTES: usize = 512 * 1024;

/// A report's PDF as issued, with the fingerprint pinned at first
/// generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedPdf {
    pub bytes: Vec<u8>,
    pub fingerprint: PdfFingerprint,
    /// Set when the stored bytes could not be served as pinned (missing,
    /// corrupt, or re-rendered differently): for the operator's log.
    pub problem: Option<String>,
}

impl<K: KeyValue + ?Sized> Store<'_, K> {
    /// The report's PDF as issued. The first call renders it and pins it:
    /// the bytes are stored in chunks, then the fingerprint is set once, so
    /// a reader that sees a fingerprint always finds its bytes. Later calls
    /// serve the stored bytes after checking them against the fingerprint,
    /// and never render again: a changed renderer, font or public_base_url
    /// cannot alter an issued file. Stored bytes that are missing or fail
    /// the check are re-rendered, and the answer carries a `problem` to log.
    pub fn issued_pdf(
        &self,
        report_no: &ReportNo,
        mut render: impl FnMut() -> Result<RenderedPdf, Error>,
    ) -> Result<IssuedPdf, Error> {
        match self.pdf_of(report_no)? {
            Some(pinned) => self.serve_pinned(report_no, pinned, &mut render),
            None => self.pin_pdf(report_no, render()?),
        }
    }

    /// Pins `bytes` as the report's PDF unless one is pinned already, in
    /// which case that one is served. Racing first downloads render the
    /// same bytes, and chunk keys name the content's SHA-256, so writers of
    /// the same key always write the same value.
    pub fn pin_pdf(&self, report_no: &ReportNo, rendered: RenderedPdf) -> Result<IssuedPdf, Error> {
        let fingerprint = PdfFingerprint {
            signature: rendered.signature,
            ..PdfFingerprint::of(&rendered.bytes, PDF_CHUNK_BYTES as u64)
        };
        let bytes = rendered.bytes;
        self.store_pdf_chunks(report_no, &fingerprint, &bytes)?;
        let key = keys::pdf_fingerprint(report_no);
        if self
            .kv
            .compare_and_swap(&key, None, &to_json(&fingerprint)?)?
        {
            // The file index carries the answer, written once the
            // fingerprint is pinned (before the bytes are handed out, so a
            // holder of the file always finds it).
            self.refresh_answer_indexes(report_no)?;
            return Ok(IssuedPdf {
                bytes,
                fingerprint,
                problem: None,
            });
        }
        let pinned: PdfFingerprint = self.get_json(&key)?.ok_or_else(|| contention(&key))?;
        if pinned.same_file(&fingerprint) {
            return Ok(IssuedPdf {
                bytes,
                fingerprint: pinned,
                problem: None,
            });
        }
        // Another renderer pinned different bytes first (e.g. during a
        // rollout): theirs stand, ours are dropped.
        for i in 0..fingerprint.chunk_count() {
            self.kv
                .delete(&keys::pdf_chunk(report_no, &fingerprint.sha256, i))?;
        }
        let mut ours = Some(RenderedPdf {
            bytes,
            signature: fingerprint.signature,
        });
        self.serve_pinned(report_no, pinned, &mut || {
            ours.take()
                .ok_or_else(|| Error::Internal("rendered twice".into()))
        })
    }

    fn serve_pinned(
        &self,
        report_no: &ReportNo,
        pinned: PdfFingerprint,
        render: &mut dyn FnMut() -> Result<RenderedPdf, Error>,
    ) -> Result<IssuedPdf, Error> {
        let fault = match pinned.chunk_bytes {
            Some(_) => match self.stored_pdf(report_no, &pinned)? {
                Ok(bytes) => {
                    return Ok(IssuedPdf {
                        bytes,
                        fingerprint: pinned,
                        problem: None,
                    });
                }
                Err(fault) => Some(fault),
            },
            // Fingerprinted before bytes were kept: pinned below if the
            // renderer still yields them.
            None => None,
        };
        let bytes = render()?.bytes;
        let rendered = PdfFingerprint::of(&bytes, PDF_CHUNK_BYTES as u64);
        let problem = if rendered.same_file(&pinned) {
            let upgraded = PdfFingerprint {
                chunk_bytes: pinned.chunk_bytes.or(rendered.chunk_bytes),
                ..pinned.clone()
            };
            self.store_pdf_chunks(report_no, &upgraded, &bytes)?;
            if pinned.chunk_bytes.is_none() {
                self.kv.compare_and_swap(
                    &keys::pdf_fingerprint(report_no),
                    Some(&to_json(&pinned)?),
                    &to_json(&upgraded)?,
                )?;
            }
            fault.map(|f| format!("{f}; re-rendered identical bytes and stored them again"))
        } else {
            Some(format!(
                "{}re-rendered bytes differ from the issued file (sha256 {}, {} bytes; now {}, {} bytes): \
                 the renderer, font or public_base_url changed, and this download will verify as TAMPERED",
                fault.map(|f| format!("{f}; ")).unwrap_or_default(),
                pinned.sha256,
                pinned.size,
                rendered.sha256,
                rendered.size
            ))
        };
        Ok(IssuedPdf {
            bytes,
            fingerprint: pinned,
            problem,
        })
    }

    fn store_pdf_chunks(
        &self,
        report_no: &ReportNo,
        fingerprint: &PdfFingerprint,
        bytes: &[u8],
    ) -> Result<(), Error> {
        let chunk = fingerprint
            .chunk_bytes
            .unwrap_or(PDF_CHUNK_BYTES as u64)
            .max(1) as usize;
        for (i, part) in bytes.chunks(chunk).enumerate() {
            self.kv.set(
                &keys::pdf_chunk(report_no, &fingerprint.sha256, i as u64),
                part,
            )?;
        }
        Ok(())
    }

    /// The stored bytes of a pinned PDF, or why they cannot be served.
    fn stored_pdf(
        &self,
        report_no: &ReportNo,
        pinned: &PdfFingerprint,
    ) -> Result<Result<Vec<u8>, String>, Error> {
        let keys: Vec<String> = (0..pinned.chunk_count())
            .map(|i| keys::pdf_chunk(report_no, &pinned.sha256, i))
            .collect();
        let mut bytes = Vec::with_capacity(usize::try_from(pinned.size).unwrap_or(0));
        for batch in keys.chunks(BATCH) {
            for (key, part) in batch.iter().zip(self.kv.get_many(batch)?) {
                match part {
                    Some(part) => bytes.extend_from_slice(&part),
                    None => return Ok(Err(format!("stored PDF chunk {key} is missing"))),
                }
            }
        }
        let stored = PdfFingerprint::of(&bytes, pinned.chunk_bytes.unwrap_or_default());
        Ok(if stored.same_file(pinned) {
            Ok(bytes)
        } else {
            Err(format!(
                "stored PDF of {report_no} is corrupt: sha256 {} ({} bytes), pinned {} ({} bytes)",
                stored.sha256, stored.size, pinned.sha256, pinned.size
            ))
        })
    }

    /// Whether `upload` is exactly the start of the report's pinned PDF
    /// (`pinned`, as [`Self::pdf_of`] read it), shorter than it: a download
    /// cut short. Reads only the chunks the upload spans; false when nothing
    /// is pinned in chunks.
    pub fn is_truncated_copy(
        &self,
        report_no: &ReportNo,
        pinned: &PdfFingerprint,
        upload: &[u8],
    ) -> Result<bool, Error> {
        let (Some(chunk), Ok(length)) = (pinned.chunk_bytes, u64::try_from(upload.len())) else {
            return Ok(false);
        };
        if upload.is_empty() || length >= pinned.size {
            return Ok(false);
        }
        let keys: Vec<String> = (0..length.div_ceil(chunk.max(1)))
            .map(|i| keys::pdf_chunk(report_no, &pinned.sha256, i))
            .collect();
        let mut original = Vec::with_capacity(upload.len());
        for batch in keys.chunks(BATCH) {
            for part in self.kv.get_many(batch)? {
                let Some(part) = part else {
                    return Ok(false);
                };
                original.extend_from_slice(&part);
            }
        }
        Ok(original.starts_with(upload))
    }

    pub fn pdf_of(&self, report_no: &ReportNo) -> Result<Option<PdfFingerprint>, Error> {
        self.get_json(&keys::pdf_fingerprint(report_no))
    }
}
