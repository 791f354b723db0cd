//! The catalog: data-collection domains (附件1), report domains (附件2 plus
//! the domains that only section 二 or 附件1 name) and purposes, kept as data
//! in `data/catalog.json`. How the lists were reconciled: `CATALOG.md`.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::vocabulary::{RecordKind, ReportEdition};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataDomain {
    pub code: String,
    pub name: String,
    /// Which kinds of record the domain collects.
    pub scope: Vec<RecordKind>,
    /// The named serious-dishonesty lists.
    pub lists: Vec<String>,
    /// The responsible unit (责任单位), as printed in 附件1.
    pub unit: String,
    /// Other names of the same unit (附件1 and 附件2 name some units
    /// differently, e.g. 县公积金中心 / 县住房公积金管理中心).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unit_aliases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportDomain {
    pub code: String,
    pub name: String,
    pub unit: String,
    /// The data domains whose records this report domain shows.
    pub data_domains: Vec<String>,
}

impl ReportDomain {
    /// Whether a unit supplies data for the domain (a row of 附件1 maps to
    /// it). One without is selectable, as 附件2 lists it, but nothing can be
    /// looked up there: a report must not certify it clean.
    pub fn is_collected(&self) -> bool {
        !self.data_domains.is_empty()
    }
}

/// Served with its `edition` (which the catalog file does not spell: it
/// follows from the group), so a page names the edition the report will have.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Purpose {
    pub code: String,
    pub name: String,
    /// 行政服务应用, 金融市场应用, 商务应用 or 其他.
    pub group: String,
}

impl Purpose {
    /// "金融市场应用·企业上市"
    pub fn label(&self) -> String {
        if self.group == self.name {
            self.name.clone()
        } else {
            format!("{}·{}", self.group, self.name)
        }
    }

    /// The listing edition (上市版) serves the financial-market purposes.
    pub fn report_edition(&self) -> ReportEdition {
        if self.group == "金融市场应用" {
            ReportEdition::Listing
        } else {
            ReportEdition::General
        }
    }
}

impl Serialize for Purpose {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Served<'a> {
            code: &'a str,
            name: &'a str,
            group: &'a str,
            edition: ReportEdition,
        }
        Served {
            code: &self.code,
            name: &self.name,
            group: &self.group,
            edition: self.report_edition(),
        }
        .serialize(serializer)
    }
}

/// The whole catalog; serializes as `GET /api/v1/catalog` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub data_domains: Vec<DataDomain>,
    pub report_domains: Vec<ReportDomain>,
    pub purposes: Vec<Purpose>,
}

const CATALOG_JSON: &str = include_str!("../data/catalog.json");

/// The catalog, parsed once. The file is part of the crate and checked by
/// the tests, so a parse failure is a build defect.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        serde_json::from_str(CATALOG_JSON).expect("data/catalog.json is valid (tested)")
    })
}

/// A report's domain selection as an applicant sends it: `"all"` or codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainSelection {
    All,
    Codes(Vec<String>),
}

impl Catalog {
    pub fn data_domain(&self, code: &str) -> Option<&DataDomain> {
        self.data_domains.iter().find(|d| d.code == code)
    }

    pub fn report_domain(&self, code: &str) -> Option<&ReportDomain> {
        self.report_domains.iter().find(|d| d.code == code)
    }

    pub fn purpose(&self, code: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.code == code)
    }

    /// The purpose for a code, or `UNKNOWN_PURPOSE`.
    pub fn require_purpose(&self, code: &str) -> Result<&Purpose, Error> {
        self.purpose(code)
            .ok_or_else(|| Error::UnknownPurpose(code.to_owned()))
    }

    /// The data domains a department unit answers for (a department may
    /// write records only there).
    pub fn data_domains_of_unit(&self, unit: &str) -> Vec<&DataDomain> {
        let unit = unit.trim();
        self.data_domains
            .iter()
            .filter(|d| d.unit == unit || d.unit_aliases.iter().any(|a| a == unit))
            .collect()
    }

    /// The report domain that shows a data domain's records. Every data
    /// domain belongs to exactly one (checked by the tests).
    pub fn report_domain_of(&self, data_domain: &str) -> Option<&ReportDomain> {
        self.report_domains
            .iter()
            .find(|r| r.data_domains.iter().any(|d| d == data_domain))
    }

    /// Resolves a selection to report domains in catalog order, without
    /// duplicates. Unknown codes are `UNKNOWN_DOMAIN`; an empty list is
    /// `INVALID_FIELD`.
    pub fn select(&self, selection: &DomainSelection) -> Result<Vec<&ReportDomain>, Error> {
        match selection {
            DomainSelection::All => Ok(self.report_domains.iter().collect()),
            DomainSelection::Codes(codes) => {
                if codes.is_empty() {
                    return Err(Error::InvalidField {
                        field: "domains".into(),
                        detail: "请至少勾选一个查询领域".into(),
                    });
                }
                if let Some(unknown) = codes.iter().find(|c| self.report_domain(c).is_none()) {
                    return Err(Error::UnknownDomain {
                        field: "domains".into(),
                        code: unknown.clone(),
                    });
                }
                Ok(self
                    .report_domains
                    .iter()
                    .filter(|r| codes.contains(&r.code))
                    .collect())
            }
        }
    }
}

