//! Attribute types and typed attribute values (RFC 8489 section 14, RFC 8445 section 16.1,
//! RFC 8656 section 18, RFC 6062 section 6.2).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::header::{MAGIC_COOKIE, TransactionId};

/// A 16-bit attribute type. Types below 0x8000 are comprehension-required: an agent that does
/// not understand one must reject the message (RFC 8489 section 14).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttrType(pub u16);

impl AttrType {
    /// MAPPED-ADDRESS (RFC 8489).
    pub const MAPPED_ADDRESS: AttrType = AttrType(0x0001);
    /// USERNAME (RFC 8489).
    pub const USERNAME: AttrType = AttrType(0x0006);
    /// MESSAGE-INTEGRITY, HMAC-SHA1 (RFC 8489).
    pub const MESSAGE_INTEGRITY: AttrType = AttrType(0x0008);
    /// ERROR-CODE (RFC 8489).
    pub const ERROR_CODE: AttrType = AttrType(0x0009);
    /// UNKNOWN-ATTRIBUTES (RFC 8489).
    pub const UNKNOWN_ATTRIBUTES: AttrType = AttrType(0x000A);
    /// CHANNEL-NUMBER (RFC 8656).
    pub const CHANNEL_NUMBER: AttrType = AttrType(0x000C);
    /// LIFETIME (RFC 8656).
    pub const LIFETIME: AttrType = AttrType(0x000D);
    /// XOR-PEER-ADDRESS (RFC 8656).
    pub const XOR_PEER_ADDRESS: AttrType = AttrType(0x0012);
    /// DATA (RFC 8656).
    pub const DATA: AttrType = AttrType(0x0013);
    /// REALM (RFC 8489).
    pub const REALM: AttrType = AttrType(0x0014);
    /// NONCE (RFC 8489).
    pub const NONCE: AttrType = AttrType(0x0015);
    /// XOR-RELAYED-ADDRESS (RFC 8656).
    pub const XOR_RELAYED_ADDRESS: AttrType = AttrType(0x0016);
    /// REQUESTED-ADDRESS-FAMILY (RFC 8656).
    pub const REQUESTED_ADDRESS_FAMILY: AttrType = AttrType(0x0017);
    /// EVEN-PORT (RFC 8656).
    pub const EVEN_PORT: AttrType = AttrType(0x0018);
    /// REQUESTED-TRANSPORT (RFC 8656).
    pub const REQUESTED_TRANSPORT: AttrType = AttrType(0x0019);
    /// DONT-FRAGMENT (RFC 8656).
    pub const DONT_FRAGMENT: AttrType = AttrType(0x001A);
    /// MESSAGE-INTEGRITY-SHA256 (RFC 8489).
    pub const MESSAGE_INTEGRITY_SHA256: AttrType = AttrType(0x001C);
    /// PASSWORD-ALGORITHM (RFC 8489).
    pub const PASSWORD_ALGORITHM: AttrType = AttrType(0x001D);
    /// USERHASH (RFC 8489).
    pub const USERHASH: AttrType = AttrType(0x001E);
    /// XOR-MAPPED-ADDRESS (RFC 8489).
    pub const XOR_MAPPED_ADDRESS: AttrType = AttrType(0x0020);
    /// RESERVATION-TOKEN (RFC 8656).
    pub const RESERVATION_TOKEN: AttrType = AttrType(0x0022);
    /// PRIORITY (RFC 8445).
    pub const PRIORITY: AttrType = AttrType(0x0024);
    /// USE-CANDIDATE (RFC 8445).
    pub const USE_CANDIDATE: AttrType = AttrType(0x0025);
    /// CONNECTION-ID (RFC 6062).
    pub const CONNECTION_ID: AttrType = AttrType(0x002A);
    /// ADDITIONAL-ADDRESS-FAMILY (RFC 8656).
    pub const ADDITIONAL_ADDRESS_FAMILY: AttrType = AttrType(0x8000);
    /// ADDRESS-ERROR-CODE (RFC 8656).
    pub const ADDRESS_ERROR_CODE: AttrType = AttrType(0x8001);
    /// PASSWORD-ALGORITHMS (RFC 8489).
    pub const PASSWORD_ALGORITHMS: AttrType = AttrType(0x8002);
    /// ALTERNATE-DOMAIN (RFC 8489).
    pub const ALTERNATE_DOMAIN: AttrType = AttrType(0x8003);
    /// ICMP (RFC 8656).
    pub const ICMP: AttrType = AttrType(0x8004);
    /// SOFTWARE (RFC 8489).
    pub const SOFTWARE: AttrType = AttrType(0x8022);
    /// ALTERNATE-SERVER (RFC 8489).
    pub const ALTERNATE_SERVER: AttrType = AttrType(0x8023);
    /// FINGERPRINT (RFC 8489).
    pub const FINGERPRINT: AttrType = AttrType(0x8028);
    /// ICE-CONTROLLED (RFC 8445).
    pub const ICE_CONTROLLED: AttrType = AttrType(0x8029);
    /// ICE-CONTROLLING (RFC 8445).
    pub const ICE_CONTROLLING: AttrType = AttrType(0x802A);
    /// GOOG-NETWORK-INFO, sent by Chromium; not decoded (comprehension-optional, so it is
    /// yielded as [`Attribute::Unknown`]).
    pub const GOOG_NETWORK_INFO: AttrType = AttrType(0xC057);

