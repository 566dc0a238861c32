//! `a=` attributes: the typed WebRTC ones and a lossless fallback for the rest.

use std::fmt;
use std::str::FromStr;

use crate::candidate::Candidate;
use crate::error::{AttrResult, ErrorKind, ParseError, bad_attr};
use crate::session::Connection;

/// One `a=` line. Known attributes are typed; anything else is kept verbatim as
/// [`Attribute::Unknown`], so that a description written back has every attribute in its place.
///
/// `Display` writes the line without `a=` and without the line end, e.g. `mid:0`.
///
/// ```
/// use zvon_sdp::{Attribute, Setup};
/// let a: Attribute = "a=setup:actpass".parse().unwrap();
/// assert_eq!(a, Attribute::Setup(Setup::Actpass));
/// assert_eq!(a.to_string(), "setup:actpass");
/// let unknown: Attribute = "x-google-flag:conference".parse().unwrap();
/// assert_eq!(unknown.to_string(), "x-google-flag:conference");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Attribute {
    /// `a=group` (RFC 5888; BUNDLE per RFC 8843).
    Group(Group),
    /// `a=mid` (RFC 5888): the media section's identification tag.
    Mid(String),
    /// `a=bundle-only` (RFC 8843): the section may only be used inside a BUNDLE group.
    BundleOnly,
    /// `a=ice-ufrag` (RFC 8839).
    IceUfrag(String),
    /// `a=ice-pwd` (RFC 8839).
    IcePwd(String),
    /// `a=ice-options` (RFC 8839), e.g. `trickle`, `renomination`.
    IceOptions(Vec<String>),
    /// `a=ice-lite` (RFC 8839).
    IceLite,
    /// `a=candidate` (RFC 8839).
    Candidate(Candidate),
    /// `a=end-of-candidates` (RFC 8840).
    EndOfCandidates,
    /// `a=fingerprint` (RFC 8122).
    Fingerprint(Fingerprint),
    /// `a=setup` (RFC 4145, RFC 8842).
    Setup(Setup),
    /// `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive` (RFC 8866).
    Direction(Direction),
    /// `a=rtpmap` (RFC 8866).
    Rtpmap(Rtpmap),
    /// `a=fmtp` (RFC 8866).
    Fmtp(Fmtp),
    /// `a=rtcp-fb` (RFC 4585).
    RtcpFb(RtcpFb),
    /// `a=extmap` (RFC 8285).
    Extmap(Extmap),
    /// `a=extmap-allow-mixed` (RFC 8285): one- and two-byte header extensions may mix.
    ExtmapAllowMixed,
    /// `a=ssrc` (RFC 5576).
    Ssrc(Ssrc),
    /// `a=ssrc-group` (RFC 5576), e.g. `FID` for RTX or `SIM` for legacy simulcast.
    SsrcGroup(SsrcGroup),
    /// `a=msid` (RFC 8830).
    Msid(Msid),
    /// `a=msid-semantic` (draft-ietf-mmusic-msid, still sent by every browser).
    MsidSemantic(MsidSemantic),
    /// `a=rid` (RFC 8851).
    Rid(Rid),
    /// `a=simulcast` (RFC 8853).
    Simulcast(Simulcast),
    /// `a=sctp-port` (RFC 8841).
    SctpPort(u16),
    /// `a=max-message-size` (RFC 8841); 0 means no limit.
    MaxMessageSize(u64),
    /// `a=sctpmap` (draft-ietf-mmusic-sctp-sdp-05 and older, still seen from old peers).
    SctpMap(SctpMap),
    /// `a=rtcp-mux` (RFC 5761).
    RtcpMux,
    /// `a=rtcp-mux-only` (RFC 8858).
    RtcpMuxOnly,
    /// `a=rtcp-rsize` (RFC 5506).
    RtcpRsize,
    /// `a=rtcp` (RFC 3605).
    Rtcp(Rtcp),
    /// `a=ptime` in milliseconds.
    Ptime(u32),
    /// `a=maxptime` in milliseconds.
    MaxPtime(u32),
    /// `a=framerate`, a decimal number as written (e.g. `29.97`).
    Framerate(String),
    /// Any other attribute, kept as written. `value` is `None` for a property attribute
    /// (`a=name`) and `Some` for `a=name:value` (possibly empty).
    Unknown {
        /// The attribute name.
        name: String,
        /// The value after the first `:`, if there was one.
        value: Option<String>,
    },
}

/// `a=group:<semantics> <mid>...`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Group {
    /// `BUNDLE`, `LS`, `FID`, ...
    pub semantics: String,
    /// The identification tags of the grouped media sections.
    pub mids: Vec<String>,
}

impl Group {
    /// `true` for a BUNDLE group.
    pub fn is_bundle(&self) -> bool {
        self.semantics == "BUNDLE"
    }
}

/// `a=fingerprint:<hash-func> <XX:XX:...>`: the certificate fingerprint DTLS verifies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// The hash function.
    pub hash: HashFunction,
    /// The digest (written as upper-case hex pairs separated by colons).
    pub bytes: Vec<u8>,
}

