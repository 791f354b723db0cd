//! Public verification by PDF comparison: POST /api/v1/verify/file, with the
//! PDF as the raw body or as multipart/form-data field `file`.
//!
//! The body is streamed: a declared length over the limit is refused before
//! reading, and reading stops at the limit or at a missing `%PDF-` header.
//! The upload is hashed as it arrives and, if it is not an original, inspected within
//! bounds; it is never stored.
//!
//! Store operations for a genuine report file: 3 (the rate-limit increment,
//! the file index entry by SHA-256, which carries the answer, and the
//! access entry's `set_many`; plus the visitor counter on a client's first
//! request of the minute). Every answer carries `RateLimit` and
//! `RateLimit-Policy`.

use credit_core::error::Error;
use credit_core::upload::{MAX_FILE_BYTES, Upload, UploadReader, too_large};
use futures::{Stream, StreamExt};
use spin_sdk::http::{IncomingRequest, Method, Response};
use spin_sdk::http_component;

/// Room for multipart boundaries, part headers and small extra fields.
const MULTIPART_OVERHEAD: usize = 64 * 1024;

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
    let settings = platform::visitor_settings()?;
    let published = platform::published_chain()?;
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
    let upload = read_upload(req).await;
    let answer = verifier
        .file(&admission, upload, &published)
        .map_err(platform::Problem)
        .and_then(|answer| platform::json(200, &answer));
    Ok(platform::with_headers(answer, &admission.headers()))
}

/// The uploaded PDF: the raw body, or multipart field `file`.
async fn read_upload(req: IncomingRequest) -> Result<Upload, Error> {
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
    let pdf = UploadReader::with_capacity(declared.unwrap_or(0));
    match boundary {
        Some(boundary) => read_multipart_file(body, boundary, pdf).await,
        None => read_pdf(body, pdf).await,
    }
}

async fn read_pdf(
    mut body: impl Stream<Item = Result<Vec<u8>, std::io::Error>> + Unpin,
    mut pdf: UploadReader,
) -> Result<Upload, Error> {
    while let Some(chunk) = body.next().await {
        pdf.push(&chunk.map_err(read_failed)?)?;
    }
    pdf.finish()
}

async fn read_multipart_file(
    body: impl Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static,
    boundary: String,
    mut pdf: UploadReader,
) -> Result<Upload, Error> {
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
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            pdf.push(&chunk)?;
        }
        return pdf.finish();
    }
    Err(Error::MissingField {
        field: "file".into(),
    })
}

/// multer's own messages are English and name its internals: the uploader is told in Chinese
/// what to fix, and the cause goes to the log.
fn multipart_error(error: multer::Error) -> Error {
    let detail = match &error {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            return too_large();
        }
        multer::Error::StreamReadFailed(e) => return read_failed(e),
        multer::Error::IncompleteFieldData { .. } | multer::Error::IncompleteStream => {
            "上传内容不完整（multipart/form-data 在结束边界之前中断），请重新上传"
        }
        _ => {
            "multipart/form-data 格式不正确，请用表单字段 file 上传 PDF，或直接以 application/pdf 上传文件本身"
        }
    };
    eprintln!("verify-file: multipart upload refused: {error}");
    Error::InvalidField {
        field: "file".into(),
        detail: detail.into(),
    }
}

fn read_failed(error: impl std::fmt::Display) -> Error {
    eprintln!("verify-file: reading the upload failed: {error}");
    Error::InvalidField {
        field: "file".into(),
        detail: "读取上传内容失败，请重新上传".into(),
    }
}

fn header(req: &IncomingRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .into_iter()
        .next()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
}
