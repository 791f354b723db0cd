//! Request bodies: objection filings, repair applications, resolutions and
//! reasons, parsed into typed values with errors naming the field.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::codes::AuthorisationRef;
use crate::error::Error;
use crate::record::{Record, RecordId};
use crate::uscc::CreditCode;

/// Largest evidence file, decoded: 2 MiB.
pub const MAX_EVIDENCE_BYTES: usize = 2 * 1024 * 1024;
/// Longest statement or reason, in characters.
pub const MAX_STATEMENT_CHARS: usize = 2000;

/// The grounds of an objection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ground {
    /// 错误
    #[serde(rename = "error")]
    Incorrect,
    /// 遗漏
    Omission,
    /// 重复
    Duplicate,
    /// 不应公示
    ShouldNotPublish,
    /// 超期公示
    OverduePublicity,
    /// 与认定机关不一致
    InconsistentWithAuthority,
}

impl Ground {
    pub const ALL: [Ground; 6] = [
        Ground::Incorrect,
        Ground::Omission,
        Ground::Duplicate,
        Ground::ShouldNotPublish,
        Ground::OverduePublicity,
        Ground::InconsistentWithAuthority,
    ];

    /// As serialized.
    fn code(self) -> &'static str {
        match self {
            Ground::Incorrect => "error",
            Ground::Omission => "omission",
            Ground::Duplicate => "duplicate",
            Ground::ShouldNotPublish => "should_not_publish",
            Ground::OverduePublicity => "overdue_publicity",
            Ground::InconsistentWithAuthority => "inconsistent_with_authority",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Ground::Incorrect => "错误",
            Ground::Omission => "遗漏",
            Ground::Duplicate => "重复",
            Ground::ShouldNotPublish => "不应公示",
            Ground::OverduePublicity => "超期公示",
            Ground::InconsistentWithAuthority => "与认定机关不一致",
        }
    }

    /// The code or the Chinese name.
    fn parse(s: &str) -> Result<Ground, Error> {
        Ground::ALL
            .into_iter()
            .find(|g| g.code() == s || g.label() == s)
            .ok_or_else(|| Error::InvalidField {
                field: "ground".into(),
                detail: format!(
                    "“{s}”不是异议事由，应为 error（错误）、omission（遗漏）、duplicate（重复）、\
                     should_not_publish（不应公示）、overdue_publicity（超期公示）或 \
                     inconsistent_with_authority（与认定机关不一致）"
                ),
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EvidenceType {
    #[serde(rename = "application/pdf")]
    Pdf,
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/jpeg")]
    Jpeg,
}

impl EvidenceType {
    pub const ALL: [EvidenceType; 3] = [EvidenceType::Pdf, EvidenceType::Png, EvidenceType::Jpeg];

    pub fn media_type(self) -> &'static str {
        match self {
            EvidenceType::Pdf => "application/pdf",
            EvidenceType::Png => "image/png",
            EvidenceType::Jpeg => "image/jpeg",
        }
    }

    /// By the file's first bytes, whatever the sender claims.
    fn sniff(bytes: &[u8]) -> Option<EvidenceType> {
        if bytes.starts_with(b"%PDF-") {
            Some(EvidenceType::Pdf)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(EvidenceType::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(EvidenceType::Jpeg)
        } else {
            None
        }
    }
}

/// An evidence file: a PDF, PNG or JPEG of at most [`MAX_EVIDENCE_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub media_type: EvidenceType,
    pub bytes: Vec<u8>,
}

impl Evidence {
    /// From base64 (standard alphabet, line breaks allowed), optionally as
    /// a `data:` URL. Too large or not a PDF/PNG/JPEG is `INVALID_FIELD`
    /// on `evidence`; the size is checked before decoding.
    pub fn from_base64(text: &str) -> Result<Evidence, Error> {
        let text = text.trim();
        let payload = match text.strip_prefix("data:") {
            Some(rest) => rest
                .split_once(";base64,")
                .map(|(_, data)| data)
                .ok_or_else(|| evidence_error("data: 链接应为 base64 编码"))?,
            None => text,
        };
        let max_encoded = MAX_EVIDENCE_BYTES.div_ceil(3) * 4;
        let compact: String = payload
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .take(max_encoded + 1)
            .collect();
        if compact.len() > max_encoded {
            return Err(too_large());
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|_| evidence_error("不是有效的 base64 编码"))?;
        if bytes.len() > MAX_EVIDENCE_BYTES {
            return Err(too_large());
        }
        let media_type = EvidenceType::sniff(&bytes)
            .ok_or_else(|| evidence_error("证明材料只能是 PDF、PNG 或 JPEG 文件"))?;
        Ok(Evidence { media_type, bytes })
    }
}

fn evidence_error(detail: &str) -> Error {
    Error::InvalidField {
        field: "evidence".into(),
        detail: detail.to_owned(),
    }
}

fn too_large() -> Error {
    evidence_error("证明材料超过 2 MiB 的上限，请压缩后重新上传")
}

/// A validated objection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectionFiling {
    pub record_id: RecordId,
    pub ground: Ground,
    pub statement: String,
    pub evidence: Option<Evidence>,
    /// The entity, when counter staff file on its behalf.
    pub uscc: Option<CreditCode>,
    /// The entity's written authorisation, when counter staff file.
    pub authorisation_ref: Option<AuthorisationRef>,
}

/// A validated repair application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairApplication {
    pub record_id: RecordId,
    pub statement: String,
    pub evidence: Option<Evidence>,
    pub uscc: Option<CreditCode>,
    pub authorisation_ref: Option<AuthorisationRef>,
}

