//! NAT state: mappings, filters, port allocation (RFC 4787 terms).

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use zvon_base::{Protocol, Rng};

use crate::config::{FilteringBehavior, MappingBehavior, NatConfig, PortAllocation};
use crate::hash::{FastMap, FastSet};
use crate::trace::{DropReason, NatStats};

/// What part of the destination a mapping is keyed on (depends on the mapping behavior).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum RemoteKey {
    Any,
    Ip(IpAddr),
    Addr(SocketAddr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct MapKey {
    proto: Protocol,
    internal: SocketAddr,
    remote: RemoteKey,
}

#[derive(Debug)]
struct Mapping {
    key: MapKey,
    last_used: Instant,
    /// Remote IPs the inside sent to through this mapping (address-dependent filtering).
    permit_ips: FastSet<IpAddr>,
    /// Remote endpoints the inside sent to through this mapping (address-and-port-dependent).
    permit_addrs: FastSet<SocketAddr>,
}

/// A NAT event the network turns into trace lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NatNote {
    Created {
        internal: SocketAddr,
        external: SocketAddr,
    },
    Expired {
        internal: SocketAddr,
        external: SocketAddr,
    },
}

#[derive(Debug)]
pub(crate) struct Nat {
    pub(crate) config: NatConfig,
    rng: Rng,
    by_key: FastMap<MapKey, u16>,
    by_port: FastMap<(Protocol, u16), Mapping>,
    next_port: u16,
    pub(crate) stats: NatStats,
    pub(crate) notes: Vec<NatNote>,
}

impl Nat {
    pub(crate) fn new(config: NatConfig, rng: Rng) -> Self {
        let next_port = *config.port_range.start();
        Self {
            config,
            rng,
            by_key: FastMap::default(),
            by_port: FastMap::default(),
            next_port,
            stats: NatStats::default(),
            notes: Vec::new(),
        }
    }

    fn external(&self, port: u16) -> SocketAddr {
        SocketAddr::new(self.config.public_ip, port)
    }

    fn expired(&self, m: &Mapping, now: Instant) -> bool {
        now.saturating_duration_since(m.last_used) >= self.config.mapping_timeout
    }

    /// Removes the mapping on `port` if it has expired; returns whether the port is now free.
    fn reap(&mut self, proto: Protocol, port: u16, now: Instant) -> bool {
        let Some(m) = self.by_port.get(&(proto, port)) else {
            return true;
        };
        if !self.expired(m, now) {
            return false;
        }
        if let Some(m) = self.by_port.remove(&(proto, port)) {
            self.by_key.remove(&m.key);
            self.stats.mappings_expired += 1;
            self.notes.push(NatNote::Expired {
                internal: m.key.internal,
                external: self.external(port),
            });
        }
        true
    }

    fn remote_key(&self, remote: SocketAddr) -> RemoteKey {
        match self.config.mapping {
            MappingBehavior::EndpointIndependent => RemoteKey::Any,
            MappingBehavior::AddressDependent => RemoteKey::Ip(remote.ip()),
            MappingBehavior::AddressAndPortDependent => RemoteKey::Addr(remote),
        }
    }

    /// Outbound: finds or creates the mapping for `internal` -> `remote`, refreshes it, opens
    /// the filter for `remote`, and returns the external address.
    pub(crate) fn outbound(
        &mut self,
        proto: Protocol,
        internal: SocketAddr,
        remote: SocketAddr,
        now: Instant,
    ) -> Result<SocketAddr, DropReason> {
        let key = MapKey {
            proto,
            internal,
            remote: self.remote_key(remote),
        };
        let port = match self.by_key.get(&key).copied() {
            Some(port) if !self.reap(proto, port, now) => port,
            _ => {
                let port = self
                    .allocate(proto, internal.port(), now)
                    .ok_or(DropReason::NatPortsExhausted)?;
                self.by_port.insert(
                    (proto, port),
                    Mapping {
                        key,
                        last_used: now,
                        permit_ips: FastSet::default(),
                        permit_addrs: FastSet::default(),
                    },
                );
                self.by_key.insert(key, port);
                self.stats.mappings_created += 1;
                self.notes.push(NatNote::Created {
                    internal,
                    external: self.external(port),
                });
                port
            }
        };
        if let Some(m) = self.by_port.get_mut(&(proto, port)) {
            //# RFC 4787 REQ-6: The NAT mapping Refresh Direction MUST have a "NAT Outbound
            //# refresh behavior" of "True".
            m.last_used = now;
            m.permit_ips.insert(remote.ip());
            m.permit_addrs.insert(remote);
        }
        self.stats.outbound += 1;
        Ok(self.external(port))
    }

