//! Configuration values: links, hosts, NAT boxes.

use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::time::Duration;

use crate::net::NatId;

/// Impairments of one direction of a link.
///
/// The default is a perfect link: no delay, no loss, unlimited bandwidth. Every field is public;
/// the `with_*` builders are shorthands.
///
/// A packet crossing a link goes through these steps, in order:
/// 1. the link is cut (see [`Network::cut`](crate::Network::cut)): dropped (`LinkDown`);
/// 2. larger than [`mtu`](Self::mtu): dropped (`TooBig`);
/// 3. the bandwidth cap: the packet waits in a drop-tail FIFO of [`queue_bytes`](Self::queue_bytes)
///    behind the bytes not yet serialised, then takes `len * 8 / rate` to serialise; if the
///    backlog plus the packet exceed the queue it is dropped (`QueueFull`) (an idle link always
///    takes one packet, however small the queue);
/// 4. random or burst loss on the wire ([`loss`](Self::loss)): dropped (`Loss`), after it used
///    its serialisation time;
/// 5. propagation: [`latency`](Self::latency) plus a uniform random `0..=jitter`. Jitter never
///    reorders: a packet never arrives before one sent earlier on the same link;
/// 6. with probability [`reorder`](Self::reorder) the packet is held back an extra
///    [`reorder_delay`](Self::reorder_delay) outside that FIFO order, so later packets overtake
///    it. This knob is the only source of reordering;
/// 7. with probability [`duplicate`](Self::duplicate) a copy is made that crosses the link
///    independently (its own queue slot, loss draw and delay).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// Base one-way propagation delay.
    pub latency: Duration,
    /// Maximum random extra delay (uniform in `0..=jitter`).
    pub jitter: Duration,
    /// Loss model.
    pub loss: LossModel,
    /// Probability that a packet is held back by `reorder_delay` and overtaken.
    pub reorder: f64,
    /// Extra delay of a reordered packet.
    pub reorder_delay: Duration,
    /// Probability that a packet is duplicated.
    pub duplicate: f64,
    /// Bandwidth cap in bits per second; `None` is unlimited (no serialisation delay).
    pub rate_bps: Option<u64>,
    /// Drop-tail queue size in bytes in front of the bandwidth cap.
    pub queue_bytes: usize,
    /// Largest datagram payload the link carries; larger ones are dropped.
    pub mtu: usize,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            loss: LossModel::None,
            reorder: 0.0,
            reorder_delay: Duration::from_millis(10),
            duplicate: 0.0,
            rate_bps: None,
            queue_bytes: 64 * 1024,
            mtu: 65_535,
        }
    }
}

impl LinkConfig {
    /// A perfect link (the default).
    pub fn ideal() -> Self {
        Self::default()
    }

    /// Sets the base one-way latency.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Sets the jitter (uniform extra delay in `0..=jitter`).
    pub fn with_jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets independent random loss with probability `p`.
    pub fn with_loss(mut self, p: f64) -> Self {
        self.loss = LossModel::Random(p);
        self
    }

    /// Sets Gilbert-Elliott burst loss.
    pub fn with_burst_loss(mut self, ge: GilbertElliott) -> Self {
        self.loss = LossModel::Burst(ge);
        self
    }

    /// Sets the reordering probability and the extra delay of a reordered packet.
    pub fn with_reorder(mut self, p: f64, delay: Duration) -> Self {
        self.reorder = p;
        self.reorder_delay = delay;
        self
    }

    /// Sets the duplication probability.
    pub fn with_duplicate(mut self, p: f64) -> Self {
        self.duplicate = p;
        self
    }

    /// Sets a bandwidth cap in bits per second with a drop-tail queue of `queue_bytes`.
    pub fn with_rate(mut self, bits_per_second: u64, queue_bytes: usize) -> Self {
        self.rate_bps = Some(bits_per_second);
        self.queue_bytes = queue_bytes;
        self
    }

    /// Sets the MTU (largest payload carried).
    pub fn with_mtu(mut self, mtu: usize) -> Self {
        self.mtu = mtu;
        self
    }
}

/// How a link loses packets.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum LossModel {
    /// No loss.
    #[default]
    None,
    /// Each packet is lost independently with this probability.
    Random(f64),
    /// Bursty loss from a two-state Markov chain.
    Burst(GilbertElliott),
}

/// The Gilbert-Elliott two-state loss model: a Good and a Bad state, each with its own loss
/// probability; before each packet the chain moves Good->Bad with `p_good_to_bad` and
/// Bad->Good with `p_bad_to_good`. The mean loss rate is
/// `(r * loss_good + p * loss_bad) / (p + r)` with `p = p_good_to_bad`, `r = p_bad_to_good`,
/// and the mean burst length (in the Bad state) is `1 / r` packets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GilbertElliott {
    /// Probability of moving from Good to Bad before a packet.
    pub p_good_to_bad: f64,
    /// Probability of moving from Bad to Good before a packet.
    pub p_bad_to_good: f64,
    /// Loss probability in the Good state (often 0).
    pub loss_good: f64,
    /// Loss probability in the Bad state (often 1).
    pub loss_bad: f64,
}

