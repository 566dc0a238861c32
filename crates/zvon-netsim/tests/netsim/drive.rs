//! The drive loops: bounds, past timeouts, manual stepping, injection.

use std::time::{Duration, Instant};

use zvon_netsim::{
    Datagram, DriveError, DropReason, HostConfig, HostId, Limits, LinkConfig, Node, Probe, Sim,
    Step,
};

use crate::{A, B, ip, ms, pair, sa, settle};

/// Two echo probes bouncing one datagram forever.
fn ping_pong(latency: Duration) -> (Sim<Probe>, HostId) {
    let mut sim = Sim::new(50);
    let link = LinkConfig::ideal().with_latency(latency);
    let a = sim.add_node(
        HostConfig::public("a", ip("10.0.0.1")).with_link(link.clone()),
        Probe::echo(),
    );
    sim.add_node(
        HostConfig::public("b", ip("10.0.0.2")).with_link(link),
        Probe::echo(),
    );
    sim.node_mut(a).send(Datagram::udp(sa(A), sa(B), *b"ball"));
    (sim, a)
}

#[test]
fn zero_time_ping_pong_is_a_frozen_livelock() {
    let (mut sim, _) = ping_pong(Duration::ZERO);
    let t0 = sim.now();
    let err = sim.run_until(Limits::default().with_max_steps_per_instant(1000), |_| {
        false
    });
    assert!(
        matches!(err, Err(DriveError::Livelock { frozen: true, .. })),
        "{err:?}"
    );
    assert_eq!(sim.now(), t0, "the clock never moved");
    // advance_to has the same guard.
    let err = sim.advance(ms(1));
    assert!(
        matches!(err, Err(DriveError::Livelock { frozen: true, .. })),
        "{err:?}"
    );
}

#[test]
fn ping_pong_with_latency_hits_the_step_bound_or_the_deadline() {
    let (mut sim, _) = ping_pong(ms(5));
    let err = sim.run_until(Limits::default().with_max_steps(1000), |_| false);
    assert!(
        matches!(
            err,
            Err(DriveError::Livelock {
                frozen: false,
                steps: 1000,
                ..
            })
        ),
        "{err:?}"
    );

    let (mut sim, a) = ping_pong(ms(5));
    let t0 = sim.now();
    let err = sim.run_until(Limits::time(Duration::from_secs(2)), |_| false);
    assert_eq!(
        err,
        Err(DriveError::Deadline {
            at: Duration::from_secs(2)
        })
    );
    assert_eq!(sim.now(), t0 + Duration::from_secs(2));
    // 20 ms per round trip: 100 round trips, 200 deliveries per side (+/- the last in flight).
    let n = sim.node(a).received().len();
    assert!((99..=101).contains(&n), "{n}");

    // The same loop with a goal succeeds as soon as the goal holds.
    let (mut sim, a) = ping_pong(ms(5));
    sim.run_until(Limits::time(Duration::from_secs(10)), |s| {
        s.node(a).received().len() >= 10
    })
    .unwrap();
    assert_eq!(sim.elapsed(), ms(200));
}

#[test]
fn idle_without_the_goal_is_an_error_and_run_until_idle_is_ok() {
    let (mut sim, a, _b) = pair(51, LinkConfig::ideal().with_latency(ms(7)));
    sim.node_mut(a).send(Datagram::udp(sa(A), sa(B), *b"x"));
    assert_eq!(
        sim.run_until(Limits::default(), |_| false),
        Err(DriveError::Idle { at: ms(7) })
    );
    assert_eq!(sim.run_until_idle(Limits::default()), Ok(()));
}

/// A node whose timer is set in the past, relative to the simulation origin.
struct Late {
    due: Option<Instant>,
    fired: Vec<Instant>,
    clears: bool,
}

impl Node for Late {
    fn handle_datagram(&mut self, _: Instant, _: Datagram) {}
    fn poll_transmit(&mut self, _: Instant) -> Option<Datagram> {
        None
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        self.due
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.fired.push(now);
        if self.clears {
            self.due = None;
        }
    }
}

