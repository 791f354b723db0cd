//! The unified social credit code (统一社会信用代码, GB 32100-2015).
//!
//! 18 characters over `0123456789ABCDEFGHJKLMNPQRTUWXY` (values 0-30);
//! positions 3-8 are the digits of the administrative region code; the 18th
//! is the check character. Lower case is accepted and upper-cased; anything
//! else wrong is rejected with the reason, in Chinese.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

pub const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A credit code that passed every check. Always upper case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

/// Why a string is not a credit code; `Display` is the Chinese reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("统一社会信用代码应为 18 位，实际为 {0} 位")]
    Length(usize),
    #[error("统一社会信用代码第 {position} 位“{found}”不是允许的字符（不使用 I、O、S、V、Z）")]
    Character { position: usize, found: char },
    #[error("统一社会信用代码第 3 至 8 位应为行政区划代码数字，第 {position} 位为“{found}”")]
    Region { position: usize, found: char },
    #[error("统一社会信用代码校验位错误")]
    CheckCharacter,
}

impl UsccError {
    /// The API error naming the request field that held the bad code.
    pub fn for_field(self, field: &str) -> Error {
        Error::InvalidUscc {
            field: field.to_owned(),
            reason: self.to_string(),
        }
    }
}

impl From<UsccError> for Error {
    fn from(e: UsccError) -> Self {
        e.for_field("uscc")
    }
}

fn value_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The check character for the first 17 characters (already validated).
fn check_character(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| value_of(c).unwrap_or(0) * w)
        .sum();
    ALPHABET[((31 - sum % 31) % 31) as usize]
}

fn validate_body(upper: &[u8]) -> Result<(), UsccError> {
    for (i, &c) in upper.iter().enumerate() {
        let position = i + 1;
        if value_of(c).is_none() {
            return Err(UsccError::Character {
                position,
                found: c as char,
            });
        }
        if (3..=8).contains(&position) && !c.is_ascii_digit() {
            return Err(UsccError::Region {
                position,
                found: c as char,
            });
        }
    }
    Ok(())
}

impl CreditCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Completes 17 characters with their check character: for generating
    /// demo and test codes.
    pub fn with_check_character(first17: &str) -> Result<CreditCode, UsccError> {
        let upper = first17.to_ascii_uppercase();
        let chars = upper.chars().count();
        if chars != 17 {
            return Err(UsccError::Length(chars + 1));
        }
        validate_body(upper.as_bytes())?;
        let check = check_character(upper.as_bytes()) as char;
        Ok(CreditCode(format!("{upper}{check}")))
    }
}

impl FromStr for CreditCode {
    type Err = UsccError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let count = s.chars().count();
        if count != 18 {
            return Err(UsccError::Length(count));
        }
        if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
            return Err(UsccError::Character {
                position: i + 1,
                found: c,
            });
        }
        let upper = s.to_ascii_uppercase();
        let bytes = upper.as_bytes();
        validate_body(bytes)?;
        if check_character(&bytes[..17]) != bytes[17] {
            return Err(UsccError::CheckCharacter);
        }
        Ok(CreditCode(upper))
    }
}