impl GilbertElliott {
    /// The mean loss rate of the chain in its stationary state.
    pub fn mean_loss(&self) -> f64 {
        let (p, r) = (self.p_good_to_bad, self.p_bad_to_good);
        if p + r <= 0.0 {
            return self.loss_good;
        }
        (r * self.loss_good + p * self.loss_bad) / (p + r)
    }
}

/// Where an address lives: on the public internet or on the private side of a NAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Realm {
    /// The public internet: every public address reaches every other.
    Public,
    /// The private network behind a NAT box.
    Behind(NatId),
}

/// A host to add to the network: a name, one or more addresses (each in a realm) and its access
/// link.
///
/// A host has one access link (uplink: host to network; downlink: network to host) shared by
/// all its addresses, like one Wi-Fi interface carrying a NATed IPv4 address and a public IPv6
/// one.
///
/// ```
/// use zvon_netsim::{HostConfig, LinkConfig, Realm};
/// use std::time::Duration;
/// let h = HostConfig::public("server", "198.51.100.1".parse().unwrap())
///     .with_addr("2001:db8::1".parse().unwrap(), Realm::Public)
///     .with_link(LinkConfig::ideal().with_latency(Duration::from_millis(20)));
/// assert_eq!(h.addrs.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HostConfig {
    /// A name for traces, tracing spans and the per-link random streams (keep names unique so
    /// that links draw independent randomness).
    pub name: String,
    /// The host's addresses and the realm each lives in.
    pub addrs: Vec<(IpAddr, Realm)>,
    /// Host to network.
    pub uplink: LinkConfig,
    /// Network to host.
    pub downlink: LinkConfig,
}

impl HostConfig {
    /// A host with one address in `realm` and a perfect link.
    pub fn new(name: impl Into<String>, addr: IpAddr, realm: Realm) -> Self {
        Self {
            name: name.into(),
            addrs: vec![(addr, realm)],
            uplink: LinkConfig::default(),
            downlink: LinkConfig::default(),
        }
    }

    /// A host with one public address.
    pub fn public(name: impl Into<String>, addr: IpAddr) -> Self {
        Self::new(name, addr, Realm::Public)
    }

    /// A host with one private address behind `nat`.
    pub fn behind(nat: NatId, name: impl Into<String>, addr: IpAddr) -> Self {
        Self::new(name, addr, Realm::Behind(nat))
    }

    /// Adds another address.
    pub fn with_addr(mut self, addr: IpAddr, realm: Realm) -> Self {
        self.addrs.push((addr, realm));
        self
    }

    /// Sets both directions of the access link.
    pub fn with_link(mut self, link: LinkConfig) -> Self {
        self.uplink = link.clone();
        self.downlink = link;
        self
    }

    /// Sets the uplink (host to network).
    pub fn with_uplink(mut self, link: LinkConfig) -> Self {
        self.uplink = link;
        self
    }

    /// Sets the downlink (network to host).
    pub fn with_downlink(mut self, link: LinkConfig) -> Self {
        self.downlink = link;
        self
    }
}

/// RFC 4787 section 4.1 mapping behavior: when does an outbound flow reuse an external port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MappingBehavior {
    /// One mapping per internal address and port, whatever the destination.
    EndpointIndependent,
    /// One mapping per internal address and port and destination IP address.
    AddressDependent,
    /// One mapping per internal address and port and destination address and port.
    AddressAndPortDependent,
}

/// RFC 4787 section 5 filtering behavior: which inbound packets a mapping lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilteringBehavior {
    /// Any external endpoint may send to a mapped port.
    EndpointIndependent,
    /// Only IP addresses the internal endpoint has sent to through this mapping.
    AddressDependent,
    /// Only address and port pairs the internal endpoint has sent to through this mapping.
    AddressAndPortDependent,
}

/// How a NAT picks the external port of a new mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortAllocation {
    /// Keep the internal port when free, else fall back to `Sequential`.
    Preserve,
    /// The next free port after the last one allocated.
    Sequential,
    /// A seeded random free port.
    Random,
}

/// The four classic (RFC 3489) NAT types, as presets of [`NatConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NatType {
    /// Endpoint-independent mapping and filtering.
    FullCone,
    /// Endpoint-independent mapping, address-dependent filtering.
    AddressRestricted,
    /// Endpoint-independent mapping, address-and-port-dependent filtering.
    PortRestricted,
    /// Address-and-port-dependent mapping and filtering.
    Symmetric,
}

