//! NAT boxes: filtering and mapping behavior of each type, expiry, port allocation,
//! hairpinning, LANs, nested NATs and hole punching.

use std::net::SocketAddr;
use std::time::Duration;

use zvon_base::Protocol;
use zvon_netsim::{
    Datagram, DropReason, HostConfig, HostId, Limits, MappingBehavior, NatConfig, NatId, NatType,
    PortAllocation, Probe, Realm, Sim,
};

use crate::{ip, ms, sa, settle};

const INSIDE: &str = "192.168.0.2:5000";
const S1: &str = "198.51.100.1:3478";
const S1_OTHER_PORT: &str = "198.51.100.1:9999";
const S2: &str = "198.51.100.2:3478";
const PUBLIC: &str = "203.0.113.1";

struct World {
    sim: Sim<Probe>,
    nat: NatId,
    inside: HostId,
    s1: HostId,
    s2: HostId,
}

fn world(seed: u64, nat: NatConfig) -> World {
    let mut sim = Sim::new(seed);
    let nat = sim.add_nat(nat);
    let inside = sim.add_node(
        HostConfig::behind(nat, "inside", ip("192.168.0.2")),
        Probe::new(),
    );
    let link = zvon_netsim::LinkConfig::ideal().with_latency(ms(10));
    let s1 = sim.add_node(
        HostConfig::public("s1", ip("198.51.100.1")).with_link(link.clone()),
        Probe::new(),
    );
    let s2 = sim.add_node(
        HostConfig::public("s2", ip("198.51.100.2")).with_link(link),
        Probe::new(),
    );
    World {
        sim,
        nat,
        inside,
        s1,
        s2,
    }
}

impl World {
    /// Inside sends to `to`; returns the source the receiver saw (the external mapping).
    fn out(&mut self, to: &str) -> SocketAddr {
        let host = if to.starts_with("198.51.100.1") {
            self.s1
        } else {
            self.s2
        };
        let before = self.sim.node(host).received().len();
        self.sim
            .node_mut(self.inside)
            .send(Datagram::udp(sa(INSIDE), sa(to), *b"out"));
        settle(&mut self.sim);
        let rx = self.sim.node(host).received();
        assert_eq!(rx.len(), before + 1, "outbound to {to} must pass");
        rx[before].1.src
    }

    /// `from` (a public host's address) sends to `to`; returns whether inside received it.
    fn inbound(&mut self, from: &str, to: SocketAddr) -> bool {
        let host = if from.starts_with("198.51.100.1") {
            self.s1
        } else {
            self.s2
        };
        let before = self.sim.node(self.inside).received().len();
        self.sim
            .node_mut(host)
            .send(Datagram::udp(sa(from), to, *b"in"));
        settle(&mut self.sim);
        let rx = self.sim.node(self.inside).received();
        if rx.len() > before {
            let d = &rx[before].1;
            assert_eq!(d.dst, sa(INSIDE), "translated to the internal endpoint");
            assert_eq!(d.src, sa(from), "the source is not rewritten inbound");
            true
        } else {
            false
        }
    }
}

#[test]
fn filtering_of_each_nat_type() {
    // (type, from the contacted endpoint, from its IP on another port, from another IP)
    let table = [
        (NatType::FullCone, true, true, true),
        (NatType::AddressRestricted, true, true, false),
        (NatType::PortRestricted, true, false, false),
        (NatType::Symmetric, true, false, false),
    ];
    for (kind, same, other_port, other_ip) in table {
        let mut w = world(30, NatConfig::new(kind, ip(PUBLIC)));
        // Before any outbound packet nothing gets in, for any type.
        assert!(
            !w.inbound(S1, sa("203.0.113.1:5000")),
            "{kind:?}: unsolicited"
        );
        assert_eq!(
            w.sim.nat_stats(w.nat).dropped.get(DropReason::NatNoMapping),
            1
        );

        let ext = w.out(S1);
        assert_eq!(ext.ip(), ip(PUBLIC));
        assert_eq!(w.inbound(S1, ext), same, "{kind:?}: same endpoint");
        assert_eq!(
            w.inbound(S1_OTHER_PORT, ext),
            other_port,
            "{kind:?}: other port"
        );
        assert_eq!(w.inbound(S2, ext), other_ip, "{kind:?}: other IP");
        // Unmapped ports stay closed.
        let unmapped = SocketAddr::new(ip(PUBLIC), ext.port().wrapping_add(1));
        assert!(!w.inbound(S1, unmapped), "{kind:?}: unmapped port");

        let filtered = [other_port, other_ip].iter().filter(|&&ok| !ok).count() as u64;
        let stats = w.sim.nat_stats(w.nat);
        assert_eq!(
            stats.dropped.get(DropReason::NatFiltered),
            filtered,
            "{kind:?}"
        );
        assert_eq!(stats.dropped.get(DropReason::NatNoMapping), 2, "{kind:?}");
        assert_eq!(w.sim.drops().get(DropReason::NatFiltered), filtered);

        // Once inside has sent to them, the others get in too.
        if !other_ip {
            let ext2 = w.out(S2);
            assert!(w.inbound(S2, ext2), "{kind:?}: after sending to S2");
        }
    }
}

