//! Key derivation and the two transforms, over library primitives only: AES-CTR and
//! HMAC-SHA1 from aws-lc-rs (its HMAC-SHA1 is several times faster than ring's here), AES-GCM
//! from ring (faster than aws-lc-rs's here).
//!
//! Every key is expanded once, when a context is made; per packet there is no allocation: the
//! HMAC state is copied from a pre-keyed template and IVs live on the stack.

use aws_lc_rs::cipher::{AES_128, AES_256, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::hmac;
use aws_lc_rs::iv::FixedLength;
use ring::aead;

use crate::{Error, SrtpProfile};

/// RFC 3711 4.3.1 key derivation labels, kept together so that their pairing is visible.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Labels {
    enc: u8,
    auth: u8,
    salt: u8,
}

//# RFC 3711 4.3.2: 0x00 SRTP encryption, 0x01 SRTP auth, 0x02 SRTP salt,
//# 0x03 SRTCP encryption, 0x04 SRTCP auth, 0x05 SRTCP salt.
pub(crate) const RTP_LABELS: Labels = Labels {
    enc: 0,
    auth: 1,
    salt: 2,
};
pub(crate) const RTCP_LABELS: Labels = Labels {
    enc: 3,
    auth: 4,
    salt: 5,
};

/// HMAC-SHA1 session key length (RFC 3711 8.2: n_a = 160).
const AUTH_KEY_LEN: usize = 20;

fn aes_ctr_key(key: &[u8]) -> Option<EncryptingKey> {
    let alg = match key.len() {
        16 => &AES_128,
        32 => &AES_256,
        _ => return None,
    };
    EncryptingKey::ctr(UnboundCipherKey::new(alg, key).ok()?).ok()
}

/// The AES-CM PRF of RFC 3711 4.3.3 with key_derivation_rate 0, which DTLS-SRTP uses (RFC 5764
/// 4.1.2 fixes no rate, so r = 0 and the derivation happens once).
///
/// The 96-bit GCM master salt is used as the leading 96 bits of the 112-bit field, zero-padded
/// on the right, exactly as libsrtp does for RFC 7714 11.
fn prf(master: &EncryptingKey, master_salt: &[u8], label: u8, out: &mut [u8]) -> Option<()> {
    //# RFC 3711 4.3.1: x = key_id XOR master_salt, key_id = <label> || r;
    //# the PRF input is x * 2^16, a 128-bit counter block.
    let mut iv = [0u8; 16];
    iv.get_mut(..master_salt.len())?
        .copy_from_slice(master_salt);
    iv[7] ^= label;
    out.fill(0);
    master
        .less_safe_encrypt(out, EncryptionContext::Iv128(FixedLength::from(iv)))
        .ok()?;
    Some(())
}

/// AES counter mode with HMAC-SHA1 (RFC 3711 4.1.1 and 4.2.1).
pub(crate) struct CmTransform {
    enc: EncryptingKey,
    salt: [u8; 14],
    auth: hmac::Key,
}

/// AES-GCM (RFC 7714).
pub(crate) struct GcmTransform {
    key: aead::LessSafeKey,
    salt: [u8; 12],
}

/// The session keys of one direction and one of RTP or RTCP.
// Two per context, made once and never moved per packet: boxing the large HMAC state would
// only add a pointer chase to every packet.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Transform {
    Cm(CmTransform),
    Gcm(GcmTransform),
}

impl Transform {
    /// Derives the session keys for `labels` from a master key and salt whose lengths the
    /// caller checked against `profile`.
    pub(crate) fn derive(
        profile: SrtpProfile,
        master_key: &[u8],
        master_salt: &[u8],
        labels: Labels,
    ) -> Option<Self> {
        let master = aes_ctr_key(master_key)?;
        let mut enc = [0u8; 32];
        let enc = enc.get_mut(..profile.key_len())?;
        prf(&master, master_salt, labels.enc, enc)?;
        if profile.is_aead() {
            let mut salt = [0u8; 12];
            prf(&master, master_salt, labels.salt, &mut salt)?;
            Some(Transform::Gcm(GcmTransform::new(enc, salt)?))
        } else {
            let mut salt = [0u8; 14];
            prf(&master, master_salt, labels.salt, &mut salt)?;
            let mut auth = [0u8; AUTH_KEY_LEN];
            prf(&master, master_salt, labels.auth, &mut auth)?;
            Some(Transform::Cm(CmTransform::new(enc, salt, &auth)?))
        }
    }
}

impl CmTransform {
    pub(crate) fn new(enc: &[u8], salt: [u8; 14], auth: &[u8]) -> Option<Self> {
        Some(Self {
            enc: aes_ctr_key(enc)?,
            salt,
            auth: hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, auth),
        })
    }

    /// XORs the keystream for (`ssrc`, `index`) into `data` (encrypt and decrypt alike).
    pub(crate) fn apply_keystream(
        &self,
        ssrc: u32,
        index: u64,
        data: &mut [u8],
    ) -> Result<(), Error> {
        //# RFC 3711 4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16)
        let mut iv = [0u8; 16];
        iv[..14].copy_from_slice(&self.salt);
        for (b, s) in iv[4..8].iter_mut().zip(ssrc.to_be_bytes()) {
            *b ^= s;
        }
        for (b, i) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..]) {
            *b ^= i;
        }
        self.enc
            .less_safe_encrypt(data, EncryptionContext::Iv128(FixedLength::from(iv)))
            .map(|_| ())
            .map_err(|_| Error::Crypto)
    }

    /// HMAC-SHA1 over `data || suffix`, full length (the caller truncates).
    pub(crate) fn mac(&self, data: &[u8], suffix: &[u8]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.auth);
        ctx.update(data);
        ctx.update(suffix);
        ctx.sign()
    }

    /// Checks a truncated tag in constant time.
    pub(crate) fn verify(&self, data: &[u8], suffix: &[u8], tag: &[u8]) -> Result<(), Error> {
        let full = self.mac(data, suffix);
        let ours = full.as_ref().get(..tag.len()).ok_or(Error::AuthFailed)?;
        verify_slices_are_equal(ours, tag).map_err(|_| Error::AuthFailed)
    }
}

