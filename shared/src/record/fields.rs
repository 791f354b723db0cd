//! The one table of record fields, per kind: API name, the 双公示 column name
//! (and the other names departments' exports use), type, whether required,
//! a description and an example. The parser's required fields, the OpenAPI
//! schema of each kind, the catalog's column table, the CSV header mapping
//! and the CSV templates are all read from here, so a new kind is a new
//! [`KindSpec`] and nothing else.

use serde::Serialize;

use crate::vocabulary::RecordKind;

/// How a field's value is written and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Up to `MAX_TEXT_CHARS` characters.
    Text,
    /// 统一社会信用代码: 18 characters with a check character.
    CreditCode,
    /// `YYYY-MM-DD`; `YYYY/M/D`, `YYYY.M.D` and `YYYY年M月D日` are accepted.
    Date,
    /// 万元, a decimal number (string or number).
    Amount,
    /// `true`/`false`, or 是/否.
    Flag,
    /// The record kind: its code or its Chinese name.
    Kind,
    /// A data-domain code of the catalog.
    Domain,
    /// 处罚类别: an array, or one text separated by ；、; or ,, of codes or Chinese names.
    PenaltyCategories,
    /// general/simplified or 普通程序/简易程序.
    Procedure,
    /// minor/general/serious or 轻微/一般/严重.
    Severity,
    /// 强制措施种类: an array, or one text separated by ；、; or ,, of codes or Chinese names.
    CoerciveMeasureTypes,
}

/// One field of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldSpec {
    /// The API field name.
    pub name: &'static str,
    /// The 双公示 name: the CSV column the templates carry.
    pub column: &'static str,
    /// Other column names departments' exports use for the same field.
    pub aliases: &'static [&'static str],
    #[serde(rename = "type")]
    pub field_type: FieldType,
    pub required: bool,
    pub description: &'static str,
    /// A value that passes every check, as a CSV cell would hold it.
    pub example: &'static str,
}

/// The fields of one kind of record, in template order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KindSpec {
    pub kind: RecordKind,
    /// The OpenAPI schema name, e.g. `PenaltyRecord`.
    pub schema: &'static str,
    pub fields: &'static [FieldSpec],
}

impl KindSpec {
    pub fn field(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn required(&self) -> impl Iterator<Item = &'static FieldSpec> + use<> {
        self.fields.iter().filter(|f| f.required)
    }

    /// The header row of the kind's CSV template.
    pub fn csv_header(&self) -> String {
        let columns: Vec<&str> = self.fields.iter().map(|f| f.column).collect();
        columns.join(",")
    }
}

pub const KINDS: &[KindSpec] = &[
    KindSpec {
        kind: RecordKind::Penalty,
        schema: "PenaltyRecord",
        fields: PENALTY,
    },
    KindSpec {
        kind: RecordKind::DishonestList,
        schema: "DishonestListRecord",
        fields: DISHONEST_LIST,
    },
    KindSpec {
        kind: RecordKind::AbnormalList,
        schema: "AbnormalListRecord",
        fields: ABNORMAL_LIST,
    },
    KindSpec {
        kind: RecordKind::CoerciveMeasure,
        schema: "CoerciveMeasureRecord",
        fields: COERCIVE_MEASURE,
    },
    KindSpec {
        kind: RecordKind::CriminalJudgment,
        schema: "CriminalJudgmentRecord",
        fields: CRIMINAL_JUDGMENT,
    },
];

pub fn kind_spec(kind: RecordKind) -> &'static KindSpec {
    KINDS.iter().find(|k| k.kind == kind).unwrap_or(&KINDS[0])
}

/// Which field a CSV column names: its 双公示 name, an alias or the API
/// name, compared without spaces and with ASCII brackets made full-width,
/// as spreadsheets vary in both.
pub fn field_of_column(column: &str) -> Option<&'static str> {
    let wanted = normalize_column(column);
    KINDS.iter().flat_map(|k| k.fields).find_map(|f| {
        let names = std::iter::once(f.column).chain(f.aliases.iter().copied());
        (f.name == wanted || names.map(normalize_column).any(|n| n == wanted)).then_some(f.name)
    })
}

fn normalize_column(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{feff}')
        .map(|c| match c {
            '(' => '（',
            ')' => '）',
            other => other,
        })
        .collect()
}

