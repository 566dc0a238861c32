//! Candidates (RFC 8445 section 5.1): kinds, priorities and foundations.
//!
//! zvon's ICE candidate is its own type, independent of SDP: `zvon-sdp` parses and writes the
//! `a=candidate` line and `zvon-core` converts between the two.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// The four candidate types of RFC 8445 section 5.1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CandidateKind {
    /// An address on a local interface.
    Host,
    /// The address a NAT gave us, learned from a STUN server.
    ServerReflexive,
    /// The address a NAT gave us, learned from a connectivity check.
    PeerReflexive,
    /// An address on a TURN server that relays for us.
    Relayed,
}

impl CandidateKind {
    /// The recommended type preference of RFC 8445 section 5.1.2.2.
    //# The RECOMMENDED values for type preferences are 126 for host
    //# candidates, 110 for peer-reflexive candidates, 100 for server-
    //# reflexive candidates, and 0 for relayed candidates.
    pub fn type_preference(self) -> u32 {
        match self {
            CandidateKind::Host => 126,
            CandidateKind::PeerReflexive => 110,
            CandidateKind::ServerReflexive => 100,
            CandidateKind::Relayed => 0,
        }
    }

    /// The SDP name of the type (`host`, `srflx`, `prflx`, `relay`).
    pub fn as_str(self) -> &'static str {
        match self {
            CandidateKind::Host => "host",
            CandidateKind::ServerReflexive => "srflx",
            CandidateKind::PeerReflexive => "prflx",
            CandidateKind::Relayed => "relay",
        }
    }
}

impl fmt::Display for CandidateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a relayed candidate reaches its TURN server; it orders relayed candidates among
/// themselves (UDP is cheapest, TLS the most expensive), as Chromium does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelayProtocol {
    /// TURN over UDP.
    Udp,
    /// TURN over TCP.
    Tcp,
    /// TURN over TLS.
    Tls,
}

/// Computes a candidate priority with the formula of RFC 8445 section 5.1.2.1.
//# priority = (2^24)*(type preference) +
//#            (2^8)*(local preference) +
//#            (2^0)*(256 - component ID)
///
/// ```
/// use zvon_ice::candidate::{priority, CandidateKind};
/// assert_eq!(priority(CandidateKind::Host, 65535, 1), 2130706431);
/// ```
pub fn priority(kind: CandidateKind, local_preference: u16, component: u16) -> u32 {
    let type_pref = kind.type_preference();
    (type_pref << 24) + ((local_preference as u32) << 8) + (256 - component.clamp(1, 256) as u32)
}

/// The local preference zvon gives an interface: IPv6 above IPv4 (RFC 8421 recommends
/// preferring IPv6 while keeping IPv4 usable), earlier interfaces above later ones, and for
/// relayed candidates the cheaper transport to the TURN server above the dearer one.
pub fn local_preference(ip: IpAddr, interface_index: u16, relay: Option<RelayProtocol>) -> u16 {
    let family: u16 = if ip.is_ipv6() { 0x8000 } else { 0 };
    let transport: u16 = match relay {
        None | Some(RelayProtocol::Udp) => 0x6000,
        Some(RelayProtocol::Tcp) => 0x4000,
        Some(RelayProtocol::Tls) => 0x2000,
    };
    family | transport | (0x1fff - interface_index.min(0x1fff))
}

/// Computes a candidate-pair priority (RFC 8445 section 6.1.2.3), where `controlling` and
/// `controlled` are the priorities of the candidates of the controlling and controlled agent.
//# pair priority = 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0)
///
/// ```
/// use zvon_ice::candidate::pair_priority;
/// assert_eq!(pair_priority(1, 2), (1u64 << 32) + 4);
/// assert_eq!(pair_priority(2, 1), (1u64 << 32) + 5);
/// ```
pub fn pair_priority(controlling: u32, controlled: u32) -> u64 {
    let (g, d) = (controlling as u64, controlled as u64);
    // Saturating: a peer may signal priorities up to 2^32-1, where the sum passes 2^64.
    (g.min(d) << 32).saturating_add(2 * g.max(d) + u64::from(g > d))
}

