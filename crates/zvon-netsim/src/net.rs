//! The network: hosts, NAT boxes, links, routing and the event queue.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use zvon_base::{Protocol, Rng, Transmit};

use crate::config::{HostConfig, LinkConfig, NatConfig, Realm};
use crate::hash::FastMap;
use crate::link::{Crossing, Link};
use crate::nat::{Nat, NatNote};
use crate::trace::{
    DropCounts, DropReason, HostStats, LinkStats, NatStats, Trace, TraceConfig, TraceEvent,
    TraceKind, payload_hash,
};

/// A host in the network (also the id of the node attached to it in a [`Sim`](crate::Sim)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(pub(crate) usize);

impl HostId {
    /// The index of the host, in the order hosts were added (0, 1, ...).
    pub fn index(self) -> usize {
        self.0
    }
}

/// A NAT box in the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NatId(pub(crate) usize);

impl NatId {
    /// The index of the NAT, in the order NATs were added (0, 1, ...).
    pub fn index(self) -> usize {
        self.0
    }
}

/// Anything with an access link: a host, or a NAT's external (WAN) side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Device {
    /// A host.
    Host(HostId),
    /// A NAT's external side.
    Nat(NatId),
}

impl From<HostId> for Device {
    fn from(h: HostId) -> Self {
        Device::Host(h)
    }
}

impl From<NatId> for Device {
    fn from(n: NatId) -> Self {
        Device::Nat(n)
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Host(h) => write!(f, "h{}", h.0),
            Device::Nat(n) => write!(f, "n{}", n.0),
        }
    }
}

/// A direction of an access link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Device to network.
    Up,
    /// Network to device.
    Down,
}

/// One datagram in flight. The simulator owns its bytes (one allocation per packet is fine
/// here; the protocol crates keep their zero-allocation rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// Transport (the NAT keys its mappings on it; links ignore it).
    pub proto: Protocol,
    /// Source address. A host sending from the unspecified address (`0.0.0.0` / `::`) gets its
    /// first address of that family filled in.
    pub src: SocketAddr,
    /// Destination address.
    pub dst: SocketAddr,
    /// Payload.
    pub data: Vec<u8>,
}

impl Datagram {
    /// A UDP datagram.
    pub fn udp(src: SocketAddr, dst: SocketAddr, data: impl Into<Vec<u8>>) -> Self {
        Self {
            proto: Protocol::Udp,
            src,
            dst,
            data: data.into(),
        }
    }

    /// The datagram a sans-IO `poll_transmit(now, buf)` described: addressing from `t`, bytes
    /// from `buf[..t.len]` (clamped to `buf`).
    pub fn from_transmit(t: &Transmit, buf: &[u8]) -> Self {
        Self {
            proto: t.proto,
            src: t.source,
            dst: t.destination,
            data: buf.get(..t.len).unwrap_or(buf).to_vec(),
        }
    }
}

/// A datagram the network delivered to a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// When it arrived.
    pub at: Instant,
    /// The host it arrived at.
    pub host: HostId,
    /// The datagram, with the addresses as the host sees them (after NAT translation).
    pub datagram: Datagram,
}

/// Settings of a whole simulation.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The seed every random stream derives from.
    pub seed: u64,
    /// The instant virtual time starts at; `None` takes `Instant::now()` once as an arbitrary
    /// origin (the simulation never reads the real clock again).
    pub origin: Option<Instant>,
    /// What to trace.
    pub trace: TraceConfig,
}

impl SimConfig {
    /// Defaults with this seed.
    pub fn seed(seed: u64) -> Self {
        Self {
            seed,
            origin: None,
            trace: TraceConfig::default(),
        }
    }

    /// Sets the origin of virtual time.
    pub fn with_origin(mut self, origin: Instant) -> Self {
        self.origin = Some(origin);
        self
    }

    /// Sets the trace settings.
    pub fn with_trace(mut self, trace: TraceConfig) -> Self {
        self.trace = trace;
        self
    }

    /// Turns tracing off (counters still count): for bulk transfers.
    pub fn without_trace(mut self) -> Self {
        self.trace.enabled = false;
        self
    }
}

#[derive(Debug)]
struct Host {
    name: String,
    addrs: Vec<(IpAddr, Realm)>,
    uplink: usize,
    downlink: usize,
    listening: bool,
    stats: HostStats,
}

