//! Random topologies and operation sequences: no panic, no hang, and every packet accounted
//! for (sent + injected + duplicated = delivered + dropped once the network is idle).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use zvon_base::Protocol;
use zvon_netsim::{
    Datagram, Direction, GilbertElliott, HostConfig, HostId, Limits, LinkConfig, NatConfig,
    NatType, Node, PortAllocation, Probe, Realm, Sim, SimConfig, TraceKind,
};

fn link() -> impl Strategy<Value = LinkConfig> {
    (
        (0u64..50, 0u64..20, 0.0..0.5f64, any::<bool>()),
        (0.0..0.3f64, 0u64..20, 0.0..0.3f64),
        (
            proptest::option::of(1_000u64..10_000_000),
            0usize..100_000,
            100usize..2000,
        ),
    )
        .prop_map(
            |((lat, jit, loss, burst), (reo, reo_d, dup), (rate, queue, mtu))| {
                let mut c = LinkConfig::ideal()
                    .with_latency(Duration::from_millis(lat))
                    .with_jitter(Duration::from_millis(jit))
                    .with_reorder(reo, Duration::from_millis(reo_d))
                    .with_duplicate(dup)
                    .with_mtu(mtu);
                c = if burst {
                    c.with_burst_loss(GilbertElliott {
                        p_good_to_bad: loss / 4.0,
                        p_bad_to_good: 0.3,
                        loss_good: 0.0,
                        loss_bad: loss * 2.0,
                    })
                } else {
                    c.with_loss(loss)
                };
                if let Some(r) = rate {
                    c = c.with_rate(r, queue);
                }
                c
            },
        )
}

#[derive(Debug, Clone)]
enum Op {
    Send {
        from: usize,
        to: usize,
        to_nat: bool,
        port: u16,
        len: usize,
        tcp: bool,
    },
    Inject {
        to: usize,
        to_nat: bool,
        port: u16,
    },
    Cut(usize),
    Restore(usize),
    SetLink(usize, LinkConfig),
    PathDown(usize, usize),
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0usize..8, 0usize..8, any::<bool>(), 1u16..6, 0usize..2500, any::<bool>())
            .prop_map(|(from, to, to_nat, port, len, tcp)| Op::Send { from, to, to_nat, port, len, tcp }),
        1 => (0usize..8, any::<bool>(), 1u16..6).prop_map(|(to, to_nat, port)| Op::Inject { to, to_nat, port }),
        1 => (0usize..8).prop_map(Op::Cut),
        1 => (0usize..8).prop_map(Op::Restore),
        1 => (0usize..8, link()).prop_map(|(h, l)| Op::SetLink(h, l)),
        1 => (0usize..8, 0usize..8).prop_map(|(a, b)| Op::PathDown(a, b)),
        2 => (0u64..40_000).prop_map(Op::Advance),
    ]
}

/// Answers each datagram once (an echo would bounce forever between two echoes, or with
/// itself through a hairpin): the answer is marked so that it is never answered.
#[derive(Debug)]
struct Answer {
    probe: Probe,
    answers: bool,
}

impl Node for Answer {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        if self.answers && d.data.first() != Some(&0xee) {
            let mut data = d.data.clone();
            data.insert(0, 0xee);
            self.probe.send(Datagram {
                proto: d.proto,
                src: d.dst,
                dst: d.src,
                data,
            });
        }
        self.probe.handle_datagram(now, d);
    }
    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram> {
        self.probe.poll_transmit(now)
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        self.probe.poll_timeout()
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.probe.handle_timeout(now)
    }
}

