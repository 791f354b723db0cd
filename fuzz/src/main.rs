//! Bounded mutation fuzzer for the file-verification path: `inspect::claims`
//! and the classification the verify-file component runs
//! (`credit_core::usecase::verification::verify_upload`) over a
//! `MemoryStore` holding real issued reports.
//!
//! Usage: `fuzz-verify-file [SECONDS] [SEED]` (default 60 s, seed from the
//! clock). Exits non-zero on a panic, a hang (one input over the deadline),
//! an error, or a forged file verifying as authentic; the offending input is
//! written to `fuzz/artifacts/`. Mutations are driven by a seeded xorshift
//! generator, so a run is reproducible from the seed it prints.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use credit_core::auth::Principal;
use credit_core::catalog::catalog;
use credit_core::config::RuleConfig;
use credit_core::kv::MemoryStore;
use credit_core::pdf::sign::development::generate;
use credit_core::pdf::sign::{PublishedChain, Seal};
use credit_core::record::Record;
use credit_core::report::{ApplyRequest, Outcome};
use credit_core::store::Store;
use credit_core::upload::{MAX_FILE_BYTES, Upload};
use credit_core::uscc::CreditCode;
use credit_core::usecase::reports::sealed_rendering;
use credit_core::usecase::verification::verify_upload;
use serde_json::json;

/// One input may take at most this long (the host's deadline is 10 s).
const HANG: Duration = Duration::from_secs(5);
/// The component's stack is about 1 MiB; so is the worker's.
const STACK: usize = 1 << 20;

/// Tokens a PDF parser treats specially: splicing them in reaches deeper code
/// than random bytes do.
const TOKENS: &[&[u8]] = &[
    b"<<",
    b">>",
    b"[",
    b"]",
    b"(",
    b")",
    b"\\",
    b"<",
    b">",
    b"/",
    b" obj",
    b"endobj",
    b"stream\n",
    b"\nendstream",
    b" R",
    b"xref\n",
    b"trailer",
    b"startxref\n",
    b"%%EOF",
    b"/FlateDecode",
    b"/Filter",
    b"/Length 99999999",
    b"/Length -1",
    b"/Type /ObjStm",
    b"/Prev 0",
    b"/Info",
    b"/Root",
    b"/Metadata",
    b"/ReportNo",
    b"/VerificationCode",
    b"0 0 R",
    b"4294967295",
    b"-2147483648",
    b"1e308",
    b"\xfe\xff",
    b"BT",
    b"ET",
    b"Tj",
    b"TJ",
    b"/Kids [",
    b"<FEFF",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A store with three issued reports (clean, with records, revoked) whose
/// sealed PDFs are recorded; returns them as seeds with the foreign ones.
fn issued(kv: &MemoryStore, now: DateTime<Utc>, seal: &Seal) -> Vec<Vec<u8>> {
    let store = Store::new(kv);
    let config = RuleConfig::default();
    let purpose = catalog().purposes[0].code.clone();
    let mut seeds = Vec::new();
    for (n, records) in [(1u32, 0usize), (2, 12), (3, 3)] {
        let uscc: CreditCode =
            CreditCode::with_check_character(&format!("91620321MF000{n:04}")).unwrap();
        for i in 0..records {
            let record = Record::from_json(&penalty(&uscc.to_string(), i, now))
                .expect("a valid sample record");
            store.upsert_record(record, "fuzz", now).unwrap();
        }
        let principal = Principal::Entity {
            sub: format!("fuzz-{n}"),
            uscc: uscc.clone(),
            name: Some("永昌县模糊测试有限公司".into()),
        };
        let request = ApplyRequest::from_json(
            &json!({"months": 12, "domains": "all", "purpose": purpose}),
            &principal,
        )
        .unwrap();
        let report = store.issue_report(&request, "fuzz", now, &config).unwrap();
        let pdf = sealed_rendering(&report, "http://127.0.0.1:3000", seal).unwrap();
        let pdf = store.pin_pdf(&report.report_no, pdf).unwrap().bytes;
        if n == 3 {
            store
                .revoke(
                    &report.report_no,
                    credit_core::vocabulary::RevocationCategory::Other,
                    "fuzz",
                    now,
                )
                .unwrap();
        }
        seeds.push(pdf);
    }
    seeds.push(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R /Info << /ReportNo (YC20261129-000001) >> >>\n%%EOF\n".to_vec());
    seeds
}

fn penalty(uscc: &str, i: usize, now: DateTime<Utc>) -> serde_json::Value {
    let decided = (now - chrono::Duration::days(30 + i as i64))
        .date_naive()
        .to_string();
    json!({
        "kind": "penalty", "domain": "tax", "document_no": format!("永税模罚〔2026〕{i}号"),
        "entity_name": "永昌县模糊测试有限公司", "uscc": uscc,
        "authority": "国家税务总局永昌县税务局", "authority_uscc": "11620321MB0123456".to_owned() + &check("11620321MB0123456"),
        "source_unit": "县税务局", "source_unit_uscc": "11620321MB0123456".to_owned() + &check("11620321MB0123456"),
        "entity_category": "法人及非法人组织", "legal_representative": "李四",
        "violation_type": "未按期申报", "facts": "经查，当事人未按期办理纳税申报。",
        "legal_basis": "《中华人民共和国税收征收管理法》", "penalty_categories": ["罚款"],
        "penalty_content": "罚款0.2万元", "fine_wan_yuan": "0.2",
        "decided_on": decided, "penalty_valid_until": "2099-12-31",
        "procedure": "general", "not_penalized": false, "severity": "general"
    })
}

/// The check character completing a 17-character credit code.
fn check(first17: &str) -> String {
    CreditCode::with_check_character(first17)
        .unwrap()
        .to_string()[17..]
        .to_owned()
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(8) {
        let len = input.len();
        match rng.below(9) {
            0 if len > 0 => {
                let at = rng.below(len);
                input[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                input[at] = rng.next() as u8;
            }
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                let at = rng.below(len + 1);
                input.splice(at..at, token.iter().copied());
            }
            3 if len > 0 => {
                let at = rng.below(len);
                let n = rng.below((len - at).min(4096)) + 1;
                input.drain(at..at + n);
            }
            4 if len > 0 => input.truncate(rng.below(len)),
            5 => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let n = rng.below((other.len() - from).min(8192)) + 1;
                    let at = rng.below(len + 1);
                    input.splice(at..at, other[from..from + n].iter().copied());
                }
            }
            6 if len > 0 => {
                let at = rng.below(len);
                let n = rng.below((len - at).min(1024)) + 1;
                let copy = input[at..at + n].to_vec();
                for _ in 0..rng.below(64) + 1 {
                    input.splice(at..at, copy.iter().copied());
                }
            }
            7 => {
                // Deep nesting.
                let at = rng.below(len + 1);
                let depth = rng.below(5000);
                let open: &[u8] = if rng.below(2) == 0 { b"[" } else { b"<</A " };
                let nested: Vec<u8> = open.repeat(depth);
                input.splice(at..at, nested);
            }
            _ => {
                // A number where a number is: lengths, offsets, object ids.
                if let Some(at) = (0..16)
                    .map(|_| rng.below(len.max(1)))
                    .find(|&i| input.get(i).is_some_and(u8::is_ascii_digit))
                {
                    let value =
                        [0u64, 1, 9, 255, 65535, 1 << 31, u64::MAX][rng.below(7)].to_string();
                    input.splice(at..at + 1, value.bytes());
                }
            }
        }
    }
    input.truncate(MAX_FILE_BYTES);
}

