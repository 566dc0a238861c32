//! SRTP/SRTCP contexts: one master key, per-SSRC index state, protect and unprotect in place.

use crate::crypto::{RTCP_LABELS, RTP_LABELS, Transform};
use crate::header::{RTCP_CLEAR, RTP_FIXED, RtpHeader, rtcp_ssrc};
use crate::profile::split_material;
use crate::replay::{ReplayWindow, window_size};
use crate::{Error, KeyError, Role, SrtpProfile};

/// Settings of a [`Context`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Replay window in packets, per SSRC, for SRTP and SRTCP. RFC 3711 3.3.2 requires at
    /// least 64. Rounded up to a power of two and clamped to 64..=32768. Default 64.
    pub replay_window: usize,
    /// Most SSRCs one context tracks; a packet for one more is refused with
    /// [`Error::TooManyStreams`]. Default 1024.
    pub max_streams: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            replay_window: 64,
            max_streams: 1024,
        }
    }
}

impl Config {
    /// This config with another replay window (in packets).
    pub fn with_replay_window(mut self, packets: usize) -> Self {
        self.replay_window = packets;
        self
    }

    /// This config with another bound on SSRCs per context.
    pub fn with_max_streams(mut self, streams: usize) -> Self {
        self.max_streams = streams;
        self
    }
}

/// Per-SSRC state: which indices were used (protect) or received (unprotect).
#[derive(Debug, Clone)]
struct Stream {
    ssrc: u32,
    /// For SRTP, the rollover counter to assume before the first packet (set by
    /// [`Context::set_roc`]); 0 by RFC 3711 3.3.1.
    initial_roc: u32,
    window: ReplayWindow,
}

/// The largest SRTP index plus one (48 bits, RFC 3711 3.3.1).
const SRTP_INDEX_END: u64 = 1 << 48;
/// The largest SRTCP index plus one (31 bits, RFC 3711 3.4).
const SRTCP_INDEX_END: u64 = 1 << 31;
const E_FLAG: u32 = 1 << 31;

/// Estimates the packet index of `seq` from the highest index so far, RFC 3711 Appendix A.
///
/// `Err(TooOld)` when the guess lands before index 0 (ROC would be -1).
fn estimate_index(highest: u64, seq: u16) -> Result<u64, Error> {
    let roc = highest >> 16;
    let s_l = highest & 0xffff;
    let seq = u64::from(seq);
    let v = if s_l < 32768 {
        if seq > s_l + 32768 {
            match roc.checked_sub(1) {
                Some(v) => v,
                None => return Err(Error::TooOld { index: seq }),
            }
        } else {
            roc
        }
    } else if s_l - 32768 > seq {
        roc + 1
    } else {
        roc
    };
    Ok((v << 16) | seq)
}

/// Finds `ssrc` in a list kept sorted by SSRC.
fn find(streams: &[Stream], ssrc: u32) -> Result<usize, usize> {
    streams.binary_search_by_key(&ssrc, |s| s.ssrc)
}

/// One SRTP cryptographic context: a master key and salt, the session keys derived from them,
/// and per-SSRC rollover counters and replay windows.
///
/// Use one context per direction: the outbound one only protects, the inbound one only
/// unprotects (their per-SSRC state would otherwise mix). [`Session::from_dtls`] makes both
/// from the keys DTLS exports.
///
/// Protection appends the tag (and for SRTCP the index word), so a buffer needs
/// [`SrtpProfile::rtp_overhead`] / [`SrtpProfile::rtcp_overhead`] bytes of room after the
/// packet. Unprotection works in place and returns the plaintext length; on any error the
/// per-SSRC state is unchanged (RFC 3711 3.3: state is updated only after authentication).
///
/// ```
/// use zvon_srtp::{Config, Context, SrtpProfile};
/// let p = SrtpProfile::AeadAes128Gcm;
/// let (key, salt) = ([7u8; 16], [9u8; 12]);
/// let mut tx = Context::new(p, &key, &salt, &Config::default()).unwrap();
/// let mut rx = Context::new(p, &key, &salt, &Config::default()).unwrap();
///
/// let mut packet = vec![0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 42];
/// packet.extend_from_slice(b"media");
/// packet.reserve(p.rtp_overhead()); // protecting then allocates nothing
/// tx.protect_rtp(&mut packet).unwrap();
/// let n = rx.unprotect_rtp(&mut packet).unwrap();
/// assert_eq!(&packet[12..n], b"media");
/// ```
pub struct Context {
    profile: SrtpProfile,
    rtp: Transform,
    rtcp: Transform,
    window: usize,
    max_streams: usize,
    rtp_streams: Vec<Stream>,
    rtcp_streams: Vec<Stream>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys stay out of logs.
        f.debug_struct("Context")
            .field("profile", &self.profile)
            .field("window", &self.window)
            .field("rtp_streams", &self.rtp_streams.len())
            .field("rtcp_streams", &self.rtcp_streams.len())
            .finish_non_exhaustive()
    }
}

