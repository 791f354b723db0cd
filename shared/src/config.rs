//! Every setting of the service, in one table ([`SETTINGS`]: name,
//! default, bounds, meaning), read from Spin variables once per request by
//! [`Settings::from_lookup`]. Components pass a lookup over
//! `spin_sdk::variables::get`; tests pass a map. The table, spin.toml's
//! `[variables]` and the README's configuration table are kept in step by
//! a test. Secrets are not settings: they have no default and are read
//! where they are used.

use chrono::{Months, NaiveDate};

use crate::client::TrustedProxies;
use crate::dispute::{DisputeConfig, RepairPeriods, WorkCalendar};
use crate::error::Error;
use crate::record::Severity;
/// The longest a penalty is published, in months from its decision date, by
/// severity (国家发展改革委令2025年第36号《信用修复管理办法》: minor at most 3
/// months, general at most 1 year, serious at most 3 years). At the maximum
/// publicity ends by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PublicityMaxima {
    pub minor: u32,
    pub general: u32,
    pub serious: u32,
}

impl PublicityMaxima {
    /// A penalty without a severity gets the longest of the three, so
    /// nothing is hidden before its time.
    pub fn months(&self, severity: Option<Severity>) -> u32 {
        match severity {
            Some(Severity::Minor) => self.minor,
            Some(Severity::General) => self.general,
            Some(Severity::Serious) => self.serious,
            None => self.minor.max(self.general).max(self.serious),
        }
    }

    /// The last day a penalty decided on `decided_on` is published. Periods
    /// count as 民法典 第二百零一条、第二百零二条 count them: from the day
    /// after the decision, ending on the same day of the last month, or on
    /// that month's last day when it has no such day.
    pub fn last_day(&self, decided_on: NaiveDate, severity: Option<Severity>) -> NaiveDate {
        decided_on
            .checked_add_months(Months::new(self.months(severity)))
            .unwrap_or(NaiveDate::MAX)
    }
}

/// The counting rules and report limits a report is issued under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleConfig {
    pub include_simplified_procedure: bool,
    pub show_repaired_records: bool,
    pub end_publicity_at_expiry: bool,
    /// Whether administrative coercive measures and criminal judgments
    /// count (发改财金〔2025〕565号 names both); switched off, they are
    /// still accepted and stored.
    pub include_coercive_measures: bool,
    pub include_criminal_judgments: bool,
    /// How long a penalty without a 公示截止期 is published; applies under
    /// `end_publicity_at_expiry`; a stated 公示截止期 takes precedence.
    pub publicity_max_months: PublicityMaxima,
    pub report_validity_days: u32,
    pub apply_limit_per_day: u32,
    /// Applications one counter staff member makes on entities' behalf a
    /// day; they do not count against the entity's `apply_limit_per_day`.
    pub staff_apply_limit_per_day: u32,
    /// Days a staff member may read an entity's reports, records and cases
    /// after applying or filing a case on its behalf.
    pub staff_mandate_days: u32,
}

impl Default for RuleConfig {
    fn default() -> Self {
        RuleConfig {
            include_simplified_procedure: INCLUDE_SIMPLIFIED_PROCEDURE.default,
            show_repaired_records: SHOW_REPAIRED_RECORDS.default,
            end_publicity_at_expiry: END_PUBLICITY_AT_EXPIRY.default,
            include_coercive_measures: INCLUDE_COERCIVE_MEASURES.default,
            include_criminal_judgments: INCLUDE_CRIMINAL_JUDGMENTS.default,
            publicity_max_months: PublicityMaxima {
                minor: PUBLICITY_MAX_MONTHS_MINOR.default,
                general: PUBLICITY_MAX_MONTHS_GENERAL.default,
                serious: PUBLICITY_MAX_MONTHS_SERIOUS.default,
            },
            report_validity_days: REPORT_VALIDITY_DAYS.default,
            apply_limit_per_day: APPLY_LIMIT_PER_DAY.default,
            staff_apply_limit_per_day: STAFF_APPLY_LIMIT_PER_DAY.default,
            staff_mandate_days: STAFF_MANDATE_DAYS.default,
        }
    }
}

/// Every setting, as one request reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub rules: RuleConfig,
    /// How a caller is told apart and how often it may verify.
    pub visitors: VisitorSettings,
    /// Days a verifier's address is kept in the access log before its day
    /// is pruned to a summary.
    pub verifier_address_retention_days: u32,
    /// Days without a submission after which a responsible unit is flagged
    /// in the collection figures (数据归集责任清单).
    pub collection_overdue_days: u32,
    /// Base of the verification link printed in the QR code, without a
    /// trailing slash.
    pub public_base_url: String,
    pub disputes: DisputeConfig,
    /// How callers sign in.
    pub auth: AuthSettings,
    /// The guides' contacts (办事指南 联系方式), as the county writes them.
    pub guide_contact_text: String,
}