const fn field(
    name: &'static str,
    column: &'static str,
    field_type: FieldType,
    required: bool,
    description: &'static str,
    example: &'static str,
) -> FieldSpec {
    FieldSpec {
        name,
        column,
        aliases: &[],
        field_type,
        required,
        description,
        example,
    }
}

const fn aka(mut spec: FieldSpec, aliases: &'static [&'static str]) -> FieldSpec {
    spec.aliases = aliases;
    spec
}

const KIND: FieldSpec = aka(
    field(
        "kind",
        "记录类型",
        FieldType::Kind,
        true,
        "记录类型：penalty（行政处罚）、dishonest_list（严重失信主体名单）、abnormal_list（经营异常名录）、coercive_measure（行政强制措施）或 criminal_judgment（刑事裁判），也可写中文名称",
        "",
    ),
    &["类型"],
);
const DOMAIN: FieldSpec = aka(
    field(
        "domain",
        "领域",
        FieldType::Domain,
        true,
        "数据领域代码，见目录 data_domains（不是报告领域 report_domains）；该领域须归集这一类型的记录",
        "",
    ),
    &["数据领域"],
);
const USCC: FieldSpec = aka(
    field(
        "uscc",
        "统一社会信用代码",
        FieldType::CreditCode,
        true,
        "行政相对人的统一社会信用代码（18 位，含校验位）",
        "91350200776049653A",
    ),
    &[
        "行政相对人代码_1",
        "行政相对人代码_1(统一社会信用代码)",
        "行政相对人统一社会信用代码",
    ],
);
const SOURCE_UNIT: FieldSpec = field(
    "source_unit",
    "数据来源单位",
    FieldType::Text,
    true,
    "数据来源单位名称（谁提供谁负责）",
    "县税务局",
);
const SOURCE_UNIT_USCC: FieldSpec = field(
    "source_unit_uscc",
    "数据来源单位统一社会信用代码",
    FieldType::CreditCode,
    true,
    "数据来源单位的统一社会信用代码",
    "9135021359498494XQ",
);
const NOTE: FieldSpec = field(
    "note",
    "备注",
    FieldType::Text,
    false,
    "备注，打印在报告中",
    "",
);

/// The administrative counterpart, as penalties and coercive measures name it.
const ENTITY_NAME: FieldSpec = aka(
    field(
        "entity_name",
        "行政相对人名称",
        FieldType::Text,
        true,
        "行政相对人名称，应与该统一社会信用代码已有记录的名称一致",
        "永昌县示例商贸有限公司",
    ),
    &["名称", "市场主体名称", "主体名称"],
);

