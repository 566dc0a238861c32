//! Same seed, same trace; another seed, another trace; independent random streams.

use std::time::Duration;

use zvon_netsim::{
    Datagram, GilbertElliott, HostConfig, Limits, LinkConfig, NatConfig, Probe, Realm, Sim,
    payload_hash,
};

use crate::{ip, ms, payload, sa};

/// Everything at once: impairments on every link, two NAT types, echoes, a cut.
fn scenario(seed: u64, bystanders: bool) -> Sim<Probe> {
    let mut sim = Sim::new(seed);
    let rough = LinkConfig::ideal()
        .with_latency(ms(20))
        .with_jitter(ms(10))
        .with_loss(0.05)
        .with_reorder(0.05, ms(15))
        .with_duplicate(0.05)
        .with_rate(2_000_000, 20_000);
    let n1 = sim.add_nat(NatConfig::port_restricted(ip("203.0.113.1")));
    let n2 = sim.add_nat(NatConfig::symmetric(ip("203.0.113.2")).with_wan_link(rough.clone()));
    let a = sim.add_node(
        HostConfig::behind(n1, "a", ip("192.168.0.2")).with_link(rough.clone()),
        Probe::new(),
    );
    let b = sim.add_node(
        HostConfig::behind(n2, "b", ip("192.168.0.2")).with_link(rough.clone()),
        Probe::new(),
    );
    sim.add_node(
        HostConfig::public("server", ip("198.51.100.1")).with_link(rough.clone().with_burst_loss(
            GilbertElliott {
                p_good_to_bad: 0.05,
                p_bad_to_good: 0.3,
                loss_good: 0.0,
                loss_bad: 0.9,
            },
        )),
        Probe::echo(),
    );
    if bystanders {
        // Two more hosts talking only to each other: other links must not notice them.
        let x = sim.add_node(
            HostConfig::public("x", ip("198.51.100.8")).with_link(rough.clone()),
            Probe::new(),
        );
        sim.add_node(
            HostConfig::public("y", ip("198.51.100.9")).with_link(rough),
            Probe::new(),
        );
        let t0 = sim.now();
        for i in 0..300u32 {
            let d = Datagram::udp(sa("198.51.100.8:1"), sa("198.51.100.9:1"), payload(i, 700));
            sim.node_mut(x).send_at(t0 + ms(2) * i, d);
        }
    }
    let t0 = sim.now();
    for i in 0..300u32 {
        let t = t0 + ms(3) * i;
        let d = Datagram::udp(
            sa("192.168.0.2:4000"),
            sa("198.51.100.1:3478"),
            payload(i, 600),
        );
        sim.node_mut(a).send_at(t, d);
        let d = Datagram::udp(
            sa("192.168.0.2:4000"),
            sa("198.51.100.1:3478"),
            payload(i, 900),
        );
        sim.node_mut(b).send_at(t, d);
    }
    // A stranger knocks on a's mapping: the port-restricted NAT filters it.
    sim.advance(ms(200)).unwrap();
    for port in [3478, 3479] {
        sim.inject(Datagram::udp(
            sa(&format!("198.51.100.1:{port}")),
            sa("203.0.113.1:4000"),
            *b"knock",
        ));
    }
    sim.advance(ms(200)).unwrap();
    sim.cut(a);
    sim.advance(ms(100)).unwrap();
    sim.restore(a);
    sim.run_until_idle(Limits::time(Duration::from_secs(60)))
        .unwrap();
    sim
}

#[test]
fn same_seed_gives_a_byte_identical_trace() {
    let one = scenario(77, false);
    let two = scenario(77, false);
    let bytes = one.trace().to_bytes();
    assert_eq!(bytes, two.trace().to_bytes());
    assert_eq!(one.trace().digest(), two.trace().digest());
    // Not trivially equal: thousands of events, every kind of drop and event present.
    assert!(
        one.trace().total_events() > 2000,
        "{}",
        one.trace().total_events()
    );
    let text = String::from_utf8(bytes).unwrap();
    for word in [
        "sent ",
        "delivered ",
        "dup ",
        "reorder ",
        "nat-out ",
        "nat-in ",
        "map-new ",
        " loss ",
        " queue-full ",
        " link-down ",
        " nat-filtered ",
    ] {
        assert!(text.contains(word), "no {word:?} in the trace");
    }
    // Counters are part of the same determinism.
    assert_eq!(one.drops(), two.drops());
}

#[test]
fn another_seed_gives_another_trace() {
    let one = scenario(77, false);
    let other = scenario(78, false);
    assert_ne!(one.trace().to_bytes(), other.trace().to_bytes());
    assert_ne!(one.trace().digest(), other.trace().digest());
}

#[test]
fn bystanders_do_not_perturb_other_links() {
    let alone = scenario(79, false);
    let crowded = scenario(79, true);
    let lines = |s: &Sim<Probe>| -> Vec<String> {
        s.trace()
            .events()
            .iter()
            .map(|e| e.to_string())
            .filter(|l| !l.contains("198.51.100.8") && !l.contains("198.51.100.9"))
            .collect()
    };
    let (l1, l2) = (lines(&alone), lines(&crowded));
    assert!(l1.len() > 1000);
    assert_eq!(l1, l2);
    assert_ne!(alone.trace().digest(), crowded.trace().digest());
}

#[test]
fn trace_lines_show_offsets_addresses_and_payload_hashes() {
    let mut sim: Sim<Probe> = Sim::new(1);
    let a = sim.add_node(
        HostConfig::public("a", ip("10.0.0.1"))
            .with_link(LinkConfig::ideal().with_latency(ms(1500))),
        Probe::new(),
    );
    sim.add_node(HostConfig::public("b", ip("2001:db8::2")), Probe::new());
    sim.add_host(
        HostConfig::public("b4", ip("10.0.0.2")).with_addr(ip("2001:db8::1"), Realm::Public),
    );
    sim.node_mut(a).send(Datagram::udp(
        sa("10.0.0.1:1000"),
        sa("10.0.0.2:2000"),
        *b"hi",
    ));
    sim.run_until_idle(Limits::default()).unwrap();
    let h = payload_hash(b"hi");
    let want = [
        format!("    0.000000000 sent      h0 udp 10.0.0.1:1000 > 10.0.0.2:2000 len=2 #{h:016x}"),
        format!("    1.500000000 dropped   h2 no-listener udp 10.0.0.1:1000 > 10.0.0.2:2000 len=2 #{h:016x}"),
        format!("events=2 digest={:016x}", sim.trace().digest()),
        String::new(),
    ]
    .join("\n");
    assert_eq!(sim.trace().to_string(), want);
}
