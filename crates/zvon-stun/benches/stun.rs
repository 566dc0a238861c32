//! The STUN hot paths: what an ICE agent does for every connectivity check and consent
//! request (parse, fingerprint, integrity, read the ICE attributes) and for every response it
//! sends (encode with integrity and fingerprint), plus the TURN per-packet framings.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use zvon_stun::{
    Attribute, ChannelData, ChannelNumber, Class, Encoder, IntegrityKey, Message, MessageType,
    Method, TransactionId,
};

const PASSWORD: &str = "fbkplNEQzXBdF/EAkJ7+wo8p";

/// A binding request shaped like Chromium's: USERNAME, GOOG-NETWORK-INFO, ICE-CONTROLLING,
/// USE-CANDIDATE, PRIORITY, MESSAGE-INTEGRITY, FINGERPRINT.
fn ice_request(key: &IntegrityKey, buf: &mut Vec<u8>) -> usize {
    let tid = TransactionId::new([7; 12]);
    let mut enc = Encoder::new(buf, MessageType::request(Method::BINDING), tid);
    enc.add(&Attribute::Username("rNYx7eJTOpyQcRhm:om4k"))
        .add_raw(zvon_stun::AttrType::GOOG_NETWORK_INFO, &[0, 1, 0, 0x0a])
        .add(&Attribute::IceControlling(0x1234_5678_9abc_def0))
        .add(&Attribute::UseCandidate)
        .add(&Attribute::Priority(0x6e7f_1eff));
    enc.finish_with_integrity(key)
}

fn benches(c: &mut Criterion) {
    let key = IntegrityKey::short_term(PASSWORD);
    let mut req = Vec::new();
    ice_request(&key, &mut req);

    c.bench_function("decode+verify ICE binding request", |b| {
        b.iter(|| {
            let msg = Message::parse(black_box(&req)).unwrap();
            msg.verify_fingerprint().unwrap();
            let _user = black_box(msg.username());
            let v = msg.verify_integrity(&key).unwrap();
            black_box(v.ice())
        })
    });

    let mut out = Vec::with_capacity(1500);
    c.bench_function("encode ICE binding request +MI +FP", |b| {
        b.iter(|| {
            out.clear();
            black_box(ice_request(&key, &mut out))
        })
    });

    c.bench_function("encode binding success +XOR-MAPPED +MI +FP", |b| {
        let tid = TransactionId::new([9; 12]);
        let addr = "192.0.2.1:32853".parse().unwrap();
        b.iter(|| {
            out.clear();
            let mut enc = Encoder::new(
                &mut out,
                MessageType::new(Method::BINDING, Class::Success),
                tid,
            );
            enc.add(&Attribute::XorMappedAddress(black_box(addr)));
            black_box(enc.finish_with_integrity(&key))
        })
    });

    let payload = vec![0xab; 1200];
    let ch = ChannelNumber::new(0x4000).unwrap();
    c.bench_function("ChannelData encode+parse 1200 B", |b| {
        b.iter(|| {
            out.clear();
            ChannelData::encode(ch, black_box(&payload), false, &mut out);
            black_box(ChannelData::parse(&out).unwrap().data().len())
        })
    });

    let mut ind = Vec::new();
    let mut enc = Encoder::new(
        &mut ind,
        MessageType::indication(Method::DATA),
        TransactionId::new([3; 12]),
    );
    enc.add(&Attribute::XorPeerAddress(
        "203.0.113.5:40000".parse().unwrap(),
    ))
    .add(&Attribute::Data(&payload));
    let _ = enc.finish();
    c.bench_function("parse Data indication 1200 B", |b| {
        b.iter(|| {
            let m = Message::parse(black_box(&ind)).unwrap();
            black_box((m.xor_peer_address(), m.data().map(<[u8]>::len)))
        })
    });
}

criterion_group!(stun, benches);
criterion_main!(stun);
