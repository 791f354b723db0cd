//! Public verification by PDF comparison: POST /api/v1/verify/file, with the
//! PDF as the raw body or as multipart/form-data field `file`.
//!
//! The body is streamed: a declared length over the limit is refused before
//! reading, and reading stops at the limit or at a missing `%PDF-` header.
//! The upload is hashed and, if it is not an original, inspected within
//! bounds; it is never stored.
//!
//! Store operations for a genuine report file: 3 (the rate-limit increment,
//! the file index entry by SHA-256, which carries the answer, and the
//! access entry's `set_many`; plus the visitor counter on a client's first
//! request of the minute). Every answer carries `RateLimit` and
//! `RateLimit-Policy`.

use credit_core::error::Error;
use credit_core::pdf::sign::Certificates;
use credit_core::usecase::verification::MAX_FILE_BYTES;
use futures::{Stream, StreamExt};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

/// Room for multipart boundaries, part headers and small extra fields.
const MULTIPART_OVERHEAD: usize = 64 * 1024;
const PDF_HEADER: &[u8] = b"%PDF-";

// One route and one method, and the body must stay a stream (spin-sdk's
// Router reads the whole body first), so no router here.
#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    if platform::cors::is_preflight(&req.method()) {
        return platform::cors::preflight();
    }
    let mut response = verify(req)
        .await
        .unwrap_or_else(|error| platform::problem(&error));
    platform::cors::allow_any_origin(&mut response);
    response
}

async fn verify(req: IncomingRequest) -> Result<Response, Error> {
    if req.method() != Method::Post {
        return Err(Error::MethodNotAllowed {
            allowed: "POST".into(),
        });
    }
    let kv = platform::store()?;
    let settings = platform::settings()?;
    let seal = Certificates::from_variables(platform::variable, settings.auth.development)?;
    let visitor = platform::visitor(
        header(&req, "spin-client-addr").as_deref(),
        header(&req, "x-forwarded-for").as_deref(),
        &settings,
    );
    // Admitted within the rate limit before a byte of the body is read.
    let (verifier, admission) = match platform::admit_verifier(&kv, visitor, &settings, 1) {
        Ok(admitted) => admitted,
        Err(refusal) => return Ok(refusal),
    };
    let bytes = read_upload(req).await;
    let answer = verifier
        .file(&admission, bytes, &seal)
        .map_err(platform::Problem)
        .and_then(|answer| platform::json(200, &answer));
    Ok(platform::with_headers(answer, &admission.headers()))
}

/// The uploaded PDF's bytes: the raw body, or multipart field `file`.
async fn read_upload(req: IncomingRequest) -> Result<Vec<u8>, Error> {
    let content_type = header(&req, "content-type").unwrap_or_default();
    let declared: Option<usize> =
        header(&req, "content-length").and_then(|v| v.trim().parse().ok());
    let boundary = multer::parse_boundary(&content_type).ok();
    let allowed = MAX_FILE_BYTES
        + if boundary.is_some() {
            MULTIPART_OVERHEAD
        } else {
            0
        };
    if declared.is_some_and(|len| len > allowed) {
        return Err(too_large());
    }
    let body = req
        .into_body_stream()
        .map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_debug_string())));
    // Room for the whole file up front: growing by doubling would copy it
    // several times and hold two copies at the peak.
    let capacity = declared.unwrap_or(0).min(MAX_FILE_BYTES);
    match boundary {
        Some(boundary) => read_multipart_file(body, boundary, capacity).await,
        None => read_pdf(body, capacity).await,
    }
}

fn too_large() -> Error {
    Error::FileTooLarge {
        limit: MAX_FILE_BYTES as u64,
    }
}

/// Accumulates PDF bytes, refusing as soon as the header is wrong or the
/// file passes the limit.
struct PdfBuffer {
    bytes: Vec<u8>,
}

impl PdfBuffer {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(capacity),
        }
    }

    fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        if self.bytes.len() + chunk.len() > MAX_FILE_BYTES {
            return Err(too_large());
        }
        let checked = self.bytes.len() >= PDF_HEADER.len();
        self.bytes.extend_from_slice(chunk);
        if !checked && !header_may_follow(&self.bytes) {
            return Err(Error::NotAPdf);
        }
        Ok(())
    }

    fn finish(self) -> Result<Vec<u8>, Error> {
        if self.bytes.starts_with(PDF_HEADER) {
            Ok(self.bytes)
        } else {
            Err(Error::NotAPdf)
        }
    }
}

/// Whether `start` is `%PDF-` or a beginning of it.
fn header_may_follow(start: &[u8]) -> bool {
    let n = start.len().min(PDF_HEADER.len());
    start[..n] == PDF_HEADER[..n]
}

async fn read_pdf(
    mut body: impl Stream<Item = Result<Vec<u8>, std::io::Error>> + Unpin,
    capacity: usize,
) -> Result<Vec<u8>, Error> {
    let mut pdf = PdfBuffer::with_capacity(capacity);
    while let Some(chunk) = body.next().await {
        pdf.push(&chunk.map_err(read_failed)?)?;
    }
    pdf.finish()
}

async fn read_multipart_file(
    body: impl Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static,
    boundary: String,
    capacity: usize,
) -> Result<Vec<u8>, Error> {
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new().whole_stream((MAX_FILE_BYTES + MULTIPART_OVERHEAD) as u64),
    );
    let mut multipart = multer::Multipart::with_constraints(body, boundary, constraints);
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("file") {
            // Other form fields are read past (bounded by the stream limit).
            while field.chunk().await.map_err(multipart_error)?.is_some() {}
            continue;
        }
        let mut pdf = PdfBuffer::with_capacity(capacity);
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            pdf.push(&chunk)?;
        }
        return pdf.finish();
    }
    Err(Error::MissingField {
        field: "file".into(),
    })
}

fn multipart_error(error: multer::Error) -> Error {
    match error {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            too_large()
        }
        multer::Error::StreamReadFailed(e) => read_failed(e),
        other => Error::InvalidField {
            field: "file".into(),
            detail: format!("multipart/form-data 格式不正确：{other}"),
        },
    }
}

fn read_failed(error: impl std::fmt::Display) -> Error {
    Error::InvalidField {
        field: "file".into(),
        detail: format!("读取上传内容失败：{error}"),
    }
}

fn header(req: &IncomingRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .into_iter()
        .next()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
}
