//! The DTLS-SRTP protection profiles (RFC 5764 4.1.2, RFC 7714 14.2) and the split of the
//! exported keying material between the two directions.

/// An SRTP protection profile, as negotiated by the DTLS `use_srtp` extension.
///
/// The discriminant is the IANA "DTLS-SRTP Protection Profiles" value that travels on the wire.
///
/// ```
/// use zvon_srtp::SrtpProfile;
/// let p = SrtpProfile::from_id(0x0007).unwrap();
/// assert_eq!(p, SrtpProfile::AeadAes128Gcm);
/// assert_eq!(p.keying_material_len(), 2 * (16 + 12));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SrtpProfile {
    /// `SRTP_AES128_CM_HMAC_SHA1_80` (0x0001): AES-128 counter mode, 80-bit HMAC-SHA1 tag.
    Aes128CmHmacSha1_80,
    /// `SRTP_AES128_CM_HMAC_SHA1_32` (0x0002): as above with a 32-bit SRTP tag (SRTCP keeps 80).
    Aes128CmHmacSha1_32,
    /// `SRTP_AEAD_AES_128_GCM` (0x0007): AES-128-GCM, 16-byte tag (RFC 7714).
    AeadAes128Gcm,
    /// `SRTP_AEAD_AES_256_GCM` (0x0008): AES-256-GCM, 16-byte tag (RFC 7714).
    AeadAes256Gcm,
}

impl SrtpProfile {
    /// Every supported profile, fastest first: a sensible preference order to offer.
    pub const ALL: [SrtpProfile; 4] = [
        SrtpProfile::AeadAes128Gcm,
        SrtpProfile::AeadAes256Gcm,
        SrtpProfile::Aes128CmHmacSha1_80,
        SrtpProfile::Aes128CmHmacSha1_32,
    ];

    /// The IANA DTLS-SRTP protection profile id.
    pub const fn id(self) -> u16 {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => 0x0001,
            SrtpProfile::Aes128CmHmacSha1_32 => 0x0002,
            SrtpProfile::AeadAes128Gcm => 0x0007,
            SrtpProfile::AeadAes256Gcm => 0x0008,
        }
    }

    /// The profile for an IANA id, `None` for ids this crate does not implement.
    pub const fn from_id(id: u16) -> Option<Self> {
        match id {
            0x0001 => Some(SrtpProfile::Aes128CmHmacSha1_80),
            0x0002 => Some(SrtpProfile::Aes128CmHmacSha1_32),
            0x0007 => Some(SrtpProfile::AeadAes128Gcm),
            0x0008 => Some(SrtpProfile::AeadAes256Gcm),
            _ => None,
        }
    }

    /// The IANA registry name, e.g. `SRTP_AEAD_AES_128_GCM`.
    pub const fn name(self) -> &'static str {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => "SRTP_AES128_CM_HMAC_SHA1_80",
            SrtpProfile::Aes128CmHmacSha1_32 => "SRTP_AES128_CM_HMAC_SHA1_32",
            SrtpProfile::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
            SrtpProfile::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
        }
    }

    /// Master key length in bytes.
    pub const fn key_len(self) -> usize {
        match self {
            SrtpProfile::AeadAes256Gcm => 32,
            _ => 16,
        }
    }

    /// Master salt length in bytes: 112 bits for AES-CM (RFC 3711), 96 for GCM (RFC 7714 12).
    pub const fn salt_len(self) -> usize {
        if self.is_aead() { 12 } else { 14 }
    }

    /// Bytes to ask the DTLS exporter (`EXTRACTOR-dtls_srtp`) for: two keys and two salts.
    pub const fn keying_material_len(self) -> usize {
        2 * (self.key_len() + self.salt_len())
    }

    /// `true` for the AES-GCM profiles.
    pub const fn is_aead(self) -> bool {
        matches!(
            self,
            SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm
        )
    }

    /// Length of the SRTP authentication tag in bytes.
    pub const fn rtp_tag_len(self) -> usize {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => 10,
            SrtpProfile::Aes128CmHmacSha1_32 => 4,
            SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm => 16,
        }
    }

    /// Length of the SRTCP authentication tag in bytes.
    pub const fn rtcp_tag_len(self) -> usize {
        match self {
            //# RFC 5764 4.1.2, SRTP_AES128_CM_HMAC_SHA1_32: "auth_tag_length: 32",
            //# "RTCP_auth_tag_length: 80": the short tag is for RTP only (libsrtp agrees).
            SrtpProfile::Aes128CmHmacSha1_80 | SrtpProfile::Aes128CmHmacSha1_32 => 10,
            SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm => 16,
        }
    }

    /// Bytes that protecting an RTP packet appends (the tag; no MKI).
    pub const fn rtp_overhead(self) -> usize {
        self.rtp_tag_len()
    }

    /// Bytes that protecting an RTCP packet appends (the E-flag and index word plus the tag).
    pub const fn rtcp_overhead(self) -> usize {
        self.rtcp_tag_len() + 4
    }
}