impl Settings {
    /// Reads every setting through `lookup`: absent or blank ones take
    /// their default, malformed or out-of-bounds ones are `INVALID_CONFIG`
    /// naming the variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, Error> {
        let get = trimmed(&lookup);
        let rules = RuleConfig {
            include_simplified_procedure: INCLUDE_SIMPLIFIED_PROCEDURE.read(&get)?,
            show_repaired_records: SHOW_REPAIRED_RECORDS.read(&get)?,
            end_publicity_at_expiry: END_PUBLICITY_AT_EXPIRY.read(&get)?,
            include_coercive_measures: INCLUDE_COERCIVE_MEASURES.read(&get)?,
            include_criminal_judgments: INCLUDE_CRIMINAL_JUDGMENTS.read(&get)?,
            publicity_max_months: PublicityMaxima {
                minor: PUBLICITY_MAX_MONTHS_MINOR.read(&get)?,
                general: PUBLICITY_MAX_MONTHS_GENERAL.read(&get)?,
                serious: PUBLICITY_MAX_MONTHS_SERIOUS.read(&get)?,
            },
            report_validity_days: REPORT_VALIDITY_DAYS.read(&get)?,
            apply_limit_per_day: APPLY_LIMIT_PER_DAY.read(&get)?,
            staff_apply_limit_per_day: STAFF_APPLY_LIMIT_PER_DAY.read(&get)?,
            staff_mandate_days: STAFF_MANDATE_DAYS.read(&get)?,
        };
        let disputes = DisputeConfig {
            accept_working_days: OBJECTION_ACCEPT_WORKING_DAYS.read(&get)?,
            answer_working_days: OBJECTION_ANSWER_WORKING_DAYS.read(&get)?,
            repair_answer_working_days: REPAIR_ANSWER_WORKING_DAYS.read(&get)?,
            calendar: WorkCalendar::new(PUBLIC_HOLIDAYS.read(&get)?, WORKING_WEEKENDS.read(&get)?),
            repair_min_months: RepairPeriods {
                minor: REPAIR_MIN_MONTHS_MINOR.read(&get)?,
                general: REPAIR_MIN_MONTHS_GENERAL.read(&get)?,
                serious: REPAIR_MIN_MONTHS_SERIOUS.read(&get)?,
            },
        };
        // Only spin.toml's allowed_outbound_hosts uses it; a value that is no
        // origin would be a permission that never matches, so say so here.
        check_origin(WEBHOOK_HOST.name, get(WEBHOOK_HOST.name).as_deref())?;
        let auth = AuthSettings::from_lookup(&lookup)?;
        Ok(Settings {
            rules,
            visitors: VisitorSettings::from_lookup(&lookup)?,
            verifier_address_retention_days: VERIFIER_ADDRESS_RETENTION_DAYS.read(&get)?,
            collection_overdue_days: COLLECTION_OVERDUE_DAYS.read(&get)?,
            public_base_url: auth.public_base_url.clone(),
            disputes,
            auth,
            guide_contact_text: GUIDE_CONTACT_TEXT.read(&get)?,
        })
    }
}

/// What a public verification reads of the settings: the proxies whose
/// `X-Forwarded-For` names the client, and the rate limits. The verification
/// components read these three and not the whole table, since each setting
/// is a call to the host and verification is the hot path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorSettings {
    pub verify_rate_limit_per_minute: u32,
    /// Distinct verifying clients per minute, for the whole service: the
    /// global ceiling (requests per minute ≤ this × the per-client limit).
    pub verify_visitors_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
}

impl VisitorSettings {
    /// Reads the three settings as [`Settings::from_lookup`] does.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<VisitorSettings, Error> {
        let get = trimmed(&lookup);
        Ok(VisitorSettings {
            verify_rate_limit_per_minute: VERIFY_RATE_LIMIT_PER_MINUTE.read(&get)?,
            verify_visitors_per_minute: VERIFY_VISITORS_PER_MINUTE.read(&get)?,
            trusted_proxies: TRUSTED_PROXIES.read(&get)?,
        })
    }
}

/// Whether development tokens and keys are accepted: `auth_mode=development`,
/// set explicitly. Read alone where a request needs no more of
/// [`AuthSettings`] (verifying an upload's seal).
pub fn development_mode(lookup: impl Fn(&str) -> Option<String>) -> Result<bool, Error> {
    match trimmed(&lookup)(AUTH_MODE.name).as_deref() {
        None | Some("oidc") => Ok(false),
        Some("development") => Ok(true),
        Some(other) => Err(bad(
            AUTH_MODE.name,
            format!("“{other}”应为 oidc 或 development"),
        )),
    }
}

/// A lookup whose blank values count as absent, the rest trimmed.
fn trimmed(lookup: &impl Fn(&str) -> Option<String>) -> impl Fn(&str) -> Option<String> + '_ {
    move |name: &str| {
        lookup(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }
}

/// The PNG printed in the cover's signature block, when `seal_image_png`
/// supplies one: read only where a report is rendered, not with every
/// request's [`Settings`] (it may be 256 KiB of base64). `INVALID_CONFIG`
/// when it is not a PNG's base64.
pub fn seal_image_png(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Vec<u8>>, Error> {
    SEAL_IMAGE_PNG.read(&trimmed(&lookup))
}

/// How callers sign in, as one request reads it: development tokens only
/// where `auth_mode=development` says so, the identity provider where
/// `oidc_issuer` names one. Neither: authenticated endpoints answer 503
/// `AUTH_NOT_CONFIGURED` (fail closed). The secret `oidc_client_secret` is
/// read where it is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// Development tokens are accepted.
    pub development: bool,
    /// The public key development tokens are checked with (PEM), read
    /// only in development mode; without one none is accepted.
    pub development_token_public_key: Option<String>,
    pub provider: Option<ProviderSettings>,
    /// Where the provider sends the browser back to: `{public_base_url}/auth/callback`.
    pub public_base_url: String,
}

/// The OpenID provider this service trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSettings {
    /// The issuer URL exactly as the provider's tokens carry it in `iss`.
    pub issuer: String,
    /// The `aud` API access tokens must carry.
    pub audience: String,
    /// This service's client at the provider; the `aud` of its ID tokens.
    pub client_id: String,
    pub claims: ClaimNames,
}

/// The claims that carry the caller's credit code, role and unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimNames {
    pub uscc: String,
    pub role: String,
    pub unit: String,
}

