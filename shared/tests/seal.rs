//! The report seal: sealed files are deterministic and verify; any change,
//! an appended update or another signer is seen; key material that does not
//! fit is refused with the variable at fault. (Independent validators,
//! pdfsig and pyHanko, check the same files in tests/seal.rs.)

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use credit_core::auth::Principal;
use credit_core::catalog::catalog;
use credit_core::config::RuleConfig;
use credit_core::error::Error;
use credit_core::inspect::inspect;
use credit_core::kv::{KeyValue, MemoryStore};
use credit_core::pdf::sign::development::{DevelopmentSeal, generate};
use credit_core::pdf::sign::{
    Certificates, PublishedChain, Seal, SealError, SignatureFacts, check, facts_of_pinned,
};
use credit_core::report::{ApplyRequest, Outcome, PdfFingerprint, Report};
use credit_core::store::{Store, keys};
use credit_core::upload::Upload;
use credit_core::uscc::CreditCode;
use credit_core::usecase::reports::{sealed_pdf, sealed_rendering};
use credit_core::usecase::verification::verify_upload;
use credit_core::vocabulary::RevocationCategory;
use serde_json::json;

const BASE_URL: &str = "http://127.0.0.1:3000";
const SIGNER: &str = "永昌县发展和改革局（开发测试用）";

fn ours() -> &'static DevelopmentSeal {
    static SEAL: OnceLock<DevelopmentSeal> = OnceLock::new();
    SEAL.get_or_init(|| generate("开发测试根证书", SIGNER).unwrap())
}

fn other() -> &'static DevelopmentSeal {
    static SEAL: OnceLock<DevelopmentSeal> = OnceLock::new();
    SEAL.get_or_init(|| generate("另一个根证书", "某某冒名签章单位").unwrap())
}

fn seal(material: &DevelopmentSeal) -> Seal {
    Seal::from_pem(&material.private_key_pem, &material.chain_pem, true).unwrap()
}

fn published() -> PublishedChain {
    PublishedChain::new(ours().chain_pem.clone(), true)
}

fn certificates() -> Certificates {
    published().certificates().unwrap()
}

fn now() -> DateTime<Utc> {
    "2026-11-29T02:23:45Z".parse().unwrap()
}

/// A store holding one issued report, not yet downloaded.
fn issued(kv: &MemoryStore) -> Report {
    let uscc = CreditCode::with_check_character("91620321MF0000001").unwrap();
    let principal = Principal::Entity {
        sub: "seal-test".into(),
        uscc,
        name: Some("永昌县签章测试有限公司".into()),
    };
    let purpose = catalog().purposes[0].code.clone();
    let request = ApplyRequest::from_json(
        &json!({"months": 12, "domains": "all", "purpose": purpose}),
        &principal,
    )
    .unwrap();
    Store::new(kv)
        .issue_report(&request, "seal-test", now(), &RuleConfig::default())
        .unwrap()
}

/// The report's PDF as its first download seals and pins it.
fn downloaded(kv: &MemoryStore, report: &Report) -> Vec<u8> {
    Store::new(kv)
        .issued_pdf(&report.report_no, || {
            sealed_rendering(report, BASE_URL, &seal(ours()))
        })
        .unwrap()
        .bytes
}

fn facts(bytes: &[u8]) -> SignatureFacts {
    let dictionary = inspect(bytes).signature.expect("a signature dictionary");
    check(bytes, &dictionary, &certificates())
}

#[test]
fn a_sealed_report_verifies_and_states_its_issue_time_and_signer() {
    let kv = MemoryStore::default();
    let report = issued(&kv);
    let bytes = sealed_pdf(&report, BASE_URL, &seal(ours())).unwrap();
    assert_eq!(bytes, sealed_pdf(&report, BASE_URL, &seal(ours())).unwrap());
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("/SubFilter/ETSI.CAdES.detached"),
        "{}",
        &text[..200]
    );
    assert_eq!(
        facts(&bytes),
        SignatureFacts {
            present: true,
            valid: true,
            covers_whole_file: true,
            by_issuer: true,
            signer: Some(SIGNER.into()),
            signed_at: Some(report.issued_at),
        }
    );
}