/// A NAT box: its public address, behaviors and timers.
///
/// ```
/// use zvon_netsim::{NatConfig, MappingBehavior};
/// let nat = NatConfig::symmetric("203.0.113.1".parse().unwrap()).with_hairpinning(true);
/// assert_eq!(nat.mapping, MappingBehavior::AddressAndPortDependent);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NatConfig {
    /// Name for traces (defaults to the public address).
    pub name: String,
    /// The external address.
    pub public_ip: IpAddr,
    /// Where the external side lives (a NAT behind another NAT models carrier-grade NAT).
    pub outer: Realm,
    /// Mapping behavior.
    pub mapping: MappingBehavior,
    /// Filtering behavior.
    pub filtering: FilteringBehavior,
    /// External port selection.
    pub port_allocation: PortAllocation,
    /// External ports to allocate from.
    pub port_range: RangeInclusive<u16>,
    /// An idle mapping (no outbound packet for this long) expires. RFC 4787 REQ-5 asks for at
    /// least 2 minutes, but many home routers use 30 to 60 seconds for UDP; the default of 30 s
    /// makes tests show whether a protocol keeps its bindings alive.
    pub mapping_timeout: Duration,
    /// Whether inbound packets also refresh a mapping (RFC 4787 REQ-6 makes this optional;
    /// outbound packets always refresh).
    pub inbound_refresh: bool,
    /// Whether packets from inside to the NAT's own public address are looped back inside
    /// (RFC 4787 REQ-9). Disabled, they are dropped.
    pub hairpinning: bool,
    /// The external (WAN) side's link, network to NAT.
    pub wan_downlink: LinkConfig,
    /// The external (WAN) side's link, NAT to network.
    pub wan_uplink: LinkConfig,
}

impl NatConfig {
    /// A NAT of one of the four classic types on the public internet, preserving ports, with
    /// a 30 s mapping timeout, no hairpinning and a perfect WAN link.
    pub fn new(kind: NatType, public_ip: IpAddr) -> Self {
        let (mapping, filtering) = match kind {
            NatType::FullCone => (
                MappingBehavior::EndpointIndependent,
                FilteringBehavior::EndpointIndependent,
            ),
            NatType::AddressRestricted => (
                MappingBehavior::EndpointIndependent,
                FilteringBehavior::AddressDependent,
            ),
            NatType::PortRestricted => (
                MappingBehavior::EndpointIndependent,
                FilteringBehavior::AddressAndPortDependent,
            ),
            NatType::Symmetric => (
                MappingBehavior::AddressAndPortDependent,
                FilteringBehavior::AddressAndPortDependent,
            ),
        };
        let port_allocation = match kind {
            // Symmetric NATs that preserve ports would hand the same external port to every
            // destination and hide their nature from STUN tests; real ones allocate afresh.
            NatType::Symmetric => PortAllocation::Random,
            _ => PortAllocation::Preserve,
        };
        Self {
            name: public_ip.to_string(),
            public_ip,
            outer: Realm::Public,
            mapping,
            filtering,
            port_allocation,
            port_range: 1024..=65535,
            mapping_timeout: Duration::from_secs(30),
            inbound_refresh: false,
            hairpinning: false,
            wan_downlink: LinkConfig::default(),
            wan_uplink: LinkConfig::default(),
        }
    }

    /// Endpoint-independent mapping and filtering.
    pub fn full_cone(public_ip: IpAddr) -> Self {
        Self::new(NatType::FullCone, public_ip)
    }

    /// Endpoint-independent mapping, address-dependent filtering.
    pub fn address_restricted(public_ip: IpAddr) -> Self {
        Self::new(NatType::AddressRestricted, public_ip)
    }

    /// Endpoint-independent mapping, address-and-port-dependent filtering.
    pub fn port_restricted(public_ip: IpAddr) -> Self {
        Self::new(NatType::PortRestricted, public_ip)
    }

    /// Address-and-port-dependent mapping and filtering, random ports.
    pub fn symmetric(public_ip: IpAddr) -> Self {
        Self::new(NatType::Symmetric, public_ip)
    }

    /// Sets the name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Puts the external side behind another NAT (carrier-grade NAT).
    pub fn with_outer(mut self, outer: Realm) -> Self {
        self.outer = outer;
        self
    }

    /// Sets the port allocation.
    pub fn with_port_allocation(mut self, alloc: PortAllocation) -> Self {
        self.port_allocation = alloc;
        self
    }

    /// Sets the mapping timeout.
    pub fn with_mapping_timeout(mut self, timeout: Duration) -> Self {
        self.mapping_timeout = timeout;
        self
    }

    /// Enables or disables hairpinning.
    pub fn with_hairpinning(mut self, on: bool) -> Self {
        self.hairpinning = on;
        self
    }

    /// Sets both directions of the WAN link.
    pub fn with_wan_link(mut self, link: LinkConfig) -> Self {
        self.wan_uplink = link.clone();
        self.wan_downlink = link;
        self
    }
}
