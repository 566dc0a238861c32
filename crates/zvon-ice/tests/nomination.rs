//! Nomination as the controlled agent, driven by hand-built STUN: an older peer's aggressive
//! nomination (USE-CANDIDATE on its very first check, before our own check of the pair has
//! succeeded) is accepted, and the pair is selected once our triggered check succeeds.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use zvon_base::{Protocol, Rng};
use zvon_ice::{IceAgent, IceConfig, IceConnectionState, IceEvent, IceRole, Received};
use zvon_stun::{
    Attribute, Class, Encoder, IntegrityKey, Message, MessageType, Method, TransactionId,
};

const PEER_UFRAG: &str = "peer";
const PEER_PWD: &str = "peer-password-0123456789";

fn check(buf: &mut Vec<u8>, ours: &IceAgent, tid: u8, use_candidate: bool) {
    let pwd = ours.local_credentials().pwd.clone();
    check_with(buf, ours, tid, use_candidate, &pwd);
}

fn check_with(buf: &mut Vec<u8>, ours: &IceAgent, tid: u8, use_candidate: bool, pwd: &str) {
    buf.clear();
    let user = format!("{}:{PEER_UFRAG}", ours.local_credentials().ufrag);
    let mut e = Encoder::new(
        buf,
        MessageType::request(Method::BINDING),
        TransactionId::new([tid; 12]),
    );
    e.add(&Attribute::Username(&user))
        .add(&Attribute::Priority(1_845_501_695))
        .add(&Attribute::IceControlling(42));
    if use_candidate {
        e.add(&Attribute::UseCandidate);
    }
    e.finish_with_integrity(&IntegrityKey::short_term(pwd));
}

#[test]
fn aggressive_nomination_on_the_first_check_is_accepted() {
    #[allow(clippy::disallowed_methods)] // an arbitrary origin for virtual time
    let t0 = Instant::now();
    let local: SocketAddr = "192.0.2.1:5000".parse().unwrap();
    let peer: SocketAddr = "198.51.100.9:7000".parse().unwrap();
    let mut a = IceAgent::new(
        IceConfig::default(),
        IceRole::Controlled,
        Rng::from_seed_u64(5),
    );
    a.add_host_candidate(local, 0);
    a.gather(t0);
    a.set_remote_credentials(t0, PEER_UFRAG, PEER_PWD).unwrap();
    let (mut pkt, mut out) = (Vec::new(), Vec::new());
    // The peer's first check already nominates; it comes from an address never signaled.
    check(&mut pkt, &a, 1, true);
    assert_eq!(
        a.handle_datagram(t0, Protocol::Udp, peer, local, &pkt),
        Received::Ice
    );
    // Answer first, then our triggered check to the peer-reflexive address.
    let mut triggered = None;
    while let Some(t) = a.poll_transmit(t0, &mut out) {
        let m = Message::parse(&out[..t.len]).unwrap();
        if m.class() == Class::Request {
            m.verify_integrity(&IntegrityKey::short_term(PEER_PWD))
                .unwrap();
            assert_eq!(t.destination, peer);
            triggered = Some(m.transaction_id());
        }
    }
    let tid = triggered.expect("a triggered check");
    assert!(
        a.selected_pair().is_none(),
        "nothing is selected before our check succeeds"
    );
    // The peer answers our check.
    let t1 = t0 + Duration::from_millis(30);
    let mut resp = Vec::new();
    let mut e = Encoder::new(&mut resp, MessageType::success(Method::BINDING), tid);
    e.add(&Attribute::XorMappedAddress(local));
    e.finish_with_integrity(&IntegrityKey::short_term(PEER_PWD));
    assert_eq!(
        a.handle_datagram(t1, Protocol::Udp, peer, local, &resp),
        Received::Ice
    );
    let (l, r) = a.selected_pair().expect("nominated pair selected");
    assert_eq!((l.addr, r.addr), (local, peer));
    let mut saw = (false, false);
    while let Some(ev) = a.poll_event() {
        match ev {
            IceEvent::SelectedPairChanged { .. } => saw.0 = true,
            IceEvent::ConnectionStateChanged(IceConnectionState::Connected) => saw.1 = true,
            _ => {}
        }
    }
    assert_eq!(saw, (true, true));
    // Later checks keep carrying USE-CANDIDATE (aggressive); the selection stays.
    check(&mut pkt, &a, 2, true);
    assert_eq!(
        a.handle_datagram(t1, Protocol::Udp, peer, local, &pkt),
        Received::Ice
    );
    assert_eq!(
        a.selected_pair().map(|(l, r)| (l.addr, r.addr)),
        Some((local, peer))
    );
}

#[test]
fn unauthenticated_or_foreign_checks_change_nothing() {
    #[allow(clippy::disallowed_methods)] // an arbitrary origin for virtual time
    let t0 = Instant::now();
    let local: SocketAddr = "192.0.2.1:5000".parse().unwrap();
    let peer: SocketAddr = "198.51.100.9:7000".parse().unwrap();
    let mut a = IceAgent::new(
        IceConfig::default(),
        IceRole::Controlled,
        Rng::from_seed_u64(6),
    );
    a.add_host_candidate(local, 0);
    a.gather(t0);
    a.set_remote_credentials(t0, PEER_UFRAG, PEER_PWD).unwrap();
    let mut pkt = Vec::new();
    // A bit flipped anywhere breaks the FINGERPRINT: not STUN at all, dropped silently.
    check(&mut pkt, &a, 1, true);
    let n = pkt.len();
    pkt[n - 10] ^= 1;
    assert_eq!(
        a.handle_datagram(t0, Protocol::Udp, peer, local, &pkt),
        Received::Dropped
    );
    let mut out = Vec::new();
    assert!(a.poll_transmit(t0, &mut out).is_none());
    // Signed with the wrong password (valid FINGERPRINT): answered 401, no pair, no role change.
    check_with(&mut pkt, &a, 2, true, "not-the-password-0123456");
    assert_eq!(
        a.handle_datagram(t0, Protocol::Udp, peer, local, &pkt),
        Received::Ice
    );
    let t = a.poll_transmit(t0, &mut out).expect("an error response");
    let m = Message::parse(&out[..t.len]).unwrap();
    assert_eq!(m.class(), Class::Error);
    assert_eq!(m.error_code().map(|e| e.code), Some(401));
    assert!(
        a.poll_transmit(t0, &mut out).is_none(),
        "no triggered check for a forged request"
    );
    assert_eq!(a.role(), IceRole::Controlled);
    assert_eq!(a.state(), IceConnectionState::New);
}
