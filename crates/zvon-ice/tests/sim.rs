//! ICE in the simulator: every NAT pair, loss, restart, consent, roles, lite, IPv6, TURN.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use zvon_ice::turn::TurnError;
use zvon_ice::{CandidateKind, IceConfig, IceConnectionState, IceEvent, IceRole};
use zvon_netsim::{HostConfig, HostId, LinkConfig, NatConfig, NatType, Sim};

const SERVER: &str = "198.51.100.7:3478";
/// Application payloads start with 23 (a DTLS record type) so ICE passes them up.
const MSG_A: &[u8] = b"\x17hello from a";
const MSG_B: &[u8] = b"\x17hello from b";

struct World {
    sim: Sim<TestNode>,
    a: HostId,
    b: HostId,
    server: HostId,
}

struct Setup {
    seed: u64,
    nat_a: Option<NatType>,
    nat_b: Option<NatType>,
    loss: f64,
    latency: Duration,
    turn: bool,
    stun: bool,
    cfg_a: IceConfig,
    cfg_b: IceConfig,
    turn_pass: &'static str,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            seed: 1,
            nat_a: None,
            nat_b: None,
            loss: 0.0,
            latency: Duration::from_millis(10),
            turn: true,
            stun: true,
            cfg_a: IceConfig::default(),
            cfg_b: IceConfig::default(),
            turn_pass: TURN_PASS,
        }
    }
}

fn build(s: Setup) -> World {
    let mut sim: Sim<TestNode> = Sim::new(s.seed);
    let server_addr: SocketAddr = SERVER.parse().unwrap();
    let link = LinkConfig::ideal()
        .with_latency(s.latency)
        .with_loss(s.loss);
    let server = sim.add_node(
        HostConfig::public("turn", server_addr.ip())
            .with_link(LinkConfig::ideal().with_latency(s.latency)),
        TestNode::Server(Box::new(TurnServer::new(server_addr))),
    );
    let mut hosts = Vec::new();
    for (i, nat) in [s.nat_a, s.nat_b].into_iter().enumerate() {
        let name = if i == 0 { "a" } else { "b" };
        let (cfg, addr) = match nat {
            None => {
                let ip = format!("203.0.113.{}", 10 + i);
                (
                    HostConfig::public(name, ip.parse().unwrap()),
                    format!("{ip}:5000"),
                )
            }
            Some(kind) => {
                let public = format!("203.0.113.{}", 1 + i).parse().unwrap();
                let n = sim.add_nat(NatConfig::new(kind, public));
                let ip = format!("192.168.{}.10", 1 + i);
                (
                    HostConfig::behind(n, name, ip.parse().unwrap()),
                    format!("{ip}:5000"),
                )
            }
        };
        hosts.push((
            cfg.with_link(link.clone()),
            addr.parse::<SocketAddr>().unwrap(),
        ));
    }
    let now = sim.now();
    let mut ids = Vec::new();
    for (i, (cfg, addr)) in hosts.into_iter().enumerate() {
        let (role, icfg) = if i == 0 {
            (IceRole::Controlling, s.cfg_a.clone())
        } else {
            (IceRole::Controlled, s.cfg_b.clone())
        };
        let mut ice = agent(role, s.seed * 10 + i as u64, icfg);
        ice.add_host_candidate(addr, 0);
        if s.stun {
            ice.add_stun_server(server_addr);
        }
        if s.turn {
            ice.add_turn_server(turn_config(server_addr, s.turn_pass));
        }
        ice.gather(now);
        let mut node = AgentNode::new(ice);
        node.beacon = Some(if i == 0 {
            MSG_A.to_vec()
        } else {
            MSG_B.to_vec()
        });
        ids.push(sim.add_node(cfg, TestNode::Agent(Box::new(node))));
    }
    World {
        sim,
        a: ids[0],
        b: ids[1],
        server,
    }
}

