//! Certificate fingerprints as SDP carries them (`a=fingerprint`, RFC 8122).

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::digest;

/// The longest digest among the supported hash functions (SHA-512).
const MAX_DIGEST: usize = 64;

/// A hash function of the RFC 8122 `hash-func` registry that zvon accepts.
///
/// MD2 and MD5 are in the registry too; they are refused (RFC 8122 section 5: a fingerprint
/// must use a hash function that is not weaker than the certificate's signature).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlgorithm {
    /// `sha-1`: 20-byte digest.
    Sha1,
    /// `sha-224`: 28-byte digest.
    Sha224,
    /// `sha-256`: 32-byte digest, what browsers send.
    Sha256,
    /// `sha-384`: 48-byte digest.
    Sha384,
    /// `sha-512`: 64-byte digest.
    Sha512,
}

impl HashAlgorithm {
    /// Every supported algorithm, weakest first (the order [`Ord`] follows).
    pub const ALL: [HashAlgorithm; 5] = [
        HashAlgorithm::Sha1,
        HashAlgorithm::Sha224,
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ];

    /// The SDP token (lower case, as RFC 8122 writes it).
    pub fn sdp_name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "sha-1",
            HashAlgorithm::Sha224 => "sha-224",
            HashAlgorithm::Sha256 => "sha-256",
            HashAlgorithm::Sha384 => "sha-384",
            HashAlgorithm::Sha512 => "sha-512",
        }
    }

    /// Parses an SDP `hash-func` token; the comparison ignores ASCII case.
    pub fn from_sdp_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.sdp_name().eq_ignore_ascii_case(name))
    }

    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        self.digest_alg().output_len()
    }

    fn digest_alg(self) -> &'static digest::Algorithm {
        match self {
            HashAlgorithm::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            HashAlgorithm::Sha224 => &digest::SHA224,
            HashAlgorithm::Sha256 => &digest::SHA256,
            HashAlgorithm::Sha384 => &digest::SHA384,
            HashAlgorithm::Sha512 => &digest::SHA512,
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sdp_name())
    }
}

/// Why an `a=fingerprint` value did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FingerprintParseError {
    /// No space between the hash function and the hex digest.
    #[error("fingerprint has no hash function and digest separated by a space")]
    MissingDigest,
    /// The hash function is unknown, or MD2/MD5 (refused).
    #[error("unsupported fingerprint hash function {0:?}")]
    UnsupportedHash(String),
    /// The digest is not colon-separated pairs of hex digits.
    #[error("fingerprint digest is not colon-separated hex pairs")]
    BadHex,
    /// The digest length does not match the hash function.
    #[error("{alg} fingerprint must have {expected} bytes, it has {got}")]
    WrongLength {
        /// The hash function named.
        alg: HashAlgorithm,
        /// Its digest length.
        expected: usize,
        /// Bytes found.
        got: usize,
    },
}

impl zvon_base::Classify for FingerprintParseError {
    fn fault(&self) -> zvon_base::Fault {
        zvon_base::Fault::Malformed
    }
    fn is_fatal(&self) -> bool {
        // The SDP line is unusable; whether the session can go on is zvon-core's call.
        false
    }
}

/// A certificate fingerprint: a hash function and the digest of the DER certificate.
///
/// Parses from and formats to the SDP form (`sha-256 AB:CD:...`), and compares in constant
/// time.
///
/// ```
/// use zvon_dtls::{Fingerprint, HashAlgorithm};
/// let fp = Fingerprint::of_certificate(HashAlgorithm::Sha256, b"not really DER");
/// let text = fp.to_string();
/// assert!(text.starts_with("sha-256 "));
/// assert_eq!(text.parse::<Fingerprint>().unwrap(), fp);
/// assert!(fp.matches_certificate(b"not really DER"));
/// ```
#[derive(Clone, Copy)]
pub struct Fingerprint {
    alg: HashAlgorithm,
    digest: [u8; MAX_DIGEST],
}

impl Fingerprint {
    /// The fingerprint of a DER certificate.
    pub fn of_certificate(alg: HashAlgorithm, cert_der: &[u8]) -> Self {
        let d = digest::digest(alg.digest_alg(), cert_der);
        let mut digest = [0u8; MAX_DIGEST];
        digest[..d.as_ref().len()].copy_from_slice(d.as_ref());
        Self { alg, digest }
    }

