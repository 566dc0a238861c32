//! Media sections (`m=` and what follows it).

use std::fmt;

use crate::attribute::{Attribute, Direction, Fmtp, RtcpFb, Rtpmap};
use crate::attrs::Attributes;
use crate::session::{Bandwidth, Connection};

/// `UDP/TLS/RTP/SAVPF`: RTP media over DTLS-SRTP, as JSEP offers it.
pub const PROTO_RTP: &str = "UDP/TLS/RTP/SAVPF";
/// `UDP/DTLS/SCTP`: data channels (RFC 8841).
pub const PROTO_SCTP: &str = "UDP/DTLS/SCTP";
/// Most `a=rtcp-fb` entries [`MediaDescription::codecs`] attaches to one codec.
pub const MAX_FEEDBACK_PER_CODEC: usize = 32;
/// `webrtc-datachannel`: the format of a data-channel section.
pub const FORMAT_DATACHANNEL: &str = "webrtc-datachannel";

/// One media section: the `m=` line and its `i=`, `c=`, `b=`, `k=` and `a=` lines.
///
/// ```
/// use zvon_sdp::{Attribute, Codec, Direction, MediaDescription, MediaKind, PROTO_RTP};
/// let mut m = MediaDescription::new(MediaKind::Audio, 9, PROTO_RTP);
/// m.attributes.push(Attribute::Mid("0".into()));
/// m.attributes.push(Attribute::Direction(Direction::SendRecv));
/// m.add_codec(&Codec::new(111, "opus", 48000, Some(2)).with_fmtp("minptime=10;useinbandfec=1"));
/// assert_eq!(m.formats, ["111"]);
/// assert_eq!(m.codecs()[0].fmtp.as_deref(), Some("minptime=10;useinbandfec=1"));
/// assert_eq!(m.to_string().lines().next(), Some("m=audio 9 UDP/TLS/RTP/SAVPF 111"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaDescription {
    /// audio, video, application, ...
    pub kind: MediaKind,
    /// The port; 0 rejects the section (unless it is bundle-only), 9 is the JSEP placeholder.
    pub port: u16,
    /// The `/<number of ports>` after the port, when written.
    pub port_count: Option<u16>,
    /// The transport protocol: [`PROTO_RTP`], [`PROTO_SCTP`], `RTP/AVP`, ...
    pub protocol: String,
    /// The formats: RTP payload types as decimal strings, or `webrtc-datachannel`.
    pub formats: Vec<String>,
    /// `i=`: the media title.
    pub title: Option<String>,
    /// `c=` lines.
    pub connections: Vec<Connection>,
    /// `b=` lines.
    pub bandwidths: Vec<Bandwidth>,
    /// `k=` (obsolete), kept as written.
    pub key: Option<String>,
    /// The `a=` lines in order.
    pub attributes: Attributes,
}

/// The media type of an `m=` line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `audio`
    Audio,
    /// `video`
    Video,
    /// `application` (data channels)
    Application,
    /// `text`
    Text,
    /// `message`
    Message,
    /// Anything else, as written.
    Other(String),
}

impl MediaKind {
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "audio" => Self::Audio,
            "video" => Self::Video,
            "application" => Self::Application,
            "text" => Self::Text,
            "message" => Self::Message,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The token as written in SDP.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Application => "application",
            Self::Text => "text",
            Self::Message => "message",
            Self::Other(s) => s,
        }
    }
}

/// A codec assembled from a payload type's `a=rtpmap`, `a=fmtp` and `a=rtcp-fb` lines (or from
/// the RFC 3551 static table when a static payload type has no `a=rtpmap`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Codec {
    /// The payload type.
    pub pt: u8,
    /// Encoding name as written (`opus`, `VP8`, `H264`, `rtx`, `red`, ...).
    pub encoding: String,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Channel count, when written.
    pub channels: Option<u16>,
    /// The `a=fmtp` parameters, when present.
    pub fmtp: Option<String>,
    /// The `a=rtcp-fb` lines that apply (`*` ones included), in order.
    pub feedback: Vec<RtcpFb>,
}

