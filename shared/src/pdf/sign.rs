//! The report seal (电子签章): a PAdES baseline B-B signature that any PDF
//! reader checks offline.
//!
//! The signature dictionary (`/SubFilter /ETSI.CAdES.detached`) holds a
//! detached CMS SignedData over the whole file but its own `/Contents`:
//! SHA-256, ECDSA P-256 with RFC 6979 nonces, and the signed attributes
//! PAdES B-B asks for (content type, message digest, signing-certificate-v2).
//! PAdES forbids the signing-time attribute; the signing time is the
//! dictionary's `/M`, the report's issue time. Nothing here reads a clock or
//! draws a random number, so the same report and key give the same bytes on
//! every platform.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence, SliceReader};
use memchr::memmem;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::der::pem::LineEnding;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::{RenderError, SealImage};
use crate::error::Error;

/// The secret Spin variables holding the seal: no defaults, read where used.
pub const PRIVATE_KEY_VARIABLE: &str = "seal_private_key_pem";
pub const CHAIN_VARIABLE: &str = "seal_certificate_chain_pem";
/// Where the chain is published.
pub const CERTIFICATES_PATH: &str = "/api/v1/seal/certificates";

/// The organizational unit (OU) of a development seal certificate, as the
/// dev tool (`credit-dev seal-ca`) writes it: such a certificate is refused
/// outside development mode.
pub const DEVELOPMENT_UNIT: &str = "DEVELOPMENT ONLY - NOT FOR PRODUCTION";

/// `/ByteRange` as written before the offsets are known: ten digits each, so
/// the real offsets (padded with spaces) always fit in its place.
pub(crate) const BYTE_RANGE_PLACEHOLDER: [i64; 4] =
    [0, 9_999_999_991, 9_999_999_992, 9_999_999_993];
const BYTE_RANGE_TEXT: &[u8] = b"[0 9999999991 9999999992 9999999993]";

/// Why the seal's key material cannot be used; the operator's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("私钥无法读取：应为 PEM 格式（PKCS#8 或 SEC1）的 ECDSA P-256 私钥")]
    PrivateKey,
    #[error("证书链无法读取：应为 PEM 格式的证书，签章证书在前（{0}）")]
    Chain(String),
    #[error("证书链为空")]
    EmptyChain,
    #[error("签章证书的公钥不是 ECDSA P-256")]
    NotP256,
    #[error("私钥与证书链第一张证书（签章证书）的公钥不匹配")]
    KeyMismatch,
    #[error(
        "这是开发用签章证书（{DEVELOPMENT_UNIT}），只能在开发模式（auth_mode=development）下使用"
    )]
    DevelopmentOnly,
}

impl SealError {
    /// The configuration error, naming the variable at fault.
    fn for_variables(self) -> Error {
        let variable = match self {
            SealError::PrivateKey | SealError::KeyMismatch => PRIVATE_KEY_VARIABLE,
            _ => CHAIN_VARIABLE,
        };
        Error::InvalidConfig {
            variable: variable.into(),
            detail: self.to_string(),
        }
    }
}

fn secret(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Result<String, Error> {
    lookup(name)
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| Error::InvalidConfig {
            variable: name.into(),
            detail: "未配置：电子签章的私钥和证书链都是必需的".into(),
        })
}

/// The published certificate chain, seal certificate first: what the
/// service publishes at `/api/v1/seal/certificates` and what file
/// verification recognises as its own signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificates {
    chain: Vec<Certificate>,
    /// The chain re-encoded: PEM as published, and its DER size.
    pem: String,
    der_len: usize,
}

/// The published chain as configured, not yet parsed. A genuine report's
/// pinned signature facts were read against the configured chain whose
/// fingerprint they carry; while that chain is configured unchanged they
/// stand, and file verification answers a genuine report without parsing
/// the chain or the signature (docs/decisions.md).
#[derive(Debug)]
pub struct PublishedChain {
    pem: String,
    development_mode: bool,
    fingerprint: String,
}

impl PublishedChain {
    /// The chain's secret variable: `INVALID_CONFIG` when it is missing.
    pub fn from_variables(
        lookup: impl Fn(&str) -> Option<String>,
        development_mode: bool,
    ) -> Result<PublishedChain, Error> {
        Ok(PublishedChain::new(
            secret(&lookup, CHAIN_VARIABLE)?,
            development_mode,
        ))
    }

