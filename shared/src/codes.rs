//! Report identifiers: the public report number and the secret verification
//! code printed at the top right of the cover.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::Error;

/// Characters that survive printing and retyping: no 0/O/o, 1/l/I/i/j, and no
/// lower-case letters that look like their capitals (c k p s u v w x y z).
/// 44 symbols, so 16 characters carry about 87 bits.
pub const CODE_ALPHABET: &[u8; 44] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZabdefghmnqrt";
pub const CODE_LEN: usize = 16;

/// A verification code: 16 characters of [`CODE_ALPHABET`], case-sensitive.
/// A secret: compare with [`VerificationCode::matches`], store by
/// [`VerificationCode::lookup_digest`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VerificationCode(String);

impl VerificationCode {
    /// A fresh code from the operating system's CSPRNG.
    pub fn generate() -> Result<VerificationCode, Error> {
        // Rejection sampling keeps every symbol equally likely: 220 = 5 × 44.
        let limit = (256 / CODE_ALPHABET.len() * CODE_ALPHABET.len()) as u8;
        let mut out = String::with_capacity(CODE_LEN);
        let mut buf = [0u8; 32];
        while out.len() < CODE_LEN {
            getrandom::fill(&mut buf).map_err(|e| Error::Internal(format!("getrandom: {e}")))?;
            for b in buf {
                if b < limit && out.len() < CODE_LEN {
                    out.push(CODE_ALPHABET[(b as usize) % CODE_ALPHABET.len()] as char);
                }
            }
        }
        Ok(VerificationCode(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// "abcd-EFGH-2345-mnqr": easier to read off paper; hyphens are ignored
    /// when parsed back.
    pub fn grouped(&self) -> String {
        self.0
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// Constant-time equality, for comparing against a stored secret.
    pub fn matches(&self, other: &VerificationCode) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }

    /// Hex SHA-256 of the code: the store key that finds its report, so the
    /// code itself is never a key and lookups compare digests, not secrets.
    pub fn lookup_digest(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerificationCode(***)")
    }
}

impl fmt::Display for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for VerificationCode {
    type Err = Error;

    /// Spaces and hyphens are ignored; case is significant. A malformed code
    /// is `INVALID_CODE`, never "not found".
    fn from_str(s: &str) -> Result<Self, Error> {
        let cleaned: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\u{3000}' | '\t'))
            .collect();
        let count = cleaned.chars().count();
        if count != CODE_LEN {
            return Err(Error::InvalidCode(format!(
                "核验码应为 {CODE_LEN} 位字母和数字（可含空格或连字符），实际为 {count} 位，请对照报告封面右上方的核验码重新输入"
            )));
        }
        if let Some(bad) = cleaned
            .chars()
            .find(|c| !c.is_ascii() || !CODE_ALPHABET.contains(&(*c as u8)))
        {
            return Err(Error::InvalidCode(format!(
                "核验码中不会出现字符“{bad}”（核验码不含 0、O、o、1、l、I 等易混淆字符），请检查后重新输入"
            )));
        }
        Ok(VerificationCode(cleaned))
    }
}

impl TryFrom<String> for VerificationCode {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<VerificationCode> for String {
    fn from(c: VerificationCode) -> String {
        c.0
    }
}

/// A report number: "YC" + issue date + "-" + the day's sequence number,
/// e.g. "YC20261129-000001". Readable and sequential, not secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReportNo(String);

impl ReportNo {
    pub fn new(issue_date: NaiveDate, sequence: u64) -> ReportNo {
        ReportNo(format!("YC{}-{:06}", issue_date.format("%Y%m%d"), sequence))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ReportNo {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        let bad = || Error::InvalidReportNo(format!("“{s}”，应形如 YC20261129-000001"));
        let rest = s.strip_prefix("YC").ok_or_else(bad)?;
        let (date, seq) = rest.split_once('-').ok_or_else(bad)?;
        let date_ok = date.len() == 8
            && date.bytes().all(|b| b.is_ascii_digit())
            && NaiveDate::parse_from_str(date, "%Y%m%d").is_ok();
        let seq_ok = (6..=12).contains(&seq.len())
            && seq.bytes().all(|b| b.is_ascii_digit())
            && seq.bytes().any(|b| b != b'0');
        if !(date_ok && seq_ok) {
            return Err(bad());
        }
        Ok(ReportNo(s.to_owned()))
    }
}

impl TryFrom<String> for ReportNo {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<ReportNo> for String {
    fn from(r: ReportNo) -> String {
        r.0
    }
}

impl fmt::Display for ReportNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lower-case hex, as digests are written everywhere in the service.
pub fn hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_parse_back_and_differ() {
        let a = VerificationCode::generate().unwrap();
        let b = VerificationCode::generate().unwrap();
        assert_eq!(a.as_str().len(), CODE_LEN);
        assert_ne!(a, b);
        assert_eq!(a.as_str().parse::<VerificationCode>().unwrap(), a);
        assert_eq!(a.grouped().parse::<VerificationCode>().unwrap(), a);
        assert!(a.matches(&a.grouped().parse().unwrap()));
        assert!(!a.matches(&b));
    }

    #[test]
    fn spaces_and_hyphens_are_ignored_case_is_not() {
        let code: VerificationCode = "AbdE-fgh2 3456-789X".parse().unwrap();
        assert_eq!(code.as_str(), "AbdEfgh23456789X");
        let other_case: VerificationCode = "abde-fgh2 3456-789X".parse().unwrap();
        assert!(!code.matches(&other_case));
        assert_ne!(code.lookup_digest(), other_case.lookup_digest());
    }

    #[test]
    fn malformed_codes_are_invalid_not_missing() {
        for bad in [
            "",
            "ABC",
            "AbdEfgh23456789X1",
            "AbdEfgh23456789O",
            "AbdEfgh2345678中",
        ] {
            assert_eq!(
                bad.parse::<VerificationCode>().unwrap_err().code(),
                "INVALID_CODE",
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_does_not_leak_the_code() {
        let code = VerificationCode::generate().unwrap();
        assert!(!format!("{code:?}").contains(code.as_str()));
    }

    #[test]
    fn report_numbers() {
        let no = ReportNo::new("2026-11-29".parse().unwrap(), 1);
        assert_eq!(no.as_str(), "YC20261129-000001");
        assert_eq!("YC20261129-000001".parse::<ReportNo>().unwrap(), no);
        for bad in [
            "YC20261329-000001",
            "YC20261129-000000",
            "XX20261129-000001",
            "YC20261129-1",
            "YC20261129000001",
        ] {
            assert!(bad.parse::<ReportNo>().is_err(), "{bad}");
        }
    }
}

/// The number of an entity's written authorisation (授权委托书编号) that
/// counter staff apply under: 4 to 40 characters, letters (Chinese too),
/// digits and the punctuation such numbers use (`-_/.#()〔〕[]（）【】`),
/// no spaces or controls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AuthorisationRef(String);

impl AuthorisationRef {
    pub const FIELD: &'static str = "authorisation_ref";
    const MIN_CHARS: usize = 4;
    const MAX_CHARS: usize = 40;
    const PUNCTUATION: &'static str = "-_/.#()〔〕[]（）【】";

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AuthorisationRef {
    type Err = Error;
    fn from_str(s: &str) -> Result<AuthorisationRef, Error> {
        let s = s.trim();
        let chars = s.chars().count();
        let invalid = |detail: String| Error::InvalidField {
            field: Self::FIELD.into(),
            detail,
        };
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            return Err(invalid(format!(
                "授权委托书编号应为 {} 到 {} 个字符",
                Self::MIN_CHARS,
                Self::MAX_CHARS
            )));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_alphanumeric() || Self::PUNCTUATION.contains(*c)))
        {
            return Err(invalid(format!(
                "授权委托书编号含有不允许的字符 {}",
                crate::text::quoted_char(c)
            )));
        }
        Ok(AuthorisationRef(s.to_owned()))
    }
}

impl TryFrom<String> for AuthorisationRef {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<AuthorisationRef> for String {
    fn from(r: AuthorisationRef) -> String {
        r.0
    }
}

impl fmt::Display for AuthorisationRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod authorisation_ref_tests {
    use super::AuthorisationRef;

    #[test]
    fn authorisation_references_are_short_printable_numbers() {
        for good in ["永授〔2026〕12号", "SQ-2026-0001", " abcd "] {
            assert!(good.parse::<AuthorisationRef>().is_ok(), "{good}");
        }
        assert_eq!(
            " abcd ".parse::<AuthorisationRef>().unwrap().as_str(),
            "abcd"
        );
        for bad in [
            "",
            "abc",
            "a b c d",
            "abcd\u{7}",
            "<script>",
            &"9".repeat(41),
        ] {
            let refused = bad.parse::<AuthorisationRef>().unwrap_err();
            assert_eq!(refused.code(), "INVALID_FIELD", "{bad}");
        }
    }

    #[test]
    fn a_refused_character_is_shown_as_the_user_typed_it_or_by_code_point() {
        let dash = "永授—2026—12".parse::<AuthorisationRef>().unwrap_err();
        assert!(dash.to_string().contains("“—”"), "{dash}");
        assert!(!dash.to_string().contains("\\u"), "{dash}");
        let bell = "abcd\u{7}".parse::<AuthorisationRef>().unwrap_err();
        assert!(bell.to_string().contains("U+0007"), "{bell}");
    }
}