impl AuthSettings {
    /// Reads the sign-in settings; `INVALID_CONFIG` names a malformed one.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<AuthSettings, Error> {
        let get = trimmed(&lookup);
        let development = development_mode(&lookup)?;
        let provider = match get(OIDC_ISSUER.name) {
            None => None,
            Some(issuer) => {
                if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
                    return Err(bad(
                        OIDC_ISSUER.name,
                        format!("“{issuer}”应以 https:// 开头"),
                    ));
                }
                let host = get(OIDC_ISSUER_HOST.name).unwrap_or_default();
                if !within_origin(&issuer, &host) {
                    return Err(bad(
                        OIDC_ISSUER_HOST.name,
                        format!("“{host}”应为 oidc_issuer 的 scheme://host[:port]（出站访问许可）"),
                    ));
                }
                let client_id = get(OIDC_CLIENT_ID.name).ok_or_else(|| {
                    bad(OIDC_CLIENT_ID.name, "设置 oidc_issuer 时必须设置".into())
                })?;
                Some(ProviderSettings {
                    audience: get(OIDC_AUDIENCE.name).unwrap_or_else(|| client_id.clone()),
                    issuer,
                    client_id,
                    claims: ClaimNames {
                        uscc: get(OIDC_CLAIM_USCC.name).unwrap_or(OIDC_CLAIM_USCC.default.into()),
                        role: get(OIDC_CLAIM_ROLE.name).unwrap_or(OIDC_CLAIM_ROLE.default.into()),
                        unit: get(OIDC_CLAIM_UNIT.name).unwrap_or(OIDC_CLAIM_UNIT.default.into()),
                    },
                })
            }
        };
        Ok(AuthSettings {
            development,
            development_token_public_key: development
                .then(|| get(DEVELOPMENT_TOKEN_PUBLIC_KEY.name))
                .flatten(),
            provider,
            public_base_url: PUBLIC_BASE_URL.read(&get, development)?,
        })
    }

    /// `AUTH_NOT_CONFIGURED` unless some way of signing in is configured.
    pub fn require_configured(&self) -> Result<(), Error> {
        if self.development || self.provider.is_some() {
            Ok(())
        } else {
            Err(Error::AuthNotConfigured(NOT_CONFIGURED_WHY.into()))
        }
    }
}

/// Why nobody can sign in, for logs: what an operator must set.
pub const NOT_CONFIGURED_WHY: &str = "neither oidc_issuer nor auth_mode=development is set: \
    every authenticated endpoint answers 503 AUTH_NOT_CONFIGURED (docs/operations.md, \"Sign-in\")";

/// Whether `url` is on `origin` (`scheme://host[:port]`), so that the
/// outbound-host permission made from `oidc_issuer_host` lets the service
/// reach the issuer.
fn within_origin(url: &str, origin: &str) -> bool {
    let origin = origin.trim_end_matches('/');
    !origin.is_empty()
        && url
            .strip_prefix(origin)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `scheme://host[:port]` with an http(s) scheme and nothing after the
/// authority, or unset.
fn check_origin(name: &str, value: Option<&str>) -> Result<(), Error> {
    let Some(value) = value else { return Ok(()) };
    let authority = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match authority {
        Some(a) if !a.is_empty() && !a.contains(['/', '?', '#', '@']) => Ok(()),
        _ => Err(bad(
            name,
            format!("“{value}”应为 scheme://host[:port]，不含路径（出站访问许可）"),
        )),
    }
}

/// A free-text setting with a default.
pub struct Text {
    pub name: &'static str,
    pub default: &'static str,
}

/// One row of the settings table, as documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    /// The default as spin.toml writes it.
    pub default: &'static str,
    /// The values allowed, in words.
    pub allowed: &'static str,
    pub meaning: &'static str,
}

/// Plain text shown to people: at most `max_chars` characters, no control
/// characters but line breaks.
pub struct PlainText {
    pub name: &'static str,
    pub default: &'static str,
    pub max_chars: usize,
}

/// A true/false setting.
pub struct Flag {
    pub name: &'static str,
    pub default: bool,
}

/// A whole number within bounds, so that no value can make date or
/// counter arithmetic overflow.
pub struct Count {
    pub name: &'static str,
    pub default: u32,
    pub min: u32,
    pub max: u32,
}

/// An http(s) base URL.
pub struct BaseUrl {
    pub name: &'static str,
    pub default: &'static str,
}

/// A list of dates `YYYY-MM-DD`, separated by commas, semicolons or spaces.
pub struct Dates {
    pub name: &'static str,
}

/// A list of networks (CIDRs or addresses), separated by commas or spaces.
pub struct Networks {
    pub name: &'static str,
}

/// A PNG image in base64, at most `max_bytes` decoded; empty means none.
pub struct Png {
    pub name: &'static str,
    pub max_bytes: usize,
}

impl Flag {
    fn read(&self, get: &impl Fn(&str) -> Option<String>) -> Result<bool, Error> {
        match get(self.name) {
            None => Ok(self.default),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(bad(self.name, format!("“{v}”应为 true 或 false"))),
            },
        }
    }
}

impl PlainText {
    fn read(&self, get: &impl Fn(&str) -> Option<String>) -> Result<String, Error> {
        let text = get(self.name).unwrap_or_else(|| self.default.to_owned());
        if text.chars().count() > self.max_chars {
            return Err(bad(
                self.name,
                format!("应不超过 {} 个字符", self.max_chars),
            ));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(bad(self.name, "除换行外不能含控制字符".into()));
        }
        Ok(text)
    }
}

impl Count {
    fn read(&self, get: &impl Fn(&str) -> Option<String>) -> Result<u32, Error> {
        match get(self.name) {
            None => Ok(self.default),
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (self.min..=self.max).contains(&n) => Ok(n),
                _ => Err(bad(
                    self.name,
                    format!("“{v}”应为 {} 到 {} 之间的整数", self.min, self.max),
                )),
            },
        }
    }
}

impl BaseUrl {
    /// The URL without a trailing slash. Outside development mode only
    /// https: the verification link and the sign-in redirect travel in
    /// clear over http, and a proxy could rewrite them.
    fn read(
        &self,
        get: &impl Fn(&str) -> Option<String>,
        development: bool,
    ) -> Result<String, Error> {
        let url = get(self.name).unwrap_or_else(|| self.default.to_owned());
        if url.starts_with("https://") || (development && url.starts_with("http://")) {
            return Ok(url.trim_end_matches('/').to_owned());
        }
        Err(bad(
            self.name,
            if development {
                format!("“{url}”应以 http:// 或 https:// 开头")
            } else {
                format!("“{url}”应以 https:// 开头（http 仅限 auth_mode=development）")
            },
        ))
    }
}