/// The two contexts of a DTLS-SRTP session.
#[derive(Debug)]
pub struct Session {
    /// Protects what this endpoint sends (keyed with its own `*_write_*` keys).
    pub outbound: Context,
    /// Unprotects what the peer sends.
    pub inbound: Context,
}

impl Session {
    /// Splits the RFC 5764 keying material exported by DTLS (label `EXTRACTOR-dtls_srtp`,
    /// [`SrtpProfile::keying_material_len`] bytes) by role into the two contexts.
    ///
    /// ```
    /// use zvon_srtp::{Config, Role, Session, SrtpProfile};
    /// let p = SrtpProfile::Aes128CmHmacSha1_80;
    /// let material = vec![0x5a; p.keying_material_len()]; // from the DTLS exporter
    /// let mut client = Session::from_dtls(p, &material, Role::Client, &Config::default()).unwrap();
    /// let mut server = Session::from_dtls(p, &material, Role::Server, &Config::default()).unwrap();
    ///
    /// let mut rtcp = vec![0x80, 201, 0, 1, 0, 0, 0, 7];
    /// client.outbound.protect_rtcp(&mut rtcp).unwrap();
    /// assert_eq!(server.inbound.unprotect_rtcp(&mut rtcp).unwrap(), 8);
    /// ```
    pub fn from_dtls(
        profile: SrtpProfile,
        keying_material: &[u8],
        role: Role,
        config: &Config,
    ) -> Result<Self, KeyError> {
        if keying_material.len() != profile.keying_material_len() {
            return Err(KeyError::WrongLength {
                what: "keying material",
                expected: profile.keying_material_len(),
                got: keying_material.len(),
            });
        }
        let (local, remote) = split_material(profile, keying_material, role);
        Ok(Self {
            outbound: Context::new(profile, local.key, local.salt, config)?,
            inbound: Context::new(profile, remote.key, remote.salt, config)?,
        })
    }
}

impl Context {
    /// A context from one direction's master key and master salt.
    pub fn new(
        profile: SrtpProfile,
        master_key: &[u8],
        master_salt: &[u8],
        config: &Config,
    ) -> Result<Self, KeyError> {
        if master_key.len() != profile.key_len() {
            return Err(KeyError::WrongLength {
                what: "master key",
                expected: profile.key_len(),
                got: master_key.len(),
            });
        }
        if master_salt.len() != profile.salt_len() {
            return Err(KeyError::WrongLength {
                what: "master salt",
                expected: profile.salt_len(),
                got: master_salt.len(),
            });
        }
        let derive = |labels| {
            Transform::derive(profile, master_key, master_salt, labels).ok_or(
                KeyError::WrongLength {
                    what: "master key",
                    expected: profile.key_len(),
                    got: master_key.len(),
                },
            )
        };
        Ok(Self::from_transforms(
            profile,
            derive(RTP_LABELS)?,
            derive(RTCP_LABELS)?,
            config,
        ))
    }

