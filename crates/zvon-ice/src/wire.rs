//! The seam between ICE/TURN logic and the STUN codec of `zvon-stun`: what the agent and the
//! TURN client read from and write into STUN messages, in their own terms. No STUN parsing or
//! encoding lives here, only calls into `zvon-stun`.

use std::net::SocketAddr;

use zvon_stun::{
    self as stun, Attribute, ChannelData, ChannelNumber, Encoder, ErrorCode, IntegrityKey, Message,
    MessageType, TransactionId,
};

/// A STUN transaction id.
pub(crate) type TxId = [u8; 12];

/// STUN message class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Request,
    Indication,
    Success,
    Error,
}

/// The STUN methods ICE and TURN use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Binding,
    Allocate,
    Refresh,
    Send,
    Data,
    CreatePermission,
    ChannelBind,
    Other,
}

/// The ICE role a check claims, with its tie-breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RoleAttr {
    Controlling(u64),
    Controlled(u64),
}

/// What ICE and TURN read from one STUN message, after the FINGERPRINT (when present) checked.
/// Attributes after MESSAGE-INTEGRITY are ignored (RFC 8489 section 14.5), so that nothing an
/// attacker appends can be mistaken for authenticated.
#[derive(Debug, Clone)]
pub(crate) struct Parsed<'a> {
    msg: Message<'a>,
    pub class: Option<Class>,
    pub method: Option<Method>,
    pub txid: TxId,
    pub username: Option<&'a str>,
    pub priority: Option<u32>,
    pub role: Option<RoleAttr>,
    pub use_candidate: bool,
    pub xor_mapped: Option<SocketAddr>,
    pub xor_relayed: Option<SocketAddr>,
    pub xor_peer: Option<SocketAddr>,
    pub data: Option<&'a [u8]>,
    pub error_code: Option<u16>,
    pub realm: Option<&'a str>,
    pub nonce: Option<&'a [u8]>,
    pub lifetime: Option<u32>,
    pub has_integrity: bool,
}

/// Parses a STUN message for ICE/TURN; `None` when it does not parse or its FINGERPRINT is
/// wrong.
pub(crate) fn parse(data: &[u8]) -> Option<Parsed<'_>> {
    let msg = Message::parse(data).ok()?;
    if msg.has_fingerprint() && msg.verify_fingerprint().is_err() {
        return None;
    }
    let class = Some(match msg.class() {
        stun::Class::Request => Class::Request,
        stun::Class::Indication => Class::Indication,
        stun::Class::Success => Class::Success,
        stun::Class::Error => Class::Error,
    });
    let m = msg.method();
    let method = Some(if m == stun::Method::BINDING {
        Method::Binding
    } else if m == stun::Method::ALLOCATE {
        Method::Allocate
    } else if m == stun::Method::REFRESH {
        Method::Refresh
    } else if m == stun::Method::SEND {
        Method::Send
    } else if m == stun::Method::DATA {
        Method::Data
    } else if m == stun::Method::CREATE_PERMISSION {
        Method::CreatePermission
    } else if m == stun::Method::CHANNEL_BIND {
        Method::ChannelBind
    } else {
        Method::Other
    });
    let mut p = Parsed {
        msg,
        class,
        method,
        txid: *msg.transaction_id().as_bytes(),
        username: None,
        priority: None,
        role: None,
        use_candidate: false,
        xor_mapped: None,
        xor_relayed: None,
        xor_peer: None,
        data: None,
        error_code: None,
        realm: None,
        nonce: None,
        lifetime: None,
        has_integrity: msg.has_integrity(),
    };
    for a in msg.attributes() {
        match a {
            Attribute::MessageIntegrity(_) | Attribute::MessageIntegritySha256(_) => break,
            Attribute::Username(u) => p.username = Some(u),
            Attribute::Priority(v) => p.priority = Some(v),
            Attribute::UseCandidate => p.use_candidate = true,
            Attribute::IceControlling(t) => p.role = Some(RoleAttr::Controlling(t)),
            Attribute::IceControlled(t) => p.role = Some(RoleAttr::Controlled(t)),
            Attribute::XorMappedAddress(a) => p.xor_mapped = Some(a),
            Attribute::XorRelayedAddress(a) => p.xor_relayed = Some(a),
            Attribute::XorPeerAddress(a) => p.xor_peer = Some(a),
            Attribute::Data(d) => p.data = Some(d),
            Attribute::ErrorCode(e) => p.error_code = Some(e.code),
            Attribute::Realm(r) => p.realm = Some(r),
            Attribute::Nonce(n) => p.nonce = Some(n),
            Attribute::Lifetime(l) => p.lifetime = Some(l),
            _ => {}
        }
    }
    Some(p)
}

