//! The packet trace and the counters.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use zvon_base::Protocol;

use crate::net::{Device, HostId, NatId};

/// Why the network dropped a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DropReason {
    /// Random or burst loss on a link.
    Loss,
    /// The bandwidth-cap queue was full (tail drop).
    QueueFull,
    /// The link was cut.
    LinkDown,
    /// Larger than the link MTU.
    TooBig,
    /// No host or NAT owns the destination address (or the address families differ).
    NoRoute,
    /// The sender does not own the source address.
    BadSource,
    /// Inbound to a NAT port with no live mapping.
    NatNoMapping,
    /// Inbound to a mapped NAT port from an endpoint the filter refuses.
    NatFiltered,
    /// Inside host to the NAT's own public address, hairpinning disabled.
    NatNoHairpin,
    /// The NAT has no free external port.
    NatPortsExhausted,
    /// Delivered to a host with no node attached.
    NoListener,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [DropReason; 11] = [
        DropReason::Loss,
        DropReason::QueueFull,
        DropReason::LinkDown,
        DropReason::TooBig,
        DropReason::NoRoute,
        DropReason::BadSource,
        DropReason::NatNoMapping,
        DropReason::NatFiltered,
        DropReason::NatNoHairpin,
        DropReason::NatPortsExhausted,
        DropReason::NoListener,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// A short lowercase name, as printed in traces.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::QueueFull => "queue-full",
            DropReason::LinkDown => "link-down",
            DropReason::TooBig => "too-big",
            DropReason::NoRoute => "no-route",
            DropReason::BadSource => "bad-source",
            DropReason::NatNoMapping => "nat-no-mapping",
            DropReason::NatFiltered => "nat-filtered",
            DropReason::NatNoHairpin => "nat-no-hairpin",
            DropReason::NatPortsExhausted => "nat-ports-exhausted",
            DropReason::NoListener => "no-listener",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Drop counters, one per [`DropReason`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DropCounts([u64; DropReason::ALL.len()]);

impl DropCounts {
    /// Packets dropped for `reason`.
    pub fn get(&self, reason: DropReason) -> u64 {
        self.0[reason.index()]
    }

    /// Packets dropped for any reason.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    pub(crate) fn add(&mut self, reason: DropReason) {
        self.0[reason.index()] += 1;
    }
}

/// Counters of one host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostStats {
    /// Datagrams the host sent.
    pub sent: u64,
    /// Payload bytes the host sent.
    pub sent_bytes: u64,
    /// Datagrams delivered to the host (duplicates count twice).
    pub delivered: u64,
    /// Payload bytes delivered to the host.
    pub delivered_bytes: u64,
    /// Datagrams the host sent that the network dropped, by reason (wherever on the path).
    pub dropped: DropCounts,
}

/// Counters of one direction of one link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Packets offered to the link.
    pub offered: u64,
    /// Packets that came out of the far end (duplicates included).
    pub passed: u64,
    /// Payload bytes that came out of the far end.
    pub passed_bytes: u64,
    /// Packets dropped on this link, by reason.
    pub dropped: DropCounts,
    /// Duplicates made.
    pub duplicated: u64,
    /// Packets held back to be overtaken.
    pub reordered: u64,
    /// Largest backlog seen in the bandwidth queue, in bytes (the packet itself included).
    pub max_backlog_bytes: u64,
}

/// Counters of one NAT box.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatStats {
    /// Outbound packets translated.
    pub outbound: u64,
    /// Inbound packets translated.
    pub inbound: u64,
    /// Packets looped back inside.
    pub hairpinned: u64,
    /// Mappings created.
    pub mappings_created: u64,
    /// Mappings that expired.
    pub mappings_expired: u64,
    /// Packets the NAT dropped, by reason.
    pub dropped: DropCounts,
}

/// What happened to a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceKind {
    /// A host handed the packet to the network.
    Sent(HostId),
    /// Injected with a source no host owns (spoofed, from the public internet).
    Injected,
    /// Delivered to a host.
    Delivered(HostId),
    /// Dropped; at the device whose link or NAT dropped it (`None` when routing dropped it).
    Dropped(DropReason, Option<Device>),
    /// A link made a copy.
    Duplicated(Device),
    /// A link held the packet back to be overtaken.
    Reordered(Device),
    /// A NAT rewrote the source of an outbound packet (the packet's new addresses follow).
    NatOutbound(NatId),
    /// A NAT rewrote the destination of an inbound packet (the packet's new addresses follow).
    NatInbound(NatId),
    /// A NAT looped a packet back inside (the packet's new addresses follow).
    NatHairpin(NatId),
    /// A NAT created a mapping; `src` is the internal endpoint, `dst` the external one.
    MappingCreated(NatId),
    /// A NAT mapping expired; `src` is the internal endpoint, `dst` the external one.
    MappingExpired(NatId),
}