const PENALTY: &[FieldSpec] = &[
    KIND,
    DOMAIN,
    ENTITY_NAME,
    field(
        "entity_category",
        "行政相对人类别",
        FieldType::Text,
        true,
        "行政相对人类别，如 法人及非法人组织、个体工商户",
        "法人及非法人组织",
    ),
    USCC,
    field(
        "legal_representative",
        "法定代表人",
        FieldType::Text,
        false,
        "法定代表人（负责人）姓名",
        "张三",
    ),
    aka(
        field(
            "document_no",
            "行政处罚决定书文号",
            FieldType::Text,
            true,
            "行政处罚决定书文号；与领域、类型一起确定一条记录，重复提交即更新",
            "永税罚〔2026〕1号",
        ),
        &["决定文书号", "文书号"],
    ),
    field(
        "violation_type",
        "违法行为类型",
        FieldType::Text,
        true,
        "违法行为类型",
        "未按期申报",
    ),
    field(
        "facts",
        "违法事实",
        FieldType::Text,
        true,
        "违法事实",
        "未按规定期限办理纳税申报",
    ),
    field(
        "legal_basis",
        "处罚依据",
        FieldType::Text,
        true,
        "处罚依据",
        "《中华人民共和国税收征收管理法》第六十二条",
    ),
    field(
        "penalty_categories",
        "处罚类别",
        FieldType::PenaltyCategories,
        true,
        "处罚类别（行政处罚法第九条），一个或多个；数组，或以“；”“、”分隔的文字；代码或中文名称均可",
        "罚款",
    ),
    field(
        "penalty_content",
        "处罚内容",
        FieldType::Text,
        true,
        "处罚内容",
        "罚款0.2万元",
    ),
    aka(
        field(
            "fine_wan_yuan",
            "罚款金额（万元）",
            FieldType::Amount,
            false,
            "罚款金额，单位万元；处罚类别含罚款时必填",
            "0.2",
        ),
        &["罚款金额"],
    ),
    aka(
        field(
            "confiscated_wan_yuan",
            "没收违法所得、没收非法财物的金额（万元）",
            FieldType::Amount,
            false,
            "没收违法所得、没收非法财物的金额，单位万元",
            "",
        ),
        &[
            "没收违法所得/非法财物金额（万元）",
            "没收违法所得、非法财物金额（万元）",
            "没收金额",
        ],
    ),
    field(
        "license_action",
        "暂扣或吊销证照名称及编号",
        FieldType::Text,
        false,
        "暂扣或吊销证照名称及编号",
        "",
    ),
    field(
        "decided_on",
        "处罚决定日期",
        FieldType::Date,
        true,
        "处罚决定日期，不早于 2021-01-01（归集起始日），不晚于提交当日",
        "2026-03-01",
    ),
    field(
        "penalty_valid_until",
        "处罚有效期",
        FieldType::Date,
        true,
        "处罚有效期，不早于处罚决定日期",
        "2030-12-31",
    ),
    field(
        "publicity_until",
        "公示截止期",
        FieldType::Date,
        false,
        "公示截止期，不早于处罚决定日期",
        "",
    ),
    aka(
        field(
            "authority",
            "处罚机关",
            FieldType::Text,
            true,
            "处罚机关名称",
            "国家税务总局永昌县税务局",
        ),
        &["作出决定机关"],
    ),
    field(
        "authority_uscc",
        "处罚机关统一社会信用代码",
        FieldType::CreditCode,
        true,
        "处罚机关的统一社会信用代码",
        "9135021359498494XQ",
    ),
    SOURCE_UNIT,
    SOURCE_UNIT_USCC,
    aka(
        field(
            "procedure",
            "处罚程序",
            FieldType::Procedure,
            true,
            "处罚程序：general（普通程序）或 simplified（简易程序）",
            "普通程序",
        ),
        &["程序"],
    ),
    aka(
        field(
            "not_penalized",
            "不予行政处罚",
            FieldType::Flag,
            false,
            "是否不予行政处罚：true/false 或 是/否，缺省为否",
            "否",
        ),
        &["不予处罚"],
    ),
    aka(
        field(
            "severity",
            "违法行为严重程度",
            FieldType::Severity,
            false,
            "违法行为严重程度（信用修复用）：minor（轻微）、general（一般）或 serious（严重）",
            "一般",
        ),
        &["严重程度"],
    ),
    NOTE,
];

const LIST_ENTITY_NAME: FieldSpec = aka(
    field(
        "entity_name",
        "主体名称",
        FieldType::Text,
        true,
        "主体名称，应与该统一社会信用代码已有记录的名称一致",
        "永昌县示例商贸有限公司",
    ),
    &["行政相对人名称", "名称", "市场主体名称"],
);
const LIST_DOCUMENT_NO: FieldSpec = aka(
    field(
        "document_no",
        "文书号",
        FieldType::Text,
        true,
        "认定（列入）文书号；与领域、类型一起确定一条记录，重复提交即更新",
        "永市监异〔2026〕9号",
    ),
    &["认定文书号", "决定文书号"],
);
const LIST_REASON: FieldSpec = field(
    "reason",
    "列入原因",
    FieldType::Text,
    true,
    "列入原因",
    "未按规定报送年度报告",
);
const LIST_BASIS: FieldSpec = field(
    "basis",
    "认定依据",
    FieldType::Text,
    false,
    "认定依据",
    "《企业经营异常名录管理暂行办法》第四条",
);
const LIST_AUTHORITY: FieldSpec = aka(
    field(
        "authority",
        "认定部门",
        FieldType::Text,
        true,
        "认定（列入）部门名称",
        "永昌县市场监督管理局",
    ),
    &["作出决定机关"],
);
const LIST_AUTHORITY_USCC: FieldSpec = field(
    "authority_uscc",
    "认定部门统一社会信用代码",
    FieldType::CreditCode,
    true,
    "认定部门的统一社会信用代码",
    "9135021359498494XQ",
);
const LISTED_ON: FieldSpec = field(
    "listed_on",
    "列入日期",
    FieldType::Date,
    true,
    "列入日期，不晚于提交当日",
    "2026-02-01",
);
const REMOVED_ON: FieldSpec = field(
    "removed_on",
    "移出日期",
    FieldType::Date,
    false,
    "移出日期，仍在名单中时留空；不早于列入日期，不晚于提交当日",
    "",
);
const REMOVAL_REASON: FieldSpec = field(
    "removal_reason",
    "移出原因",
    FieldType::Text,
    false,
    "移出原因",
    "",
);
const REMOVAL_AUTHORITY: FieldSpec = field(
    "removal_authority",
    "移出决定机关",
    FieldType::Text,
    false,
    "移出决定机关",
    "",
);