impl GcmTransform {
    pub(crate) fn new(key: &[u8], salt: [u8; 12]) -> Option<Self> {
        let alg = match key.len() {
            16 => &aead::AES_128_GCM,
            32 => &aead::AES_256_GCM,
            _ => return None,
        };
        Some(Self {
            key: aead::LessSafeKey::new(aead::UnboundKey::new(alg, key).ok()?),
            salt,
        })
    }

    fn nonce(&self, mut iv: [u8; 12]) -> aead::Nonce {
        for (b, s) in iv.iter_mut().zip(self.salt) {
            *b ^= s;
        }
        aead::Nonce::assume_unique_for_key(iv)
    }

    //# RFC 7714 8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt
    pub(crate) fn rtp_nonce(&self, ssrc: u32, index: u64) -> aead::Nonce {
        let mut iv = [0u8; 12];
        iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
        iv[6..12].copy_from_slice(&index.to_be_bytes()[2..]);
        self.nonce(iv)
    }

    //# RFC 7714 9.1: IV = (00 00 || SSRC || 00 00 || 0 || SRTCP index) XOR salt
    pub(crate) fn rtcp_nonce(&self, ssrc: u32, index: u32) -> aead::Nonce {
        let mut iv = [0u8; 12];
        iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
        iv[8..12].copy_from_slice(&index.to_be_bytes());
        self.nonce(iv)
    }

    /// Encrypts `in_out` in place and returns the 16-byte tag.
    pub(crate) fn seal(
        &self,
        nonce: aead::Nonce,
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<aead::Tag, Error> {
        self.key
            .seal_in_place_separate_tag(nonce, aead::Aad::from(aad), in_out)
            .map_err(|_| Error::Crypto)
    }

    /// Authenticates and decrypts `ciphertext || tag` in place.
    pub(crate) fn open(
        &self,
        nonce: aead::Nonce,
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<(), Error> {
        self.key
            .open_in_place(nonce, aead::Aad::from(aad), in_out)
            .map(|_| ())
            .map_err(|_| Error::AuthFailed)
    }

    /// Authenticates `aad` alone against `tag` (SRTCP with the E flag clear).
    pub(crate) fn verify(&self, nonce: aead::Nonce, aad: &[u8], tag: &[u8]) -> Result<(), Error> {
        let tag = aead::Tag::try_from(tag).map_err(|_| Error::AuthFailed)?;
        self.key
            .open_in_place_separate_tag(nonce, aead::Aad::from(aad), tag, &mut [], 0..)
            .map(|_| ())
            .map_err(|_| Error::AuthFailed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.replace([' ', '\n'], "")).unwrap()
    }

    /// RFC 3711 B.3: key derivation.
    #[test]
    fn rfc3711_b3_key_derivation() {
        let master = aes_ctr_key(&unhex("E1F97A0D3E018BE0D64FA32C06DE4139")).unwrap();
        let salt = unhex("0EC675AD498AFEEBB6960B3AABE6");
        let mut enc = [0u8; 16];
        prf(&master, &salt, 0, &mut enc).unwrap();
        assert_eq!(enc.to_vec(), unhex("C61E7A93744F39EE10734AFE3FF7A087"));
        let mut s = [0u8; 14];
        prf(&master, &salt, 2, &mut s).unwrap();
        assert_eq!(s.to_vec(), unhex("30CBBC08863D8C85D49DB34A9AE1"));
        // The RFC lists 94 bytes of the auth keystream; HMAC-SHA1 takes the first 20.
        let mut auth = [0u8; 94];
        prf(&master, &salt, 1, &mut auth).unwrap();
        assert_eq!(
            auth.to_vec(),
            unhex(
                "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE
                 E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25
                 6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"
            )
        );
    }

    /// RFC 3711 B.2: the AES-CM keystream for index 0, SSRC 0.
    #[test]
    fn rfc3711_b2_keystream() {
        let salt: [u8; 14] = unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD").try_into().unwrap();
        let t =
            CmTransform::new(&unhex("2B7E151628AED2A6ABF7158809CF4F3C"), salt, &[0; 20]).unwrap();
        let mut ks = vec![0u8; 16 * 0xff02];
        t.apply_keystream(0, 0, &mut ks).unwrap();
        let block = |i: usize| ks[16 * i..16 * (i + 1)].to_vec();
        assert_eq!(block(0), unhex("E03EAD0935C95E80E166B16DD92B4EB4"));
        assert_eq!(block(1), unhex("D23513162B02D0F72A43A2FE4A5F97AB"));
        assert_eq!(block(2), unhex("41E95B3BB0A2E8DD477901E4FCA894C0"));
        assert_eq!(block(0xfeff), unhex("EC8CDF7398607CB0F2D21675EA9EA1E4"));
        assert_eq!(block(0xff00), unhex("362B7C3C6773516318A077D7FC5073AE"));
        assert_eq!(block(0xff01), unhex("6A2CC3787889374FBEB4C81B17BA6C44"));
    }
}
