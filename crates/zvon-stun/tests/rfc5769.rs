//! RFC 5769 test vectors (and RFC 8489 Appendix B.1 as corrected by its errata): each decoded,
//! its MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT checked, and each re-encoded from the values
//! the RFC states and compared byte for byte. The vectors pad some values with spaces, which
//! RFC 5389 allowed; the encoder reproduces that with `set_padding_byte`.

use std::net::SocketAddr;

use zvon_stun::{
    AttrType, Attribute, Class, Encoder, FingerprintError, IceRole, IntegrityAlgorithm,
    IntegrityError, IntegrityKey, Message, MessageType, Method, PasswordAlgorithm, TransactionId,
    userhash,
};

fn hex(s: &str) -> Vec<u8> {
    let clean: String = s.split_whitespace().collect();
    hex::decode(clean).unwrap()
}

const SAMPLE_TID: [u8; 12] = [
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
];
const LT_TID: [u8; 12] = [
    0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e,
];
const SHORT_TERM_PASSWORD: &str = "VOkJxbRl1RmTxUk/WvJxBt";

/// RFC 5769 2.1, sample request.
const REQUEST: &str = "
    00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
    00 24 00 04 6e 00 01 ff
    80 29 00 08 93 2f f9 b1 51 26 3b 36
    00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
    00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
    80 28 00 04 e5 7a 3b cf";

/// RFC 5769 2.2, sample IPv4 response.
const RESPONSE_V4: &str = "
    01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
    00 20 00 08 00 01 a1 47 e1 12 a6 43
    00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
    80 28 00 04 c0 7d 4c 96";

/// RFC 5769 2.3, sample IPv6 response.
const RESPONSE_V6: &str = "
    01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
    00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
    00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
    80 28 00 04 c8 fb 0b 4c";

/// RFC 5769 2.4, sample request with long-term authentication.
const REQUEST_LONG_TERM: &str = "
    00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
    00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
    00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
    00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
    00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66";

/// RFC 8489 B.1 as corrected by its errata (the published vector omitted PASSWORD-ALGORITHM,
/// which the request must carry, and its HMAC does not verify): MESSAGE-INTEGRITY-SHA256 and
/// USERHASH.
const REQUEST_SHA256: &str = "
    00 01 00 90 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
    00 1e 00 20 4a 3c f3 8f ef 69 92 bd a9 52 c6 78 04 17 da 0f 24 81 94 15 56 9e 60 b2 05 c4 6e 41 40 7f 17 04
    00 15 00 29 6f 62 4d 61 74 4a 6f 73 32 41 41 41 43 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34
                6f 4c 39 46 53 54 76 79 36 34 73 41 00 00 00
    00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
    00 1d 00 04 00 02 00 00
    00 1c 00 20 b5 c7 bf 00 5b 6c 52 a2 1c 51 c5 e8 92 f8 19 24 13 62 96 cb 92 7c 43 14 93 09 27 8c c6 51 8e 65";

/// マトリックス ("matrix" in katakana), the username of 2.4 and B.1.
const LT_USERNAME: &str = "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}";
/// The password of 2.4 after SASLprep: "The<U+00AD>M<U+00AA>tr<U+2168>" maps to "TheMatrIX"
/// (the soft hyphen is removed, U+00AA becomes "a", U+2168 becomes "IX"). zvon does not run
/// SASLprep/OpaqueString; the caller hands it the prepared string.
const LT_PASSWORD: &str = "TheMatrIX";
const LT_REALM: &str = "example.org";

#[test]
fn sample_request_decodes_and_verifies() {
    let bytes = hex(REQUEST);
    let msg = Message::parse(&bytes).unwrap();
    assert_eq!(msg.message_type(), MessageType::request(Method::BINDING));
    assert_eq!(msg.transaction_id(), TransactionId::new(SAMPLE_TID));
    let attrs: Vec<_> = msg.attributes().collect();
    assert_eq!(
        attrs[..4],
        [
            Attribute::Software("STUN test client"),
            Attribute::Priority(0x6e00_01ff),
            Attribute::IceControlled(0x932f_f9b1_5126_3b36),
            Attribute::Username("evtj:h6vY"),
        ]
    );
    assert!(matches!(attrs[4], Attribute::MessageIntegrity(_)));
    assert_eq!(attrs[5], Attribute::Fingerprint(0xe57a_3bcf));
    assert_eq!(attrs.len(), 6);
    msg.verify_fingerprint().unwrap();
    let v = msg
        .verify_integrity(&IntegrityKey::short_term(SHORT_TERM_PASSWORD))
        .unwrap();
    assert_eq!(v.algorithm(), IntegrityAlgorithm::Sha1);
    let ice = v.ice();
    assert_eq!(ice.priority, Some(0x6e00_01ff));
    assert_eq!(ice.role, Some(IceRole::Controlled(0x932f_f9b1_5126_3b36)));
    assert!(!ice.use_candidate);
    assert_eq!(
        msg.verify_integrity(&IntegrityKey::short_term("wrong"))
            .unwrap_err(),
        IntegrityError::Mismatch
    );
}

