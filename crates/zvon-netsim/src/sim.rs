//! Sans-IO nodes on the network, and the bounded drive loops.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use zvon_base::{Classify, Fault};

use crate::config::{HostConfig, NatConfig};
use crate::net::{Datagram, HostId, NatId, Network, SimConfig};

/// A sans-IO peer the simulator drives: the drive-loop shape of every zvon state machine,
/// with the simulator owning the datagram bytes.
///
/// Wrap a protocol state machine in a small struct that implements this (forwarding
/// `poll_transmit(now, buf)` into a [`Datagram`] with [`Datagram::from_transmit`]) and keep
/// its events for the test to inspect. Nodes of different kinds in one simulation: use an enum
/// or `Box<dyn Node>`.
pub trait Node {
    /// A datagram arrived (addresses as this host sees them, after any NAT).
    fn handle_datagram(&mut self, now: Instant, datagram: Datagram);
    /// The next datagram to send, if any. Called until it returns `None` (bounded per round).
    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram>;
    /// When `handle_timeout` should be called next. A time in the past fires at once.
    fn poll_timeout(&mut self) -> Option<Instant>;
    /// The time from `poll_timeout` has come.
    fn handle_timeout(&mut self, now: Instant);
}

impl<T: Node + ?Sized> Node for Box<T> {
    fn handle_datagram(&mut self, now: Instant, datagram: Datagram) {
        (**self).handle_datagram(now, datagram)
    }
    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram> {
        (**self).poll_transmit(now)
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        (**self).poll_timeout()
    }
    fn handle_timeout(&mut self, now: Instant) {
        (**self).handle_timeout(now)
    }
}

/// Bounds of a drive loop, so that a livelocked or stuck test fails instead of hanging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most steps (rounds) the loop may take in total.
    pub max_steps: u64,
    /// Most virtual time the loop may cover, from the moment it is called.
    pub max_time: Duration,
    /// Most consecutive steps at one instant without the clock moving: nodes that keep
    /// answering each other in zero time, or a timeout in the past that never clears.
    pub max_steps_per_instant: u64,
}

impl Default for Limits {
    /// 100 million steps, one virtual hour, 100 000 steps at one instant.
    fn default() -> Self {
        Self {
            max_steps: 100_000_000,
            max_time: Duration::from_secs(3600),
            max_steps_per_instant: 100_000,
        }
    }
}

impl Limits {
    /// Default limits with this much virtual time.
    pub fn time(max_time: Duration) -> Self {
        Self {
            max_time,
            ..Self::default()
        }
    }

    /// Sets the step bound.
    pub fn with_max_steps(mut self, steps: u64) -> Self {
        self.max_steps = steps;
        self
    }

    /// Sets the virtual time bound.
    pub fn with_max_time(mut self, t: Duration) -> Self {
        self.max_time = t;
        self
    }

    /// Sets the bound on steps at one instant.
    pub fn with_max_steps_per_instant(mut self, steps: u64) -> Self {
        self.max_steps_per_instant = steps;
        self
    }
}

/// Why a drive loop gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DriveError {
    /// The step bound was hit: the nodes keep busy without reaching the goal.
    #[error(
        "livelock: {steps} steps without reaching the goal (at {at:?}, clock frozen: {frozen})"
    )]
    Livelock {
        /// Virtual time since the origin when the loop gave up.
        at: Duration,
        /// Steps taken by this loop.
        steps: u64,
        /// `true` when the clock did not move for `max_steps_per_instant` steps.
        frozen: bool,
    },
    /// The virtual-time bound passed before the goal was reached.
    #[error("deadline passed at {at:?} without reaching the goal")]
    Deadline {
        /// Virtual time since the origin.
        at: Duration,
    },
    /// Nothing is left to happen (no packet in flight, no timer) and the goal is not reached.
    #[error("idle at {at:?} without reaching the goal")]
    Idle {
        /// Virtual time since the origin.
        at: Duration,
    },
}