/// A hash function name from the IANA "Hash Function Textual Names" registry (RFC 8122).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HashFunction {
    /// `sha-1`
    Sha1,
    /// `sha-224`
    Sha224,
    /// `sha-256`
    Sha256,
    /// `sha-384`
    Sha384,
    /// `sha-512`
    Sha512,
    /// `md5`
    Md5,
    /// `md2`
    Md2,
    /// Any other name, as written.
    Other(String),
}

/// `a=setup` (RFC 4145): which side opens the (DTLS) connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setup {
    /// Will initiate (DTLS client).
    Active,
    /// Will accept (DTLS server).
    Passive,
    /// Either; an offer says this (RFC 8842).
    Actpass,
    /// Does not want a connection now.
    Holdconn,
}

/// A media direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `sendrecv`, the default.
    SendRecv,
    /// `sendonly`
    SendOnly,
    /// `recvonly`
    RecvOnly,
    /// `inactive`
    Inactive,
}

/// `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rtpmap {
    /// RTP payload type, 0 to 127.
    pub pt: u8,
    /// Encoding name as written (`opus`, `VP8`, `H264`, `rtx`, ...).
    pub encoding: String,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Encoding parameters: the channel count for audio, when written.
    pub channels: Option<u16>,
}

/// `a=fmtp:<pt> <parameters>`. The parameter string is kept as written; [`Fmtp::params`] splits
/// it into `key=value` pairs on demand, so the two can never disagree.
///
/// ```
/// let f = zvon_sdp::Fmtp::from_pairs(111, [("minptime", Some("10")), ("useinbandfec", Some("1"))]);
/// assert_eq!(f.params, "minptime=10;useinbandfec=1");
/// assert_eq!(f.get("useinbandfec"), Some("1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fmtp {
    /// RTP payload type, 0 to 127.
    pub pt: u8,
    /// The format parameters as written, e.g. `minptime=10;useinbandfec=1` or `0-15`.
    pub params: String,
}

/// `a=rtcp-fb:<pt or *> <type> [<parameter>]`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RtcpFb {
    /// The payload type, or `None` for `*` (every payload type).
    pub pt: Option<u8>,
    /// `nack`, `ccm`, `goog-remb`, `transport-cc`, `trr-int`, ...
    pub kind: String,
    /// The rest: `pli` of `nack pli`, `fir` of `ccm fir`.
    pub param: Option<String>,
}

/// `a=extmap:<id>[/<direction>] <uri> [<attributes>]`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Extmap {
    /// The local identifier (1-14 for one-byte headers, up to 255 for two-byte).
    pub id: u16,
    /// The direction, when given.
    pub direction: Option<Direction>,
    /// The extension URI.
    pub uri: String,
    /// Extension attributes after the URI, as written.
    pub attributes: Option<String>,
}

/// `a=ssrc:<ssrc> <attribute>[:<value>]`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ssrc {
    /// The synchronization source.
    pub ssrc: u32,
    /// `cname`, `msid`, `mslabel`, `label`, ...
    pub attribute: String,
    /// The value after the `:`, as written.
    pub value: Option<String>,
}

/// `a=ssrc-group:<semantics> <ssrc>...`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SsrcGroup {
    /// `FID` (RTX), `FEC-FR`, `SIM`, ...
    pub semantics: String,
    /// The grouped sources, in order (for `FID`: media first, then its repair stream).
    pub ssrcs: Vec<u32>,
}

/// `a=msid:<stream id> [<track id>]` (RFC 8830); `-` names no stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Msid {
    /// The MediaStream id.
    pub stream: String,
    /// The track id (the "appdata"), when given.
    pub track: Option<String>,
}

/// `a=msid-semantic: <semantic> [<id>...]`, written as Chromium writes it (a space after the
/// colon).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MsidSemantic {
    /// `WMS`.
    pub semantic: String,
    /// Stream ids, or `*`.
    pub ids: Vec<String>,
}

/// `a=rid:<id> <send|recv> [pt=<fmt>,...;<restriction>;...]` (RFC 8851)
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rid {
    /// The RTP stream id.
    pub id: String,
    /// Send or receive.
    pub direction: RidDirection,
    /// The `pt=` list; empty when the attribute has none.
    pub payload_types: Vec<u8>,
    /// Other restrictions in order (`max-width=1280`, `max-fps=30`, `depend=...`), value `None`
    /// for a bare name.
    pub restrictions: Vec<(String, Option<String>)>,
}

/// The direction of an `a=rid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RidDirection {
    /// `send`
    Send,
    /// `recv`
    Recv,
}