    pub fn new(chain_pem: String, development_mode: bool) -> PublishedChain {
        PublishedChain {
            fingerprint: chain_fingerprint(&chain_pem, development_mode),
            pem: chain_pem,
            development_mode,
        }
    }

    /// Identifies the configuration the chain is parsed from: the same
    /// fingerprint, the same [`Certificates`].
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The chain parsed: `INVALID_CONFIG` when it is unusable.
    pub fn certificates(&self) -> Result<Certificates, Error> {
        Certificates::from_pem(&self.pem, self.development_mode).map_err(|e| e.for_variables())
    }
}

/// SHA-256 over what [`Certificates::from_pem`] reads: the mode (a
/// development certificate parses only in development mode) and the
/// trimmed PEM.
fn chain_fingerprint(chain_pem: &str, development_mode: bool) -> String {
    let mode: &[u8] = if development_mode {
        b"development\n"
    } else {
        b"production\n"
    };
    let mut hasher = Sha256::new();
    hasher.update(mode);
    hasher.update(chain_pem.trim());
    crate::codes::hex(&hasher.finalize())
}

impl Certificates {
    /// Parses a PEM chain. A development certificate is refused unless
    /// `development_mode` is on.
    pub fn from_pem(chain_pem: &str, development_mode: bool) -> Result<Certificates, SealError> {
        let chain = Certificate::load_pem_chain(chain_pem.trim().as_bytes())
            .map_err(|e| SealError::Chain(e.to_string()))?;
        let Some(leaf) = chain.first() else {
            return Err(SealError::EmptyChain);
        };
        if is_development(leaf) && !development_mode {
            return Err(SealError::DevelopmentOnly);
        }
        public_key(leaf)?;
        let encoding = |e: der::Error| SealError::Chain(e.to_string());
        let mut pem = String::new();
        let mut der_len = 0;
        for certificate in &chain {
            pem.push_str(&der::EncodePem::to_pem(certificate, LineEnding::LF).map_err(encoding)?);
            der_len += certificate.to_der().map_err(encoding)?.len();
        }
        Ok(Certificates {
            chain,
            pem,
            der_len,
        })
    }

    /// The chain as PEM, seal certificate first.
    pub fn to_pem(&self) -> &str {
        &self.pem
    }

    /// The name the seal certificate gives its holder.
    pub fn signer(&self) -> String {
        display_name(&self.chain[0])
    }

    /// Whether the seal certificate is the dev tool's.
    pub fn is_development(&self) -> bool {
        is_development(&self.chain[0])
    }

    /// Whether `signer` is one of these certificates or was issued by one
    /// of them: a seal of this service, the current one or an earlier one
    /// from the same CA.
    fn recognises(&self, signer: &Certificate) -> bool {
        self.chain
            .iter()
            .any(|ours| ours == signer || issued_by(signer, ours))
    }
}

/// The issuing body's seal: its private key, its published chain, and the
/// seal image the cover shows, when a deployer supplies one.
pub struct Seal {
    key: SigningKey,
    certificates: Certificates,
    /// The [`PublishedChain::fingerprint`] of the chain it was made from.
    chain_fingerprint: String,
    image: Option<SealImage>,
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seal")
            .field("signer", &self.certificates.signer())
            .finish_non_exhaustive()
    }
}

impl Seal {
    /// The seal from its secret variables: `INVALID_CONFIG` naming the
    /// variable when one is missing or unusable, so that nothing is ever
    /// issued unsealed.
    pub fn from_variables(
        lookup: impl Fn(&str) -> Option<String>,
        development_mode: bool,
    ) -> Result<Seal, Error> {
        let key = secret(&lookup, PRIVATE_KEY_VARIABLE)?;
        let chain = secret(&lookup, CHAIN_VARIABLE)?;
        Seal::from_pem(&key, &chain, development_mode).map_err(|e| e.for_variables())
    }

