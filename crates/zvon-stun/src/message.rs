//! The checked view over one received STUN message.

use std::fmt;
use std::net::SocketAddr;

use zvon_base::{Classify, Fault};

use crate::attr::{AttrType, Attribute, ErrorCode, padded};
use crate::error::DecodeError;
use crate::header::{Class, HEADER_LEN, MAGIC_COOKIE, MessageType, Method, TransactionId};

/// A STUN message over borrowed bytes, validated once by [`Message::parse`] so that nothing
/// after it can fail or panic: the header, the length, every attribute's framing, the value of
/// every comprehension-required attribute this crate knows, the sizes of MESSAGE-INTEGRITY,
/// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT, and FINGERPRINT being last.
///
/// Attributes after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT, and
/// after MESSAGE-INTEGRITY-SHA256 other than FINGERPRINT, are skipped as RFC 8489 14.5/14.6
/// require: their framing is checked but they are never yielded. When an attribute type repeats, the
/// lookups return the first, which is the one RFC 8489 14 says to process.
///
/// ```
/// use zvon_stun::{Attribute, Message, Method, Class};
/// // RFC 5769 2.2, the sample IPv4 response.
/// let bytes = hex::decode(concat!(
///     "0101003c2112a442b7e7a701bc34d686fa87dfae",
///     "8022000b7465737420766563746f7220",
///     "002000080001a147e112a643",
///     "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7",
///     "80280004c07d4c96")).unwrap();
/// let msg = Message::parse(&bytes)?;
/// assert_eq!((msg.method(), msg.class()), (Method::BINDING, Class::Success));
/// assert_eq!(msg.xor_mapped_address(), Some("192.0.2.1:32853".parse().unwrap()));
/// assert!(msg.verify_fingerprint().is_ok());
/// assert!(msg.attributes().any(|a| a == Attribute::Software("test vector")));
/// # Ok::<(), zvon_stun::DecodeError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    buf: &'a [u8],
    typ: MessageType,
    tid: TransactionId,
    /// End of the attributes processed as usual: the first integrity attribute, FINGERPRINT,
    /// or the end of the message.
    plain_end: usize,
    /// Offsets of the attribute headers of the integrity attributes that count, and of
    /// FINGERPRINT.
    integrity: Option<usize>,
    integrity_sha256: Option<usize>,
    fingerprint: Option<usize>,
    unknown_required: bool,
}

/// Where the walk over the attributes is, relative to the integrity attributes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Region {
    Plain,
    AfterIntegrity,
    AfterIntegritySha256,
}

/// One attribute's framing: type, value, offset of the next attribute.
fn read_tlv(buf: &[u8], pos: usize) -> Result<(AttrType, &[u8], usize), DecodeError> {
    let head = buf
        .get(pos..pos + 4)
        .ok_or(DecodeError::AttributeOverrun { typ: AttrType(0) })?;
    let typ = AttrType(u16::from_be_bytes([head[0], head[1]])); // ok: 4 bytes
    let len = usize::from(u16::from_be_bytes([head[2], head[3]])); // ok: 4 bytes
    let next = pos + 4 + padded(len);
    if next > buf.len() {
        return Err(DecodeError::AttributeOverrun { typ });
    }
    Ok((typ, &buf[pos + 4..pos + 4 + len], next)) // ok: next <= len, len <= padded(len)
}

