//! The session description: session-level lines, parsing and writing.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::attribute::{Attribute, Direction, Fingerprint, Setup, num, tokens};
use crate::attrs::Attributes;
use crate::error::{ErrorKind, ParseError};
use crate::media::{MediaDescription, MediaKind};

/// A parsed session description (RFC 8866).
///
/// Parse with [`SessionDescription::parse`] (or `str::parse`), write with `to_string()` (CRLF
/// line ends). The model is plain data with public fields, so JSEP code can also build one from
/// [`SessionDescription::new`] and write it.
///
/// Writing cannot fail. A model built by hand must hold valid SDP tokens (no empty mid, no
/// spaces inside an ufrag, ...) to parse back; `SessionDescription::parse(&d.to_string())`
/// checks one.
///
/// Round-trip guarantee: for every input `x` that parses,
/// `parse(&parse(x)?.to_string()) == parse(x)`. Browser output is usually also reproduced byte
/// for byte (see the corpus test); differences are spelling only (`UDP` written `udp`,
/// `msid-semantic:WMS` written `msid-semantic: WMS`, LF written CRLF, trailing spaces dropped).
///
/// ```
/// use zvon_sdp::SessionDescription;
/// let sdp = "v=0\r\no=- 4215 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
///            m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n\
///            a=mid:0\r\na=sctp-port:5000\r\n";
/// let desc = SessionDescription::parse(sdp).unwrap();
/// assert_eq!(desc.media[0].mid(), Some("0"));
/// assert_eq!(desc.media[0].attributes.sctp_port(), Some(5000));
/// assert_eq!(desc.to_string(), sdp);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionDescription {
    /// `o=`
    pub origin: Origin,
    /// `s=` (`-` in JSEP).
    pub session_name: String,
    /// `i=`
    pub info: Option<String>,
    /// `u=`
    pub uri: Option<String>,
    /// `e=` lines.
    pub emails: Vec<String>,
    /// `p=` lines.
    pub phones: Vec<String>,
    /// Session-level `c=`.
    pub connection: Option<Connection>,
    /// Session-level `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// `t=` lines with their `r=` lines (`t=0 0` in JSEP).
    pub timing: Vec<Timing>,
    /// `z=`, as written.
    pub time_zones: Option<String>,
    /// Session-level `k=` (obsolete), as written.
    pub key: Option<String>,
    /// Session-level `a=` lines in order (group:BUNDLE, ice-lite, ice-options, fingerprint,
    /// setup, extmap-allow-mixed, msid-semantic, ...).
    pub attributes: Attributes,
    /// The media sections in order.
    pub media: Vec<MediaDescription>,
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// `-` in JSEP.
    pub username: String,
    /// The session id (JSEP: random, below 2^63).
    pub session_id: u64,
    /// Incremented with each new description of the session.
    pub session_version: u64,
    /// `IN`
    pub network_type: String,
    /// `IP4` or `IP6`
    pub address_type: String,
    /// The address (JSEP: `127.0.0.1` or `0.0.0.0`).
    pub address: String,
}

/// `c=<nettype> <addrtype> <connection-address>`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Connection {
    /// `IN`
    pub network_type: String,
    /// `IP4` or `IP6`
    pub address_type: String,
    /// The address as written (may carry a multicast `/ttl`).
    pub address: String,
}

/// `b=<bwtype>:<bandwidth>`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bandwidth {
    /// The modifier.
    pub kind: BandwidthType,
    /// kbit/s for AS and CT, bit/s for TIAS.
    pub value: u64,
}

/// A bandwidth modifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BandwidthType {
    /// `AS`: application-specific maximum, kbit/s.
    As,
    /// `CT`: conference total, kbit/s.
    Ct,
    /// `TIAS` (RFC 3890): transport-independent maximum, bit/s.
    Tias,
    /// `RR` (RFC 3556).
    Rr,
    /// `RS` (RFC 3556).
    Rs,
    /// Anything else, as written.
    Other(String),
}