    /// Inbound: to external `port` from `remote`; returns the internal endpoint if a live
    /// mapping exists and its filter admits `remote`.
    pub(crate) fn inbound(
        &mut self,
        proto: Protocol,
        port: u16,
        remote: SocketAddr,
        now: Instant,
    ) -> Result<SocketAddr, DropReason> {
        if self.reap(proto, port, now) {
            return Err(DropReason::NatNoMapping);
        }
        let filtering = self.config.filtering;
        let refresh = self.config.inbound_refresh;
        let Some(m) = self.by_port.get_mut(&(proto, port)) else {
            return Err(DropReason::NatNoMapping);
        };
        let admitted = match filtering {
            FilteringBehavior::EndpointIndependent => true,
            FilteringBehavior::AddressDependent => m.permit_ips.contains(&remote.ip()),
            FilteringBehavior::AddressAndPortDependent => m.permit_addrs.contains(&remote),
        };
        if !admitted {
            return Err(DropReason::NatFiltered);
        }
        if refresh {
            m.last_used = now;
        }
        self.stats.inbound += 1;
        Ok(m.key.internal)
    }

    fn allocate(&mut self, proto: Protocol, preferred: u16, now: Instant) -> Option<u16> {
        let (lo, hi) = (
            *self.config.port_range.start(),
            *self.config.port_range.end(),
        );
        if lo > hi {
            return None;
        }
        let span = u32::from(hi - lo) + 1;
        let alloc = self.config.port_allocation;
        match alloc {
            PortAllocation::Preserve => {
                if (lo..=hi).contains(&preferred) && self.reap(proto, preferred, now) {
                    return Some(preferred);
                }
            }
            PortAllocation::Random => {
                for _ in 0..32 {
                    let p = lo + self.rng.below(u64::from(span)) as u16;
                    if self.reap(proto, p, now) {
                        return Some(p);
                    }
                }
            }
            PortAllocation::Sequential => {}
        }
        // Sequential scan from the cursor, also the fallback of the other strategies.
        for _ in 0..span {
            let p = self.next_port;
            self.next_port = if p >= hi { lo } else { p + 1 };
            if (lo..=hi).contains(&p) && self.reap(proto, p, now) {
                return Some(p);
            }
        }
        None
    }

    /// Forgets every mapping, as a rebooted NAT does.
    pub(crate) fn reset(&mut self) {
        self.by_key.clear();
        self.by_port.clear();
        self.next_port = *self.config.port_range.start();
    }

    /// The live mapping for `internal` -> `remote`, if any (for tests).
    pub(crate) fn lookup(
        &self,
        proto: Protocol,
        internal: SocketAddr,
        remote: SocketAddr,
        now: Instant,
    ) -> Option<SocketAddr> {
        let key = MapKey {
            proto,
            internal,
            remote: self.remote_key(remote),
        };
        let port = *self.by_key.get(&key)?;
        let m = self.by_port.get(&(proto, port))?;
        (!self.expired(m, now)).then(|| self.external(port))
    }

    /// Live mappings (for tests), sorted by external port.
    pub(crate) fn mappings(&self, now: Instant) -> Vec<(Protocol, SocketAddr, SocketAddr)> {
        let mut v: Vec<_> = self
            .by_port
            .iter()
            .filter(|(_, m)| !self.expired(m, now))
            .map(|(&(proto, port), m)| (proto, m.key.internal, self.external(port)))
            .collect();
        v.sort_by_key(|&(proto, _, ext)| (ext.port(), proto as u8));
        v
    }
}