/// A candidate foundation: up to 32 `ice-char`s that group candidates which share a type, a
/// base IP, a server and a transport (RFC 8445 section 5.1.1.3). Stored inline, no allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Foundation {
    len: u8,
    bytes: [u8; 32],
}

impl Foundation {
    /// Wraps a foundation received from the peer; `None` when it is empty, longer than 32
    /// bytes, or has characters outside `ice-char` (ALPHA / DIGIT / "+" / "/").
    pub fn new(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.is_empty() || b.len() > 32 {
            return None;
        }
        if !b
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
        {
            return None;
        }
        let mut bytes = [0u8; 32];
        bytes[..b.len()].copy_from_slice(b);
        Some(Self {
            len: b.len() as u8,
            bytes,
        })
    }

    /// The foundation zvon computes for its own candidates: a 32-bit FNV-1a hash over the
    /// fields RFC 8445 groups by, printed in decimal (as Chromium does).
    //# the same foundation for two candidates that have the same type, base IP address, IP
    //# address of the STUN or TURN server, and transport protocol.
    pub fn compute(
        kind: CandidateKind,
        base: IpAddr,
        server: Option<IpAddr>,
        relay: Option<RelayProtocol>,
    ) -> Self {
        let mut h: u32 = 0x811c_9dc5;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                h ^= *b as u32;
                h = h.wrapping_mul(0x0100_0193);
            }
        };
        eat(kind.as_str().as_bytes());
        let ip_bytes = |ip: IpAddr| match ip {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => v6.octets(),
        };
        eat(&ip_bytes(base));
        if let Some(s) = server {
            eat(&ip_bytes(s));
        }
        eat(&[match relay {
            None => 0,
            Some(RelayProtocol::Udp) => 1,
            Some(RelayProtocol::Tcp) => 2,
            Some(RelayProtocol::Tls) => 3,
        }]);
        let mut bytes = [0u8; 32];
        let s = h.to_string();
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        Self {
            len: s.len() as u8,
            bytes,
        }
    }

    /// The foundation as text.
    pub fn as_str(&self) -> &str {
        // ok: only ASCII ice-chars are ever stored.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }
}

impl fmt::Debug for Foundation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Foundation({})", self.as_str())
    }
}

impl fmt::Display for Foundation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One ICE candidate (UDP, component 1: zvon always bundles and muxes RTCP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Host, server-reflexive, peer-reflexive or relayed.
    pub kind: CandidateKind,
    /// The transport address the peer sends to.
    pub addr: SocketAddr,
    /// For a local candidate, the address packets are sent from (the host address for host and
    /// reflexive candidates, the relayed address itself for relayed ones). For a remote
    /// candidate it equals `addr`.
    pub base: SocketAddr,
    /// The priority (RFC 8445 section 5.1.2).
    pub priority: u32,
    /// The foundation.
    pub foundation: Foundation,
    /// Component id; 1 for zvon's own candidates.
    pub component: u16,
    /// `raddr`/`rport`: the base of a reflexive candidate, the mapped address of a relayed one.
    pub related: Option<SocketAddr>,
}

impl Candidate {
    /// A host candidate on `addr`, with the local preference of interface number
    /// `interface_index` (0 is the most preferred).
    ///
    /// ```
    /// use zvon_ice::candidate::{Candidate, CandidateKind};
    /// let c = Candidate::host("192.0.2.1:5000".parse().unwrap(), 0);
    /// assert_eq!(c.kind, CandidateKind::Host);
    /// assert_eq!(c.priority >> 24, 126);
    /// ```
    pub fn host(addr: SocketAddr, interface_index: u16) -> Self {
        let lp = local_preference(addr.ip(), interface_index, None);
        Self {
            kind: CandidateKind::Host,
            addr,
            base: addr,
            priority: priority(CandidateKind::Host, lp, 1),
            foundation: Foundation::compute(CandidateKind::Host, addr.ip(), None, None),
            component: 1,
            related: None,
        }
    }

