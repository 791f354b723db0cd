//! A record's fields as the report prints them.

use chrono::NaiveDate;

use super::model::Record;

impl Record {
    /// The record's fields in print order, with Chinese labels.
    pub fn print_fields(&self) -> Vec<(String, String)> {
        let c = self.common();
        let mut out: Vec<(&str, String)> = Vec::new();
        let date = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        match self {
            Record::Penalty(p) => {
                out.push(("行政相对人名称", c.entity_name.clone()));
                out.push(("统一社会信用代码", c.uscc.to_string()));
                out.push(("行政处罚决定书文号", c.document_no.clone()));
                out.push(("违法行为类型", p.violation_type.clone()));
                out.push(("违法事实", p.facts.clone()));
                out.push(("处罚依据", p.legal_basis.clone()));
                let cats: Vec<&str> = p.penalty_categories.iter().map(|c| c.label()).collect();
                out.push(("处罚类别", cats.join("、")));
                out.push(("处罚内容", p.penalty_content.clone()));
                if let Some(m) = p.fine_wan_yuan {
                    out.push(("罚款金额", m.display_with_unit()));
                }
                if let Some(m) = p.confiscated_wan_yuan {
                    out.push(("没收违法所得、没收非法财物的金额", m.display_with_unit()));
                }
                if let Some(l) = &p.license_action {
                    out.push(("暂扣或吊销证照名称及编号", l.clone()));
                }
                out.push(("处罚决定日期", date(p.decided_on)));
                out.push(("处罚有效期", date(p.penalty_valid_until)));
                if let Some(d) = p.publicity_until {
                    out.push(("公示截止期", date(d)));
                }
                out.push(("处罚机关", c.authority.clone()));
            }
            Record::DishonestList(l) | Record::AbnormalList(l) => {
                out.push(("主体名称", c.entity_name.clone()));
                out.push(("统一社会信用代码", c.uscc.to_string()));
                out.push(("名单名称", l.list_name.clone()));
                out.push(("文书号", c.document_no.clone()));
                out.push(("列入原因", l.reason.clone()));
                if let Some(b) = &l.basis {
                    out.push(("认定依据", b.clone()));
                }
                out.push(("认定部门", c.authority.clone()));
                out.push(("列入日期", date(l.listed_on)));
                out.push((
                    "移出日期",
                    l.removed_on.map(date).unwrap_or_else(|| "未移出".into()),
                ));
                if let Some(r) = &l.removal_reason {
                    out.push(("移出原因", r.clone()));
                }
            }
            Record::CoerciveMeasure(m) => {
                out.push(("行政相对人名称", c.entity_name.clone()));
                out.push(("统一社会信用代码", c.uscc.to_string()));
                out.push(("行政强制决定书文号", c.document_no.clone()));
                let types: Vec<&str> = m.measure_types.iter().map(|t| t.label()).collect();
                out.push(("强制措施种类", types.join("；")));
                out.push(("事由", m.cause.clone()));
                out.push(("依据", m.legal_basis.clone()));
                out.push(("决定日期", date(m.decided_on)));
                out.push((
                    "解除日期",
                    m.lifted_on.map(date).unwrap_or_else(|| "未解除".into()),
                ));
                out.push(("实施机关", c.authority.clone()));
            }
            Record::CriminalJudgment(j) => {
                out.push(("被告单位名称", c.entity_name.clone()));
                out.push(("统一社会信用代码", c.uscc.to_string()));
                out.push(("案号", c.document_no.clone()));
                out.push(("审理法院", c.authority.clone()));
                out.push(("罪名", j.charges.clone()));
                out.push(("判决结果", j.verdict.clone()));
                out.push(("判决日期", date(j.judged_on)));
                out.push(("生效日期", date(j.effective_on)));
                out.push((
                    "是否单位犯罪",
                    if j.unit_crime { "是" } else { "否" }.into(),
                ));
            }
        }
        out.push(("数据来源单位", c.source_unit.clone()));
        if let Some(n) = &c.note {
            out.push(("备注", n.clone()));
        }
        out.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::record::Record;
    use crate::record::samples::{coercive_measure, criminal_judgment};

    fn printed(record: &Record, label: &str) -> Option<String> {
        record
            .print_fields()
            .into_iter()
            .find(|(k, _)| k == label)
            .map(|(_, v)| v)
    }

    #[test]
    fn a_coercive_measure_prints_its_measures_and_whether_lifted() {
        let open = Record::from_json(&coercive_measure("强-1", "2026-03-01", None)).unwrap();
        assert_eq!(
            printed(&open, "强制措施种类").as_deref(),
            Some("查封场所、设施或者财物；扣押财物")
        );
        assert_eq!(printed(&open, "解除日期").as_deref(), Some("未解除"));
        assert_eq!(
            printed(&open, "实施机关").as_deref(),
            Some("永昌县市场监督管理局")
        );
        let lifted =
            Record::from_json(&coercive_measure("强-1", "2026-03-01", Some("2026-04-01"))).unwrap();
        assert_eq!(printed(&lifted, "解除日期").as_deref(), Some("2026-04-01"));
    }

    #[test]
    fn a_criminal_judgment_prints_court_charges_and_dates() {
        let judgment = Record::from_json(&criminal_judgment(
            "（2026）甘0321刑初12号",
            "2026-02-10",
            "2026-02-25",
        ))
        .unwrap();
        let fields = judgment.print_fields();
        let labels: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            labels,
            [
                "被告单位名称",
                "统一社会信用代码",
                "案号",
                "审理法院",
                "罪名",
                "判决结果",
                "判决日期",
                "生效日期",
                "是否单位犯罪",
                "数据来源单位",
            ]
        );
        assert_eq!(printed(&judgment, "是否单位犯罪").as_deref(), Some("是"));
        assert_eq!(
            printed(&judgment, "生效日期").as_deref(),
            Some("2026-02-25")
        );
    }
}
