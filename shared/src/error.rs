//! The one error type of the service. Every component maps every failure
//! through [`Error::to_problem`], so each answer carries a stable upper-case
//! `code`, an HTTP status and a Chinese `detail` a person can act on
//! (RFC 9457 `application/problem+json`).

use serde_json::{Map, Value, json};

use crate::kv::StoreError;
use crate::vocabulary::RecordKind;

/// Why a kind of record has no credit repair, and where its holder turns
/// instead (docs/decisions.md).
fn repair_not_applicable_detail(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Penalty => "该行政处罚记录不能申请信用修复",
        RecordKind::DishonestList | RecordKind::AbnormalList => {
            "名单记录不适用信用修复申请：移出名单请向认定部门申请，移出后按移出日期不再计入报告"
        }
        RecordKind::CoerciveMeasure => {
            "行政强制措施不适用信用修复：措施解除后即不再计入报告，请向实施机关申请解除；如记录有误，请提出异议"
        }
        RecordKind::CriminalJudgment => {
            "刑事裁判不适用信用修复：生效裁判只能依审判监督程序改变；如记录与裁判文书不符，请提出异议"
        }
    }
}

/// Every error the HTTP API can answer. `Display` is the Chinese detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("请求体不是有效的 JSON：{0}")]
    InvalidJson(String),
    /// A CSV body that cannot be read as a table (`line` 1-based).
    #[error("CSV 文件{}不正确：{detail}", line.map(|l| format!("第 {l} 行")).unwrap_or_default())]
    InvalidCsv { line: Option<u64>, detail: String },
    #[error("不支持的内容类型：{0}")]
    UnsupportedMediaType(String),
    #[error("请求体超过 {limit} 字节的上限")]
    PayloadTooLarge { limit: u64 },
    #[error("文件超过 {limit} 字节（5 MiB）的上限，请上传专用信用报告电子版原件")]
    FileTooLarge { limit: u64 },
    #[error("上传的文件不是 PDF（缺少 %PDF- 文件头），请上传专用信用报告电子版原件")]
    NotAPdf,
    #[error("一次最多提交 {limit} 条，请分批提交")]
    TooManyItems { limit: usize },
    #[error("{reason}")]
    InvalidUscc { field: String, reason: String },
    #[error("未知的领域代码：{code}，{}", domain_list_of(field))]
    UnknownDomain { field: String, code: String },
    #[error("未知的用途代码：{0}")]
    UnknownPurpose(String),
    #[error("查询时间范围只能是 12、24 或 36 个月，收到：{0}")]
    InvalidMonths(String),
    #[error("{0}")]
    InvalidCode(String),
    #[error("报告编号格式不正确：{0}")]
    InvalidReportNo(String),
    #[error("缺少必填字段 {field}")]
    MissingField { field: String },
    #[error("字段 {field} 不正确：{detail}")]
    InvalidField { field: String, detail: String },
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(
        "该处罚的最短公示期（自处罚决定日期起 {min_months} 个月）尚未届满，可于 {available_on} 起申请信用修复"
    )]
    RepairNotYetAllowed {
        min_months: u32,
        available_on: chrono::NaiveDate,
    },
    /// Credit repair is for penalties; each other kind leaves the record
    /// its own way, which the detail names.
    #[error("{}", repair_not_applicable_detail(*kind))]
    RepairNotApplicable { kind: RecordKind },
    #[error("请求过于频繁，请 {retry_after_secs} 秒后再试")]
    RateLimited { retry_after_secs: u64 },
    #[error("核验服务当前访问人数过多，请 {retry_after_secs} 秒后再试")]
    TooManyVisitors { retry_after_secs: u64 },
    /// The entity's daily limit, or (`by_staff`) the staff member's own.
    #[error("{}", if *by_staff {
        format!("您今日代为申请报告已达 {limit} 次上限，请明日再申请")
    } else {
        format!("该主体今日申请报告已达 {limit} 次上限，请明日再申请")
    })]
    TooManyApplications {
        limit: u32,
        retry_after_secs: u64,
        by_staff: bool,
    },
    /// More records would be shown than one report can hold: refused
    /// before a report number and code are issued (docs/decisions.md).
    #[error(
        "所选期限和领域内共有 {records} 条应列示的记录，超过单份报告可容纳的内容（至多 {limit} 条记录），无法出具可下载的报告：请缩短查询期限或分领域分别申请，或到信用服务窗口办理"
    )]
    ReportTooLarge { records: usize, limit: usize },
    #[error("不支持的请求方法，可用：{allowed}")]
    MethodNotAllowed { allowed: String },
    #[error("配置变量 {variable} 的值不正确：{detail}")]
    InvalidConfig { variable: String, detail: String },
    #[error("数据存储暂时不可用，请稍后重试")]
    StoreUnavailable(String),
    #[error(
        "本服务尚未配置登录方式（统一身份认证平台或开发模式），暂不能办理需要登录的业务；公开核验不受影响"
    )]
    AuthNotConfigured(String),
    #[error("统一身份认证平台暂时无法访问，请稍后重试登录")]
    IdentityProviderUnavailable(String),
    #[error("服务内部错误，请稍后重试")]
    Internal(String),
}

