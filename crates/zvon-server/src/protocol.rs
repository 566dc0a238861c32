//! The wire format of docs/signaling.md: what clients send, what the server sends, and the
//! conventional `signal.data` payloads (the W3C `RTCSessionDescriptionInit` and
//! `RTCIceCandidateInit` dictionaries).

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use zvon::{CandidateInit, Description, PeerEvent, SdpType};

/// Longest room name, in characters.
pub const MAX_ROOM_LEN: usize = 64;
/// Longest peer name, in characters.
pub const MAX_NAME_LEN: usize = 64;

/// The `code` of an `error` message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// Not JSON, not an object, unknown `type`, a field missing or of the wrong type, a binary
    /// frame. The message is dropped.
    Malformed,
    /// A frame over the size limit. The message is dropped.
    TooLarge,
    /// `join` with a missing or wrong token. The socket closes.
    Unauthorized,
    /// Anything but `join` before `join` was accepted. The message is dropped.
    NotJoined,
    /// A second `join`. The message is dropped.
    AlreadyJoined,
    /// The room has the maximum number of peers. The socket closes.
    RoomFull,
    /// The server holds the maximum number of rooms. The socket closes.
    TooManyRooms,
    /// `signal.to` is not in the room. The message is dropped.
    UnknownPeer,
    /// More messages per second than allowed. The message is dropped.
    RateLimited,
    /// A code this version does not know (from a newer server).
    Other(String),
}

