//! Each link impairment, measured with fixed seeds.

use std::time::Duration;

use zvon_netsim::{
    Datagram, Direction, DropReason, GilbertElliott, HostConfig, LinkConfig, Probe, Sim,
};

use crate::{A, B, arrivals, blast, ip, ms, pair, sa, settle};

/// How many received packets arrived after some packet sent later (i.e. were overtaken).
fn overtaken(seqs: &[u32]) -> usize {
    // A packet was overtaken iff a higher sequence number arrived before it.
    let mut max_seen = None;
    let mut n = 0;
    for &s in seqs {
        match max_seen {
            Some(m) if m > s => n += 1,
            _ => max_seen = Some(s),
        }
    }
    n
}

#[test]
fn latency_is_exact_without_jitter_and_adds_up_along_the_path() {
    let (mut sim, a, b) = pair(1, LinkConfig::ideal().with_latency(ms(25)));
    sim.set_link_dir(b, Direction::Down, LinkConfig::ideal().with_latency(ms(5)));
    let t0 = sim.now();
    blast(&mut sim, a, 200, ms(1), 100);
    settle(&mut sim);
    let got = arrivals(&sim, b, t0, ms(1));
    assert_eq!(got.len(), 200);
    for (i, &(s, delay)) in got.iter().enumerate() {
        assert_eq!(s as usize, i, "in order");
        assert_eq!(delay, ms(30), "packet {s}");
    }
    // A pair path adds its own latency between the two access links.
    sim.set_path(a, b, LinkConfig::ideal().with_latency(ms(7)));
    let t1 = sim.now();
    blast(&mut sim, a, 10, ms(1), 100);
    settle(&mut sim);
    let got = arrivals(&sim, b, t1, ms(1));
    assert!(got[200..].iter().all(|&(_, d)| d == ms(37)));
}

#[test]
fn jitter_stays_in_bounds_spreads_uniformly_and_never_reorders() {
    let cfg = LinkConfig::ideal().with_latency(ms(10)).with_jitter(ms(20));
    let (mut sim, a, b) = pair(2, cfg.clone());
    let t0 = sim.now();
    // Spaced wider than the jitter: every delay is the link's own draw.
    blast(&mut sim, a, 4000, ms(50), 100);
    settle(&mut sim);
    let got = arrivals(&sim, b, t0, ms(50));
    assert_eq!(got.len(), 4000);
    let delays: Vec<f64> = got.iter().map(|(_, d)| d.as_secs_f64() * 1e3).collect();
    let min = delays.iter().cloned().fold(f64::MAX, f64::min);
    let max = delays.iter().cloned().fold(0.0, f64::max);
    let mean = delays.iter().sum::<f64>() / delays.len() as f64;
    assert!((10.0..10.2).contains(&min), "min {min}");
    assert!(max > 29.8 && max <= 30.0, "max {max}");
    // Uniform on [10, 30]: mean 20, std 5.77, so the mean of 4000 has std 0.09.
    assert!((mean - 20.0).abs() < 0.5, "mean {mean}");

    // Packets closer together than the jitter would cross if jitter reordered; it must not.
    let (mut sim, a, b) = pair(3, cfg);
    let t0 = sim.now();
    blast(&mut sim, a, 4000, ms(1), 100);
    settle(&mut sim);
    let got = arrivals(&sim, b, t0, ms(1));
    let seqs: Vec<u32> = got.iter().map(|x| x.0).collect();
    assert_eq!(overtaken(&seqs), 0);
    assert!(got.iter().all(|&(_, d)| d >= ms(10)));
    // ...but the delays do vary.
    assert!(got.iter().any(|&(_, d)| d > ms(20)));
}

#[test]
fn random_loss_rate_matches_probability() {
    let n = 20_000;
    for (seed, p) in [(4, 0.01), (5, 0.1), (6, 0.5)] {
        let (mut sim, a, b) = pair(seed, LinkConfig::ideal().with_loss(p));
        blast(&mut sim, a, n, ms(1), 50);
        settle(&mut sim);
        let lost = n as u64 - sim.node(b).received().len() as u64;
        let rate = lost as f64 / n as f64;
        let sigma = (p * (1.0 - p) / n as f64).sqrt();
        assert!((rate - p).abs() < 5.0 * sigma, "p={p} rate={rate}");
        assert_eq!(
            sim.link_stats(a, Direction::Up)
                .dropped
                .get(DropReason::Loss),
            lost
        );
        assert_eq!(sim.host_stats(a).dropped.get(DropReason::Loss), lost);
        assert_eq!(sim.drops().total(), lost);
        assert_eq!(sim.host_stats(b).delivered, n as u64 - lost);
    }
    // No loss configured: nothing lost.
    let (mut sim, a, b) = pair(7, LinkConfig::ideal());
    blast(&mut sim, a, 5000, ms(1), 50);
    settle(&mut sim);
    assert_eq!(sim.node(b).received().len(), 5000);
}