    /// The key (PKCS#8 or SEC1 PEM) and its chain (PEM, seal certificate
    /// first), which must belong together.
    pub fn from_pem(
        private_key_pem: &str,
        chain_pem: &str,
        development_mode: bool,
    ) -> Result<Seal, SealError> {
        let certificates = Certificates::from_pem(chain_pem, development_mode)?;
        let secret = p256::SecretKey::from_pkcs8_pem(private_key_pem.trim())
            .or_else(|_| p256::SecretKey::from_sec1_pem(private_key_pem.trim()))
            .map_err(|_| SealError::PrivateKey)?;
        let key = SigningKey::from(&secret);
        if public_key(&certificates.chain[0])? != *key.verifying_key() {
            return Err(SealError::KeyMismatch);
        }
        Ok(Seal {
            key,
            certificates,
            chain_fingerprint: chain_fingerprint(chain_pem, development_mode),
            image: None,
        })
    }

    /// The seal with the image the `seal_image_png` setting supplies, if
    /// any: `INVALID_CONFIG` when it is not a usable PNG.
    pub fn with_image(self, png: Option<&[u8]>) -> Result<Seal, Error> {
        let image =
            png.map(SealImage::from_png)
                .transpose()
                .map_err(|detail| Error::InvalidConfig {
                    variable: crate::config::SEAL_IMAGE_PNG.name.into(),
                    detail,
                })?;
        Ok(Seal { image, ..self })
    }

    pub fn certificates(&self) -> &Certificates {
        &self.certificates
    }

    pub fn image(&self) -> Option<&SealImage> {
        self.image.as_ref()
    }

    /// The signature facts of `file`, which this seal has just sealed, as
    /// file verification will answer them while this chain is published.
    pub fn pinned_signature(&self, file: &[u8]) -> PinnedSignature {
        PinnedSignature {
            chain: self.chain_fingerprint.clone(),
            facts: facts_of_pinned(file, &self.certificates),
        }
    }

    /// Bytes reserved for the CMS structure in `/Contents`: the chain it
    /// carries plus the attributes and the signature, with room to spare.
    pub(crate) fn capacity(&self) -> usize {
        self.certificates.der_len + 1024
    }

    /// Fills in the placeholders [`super::write`] left in `pdf`: the byte
    /// range, then the CMS signature over it.
    pub(crate) fn sign_in_place(&self, pdf: &mut [u8]) -> Result<(), RenderError> {
        let missing =
            |what: &str| RenderError::Write(format!("signature placeholder {what} not found"));
        let capacity = self.capacity();
        let mut zeros = vec![b'0'; 2 * capacity + 2];
        zeros[0] = b'<';
        zeros[2 * capacity + 1] = b'>';
        let start = memmem::find(pdf, &zeros).ok_or_else(|| missing("/Contents"))?;
        let end = start + zeros.len();
        let range_at = memmem::find(pdf, BYTE_RANGE_TEXT).ok_or_else(|| missing("/ByteRange"))?;
        let mut patch = format!("[0 {start} {end} {}]", pdf.len() - end).into_bytes();
        if patch.len() > BYTE_RANGE_TEXT.len() {
            return Err(RenderError::Write(
                "file too large for its /ByteRange".into(),
            ));
        }
        patch.resize(BYTE_RANGE_TEXT.len(), b' ');
        pdf[range_at..range_at + patch.len()].copy_from_slice(&patch);

        let digest = Sha256::new()
            .chain_update(&pdf[..start])
            .chain_update(&pdf[end..])
            .finalize();
        let cms = self
            .signed_data(&digest)
            .map_err(|e| RenderError::Write(format!("encoding the signature: {e}")))?;
        if cms.len() > capacity {
            return Err(RenderError::Write(format!(
                "signature of {} bytes exceeds the {capacity} reserved",
                cms.len()
            )));
        }
        let hex = base16ct::upper::encode_string(&cms);
        pdf[start + 1..start + 1 + hex.len()].copy_from_slice(hex.as_bytes());
        Ok(())
    }