impl TryFrom<String> for CreditCode {
    type Error = UsccError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<CreditCode> for String {
    fn from(c: CreditCode) -> String {
        c.0
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const REAL: [&str; 3] = [
        "91350200776049653A",
        "91440101MA5CJQ4N59",
        "9135021359498494XQ",
    ];

    #[test]
    fn accepts_real_codes() {
        for code in REAL {
            assert_eq!(code.parse::<CreditCode>().unwrap().as_str(), code);
        }
    }

    #[test]
    fn upper_cases_lower_case_input() {
        assert_eq!(
            "91440101ma5cjq4n59".parse::<CreditCode>().unwrap().as_str(),
            "91440101MA5CJQ4N59"
        );
    }

    #[test]
    fn rejects_every_single_character_corruption() {
        let replacements: Vec<char> = (0x21u8..0x7f)
            .map(char::from)
            .chain(['中', ' ', 'Ｏ'])
            .collect();
        for code in REAL {
            for pos in 0..18 {
                let original = code.as_bytes()[pos] as char;
                for &r in &replacements {
                    if r.eq_ignore_ascii_case(&original) {
                        continue;
                    }
                    let corrupted: String = code
                        .chars()
                        .enumerate()
                        .map(|(i, c)| if i == pos { r } else { c })
                        .collect();
                    assert!(
                        corrupted.parse::<CreditCode>().is_err(),
                        "accepted {corrupted}"
                    );
                }
            }
        }
    }

    #[test]
    fn reasons_name_the_problem() {
        assert_eq!(
            "9135020077604965".parse::<CreditCode>(),
            Err(UsccError::Length(16))
        );
        assert_eq!(
            "91350200776049653B".parse::<CreditCode>(),
            Err(UsccError::CheckCharacter)
        );
        assert_eq!(
            "913502O0776049653A".parse::<CreditCode>(),
            Err(UsccError::Character {
                position: 7,
                found: 'O'
            })
        );
        assert_eq!(
            "91A50200776049653A".parse::<CreditCode>(),
            Err(UsccError::Region {
                position: 3,
                found: 'A'
            })
        );
        let e = ""
            .parse::<CreditCode>()
            .unwrap_err()
            .for_field("authority_uscc");
        assert_eq!(e.field(), Some("authority_uscc"));
        assert_eq!(e.code(), "INVALID_USCC");
    }

    #[test]
    fn serde_rejects_invalid_codes() {
        assert!(serde_json::from_str::<CreditCode>("\"91350200776049653B\"").is_err());
        let ok: CreditCode = serde_json::from_str("\"91350200776049653a\"").unwrap();
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            "\"91350200776049653A\""
        );
    }

    /// GB 32100-2015's characters, in value order (no I, O, S, V, Z), written out here
    /// independently of the code under test.
    const STANDARD_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

    /// GB 32100-2015's check character: the standard's weights and check value
    /// (31 - sum mod 31) mod 31.
    fn reference_check_character(first17: &str) -> char {
        const STANDARD_WEIGHTS: [u32; 17] = [
            1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
        ];
        let value = |c: char| STANDARD_ALPHABET.find(c).expect("a code character") as u32;
        let sum: u32 = first17
            .chars()
            .zip(STANDARD_WEIGHTS)
            .map(|(c, weight)| value(c) * weight)
            .sum();
        let check = (31 - sum % 31) % 31;
        STANDARD_ALPHABET.chars().nth(check as usize).unwrap()
    }

    #[test]
    fn the_reference_agrees_with_real_codes() {
        for code in REAL {
            assert_eq!(
                reference_check_character(&code[..17]),
                code.chars().last().unwrap(),
                "{code}"
            );
        }
    }

    fn alphabet_char() -> impl Strategy<Value = char> {
        proptest::sample::select(STANDARD_ALPHABET.chars().collect::<Vec<_>>())
    }

    proptest! {
        #[test]
        fn generated_codes_carry_the_standards_check_character(
            head in proptest::collection::vec(alphabet_char(), 2),
            region in "[0-9]{6}",
            org in proptest::collection::vec(alphabet_char(), 9),
            wrong_offset in 1u32..31,
        ) {
            let body: String = head.into_iter().chain(region.chars()).chain(org).collect();
            let check = reference_check_character(&body);
            let code = CreditCode::with_check_character(&body).unwrap();
            prop_assert_eq!(code.as_str(), format!("{body}{check}"));
            let parsed: CreditCode = format!("{body}{check}").parse().unwrap();
            prop_assert_eq!(&parsed, &code);
            let lower: CreditCode = code.as_str().to_ascii_lowercase().parse().unwrap();
            prop_assert_eq!(lower, code);

            let check_value = STANDARD_ALPHABET.find(check).unwrap() as u32;
            let wrong = STANDARD_ALPHABET.chars().nth(((check_value + wrong_offset) % 31) as usize).unwrap();
            prop_assert_eq!(
                format!("{body}{wrong}").parse::<CreditCode>(),
                Err(UsccError::CheckCharacter)
            );
        }
    }
}