/// `t=<start> <stop>` with its `r=` lines.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timing {
    /// Start time (NTP seconds; 0 for unbounded).
    pub start: u64,
    /// Stop time (NTP seconds; 0 for unbounded).
    pub stop: u64,
    /// `r=` lines, as written.
    pub repeats: Vec<String>,
}

/// Bounds that keep hostile input from costing more than a little memory and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    /// Largest accepted input in bytes.
    pub max_bytes: usize,
    /// Largest accepted number of lines (empty ones included).
    pub max_lines: usize,
}

impl Default for ParseLimits {
    /// 1 MiB and 20 000 lines: a Chromium offer with 100 video transceivers is about 0.5 MB and
    /// 15 000 lines.
    fn default() -> Self {
        Self {
            max_bytes: 1 << 20,
            max_lines: 20_000,
        }
    }
}

impl Origin {
    /// `o=- <session_id> <session_version> IN IP4 127.0.0.1`, as JSEP (RFC 8829 5.2.1) writes it.
    pub fn new(session_id: u64, session_version: u64) -> Self {
        Self {
            username: "-".into(),
            session_id,
            session_version,
            network_type: "IN".into(),
            address_type: "IP4".into(),
            address: "127.0.0.1".into(),
        }
    }
}

impl Connection {
    /// `IN IP4 <ip>` or `IN IP6 <ip>`.
    pub fn new(ip: IpAddr) -> Self {
        Self {
            network_type: "IN".into(),
            address_type: if ip.is_ipv4() { "IP4" } else { "IP6" }.into(),
            address: ip.to_string(),
        }
    }

    /// The address as an IP address (a multicast `/ttl` suffix ignored), when it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.address.split('/').next().and_then(|a| a.parse().ok())
    }
}

impl BandwidthType {
    fn parse(s: &str) -> Self {
        match s {
            "AS" => Self::As,
            "CT" => Self::Ct,
            "TIAS" => Self::Tias,
            "RR" => Self::Rr,
            "RS" => Self::Rs,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The token as written in SDP.
    pub fn as_str(&self) -> &str {
        match self {
            Self::As => "AS",
            Self::Ct => "CT",
            Self::Tias => "TIAS",
            Self::Rr => "RR",
            Self::Rs => "RS",
            Self::Other(s) => s,
        }
    }
}

impl SessionDescription {
    /// The skeleton JSEP starts from: `v=0`, the given origin, `s=-`, `t=0 0`, no attributes,
    /// no media.
    pub fn new(origin: Origin) -> Self {
        Self {
            origin,
            session_name: "-".into(),
            info: None,
            uri: None,
            emails: Vec::new(),
            phones: Vec::new(),
            connection: None,
            bandwidths: Vec::new(),
            timing: vec![Timing {
                start: 0,
                stop: 0,
                repeats: Vec::new(),
            }],
            time_zones: None,
            key: None,
            attributes: Attributes::new(),
            media: Vec::new(),
        }
    }

    /// Parses with the default [`ParseLimits`].
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        Self::parse_with_limits(input, ParseLimits::default())
    }

    /// Parses bytes that should be UTF-8 (SDP's default charset).
    pub fn parse_bytes(input: &[u8]) -> Result<Self, ParseError> {
        let limits = ParseLimits::default();
        if input.len() > limits.max_bytes {
            return Err(ParseError::new(
                0,
                ErrorKind::TooLarge {
                    size: input.len(),
                    limit: limits.max_bytes,
                },
            ));
        }
        let s = std::str::from_utf8(input).map_err(|_| ParseError::new(0, ErrorKind::NotUtf8))?;
        Self::parse_with_limits(s, limits)
    }

    /// Parses with explicit limits.
    pub fn parse_with_limits(input: &str, limits: ParseLimits) -> Result<Self, ParseError> {
        if input.len() > limits.max_bytes {
            return Err(ParseError::new(
                0,
                ErrorKind::TooLarge {
                    size: input.len(),
                    limit: limits.max_bytes,
                },
            ));
        }
        Parser::default().run(input, limits)
    }

    /// The media section whose `a=mid` is `mid`.
    pub fn media_by_mid(&self, mid: &str) -> Option<&MediaDescription> {
        self.media.iter().find(|m| m.mid() == Some(mid))
    }

    /// The mids of the first BUNDLE group (empty when there is none).
    pub fn bundle_mids(&self) -> &[String] {
        self.attributes.bundle_group().map_or(&[], |g| &g.mids)
    }

    /// The direction of `media`: its own attribute, else the session's, else sendrecv (RFC 8866
    /// section 6.7).
    pub fn direction_of(&self, media: &MediaDescription) -> Direction {
        media
            .direction()
            .or_else(|| self.attributes.direction())
            .unwrap_or(Direction::SendRecv)
    }

    /// The ICE ufrag and password of `media`, falling back to the session level.
    pub fn ice_credentials_of<'a>(
        &'a self,
        media: &'a MediaDescription,
    ) -> Option<(&'a str, &'a str)> {
        let ufrag = media
            .attributes
            .ice_ufrag()
            .or_else(|| self.attributes.ice_ufrag())?;
        let pwd = media
            .attributes
            .ice_pwd()
            .or_else(|| self.attributes.ice_pwd())?;
        Some((ufrag, pwd))
    }