const DISHONEST_LIST: &[FieldSpec] = &[
    KIND,
    DOMAIN,
    LIST_ENTITY_NAME,
    USCC,
    field(
        "list_name",
        "名单名称",
        FieldType::Text,
        true,
        "严重失信主体名单的名称，见目录中该领域的 lists",
        "市场监督管理严重违法失信名单",
    ),
    LIST_DOCUMENT_NO,
    LIST_REASON,
    LIST_BASIS,
    LIST_AUTHORITY,
    LIST_AUTHORITY_USCC,
    LISTED_ON,
    REMOVED_ON,
    REMOVAL_REASON,
    REMOVAL_AUTHORITY,
    SOURCE_UNIT,
    SOURCE_UNIT_USCC,
    NOTE,
];

const ABNORMAL_LIST: &[FieldSpec] = &[
    KIND,
    DOMAIN,
    LIST_ENTITY_NAME,
    USCC,
    field(
        "list_name",
        "名单名称",
        FieldType::Text,
        false,
        "名单名称，缺省为“经营异常名录”",
        "",
    ),
    LIST_DOCUMENT_NO,
    LIST_REASON,
    LIST_BASIS,
    LIST_AUTHORITY,
    LIST_AUTHORITY_USCC,
    LISTED_ON,
    REMOVED_ON,
    REMOVAL_REASON,
    REMOVAL_AUTHORITY,
    SOURCE_UNIT,
    SOURCE_UNIT_USCC,
    NOTE,
];

const COERCIVE_MEASURE: &[FieldSpec] = &[
    KIND,
    DOMAIN,
    ENTITY_NAME,
    USCC,
    aka(
        field(
            "document_no",
            "行政强制决定书文号",
            FieldType::Text,
            true,
            "行政强制措施决定书文号；与领域、类型一起确定一条记录，重复提交即更新（如补报解除日期）",
            "永市监强〔2026〕3号",
        ),
        &["强制措施决定书文号", "决定书文号"],
    ),
    aka(
        field(
            "measure_types",
            "强制措施种类",
            FieldType::CoerciveMeasureTypes,
            true,
            "行政强制措施种类（行政强制法第九条），一个或多个：限制公民人身自由、查封场所、设施或者财物（查封）、扣押财物（扣押）、冻结存款、汇款（冻结）、其他行政强制措施（其他）；数组，或以“；”“、”分隔的文字",
            "查封",
        ),
        &["行政强制措施种类", "强制措施类别"],
    ),
    aka(
        field(
            "cause",
            "强制措施事由",
            FieldType::Text,
            true,
            "采取行政强制措施的事由",
            "涉嫌生产销售不符合安全标准的产品",
        ),
        &["事由"],
    ),
    aka(
        field(
            "legal_basis",
            "强制措施依据",
            FieldType::Text,
            true,
            "采取行政强制措施的法律、法规依据",
            "《中华人民共和国产品质量法》第十八条",
        ),
        &["依据"],
    ),
    aka(
        field(
            "decided_on",
            "强制措施决定日期",
            FieldType::Date,
            true,
            "行政强制措施决定日期，不早于 2021-01-01（归集起始日），不晚于提交当日",
            "2026-03-01",
        ),
        &["决定日期"],
    ),
    aka(
        field(
            "lifted_on",
            "解除日期",
            FieldType::Date,
            false,
            "行政强制措施解除日期，尚未解除时留空；不早于决定日期，不晚于提交当日；解除后不再计入报告",
            "",
        ),
        &["强制措施解除日期"],
    ),
    aka(
        field(
            "authority",
            "实施机关",
            FieldType::Text,
            true,
            "实施行政强制措施的行政机关名称",
            "永昌县市场监督管理局",
        ),
        &["强制措施实施机关"],
    ),
    field(
        "authority_uscc",
        "实施机关统一社会信用代码",
        FieldType::CreditCode,
        true,
        "实施机关的统一社会信用代码",
        "9135021359498494XQ",
    ),
    SOURCE_UNIT,
    SOURCE_UNIT_USCC,
    NOTE,
];