    /// `true` below 0x8000: a receiver that does not understand it must reject the message.
    pub const fn is_comprehension_required(self) -> bool {
        self.0 < 0x8000
    }

    /// `true` for the types this crate decodes into a typed [`Attribute`].
    pub fn is_known(self) -> bool {
        self.name().is_some() && self != AttrType::GOOG_NETWORK_INFO
    }

    /// The registered name of a type this crate knows.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            AttrType::MAPPED_ADDRESS => "MAPPED-ADDRESS",
            AttrType::USERNAME => "USERNAME",
            AttrType::MESSAGE_INTEGRITY => "MESSAGE-INTEGRITY",
            AttrType::ERROR_CODE => "ERROR-CODE",
            AttrType::UNKNOWN_ATTRIBUTES => "UNKNOWN-ATTRIBUTES",
            AttrType::CHANNEL_NUMBER => "CHANNEL-NUMBER",
            AttrType::LIFETIME => "LIFETIME",
            AttrType::XOR_PEER_ADDRESS => "XOR-PEER-ADDRESS",
            AttrType::DATA => "DATA",
            AttrType::REALM => "REALM",
            AttrType::NONCE => "NONCE",
            AttrType::XOR_RELAYED_ADDRESS => "XOR-RELAYED-ADDRESS",
            AttrType::REQUESTED_ADDRESS_FAMILY => "REQUESTED-ADDRESS-FAMILY",
            AttrType::EVEN_PORT => "EVEN-PORT",
            AttrType::REQUESTED_TRANSPORT => "REQUESTED-TRANSPORT",
            AttrType::DONT_FRAGMENT => "DONT-FRAGMENT",
            AttrType::MESSAGE_INTEGRITY_SHA256 => "MESSAGE-INTEGRITY-SHA256",
            AttrType::PASSWORD_ALGORITHM => "PASSWORD-ALGORITHM",
            AttrType::USERHASH => "USERHASH",
            AttrType::XOR_MAPPED_ADDRESS => "XOR-MAPPED-ADDRESS",
            AttrType::RESERVATION_TOKEN => "RESERVATION-TOKEN",
            AttrType::PRIORITY => "PRIORITY",
            AttrType::USE_CANDIDATE => "USE-CANDIDATE",
            AttrType::CONNECTION_ID => "CONNECTION-ID",
            AttrType::ADDITIONAL_ADDRESS_FAMILY => "ADDITIONAL-ADDRESS-FAMILY",
            AttrType::ADDRESS_ERROR_CODE => "ADDRESS-ERROR-CODE",
            AttrType::PASSWORD_ALGORITHMS => "PASSWORD-ALGORITHMS",
            AttrType::ALTERNATE_DOMAIN => "ALTERNATE-DOMAIN",
            AttrType::ICMP => "ICMP",
            AttrType::SOFTWARE => "SOFTWARE",
            AttrType::ALTERNATE_SERVER => "ALTERNATE-SERVER",
            AttrType::FINGERPRINT => "FINGERPRINT",
            AttrType::ICE_CONTROLLED => "ICE-CONTROLLED",
            AttrType::ICE_CONTROLLING => "ICE-CONTROLLING",
            AttrType::GOOG_NETWORK_INFO => "GOOG-NETWORK-INFO",
            _ => return None,
        })
    }
}