impl World {
    fn a(&self) -> &AgentNode {
        self.sim.node(self.a).agent()
    }
    fn b(&self) -> &AgentNode {
        self.sim.node(self.b).agent()
    }
    /// Drives until both sides are connected and each received the other's message; returns
    /// the time until both were connected.
    fn connect(&mut self, max: Duration) -> Duration {
        let start = self.sim.now();
        let (a, b) = (self.a, self.b);
        drive(&mut self.sim, a, b, max, |s| {
            let got =
                |h: HostId, m: &[u8]| s.node(h).agent().received.iter().any(|(_, d, _)| d == m);
            s.node(a).agent().connected()
                && s.node(b).agent().connected()
                && got(a, MSG_B)
                && got(b, MSG_A)
        })
        .unwrap_or_else(|e| {
            panic!(
                "no connection: {e}; a: {:?} b: {:?}\na events: {:?}\nb events: {:?}",
                self.a().state(),
                self.b().state(),
                self.a().events,
                self.b().events
            )
        });
        let connected = |n: &AgentNode| {
            n.states
                .iter()
                .find(|(_, s)| {
                    matches!(
                        s,
                        IceConnectionState::Connected | IceConnectionState::Completed
                    )
                })
                .map(|(t, _)| *t)
                .unwrap()
        };
        connected(self.a()).max(connected(self.b())) - start
    }
    fn selected_kinds(&self, h: HostId) -> (CandidateKind, CandidateKind) {
        let (l, r) = self
            .sim
            .node(h)
            .agent()
            .ice
            .selected_pair()
            .expect("a selected pair");
        (l.kind, r.kind)
    }
}

fn relayed(k: (CandidateKind, CandidateKind)) -> bool {
    k.0 == CandidateKind::Relayed || k.1 == CandidateKind::Relayed
}

#[test]
fn public_hosts_connect_directly_and_fast() {
    let mut w = build(Setup {
        turn: false,
        stun: false,
        ..Setup::default()
    });
    let t = w.connect(Duration::from_secs(5));
    assert_eq!(
        w.selected_kinds(w.a),
        (CandidateKind::Host, CandidateKind::Host)
    );
    // One-way latency is 20 ms (two access links of 10 ms): a check's round trip is 40 ms,
    // and the data goes right after the first success, so about two round trips in all.
    assert!(t <= Duration::from_millis(100), "took {t:?}");
    // Nomination, end-of-candidates both ways, nothing left to check: both reach the W3C
    // `completed` state, on the same pair.
    let (a, b) = (w.a, w.b);
    drive(&mut w.sim, a, b, Duration::from_secs(2), |s| {
        s.node(a).agent().state() == IceConnectionState::Completed
            && s.node(b).agent().state() == IceConnectionState::Completed
    })
    .unwrap();
    let pa = w
        .a()
        .ice
        .selected_pair()
        .map(|(l, r)| (l.addr, r.addr))
        .unwrap();
    let pb = w
        .b()
        .ice
        .selected_pair()
        .map(|(l, r)| (r.addr, l.addr))
        .unwrap();
    assert_eq!(pa, pb);
    let order: Vec<_> = w.a().states.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        order,
        [
            IceConnectionState::Checking,
            IceConnectionState::Connected,
            IceConnectionState::Completed
        ]
    );
}

fn nat_name(n: Option<NatType>) -> String {
    n.map_or("public".into(), |n| format!("{n:?}"))
}

