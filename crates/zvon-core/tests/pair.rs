//! Two sans-IO peer connections wired back to back with a virtual clock: negotiation, data
//! channels both ways, renegotiation, ICE restart, glare, rejected media.
#![allow(clippy::disallowed_methods)] // ok: the tests need some instant as the origin; time is virtual after it

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use zvon_base::{Protocol, Rng};
use zvon_core::*;

struct Peer {
    pc: PeerConnection,
    addr: SocketAddr,
    events: Vec<Event>,
}

struct Pair {
    a: Peer,
    b: Peer,
    now: Instant,
    /// Datagrams in flight: (deliver at, to a?, source, bytes).
    wire: VecDeque<(Instant, bool, SocketAddr, Vec<u8>)>,
    latency: Duration,
    /// Trickle candidates as they come (else only the SDP carries them).
    trickle: bool,
}

fn peer(seed: u64, port: u16, now: Instant) -> Peer {
    let mut pc = PeerConnection::new(Config::default(), Rng::from_seed_u64(seed), now).unwrap();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    pc.add_host_candidate(addr);
    Peer {
        pc,
        addr,
        events: Vec::new(),
    }
}

impl Pair {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            a: peer(1, 40000, now),
            b: peer(2, 40001, now),
            now,
            wire: VecDeque::new(),
            latency: Duration::from_millis(5),
            trickle: true,
        }
    }

    /// Moves packets and time until `done` holds; panics after `limit` of virtual time.
    fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&mut Pair) -> bool) {
        let end = self.now + limit;
        let mut buf = Vec::with_capacity(2048);
        for _ in 0..2_000_000 {
            for to_a in [false, true] {
                let (from, other_addr) = if to_a {
                    (&mut self.b, self.a.addr)
                } else {
                    (&mut self.a, self.b.addr)
                };
                while let Some(t) = from.pc.poll_transmit(self.now, &mut buf) {
                    if t.destination == other_addr {
                        self.wire.push_back((
                            self.now + self.latency,
                            to_a,
                            t.source,
                            buf[..t.len].to_vec(),
                        ));
                    }
                }
                while let Some(ev) = from.pc.poll_event() {
                    from.events.push(ev);
                }
            }
            if self.trickle {
                self.exchange_candidates();
            }
            if done(self) {
                return;
            }
            // Deliver what is due, else jump to the next event.
            if let Some(&(at, _, _, _)) = self.wire.front()
                && at <= self.now
            {
                let (_, to_a, src, data) = self.wire.pop_front().unwrap();
                let p = if to_a { &mut self.a } else { &mut self.b };
                let dst = p.addr;
                p.pc.handle_datagram(self.now, Protocol::Udp, src, dst, &data);
                continue;
            }
            let next = [
                self.wire.front().map(|w| w.0),
                self.a.pc.poll_timeout(),
                self.b.pc.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next else {
                panic!("idle before done");
            };
            self.now = next.max(self.now);
            assert!(self.now <= end, "not done within {limit:?}");
            self.a.pc.handle_timeout(self.now);
            self.b.pc.handle_timeout(self.now);
        }
        panic!("livelock");
    }

    fn exchange_candidates(&mut self) {
        for to_a in [false, true] {
            let (from, to) = if to_a {
                (&mut self.b, &mut self.a)
            } else {
                (&mut self.a, &mut self.b)
            };
            let cands: Vec<CandidateInit> = from
                .events
                .iter()
                .filter_map(|e| match e {
                    Event::IceCandidate(c) => Some(c.clone()),
                    _ => None,
                })
                .collect();
            from.events.retain(|e| !matches!(e, Event::IceCandidate(_)));
            for c in cands {
                if to.pc.remote_description().is_some() {
                    to.pc.add_ice_candidate(self.now, &c).unwrap();
                }
            }
        }
    }

    /// a offers, b answers.
    fn negotiate_a_to_b(&mut self) {
        let now = self.now;
        let offer = self.a.pc.create_offer(now).unwrap();
        self.a.pc.set_local_description(now, offer.clone()).unwrap();
        self.b.pc.set_remote_description(now, offer).unwrap();
        let answer = self.b.pc.create_answer(now).unwrap();
        self.b
            .pc
            .set_local_description(now, answer.clone())
            .unwrap();
        self.a.pc.set_remote_description(now, answer).unwrap();
        assert_eq!(self.a.pc.signaling_state(), SignalingState::Stable);
        assert_eq!(self.b.pc.signaling_state(), SignalingState::Stable);
    }

    fn negotiate_b_to_a(&mut self) {
        std::mem::swap(&mut self.a, &mut self.b);
        self.negotiate_a_to_b();
        std::mem::swap(&mut self.a, &mut self.b);
    }
}