#[derive(Debug)]
struct NatBox {
    nat: Nat,
    uplink: usize,
    downlink: usize,
}

#[derive(Debug, Clone)]
struct Packet {
    dgram: Datagram,
    hash: u64,
    sender: Option<HostId>,
}

/// Where a packet goes once it is out of the link it is crossing.
#[derive(Debug, Clone, Copy)]
enum Next {
    /// Out of `from`'s uplink into `realm`'s router.
    Router { realm: Realm, from: Device },
    /// Out of a pair path, onto `to`'s downlink.
    Down(Device),
    /// Out of `to`'s downlink: deliver to the host or into the NAT.
    Deliver(Device),
}

/// A packet on a link, waiting in the slab until its arrival.
#[derive(Debug)]
struct InFlight {
    link: usize,
    /// The link's cut count when the packet entered it.
    epoch: u64,
    next: Next,
    pkt: Packet,
}

/// A heap entry: small, so that sifting moves little (the packet stays put in the slab).
#[derive(Debug, Clone, Copy)]
struct Due {
    at: Instant,
    seq: u64,
    slot: usize,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    // Reversed: BinaryHeap is a max-heap and the earliest event (then the first scheduled)
    // must come out first, which makes equal-time events deterministic.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// The simulated network, without any nodes: send datagrams in, take deliveries out, move
/// the virtual clock. [`Sim`](crate::Sim) wraps it with sans-IO nodes and drive loops, and
/// derefs to it, so every method here is also a method of `Sim`.
///
/// Topology: each host and each NAT's external side is a [`Device`] with an access link (an
/// uplink and a downlink, each a [`LinkConfig`]). A packet from host A to host B crosses A's
/// uplink, then the router of A's realm, then (if set) the pair path A->B, then B's
/// downlink. A destination outside a private realm goes to that realm's NAT, which translates
/// it and sends it on its own uplink into its outer realm; an inbound packet to a NAT crosses
/// the NAT's downlink, is filtered and translated, then crosses the inside host's downlink.
#[derive(Debug)]
pub struct Network {
    origin: Instant,
    now: Instant,
    seed: u64,
    hosts: Vec<Host>,
    nats: Vec<NatBox>,
    links: Vec<Link>,
    link_owner: Vec<Device>,
    owners: FastMap<(Realm, IpAddr), Device>,
    paths: FastMap<(Device, Device), usize>,
    queue: BinaryHeap<Due>,
    slab: Vec<Option<InFlight>>,
    free: Vec<usize>,
    seq: u64,
    ready: VecDeque<Delivery>,
    trace: Trace,
    drops: DropCounts,
}

impl Network {
    /// A network with default settings and this seed.
    pub fn new(seed: u64) -> Self {
        Self::with_config(SimConfig::seed(seed))
    }