#[test]
fn sample_request_encodes_to_the_vector() {
    let mut buf = Vec::new();
    let mut enc = Encoder::new(
        &mut buf,
        MessageType::request(Method::BINDING),
        TransactionId::new(SAMPLE_TID),
    );
    enc.set_padding_byte(b' ')
        .add(&Attribute::Software("STUN test client"))
        .add(&Attribute::Priority(0x6e00_01ff))
        .add(&Attribute::IceControlled(0x932f_f9b1_5126_3b36))
        .add(&Attribute::Username("evtj:h6vY"));
    let len = enc.finish_with_integrity(&IntegrityKey::short_term(SHORT_TERM_PASSWORD));
    assert_eq!(len, buf.len());
    assert_eq!(hex::encode(&buf), hex::encode(hex(REQUEST)));
}

fn check_response(vector: &str, mapped: &str) {
    let bytes = hex(vector);
    let msg = Message::parse(&bytes).unwrap();
    let mapped: SocketAddr = mapped.parse().unwrap();
    assert_eq!(
        msg.message_type(),
        MessageType::new(Method::BINDING, Class::Success)
    );
    assert_eq!(msg.xor_mapped_address(), Some(mapped));
    assert_eq!(
        msg.get(AttrType::SOFTWARE),
        Some(Attribute::Software("test vector"))
    );
    msg.verify_fingerprint().unwrap();
    let key = IntegrityKey::short_term(SHORT_TERM_PASSWORD);
    msg.verify_integrity(&key).unwrap();

    let mut buf = Vec::new();
    let mut enc = Encoder::new(
        &mut buf,
        MessageType::new(Method::BINDING, Class::Success),
        TransactionId::new(SAMPLE_TID),
    );
    enc.set_padding_byte(b' ')
        .add(&Attribute::Software("test vector"))
        .add(&Attribute::XorMappedAddress(mapped));
    enc.finish_with_integrity(&key);
    assert_eq!(hex::encode(&buf), hex::encode(&bytes));
}

#[test]
fn sample_ipv4_response() {
    check_response(RESPONSE_V4, "192.0.2.1:32853");
}

#[test]
fn sample_ipv6_response() {
    check_response(RESPONSE_V6, "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
}

#[test]
fn sample_long_term_request() {
    let bytes = hex(REQUEST_LONG_TERM);
    let msg = Message::parse(&bytes).unwrap();
    assert_eq!(msg.username(), Some(LT_USERNAME));
    assert_eq!(msg.realm(), Some(LT_REALM));
    assert_eq!(msg.nonce(), Some(&b"f//499k954d6OL34oL9FSTvy64sA"[..]));
    assert_eq!(msg.verify_fingerprint(), Err(FingerprintError::Missing));
    let key = IntegrityKey::long_term(LT_USERNAME, LT_REALM, LT_PASSWORD);
    msg.verify_integrity(&key).unwrap();
    // The unprepared password gives another key.
    let raw = IntegrityKey::long_term(LT_USERNAME, LT_REALM, "The\u{AD}M\u{AA}tr\u{2168}");
    assert_eq!(
        msg.verify_integrity(&raw).unwrap_err(),
        IntegrityError::Mismatch
    );

    let mut buf = Vec::new();
    let mut enc = Encoder::new(
        &mut buf,
        MessageType::request(Method::BINDING),
        TransactionId::new(LT_TID),
    );
    enc.add(&Attribute::Username(LT_USERNAME))
        .add(&Attribute::Nonce(b"f//499k954d6OL34oL9FSTvy64sA"))
        .add(&Attribute::Realm(LT_REALM));
    let len = enc.message_integrity(&key).finish();
    assert_eq!(len, bytes.len());
    assert_eq!(hex::encode(&buf), hex::encode(&bytes));
}

#[test]
fn rfc8489_sha256_userhash_request() {
    let bytes = hex(REQUEST_SHA256);
    let msg = Message::parse(&bytes).unwrap();
    let hash = userhash(LT_USERNAME, LT_REALM);
    assert_eq!(
        msg.get(AttrType::USERHASH),
        Some(Attribute::Userhash(&hash))
    );
    assert_eq!(
        msg.get(AttrType::PASSWORD_ALGORITHM),
        Some(Attribute::PasswordAlgorithm(PasswordAlgorithm {
            algorithm: PasswordAlgorithm::SHA256,
            params: &[]
        }))
    );
    let key = IntegrityKey::long_term_sha256(LT_USERNAME, LT_REALM, LT_PASSWORD);
    let v = msg.verify_integrity(&key).unwrap();
    assert_eq!(v.algorithm(), IntegrityAlgorithm::Sha256);
    assert_eq!(
        msg.verify_integrity_with(&key, IntegrityAlgorithm::Sha1)
            .unwrap_err(),
        IntegrityError::Missing
    );
    // The MD5 key of the same credentials does not verify it.
    let md5 = IntegrityKey::long_term(LT_USERNAME, LT_REALM, LT_PASSWORD);
    assert_eq!(
        msg.verify_integrity(&md5).unwrap_err(),
        IntegrityError::Mismatch
    );

    let mut buf = Vec::new();
    let mut enc = Encoder::new(
        &mut buf,
        MessageType::request(Method::BINDING),
        TransactionId::new(LT_TID),
    );
    enc.add(&Attribute::Userhash(&hash))
        .add(&Attribute::Nonce(
            b"obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA",
        ))
        .add(&Attribute::Realm(LT_REALM))
        .add(&Attribute::PasswordAlgorithm(PasswordAlgorithm {
            algorithm: PasswordAlgorithm::SHA256,
            params: &[],
        }));
    enc.message_integrity_sha256(&key).finish();
    assert_eq!(hex::encode(&buf), hex::encode(&bytes));
}