impl Dates {
    fn read(&self, get: &impl Fn(&str) -> Option<String>) -> Result<Vec<NaiveDate>, Error> {
        get(self.name)
            .unwrap_or_default()
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(|s| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| bad(self.name, format!("“{s}”不是 YYYY-MM-DD 格式的日期")))
            })
            .collect()
    }
}

impl Networks {
    fn read(&self, get: &impl Fn(&str) -> Option<String>) -> Result<TrustedProxies, Error> {
        TrustedProxies::parse(&get(self.name).unwrap_or_default()).map_err(|e| bad(self.name, e))
    }
}

impl Png {
    /// The PNG's bytes; whether they decode is checked where it is drawn.
    fn read(&self, get: &impl Fn(&str) -> Option<String>) -> Result<Option<Vec<u8>>, Error> {
        use base64::Engine as _;
        const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
        let Some(text) = get(self.name) else {
            return Ok(None);
        };
        let compact: String = text.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| bad(self.name, "应为 PNG 图片的 base64 编码".into()))?;
        if !bytes.starts_with(SIGNATURE) {
            return Err(bad(self.name, "不是 PNG 图片".into()));
        }
        if bytes.len() > self.max_bytes {
            return Err(bad(
                self.name,
                format!(
                    "图片为 {} 字节，不应超过 {} 字节",
                    bytes.len(),
                    self.max_bytes
                ),
            ));
        }
        Ok(Some(bytes))
    }
}

fn bad(variable: &str, detail: String) -> Error {
    Error::InvalidConfig {
        variable: variable.to_owned(),
        detail,
    }
}

pub const REPORT_VALIDITY_DAYS: Count = Count {
    name: "report_validity_days",
    default: 30,
    min: 0,
    max: 3650,
};
pub const INCLUDE_SIMPLIFIED_PROCEDURE: Flag = Flag {
    name: "include_simplified_procedure",
    default: false,
};
pub const SHOW_REPAIRED_RECORDS: Flag = Flag {
    name: "show_repaired_records",
    default: false,
};
pub const END_PUBLICITY_AT_EXPIRY: Flag = Flag {
    name: "end_publicity_at_expiry",
    default: true,
};
/// On by default: 发改财金〔2025〕565号 puts 行政强制 in special credit
/// reports (docs/decisions.md).
pub const INCLUDE_COERCIVE_MEASURES: Flag = Flag {
    name: "include_coercive_measures",
    default: true,
};
/// On by default: 565号 puts criminal judgments in special credit reports,
/// and the county notice defers criminal records to "the relevant rules"
/// (docs/decisions.md).
pub const INCLUDE_CRIMINAL_JUDGMENTS: Flag = Flag {
    name: "include_criminal_judgments",
    default: true,
};
pub const VERIFY_RATE_LIMIT_PER_MINUTE: Count = Count {
    name: "verify_rate_limit_per_minute",
    default: 120,
    min: 1,
    max: 1_000_000,
};
pub const VERIFY_VISITORS_PER_MINUTE: Count = Count {
    name: "verify_visitors_per_minute",
    default: 2000,
    min: 1,
    max: 10_000_000,
};
pub const VERIFIER_ADDRESS_RETENTION_DAYS: Count = Count {
    name: "verifier_address_retention_days",
    default: 180,
    min: 1,
    max: 3650,
};
// ----- collection accountability (stats) -----
pub const COLLECTION_OVERDUE_DAYS: Count = Count {
    name: "collection_overdue_days",
    default: 30,
    min: 1,
    max: 3650,
};
// ----- end collection accountability -----
pub const APPLY_LIMIT_PER_DAY: Count = Count {
    name: "apply_limit_per_day",
    default: 10,
    min: 1,
    max: 10_000,
};
pub const STAFF_APPLY_LIMIT_PER_DAY: Count = Count {
    name: "staff_apply_limit_per_day",
    default: 50,
    min: 1,
    max: 10_000,
};
pub const STAFF_MANDATE_DAYS: Count = Count {
    name: "staff_mandate_days",
    default: 30,
    min: 1,
    max: 365,
};
pub const PUBLIC_BASE_URL: BaseUrl = BaseUrl {
    name: "public_base_url",
    default: "http://127.0.0.1:3000",
};
/// 0 means "at once": a case not accepted on filing is overdue.
pub const OBJECTION_ACCEPT_WORKING_DAYS: Count = Count {
    name: "objection_accept_working_days",
    default: 2,
    min: 0,
    max: 250,
};
pub const OBJECTION_ANSWER_WORKING_DAYS: Count = Count {
    name: "objection_answer_working_days",
    default: 10,
    min: 0,
    max: 250,
};
/// 信用修复 asks for quick handling (the county notice's 申诉快速办理);
/// the decision is due this many working days after the application.
pub const REPAIR_ANSWER_WORKING_DAYS: Count = Count {
    name: "repair_answer_working_days",
    default: 5,
    min: 0,
    max: 250,
};
pub const REPAIR_MIN_MONTHS_MINOR: Count = Count {
    name: "repair_min_months_minor",
    default: 0,
    min: 0,
    max: 120,
};
pub const REPAIR_MIN_MONTHS_GENERAL: Count = Count {
    name: "repair_min_months_general",
    default: 3,
    min: 0,
    max: 120,
};
pub const REPAIR_MIN_MONTHS_SERIOUS: Count = Count {
    name: "repair_min_months_serious",
    default: 12,
    min: 0,
    max: 120,
};
pub const PUBLICITY_MAX_MONTHS_MINOR: Count = Count {
    name: "publicity_max_months_minor",
    default: 3,
    min: 1,
    max: 120,
};
pub const PUBLICITY_MAX_MONTHS_GENERAL: Count = Count {
    name: "publicity_max_months_general",
    default: 12,
    min: 1,
    max: 120,
};
pub const PUBLICITY_MAX_MONTHS_SERIOUS: Count = Count {
    name: "publicity_max_months_serious",
    default: 36,
    min: 1,
    max: 120,
};
pub const SEAL_IMAGE_PNG: Png = Png {
    name: "seal_image_png",
    max_bytes: 256 * 1024,
};
pub const PUBLIC_HOLIDAYS: Dates = Dates {
    name: "public_holidays",
};
pub const WORKING_WEEKENDS: Dates = Dates {
    name: "working_weekends",
};
pub const TRUSTED_PROXIES: Networks = Networks {
    name: "trusted_proxies",
};