    /// A network with these settings.
    pub fn with_config(config: SimConfig) -> Self {
        let origin = config.origin.unwrap_or_else(|| {
            // The only read of the real clock: an arbitrary origin for virtual time, which
            // only ever advances by simulated durations. Traces print offsets from it.
            #[allow(clippy::disallowed_methods)]
            Instant::now()
        });
        Self {
            origin,
            now: origin,
            seed: config.seed,
            hosts: Vec::new(),
            nats: Vec::new(),
            links: Vec::new(),
            link_owner: Vec::new(),
            owners: FastMap::default(),
            paths: FastMap::default(),
            queue: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            seq: 0,
            ready: VecDeque::new(),
            trace: Trace::new(config.trace),
            drops: DropCounts::default(),
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The instant virtual time started at.
    pub fn origin(&self) -> Instant {
        self.origin
    }

    /// Virtual time elapsed since the origin.
    pub fn elapsed(&self) -> Duration {
        self.now - self.origin
    }

    /// A random stream that depends only on the seed and `label`, so that adding a host does
    /// not change the randomness of the links that were already there.
    fn stream(&self, label: &str) -> Rng {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&self.seed.to_le_bytes());
        seed[8..16].copy_from_slice(&crate::trace::payload_hash(label.as_bytes()).to_le_bytes());
        seed[16..24].copy_from_slice(&(label.len() as u64).to_le_bytes());
        Rng::from_seed(seed)
    }

    fn new_link(&mut self, config: LinkConfig, owner: Device, label: &str) -> usize {
        let rng = self.stream(label);
        self.links.push(Link::new(config, rng));
        self.link_owner.push(owner);
        self.links.len() - 1
    }

    #[track_caller]
    fn claim(&mut self, realm: Realm, ip: IpAddr, dev: Device) {
        if let Realm::Behind(n) = realm {
            assert!(n.0 < self.nats.len(), "realm behind unknown NAT {n:?}");
        }
        let prev = self.owners.insert((realm, ip), dev);
        assert!(prev.is_none(), "address {ip} is already used in {realm:?}");
    }

    /// Adds a host.
    ///
    /// # Panics
    /// If the host has no address, an address is already taken in its realm, or a realm names
    /// an unknown NAT.
    #[track_caller]
    pub fn add_host(&mut self, config: HostConfig) -> HostId {
        assert!(
            !config.addrs.is_empty(),
            "host {} has no address",
            config.name
        );
        let id = HostId(self.hosts.len());
        let dev = Device::Host(id);
        for &(ip, realm) in &config.addrs {
            self.claim(realm, ip, dev);
        }
        let uplink = self.new_link(config.uplink, dev, &format!("host/{}/up", config.name));
        let downlink = self.new_link(config.downlink, dev, &format!("host/{}/down", config.name));
        self.hosts.push(Host {
            name: config.name,
            addrs: config.addrs,
            uplink,
            downlink,
            listening: true,
            stats: HostStats::default(),
        });
        id
    }

    /// Adds a NAT box; hosts behind it use `Realm::Behind(id)`.
    ///
    /// # Panics
    /// If its public address is already taken in its outer realm.
    #[track_caller]
    pub fn add_nat(&mut self, config: NatConfig) -> NatId {
        let id = NatId(self.nats.len());
        let dev = Device::Nat(id);
        self.claim(config.outer, config.public_ip, dev);
        let uplink = self.new_link(
            config.wan_uplink.clone(),
            dev,
            &format!("nat/{}/up", config.name),
        );
        let downlink = self.new_link(
            config.wan_downlink.clone(),
            dev,
            &format!("nat/{}/down", config.name),
        );
        let rng = self.stream(&format!("nat/{}/ports", config.name));
        self.nats.push(NatBox {
            nat: Nat::new(config, rng),
            uplink,
            downlink,
        });
        id
    }

    #[track_caller]
    fn host(&self, h: HostId) -> &Host {
        self.hosts
            .get(h.0)
            .unwrap_or_else(|| panic!("unknown host {h:?}"))
    }

    #[track_caller]
    fn nat_box(&self, n: NatId) -> &NatBox {
        self.nats
            .get(n.0)
            .unwrap_or_else(|| panic!("unknown NAT {n:?}"))
    }

    /// The host's name.
    pub fn host_name(&self, h: HostId) -> &str {
        &self.host(h).name
    }

    /// The host's first address.
    pub fn host_ip(&self, h: HostId) -> IpAddr {
        self.host(h).addrs[0].0 // ok: add_host refuses hosts without an address
    }

    /// All the host's addresses with their realms.
    pub fn host_addrs(&self, h: HostId) -> &[(IpAddr, Realm)] {
        &self.host(h).addrs
    }

    /// The NAT's public address.
    pub fn nat_public_ip(&self, n: NatId) -> IpAddr {
        self.nat_box(n).nat.config.public_ip
    }

    /// The NAT's configuration.
    pub fn nat_config(&self, n: NatId) -> &NatConfig {
        &self.nat_box(n).nat.config
    }

    /// Number of hosts.
    pub fn host_count(&self) -> usize {
        self.hosts.len()
    }

    #[track_caller]
    fn link_index(&self, dev: Device, dir: Direction) -> usize {
        match (dev, dir) {
            (Device::Host(h), Direction::Up) => self.host(h).uplink,
            (Device::Host(h), Direction::Down) => self.host(h).downlink,
            (Device::Nat(n), Direction::Up) => self.nat_box(n).uplink,
            (Device::Nat(n), Direction::Down) => self.nat_box(n).downlink,
        }
    }

    /// The configuration of one direction of a device's access link.
    pub fn link_config(&self, dev: impl Into<Device>, dir: Direction) -> &LinkConfig {
        &self.links[self.link_index(dev.into(), dir)].config
    }

    /// Replaces one direction of a device's access link configuration, effective for packets
    /// offered from now on (packets in flight keep their schedule; the queue backlog stays).
    pub fn set_link_dir(&mut self, dev: impl Into<Device>, dir: Direction, config: LinkConfig) {
        let i = self.link_index(dev.into(), dir);
        self.links[i].config = config;
    }

    /// Replaces both directions of a device's access link configuration.
    pub fn set_link(&mut self, dev: impl Into<Device>, config: LinkConfig) {
        let dev = dev.into();
        self.set_link_dir(dev, Direction::Up, config.clone());
        self.set_link_dir(dev, Direction::Down, config);
    }

    /// Adds or replaces the pair path `from -> to`: an extra link crossed between `from`'s
    /// uplink and `to`'s downlink, for packets the router of their shared realm sends from one
    /// to the other (e.g. "the internet between these two").
    pub fn set_path(&mut self, from: impl Into<Device>, to: impl Into<Device>, config: LinkConfig) {
        let (from, to) = (from.into(), to.into());
        match self.paths.get(&(from, to)) {
            Some(&i) => self.links[i].config = config,
            None => {
                let i = self.new_link(config, from, &format!("path/{from}/{to}"));
                self.paths.insert((from, to), i);
            }
        }
    }

    /// Removes the pair path `from -> to`.
    pub fn remove_path(&mut self, from: impl Into<Device>, to: impl Into<Device>) {
        self.paths.remove(&(from.into(), to.into()));
    }

    /// Cuts or restores one direction of a device's access link. A cut link drops what is
    /// offered to it and everything that was in flight on it at the cut, even if the link is
    /// restored before that would have arrived (`LinkDown`).
    pub fn set_link_up(&mut self, dev: impl Into<Device>, dir: Direction, up: bool) {
        let i = self.link_index(dev.into(), dir);
        self.links[i].set_up(up);
    }

    /// Cuts both directions of a device's access link (a blackhole), keeping its config.
    pub fn cut(&mut self, dev: impl Into<Device>) {
        let dev = dev.into();
        self.set_link_up(dev, Direction::Up, false);
        self.set_link_up(dev, Direction::Down, false);
    }

    /// Restores both directions of a device's access link.
    pub fn restore(&mut self, dev: impl Into<Device>) {
        let dev = dev.into();
        self.set_link_up(dev, Direction::Up, true);
        self.set_link_up(dev, Direction::Down, true);
    }

    /// Cuts or restores the pair path `from -> to` (creating an ideal one if none is set), so
    /// that two hosts lose each other while both keep reaching everyone else.
    pub fn set_path_up(&mut self, from: impl Into<Device>, to: impl Into<Device>, up: bool) {
        let (from, to) = (from.into(), to.into());
        if !self.paths.contains_key(&(from, to)) {
            self.set_path(from, to, LinkConfig::default());
        }
        if let Some(&i) = self.paths.get(&(from, to)) {
            self.links[i].set_up(up);
        }
    }

    /// Counters of one direction of a device's access link.
    pub fn link_stats(&self, dev: impl Into<Device>, dir: Direction) -> &LinkStats {
        &self.links[self.link_index(dev.into(), dir)].stats
    }

    /// Counters of the pair path `from -> to`, if one is set.
    pub fn path_stats(&self, from: impl Into<Device>, to: impl Into<Device>) -> Option<&LinkStats> {
        let i = *self.paths.get(&(from.into(), to.into()))?;
        Some(&self.links[i].stats)
    }

    /// Counters of a host.
    pub fn host_stats(&self, h: HostId) -> &HostStats {
        &self.host(h).stats
    }

    /// Counters of a NAT.
    pub fn nat_stats(&self, n: NatId) -> &NatStats {
        &self.nat_box(n).nat.stats
    }

    /// Drops anywhere in the network, by reason.
    pub fn drops(&self) -> &DropCounts {
        &self.drops
    }

    /// The external address the NAT currently maps `internal` to for packets to `remote`, if
    /// a live mapping exists.
    pub fn nat_mapping(
        &self,
        n: NatId,
        proto: Protocol,
        internal: SocketAddr,
        remote: SocketAddr,
    ) -> Option<SocketAddr> {
        self.nat_box(n)
            .nat
            .lookup(proto, internal, remote, self.now)
    }

    /// Forgets every mapping of the NAT at once, as when it reboots: established flows break
    /// until their next outbound packet makes a new mapping (tests of ICE restarts).
    pub fn nat_reset(&mut self, n: NatId) {
        self.nat_box(n);
        self.nats[n.0].nat.reset();
    }

    /// The NAT's live mappings as `(proto, internal, external)`, sorted by external port.
    pub fn nat_mappings(&self, n: NatId) -> Vec<(Protocol, SocketAddr, SocketAddr)> {
        self.nat_box(n).nat.mappings(self.now)
    }

    /// The packet trace.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The packet trace, to clear it.
    pub fn trace_mut(&mut self) -> &mut Trace {
        &mut self.trace
    }

    /// Whether deliveries to `h` reach a listener (a [`Sim`](crate::Sim) sets this when a
    /// node is attached); when not, they are dropped as `NoListener`. Default: listening.
    pub fn set_listening(&mut self, h: HostId, listening: bool) {
        if let Some(host) = self.hosts.get_mut(h.0) {
            host.listening = listening;
        }
    }

    /// Moves the clock forward to `t` (never back). Events due by then are processed, each at
    /// its own time, by [`poll_delivery`](Self::poll_delivery).
    pub fn advance_to(&mut self, t: Instant) {
        self.now = self.now.max(t);
    }

    /// When the next packet event is due, if any is pending (deliveries waiting in
    /// [`poll_delivery`](Self::poll_delivery) count as due now).
    pub fn next_event_time(&self) -> Option<Instant> {
        if !self.ready.is_empty() {
            return Some(self.now);
        }
        self.queue.peek().map(|e| e.at)
    }

    /// Whether nothing is in flight.
    pub fn is_idle(&self) -> bool {
        self.ready.is_empty() && self.queue.is_empty()
    }

    fn trace_pkt(&mut self, at: Instant, kind: TraceKind, pkt: &Packet) {
        if self.trace.enabled() {
            self.trace.record(TraceEvent {
                at: at - self.origin,
                kind,
                proto: pkt.dgram.proto,
                src: pkt.dgram.src,
                dst: pkt.dgram.dst,
                len: pkt.dgram.data.len(),
                hash: pkt.hash,
            });
        }
    }

    fn drop_pkt(&mut self, at: Instant, pkt: Packet, reason: DropReason, dev: Option<Device>) {
        self.drops.add(reason);
        if let Some(h) = pkt.sender {
            self.hosts[h.0].stats.dropped.add(reason);
        }
        if let Some(Device::Nat(n)) = dev
            && matches!(
                reason,
                DropReason::NatNoMapping
                    | DropReason::NatFiltered
                    | DropReason::NatNoHairpin
                    | DropReason::NatPortsExhausted
            )
        {
            self.nats[n.0].nat.stats.dropped.add(reason);
        }
        self.trace_pkt(at, TraceKind::Dropped(reason, dev), &pkt);
    }

    /// Hands a datagram from host `from` to the network, at the current time. It crosses the
    /// host's uplink first. A source address the host does not own is dropped (`BadSource`).
    pub fn send(&mut self, from: HostId, mut dgram: Datagram) {
        let now = self.now;
        let host = self.host(from);
        if dgram.src.ip().is_unspecified() {
            let v4 = dgram.src.is_ipv4();
            if let Some(&(ip, _)) = host.addrs.iter().find(|(ip, _)| ip.is_ipv4() == v4) {
                dgram.src.set_ip(ip);
            }
        }
        let realm = host
            .addrs
            .iter()
            .find(|(ip, _)| *ip == dgram.src.ip())
            .map(|&(_, r)| r);
        let uplink = host.uplink;
        let hash = if self.trace.enabled() {
            payload_hash(&dgram.data)
        } else {
            0
        };
        let len = dgram.data.len() as u64;
        let stats = &mut self.hosts[from.0].stats;
        stats.sent += 1;
        stats.sent_bytes += len;
        let pkt = Packet {
            dgram,
            hash,
            sender: Some(from),
        };
        self.trace_pkt(now, TraceKind::Sent(from), &pkt);
        let Some(realm) = realm else {
            self.drop_pkt(now, pkt, DropReason::BadSource, Some(Device::Host(from)));
            return;
        };
        let from = Device::Host(from);
        self.cross(now, uplink, pkt, Next::Router { realm, from });
    }

    /// Puts a datagram straight onto the public internet's router, as if sent by a machine the
    /// simulation does not model (spoofing, scanners, a late packet from a forgotten peer).
    pub fn inject(&mut self, dgram: Datagram) {
        let now = self.now;
        let hash = if self.trace.enabled() {
            payload_hash(&dgram.data)
        } else {
            0
        };
        let pkt = Packet {
            dgram,
            hash,
            sender: None,
        };
        self.trace_pkt(now, TraceKind::Injected, &pkt);
        self.route(now, Realm::Public, None, pkt);
    }

    /// The next delivery due by now, processing every packet event due by now in time order.
    pub fn poll_delivery(&mut self) -> Option<Delivery> {
        loop {
            if let Some(d) = self.ready.pop_front() {
                return Some(d);
            }
            match self.queue.peek() {
                Some(ev) if ev.at <= self.now => {}
                _ => return None,
            }
            let due = self.queue.pop()?;
            let item = self.slab.get_mut(due.slot).and_then(Option::take);
            self.free.push(due.slot);
            if let Some(item) = item {
                self.arrive(due.at, item);
            }
        }
    }

    fn schedule(&mut self, at: Instant, link: usize, next: Next, pkt: Packet) {
        let seq = self.seq;
        self.seq += 1;
        let epoch = self.links[link].epoch;
        let item = InFlight {
            link,
            epoch,
            next,
            pkt,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slab[slot] = Some(item);
                slot
            }
            None => {
                self.slab.push(Some(item));
                self.slab.len() - 1
            }
        };
        self.queue.push(Due { at, seq, slot });
    }