impl From<&serde_json::Error> for Error {
    /// `INVALID_JSON` saying in Chinese what is wrong and where.
    fn from(error: &serde_json::Error) -> Error {
        use serde_json::error::Category;
        let what = match error.classify() {
            Category::Syntax => "语法错误（如缺少逗号、引号或括号）",
            Category::Eof => "内容不完整（JSON 提前结束）",
            Category::Data => "数据类型不符",
            Category::Io => "读取失败",
        };
        Error::InvalidJson(format!(
            "第 {} 行第 {} 列{what}",
            error.line(),
            error.column()
        ))
    }
}

/// Which domain list an `UNKNOWN_DOMAIN` is about: a record's `domain` is a
/// data domain, an application's `domains` are report domains.
fn domain_list_of(field: &str) -> &'static str {
    if field == "domain" {
        "记录的领域应为目录（GET /api/v1/catalog）中 data_domains 的代码"
    } else {
        "查询领域应为目录（GET /api/v1/catalog）中 report_domains 的代码"
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `Retry-After` of 503 `STORE_UNAVAILABLE`: about how long a restarting Redis (or a SQLite
/// writer's contention) takes to pass.
pub const STORE_RETRY_AFTER_SECS: u64 = 5;

/// Every `code` an [`Error`] can answer with, in declaration order: the
/// components' share of the stable codes docs/api.md tabulates (the host
/// answers a few of its own). A unit test keeps it complete.
pub const CODES: &[&str] = &[
    "INVALID_JSON",
    "INVALID_CSV",
    "UNSUPPORTED_MEDIA_TYPE",
    "PAYLOAD_TOO_LARGE",
    "FILE_TOO_LARGE",
    "NOT_A_PDF",
    "TOO_MANY_ITEMS",
    "INVALID_USCC",
    "UNKNOWN_DOMAIN",
    "UNKNOWN_PURPOSE",
    "INVALID_MONTHS",
    "INVALID_CODE",
    "INVALID_REPORT_NO",
    "MISSING_FIELD",
    "INVALID_FIELD",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "CONFLICT",
    "REPAIR_NOT_YET_ALLOWED",
    "REPAIR_NOT_APPLICABLE",
    "RATE_LIMITED",
    "TOO_MANY_VISITORS",
    "TOO_MANY_APPLICATIONS",
    "REPORT_TOO_LARGE",
    "METHOD_NOT_ALLOWED",
    "INVALID_CONFIG",
    "STORE_UNAVAILABLE",
    "AUTH_NOT_CONFIGURED",
    "IDENTITY_PROVIDER_UNAVAILABLE",
    "INTERNAL",
];

impl Error {
    pub fn status(&self) -> u16 {
        match self {
            Error::InvalidJson(_)
            | Error::InvalidCsv { .. }
            | Error::InvalidUscc { .. }
            | Error::UnknownDomain { .. }
            | Error::UnknownPurpose(_)
            | Error::InvalidMonths(_)
            | Error::InvalidCode(_)
            | Error::InvalidReportNo(_)
            | Error::MissingField { .. }
            | Error::InvalidField { .. } => 400,
            Error::Unauthenticated(_) => 401,
            Error::Forbidden(_) => 403,
            Error::NotFound(_) => 404,
            Error::MethodNotAllowed { .. } => 405,
            Error::Conflict(_)
            | Error::RepairNotYetAllowed { .. }
            | Error::RepairNotApplicable { .. } => 409,
            Error::PayloadTooLarge { .. }
            | Error::FileTooLarge { .. }
            | Error::TooManyItems { .. } => 413,
            Error::UnsupportedMediaType(_) | Error::NotAPdf => 415,
            Error::RateLimited { .. }
            | Error::TooManyVisitors { .. }
            | Error::TooManyApplications { .. } => 429,
            Error::ReportTooLarge { .. } => 422,
            Error::InvalidConfig { .. } | Error::Internal(_) => 500,
            Error::StoreUnavailable(_)
            | Error::AuthNotConfigured(_)
            | Error::IdentityProviderUnavailable(_) => 503,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidJson(_) => "INVALID_JSON",
            Error::InvalidCsv { .. } => "INVALID_CSV",
            Error::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            Error::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            Error::FileTooLarge { .. } => "FILE_TOO_LARGE",
            Error::NotAPdf => "NOT_A_PDF",
            Error::TooManyItems { .. } => "TOO_MANY_ITEMS",
            Error::InvalidUscc { .. } => "INVALID_USCC",
            Error::UnknownDomain { .. } => "UNKNOWN_DOMAIN",
            Error::UnknownPurpose(_) => "UNKNOWN_PURPOSE",
            Error::InvalidMonths(_) => "INVALID_MONTHS",
            Error::InvalidCode(_) => "INVALID_CODE",
            Error::InvalidReportNo(_) => "INVALID_REPORT_NO",
            Error::MissingField { .. } => "MISSING_FIELD",
            Error::InvalidField { .. } => "INVALID_FIELD",
            Error::Unauthenticated(_) => "UNAUTHENTICATED",
            Error::Forbidden(_) => "FORBIDDEN",
            Error::NotFound(_) => "NOT_FOUND",
            Error::Conflict(_) => "CONFLICT",
            Error::RepairNotYetAllowed { .. } => "REPAIR_NOT_YET_ALLOWED",
            Error::RepairNotApplicable { .. } => "REPAIR_NOT_APPLICABLE",
            Error::RateLimited { .. } => "RATE_LIMITED",
            Error::TooManyVisitors { .. } => "TOO_MANY_VISITORS",
            Error::TooManyApplications { .. } => "TOO_MANY_APPLICATIONS",
            Error::ReportTooLarge { .. } => "REPORT_TOO_LARGE",
            Error::MethodNotAllowed { .. } => "METHOD_NOT_ALLOWED",
            Error::InvalidConfig { .. } => "INVALID_CONFIG",
            Error::StoreUnavailable(_) => "STORE_UNAVAILABLE",
            Error::AuthNotConfigured(_) => "AUTH_NOT_CONFIGURED",
            Error::IdentityProviderUnavailable(_) => "IDENTITY_PROVIDER_UNAVAILABLE",
            Error::Internal(_) => "INTERNAL",
        }
    }

    /// The field of the request the error is about, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::InvalidUscc { field, .. }
            | Error::UnknownDomain { field, .. }
            | Error::MissingField { field }
            | Error::InvalidField { field, .. } => Some(field),
            Error::UnknownPurpose(_) => Some("purpose"),
            Error::InvalidMonths(_) => Some("months"),
            Error::InvalidCode(_) => Some("code"),
            Error::RepairNotApplicable { .. } => Some("record_id"),
            _ => None,
        }
    }

    /// Seconds for the `Retry-After` header: for 429 answers, and for a store that is down
    /// (a restarting Redis is back within seconds; clients then retry instead of giving up).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Error::RateLimited { retry_after_secs }
            | Error::TooManyVisitors { retry_after_secs }
            | Error::TooManyApplications {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            Error::StoreUnavailable(_) => Some(STORE_RETRY_AFTER_SECS),
            _ => None,
        }
    }

    /// The same error about another field, e.g. a credit code parsed from a
    /// record's `authority_uscc`.
    pub fn at_field(self, name: &str) -> Self {
        match self {
            Error::InvalidUscc { reason, .. } => Error::InvalidUscc {
                field: name.to_owned(),
                reason,
            },
            Error::UnknownDomain { code, .. } => Error::UnknownDomain {
                field: name.to_owned(),
                code,
            },
            Error::MissingField { .. } => Error::MissingField {
                field: name.to_owned(),
            },
            Error::InvalidField { detail, .. } => Error::InvalidField {
                field: name.to_owned(),
                detail,
            },
            other => other,
        }
    }

    /// The RFC 9457 problem body. Internal causes (store, internal) are not
    /// disclosed to callers; components log them.
    pub fn to_problem(&self) -> Value {
        let status = self.status();
        let mut body = Map::new();
        body.insert("type".into(), json!("about:blank"));
        body.insert("title".into(), json!(title(status)));
        body.insert("status".into(), json!(status));
        body.insert("code".into(), json!(self.code()));
        body.insert("detail".into(), json!(self.to_string()));
        if let Some(field) = self.field() {
            body.insert("field".into(), json!(field));
        }
        if let Error::InvalidCsv {
            line: Some(line), ..
        } = self
        {
            body.insert("line".into(), json!(line));
        }
        if let Some(secs) = self.retry_after() {
            body.insert("retry_after".into(), json!(secs));
        }
        if let Error::RepairNotYetAllowed { available_on, .. } = self {
            body.insert(
                "available_on".into(),
                json!(available_on.format("%Y-%m-%d").to_string()),
            );
        }
        Value::Object(body)
    }

    /// The internal cause, for logs only.
    pub fn cause(&self) -> Option<&str> {
        match self {
            Error::StoreUnavailable(c)
            | Error::AuthNotConfigured(c)
            | Error::IdentityProviderUnavailable(c)
            | Error::Internal(c) => Some(c),
            _ => None,
        }
    }
}