impl ErrorCode {
    /// The code as it appears on the wire (`"room-full"`, ...).
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::Malformed => "malformed",
            ErrorCode::TooLarge => "too-large",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::NotJoined => "not-joined",
            ErrorCode::AlreadyJoined => "already-joined",
            ErrorCode::RoomFull => "room-full",
            ErrorCode::TooManyRooms => "too-many-rooms",
            ErrorCode::UnknownPeer => "unknown-peer",
            ErrorCode::RateLimited => "rate-limited",
            ErrorCode::Other(s) => s,
        }
    }

    /// Parses a wire code; unknown codes become [`ErrorCode::Other`].
    pub fn parse(s: &str) -> Self {
        match s {
            "malformed" => ErrorCode::Malformed,
            "too-large" => ErrorCode::TooLarge,
            "unauthorized" => ErrorCode::Unauthorized,
            "not-joined" => ErrorCode::NotJoined,
            "already-joined" => ErrorCode::AlreadyJoined,
            "room-full" => ErrorCode::RoomFull,
            "too-many-rooms" => ErrorCode::TooManyRooms,
            "unknown-peer" => ErrorCode::UnknownPeer,
            "rate-limited" => ErrorCode::RateLimited,
            other => ErrorCode::Other(other.to_owned()),
        }
    }

    /// Whether the server closes the socket after sending this error.
    pub fn closes(&self) -> bool {
        matches!(
            self,
            ErrorCode::Unauthorized | ErrorCode::RoomFull | ErrorCode::TooManyRooms
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal: the code and a human-readable message, as sent in an `error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Refusal {
    /// The code.
    pub code: ErrorCode,
    /// Why, for people.
    pub message: Cow<'static, str>,
}

impl Refusal {
    pub(crate) fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    fn malformed(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Malformed, message)
    }
}

/// A message from a client, parsed and checked; borrows the frame's text.
#[derive(Debug)]
pub enum ClientMessage<'a> {
    /// `join`.
    Join {
        /// The room (checked: 1-64 of `A-Z a-z 0-9 _ -`).
        room: Cow<'a, str>,
        /// The token, if given.
        token: Option<Cow<'a, str>>,
        /// The display name, if given (at most 64 characters).
        name: Option<Cow<'a, str>>,
    },
    /// `signal`.
    Signal {
        /// The addressee.
        to: Cow<'a, str>,
        /// The payload, exactly as the sender wrote it (a JSON object).
        data: &'a RawValue,
    },
    /// `leave`.
    Leave,
}

impl PartialEq for ClientMessage<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                ClientMessage::Join { room, token, name },
                ClientMessage::Join {
                    room: r,
                    token: t,
                    name: n,
                },
            ) => (room, token, name) == (r, t, n),
            (ClientMessage::Signal { to, data }, ClientMessage::Signal { to: t, data: d }) => {
                to == t && data.get() == d.get()
            }
            (ClientMessage::Leave, ClientMessage::Leave) => true,
            _ => false,
        }
    }
}

/// Every field any client message may carry; which are required depends on `type`. Unknown
/// fields are ignored, so that clients may add their own.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    room: Option<Cow<'a, str>>,
    #[serde(borrow)]
    token: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    to: Option<Cow<'a, str>>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

/// Whether `room` is a valid room name: 1-64 characters of `A-Z a-z 0-9 _ -`.
pub fn valid_room(room: &str) -> bool {
    !room.is_empty()
        && room.len() <= MAX_ROOM_LEN
        && room
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Parses one text frame from a client. Never panics; every refusal is `malformed`.
///
/// ```
/// use zvon_server::protocol::{ClientMessage, parse_client};
/// let m = parse_client(r#"{"type":"signal","to":"p1","data":{"candidate":null}}"#).unwrap();
/// let ClientMessage::Signal { to, data } = m else { unreachable!() };
/// assert_eq!((&*to, data.get()), ("p1", r#"{"candidate":null}"#));
/// assert!(parse_client("[1]").is_err());
/// ```
pub fn parse_client(text: &str) -> Result<ClientMessage<'_>, Refusal> {
    let env: Envelope<'_> = serde_json::from_str(text).map_err(|e| {
        Refusal::malformed(if e.is_data() {
            format!("not a valid message: {e}")
        } else {
            format!("not a JSON object: {e}")
        })
    })?;
    let Some(kind) = env.kind else {
        return Err(Refusal::malformed("no \"type\""));
    };
    match &*kind {
        "join" => {
            let Some(room) = env.room else {
                return Err(Refusal::malformed("join: no \"room\""));
            };
            if !valid_room(&room) {
                return Err(Refusal::malformed(
                    "join: \"room\" must be 1-64 characters of A-Z a-z 0-9 _ -",
                ));
            }
            if env
                .name
                .as_ref()
                .is_some_and(|n| n.chars().count() > MAX_NAME_LEN)
            {
                return Err(Refusal::malformed("join: \"name\" is over 64 characters"));
            }
            Ok(ClientMessage::Join {
                room,
                token: env.token,
                name: env.name,
            })
        }
        "signal" => {
            let Some(to) = env.to else {
                return Err(Refusal::malformed("signal: no \"to\""));
            };
            let Some(data) = env.data else {
                return Err(Refusal::malformed("signal: no \"data\""));
            };
            // RawValue holds the value's text without the whitespace around it.
            if !data.get().starts_with('{') {
                return Err(Refusal::malformed("signal: \"data\" must be an object"));
            }
            Ok(ClientMessage::Signal { to, data })
        }
        "leave" => Ok(ClientMessage::Leave),
        _ => Err(Refusal::malformed("unknown \"type\"")),
    }
}

/// A peer of a room as `welcome` and `peer-joined` describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// The peer's id.
    pub id: String,
    /// Its display name (empty when it gave none).
    #[serde(default)]
    pub name: String,
}

/// `welcome`: the join was accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    /// This peer's id.
    pub id: String,
    /// The room.
    pub room: String,
    /// The peers already in the room, in join order.
    pub peers: Vec<PeerInfo>,
}

/// Server-to-client messages, as the server writes them. `data` is written as it came.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub(crate) enum Outgoing<'a> {
    Welcome {
        id: &'a str,
        room: &'a str,
        peers: &'a [PeerInfo],
    },
    PeerJoined {
        id: &'a str,
        name: &'a str,
    },
    PeerLeft {
        id: &'a str,
    },
    Signal {
        from: &'a str,
        data: &'a RawValue,
    },
    Error {
        code: &'a str,
        message: &'a str,
    },
    Bye {
        reason: &'a str,
    },
}

