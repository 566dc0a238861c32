use zvon_base::{Classify, Fault};

/// Why a packet could not be protected or unprotected. Every variant costs one packet: none
/// ends the connection, and the caller's buffer is left for it to drop or reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The packet is shorter than its header, the header's CSRCs or extension, or the trailer
    /// the profile needs.
    #[error("packet too short: {len} bytes, at least {min} needed")]
    TooShort {
        /// Bytes in the packet.
        len: usize,
        /// Bytes the packet needs at least.
        min: usize,
    },
    /// The RTP or RTCP header is not version 2.
    #[error("not an RTP/RTCP version 2 header")]
    BadVersion,
    /// The authentication tag did not verify (tampered, wrong key, or a wrong rollover-counter
    /// guess). No state was changed.
    #[error("SRTP authentication failed")]
    AuthFailed,
    /// The packet index was already received (a duplicate).
    #[error("replayed packet (index {index} already seen)")]
    Replay {
        /// The packet index (48-bit SRTP index or 31-bit SRTCP index).
        index: u64,
    },
    /// The packet index is older than the replay window reaches, so it cannot be told apart
    /// from a replay (RFC 3711 3.3.2).
    #[error("packet index {index} is behind the replay window")]
    TooOld {
        /// The packet index.
        index: u64,
    },
    /// Protecting would reuse a packet index already used with this key (the same SSRC and
    /// sequence number twice): the keystream or GCM nonce would repeat.
    #[error("packet index {index} was already protected for this SSRC")]
    IndexReused {
        /// The packet index.
        index: u64,
    },
    /// The key has protected as many packets as the index can count (2^48 SRTP per SSRC or
    /// 2^31 SRTCP): re-key (a new DTLS handshake).
    #[error("SRTP key exhausted: re-key needed")]
    KeyLimit,
    /// The caller's buffer has no room for the tag and trailer that protection appends.
    #[error("buffer too small: {needed} bytes needed, {capacity} available")]
    BufferTooSmall {
        /// Bytes the protected packet needs.
        needed: usize,
        /// Bytes the buffer has.
        capacity: usize,
    },
    /// The context already tracks [`Config::max_streams`](crate::Config::max_streams) SSRCs.
    #[error("too many SSRCs in one SRTP context")]
    TooManyStreams,
    /// The crypto library refused an operation that cannot fail with valid keys (not expected;
    /// reported rather than panicking or sending the packet unprotected).
    #[error("crypto library failure")]
    Crypto,
}

impl Classify for Error {
    fn fault(&self) -> Fault {
        match self {
            Error::TooShort { .. } | Error::BadVersion => Fault::Malformed,
            Error::AuthFailed | Error::Replay { .. } | Error::TooOld { .. } => {
                Fault::PeerMisbehaved
            }
            Error::IndexReused { .. } | Error::BufferTooSmall { .. } => Fault::ApiMisuse,
            Error::KeyLimit | Error::TooManyStreams | Error::Crypto => Fault::Local,
        }
    }

    fn is_fatal(&self) -> bool {
        // One packet is dropped; the context stays usable (even `KeyLimit` only refuses that
        // SSRC's packets until the caller re-keys).
        false
    }
}

/// Keys handed to a constructor do not fit the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The keying material, master key or master salt has the wrong length for the profile.
    #[error("{what} is {got} bytes, the profile needs {expected}")]
    WrongLength {
        /// Which input.
        what: &'static str,
        /// Bytes the profile needs.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
}

impl Classify for KeyError {
    fn fault(&self) -> Fault {
        Fault::ApiMisuse
    }

    fn is_fatal(&self) -> bool {
        // Without keys there is no SRTP session at all.
        true
    }
}
