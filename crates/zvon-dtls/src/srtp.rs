//! SRTP protection profiles and the keying material exported for them (RFC 5764 section 4.2).

use std::fmt;

use crate::DtlsRole;

/// The longest export: AEAD_AES_256_GCM, 2 x 32-byte keys + 2 x 12-byte salts.
const MAX_MATERIAL: usize = 88;

/// An SRTP protection profile of the DTLS `use_srtp` extension (IANA "DTLS-SRTP Protection
/// Profiles").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SrtpProfile {
    /// `SRTP_AES128_CM_HMAC_SHA1_80` (0x0001, RFC 5764).
    Aes128CmHmacSha1_80,
    /// `SRTP_AES128_CM_HMAC_SHA1_32` (0x0002, RFC 5764): the keys of `_80`, a 32-bit RTP tag.
    /// Negotiated only when [`DtlsConfig::srtp_profiles`](crate::DtlsConfig::srtp_profiles)
    /// lists it; the default leaves it out, as browsers do.
    Aes128CmHmacSha1_32,
    /// `SRTP_AEAD_AES_128_GCM` (0x0007, RFC 7714).
    AeadAes128Gcm,
    /// `SRTP_AEAD_AES_256_GCM` (0x0008, RFC 7714).
    AeadAes256Gcm,
}

impl SrtpProfile {
    /// Every profile, in the default preference order with `_32` last.
    pub const ALL: [SrtpProfile; 4] = [
        SrtpProfile::AeadAes128Gcm,
        SrtpProfile::AeadAes256Gcm,
        SrtpProfile::Aes128CmHmacSha1_80,
        SrtpProfile::Aes128CmHmacSha1_32,
    ];

    /// What [`DtlsConfig::default`](crate::DtlsConfig) offers and accepts, most preferred
    /// first: AES-128-GCM (fastest, full 16-byte tag), AES-256-GCM, then AES-CM with the 80-bit
    /// tag. `_32` is left out, as browsers leave it out.
    pub const DEFAULT: [SrtpProfile; 3] = [
        SrtpProfile::AeadAes128Gcm,
        SrtpProfile::AeadAes256Gcm,
        SrtpProfile::Aes128CmHmacSha1_80,
    ];

    /// The IANA profile identifier carried in `use_srtp`.
    pub fn id(self) -> u16 {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => 0x0001,
            SrtpProfile::Aes128CmHmacSha1_32 => 0x0002,
            SrtpProfile::AeadAes128Gcm => 0x0007,
            SrtpProfile::AeadAes256Gcm => 0x0008,
        }
    }

    /// The profile with IANA identifier `id`, if zvon knows it.
    pub fn from_id(id: u16) -> Option<Self> {
        Some(match id {
            0x0001 => SrtpProfile::Aes128CmHmacSha1_80,
            0x0002 => SrtpProfile::Aes128CmHmacSha1_32,
            0x0007 => SrtpProfile::AeadAes128Gcm,
            0x0008 => SrtpProfile::AeadAes256Gcm,
            _ => return None,
        })
    }

    /// SRTP master key length in bytes.
    pub fn master_key_len(self) -> usize {
        match self {
            SrtpProfile::AeadAes256Gcm => 32,
            _ => 16,
        }
    }

    /// SRTP master salt length in bytes (14 for AES-CM, 12 for AEAD, RFC 7714 section 12).
    pub fn master_salt_len(self) -> usize {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 | SrtpProfile::Aes128CmHmacSha1_32 => 14,
            SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm => 12,
        }
    }

    /// Bytes exported with the `EXTRACTOR-dtls_srtp` label: two keys and two salts.
    pub fn keying_material_len(self) -> usize {
        2 * (self.master_key_len() + self.master_salt_len())
    }

    /// The name OpenSSL uses (`-use_srtp` argument).
    pub fn openssl_name(self) -> &'static str {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => "SRTP_AES128_CM_SHA1_80",
            SrtpProfile::Aes128CmHmacSha1_32 => "SRTP_AES128_CM_SHA1_32",
            SrtpProfile::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
            SrtpProfile::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
        }
    }

    pub(crate) fn from_dimpl(p: dimpl::SrtpProfile) -> Option<Self> {
        match p {
            dimpl::SrtpProfile::AES128_CM_SHA1_80 => Some(SrtpProfile::Aes128CmHmacSha1_80),
            dimpl::SrtpProfile::AES128_CM_SHA1_32 => Some(SrtpProfile::Aes128CmHmacSha1_32),
            dimpl::SrtpProfile::AEAD_AES_128_GCM => Some(SrtpProfile::AeadAes128Gcm),
            dimpl::SrtpProfile::AEAD_AES_256_GCM => Some(SrtpProfile::AeadAes256Gcm),
            _ => None,
        }
    }

    pub(crate) fn to_dimpl(self) -> dimpl::SrtpProfile {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => dimpl::SrtpProfile::AES128_CM_SHA1_80,
            SrtpProfile::Aes128CmHmacSha1_32 => dimpl::SrtpProfile::AES128_CM_SHA1_32,
            SrtpProfile::AeadAes128Gcm => dimpl::SrtpProfile::AEAD_AES_128_GCM,
            SrtpProfile::AeadAes256Gcm => dimpl::SrtpProfile::AEAD_AES_256_GCM,
        }
    }
}

impl fmt::Display for SrtpProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.openssl_name())
    }
}