impl Outgoing<'_> {
    pub(crate) fn to_json(&self) -> String {
        // ok: these structs are strings, slices of them and RawValue: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A message from the server, as a client sees it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ServerMessage {
    /// `welcome`.
    Welcome(Welcome),
    /// `peer-joined`.
    PeerJoined(PeerInfo),
    /// `peer-left`.
    PeerLeft {
        /// Who left.
        id: String,
    },
    /// `signal`: relayed from `from`.
    Signal {
        /// The sender.
        from: String,
        /// The payload.
        data: SignalData,
    },
    /// `error`.
    Error {
        /// What was refused.
        code: ErrorCode,
        /// Why, for people.
        message: String,
    },
    /// `bye`: the server is closing this socket (`shutdown`, `idle`).
    Bye {
        /// Why.
        reason: String,
    },
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum Incoming {
    Welcome(Welcome),
    PeerJoined(PeerInfo),
    PeerLeft { id: String },
    Signal { from: String, data: Value },
    Error { code: String, message: String },
    Bye { reason: String },
}

impl ServerMessage {
    /// Parses a text frame from the server; `None` for what is not a message of this version.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match serde_json::from_str::<Incoming>(text).ok()? {
            Incoming::Welcome(w) => ServerMessage::Welcome(w),
            Incoming::PeerJoined(p) => ServerMessage::PeerJoined(p),
            Incoming::PeerLeft { id } => ServerMessage::PeerLeft { id },
            Incoming::Signal { from, data } => ServerMessage::Signal {
                from,
                data: SignalData::from_value(data),
            },
            Incoming::Error { code, message } => ServerMessage::Error {
                code: ErrorCode::parse(&code),
                message,
            },
            Incoming::Bye { reason } => ServerMessage::Bye { reason },
        })
    }
}

/// The conventional payloads of `signal.data`: the W3C dictionaries a browser sends.
///
/// ```
/// use zvon_server::SignalData;
/// let offer = zvon::Description::offer("v=0\r\n");
/// let json = SignalData::from(offer.clone()).to_json();
/// assert_eq!(json, r#"{"description":{"type":"offer","sdp":"v=0\r\n"}}"#);
/// assert_eq!(SignalData::from_json(&json), Some(SignalData::Description(offer)));
/// assert_eq!(SignalData::EndOfCandidates.to_json(), r#"{"candidate":null}"#);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SignalData {
    /// `{"description": RTCSessionDescriptionInit}`.
    Description(Description),
    /// `{"candidate": RTCIceCandidateInit}`. An empty `candidate` string is how some browsers
    /// say end-of-candidates; zvon's `add_ice_candidate` takes it as such.
    Candidate(CandidateInit),
    /// `{"candidate": null}`: the sender's gathering is complete.
    EndOfCandidates,
    /// Any other object (kept whole).
    Other(Value),
}

impl SignalData {
    /// What to send for a peer-connection event: a candidate or the end of them.
    pub fn from_event(ev: &PeerEvent) -> Option<Self> {
        match ev {
            PeerEvent::IceCandidate(c) => Some(SignalData::Candidate(c.clone())),
            PeerEvent::IceGatheringComplete => Some(SignalData::EndOfCandidates),
            _ => None,
        }
    }

    /// The candidate to hand to `add_ice_candidate` (end-of-candidates as an empty one).
    pub fn candidate(&self) -> Option<CandidateInit> {
        match self {
            SignalData::Candidate(c) => Some(c.clone()),
            SignalData::EndOfCandidates => Some(CandidateInit::default()),
            _ => None,
        }
    }

    /// The JSON value.
    pub fn to_value(&self) -> Value {
        match self {
            SignalData::Other(v) => v.clone(),
            // ok: plain strings and numbers, serialization cannot fail.
            typed => serde_json::to_value(typed).unwrap_or_default(),
        }
    }