impl<'a> Message<'a> {
    /// Checks `buf` (one whole datagram, or one frame cut from a stream with
    /// [`crate::stream_frame_len`]) and returns the view.
    pub fn parse(buf: &'a [u8]) -> Result<Self, DecodeError> {
        let head: &[u8; HEADER_LEN] = buf
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(DecodeError::TooShort(buf.len()))?;
        let raw_type = u16::from_be_bytes([head[0], head[1]]);
        let typ = MessageType::from_u16(raw_type).ok_or(DecodeError::NotStun)?;
        let length = u16::from_be_bytes([head[2], head[3]]);
        if u32::from_be_bytes([head[4], head[5], head[6], head[7]]) != MAGIC_COOKIE {
            return Err(DecodeError::NoMagicCookie);
        }
        //# The message length MUST contain the size of the message in bytes, not including
        //# the 20-byte STUN header. Since all STUN attributes are padded to a multiple of 4
        //# bytes, the last 2 bits of this field are always zero.
        if !length.is_multiple_of(4) {
            return Err(DecodeError::UnalignedLength(length));
        }
        if HEADER_LEN + usize::from(length) != buf.len() {
            return Err(DecodeError::LengthMismatch {
                header: length,
                actual: buf.len(),
            });
        }
        let mut tid = [0u8; 12];
        tid.copy_from_slice(&head[8..20]);
        let tid = TransactionId::new(tid);

        let mut msg = Message {
            buf,
            typ,
            tid,
            plain_end: buf.len(),
            integrity: None,
            integrity_sha256: None,
            fingerprint: None,
            unknown_required: false,
        };
        let mut region = Region::Plain;
        let mut pos = HEADER_LEN;
        while pos < buf.len() {
            if msg.fingerprint.is_some() {
                //# When present, the FINGERPRINT attribute MUST be the last attribute in the
                //# message
                return Err(DecodeError::FingerprintNotLast);
            }
            let (at, value, next) = read_tlv(buf, pos)?;
            let bad = DecodeError::BadAttribute { typ: at };
            match at {
                AttrType::FINGERPRINT => {
                    if value.len() != 4 {
                        return Err(bad);
                    }
                    msg.fingerprint = Some(pos);
                    msg.plain_end = msg.plain_end.min(pos);
                }
                AttrType::MESSAGE_INTEGRITY if region == Region::Plain => {
                    if value.len() != 20 {
                        return Err(bad);
                    }
                    msg.integrity = Some(pos);
                    msg.plain_end = pos;
                    region = Region::AfterIntegrity;
                }
                AttrType::MESSAGE_INTEGRITY_SHA256 if region != Region::AfterIntegritySha256 => {
                    if Attribute::decode(at, value, &tid).is_none() {
                        return Err(bad);
                    }
                    msg.integrity_sha256 = Some(pos);
                    msg.plain_end = msg.plain_end.min(pos);
                    region = Region::AfterIntegritySha256;
                }
                //# With the exception of the MESSAGE-INTEGRITY-SHA256 and FINGERPRINT
                //# attributes, agents MUST ignore all other attributes that follow
                //# MESSAGE-INTEGRITY.
                _ if region != Region::Plain => {}
                _ if !at.is_known() => {
                    msg.unknown_required |= at.is_comprehension_required();
                }
                _ => {
                    if at.is_comprehension_required()
                        && Attribute::decode(at, value, &tid).is_none()
                    {
                        return Err(bad);
                    }
                }
            }
            pos = next;
        }
        Ok(msg)
    }

    /// Method and class.
    pub fn message_type(&self) -> MessageType {
        self.typ
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.typ.method
    }

    /// The class.
    pub fn class(&self) -> Class {
        self.typ.class
    }

    /// The transaction id.
    pub fn transaction_id(&self) -> TransactionId {
        self.tid
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Every attribute that counts, in order (see the type's docs for those skipped).
    pub fn attributes(&self) -> Attributes<'a> {
        Attributes {
            buf: self.buf,
            tid: self.tid,
            pos: HEADER_LEN,
            plain_end: self.plain_end,
            tail: self.tail(),
        }
    }

    fn tail(&self) -> [Option<usize>; 3] {
        [self.integrity, self.integrity_sha256, self.fingerprint]
    }

    /// The first attribute of type `typ`.
    pub fn get(&self, typ: AttrType) -> Option<Attribute<'a>> {
        self.attributes().find(|a| a.typ() == typ)
    }

    /// The first attribute for which `f` returns `Some`.
    pub fn find<T>(&self, f: impl FnMut(Attribute<'a>) -> Option<T>) -> Option<T> {
        self.attributes().find_map(f)
    }

    /// USERNAME.
    pub fn username(&self) -> Option<&'a str> {
        self.find(|a| {
            if let Attribute::Username(u) = a {
                Some(u)
            } else {
                None
            }
        })
    }