impl Classify for DriveError {
    fn fault(&self) -> Fault {
        Fault::Local
    }
    fn is_fatal(&self) -> bool {
        true
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Work happened at the current instant (a timeout, a transmit or a delivery); step again
    /// before time moves.
    Busy,
    /// Nothing was due now; the clock jumped to the next event.
    Advanced,
    /// Nothing was due before the limit; the clock moved to the limit.
    Limit,
    /// Nothing is pending at all.
    Idle,
}

/// Most datagrams taken from one node in one step, so that a node that never stops sending
/// cannot hang a step.
const MAX_TRANSMITS_PER_STEP: usize = 4096;

/// The network with sans-IO nodes attached to its hosts, on a virtual clock.
///
/// `Sim` derefs to [`Network`]: configure links, NATs, cuts and read the trace and counters
/// through it. One step (see [`step`](Self::step)):
/// 1. every node in host order fires its timeout if due (`poll_timeout() <= now`), then is
///    drained of up to 4096 datagrams, which enter the network at `now`;
/// 2. every packet event due by `now` is processed, delivering datagrams to nodes;
/// 3. if nothing happened, the clock jumps to the earliest next packet event or node timeout.
///
/// Everything is ordered (nodes by host id, events by time then scheduling order), so a run is
/// a function of the seed and the nodes.
#[derive(Debug)]
pub struct Sim<N> {
    net: Network,
    nodes: Vec<Option<N>>,
    spans: Vec<tracing::Span>,
    steps_at_instant: u64,
}

impl<N: Node> Sim<N> {
    /// A simulation with default settings and this seed.
    pub fn new(seed: u64) -> Self {
        Self::with_config(SimConfig::seed(seed))
    }

    /// A simulation with these settings.
    pub fn with_config(config: SimConfig) -> Self {
        Self {
            net: Network::with_config(config),
            nodes: Vec::new(),
            spans: Vec::new(),
            steps_at_instant: 0,
        }
    }

    /// The network.
    pub fn net(&self) -> &Network {
        &self.net
    }

    /// The network, to change it.
    pub fn net_mut(&mut self) -> &mut Network {
        &mut self.net
    }

    fn grow(&mut self, h: HostId) {
        while self.nodes.len() <= h.0 {
            let name = self.net.host_name(HostId(self.nodes.len())).to_owned();
            self.nodes.push(None);
            self.spans.push(tracing::info_span!("node", name = %name));
        }
    }

    /// Adds a host with no node: datagrams to it are dropped as `NoListener`.
    #[track_caller]
    pub fn add_host(&mut self, config: HostConfig) -> HostId {
        let h = self.net.add_host(config);
        self.net.set_listening(h, false);
        self.grow(h);
        h
    }

    /// Adds a NAT box.
    #[track_caller]
    pub fn add_nat(&mut self, config: NatConfig) -> NatId {
        self.net.add_nat(config)
    }

    /// Adds a host and attaches `node` to it.
    #[track_caller]
    pub fn add_node(&mut self, config: HostConfig, node: N) -> HostId {
        let h = self.net.add_host(config);
        self.grow(h);
        self.nodes[h.0] = Some(node);
        h
    }

    /// Attaches `node` to host `h` (replacing and returning the old one).
    #[track_caller]
    pub fn attach(&mut self, h: HostId, node: N) -> Option<N> {
        self.grow(h);
        self.net.set_listening(h, true);
        self.nodes[h.0].replace(node)
    }

    /// Detaches the node of host `h` (later datagrams to it are dropped as `NoListener`).
    pub fn detach(&mut self, h: HostId) -> Option<N> {
        self.net.set_listening(h, false);
        self.nodes.get_mut(h.0)?.take()
    }

    /// The node of host `h`.
    ///
    /// # Panics
    /// If `h` has no node.
    #[track_caller]
    pub fn node(&self, h: HostId) -> &N {
        match self.nodes.get(h.0) {
            Some(Some(n)) => n,
            _ => panic!("host {h:?} has no node"),
        }
    }

    /// The node of host `h`, mutably (to call its API: connect, send, ...).
    ///
    /// # Panics
    /// If `h` has no node.
    #[track_caller]
    pub fn node_mut(&mut self, h: HostId) -> &mut N {
        match self.nodes.get_mut(h.0) {
            Some(Some(n)) => n,
            _ => panic!("host {h:?} has no node"),
        }
    }

    /// The node of host `h`, if any.
    pub fn try_node(&self, h: HostId) -> Option<&N> {
        self.nodes.get(h.0)?.as_ref()
    }