#[test]
fn the_seal_image_is_drawn_in_the_signature_block_and_a_bad_one_refused() {
    let kv = MemoryStore::default();
    let report = issued(&kv);
    let png = include_bytes!("fixtures/seal-ring.png");
    let with_image = seal(ours()).with_image(Some(png)).unwrap();
    let bytes = sealed_pdf(&report, BASE_URL, &with_image).unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("/SMask"));
    assert!(facts(&bytes).valid);
    assert_ne!(bytes, sealed_pdf(&report, BASE_URL, &seal(ours())).unwrap());
    match seal(ours()).with_image(Some(b"\x89PNG\r\n\x1a\nbroken")) {
        Err(Error::InvalidConfig { variable, .. }) => assert_eq!(variable, "seal_image_png"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_changed_byte_breaks_the_signature_and_an_appended_update_leaves_part_unsigned() {
    let kv = MemoryStore::default();
    let report = issued(&kv);
    let bytes = sealed_pdf(&report, BASE_URL, &seal(ours())).unwrap();
    // A byte of the document title in the Info dictionary.
    let at = bytes.len() - 600;
    let mut changed = bytes.clone();
    changed[at] ^= 0x01;
    let broken = facts(&changed);
    assert!(broken.present && !broken.valid, "{broken:?}");

    let mut appended = bytes.clone();
    appended.extend_from_slice(b"\n% an incremental update would follow here\n");
    let partial = facts(&appended);
    assert!(partial.valid && !partial.covers_whole_file, "{partial:?}");
}

#[test]
fn file_verification_reports_the_seal_and_names_why_a_file_is_tampered() {
    let kv = MemoryStore::default();
    let report = issued(&kv);
    let original = downloaded(&kv, &report);

    let genuine =
        verify_upload(&kv, &Upload::new(&original).unwrap(), now(), &published()).unwrap();
    assert_eq!(genuine.verification.outcome, Outcome::Valid);
    assert!(genuine.signature.valid && genuine.signature.by_issuer);

    let mut appended = original.clone();
    appended.extend_from_slice(b"\n1 0 obj\nnull\nendobj\n");
    let answer = verify_upload(&kv, &Upload::new(&appended).unwrap(), now(), &published()).unwrap();
    assert_eq!(
        answer.verification.outcome,
        Outcome::Tampered {
            appended_update: true,
            signed_by_other: false
        }
    );
    assert!(answer.signature.valid && !answer.signature.covers_whole_file);

    let resigned = sealed_pdf(&report, BASE_URL, &seal(other())).unwrap();
    let answer = verify_upload(&kv, &Upload::new(&resigned).unwrap(), now(), &published()).unwrap();
    assert_eq!(
        answer.verification.outcome,
        Outcome::Tampered {
            appended_update: false,
            signed_by_other: true
        }
    );
    assert!(answer.verification.message.contains("其他签章者"));
    assert_eq!(answer.signature.signer.as_deref(), Some("某某冒名签章单位"));
    assert!(answer.signature.valid && !answer.signature.by_issuer);

    let unsealed =
        credit_core::pdf::render(&credit_core::report::report_document(&report, BASE_URL)).unwrap();
    let answer = verify_upload(&kv, &Upload::new(&unsealed).unwrap(), now(), &published()).unwrap();
    assert_eq!(answer.verification.outcome.code(), "TAMPERED");
    assert_eq!(answer.signature, SignatureFacts::default());
}

/// A genuine report is answered from its hash: the signature facts read
/// from the pinned copy without parsing it are those a full check finds.
#[test]
fn a_pinned_copys_signature_is_read_without_parsing_as_a_full_check_reads_it() {
    let kv = MemoryStore::default();
    let report = issued(&kv);
    let pinned = sealed_pdf(&report, BASE_URL, &seal(ours())).unwrap();
    assert_eq!(facts_of_pinned(&pinned, &certificates()), facts(&pinned));
    let unsealed =
        credit_core::pdf::render(&credit_core::report::report_document(&report, BASE_URL)).unwrap();
    assert_eq!(
        facts_of_pinned(&unsealed, &certificates()),
        SignatureFacts::default()
    );
    let signed_by_other = sealed_pdf(&report, BASE_URL, &seal(other())).unwrap();
    assert_eq!(
        facts_of_pinned(&signed_by_other, &certificates()),
        facts(&signed_by_other)
    );
}

/// A genuine file's signature facts are those recorded when it was pinned,
/// while the chain they were read against is published unchanged; against
/// any other chain they are read again. Either way they are what a full
/// check against the published chain finds.
#[test]
fn a_genuine_files_signature_facts_come_from_its_pin_while_the_same_chain_is_published() {
    let kv = MemoryStore::default();
    let report = issued(&kv);
    let original = downloaded(&kv, &report);
    let upload = Upload::new(&original).unwrap();
    let verify = |published: &PublishedChain| verify_upload(&kv, &upload, now(), published);

    let genuine = verify(&published()).unwrap();
    assert_eq!(genuine.verification.outcome, Outcome::Valid);
    assert_eq!(genuine.signature, facts(&original));

    // What is answered is the record, and a revocation, which rewrites the
    // file's index entry, keeps it: marked in the store, the mark shows.
    let key = keys::pdf_fingerprint(&report.report_no);
    let mut pinned: PdfFingerprint =
        serde_json::from_slice(&kv.get(&key).unwrap().unwrap()).unwrap();
    pinned
        .signature
        .as_mut()
        .expect("recorded at pinning")
        .facts
        .signer = Some("记录的签章者".into());
    kv.set(&key, &serde_json::to_vec(&pinned).unwrap()).unwrap();
    Store::new(&kv)
        .revoke(&report.report_no, RevocationCategory::Other, "测试", now())
        .unwrap();
    let recorded = verify(&published()).unwrap();
    assert_eq!(recorded.verification.outcome.code(), "REVOKED");
    assert_eq!(recorded.signature.signer.as_deref(), Some("记录的签章者"));

    // Another chain published (a move to another CA): read against it.
    let rotated = PublishedChain::new(other().chain_pem.clone(), true);
    let after_rotation = verify(&rotated).unwrap();
    assert_eq!(after_rotation.verification.outcome.code(), "REVOKED");
    let dictionary = inspect(&original).signature.unwrap();
    assert_eq!(
        after_rotation.signature,
        check(&original, &dictionary, &rotated.certificates().unwrap())
    );
    assert!(after_rotation.signature.valid && !after_rotation.signature.by_issuer);
    assert_eq!(after_rotation.signature.signer.as_deref(), Some(SIGNER));

    // The same chain outside development mode: its development certificate
    // is refused there, as it always was.
    let production = PublishedChain::new(ours().chain_pem.clone(), false);
    assert_eq!(verify(&production).unwrap_err().code(), "INVALID_CONFIG");
}

#[test]
fn key_material_that_does_not_fit_is_refused_naming_the_variable() {
    let (ours, other) = (ours(), other());
    assert_eq!(
        Seal::from_pem(&ours.private_key_pem, &ours.chain_pem, false).unwrap_err(),
        SealError::DevelopmentOnly
    );
    assert_eq!(
        Seal::from_pem(&other.private_key_pem, &ours.chain_pem, true).unwrap_err(),
        SealError::KeyMismatch
    );
    assert_eq!(
        Seal::from_pem("not a key", &ours.chain_pem, true).unwrap_err(),
        SealError::PrivateKey
    );
    assert!(matches!(
        Certificates::from_pem(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            true
        ),
        Err(SealError::Chain(_))
    ));
    assert_eq!(
        Certificates::from_pem("", true).unwrap_err(),
        SealError::EmptyChain
    );

    let variables = |key: Option<&'static str>, chain: Option<&'static str>| {
        move |name: &str| match name {
            "seal_private_key_pem" => key.map(str::to_owned),
            "seal_certificate_chain_pem" => chain.map(str::to_owned),
            _ => None,
        }
    };
    let variable_of = |error: Error| match error {
        Error::InvalidConfig { variable, .. } => variable,
        other => panic!("{other:?}"),
    };
    let key: &'static str = ours.private_key_pem.as_str();
    let chain: &'static str = ours.chain_pem.as_str();
    assert_eq!(
        variable_of(Seal::from_variables(variables(None, Some(chain)), true).unwrap_err()),
        "seal_private_key_pem"
    );
    assert_eq!(
        variable_of(Seal::from_variables(variables(Some(key), Some(" ")), true).unwrap_err()),
        "seal_certificate_chain_pem"
    );
    assert_eq!(
        variable_of(Seal::from_variables(variables(Some(key), Some(chain)), false).unwrap_err()),
        "seal_certificate_chain_pem"
    );
    assert!(Seal::from_variables(variables(Some(key), Some(chain)), true).is_ok());
    let published = PublishedChain::from_variables(variables(None, Some(chain)), true)
        .unwrap()
        .certificates()
        .unwrap();
    assert_eq!(published.signer(), SIGNER);
    assert!(published.is_development());
    assert_eq!(
        Certificates::from_pem(published.to_pem(), true).unwrap(),
        published
    );
}

#[test]
fn hostile_signature_dictionaries_give_an_invalid_signature_never_a_panic() {
    let kv = MemoryStore::default();
    let report = issued(&kv);
    let bytes = sealed_pdf(&report, BASE_URL, &seal(ours())).unwrap();
    let mut dictionary = inspect(&bytes).signature.unwrap();
    let published = certificates();
    let genuine = dictionary.clone();
    for contents in [
        Vec::new(),
        vec![0x30],
        vec![0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
        vec![0; 64],
    ] {
        dictionary.contents = contents;
        let facts = check(&bytes, &dictionary, &published);
        assert!(facts.present && !facts.valid, "{facts:?}");
    }
    dictionary = genuine.clone();
    dictionary.byte_range = vec![0, 10, 5, i64::MAX];
    assert!(!check(&bytes, &dictionary, &published).valid);
    dictionary = genuine;
    dictionary.signed_at = Some("D:99999999999999+99'99'".into());
    let facts = check(&bytes, &dictionary, &published);
    assert!(facts.valid && facts.signed_at.is_none(), "{facts:?}");
}

/// A download cut short is the start of the pinned original: recognised as
/// an incomplete copy of that report, whatever its length once it reaches
/// the report number near the start; a changed byte or a start too short
/// to name the report is not.
#[test]
fn a_download_cut_short_is_an_incomplete_copy_of_the_report_it_starts_like() {
    let kv = MemoryStore::default();
    let report = issued(&kv);
    let original = downloaded(&kv, &report);
    for length in [original.len() / 2, 2048, original.len() - 1] {
        let answer = verify_upload(
            &kv,
            &Upload::new(&original[..length]).unwrap(),
            now(),
            &published(),
        )
        .unwrap();
        assert_eq!(answer.verification.outcome, Outcome::Incomplete, "{length}");
        assert_eq!(answer.claimed_report_no.as_ref(), Some(&report.report_no));
        assert!(answer.verification.report.is_none());
        assert!(
            answer.verification.message.contains("不完整")
                && answer.verification.message.contains("重新下载")
                && answer.verification.message.contains("核验码")
                && answer
                    .verification
                    .message
                    .contains(report.report_no.as_str()),
            "{}",
            answer.verification.message
        );
        assert_eq!(answer.file.size, length as u64);
        assert!(!answer.file.matches_original);
    }

    let mut altered = original[..original.len() / 2].to_vec();
    let last = altered.len() - 1;
    altered[last] ^= 0x01;
    let answer = verify_upload(&kv, &Upload::new(&altered).unwrap(), now(), &published()).unwrap();
    assert_ne!(answer.verification.outcome, Outcome::Incomplete);

    let too_short = verify_upload(
        &kv,
        &Upload::new(&original[..64]).unwrap(),
        now(),
        &published(),
    )
    .unwrap();
    assert_eq!(too_short.verification.outcome, Outcome::Unrecognized);
}