/// The matrix: every pair of the four NAT types (and no NAT), connecting directly
/// where the NATs allow, through TURN where they do not.
#[test]
fn every_nat_pair_connects() {
    let kinds = [
        None,
        Some(NatType::FullCone),
        Some(NatType::AddressRestricted),
        Some(NatType::PortRestricted),
        Some(NatType::Symmetric),
    ];
    let mut report = Vec::new();
    for (i, na) in kinds.iter().enumerate() {
        for (j, nb) in kinds.iter().enumerate() {
            let mut w = build(Setup {
                seed: 100 + (i * 5 + j) as u64,
                nat_a: *na,
                nat_b: *nb,
                ..Setup::default()
            });
            let t = w.connect(Duration::from_secs(20));
            let kinds_a = w.selected_kinds(w.a);
            let sym = |n: &Option<NatType>| *n == Some(NatType::Symmetric);
            let port_strict = |n: &Option<NatType>| {
                matches!(n, Some(NatType::Symmetric | NatType::PortRestricted))
            };
            // Direct is impossible when one side is symmetric and the other port-restricted
            // or symmetric: the relay must be in the selected pair.
            let needs_relay = (sym(na) && port_strict(nb)) || (sym(nb) && port_strict(na));
            if needs_relay {
                assert!(
                    relayed(kinds_a),
                    "{na:?}/{nb:?}: expected a relayed pair, got {kinds_a:?}"
                );
            }
            report.push(format!(
                "{:>17} x {:<17} {:>5} ms {:?}",
                nat_name(*na),
                nat_name(*nb),
                t.as_millis(),
                kinds_a
            ));
        }
    }
    println!("{}", report.join("\n"));
}

#[test]
fn connects_under_20_percent_loss() {
    let mut times = Vec::new();
    for seed in 0..8 {
        let mut w = build(Setup {
            seed: 300 + seed,
            nat_a: Some(NatType::PortRestricted),
            nat_b: Some(NatType::FullCone),
            loss: 0.2,
            ..Setup::default()
        });
        times.push(w.connect(Duration::from_secs(30)).as_millis());
    }
    times.sort();
    println!("connect times at 20% loss (ms): {times:?}");
}

#[test]
fn symmetric_pair_under_loss_connects_through_turn() {
    let mut w = build(Setup {
        seed: 400,
        nat_a: Some(NatType::Symmetric),
        nat_b: Some(NatType::Symmetric),
        loss: 0.2,
        ..Setup::default()
    });
    let t = w.connect(Duration::from_secs(30));
    assert!(relayed(w.selected_kinds(w.a)));
    println!("symmetric x symmetric via TURN at 20% loss: {t:?}");
}

#[test]
fn consent_expiry_goes_disconnected_then_failed() {
    let mut w = build(Setup {
        turn: false,
        stun: false,
        ..Setup::default()
    });
    w.connect(Duration::from_secs(5));
    let (a, b) = (w.a, w.b);
    run_for(&mut w.sim, a, b, Duration::from_secs(3));
    let cut_at = w.sim.now();
    w.sim.cut(b);
    run_for(&mut w.sim, a, b, Duration::from_secs(40));
    let ag = w.a();
    let disc = ag
        .first(IceConnectionState::Disconnected)
        .expect("disconnected");
    let failed = ag.first(IceConnectionState::Failed).expect("failed");
    // RFC 7675: consent expires 30 s after the last response; zvon reports `disconnected`
    // after 5 s of silence. The last response came at most one consent interval (2.5 s
    // +20%) before the cut.
    let d = disc - cut_at;
    let f = failed - cut_at;
    assert!(
        d >= Duration::from_secs(2) && d <= Duration::from_secs(5),
        "disconnected after {d:?}"
    );
    assert!(
        f >= Duration::from_secs(27) && f <= Duration::from_secs(30),
        "failed after {f:?}"
    );
    assert!(
        ag.ice.selected_pair().is_none(),
        "no data may flow after consent expired"
    );
    println!("cut -> disconnected {d:?}, -> failed {f:?}");
}