#[test]
fn mapping_reuse_depends_on_mapping_behavior() {
    for kind in [
        NatType::FullCone,
        NatType::AddressRestricted,
        NatType::PortRestricted,
    ] {
        let mut w = world(31, NatConfig::new(kind, ip(PUBLIC)));
        let e1 = w.out(S1);
        let e2 = w.out(S1_OTHER_PORT);
        let e3 = w.out(S2);
        assert_eq!(e1, sa("203.0.113.1:5000"), "{kind:?}: port preserved");
        assert_eq!(
            (e1, e1),
            (e2, e3),
            "{kind:?}: one mapping for all destinations"
        );
        assert_eq!(w.sim.nat_mappings(w.nat).len(), 1);
    }

    // Symmetric: a new mapping (and port) per destination address and port, reused for the
    // same destination.
    let mut w = world(32, NatConfig::symmetric(ip(PUBLIC)));
    let e1 = w.out(S1);
    let e2 = w.out(S1_OTHER_PORT);
    let e3 = w.out(S2);
    assert_ne!(e1, e2);
    assert_ne!(e1, e3);
    assert_ne!(e2, e3);
    assert_eq!(w.out(S1), e1, "same destination, same mapping");
    assert_eq!(w.sim.nat_mappings(w.nat).len(), 3);
    assert_eq!(w.sim.nat_stats(w.nat).mappings_created, 3);
    assert_eq!(
        w.sim.nat_mapping(w.nat, Protocol::Udp, sa(INSIDE), sa(S2)),
        Some(e3)
    );
    // What S1 learned about the client's address is useless to S2 (the point of symmetric NAT).
    assert!(!w.inbound(S2, e1));

    // Address-dependent mapping: per destination IP, whatever the port.
    let mut cfg = NatConfig::port_restricted(ip(PUBLIC));
    cfg.mapping = MappingBehavior::AddressDependent;
    let mut w = world(33, cfg);
    let e1 = w.out(S1);
    assert_eq!(w.out(S1_OTHER_PORT), e1);
    assert_ne!(w.out(S2), e1);
}

#[test]
fn mappings_expire_when_idle_and_outbound_refreshes_them() {
    let mut w = world(34, NatConfig::full_cone(ip(PUBLIC)));
    let t0 = w.sim.now();
    let ext = w.out(S1); // mapping created at t0 + 10 ms (the inside link is ideal)
    w.sim.advance_to(t0 + Duration::from_secs(29)).unwrap();
    assert!(w.inbound(S1, ext), "alive at 29 s");
    // Inbound traffic does not refresh by default (RFC 4787 REQ-6 leaves it optional).
    w.sim.advance_to(t0 + Duration::from_secs(31)).unwrap();
    assert!(
        !w.inbound(S1, ext),
        "expired 30 s after the last outbound packet"
    );
    let stats = w.sim.nat_stats(w.nat);
    assert_eq!(stats.mappings_expired, 1);
    assert_eq!(stats.dropped.get(DropReason::NatNoMapping), 1);
    assert!(w.sim.nat_mappings(w.nat).is_empty());

    // Keepalives every 20 s hold a mapping for minutes.
    let ext = w.out(S1);
    for _ in 0..10 {
        w.sim.advance(Duration::from_secs(20)).unwrap();
        w.out(S1);
    }
    w.sim.advance(Duration::from_secs(20)).unwrap();
    assert!(w.inbound(S2, ext), "kept alive");
    assert_eq!(w.sim.nat_stats(w.nat).mappings_expired, 1);
    // A NAT reboot forgets it at once.
    w.sim.nat_reset(w.nat);
    assert!(w.sim.nat_mappings(w.nat).is_empty());
    assert!(!w.inbound(S1, ext), "gone after the reboot");

    // With inbound refresh enabled, inbound traffic alone keeps it.
    let mut cfg = NatConfig::full_cone(ip(PUBLIC));
    cfg.inbound_refresh = true;
    let mut w = world(35, cfg);
    let ext = w.out(S1);
    for _ in 0..5 {
        w.sim.advance(Duration::from_secs(20)).unwrap();
        assert!(w.inbound(S1, ext));
    }
    // The trace shows the expiry of the first world's mapping as a line.
    let mut w = world(
        36,
        NatConfig::full_cone(ip(PUBLIC)).with_mapping_timeout(Duration::from_secs(5)),
    );
    let ext = w.out(S1);
    w.sim.advance(Duration::from_secs(6)).unwrap();
    assert!(!w.inbound(S1, ext));
    let text = w.sim.trace().to_string();
    assert!(
        text.contains("map-new   n0 udp 192.168.0.2:5000 > 203.0.113.1:5000"),
        "{text}"
    );
    assert!(
        text.contains("map-exp   n0 udp 192.168.0.2:5000 > 203.0.113.1:5000"),
        "{text}"
    );
    assert!(text.contains("dropped   n0 nat-no-mapping"), "{text}");
}