    /// The DER ContentInfo of a detached SignedData over `digest`.
    fn signed_data(&self, digest: &[u8]) -> der::Result<Vec<u8>> {
        let leaf = &self.certificates.chain[0];
        let signing_certificate = SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                cert_hash: OctetString::new(Sha256::digest(leaf.to_der()?).to_vec())?,
            }],
        };
        let signed_attrs = SetOfVec::try_from(vec![
            attribute(
                rfc5911::ID_CONTENT_TYPE,
                Any::encode_from(&rfc5911::ID_DATA)?,
            )?,
            attribute(
                rfc5911::ID_MESSAGE_DIGEST,
                Any::encode_from(&OctetString::new(digest.to_vec())?)?,
            )?,
            attribute(
                rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2,
                Any::encode_from(&signing_certificate)?,
            )?,
        ])?;
        let signature: Signature = self.key.sign(&signed_attrs.to_der()?);
        let tbs = leaf.tbs_certificate();
        let signer = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer().clone(),
                serial_number: tbs.serial_number().clone(),
            }),
            digest_alg: algorithm(rfc5912::ID_SHA_256),
            signed_attrs: Some(signed_attrs),
            signature_algorithm: algorithm(rfc5912::ECDSA_WITH_SHA_256),
            signature: OctetString::new(signature.to_der().as_bytes().to_vec())?,
            unsigned_attrs: None,
        };
        let certificates = self
            .certificates
            .chain
            .iter()
            .cloned()
            .map(CertificateChoices::Certificate)
            .collect::<Vec<_>>();
        let signed_data = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![algorithm(rfc5912::ID_SHA_256)])?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: rfc5911::ID_DATA,
                econtent: None,
            },
            certificates: Some(CertificateSet(SetOfVec::try_from(certificates)?)),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer])?),
        };
        ContentInfo {
            content_type: rfc5911::ID_SIGNED_DATA,
            content: Any::encode_from(&signed_data)?,
        }
        .to_der()
    }
}

/// ESS `SigningCertificateV2` (RFC 5035) with one `ESSCertIDv2` whose hash
/// algorithm is the default, SHA-256 (so DER leaves it out), and no
/// issuer-serial (optional).
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

#[derive(Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
}

fn attribute(oid: ObjectIdentifier, value: Any) -> der::Result<Attribute> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

fn algorithm(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

fn public_key(certificate: &Certificate) -> Result<VerifyingKey, SealError> {
    let spki = certificate
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|_| SealError::NotP256)?;
    VerifyingKey::from_public_key_der(&spki).map_err(|_| SealError::NotP256)
}

fn is_development(certificate: &Certificate) -> bool {
    certificate
        .tbs_certificate()
        .subject()
        .organization_unit()
        .ok()
        .flatten()
        .is_some_and(|unit| unit.value() == DEVELOPMENT_UNIT)
}

/// The subject's common name, else its organization, else the whole name.
fn display_name(certificate: &Certificate) -> String {
    let subject = certificate.tbs_certificate().subject();
    let named = |value: der::Result<Option<x509_cert::ext::pkix::name::DirectoryString>>| {
        value.ok().flatten().map(|v| v.value().into_owned())
    };
    named(subject.common_name())
        .or_else(|| named(subject.organization()))
        .unwrap_or_else(|| subject.to_string())
}

/// Whether `issuer`'s P-256 key signed `certificate` (ecdsa-with-SHA256).
fn issued_by(certificate: &Certificate, issuer: &Certificate) -> bool {
    if certificate.signature_algorithm().oid != rfc5912::ECDSA_WITH_SHA_256
        || certificate.tbs_certificate().issuer() != issuer.tbs_certificate().subject()
    {
        return false;
    }
    let (Ok(key), Ok(tbs), Some(bits)) = (
        public_key(issuer),
        certificate.tbs_certificate().to_der(),
        certificate.signature().as_bytes(),
    ) else {
        return false;
    };
    Signature::from_der(bits).is_ok_and(|sig| key.verify(&tbs, &sig).is_ok())
}

/// A signature dictionary as found in an uploaded file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignatureDictionary {
    pub byte_range: Vec<i64>,
    pub contents: Vec<u8>,
    /// `/M`, the signing time the signer states, as written.
    pub signed_at: Option<String>,
}