/// SRTP master keys and salts exported from a verified DTLS association (RFC 5764 4.2).
///
/// Obtainable only through [`crate::DtlsTransport::srtp_keying_material`], which demands the
/// proof that the peer's certificate matched its `a=fingerprint`. The bytes are zeroed on drop
/// and never printed by `Debug`.
///
/// ```text
/// client_write_SRTP_master_key | server_write_SRTP_master_key |
/// client_write_SRTP_master_salt | server_write_SRTP_master_salt
/// ```
#[derive(Clone)]
pub struct SrtpKeyingMaterial {
    profile: SrtpProfile,
    material: [u8; MAX_MATERIAL],
}

/// One direction's SRTP master key and salt.
#[derive(Clone, Copy)]
pub struct SrtpMasterKey<'a> {
    /// The master key.
    pub key: &'a [u8],
    /// The master salt.
    pub salt: &'a [u8],
}

impl fmt::Debug for SrtpMasterKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpMasterKey")
            .field("key_len", &self.key.len())
            .field("salt_len", &self.salt.len())
            .finish()
    }
}

impl SrtpKeyingMaterial {
    /// Wraps exported bytes; `None` unless `material` has exactly the profile's length.
    pub(crate) fn new(profile: SrtpProfile, material: &[u8]) -> Option<Self> {
        if material.len() != profile.keying_material_len() {
            return None;
        }
        let mut m = [0u8; MAX_MATERIAL];
        m[..material.len()].copy_from_slice(material);
        Some(Self {
            profile,
            material: m,
        })
    }

    /// The negotiated profile.
    pub fn profile(&self) -> SrtpProfile {
        self.profile
    }

    /// The IANA identifier of the negotiated profile.
    pub fn profile_id(&self) -> u16 {
        self.profile.id()
    }

    /// The raw exported bytes (`profile().keying_material_len()` of them).
    pub fn as_bytes(&self) -> &[u8] {
        &self.material[..self.profile.keying_material_len()]
    }

    /// The key and salt that protect what the DTLS client sends.
    pub fn client_write(&self) -> SrtpMasterKey<'_> {
        let (k, s) = (
            self.profile.master_key_len(),
            self.profile.master_salt_len(),
        );
        SrtpMasterKey {
            key: &self.material[..k],
            salt: &self.material[2 * k..2 * k + s],
        }
    }

    /// The key and salt that protect what the DTLS server sends.
    pub fn server_write(&self) -> SrtpMasterKey<'_> {
        let (k, s) = (
            self.profile.master_key_len(),
            self.profile.master_salt_len(),
        );
        SrtpMasterKey {
            key: &self.material[k..2 * k],
            salt: &self.material[2 * k + s..2 * k + 2 * s],
        }
    }

    /// The key and salt for outbound SRTP of an endpoint in `role`.
    pub fn local(&self, role: DtlsRole) -> SrtpMasterKey<'_> {
        match role {
            DtlsRole::Client => self.client_write(),
            DtlsRole::Server => self.server_write(),
        }
    }

    /// The key and salt for inbound SRTP of an endpoint in `role`.
    pub fn remote(&self, role: DtlsRole) -> SrtpMasterKey<'_> {
        match role {
            DtlsRole::Client => self.server_write(),
            DtlsRole::Server => self.client_write(),
        }
    }
}

impl fmt::Debug for SrtpKeyingMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpKeyingMaterial")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl Drop for SrtpKeyingMaterial {
    fn drop(&mut self) {
        // Best effort: black_box keeps the store from being optimised away as dead.
        self.material.fill(0);
        std::hint::black_box(&self.material);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_follow_rfc_5764_and_7714() {
        use SrtpProfile::*;
        assert_eq!(Aes128CmHmacSha1_80.keying_material_len(), 60);
        assert_eq!(Aes128CmHmacSha1_32.keying_material_len(), 60);
        assert_eq!(AeadAes128Gcm.keying_material_len(), 56);
        assert_eq!(AeadAes256Gcm.keying_material_len(), 88);
        for p in [
            Aes128CmHmacSha1_80,
            Aes128CmHmacSha1_32,
            AeadAes128Gcm,
            AeadAes256Gcm,
        ] {
            assert_eq!(SrtpProfile::from_id(p.id()), Some(p));
        }
        assert_eq!(SrtpProfile::from_id(3), None);
        // Every profile dimpl knows maps both ways, with the same export length and name.
        assert_eq!(dimpl::SrtpProfile::ALL.len(), SrtpProfile::ALL.len());
        for p in dimpl::SrtpProfile::ALL {
            let ours = SrtpProfile::from_dimpl(*p).unwrap();
            assert_eq!(ours.to_dimpl(), *p);
            assert_eq!(ours.keying_material_len(), p.keying_material_len());
            assert_eq!(ours.openssl_name(), p.to_string());
        }
        for p in SrtpProfile::ALL {
            assert_eq!(SrtpProfile::from_dimpl(p.to_dimpl()), Some(p));
        }
        assert!(!SrtpProfile::DEFAULT.contains(&Aes128CmHmacSha1_32));
    }

    #[test]
    fn split_follows_the_rfc_layout() {
        let p = SrtpProfile::AeadAes128Gcm;
        let bytes: Vec<u8> = (0..56).collect();
        let km = SrtpKeyingMaterial::new(p, &bytes).unwrap();
        assert_eq!(km.client_write().key, &bytes[0..16]);
        assert_eq!(km.server_write().key, &bytes[16..32]);
        assert_eq!(km.client_write().salt, &bytes[32..44]);
        assert_eq!(km.server_write().salt, &bytes[44..56]);
        assert_eq!(
            km.local(DtlsRole::Client).key,
            km.remote(DtlsRole::Server).key
        );
        assert_eq!(km.as_bytes(), &bytes[..]);
        assert!(SrtpKeyingMaterial::new(p, &bytes[..55]).is_none());
        assert!(
            !format!("{km:?}").contains("0, 1, 2"),
            "no key bytes in Debug"
        );
    }
}