impl Codec {
    /// A codec without parameters or feedback.
    pub fn new(
        pt: u8,
        encoding: impl Into<String>,
        clock_rate: u32,
        channels: Option<u16>,
    ) -> Self {
        Self {
            pt,
            encoding: encoding.into(),
            clock_rate,
            channels,
            fmtp: None,
            feedback: Vec::new(),
        }
    }

    /// Sets the fmtp parameters.
    pub fn with_fmtp(mut self, params: impl Into<String>) -> Self {
        self.fmtp = Some(params.into());
        self
    }

    /// Adds an rtcp-fb line (`kind` such as `nack`, `param` such as `pli`).
    pub fn with_feedback(mut self, kind: impl Into<String>, param: Option<&str>) -> Self {
        self.feedback.push(RtcpFb {
            pt: Some(self.pt),
            kind: kind.into(),
            param: param.map(str::to_owned),
        });
        self
    }

    /// The fmtp parameters as an [`Fmtp`], to read `key=value` pairs.
    pub fn fmtp(&self) -> Option<Fmtp> {
        self.fmtp.as_ref().map(|p| Fmtp {
            pt: self.pt,
            params: p.clone(),
        })
    }

    /// `true` for RTX (`rtx`), whose `apt` names the payload type it repairs.
    pub fn is_rtx(&self) -> bool {
        self.encoding.eq_ignore_ascii_case("rtx")
    }
}

/// RFC 3551 static payload types that may appear without `a=rtpmap`.
fn static_payload(pt: u8) -> Option<(&'static str, u32, Option<u16>)> {
    Some(match pt {
        0 => ("PCMU", 8000, None),
        3 => ("GSM", 8000, None),
        4 => ("G723", 8000, None),
        5 => ("DVI4", 8000, None),
        6 => ("DVI4", 16000, None),
        7 => ("LPC", 8000, None),
        8 => ("PCMA", 8000, None),
        9 => ("G722", 8000, None),
        10 => ("L16", 44100, Some(2)),
        11 => ("L16", 44100, None),
        12 => ("QCELP", 8000, None),
        13 => ("CN", 8000, None),
        14 => ("MPA", 90000, None),
        15 => ("G728", 8000, None),
        16 => ("DVI4", 11025, None),
        17 => ("DVI4", 22050, None),
        18 => ("G729", 8000, None),
        25 => ("CelB", 90000, None),
        26 => ("JPEG", 90000, None),
        28 => ("nv", 90000, None),
        31 => ("H261", 90000, None),
        32 => ("MPV", 90000, None),
        33 => ("MP2T", 90000, None),
        34 => ("H263", 90000, None),
        _ => return None,
    })
}

impl MediaDescription {
    /// A section with no formats and no attributes.
    pub fn new(kind: MediaKind, port: u16, protocol: impl Into<String>) -> Self {
        Self {
            kind,
            port,
            port_count: None,
            protocol: protocol.into(),
            formats: Vec::new(),
            title: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            key: None,
            attributes: Attributes::new(),
        }
    }

    /// `a=mid`.
    pub fn mid(&self) -> Option<&str> {
        self.attributes.mid()
    }

    /// The section's direction attribute, if it has one.
    pub fn direction(&self) -> Option<Direction> {
        self.attributes.direction()
    }

    /// `true` for an RTP section (audio or video over an `RTP/` profile).
    pub fn is_rtp(&self) -> bool {
        self.protocol.contains("RTP/")
    }

    /// `true` for a data-channel (SCTP) section.
    pub fn is_sctp(&self) -> bool {
        self.protocol.ends_with("SCTP")
    }

    /// `true` when the section is rejected or removed: port 0 and not `a=bundle-only` (RFC 8843
    /// section 6: a bundle-only section has port 0 but is alive).
    pub fn is_rejected(&self) -> bool {
        self.port == 0 && !self.attributes.bundle_only()
    }