#[test]
fn port_allocation_strategies() {
    // Preserve: the internal port when free; a second host on the same port gets another.
    let mut sim: Sim<Probe> = Sim::new(37);
    let nat = sim.add_nat(NatConfig::full_cone(ip(PUBLIC)));
    let h1 = sim.add_node(
        HostConfig::behind(nat, "h1", ip("192.168.0.2")),
        Probe::new(),
    );
    let h2 = sim.add_node(
        HostConfig::behind(nat, "h2", ip("192.168.0.3")),
        Probe::new(),
    );
    let s = sim.add_node(HostConfig::public("s", ip("198.51.100.1")), Probe::new());
    sim.node_mut(h1)
        .send(Datagram::udp(sa("192.168.0.2:5000"), sa(S1), *b"1"));
    sim.node_mut(h2)
        .send(Datagram::udp(sa("192.168.0.3:5000"), sa(S1), *b"2"));
    settle(&mut sim);
    let srcs: Vec<SocketAddr> = sim.node(s).received().iter().map(|(_, d)| d.src).collect();
    assert_eq!(srcs[0], sa("203.0.113.1:5000"));
    assert_eq!(srcs[1].ip(), ip(PUBLIC));
    assert_ne!(srcs[1].port(), 5000);

    // Sequential: from the bottom of the range, one after another.
    let mut w = world(
        38,
        NatConfig::symmetric(ip(PUBLIC)).with_port_allocation(PortAllocation::Sequential),
    );
    assert_eq!(w.out(S1).port(), 1024);
    assert_eq!(w.out(S1_OTHER_PORT).port(), 1025);
    assert_eq!(w.out(S2).port(), 1026);

    // Random: seeded, so the same seed gives the same ports and another seed others.
    let ports = |seed| {
        let mut w = world(seed, NatConfig::symmetric(ip(PUBLIC)));
        [
            w.out(S1).port(),
            w.out(S1_OTHER_PORT).port(),
            w.out(S2).port(),
        ]
    };
    assert_eq!(ports(39), ports(39));
    assert_ne!(ports(39), ports(40));

    // A tiny range runs out: the third mapping has no port.
    let mut cfg = NatConfig::symmetric(ip(PUBLIC));
    cfg.port_range = 2000..=2001;
    let mut w = world(41, cfg);
    w.out(S1);
    w.out(S1_OTHER_PORT);
    w.sim
        .node_mut(w.inside)
        .send(Datagram::udp(sa(INSIDE), sa(S2), *b"x"));
    settle(&mut w.sim);
    assert!(w.sim.node(w.s2).received().is_empty());
    assert_eq!(w.sim.drops().get(DropReason::NatPortsExhausted), 1);
}