fn save(name: &str, input: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    std::fs::create_dir_all(&dir).expect("creating fuzz/artifacts");
    let path = dir.join(name);
    std::fs::write(&path, input).expect("writing the artifact");
    path
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args
        .next()
        .map(|s| s.parse().expect("SECONDS"))
        .unwrap_or(60);
    let seed: u64 = args
        .next()
        .map(|s| s.parse().expect("SEED"))
        .unwrap_or_else(|| Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64 | 1);
    eprintln!("fuzzing file verification for {seconds} s, seed {seed}");

    let (to_worker, inputs) = mpsc::channel::<Vec<u8>>();
    let (to_main, answers) = mpsc::channel::<Result<(), String>>();
    let (seeds_tx, seeds_rx) = mpsc::channel::<Vec<Vec<u8>>>();
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let now = Utc::now();
            let kv = MemoryStore::new();
            let material = generate("模糊测试根证书", "模糊测试签章").expect("a development seal");
            let seal = Seal::from_pem(&material.private_key_pem, &material.chain_pem, true)
                .expect("the development seal");
            let ours = PublishedChain::new(material.chain_pem.clone(), true);
            let seeds = issued(&kv, now, &seal);
            seeds_tx.send(seeds.clone()).unwrap();
            for input in inputs {
                // What the component refuses while reading (no `%PDF-`
                // header, over 5 MiB) never reaches the classification.
                let Ok(upload) = Upload::new(&input) else {
                    if to_main.send(Ok(())).is_err() {
                        break;
                    }
                    continue;
                };
                let result =
                    catch_unwind(AssertUnwindSafe(|| verify_upload(&kv, &upload, now, &ours)));
                let verdict = match result {
                    Err(_) => Err("panic".to_owned()),
                    Ok(Err(error)) => Err(format!("error {}: {error:?}", error.code())),
                    Ok(Ok(answer)) => match answer.verification.outcome {
                        Outcome::Valid | Outcome::Expired | Outcome::Revoked { .. }
                            if !answer.file.matches_original =>
                        {
                            Err("authentic outcome without matching bytes".to_owned())
                        }
                        Outcome::Incomplete
                            if !seeds.iter().any(|seed| {
                                seed.len() > input.len() && seed.starts_with(&input)
                            }) =>
                        {
                            Err("incomplete outcome for a file that starts no issued report"
                                .to_owned())
                        }
                        _ => Ok(()),
                    },
                };
                if to_main.send(verdict).is_err() {
                    break;
                }
            }
        })
        .expect("spawning the worker");
    let seeds = seeds_rx.recv().expect("seeds");

    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut runs = 0u64;
    let mut slowest = Duration::ZERO;
    while started.elapsed() < Duration::from_secs(seconds) {
        let mut input = seeds[rng.below(seeds.len())].clone();
        mutate(&mut rng, &seeds, &mut input);
        let began = Instant::now();
        to_worker.send(input.clone()).expect("worker alive");
        match answers.recv_timeout(HANG) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => {
                let path = save(&format!("failure-{seed}-{runs}.pdf"), &input);
                eprintln!(
                    "FAILED after {runs} runs: {why}; input saved to {}",
                    path.display()
                );
                std::process::exit(1);
            }
            Err(_) => {
                let path = save(&format!("hang-{seed}-{runs}.pdf"), &input);
                eprintln!(
                    "HANG (> {HANG:?}) after {runs} runs; input saved to {}",
                    path.display()
                );
                std::process::exit(1);
            }
        }
        slowest = slowest.max(began.elapsed());
        runs += 1;
    }
    println!(
        "fuzz-verify-file: {runs} inputs in {:?}, slowest {slowest:?}, no panic, hang or false authentic (seed {seed})",
        started.elapsed()
    );
}