/// What file verification learns from a file's signature
/// (docs/api.md `signature`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureFacts {
    /// The file carries a signature dictionary.
    pub present: bool,
    /// The signature is intact: its CMS verifies over the bytes it covers.
    pub valid: bool,
    /// The covered bytes run to the end of the file: nothing was appended.
    pub covers_whole_file: bool,
    /// Signed with this service's published seal certificate (or another
    /// issued by the same CA).
    pub by_issuer: bool,
    /// The signer certificate's name.
    pub signer: Option<String>,
    /// The signing time the signature states (`/M`).
    pub signed_at: Option<DateTime<FixedOffset>>,
}

/// Checks the signature `dictionary` of `file` against the published
/// chain. Hostile input gives `valid: false`, never a panic.
pub fn check(file: &[u8], dictionary: &SignatureDictionary, ours: &Certificates) -> SignatureFacts {
    examine(file, dictionary, ours, |covered, signer, certificate| {
        let mut hasher = Sha256::new();
        for (from, to) in covered {
            hasher.update(&file[from..to]);
        }
        verifies(signer, certificate, &hasher.finalize())
    })
}

/// A pinned copy's signature facts as read when it was pinned, and the
/// chain they were read against (its [`PublishedChain::fingerprint`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinnedSignature {
    pub chain: String,
    pub facts: SignatureFacts,
}

impl PinnedSignature {
    /// The facts, if they were read against `published`.
    pub fn read_against(&self, published: &PublishedChain) -> Option<&SignatureFacts> {
        (self.chain == published.fingerprint()).then_some(&self.facts)
    }
}

/// The signature facts of a pinned copy: a file whose SHA-256 is the one
/// recorded when this service sealed and pinned it, so these are the very
/// bytes the seal signed then. Read without parsing the PDF or verifying
/// the ECDSA signature again (file verification answers a genuine report
/// from its hash, docs/decisions.md): the dictionary is found where
/// [`Seal::sign_in_place`] wrote it, the signer and time are read from it,
/// and `valid` is what signing these bytes made it. A pinned copy from
/// before reports were sealed carries no signature.
pub fn facts_of_pinned(file: &[u8], ours: &Certificates) -> SignatureFacts {
    match written_dictionary(file) {
        Some(dictionary) => examine(file, &dictionary, ours, |_, _, _| true),
        None => SignatureFacts::default(),
    }
}

/// The signature dictionary as [`Seal::sign_in_place`] leaves it: the last
/// `/ByteRange [0 a b c]`, the `/Contents` hex string between the two
/// ranges, and the `/M` literal string written right after it.
fn written_dictionary(file: &[u8]) -> Option<SignatureDictionary> {
    const KEY: &[u8] = b"/ByteRange";
    let after_key = &file[memmem::rfind(file, KEY)? + KEY.len()..];
    let array = after_key.get(..BYTE_RANGE_TEXT.len() + 2)?;
    let (open, close) = (memchr::memchr(b'[', array)?, memchr::memchr(b']', array)?);
    let byte_range = std::str::from_utf8(array.get(open + 1..close)?)
        .ok()?
        .split_ascii_whitespace()
        .map(|n| n.parse().ok())
        .collect::<Option<Vec<i64>>>()?;
    let [0, first_length, second_start, _] = byte_range[..] else {
        return None;
    };
    let hex_from = usize::try_from(first_length).ok()?.checked_add(1)?;
    let hex_to = usize::try_from(second_start).ok()?.checked_sub(1)?;
    let mut contents = vec![0; hex_to.checked_sub(hex_from)? / 2];
    base16ct::mixed::decode(file.get(hex_from..hex_to)?, &mut contents).ok()?;
    // `/M(D:…)` follows `/Contents` (the writer's key order), a few bytes on.
    let after_contents = file.get(hex_to + 1..)?;
    let near = &after_contents[..after_contents.len().min(64)];
    let signed_at = memmem::find(near, b"/M").and_then(|m| {
        let value = &near[m + 2..];
        let open = memchr::memchr(b'(', value)?;
        let close = open + memchr::memchr(b')', &value[open..])?;
        Some(String::from_utf8_lossy(&value[open + 1..close]).into_owned())
    });
    Some(SignatureDictionary {
        byte_range,
        contents,
        signed_at,
    })
}