/// How the department answers an accepted objection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The corrected record: same domain, kind and document number.
    Correct(Box<Record>),
    Withdraw {
        reason: String,
    },
    Uphold {
        reason: String,
    },
}

struct Body<'a>(&'a Map<String, Value>);

impl<'a> Body<'a> {
    fn of(value: &'a Value) -> Result<Body<'a>, Error> {
        value
            .as_object()
            .map(Body)
            .ok_or_else(|| Error::InvalidJson("请求体应为 JSON 对象".into()))
    }

    fn opt_text(&self, name: &str) -> Result<Option<String>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => {
                let t = s.trim();
                if t.is_empty() {
                    Ok(None)
                } else if t.chars().count() > MAX_STATEMENT_CHARS {
                    Err(Error::InvalidField {
                        field: name.into(),
                        detail: format!("超过 {MAX_STATEMENT_CHARS} 字的上限"),
                    })
                } else {
                    Ok(Some(t.to_owned()))
                }
            }
            Some(_) => Err(Error::InvalidField {
                field: name.into(),
                detail: "应为字符串".into(),
            }),
        }
    }

    fn text(&self, name: &str) -> Result<String, Error> {
        self.opt_text(name)?
            .ok_or_else(|| Error::MissingField { field: name.into() })
    }

    fn record_id(&self) -> Result<RecordId, Error> {
        self.text("record_id")?
            .parse()
            .map_err(|e: Error| e.at_field("record_id"))
    }

    fn uscc(&self) -> Result<Option<CreditCode>, Error> {
        self.opt_text("uscc")?
            .map(|u| {
                u.parse::<CreditCode>()
                    .map_err(|e: crate::uscc::UsccError| e.for_field("uscc"))
            })
            .transpose()
    }

    fn authorisation_ref(&self) -> Result<Option<AuthorisationRef>, Error> {
        self.opt_text(AuthorisationRef::FIELD)?
            .map(|r| r.parse())
            .transpose()
    }

    fn evidence(&self) -> Result<Option<Evidence>, Error> {
        match self.0.get("evidence") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Evidence::from_base64(s).map(Some),
            Some(_) => Err(evidence_error("应为 base64 编码的字符串")),
        }
    }
}

impl ObjectionFiling {
    /// `{"record_id","ground","statement","evidence"?,"uscc"?,"authorisation_ref"?}`.
    pub fn from_json(value: &Value) -> Result<ObjectionFiling, Error> {
        let body = Body::of(value)?;
        Ok(ObjectionFiling {
            record_id: body.record_id()?,
            ground: Ground::parse(&body.text("ground")?)?,
            statement: body.text("statement")?,
            evidence: body.evidence()?,
            uscc: body.uscc()?,
            authorisation_ref: body.authorisation_ref()?,
        })
    }
}

impl RepairApplication {
    /// `{"record_id","statement","evidence"?,"uscc"?,"authorisation_ref"?}`.
    pub fn from_json(value: &Value) -> Result<RepairApplication, Error> {
        let body = Body::of(value)?;
        Ok(RepairApplication {
            record_id: body.record_id()?,
            statement: body.text("statement")?,
            evidence: body.evidence()?,
            uscc: body.uscc()?,
            authorisation_ref: body.authorisation_ref()?,
        })
    }
}

impl Resolution {
    /// `{"action":"correct","record":{…}}`, `{"action":"withdraw","reason"}`
    /// or `{"action":"uphold","reason"}`.
    pub fn from_json(value: &Value) -> Result<Resolution, Error> {
        let body = Body::of(value)?;
        match body.text("action")?.as_str() {
            "correct" => {
                let record = body.0.get("record").ok_or_else(|| Error::MissingField {
                    field: "record".into(),
                })?;
                // Field errors inside the record keep their own field names.
                Ok(Resolution::Correct(Box::new(Record::from_json(record)?)))
            }
            "withdraw" => Ok(Resolution::Withdraw {
                reason: body.text("reason")?,
            }),
            "uphold" => Ok(Resolution::Uphold {
                reason: body.text("reason")?,
            }),
            other => Err(Error::InvalidField {
                field: "action".into(),
                detail: format!(
                    "“{other}”应为 correct（更正记录）、withdraw（撤销记录）或 uphold（维持原记录）"
                ),
            }),
        }
    }
}

/// A reason from `{"reason": …}`: required for rejections, optional for approvals.
pub fn reason_from_json(value: &Value, required: bool) -> Result<Option<String>, Error> {
    let body = Body::of(value)?;
    if required {
        body.text("reason").map(Some)
    } else {
        body.opt_text("reason")
    }
}