    pub(crate) fn from_transforms(
        profile: SrtpProfile,
        rtp: Transform,
        rtcp: Transform,
        config: &Config,
    ) -> Self {
        Self {
            profile,
            rtp,
            rtcp,
            window: window_size(config.replay_window),
            max_streams: config.max_streams,
            rtp_streams: Vec::new(),
            rtcp_streams: Vec::new(),
        }
    }

    /// The protection profile.
    pub fn profile(&self) -> SrtpProfile {
        self.profile
    }

    /// The replay window in effect, in packets (the configured one after rounding).
    pub fn replay_window(&self) -> usize {
        self.window
    }

    /// The current rollover counter of an SSRC's SRTP stream, `None` before its first packet.
    pub fn roc(&self, ssrc: u32) -> Option<u32> {
        let s = &self.rtp_streams[find(&self.rtp_streams, ssrc).ok()?];
        s.window.highest().map(|h| (h >> 16) as u32)
    }

    /// Sets the rollover counter an SSRC's SRTP stream starts from, forgetting any state it
    /// had. DTLS-SRTP never needs this (every stream starts at 0); it serves streams joined
    /// midway and tests. Fails only with [`Error::TooManyStreams`].
    pub fn set_roc(&mut self, ssrc: u32, roc: u32) -> Result<(), Error> {
        let window = ReplayWindow::new(self.window);
        let stream = Stream {
            ssrc,
            initial_roc: roc,
            window,
        };
        match find(&self.rtp_streams, ssrc) {
            Ok(i) => self.rtp_streams[i] = stream,
            Err(pos) => {
                if self.rtp_streams.len() >= self.max_streams {
                    return Err(Error::TooManyStreams);
                }
                self.rtp_streams.insert(pos, stream);
            }
        }
        Ok(())
    }

    /// Makes the next SRTCP packet of `ssrc` carry `index` (the RFC 7714 vectors use 0x5d4).
    #[cfg(test)]
    pub(crate) fn set_next_rtcp_index(&mut self, ssrc: u32, index: u32) {
        let mut s = self.new_stream(ssrc);
        if let Some(prev) = index.checked_sub(1) {
            s.window.accept(u64::from(prev));
        }
        let slot = find(&self.rtcp_streams, ssrc);
        match slot {
            Ok(i) => self.rtcp_streams[i] = s,
            Err(pos) => self.rtcp_streams.insert(pos, s),
        }
    }

    #[cfg(test)]
    fn new_stream(&self, ssrc: u32) -> Stream {
        Stream {
            ssrc,
            initial_roc: 0,
            window: ReplayWindow::new(self.window),
        }
    }

    /// Finds the SRTP stream of `ssrc` and the index of `seq` in it, checked against the
    /// replay window. `Err(pos)` is where a new stream would go.
    fn rtp_index(&self, ssrc: u32, seq: u16) -> Result<(Result<usize, usize>, u64), Error> {
        let slot = find(&self.rtp_streams, ssrc);
        let index = match slot {
            Ok(i) => {
                let s = &self.rtp_streams[i];
                let index = match s.window.highest() {
                    Some(h) => estimate_index(h, seq)?,
                    None => (u64::from(s.initial_roc) << 16) | u64::from(seq),
                };
                s.window.check(index)?;
                index
            }
            Err(_) if self.rtp_streams.len() >= self.max_streams => {
                return Err(Error::TooManyStreams);
            }
            //# RFC 3711 3.3.1: "the receiver SHALL initialize s_l to the SEQ of the first
            //# packet" with ROC 0.
            Err(_) => u64::from(seq),
        };
        if index >= SRTP_INDEX_END {
            return Err(Error::KeyLimit);
        }
        Ok((slot, index))
    }

    /// Records an accepted index; a new SSRC's state is allocated here, once.
    fn record(
        streams: &mut Vec<Stream>,
        window: usize,
        ssrc: u32,
        slot: Result<usize, usize>,
        index: u64,
    ) {
        match slot {
            Ok(i) => streams[i].window.accept(index),
            Err(pos) => {
                let mut s = Stream {
                    ssrc,
                    initial_roc: 0,
                    window: ReplayWindow::new(window),
                };
                s.window.accept(index);
                streams.insert(pos, s);
            }
        }
    }