impl fmt::Debug for AttrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "AttrType({:#06x})", self.0),
        }
    }
}

/// ERROR-CODE (and the error part of ADDRESS-ERROR-CODE): a code 300..=699 and a reason.
///
/// ```
/// use zvon_stun::ErrorCode;
/// let e = ErrorCode { code: ErrorCode::ROLE_CONFLICT, reason: "Role Conflict" };
/// assert_eq!(e.code, 487);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode<'a> {
    /// The code, 300..=699 on the wire. The encoder writes `code / 100` into the 3-bit class
    /// and `code % 100` into the number, so codes outside that range do not survive encoding.
    pub code: u16,
    /// The UTF-8 reason phrase (RFC 8489 asks for fewer than 128 characters).
    pub reason: &'a str,
}

#[allow(missing_docs)] // the names are the registry's
impl ErrorCode<'_> {
    pub const TRY_ALTERNATE: u16 = 300;
    pub const BAD_REQUEST: u16 = 400;
    pub const UNAUTHENTICATED: u16 = 401;
    pub const FORBIDDEN: u16 = 403;
    pub const MOBILITY_FORBIDDEN: u16 = 405;
    pub const UNKNOWN_ATTRIBUTE: u16 = 420;
    pub const ALLOCATION_MISMATCH: u16 = 437;
    pub const STALE_NONCE: u16 = 438;
    pub const ADDRESS_FAMILY_NOT_SUPPORTED: u16 = 440;
    pub const WRONG_CREDENTIALS: u16 = 441;
    pub const UNSUPPORTED_TRANSPORT_PROTOCOL: u16 = 442;
    pub const PEER_ADDRESS_FAMILY_MISMATCH: u16 = 443;
    pub const CONNECTION_ALREADY_EXISTS: u16 = 446;
    pub const CONNECTION_TIMEOUT_OR_FAILURE: u16 = 447;
    pub const ALLOCATION_QUOTA_REACHED: u16 = 486;
    pub const ROLE_CONFLICT: u16 = 487;
    pub const SERVER_ERROR: u16 = 500;
    pub const INSUFFICIENT_CAPACITY: u16 = 508;
}

/// An address family as REQUESTED-ADDRESS-FAMILY, ADDITIONAL-ADDRESS-FAMILY and
/// ADDRESS-ERROR-CODE carry it. Kept as the raw byte so that a server can answer an unsupported
/// value with 440 rather than failing to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressFamily(pub u8);

impl AddressFamily {
    /// IPv4 (0x01).
    pub const IPV4: AddressFamily = AddressFamily(0x01);
    /// IPv6 (0x02).
    pub const IPV6: AddressFamily = AddressFamily(0x02);
}

/// One entry of PASSWORD-ALGORITHMS, or the value of PASSWORD-ALGORITHM (RFC 8489 14.11/14.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PasswordAlgorithm<'a> {
    /// The algorithm number: [`PasswordAlgorithm::MD5`] or [`PasswordAlgorithm::SHA256`].
    pub algorithm: u16,
    /// Algorithm parameters (empty for both registered algorithms).
    pub params: &'a [u8],
}

impl PasswordAlgorithm<'_> {
    /// MD5 (0x0001), the RFC 5389 long-term key.
    pub const MD5: u16 = 0x0001;
    /// SHA-256 (0x0002).
    pub const SHA256: u16 = 0x0002;
}

/// The PASSWORD-ALGORITHMS list: a validated view over its value, iterated without allocating.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PasswordAlgorithms<'a>(&'a [u8]);

impl<'a> PasswordAlgorithms<'a> {
    /// Validates an attribute value: a sequence of (algorithm, length, padded parameters).
    pub fn parse(value: &'a [u8]) -> Option<Self> {
        let mut it = PasswordAlgorithmIter(value);
        while !it.0.is_empty() {
            it.next_checked()?;
        }
        Some(Self(value))
    }

    /// The entries in order.
    pub fn iter(&self) -> PasswordAlgorithmIter<'a> {
        PasswordAlgorithmIter(self.0)
    }

    /// The raw value.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

impl fmt::Debug for PasswordAlgorithms<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over [`PasswordAlgorithms`].
#[derive(Debug, Clone)]
pub struct PasswordAlgorithmIter<'a>(&'a [u8]);