#[test]
fn past_timeouts_fire_at_once_without_moving_the_clock() {
    let mut sim: Sim<Late> = Sim::new(52);
    let origin = sim.now();
    sim.advance(ms(100)).unwrap();
    let now = sim.now();
    let h = sim.add_node(
        HostConfig::public("late", ip("10.0.0.1")),
        Late {
            due: Some(origin),
            fired: vec![],
            clears: true,
        },
    );
    assert_eq!(sim.step(), Step::Busy);
    assert_eq!(sim.node(h).fired, vec![now]);
    assert_eq!(sim.now(), now);
    assert_eq!(sim.step(), Step::Idle);

    // One that never clears it is a frozen livelock, not a hang.
    let h2 = sim.add_node(
        HostConfig::public("stuck", ip("10.0.0.2")),
        Late {
            due: Some(origin),
            fired: vec![],
            clears: false,
        },
    );
    let err = sim.run_until(Limits::default().with_max_steps_per_instant(500), |_| false);
    assert!(matches!(
        err,
        Err(DriveError::Livelock { frozen: true, .. })
    ));
    assert_eq!(sim.node(h2).fired.len(), 500);
}

#[test]
fn manual_stepping_and_timers() {
    let (mut sim, a, b) = pair(53, LinkConfig::ideal().with_latency(ms(30)));
    let t0 = sim.now();
    sim.node_mut(a)
        .send_at(t0 + ms(10), Datagram::udp(sa(A), sa(B), *b"x"));
    assert_eq!(sim.step(), Step::Advanced); // nothing due: jump to the probe's timer
    assert_eq!(sim.now(), t0 + ms(10));
    assert_eq!(sim.step(), Step::Busy); // the timer fires, the datagram leaves
    assert_eq!(sim.step(), Step::Advanced); // jump to the arrival
    assert_eq!(sim.now(), t0 + ms(40));
    assert_eq!(sim.step(), Step::Busy);
    assert_eq!(sim.node(b).received().len(), 1);
    assert_eq!(sim.step(), Step::Idle);
    // advance_to moves the clock even when idle, and never backwards.
    sim.advance_to(t0 + ms(100)).unwrap();
    assert_eq!(sim.now(), t0 + ms(100));
    sim.advance_to(t0).unwrap();
    assert_eq!(sim.now(), t0 + ms(100));
    // step_until never passes its limit.
    sim.node_mut(a)
        .send_at(t0 + ms(500), Datagram::udp(sa(A), sa(B), *b"y"));
    assert_eq!(sim.step_until(Some(t0 + ms(200))), Step::Limit);
    assert_eq!(sim.now(), t0 + ms(200));
}

#[test]
fn injection_routing_errors_and_listeners() {
    let (mut sim, a, b) = pair(54, LinkConfig::ideal());
    // A spoofed packet from nowhere reaches a public host.
    sim.inject(Datagram::udp(sa("192.0.2.1:1"), sa(B), *b"spoof"));
    // Nobody owns this address.
    sim.inject(Datagram::udp(
        sa("192.0.2.1:1"),
        sa("10.0.0.99:1"),
        *b"lost",
    ));
    sim.node_mut(a)
        .send(Datagram::udp(sa(A), sa("10.0.0.98:1"), *b"lost"));
    // A host without a node.
    let quiet = sim.add_host(HostConfig::public("quiet", ip("10.0.0.3")));
    sim.node_mut(a)
        .send(Datagram::udp(sa(A), sa("10.0.0.3:1"), *b"nobody home"));
    settle(&mut sim);
    assert_eq!(sim.node(b).received()[0].1.src, sa("192.0.2.1:1"));
    assert_eq!(sim.drops().get(DropReason::NoRoute), 2);
    assert_eq!(sim.drops().get(DropReason::NoListener), 1);
    assert_eq!(sim.host_stats(a).dropped.get(DropReason::NoRoute), 1);
    assert!(sim.try_node(quiet).is_none());
    // Attaching a node makes it listen.
    sim.attach(quiet, Probe::new());
    sim.node_mut(a)
        .send(Datagram::udp(sa(A), sa("10.0.0.3:1"), *b"hello"));
    settle(&mut sim);
    assert_eq!(sim.node(quiet).received().len(), 1);
}

#[test]
fn boxed_heterogeneous_nodes() {
    let mut sim: Sim<Box<dyn Node>> = Sim::new(55);
    let a = sim.add_node(
        HostConfig::public("a", ip("10.0.0.1")),
        Box::new(Probe::new()),
    );
    sim.add_node(
        HostConfig::public("b", ip("10.0.0.2")),
        Box::new(Probe::echo()),
    );
    sim.inject(Datagram::udp(sa(A), sa(B), *b"x")); // b echoes to a
    settle_boxed(&mut sim);
    assert_eq!(sim.host_stats(a).delivered, 1);
}

fn settle_boxed(sim: &mut Sim<Box<dyn Node>>) {
    sim.run_until_idle(Limits::default()).unwrap();
}