/// `a=simulcast` (RFC 8853): the simulcast streams sent and received, each a list of
/// alternative rids.
///
/// ```
/// let a: zvon_sdp::Attribute = "a=simulcast:send q;h;~f recv r1,r2".parse().unwrap();
/// let zvon_sdp::Attribute::Simulcast(s) = a else { unreachable!() };
/// assert_eq!(s.send.len(), 3);
/// assert!(s.send[2][0].paused);
/// assert_eq!(s.recv[0].len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Simulcast {
    /// Streams sent; each a list of alternative rids. Empty when there is no `send` part.
    pub send: Vec<Vec<SimulcastRid>>,
    /// Streams received; each a list of alternative rids. Empty when there is no `recv` part.
    pub recv: Vec<Vec<SimulcastRid>>,
}

/// One rid in an `a=simulcast` list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SimulcastRid {
    /// The rid.
    pub id: String,
    /// Written with a leading `~`: the stream starts paused.
    pub paused: bool,
}

/// `a=sctpmap:<port> <protocol> [<streams>]` (the pre-RFC 8841 form).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SctpMap {
    /// The SCTP port.
    pub port: u16,
    /// `webrtc-datachannel`.
    pub protocol: String,
    /// Number of streams, when given.
    pub streams: Option<u32>,
}

/// `a=rtcp:<port> [<nettype> <addrtype> <address>]` (RFC 3605)
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rtcp {
    /// The RTCP port.
    pub port: u16,
    /// The RTCP address, when given.
    pub connection: Option<Connection>,
}

// ---- small parsing helpers ---------------------------------------------------------------------

/// Space-separated tokens; runs of spaces count as one (browsers are not always tidy).
pub(crate) fn tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split(' ').filter(|t| !t.is_empty())
}

/// A decimal number: ASCII digits only (no sign, no spaces), within the type's range.
pub(crate) fn num<T: FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn payload_type(s: &str, name: &'static str) -> AttrResult<u8> {
    match num::<u8>(s) {
        Some(pt) if pt <= 127 => Ok(pt),
        _ => Err(bad_attr(name, "bad payload type")),
    }
}

/// Splits `first rest...` at the first run of spaces.
fn split_first(s: &str) -> (&str, &str) {
    match s.split_once(' ') {
        Some((a, b)) => (a, b.trim_start_matches(' ')),
        None => (s, ""),
    }
}

fn single_token(name: &'static str, value: Option<&str>) -> AttrResult<String> {
    let v = value.ok_or(bad_attr(name, "missing value"))?;
    if v.is_empty() {
        return Err(bad_attr(name, "empty value"));
    }
    if v.contains(' ') {
        return Err(bad_attr(name, "value has a space"));
    }
    Ok(v.to_owned())
}

/// RFC 8866 `token-char`: visible ASCII except the separators `"(),/:;<=>?@[\]` and space.
fn is_token_char(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x27 | 0x2A..=0x2B | 0x2D..=0x2E | 0x30..=0x39 | 0x41..=0x5A | 0x5E..=0x7E)
}

