//! Hand-built hostile input: each case names the lie it tells and the error it must get.

use zvon_base::{Classify, Fault};
use zvon_stun::{
    AttrType, Attribute, ChannelData, ChannelDataError, DecodeError, Encoder, ErrorCode,
    FingerprintError, IntegrityError, IntegrityKey, Message, MessageType, Method, StreamFrame,
    TransactionId, stream_frame_len,
};

const TID: TransactionId = TransactionId::new([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

fn key() -> IntegrityKey {
    IntegrityKey::short_term("LTuEpkGsUSHhXBsM5ksziT")
}

/// A header with `length`, followed by `body` (the length is not fixed up).
fn raw(length: u16, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0x00, 0x01];
    v.extend_from_slice(&length.to_be_bytes());
    v.extend_from_slice(&0x2112_A442u32.to_be_bytes());
    v.extend_from_slice(TID.as_bytes());
    v.extend_from_slice(body);
    v
}

/// A header whose length matches `body`.
fn msg(body: &[u8]) -> Vec<u8> {
    raw(body.len() as u16, body)
}

fn err(bytes: &[u8]) -> DecodeError {
    Message::parse(bytes).expect_err("must be rejected")
}

#[test]
fn truncated_header() {
    let full = msg(&[]);
    for n in 0..20 {
        assert_eq!(err(&full[..n]), DecodeError::TooShort(n));
    }
    assert!(Message::parse(&full).is_ok());
}

#[test]
fn header_lies() {
    let mut top_bits = msg(&[]);
    top_bits[0] = 0x40; // ChannelData range
    assert_eq!(err(&top_bits), DecodeError::NotStun);
    let mut cookie = msg(&[]);
    cookie[7] ^= 1;
    assert_eq!(err(&cookie), DecodeError::NoMagicCookie);
    assert_eq!(err(&raw(2, &[0, 0])), DecodeError::UnalignedLength(2));
    assert_eq!(
        err(&raw(8, &[0; 4])),
        DecodeError::LengthMismatch {
            header: 8,
            actual: 24
        }
    );
    assert_eq!(
        err(&raw(0, &[0; 4])),
        DecodeError::LengthMismatch {
            header: 0,
            actual: 24
        }
    );
    assert_eq!(
        err(&raw(0xFFFC, &[])),
        DecodeError::LengthMismatch {
            header: 0xFFFC,
            actual: 20
        }
    );
}

#[test]
fn attribute_lengths_that_lie() {
    // Value length past the end of the message.
    assert_eq!(
        err(&msg(&[0x80, 0x22, 0x00, 0x08, b'a', b'b', b'c', b'd'])),
        DecodeError::AttributeOverrun {
            typ: AttrType::SOFTWARE
        }
    );
    // The value fits but its padding does not.
    assert_eq!(
        err(&msg(&[0x80, 0x22, 0x00, 0x05, b'a', b'b', b'c', b'd'])),
        DecodeError::AttributeOverrun {
            typ: AttrType::SOFTWARE
        }
    );
    // The maximum length, in a message that cannot hold it.
    assert_eq!(
        err(&msg(&[0x00, 0x13, 0xFF, 0xFF])),
        DecodeError::AttributeOverrun {
            typ: AttrType::DATA
        }
    );
    // An attribute header cut by the end of the message: caught as a misaligned length.
    assert_eq!(
        err(&msg(&[
            0x00, 0x24, 0x00, 0x08, 0, 0, 0, 1, 0x00, 0x25, 0x00
        ])),
        DecodeError::UnalignedLength(11)
    );
}

#[test]
fn malformed_comprehension_required_values_are_rejected() {
    let cases: &[(&[u8], AttrType)] = &[
        (&[0x00, 0x24, 0x00, 0x02, 0, 1, 0, 0], AttrType::PRIORITY), // PRIORITY of 2 bytes
        (
            &[0x00, 0x25, 0x00, 0x04, 0, 0, 0, 0],
            AttrType::USE_CANDIDATE,
        ), // with a value
        (
            &[0x00, 0x20, 0x00, 0x08, 0, 3, 0, 0, 1, 2, 3, 4],
            AttrType::XOR_MAPPED_ADDRESS,
        ), // family 3
        (
            &[0x00, 0x20, 0x00, 0x08, 0, 2, 0, 0, 1, 2, 3, 4],
            AttrType::XOR_MAPPED_ADDRESS,
        ), // v6 in 8 bytes
        (
            &[0x00, 0x06, 0x00, 0x02, 0xC3, 0x28, 0, 0],
            AttrType::USERNAME,
        ), // not UTF-8
        (&[0x00, 0x09, 0x00, 0x04, 0, 0, 7, 0], AttrType::ERROR_CODE), // class 7
        (
            &[0x00, 0x09, 0x00, 0x04, 0, 0, 4, 100],
            AttrType::ERROR_CODE,
        ), // number 100
        (
            &[0x00, 0x0A, 0x00, 0x03, 0, 1, 0, 0],
            AttrType::UNKNOWN_ATTRIBUTES,
        ), // odd length
        (&[0x00, 0x1E, 0x00, 0x04, 0, 0, 0, 0], AttrType::USERHASH), // not 32 bytes
        (
            &[0x00, 0x1D, 0x00, 0x08, 0, 2, 0, 8, 0, 0, 0, 0],
            AttrType::PASSWORD_ALGORITHM,
        ), // params overrun
    ];
    for (body, typ) in cases {
        assert_eq!(
            err(&msg(body)),
            DecodeError::BadAttribute { typ: *typ },
            "{body:02x?}"
        );
    }
}

#[test]
fn malformed_comprehension_optional_values_become_unknown() {
    // SOFTWARE that is not UTF-8 and ICE-CONTROLLING of 4 bytes: ignorable, so the message
    // stays usable and the attribute is passed on raw.
    let bytes = msg(&[
        0x80, 0x22, 0x00, 0x02, 0xFF, 0xFE, 0, 0, 0x80, 0x2A, 0x00, 0x04, 1, 2, 3, 4,
    ]);
    let m = Message::parse(&bytes).unwrap();
    let attrs: Vec<_> = m.attributes().collect();
    assert_eq!(
        attrs,
        [
            Attribute::Unknown {
                typ: AttrType::SOFTWARE,
                value: &[0xFF, 0xFE]
            },
            Attribute::Unknown {
                typ: AttrType::ICE_CONTROLLING,
                value: &[1, 2, 3, 4]
            },
        ]
    );
    assert!(m.check_comprehension().is_ok());
}

#[test]
fn integrity_attributes_with_wrong_length() {
    let mut mi19 = vec![0x00, 0x08, 0x00, 0x13];
    mi19.extend_from_slice(&[0; 20]);
    assert_eq!(
        err(&msg(&mi19)),
        DecodeError::BadAttribute {
            typ: AttrType::MESSAGE_INTEGRITY
        }
    );
    let mut mi256_12 = vec![0x00, 0x1C, 0x00, 0x0C];
    mi256_12.extend_from_slice(&[0; 12]);
    assert_eq!(
        err(&msg(&mi256_12)),
        DecodeError::BadAttribute {
            typ: AttrType::MESSAGE_INTEGRITY_SHA256
        }
    );
    let mut mi256_18 = vec![0x00, 0x1C, 0x00, 0x12];
    mi256_18.extend_from_slice(&[0; 20]);
    assert_eq!(
        err(&msg(&mi256_18)),
        DecodeError::BadAttribute {
            typ: AttrType::MESSAGE_INTEGRITY_SHA256
        }
    );
    let fp8 = [0x80, 0x28, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(
        err(&msg(&fp8)),
        DecodeError::BadAttribute {
            typ: AttrType::FINGERPRINT
        }
    );
}

fn signed(build: impl FnOnce(&mut Encoder<'_>)) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut enc = Encoder::new(&mut buf, MessageType::request(Method::BINDING), TID);
    build(&mut enc);
    let _ = enc.finish_with_integrity(&key());
    buf
}

#[test]
fn fingerprint_not_last() {
    let mut bytes = signed(|e| {
        e.add(&Attribute::Username("a:b"));
    });
    // Append an attribute after FINGERPRINT and fix the length.
    bytes.extend_from_slice(&[0x80, 0x22, 0x00, 0x00]);
    let len = (bytes.len() - 20) as u16;
    bytes[2..4].copy_from_slice(&len.to_be_bytes());
    assert_eq!(err(&bytes), DecodeError::FingerprintNotLast);
}

#[test]
fn attributes_after_integrity_are_ignored() {
    // Valid MESSAGE-INTEGRITY, then USE-CANDIDATE and PRIORITY an attacker appended (fixing
    // the length): the integrity still verifies (RFC 8489 14.5 says the length is adjusted to
    // end at MESSAGE-INTEGRITY), so the appended attributes must not be seen.
    let mut buf = Vec::new();
    let mut enc = Encoder::new(&mut buf, MessageType::request(Method::BINDING), TID);
    enc.add(&Attribute::Priority(1));
    let _ = enc.message_integrity(&key()).finish();
    buf.extend_from_slice(&[
        0x00, 0x25, 0x00, 0x00, 0x00, 0x24, 0x00, 0x04, 0xFF, 0xFF, 0xFF, 0xFF,
    ]);
    // An unknown comprehension-required attribute there is ignored too.
    buf.extend_from_slice(&[0x7F, 0xFF, 0x00, 0x00]);
    let len = (buf.len() - 20) as u16;
    buf[2..4].copy_from_slice(&len.to_be_bytes());
    let m = Message::parse(&buf).unwrap();
    let v = m.verify_integrity(&key()).unwrap();
    assert_eq!(v.priority(), Some(1));
    assert!(!v.use_candidate());
    assert!(m.check_comprehension().is_ok());
    assert_eq!(m.attributes().count(), 2); // PRIORITY, MESSAGE-INTEGRITY
}

#[test]
fn truncated_sha256_integrity_verifies_on_its_length() {
    use aws_lc_rs::hmac;
    // Build a request with a 16-byte MESSAGE-INTEGRITY-SHA256 by hand (RFC 8489 14.6).
    let mut buf = Vec::new();
    let mut enc = Encoder::new(&mut buf, MessageType::request(Method::BINDING), TID);
    enc.add(&Attribute::Username("a:b"));
    let _ = enc.finish();
    let at = buf.len();
    let len = (at - 20 + 4 + 16) as u16;
    buf[2..4].copy_from_slice(&len.to_be_bytes());
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, b"LTuEpkGsUSHhXBsM5ksziT"),
        &buf,
    );
    buf.extend_from_slice(&[0x00, 0x1C, 0x00, 0x10]);
    buf.extend_from_slice(&tag.as_ref()[..16]);
    let m = Message::parse(&buf).unwrap();
    m.verify_integrity(&key()).unwrap();
    buf[at + 4 + 15] ^= 1;
    let m = Message::parse(&buf).unwrap();
    assert_eq!(
        m.verify_integrity(&key()).unwrap_err(),
        IntegrityError::Mismatch
    );
}

#[test]
fn verification_failures_are_typed() {
    let plain = msg(&[0x00, 0x24, 0x00, 0x04, 0, 0, 0, 1]);
    let m = Message::parse(&plain).unwrap();
    assert_eq!(
        m.verify_integrity(&key()).unwrap_err(),
        IntegrityError::Missing
    );
    assert_eq!(
        m.verify_fingerprint().unwrap_err(),
        FingerprintError::Missing
    );

    let mut bytes = signed(|e| {
        e.add(&Attribute::Username("a:b"));
    });
    let n = bytes.len();
    bytes[n - 1] ^= 0x80; // the CRC itself
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(
        m.verify_fingerprint().unwrap_err(),
        FingerprintError::Mismatch
    );
    assert!(m.verify_integrity(&key()).is_ok()); // MESSAGE-INTEGRITY does not cover FINGERPRINT
    let e = m.verify_fingerprint().unwrap_err();
    assert_eq!((e.fault(), e.is_fatal()), (Fault::Malformed, false));
    let e = IntegrityError::Mismatch;
    assert_eq!((e.fault(), e.is_fatal()), (Fault::PeerMisbehaved, false));
    assert_eq!(DecodeError::NotStun.fault(), Fault::Malformed);
}

#[test]
fn unknown_comprehension_required_yields_a_420_answer() {
    let bytes = msg(&[
        0x00, 0x06, 0x00, 0x03, b'a', b':', b'b', 0, // USERNAME
        0x00, 0x03, 0x00, 0x04, 0, 0, 0, 6, // CHANGE-REQUEST (RFC 5780): unknown here
        0xC0, 0x57, 0x00, 0x04, 0, 1, 0, 10, // GOOG-NETWORK-INFO: unknown but optional
        0x7F, 0x00, 0x00, 0x00, // unassigned, required
    ]);
    let m = Message::parse(&bytes).unwrap();
    assert!(m.has_unknown_required());
    let unknown = m.check_comprehension().unwrap_err();
    let types: Vec<_> = unknown.types().collect();
    assert_eq!(types, [AttrType(0x0003), AttrType(0x7F00)]);

    // The server's answer.
    let mut buf = Vec::new();
    let mut enc = Encoder::new(
        &mut buf,
        MessageType::error(Method::BINDING),
        m.transaction_id(),
    );
    enc.add(&Attribute::ErrorCode(ErrorCode {
        code: ErrorCode::UNKNOWN_ATTRIBUTE,
        reason: "Unknown Attribute",
    }))
    .add_unknown_attributes(unknown.types());
    let _ = enc.finish_with_fingerprint();
    let r = Message::parse(&buf).unwrap();
    assert_eq!(r.error_code().unwrap().code, 420);
    let Some(Attribute::UnknownAttributes(list)) = r.get(AttrType::UNKNOWN_ATTRIBUTES) else {
        panic!("no UNKNOWN-ATTRIBUTES")
    };
    assert_eq!(list.iter().collect::<Vec<_>>(), types);
}

#[test]
fn channel_data_lies() {
    assert_eq!(
        ChannelData::parse(&[0x40, 0x00, 0x00]),
        Err(ChannelDataError::Truncated {
            needed: 4,
            actual: 3
        })
    );
    assert_eq!(
        ChannelData::parse(&[0x40, 0x00, 0x00, 0x05, 1, 2, 3, 4]),
        Err(ChannelDataError::Truncated {
            needed: 9,
            actual: 8
        })
    );
    assert_eq!(
        ChannelData::parse(&[0x50, 0x00, 0x00, 0x00]),
        Err(ChannelDataError::BadChannel(0x5000))
    );
    assert_eq!(
        ChannelData::parse(&[0x3F, 0xFF, 0x00, 0x00]),
        Err(ChannelDataError::BadChannel(0x3FFF))
    );
    // UDP padding (or any trailing bytes) is ignored.
    let cd = ChannelData::parse(&[0x4F, 0xFF, 0x00, 0x01, 7, 0, 0, 0]).unwrap();
    assert_eq!((cd.channel().value(), cd.data()), (0x4FFF, &[7u8][..]));

    assert_eq!(stream_frame_len(&[]), StreamFrame::Incomplete);
    assert_eq!(
        stream_frame_len(&[0x40, 0x00, 0x00]),
        StreamFrame::Incomplete
    );
    assert_eq!(
        stream_frame_len(&[0x50, 0x00, 0x00, 0x00]),
        StreamFrame::Invalid
    );
    assert_eq!(stream_frame_len(&[0x80]), StreamFrame::Invalid);
    assert_eq!(stream_frame_len(&msg(&[0; 8])), StreamFrame::Stun(28));
    assert_eq!(stream_frame_len(&raw(3, &[])), StreamFrame::Invalid);
}
