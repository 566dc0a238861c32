//! # zvon-sdp
//!
//! Session descriptions (RFC 8866) with the attributes WebRTC uses (JSEP RFC 8829, BUNDLE RFC
//! 8843, simulcast RFC 8853 and rid RFC 8851, SCTP RFC 8841, ssrc RFC 5576, extmap RFC 8285,
//! fingerprint RFC 8122, setup RFC 4145, ICE and candidates RFC 8839, rtcp-mux, rtcp-fb, fmtp,
//! msid): parsed into typed structures and written back, unknown attributes kept in place.
//!
//! - [`SessionDescription`]: the whole description; `parse` / `to_string`.
//! - [`MediaDescription`]: one `m=` section; [`MediaDescription::codecs`] assembles
//!   [`Codec`]s from rtpmap, fmtp and rtcp-fb.
//! - [`Attributes`]: an ordered `Vec<`[`Attribute`]`>` with typed getters (`mid()`,
//!   `ice_ufrag()`, `fingerprints()`, `candidates()`, `rids()`, `simulcast()`, ...).
//! - [`Candidate`]: an ICE candidate, also parsed from and written to the trickle form
//!   `candidate:...` of `RTCIceCandidateInit`.
//!
//! ## Round trip
//!
//! For every input `x` that parses, `parse(parse(x).to_string()) == parse(x)`: the typed values
//! are equal, and every unknown attribute is back in its place. The writer uses CRLF and
//! single spaces; Chromium's output comes back byte for byte. The parser tolerates LF line
//! ends, trailing spaces, blank lines and runs of spaces between fields; it is strict about the
//! values WebRTC depends on (ICE credentials, candidates, fingerprints, payload types, ...),
//! reporting a [`ParseError`] with the line number.
//!
//! ## Limits
//!
//! Parsing is linear in the input, and [`ParseLimits`] (default 1 MiB, 20 000 lines) bounds what
//! hostile input can cost. The model owns `String`s: descriptions are signaling, not per-packet
//! data.
//!
//! ```
//! use zvon_sdp::{Attribute, Candidate, SessionDescription};
//! let offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
//!     m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:pyd/\r\n\
//!     a=ice-pwd:7nPSVPx9/Qd2hKLC6ezGDIIp\r\na=rtpmap:111 opus/48000/2\r\n\
//!     a=fmtp:111 minptime=10;useinbandfec=1\r\n";
//! let mut desc: SessionDescription = offer.parse().unwrap();
//! let audio = &desc.media[0];
//! assert_eq!(desc.ice_credentials_of(audio), Some(("pyd/", "7nPSVPx9/Qd2hKLC6ezGDIIp")));
//! assert_eq!(audio.codecs()[0].encoding, "opus");
//!
//! // A trickled candidate, as RTCIceCandidateInit carries it.
//! let c: Candidate = "candidate:1 1 udp 2122194687 192.0.2.2 50000 typ host".parse().unwrap();
//! desc.media[0].attributes.push(Attribute::Candidate(c));
//! assert!(desc.to_string().contains("a=candidate:1 1 udp 2122194687 192.0.2.2 50000 typ host\r\n"));
//! ```
#![forbid(unsafe_code)]

mod attribute;
mod attrs;
mod candidate;
mod error;
mod media;
mod session;

pub use attribute::{
    Attribute, Direction, Extmap, Fingerprint, Fmtp, Group, HashFunction, Msid, MsidSemantic, Rid,
    RidDirection, Rtcp, RtcpFb, Rtpmap, SctpMap, Setup, Simulcast, SimulcastRid, Ssrc, SsrcGroup,
};
pub use attrs::Attributes;
pub use candidate::{Candidate, CandidateAddress, CandidateType, TcpType, Transport};
pub use error::{ErrorKind, ParseError};
pub use media::{
    Codec, FORMAT_DATACHANNEL, MAX_FEEDBACK_PER_CODEC, MediaDescription, MediaKind, PROTO_RTP,
    PROTO_SCTP,
};
pub use session::{
    Bandwidth, BandwidthType, Connection, Origin, ParseLimits, SessionDescription, Timing,
};
