//! Sample data: a realistic, entirely fictional [`ReportDocument`] for tests
//! and benchmarks. Not a real entity, report or record.

use super::{DomainSection, RecordSection, ReportDocument};

/// Record counts that give a report of about 3 and about 30 pages.
pub const THREE_PAGES: usize = 0;
pub const THIRTY_PAGES: usize = 32;

/// The first twenty report domains of the county notice (附件2), a typical
/// selection, with their units.
const DOMAINS: [(&str, &str); 20] = [
    ("发展改革", "县发改局"),
    ("经济信息化", "县工信局"),
    ("商务", "县商务局"),
    ("科技", "县科技局"),
    ("公安", "县公安局"),
    ("人力资源和社会保障", "县人社局"),
    ("自然资源和规划", "县自然资源局"),
    ("生态环境", "市生态环境局永昌分局"),
    ("住房城乡建设管理", "县住建局"),
    ("交通运输", "县交通运输局"),
    ("农业农村", "县农业农村局"),
    ("水利", "县水务局"),
    ("卫生健康", "县卫健局"),
    ("安全生产(应急)", "县应急管理局"),
    ("消防", "县消防救援大队"),
    ("市场监管", "县市场监管局"),
    ("地方金融监管", "县财政局"),
    ("医疗保障", "县医保局"),
    ("住房公积金管理", "县住房公积金管理中心"),
    ("税务", "县税务局"),
];

/// Domains that receive the sample records, round-robin.
const RECORD_DOMAINS: [usize; 4] = [7, 15, 19, 13];

/// A report over twenty domains with `records` administrative-penalty records
/// spread over four of them; every third record is under objection.
pub fn sample_document(records: usize) -> ReportDocument {
    let mut domains: Vec<DomainSection> = DOMAINS
        .iter()
        .map(|(name, unit)| DomainSection {
            name: (*name).to_owned(),
            unit: (*unit).to_owned(),
            collected: true,
            records: Vec::new(),
        })
        .collect();
    for n in 1..=records {
        let domain = &mut domains[RECORD_DOMAINS[n % RECORD_DOMAINS.len()]];
        let record = sample_record(n, &domain.name);
        domain.records.push(record);
    }
    ReportDocument {
        report_no: "YC-20261129-000123".to_owned(),
        verification_code: "Kd7m-Q2eW-h9Rt-ZbH4".to_owned(),
        title: "专用信用报告".to_owned(),
        edition: "上市版".to_owned(),
        entity_name: "永昌县示例矿业开发有限责任公司".to_owned(),
        uscc: "91350200776049653A".to_owned(),
        period: "2025年11月30日至2026年11月29日（近12个月）".to_owned(),
        purpose: "金融市场应用·企业上市".to_owned(),
        issued_on: "2026年11月29日".to_owned(),
        valid_until: "2026年12月29日".to_owned(),
        issuer: "永昌县发展和改革局".to_owned(),
        verify_url: "https://credit.example.invalid/#code=Kd7m-Q2eW-h9Rt-ZbH4".to_owned(),
        snapshot_digest: "3f1c9a0b7e5d4c2a19f8e7d6c5b4a39281706f5e4d3c2b1a0918f7e6d5c4b3a2".to_owned(),
        notes: vec![
            "本报告依据《永昌县人民政府办公室关于印发永昌县以专用信用报告替代有无违法违规记录证明实施方案的通知》（永发改字〔2024〕62号）出具，报告内容来源于各责任单位报送至公共信用信息平台的行政处罚、严重失信主体名单和经营异常名录信息。".to_owned(),
            "本报告仅反映报告期间内所选领域的信用记录查询结果。适用简易程序作出的行政处罚和不予行政处罚的案件不作为违法违规记录列入本报告。已完成信用修复的记录不再公示，亦不列入本报告。".to_owned(),
            "报告右上角的核验码区分大小写。使用者可通过扫描封面二维码、访问核验网址输入核验码，或上传本报告原始PDF文件进行核验。对PDF文件的任何修改（包括追加内容、重新保存）都将导致文件核验不通过。".to_owned(),
            "标注“异议处理中”的记录，相关主体已提出异议申诉，数据来源单位正在核实处理，处理结果以核实后的数据为准。".to_owned(),
            "本报告自出具之日起30日内有效。本报告不得用于报告用途以外的其他用途；未经信用主体授权，任何单位和个人不得向第三方提供本报告内容。".to_owned(),
        ],
        domains,
    }
}

fn sample_record(n: usize, domain: &str) -> RecordSection {
    let document_no = format!(
        "永{}罚〔2026〕{n:03}号",
        domain.chars().next().unwrap_or('县')
    );
    let fields = [
        (
            "行政相对人名称",
            "永昌县示例矿业开发有限责任公司".to_owned(),
        ),
        ("行政相对人类别", "法人及非法人组织".to_owned()),
        ("统一社会信用代码", "91350200776049653A".to_owned()),
        ("法定代表人", "张示例".to_owned()),
        ("行政处罚决定书文号", document_no.clone()),
        ("违法行为类型", "未按规定履行法定义务".to_owned()),
        (
            "违法事实",
            format!(
                "经查，当事人于2026年{}月在永昌县河西堡镇生产经营场所内，未按照规定采取有效措施防治扬尘污染，\
                 物料堆场未进行覆盖，运输车辆未密闭，造成周边环境空气质量受到影响。执法人员现场检查时发现上述问题，\
                 并制作了现场检查（勘验）笔录，拍摄了现场照片。当事人对上述违法事实无异议（case ref. YC-ENV-2026-{n:04}，\
                 inspection report attached as Annex A, sampling point coordinates E101.97 N38.24）。",
                (n % 12) + 1
            ),
        ),
        (
            "处罚依据",
            "《中华人民共和国大气污染防治法》第一百零八条第一款第（五）项".to_owned(),
        ),
        ("处罚类别", "罚款".to_owned()),
        (
            "处罚内容",
            format!("罚款人民币{}元整，责令立即改正违法行为。", 10_000 + n * 500),
        ),
        ("罚款金额（万元）", format!("{:.2}", 1.0 + n as f64 * 0.05)),
        ("处罚决定日期", format!("2026-{:02}-15", (n % 12) + 1)),
        ("处罚有效期", "2027-12-31".to_owned()),
        ("处罚机关", format!("县{}主管部门", domain)),
        ("处罚机关统一社会信用代码", "91440101MA5CJQ4N59".to_owned()),
        ("数据来源单位", format!("县{}主管部门", domain)),
        (
            "数据来源单位统一社会信用代码",
            "91440101MA5CJQ4N59".to_owned(),
        ),
    ];
    RecordSection {
        kind: "行政处罚".to_owned(),
        document_no,
        status_label: n.is_multiple_of(3).then(|| "异议处理中".to_owned()),
        fields: fields
            .into_iter()
            .map(|(label, value)| (label.to_owned(), value))
            .collect(),
    }
}