pub const GUIDE_CONTACT_TEXT: PlainText = PlainText {
    name: "guide_contact_text",
    default: "永昌县政务服务大厅信用窗口（工作日办理）；数据异议与信用修复请联系记录的责任单位或县发展和改革局",
    max_chars: 1000,
};

pub const AUTH_MODE: Text = Text {
    name: "auth_mode",
    default: "oidc",
};
pub const OIDC_ISSUER: Text = Text {
    name: "oidc_issuer",
    default: "",
};
pub const OIDC_ISSUER_HOST: Text = Text {
    name: "oidc_issuer_host",
    default: "https://identity-provider.invalid",
};
/// The origin of relying parties' webhook receivers that the components
/// delivering webhooks may call (docs/integration.md: more hosts are more
/// `allowed_outbound_hosts` entries in spin.toml).
pub const WEBHOOK_HOST: Text = Text {
    name: "webhook_host",
    default: "https://webhook-receiver.invalid",
};
/// The Ed25519 public key (SPKI PEM) of `credit-dev`'s development token
/// key: read only with `auth_mode=development`.
pub const DEVELOPMENT_TOKEN_PUBLIC_KEY: Text = Text {
    name: "development_token_public_key",
    default: "",
};
pub const OIDC_AUDIENCE: Text = Text {
    name: "oidc_audience",
    default: "",
};
pub const OIDC_CLIENT_ID: Text = Text {
    name: "oidc_client_id",
    default: "",
};
pub const OIDC_CLAIM_USCC: Text = Text {
    name: "oidc_claim_uscc",
    default: "uscc",
};
pub const OIDC_CLAIM_ROLE: Text = Text {
    name: "oidc_claim_role",
    default: "role",
};
pub const OIDC_CLAIM_UNIT: Text = Text {
    name: "oidc_claim_unit",
    default: "unit",
};