impl<'a> PasswordAlgorithmIter<'a> {
    fn next_checked(&mut self) -> Option<PasswordAlgorithm<'a>> {
        let (entry, used) = parse_password_algorithm_entry(self.0)?;
        self.0 = self.0.get(used..)?;
        Some(entry)
    }
}

impl<'a> Iterator for PasswordAlgorithmIter<'a> {
    type Item = PasswordAlgorithm<'a>;
    fn next(&mut self) -> Option<Self::Item> {
        let r = self.next_checked();
        if r.is_none() {
            self.0 = &[];
        }
        r
    }
}

/// Parses one (algorithm, length, params, padding) entry; returns it and the bytes it used.
fn parse_password_algorithm_entry(b: &[u8]) -> Option<(PasswordAlgorithm<'_>, usize)> {
    let algorithm = u16::from_be_bytes([*b.first()?, *b.get(1)?]);
    let len = usize::from(u16::from_be_bytes([*b.get(2)?, *b.get(3)?]));
    let params = b.get(4..4 + len)?;
    let used = 4 + padded(len);
    if used > b.len() {
        return None;
    }
    Some((PasswordAlgorithm { algorithm, params }, used))
}

/// The UNKNOWN-ATTRIBUTES list: a validated view (an even number of bytes), iterated without
/// allocating.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttrTypeList<'a>(&'a [u8]);

impl<'a> AttrTypeList<'a> {
    /// Validates an attribute value: a whole number of 16-bit types.
    pub fn parse(value: &'a [u8]) -> Option<Self> {
        value.len().is_multiple_of(2).then_some(Self(value))
    }

    /// The types in order.
    pub fn iter(&self) -> impl Iterator<Item = AttrType> + 'a {
        self.0
            .chunks_exact(2)
            .map(|c| AttrType(u16::from_be_bytes([c[0], c[1]]))) // ok: chunks of 2
    }

    /// The raw value.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

impl fmt::Debug for AttrTypeList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The ICMP attribute (RFC 8656 18.14): why a relayed datagram was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Icmp {
    /// ICMP type (7 bits in the RFC's figure).
    pub icmp_type: u8,
    /// ICMP code (9 bits in the RFC's figure).
    pub code: u16,
    /// Error data (the MTU for "fragmentation needed"/"packet too big", else zero).
    pub error_data: u32,
}

