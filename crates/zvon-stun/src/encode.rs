//! Writing messages into a caller's buffer.

use crate::attr::{AttrType, Attribute, PasswordAlgorithm, padded};
use crate::header::{HEADER_LEN, MAGIC_COOKIE, MessageType, TransactionId};
use crate::integrity::{IntegrityAlgorithm, IntegrityKey, compute_fingerprint, compute_hmac};

/// Writes one message at the end of a caller's `Vec<u8>`; nothing here can fail, and nothing
/// allocates beyond growing that buffer (reuse it and it stops growing).
///
/// Attributes go in the order added, each padded with zeros to 4 bytes. A `finish*` method
/// writes the length field; until one is called the message is incomplete. The integrity
/// methods consume the encoder, so no attribute can be added after MESSAGE-INTEGRITY by
/// mistake (a receiver would ignore it). STUN lives in one datagram: a message whose
/// attributes pass 65 535 bytes cannot be framed, and its length field would wrap.
///
/// ```
/// use zvon_base::Rng;
/// use zvon_stun::{Attribute, Encoder, IntegrityKey, Message, MessageType, Method, TransactionId};
/// let key = IntegrityKey::short_term("remote-password-from-sdp");
/// let mut buf = Vec::with_capacity(1500);
/// let tid = TransactionId::random(&mut Rng::from_seed_u64(1));
/// let mut enc = Encoder::new(&mut buf, MessageType::request(Method::BINDING), tid);
/// enc.add(&Attribute::Username("remoteufrag:localufrag"))
///     .add(&Attribute::Priority(0x6e0001ff))
///     .add(&Attribute::IceControlling(0x1234))
///     .add(&Attribute::UseCandidate);
/// let len = enc.finish_with_integrity(&key); // MESSAGE-INTEGRITY, then FINGERPRINT
///
/// let msg = Message::parse(&buf[..len]).unwrap();
/// msg.verify_fingerprint().unwrap();
/// let checked = msg.verify_integrity(&key).unwrap();
/// assert!(checked.use_candidate());
/// ```
#[derive(Debug)]
#[must_use = "a message is incomplete until a finish method writes its length"]
pub struct Encoder<'b> {
    buf: &'b mut Vec<u8>,
    start: usize,
    tid: TransactionId,
    padding: u8,
}

impl<'b> Encoder<'b> {
    /// Starts a message at the end of `buf` (which may already hold, say, a framing header).
    pub fn new(buf: &'b mut Vec<u8>, typ: MessageType, tid: TransactionId) -> Self {
        let start = buf.len();
        buf.extend_from_slice(&typ.to_u16().to_be_bytes());
        buf.extend_from_slice(&[0, 0]);
        buf.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        buf.extend_from_slice(tid.as_bytes());
        Self {
            buf,
            start,
            tid,
            padding: 0,
        }
    }

    /// The transaction id being written.
    pub fn transaction_id(&self) -> TransactionId {
        self.tid
    }

    /// Sets the byte that pads attribute values. RFC 8489 14 says padding "MUST be set to zero
    /// on sending" (the default); RFC 5389 let it be anything, and the RFC 5769 test vectors
    /// pad with spaces (0x20). Only for reproducing such messages byte for byte.
    pub fn set_padding_byte(&mut self, byte: u8) -> &mut Self {
        self.padding = byte;
        self
    }

    /// Appends an attribute. [`Attribute::MessageIntegrity`], `MessageIntegritySha256` and
    /// `Fingerprint` are written verbatim like any other (for tests that build broken
    /// messages); to protect a message use the `message_integrity*` and `finish*` methods.
    ///
    /// A value longer than 65 535 bytes cannot be framed; it is cut there.
    pub fn add(&mut self, attr: &Attribute<'_>) -> &mut Self {
        let tid = self.tid;
        self.add_with(attr.typ(), |out| attr.encode_value(&tid, out))
    }

    /// Appends an attribute with a raw value.
    pub fn add_raw(&mut self, typ: AttrType, value: &[u8]) -> &mut Self {
        self.add_with(typ, |out| out.extend_from_slice(value))
    }

    /// Appends UNKNOWN-ATTRIBUTES listing `types` (the 420 response, RFC 8489 6.3.1.1).
    pub fn add_unknown_attributes(
        &mut self,
        types: impl IntoIterator<Item = AttrType>,
    ) -> &mut Self {
        self.add_with(AttrType::UNKNOWN_ATTRIBUTES, |out| {
            for t in types {
                out.extend_from_slice(&t.0.to_be_bytes());
            }
        })
    }