/// What `dictionary` says of `file`'s signature, its cryptographic check
/// left to `verify` (given the covered slices, the signer and its certificate).
fn examine(
    file: &[u8],
    dictionary: &SignatureDictionary,
    ours: &Certificates,
    verify: impl FnOnce([(usize, usize); 2], &SignerInfo, &Certificate) -> bool,
) -> SignatureFacts {
    let mut facts = SignatureFacts {
        present: true,
        signed_at: dictionary.signed_at.as_deref().and_then(parse_pdf_date),
        ..SignatureFacts::default()
    };
    let Some((covered, covers_whole_file)) = covered_ranges(file, &dictionary.byte_range) else {
        return facts;
    };
    facts.covers_whole_file = covers_whole_file;
    let Some(signed) = signed_data(&dictionary.contents) else {
        return facts;
    };
    let Some(signer) = signed.signer_infos.0.iter().next() else {
        return facts;
    };
    let Some(certificate) = signer_certificate(&signed, signer) else {
        return facts;
    };
    facts.signer = Some(display_name(certificate));
    facts.by_issuer = ours.recognises(certificate);
    facts.valid = verify(covered, signer, certificate);
    facts
}

/// The covered slices of `file`, checked: two ranges, in order, within the
/// file, the gap between them exactly the hex string `/Contents`.
fn covered_ranges(file: &[u8], byte_range: &[i64]) -> Option<([(usize, usize); 2], bool)> {
    let [a, b, c, d] = byte_range else {
        return None;
    };
    let number = |n: &i64| usize::try_from(*n).ok();
    let (a, b, c, d) = (number(a)?, number(b)?, number(c)?, number(d)?);
    let first_end = a.checked_add(b)?;
    let second_end = c.checked_add(d)?;
    let gap_ok = a == 0
        && first_end < c
        && second_end <= file.len()
        && file.get(first_end) == Some(&b'<')
        && file.get(c - 1) == Some(&b'>');
    gap_ok.then_some(([(a, first_end), (c, second_end)], second_end == file.len()))
}

fn signed_data(contents: &[u8]) -> Option<SignedData> {
    // `/Contents` is the DER structure followed by zero padding.
    let mut reader = SliceReader::new(contents).ok()?;
    let info = ContentInfo::decode(&mut reader).ok()?;
    if info.content_type != rfc5911::ID_SIGNED_DATA {
        return None;
    }
    info.content.decode_as::<SignedData>().ok()
}

fn signer_certificate<'a>(signed: &'a SignedData, signer: &SignerInfo) -> Option<&'a Certificate> {
    let SignerIdentifier::IssuerAndSerialNumber(id) = &signer.sid else {
        return None;
    };
    signed
        .certificates
        .as_ref()?
        .0
        .iter()
        .find_map(|choice| match choice {
            CertificateChoices::Certificate(c)
                if c.tbs_certificate().issuer() == &id.issuer
                    && c.tbs_certificate().serial_number() == &id.serial_number =>
            {
                Some(c)
            }
            _ => None,
        })
}

/// SHA-256 and ECDSA P-256 only: what this service signs with. The signed
/// attributes must state the content type and `digest`.
fn verifies(signer: &SignerInfo, certificate: &Certificate, digest: &[u8]) -> bool {
    let Some(attrs) = &signer.signed_attrs else {
        return false;
    };
    let value_of = |oid| {
        attrs
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.iter().next())
    };
    let digest_matches = value_of(rfc5911::ID_MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .is_some_and(|d| d.as_bytes() == digest);
    let type_matches = value_of(rfc5911::ID_CONTENT_TYPE)
        .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
        == Some(rfc5911::ID_DATA);
    let algorithms = signer.digest_alg.oid == rfc5912::ID_SHA_256
        && signer.signature_algorithm.oid == rfc5912::ECDSA_WITH_SHA_256;
    if !(digest_matches && type_matches && algorithms) {
        return false;
    }
    let (Ok(key), Ok(message), Ok(signature)) = (
        public_key(certificate),
        attrs.to_der(),
        Signature::from_der(signer.signature.as_bytes()),
    ) else {
        return false;
    };
    key.verify(&message, &signature).is_ok()
}

