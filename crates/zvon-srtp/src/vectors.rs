//! RFC 7714 sections 16 and 17: AES-GCM SRTP and SRTCP with the published session keys, which
//! enter below the key derivation (the RFC gives no master keys for them).

use crate::crypto::{GcmTransform, Transform};
use crate::{Config, Context, Error, SrtpProfile};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).unwrap()
}

const KEY_128: &str = "000102030405060708090a0b0c0d0e0f";
const KEY_256: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/// "Quid pro quo"
const SALT: &str = "517569642070726f2071756f";

const RTP: &str = "8040f17b8041f8d35501a0b2 47616c6c696120657374206f6d6e69732064697669736120
                   696e207061727465732074726573";
const SRTP_128: &str = "8040f17b8041f8d35501a0b2 f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f
                        42a5f47a51c7d19b36de3adf8833 899d7f27beb16a9152cf765ee4390cce";
const SRTP_256: &str = "8040f17b8041f8d35501a0b2 32b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3
                        b50b2a0276ffae0f1ba63799b87b 7aa3db36dfffd6b0f9bb7878d7a76c13";

const RTCP: &str = "81c8000d4d617273 4e5450314e545032525450200000042a0000e9304c756e61
                    deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";
const SRTCP_128: &str = "81c8000d4d617273 63e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1
                         730d6fda4ce09b4686303ded0bb9275bc84aa458 96cf4d2fc5abf87245d9eade 800005d4";
const SRTCP_256: &str = "81c8000d4d617273 d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1
                         110555be8415f658c61de0476f1b6fad1d1eb30c 4446839f57ff6f6cb26ac3be 800005d4";
const SRTCP_INDEX: u32 = 0x5d4;

fn gcm_context(profile: SrtpProfile, key: &str) -> Context {
    let salt: [u8; 12] = unhex(SALT).try_into().unwrap();
    let t = || Transform::Gcm(GcmTransform::new(&unhex(key), salt).unwrap());
    Context::from_transforms(profile, t(), t(), &Config::default())
}

#[test]
fn rfc7714_16_rtp_protect_and_unprotect() {
    for (profile, key, srtp) in [
        (SrtpProfile::AeadAes128Gcm, KEY_128, SRTP_128),
        (SrtpProfile::AeadAes256Gcm, KEY_256, SRTP_256),
    ] {
        let mut tx = gcm_context(profile, key);
        let mut buf = unhex(RTP);
        tx.protect_rtp(&mut buf).unwrap();
        assert_eq!(hex::encode(&buf), hex::encode(unhex(srtp)), "{profile}");

        let mut rx = gcm_context(profile, key);
        let n = rx.unprotect_rtp(&mut buf).unwrap();
        assert_eq!(buf[..n], unhex(RTP)[..]);
        assert_eq!(rx.roc(0x5501a0b2), Some(0));

        // One flipped bit anywhere, header included, fails and leaves no trace.
        let mut rx = gcm_context(profile, key);
        let sealed = unhex(srtp);
        for bit in [0, 8 * 5 + 3, 8 * 20, 8 * sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let e = rx.unprotect_rtp(&mut bad).unwrap_err();
            assert!(matches!(e, Error::AuthFailed | Error::BadVersion), "{e:?}");
        }
        assert_eq!(rx.roc(0x5501a0b2), None);
        let mut good = sealed.clone();
        assert!(rx.unprotect_rtp(&mut good).is_ok());
    }
}

#[test]
fn rfc7714_17_rtcp_protect_and_unprotect() {
    for (profile, key, srtcp) in [
        (SrtpProfile::AeadAes128Gcm, KEY_128, SRTCP_128),
        (SrtpProfile::AeadAes256Gcm, KEY_256, SRTCP_256),
    ] {
        let mut tx = gcm_context(profile, key);
        tx.set_next_rtcp_index(0x4d617273, SRTCP_INDEX);
        let mut buf = unhex(RTCP);
        tx.protect_rtcp(&mut buf).unwrap();
        assert_eq!(hex::encode(&buf), hex::encode(unhex(srtcp)), "{profile}");

        let mut rx = gcm_context(profile, key);
        let n = rx.unprotect_rtcp(&mut buf).unwrap();
        assert_eq!(buf[..n], unhex(RTCP)[..]);
        // Again: a replay.
        let mut again = unhex(srtcp);
        assert_eq!(
            rx.unprotect_rtcp(&mut again),
            Err(Error::Replay {
                index: u64::from(SRTCP_INDEX)
            })
        );
        // The E flag is authenticated: clearing it fails.
        let mut rx = gcm_context(profile, key);
        let mut bad = unhex(srtcp);
        let at = bad.len() - 4;
        bad[at] &= 0x7f;
        assert_eq!(rx.unprotect_rtcp(&mut bad), Err(Error::AuthFailed));
    }
}