    /// A server-reflexive candidate `addr` learned through `server` from `base`.
    pub fn server_reflexive(
        addr: SocketAddr,
        base: SocketAddr,
        server: IpAddr,
        interface_index: u16,
    ) -> Self {
        let lp = local_preference(base.ip(), interface_index, None);
        Self {
            kind: CandidateKind::ServerReflexive,
            addr,
            base,
            priority: priority(CandidateKind::ServerReflexive, lp, 1),
            foundation: Foundation::compute(
                CandidateKind::ServerReflexive,
                base.ip(),
                Some(server),
                None,
            ),
            component: 1,
            related: Some(base),
        }
    }

    /// A peer-reflexive local candidate: the mapped address a check's response revealed.
    pub fn local_peer_reflexive(addr: SocketAddr, base: SocketAddr, interface_index: u16) -> Self {
        let lp = local_preference(base.ip(), interface_index, None);
        Self {
            kind: CandidateKind::PeerReflexive,
            addr,
            base,
            priority: priority(CandidateKind::PeerReflexive, lp, 1),
            foundation: Foundation::compute(CandidateKind::PeerReflexive, base.ip(), None, None),
            component: 1,
            related: Some(base),
        }
    }

    /// A relayed candidate `relayed` allocated on `server` over `proto`; `mapped` is the
    /// reflexive address the TURN server saw (it becomes `raddr`).
    pub fn relayed(
        relayed: SocketAddr,
        mapped: SocketAddr,
        server: IpAddr,
        proto: RelayProtocol,
        interface_index: u16,
    ) -> Self {
        let lp = local_preference(relayed.ip(), interface_index, Some(proto));
        Self {
            kind: CandidateKind::Relayed,
            addr: relayed,
            base: relayed,
            priority: priority(CandidateKind::Relayed, lp, 1),
            foundation: Foundation::compute(
                CandidateKind::Relayed,
                mapped.ip(),
                Some(server),
                Some(proto),
            ),
            component: 1,
            related: Some(mapped),
        }
    }

    /// A remote candidate as signaled by the peer.
    pub fn remote(
        kind: CandidateKind,
        addr: SocketAddr,
        priority: u32,
        foundation: Foundation,
    ) -> Self {
        Self {
            kind,
            addr,
            base: addr,
            priority,
            foundation,
            component: 1,
            related: None,
        }
    }

    /// A peer-reflexive remote candidate learned from a check: RFC 8445 section 7.3.1.3 gives it
    /// the PRIORITY of the check and a foundation no signaled candidate has.
    pub fn remote_peer_reflexive(addr: SocketAddr, priority: u32) -> Self {
        Self {
            kind: CandidateKind::PeerReflexive,
            addr,
            base: addr,
            priority,
            foundation: Foundation::compute(
                CandidateKind::PeerReflexive,
                addr.ip(),
                Some(addr.ip()),
                None,
            ),
            component: 1,
            related: None,
        }
    }
}

/// Whether two addresses may be paired (RFC 8445 section 6.1.2.2): same family, and a
/// link-local IPv6 address only with another link-local one.
pub(crate) fn can_pair(local: SocketAddr, remote: SocketAddr) -> bool {
    match (local.ip(), remote.ip()) {
        (IpAddr::V4(_), IpAddr::V4(_)) => true,
        (IpAddr::V6(l), IpAddr::V6(r)) => is_link_local_v6(&l) == is_link_local_v6(&r),
        _ => false,
    }
}

