//! A panic is a bug, never bad input: broken and hostile packets into an established
//! association are dropped (or end it, for a well-formed ABORT), and it keeps working.
#![allow(clippy::disallowed_methods)] // ok: the tests need some instant; time is virtual after it

use std::time::{Duration, Instant};

use proptest::prelude::*;
use zvon_base::{Classify, Rng};
use zvon_sctp::packet::PacketWriter;
use zvon_sctp::{Association, ChannelId, ChannelOptions, Config, Error, Event, MessageKind, Role};

struct Pair {
    a: Association,
    b: Association,
    now: Instant,
    buf: Vec<u8>,
    got: Vec<Vec<u8>>,
}

impl Pair {
    fn new() -> (Self, ChannelId) {
        let now = Instant::now();
        let mut a = Association::new(Config::new(Role::Client), Rng::from_seed_u64(1), now);
        let mut b = Association::new(Config::new(Role::Server), Rng::from_seed_u64(2), now);
        a.connect(now).unwrap();
        b.connect(now).unwrap();
        let mut p = Pair {
            a,
            b,
            now,
            buf: Vec::new(),
            got: Vec::new(),
        };
        p.pump();
        let id = p.a.open_channel(ChannelOptions::new("x")).unwrap();
        p.pump();
        (p, id)
    }

    fn pump(&mut self) {
        for _ in 0..1000 {
            let mut progress = false;
            while let Some(n) = self.a.poll_transmit(self.now, &mut self.buf) {
                let _ = self.b.handle_packet(self.now, &self.buf[..n]);
                progress = true;
            }
            while let Some(n) = self.b.poll_transmit(self.now, &mut self.buf) {
                let _ = self.a.handle_packet(self.now, &self.buf[..n]);
                progress = true;
            }
            while self.a.poll_event().is_some() {}
            while let Some(e) = self.b.poll_event() {
                if let Event::Message { data, .. } = e {
                    self.got.push(data);
                }
            }
            if !progress {
                self.now += Duration::from_millis(50);
                self.a.handle_timeout(self.now);
                self.b.handle_timeout(self.now);
                if self
                    .a
                    .poll_timeout()
                    .is_none_or(|t| t > self.now + Duration::from_secs(1))
                {
                    return;
                }
            }
        }
    }

    fn packet_to_b(&self, chunks: &[u8]) -> Vec<u8> {
        let mut p = Vec::new();
        let w = PacketWriter::begin(&mut p, 5000, 5000, self.b.local_verification_tag());
        p.extend_from_slice(chunks);
        w.finish(&mut p, false);
        p
    }
}

#[test]
fn bad_checksum_and_tag_are_dropped() {
    let (mut p, _) = Pair::new();
    let mut good = Vec::new();
    zvon_sctp::chunk::put_empty(&mut good, zvon_sctp::chunk::kind::COOKIE_ACK, 0);
    let mut pkt = p.packet_to_b(&good);
    pkt[9] ^= 1;
    let e = p.b.handle_packet(p.now, &pkt).unwrap_err();
    assert_eq!(e, Error::BadChecksum);
    assert!(!e.is_fatal());
    let mut other = Vec::new();
    let w = PacketWriter::begin(&mut other, 5000, 5000, 0xdead_beef);
    other.extend_from_slice(&good);
    w.finish(&mut other, false);
    assert_eq!(
        p.b.handle_packet(p.now, &other).unwrap_err(),
        Error::BadVerificationTag
    );
    assert!(p.b.is_established());
}