fn is_decimal(s: &str) -> bool {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

// ---- parsing -------------------------------------------------------------------------------------

impl Attribute {
    /// Parses one attribute line: `a=name:value`, or the same without `a=`.
    pub fn parse(line: &str) -> Result<Self, ParseError> {
        let line = line.trim_end_matches([' ', '\t', '\r', '\n']);
        let line = line.strip_prefix("a=").unwrap_or(line);
        Self::parse_line(line).map_err(|kind| ParseError::new(1, kind))
    }

    /// Parses the text after `a=` (already trimmed at its end).
    pub(crate) fn parse_line(line: &str) -> AttrResult<Self> {
        let (name, value) = match line.split_once(':') {
            Some((n, v)) => (n, Some(v)),
            None => (line, None),
        };
        //# att-field = token
        if name.is_empty() || !name.bytes().all(is_token_char) {
            return Err(ErrorKind::MalformedLine);
        }
        Self::from_parts(name, value)
    }

    fn from_parts(name: &str, value: Option<&str>) -> AttrResult<Self> {
        // Property attributes take no value; one with a value is not what it claims to be.
        let flag = |n: &'static str, a: Attribute| match value {
            None => Ok(a),
            Some(_) => Err(bad_attr(n, "takes no value")),
        };
        let need = |n: &'static str| value.ok_or(bad_attr(n, "missing value"));
        Ok(match name {
            "group" => {
                let mut t = tokens(need("group")?);
                let semantics = t
                    .next()
                    .ok_or(bad_attr("group", "missing semantics"))?
                    .to_owned();
                Self::Group(Group {
                    semantics,
                    mids: t.map(str::to_owned).collect(),
                })
            }
            "mid" => Self::Mid(single_token("mid", value)?),
            "bundle-only" => flag("bundle-only", Self::BundleOnly)?,
            "ice-ufrag" => Self::IceUfrag(single_token("ice-ufrag", value)?),
            "ice-pwd" => Self::IcePwd(single_token("ice-pwd", value)?),
            "ice-options" => {
                let opts: Vec<String> = tokens(need("ice-options")?).map(str::to_owned).collect();
                if opts.is_empty() {
                    return Err(bad_attr("ice-options", "no options"));
                }
                Self::IceOptions(opts)
            }
            "ice-lite" => flag("ice-lite", Self::IceLite)?,
            "candidate" => Self::Candidate(Candidate::parse_value(need("candidate")?)?),
            "end-of-candidates" => flag("end-of-candidates", Self::EndOfCandidates)?,
            "fingerprint" => Self::Fingerprint(Fingerprint::parse_value(need("fingerprint")?)?),
            "setup" => Self::Setup(match need("setup")? {
                "active" => Setup::Active,
                "passive" => Setup::Passive,
                "actpass" => Setup::Actpass,
                "holdconn" => Setup::Holdconn,
                _ => return Err(bad_attr("setup", "unknown role")),
            }),
            "sendrecv" => flag("sendrecv", Self::Direction(Direction::SendRecv))?,
            "sendonly" => flag("sendonly", Self::Direction(Direction::SendOnly))?,
            "recvonly" => flag("recvonly", Self::Direction(Direction::RecvOnly))?,
            "inactive" => flag("inactive", Self::Direction(Direction::Inactive))?,
            "rtpmap" => Self::Rtpmap(Rtpmap::parse_value(need("rtpmap")?)?),
            "fmtp" => {
                let (pt, params) = split_first(need("fmtp")?);
                Self::Fmtp(Fmtp {
                    pt: payload_type(pt, "fmtp")?,
                    params: params.to_owned(),
                })
            }
            "rtcp-fb" => {
                let (pt, rest) = split_first(need("rtcp-fb")?);
                let pt = if pt == "*" {
                    None
                } else {
                    Some(payload_type(pt, "rtcp-fb")?)
                };
                let (kind, param) = split_first(rest);
                if kind.is_empty() {
                    return Err(bad_attr("rtcp-fb", "missing feedback type"));
                }
                let param = (!param.is_empty()).then(|| param.to_owned());
                Self::RtcpFb(RtcpFb {
                    pt,
                    kind: kind.to_owned(),
                    param,
                })
            }
            "extmap" => Self::Extmap(Extmap::parse_value(need("extmap")?)?),
            "extmap-allow-mixed" => flag("extmap-allow-mixed", Self::ExtmapAllowMixed)?,
            "ssrc" => {
                let (ssrc, rest) = split_first(need("ssrc")?);
                let ssrc = num(ssrc).ok_or(bad_attr("ssrc", "bad ssrc"))?;
                let (attribute, value) = match rest.split_once(':') {
                    Some((a, v)) => (a, Some(v.to_owned())),
                    None => (rest, None),
                };
                if attribute.is_empty() {
                    return Err(bad_attr("ssrc", "missing attribute"));
                }
                Self::Ssrc(Ssrc {
                    ssrc,
                    attribute: attribute.to_owned(),
                    value,
                })
            }
            "ssrc-group" => {
                let mut t = tokens(need("ssrc-group")?);
                let semantics = t
                    .next()
                    .ok_or(bad_attr("ssrc-group", "missing semantics"))?
                    .to_owned();
                let ssrcs = t
                    .map(|s| num(s).ok_or(bad_attr("ssrc-group", "bad ssrc")))
                    .collect::<Result<_, _>>()?;
                Self::SsrcGroup(SsrcGroup { semantics, ssrcs })
            }
            "msid" => {
                let (stream, track) = split_first(need("msid")?);
                if stream.is_empty() {
                    return Err(bad_attr("msid", "missing stream id"));
                }
                let track = (!track.is_empty()).then(|| track.to_owned());
                Self::Msid(Msid {
                    stream: stream.to_owned(),
                    track,
                })
            }
            "msid-semantic" => {
                let mut t = tokens(need("msid-semantic")?);
                let semantic = t
                    .next()
                    .ok_or(bad_attr("msid-semantic", "missing semantic"))?
                    .to_owned();
                Self::MsidSemantic(MsidSemantic {
                    semantic,
                    ids: t.map(str::to_owned).collect(),
                })
            }
            "rid" => Self::Rid(Rid::parse_value(need("rid")?)?),
            "simulcast" => Self::Simulcast(Simulcast::parse_value(need("simulcast")?)?),
            "sctp-port" => {
                Self::SctpPort(num(need("sctp-port")?).ok_or(bad_attr("sctp-port", "bad port"))?)
            }
            "max-message-size" => Self::MaxMessageSize(
                num(need("max-message-size")?).ok_or(bad_attr("max-message-size", "bad size"))?,
            ),
            "sctpmap" => {
                let mut t = tokens(need("sctpmap")?);
                let port = t
                    .next()
                    .and_then(num)
                    .ok_or(bad_attr("sctpmap", "bad port"))?;
                let protocol = t
                    .next()
                    .ok_or(bad_attr("sctpmap", "missing protocol"))?
                    .to_owned();
                let streams = match t.next() {
                    Some(s) => Some(num(s).ok_or(bad_attr("sctpmap", "bad stream count"))?),
                    None => None,
                };
                if t.next().is_some() {
                    return Err(bad_attr("sctpmap", "trailing fields"));
                }
                Self::SctpMap(SctpMap {
                    port,
                    protocol,
                    streams,
                })
            }
            "rtcp-mux" => flag("rtcp-mux", Self::RtcpMux)?,
            "rtcp-mux-only" => flag("rtcp-mux-only", Self::RtcpMuxOnly)?,
            "rtcp-rsize" => flag("rtcp-rsize", Self::RtcpRsize)?,
            "rtcp" => {
                let mut t = tokens(need("rtcp")?);
                let port = t.next().and_then(num).ok_or(bad_attr("rtcp", "bad port"))?;
                let connection = match (t.next(), t.next(), t.next(), t.next()) {
                    (None, ..) => None,
                    (Some(n), Some(a), Some(addr), None) => Some(Connection {
                        network_type: n.to_owned(),
                        address_type: a.to_owned(),
                        address: addr.to_owned(),
                    }),
                    _ => return Err(bad_attr("rtcp", "expected <nettype> <addrtype> <address>")),
                };
                Self::Rtcp(Rtcp { port, connection })
            }
            "ptime" => Self::Ptime(num(need("ptime")?).ok_or(bad_attr("ptime", "bad time"))?),
            "maxptime" => {
                Self::MaxPtime(num(need("maxptime")?).ok_or(bad_attr("maxptime", "bad time"))?)
            }
            "framerate" => {
                let v = need("framerate")?;
                if !is_decimal(v) {
                    return Err(bad_attr("framerate", "not a decimal number"));
                }
                Self::Framerate(v.to_owned())
            }
            _ => Self::Unknown {
                name: name.to_owned(),
                value: value.map(str::to_owned),
            },
        })
    }

    /// The attribute name as written in SDP (`mid`, `candidate`, `sendrecv`, ...).
    pub fn name(&self) -> &str {
        match self {
            Self::Group(_) => "group",
            Self::Mid(_) => "mid",
            Self::BundleOnly => "bundle-only",
            Self::IceUfrag(_) => "ice-ufrag",
            Self::IcePwd(_) => "ice-pwd",
            Self::IceOptions(_) => "ice-options",
            Self::IceLite => "ice-lite",
            Self::Candidate(_) => "candidate",
            Self::EndOfCandidates => "end-of-candidates",
            Self::Fingerprint(_) => "fingerprint",
            Self::Setup(_) => "setup",
            Self::Direction(d) => d.as_str(),
            Self::Rtpmap(_) => "rtpmap",
            Self::Fmtp(_) => "fmtp",
            Self::RtcpFb(_) => "rtcp-fb",
            Self::Extmap(_) => "extmap",
            Self::ExtmapAllowMixed => "extmap-allow-mixed",
            Self::Ssrc(_) => "ssrc",
            Self::SsrcGroup(_) => "ssrc-group",
            Self::Msid(_) => "msid",
            Self::MsidSemantic(_) => "msid-semantic",
            Self::Rid(_) => "rid",
            Self::Simulcast(_) => "simulcast",
            Self::SctpPort(_) => "sctp-port",
            Self::MaxMessageSize(_) => "max-message-size",
            Self::SctpMap(_) => "sctpmap",
            Self::RtcpMux => "rtcp-mux",
            Self::RtcpMuxOnly => "rtcp-mux-only",
            Self::RtcpRsize => "rtcp-rsize",
            Self::Rtcp(_) => "rtcp",
            Self::Ptime(_) => "ptime",
            Self::MaxPtime(_) => "maxptime",
            Self::Framerate(_) => "framerate",
            Self::Unknown { name, .. } => name,
        }
    }
}