    /// Protects the RTP packet in `buf[..len]` in place, appending the tag. Returns the SRTP
    /// packet length (`len + profile.rtp_overhead()`); `buf` must be at least that long.
    pub fn protect_rtp_in_place(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let tag_len = self.profile.rtp_tag_len();
        // Saturating: `len` comes from the caller and may be anything.
        let needed = len.saturating_add(tag_len);
        if needed > buf.len() {
            return Err(Error::BufferTooSmall {
                needed,
                capacity: buf.len(),
            });
        }
        let hdr = RtpHeader::parse(&buf[..len])?;
        let (slot, index) = self.rtp_index(hdr.ssrc, hdr.seq).map_err(|e| match e {
            Error::Replay { index } | Error::TooOld { index } => Error::IndexReused { index },
            e => e,
        })?;
        let (packet, rest) = buf.split_at_mut(len);
        match &self.rtp {
            Transform::Cm(t) => {
                t.apply_keystream(hdr.ssrc, index, &mut packet[hdr.len..])?;
                let roc = ((index >> 16) as u32).to_be_bytes();
                //# RFC 3711 4.2: the authenticated portion is the header and the encrypted
                //# portion; the ROC is appended for the MAC.
                let tag = t.mac(packet, &roc);
                rest[..tag_len].copy_from_slice(&tag.as_ref()[..tag_len]);
            }
            Transform::Gcm(t) => {
                let (header, payload) = packet.split_at_mut(hdr.len);
                //# RFC 7714 8.2: the AAD is the RTP header, CSRCs and extension included.
                let tag = t.seal(t.rtp_nonce(hdr.ssrc, index), header, payload)?;
                rest[..tag_len].copy_from_slice(tag.as_ref());
            }
        }
        Self::record(&mut self.rtp_streams, self.window, hdr.ssrc, slot, index);
        Ok(needed)
    }

    /// Protects the RTP packet in `buf`, appending the tag. Reserve
    /// [`SrtpProfile::rtp_overhead`] bytes of capacity to keep it allocation-free. On error
    /// `buf` is as it was, except that its payload may be garbled.
    pub fn protect_rtp(&mut self, buf: &mut Vec<u8>) -> Result<(), Error> {
        let len = buf.len();
        buf.resize(len + self.profile.rtp_overhead(), 0);
        match self.protect_rtp_in_place(buf, len) {
            Ok(n) => {
                buf.truncate(n);
                Ok(())
            }
            Err(e) => {
                buf.truncate(len);
                Err(e)
            }
        }
    }

    /// Authenticates and decrypts the SRTP packet `buf` in place. Returns the length of the
    /// RTP packet now at the start of `buf` (the tag is dropped).
    ///
    /// On error nothing in the context changed; the bytes of `buf` may be garbled.
    pub fn unprotect_rtp(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let tag_len = self.profile.rtp_tag_len();
        let len = buf.len();
        let min = RTP_FIXED + tag_len;
        if len < min {
            return Err(Error::TooShort { len, min });
        }
        let n = len - tag_len;
        let hdr = RtpHeader::parse(&buf[..n]).map_err(|e| match e {
            Error::TooShort { min, .. } => Error::TooShort {
                len,
                min: min + tag_len,
            },
            e => e,
        })?;
        let (slot, index) = self.rtp_index(hdr.ssrc, hdr.seq)?;
        match &self.rtp {
            Transform::Cm(t) => {
                let (packet, tag) = buf.split_at_mut(n);
                let roc = ((index >> 16) as u32).to_be_bytes();
                t.verify(packet, &roc, tag)?;
                t.apply_keystream(hdr.ssrc, index, &mut packet[hdr.len..])?;
            }
            Transform::Gcm(t) => {
                let (header, sealed) = buf.split_at_mut(hdr.len);
                t.open(t.rtp_nonce(hdr.ssrc, index), header, sealed)?;
            }
        }
        Self::record(&mut self.rtp_streams, self.window, hdr.ssrc, slot, index);
        Ok(n)
    }