pub(crate) fn is_link_local_v6(ip: &std::net::Ipv6Addr) -> bool {
    (ip.segments()[0] & 0xffc0) == 0xfe80
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_matches_rfc_formula_for_every_kind() {
        for (kind, tp) in [
            (CandidateKind::Host, 126u32),
            (CandidateKind::PeerReflexive, 110),
            (CandidateKind::ServerReflexive, 100),
            (CandidateKind::Relayed, 0),
        ] {
            for lp in [0u16, 1, 0x7fff, 65535] {
                for comp in [1u16, 2, 256] {
                    let expected =
                        (1u64 << 24) * tp as u64 + (1u64 << 8) * lp as u64 + (256 - comp as u64);
                    assert_eq!(priority(kind, lp, comp) as u64, expected);
                }
            }
        }
        // The value Chromium puts on a first host candidate with a full local preference.
        assert_eq!(priority(CandidateKind::Host, 65535, 1), 2_130_706_431);
    }

    #[test]
    fn pair_priority_matches_formula_and_is_symmetric_in_min() {
        let cases = [
            (0u32, 0u32),
            (1, 2),
            (2, 1),
            (u32::MAX, 0),
            (2_130_706_431, 1_694_498_815),
        ];
        for (g, d) in cases {
            let p = pair_priority(g, d);
            let expected =
                (1u128 << 32) * g.min(d) as u128 + 2 * g.max(d) as u128 + (g > d) as u128;
            assert_eq!(p as u128, expected);
        }
        // Swapping roles changes only the tie-break bit.
        assert_eq!(pair_priority(7, 3) - pair_priority(3, 7), 1);
    }

    #[test]
    fn ipv6_and_earlier_interfaces_rank_higher() {
        let v6: IpAddr = "fd00::2".parse().unwrap();
        let v4: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(local_preference(v6, 3, None) > local_preference(v4, 0, None));
        assert!(local_preference(v4, 0, None) > local_preference(v4, 1, None));
        assert!(
            local_preference(v4, 0, Some(RelayProtocol::Udp))
                > local_preference(v4, 0, Some(RelayProtocol::Tcp))
        );
        assert!(
            local_preference(v4, 0, Some(RelayProtocol::Tcp))
                > local_preference(v4, 0, Some(RelayProtocol::Tls))
        );
        let host = Candidate::host("192.0.2.2:1".parse().unwrap(), 0);
        let srflx = Candidate::server_reflexive(
            "198.51.100.1:2".parse().unwrap(),
            host.addr,
            "203.0.113.1".parse().unwrap(),
            0,
        );
        assert!(host.priority > srflx.priority);
    }

    #[test]
    fn foundations_group_by_type_base_server_and_transport() {
        let b1: IpAddr = "192.0.2.1".parse().unwrap();
        let b2: IpAddr = "192.0.2.2".parse().unwrap();
        let s: IpAddr = "203.0.113.9".parse().unwrap();
        let f = Foundation::compute;
        assert_eq!(
            f(CandidateKind::Host, b1, None, None),
            f(CandidateKind::Host, b1, None, None)
        );
        assert_ne!(
            f(CandidateKind::Host, b1, None, None),
            f(CandidateKind::Host, b2, None, None)
        );
        assert_ne!(
            f(CandidateKind::Host, b1, None, None),
            f(CandidateKind::ServerReflexive, b1, Some(s), None)
        );
        assert_ne!(
            f(
                CandidateKind::Relayed,
                b1,
                Some(s),
                Some(RelayProtocol::Udp)
            ),
            f(
                CandidateKind::Relayed,
                b1,
                Some(s),
                Some(RelayProtocol::Tcp)
            )
        );
        let text = f(CandidateKind::Host, b1, None, None);
        assert!(Foundation::new(text.as_str()).is_some());
    }

    #[test]
    fn foundation_validation() {
        assert!(Foundation::new("2223427611").is_some());
        assert!(Foundation::new("fffeff7e32c583ef85edbb1a").is_some());
        assert!(Foundation::new("").is_none());
        assert!(Foundation::new("a b").is_none());
        assert!(Foundation::new(&"a".repeat(33)).is_none());
        assert_eq!(Foundation::new(&"a".repeat(32)).unwrap().as_str().len(), 32);
    }

    #[test]
    fn pairing_rules() {
        let v4: SocketAddr = "192.0.2.1:1".parse().unwrap();
        let v6: SocketAddr = "[fd00::1]:1".parse().unwrap();
        let ll: SocketAddr = "[fe80::1]:1".parse().unwrap();
        assert!(can_pair(v4, v4));
        assert!(!can_pair(v4, v6));
        assert!(can_pair(v6, v6));
        assert!(!can_pair(v6, ll));
        assert!(can_pair(ll, ll));
    }
}