impl FromStr for Attribute {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Fingerprint {
    //# fingerprint-attribute = "fingerprint" ":" hash-func SP fingerprint
    //# fingerprint = 2UHEX *(":" 2UHEX)
    fn parse_value(v: &str) -> AttrResult<Self> {
        const N: &str = "fingerprint";
        let mut t = tokens(v);
        let hash = HashFunction::parse(t.next().ok_or(bad_attr(N, "missing hash function"))?);
        let hex = t.next().ok_or(bad_attr(N, "missing fingerprint"))?;
        if t.next().is_some() {
            return Err(bad_attr(N, "trailing fields"));
        }
        let bytes = hex
            .split(':')
            .map(|pair| {
                // Browsers write upper case; lower case is accepted as RFC 4572 allowed it.
                if pair.len() != 2 {
                    return Err(bad_attr(N, "not hex pairs"));
                }
                u8::from_str_radix(pair, 16).map_err(|_| bad_attr(N, "not hex pairs"))
            })
            .collect::<Result<Vec<u8>, _>>()?;
        if hash.digest_len().is_some_and(|len| len != bytes.len()) {
            return Err(bad_attr(N, "length does not match the hash function"));
        }
        Ok(Self { hash, bytes })
    }
}

impl Fingerprint {
    /// A fingerprint of `bytes` computed with `hash`.
    pub fn new(hash: HashFunction, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            hash,
            bytes: bytes.into(),
        }
    }
}

