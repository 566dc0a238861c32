//! The local certificate: generated once (ECDSA P-256), shared by every connection.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::agreement;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use zvon_base::{Classify, Fault, Rng};

use crate::{Fingerprint, HashAlgorithm};

/// Why a certificate could not be made or loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// Key or certificate generation failed inside the crypto library.
    #[error("certificate generation failed: {0}")]
    Generate(String),
    /// The PEM text holds no certificate or no private key.
    #[error("invalid PEM: {0}")]
    Pem(String),
    /// The private key is not an ECDSA P-256/P-384 key in PKCS#8 or SEC1 DER.
    #[error("private key not usable for DTLS: {0}")]
    Key(String),
}

impl Classify for IdentityError {
    fn fault(&self) -> Fault {
        match self {
            IdentityError::Generate(_) => Fault::Local,
            IdentityError::Pem(_) | IdentityError::Key(_) => Fault::ApiMisuse,
        }
    }
    fn is_fatal(&self) -> bool {
        true
    }
}

struct Inner {
    cert: dimpl::DtlsCertificate,
    sha256: Fingerprint,
}

/// A DTLS certificate and its private key, the identity `a=fingerprint` announces.
///
/// Generate one per peer connection factory and reuse it across connections: cloning is an
/// `Arc` clone, and the SHA-256 fingerprint is computed once.
///
/// ```
/// use zvon_base::Rng;
/// use zvon_dtls::DtlsIdentity;
/// let id = DtlsIdentity::generate(&mut Rng::from_seed_u64(1)).unwrap();
/// let sdp = format!("a=fingerprint:{}", id.fingerprint());
/// assert!(sdp.starts_with("a=fingerprint:sha-256 "));
/// // The same seed gives the same key (the certificate's signature nonce is aws-lc's).
/// let again = DtlsIdentity::generate(&mut Rng::from_seed_u64(1)).unwrap();
/// assert_eq!(again.private_key_der(), id.private_key_der());
/// ```
#[derive(Clone)]
pub struct DtlsIdentity(Arc<Inner>);

impl DtlsIdentity {
    /// A fresh self-signed ECDSA P-256 certificate whose key and serial number come from `rng`.
    ///
    /// The validity period is rcgen's fixed 1975..4096: WebRTC peers authenticate the
    /// certificate by its fingerprint alone, and a fixed period spares reading the clock. The
    /// certificate's ECDSA signature draws its nonce from aws-lc's own generator.
    pub fn generate(rng: &mut Rng) -> Result<Self, IdentityError> {
        let gen_err = |e: &dyn fmt::Display| IdentityError::Generate(e.to_string());
        // A P-256 scalar from the caller's generator; aws-lc refuses the 2^-32-rare values
        // outside [1, n-1], and the loop draws again.
        let (pkcs8, key_pair) = loop {
            let mut scalar = [0u8; 32];
            rng.fill(&mut scalar);
            let Ok(private) =
                agreement::PrivateKey::from_private_key(&agreement::ECDH_P256, &scalar)
            else {
                continue;
            };
            let public = private.compute_public_key().map_err(|e| gen_err(&e))?;
            let ecdsa = EcdsaKeyPair::from_private_key_and_public_key(
                &ECDSA_P256_SHA256_ASN1_SIGNING,
                &scalar,
                public.as_ref(),
            )
            .map_err(|e| gen_err(&e))?;
            let doc = ecdsa.to_pkcs8v1().map_err(|e| gen_err(&e))?;
            let pkcs8 = doc.as_ref().to_vec();
            let key_pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
                &PrivatePkcs8KeyDer::from(pkcs8.as_slice()),
                &rcgen::PKCS_ECDSA_P256_SHA256,
            )
            .map_err(|e| gen_err(&e))?;
            break (pkcs8, key_pair);
        };

