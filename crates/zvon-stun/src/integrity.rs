//! MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT (RFC 8489 14.5-14.7), and the
//! keys of the short-term and long-term credential mechanisms (RFC 8489 9.1.1, 9.2.2).

use std::fmt;
use std::ops::Deref;

use aws_lc_rs::{constant_time, digest, hmac};
use md5::{Digest as _, Md5};

use crate::attr::Attribute;
use crate::error::{FingerprintError, IntegrityError};
use crate::header::HEADER_LEN;
use crate::message::Message;

/// The HMAC a message is protected with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntegrityAlgorithm {
    /// MESSAGE-INTEGRITY, HMAC-SHA1 (what ICE uses in every browser).
    Sha1,
    /// MESSAGE-INTEGRITY-SHA256, HMAC-SHA256.
    Sha256,
}

/// A credential prepared for HMAC: both HMAC keys are set up once here, so that checking a
/// message costs only the hash of that message. Build one per credential and keep it (an ICE
/// agent: one for its own password, one per remote password).
///
/// ```
/// use zvon_stun::IntegrityKey;
/// // ICE: the password from the SDP, as is.
/// let ice = IntegrityKey::short_term("VOkJxbRl1RmTxUk/WvJxBt");
/// // TURN: MD5(username ":" realm ":" password).
/// let turn = IntegrityKey::long_term("user", "example.org", "pass");
/// # let _ = (ice, turn);
/// ```
#[derive(Clone)]
pub struct IntegrityKey {
    sha1: hmac::Key,
    sha256: hmac::Key,
}

impl IntegrityKey {
    /// A key from raw key bytes (the HMAC key of RFC 8489 14.5/14.6 itself).
    pub fn from_bytes(key: &[u8]) -> Self {
        Self {
            sha1: hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key),
            sha256: hmac::Key::new(hmac::HMAC_SHA256, key),
        }
    }

    /// The short-term credential key (RFC 8489 9.1.1): the password itself.
    ///
    /// RFC 8489 runs the password through the OpaqueString profile (RFC 8265) first; this does
    /// not. ICE passwords are `ice-char` (ALPHA / DIGIT / "+" / "/", RFC 8839), which
    /// OpaqueString leaves unchanged, so for ICE the two are the same. A caller with a
    /// non-ASCII password must prepare it itself.
    pub fn short_term(password: &str) -> Self {
        Self::from_bytes(password.as_bytes())
    }

    /// The long-term credential key with the MD5 password algorithm (RFC 8489 9.2.2, and the
    /// only one in RFC 5389): `MD5(username ":" realm ":" password)`. The strings are used as
    /// given (no OpaqueString/SASLprep, see [`IntegrityKey::short_term`]).
    pub fn long_term(username: &str, realm: &str, password: &str) -> Self {
        let mut h = Md5::new();
        for part in [username, ":", realm, ":", password] {
            h.update(part.as_bytes());
        }
        Self::from_bytes(&h.finalize())
    }

    /// The long-term credential key with the SHA-256 password algorithm (RFC 8489 9.2.2):
    /// `SHA-256(username ":" realm ":" password)`.
    pub fn long_term_sha256(username: &str, realm: &str, password: &str) -> Self {
        let mut h = digest::Context::new(&digest::SHA256);
        for part in [username, ":", realm, ":", password] {
            h.update(part.as_bytes());
        }
        Self::from_bytes(h.finish().as_ref())
    }

    pub(crate) fn hmac_key(&self, alg: IntegrityAlgorithm) -> &hmac::Key {
        match alg {
            IntegrityAlgorithm::Sha1 => &self.sha1,
            IntegrityAlgorithm::Sha256 => &self.sha256,
        }
    }
}

impl fmt::Debug for IntegrityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IntegrityKey(..)")
    }
}

