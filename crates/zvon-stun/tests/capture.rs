//! Real browser traffic: every STUN message in two loopback captures of Chromium 156 talking to
//! str0m 0.25 (copied from shared/captures with the SDPs of each session). Each message must
//! parse, pass FINGERPRINT and MESSAGE-INTEGRITY with the ICE password the SDPs give, and the
//! ICE attributes and XOR-MAPPED-ADDRESS must say what the UDP headers say. Re-encoding each
//! message from its decoded attributes must give back the captured bytes.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use pcap_parser::{Block, PcapNGCapture};
use zvon_stun::{Attribute, Class, Encoder, IceRole, IntegrityKey, Message, Method, TransactionId};

/// UDP datagrams (source, destination, payload) of an Ethernet pcapng file.
fn udp_datagrams(pcapng: &[u8]) -> Vec<(SocketAddr, SocketAddr, Vec<u8>)> {
    let cap = PcapNGCapture::from_file(pcapng).expect("pcapng parses");
    let mut out = Vec::new();
    for section in &cap.sections {
        for block in &section.blocks {
            let Block::EnhancedPacket(epb) = block else {
                continue;
            };
            let frame = &epb.data[..epb.caplen as usize];
            let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
            let ip = &frame[14..];
            let (src, dst, l4) = match ethertype {
                0x0800 if ip[9] == 17 => {
                    let ihl = usize::from(ip[0] & 0x0f) * 4;
                    let s = IpAddr::V4(Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]));
                    let d = IpAddr::V4(Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]));
                    (s, d, &ip[ihl..])
                }
                0x86dd if ip[6] == 17 => {
                    let s: [u8; 16] = ip[8..24].try_into().unwrap();
                    let d: [u8; 16] = ip[24..40].try_into().unwrap();
                    (
                        IpAddr::V6(Ipv6Addr::from(s)),
                        IpAddr::V6(Ipv6Addr::from(d)),
                        &ip[40..],
                    )
                }
                _ => continue,
            };
            let sport = u16::from_be_bytes([l4[0], l4[1]]);
            let dport = u16::from_be_bytes([l4[2], l4[3]]);
            let len = usize::from(u16::from_be_bytes([l4[4], l4[5]]));
            out.push((
                SocketAddr::new(src, sport),
                SocketAddr::new(dst, dport),
                l4[8..len].to_vec(),
            ));
        }
    }
    out
}

/// `ufrag -> password` from the `a=ice-ufrag`/`a=ice-pwd` lines of the SDPs.
fn credentials(sdps: &[&str]) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for sdp in sdps {
        let find = |key: &str| {
            sdp.lines()
                .find_map(|l| l.trim().strip_prefix(key))
                .expect(key)
                .to_owned()
        };
        map.insert(find("a=ice-ufrag:"), find("a=ice-pwd:"));
    }
    map
}

struct Session {
    pcapng: &'static [u8],
    offer: &'static str,
    answer: &'static str,
}

const SESSIONS: [Session; 2] = [
    Session {
        pcapng: include_bytes!("data/chromium156-dtls12.pcapng"),
        offer: include_str!("data/dtls12-offer-chromium.sdp"),
        answer: include_str!("data/dtls12-answer-str0m.sdp"),
    },
    Session {
        pcapng: include_bytes!("data/chromium156-dtls13.pcapng"),
        offer: include_str!("data/dtls13-offer-chromium.sdp"),
        answer: include_str!("data/dtls13-answer-str0m.sdp"),
    },
];

/// Re-encodes `msg` from its decoded attributes (integrity and fingerprint recomputed).
fn reencode(msg: &Message<'_>, key: &IntegrityKey) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut enc = Encoder::new(&mut buf, msg.message_type(), msg.transaction_id());
    for a in msg.attributes() {
        if !matches!(
            a,
            Attribute::MessageIntegrity(_) | Attribute::Fingerprint(_)
        ) {
            enc.add(&a);
        }
    }
    let _ = enc.finish_with_integrity(key);
    buf
}

#[test]
fn every_stun_message_in_the_chromium_captures_verifies() {
    let mut verified = 0;
    let mut requests = 0;
    for s in &SESSIONS {
        let creds = credentials(&[s.offer, s.answer]);
        let offer_ufrag = s
            .offer
            .lines()
            .find_map(|l| l.strip_prefix("a=ice-ufrag:"))
            .unwrap();
        // A request's key is the password of the agent it is sent to, whose ufrag starts
        // USERNAME; a response uses the key of its request.
        let mut pending: HashMap<TransactionId, (IntegrityKey, SocketAddr)> = HashMap::new();
        for (src, dst, payload) in udp_datagrams(s.pcapng) {
            if payload.first().is_none_or(|b| *b > 3) {
                continue; // DTLS
            }
            let msg = Message::parse(&payload).expect("captured STUN parses");
            assert_eq!(msg.method(), Method::BINDING);
            msg.verify_fingerprint().expect("fingerprint");
            msg.check_comprehension()
                .expect("Chromium sends nothing unknown and required");
            let key = match msg.class() {
                Class::Request => {
                    let username = msg.username().expect("checks carry USERNAME");
                    let (to, _from) = username.split_once(':').unwrap();
                    let key = IntegrityKey::short_term(&creds[to]);
                    let check = msg.verify_integrity(&key).expect("request integrity").ice();
                    assert!(check.priority.is_some());
                    // The offerer (Chromium) is controlling and nominates.
                    let from_chromium = to != offer_ufrag;
                    match check.role {
                        Some(IceRole::Controlling(_)) => assert!(from_chromium),
                        Some(IceRole::Controlled(_)) => assert!(!from_chromium),
                        None => panic!("no role"),
                    }
                    assert_eq!(check.use_candidate, from_chromium);
                    requests += 1;
                    pending.insert(msg.transaction_id(), (key.clone(), src));
                    key
                }
                Class::Success => {
                    let (key, requester) = pending
                        .remove(&msg.transaction_id())
                        .expect("response to a request");
                    assert_eq!(
                        msg.verify_integrity(&key).unwrap().xor_mapped_address(),
                        Some(requester)
                    );
                    assert_eq!(dst, requester);
                    key
                }
                c => panic!("unexpected {c:?}"),
            };
            assert_eq!(reencode(&msg, &key), payload, "re-encoding {msg:?}");
            verified += 1;
        }
        assert!(pending.is_empty(), "every request was answered");
    }
    // Two binding requests and their two responses in each session.
    assert_eq!((verified, requests), (8, 4));
}

#[test]
fn a_wrong_password_fails_every_captured_message() {
    let mut failed = 0;
    for s in &SESSIONS {
        for (_, _, payload) in udp_datagrams(s.pcapng) {
            let Ok(msg) = Message::parse(&payload) else {
                continue;
            };
            assert!(
                msg.verify_integrity(&IntegrityKey::short_term("LTuEpkGsUSHhXBsM5ksziX"))
                    .is_err()
            );
            failed += 1;
        }
    }
    assert_eq!(failed, 8);
}