    /// Protects the (compound) RTCP packet in `buf[..len]` in place: encrypts all but the
    /// first 8 bytes, appends the E-flag and SRTCP index, and the tag. Returns the SRTCP
    /// length (`len + profile.rtcp_overhead()`); `buf` must be at least that long.
    pub fn protect_rtcp_in_place(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let tag_len = self.profile.rtcp_tag_len();
        let needed = len.saturating_add(4 + tag_len);
        if needed > buf.len() {
            return Err(Error::BufferTooSmall {
                needed,
                capacity: buf.len(),
            });
        }
        let ssrc = rtcp_ssrc(&buf[..len], RTCP_CLEAR)?;
        let slot = find(&self.rtcp_streams, ssrc);
        //# RFC 3711 3.4: "The SRTCP index MUST be set to zero before the first SRTCP packet
        //# is sent, and MUST be incremented by one, modulo 2^31, after each SRTCP packet is
        //# sent." Wrapping would replay indices under the same key (9.2), so we stop instead.
        let index = match slot {
            Ok(i) => self.rtcp_streams[i].window.highest().map_or(0, |h| h + 1),
            Err(_) if self.rtcp_streams.len() >= self.max_streams => {
                return Err(Error::TooManyStreams);
            }
            Err(_) => 0,
        };
        if index >= SRTCP_INDEX_END {
            return Err(Error::KeyLimit);
        }
        let trailer = (E_FLAG | index as u32).to_be_bytes();
        match &self.rtcp {
            Transform::Cm(t) => {
                t.apply_keystream(ssrc, index, &mut buf[RTCP_CLEAR..len])?;
                buf[len..len + 4].copy_from_slice(&trailer);
                //# RFC 3711 3.4: the tag covers the header, the encrypted portion, and
                //# the E flag with the SRTCP index.
                let (authed, rest) = buf.split_at_mut(len + 4);
                let tag = t.mac(authed, &[]);
                rest[..tag_len].copy_from_slice(&tag.as_ref()[..tag_len]);
            }
            Transform::Gcm(t) => {
                //# RFC 7714 9.1: AAD = the first 8 octets || E flag || SRTCP index; the tag
                //# follows the ciphertext and the E/index word follows the tag.
                let mut aad = [0u8; RTCP_CLEAR + 4];
                aad[..RTCP_CLEAR].copy_from_slice(&buf[..RTCP_CLEAR]);
                aad[RTCP_CLEAR..].copy_from_slice(&trailer);
                let nonce = t.rtcp_nonce(ssrc, index as u32);
                let tag = t.seal(nonce, &aad, &mut buf[RTCP_CLEAR..len])?;
                buf[len..len + tag_len].copy_from_slice(tag.as_ref());
                buf[len + tag_len..needed].copy_from_slice(&trailer);
            }
        }
        Self::record(&mut self.rtcp_streams, self.window, ssrc, slot, index);
        Ok(needed)
    }

    /// Protects the RTCP packet in `buf`, appending index and tag. Reserve
    /// [`SrtpProfile::rtcp_overhead`] bytes of capacity to keep it allocation-free.
    pub fn protect_rtcp(&mut self, buf: &mut Vec<u8>) -> Result<(), Error> {
        let len = buf.len();
        buf.resize(len + self.profile.rtcp_overhead(), 0);
        match self.protect_rtcp_in_place(buf, len) {
            Ok(n) => {
                buf.truncate(n);
                Ok(())
            }
            Err(e) => {
                buf.truncate(len);
                Err(e)
            }
        }
    }