#[test]
fn sack_for_unsent_tsn_aborts_with_protocol_violation() {
    let (mut p, _) = Pair::new();
    let mut c = Vec::new();
    zvon_sctp::chunk::SackRepr {
        cum_tsn: 0x7fff_0000,
        a_rwnd: 1000,
        gaps: &[],
        dups: &[],
    }
    .encode(&mut c);
    // The tag is A's, to A: build it by hand.
    let mut pkt = Vec::new();
    let w = PacketWriter::begin(&mut pkt, 5000, 5000, p.a.local_verification_tag());
    pkt.extend_from_slice(&c);
    w.finish(&mut pkt, false);
    let e = p.a.handle_packet(p.now, &pkt).unwrap_err();
    assert!(e.is_fatal());
    assert!(std::iter::from_fn(|| p.a.poll_event()).any(|e| matches!(e, Event::Aborted { .. })));
    // The peer hears about it.
    p.pump();
    assert!(!p.b.is_established());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn arbitrary_chunks_never_panic(chunks in proptest::collection::vec(
        (any::<u8>(), any::<u8>(), proptest::collection::vec(any::<u8>(), 0..40)), 1..6)) {
        let (mut p, id) = Pair::new();
        for (kind, flags, value) in &chunks {
            // Keep the association alive so the rest of the sequence reaches deep code.
            if *kind == zvon_sctp::chunk::kind::ABORT || *kind == zvon_sctp::chunk::kind::SHUTDOWN {
                continue;
            }
            let mut c = vec![*kind, *flags];
            c.extend_from_slice(&((value.len() + 4) as u16).to_be_bytes());
            c.extend_from_slice(value);
            while c.len() % 4 != 0 { c.push(0); }
            let pkt = p.packet_to_b(&c);
            let _ = p.b.handle_packet(p.now, &pkt);
            let _ = p.b.poll_timeout();
        }
        p.pump();
        if p.a.is_established() && p.b.is_established() {
            // Still works, unless the injected chunks closed the channel.
            if p.a.send(id, b"after".to_vec(), MessageKind::Text).is_ok() {
                p.pump();
                prop_assert!(p.got.iter().any(|m| m == b"after") || !p.b.is_established());
            }
        }
    }

    #[test]
    fn arbitrary_packets_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let (mut p, _) = Pair::new();
        let _ = p.b.handle_packet(p.now, &data);
        let pkt = p.packet_to_b(&data);
        let _ = p.b.handle_packet(p.now, &pkt);
        p.pump();
    }
}

#[test]
fn zero_checksum_only_when_both_offer_it() {
    use zvon_sctp::packet::Packet;
    for (za, zb) in [(true, true), (true, false), (false, true), (false, false)] {
        let now = Instant::now();
        let cfg = |role, z| {
            let mut c = Config::new(role);
            c.zero_checksum = z;
            c
        };
        let mut a = Association::new(cfg(Role::Client, za), Rng::from_seed_u64(1), now);
        let mut b = Association::new(cfg(Role::Server, zb), Rng::from_seed_u64(2), now);
        a.connect(now).unwrap();
        b.connect(now).unwrap();
        let mut buf = Vec::new();
        let (mut zero, mut crc) = (0, 0);
        let mut id = None;
        for round in 0..20 {
            if round == 5 {
                id = Some(a.open_channel(ChannelOptions::new("z")).unwrap());
            }
            if round > 6
                && let Some(id) = id
            {
                let _ = a.send(id, vec![1; 2000], MessageKind::Binary);
            }
            for dir in 0..2 {
                let (from, to) = if dir == 0 {
                    (&mut a, &mut b)
                } else {
                    (&mut b, &mut a)
                };
                while let Some(n) = from.poll_transmit(now, &mut buf) {
                    let p = Packet::parse_unchecked(&buf[..n]).unwrap();
                    if p.checksum() == 0 {
                        zero += 1;
                    } else {
                        assert!(Packet::parse(&buf[..n], false).is_ok(), "a correct CRC32c");
                        crc += 1;
                    }
                    to.handle_packet(now, &buf[..n]).unwrap();
                }
                while from.poll_event().is_some() {}
            }
        }
        assert!(a.is_established() && b.is_established());
        assert_eq!(a.zero_checksum(), za && zb);
        if za && zb {
            assert!(zero > 10, "zero {zero}, crc {crc}");
            // The handshake (INIT, INIT ACK, COOKIE ECHO) always carries a CRC.
            assert!(crc >= 4);
        } else {
            assert_eq!(zero, 0);
        }
    }
}
