//! Amounts in 万元 (ten thousand yuan) as exact decimals. Never capped: the
//! only limit is what a 96-bit decimal can hold (about 7.9 × 10^28 万元).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A non-negative exact amount in 万元. Serialized as a decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WanYuan(Decimal);

impl WanYuan {
    pub fn amount(&self) -> Decimal {
        self.0
    }

    /// Formatted for print, e.g. "1.5万元".
    pub fn display_with_unit(&self) -> String {
        format!("{}万元", self.0.normalize())
    }
}

impl FromStr for WanYuan {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let well_formed = !t.is_empty()
            && t.chars().all(|c| c.is_ascii_digit() || c == '.')
            && t.matches('.').count() <= 1
            && !t.starts_with('.')
            && !t.ends_with('.');
        if !well_formed {
            return Err(format!(
                "金额应为以万元为单位的非负十进制数（如 1.5），收到“{s}”"
            ));
        }
        Decimal::from_str_exact(t)
            .map(WanYuan)
            .map_err(|_| format!("金额“{s}”超出可表示的范围或精度（最多 28 位小数）"))
    }
}

impl TryFrom<String> for WanYuan {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<WanYuan> for String {
    fn from(w: WanYuan) -> String {
        w.0.to_string()
    }
}

impl fmt::Display for WanYuan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_exact_decimals_and_large_amounts() {
        assert_eq!("0.05".parse::<WanYuan>().unwrap().to_string(), "0.05");
        assert_eq!(
            "123456789012.3456".parse::<WanYuan>().unwrap().to_string(),
            "123456789012.3456"
        );
        assert_eq!(
            "1.50".parse::<WanYuan>().unwrap().display_with_unit(),
            "1.5万元"
        );
    }

    #[test]
    fn rejects_malformed_and_negative_amounts() {
        for bad in [
            "",
            "-1",
            "1e3",
            "1,000",
            "abc",
            "1.",
            ".5",
            "1.2.3",
            "99999999999999999999999999999999",
        ] {
            assert!(bad.parse::<WanYuan>().is_err(), "{bad}");
        }
    }
}