    /// Authenticates and (when its E flag is set) decrypts the SRTCP packet `buf` in place.
    /// Returns the length of the RTCP packet now at the start of `buf`.
    ///
    /// On error nothing in the context changed; the bytes of `buf` may be garbled.
    pub fn unprotect_rtcp(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let tag_len = self.profile.rtcp_tag_len();
        let len = buf.len();
        let ssrc = rtcp_ssrc(buf, RTCP_CLEAR + 4 + tag_len)?;
        let n = len - 4 - tag_len;
        let trailer_at = match self.rtcp {
            Transform::Cm(_) => n,
            Transform::Gcm(_) => n + tag_len,
        };
        let word = u32::from_be_bytes([
            buf[trailer_at],
            buf[trailer_at + 1],
            buf[trailer_at + 2],
            buf[trailer_at + 3],
        ]);
        let encrypted = word & E_FLAG != 0;
        let index = u64::from(word & !E_FLAG);
        let slot = find(&self.rtcp_streams, ssrc);
        match slot {
            Ok(i) => self.rtcp_streams[i].window.check(index)?,
            Err(_) if self.rtcp_streams.len() >= self.max_streams => {
                return Err(Error::TooManyStreams);
            }
            Err(_) => {}
        }
        match &self.rtcp {
            Transform::Cm(t) => {
                let (authed, tag) = buf.split_at_mut(n + 4);
                t.verify(authed, &[], tag)?;
                if encrypted {
                    t.apply_keystream(ssrc, index, &mut authed[RTCP_CLEAR..n])?;
                }
            }
            Transform::Gcm(t) => {
                let nonce = t.rtcp_nonce(ssrc, index as u32);
                if encrypted {
                    let mut aad = [0u8; RTCP_CLEAR + 4];
                    aad[..RTCP_CLEAR].copy_from_slice(&buf[..RTCP_CLEAR]);
                    aad[RTCP_CLEAR..].copy_from_slice(&word.to_be_bytes());
                    t.open(nonce, &aad, &mut buf[RTCP_CLEAR..n + tag_len])?;
                } else {
                    //# RFC 7714 9.2 (E = 0): the whole packet and the E/index word are AAD,
                    //# the plaintext is empty. Move the word in front of the tag so that the
                    //# AAD is contiguous.
                    buf[n..].rotate_right(4);
                    let (aad, tag) = buf.split_at(n + 4);
                    t.verify(nonce, aad, tag)?;
                }
            }
        }
        Self::record(&mut self.rtcp_streams, self.window, ssrc, slot, index);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srtcp_index_exhaustion_is_a_key_limit() {
        for profile in SrtpProfile::ALL {
            let key = vec![1u8; profile.key_len()];
            let salt = vec![2u8; profile.salt_len()];
            let mut tx = Context::new(profile, &key, &salt, &Config::default()).unwrap();
            let mut rx = Context::new(profile, &key, &salt, &Config::default()).unwrap();
            tx.set_next_rtcp_index(5, 0x7fff_ffff);
            let mut last = vec![0x80, 201, 0, 1, 0, 0, 0, 5];
            tx.protect_rtcp(&mut last).unwrap();
            assert_eq!(rx.unprotect_rtcp(&mut last), Ok(8));
            let mut next = vec![0x80, 201, 0, 1, 0, 0, 0, 5];
            assert_eq!(tx.protect_rtcp(&mut next), Err(Error::KeyLimit));
            assert_eq!(next.len(), 8);
        }
    }

    #[test]
    fn estimate_follows_appendix_a() {
        // s_l in the lower half: a SEQ more than 2^15 above it belongs to the previous ROC.
        assert_eq!(estimate_index(0x1_0005, 0xfff0), Ok(0xfff0));
        assert_eq!(estimate_index(0x1_0005, 0x0006), Ok(0x1_0006));
        assert_eq!(
            estimate_index(0x0005, 0xfff0),
            Err(Error::TooOld { index: 0xfff0 })
        );
        // s_l in the upper half: a SEQ more than 2^15 below it belongs to the next ROC.
        assert_eq!(estimate_index(0x2_fff0, 0x0003), Ok(0x3_0003));
        assert_eq!(estimate_index(0x2_fff0, 0x8000), Ok(0x2_8000));
        assert_eq!(estimate_index(0x2_fff0, 0x7fef), Ok(0x3_7fef));
    }
}