const KINDS: [NatType; 4] = [
    NatType::FullCone,
    NatType::AddressRestricted,
    NatType::PortRestricted,
    NatType::Symmetric,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_networks_never_panic_and_account_for_every_packet(
        seed in any::<u64>(),
        nats in proptest::collection::vec((0usize..4, any::<bool>(), 0usize..3, 1u64..60, link()), 0..3),
        hosts in proptest::collection::vec((0usize..3, link(), link()), 1..6),
        ops in proptest::collection::vec(op(), 0..60),
    ) {
        let mut sim: Sim<Answer> = Sim::with_config(
            SimConfig::seed(seed).with_trace(zvon_netsim::TraceConfig { enabled: true, max_events: 1_000_000 }),
        );
        let mut nat_ids = Vec::new();
        for (k, (kind, hairpin, alloc, timeout, wan)) in nats.iter().cloned().enumerate() {
            let alloc = [PortAllocation::Preserve, PortAllocation::Sequential, PortAllocation::Random][alloc];
            let cfg = NatConfig::new(KINDS[kind], IpAddr::from([203, 0, 113, k as u8 + 1]))
                .with_hairpinning(hairpin)
                .with_port_allocation(alloc)
                .with_mapping_timeout(Duration::from_secs(timeout))
                .with_wan_link(wan);
            nat_ids.push(sim.add_nat(cfg));
        }
        let mut addrs: Vec<IpAddr> = Vec::new();
        let mut ids: Vec<HostId> = Vec::new();
        for (i, (realm, up, down)) in hosts.iter().cloned().enumerate() {
            let (ip, realm) = match nat_ids.get(realm.wrapping_sub(1)) {
                Some(&n) if realm > 0 => (IpAddr::from([192, 168, 0, i as u8 + 1]), Realm::Behind(n)),
                _ => (IpAddr::from([10, 0, 0, i as u8 + 1]), Realm::Public),
            };
            let node = Answer { probe: Probe::new(), answers: i == 0 };
            let cfg = HostConfig::new(format!("h{i}"), ip, realm).with_uplink(up).with_downlink(down);
            ids.push(sim.add_node(cfg, node));
            addrs.push(ip);
        }
        let dst = |to: usize, to_nat: bool, port: u16| -> SocketAddr {
            if to_nat && !nat_ids.is_empty() {
                SocketAddr::new(IpAddr::from([203, 0, 113, (to % nat_ids.len()) as u8 + 1]), 1000 * port)
            } else {
                SocketAddr::new(addrs[to % addrs.len()], 1000 * port)
            }
        };
        let mut injected = 0u64;
        for op in ops {
            match op {
                Op::Send { from, to, to_nat, port, len, tcp } => {
                    let h = from % ids.len();
                    let d = Datagram {
                        proto: if tcp { Protocol::Tcp } else { Protocol::Udp },
                        src: SocketAddr::new(addrs[h], 1000 * port),
                        dst: dst(to, to_nat, port),
                        data: vec![0; len],
                    };
                    sim.node_mut(ids[h]).probe.send(d);
                }
                Op::Inject { to, to_nat, port } => {
                    injected += 1;
                    sim.inject(Datagram::udp("192.0.2.1:9".parse().unwrap(), dst(to, to_nat, port), *b"x"));
                }
                Op::Cut(h) => sim.cut(ids[h % ids.len()]),
                Op::Restore(h) => sim.restore(ids[h % ids.len()]),
                Op::SetLink(h, l) => sim.set_link_dir(ids[h % ids.len()], Direction::Up, l),
                Op::PathDown(a, b) => sim.set_path_up(ids[a % ids.len()], ids[b % ids.len()], false),
                Op::Advance(ms) => sim.advance(Duration::from_millis(ms)).unwrap(),
            }
        }
        sim.run_until_idle(Limits::time(Duration::from_secs(3600))).unwrap();
        prop_assert!(sim.is_idle());
        let mut ins = injected;
        let mut outs = 0u64;
        let mut sent = 0u64;
        for e in sim.trace().events() {
            match e.kind {
                TraceKind::Sent(_) => { ins += 1; sent += 1 }
                TraceKind::Duplicated(_) => ins += 1,
                TraceKind::Delivered(_) | TraceKind::Dropped(..) => outs += 1,
                _ => {}
            }
        }
        prop_assert_eq!(ins, outs);
        let host_sent: u64 = ids.iter().map(|&h| sim.host_stats(h).sent).sum();
        prop_assert_eq!(host_sent, sent);
        let delivered: u64 = ids.iter().map(|&h| sim.host_stats(h).delivered).sum();
        prop_assert_eq!(delivered + sim.drops().total(), outs);
    }
}