    /// Every node with its host.
    pub fn nodes(&self) -> impl Iterator<Item = (HostId, &N)> {
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| Some((HostId(i), n.as_ref()?)))
    }

    /// One step (see the type's documentation), never moving the clock past `limit`.
    pub fn step_until(&mut self, limit: Option<Instant>) -> Step {
        let now = self.net.now();
        let mut busy = false;
        for i in 0..self.nodes.len() {
            let Some(node) = self.nodes[i].as_mut() else {
                continue;
            };
            let _span = self.spans[i].enter();
            if node.poll_timeout().is_some_and(|t| t <= now) {
                node.handle_timeout(now);
                busy = true;
            }
            for _ in 0..MAX_TRANSMITS_PER_STEP {
                let Some(d) = node.poll_transmit(now) else {
                    break;
                };
                self.net.send(HostId(i), d);
                busy = true;
            }
        }
        while let Some(d) = self.net.poll_delivery() {
            busy = true;
            if let Some(Some(node)) = self.nodes.get_mut(d.host.0) {
                let _span = self.spans[d.host.0].enter();
                node.handle_datagram(now, d.datagram);
            }
        }
        if busy {
            self.steps_at_instant += 1;
            return Step::Busy;
        }
        let mut next = self.net.next_event_time();
        for node in self.nodes.iter_mut().flatten() {
            if let Some(t) = node.poll_timeout() {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        }
        let Some(next) = next else {
            return Step::Idle;
        };
        // A timeout that came due without a step noticing fires at `now`: never go back.
        let next = next.max(now);
        self.steps_at_instant = 0;
        match limit {
            Some(l) if next > l => {
                self.net.advance_to(l);
                Step::Limit
            }
            _ => {
                self.net.advance_to(next);
                Step::Advanced
            }
        }
    }

    /// One step with no time limit.
    pub fn step(&mut self) -> Step {
        self.step_until(None)
    }

    fn elapsed_error(&self) -> Duration {
        self.net.elapsed()
    }

    /// Steps until `done(self)` holds. Fails with [`DriveError::Livelock`] past the step
    /// bounds, [`DriveError::Deadline`] past the time bound and [`DriveError::Idle`] when
    /// nothing is left to happen.
    pub fn run_until(
        &mut self,
        limits: Limits,
        mut done: impl FnMut(&mut Self) -> bool,
    ) -> Result<(), DriveError> {
        match self.run_inner(limits, &mut done) {
            Ok(true) => Ok(()),
            Ok(false) => Err(DriveError::Idle {
                at: self.elapsed_error(),
            }),
            Err(e) => Err(e),
        }
    }

    /// Steps until nothing is pending (no packet in flight, no node timeout). Nodes with
    /// periodic timers never go idle: use [`run_until`](Self::run_until) or
    /// [`advance`](Self::advance) for them.
    pub fn run_until_idle(&mut self, limits: Limits) -> Result<(), DriveError> {
        self.run_inner(limits, &mut |_| false).map(|_| ())
    }

    /// `Ok(true)`: goal reached; `Ok(false)`: idle.
    fn run_inner(
        &mut self,
        limits: Limits,
        done: &mut dyn FnMut(&mut Self) -> bool,
    ) -> Result<bool, DriveError> {
        // A bound too far to represent is no bound.
        let deadline = self.net.now().checked_add(limits.max_time);
        self.steps_at_instant = 0;
        let mut steps = 0u64;
        loop {
            if done(self) {
                return Ok(true);
            }
            if steps >= limits.max_steps || self.steps_at_instant >= limits.max_steps_per_instant {
                return Err(DriveError::Livelock {
                    at: self.elapsed_error(),
                    steps,
                    frozen: self.steps_at_instant >= limits.max_steps_per_instant,
                });
            }
            steps += 1;
            match self.step_until(deadline) {
                Step::Busy | Step::Advanced => {}
                Step::Limit => {
                    return if done(self) {
                        Ok(true)
                    } else {
                        Err(DriveError::Deadline {
                            at: self.elapsed_error(),
                        })
                    };
                }
                Step::Idle => return Ok(done(self)),
            }
        }
    }

    /// Runs everything due up to `t` and leaves the clock at `t` (or where it is, if later).
    /// Fails only if the clock stops moving (a zero-time livelock).
    pub fn advance_to(&mut self, t: Instant) -> Result<(), DriveError> {
        self.steps_at_instant = 0;
        let per_instant = Limits::default().max_steps_per_instant;
        let mut steps = 0u64;
        loop {
            if self.steps_at_instant >= per_instant {
                return Err(DriveError::Livelock {
                    at: self.elapsed_error(),
                    steps,
                    frozen: true,
                });
            }
            steps += 1;
            match self.step_until(Some(t)) {
                Step::Busy | Step::Advanced => {}
                Step::Limit => return Ok(()),
                Step::Idle => {
                    self.net.advance_to(t);
                    return Ok(());
                }
            }
        }
    }

    /// Runs everything for `d` of virtual time.
    pub fn advance(&mut self, d: Duration) -> Result<(), DriveError> {
        let t = self.net.now() + d;
        self.advance_to(t)
    }
}

impl<N> Deref for Sim<N> {
    type Target = Network;
    fn deref(&self) -> &Network {
        &self.net
    }
}

impl<N> DerefMut for Sim<N> {
    fn deref_mut(&mut self) -> &mut Network {
        &mut self.net
    }
}

/// A scriptable node for tests: sends what it is told (now or at a set time), records what
/// it receives, and optionally echoes every datagram back to its sender.
///
/// ```
/// use zvon_netsim::{Datagram, HostConfig, Limits, Probe, Sim};
/// let mut sim: Sim<Probe> = Sim::new(1);
/// let a = sim.add_node(HostConfig::public("a", "192.0.2.1".parse().unwrap()), Probe::new());
/// let b = sim.add_node(HostConfig::public("b", "192.0.2.2".parse().unwrap()), Probe::echo());
/// let msg = Datagram::udp("192.0.2.1:1000".parse().unwrap(), "192.0.2.2:2000".parse().unwrap(), *b"hi");
/// sim.node_mut(a).send(msg);
/// sim.run_until_idle(Limits::default()).unwrap();
/// assert_eq!(sim.node(a).received().len(), 1); // the echo
/// assert_eq!(sim.node(b).received().len(), 1);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Probe {
    outbox: BTreeMap<(Option<Instant>, u64), Datagram>,
    seq: u64,
    echo: bool,
    received: Vec<(Instant, Datagram)>,
}