        let mut params = rcgen::CertificateParams::default();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CommonName, "zvon");
        params.distinguished_name = dn;
        // Firefox refuses two certificates with one issuer and serial (the issuer is always
        // "zvon"), so the serial must be unique across processes: 127 random bits, positive.
        let mut serial = [0u8; 16];
        rng.fill(&mut serial);
        serial[0] &= 0x7f;
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
        let cert = params.self_signed(&key_pair).map_err(|e| gen_err(&e))?;
        Self::from_der(cert.der().to_vec(), pkcs8)
    }

    /// An identity from a DER certificate and a DER private key (PKCS#8 or SEC1), as stored
    /// by an application that keeps its certificate across sessions.
    pub fn from_der(certificate: Vec<u8>, private_key: Vec<u8>) -> Result<Self, IdentityError> {
        // Load the key the way the handshake will, so that a bad key fails here, not mid-way.
        dimpl::crypto::aws_lc_rs::default_provider()
            .key_provider
            .load_private_key(&private_key)
            .map_err(|e| IdentityError::Key(e.to_string()))?;
        let sha256 = Fingerprint::of_certificate(HashAlgorithm::Sha256, &certificate);
        Ok(Self(Arc::new(Inner {
            cert: dimpl::DtlsCertificate {
                certificate,
                private_key,
            },
            sha256,
        })))
    }

    /// An identity from PEM text: the first `CERTIFICATE` block and the first private key
    /// block (`PRIVATE KEY` or `EC PRIVATE KEY`).
    pub fn from_pem(certificate_pem: &str, private_key_pem: &str) -> Result<Self, IdentityError> {
        let cert = CertificateDer::from_pem_slice(certificate_pem.as_bytes())
            .map_err(|e| IdentityError::Pem(format!("certificate: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(private_key_pem.as_bytes())
            .map_err(|e| IdentityError::Pem(format!("private key: {e}")))?;
        Self::from_der(cert.to_vec(), key.secret_der().to_vec())
    }

    /// The SHA-256 fingerprint, what `a=fingerprint` announces.
    pub fn fingerprint(&self) -> Fingerprint {
        self.0.sha256
    }

    /// The fingerprint with another hash function.
    pub fn fingerprint_with(&self, alg: HashAlgorithm) -> Fingerprint {
        Fingerprint::of_certificate(alg, &self.0.cert.certificate)
    }

    /// The certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.0.cert.certificate
    }

    /// The private key, DER (PKCS#8 when generated here), for an application that stores its
    /// identity.
    pub fn private_key_der(&self) -> &[u8] {
        &self.0.cert.private_key
    }

    pub(crate) fn dimpl_certificate(&self) -> dimpl::DtlsCertificate {
        self.0.cert.clone()
    }
}

impl fmt::Debug for DtlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DtlsIdentity")
            .field("fingerprint", &self.0.sha256)
            .finish_non_exhaustive()
    }
}

/// Pays the one-off cost of aws-lc's random generator (about 60 ms on first use in a process)
/// so that it does not land on the first connection's setup path. Call once at start-up; it
/// is cheap after the first call.
pub fn warm_up() {
    let mut b = [0u8; 16];
    // The result is discarded: this only initialises the generator.
    let _ = aws_lc_rs::rand::fill(&mut b);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_identity_is_p256_and_distinct_per_seed() {
        let a = DtlsIdentity::generate(&mut Rng::from_seed_u64(1)).unwrap();
        let b = DtlsIdentity::generate(&mut Rng::from_seed_u64(2)).unwrap();
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert!(
            a.fingerprint_with(HashAlgorithm::Sha1)
                .matches_certificate(a.certificate_der())
        );
        let group = dimpl::crypto::cert_named_group(a.certificate_der()).unwrap();
        assert_eq!(group, dimpl::NamedGroup::Secp256r1);
        let clone = a.clone();
        assert!(std::ptr::eq(clone.certificate_der(), a.certificate_der()));
    }

    #[test]
    fn der_and_pem_round_trip() {
        let a = DtlsIdentity::generate(&mut Rng::from_seed_u64(3)).unwrap();
        let b = DtlsIdentity::from_der(a.certificate_der().to_vec(), a.private_key_der().to_vec())
            .unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        let pem = |label: &str, der: &[u8]| {
            let b64 = base64_encode(der);
            let lines: Vec<&str> = b64
                .as_bytes()
                .chunks(64)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            format!(
                "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
                lines.join("\n")
            )
        };
        let c = DtlsIdentity::from_pem(
            &pem("CERTIFICATE", a.certificate_der()),
            &pem("PRIVATE KEY", a.private_key_der()),
        )
        .unwrap();
        assert_eq!(c.fingerprint(), a.fingerprint());
        assert!(matches!(
            DtlsIdentity::from_pem("nothing", "nothing"),
            Err(IdentityError::Pem(_))
        ));
        assert!(matches!(
            DtlsIdentity::from_der(a.certificate_der().to_vec(), vec![1, 2, 3]),
            Err(IdentityError::Key(_))
        ));
    }

    fn base64_encode(data: &[u8]) -> String {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for c in data.chunks(3) {
            let n = (c[0] as u32) << 16
                | (*c.get(1).unwrap_or(&0) as u32) << 8
                | *c.get(2).unwrap_or(&0) as u32;
            for i in 0..4 {
                if i <= c.len() {
                    out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}