/// Two hosts behind one NAT and a public server.
fn lan(seed: u64, hairpin: bool) -> (Sim<Probe>, NatId, HostId, HostId) {
    let mut sim: Sim<Probe> = Sim::new(seed);
    let nat = sim.add_nat(NatConfig::port_restricted(ip(PUBLIC)).with_hairpinning(hairpin));
    let a = sim.add_node(
        HostConfig::behind(nat, "a", ip("192.168.0.2")),
        Probe::new(),
    );
    let b = sim.add_node(
        HostConfig::behind(nat, "b", ip("192.168.0.3")),
        Probe::echo(),
    );
    sim.add_node(HostConfig::public("s", ip("198.51.100.1")), Probe::new());
    // b opens a mapping by talking to the server.
    sim.node_mut(b)
        .send(Datagram::udp(sa("192.168.0.3:6000"), sa(S1), *b"hello"));
    settle(&mut sim);
    (sim, nat, a, b)
}

#[test]
fn hosts_behind_one_nat_talk_directly_and_hairpin_when_enabled() {
    // Directly on the LAN: private addresses, no NAT involved.
    let (mut sim, nat, a, b) = lan(42, false);
    let outbound_before = sim.nat_stats(nat).outbound;
    sim.node_mut(a).send(Datagram::udp(
        sa("192.168.0.2:5000"),
        sa("192.168.0.3:6000"),
        *b"lan",
    ));
    settle(&mut sim);
    let rx = sim.node(b).received();
    assert_eq!(rx.last().unwrap().1.src, sa("192.168.0.2:5000"));
    assert_eq!(sim.nat_stats(nat).outbound, outbound_before);
    assert_eq!(
        sim.node(a).received().len(),
        1,
        "the echo came back on the LAN"
    );

    // To b's external address without hairpinning: dropped.
    let b_ext = sa("203.0.113.1:6000");
    let before = sim.node(b).received().len();
    sim.node_mut(a)
        .send(Datagram::udp(sa("192.168.0.2:5000"), b_ext, *b"pin"));
    settle(&mut sim);
    assert_eq!(sim.node(b).received().len(), before);
    assert_eq!(sim.nat_stats(nat).dropped.get(DropReason::NatNoHairpin), 1);

    // With hairpinning: b sees a's external address, and its echo hairpins back.
    let (mut sim, nat, a, b) = lan(43, true);
    // b's port-restricted filter must admit a's external endpoint: b sends to it first (a has
    // no mapping yet, so that packet itself is dropped, but b's filter is open).
    sim.node_mut(b).send(Datagram::udp(
        sa("192.168.0.3:6000"),
        sa("203.0.113.1:5000"),
        *b"open",
    ));
    settle(&mut sim);
    assert_eq!(sim.nat_stats(nat).dropped.get(DropReason::NatNoMapping), 1);
    sim.node_mut(a)
        .send(Datagram::udp(sa("192.168.0.2:5000"), b_ext, *b"pin"));
    settle(&mut sim);
    let last = &sim.node(b).received().last().unwrap().1;
    assert_eq!(last.data, b"pin");
    assert_eq!(
        last.src,
        sa("203.0.113.1:5000"),
        "hairpinned source is a's external mapping"
    );
    assert_eq!(last.dst, sa("192.168.0.3:6000"));
    assert!(
        sim.node(a)
            .received()
            .iter()
            .any(|(_, d)| d.data == b"pin" && d.src == b_ext)
    );
    assert_eq!(sim.nat_stats(nat).hairpinned, 2);
}