#[test]
fn role_conflict_both_controlling_resolves() {
    for seed in [1, 2, 3, 4] {
        let mut s = Setup {
            seed: 500 + seed,
            turn: false,
            stun: false,
            ..Setup::default()
        };
        s.seed = 500 + seed;
        let mut w = build(s);
        // Make b controlling too: a fresh agent with the same host candidate.
        let now = w.sim.now();
        let mut ice = agent(IceRole::Controlling, 9000 + seed, IceConfig::default());
        ice.add_host_candidate("203.0.113.11:5000".parse().unwrap(), 0);
        ice.gather(now);
        let mut node = AgentNode::new(ice);
        node.beacon = Some(MSG_B.to_vec());
        let b = w.b;
        w.sim.attach(b, TestNode::Agent(Box::new(node)));
        w.connect(Duration::from_secs(5));
        let roles = (w.a().ice.role(), w.b().ice.role());
        assert!(
            roles == (IceRole::Controlling, IceRole::Controlled)
                || roles == (IceRole::Controlled, IceRole::Controlling),
            "roles after conflict: {roles:?}"
        );
        let changed = w
            .a()
            .events
            .iter()
            .chain(w.b().events.iter())
            .any(|(_, e)| matches!(e, IceEvent::RoleChanged(_)));
        assert!(changed);
    }
}

#[test]
fn role_conflict_both_controlled_resolves() {
    for seed in [1, 2, 3, 4] {
        let mut w = build(Setup {
            seed: 600 + seed,
            turn: false,
            stun: false,
            ..Setup::default()
        });
        let now = w.sim.now();
        let mut ice = agent(IceRole::Controlled, 7000 + seed, IceConfig::default());
        ice.add_host_candidate("203.0.113.10:5000".parse().unwrap(), 0);
        ice.gather(now);
        let mut node = AgentNode::new(ice);
        node.beacon = Some(MSG_A.to_vec());
        let a = w.a;
        w.sim.attach(a, TestNode::Agent(Box::new(node)));
        w.connect(Duration::from_secs(5));
        let roles = (w.a().ice.role(), w.b().ice.role());
        assert_ne!(roles.0, roles.1, "roles after conflict: {roles:?}");
        // Somebody nominated: both end with a nominated pair and agree on it.
        let (a, b) = (w.a, w.b);
        run_for(&mut w.sim, a, b, Duration::from_secs(1));
        let pa = w
            .a()
            .ice
            .selected_pair()
            .map(|(l, r)| (l.addr, r.addr))
            .unwrap();
        let pb = w
            .b()
            .ice
            .selected_pair()
            .map(|(l, r)| (r.addr, l.addr))
            .unwrap();
        assert_eq!(pa, pb);
    }
}

#[test]
fn lite_agent_against_full_agent() {
    let cfg_b = IceConfig {
        lite: true,
        ..IceConfig::default()
    };
    let mut w = build(Setup {
        turn: false,
        stun: false,
        nat_a: Some(NatType::PortRestricted),
        cfg_b,
        ..Setup::default()
    });
    w.connect(Duration::from_secs(5));
    assert!(w.b().ice.is_lite());
    assert_eq!(w.b().ice.role(), IceRole::Controlled);
    // The lite side selected what the full side nominated (the full side's NAT address is a
    // peer-reflexive candidate for it).
    let (_, r) = w.b().ice.selected_pair().unwrap();
    assert_eq!(r.kind, CandidateKind::PeerReflexive);
    assert_eq!(r.addr.ip().to_string(), "203.0.113.1");
}

#[test]
fn ipv6_hosts_connect() {
    let mut sim: Sim<TestNode> = Sim::new(77);
    let now = sim.now();
    let mut ids = Vec::new();
    for (i, ip) in ["2001:db8::1", "2001:db8::2"].iter().enumerate() {
        let addr: SocketAddr = SocketAddr::new(ip.parse().unwrap(), 6000);
        let role = if i == 0 {
            IceRole::Controlling
        } else {
            IceRole::Controlled
        };
        let mut ice = agent(role, 70 + i as u64, IceConfig::default());
        ice.add_host_candidate(addr, 0);
        ice.gather(now);
        let mut node = AgentNode::new(ice);
        node.beacon = Some(if i == 0 {
            MSG_A.to_vec()
        } else {
            MSG_B.to_vec()
        });
        let cfg = HostConfig::public(format!("h{i}"), addr.ip())
            .with_link(LinkConfig::ideal().with_latency(Duration::from_millis(5)));
        ids.push(sim.add_node(cfg, TestNode::Agent(Box::new(node))));
    }
    let (a, b) = (ids[0], ids[1]);
    drive(&mut sim, a, b, Duration::from_secs(5), |s| {
        s.node(a)
            .agent()
            .received
            .iter()
            .any(|(_, d, _)| d == MSG_B)
            && s.node(b)
                .agent()
                .received
                .iter()
                .any(|(_, d, _)| d == MSG_A)
    })
    .unwrap();
    let (l, r) = sim.node(a).agent().ice.selected_pair().unwrap();
    assert!(l.addr.is_ipv6() && r.addr.is_ipv6());
}

