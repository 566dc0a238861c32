//! Chromium 156's real connectivity checks (a loopback capture against str0m, with both
//! SDPs) replayed into a zvon agent that stands where str0m stood: every check is accepted,
//! answered with a response Chromium would accept (integrity with the answerer's password,
//! XOR-MAPPED-ADDRESS = Chromium's address), and zvon sends its own triggered check back in
//! the form Chromium expects. (Each capture holds one check from Chromium: the session
//! connected on the first.)

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use pcap_parser::{Block, PcapNGCapture};
use zvon_base::{Protocol, Rng};
use zvon_ice::{Credentials, IceAgent, IceConfig, IceRole, Received};
use zvon_stun::{Class, IceRole as WireRole, IntegrityKey, Message, Method};

fn udp_v4(pcapng: &[u8]) -> Vec<(SocketAddr, SocketAddr, Vec<u8>)> {
    let cap = PcapNGCapture::from_file(pcapng).expect("pcapng parses");
    let mut out = Vec::new();
    for section in &cap.sections {
        for block in &section.blocks {
            let Block::EnhancedPacket(epb) = block else {
                continue;
            };
            let frame = &epb.data[..epb.caplen as usize];
            let ip = &frame[14..];
            if u16::from_be_bytes([frame[12], frame[13]]) != 0x0800 || ip[9] != 17 {
                continue;
            }
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let s = IpAddr::V4(Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]));
            let d = IpAddr::V4(Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]));
            let l4 = &ip[ihl..];
            let len = usize::from(u16::from_be_bytes([l4[4], l4[5]]));
            let sp = u16::from_be_bytes([l4[0], l4[1]]);
            let dp = u16::from_be_bytes([l4[2], l4[3]]);
            out.push((
                SocketAddr::new(s, sp),
                SocketAddr::new(d, dp),
                l4[8..len].to_vec(),
            ));
        }
    }
    out
}

fn sdp_creds(sdp: &str) -> Credentials {
    let find = |k: &str| {
        sdp.lines()
            .find_map(|l| l.trim().strip_prefix(k))
            .expect(k)
            .to_owned()
    };
    Credentials {
        ufrag: find("a=ice-ufrag:"),
        pwd: find("a=ice-pwd:"),
    }
}

#[test]
fn chromium_checks_are_answered_and_reciprocated() {
    replay(
        include_str!("data/dtls12-offer-chromium.sdp"),
        include_str!("data/dtls12-answer-str0m.sdp"),
        include_bytes!("data/chromium156-dtls12.pcapng"),
    );
    replay(
        include_str!("data/dtls13-offer-chromium.sdp"),
        include_str!("data/dtls13-answer-str0m.sdp"),
        include_bytes!("data/chromium156-dtls13.pcapng"),
    );
}

fn replay(offer: &str, answer: &str, pcapng: &[u8]) {
    let chromium = sdp_creds(offer);
    let answerer = sdp_creds(answer);
    let packets = udp_v4(pcapng);
    // Chromium's checks: Binding requests whose USERNAME starts with the answerer's ufrag.
    let checks: Vec<_> = packets
        .iter()
        .filter(|(_, _, d)| {
            Message::parse(d).is_ok_and(|m| {
                m.class() == Class::Request
                    && m.method() == Method::BINDING
                    && m.username().is_some_and(|u| u.starts_with(&answerer.ufrag))
            })
        })
        .collect();
    assert!(!checks.is_empty(), "the capture holds Chromium's check");
    let (chrome_addr, our_addr) = (checks[0].0, checks[0].1);

    #[allow(clippy::disallowed_methods)] // an arbitrary origin for virtual time
    let now = Instant::now();
    let mut agent = IceAgent::new(
        IceConfig::default(),
        IceRole::Controlled,
        Rng::from_seed_u64(1),
    );
    agent.set_local_credentials(answerer.clone());
    agent.add_host_candidate(our_addr, 0);
    agent.gather(now);
    agent
        .set_remote_credentials(now, &chromium.ufrag, &chromium.pwd)
        .unwrap();
    let mut buf = Vec::new();
    let mut our_checks = 0;
    for (src, dst, data) in &checks {
        let req = Message::parse(data).unwrap();
        // Chromium's GOOG-NETWORK-INFO and the rest verify with the password of the SDP.
        req.verify_integrity(&IntegrityKey::short_term(&answerer.pwd))
            .unwrap();
        assert_eq!(
            agent.handle_datagram(now, Protocol::Udp, *src, *dst, data),
            Received::Ice
        );
        let mut answered = false;
        while let Some(t) = agent.poll_transmit(now, &mut buf) {
            let msg = Message::parse(&buf[..t.len]).unwrap();
            msg.verify_fingerprint().unwrap();
            assert_eq!((t.source, t.destination), (our_addr, chrome_addr));
            match msg.class() {
                Class::Success => {
                    assert_eq!(msg.transaction_id(), req.transaction_id());
                    msg.verify_integrity(&IntegrityKey::short_term(&answerer.pwd))
                        .expect("signed with our pwd");
                    assert_eq!(msg.xor_mapped_address(), Some(chrome_addr));
                    answered = true;
                }
                Class::Request => {
                    // Our triggered check, as Chromium checks it: USERNAME "chromium:ours",
                    // its password, ICE-CONTROLLED, a peer-reflexive PRIORITY.
                    let v = msg
                        .verify_integrity(&IntegrityKey::short_term(&chromium.pwd))
                        .expect("signed with its pwd");
                    assert_eq!(
                        msg.username(),
                        Some(format!("{}:{}", chromium.ufrag, answerer.ufrag).as_str())
                    );
                    assert!(matches!(v.ice_role(), Some(WireRole::Controlled(_))));
                    assert_eq!(v.priority().map(|p| p >> 24), Some(110));
                    our_checks += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(answered, "every Chromium check is answered");
    }
    assert!(our_checks >= 1, "a triggered check goes back to Chromium");
}
