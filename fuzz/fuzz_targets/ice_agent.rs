//! An ICE agent in the middle of its checks (with a TURN allocation under way) fed arbitrary
//! datagrams from arbitrary sources, properly signed checks with arbitrary attributes, and
//! timeouts: it must never panic or stop answering `poll_*`.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use zvon_base::{Protocol, Rng};
use zvon_ice::turn::TurnConfig;
use zvon_ice::{Candidate, CandidateKind, Foundation, IceAgent, IceConfig, IceRole};
use zvon_stun::{Attribute, Encoder, IntegrityKey, MessageType, Method, TransactionId};

const LOCAL: &str = "192.0.2.1:5000";
const REMOTE: &str = "198.51.100.2:6000";
const TURN: &str = "203.0.113.3:3478";
const REMOTE_UFRAG: &str = "rmtU";
const REMOTE_PWD: &str = "remote-password-0123456789";

#[derive(Debug, Arbitrary)]
enum Op {
    /// Raw bytes from one of a few sources to the host socket.
    Raw { from: u8, data: Vec<u8> },
    /// Raw bytes from the TURN server (responses, Data indications, ChannelData).
    FromTurn { data: Vec<u8> },
    /// A check signed with our password, with fuzzed ICE attributes.
    SignedCheck { from: u8, priority: u32, controlling: bool, tie: u64, use_candidate: bool, good_user: bool },
    /// Time passes.
    Wait { ms: u16 },
    /// A remote candidate arrives.
    Candidate { port: u16, priority: u32 },
    Restart,
}

fn source(i: u8) -> SocketAddr {
    match i % 4 {
        0 => REMOTE.parse().unwrap(),
        1 => "198.51.100.2:6001".parse().unwrap(),
        2 => "[2001:db8::9]:7000".parse().unwrap(),
        _ => TURN.parse().unwrap(),
    }
}

fuzz_target!(|ops: Vec<Op>| {
    #[allow(clippy::disallowed_methods)]
    let mut now = Instant::now();
    let local: SocketAddr = LOCAL.parse().unwrap();
    let mut a = IceAgent::new(IceConfig::default(), IceRole::Controlled, Rng::from_seed_u64(3));
    a.add_host_candidate(local, 0);
    a.add_turn_server(TurnConfig::new(TURN.parse().unwrap(), Protocol::Udp, local, "u", "p"));
    a.gather(now);
    a.set_remote_credentials(now, REMOTE_UFRAG, REMOTE_PWD).unwrap();
    let f = Foundation::new("1").unwrap();
    let _ = a.add_remote_candidate(now, Candidate::remote(CandidateKind::Host, REMOTE.parse().unwrap(), 2_130_706_431, f));
    let mut buf = Vec::new();
    let mut pkt = Vec::new();
    for op in ops.into_iter().take(64) {
        match op {
            Op::Raw { from, data } => {
                let _ = a.handle_datagram(now, Protocol::Udp, source(from), local, &data);
            }
            Op::FromTurn { data } => {
                let _ = a.handle_datagram(now, Protocol::Udp, TURN.parse().unwrap(), local, &data);
            }
            Op::SignedCheck { from, priority, controlling, tie, use_candidate, good_user } => {
                pkt.clear();
                let user = if good_user {
                    format!("{}:{REMOTE_UFRAG}", a.local_credentials().ufrag)
                } else {
                    "nobody:else".to_owned()
                };
                let mut e = Encoder::new(&mut pkt, MessageType::request(Method::BINDING), TransactionId::new([9; 12]));
                e.add(&Attribute::Username(&user)).add(&Attribute::Priority(priority));
                e.add(&if controlling { Attribute::IceControlling(tie) } else { Attribute::IceControlled(tie) });
                if use_candidate {
                    e.add(&Attribute::UseCandidate);
                }
                let pwd = a.local_credentials().pwd.clone();
                e.finish_with_integrity(&IntegrityKey::short_term(&pwd));
                let _ = a.handle_datagram(now, Protocol::Udp, source(from), local, &pkt);
            }
            Op::Wait { ms } => {
                now += Duration::from_millis(ms as u64);
                if a.poll_timeout().is_some_and(|t| t <= now) {
                    a.handle_timeout(now);
                }
            }
            Op::Candidate { port, priority } => {
                let addr = SocketAddr::new("198.51.100.2".parse().unwrap(), port);
                let _ = a.add_remote_candidate(now, Candidate::remote(CandidateKind::ServerReflexive, addr, priority, f));
            }
            Op::Restart => {
                a.restart(now);
                let _ = a.set_remote_credentials(now, "newU", "new-remote-password-0123456789");
            }
        }
        let mut n = 0;
        while a.poll_transmit(now, &mut buf).is_some() {
            n += 1;
            assert!(n < 10_000, "poll_transmit never ends");
        }
        while a.poll_event().is_some() {}
        let _ = a.send(b"\x17data", &mut buf);
    }
});