#[test]
fn turn_wrong_password_is_a_clear_error() {
    let mut w = build(Setup {
        turn_pass: "wrong",
        nat_a: Some(NatType::Symmetric),
        nat_b: Some(NatType::Symmetric),
        ..Setup::default()
    });
    let (a, b) = (w.a, w.b);
    drive(&mut w.sim, a, b, Duration::from_secs(10), |s| {
        s.node(a)
            .agent()
            .events
            .iter()
            .any(|(_, e)| matches!(e, IceEvent::TurnFailed(_)))
    })
    .unwrap();
    let err = w
        .a()
        .events
        .iter()
        .find_map(|(_, e)| match e {
            IceEvent::TurnFailed(e) => Some(e.clone()),
            _ => None,
        })
        .unwrap();
    assert!(matches!(err, TurnError::Unauthorized { .. }), "{err:?}");
    assert!(err.to_string().contains("401"), "{err}");
    // One challenge, one authenticated attempt, no retry loop.
    assert_eq!(
        w.sim.node(w.server).server().sent_401,
        4,
        "two 401s per agent"
    );
    // Symmetric on both sides and no relay: the agents end failed, not hanging.
    run_for(&mut w.sim, a, b, Duration::from_secs(30));
    assert_eq!(w.a().state(), IceConnectionState::Failed);
}

#[test]
fn turn_refresh_before_expiry_and_stale_nonce_retry() {
    let mut w = build(Setup {
        nat_a: Some(NatType::Symmetric),
        nat_b: Some(NatType::Symmetric),
        ..Setup::default()
    });
    w.sim.node_mut(w.server).server_mut().lifetime = 120;
    w.connect(Duration::from_secs(10));
    let (a, b) = (w.a, w.b);
    // Stale nonce: the next Refresh is answered 438 and must be retried with the new nonce.
    w.sim.node_mut(w.server).server_mut().rotate_nonce();
    let t0 = w.sim.now();
    run_for(&mut w.sim, a, b, Duration::from_secs(300));
    let srv = w.sim.node(w.server).server();
    assert!(srv.sent_438 >= 1, "438 was sent");
    // Lifetime 120 s: refreshed a minute early, every ~60 s, by both clients.
    let refreshes: Vec<Duration> = srv.refreshes.iter().map(|(t, _)| *t - t0).collect();
    assert!(refreshes.len() >= 8, "refreshes: {refreshes:?}");
    assert_eq!(
        srv.allocation_count(),
        2,
        "both allocations alive after 5 minutes"
    );
    // And data still flows through the relay.
    w.sim
        .node_mut(a)
        .agent_mut()
        .to_send
        .push_back(b"\x17after refresh".to_vec());
    drive(&mut w.sim, a, b, Duration::from_secs(5), |s| {
        s.node(b)
            .agent()
            .received
            .iter()
            .any(|(_, d, _)| d == b"\x17after refresh")
    })
    .unwrap();
}