/// The settings table: every setting, its default as spin.toml writes it,
/// what it allows and what it means.
pub const SETTINGS: &[Setting] = &[
    Setting {
        name: REPORT_VALIDITY_DAYS.name,
        default: "30",
        allowed: "0–3650",
        meaning: "days a report verifies as VALID after issue",
    },
    Setting {
        name: INCLUDE_SIMPLIFIED_PROCEDURE.name,
        default: "false",
        allowed: "true/false",
        meaning: "count simplified-procedure penalties (national notice 565号)",
    },
    Setting {
        name: SHOW_REPAIRED_RECORDS.name,
        default: "false",
        allowed: "true/false",
        meaning: "print repaired records labelled 已修复 instead of omitting them",
    },
    Setting {
        name: END_PUBLICITY_AT_EXPIRY.name,
        default: "true",
        allowed: "true/false",
        meaning: "a penalty stops counting once its publicity has ended (公示截止期, or the maximum below)",
    },
    Setting {
        name: INCLUDE_COERCIVE_MEASURES.name,
        default: "true",
        allowed: "true/false",
        meaning: "count administrative coercive measures (行政强制, 565号); off: still accepted and stored, not counted nor printed",
    },
    Setting {
        name: INCLUDE_CRIMINAL_JUDGMENTS.name,
        default: "true",
        allowed: "true/false",
        meaning: "count criminal judgments (刑事裁判, 565号); off: still accepted and stored, not counted nor printed",
    },
    Setting {
        name: VERIFY_RATE_LIMIT_PER_MINUTE.name,
        default: "120",
        allowed: "1–1000000",
        meaning: "verifications per client address per minute",
    },
    Setting {
        name: VERIFY_VISITORS_PER_MINUTE.name,
        default: "2000",
        allowed: "1–10000000",
        meaning: "distinct verifying clients per minute, service-wide; more answer 429 TOO_MANY_VISITORS",
    },
    Setting {
        name: VERIFIER_ADDRESS_RETENTION_DAYS.name,
        default: "180",
        allowed: "1–3650",
        meaning: "days verifiers' addresses stay in the access log before a day is pruned to a summary",
    },
    Setting {
        name: COLLECTION_OVERDUE_DAYS.name,
        default: "30",
        allowed: "1–3650",
        meaning: "days without a submission after which a responsible unit is flagged in GET /api/v1/stats/collection (数据归集责任清单)",
    },
    Setting {
        name: APPLY_LIMIT_PER_DAY.name,
        default: "10",
        allowed: "1–10000",
        meaning: "report applications per entity per day",
    },
    Setting {
        name: STAFF_APPLY_LIMIT_PER_DAY.name,
        default: "50",
        allowed: "1–10000",
        meaning: "report applications per counter staff member per day, on entities' behalf (not counted against the entity's limit)",
    },
    Setting {
        name: STAFF_MANDATE_DAYS.name,
        default: "30",
        allowed: "1–365",
        meaning: "days counter staff may read an entity's reports, records and cases after applying or filing a case on its behalf",
    },
    Setting {
        name: PUBLIC_BASE_URL.name,
        default: "http://127.0.0.1:3000",
        allowed: "https:// URL (http:// only with auth_mode=development)",
        meaning: "base of the verification link in the QR code",
    },
    Setting {
        name: OBJECTION_ACCEPT_WORKING_DAYS.name,
        default: "2",
        allowed: "0–250",
        meaning: "working days to accept or reject an objection (0: at once)",
    },
    Setting {
        name: OBJECTION_ANSWER_WORKING_DAYS.name,
        default: "10",
        allowed: "0–250",
        meaning: "working days from acceptance to resolve an objection",
    },
    Setting {
        name: REPAIR_ANSWER_WORKING_DAYS.name,
        default: "5",
        allowed: "0–250",
        meaning: "working days from application to decide a credit repair; past it the case is overdue",
    },
    Setting {
        name: GUIDE_CONTACT_TEXT.name,
        default: GUIDE_CONTACT_TEXT.default,
        allowed: "plain text, at most 1000 characters (line breaks kept)",
        meaning: "the contacts the guides page (办事指南) shows, served in the catalog",
    },
    Setting {
        name: REPAIR_MIN_MONTHS_MINOR.name,
        default: "0",
        allowed: "0–120",
        meaning: "months after the decision before a minor penalty may be repaired",
    },
    Setting {
        name: REPAIR_MIN_MONTHS_GENERAL.name,
        default: "3",
        allowed: "0–120",
        meaning: "the same for a general penalty (and one without a severity)",
    },
    Setting {
        name: REPAIR_MIN_MONTHS_SERIOUS.name,
        default: "12",
        allowed: "0–120",
        meaning: "the same for a serious penalty",
    },
    Setting {
        name: PUBLICITY_MAX_MONTHS_MINOR.name,
        default: "3",
        allowed: "1–120",
        meaning: "months after the decision when a minor penalty's publicity ends by itself",
    },
    Setting {
        name: PUBLICITY_MAX_MONTHS_GENERAL.name,
        default: "12",
        allowed: "1–120",
        meaning: "the same for a general penalty",
    },
    Setting {
        name: PUBLICITY_MAX_MONTHS_SERIOUS.name,
        default: "36",
        allowed: "1–120",
        meaning: "the same for a serious penalty (and the longest for one without a severity)",
    },
    Setting {
        name: PUBLIC_HOLIDAYS.name,
        default: "",
        allowed: "dates YYYY-MM-DD, comma-separated",
        meaning: "public holidays of the working-day calendar",
    },
    Setting {
        name: WORKING_WEEKENDS.name,
        default: "",
        allowed: "dates YYYY-MM-DD, comma-separated",
        meaning: "weekend days worked (调休) of the working-day calendar",
    },
    Setting {
        name: TRUSTED_PROXIES.name,
        default: "",
        allowed: "CIDRs or addresses, comma-separated",
        meaning: "proxies (ingress, load balancer) whose X-Forwarded-For names the client; rate limits and the audit count that client",
    },
    Setting {
        name: AUTH_MODE.name,
        default: AUTH_MODE.default,
        allowed: "oidc or development",
        meaning: "development: also accept development tokens (checked with development_token_public_key); never in production",
    },
    Setting {
        name: DEVELOPMENT_TOKEN_PUBLIC_KEY.name,
        default: DEVELOPMENT_TOKEN_PUBLIC_KEY.default,
        allowed: "an Ed25519 public key, PEM, or empty",
        meaning: "read only with auth_mode=development: the public key of the development token key (make run's is in the state folder); empty: no development token is accepted",
    },
    Setting {
        name: OIDC_ISSUER.name,
        default: OIDC_ISSUER.default,
        allowed: "https:// URL, or empty",
        meaning: "the identity provider's issuer; empty: no provider sign-in (and without development mode, 503 AUTH_NOT_CONFIGURED)",
    },
    Setting {
        name: OIDC_ISSUER_HOST.name,
        default: OIDC_ISSUER_HOST.default,
        allowed: "scheme://host[:port] of oidc_issuer",
        meaning: "the provider's origin, the only outbound host the sign-in and API components may call",
    },
    Setting {
        name: WEBHOOK_HOST.name,
        default: WEBHOOK_HOST.default,
        allowed: "scheme://host[:port]",
        meaning: "a relying party's webhook origin that revocation notices may be posted to (more: further allowed_outbound_hosts entries, docs/integration.md)",
    },
    Setting {
        name: OIDC_AUDIENCE.name,
        default: OIDC_AUDIENCE.default,
        allowed: "text; empty: oidc_client_id",
        meaning: "the aud that API access tokens must carry",
    },
    Setting {
        name: OIDC_CLIENT_ID.name,
        default: OIDC_CLIENT_ID.default,
        allowed: "text; required with oidc_issuer",
        meaning: "this service's client id at the provider (browser sign-in)",
    },
    Setting {
        name: OIDC_CLAIM_USCC.name,
        default: OIDC_CLAIM_USCC.default,
        allowed: "claim name",
        meaning: "the claim carrying a legal person's unified social credit code",
    },
    Setting {
        name: OIDC_CLAIM_ROLE.name,
        default: OIDC_CLAIM_ROLE.default,
        allowed: "claim name",
        meaning: "the claim carrying the role: entity, staff, department or admin",
    },
    Setting {
        name: OIDC_CLAIM_UNIT.name,
        default: OIDC_CLAIM_UNIT.default,
        allowed: "claim name",
        meaning: "the claim carrying an officer's unit, as the catalog names it (e.g. 县税务局)",
    },
    Setting {
        name: SEAL_IMAGE_PNG.name,
        default: "",
        allowed: "a PNG in base64, at most 256 KiB",
        meaning: "the seal image printed in the cover's signature block (none: text only)",
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Unless the pairs set the mode or the URL, an https URL, which
    /// every mode accepts.
    fn with_base_url(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if !map.contains_key("auth_mode") {
            map.entry("public_base_url".into())
                .or_insert_with(|| "https://credit.example.cn".into());
        }
        map
    }

    fn from(pairs: &[(&str, &str)]) -> Result<Settings, Error> {
        let map = with_base_url(pairs);
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn a_verification_reads_its_three_settings_as_the_whole_table_does() {
        let pairs = [
            ("verify_rate_limit_per_minute", " 7 "),
            ("verify_visitors_per_minute", "900"),
            ("trusted_proxies", "10.0.0.0/8"),
            ("auth_mode", "development"),
        ];
        let map = with_base_url(&pairs);
        let read = std::cell::RefCell::new(Vec::new());
        let visitors = VisitorSettings::from_lookup(|k| {
            read.borrow_mut().push(k.to_owned());
            map.get(k).cloned()
        })
        .unwrap();
        assert_eq!(visitors, from(&pairs).unwrap().visitors);
        assert_eq!(visitors.verify_rate_limit_per_minute, 7);
        assert_eq!(read.borrow().len(), 3, "only its own settings: {read:?}");
        // Its settings are checked as strictly as in the whole table.
        let bad = [("verify_rate_limit_per_minute", "0")];
        let problem = VisitorSettings::from_lookup(|k| with_base_url(&bad).get(k).cloned());
        assert!(
            matches!(problem, Err(Error::InvalidConfig { ref variable, .. }) if variable == "verify_rate_limit_per_minute")
        );
    }

    #[test]
    fn development_mode_is_only_ever_named_explicitly() {
        let mode = |value: Option<&str>| {
            development_mode(|k| {
                (k == "auth_mode")
                    .then(|| value.map(str::to_owned))
                    .flatten()
            })
        };
        assert!(!mode(None).unwrap());
        assert!(!mode(Some(" ")).unwrap());
        assert!(!mode(Some("oidc")).unwrap());
        assert!(mode(Some(" development ")).unwrap());
        assert!(
            matches!(mode(Some("dev")), Err(Error::InvalidConfig { ref variable, .. }) if variable == "auth_mode")
        );
    }

    #[test]
    fn defaults_follow_the_county_notice_and_the_table() {
        // The default base URL is http on loopback: development mode only.
        let s = from(&[("auth_mode", "development")]).unwrap();
        assert_eq!(s.rules, RuleConfig::default());
        assert!(!s.rules.include_simplified_procedure && !s.rules.show_repaired_records);
        assert_eq!(
            (
                s.rules.report_validity_days,
                s.rules.apply_limit_per_day,
                s.visitors.verify_rate_limit_per_minute
            ),
            (30, 10, 120)
        );
        assert_eq!(s.public_base_url, "http://127.0.0.1:3000");
        assert_eq!(
            (
                s.disputes.accept_working_days,
                s.disputes.answer_working_days
            ),
            (2, 10)
        );
        // Each table row's default is what reading nothing gives.
        let by_default = |name: &str| SETTINGS.iter().find(|s| s.name == name).unwrap().default;
        assert_eq!(by_default("report_validity_days"), "30");
        assert_eq!(by_default("end_publicity_at_expiry"), "true");
    }

    #[test]
    fn guide_contact_text_is_bounded_plain_text_and_repairs_have_a_deadline() {
        let with = |value: String| {
            Settings::from_lookup(move |name| match name {
                "guide_contact_text" => Some(value.clone()),
                "auth_mode" => Some("development".into()),
                _ => None,
            })
        };
        let defaults = with(String::new()).unwrap();
        assert_eq!(defaults.guide_contact_text, GUIDE_CONTACT_TEXT.default);
        assert_eq!(defaults.disputes.repair_answer_working_days, 5);
        let two_lines = "县发改局 0935-0000000\n政务服务大厅信用窗口".to_owned();
        assert_eq!(
            with(two_lines.clone()).unwrap().guide_contact_text,
            two_lines
        );
        assert!(with("字".repeat(1000)).is_ok());
        for bad in ["字".repeat(1001), "bell\u{7}".into()] {
            match with(bad) {
                Err(Error::InvalidConfig { variable, .. }) => {
                    assert_eq!(variable, "guide_contact_text")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn webhook_host_must_be_an_origin() {
        let with = |value: &'static str| {
            Settings::from_lookup(move |name| match name {
                "webhook_host" => Some(value.into()),
                "public_base_url" => Some("https://credit.example.test".into()),
                _ => None,
            })
        };
        assert!(with("https://tender.example.cn").is_ok());
        assert!(with("http://127.0.0.1:8080").is_ok());
        for bad in [
            "https://tender.example.cn/hooks",
            "tender.example.cn",
            "ftp://x",
            "https://",
        ] {
            let error = with(bad).unwrap_err();
            assert_eq!(error.code(), "INVALID_CONFIG", "{bad}");
        }
    }

    #[test]
    fn every_setting_read_is_in_the_table_and_every_row_is_read() {
        let read = std::cell::RefCell::new(Vec::new());
        // With a provider and in development mode, so that every sign-in setting is read too.
        let lookup = |name: &str| {
            read.borrow_mut().push(name.to_owned());
            match name {
                "auth_mode" => Some("development".into()),
                "oidc_issuer" => Some("https://id.example.test/oidc".into()),
                "oidc_issuer_host" => Some("https://id.example.test".into()),
                "oidc_client_id" => Some("credit-report".into()),
                "public_base_url" => Some("https://credit.example.cn".into()),
                _ => None,
            }
        };
        // The seal image is read on its own, where the cover is drawn.
        Settings::from_lookup(lookup).unwrap();
        seal_image_png(lookup).unwrap();
        let mut read = read.into_inner();
        read.sort();
        read.dedup();
        let mut table: Vec<String> = SETTINGS.iter().map(|s| s.name.to_owned()).collect();
        table.sort();
        assert_eq!(read, table);
    }

    fn auth(pairs: &[(&str, &str)]) -> Result<AuthSettings, Error> {
        let map = with_base_url(pairs);
        AuthSettings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn sign_in_fails_closed_unless_a_provider_or_development_mode_is_set() {
        let nothing = auth(&[]).unwrap();
        assert_eq!(
            nothing.require_configured().unwrap_err().code(),
            "AUTH_NOT_CONFIGURED"
        );
        assert!(
            auth(&[("auth_mode", "development")])
                .unwrap()
                .require_configured()
                .is_ok()
        );
        assert_eq!(
            auth(&[("auth_mode", "dev")]).unwrap_err().code(),
            "INVALID_CONFIG"
        );
        // The development token key counts only in development mode.
        let key = ("development_token_public_key", "-----BEGIN PUBLIC KEY-----");
        assert_eq!(auth(&[key]).unwrap().development_token_public_key, None);
        assert_eq!(
            auth(&[key, ("auth_mode", "development")])
                .unwrap()
                .development_token_public_key
                .as_deref(),
            Some(key.1)
        );
        let issuer = [
            ("oidc_issuer", "https://id.example.test/oidc"),
            ("oidc_issuer_host", "https://id.example.test"),
            ("oidc_client_id", "credit-report"),
        ];
        let with_provider = auth(&issuer).unwrap();
        let provider = with_provider.provider.as_ref().unwrap();
        assert!(with_provider.require_configured().is_ok() && !with_provider.development);
        // The audience defaults to the client id; the claims to their documented names.
        assert_eq!(provider.audience, "credit-report");
        assert_eq!(
            (
                provider.claims.uscc.as_str(),
                provider.claims.role.as_str(),
                provider.claims.unit.as_str()
            ),
            ("uscc", "role", "unit")
        );
        // The outbound permission must cover the issuer, and a client id is needed.
        for (name, value) in [
            ("oidc_issuer_host", "https://id.example.test.evil"),
            ("oidc_issuer_host", "http://id.example.test"),
            ("oidc_client_id", " "),
        ] {
            let mut pairs = issuer.to_vec();
            pairs.retain(|(k, _)| *k != name);
            pairs.push((name, value));
            let e = auth(&pairs).unwrap_err();
            assert!(
                matches!(e, Error::InvalidConfig { ref variable, .. } if variable == name),
                "{name}={value}"
            );
        }
    }

    #[test]
    fn values_that_would_overflow_date_arithmetic_are_refused() {
        for (k, v) in [
            ("report_validity_days", "4294967295"),
            ("report_validity_days", "100000"),
            ("publicity_max_months_serious", "100000"),
            ("objection_answer_working_days", "100000"),
            ("verify_rate_limit_per_minute", "0"),
        ] {
            let e = from(&[(k, v)]).unwrap_err();
            assert!(
                matches!(e, Error::InvalidConfig { ref variable, .. } if variable == k),
                "{k}={v}"
            );
        }
    }

    #[test]
    fn reads_overrides() {
        let c = from(&[
            ("include_simplified_procedure", "true"),
            ("show_repaired_records", "1"),
            ("report_validity_days", "0"),
            ("apply_limit_per_day", "3"),
            ("public_base_url", "https://credit.example.cn/"),
            ("publicity_max_months_serious", "24"),
        ])
        .unwrap();
        assert_eq!(
            c.rules.publicity_max_months,
            PublicityMaxima {
                minor: 3,
                general: 12,
                serious: 24
            }
        );
        assert!(c.rules.include_simplified_procedure && c.rules.show_repaired_records);
        assert_eq!(
            (c.rules.report_validity_days, c.rules.apply_limit_per_day),
            (0, 3)
        );
        assert_eq!(c.public_base_url, "https://credit.example.cn");
    }

    #[test]
    fn the_seal_image_is_a_base64_png_or_nothing() {
        let image = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            seal_image_png(|name| map.get(name).cloned())
        };
        assert_eq!(image(&[]).unwrap(), None);
        assert_eq!(image(&[("seal_image_png", " ")]).unwrap(), None);
        let png = image(&[("seal_image_png", "iVBORw0KGgoAAAAN\n SUhEUg==")]).unwrap();
        assert!(png.unwrap().starts_with(b"\x89PNG"));
        let big = format!("iVBORw0KGgo{}", "A".repeat(400 * 1024));
        for v in ["R0lGODlh", "not base64!", big.as_str()] {
            // Every other setting reads fine: the image is checked where it is drawn.
            assert!(from(&[("seal_image_png", v)]).is_ok());
            let e = image(&[("seal_image_png", v)]).unwrap_err();
            assert!(
                matches!(e, Error::InvalidConfig { ref variable, .. } if variable == "seal_image_png"),
                "{v:.20}"
            );
        }
    }

    #[test]
    fn public_base_url_is_https_outside_development_mode() {
        let url = |mode: &str, url: &str| {
            from(&[("auth_mode", mode), ("public_base_url", url)]).map(|s| s.public_base_url)
        };
        assert_eq!(
            url("oidc", "https://credit.example.cn/").unwrap(),
            "https://credit.example.cn"
        );
        for http in ["http://credit.example.cn", "http://127.0.0.1:3000"] {
            let refused = url("oidc", http).unwrap_err();
            assert!(
                matches!(refused, Error::InvalidConfig { ref variable, .. } if variable == "public_base_url"),
                "{http}: {refused:?}"
            );
            assert_eq!(url("development", http).unwrap(), http);
        }
        // Unset, the default (loopback http) is refused outside development mode too.
        let unset = Settings::from_lookup(|_| None).unwrap_err();
        assert!(
            matches!(unset, Error::InvalidConfig { ref variable, .. } if variable == "public_base_url")
        );
    }

    #[test]
    fn bad_values_are_typed_errors() {
        for (k, v) in [
            ("include_simplified_procedure", "maybe"),
            ("report_validity_days", "-1"),
            ("apply_limit_per_day", "0"),
            ("public_base_url", "ftp://x"),
            ("publicity_max_months_minor", "0"),
            ("publicity_max_months_general", "a year"),
        ] {
            let e = from(&[(k, v)]).unwrap_err();
            assert_eq!(e.code(), "INVALID_CONFIG");
            assert!(matches!(e, Error::InvalidConfig { ref variable, .. } if variable == k));
        }
    }

    #[test]
    fn publicity_maxima_follow_order_36_and_count_like_the_civil_code() {
        let m = RuleConfig::default().publicity_max_months;
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            m.last_day(d("2026-01-10"), Some(Severity::Minor)),
            d("2026-04-10")
        );
        assert_eq!(
            m.last_day(d("2026-01-10"), Some(Severity::General)),
            d("2027-01-10")
        );
        assert_eq!(
            m.last_day(d("2026-01-10"), Some(Severity::Serious)),
            d("2029-01-10")
        );
        // No such day in the last month: its last day.
        assert_eq!(
            m.last_day(d("2026-08-31"), Some(Severity::Minor)),
            d("2026-11-30")
        );
        assert_eq!(
            m.last_day(d("2024-02-29"), Some(Severity::General)),
            d("2025-02-28")
        );
        // Without a severity: the longest, whichever that is.
        assert_eq!(m.months(None), 36);
        let reordered = PublicityMaxima {
            minor: 3,
            general: 48,
            serious: 36,
        };
        assert_eq!(reordered.months(None), 48);
    }
}