/// One decoded attribute. Borrowed values point into the message; XOR-ed addresses are
/// returned already un-XOR-ed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attribute<'a> {
    /// MAPPED-ADDRESS.
    MappedAddress(SocketAddr),
    /// XOR-MAPPED-ADDRESS: the reflexive address a server saw.
    XorMappedAddress(SocketAddr),
    /// USERNAME (for ICE, `"remote-ufrag:local-ufrag"` from the receiver's point of view).
    Username(&'a str),
    /// USERHASH: SHA-256 of `username ":" realm`.
    Userhash(&'a [u8; 32]),
    /// MESSAGE-INTEGRITY: an HMAC-SHA1.
    MessageIntegrity(&'a [u8; 20]),
    /// MESSAGE-INTEGRITY-SHA256: an HMAC-SHA256, possibly truncated to 16..=32 bytes.
    MessageIntegritySha256(&'a [u8]),
    /// FINGERPRINT: CRC-32 of the message XOR 0x5354554e.
    Fingerprint(u32),
    /// ERROR-CODE.
    ErrorCode(ErrorCode<'a>),
    /// REALM.
    Realm(&'a str),
    /// NONCE, opaque bytes the client echoes.
    Nonce(&'a [u8]),
    /// PASSWORD-ALGORITHMS.
    PasswordAlgorithms(PasswordAlgorithms<'a>),
    /// PASSWORD-ALGORITHM.
    PasswordAlgorithm(PasswordAlgorithm<'a>),
    /// UNKNOWN-ATTRIBUTES (in a 420 response).
    UnknownAttributes(AttrTypeList<'a>),
    /// SOFTWARE.
    Software(&'a str),
    /// ALTERNATE-SERVER.
    AlternateServer(SocketAddr),
    /// ALTERNATE-DOMAIN.
    AlternateDomain(&'a str),
    /// PRIORITY of the candidate the check would create as peer-reflexive.
    Priority(u32),
    /// USE-CANDIDATE: the controlling agent nominates the pair.
    UseCandidate,
    /// ICE-CONTROLLED with its tie-breaker.
    IceControlled(u64),
    /// ICE-CONTROLLING with its tie-breaker.
    IceControlling(u64),
    /// CHANNEL-NUMBER, as sent (0x4000..=0x4FFF is the valid range; not checked here so that a
    /// server can answer 400).
    ChannelNumber(u16),
    /// LIFETIME in seconds.
    Lifetime(u32),
    /// XOR-PEER-ADDRESS.
    XorPeerAddress(SocketAddr),
    /// DATA.
    Data(&'a [u8]),
    /// XOR-RELAYED-ADDRESS.
    XorRelayedAddress(SocketAddr),
    /// REQUESTED-ADDRESS-FAMILY.
    RequestedAddressFamily(AddressFamily),
    /// EVEN-PORT; `true` asks the server to reserve the next port too (the R bit).
    EvenPort(bool),
    /// REQUESTED-TRANSPORT: an IP protocol number (17 for UDP, 6 for TCP).
    RequestedTransport(u8),
    /// DONT-FRAGMENT.
    DontFragment,
    /// RESERVATION-TOKEN.
    ReservationToken([u8; 8]),
    /// ADDITIONAL-ADDRESS-FAMILY.
    AdditionalAddressFamily(AddressFamily),
    /// ADDRESS-ERROR-CODE: the family that failed and why.
    AddressErrorCode(AddressFamily, ErrorCode<'a>),
    /// ICMP.
    Icmp(Icmp),
    /// CONNECTION-ID (RFC 6062).
    ConnectionId(u32),
    /// Any other type, and a comprehension-optional attribute whose value does not parse.
    Unknown {
        /// The type.
        typ: AttrType,
        /// The value without padding.
        value: &'a [u8],
    },
}

/// Rounds an attribute length up to the 4-byte boundary.
pub(crate) const fn padded(len: usize) -> usize {
    (len + 3) & !3
}

const FAMILY_V4: u8 = 0x01;
const FAMILY_V6: u8 = 0x02;

fn be16(v: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(v.try_into().ok()?))
}

fn be32(v: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(v.try_into().ok()?))
}

fn be64(v: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(v.try_into().ok()?))
}

/// The 16 bytes XOR-ed into an IPv6 address: the cookie, then the transaction id.
fn xor_key(tid: &TransactionId) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..4].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    k[4..].copy_from_slice(tid.as_bytes());
    k
}

fn decode_address(v: &[u8], xor: Option<&TransactionId>) -> Option<SocketAddr> {
    let family = *v.get(1)?;
    let mut port = be16(v.get(2..4)?)?;
    if xor.is_some() {
        //# X-Port is computed by XOR'ing the mapped port with the most significant 16 bits of
        //# the magic cookie.
        port ^= (MAGIC_COOKIE >> 16) as u16;
    }
    let ip = match (family, v.len()) {
        (FAMILY_V4, 8) => {
            let mut a = be32(&v[4..8])?; // ok: len is 8
            if xor.is_some() {
                a ^= MAGIC_COOKIE;
            }
            IpAddr::V4(Ipv4Addr::from(a))
        }
        (FAMILY_V6, 20) => {
            let mut a: [u8; 16] = v[4..20].try_into().ok()?; // ok: len is 20
            if let Some(tid) = xor {
                for (b, k) in a.iter_mut().zip(xor_key(tid)) {
                    *b ^= k;
                }
            }
            IpAddr::V6(Ipv6Addr::from(a))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

fn encode_address(addr: SocketAddr, xor: Option<&TransactionId>, out: &mut Vec<u8>) {
    let mut port = addr.port();
    if xor.is_some() {
        port ^= (MAGIC_COOKIE >> 16) as u16;
    }
    match addr.ip() {
        IpAddr::V4(ip) => {
            out.extend_from_slice(&[0, FAMILY_V4]);
            out.extend_from_slice(&port.to_be_bytes());
            let mut a = u32::from(ip);
            if xor.is_some() {
                a ^= MAGIC_COOKIE;
            }
            out.extend_from_slice(&a.to_be_bytes());
        }
        IpAddr::V6(ip) => {
            out.extend_from_slice(&[0, FAMILY_V6]);
            out.extend_from_slice(&port.to_be_bytes());
            let mut a = ip.octets();
            if let Some(tid) = xor {
                for (b, k) in a.iter_mut().zip(xor_key(tid)) {
                    *b ^= k;
                }
            }
            out.extend_from_slice(&a);
        }
    }
}

/// Error code fields: 21 reserved bits (13 after a family byte), class in 3 bits, number in 8.
fn decode_error(class_byte: u8, number: u8, reason: &[u8]) -> Option<ErrorCode<'_>> {
    let class = u16::from(class_byte & 0x07);
    //# The Class represents the hundreds digit of the error code. The value MUST be between 3
    //# and 6. The Number represents the binary encoding of the error code modulo 100, and its
    //# value MUST be between 0 and 99.
    if !(3..=6).contains(&class) || number > 99 {
        return None;
    }
    let reason = std::str::from_utf8(reason).ok()?;
    Some(ErrorCode {
        code: class * 100 + u16::from(number),
        reason,
    })
}

fn encode_error(e: &ErrorCode<'_>, out: &mut Vec<u8>) {
    out.push(((e.code / 100) & 0x07) as u8);
    out.push((e.code % 100) as u8);
    out.extend_from_slice(e.reason.as_bytes());
}

fn text(v: &[u8]) -> Option<&str> {
    std::str::from_utf8(v).ok()
}

impl<'a> Attribute<'a> {
    /// Decodes the value of an attribute of type `typ`. `tid` un-XORs the XOR addresses.
    /// Returns `None` when the value does not fit its type (wrong length, bad family, text that
    /// is not UTF-8); unknown types become [`Attribute::Unknown`].
    pub fn decode(typ: AttrType, value: &'a [u8], tid: &TransactionId) -> Option<Self> {
        let v = value;
        Some(match typ {
            AttrType::MAPPED_ADDRESS => Attribute::MappedAddress(decode_address(v, None)?),
            AttrType::XOR_MAPPED_ADDRESS => {
                Attribute::XorMappedAddress(decode_address(v, Some(tid))?)
            }
            AttrType::USERNAME => Attribute::Username(text(v)?),
            AttrType::USERHASH => Attribute::Userhash(v.try_into().ok()?),
            AttrType::MESSAGE_INTEGRITY => Attribute::MessageIntegrity(v.try_into().ok()?),
            AttrType::MESSAGE_INTEGRITY_SHA256 => {
                //# The value will be at most 32 bytes, but it MUST be at least 16 bytes and
                //# MUST be a multiple of 4 bytes.
                if !(16..=32).contains(&v.len()) || !v.len().is_multiple_of(4) {
                    return None;
                }
                Attribute::MessageIntegritySha256(v)
            }
            AttrType::FINGERPRINT => Attribute::Fingerprint(be32(v)?),
            AttrType::ERROR_CODE => {
                if v.len() < 4 {
                    return None;
                }
                Attribute::ErrorCode(decode_error(v[2], v[3], &v[4..])?) // ok: len >= 4
            }
            AttrType::REALM => Attribute::Realm(text(v)?),
            AttrType::NONCE => Attribute::Nonce(v),
            AttrType::PASSWORD_ALGORITHMS => {
                Attribute::PasswordAlgorithms(PasswordAlgorithms::parse(v)?)
            }
            AttrType::PASSWORD_ALGORITHM => {
                // One entry; its padding is the attribute's own padding, so the entry must
                // fill the value exactly.
                let algorithm = be16(v.get(..2)?)?;
                let len = usize::from(be16(v.get(2..4)?)?);
                if v.len() != 4 + len {
                    return None;
                }
                Attribute::PasswordAlgorithm(PasswordAlgorithm {
                    algorithm,
                    params: &v[4..],
                }) // ok: len checked
            }
            AttrType::UNKNOWN_ATTRIBUTES => Attribute::UnknownAttributes(AttrTypeList::parse(v)?),
            AttrType::SOFTWARE => Attribute::Software(text(v)?),
            AttrType::ALTERNATE_SERVER => Attribute::AlternateServer(decode_address(v, None)?),
            AttrType::ALTERNATE_DOMAIN => Attribute::AlternateDomain(text(v)?),
            AttrType::PRIORITY => Attribute::Priority(be32(v)?),
            AttrType::USE_CANDIDATE if v.is_empty() => Attribute::UseCandidate,
            AttrType::ICE_CONTROLLED => Attribute::IceControlled(be64(v)?),
            AttrType::ICE_CONTROLLING => Attribute::IceControlling(be64(v)?),
            AttrType::CHANNEL_NUMBER if v.len() == 4 => Attribute::ChannelNumber(be16(&v[..2])?), // ok: len 4
            AttrType::LIFETIME => Attribute::Lifetime(be32(v)?),
            AttrType::XOR_PEER_ADDRESS => Attribute::XorPeerAddress(decode_address(v, Some(tid))?),
            AttrType::DATA => Attribute::Data(v),
            AttrType::XOR_RELAYED_ADDRESS => {
                Attribute::XorRelayedAddress(decode_address(v, Some(tid))?)
            }
            AttrType::REQUESTED_ADDRESS_FAMILY if v.len() == 4 => {
                Attribute::RequestedAddressFamily(AddressFamily(v[0])) // ok: len 4
            }
            AttrType::EVEN_PORT if v.len() == 1 => Attribute::EvenPort(v[0] & 0x80 != 0), // ok: len 1
            AttrType::REQUESTED_TRANSPORT if v.len() == 4 => Attribute::RequestedTransport(v[0]), // ok: len 4
            AttrType::DONT_FRAGMENT if v.is_empty() => Attribute::DontFragment,
            AttrType::RESERVATION_TOKEN => Attribute::ReservationToken(v.try_into().ok()?),
            AttrType::ADDITIONAL_ADDRESS_FAMILY if v.len() == 4 => {
                Attribute::AdditionalAddressFamily(AddressFamily(v[0])) // ok: len 4
            }
            AttrType::ADDRESS_ERROR_CODE => {
                if v.len() < 4 {
                    return None;
                }
                // ok: len >= 4
                Attribute::AddressErrorCode(AddressFamily(v[0]), decode_error(v[2], v[3], &v[4..])?)
            }
            AttrType::ICMP => {
                let w = be16(v.get(2..4)?)?;
                if v.len() != 8 {
                    return None;
                }
                Attribute::Icmp(Icmp {
                    icmp_type: (w >> 9) as u8,
                    code: w & 0x01FF,
                    error_data: be32(&v[4..8])?, // ok: len 8
                })
            }
            AttrType::CONNECTION_ID => Attribute::ConnectionId(be32(v)?),
            AttrType::USE_CANDIDATE
            | AttrType::CHANNEL_NUMBER
            | AttrType::REQUESTED_ADDRESS_FAMILY
            | AttrType::EVEN_PORT
            | AttrType::REQUESTED_TRANSPORT
            | AttrType::DONT_FRAGMENT
            | AttrType::ADDITIONAL_ADDRESS_FAMILY => return None,
            _ => Attribute::Unknown { typ, value },
        })
    }

    /// The attribute's type.
    pub fn typ(&self) -> AttrType {
        match self {
            Attribute::MappedAddress(_) => AttrType::MAPPED_ADDRESS,
            Attribute::XorMappedAddress(_) => AttrType::XOR_MAPPED_ADDRESS,
            Attribute::Username(_) => AttrType::USERNAME,
            Attribute::Userhash(_) => AttrType::USERHASH,
            Attribute::MessageIntegrity(_) => AttrType::MESSAGE_INTEGRITY,
            Attribute::MessageIntegritySha256(_) => AttrType::MESSAGE_INTEGRITY_SHA256,
            Attribute::Fingerprint(_) => AttrType::FINGERPRINT,
            Attribute::ErrorCode(_) => AttrType::ERROR_CODE,
            Attribute::Realm(_) => AttrType::REALM,
            Attribute::Nonce(_) => AttrType::NONCE,
            Attribute::PasswordAlgorithms(_) => AttrType::PASSWORD_ALGORITHMS,
            Attribute::PasswordAlgorithm(_) => AttrType::PASSWORD_ALGORITHM,
            Attribute::UnknownAttributes(_) => AttrType::UNKNOWN_ATTRIBUTES,
            Attribute::Software(_) => AttrType::SOFTWARE,
            Attribute::AlternateServer(_) => AttrType::ALTERNATE_SERVER,
            Attribute::AlternateDomain(_) => AttrType::ALTERNATE_DOMAIN,
            Attribute::Priority(_) => AttrType::PRIORITY,
            Attribute::UseCandidate => AttrType::USE_CANDIDATE,
            Attribute::IceControlled(_) => AttrType::ICE_CONTROLLED,
            Attribute::IceControlling(_) => AttrType::ICE_CONTROLLING,
            Attribute::ChannelNumber(_) => AttrType::CHANNEL_NUMBER,
            Attribute::Lifetime(_) => AttrType::LIFETIME,
            Attribute::XorPeerAddress(_) => AttrType::XOR_PEER_ADDRESS,
            Attribute::Data(_) => AttrType::DATA,
            Attribute::XorRelayedAddress(_) => AttrType::XOR_RELAYED_ADDRESS,
            Attribute::RequestedAddressFamily(_) => AttrType::REQUESTED_ADDRESS_FAMILY,
            Attribute::EvenPort(_) => AttrType::EVEN_PORT,
            Attribute::RequestedTransport(_) => AttrType::REQUESTED_TRANSPORT,
            Attribute::DontFragment => AttrType::DONT_FRAGMENT,
            Attribute::ReservationToken(_) => AttrType::RESERVATION_TOKEN,
            Attribute::AdditionalAddressFamily(_) => AttrType::ADDITIONAL_ADDRESS_FAMILY,
            Attribute::AddressErrorCode(..) => AttrType::ADDRESS_ERROR_CODE,
            Attribute::Icmp(_) => AttrType::ICMP,
            Attribute::ConnectionId(_) => AttrType::CONNECTION_ID,
            Attribute::Unknown { typ, .. } => *typ,
        }
    }

    /// Appends the value (without header or padding) to `out`.
    pub(crate) fn encode_value(&self, tid: &TransactionId, out: &mut Vec<u8>) {
        match *self {
            Attribute::MappedAddress(a) | Attribute::AlternateServer(a) => {
                encode_address(a, None, out)
            }
            Attribute::XorMappedAddress(a)
            | Attribute::XorPeerAddress(a)
            | Attribute::XorRelayedAddress(a) => encode_address(a, Some(tid), out),
            Attribute::Username(s)
            | Attribute::Realm(s)
            | Attribute::Software(s)
            | Attribute::AlternateDomain(s) => out.extend_from_slice(s.as_bytes()),
            Attribute::Userhash(h) => out.extend_from_slice(h),
            Attribute::MessageIntegrity(m) => out.extend_from_slice(m),
            Attribute::MessageIntegritySha256(b)
            | Attribute::Nonce(b)
            | Attribute::Data(b)
            | Attribute::Unknown { value: b, .. } => out.extend_from_slice(b),
            Attribute::Fingerprint(v) | Attribute::Priority(v) | Attribute::Lifetime(v) => {
                out.extend_from_slice(&v.to_be_bytes())
            }
            Attribute::ConnectionId(v) => out.extend_from_slice(&v.to_be_bytes()),
            Attribute::ErrorCode(ref e) => {
                out.extend_from_slice(&[0, 0]);
                encode_error(e, out);
            }
            Attribute::PasswordAlgorithms(l) => out.extend_from_slice(l.as_bytes()),
            Attribute::PasswordAlgorithm(p) => {
                out.extend_from_slice(&p.algorithm.to_be_bytes());
                out.extend_from_slice(&(p.params.len() as u16).to_be_bytes());
                out.extend_from_slice(p.params);
            }
            Attribute::UnknownAttributes(l) => out.extend_from_slice(l.as_bytes()),
            Attribute::UseCandidate | Attribute::DontFragment => {}
            Attribute::IceControlled(v) | Attribute::IceControlling(v) => {
                out.extend_from_slice(&v.to_be_bytes())
            }
            Attribute::ChannelNumber(n) => {
                out.extend_from_slice(&n.to_be_bytes());
                out.extend_from_slice(&[0, 0]); // RFFU
            }
            Attribute::RequestedAddressFamily(f) | Attribute::AdditionalAddressFamily(f) => {
                out.extend_from_slice(&[f.0, 0, 0, 0])
            }
            Attribute::EvenPort(r) => out.push(if r { 0x80 } else { 0 }),
            Attribute::RequestedTransport(p) => out.extend_from_slice(&[p, 0, 0, 0]),
            Attribute::ReservationToken(t) => out.extend_from_slice(&t),
            Attribute::AddressErrorCode(f, ref e) => {
                out.extend_from_slice(&[f.0, 0]);
                encode_error(e, out);
            }
            Attribute::Icmp(i) => {
                let w = (u16::from(i.icmp_type & 0x7F) << 9) | (i.code & 0x01FF);
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&w.to_be_bytes());
                out.extend_from_slice(&i.error_data.to_be_bytes());
            }
        }
    }
}
