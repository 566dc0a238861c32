//! # zvon-dtls
//!
//! The DTLS transport of a WebRTC connection: glue over the [`dimpl`] crate, which does the
//! DTLS 1.2 and 1.3 handshakes and record layers (zvon implements neither). What this crate
//! adds is what WebRTC asks of DTLS:
//!
//! - **Role** from SDP `a=setup` ([`Setup`], [`DtlsRole`]; RFC 8842): the answerer to an
//!   `actpass` offer is the client.
//! - **Versions**: a server takes 1.3 or 1.2 from the ClientHello (including Chromium's
//!   fragmented ClientHello with a post-quantum key share, answered with x25519); a client
//!   offers both in one ClientHello, or one of them ([`VersionPolicy`]).
//! - **Identity**: an ECDSA P-256 certificate generated once ([`DtlsIdentity`], rcgen) and
//!   reused by every connection, announced as `a=fingerprint` ([`Fingerprint`], RFC 8122:
//!   sha-1, sha-224, sha-256, sha-384, sha-512).
//! - **Verification before use**: the peer's certificate is checked against its
//!   `a=fingerprint` before [`DtlsEvent::Connected`], before any application data is released
//!   and before SRTP keys can be had. The keys need the [`VerifiedPeer`] proof that only that
//!   event carries; a mismatch fails the connection with [`DtlsError::FingerprintMismatch`].
//! - **SRTP keys** (RFC 5764 4.2) for the negotiated `use_srtp` profile: AEAD_AES_128_GCM,
//!   AEAD_AES_256_GCM, AES128_CM_HMAC_SHA1_80, and AES128_CM_HMAC_SHA1_32 when
//!   [`DtlsConfig::srtp_profiles`] asks for it ([`SrtpKeyingMaterial`]), handed out as plain
//!   bytes for zvon-core to give to zvon-srtp. A server picks by its own preference order
//!   among the profiles the client offered, in 1.2 and 1.3 alike; a client refuses a profile
//!   it did not offer. (Both come from zvon's patch of dimpl, `third_party/dimpl`.)
//! - **Timers**: dimpl's retransmission and handshake timers appear as
//!   [`DtlsTransport::poll_timeout`]; `close_notify` is sent by [`DtlsTransport::close`] and
//!   reported as [`DtlsEvent::Closed`].
//!
//! ## Where datagrams come from
//!
//! zvon-core demultiplexes each datagram of the 5-tuple with [`zvon_base::classify`] (RFC 7983)
//! and hands exactly those labelled [`zvon_base::DatagramKind::Dtls`] (first byte 20..=63) to
//! [`DtlsTransport::handle_datagram`], which refuses anything else. Decrypted application data
//! ([`DtlsTransport::poll_application_data`]) goes to zvon-sctp, and SCTP packets come back
//! through [`DtlsTransport::send_application_data`].
//!
//! ## Randomness and time
//!
//! Sans-IO: time comes in as `now`; dimpl's non-cryptographic randomness (timer jitter,
//! cookies) is seeded from the caller's [`zvon_base::Rng`], and so are the certificate's key and
//! serial number. Handshake secrets (ECDHE shares, signatures) come from aws-lc's generator
//! inside dimpl, as they should. Its first use in a process costs tens of milliseconds: call
//! [`warm_up`] at start-up.
#![forbid(unsafe_code)]

mod error;
mod fingerprint;
mod identity;
mod setup;
mod srtp;
mod transport;

pub use error::DtlsError;
pub use fingerprint::{Fingerprint, FingerprintMismatch, FingerprintParseError, HashAlgorithm};
pub use identity::{DtlsIdentity, IdentityError, warm_up};
pub use setup::{DtlsRole, Setup, SetupError};
pub use srtp::{SrtpKeyingMaterial, SrtpMasterKey, SrtpProfile};
pub use transport::{
    CloseReason, Connected, DtlsConfig, DtlsEvent, DtlsStats, DtlsTransport, DtlsVersion,
    VerifiedPeer, VersionPolicy,
};