    /// The JSON text.
    pub fn to_json(&self) -> String {
        // ok: see to_value.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses JSON text; `None` if it is not a JSON object.
    pub fn from_json(text: &str) -> Option<Self> {
        match serde_json::from_str::<Value>(text).ok()? {
            v @ Value::Object(_) => Some(Self::from_value(v)),
            _ => None,
        }
    }

    /// Classifies a JSON value: a well-formed description or candidate (alone in its object)
    /// becomes typed, anything else [`SignalData::Other`].
    pub fn from_value(v: Value) -> Self {
        Self::typed(&v).unwrap_or(SignalData::Other(v))
    }

    fn typed(v: &Value) -> Option<Self> {
        let obj = v.as_object()?;
        if obj.len() != 1 {
            return None;
        }
        if let Some(d) = obj.get("description") {
            let d = d.as_object()?;
            let kind = SdpType::parse(d.get("type")?.as_str()?)?;
            let sdp = match d.get("sdp") {
                None | Some(Value::Null) => String::new(),
                Some(s) => s.as_str()?.to_owned(),
            };
            return Some(SignalData::Description(Description { kind, sdp }));
        }
        match obj.get("candidate")? {
            Value::Null => Some(SignalData::EndOfCandidates),
            Value::Object(c) => {
                let opt_str = |k: &str| -> Option<Option<String>> {
                    match c.get(k) {
                        None | Some(Value::Null) => Some(None),
                        Some(Value::String(s)) => Some(Some(s.clone())),
                        Some(_) => None,
                    }
                };
                let index = match c.get("sdpMLineIndex") {
                    None | Some(Value::Null) => None,
                    Some(i) => Some(u16::try_from(i.as_u64()?).ok()?),
                };
                Some(SignalData::Candidate(CandidateInit {
                    candidate: c.get("candidate")?.as_str()?.to_owned(),
                    sdp_mid: opt_str("sdpMid")?,
                    sdp_m_line_index: index,
                    username_fragment: opt_str("usernameFragment")?,
                }))
            }
            _ => None,
        }
    }
}

impl From<Description> for SignalData {
    fn from(d: Description) -> Self {
        SignalData::Description(d)
    }
}

impl From<CandidateInit> for SignalData {
    fn from(c: CandidateInit) -> Self {
        SignalData::Candidate(c)
    }
}

/// The typed payloads as a browser writes them, keys in the W3C dictionaries' order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
enum Typed<'a> {
    Description {
        #[serde(rename = "type")]
        kind: &'a str,
        sdp: &'a str,
    },
    Candidate(Option<CandidateOut<'a>>),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CandidateOut<'a> {
    candidate: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sdp_mid: Option<&'a str>,
    #[serde(rename = "sdpMLineIndex", skip_serializing_if = "Option::is_none")]
    sdp_m_line_index: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username_fragment: Option<&'a str>,
}

impl Serialize for SignalData {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SignalData::Description(d) => Typed::Description {
                kind: d.kind.as_str(),
                sdp: &d.sdp,
            }
            .serialize(s),
            SignalData::Candidate(c) => Typed::Candidate(Some(CandidateOut {
                candidate: &c.candidate,
                sdp_mid: c.sdp_mid.as_deref(),
                sdp_m_line_index: c.sdp_m_line_index,
                username_fragment: c.username_fragment.as_deref(),
            }))
            .serialize(s),
            SignalData::EndOfCandidates => Typed::Candidate(None).serialize(s),
            SignalData::Other(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for SignalData {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::from_value(Value::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> ErrorCode {
        parse_client(text).unwrap_err().code
    }

    #[test]
    fn client_messages() {
        assert_eq!(
            parse_client(r#"{"type":"join","room":"a-B_9","name":"Ann","extra":1}"#).unwrap(),
            ClientMessage::Join {
                room: "a-B_9".into(),
                token: None,
                name: Some("Ann".into())
            }
        );
        let m = parse_client(r#"{"type":"join","room":"r","token":"t\"q"}"#).unwrap();
        assert!(matches!(m, ClientMessage::Join { token: Some(t), .. } if t == "t\"q"));
        assert_eq!(
            parse_client(r#"{"type":"leave"}"#).unwrap(),
            ClientMessage::Leave
        );
        let raw = r#"{ "description" : {"type":"offer", "sdp":"v=0\r\n\u00e9"} }"#;
        let text = format!(r#"{{"type":"signal","to":"p7","data": {raw} }}"#);
        let ClientMessage::Signal { to, data } = parse_client(&text).unwrap() else {
            panic!("not a signal")
        };
        assert_eq!(to, "p7");
        assert_eq!(data.get(), raw, "the payload's text is kept byte for byte");
    }

    #[test]
    fn refusals() {
        for bad in [
            "",
            "nope",
            "[]",
            "1",
            "null",
            r#"{"room":"r"}"#,
            r#"{"type":5}"#,
            r#"{"type":"dance"}"#,
            r#"{"type":"join"}"#,
            r#"{"type":"join","room":""}"#,
            r#"{"type":"join","room":"a b"}"#,
            r#"{"type":"join","room":"é"}"#,
            r#"{"type":"join","room":7}"#,
            r#"{"type":"join","room":"r","token":1}"#,
            r#"{"type":"signal","data":{}}"#,
            r#"{"type":"signal","to":"p1"}"#,
            r#"{"type":"signal","to":"p1","data":null}"#,
            r#"{"type":"signal","to":"p1","data":[1]}"#,
            r#"{"type":"signal","to":"p1","data":"x"}"#,
            r#"{"type":"signal","to":1,"data":{}}"#,
            r#"{"type":"leave","type":"leave"}"#,
        ] {
            assert_eq!(code(bad), ErrorCode::Malformed, "{bad}");
        }
        let long_room = format!(r#"{{"type":"join","room":"{}"}}"#, "r".repeat(65));
        assert_eq!(code(&long_room), ErrorCode::Malformed);
        let ok_room = format!(r#"{{"type":"join","room":"{}"}}"#, "r".repeat(64));
        assert!(parse_client(&ok_room).is_ok());
        let long_name = format!(
            r#"{{"type":"join","room":"r","name":"{}"}}"#,
            "é".repeat(65)
        );
        assert_eq!(code(&long_name), ErrorCode::Malformed);
        let ok_name = format!(
            r#"{{"type":"join","room":"r","name":"{}"}}"#,
            "é".repeat(64)
        );
        assert!(parse_client(&ok_name).is_ok());
    }

    #[test]
    fn signal_data_is_the_w3c_shape() {
        // What `JSON.stringify({candidate: e.candidate})` gives in a browser.
        let browser = r#"{"candidate":{"candidate":"candidate:1 1 udp 2122260223 192.0.2.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"abcd"}}"#;
        let SignalData::Candidate(c) = SignalData::from_json(browser).unwrap() else {
            panic!("not a candidate")
        };
        assert_eq!(c.sdp_mid.as_deref(), Some("0"));
        assert_eq!(c.sdp_m_line_index, Some(0));
        assert_eq!(c.username_fragment.as_deref(), Some("abcd"));
        assert_eq!(SignalData::Candidate(c).to_json(), browser);
        let nulls = r#"{"candidate":{"candidate":"","sdpMid":null,"sdpMLineIndex":null}}"#;
        assert_eq!(
            SignalData::from_json(nulls),
            Some(SignalData::Candidate(CandidateInit::default()))
        );
        assert_eq!(
            SignalData::from_json(r#"{"candidate":null}"#),
            Some(SignalData::EndOfCandidates)
        );
        for kind in [
            SdpType::Offer,
            SdpType::Answer,
            SdpType::Pranswer,
            SdpType::Rollback,
        ] {
            let d = SignalData::Description(Description {
                kind,
                sdp: "v=0\r\n".into(),
            });
            assert_eq!(SignalData::from_json(&d.to_json()), Some(d));
        }
        assert_eq!(
            SignalData::from_json(r#"{"description":{"type":"rollback"}}"#),
            Some(SignalData::Description(Description::rollback()))
        );
        for other in [
            r#"{"bye":true}"#,
            r#"{"description":{"type":"merge","sdp":""}}"#,
            r#"{"candidate":{"candidate":"x","sdpMLineIndex":70000}}"#,
            r#"{"candidate":null,"extra":1}"#,
            r#"{"candidate":5}"#,
        ] {
            let v: Value = serde_json::from_str(other).unwrap();
            assert_eq!(
                SignalData::from_json(other),
                Some(SignalData::Other(v.clone()))
            );
            assert_eq!(SignalData::Other(v.clone()).to_value(), v);
        }
        assert_eq!(SignalData::from_json("[1]"), None);
    }

    #[test]
    fn server_messages() {
        let w = ServerMessage::parse(
            &Outgoing::Welcome {
                id: "p2",
                room: "r",
                peers: &[PeerInfo {
                    id: "p1".into(),
                    name: "Ann".into(),
                }],
            }
            .to_json(),
        );
        assert_eq!(
            w,
            Some(ServerMessage::Welcome(Welcome {
                id: "p2".into(),
                room: "r".into(),
                peers: vec![PeerInfo {
                    id: "p1".into(),
                    name: "Ann".into()
                }],
            }))
        );
        let e = Outgoing::Error {
            code: "room-full",
            message: "m",
        }
        .to_json();
        assert_eq!(e, r#"{"type":"error","code":"room-full","message":"m"}"#);
        assert_eq!(
            ServerMessage::parse(&e),
            Some(ServerMessage::Error {
                code: ErrorCode::RoomFull,
                message: "m".into()
            })
        );
        let raw = RawValue::from_string(r#"{"candidate":null}"#.into()).unwrap();
        let s = Outgoing::Signal {
            from: "p1",
            data: &raw,
        }
        .to_json();
        assert_eq!(
            s,
            r#"{"type":"signal","from":"p1","data":{"candidate":null}}"#
        );
        assert_eq!(ServerMessage::parse(r#"{"type":"later"}"#), None);
        for c in [
            "malformed",
            "too-large",
            "unauthorized",
            "not-joined",
            "already-joined",
            "room-full",
            "too-many-rooms",
            "unknown-peer",
            "rate-limited",
            "future-code",
        ] {
            assert_eq!(ErrorCode::parse(c).as_str(), c);
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_client_never_panics(s in "\\PC*") {
            let _ = parse_client(&s);
        }

        #[test]
        fn parse_client_json_like_never_panics(
            kind in proptest::sample::select(vec!["join", "signal", "leave", "x"]),
            room in "[a-zA-Z0-9_ é-]{0,70}",
            to in "\\PC{0,8}",
            data in proptest::sample::select(vec!["{}", "[]", "null", "{\"a\":[1,{\"b\":2}]}", "1e999", "\"s\""]),
        ) {
            let text = format!(
                r#"{{"type":"{kind}","room":{},"to":{},"data":{data}}}"#,
                serde_json::to_string(&room).unwrap(),
                serde_json::to_string(&to).unwrap(),
            );
            match parse_client(&text) {
                Ok(ClientMessage::Join { room: r, .. }) => proptest::prop_assert!(valid_room(&r)),
                Ok(ClientMessage::Signal { data: d, .. }) => proptest::prop_assert_eq!(d.get(), data),
                Ok(ClientMessage::Leave) => proptest::prop_assert_eq!(kind, "leave"),
                Err(r) => proptest::prop_assert_eq!(r.code, ErrorCode::Malformed),
            }
        }

        #[test]
        fn signal_data_round_trips(
            cand in "\\PC{0,40}",
            mid in proptest::option::of("\\PC{0,4}"),
            idx in proptest::option::of(0u16..),
            ufrag in proptest::option::of("\\PC{0,8}"),
            sdp in "\\PC{0,40}",
        ) {
            let c = SignalData::Candidate(CandidateInit {
                candidate: cand,
                sdp_mid: mid,
                sdp_m_line_index: idx,
                username_fragment: ufrag,
            });
            proptest::prop_assert_eq!(SignalData::from_json(&c.to_json()), Some(c));
            let d = SignalData::Description(Description::answer(sdp));
            proptest::prop_assert_eq!(SignalData::from_json(&d.to_json()), Some(d));
        }
    }
}