    /// The fingerprints that apply to `media`: its own, else the session's (RFC 8122 section 5).
    pub fn fingerprints_of<'a>(&'a self, media: &'a MediaDescription) -> Vec<&'a Fingerprint> {
        let own: Vec<_> = media.attributes.fingerprints().collect();
        if own.is_empty() {
            self.attributes.fingerprints().collect()
        } else {
            own
        }
    }

    /// The `a=setup` of `media`, falling back to the session level.
    pub fn setup_of(&self, media: &MediaDescription) -> Option<Setup> {
        media.attributes.setup().or_else(|| self.attributes.setup())
    }

    /// `a=ice-lite` at session level (RFC 8839 puts it there).
    pub fn ice_lite(&self) -> bool {
        self.attributes.ice_lite()
    }
}

impl FromStr for SessionDescription {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

// ---- parser --------------------------------------------------------------------------------------

#[derive(Default)]
struct Parser {
    origin: Option<Origin>,
    session_name: Option<String>,
    info: Option<String>,
    uri: Option<String>,
    emails: Vec<String>,
    phones: Vec<String>,
    connection: Option<Connection>,
    bandwidths: Vec<Bandwidth>,
    timing: Vec<Timing>,
    time_zones: Option<String>,
    key: Option<String>,
    attributes: Vec<Attribute>,
    media: Vec<MediaDescription>,
}

fn once<T>(slot: &mut Option<T>, value: T, letter: char) -> Result<(), ErrorKind> {
    if slot.is_some() {
        return Err(ErrorKind::Duplicate(letter));
    }
    *slot = Some(value);
    Ok(())
}

impl Parser {
    fn run(mut self, input: &str, limits: ParseLimits) -> Result<SessionDescription, ParseError> {
        let mut seen_version = false;
        for (index, raw) in input.split('\n').enumerate() {
            let line_no = index + 1;
            if line_no > limits.max_lines {
                return Err(ParseError::new(
                    line_no,
                    ErrorKind::TooManyLines {
                        limit: limits.max_lines,
                    },
                ));
            }
            // Browsers and servers send CRLF or LF, sometimes with trailing spaces: both are
            // tolerated, and the writer always produces CRLF without them.
            let line = raw.trim_end_matches([' ', '\t', '\r']);
            if line.is_empty() {
                continue;
            }
            let (letter, value) = match line.as_bytes() {
                [l, b'=', ..] if l.is_ascii_alphabetic() => (char::from(*l), &line[2..]), // ok: two ASCII bytes
                _ => return Err(ParseError::new(line_no, ErrorKind::MalformedLine)),
            };
            if !seen_version {
                //# The first line of an SDP description is "v=0".
                if letter != 'v' || value != "0" {
                    return Err(ParseError::new(line_no, ErrorKind::BadVersion));
                }
                seen_version = true;
                continue;
            }
            self.line(letter, value)
                .map_err(|kind| ParseError::new(line_no, kind))?;
        }
        if !seen_version {
            return Err(ParseError::new(0, ErrorKind::BadVersion));
        }
        let origin = self
            .origin
            .ok_or(ParseError::new(0, ErrorKind::Missing('o')))?;
        let session_name = self
            .session_name
            .ok_or(ParseError::new(0, ErrorKind::Missing('s')))?;
        Ok(SessionDescription {
            origin,
            session_name,
            info: self.info,
            uri: self.uri,
            emails: self.emails,
            phones: self.phones,
            connection: self.connection,
            bandwidths: self.bandwidths,
            timing: self.timing,
            time_zones: self.time_zones,
            key: self.key,
            attributes: Attributes(self.attributes),
            media: self.media,
        })
    }