/// Lengths of runs of consecutive lost sequence numbers.
fn loss_bursts(received: &[u32], n: u32) -> Vec<u32> {
    let mut got = vec![false; n as usize];
    for &s in received {
        got[s as usize] = true;
    }
    let mut bursts = Vec::new();
    let mut run = 0;
    for g in got {
        if g {
            if run > 0 {
                bursts.push(run);
            }
            run = 0;
        } else {
            run += 1;
        }
    }
    if run > 0 {
        bursts.push(run);
    }
    bursts
}

#[test]
fn gilbert_elliott_loss_is_bursty_with_the_configured_mean() {
    let ge = GilbertElliott {
        p_good_to_bad: 0.01,
        p_bad_to_good: 0.2,
        loss_good: 0.0,
        loss_bad: 1.0,
    };
    let mean = ge.mean_loss(); // 0.01 / 0.21 = 4.76%
    let n = 50_000;
    let (mut sim, a, b) = pair(8, LinkConfig::ideal().with_burst_loss(ge));
    blast(&mut sim, a, n, ms(1), 20);
    settle(&mut sim);
    let seqs: Vec<u32> = sim
        .node(b)
        .received()
        .iter()
        .map(|(_, d)| crate::seq_of(d))
        .collect();
    let rate = 1.0 - seqs.len() as f64 / n as f64;
    assert!((rate - mean).abs() < 0.012, "rate {rate} vs {mean}");
    let bursts = loss_bursts(&seqs, n);
    let mean_burst = bursts.iter().sum::<u32>() as f64 / bursts.len() as f64;
    // Bad-state sojourns last 1/r = 5 packets on average.
    assert!((4.0..6.0).contains(&mean_burst), "mean burst {mean_burst}");

    // Independent loss at the same rate has bursts of about 1 / (1 - p) = 1.05.
    let (mut sim, a, b) = pair(9, LinkConfig::ideal().with_loss(mean));
    blast(&mut sim, a, n, ms(1), 20);
    settle(&mut sim);
    let seqs: Vec<u32> = sim
        .node(b)
        .received()
        .iter()
        .map(|(_, d)| crate::seq_of(d))
        .collect();
    let bursts = loss_bursts(&seqs, n);
    let mean_burst = bursts.iter().sum::<u32>() as f64 / bursts.len() as f64;
    assert!(mean_burst < 1.2, "random loss burst {mean_burst}");
}

#[test]
fn reordering_happens_at_the_configured_rate_and_only_then() {
    let n = 20_000;
    let p = 0.05;
    let cfg = LinkConfig::ideal()
        .with_latency(ms(10))
        .with_reorder(p, ms(5));
    let (mut sim, a, b) = pair(10, cfg);
    let t0 = sim.now();
    blast(&mut sim, a, n, ms(1), 50);
    settle(&mut sim);
    let got = arrivals(&sim, b, t0, ms(1));
    assert_eq!(got.len(), n as usize, "reordering loses nothing");
    let seqs: Vec<u32> = got.iter().map(|x| x.0).collect();
    let late = overtaken(&seqs);
    let held = sim.link_stats(a, Direction::Up).reordered;
    // Every held-back packet (5 ms extra, packets 1 ms apart) is overtaken.
    assert_eq!(late as u64, held);
    let rate = late as f64 / n as f64;
    let sigma = (p * (1.0 - p) / n as f64).sqrt();
    assert!((rate - p).abs() < 5.0 * sigma, "rate {rate}");
    // Held-back packets are late by exactly the reorder delay; the rest are on time.
    for &(_, d) in &got {
        assert!(d == ms(10) || d == ms(15), "delay {d:?}");
    }

    // Latency, jitter, loss, duplication but no reorder knob: arrival order is send order.
    let cfg = LinkConfig::ideal()
        .with_latency(ms(10))
        .with_jitter(ms(30))
        .with_loss(0.1)
        .with_duplicate(0.1)
        .with_rate(10_000_000, 1 << 20);
    let (mut sim, a, b) = pair(11, cfg);
    blast(&mut sim, a, 5000, ms(1), 500);
    settle(&mut sim);
    let seqs: Vec<u32> = sim
        .node(b)
        .received()
        .iter()
        .map(|(_, d)| crate::seq_of(d))
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] <= w[1]),
        "no reordering without the knob"
    );
}