    /// A fingerprint from its parts; `None` when `digest` has the wrong length for `alg`.
    pub fn from_digest(alg: HashAlgorithm, digest: &[u8]) -> Option<Self> {
        if digest.len() != alg.digest_len() {
            return None;
        }
        let mut d = [0u8; MAX_DIGEST];
        d[..digest.len()].copy_from_slice(digest);
        Some(Self { alg, digest: d })
    }

    /// The hash function.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.alg
    }

    /// The digest bytes.
    pub fn digest(&self) -> &[u8] {
        &self.digest[..self.alg.digest_len()]
    }

    /// `true` when `cert_der` hashes to this fingerprint (constant-time comparison).
    pub fn matches_certificate(&self, cert_der: &[u8]) -> bool {
        self.ct_eq(&Self::of_certificate(self.alg, cert_der))
    }

    /// Constant-time equality: same algorithm and same digest.
    pub fn ct_eq(&self, other: &Fingerprint) -> bool {
        self.alg == other.alg
            && aws_lc_rs::constant_time::verify_slices_are_equal(self.digest(), other.digest())
                .is_ok()
    }

    /// The SDP value of `a=fingerprint` (without the `a=fingerprint:` prefix).
    pub fn to_sdp(&self) -> String {
        self.to_string()
    }

    /// Parses the SDP value `hash-func SP fingerprint` (RFC 8122 section 5). Surrounding
    /// whitespace and lower-case hex digits are accepted.
    pub fn from_sdp(value: &str) -> Result<Self, FingerprintParseError> {
        let value = value.trim();
        let (name, hex) = value
            .split_once(' ')
            .ok_or(FingerprintParseError::MissingDigest)?;
        let alg = HashAlgorithm::from_sdp_name(name)
            .ok_or_else(|| FingerprintParseError::UnsupportedHash(name.to_owned()))?;
        let hex = hex.trim();
        let mut digest = [0u8; MAX_DIGEST];
        let mut n = 0;
        for pair in hex.split(':') {
            let &[hi, lo] = pair.as_bytes() else {
                return Err(FingerprintParseError::BadHex);
            };
            let byte = (hex_val(hi).ok_or(FingerprintParseError::BadHex)? << 4)
                | hex_val(lo).ok_or(FingerprintParseError::BadHex)?;
            if n < MAX_DIGEST {
                digest[n] = byte;
            }
            n += 1;
        }
        if n != alg.digest_len() {
            return Err(FingerprintParseError::WrongLength {
                alg,
                expected: alg.digest_len(),
                got: n,
            });
        }
        Ok(Self { alg, digest })
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl PartialEq for Fingerprint {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other)
    }
}

impl Eq for Fingerprint {}

impl fmt::Display for Fingerprint {
    /// `sha-256 AB:CD:...`, upper-case hex as RFC 8122's grammar (`UHEX`) asks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.alg)?;
        for (i, b) in self.digest().iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = FingerprintParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_sdp(s)
    }
}

/// A certificate that did not hash to the remote `a=fingerprint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerprintMismatch {
    /// The fingerprint from the remote description (of the strongest hash function given).
    pub expected: Fingerprint,
    /// The fingerprint of the certificate the peer presented, with the same hash function.
    pub got: Fingerprint,
}