    /// REALM.
    pub fn realm(&self) -> Option<&'a str> {
        self.find(|a| {
            if let Attribute::Realm(r) = a {
                Some(r)
            } else {
                None
            }
        })
    }

    /// NONCE.
    pub fn nonce(&self) -> Option<&'a [u8]> {
        self.find(|a| {
            if let Attribute::Nonce(n) = a {
                Some(n)
            } else {
                None
            }
        })
    }

    /// ERROR-CODE.
    pub fn error_code(&self) -> Option<ErrorCode<'a>> {
        self.find(|a| {
            if let Attribute::ErrorCode(e) = a {
                Some(e)
            } else {
                None
            }
        })
    }

    /// XOR-MAPPED-ADDRESS, un-XOR-ed.
    pub fn xor_mapped_address(&self) -> Option<SocketAddr> {
        self.find(|a| {
            if let Attribute::XorMappedAddress(s) = a {
                Some(s)
            } else {
                None
            }
        })
    }

    /// XOR-PEER-ADDRESS, un-XOR-ed (the peer of a TURN Data indication).
    pub fn xor_peer_address(&self) -> Option<SocketAddr> {
        self.find(|a| {
            if let Attribute::XorPeerAddress(s) = a {
                Some(s)
            } else {
                None
            }
        })
    }

    /// DATA (the payload of a TURN Data indication).
    pub fn data(&self) -> Option<&'a [u8]> {
        self.find(|a| {
            if let Attribute::Data(d) = a {
                Some(d)
            } else {
                None
            }
        })
    }

    /// LIFETIME in seconds.
    pub fn lifetime(&self) -> Option<u32> {
        self.find(|a| {
            if let Attribute::Lifetime(l) = a {
                Some(l)
            } else {
                None
            }
        })
    }

    /// `true` when the message carries FINGERPRINT.
    pub fn has_fingerprint(&self) -> bool {
        self.fingerprint.is_some()
    }

    /// `true` when the message carries MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256.
    pub fn has_integrity(&self) -> bool {
        self.integrity.is_some() || self.integrity_sha256.is_some()
    }

    /// Offsets of the attribute headers of MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and
    /// FINGERPRINT.
    pub(crate) fn integrity_offsets(&self) -> (Option<usize>, Option<usize>, Option<usize>) {
        (self.integrity, self.integrity_sha256, self.fingerprint)
    }

    /// `true` when an attribute that counts is comprehension-required and unknown to this
    /// crate.
    pub fn has_unknown_required(&self) -> bool {
        self.unknown_required
    }

    /// Fails when the message holds comprehension-required attributes this crate does not
    /// know. RFC 8489 6.3: a server answers such a request with 420 and UNKNOWN-ATTRIBUTES
    /// (write [`UnknownRequired::types`] with
    /// [`crate::Encoder::add_unknown_attributes`]); a client fails the transaction on such a
    /// response; indications are dropped.
    pub fn check_comprehension(&self) -> Result<(), UnknownRequired<'a>> {
        if self.unknown_required {
            Err(UnknownRequired { msg: *self })
        } else {
            Ok(())
        }
    }
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("type", &self.typ)
            .field("transaction_id", &self.tid)
            .field("attributes", &DebugAttrs(*self))
            .finish()
    }
}

struct DebugAttrs<'a>(Message<'a>);

impl fmt::Debug for DebugAttrs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.attributes()).finish()
    }
}

/// Iterator over the attributes of a [`Message`].
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    buf: &'a [u8],
    tid: TransactionId,
    pos: usize,
    plain_end: usize,
    tail: [Option<usize>; 3],
}

impl<'a> Attributes<'a> {
    fn at(&self, pos: usize) -> Option<(Attribute<'a>, usize)> {
        let (typ, value, next) = read_tlv(self.buf, pos).ok()?;
        // Message::parse decoded every known comprehension-required attribute, so `None` here
        // is a comprehension-optional one with a bad value: passed on as unknown.
        let attr =
            Attribute::decode(typ, value, &self.tid).unwrap_or(Attribute::Unknown { typ, value });
        Some((attr, next))
    }
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Attribute<'a>;

    fn next(&mut self) -> Option<Attribute<'a>> {
        if self.pos < self.plain_end {
            let (attr, next) = self.at(self.pos)?;
            self.pos = next;
            return Some(attr);
        }
        for slot in &mut self.tail {
            if let Some(pos) = slot.take() {
                return self.at(pos).map(|(a, _)| a);
            }
        }
        None
    }
}

/// The message holds comprehension-required attributes this crate does not understand
/// (RFC 8489 6.3). Carries the message so that [`UnknownRequired::types`] can list them.
#[derive(Clone, Copy, thiserror::Error)]
#[error("unknown comprehension-required attributes")]
pub struct UnknownRequired<'a> {
    msg: Message<'a>,
}

impl<'a> UnknownRequired<'a> {
    /// The unknown comprehension-required types, in message order (repeats included).
    pub fn types(&self) -> impl Iterator<Item = AttrType> + 'a {
        self.msg.attributes().filter_map(|a| match a {
            Attribute::Unknown { typ, .. } if typ.is_comprehension_required() => Some(typ),
            _ => None,
        })
    }
}

impl fmt::Debug for UnknownRequired<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.types()).finish()
    }
}

impl Classify for UnknownRequired<'_> {
    fn fault(&self) -> Fault {
        Fault::PeerMisbehaved
    }
    fn is_fatal(&self) -> bool {
        false
    }
}