    fn cross(&mut self, now: Instant, li: usize, pkt: Packet, next: Next) {
        // Roll first so that only duplicated packets pay for a copy.
        if self.links[li].roll_duplicate() {
            let owner = self.link_owner[li];
            self.trace_pkt(now, TraceKind::Duplicated(owner), &pkt);
            self.cross_one(now, li, pkt.clone(), next);
        }
        self.cross_one(now, li, pkt, next);
    }

    fn cross_one(&mut self, now: Instant, li: usize, pkt: Packet, next: Next) {
        let len = pkt.dgram.data.len();
        let owner = self.link_owner[li];
        match self.links[li].cross(now, len) {
            Crossing::Dropped(r) => self.drop_pkt(now, pkt, r, Some(owner)),
            Crossing::Arrives { at, reordered } => {
                if reordered {
                    self.trace_pkt(now, TraceKind::Reordered(owner), &pkt);
                }
                self.schedule(at, li, next, pkt);
            }
        }
    }

    fn arrive(&mut self, at: Instant, item: InFlight) {
        let InFlight {
            link,
            epoch,
            next,
            pkt,
        } = item;
        if !self.links[link].up || self.links[link].epoch != epoch {
            self.links[link].dropped_in_flight();
            let owner = self.link_owner[link];
            self.drop_pkt(at, pkt, DropReason::LinkDown, Some(owner));
            return;
        }
        self.links[link].passed(pkt.dgram.data.len());
        match next {
            Next::Router { realm, from } => self.route(at, realm, Some(from), pkt),
            Next::Down(to) => self.down(at, to, pkt),
            Next::Deliver(Device::Host(h)) => self.deliver(at, h, pkt),
            Next::Deliver(Device::Nat(n)) => self.nat_inbound(at, n, pkt),
        }
    }