impl Parsed<'_> {
    /// Checks MESSAGE-INTEGRITY with a short-term password (ICE).
    pub(crate) fn verify_short_term(&self, pwd: &str) -> bool {
        self.msg
            .verify_integrity(&IntegrityKey::short_term(pwd))
            .is_ok()
    }

    /// Checks MESSAGE-INTEGRITY with a long-term key (TURN).
    pub(crate) fn verify_long_term(&self, key: &LongTermKey) -> bool {
        self.msg.verify_integrity(&key.0).is_ok()
    }
}

/// The long-term credential key, MD5(username ":" realm ":" password) (RFC 8489 9.2.2).
#[derive(Debug, Clone)]
pub(crate) struct LongTermKey(IntegrityKey);

pub(crate) fn long_term_key(username: &str, realm: &str, password: &str) -> LongTermKey {
    LongTermKey(IntegrityKey::long_term(username, realm, password))
}

/// Long-term authentication attributes for a TURN request.
pub(crate) struct LongTermAuth<'a> {
    pub username: &'a str,
    pub realm: &'a str,
    pub nonce: &'a [u8],
    pub key: &'a LongTermKey,
}

/// An ICE connectivity check (RFC 8445 section 7.2.2).
pub(crate) struct Check<'a> {
    /// `remote_ufrag:local_ufrag`, already joined.
    pub username: &'a str,
    /// The peer's password.
    pub pwd: &'a str,
    pub priority: u32,
    pub role: RoleAttr,
    pub use_candidate: bool,
}

fn tid(txid: &TxId) -> TransactionId {
    TransactionId::new(*txid)
}

pub(crate) fn encode_check(buf: &mut Vec<u8>, txid: &TxId, c: &Check<'_>) {
    let mut e = Encoder::new(buf, MessageType::request(stun::Method::BINDING), tid(txid));
    e.add(&Attribute::Username(c.username))
        .add(&Attribute::Priority(c.priority));
    e.add(&match c.role {
        RoleAttr::Controlling(t) => Attribute::IceControlling(t),
        RoleAttr::Controlled(t) => Attribute::IceControlled(t),
    });
    if c.use_candidate {
        e.add(&Attribute::UseCandidate);
    }
    e.finish_with_integrity(&IntegrityKey::short_term(c.pwd));
}

pub(crate) fn encode_binding_success(
    buf: &mut Vec<u8>,
    txid: &TxId,
    mapped: SocketAddr,
    pwd: &str,
) {
    let mut e = Encoder::new(buf, MessageType::success(stun::Method::BINDING), tid(txid));
    e.add(&Attribute::XorMappedAddress(mapped));
    e.finish_with_integrity(&IntegrityKey::short_term(pwd));
}

pub(crate) fn encode_binding_error(buf: &mut Vec<u8>, txid: &TxId, code: u16, pwd: Option<&str>) {
    let reason = match code {
        400 => "Bad Request",
        401 => "Unauthenticated",
        487 => "Role Conflict",
        _ => "Error",
    };
    let mut e = Encoder::new(buf, MessageType::error(stun::Method::BINDING), tid(txid));
    e.add(&Attribute::ErrorCode(ErrorCode { code, reason }));
    match pwd {
        Some(p) => {
            e.finish_with_integrity(&IntegrityKey::short_term(p));
        }
        None => {
            e.finish_with_fingerprint();
        }
    }
}

