//! Two established associations with an open channel and traffic both ways; the fuzzer
//! injects arbitrary chunks into packets that carry the right verification tag (zero checksum,
//! which the association accepts), arbitrary whole packets, time jumps, and API calls. Nothing
//! may panic, and both sides must keep answering `poll_*`.
#![no_main]

use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use zvon_base::Rng;
use zvon_sctp::{Association, ChannelId, ChannelOptions, Config, MessageKind, Reliability, Role};

#[derive(Debug, Arbitrary)]
enum Op {
    /// Chunks (raw bytes after the common header) in a packet with B's tag.
    Chunks { to_a: bool, data: Vec<u8> },
    /// A whole packet, as is.
    Raw { to_a: bool, data: Vec<u8> },
    /// Time passes.
    Wait { ms: u16 },
    /// The two sides exchange what they have (each packet possibly dropped).
    Pump { drop_mask: u32 },
    /// A message.
    Send { from_a: bool, len: u16, channel: u8 },
    /// Channel operations.
    Open { from_a: bool, ordered: bool, rexmit: Option<u8> },
    Close { from_a: bool, channel: u8 },
    Shutdown { from_a: bool },
}

struct Pair {
    a: Association,
    b: Association,
    now: Instant,
    buf: Vec<u8>,
}

impl Pair {
    fn pump(&mut self, mut drop_mask: u32) {
        for _ in 0..64 {
            let mut progress = false;
            while let Some(n) = self.a.poll_transmit(self.now, &mut self.buf) {
                progress = true;
                if drop_mask & 1 == 0 {
                    let _ = self.b.handle_packet(self.now, &self.buf[..n]);
                }
                drop_mask = drop_mask.rotate_right(1);
            }
            while let Some(n) = self.b.poll_transmit(self.now, &mut self.buf) {
                progress = true;
                if drop_mask & 1 == 0 {
                    let _ = self.a.handle_packet(self.now, &self.buf[..n]);
                }
                drop_mask = drop_mask.rotate_right(1);
            }
            while self.a.poll_event().is_some() {}
            while self.b.poll_event().is_some() {}
            if !progress {
                break;
            }
        }
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let now = Instant::now();
    let mut a = Association::new(Config::new(Role::Client), Rng::from_seed_u64(1), now);
    let mut b = Association::new(Config::new(Role::Server), Rng::from_seed_u64(2), now);
    a.connect(now).unwrap();
    b.connect(now).unwrap();
    let mut p = Pair { a, b, now, buf: Vec::new() };
    p.pump(0);
    let ch = p.a.open_channel(ChannelOptions::new("fuzz")).unwrap();
    p.pump(0);
    let _ = p.a.send(ch, vec![1; 3000], MessageKind::Binary);
    p.pump(0);
    for op in ops.into_iter().take(64) {
        match op {
            Op::Chunks { to_a, data } => {
                let target = if to_a { &mut p.a } else { &mut p.b };
                let tag = target.local_verification_tag();
                let mut pkt = vec![0x13, 0x88, 0x13, 0x88];
                pkt.extend_from_slice(&tag.to_be_bytes());
                pkt.extend_from_slice(&[0; 4]);
                pkt.extend_from_slice(&data);
                let _ = target.handle_packet(p.now, &pkt);
            }
            Op::Raw { to_a, data } => {
                let target = if to_a { &mut p.a } else { &mut p.b };
                let _ = target.handle_packet(p.now, &data);
            }
            Op::Wait { ms } => {
                p.now += Duration::from_millis(ms as u64);
                p.a.handle_timeout(p.now);
                p.b.handle_timeout(p.now);
            }
            Op::Pump { drop_mask } => p.pump(drop_mask),
            Op::Send { from_a, len, channel } => {
                let s = if from_a { &mut p.a } else { &mut p.b };
                let _ = s.send(ChannelId(channel as u16), vec![7; len as usize], MessageKind::Binary);
            }
            Op::Open { from_a, ordered, rexmit } => {
                let s = if from_a { &mut p.a } else { &mut p.b };
                let mut o = ChannelOptions::new("x");
                o.ordered = ordered;
                if let Some(n) = rexmit {
                    o.reliability = Reliability::MaxRetransmits(n as u16);
                }
                let _ = s.open_channel(o);
            }
            Op::Close { from_a, channel } => {
                let s = if from_a { &mut p.a } else { &mut p.b };
                let _ = s.close_channel(ChannelId(channel as u16));
            }
            Op::Shutdown { from_a } => {
                let now = p.now;
                let s = if from_a { &mut p.a } else { &mut p.b };
                s.close(now);
            }
        }
        // Every poll must keep working.
        let _ = p.a.poll_timeout();
        let _ = p.b.poll_timeout();
    }
    p.pump(0);
});