/// One line of the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEvent {
    /// Virtual time since the simulation's origin.
    pub at: Duration,
    /// What happened.
    pub kind: TraceKind,
    /// Transport.
    pub proto: Protocol,
    /// Source address (as of this event).
    pub src: SocketAddr,
    /// Destination address (as of this event).
    pub dst: SocketAddr,
    /// Payload length.
    pub len: usize,
    /// A 64-bit hash of the payload (0 for NAT mapping events).
    pub hash: u64,
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>5}.{:09} ", self.at.as_secs(), self.at.subsec_nanos())?;
        match self.kind {
            TraceKind::Sent(h) => write!(f, "sent      h{}", h.0)?,
            TraceKind::Injected => write!(f, "injected  -")?,
            TraceKind::Delivered(h) => write!(f, "delivered h{}", h.0)?,
            TraceKind::Dropped(r, d) => {
                write!(f, "dropped   ")?;
                match d {
                    Some(d) => write!(f, "{d}")?,
                    None => write!(f, "-")?,
                }
                write!(f, " {r}")?;
            }
            TraceKind::Duplicated(d) => write!(f, "dup       {d}")?,
            TraceKind::Reordered(d) => write!(f, "reorder   {d}")?,
            TraceKind::NatOutbound(n) => write!(f, "nat-out   n{}", n.0)?,
            TraceKind::NatInbound(n) => write!(f, "nat-in    n{}", n.0)?,
            TraceKind::NatHairpin(n) => write!(f, "hairpin   n{}", n.0)?,
            TraceKind::MappingCreated(n) => write!(f, "map-new   n{}", n.0)?,
            TraceKind::MappingExpired(n) => write!(f, "map-exp   n{}", n.0)?,
        }
        let proto = match self.proto {
            Protocol::Udp => "udp",
            Protocol::Tcp => "tcp",
            Protocol::Tls => "tls",
        };
        write!(
            f,
            " {proto} {} > {} len={} #{:016x}",
            self.src, self.dst, self.len, self.hash
        )
    }
}

/// How much of the trace to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceConfig {
    /// Whether to trace at all (hash payloads, update the digest, record events). Turn off for
    /// bulk transfers where only counters matter.
    pub enabled: bool,
    /// Events kept in memory; later ones only update the digest.
    pub max_events: usize,
}

impl Default for TraceConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_events: 100_000,
        }
    }
}

/// The record of everything that happened to every packet, with a running digest over all of
/// it (also past [`TraceConfig::max_events`]).
///
/// Times are offsets from the simulation's origin, so two runs with the same seed produce the
/// same bytes from [`to_bytes`](Self::to_bytes).
#[derive(Debug, Clone)]
pub struct Trace {
    config: TraceConfig,
    events: Vec<TraceEvent>,
    total: u64,
    digest: u64,
}

impl Trace {
    pub(crate) fn new(config: TraceConfig) -> Self {
        Self {
            config,
            events: Vec::new(),
            total: 0,
            digest: 0xcbf2_9ce4_8422_2325,
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.config.enabled
    }

    pub(crate) fn record(&mut self, ev: TraceEvent) {
        if !self.config.enabled {
            return;
        }
        self.total += 1;
        let mut m = Mix(self.digest);
        m.u64(ev.at.as_nanos() as u64);
        let (tag, a, b) = match ev.kind {
            TraceKind::Sent(h) => (1, h.0 as u64, 0),
            TraceKind::Injected => (2, 0, 0),
            TraceKind::Delivered(h) => (3, h.0 as u64, 0),
            TraceKind::Dropped(r, d) => (4, r as u64, d.map_or(u64::MAX, device_code)),
            TraceKind::Duplicated(d) => (5, device_code(d), 0),
            TraceKind::Reordered(d) => (6, device_code(d), 0),
            TraceKind::NatOutbound(n) => (7, n.0 as u64, 0),
            TraceKind::NatInbound(n) => (8, n.0 as u64, 0),
            TraceKind::NatHairpin(n) => (9, n.0 as u64, 0),
            TraceKind::MappingCreated(n) => (10, n.0 as u64, 0),
            TraceKind::MappingExpired(n) => (11, n.0 as u64, 0),
        };
        m.u64(tag);
        m.u64(a);
        m.u64(b);
        m.u64(ev.proto as u64);
        m.addr(ev.src);
        m.addr(ev.dst);
        m.u64(ev.len as u64);
        m.u64(ev.hash);
        self.digest = m.0;
        if self.events.len() < self.config.max_events {
            self.events.push(ev);
        }
    }

    /// The recorded events (at most [`TraceConfig::max_events`]).
    pub fn events(&self) -> &[TraceEvent] {
        &self.events
    }

    /// How many events happened, recorded or not.
    pub fn total_events(&self) -> u64 {
        self.total
    }

    /// A 64-bit digest of every event so far (recorded or not).
    pub fn digest(&self) -> u64 {
        self.digest
    }

    /// The recorded events as text, one line each, then a line with the event count and the
    /// digest: compare two runs with `assert_eq!`.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }

    /// Forgets the recorded events (the digest and count go on).
    pub fn clear(&mut self) {
        self.events.clear();
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for ev in &self.events {
            writeln!(f, "{ev}")?;
        }
        writeln!(f, "events={} digest={:016x}", self.total, self.digest)
    }
}

fn device_code(d: Device) -> u64 {
    match d {
        Device::Host(h) => h.0 as u64,
        Device::Nat(n) => (1 << 32) | n.0 as u64,
    }
}

/// A small non-cryptographic mixer with a fixed definition (std's hashers may change between
/// releases, which would break stored digests).
struct Mix(u64);

impl Mix {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;

    fn u64(&mut self, v: u64) {
        let x = (self.0 ^ v).wrapping_mul(Self::K);
        self.0 = x ^ (x >> 31);
    }

    fn addr(&mut self, a: SocketAddr) {
        match a {
            SocketAddr::V4(v4) => {
                self.u64(4);
                self.u64(u32::from(*v4.ip()) as u64);
            }
            SocketAddr::V6(v6) => {
                self.u64(6);
                let x = u128::from(*v6.ip());
                self.u64(x as u64);
                self.u64((x >> 64) as u64);
            }
        }
        self.u64(a.port() as u64);
    }
}

/// A 64-bit hash of a payload, as shown in traces.
pub fn payload_hash(data: &[u8]) -> u64 {
    let mut m = Mix(data.len() as u64);
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        m.u64(u64::from_le_bytes(w));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        m.u64(u64::from_le_bytes(w));
    }
    m.u64(0xff);
    m.0
}
