//! Property tests: encode -> decode round trips over arbitrary attribute sets, and no panic on
//! arbitrary or mutated input, which must then fail integrity or fingerprint.

use std::net::{IpAddr, SocketAddr};

use proptest::prelude::*;
use zvon_base::Rng;
use zvon_stun::{
    AddressFamily, AttrType, AttrTypeList, Attribute, ChannelData, ChannelNumber, Class, Encoder,
    ErrorCode, Icmp, IntegrityKey, Message, MessageType, Method, PasswordAlgorithm,
    PasswordAlgorithms, StreamFrame, TransactionId, stream_frame_len,
};

/// An owned attribute, so that proptest can generate it; [`Spec::attr`] borrows it back.
#[derive(Debug, Clone)]
enum Spec {
    Mapped(SocketAddr),
    XorMapped(SocketAddr),
    Username(String),
    Userhash([u8; 32]),
    ErrorCode(u16, String),
    Realm(String),
    Nonce(Vec<u8>),
    PasswordAlgorithms(Vec<u8>),
    PasswordAlgorithm(u16, Vec<u8>),
    UnknownAttributes(Vec<u8>),
    Software(String),
    AlternateServer(SocketAddr),
    AlternateDomain(String),
    Priority(u32),
    UseCandidate,
    IceControlled(u64),
    IceControlling(u64),
    ChannelNumber(u16),
    Lifetime(u32),
    XorPeer(SocketAddr),
    Data(Vec<u8>),
    XorRelayed(SocketAddr),
    RequestedFamily(u8),
    EvenPort(bool),
    RequestedTransport(u8),
    DontFragment,
    ReservationToken([u8; 8]),
    AdditionalFamily(u8),
    AddressError(u8, u16, String),
    Icmp(u8, u16, u32),
    ConnectionId(u32),
    Unknown(u16, Vec<u8>),
}

impl Spec {
    fn attr(&self) -> Attribute<'_> {
        match self {
            Spec::Mapped(a) => Attribute::MappedAddress(*a),
            Spec::XorMapped(a) => Attribute::XorMappedAddress(*a),
            Spec::Username(s) => Attribute::Username(s),
            Spec::Userhash(h) => Attribute::Userhash(h),
            Spec::ErrorCode(code, reason) => Attribute::ErrorCode(ErrorCode {
                code: *code,
                reason,
            }),
            Spec::Realm(s) => Attribute::Realm(s),
            Spec::Nonce(b) => Attribute::Nonce(b),
            Spec::PasswordAlgorithms(raw) => {
                Attribute::PasswordAlgorithms(PasswordAlgorithms::parse(raw).unwrap())
            }
            Spec::PasswordAlgorithm(algorithm, params) => {
                Attribute::PasswordAlgorithm(PasswordAlgorithm {
                    algorithm: *algorithm,
                    params,
                })
            }
            Spec::UnknownAttributes(raw) => {
                Attribute::UnknownAttributes(AttrTypeList::parse(raw).unwrap())
            }
            Spec::Software(s) => Attribute::Software(s),
            Spec::AlternateServer(a) => Attribute::AlternateServer(*a),
            Spec::AlternateDomain(s) => Attribute::AlternateDomain(s),
            Spec::Priority(p) => Attribute::Priority(*p),
            Spec::UseCandidate => Attribute::UseCandidate,
            Spec::IceControlled(t) => Attribute::IceControlled(*t),
            Spec::IceControlling(t) => Attribute::IceControlling(*t),
            Spec::ChannelNumber(n) => Attribute::ChannelNumber(*n),
            Spec::Lifetime(l) => Attribute::Lifetime(*l),
            Spec::XorPeer(a) => Attribute::XorPeerAddress(*a),
            Spec::Data(d) => Attribute::Data(d),
            Spec::XorRelayed(a) => Attribute::XorRelayedAddress(*a),
            Spec::RequestedFamily(f) => Attribute::RequestedAddressFamily(AddressFamily(*f)),
            Spec::EvenPort(r) => Attribute::EvenPort(*r),
            Spec::RequestedTransport(p) => Attribute::RequestedTransport(*p),
            Spec::DontFragment => Attribute::DontFragment,
            Spec::ReservationToken(t) => Attribute::ReservationToken(*t),
            Spec::AdditionalFamily(f) => Attribute::AdditionalAddressFamily(AddressFamily(*f)),
            Spec::AddressError(f, code, reason) => Attribute::AddressErrorCode(
                AddressFamily(*f),
                ErrorCode {
                    code: *code,
                    reason,
                },
            ),
            Spec::Icmp(t, code, data) => Attribute::Icmp(Icmp {
                icmp_type: *t,
                code: *code,
                error_data: *data,
            }),
            Spec::ConnectionId(c) => Attribute::ConnectionId(*c),
            Spec::Unknown(typ, value) => Attribute::Unknown {
                typ: AttrType(*typ),
                value,
            },
        }
    }
}