    fn line(&mut self, letter: char, value: &str) -> Result<(), ErrorKind> {
        if letter == 'm' {
            return self.media_line(value);
        }
        if let Some(m) = self.media.last_mut() {
            // Inside a media section only m=, i=, c=, b=, k= and a= may appear.
            return match letter {
                'i' => once(&mut m.title, value.to_owned(), 'i'),
                'c' => {
                    m.connections.push(parse_connection(value)?);
                    Ok(())
                }
                'b' => {
                    m.bandwidths.push(parse_bandwidth(value)?);
                    Ok(())
                }
                'k' => once(&mut m.key, value.to_owned(), 'k'),
                'a' => {
                    m.attributes.push(Attribute::parse_line(value)?);
                    Ok(())
                }
                'v' | 'o' | 's' | 'u' | 'e' | 'p' | 't' | 'r' | 'z' => {
                    Err(ErrorKind::Misplaced(letter))
                }
                other => Err(ErrorKind::UnknownLineType(other)),
            };
        }
        match letter {
            'o' => once(&mut self.origin, parse_origin(value)?, 'o'),
            's' => once(&mut self.session_name, value.to_owned(), 's'),
            'i' => once(&mut self.info, value.to_owned(), 'i'),
            'u' => once(&mut self.uri, value.to_owned(), 'u'),
            'e' => {
                self.emails.push(value.to_owned());
                Ok(())
            }
            'p' => {
                self.phones.push(value.to_owned());
                Ok(())
            }
            'c' => once(&mut self.connection, parse_connection(value)?, 'c'),
            'b' => {
                self.bandwidths.push(parse_bandwidth(value)?);
                Ok(())
            }
            't' => {
                let mut t = tokens(value);
                let start = t
                    .next()
                    .and_then(num)
                    .ok_or(ErrorKind::InvalidField("start time"))?;
                let stop = t
                    .next()
                    .and_then(num)
                    .ok_or(ErrorKind::InvalidField("stop time"))?;
                if t.next().is_some() {
                    return Err(ErrorKind::InvalidField("t= line"));
                }
                self.timing.push(Timing {
                    start,
                    stop,
                    repeats: Vec::new(),
                });
                Ok(())
            }
            'r' => {
                let t = self.timing.last_mut().ok_or(ErrorKind::Misplaced('r'))?;
                t.repeats.push(value.to_owned());
                Ok(())
            }
            'z' => once(&mut self.time_zones, value.to_owned(), 'z'),
            'k' => once(&mut self.key, value.to_owned(), 'k'),
            'a' => {
                self.attributes.push(Attribute::parse_line(value)?);
                Ok(())
            }
            'v' => Err(ErrorKind::Duplicate('v')),
            other => Err(ErrorKind::UnknownLineType(other)),
        }
    }