#[test]
fn duplication_rate_matches_probability() {
    let n = 20_000u32;
    let p = 0.03;
    let (mut sim, a, b) = pair(
        12,
        LinkConfig::ideal().with_latency(ms(3)).with_duplicate(p),
    );
    blast(&mut sim, a, n, ms(1), 50);
    settle(&mut sim);
    let mut count = vec![0u32; n as usize];
    for (_, d) in sim.node(b).received() {
        count[crate::seq_of(d) as usize] += 1;
    }
    assert!(count.iter().all(|&c| c == 1 || c == 2));
    let dups = count.iter().filter(|&&c| c == 2).count();
    assert_eq!(dups as u64, sim.link_stats(a, Direction::Up).duplicated);
    let rate = dups as f64 / n as f64;
    let sigma = (p * (1.0 - p) / n as f64).sqrt();
    assert!((rate - p).abs() < 5.0 * sigma, "rate {rate}");
    let dup_lines = sim
        .trace()
        .events()
        .iter()
        .filter(|e| matches!(e.kind, zvon_netsim::TraceKind::Duplicated(_)))
        .count();
    assert_eq!(dup_lines, dups);
}

#[test]
fn bandwidth_cap_serialises_queues_and_tail_drops() {
    // 1 Mbit/s: a 1250-byte packet takes exactly 10 ms to serialise.
    let rate = 1_000_000;
    let len = 1250;

    // A burst into a deep queue: packet k leaves at (k + 1) * 10 ms; queueing delay grows.
    let (mut sim, a, b) = pair(13, LinkConfig::ideal().with_rate(rate, 1 << 20));
    let t0 = sim.now();
    blast(&mut sim, a, 50, Duration::ZERO, len);
    settle(&mut sim);
    let got = arrivals(&sim, b, t0, Duration::ZERO);
    assert_eq!(got.len(), 50);
    for (k, &(s, d)) in got.iter().enumerate() {
        assert_eq!(s as usize, k);
        assert_eq!(d, ms(10) * (k as u32 + 1));
    }
    assert_eq!(
        sim.link_stats(a, Direction::Up).max_backlog_bytes,
        50 * len as u64
    );

    // The same burst into a 10-packet queue: 10 pass, the rest are tail-dropped.
    let (mut sim, a, b) = pair(14, LinkConfig::ideal().with_rate(rate, 10 * len));
    blast(&mut sim, a, 50, Duration::ZERO, len);
    settle(&mut sim);
    let seqs: Vec<u32> = sim
        .node(b)
        .received()
        .iter()
        .map(|(_, d)| crate::seq_of(d))
        .collect();
    assert_eq!(seqs, (0..10).collect::<Vec<_>>());
    assert_eq!(sim.drops().get(DropReason::QueueFull), 40);

    // Offered at twice the cap for 10 s: throughput is the cap, half is dropped.
    let (mut sim, a, b) = pair(
        15,
        LinkConfig::ideal()
            .with_latency(ms(20))
            .with_rate(rate, 10 * len),
    );
    let t0 = sim.now();
    blast(&mut sim, a, 2000, ms(5), len);
    settle(&mut sim);
    let rx = sim.node(b).received();
    let bytes: usize = rx.iter().map(|(_, d)| d.data.len()).sum();
    let span = rx.last().unwrap().0 - t0 - ms(20);
    let bps = bytes as f64 * 8.0 / span.as_secs_f64();
    assert!(
        (bps - rate as f64).abs() / (rate as f64) < 0.01,
        "throughput {bps}"
    );
    let dropped = sim.drops().get(DropReason::QueueFull);
    assert!((990..=1010).contains(&dropped), "dropped {dropped}");
    // Queueing delay is bounded by the queue: 10 packets of 10 ms, plus 20 ms propagation.
    let got = arrivals(&sim, b, t0, ms(5));
    assert!(got.iter().all(|&(_, d)| d <= ms(20 + 100)));
    assert!(got.iter().any(|&(_, d)| d >= ms(20 + 90)));
}

#[test]
fn mtu_drops_oversized_datagrams() {
    let (mut sim, a, b) = pair(16, LinkConfig::ideal().with_mtu(1200));
    sim.node_mut(a)
        .send(Datagram::udp(sa(A), sa(B), vec![0; 1200]));
    sim.node_mut(a)
        .send(Datagram::udp(sa(A), sa(B), vec![0; 1201]));
    settle(&mut sim);
    assert_eq!(sim.node(b).received().len(), 1);
    assert_eq!(sim.drops().get(DropReason::TooBig), 1);
}