/// The reason phrase the status line carries, so that `title` and the status line agree.
fn title(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Internal Server Error")
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::StoreUnavailable(e.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_body_matches_the_contract_example() {
        let e = Error::InvalidUscc {
            field: "uscc".into(),
            reason: "统一社会信用代码校验位错误".into(),
        };
        assert_eq!(
            e.to_problem(),
            json!({"type":"about:blank","title":"Bad Request","status":400,"code":"INVALID_USCC",
                   "detail":"统一社会信用代码校验位错误","field":"uscc"})
        );
    }

    #[test]
    fn an_unavailable_store_carries_retry_after() {
        let e = Error::StoreUnavailable("connection refused".into());
        assert_eq!(e.status(), 503);
        assert_eq!(e.retry_after(), Some(STORE_RETRY_AFTER_SECS));
        assert_eq!(e.to_problem()["retry_after"], STORE_RETRY_AFTER_SECS);
    }

    #[test]
    fn rate_limits_carry_retry_after() {
        let e = Error::RateLimited {
            retry_after_secs: 12,
        };
        assert_eq!(e.status(), 429);
        assert_eq!(e.retry_after(), Some(12));
        assert_eq!(e.to_problem()["retry_after"], 12);
    }

    /// One value of every variant. The match below has no wildcard arm, so a
    /// new variant does not compile until it is added there, and then here.
    fn one_of_every_variant() -> Vec<Error> {
        let text = String::new;
        let every = vec![
            Error::InvalidJson(text()),
            Error::InvalidCsv {
                line: None,
                detail: text(),
            },
            Error::UnsupportedMediaType(text()),
            Error::PayloadTooLarge { limit: 1 },
            Error::FileTooLarge { limit: 1 },
            Error::NotAPdf,
            Error::TooManyItems { limit: 1 },
            Error::InvalidUscc {
                field: text(),
                reason: text(),
            },
            Error::UnknownDomain {
                field: text(),
                code: text(),
            },
            Error::UnknownPurpose(text()),
            Error::InvalidMonths(text()),
            Error::InvalidCode(text()),
            Error::InvalidReportNo(text()),
            Error::MissingField { field: text() },
            Error::InvalidField {
                field: text(),
                detail: text(),
            },
            Error::Unauthenticated(text()),
            Error::Forbidden(text()),
            Error::NotFound(text()),
            Error::Conflict(text()),
            Error::RepairNotYetAllowed {
                min_months: 3,
                available_on: chrono::NaiveDate::MIN,
            },
            Error::RepairNotApplicable {
                kind: RecordKind::CriminalJudgment,
            },
            Error::RateLimited {
                retry_after_secs: 1,
            },
            Error::TooManyVisitors {
                retry_after_secs: 1,
            },
            Error::TooManyApplications {
                limit: 1,
                retry_after_secs: 1,
                by_staff: false,
            },
            Error::ReportTooLarge {
                records: 2,
                limit: 1,
            },
            Error::MethodNotAllowed { allowed: text() },
            Error::InvalidConfig {
                variable: text(),
                detail: text(),
            },
            Error::StoreUnavailable(text()),
            Error::AuthNotConfigured(text()),
            Error::IdentityProviderUnavailable(text()),
            Error::Internal(text()),
        ];
        for error in &every {
            match error {
                Error::InvalidJson(_)
                | Error::InvalidCsv { .. }
                | Error::UnsupportedMediaType(_)
                | Error::PayloadTooLarge { .. }
                | Error::FileTooLarge { .. }
                | Error::NotAPdf
                | Error::TooManyItems { .. }
                | Error::InvalidUscc { .. }
                | Error::UnknownDomain { .. }
                | Error::UnknownPurpose(_)
                | Error::InvalidMonths(_)
                | Error::InvalidCode(_)
                | Error::InvalidReportNo(_)
                | Error::MissingField { .. }
                | Error::InvalidField { .. }
                | Error::Unauthenticated(_)
                | Error::Forbidden(_)
                | Error::NotFound(_)
                | Error::Conflict(_)
                | Error::RepairNotYetAllowed { .. }
                | Error::RepairNotApplicable { .. }
                | Error::RateLimited { .. }
                | Error::TooManyVisitors { .. }
                | Error::TooManyApplications { .. }
                | Error::ReportTooLarge { .. }
                | Error::MethodNotAllowed { .. }
                | Error::InvalidConfig { .. }
                | Error::StoreUnavailable(_)
                | Error::AuthNotConfigured(_)
                | Error::IdentityProviderUnavailable(_)
                | Error::Internal(_) => {}
            }
        }
        every
    }

    #[test]
    fn codes_lists_exactly_the_code_of_every_variant() {
        let produced: Vec<&str> = one_of_every_variant().iter().map(Error::code).collect();
        assert_eq!(produced, CODES);
    }

    #[test]
    fn store_causes_are_not_disclosed() {
        let e = Error::from(StoreError("redis down at 10.0.0.1".into()));
        assert_eq!(e.status(), 503);
        assert!(!e.to_problem().to_string().contains("redis"));
    }
}