fn addr() -> impl Strategy<Value = SocketAddr> {
    (any::<IpAddr>(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::new(ip, port))
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,40}"
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn password_algorithms() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec((any::<u16>(), bytes(9)), 0..4).prop_map(|list| {
        let mut raw = Vec::new();
        for (alg, params) in list {
            raw.extend_from_slice(&alg.to_be_bytes());
            raw.extend_from_slice(&(params.len() as u16).to_be_bytes());
            raw.extend_from_slice(&params);
            raw.resize(raw.len().next_multiple_of(4), 0);
        }
        raw
    })
}

fn spec() -> impl Strategy<Value = Spec> {
    prop_oneof![
        addr().prop_map(Spec::Mapped),
        addr().prop_map(Spec::XorMapped),
        text().prop_map(Spec::Username),
        any::<[u8; 32]>().prop_map(Spec::Userhash),
        (300u16..700, text()).prop_map(|(c, r)| Spec::ErrorCode(c, r)),
        text().prop_map(Spec::Realm),
        bytes(64).prop_map(Spec::Nonce),
        password_algorithms().prop_map(Spec::PasswordAlgorithms),
        (any::<u16>(), bytes(9)).prop_map(|(a, p)| Spec::PasswordAlgorithm(a, p)),
        proptest::collection::vec(any::<u16>(), 0..6).prop_map(|t| Spec::UnknownAttributes(
            t.iter().flat_map(|t| t.to_be_bytes()).collect()
        )),
        text().prop_map(Spec::Software),
        addr().prop_map(Spec::AlternateServer),
        text().prop_map(Spec::AlternateDomain),
        any::<u32>().prop_map(Spec::Priority),
        Just(Spec::UseCandidate),
        any::<u64>().prop_map(Spec::IceControlled),
        any::<u64>().prop_map(Spec::IceControlling),
        any::<u16>().prop_map(Spec::ChannelNumber),
        any::<u32>().prop_map(Spec::Lifetime),
        addr().prop_map(Spec::XorPeer),
        bytes(200).prop_map(Spec::Data),
        addr().prop_map(Spec::XorRelayed),
        any::<u8>().prop_map(Spec::RequestedFamily),
        any::<bool>().prop_map(Spec::EvenPort),
        any::<u8>().prop_map(Spec::RequestedTransport),
        Just(Spec::DontFragment),
        any::<[u8; 8]>().prop_map(Spec::ReservationToken),
        any::<u8>().prop_map(Spec::AdditionalFamily),
        (any::<u8>(), 300u16..700, text()).prop_map(|(f, c, r)| Spec::AddressError(f, c, r)),
        (0u8..128, 0u16..512, any::<u32>()).prop_map(|(t, c, d)| Spec::Icmp(t, c, d)),
        any::<u32>().prop_map(Spec::ConnectionId),
        (any::<u16>(), bytes(40))
            .prop_filter("a type this crate decodes", |(t, _)| !AttrType(*t)
                .is_known())
            .prop_map(|(t, v)| Spec::Unknown(t, v)),
    ]
}

/// How the message is finished.
#[derive(Debug, Clone, Copy)]
enum Finish {
    Plain,
    Fingerprint,
    Sha1,
    Sha256,
    Both,
}