    /// Appends PASSWORD-ALGORITHMS listing `algs`.
    pub fn add_password_algorithms<'p>(
        &mut self,
        algs: impl IntoIterator<Item = PasswordAlgorithm<'p>>,
    ) -> &mut Self {
        let padding = self.padding;
        self.add_with(AttrType::PASSWORD_ALGORITHMS, |out| {
            for a in algs {
                out.extend_from_slice(&a.algorithm.to_be_bytes());
                out.extend_from_slice(&(a.params.len() as u16).to_be_bytes());
                out.extend_from_slice(a.params);
                out.resize(out.len() + padded(a.params.len()) - a.params.len(), padding);
            }
        })
    }

    /// Writes a TLV whose value `write` appends, then fixes its length and pads it.
    fn add_with(&mut self, typ: AttrType, write: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        let head = self.buf.len();
        self.buf.extend_from_slice(&typ.0.to_be_bytes());
        self.buf.extend_from_slice(&[0, 0]);
        write(self.buf);
        let mut len = self.buf.len() - head - 4;
        if len > usize::from(u16::MAX) {
            len = usize::from(u16::MAX);
            self.buf.truncate(head + 4 + len);
        }
        self.buf[head + 2..head + 4].copy_from_slice(&(len as u16).to_be_bytes()); // ok: head + 4 <= len
        self.buf.resize(head + 4 + padded(len), self.padding);
        self
    }

    /// Writes the header's length field as if `extra` more bytes followed.
    fn set_length(&mut self, extra: usize) {
        let body = self.buf.len() - self.start - HEADER_LEN + extra;
        let at = self.start + 2;
        self.buf[at..at + 2].copy_from_slice(&(body as u16).to_be_bytes()); // ok: header written in new()
    }

    fn append_integrity(&mut self, key: &IntegrityKey, alg: IntegrityAlgorithm) {
        let (typ, len) = match alg {
            IntegrityAlgorithm::Sha1 => (AttrType::MESSAGE_INTEGRITY, 20),
            IntegrityAlgorithm::Sha256 => (AttrType::MESSAGE_INTEGRITY_SHA256, 32),
        };
        //# the Length field of the STUN message header is adjusted to point to the end of the
        //# MESSAGE-INTEGRITY attribute
        self.set_length(4 + len);
        let at = self.buf.len() - self.start;
        let tag = compute_hmac(key.hmac_key(alg), &self.buf[self.start..], at, len);
        self.buf.extend_from_slice(&typ.0.to_be_bytes());
        self.buf.extend_from_slice(&(len as u16).to_be_bytes());
        self.buf.extend_from_slice(tag.as_ref());
    }

    fn append_fingerprint(&mut self) {
        self.set_length(8);
        let crc = compute_fingerprint(&self.buf[self.start..]);
        self.buf
            .extend_from_slice(&AttrType::FINGERPRINT.0.to_be_bytes());
        self.buf.extend_from_slice(&4u16.to_be_bytes());
        self.buf.extend_from_slice(&crc.to_be_bytes());
    }

    /// Completes the message without integrity or fingerprint; returns its length.
    pub fn finish(mut self) -> usize {
        self.set_length(0);
        self.buf.len() - self.start
    }

    /// Appends FINGERPRINT and completes the message; returns its length.
    pub fn finish_with_fingerprint(mut self) -> usize {
        self.append_fingerprint();
        self.buf.len() - self.start
    }

    /// Appends MESSAGE-INTEGRITY (HMAC-SHA1) and FINGERPRINT, the shape of every ICE check,
    /// response and consent request; returns the length.
    pub fn finish_with_integrity(self, key: &IntegrityKey) -> usize {
        self.message_integrity(key).finish_with_fingerprint()
    }

    /// Appends MESSAGE-INTEGRITY (HMAC-SHA1). MESSAGE-INTEGRITY-SHA256 and FINGERPRINT may
    /// still follow.
    pub fn message_integrity(mut self, key: &IntegrityKey) -> WithIntegrity<'b> {
        self.append_integrity(key, IntegrityAlgorithm::Sha1);
        WithIntegrity(self)
    }

    /// Appends MESSAGE-INTEGRITY-SHA256 (32 bytes). FINGERPRINT may still follow.
    pub fn message_integrity_sha256(mut self, key: &IntegrityKey) -> Sealed<'b> {
        self.append_integrity(key, IntegrityAlgorithm::Sha256);
        Sealed(self)
    }
}

/// A message with MESSAGE-INTEGRITY written: only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT
/// may follow.
#[derive(Debug)]
#[must_use = "a message is incomplete until a finish method writes its length"]
pub struct WithIntegrity<'b>(Encoder<'b>);

impl<'b> WithIntegrity<'b> {
    /// Appends MESSAGE-INTEGRITY-SHA256 as well (RFC 8489 lets both be present for agents
    /// that do not know which the other side understands).
    pub fn message_integrity_sha256(mut self, key: &IntegrityKey) -> Sealed<'b> {
        self.0.append_integrity(key, IntegrityAlgorithm::Sha256);
        Sealed(self.0)
    }

    /// Completes the message; returns its length.
    pub fn finish(self) -> usize {
        self.0.finish()
    }

    /// Appends FINGERPRINT and completes the message; returns its length.
    pub fn finish_with_fingerprint(self) -> usize {
        self.0.finish_with_fingerprint()
    }
}

/// A message with MESSAGE-INTEGRITY-SHA256 written: only FINGERPRINT may follow.
#[derive(Debug)]
#[must_use = "a message is incomplete until a finish method writes its length"]
pub struct Sealed<'b>(Encoder<'b>);

impl Sealed<'_> {
    /// Completes the message; returns its length.
    pub fn finish(self) -> usize {
        self.0.finish()
    }

    /// Appends FINGERPRINT and completes the message; returns its length.
    pub fn finish_with_fingerprint(self) -> usize {
        self.0.finish_with_fingerprint()
    }
}