const CRIMINAL_JUDGMENT: &[FieldSpec] = &[
    KIND,
    DOMAIN,
    aka(
        field(
            "entity_name",
            "被告单位名称",
            FieldType::Text,
            true,
            "被告单位（或与该统一社会信用代码关联的被告人所在单位）名称，应与该统一社会信用代码已有记录的名称一致",
            "永昌县示例商贸有限公司",
        ),
        &["被告单位"],
    ),
    USCC,
    aka(
        field(
            "document_no",
            "案号",
            FieldType::Text,
            true,
            "刑事案件案号；与领域、类型一起确定一条记录，重复提交即更新",
            "（2026）甘0321刑初12号",
        ),
        &["裁判文书案号"],
    ),
    field(
        "authority",
        "审理法院",
        FieldType::Text,
        true,
        "作出判决的人民法院名称",
        "永昌县人民法院",
    ),
    field(
        "authority_uscc",
        "审理法院统一社会信用代码",
        FieldType::CreditCode,
        true,
        "审理法院的统一社会信用代码",
        "9135021359498494XQ",
    ),
    field(
        "charges",
        "罪名",
        FieldType::Text,
        true,
        "判决认定的罪名，多个罪名以“、”分隔",
        "虚开增值税专用发票罪",
    ),
    field(
        "verdict",
        "判决结果",
        FieldType::Text,
        true,
        "判决结果（主刑、附加刑、罚金等）",
        "判处被告单位罚金人民币二十万元",
    ),
    field(
        "judged_on",
        "判决日期",
        FieldType::Date,
        true,
        "判决日期，不晚于提交当日",
        "2026-02-10",
    ),
    field(
        "effective_on",
        "生效日期",
        FieldType::Date,
        true,
        "判决生效日期，不早于判决日期和 2021-01-01（归集起始日），不晚于提交当日；报告按生效日期计入",
        "2026-02-25",
    ),
    field(
        "unit_crime",
        "是否单位犯罪",
        FieldType::Flag,
        true,
        "是否单位犯罪：true/false 或 是/否",
        "是",
    ),
    SOURCE_UNIT,
    SOURCE_UNIT_USCC,
    NOTE,
];

/// The kind's field table as docs/api.md prints it (a test keeps the two
/// equal).
pub fn markdown_table(spec: &KindSpec) -> String {
    let mut out = String::from(
        "| field | CSV column (双公示) | also accepted | required | meaning |\n|---|---|---|---|---|\n",
    );
    for f in spec.fields {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            f.name,
            f.column,
            f.aliases.join("、"),
            if f.required { "yes" } else { "no" },
            f.description
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_aliases_and_field_names_find_their_field() {
        assert_eq!(field_of_column("行政处罚决定书文号"), Some("document_no"));
        assert_eq!(field_of_column(" 罚款金额(万元) "), Some("fine_wan_yuan"));
        assert_eq!(field_of_column("认定部门"), Some("authority"));
        assert_eq!(field_of_column("facts"), Some("facts"));
        assert_eq!(field_of_column("某列"), None);
    }

    /// A column name means one field whichever kind uses it, so a CSV with
    /// rows of several kinds reads the same.
    #[test]
    fn no_column_name_means_two_fields() {
        let mut seen: std::collections::BTreeMap<&str, &str> = Default::default();
        for spec in KINDS {
            for f in spec.fields {
                for name in std::iter::once(f.column).chain(f.aliases.iter().copied()) {
                    let first = *seen.entry(name).or_insert(f.name);
                    assert_eq!(first, f.name, "{name}");
                }
            }
        }
    }

    #[test]
    fn every_kind_has_a_table() {
        for kind in RecordKind::ALL {
            assert_eq!(kind_spec(kind).kind, kind);
        }
    }
}
