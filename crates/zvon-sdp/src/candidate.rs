//! ICE candidates, `a=candidate` (RFC 8839 section 5.1, RFC 6544 for TCP).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::error::{AttrResult, ParseError, bad_attr};

/// One ICE candidate as SDP and trickle ICE carry it.
///
/// Parsed from the `a=candidate:` attribute value, or from the `candidate` string of an
/// `RTCIceCandidateInit` (`candidate:...`, the same text without the `a=`); its `Display` writes
/// that trickle form, `candidate:...`.
///
/// ```
/// use zvon_sdp::{Candidate, CandidateType, Transport};
/// let c: Candidate = "candidate:842163049 1 udp 1677729535 203.0.113.7 3478 typ srflx \
///     raddr 192.0.2.2 rport 50000 generation 0 ufrag EsAw network-id 1".parse().unwrap();
/// assert_eq!(c.transport, Transport::Udp);
/// assert_eq!(c.kind, CandidateType::Srflx);
/// assert_eq!(c.related_port, Some(50000));
/// assert_eq!(c.extension("ufrag"), Some("EsAw"));
/// assert_eq!(c.to_string().parse::<Candidate>().unwrap(), c);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// Equal for candidates of the same type, base and server (RFC 8445 section 5.1.1.3).
    pub foundation: String,
    /// 1 for RTP (and everything when rtcp-mux is used), 2 for RTCP.
    pub component: u16,
    /// UDP or TCP (matched case-insensitively; written lower case as browsers do).
    pub transport: Transport,
    /// The candidate's priority (RFC 8445 section 5.1.2).
    pub priority: u32,
    /// The IP address, or an FQDN such as an mDNS `<uuid>.local` name.
    pub address: CandidateAddress,
    /// The port.
    pub port: u16,
    /// host, srflx, prflx or relay.
    pub kind: CandidateType,
    /// `raddr`: the related (base or mapped) address of a reflexive or relayed candidate.
    pub related_address: Option<CandidateAddress>,
    /// `rport`: the related port.
    pub related_port: Option<u16>,
    /// `tcptype` (RFC 6544) of a TCP candidate.
    pub tcp_type: Option<TcpType>,
    /// Every other extension attribute, in order: `generation`, `ufrag`, `network-id`,
    /// `network-cost`, ...
    pub extensions: Vec<(String, String)>,
}

/// The transport of a candidate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP (RFC 6544).
    Tcp,
    /// Another transport token, kept as written.
    Other(String),
}

/// The candidate type (`typ`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CandidateType {
    /// A local interface address.
    Host,
    /// Server reflexive: the address a STUN server saw.
    Srflx,
    /// Peer reflexive: learned from a connectivity check.
    Prflx,
    /// Relayed through a TURN server.
    Relay,
    /// Another type token, kept as written.
    Other(String),
}

/// `tcptype` (RFC 6544 section 4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpType {
    /// Opens outgoing connections only.
    Active,
    /// Accepts incoming connections only.
    Passive,
    /// Simultaneous open.
    So,
}

/// A candidate's address: an IP address, or a fully qualified domain name (RFC 8839 allows an
/// FQDN; browsers use mDNS `<uuid>.local` names to hide host addresses).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CandidateAddress {
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A host name, for example `1f0e7a0c-4f3b-4ad4-a26d-6a0ed3d0c2a1.local`.
    Fqdn(String),
}

impl CandidateAddress {
    /// The IP address, when this is one.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Self::Ip(ip) => Some(*ip),
            Self::Fqdn(_) => None,
        }
    }

    /// `true` for an mDNS name (ends in `.local`), which must be resolved before use.
    pub fn is_mdns(&self) -> bool {
        match self {
            Self::Ip(_) => false,
            Self::Fqdn(name) => name
                .len()
                .checked_sub(6)
                .and_then(|at| name.as_bytes().get(at..))
                .is_some_and(|tail| tail.eq_ignore_ascii_case(b".local")),
        }
    }

    fn parse(s: &str) -> Self {
        match s.parse::<IpAddr>() {
            Ok(ip) => Self::Ip(ip),
            Err(_) => Self::Fqdn(s.to_owned()),
        }
    }
}

impl From<IpAddr> for CandidateAddress {
    fn from(ip: IpAddr) -> Self {
        Self::Ip(ip)
    }
}

impl fmt::Display for CandidateAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip(ip) => ip.fmt(f),
            Self::Fqdn(name) => f.write_str(name),
        }
    }
}

impl Transport {
    fn parse(s: &str) -> Self {
        if s.eq_ignore_ascii_case("udp") {
            Self::Udp
        } else if s.eq_ignore_ascii_case("tcp") {
            Self::Tcp
        } else {
            Self::Other(s.to_owned())
        }
    }

    /// The token as written in SDP.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
            Self::Other(s) => s,
        }
    }
}

impl CandidateType {
    fn parse(s: &str) -> Self {
        match s {
            "host" => Self::Host,
            "srflx" => Self::Srflx,
            "prflx" => Self::Prflx,
            "relay" => Self::Relay,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The token as written in SDP.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Host => "host",
            Self::Srflx => "srflx",
            Self::Prflx => "prflx",
            Self::Relay => "relay",
            Self::Other(s) => s,
        }
    }
}