/// RFC 8122 section 5 picks the strongest hash function among the remote fingerprints; the
/// certificate must match one fingerprint of that function.
///
/// Returns the matching fingerprint, or `Err` with the fingerprint that was expected (the first
/// of the strongest function) and the one the certificate has. `None` when `remote` is empty.
pub(crate) fn verify_certificate(
    remote: &[Fingerprint],
    cert_der: &[u8],
) -> Option<Result<Fingerprint, Box<FingerprintMismatch>>> {
    //# RFC 8122 5: "the endpoint MUST select the certificate fingerprint(s) using the strongest
    //# hash function it supports ... Unless there is a match for at least one hash function,
    //# the endpoint MUST NOT establish the TLS connection."
    let strongest = remote.iter().map(|f| f.algorithm()).max()?;
    let got = Fingerprint::of_certificate(strongest, cert_der);
    let mut expected = None;
    for fp in remote.iter().filter(|f| f.algorithm() == strongest) {
        if fp.ct_eq(&got) {
            return Some(Ok(*fp));
        }
        expected.get_or_insert(*fp);
    }
    // `strongest` is the algorithm of at least one element, so `expected` is set.
    expected.map(|expected| Err(Box::new(FingerprintMismatch { expected, got })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_browser_form_and_lower_case() {
        let s = "sha-256 0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9";
        let fp: Fingerprint = s.parse().unwrap();
        assert_eq!(fp.algorithm(), HashAlgorithm::Sha256);
        assert_eq!(fp.digest()[0], 0x0a);
        assert_eq!(fp.to_string(), s);
        let lower: Fingerprint = s
            .to_lowercase()
            .replace("sha-256", "SHA-256")
            .parse()
            .unwrap();
        assert_eq!(lower, fp);
    }

    #[test]
    fn every_algorithm_round_trips_and_has_its_length() {
        for alg in HashAlgorithm::ALL {
            let fp = Fingerprint::of_certificate(alg, b"cert");
            assert_eq!(fp.digest().len(), alg.digest_len());
            assert_eq!(fp.to_sdp().parse::<Fingerprint>().unwrap(), fp);
        }
        assert_eq!(HashAlgorithm::Sha1.digest_len(), 20);
        assert_eq!(HashAlgorithm::Sha224.digest_len(), 28);
        assert_eq!(HashAlgorithm::Sha512.digest_len(), 64);
    }

    #[test]
    fn known_sha256_digest() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let fp = Fingerprint::of_certificate(HashAlgorithm::Sha256, b"abc");
        assert_eq!(
            hex::encode(fp.digest()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn rejects_bad_values() {
        use FingerprintParseError::*;
        assert_eq!(Fingerprint::from_sdp("sha-256"), Err(MissingDigest));
        assert!(matches!(
            Fingerprint::from_sdp("md5 AB:CD"),
            Err(UnsupportedHash(_))
        ));
        assert_eq!(
            Fingerprint::from_sdp("sha-1 AB:CD"),
            Err(WrongLength {
                alg: HashAlgorithm::Sha1,
                expected: 20,
                got: 2
            })
        );
        assert_eq!(Fingerprint::from_sdp("sha-1 ABC:D"), Err(BadHex));
        assert_eq!(Fingerprint::from_sdp("sha-1 G0"), Err(BadHex));
        assert_eq!(Fingerprint::from_sdp("sha-1 "), Err(MissingDigest));
        assert_eq!(Fingerprint::from_sdp("sha-1  :"), Err(BadHex));
    }

    #[test]
    fn strongest_algorithm_decides() {
        let cert = b"the certificate";
        let good256 = Fingerprint::of_certificate(HashAlgorithm::Sha256, cert);
        let good1 = Fingerprint::of_certificate(HashAlgorithm::Sha1, cert);
        let bad512 = Fingerprint::of_certificate(HashAlgorithm::Sha512, b"other");
        assert_eq!(verify_certificate(&[], cert), None);
        assert_eq!(
            verify_certificate(&[good1, good256], cert),
            Some(Ok(good256))
        );
        // A matching weaker hash does not rescue a mismatching stronger one.
        let m = verify_certificate(&[good256, bad512], cert)
            .unwrap()
            .unwrap_err();
        assert_eq!(m.expected, bad512);
        assert_eq!(
            m.got,
            Fingerprint::of_certificate(HashAlgorithm::Sha512, cert)
        );
        // Several certificates: any one of the strongest function matches.
        let other256 = Fingerprint::of_certificate(HashAlgorithm::Sha256, b"other");
        assert_eq!(
            verify_certificate(&[other256, good256], cert),
            Some(Ok(good256))
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,200}") {
            let _ = Fingerprint::from_sdp(&s);
        }

        #[test]
        fn round_trip(alg in 0usize..5, bytes in proptest::collection::vec(any::<u8>(), 64)) {
            let alg = HashAlgorithm::ALL[alg];
            let fp = Fingerprint::from_digest(alg, &bytes[..alg.digest_len()]).unwrap();
            let back: Fingerprint = fp.to_string().parse().unwrap();
            prop_assert_eq!(back, fp);
        }

        #[test]
        fn hex_like_inputs_never_panic(alg in 0usize..5, s in "[0-9A-Fa-f:]{0,200}") {
            let v = format!("{} {}", HashAlgorithm::ALL[alg], s);
            if let Ok(fp) = Fingerprint::from_sdp(&v) {
                prop_assert_eq!(fp.to_string().to_uppercase(), v.to_uppercase());
            }
        }
    }
}