impl FromStr for Fingerprint {
    type Err = ParseError;

    /// Parses the attribute value, `sha-256 AB:CD:...`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_value(s.trim_matches([' ', '\t', '\r', '\n']))
            .map_err(|kind| ParseError::new(1, kind))
    }
}

impl fmt::Display for Fingerprint {
    /// The attribute value, `sha-256 AB:CD:...` (upper-case hex, as RFC 8122 writes it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.hash.as_str())?;
        for (i, b) in self.bytes.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl HashFunction {
    fn parse(s: &str) -> Self {
        const KNOWN: [(&str, HashFunction); 7] = [
            ("sha-1", HashFunction::Sha1),
            ("sha-224", HashFunction::Sha224),
            ("sha-256", HashFunction::Sha256),
            ("sha-384", HashFunction::Sha384),
            ("sha-512", HashFunction::Sha512),
            ("md5", HashFunction::Md5),
            ("md2", HashFunction::Md2),
        ];
        KNOWN
            .into_iter()
            .find(|(n, _)| s.eq_ignore_ascii_case(n))
            .map_or_else(|| Self::Other(s.to_owned()), |(_, h)| h)
    }

    /// The name as written in SDP (lower case for the registered ones).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Sha1 => "sha-1",
            Self::Sha224 => "sha-224",
            Self::Sha256 => "sha-256",
            Self::Sha384 => "sha-384",
            Self::Sha512 => "sha-512",
            Self::Md5 => "md5",
            Self::Md2 => "md2",
            Self::Other(s) => s,
        }
    }

    /// Digest length in bytes, for the registered functions.
    pub fn digest_len(&self) -> Option<usize> {
        Some(match self {
            Self::Sha1 => 20,
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
            Self::Md5 | Self::Md2 => 16,
            Self::Other(_) => return None,
        })
    }
}

impl Setup {
    /// The token as written in SDP.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Passive => "passive",
            Self::Actpass => "actpass",
            Self::Holdconn => "holdconn",
        }
    }
}

impl Direction {
    /// The attribute name (`sendrecv`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// From whether this side sends and whether it receives.
    pub fn from_flags(send: bool, recv: bool) -> Self {
        match (send, recv) {
            (true, true) => Self::SendRecv,
            (true, false) => Self::SendOnly,
            (false, true) => Self::RecvOnly,
            (false, false) => Self::Inactive,
        }
    }

    /// `true` for sendrecv and sendonly.
    pub fn sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    /// `true` for sendrecv and recvonly.
    pub fn receives(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }

    /// The same direction seen from the other side: sendonly becomes recvonly.
    pub fn reverse(self) -> Self {
        Self::from_flags(self.receives(), self.sends())
    }
}

impl Rtpmap {
    //# a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
    fn parse_value(v: &str) -> AttrResult<Self> {
        const N: &str = "rtpmap";
        let mut t = tokens(v);
        let pt = payload_type(t.next().ok_or(bad_attr(N, "missing payload type"))?, N)?;
        let enc = t.next().ok_or(bad_attr(N, "missing encoding"))?;
        if t.next().is_some() {
            return Err(bad_attr(N, "trailing fields"));
        }
        let mut parts = enc.split('/');
        let encoding = parts
            .next()
            .filter(|e| !e.is_empty())
            .ok_or(bad_attr(N, "empty encoding name"))?
            .to_owned();
        let clock_rate = parts
            .next()
            .and_then(num)
            .ok_or(bad_attr(N, "bad clock rate"))?;
        let channels = match parts.next() {
            Some(c) => Some(num(c).ok_or(bad_attr(N, "bad channel count"))?),
            None => None,
        };
        if parts.next().is_some() {
            return Err(bad_attr(N, "trailing fields"));
        }
        Ok(Self {
            pt,
            encoding,
            clock_rate,
            channels,
        })
    }
}

impl Fmtp {
    /// Builds the parameter string `k1=v1;k2;k3=v3` from pairs (`None`: a bare name).
    pub fn from_pairs<'a>(
        pt: u8,
        pairs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) -> Self {
        let mut params = String::new();
        for (k, v) in pairs {
            if !params.is_empty() {
                params.push(';');
            }
            params.push_str(k);
            if let Some(v) = v {
                params.push('=');
                params.push_str(v);
            }
        }
        Self { pt, params }
    }

    /// The parameters as `(name, value)` pairs, split at `;` and the first `=` of each, with
    /// surrounding spaces removed. A piece without `=` (`0-15` of telephone-event, `111/111` of
    /// RED) comes out as a name without value.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.params
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (p, None),
            })
    }

    /// The value of parameter `name` (compared ASCII case-insensitively, as RFC 6184 and others
    /// define their parameter names).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v)
    }
}