    fn route(&mut self, at: Instant, realm: Realm, from: Option<Device>, pkt: Packet) {
        match self.owners.get(&(realm, pkt.dgram.dst.ip())).copied() {
            Some(to) => self.hop(at, from, to, pkt),
            None => match realm {
                Realm::Behind(n) => self.nat_outbound(at, n, pkt),
                Realm::Public => self.drop_pkt(at, pkt, DropReason::NoRoute, None),
            },
        }
    }

    /// From `from` to `to` within one realm: the pair path if set, then `to`'s downlink.
    fn hop(&mut self, at: Instant, from: Option<Device>, to: Device, pkt: Packet) {
        let path = match from {
            Some(f) if !self.paths.is_empty() => self.paths.get(&(f, to)).copied(),
            _ => None,
        };
        if let Some(li) = path {
            self.cross(at, li, pkt, Next::Down(to));
        } else {
            self.down(at, to, pkt);
        }
    }

    fn down(&mut self, at: Instant, to: Device, pkt: Packet) {
        let li = self.link_index(to, Direction::Down);
        self.cross(at, li, pkt, Next::Deliver(to));
    }

    fn deliver(&mut self, at: Instant, h: HostId, pkt: Packet) {
        if !self.hosts[h.0].listening {
            self.drop_pkt(at, pkt, DropReason::NoListener, Some(Device::Host(h)));
            return;
        }
        self.trace_pkt(at, TraceKind::Delivered(h), &pkt);
        let stats = &mut self.hosts[h.0].stats;
        stats.delivered += 1;
        stats.delivered_bytes += pkt.dgram.data.len() as u64;
        self.ready.push_back(Delivery {
            at,
            host: h,
            datagram: pkt.dgram,
        });
    }

