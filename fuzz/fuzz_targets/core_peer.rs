//! A connected zvon-core peer connection (ICE, DTLS, SCTP up, a channel open) fed arbitrary
//! datagrams from its peer's address and from strangers, arbitrary remote descriptions and
//! candidates, and time: it must never panic, and must keep answering `poll_*`.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use zvon_base::{Protocol, Rng};
use zvon_core::{CandidateInit, ChannelInit, Config, Description, MessageKind, PeerConnection};

#[derive(Debug, Arbitrary)]
enum Op {
    /// Bytes from the connected peer's address (as DTLS, SCTP-in-DTLS, STUN, RTP would come).
    FromPeer(Vec<u8>),
    /// Bytes from an address nobody signaled.
    FromStranger(Vec<u8>),
    /// A remote description (offer or answer) in arbitrary text, or the real one mutated.
    Remote { offer: bool, sdp: String },
    MutateRealOffer { at: u16, byte: u8 },
    Candidate(String),
    Send { len: u16, text: bool },
    Wait { ms: u16 },
    CreateOffer,
    Close,
}

struct Setup {
    a: PeerConnection,
    a_addr: SocketAddr,
    b_addr: SocketAddr,
    now: Instant,
    offer: String,
}

fn connected() -> Setup {
    let mut now = Instant::now();
    let (a_addr, b_addr): (SocketAddr, SocketAddr) =
        ("10.0.0.1:5000".parse().unwrap(), "10.0.0.2:5000".parse().unwrap());
    let mut a = PeerConnection::new(Config::default(), Rng::from_seed_u64(1), now).unwrap();
    let mut b = PeerConnection::new(Config::default(), Rng::from_seed_u64(2), now).unwrap();
    a.add_host_candidate(a_addr);
    b.add_host_candidate(b_addr);
    a.create_data_channel("x", ChannelInit::default()).unwrap();
    let offer = a.create_offer(now).unwrap();
    a.set_local_description(now, offer.clone()).unwrap();
    b.set_remote_description(now, offer.clone()).unwrap();
    let answer = b.create_answer(now).unwrap();
    b.set_local_description(now, answer.clone()).unwrap();
    a.set_remote_description(now, answer).unwrap();
    let mut buf = Vec::new();
    for _ in 0..2000 {
        while let Some(t) = a.poll_transmit(now, &mut buf) {
            b.handle_datagram(now, Protocol::Udp, a_addr, b_addr, &buf[..t.len]);
        }
        while let Some(t) = b.poll_transmit(now, &mut buf) {
            a.handle_datagram(now, Protocol::Udp, b_addr, a_addr, &buf[..t.len]);
        }
        while a.poll_event().is_some() {}
        while b.poll_event().is_some() {}
        let next = [a.poll_timeout(), b.poll_timeout()].into_iter().flatten().min();
        match next {
            Some(t) if t <= now + Duration::from_secs(3) => now = t.max(now),
            _ => break,
        }
        a.handle_timeout(now);
        b.handle_timeout(now);
        if a.stats().sctp.is_some() && a.connection_state() == zvon_core::ConnectionState::Connected
            && b.stats().channels.iter().any(|c| c.open)
        {
            break;
        }
    }
    Setup { a, a_addr, b_addr, now, offer: offer.sdp }
}

fuzz_target!(|ops: Vec<Op>| {
    let Setup { mut a, a_addr, b_addr, mut now, offer } = connected();
    let stranger: SocketAddr = "10.9.9.9:9".parse().unwrap();
    let mut buf = Vec::new();
    for op in ops.into_iter().take(64) {
        match op {
            Op::FromPeer(d) => a.handle_datagram(now, Protocol::Udp, b_addr, a_addr, &d),
            Op::FromStranger(d) => a.handle_datagram(now, Protocol::Udp, stranger, a_addr, &d),
            Op::Remote { offer, sdp } => {
                let d = if offer { Description::offer(sdp) } else { Description::answer(sdp) };
                let _ = a.set_remote_description(now, d);
            }
            Op::MutateRealOffer { at, byte } => {
                let mut bytes = offer.clone().into_bytes();
                if !bytes.is_empty() {
                    let i = at as usize % bytes.len();
                    bytes[i] = byte;
                }
                if let Ok(s) = String::from_utf8(bytes) {
                    let _ = a.set_remote_description(now, Description::offer(s));
                    let _ = a.create_answer(now);
                }
            }
            Op::Candidate(c) => {
                let _ = a.add_ice_candidate(now, &CandidateInit { candidate: c, ..Default::default() });
            }
            Op::Send { len, text } => {
                let kind = if text { MessageKind::Text } else { MessageKind::Binary };
                for id in a.stats().channels.iter().map(|c| c.id) {
                    let _ = a.send(id, &vec![b'x'; len as usize], kind);
                }
            }
            Op::Wait { ms } => {
                now += Duration::from_millis(ms as u64);
                a.handle_timeout(now);
            }
            Op::CreateOffer => {
                if let Ok(o) = a.create_offer(now) {
                    let _ = a.set_local_description(now, o);
                }
            }
            Op::Close => a.close(now),
        }
        let mut n = 0;
        while a.poll_transmit(now, &mut buf).is_some() {
            n += 1;
            assert!(n < 100_000, "poll_transmit never ends");
        }
        while a.poll_event().is_some() {}
        let _ = a.poll_timeout();
        let _ = a.stats();
    }
});