fn messages(events: &[Event], id: ChannelId) -> Vec<Vec<u8>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ChannelMessage { id: i, data, .. } if *i == id => Some(data.clone()),
            _ => None,
        })
        .collect()
}

fn incoming(events: &[Event], label: &str) -> Option<ChannelId> {
    events.iter().find_map(|e| match e {
        Event::DataChannel { id, label: l, .. } if l == label => Some(*id),
        _ => None,
    })
}

fn opened(events: &[Event], id: ChannelId) -> bool {
    events.contains(&Event::ChannelOpen(id))
}

#[test]
fn data_channels_both_ways_then_renegotiation_and_ice_restart() {
    let mut p = Pair::new();
    let chat =
        p.a.pc
            .create_data_channel("chat", ChannelInit::default())
            .unwrap();
    assert!(
        p.a.pc
            .poll_event()
            .is_some_and(|e| e == Event::NegotiationNeeded)
    );
    p.negotiate_a_to_b();
    p.run_until(Duration::from_secs(5), |p| opened(&p.a.events, chat));
    assert_eq!(p.a.pc.connection_state(), ConnectionState::Connected);
    let st = p.a.pc.stats();
    assert!(st.dtls_version.is_some());
    assert_eq!(
        st.channels[0].stream_id,
        Some(p.a.pc.channel_stream_id(chat).unwrap())
    );

    p.a.pc.send(chat, b"hello", MessageKind::Text).unwrap();
    p.run_until(Duration::from_secs(5), |p| {
        incoming(&p.b.events, "chat").is_some_and(|id| !messages(&p.b.events, id).is_empty())
    });
    let b_chat = incoming(&p.b.events, "chat").unwrap();
    assert_eq!(messages(&p.b.events, b_chat), vec![b"hello".to_vec()]);

    // b opens its own channel: no renegotiation needed once a data section exists.
    let back =
        p.b.pc
            .create_data_channel(
                "back",
                ChannelInit {
                    ordered: false,
                    priority: Priority::High,
                    ..Default::default()
                },
            )
            .unwrap();
    assert!(!p.b.events.contains(&Event::NegotiationNeeded));
    p.run_until(Duration::from_secs(5), |p| opened(&p.b.events, back));
    let big = vec![7u8; 200_000];
    p.b.pc.send(back, &big, MessageKind::Binary).unwrap();
    p.b.pc.send(back, b"", MessageKind::Binary).unwrap();
    p.run_until(Duration::from_secs(10), |p| {
        incoming(&p.a.events, "back").is_some_and(|id| messages(&p.a.events, id).len() == 2)
    });
    let a_back = incoming(&p.a.events, "back").unwrap();
    assert_eq!(p.a.pc.channel_priority(a_back), Some(Priority::High));
    let got = messages(&p.a.events, a_back);
    assert!(got.contains(&big) && got.contains(&Vec::new()));

    // Renegotiation started by b (the answerer of the first round) keeps the channels.
    p.negotiate_b_to_a();
    p.a.pc
        .send(chat, b"after renegotiation", MessageKind::Text)
        .unwrap();
    p.run_until(Duration::from_secs(5), |p| {
        messages(&p.b.events, b_chat).len() == 2
    });

    // ICE restart: new credentials, the channel keeps delivering in order.
    let ufrag_before = p.a.pc.ice().local_credentials().ufrag.clone();
    p.a.pc.restart_ice();
    p.negotiate_a_to_b();
    assert_ne!(p.a.pc.ice().local_credentials().ufrag, ufrag_before);
    for i in 0..50u8 {
        p.a.pc.send(chat, &[i], MessageKind::Binary).unwrap();
    }
    p.run_until(Duration::from_secs(10), |p| {
        messages(&p.b.events, b_chat).len() == 52
    });
    let tail: Vec<Vec<u8>> = messages(&p.b.events, b_chat)[2..].to_vec();
    assert_eq!(tail, (0..50u8).map(|i| vec![i]).collect::<Vec<_>>());
    assert_eq!(p.a.pc.connection_state(), ConnectionState::Connected);
    let st = p.b.pc.stats();
    assert_eq!(st.channels.len(), 2);
    assert!(
        st.channels
            .iter()
            .any(|c| c.label == "chat" && c.messages_received == 52)
    );
}

