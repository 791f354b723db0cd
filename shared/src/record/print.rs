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
        }
        out.push(("数据来源单位", c.source_unit.clone()));
        if let Some(n) = &c.note {
            out.push(("备注", n.clone()));
        }
        out.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }
}