impl Extmap {
    //# extmap = mapentry SP extensionname [SP extensionattributes]
    //# mapentry = "extmap:" 1*5DIGIT ["/" direction]
    fn parse_value(v: &str) -> AttrResult<Self> {
        const N: &str = "extmap";
        let (entry, rest) = split_first(v);
        let (id, direction) = match entry.split_once('/') {
            Some((id, dir)) => (
                id,
                Some(Direction::parse(dir).ok_or(bad_attr(N, "bad direction"))?),
            ),
            None => (entry, None),
        };
        let id = num(id).ok_or(bad_attr(N, "bad id"))?;
        let (uri, attrs) = split_first(rest);
        if uri.is_empty() {
            return Err(bad_attr(N, "missing URI"));
        }
        let attributes = (!attrs.is_empty()).then(|| attrs.to_owned());
        Ok(Self {
            id,
            direction,
            uri: uri.to_owned(),
            attributes,
        })
    }
}

impl Direction {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "sendrecv" => Self::SendRecv,
            "sendonly" => Self::SendOnly,
            "recvonly" => Self::RecvOnly,
            "inactive" => Self::Inactive,
            _ => return None,
        })
    }
}

impl RidDirection {
    /// The token as written in SDP.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Recv => "recv",
        }
    }
}

impl Rid {
    /// A rid with no restrictions.
    pub fn new(id: impl Into<String>, direction: RidDirection) -> Self {
        Self {
            id: id.into(),
            direction,
            payload_types: Vec::new(),
            restrictions: Vec::new(),
        }
    }

    /// The value of restriction `name` (`max-width`, `max-height`, `max-fps`, ...).
    pub fn restriction(&self, name: &str) -> Option<&str> {
        self.restrictions
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_deref())
    }

    //# rid-syntax = %s"a=rid:" rid-id SP rid-dir [ rid-pt-param-list / rid-param-list ]
    fn parse_value(v: &str) -> AttrResult<Self> {
        const N: &str = "rid";
        let (id, rest) = split_first(v);
        if id.is_empty() {
            return Err(bad_attr(N, "missing id"));
        }
        let (dir, params) = split_first(rest);
        let direction = match dir {
            "send" => RidDirection::Send,
            "recv" => RidDirection::Recv,
            _ => return Err(bad_attr(N, "direction must be send or recv")),
        };
        let mut rid = Self::new(id, direction);
        for p in params.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, val) = match p.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (p, None),
            };
            if k == "pt" {
                if !rid.payload_types.is_empty() {
                    return Err(bad_attr(N, "pt= repeated"));
                }
                let list = val.ok_or(bad_attr(N, "pt= without formats"))?;
                rid.payload_types = list
                    .split(',')
                    .map(|f| payload_type(f.trim(), N))
                    .collect::<Result<_, _>>()?;
            } else {
                rid.restrictions
                    .push((k.to_owned(), val.map(str::to_owned)));
            }
        }
        Ok(rid)
    }
}