/// `D:YYYYMMDDHHmmSS+HH'mm'` (or `Z`), as `/M` holds it.
pub(crate) fn pdf_date(time: &DateTime<FixedOffset>) -> String {
    let offset = time.offset().local_minus_utc();
    let sign = if offset < 0 { '-' } else { '+' };
    let minutes = offset.unsigned_abs() / 60;
    format!(
        "D:{}{sign}{:02}'{:02}'",
        time.format("%Y%m%d%H%M%S"),
        minutes / 60,
        minutes % 60
    )
}

fn parse_pdf_date(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.strip_prefix("D:").unwrap_or(text);
    let local = NaiveDateTime::parse_from_str(text.get(..14)?, "%Y%m%d%H%M%S").ok()?;
    let zone = text[14..].replace('\'', "");
    let offset = match zone.as_str() {
        "" | "Z" => FixedOffset::east_opt(0)?,
        z => {
            let sign = match z.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let hours: i32 = z.get(1..3)?.parse().ok()?;
            let minutes: i32 = z.get(3..5).map_or(Some(0), |m| m.parse().ok())?;
            FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))?
        }
    };
    offset.from_local_datetime(&local).single()
}

/// A development CA and seal certificate, freshly generated: for `make
/// run` (through the dev tool), the tests and the fuzzer. Never compiled
/// into a component.
#[cfg(feature = "development")]
pub mod development {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
        KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
    };

    use super::DEVELOPMENT_UNIT;

    /// PEM files: the CA (the trust root verifiers are given), the seal's
    /// private key (PKCS#8) and its chain (seal certificate, then the CA).
    #[derive(Debug, Clone)]
    pub struct DevelopmentSeal {
        pub ca_pem: String,
        pub private_key_pem: String,
        pub chain_pem: String,
    }

    /// A new CA named `ca_name` and a seal certificate for `signer` that it
    /// issued, marked development-only.
    pub fn generate(ca_name: &str, signer: &str) -> Result<DevelopmentSeal, rcgen::Error> {
        let mut ca = CertificateParams::default();
        ca.distinguished_name.push(DnType::CommonName, ca_name);
        ca.distinguished_name
            .push(DnType::OrganizationalUnitName, DEVELOPMENT_UNIT);
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?)?;

        let mut seal = CertificateParams::default();
        seal.distinguished_name.push(DnType::CommonName, signer);
        seal.distinguished_name
            .push(DnType::OrganizationalUnitName, DEVELOPMENT_UNIT);
        seal.distinguished_name.push(DnType::CountryName, "CN");
        seal.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::ContentCommitment,
        ];
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let certificate = seal.signed_by(&key, &ca)?;
        Ok(DevelopmentSeal {
            ca_pem: ca.pem(),
            private_key_pem: key.serialize_pem(),
            chain_pem: format!("{}{}", certificate.pem(), ca.pem()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates_round_trip_with_their_offset() {
        let time = DateTime::parse_from_rfc3339("2026-11-29T10:23:45+08:00").unwrap();
        assert_eq!(pdf_date(&time), "D:20261129102345+08'00'");
        assert_eq!(parse_pdf_date(&pdf_date(&time)), Some(time));
        assert_eq!(
            parse_pdf_date("D:20261129022345Z"),
            Some(DateTime::parse_from_rfc3339("2026-11-29T02:23:45Z").unwrap())
        );
        assert_eq!(parse_pdf_date("D:2026"), None);
        assert_eq!(parse_pdf_date("D:20261129102345*08"), None);
    }

    #[test]
    fn byte_ranges_outside_the_file_or_out_of_order_cover_nothing() {
        let file = b"%PDF-1.7 <00> rest";
        assert!(covered_ranges(file, &[0, 9, 13, 5]).is_some_and(|(_, whole)| whole));
        assert!(covered_ranges(file, &[0, 9, 13, 4]).is_some_and(|(_, whole)| !whole));
        for bad in [
            vec![0, 9, 13, 6],
            vec![0, 8, 13, 5],
            vec![1, 9, 13, 5],
            vec![0, 13, 9, 5],
            vec![0, -1, 13, 5],
            vec![0, i64::MAX, i64::MAX, i64::MAX],
            vec![0, 9, 13],
        ] {
            assert_eq!(covered_ranges(file, &bad), None, "{bad:?}");
        }
    }
}