#[test]
fn cut_and_restore_a_link_mid_run() {
    let (mut sim, a, b) = pair(17, LinkConfig::ideal());
    let t0 = sim.now();
    blast(&mut sim, a, 100, ms(10), 50);
    sim.advance_to(t0 + ms(295)).unwrap();
    sim.cut(a);
    sim.advance_to(t0 + ms(595)).unwrap();
    sim.restore(a);
    settle(&mut sim);
    let seqs: Vec<u32> = sim
        .node(b)
        .received()
        .iter()
        .map(|(_, d)| crate::seq_of(d))
        .collect();
    let expect: Vec<u32> = (0..100).filter(|s| !(30..60).contains(s)).collect();
    assert_eq!(seqs, expect);
    assert_eq!(sim.drops().get(DropReason::LinkDown), 30);

    // Packets in flight on a link when it is cut are lost too.
    let (mut sim, a, b) = pair(18, LinkConfig::ideal().with_latency(ms(50)));
    let t0 = sim.now();
    blast(&mut sim, a, 1, Duration::ZERO, 50);
    sim.advance_to(t0 + ms(10)).unwrap();
    sim.cut(a);
    sim.advance_to(t0 + ms(20)).unwrap();
    sim.restore(a);
    settle(&mut sim);
    assert!(sim.node(b).received().is_empty());
    assert_eq!(
        sim.link_stats(a, Direction::Up)
            .dropped
            .get(DropReason::LinkDown),
        1
    );

    // A pair path cut: a loses b but still reaches c.
    let (mut sim, a, b) = pair(19, LinkConfig::ideal());
    let c = sim.add_node(HostConfig::public("c", ip("10.0.0.3")), Probe::new());
    sim.set_path_up(a, b, false);
    sim.node_mut(a).send(Datagram::udp(sa(A), sa(B), *b"x"));
    sim.node_mut(a)
        .send(Datagram::udp(sa(A), sa("10.0.0.3:3000"), *b"y"));
    settle(&mut sim);
    assert!(sim.node(b).received().is_empty());
    assert_eq!(sim.node(c).received().len(), 1);
    sim.set_path_up(a, b, true);
    sim.node_mut(a).send(Datagram::udp(sa(A), sa(B), *b"x"));
    settle(&mut sim);
    assert_eq!(sim.node(b).received().len(), 1);
}

#[test]
fn config_changes_apply_to_later_packets() {
    let (mut sim, a, b) = pair(20, LinkConfig::ideal().with_latency(ms(10)));
    let t0 = sim.now();
    blast(&mut sim, a, 100, ms(10), 50);
    sim.advance_to(t0 + ms(495)).unwrap();
    sim.set_link_dir(
        a,
        Direction::Up,
        LinkConfig::ideal().with_latency(ms(50)).with_loss(1.0),
    );
    sim.advance_to(t0 + ms(795)).unwrap();
    sim.set_link(a, LinkConfig::ideal().with_latency(ms(50)));
    settle(&mut sim);
    let got = arrivals(&sim, b, t0, ms(10));
    for &(s, d) in &got {
        let want = if s < 50 { ms(10) } else { ms(50) };
        assert_eq!(d, want, "packet {s}");
        assert!(!(50..80).contains(&s));
    }
    assert_eq!(got.len(), 70);
}

#[test]
fn hosts_may_hold_several_addresses_and_fill_in_unspecified_sources() {
    let mut sim: Sim<Probe> = Sim::new(21);
    let a = sim.add_node(
        HostConfig::public("a", ip("10.0.0.1"))
            .with_addr(ip("2001:db8::1"), zvon_netsim::Realm::Public),
        Probe::new(),
    );
    let b = sim.add_node(
        HostConfig::public("b", ip("10.0.0.2"))
            .with_addr(ip("2001:db8::2"), zvon_netsim::Realm::Public),
        Probe::echo(),
    );
    sim.node_mut(a).send(Datagram::udp(
        sa("[2001:db8::1]:5"),
        sa("[2001:db8::2]:6"),
        *b"v6",
    ));
    sim.node_mut(a)
        .send(Datagram::udp(sa("0.0.0.0:7"), sa("10.0.0.2:8"), *b"v4"));
    // A source the host does not own is refused.
    sim.node_mut(a)
        .send(Datagram::udp(sa("10.9.9.9:7"), sa("10.0.0.2:8"), *b"spoof"));
    settle(&mut sim);
    let rx: Vec<_> = sim
        .node(b)
        .received()
        .iter()
        .map(|(_, d)| (d.src, d.dst))
        .collect();
    assert_eq!(
        rx,
        vec![
            (sa("[2001:db8::1]:5"), sa("[2001:db8::2]:6")),
            (sa("10.0.0.1:7"), sa("10.0.0.2:8"))
        ]
    );
    assert_eq!(sim.node(a).received().len(), 2, "echoes");
    assert_eq!(sim.drops().get(DropReason::BadSource), 1);
}