#[test]
fn hole_punching_between_two_nats() {
    // Each side sends to the other's external address (learned from a server, as ICE does);
    // the first packets open each side's filter and then traffic flows both ways.
    // a's access link has 15 ms each way, b's 40 ms: a's first packet reaches b's NAT before
    // b's first packet has opened it.
    let run = |ka: NatType, kb: NatType| -> (usize, usize) {
        let mut sim: Sim<Probe> = Sim::new(44);
        let na = sim.add_nat(NatConfig::new(ka, ip("203.0.113.1")));
        let nb = sim.add_nat(NatConfig::new(kb, ip("203.0.113.2")));
        let link = |t| zvon_netsim::LinkConfig::ideal().with_latency(ms(t));
        let a = sim.add_node(
            HostConfig::behind(na, "a", ip("192.168.1.2")).with_link(link(15)),
            Probe::new(),
        );
        let b = sim.add_node(
            HostConfig::behind(nb, "b", ip("192.168.1.2")).with_link(link(40)),
            Probe::new(),
        );
        // What a server would report: each side's mapping towards the server.
        let srv = sa(S1);
        sim.add_node(HostConfig::public("s", srv.ip()), Probe::new());
        sim.node_mut(a)
            .send(Datagram::udp(sa("192.168.1.2:4000"), srv, *b"stun"));
        sim.node_mut(b)
            .send(Datagram::udp(sa("192.168.1.2:4000"), srv, *b"stun"));
        settle(&mut sim);
        let a_ext = sim
            .nat_mapping(na, Protocol::Udp, sa("192.168.1.2:4000"), srv)
            .unwrap();
        let b_ext = sim
            .nat_mapping(nb, Protocol::Udp, sa("192.168.1.2:4000"), srv)
            .unwrap();
        let t0 = sim.now();
        for i in 0..5u32 {
            let t = t0 + ms(100) * i;
            sim.node_mut(a)
                .send_at(t, Datagram::udp(sa("192.168.1.2:4000"), b_ext, *b"punch"));
            sim.node_mut(b)
                .send_at(t, Datagram::udp(sa("192.168.1.2:4000"), a_ext, *b"punch"));
        }
        sim.run_until_idle(Limits::default()).unwrap();
        let count = |h| {
            sim.node(h)
                .received()
                .iter()
                .filter(|(_, d)| d.data == b"punch")
                .count()
        };
        (count(a), count(b))
    };
    // Port-restricted on both sides: a's first packet dies in b's filter, the rest pass.
    assert_eq!(
        run(NatType::PortRestricted, NatType::PortRestricted),
        (5, 4)
    );
    // Full cone against symmetric: b's packets come from a new mapping but a's NAT admits
    // anyone; a's packets go to b's mapping towards the server, which admits only the server.
    assert_eq!(run(NatType::FullCone, NatType::Symmetric), (5, 0));
    // Symmetric against port-restricted: the symmetric side's packets come from a new port
    // that the other side never sent to; nothing gets through either way.
    assert_eq!(run(NatType::Symmetric, NatType::PortRestricted), (0, 0));
}

#[test]
fn nested_nat_and_dual_stack_hosts() {
    let mut sim: Sim<Probe> = Sim::new(45);
    // Carrier-grade NAT: the home NAT's public side is inside the carrier's NAT.
    let cgn = sim.add_nat(NatConfig::port_restricted(ip("203.0.113.9")));
    let home = sim.add_nat(NatConfig::full_cone(ip("100.64.0.7")).with_outer(Realm::Behind(cgn)));
    let h = sim.add_node(
        HostConfig::behind(home, "h", ip("192.168.0.2"))
            .with_addr(ip("2001:db8::2"), Realm::Public),
        Probe::new(),
    );
    let s = sim.add_node(
        HostConfig::public("s", ip("198.51.100.1")).with_addr(ip("2001:db8::1"), Realm::Public),
        Probe::echo(),
    );
    sim.node_mut(h)
        .send(Datagram::udp(sa("192.168.0.2:5000"), sa(S1), *b"v4"));
    sim.node_mut(h).send(Datagram::udp(
        sa("[2001:db8::2]:5000"),
        sa("[2001:db8::1]:3478"),
        *b"v6",
    ));
    settle(&mut sim);
    let mut seen: Vec<SocketAddr> = sim.node(s).received().iter().map(|(_, d)| d.src).collect();
    seen.sort();
    assert_eq!(seen, vec![sa("203.0.113.9:5000"), sa("[2001:db8::2]:5000")]);
    // Both echoes came back through both NATs (or directly, for IPv6).
    let mut back: Vec<SocketAddr> = sim.node(h).received().iter().map(|(_, d)| d.dst).collect();
    back.sort();
    assert_eq!(back, vec![sa("192.168.0.2:5000"), sa("[2001:db8::2]:5000")]);
    assert_eq!(sim.nat_stats(cgn).inbound, 1);
    assert_eq!(sim.nat_stats(home).inbound, 1);
    // An IPv4 NAT does not carry IPv6.
    let nat_v4 = sim.add_nat(NatConfig::full_cone(ip("203.0.113.20")));
    let only_v6 = sim.add_node(HostConfig::behind(nat_v4, "x", ip("fd00::2")), Probe::new());
    sim.node_mut(only_v6).send(Datagram::udp(
        sa("[fd00::2]:1"),
        sa("[2001:db8::1]:3478"),
        *b"no",
    ));
    settle(&mut sim);
    assert_eq!(sim.drops().get(DropReason::NoRoute), 1);
}