    /// The formats that are valid RTP payload types, in order.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats
            .iter()
            .filter_map(|f| crate::attribute::num::<u8>(f))
            .filter(|pt| *pt <= 127)
    }

    /// The codec of payload type `pt`, if the section offers it.
    pub fn codec(&self, pt: u8) -> Option<Codec> {
        self.codecs().into_iter().find(|c| c.pt == pt)
    }

    /// The codecs in `m=` line order (preference order), each payload type once. A dynamic
    /// payload type without `a=rtpmap` is skipped. Each codec's feedback list is deduplicated
    /// and capped at [`MAX_FEEDBACK_PER_CODEC`] (real codecs have about five), so that
    /// thousands of hostile `a=rtcp-fb:*` lines cannot multiply into millions of copies.
    pub fn codecs(&self) -> Vec<Codec> {
        // One pass over the attributes into tables indexed by payload type, so that the cost
        // stays linear however many formats and attributes a hostile section has.
        let mut rtpmap: [Option<&Rtpmap>; 128] = [None; 128];
        let mut fmtp: [Option<&Fmtp>; 128] = [None; 128];
        let mut feedback: Vec<&RtcpFb> = Vec::new();
        for a in &self.attributes {
            match a {
                // `& 0x7f`: the parser only admits 0..=127; the mask keeps a hand-built value
                // from indexing out of the table.
                Attribute::Rtpmap(r) => _ = rtpmap[usize::from(r.pt & 0x7f)].get_or_insert(r),
                Attribute::Fmtp(f) => _ = fmtp[usize::from(f.pt & 0x7f)].get_or_insert(f),
                Attribute::RtcpFb(fb) => feedback.push(fb),
                _ => {}
            }
        }
        let mut seen = [false; 128];
        let mut out = Vec::new();
        for pt in self.payload_types() {
            let i = usize::from(pt & 0x7f);
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            let (encoding, clock_rate, channels) = match rtpmap[i] {
                Some(r) => (r.encoding.clone(), r.clock_rate, r.channels),
                None => match static_payload(pt) {
                    Some((e, c, ch)) => (e.to_owned(), c, ch),
                    None => continue,
                },
            };
            let mut fbs: Vec<RtcpFb> = Vec::new();
            for fb in feedback.iter().filter(|fb| fb.pt.is_none_or(|p| p == pt)) {
                if fbs.len() == MAX_FEEDBACK_PER_CODEC {
                    break;
                }
                if !fbs.iter().any(|x| x.kind == fb.kind && x.param == fb.param) {
                    fbs.push((*fb).clone());
                }
            }
            out.push(Codec {
                pt,
                encoding,
                clock_rate,
                channels,
                fmtp: fmtp[i].map(|f| f.params.clone()),
                feedback: fbs,
            });
        }
        out
    }

    /// Appends a codec: its payload type to the `m=` line, then `a=rtpmap`, its `a=rtcp-fb`
    /// lines and `a=fmtp` (in the order Chromium writes them).
    pub fn add_codec(&mut self, codec: &Codec) {
        self.formats.push(codec.pt.to_string());
        self.attributes.push(Attribute::Rtpmap(Rtpmap {
            pt: codec.pt,
            encoding: codec.encoding.clone(),
            clock_rate: codec.clock_rate,
            channels: codec.channels,
        }));
        for fb in &codec.feedback {
            self.attributes.push(Attribute::RtcpFb(RtcpFb {
                pt: Some(codec.pt),
                ..fb.clone()
            }));
        }
        if let Some(params) = &codec.fmtp {
            self.attributes.push(Attribute::Fmtp(Fmtp {
                pt: codec.pt,
                params: params.clone(),
            }));
        }
    }
}

impl fmt::Display for MediaDescription {
    /// The section, every line ending in CRLF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m={} {}", self.kind.as_str(), self.port)?;
        if let Some(n) = self.port_count {
            write!(f, "/{n}")?;
        }
        write!(f, " {}", self.protocol)?;
        for fmt_ in &self.formats {
            write!(f, " {fmt_}")?;
        }
        f.write_str("\r\n")?;
        if let Some(t) = &self.title {
            write!(f, "i={t}\r\n")?;
        }
        for c in &self.connections {
            write!(f, "c={c}\r\n")?;
        }
        for b in &self.bandwidths {
            write!(f, "b={b}\r\n")?;
        }
        if let Some(k) = &self.key {
            write!(f, "k={k}\r\n")?;
        }
        for a in &self.attributes {
            write!(f, "a={a}\r\n")?;
        }
        Ok(())
    }
}