#[test]
fn close_releases_turn_allocations() {
    let mut w = build(Setup {
        nat_a: Some(NatType::Symmetric),
        nat_b: Some(NatType::Symmetric),
        ..Setup::default()
    });
    w.connect(Duration::from_secs(10));
    let now = w.sim.now();
    let (a, b) = (w.a, w.b);
    w.sim.node_mut(a).agent_mut().ice.close(now);
    w.sim.node_mut(b).agent_mut().ice.close(now);
    run_for(&mut w.sim, a, b, Duration::from_secs(2));
    assert_eq!(w.sim.node(w.server).server().deallocations, 2);
    assert_eq!(w.a().state(), IceConnectionState::Closed);
}

#[test]
fn trickled_candidates_after_checks_start() {
    // a's candidates reach b only after b has been checking for a while.
    let mut w = build(Setup {
        turn: false,
        stun: false,
        ..Setup::default()
    });
    let (a, b) = (w.a, w.b);
    // Hold a's candidates back for 300 ms.
    let held: Vec<_> = std::mem::take(&mut w.sim.node_mut(a).agent_mut().outbox);
    let creds: Vec<_> = held
        .iter()
        .filter(|s| matches!(s, Signal::Credentials(..)))
        .cloned()
        .collect();
    let cands: Vec<_> = held
        .into_iter()
        .filter(|s| !matches!(s, Signal::Credentials(..)))
        .collect();
    w.sim.node_mut(a).agent_mut().outbox = creds;
    run_for(&mut w.sim, a, b, Duration::from_millis(300));
    let now = w.sim.now();
    for s in cands {
        w.sim.node_mut(b).agent_mut().signal(now, s);
    }
    w.connect(Duration::from_secs(5));
}

/// A controlling agent that nominates on its first success (no wait for better pairs): the
/// controlled side accepts at once. (Aggressive nomination proper, USE-CANDIDATE on every
/// check, is tested with hand-built checks in `tests/nomination.rs`.)
#[test]
fn immediate_nomination_is_accepted() {
    let cfg_a = IceConfig {
        nomination_delay: Duration::ZERO,
        ..IceConfig::default()
    };
    let mut w = build(Setup {
        turn: false,
        stun: false,
        cfg_a,
        ..Setup::default()
    });
    w.connect(Duration::from_secs(5));
    let (a, b) = (w.a, w.b);
    run_for(&mut w.sim, a, b, Duration::from_millis(500));
    assert!(w.b().ice.selected_pair().is_some());
}