/// USERHASH (RFC 8489 14.4): `SHA-256(username ":" realm)`, for username anonymity.
pub fn userhash(username: &str, realm: &str) -> [u8; 32] {
    let mut h = digest::Context::new(&digest::SHA256);
    for part in [username, ":", realm] {
        h.update(part.as_bytes());
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(h.finish().as_ref());
    out
}

/// The HMAC over `msg[..attr_offset]` with the header length field rewritten to end
/// `value_len` bytes after the attribute header at `attr_offset` (RFC 8489 14.5/14.6).
/// Nothing is copied: the rewritten length goes into the HMAC as its own update.
pub(crate) fn compute_hmac(
    key: &hmac::Key,
    msg: &[u8],
    attr_offset: usize,
    value_len: usize,
) -> hmac::Tag {
    let length = (attr_offset + 4 + value_len - HEADER_LEN) as u16;
    let mut ctx = hmac::Context::with_key(key);
    ctx.update(msg.get(..2).unwrap_or_default());
    ctx.update(&length.to_be_bytes());
    ctx.update(msg.get(4..attr_offset).unwrap_or_default());
    ctx.sign()
}

//# the value of the attribute is computed as the CRC-32 of the STUN message up to (but
//# excluding) the FINGERPRINT attribute itself, XOR'ed with the 32-bit value 0x5354554e.
pub(crate) const FINGERPRINT_XOR: u32 = 0x5354_554e;

/// The FINGERPRINT value of `msg_before_fingerprint` (whose length field must already count the
/// FINGERPRINT attribute).
pub(crate) fn compute_fingerprint(msg_before_fingerprint: &[u8]) -> u32 {
    crc32fast::hash(msg_before_fingerprint) ^ FINGERPRINT_XOR
}

impl<'a> Message<'a> {
    /// Checks FINGERPRINT. ICE (RFC 8445 7.1) sends it on every check; it is what tells STUN
    /// from media on a shared port, so check it before anything costlier.
    pub fn verify_fingerprint(&self) -> Result<(), FingerprintError> {
        let (_, _, fp) = self.integrity_offsets();
        let pos = fp.ok_or(FingerprintError::Missing)?;
        let buf = self.as_bytes();
        // FINGERPRINT is last (parse checked), so the header length already ends at it.
        let want = buf
            .get(pos + 4..pos + 8)
            .and_then(|v| v.try_into().ok())
            .map(u32::from_be_bytes);
        if want == Some(compute_fingerprint(buf.get(..pos).unwrap_or_default())) {
            Ok(())
        } else {
            Err(FingerprintError::Mismatch)
        }
    }

    /// Checks the message's integrity with `key` and returns the proof that it passed.
    ///
    /// MESSAGE-INTEGRITY-SHA256 is checked when present (it is the stronger, and RFC 8489 9
    /// prefers it), else MESSAGE-INTEGRITY. A truncated MESSAGE-INTEGRITY-SHA256 (16..=32
    /// bytes) is compared on its length. The comparison is constant-time.
    pub fn verify_integrity(&self, key: &IntegrityKey) -> Result<Verified<'a>, IntegrityError> {
        let (mi, mi256, _) = self.integrity_offsets();
        let (alg, pos) = match (mi256, mi) {
            (Some(p), _) => (IntegrityAlgorithm::Sha256, p),
            (None, Some(p)) => (IntegrityAlgorithm::Sha1, p),
            (None, None) => return Err(IntegrityError::Missing),
        };
        self.verify_at(key, alg, pos)
    }

    /// Like [`Message::verify_integrity`], but checks only the attribute of algorithm `alg`
    /// (for a caller that insists on one, such as a TURN client that negotiated SHA-256).
    pub fn verify_integrity_with(
        &self,
        key: &IntegrityKey,
        alg: IntegrityAlgorithm,
    ) -> Result<Verified<'a>, IntegrityError> {
        let (mi, mi256, _) = self.integrity_offsets();
        let pos = match alg {
            IntegrityAlgorithm::Sha1 => mi,
            IntegrityAlgorithm::Sha256 => mi256,
        };
        self.verify_at(key, alg, pos.ok_or(IntegrityError::Missing)?)
    }

    fn verify_at(
        &self,
        key: &IntegrityKey,
        alg: IntegrityAlgorithm,
        pos: usize,
    ) -> Result<Verified<'a>, IntegrityError> {
        let buf = self.as_bytes();
        let len = buf
            .get(pos + 2..pos + 4)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]]))) // ok: 2 bytes
            .ok_or(IntegrityError::Mismatch)?;
        let received = buf
            .get(pos + 4..pos + 4 + len)
            .ok_or(IntegrityError::Mismatch)?;
        let tag = compute_hmac(key.hmac_key(alg), buf, pos, len);
        // `received` is 20 bytes for SHA-1 and 16..=32 for SHA-256 (parse checked), so the
        // prefix of the tag is the truncation RFC 8489 14.6 describes.
        let expected = tag.as_ref().get(..len).ok_or(IntegrityError::Mismatch)?;
        constant_time::verify_slices_are_equal(expected, received)
            .map_err(|_| IntegrityError::Mismatch)?;
        Ok(Verified {
            msg: *self,
            algorithm: alg,
        })
    }
}