    fn flush_nat_notes(&mut self, at: Instant, n: NatId, proto: Protocol) {
        let notes = std::mem::take(&mut self.nats[n.0].nat.notes);
        if self.trace.enabled() {
            for note in &notes {
                let (kind, internal, external) = match *note {
                    NatNote::Created { internal, external } => {
                        (TraceKind::MappingCreated(n), internal, external)
                    }
                    NatNote::Expired { internal, external } => {
                        (TraceKind::MappingExpired(n), internal, external)
                    }
                };
                self.trace.record(TraceEvent {
                    at: at - self.origin,
                    kind,
                    proto,
                    src: internal,
                    dst: external,
                    len: 0,
                    hash: 0,
                });
            }
        }
        // Give the buffer back so the next call does not allocate.
        let mut notes = notes;
        notes.clear();
        self.nats[n.0].nat.notes = notes;
    }

    fn nat_outbound(&mut self, at: Instant, n: NatId, mut pkt: Packet) {
        let dev = Some(Device::Nat(n));
        let public_ip = self.nats[n.0].nat.config.public_ip;
        let d = &pkt.dgram;
        if d.dst.is_ipv4() != public_ip.is_ipv4() || d.src.is_ipv4() != public_ip.is_ipv4() {
            self.drop_pkt(at, pkt, DropReason::NoRoute, dev);
            return;
        }
        let (proto, src, dst) = (d.proto, d.src, d.dst);
        let mapped = self.nats[n.0].nat.outbound(proto, src, dst, at);
        self.flush_nat_notes(at, n, proto);
        let external = match mapped {
            Ok(e) => e,
            Err(r) => return self.drop_pkt(at, pkt, r, dev),
        };
        pkt.dgram.src = external;
        if dst.ip() == public_ip {
            //# RFC 4787 REQ-9: A NAT MUST support "Hairpinning". [...] the source IP address
            //# and port MUST be the external ones of the sender's mapping.
            if !self.nats[n.0].nat.config.hairpinning {
                return self.drop_pkt(at, pkt, DropReason::NatNoHairpin, dev);
            }
            let inside = self.nats[n.0].nat.inbound(proto, dst.port(), external, at);
            self.flush_nat_notes(at, n, proto);
            match inside {
                Ok(internal) => {
                    pkt.dgram.dst = internal;
                    self.nats[n.0].nat.stats.hairpinned += 1;
                    self.trace_pkt(at, TraceKind::NatHairpin(n), &pkt);
                    self.route_inside(at, n, pkt);
                }
                Err(r) => self.drop_pkt(at, pkt, r, dev),
            }
            return;
        }
        self.trace_pkt(at, TraceKind::NatOutbound(n), &pkt);
        let outer = self.nats[n.0].nat.config.outer;
        let uplink = self.nats[n.0].uplink;
        self.cross(
            at,
            uplink,
            pkt,
            Next::Router {
                realm: outer,
                from: Device::Nat(n),
            },
        );
    }

    fn nat_inbound(&mut self, at: Instant, n: NatId, mut pkt: Packet) {
        let d = &pkt.dgram;
        let (proto, port, remote) = (d.proto, d.dst.port(), d.src);
        let inside = self.nats[n.0].nat.inbound(proto, port, remote, at);
        self.flush_nat_notes(at, n, proto);
        match inside {
            Ok(internal) => {
                pkt.dgram.dst = internal;
                self.trace_pkt(at, TraceKind::NatInbound(n), &pkt);
                self.route_inside(at, n, pkt);
            }
            Err(r) => self.drop_pkt(at, pkt, r, Some(Device::Nat(n))),
        }
    }

    fn route_inside(&mut self, at: Instant, n: NatId, pkt: Packet) {
        let realm = Realm::Behind(n);
        match self.owners.get(&(realm, pkt.dgram.dst.ip())).copied() {
            Some(to) => self.hop(at, Some(Device::Nat(n)), to, pkt),
            None => self.drop_pkt(at, pkt, DropReason::NoRoute, Some(Device::Nat(n))),
        }
    }
}