#[test]
fn ice_restart_recovers_after_the_old_path_is_cut() {
    // a has two addresses: a preferred one behind a NAT ("Wi-Fi") and a public one ("cellular").
    // The session runs over the NAT; the NAT dies; an ICE restart moves it to the other path.
    let mut sim: Sim<TestNode> = Sim::new(4242);
    let link = LinkConfig::ideal().with_latency(Duration::from_millis(10));
    let nat = sim.add_nat(NatConfig::port_restricted("203.0.113.1".parse().unwrap()));
    let now = sim.now();
    let wifi: SocketAddr = "192.168.1.10:5000".parse().unwrap();
    let cell: SocketAddr = "203.0.113.77:5001".parse().unwrap();
    let bh: SocketAddr = "203.0.113.11:5000".parse().unwrap();
    let mut ia = agent(IceRole::Controlling, 1, IceConfig::default());
    ia.add_host_candidate(wifi, 0);
    ia.add_host_candidate(cell, 1);
    ia.gather(now);
    let mut ib = agent(IceRole::Controlled, 2, IceConfig::default());
    ib.add_host_candidate(bh, 0);
    ib.gather(now);
    let mut na = AgentNode::new(ia);
    na.beacon = Some(MSG_A.to_vec());
    let mut nb = AgentNode::new(ib);
    nb.beacon = Some(MSG_B.to_vec());
    let a = sim.add_node(
        HostConfig::behind(nat, "a", wifi.ip())
            .with_addr(cell.ip(), zvon_netsim::Realm::Public)
            .with_link(link.clone()),
        TestNode::Agent(Box::new(na)),
    );
    let b = sim.add_node(
        HostConfig::public("b", bh.ip()).with_link(link),
        TestNode::Agent(Box::new(nb)),
    );
    drive(&mut sim, a, b, Duration::from_secs(5), |s| {
        s.node(a)
            .agent()
            .ice
            .selected_pair()
            .is_some_and(|(l, _)| l.addr == wifi)
            && s.node(b)
                .agent()
                .received
                .iter()
                .any(|(_, d, _)| d == MSG_A)
    })
    .unwrap();
    // Let nomination settle, then the NAT dies.
    run_for(&mut sim, a, b, Duration::from_secs(1));
    assert_eq!(
        sim.node(a).agent().ice.selected_pair().unwrap().0.addr,
        wifi
    );
    sim.cut(nat);
    run_for(&mut sim, a, b, Duration::from_secs(8));
    assert_eq!(
        sim.node(a).agent().state(),
        IceConnectionState::Disconnected
    );
    let now = sim.now();
    let ca = sim.node_mut(a).agent_mut().ice.restart(now).clone();
    let cb = sim.node_mut(b).agent_mut().ice.restart(now).clone();
    sim.node_mut(a)
        .agent_mut()
        .outbox
        .push(Signal::Credentials(ca.ufrag, ca.pwd));
    sim.node_mut(b)
        .agent_mut()
        .outbox
        .push(Signal::Credentials(cb.ufrag, cb.pwd));
    let t0 = sim.now();
    let before_b = sim.node(b).agent().received.len();
    drive(&mut sim, a, b, Duration::from_secs(5), |s| {
        s.node(a).agent().connected()
            && s.node(b).agent().connected()
            && s.node(b).agent().received.len() > before_b
    })
    .unwrap();
    let took = sim.now() - t0;
    let (l, r) = sim.node(a).agent().ice.selected_pair().unwrap();
    assert_eq!(
        (l.addr, r.addr),
        (cell, bh),
        "the session moved to the surviving path"
    );
    let last = sim.node(b).agent().received.last().unwrap();
    assert_eq!(last.2, cell, "b hears a on the new path");
    assert!(took < Duration::from_millis(500), "restart took {took:?}");
    println!("restart recovered in {took:?}");
}

#[test]
fn many_lite_agents_share_one_port() {
    const N: usize = 40;
    let mut sim: Sim<TestNode> = Sim::new(900);
    let server_addr: SocketAddr = "198.51.100.50:443".parse().unwrap();
    let link = LinkConfig::ideal().with_latency(Duration::from_millis(15));
    let now = sim.now();
    let mut lite = LiteServer::new();
    let mut clients = Vec::new();
    for i in 0..N {
        let mut srv = agent(
            IceRole::Controlled,
            5000 + i as u64,
            IceConfig {
                lite: true,
                ..IceConfig::default()
            },
        );
        srv.add_host_candidate(server_addr, 0);
        srv.gather(now);
        let mut cli = agent(IceRole::Controlling, 6000 + i as u64, IceConfig::default());
        // Half the clients sit behind their own NAT.
        let ip = format!("203.0.113.{}", 100 + i);
        let (cfg, host) = if i % 2 == 0 {
            (
                HostConfig::public(format!("c{i}"), ip.parse().unwrap()),
                format!("{ip}:5000"),
            )
        } else {
            let n = sim.add_nat(NatConfig::port_restricted(ip.parse().unwrap()));
            let private = format!("10.9.{i}.2");
            (
                HostConfig::behind(n, format!("c{i}"), private.parse().unwrap()),
                format!("{private}:5000"),
            )
        };
        cli.add_host_candidate(host.parse().unwrap(), 0);
        cli.gather(now);
        let sc = srv.local_credentials().clone();
        let cc = cli.local_credentials().clone();
        cli.set_remote_credentials(now, &sc.ufrag, &sc.pwd).unwrap();
        srv.set_remote_credentials(now, &cc.ufrag, &cc.pwd).unwrap();
        let host_cand = zvon_ice::Candidate::host(server_addr, 0);
        cli.add_remote_candidate(now, host_cand).unwrap();
        cli.end_of_remote_candidates(now);
        lite.add(srv);
        let mut node = AgentNode::new(cli);
        node.outbox.clear();
        node.beacon = Some(format!("\x17client {i}").into_bytes());
        clients.push(sim.add_node(cfg.with_link(link.clone()), TestNode::Agent(Box::new(node))));
    }
    let server = sim.add_node(
        HostConfig::public("lite", server_addr.ip()).with_link(link),
        TestNode::Lite(Box::new(lite)),
    );
    let cl = clients.clone();
    sim.run_until(zvon_netsim::Limits::time(Duration::from_secs(10)), |s| {
        cl.iter().all(|c| s.node(*c).agent().connected())
            && s.node(server).lite().received.iter().all(|n| *n > 0)
    })
    .unwrap();
    let l = sim.node(server).lite();
    assert_eq!(l.mux.known_addresses(), N);
    assert_eq!(l.unrouted, 0);
    for (k, a) in l.agents.iter().enumerate() {
        let (local, remote) = a
            .selected_pair()
            .expect("every lite agent selected its client's pair");
        assert_eq!(local.addr, server_addr);
        // The agent's peer is the client it was made for: public clients by their host address,
        // NATed ones by their NAT's address.
        assert_eq!(
            remote.addr.ip().to_string(),
            format!("203.0.113.{}", 100 + k)
        );
    }
    println!(
        "{N} lite agents on one port connected in {:?}",
        sim.elapsed()
    );
}