/// A message whose MESSAGE-INTEGRITY(-SHA256) matched a key: the only way to get one is
/// [`Message::verify_integrity`]. Code that acts on what a peer asks (ICE nominating on
/// USE-CANDIDATE, switching role on ICE-CONTROLLING, adopting a peer-reflexive candidate's
/// PRIORITY; a TURN client trusting XOR-RELAYED-ADDRESS) should take a `Verified`, so that
/// forgetting the check is a compile error rather than a vulnerability. The ICE accessors live
/// here for that reason; everything on [`Message`] is reachable through `Deref`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified<'a> {
    msg: Message<'a>,
    algorithm: IntegrityAlgorithm,
}

impl<'a> Verified<'a> {
    /// The checked message.
    pub fn message(&self) -> &Message<'a> {
        &self.msg
    }

    /// Which HMAC was checked.
    pub fn algorithm(&self) -> IntegrityAlgorithm {
        self.algorithm
    }

    /// What an ICE agent reads from a connectivity check, in one pass over the attributes.
    pub fn ice(&self) -> IceCheck {
        let mut c = IceCheck::default();
        for a in self.msg.attributes() {
            match a {
                Attribute::Priority(p) if c.priority.is_none() => c.priority = Some(p),
                Attribute::UseCandidate => c.use_candidate = true,
                Attribute::IceControlling(t) if c.role.is_none() => {
                    c.role = Some(IceRole::Controlling(t))
                }
                Attribute::IceControlled(t) if c.role.is_none() => {
                    c.role = Some(IceRole::Controlled(t))
                }
                _ => {}
            }
        }
        c
    }

    /// PRIORITY.
    pub fn priority(&self) -> Option<u32> {
        self.ice().priority
    }

    /// `true` when USE-CANDIDATE is present.
    pub fn use_candidate(&self) -> bool {
        self.ice().use_candidate
    }

    /// ICE-CONTROLLING or ICE-CONTROLLED, whichever comes first.
    pub fn ice_role(&self) -> Option<IceRole> {
        self.ice().role
    }
}

impl<'a> Deref for Verified<'a> {
    type Target = Message<'a>;
    fn deref(&self) -> &Message<'a> {
        &self.msg
    }
}

/// The role a connectivity check claims, with its tie-breaker (RFC 8445 7.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IceRole {
    /// ICE-CONTROLLING.
    Controlling(u64),
    /// ICE-CONTROLLED.
    Controlled(u64),
}

/// The ICE attributes of a verified connectivity check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IceCheck {
    /// PRIORITY (required in a check; `None` means the check is malformed for ICE: answer 400).
    pub priority: Option<u32>,
    /// USE-CANDIDATE.
    pub use_candidate: bool,
    /// The claimed role and tie-breaker.
    pub role: Option<IceRole>,
}