impl Probe {
    /// A probe that only sends what it is told.
    pub fn new() -> Self {
        Self::default()
    }

    /// A probe that also sends every datagram it receives back to its source.
    pub fn echo() -> Self {
        Self {
            echo: true,
            ..Self::default()
        }
    }

    /// Queues a datagram to send at the next step.
    pub fn send(&mut self, d: Datagram) {
        self.outbox.insert((None, self.seq), d);
        self.seq += 1;
    }

    /// Queues a datagram to send at `at` (or at the next step, if `at` has passed).
    pub fn send_at(&mut self, at: Instant, d: Datagram) {
        self.outbox.insert((Some(at), self.seq), d);
        self.seq += 1;
    }

    /// Everything received so far, with arrival times.
    pub fn received(&self) -> &[(Instant, Datagram)] {
        &self.received
    }

    /// Takes everything received so far.
    pub fn take_received(&mut self) -> Vec<(Instant, Datagram)> {
        std::mem::take(&mut self.received)
    }

    /// Datagrams still waiting to be sent.
    pub fn pending(&self) -> usize {
        self.outbox.len()
    }
}

impl Node for Probe {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        if self.echo {
            let reply = Datagram {
                proto: d.proto,
                src: d.dst,
                dst: d.src,
                data: d.data.clone(),
            };
            self.send(reply);
        }
        self.received.push((now, d));
    }

    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram> {
        let (&key, _) = self.outbox.first_key_value()?;
        match key.0 {
            Some(at) if at > now => None,
            _ => self.outbox.remove(&key),
        }
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        // `None` sorts first: an immediate send is due now, which the next step handles anyway.
        self.outbox.keys().find_map(|k| k.0)
    }

    fn handle_timeout(&mut self, _now: Instant) {}
}