impl TryFrom<&serde_json::Value> for DomainSelection {
    type Error = Error;

    /// `"all"` or an array of report-domain code strings.
    fn try_from(v: &serde_json::Value) -> Result<Self, Error> {
        let invalid = || Error::InvalidField {
            field: "domains".into(),
            detail: "应为 \"all\" 或领域代码数组，如 [\"tax\",\"market_regulation\"]".into(),
        };
        match v {
            serde_json::Value::String(s) if s == "all" => Ok(DomainSelection::All),
            serde_json::Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned).ok_or_else(invalid))
                .collect::<Result<Vec<_>, _>>()
                .map(DomainSelection::Codes),
            _ => Err(invalid()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn has_the_attachments_rows() {
        let c = catalog();
        // 47 of 附件1, plus criminal judgments (565号; CATALOG.md).
        assert_eq!(c.data_domains.len(), 48);
        // 38 of 附件2, plus 8 for data domains no 附件2 row shows, plus
        // criminal judgments (CATALOG.md).
        assert_eq!(c.report_domains.len(), 47);
        assert_eq!(c.purposes.len(), 13);
    }

    #[test]
    fn codes_are_unique_ascii() {
        let c = catalog();
        for codes in [
            c.data_domains.iter().map(|d| &d.code).collect::<Vec<_>>(),
            c.report_domains.iter().map(|d| &d.code).collect(),
            c.purposes.iter().map(|d| &d.code).collect(),
        ] {
            let unique: HashSet<_> = codes.iter().collect();
            assert_eq!(unique.len(), codes.len());
            assert!(
                codes.iter().all(
                    |c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                )
            );
        }
    }

    #[test]
    fn every_data_domain_is_shown_by_exactly_one_report_domain() {
        let c = catalog();
        for d in &c.data_domains {
            let owners = c
                .report_domains
                .iter()
                .filter(|r| r.data_domains.contains(&d.code))
                .count();
            assert_eq!(owners, 1, "{}", d.code);
        }
        for r in &c.report_domains {
            for d in &r.data_domains {
                assert!(c.data_domain(d).is_some(), "{} maps unknown {}", r.code, d);
            }
        }
    }

    #[test]
    fn units_map_to_their_data_domains() {
        let c = catalog();
        let tax: Vec<_> = c
            .data_domains_of_unit("县税务局")
            .iter()
            .map(|d| d.code.as_str())
            .collect();
        assert_eq!(tax, ["tax"]);
        let ndrc: Vec<_> = c
            .data_domains_of_unit("县发改局")
            .iter()
            .map(|d| d.code.as_str())
            .collect();
        assert_eq!(
            ndrc,
            [
                "development_reform",
                "civil_air_defense",
                "energy",
                "grain_reserves"
            ]
        );
        assert!(c.data_domains_of_unit("县不存在局").is_empty());
        assert_eq!(
            c.data_domains_of_unit("县住房公积金管理中心")[0].code,
            "housing_fund"
        );
        assert_eq!(c.data_domains_of_unit("县卫健局")[0].code, "health");
        assert_eq!(
            c.report_domain_of("urban_management").unwrap().code,
            "housing_construction"
        );
    }

    #[test]
    fn serializes_as_the_contract_shape() {
        let v = serde_json::to_value(catalog()).unwrap();
        let market = &v["data_domains"][4];
        assert_eq!(market["code"], "market_regulation");
        assert_eq!(
            market["scope"],
            serde_json::json!([
                "abnormal_list",
                "penalty",
                "dishonest_list",
                "coercive_measure"
            ])
        );
        assert_eq!(
            v["report_domains"][0]["data_domains"][0],
            "development_reform"
        );
        assert_eq!(
            v["purposes"][5],
            serde_json::json!({"code":"listing","name":"企业上市","group":"金融市场应用","edition":"listing"})
        );
    }

    #[test]
    fn selection_resolves_in_catalog_order() {
        let c = catalog();
        let sel =
            DomainSelection::try_from(&serde_json::json!(["tax", "development_reform", "tax"]))
                .unwrap();
        let codes: Vec<_> = c
            .select(&sel)
            .unwrap()
            .iter()
            .map(|r| r.code.as_str())
            .collect();
        assert_eq!(codes, ["development_reform", "tax"]);
        let unknown = DomainSelection::Codes(vec!["nope".into()]);
        assert_eq!(c.select(&unknown).unwrap_err().code(), "UNKNOWN_DOMAIN");
        assert_eq!(
            c.select(&DomainSelection::Codes(vec![]))
                .unwrap_err()
                .code(),
            "INVALID_FIELD"
        );
        assert_eq!(c.select(&DomainSelection::All).unwrap().len(), 47);
        assert!(DomainSelection::try_from(&serde_json::json!("some")).is_err());
        assert_eq!(
            c.require_purpose("x").unwrap_err().code(),
            "UNKNOWN_PURPOSE"
        );
    }
}