fn finish() -> impl Strategy<Value = Finish> {
    prop_oneof![
        Just(Finish::Plain),
        Just(Finish::Fingerprint),
        Just(Finish::Sha1),
        Just(Finish::Sha256),
        Just(Finish::Both),
    ]
}

fn message_type() -> impl Strategy<Value = MessageType> {
    (0u16..0x1000, 0u8..4).prop_map(|(m, c)| {
        let class = [
            Class::Request,
            Class::Indication,
            Class::Success,
            Class::Error,
        ][usize::from(c)];
        MessageType::new(Method::new(m).unwrap(), class)
    })
}

fn encode(
    typ: MessageType,
    tid: TransactionId,
    specs: &[Spec],
    fin: Finish,
    key: &IntegrityKey,
) -> Vec<u8> {
    let mut buf = vec![0xEE; 3]; // the encoder appends after whatever is there
    let mut enc = Encoder::new(&mut buf, typ, tid);
    for s in specs {
        enc.add(&s.attr());
    }
    let len = match fin {
        Finish::Plain => enc.finish(),
        Finish::Fingerprint => enc.finish_with_fingerprint(),
        Finish::Sha1 => enc.finish_with_integrity(key),
        Finish::Sha256 => enc.message_integrity_sha256(key).finish(),
        Finish::Both => enc
            .message_integrity(key)
            .message_integrity_sha256(key)
            .finish_with_fingerprint(),
    };
    assert_eq!(len + 3, buf.len());
    buf.split_off(3)
}

/// Everything a receiver might do with a message; must never panic.
fn exercise(bytes: &[u8], key: &IntegrityKey) -> Option<bool> {
    let msg = Message::parse(bytes).ok()?;
    for a in msg.attributes() {
        let _ = a.typ();
    }
    let _ = format!("{msg:?}");
    let _ = msg.username();
    if let Err(u) = msg.check_comprehension() {
        assert!(u.types().count() > 0);
    }
    let fp = msg.verify_fingerprint().is_ok();
    let mi = msg.verify_integrity(key).map(|v| v.ice()).is_ok();
    Some(fp && mi)
}