impl std::fmt::Display for SrtpProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which end of the DTLS handshake this endpoint was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The DTLS client: protects with `client_write_*`, unprotects with `server_write_*`.
    Client,
    /// The DTLS server: protects with `server_write_*`, unprotects with `client_write_*`.
    Server,
}

/// One direction's master key and salt, borrowed from the exported keying material.
#[derive(Clone, Copy)]
pub(crate) struct MasterKeys<'a> {
    pub(crate) key: &'a [u8],
    pub(crate) salt: &'a [u8],
}

/// Splits RFC 5764 keying material into (local, remote) master keys.
///
/// Caller has checked `material.len() == profile.keying_material_len()`.
pub(crate) fn split_material(
    profile: SrtpProfile,
    material: &[u8],
    role: Role,
) -> (MasterKeys<'_>, MasterKeys<'_>) {
    //# RFC 5764 4.2: client_write_SRTP_master_key[SRTPSecurityParams.master_key_len];
    //# server_write_SRTP_master_key[...]; client_write_SRTP_master_salt[...];
    //# server_write_SRTP_master_salt[...];
    let (k, s) = (profile.key_len(), profile.salt_len());
    let client = MasterKeys {
        key: &material[..k],
        salt: &material[2 * k..2 * k + s],
    };
    let server = MasterKeys {
        key: &material[k..2 * k],
        salt: &material[2 * k + s..2 * k + 2 * s],
    };
    match role {
        Role::Client => (client, server),
        Role::Server => (server, client),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_lengths_match_rfc() {
        for p in SrtpProfile::ALL {
            assert_eq!(SrtpProfile::from_id(p.id()), Some(p));
        }
        assert_eq!(SrtpProfile::from_id(0x0005), None);
        assert_eq!(SrtpProfile::Aes128CmHmacSha1_80.keying_material_len(), 60);
        assert_eq!(SrtpProfile::Aes128CmHmacSha1_32.keying_material_len(), 60);
        assert_eq!(SrtpProfile::AeadAes128Gcm.keying_material_len(), 56);
        assert_eq!(SrtpProfile::AeadAes256Gcm.keying_material_len(), 88);
        assert_eq!(SrtpProfile::Aes128CmHmacSha1_32.rtcp_overhead(), 14);
        assert_eq!(SrtpProfile::AeadAes256Gcm.rtcp_overhead(), 20);
    }

    #[test]
    fn split_follows_rfc5764_layout() {
        let p = SrtpProfile::AeadAes128Gcm;
        let m: Vec<u8> = (0..p.keying_material_len() as u8).collect();
        let (local, remote) = split_material(p, &m, Role::Client);
        assert_eq!(local.key, &m[0..16]);
        assert_eq!(remote.key, &m[16..32]);
        assert_eq!(local.salt, &m[32..44]);
        assert_eq!(remote.salt, &m[44..56]);
        let (local, remote) = split_material(p, &m, Role::Server);
        assert_eq!(local.key, &m[16..32]);
        assert_eq!(remote.salt, &m[32..44]);
    }
}
