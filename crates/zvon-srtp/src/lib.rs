//! # zvon-srtp
//!
//! SRTP and SRTCP (RFC 3711) for WebRTC: the four DTLS-SRTP profiles
//! (`AEAD_AES_128_GCM`, `AEAD_AES_256_GCM` per RFC 7714, `AES128_CM_HMAC_SHA1_80` and `_32`),
//! key derivation, per-SSRC rollover-counter estimation, replay windows, and protect and
//! unprotect in place in the caller's buffer with no allocation per packet.
//!
//! DTLS hands over the negotiated [`SrtpProfile`] and the exported keying material;
//! [`Session::from_dtls`] splits it by [`Role`] into an outbound and an inbound [`Context`]:
//!
//! ```
//! use zvon_srtp::{Config, Role, Session, SrtpProfile};
//! let profile = SrtpProfile::from_id(0x0007).unwrap(); // from the use_srtp extension
//! let material = [0x11u8; 56]; // EXTRACTOR-dtls_srtp, profile.keying_material_len() bytes
//! let mut us = Session::from_dtls(profile, &material, Role::Client, &Config::default()).unwrap();
//! let mut them = Session::from_dtls(profile, &material, Role::Server, &Config::default()).unwrap();
//!
//! let mut buf = Vec::with_capacity(1500);
//! buf.extend_from_slice(&[0x80, 111, 0x12, 0x34, 0, 0, 0, 0, 0xca, 0xfe, 0xba, 0xbe]);
//! buf.extend_from_slice(&[0xaa; 160]);
//! us.outbound.protect_rtp(&mut buf).unwrap();
//! assert_eq!(buf.len(), 12 + 160 + 16);
//! let n = them.inbound.unprotect_rtp(&mut buf).unwrap();
//! assert_eq!(&buf[12..n], &[0xaa; 160][..]);
//! // The same packet again is a replay.
//! assert!(us.outbound.protect_rtp(&mut buf[..n].to_vec()).is_err());
//! ```
//!
//! Errors are [`Error`] values that implement [`zvon_base::Classify`]: each drops one packet.
//! Not implemented: MKI, key derivation rates other than 0, RFC 6904 header-extension
//! encryption, and the null-cipher profiles.
#![forbid(unsafe_code)]

mod context;
mod crypto;
mod error;
mod header;
mod profile;
mod replay;
#[cfg(test)]
mod vectors;

pub use context::{Config, Context, Session};
pub use error::{Error, KeyError};
pub use profile::{Role, SrtpProfile};
