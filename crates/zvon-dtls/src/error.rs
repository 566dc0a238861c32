use zvon_base::{Classify, Fault};

use crate::FingerprintMismatch;

/// What went wrong in a [`crate::DtlsTransport`].
///
/// [`Classify::is_fatal`] tells whether the connection is over (it then also reports
/// [`crate::DtlsEvent::Failed`]) or only the datagram or call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DtlsError {
    /// The datagram's first byte is outside 20..=63, so RFC 7983 says it is not DTLS.
    #[error("datagram is not DTLS (first byte {first_byte:?})")]
    NotDtls {
        /// The first byte, `None` for an empty datagram.
        first_byte: Option<u8>,
    },
    /// The DTLS engine (dimpl) gave up: a handshake failure, a protocol violation, a
    /// retransmission timeout. Every dimpl error ends the connection.
    #[error("DTLS handshake or record layer failed: {0}")]
    Dtls(dimpl::Error),
    /// The peer's certificate does not hash to the `a=fingerprint` of its description.
    #[error(
        "peer certificate does not match a=fingerprint: expected {}, certificate is {}",
        .0.expected,
        .0.got
    )]
    FingerprintMismatch(Box<FingerprintMismatch>),
    /// The handshake completed without the peer presenting a certificate.
    #[error("peer presented no certificate")]
    NoPeerCertificate,
    /// The configuration demands SRTP and the handshake negotiated no SRTP profile.
    #[error("no SRTP protection profile was negotiated")]
    NoSrtpProfile,
    /// The peer sent more handshake bytes than any real handshake needs.
    #[error("peer sent more than {limit} bytes before the handshake completed")]
    HandshakeTooLarge {
        /// The configured budget.
        limit: usize,
    },
    /// No remote fingerprints were given (an empty list).
    #[error("no remote fingerprint given")]
    NoRemoteFingerprint,
    /// Remote fingerprints may be set once per connection.
    #[error("remote fingerprints were already set")]
    FingerprintsAlreadySet,
    /// Application data before the connection is verified and established.
    #[error("DTLS connection not established")]
    NotConnected,
    /// The connection is closed or failed.
    #[error("DTLS connection closed")]
    Closed,
    /// Application data larger than [`crate::DtlsConfig::max_application_data`].
    #[error("application data of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// Bytes offered.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A [`crate::VerifiedPeer`] from another connection.
    #[error("proof of verification belongs to another connection")]
    ForeignProof,
    /// The configuration is invalid (dimpl refused it).
    #[error("invalid DTLS configuration: {0}")]
    Config(String),
}

impl Classify for DtlsError {
    fn fault(&self) -> Fault {
        match self {
            DtlsError::NotDtls { .. } => Fault::Malformed,
            DtlsError::Dtls(e) => match e {
                dimpl::Error::Timeout(_)
                | dimpl::Error::ReceiveQueueFull
                | dimpl::Error::TransmitQueueFull
                | dimpl::Error::TransmitHistoryFull => Fault::Local,
                dimpl::Error::ConfigError(_) => Fault::ApiMisuse,
                _ => Fault::PeerMisbehaved,
            },
            DtlsError::FingerprintMismatch(_)
            | DtlsError::NoPeerCertificate
            | DtlsError::NoSrtpProfile
            | DtlsError::HandshakeTooLarge { .. } => Fault::PeerMisbehaved,
            DtlsError::NoRemoteFingerprint
            | DtlsError::FingerprintsAlreadySet
            | DtlsError::NotConnected
            | DtlsError::Closed
            | DtlsError::TooLarge { .. }
            | DtlsError::ForeignProof
            | DtlsError::Config(_) => Fault::ApiMisuse,
        }
    }

    fn is_fatal(&self) -> bool {
        match self {
            DtlsError::Dtls(_)
            | DtlsError::FingerprintMismatch(_)
            | DtlsError::NoPeerCertificate
            | DtlsError::NoSrtpProfile
            | DtlsError::HandshakeTooLarge { .. }
            | DtlsError::Config(_) => true,
            DtlsError::NotDtls { .. }
            | DtlsError::NoRemoteFingerprint
            | DtlsError::FingerprintsAlreadySet
            | DtlsError::NotConnected
            | DtlsError::Closed
            | DtlsError::TooLarge { .. }
            | DtlsError::ForeignProof => false,
        }
    }
}