/// A Binding indication: ICE keepalive (RFC 8445 section 11).
pub(crate) fn encode_binding_indication(buf: &mut Vec<u8>, txid: &TxId) {
    Encoder::new(
        buf,
        MessageType::indication(stun::Method::BINDING),
        tid(txid),
    )
    .finish_with_fingerprint();
}

/// A plain Binding request to a STUN server (server-reflexive gathering).
pub(crate) fn encode_binding_request(buf: &mut Vec<u8>, txid: &TxId) {
    Encoder::new(buf, MessageType::request(stun::Method::BINDING), tid(txid))
        .finish_with_fingerprint();
}

fn finish_turn(mut e: Encoder<'_>, auth: Option<&LongTermAuth<'_>>) {
    match auth {
        Some(a) => {
            e.add(&Attribute::Username(a.username))
                .add(&Attribute::Realm(a.realm))
                .add(&Attribute::Nonce(a.nonce));
            e.finish_with_integrity(&a.key.0);
        }
        None => {
            e.finish_with_fingerprint();
        }
    }
}

/// RFC 8656 section 7.1: REQUESTED-TRANSPORT is UDP (17), the only relayed transport here.
const UDP: u8 = 17;

pub(crate) fn encode_allocate(
    buf: &mut Vec<u8>,
    txid: &TxId,
    auth: Option<&LongTermAuth<'_>>,
    lifetime: Option<u32>,
) {
    let mut e = Encoder::new(buf, MessageType::request(stun::Method::ALLOCATE), tid(txid));
    e.add(&Attribute::RequestedTransport(UDP));
    if let Some(l) = lifetime {
        e.add(&Attribute::Lifetime(l));
    }
    finish_turn(e, auth);
}

pub(crate) fn encode_refresh(
    buf: &mut Vec<u8>,
    txid: &TxId,
    auth: Option<&LongTermAuth<'_>>,
    lifetime: u32,
) {
    let mut e = Encoder::new(buf, MessageType::request(stun::Method::REFRESH), tid(txid));
    e.add(&Attribute::Lifetime(lifetime));
    finish_turn(e, auth);
}

pub(crate) fn encode_create_permission(
    buf: &mut Vec<u8>,
    txid: &TxId,
    auth: Option<&LongTermAuth<'_>>,
    peer: SocketAddr,
) {
    let mut e = Encoder::new(
        buf,
        MessageType::request(stun::Method::CREATE_PERMISSION),
        tid(txid),
    );
    e.add(&Attribute::XorPeerAddress(peer));
    finish_turn(e, auth);
}

pub(crate) fn encode_channel_bind(
    buf: &mut Vec<u8>,
    txid: &TxId,
    auth: Option<&LongTermAuth<'_>>,
    channel: u16,
    peer: SocketAddr,
) {
    let mut e = Encoder::new(
        buf,
        MessageType::request(stun::Method::CHANNEL_BIND),
        tid(txid),
    );
    e.add(&Attribute::ChannelNumber(channel))
        .add(&Attribute::XorPeerAddress(peer));
    finish_turn(e, auth);
}

pub(crate) fn encode_send_indication(
    buf: &mut Vec<u8>,
    txid: &TxId,
    peer: SocketAddr,
    data: &[u8],
) {
    let mut e = Encoder::new(buf, MessageType::indication(stun::Method::SEND), tid(txid));
    e.add(&Attribute::XorPeerAddress(peer))
        .add(&Attribute::Data(data));
    e.finish();
}

/// Appends a ChannelData message; `pad` rounds it up to 4 bytes (required over TCP).
pub(crate) fn encode_channel_data(buf: &mut Vec<u8>, channel: u16, data: &[u8], pad: bool) {
    if let Some(ch) = ChannelNumber::new(channel) {
        ChannelData::encode(ch, data, pad, buf);
    }
}

/// Splits a ChannelData message into channel number and payload.
pub(crate) fn parse_channel_data(data: &[u8]) -> Option<(u16, &[u8])> {
    if !matches!(data.first(), Some(0x40..=0x4f)) {
        return None;
    }
    let cd = ChannelData::parse(data).ok()?;
    Some((cd.channel().value(), cd.data()))
}