impl Simulcast {
    //# sc-value = ( sc-send [SP sc-recv] ) / ( sc-recv [SP sc-send] )
    //# sc-str-list = sc-alt-list *( ";" sc-alt-list )
    //# sc-alt-list = sc-id *( "," sc-id )
    //# sc-id = [sc-id-paused] rid-id
    fn parse_value(v: &str) -> AttrResult<Self> {
        const N: &str = "simulcast";
        // Written back send-first, so a control character inside could reach the line end.
        if v.bytes().any(|b| b.is_ascii_control()) {
            return Err(bad_attr(N, "control character"));
        }
        let mut s = Self {
            send: Vec::new(),
            recv: Vec::new(),
        };
        let mut t = tokens(v);
        while let Some(dir) = t.next() {
            let list = t.next().ok_or(bad_attr(N, "direction without streams"))?;
            let slot = match dir {
                "send" if s.send.is_empty() => &mut s.send,
                "recv" if s.recv.is_empty() => &mut s.recv,
                _ => return Err(bad_attr(N, "expected one send and one recv list")),
            };
            for alt in list.split(';') {
                let ids = alt
                    .split(',')
                    .map(|id| {
                        let (paused, id) = match id.strip_prefix('~') {
                            Some(rest) => (true, rest),
                            None => (false, id),
                        };
                        if id.is_empty() {
                            return Err(bad_attr(N, "empty rid"));
                        }
                        Ok(SimulcastRid {
                            id: id.to_owned(),
                            paused,
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                slot.push(ids);
            }
        }
        if s.send.is_empty() && s.recv.is_empty() {
            return Err(bad_attr(N, "no streams"));
        }
        Ok(s)
    }
}

// ---- writing -------------------------------------------------------------------------------------

fn join(
    f: &mut fmt::Formatter<'_>,
    items: impl IntoIterator<Item = impl fmt::Display>,
    sep: &str,
) -> fmt::Result {
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

fn write_simulcast_list(f: &mut fmt::Formatter<'_>, list: &[Vec<SimulcastRid>]) -> fmt::Result {
    for (i, alts) in list.iter().enumerate() {
        if i > 0 {
            f.write_str(";")?;
        }
        for (j, rid) in alts.iter().enumerate() {
            if j > 0 {
                f.write_str(",")?;
            }
            if rid.paused {
                f.write_str("~")?;
            }
            f.write_str(&rid.id)?;
        }
    }
    Ok(())
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            Self::BundleOnly
            | Self::IceLite
            | Self::EndOfCandidates
            | Self::Direction(_)
            | Self::ExtmapAllowMixed
            | Self::RtcpMux
            | Self::RtcpMuxOnly
            | Self::RtcpRsize
            | Self::Unknown { value: None, .. } => Ok(()),
            Self::Unknown { value: Some(v), .. } => write!(f, ":{v}"),
            Self::Group(g) => {
                write!(f, ":{}", g.semantics)?;
                g.mids.iter().try_for_each(|m| write!(f, " {m}"))
            }
            Self::Mid(v) | Self::IceUfrag(v) | Self::IcePwd(v) | Self::Framerate(v) => {
                write!(f, ":{v}")
            }
            Self::IceOptions(opts) => {
                f.write_str(":")?;
                join(f, opts, " ")
            }
            Self::Candidate(c) => {
                f.write_str(":")?;
                c.write_value(f)
            }
            Self::Fingerprint(fp) => write!(f, ":{fp}"),
            Self::Setup(s) => write!(f, ":{}", s.as_str()),
            Self::Rtpmap(r) => {
                write!(f, ":{} {}/{}", r.pt, r.encoding, r.clock_rate)?;
                match r.channels {
                    Some(c) => write!(f, "/{c}"),
                    None => Ok(()),
                }
            }
            Self::Fmtp(p) if p.params.is_empty() => write!(f, ":{}", p.pt),
            Self::Fmtp(p) => write!(f, ":{} {}", p.pt, p.params),
            Self::RtcpFb(fb) => {
                match fb.pt {
                    Some(pt) => write!(f, ":{pt} {}", fb.kind)?,
                    None => write!(f, ":* {}", fb.kind)?,
                }
                match &fb.param {
                    Some(p) => write!(f, " {p}"),
                    None => Ok(()),
                }
            }
            Self::Extmap(e) => {
                write!(f, ":{}", e.id)?;
                if let Some(d) = e.direction {
                    write!(f, "/{}", d.as_str())?;
                }
                write!(f, " {}", e.uri)?;
                match &e.attributes {
                    Some(a) => write!(f, " {a}"),
                    None => Ok(()),
                }
            }
            Self::Ssrc(s) => {
                write!(f, ":{} {}", s.ssrc, s.attribute)?;
                match &s.value {
                    Some(v) => write!(f, ":{v}"),
                    None => Ok(()),
                }
            }
            Self::SsrcGroup(g) => {
                write!(f, ":{}", g.semantics)?;
                g.ssrcs.iter().try_for_each(|s| write!(f, " {s}"))
            }
            Self::Msid(m) => {
                write!(f, ":{}", m.stream)?;
                match &m.track {
                    Some(t) => write!(f, " {t}"),
                    None => Ok(()),
                }
            }
            Self::MsidSemantic(m) => {
                write!(f, ": {}", m.semantic)?;
                m.ids.iter().try_for_each(|id| write!(f, " {id}"))
            }
            Self::Rid(r) => {
                write!(f, ":{} {}", r.id, r.direction.as_str())?;
                let mut sep = " ";
                if !r.payload_types.is_empty() {
                    f.write_str(" pt=")?;
                    join(f, &r.payload_types, ",")?;
                    sep = ";";
                }
                for (k, v) in &r.restrictions {
                    write!(f, "{sep}{k}")?;
                    if let Some(v) = v {
                        write!(f, "={v}")?;
                    }
                    sep = ";";
                }
                Ok(())
            }
            Self::Simulcast(s) => {
                f.write_str(":")?;
                if !s.send.is_empty() {
                    f.write_str("send ")?;
                    write_simulcast_list(f, &s.send)?;
                    if !s.recv.is_empty() {
                        f.write_str(" ")?;
                    }
                }
                if !s.recv.is_empty() {
                    f.write_str("recv ")?;
                    write_simulcast_list(f, &s.recv)?;
                }
                Ok(())
            }
            Self::SctpPort(p) => write!(f, ":{p}"),
            Self::MaxMessageSize(s) => write!(f, ":{s}"),
            Self::SctpMap(m) => {
                write!(f, ":{} {}", m.port, m.protocol)?;
                match m.streams {
                    Some(s) => write!(f, " {s}"),
                    None => Ok(()),
                }
            }
            Self::Rtcp(r) => {
                write!(f, ":{}", r.port)?;
                match &r.connection {
                    Some(c) => write!(f, " {c}"),
                    None => Ok(()),
                }
            }
            Self::Ptime(t) | Self::MaxPtime(t) => write!(f, ":{t}"),
        }
    }
}