/// A sweep over seeds, NAT types and loss rates: every combination must connect, and none may
/// take longer than the bound (a regression net for rare orderings).
#[test]
fn random_sweep_connects() {
    let kinds = [
        None,
        Some(NatType::FullCone),
        Some(NatType::AddressRestricted),
        Some(NatType::PortRestricted),
        Some(NatType::Symmetric),
    ];
    let runs: u64 = std::env::var("ZVON_ICE_SWEEP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let mut worst = (Duration::ZERO, 0);
    for seed in 0..runs {
        let mut r = zvon_base::Rng::from_seed_u64(seed);
        let na = kinds[r.below(5) as usize];
        let nb = kinds[r.below(5) as usize];
        let loss = [0.0, 0.05, 0.1, 0.2][r.below(4) as usize];
        let mut w = build(Setup {
            seed: 10_000 + seed,
            nat_a: na,
            nat_b: nb,
            loss,
            ..Setup::default()
        });
        let t = w.connect(Duration::from_secs(30));
        if t > worst.0 {
            worst = (t, seed);
        }
    }
    println!("sweep of {runs}: worst {:?} (seed {})", worst.0, worst.1);
}

/// Nothing gets through and the peer never signals end-of-candidates (as many applications
/// do not): the agent still ends `failed`, a grace period after its last pair failed.
#[test]
fn unreachable_peer_fails_without_end_of_candidates() {
    let mut w = build(Setup {
        turn: false,
        stun: false,
        ..Setup::default()
    });
    let (a, b) = (w.a, w.b);
    w.sim.node_mut(a).agent_mut().send_eoc = false;
    w.sim.node_mut(b).agent_mut().send_eoc = false;
    w.sim.cut(b);
    let t0 = w.sim.now();
    drive(&mut w.sim, a, b, Duration::from_secs(30), |s| {
        s.node(a).agent().state() == IceConnectionState::Failed
    })
    .unwrap();
    let took = w.sim.now() - t0;
    // Checks give up after ~8 s (9 checks, RTO 250 ms doubling to 1 s, then Rm), plus 5 s.
    assert!(
        took >= Duration::from_secs(10) && took <= Duration::from_secs(16),
        "failed after {took:?}"
    );
    println!("unreachable peer: failed after {took:?}");
}