impl TcpType {
    /// The token as written in SDP.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Passive => "passive",
            Self::So => "so",
        }
    }
}

const NAME: &str = "candidate";

impl Candidate {
    /// A host candidate with no extensions; set the other fields as needed.
    pub fn host(
        foundation: impl Into<String>,
        component: u16,
        transport: Transport,
        priority: u32,
        address: CandidateAddress,
        port: u16,
    ) -> Self {
        Self {
            foundation: foundation.into(),
            component,
            transport,
            priority,
            address,
            port,
            kind: CandidateType::Host,
            related_address: None,
            related_port: None,
            tcp_type: None,
            extensions: Vec::new(),
        }
    }

    /// Parses a candidate from `a=candidate:...`, `candidate:...` (the trickle form) or the bare
    /// attribute value. Surrounding whitespace and a line end are ignored.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim_matches([' ', '\t', '\r', '\n']);
        let s = s.strip_prefix("a=").unwrap_or(s);
        let s = s.strip_prefix("candidate:").unwrap_or(s);
        Self::parse_value(s).map_err(|kind| ParseError::new(1, kind))
    }

    /// The first value of the extension attribute `name` (`generation`, `ufrag`, `network-id`,
    /// `network-cost`, ...).
    pub fn extension(&self, name: &str) -> Option<&str> {
        self.extensions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `ufrag` extension: which ICE generation a trickled candidate belongs to.
    pub fn ufrag(&self) -> Option<&str> {
        self.extension("ufrag")
    }

    /// Parses the attribute value (after `candidate:`).
    //# candidate-attribute   = "candidate" ":" foundation SP component-id SP
    //#                         transport SP priority SP connection-address SP port SP
    //#                         cand-type [SP rel-addr] [SP rel-port] *(SP cand-extension)
    pub(crate) fn parse_value(value: &str) -> AttrResult<Self> {
        // Fields are written back in a fixed order (raddr, rport, tcptype, then the rest), so a
        // tab or line break inside one could end up at the end of a line and be trimmed away.
        if value.bytes().any(|b| b.is_ascii_control()) {
            return Err(bad_attr(NAME, "control character"));
        }
        let mut t = value.split(' ').filter(|t| !t.is_empty());
        let mut next = |what: &'static str| t.next().ok_or(bad_attr(NAME, what));
        let foundation = next("missing foundation")?.to_owned();
        let component = next("missing component")?
            .parse::<u16>()
            .map_err(|_| bad_attr(NAME, "bad component"))?;
        //# component-id = 1*3DIGIT (1 to 256)
        if !(1..=256).contains(&component) {
            return Err(bad_attr(NAME, "component out of range"));
        }
        let transport = Transport::parse(next("missing transport")?);
        let priority = next("missing priority")?
            .parse::<u32>()
            .map_err(|_| bad_attr(NAME, "bad priority"))?;
        let address = CandidateAddress::parse(next("missing address")?);
        let port = next("missing port")?
            .parse::<u16>()
            .map_err(|_| bad_attr(NAME, "bad port"))?;
        if next("missing typ")? != "typ" {
            return Err(bad_attr(NAME, "expected typ"));
        }
        let kind = CandidateType::parse(next("missing candidate type")?);
        let mut c = Self {
            foundation,
            component,
            transport,
            priority,
            address,
            port,
            kind,
            related_address: None,
            related_port: None,
            tcp_type: None,
            extensions: Vec::new(),
        };
        while let Some(name) = t.next() {
            let value = t.next().ok_or(bad_attr(NAME, "extension without value"))?;
            match name {
                "raddr" if c.related_address.is_none() => {
                    c.related_address = Some(CandidateAddress::parse(value))
                }
                "rport" if c.related_port.is_none() => {
                    c.related_port = Some(value.parse().map_err(|_| bad_attr(NAME, "bad rport"))?)
                }
                "tcptype" if c.tcp_type.is_none() => {
                    c.tcp_type = Some(match value {
                        "active" => TcpType::Active,
                        "passive" => TcpType::Passive,
                        "so" => TcpType::So,
                        _ => return Err(bad_attr(NAME, "bad tcptype")),
                    })
                }
                "raddr" | "rport" | "tcptype" => {
                    return Err(bad_attr(NAME, "repeated raddr, rport or tcptype"));
                }
                _ => c.extensions.push((name.to_owned(), value.to_owned())),
            }
        }
        Ok(c)
    }

    /// Writes the attribute value (without `candidate:`).
    pub(crate) fn write_value(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {} typ {}",
            self.foundation,
            self.component,
            self.transport.as_str(),
            self.priority,
            self.address,
            self.port,
            self.kind.as_str()
        )?;
        if let Some(a) = &self.related_address {
            write!(f, " raddr {a}")?;
        }
        if let Some(p) = self.related_port {
            write!(f, " rport {p}")?;
        }
        if let Some(t) = self.tcp_type {
            write!(f, " tcptype {}", t.as_str())?;
        }
        for (name, value) in &self.extensions {
            write!(f, " {name} {value}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Candidate {
    /// The trickle form, `candidate:...`, as in `RTCIceCandidateInit.candidate`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("candidate:")?;
        self.write_value(f)
    }
}

impl FromStr for Candidate {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
