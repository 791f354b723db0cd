//! A PDF uploaded for verification, as it streams in.
//!
//! The upload is hashed chunk by chunk while it is read, so the SHA-256 that
//! identifies it (and that the audit entry records) costs no pass of its
//! own after the last byte: on a 5 MiB upload, hashing is most of the work
//! and it overlaps the wait for the next chunk. Reading stops at the limit
//! or as soon as the bytes cannot be the start of a PDF.

use sha2::{Digest, Sha256};

use crate::codes::hex;
use crate::error::Error;

/// The largest upload `POST /api/v1/verify/file` takes: 5 MiB, the county
/// flow's "大小不超过5M".
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
const PDF_HEADER: &[u8] = b"%PDF-";

/// An upload that starts as a PDF, is at most [`MAX_FILE_BYTES`] long, and
/// comes with its SHA-256.
#[derive(Debug, Clone)]
pub struct Upload {
    bytes: Vec<u8>,
    sha256: String,
}

impl Upload {
    /// An upload whose bytes are all at hand.
    pub fn new(bytes: &[u8]) -> Result<Self, Error> {
        let mut reader = UploadReader::with_capacity(bytes.len());
        reader.push(bytes)?;
        reader.finish()
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Lowercase hex SHA-256 of [`Self::bytes`].
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// Accumulates and hashes an upload's chunks, refusing as soon as the header
/// is wrong or the file passes the limit.
pub struct UploadReader {
    bytes: Vec<u8>,
    hasher: Sha256,
}

impl UploadReader {
    /// `expected` is the declared length, if any: room for the whole file up
    /// front, because growing by doubling would copy it several times and
    /// hold two copies at the peak.
    pub fn with_capacity(expected: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(expected.min(MAX_FILE_BYTES)),
            hasher: Sha256::new(),
        }
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        if self.bytes.len() + chunk.len() > MAX_FILE_BYTES {
            return Err(too_large());
        }
        let checked = self.bytes.len() >= PDF_HEADER.len();
        self.bytes.extend_from_slice(chunk);
        if !checked && !header_may_follow(&self.bytes) {
            return Err(Error::NotAPdf);
        }
        self.hasher.update(chunk);
        Ok(())
    }

    pub fn finish(self) -> Result<Upload, Error> {
        if !self.bytes.starts_with(PDF_HEADER) {
            return Err(Error::NotAPdf);
        }
        Ok(Upload {
            bytes: self.bytes,
            sha256: hex(&self.hasher.finalize()),
        })
    }
}

pub fn too_large() -> Error {
    Error::FileTooLarge {
        limit: MAX_FILE_BYTES as u64,
    }
}

/// Whether `start` is `%PDF-` or a beginning of it.
fn header_may_follow(start: &[u8]) -> bool {
    let n = start.len().min(PDF_HEADER.len());
    start[..n] == PDF_HEADER[..n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_reading_hashes_the_whole_upload() {
        let file = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n".repeat(1000);
        let mut reader = UploadReader::with_capacity(0);
        for chunk in file.chunks(7) {
            reader.push(chunk).unwrap();
        }
        let upload = reader.finish().unwrap();
        assert_eq!(upload.bytes(), &file[..]);
        assert_eq!(upload.sha256(), hex(&Sha256::digest(&file)));
        assert_eq!(upload.sha256(), Upload::new(&file).unwrap().sha256());
    }

    #[test]
    fn refuses_what_cannot_be_a_pdf_at_its_first_byte() {
        let mut reader = UploadReader::with_capacity(0);
        assert_eq!(reader.push(b"%P"), Ok(()));
        assert_eq!(reader.push(b"NG"), Err(Error::NotAPdf));
        assert_eq!(Upload::new(b"%PD").unwrap_err(), Error::NotAPdf);
        assert_eq!(Upload::new(b"").unwrap_err(), Error::NotAPdf);
    }

    #[test]
    fn refuses_past_the_limit() {
        let mut reader = UploadReader::with_capacity(usize::MAX);
        reader.push(b"%PDF-").unwrap();
        reader.push(&vec![b' '; MAX_FILE_BYTES - 5]).unwrap();
        assert_eq!(reader.push(b" "), Err(too_large()));
    }
}