proptest! {
    #[test]
    fn encode_decode_round_trip(
        typ in message_type(),
        tid in any::<[u8; 12]>(),
        specs in proptest::collection::vec(spec(), 0..12),
        fin in finish(),
        password in "[A-Za-z0-9+/]{22,32}",
    ) {
        let tid = TransactionId::new(tid);
        let key = IntegrityKey::short_term(&password);
        let bytes = encode(typ, tid, &specs, fin, &key);
        prop_assert_eq!(bytes.len() % 4, 0);
        let msg = Message::parse(&bytes).unwrap();
        prop_assert_eq!(msg.message_type(), typ);
        prop_assert_eq!(msg.transaction_id(), tid);
        let decoded: Vec<_> = msg
            .attributes()
            .filter(|a| !matches!(a, Attribute::MessageIntegrity(_) | Attribute::MessageIntegritySha256(_) | Attribute::Fingerprint(_)))
            .collect();
        let expected: Vec<_> = specs.iter().map(Spec::attr).collect();
        prop_assert_eq!(decoded, expected);
        let unknown_required = specs.iter().any(|s| matches!(s, Spec::Unknown(t, _) if *t < 0x8000));
        prop_assert_eq!(msg.check_comprehension().is_err(), unknown_required);
        match fin {
            Finish::Plain => {
                prop_assert!(msg.verify_fingerprint().is_err());
                prop_assert!(msg.verify_integrity(&key).is_err());
            }
            Finish::Fingerprint => {
                prop_assert!(msg.verify_fingerprint().is_ok());
                prop_assert!(msg.verify_integrity(&key).is_err());
            }
            _ => {
                let v = msg.verify_integrity(&key).unwrap();
                let other = IntegrityKey::short_term(&format!("{password}x"));
                prop_assert!(msg.verify_integrity(&other).is_err());
                let first = specs.iter().find_map(|s| match s {
                    Spec::IceControlling(t) => Some(zvon_stun::IceRole::Controlling(*t)),
                    Spec::IceControlled(t) => Some(zvon_stun::IceRole::Controlled(*t)),
                    _ => None,
                });
                prop_assert_eq!(v.ice_role(), first);
                prop_assert_eq!(v.use_candidate(), specs.iter().any(|s| matches!(s, Spec::UseCandidate)));
            }
        }
        if matches!(fin, Finish::Both) {
            prop_assert!(msg.verify_fingerprint().is_ok());
            prop_assert!(msg.verify_integrity_with(&key, zvon_stun::IntegrityAlgorithm::Sha1).is_ok());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in bytes(300)) {
        let key = IntegrityKey::short_term("pass");
        let _ = exercise(&data, &key);
        let _ = ChannelData::parse(&data);
        let _ = stream_frame_len(&data);
        let _ = zvon_stun::is_stun(&data);
    }

    /// A plausible header over arbitrary attribute bytes reaches the attribute walk, which
    /// arbitrary bytes alone rarely do.
    #[test]
    fn arbitrary_attributes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200), tid in any::<[u8; 12]>()) {
        let mut data = vec![0x00, 0x01];
        data.extend_from_slice(&(body.len() as u16).to_be_bytes());
        data.extend_from_slice(&0x2112_A442u32.to_be_bytes());
        data.extend_from_slice(&tid);
        data.extend_from_slice(&body);
        let _ = exercise(&data, &IntegrityKey::short_term("pass"));
    }

    #[test]
    fn flipped_bits_never_verify(
        specs in proptest::collection::vec(spec(), 0..8),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..4),
        seed in any::<u64>(),
    ) {
        let key = IntegrityKey::short_term("VOkJxbRl1RmTxUk/WvJxBt");
        let tid = TransactionId::random(&mut Rng::from_seed_u64(seed));
        let good = encode(MessageType::request(Method::BINDING), tid, &specs, Finish::Sha1, &key);
        prop_assert_eq!(exercise(&good, &key), Some(true));
        let mut bad = good.clone();
        for (i, bit) in &flips {
            let at = i.index(bad.len());
            bad[at] ^= 1 << bit;
        }
        prop_assume!(bad != good); // two flips of one bit cancel
        prop_assert_ne!(exercise(&bad, &key), Some(true));
    }

    #[test]
    fn lying_lengths_never_verify(
        specs in proptest::collection::vec(spec(), 1..8),
        which in any::<prop::sample::Index>(),
        lie in any::<u16>(),
        seed in any::<u64>(),
    ) {
        let key = IntegrityKey::short_term("VOkJxbRl1RmTxUk/WvJxBt");
        let tid = TransactionId::random(&mut Rng::from_seed_u64(seed));
        let good = encode(MessageType::request(Method::BINDING), tid, &specs, Finish::Sha1, &key);
        // Offsets of every length field: the header's, then each attribute's.
        let mut fields = vec![2];
        let mut pos = 20;
        while pos < good.len() {
            fields.push(pos + 2);
            let len = usize::from(u16::from_be_bytes([good[pos + 2], good[pos + 3]]));
            pos += 4 + len.next_multiple_of(4);
        }
        let at = fields[which.index(fields.len())];
        let mut bad = good.clone();
        bad[at..at + 2].copy_from_slice(&lie.to_be_bytes());
        prop_assume!(bad != good);
        prop_assert_ne!(exercise(&bad, &key), Some(true));
        // Cutting the message anywhere is never accepted either.
        let cut = which.index(good.len());
        prop_assert!(Message::parse(&good[..cut]).is_err());
    }

    #[test]
    fn channel_data_round_trip(n in 0x4000u16..=0x4FFF, data in bytes(300), pad in any::<bool>()) {
        let ch = ChannelNumber::new(n).unwrap();
        let mut buf = Vec::new();
        let len = ChannelData::encode(ch, &data, pad, &mut buf);
        prop_assert_eq!(len, buf.len());
        let cd = ChannelData::parse(&buf).unwrap();
        prop_assert_eq!(cd.channel(), ch);
        prop_assert_eq!(cd.data(), &data[..]);
        if pad {
            prop_assert_eq!(stream_frame_len(&buf), StreamFrame::ChannelData(buf.len()));
        }
        prop_assert!(ChannelData::parse(&buf[..3.min(buf.len())]).is_err());
    }
}