    //# m=<media> <port>[/<number of ports>] <proto> <fmt> ...
    fn media_line(&mut self, value: &str) -> Result<(), ErrorKind> {
        let mut t = tokens(value);
        let kind = MediaKind::parse(t.next().ok_or(ErrorKind::InvalidField("media type"))?);
        let port_field = t.next().ok_or(ErrorKind::InvalidField("media port"))?;
        let (port, port_count) = match port_field.split_once('/') {
            Some((p, n)) => (
                p,
                Some(num(n).ok_or(ErrorKind::InvalidField("media port count"))?),
            ),
            None => (port_field, None),
        };
        let port = num(port).ok_or(ErrorKind::InvalidField("media port"))?;
        let protocol = t
            .next()
            .ok_or(ErrorKind::InvalidField("media protocol"))?
            .to_owned();
        let mut m = MediaDescription::new(kind, port, protocol);
        m.port_count = port_count;
        m.formats = t.map(str::to_owned).collect();
        self.media.push(m);
        Ok(())
    }
}

fn parse_origin(value: &str) -> Result<Origin, ErrorKind> {
    let mut t = tokens(value);
    let mut next = |what| t.next().ok_or(ErrorKind::InvalidField(what));
    let origin = Origin {
        username: next("origin username")?.to_owned(),
        session_id: num(next("origin session id")?)
            .ok_or(ErrorKind::InvalidField("origin session id"))?,
        session_version: num(next("origin session version")?)
            .ok_or(ErrorKind::InvalidField("origin session version"))?,
        network_type: next("origin network type")?.to_owned(),
        address_type: next("origin address type")?.to_owned(),
        address: next("origin address")?.to_owned(),
    };
    if t.next().is_some() {
        return Err(ErrorKind::InvalidField("o= line"));
    }
    Ok(origin)
}

fn parse_connection(value: &str) -> Result<Connection, ErrorKind> {
    let mut t = tokens(value);
    let mut next = |what| t.next().ok_or(ErrorKind::InvalidField(what));
    let c = Connection {
        network_type: next("connection network type")?.to_owned(),
        address_type: next("connection address type")?.to_owned(),
        address: next("connection address")?.to_owned(),
    };
    if t.next().is_some() {
        return Err(ErrorKind::InvalidField("c= line"));
    }
    Ok(c)
}

fn parse_bandwidth(value: &str) -> Result<Bandwidth, ErrorKind> {
    let (kind, bw) = value
        .split_once(':')
        .ok_or(ErrorKind::InvalidField("bandwidth"))?;
    if kind.is_empty() || kind.contains(' ') {
        return Err(ErrorKind::InvalidField("bandwidth type"));
    }
    let value = num(bw).ok_or(ErrorKind::InvalidField("bandwidth value"))?;
    Ok(Bandwidth {
        kind: BandwidthType::parse(kind),
        value,
    })
}

// ---- writer --------------------------------------------------------------------------------------

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {}",
            self.username,
            self.session_id,
            self.session_version,
            self.network_type,
            self.address_type,
            self.address
        )
    }
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.network_type, self.address_type, self.address
        )
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.value)
    }
}

impl fmt::Display for SessionDescription {
    /// The whole description in RFC 8866 line order, every line ending in CRLF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("v=0\r\n")?;
        write!(f, "o={}\r\n", self.origin)?;
        write!(f, "s={}\r\n", self.session_name)?;
        if let Some(i) = &self.info {
            write!(f, "i={i}\r\n")?;
        }
        if let Some(u) = &self.uri {
            write!(f, "u={u}\r\n")?;
        }
        for e in &self.emails {
            write!(f, "e={e}\r\n")?;
        }
        for p in &self.phones {
            write!(f, "p={p}\r\n")?;
        }
        if let Some(c) = &self.connection {
            write!(f, "c={c}\r\n")?;
        }
        for b in &self.bandwidths {
            write!(f, "b={b}\r\n")?;
        }
        for t in &self.timing {
            write!(f, "t={} {}\r\n", t.start, t.stop)?;
            for r in &t.repeats {
                write!(f, "r={r}\r\n")?;
            }
        }
        if let Some(z) = &self.time_zones {
            write!(f, "z={z}\r\n")?;
        }
        if let Some(k) = &self.key {
            write!(f, "k={k}\r\n")?;
        }
        for a in &self.attributes {
            write!(f, "a={a}\r\n")?;
        }
        for m in &self.media {
            write!(f, "{m}")?;
        }
        Ok(())
    }
}