#[test]
fn without_trickle_the_sdp_carries_the_candidates() {
    let mut p = Pair::new();
    p.trickle = false;
    let ch =
        p.b.pc
            .create_data_channel("x", ChannelInit::default())
            .unwrap();
    p.negotiate_b_to_a();
    // b offered, a answered: a is the DTLS client (answer to actpass), b the server.
    p.run_until(Duration::from_secs(5), |p| opened(&p.b.events, ch));
    assert_eq!(p.a.pc.stats().dtls_role, Some(zvon_dtls::DtlsRole::Client));
    assert_eq!(p.b.pc.stats().ice_role, zvon_ice::IceRole::Controlling);
    assert!(
        p.a.pc
            .local_description()
            .unwrap()
            .sdp
            .contains("a=candidate:")
    );
    // b offered, a answered: each side reports its descriptions with their kinds.
    assert_eq!(p.a.pc.local_description().unwrap().kind, SdpType::Answer);
    assert_eq!(p.a.pc.remote_description().unwrap().kind, SdpType::Offer);
    assert_eq!(p.b.pc.local_description().unwrap().kind, SdpType::Offer);
    assert_eq!(p.b.pc.remote_description().unwrap().kind, SdpType::Answer);
}

#[test]
fn glare_is_resolved_by_implicit_rollback() {
    let mut p = Pair::new();
    let now = p.now;
    p.a.pc
        .create_data_channel("a", ChannelInit::default())
        .unwrap();
    p.b.pc
        .create_data_channel("b", ChannelInit::default())
        .unwrap();
    let offer_a = p.a.pc.create_offer(now).unwrap();
    let offer_b = p.b.pc.create_offer(now).unwrap();
    p.a.pc.set_local_description(now, offer_a).unwrap();
    p.b.pc.set_local_description(now, offer_b.clone()).unwrap();
    // a is the polite peer: it takes b's offer, rolling its own back.
    p.a.pc.set_remote_description(now, offer_b).unwrap();
    assert_eq!(p.a.pc.signaling_state(), SignalingState::HaveRemoteOffer);
    let answer = p.a.pc.create_answer(now).unwrap();
    p.a.pc.set_local_description(now, answer.clone()).unwrap();
    p.b.pc.set_remote_description(now, answer).unwrap();
    p.run_until(Duration::from_secs(5), |p| {
        incoming(&p.a.events, "b").is_some() && incoming(&p.b.events, "a").is_some()
    });
}

#[test]
fn an_offer_with_audio_is_answered_with_audio_rejected_and_data_flows() {
    let mut p = Pair::new();
    let ch =
        p.a.pc
            .create_data_channel("d", ChannelInit::default())
            .unwrap();
    p.negotiate_a_to_b();
    p.run_until(Duration::from_secs(5), |p| opened(&p.a.events, ch));
    // A browser adds audio to the session: zvon (no media yet) rejects that section only.
    let now = p.now;
    let offer = p.a.pc.create_offer(now).unwrap();
    let sdp = offer.sdp.replace(
        "m=application",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendrecv\r\na=rtpmap:111 opus/48000/2\r\nm=application",
    );
    // Put the data section first again, as mids must keep their order.
    let mut desc = zvon_sdp::SessionDescription::parse(&sdp).unwrap();
    desc.media.swap(0, 1);
    p.b.pc
        .set_remote_description(now, Description::offer(desc.to_string()))
        .unwrap();
    let answer = p.b.pc.create_answer(now).unwrap();
    let parsed = zvon_sdp::SessionDescription::parse(&answer.sdp).unwrap();
    assert_eq!(parsed.media.len(), 2);
    assert_eq!(parsed.media[1].port, 0);
    assert_eq!(parsed.media[1].mid(), Some("1"));
    p.b.pc.set_local_description(now, answer).unwrap();
    p.a.pc.send(ch, b"still here", MessageKind::Text).unwrap();
    p.run_until(Duration::from_secs(5), |p| {
        incoming(&p.b.events, "d").is_some_and(|id| !messages(&p.b.events, id).is_empty())
    });
}

#[test]
fn api_misuse_is_a_typed_error() {
    let now = Instant::now();
    let mut pc = PeerConnection::new(Config::default(), Rng::from_seed_u64(9), now).unwrap();
    assert!(matches!(pc.create_answer(now), Err(Error::InvalidState(_))));
    assert!(matches!(
        pc.add_ice_candidate(now, &CandidateInit::default()),
        Err(Error::InvalidState(_))
    ));
    assert!(matches!(
        pc.set_remote_description(now, Description::offer("garbage")),
        Err(Error::Sdp(_))
    ));
    let no_fp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=setup:actpass\r\na=sctp-port:5000\r\n";
    assert!(matches!(
        pc.set_remote_description(now, Description::offer(no_fp)),
        Err(Error::Description(_))
    ));
    let ch = pc.create_data_channel("x", ChannelInit::default()).unwrap();
    assert!(pc.send(ch, b"x", MessageKind::Text).is_err());
}
