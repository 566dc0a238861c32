//! Congestion control details that the bulk tests cannot see: Max.Burst (RFC 9260 6.1 D).
#![allow(clippy::disallowed_methods)] // ok: the test needs some instant; time is virtual after it

use std::time::{Duration, Instant};

use zvon_base::Rng;
use zvon_sctp::chunk::Chunk;
use zvon_sctp::packet::Packet;
use zvon_sctp::{Association, ChannelOptions, Config, Event, MessageKind, Role};

fn data_chunks(p: &[u8]) -> usize {
    let pkt = Packet::parse_unchecked(p).unwrap();
    pkt.chunks()
        .filter(|c| matches!(c, Ok(Chunk::Data(_))))
        .count()
}

/// Exchanges everything both ways until quiet.
fn pump(a: &mut Association, b: &mut Association, now: Instant, buf: &mut Vec<u8>) {
    for _ in 0..10_000 {
        let mut progress = false;
        while let Some(n) = a.poll_transmit(now, buf) {
            b.handle_packet(now, &buf[..n]).unwrap();
            progress = true;
        }
        while let Some(n) = b.poll_transmit(now, buf) {
            a.handle_packet(now, &buf[..n]).unwrap();
            progress = true;
        }
        while let Some(e) = a.poll_event() {
            assert!(!matches!(e, Event::Aborted { .. }), "{e:?}");
        }
        while b.poll_event().is_some() {}
        if !progress {
            return;
        }
    }
    panic!("no quiet");
}

/// Grows cwnd far beyond Max.Burst, then holds a whole window of packets, delivers them, and
/// gives the sender only the receiver's last SACK: one SACK acknowledging the whole flight.
/// Returns how many packets of new data the sender emits in that one send opportunity, and
/// its cwnd then.
fn burst_after_one_large_ack(max_burst: Option<usize>) -> (usize, usize, u64) {
    let now = Instant::now();
    let cfg = |role| {
        let mut c = Config::new(role);
        c.max_burst = max_burst;
        c
    };
    let mut a = Association::new(cfg(Role::Client), Rng::from_seed_u64(1), now);
    let mut b = Association::new(cfg(Role::Server), Rng::from_seed_u64(2), now);
    a.connect(now).unwrap();
    b.connect(now).unwrap();
    let mut buf = Vec::with_capacity(2048);
    pump(&mut a, &mut b, now, &mut buf);
    let id = a.open_channel(ChannelOptions::new("bulk")).unwrap();
    pump(&mut a, &mut b, now, &mut buf);
    // Slow start in memory: cwnd grows by one MTU per SACK.
    for _ in 0..300 {
        a.send(id, vec![7; 64 * 1024], MessageKind::Binary).unwrap();
        pump(&mut a, &mut b, now, &mut buf);
    }
    let (cwnd, _) = a.congestion();
    assert!(cwnd > 40 * 1191, "cwnd grew: {cwnd}");
    for _ in 0..40 {
        a.send(id, vec![8; 64 * 1024], MessageKind::Binary).unwrap();
    }
    // One window leaves A; B gets it all, and A hears only B's last SACK.
    let mut flight = Vec::new();
    while let Some(n) = a.poll_transmit(now, &mut buf) {
        flight.push(buf[..n].to_vec());
    }
    assert!(flight.len() > 30, "a window of packets: {}", flight.len());
    let mut last_sack = None;
    for p in &flight {
        b.handle_packet(now, p).unwrap();
        while let Some(n) = b.poll_transmit(now, &mut buf) {
            last_sack = Some(buf[..n].to_vec());
        }
    }
    a.handle_packet(now, &last_sack.unwrap()).unwrap();
    let (cwnd, in_flight) = a.congestion();
    assert_eq!(in_flight, 0, "everything was acknowledged at once");
    let limited_before = a.stats().burst_limited;
    let mut burst = 0;
    let mut sent = Vec::new();
    while let Some(n) = a.poll_transmit(now, &mut buf) {
        if data_chunks(&buf[..n]) > 0 {
            burst += 1;
        }
        sent.push(buf[..n].to_vec());
    }
    let limited = a.stats().burst_limited - limited_before;
    for p in &sent {
        b.handle_packet(now, p).unwrap();
    }
    // The next SACK opens the next opportunity, and data keeps flowing.
    let before = b.stats().messages_received;
    for _ in 0..50 {
        pump(&mut a, &mut b, now + Duration::from_millis(1), &mut buf);
    }
    assert!(b.stats().messages_received > before);
    (burst, cwnd, limited)
}

#[test]
fn max_burst_limits_packets_after_a_large_ack() {
    let (burst, cwnd, limited) = burst_after_one_large_ack(Some(4));
    let (unlimited, _, never) = burst_after_one_large_ack(None);
    println!(
        "after one SACK acking the whole window (cwnd {cwnd} B = {} MTUs): {burst} packets with Max.Burst 4, {unlimited} without",
        cwnd / 1191
    );
    assert!(unlimited > 30, "without the limit cwnd allows {unlimited}");
    assert_eq!(burst, 4, "Max.Burst = 4");
    assert!(limited > 0, "the stop is counted in stats");
    assert_eq!(never, 0);
}

/// The transport counters agree between the ends and with the congestion state.
#[test]
fn stats_count_sacks_and_windows() {
    let now = Instant::now();
    let mut a = Association::new(Config::new(Role::Client), Rng::from_seed_u64(3), now);
    let mut b = Association::new(Config::new(Role::Server), Rng::from_seed_u64(4), now);
    a.connect(now).unwrap();
    b.connect(now).unwrap();
    let mut buf = Vec::with_capacity(2048);
    pump(&mut a, &mut b, now, &mut buf);
    let id = a.open_channel(ChannelOptions::new("bulk")).unwrap();
    pump(&mut a, &mut b, now, &mut buf);
    for _ in 0..50 {
        a.send(id, vec![1; 64 * 1024], MessageKind::Binary).unwrap();
        pump(&mut a, &mut b, now, &mut buf);
    }
    let (sa, sb) = (a.stats(), b.stats());
    assert!(sb.sacks_sent > 50 * 64 * 1024 / 1191 / 2 / 2, "{sb:?}");
    assert_eq!(sa.sacks_received, sb.sacks_sent);
    assert_eq!(sb.sacks_received, sa.sacks_sent);
    let (cwnd, flight) = a.congestion();
    assert_eq!((sa.cwnd, sa.bytes_in_flight), (cwnd as u64, flight as u64));
    assert_eq!(sa.bytes_in_flight, 0);
    assert!(sa.peer_rwnd > 0);
    assert_eq!(sa.t3_expiries, 0);
    // The initial window (10 MTUs) held the first message back.
    assert!(sa.window_limited > 0, "{sa:?}");
}
