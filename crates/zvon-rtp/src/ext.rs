//! The RTP header extensions WebRTC negotiates (`a=extmap`, RFC 8285), their URIs, the map
//! from the negotiated ids, and their values.
//!
//! ```
//! use zvon_rtp::ext::{AudioLevel, Extension, ExtensionMap, ExtensionValues};
//! let mut map = ExtensionMap::new();
//! // a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
//! assert_eq!(map.insert_uri(1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
//!            Some(Extension::AudioLevel));
//! let values = ExtensionValues::parse(&map, [(1u8, &[0x8a][..])].into_iter());
//! assert_eq!(values.audio_level, Some(AudioLevel { voice: true, level: 10 }));
//! ```

use std::fmt;

use crate::bytes::{sign_extend_24, u16_at, u24_at, u64_at};
use crate::time::NtpTime;

/// A header extension this crate decodes, named by the URI in `a=extmap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Extension {
    /// `urn:ietf:params:rtp-hdrext:sdes:mid` (RFC 8843): the media section (BUNDLE).
    Mid,
    /// `urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id` (RFC 8852): the simulcast layer.
    Rid,
    /// `urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id` (RFC 8852): the layer an RTX
    /// or FEC stream repairs.
    RepairedRid,
    /// `http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time`: send time, 6.18 fixed
    /// point seconds (24 bits).
    AbsSendTime,
    /// `http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01`: the
    /// transport-wide sequence number that transport-wide feedback reports on.
    TransportCc,
    /// `urn:ietf:params:rtp-hdrext:ssrc-audio-level` (RFC 6464).
    AudioLevel,
    /// `urn:3gpp:video-orientation` (3GPP TS 26.114, coordination of video orientation).
    VideoOrientation,
    /// `http://www.webrtc.org/experiments/rtp-hdrext/playout-delay`.
    PlayoutDelay,
    /// `http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time`.
    AbsCaptureTime,
    /// `urn:ietf:params:rtp-hdrext:toffset` (RFC 5450): transmission time offset.
    TransmissionOffset,
}

impl Extension {
    /// Every extension this crate knows, in the order [`ExtensionValues`] writes them.
    pub const ALL: [Extension; 10] = [
        Extension::Mid,
        Extension::Rid,
        Extension::RepairedRid,
        Extension::AbsSendTime,
        Extension::TransportCc,
        Extension::AudioLevel,
        Extension::VideoOrientation,
        Extension::PlayoutDelay,
        Extension::AbsCaptureTime,
        Extension::TransmissionOffset,
    ];

    /// The URI that names it in `a=extmap`.
    pub const fn uri(self) -> &'static str {
        match self {
            Extension::Mid => "urn:ietf:params:rtp-hdrext:sdes:mid",
            Extension::Rid => "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
            Extension::RepairedRid => "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
            Extension::AbsSendTime => "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
            Extension::TransportCc => {
                "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
            }
            Extension::AudioLevel => "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
            Extension::VideoOrientation => "urn:3gpp:video-orientation",
            Extension::PlayoutDelay => "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
            Extension::AbsCaptureTime => {
                "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time"
            }
            Extension::TransmissionOffset => "urn:ietf:params:rtp-hdrext:toffset",
        }
    }

    /// The extension a URI names; `None` for URIs this crate does not decode.
    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.uri() == uri)
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// The negotiated ids of the header extensions of one media section (`a=extmap:<id> <uri>`):
/// id to extension and back, without allocating. Ids run 1..=255 (1..=14 in the one-byte
/// form); 0 is padding and never maps.
#[derive(Clone, PartialEq, Eq)]
pub struct ExtensionMap {
    /// Per id, the extension's index + 1; 0 when unmapped.
    by_id: [u8; 256],
    /// Per extension, its id; 0 when unmapped.
    ids: [u8; Extension::ALL.len()],
}

impl Default for ExtensionMap {
    fn default() -> Self {
        Self::new()
    }
}

impl ExtensionMap {
    /// An empty map.
    pub const fn new() -> Self {
        Self {
            by_id: [0; 256],
            ids: [0; Extension::ALL.len()],
        }
    }

    /// Maps `id` to `ext`, replacing what `id` mapped to and the id `ext` had. Returns `false`
    /// (and changes nothing) for id 0.
    pub fn insert(&mut self, id: u8, ext: Extension) -> bool {
        if id == 0 {
            return false;
        }
        self.remove_id(id);
        let old = self.ids[ext.index()]; // ok: index < ALL.len()
        if old != 0 {
            self.by_id[usize::from(old)] = 0; // ok: u8 index into 256
        }
        self.ids[ext.index()] = id; // ok: index < ALL.len()
        self.by_id[usize::from(id)] = ext.index() as u8 + 1; // ok: u8 index into 256
        true
    }

    /// Maps `id` to the extension `uri` names, as an `a=extmap` line does; returns that
    /// extension, or `None` (and changes nothing) for a URI this crate does not decode or id 0.
    pub fn insert_uri(&mut self, id: u8, uri: &str) -> Option<Extension> {
        let ext = Extension::from_uri(uri)?;
        self.insert(id, ext).then_some(ext)
    }

    /// Unmaps `id`.
    pub fn remove_id(&mut self, id: u8) {
        if let Some(ext) = self.get(id) {
            self.ids[ext.index()] = 0; // ok: index < ALL.len()
            self.by_id[usize::from(id)] = 0; // ok: u8 index into 256
        }
    }

    /// The extension `id` maps to.
    pub fn get(&self, id: u8) -> Option<Extension> {
        let slot = self.by_id[usize::from(id)]; // ok: u8 index into 256
        Extension::ALL
            .get(usize::from(slot).checked_sub(1)?)
            .copied()
    }

    /// The id of `ext`.
    pub fn id(&self, ext: Extension) -> Option<u8> {
        Some(self.ids[ext.index()]).filter(|&id| id != 0) // ok: index < ALL.len()
    }

    /// Every mapping, by extension order.
    pub fn iter(&self) -> impl Iterator<Item = (u8, Extension)> + '_ {
        Extension::ALL
            .into_iter()
            .filter_map(|e| self.id(e).map(|id| (id, e)))
    }

    /// `true` when an id needs the two-byte form (above 14).
    pub fn needs_two_byte(&self) -> bool {
        self.iter().any(|(id, _)| id > 14)
    }
}

impl fmt::Debug for ExtensionMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// The audio level of a packet (RFC 6464): the voice-activity flag and the level in -dBov
/// (0 is the loudest, 127 silence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AudioLevel {
    /// The V bit: the packet contains speech, as the sender's voice activity detection says.
    pub voice: bool,
    /// 0..=127, in -dBov.
    pub level: u8,
}

impl AudioLevel {
    /// Decodes the first byte of the value (RFC 6464 3: `V` then 7 bits of level).
    pub fn parse(value: &[u8]) -> Option<Self> {
        let &b = value.first()?;
        Some(Self {
            voice: b & 0x80 != 0,
            level: b & 0x7F,
        })
    }

    /// The one-byte value (the level is capped at 127).
    pub fn to_byte(self) -> u8 {
        u8::from(self.voice) << 7 | self.level.min(127)
    }
}

/// Clockwise rotation the receiver applies before display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rotation {
    /// None.
    Deg0,
    /// 90 degrees.
    Deg90,
    /// 180 degrees.
    Deg180,
    /// 270 degrees.
    Deg270,
}

/// Coordination of video orientation (CVO, 3GPP TS 26.114 7.4.5): one byte `0000 C F R1 R0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VideoOrientation {
    /// C: the back-facing camera (false: front-facing or unknown).
    pub back_camera: bool,
    /// F: flip horizontally.
    pub flip: bool,
    /// R1 R0: rotation.
    pub rotation: Rotation,
}

impl VideoOrientation {
    /// Decodes the first byte of the value.
    pub fn parse(value: &[u8]) -> Option<Self> {
        let &b = value.first()?;
        Some(Self {
            back_camera: b & 0x08 != 0,
            flip: b & 0x04 != 0,
            rotation: match b & 0x03 {
                0 => Rotation::Deg0,
                1 => Rotation::Deg90,
                2 => Rotation::Deg180,
                _ => Rotation::Deg270,
            },
        })
    }

    /// The one-byte value.
    pub fn to_byte(self) -> u8 {
        u8::from(self.back_camera) << 3 | u8::from(self.flip) << 2 | self.rotation as u8
    }
}

/// Playout delay limits the sender asks of the receiver's jitter buffer, in units of 10 ms
/// (12 bits each, up to 40.95 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlayoutDelay {
    /// Minimum delay, 10 ms units.
    pub min: u16,
    /// Maximum delay, 10 ms units.
    pub max: u16,
}

impl PlayoutDelay {
    /// Decodes a 3-byte value: 12 bits of minimum, 12 bits of maximum.
    pub fn parse(value: &[u8]) -> Option<Self> {
        if value.len() != 3 {
            return None;
        }
        let v = u24_at(value, 0);
        Some(Self {
            min: (v >> 12) as u16,
            max: (v & 0xFFF) as u16,
        })
    }

    /// The 3-byte value (each limit is capped at 4095).
    pub fn to_bytes(self) -> [u8; 3] {
        let v = u32::from(self.min.min(0xFFF)) << 12 | u32::from(self.max.min(0xFFF));
        let [_, a, b, c] = v.to_be_bytes();
        [a, b, c]
    }
}

/// Absolute capture time: when the first packet's media was captured, in the original
/// capturer's NTP clock, and optionally the estimated offset of that clock from the sender's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AbsCaptureTime {
    /// Capture time, UQ32.32 NTP format.
    pub capture_time: NtpTime,
    /// Estimated capture clock offset, Q32.32 seconds (signed).
    pub clock_offset: Option<i64>,
}

impl AbsCaptureTime {
    /// Decodes an 8- or 16-byte value.
    pub fn parse(value: &[u8]) -> Option<Self> {
        let clock_offset = match value.len() {
            8 => None,
            16 => Some(u64_at(value, 8) as i64),
            _ => return None,
        };
        Some(Self {
            capture_time: NtpTime(u64_at(value, 0)),
            clock_offset,
        })
    }

    /// Writes the 8- or 16-byte value into `buf`; returns its length.
    pub fn write(self, buf: &mut [u8; 16]) -> usize {
        let (head, rest) = buf.split_at_mut(8);
        head.copy_from_slice(&self.capture_time.0.to_be_bytes());
        match self.clock_offset {
            Some(o) => {
                rest.copy_from_slice(&o.to_be_bytes());
                16
            }
            None => 8,
        }
    }
}

/// A string extension (mid, rid): the bytes up to the first NUL, if non-empty UTF-8.
fn parse_str(value: &[u8]) -> Option<&str> {
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    let s = std::str::from_utf8(value.get(..end)?).ok()?;
    (!s.is_empty()).then_some(s)
}

/// The values of the WebRTC header extensions of one packet, decoded by
/// [`ExtensionValues::parse`] (or [`crate::RtpPacket::extension_values`]) and written by
/// [`crate::RtpWriter::extension_values`]. A value that does not decode (a wrong length,
/// a string that is not UTF-8) is left out; the packet is still good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExtensionValues<'a> {
    /// [`Extension::Mid`].
    pub mid: Option<&'a str>,
    /// [`Extension::Rid`].
    pub rid: Option<&'a str>,
    /// [`Extension::RepairedRid`].
    pub repaired_rid: Option<&'a str>,
    /// [`Extension::AbsSendTime`]: 24 bits, 6.18 fixed-point seconds
    /// ([`NtpTime::abs_send_time`] makes one).
    pub abs_send_time: Option<u32>,
    /// [`Extension::TransportCc`]: the transport-wide sequence number.
    pub transport_cc: Option<u16>,
    /// [`Extension::AudioLevel`].
    pub audio_level: Option<AudioLevel>,
    /// [`Extension::VideoOrientation`].
    pub video_orientation: Option<VideoOrientation>,
    /// [`Extension::PlayoutDelay`].
    pub playout_delay: Option<PlayoutDelay>,
    /// [`Extension::AbsCaptureTime`].
    pub abs_capture_time: Option<AbsCaptureTime>,
    /// [`Extension::TransmissionOffset`]: signed 24 bits, in RTP timestamp units.
    pub transmission_offset: Option<i32>,
}

impl<'a> ExtensionValues<'a> {
    /// Decodes the elements `map` names. When an id repeats, the first value wins.
    pub fn parse(map: &ExtensionMap, elements: impl Iterator<Item = (u8, &'a [u8])>) -> Self {
        let mut v = Self::default();
        for (id, value) in elements {
            if let Some(ext) = map.get(id) {
                v.set(ext, value);
            }
        }
        v
    }

    fn set(&mut self, ext: Extension, value: &'a [u8]) {
        fn first<T>(slot: &mut Option<T>, v: Option<T>) {
            if slot.is_none() {
                *slot = v;
            }
        }
        match ext {
            Extension::Mid => first(&mut self.mid, parse_str(value)),
            Extension::Rid => first(&mut self.rid, parse_str(value)),
            Extension::RepairedRid => first(&mut self.repaired_rid, parse_str(value)),
            Extension::AbsSendTime => first(
                &mut self.abs_send_time,
                (value.len() == 3).then(|| u24_at(value, 0)),
            ),
            Extension::TransportCc => first(
                &mut self.transport_cc,
                (value.len() == 2).then(|| u16_at(value, 0)),
            ),
            Extension::AudioLevel => first(&mut self.audio_level, AudioLevel::parse(value)),
            Extension::VideoOrientation => {
                first(&mut self.video_orientation, VideoOrientation::parse(value))
            }
            Extension::PlayoutDelay => first(&mut self.playout_delay, PlayoutDelay::parse(value)),
            Extension::AbsCaptureTime => {
                first(&mut self.abs_capture_time, AbsCaptureTime::parse(value))
            }
            Extension::TransmissionOffset => first(
                &mut self.transmission_offset,
                (value.len() == 3).then(|| sign_extend_24(u24_at(value, 0))),
            ),
        }
    }

    /// Calls `emit(id, value)` for every value present whose extension `map` gives an id, in
    /// [`Extension::ALL`] order.
    pub fn write(&self, map: &ExtensionMap, mut emit: impl FnMut(u8, &[u8])) {
        let mut buf = [0u8; 16];
        for ext in Extension::ALL {
            let Some(id) = map.id(ext) else { continue };
            let value: Option<&[u8]> = match ext {
                Extension::Mid => self.mid.map(str::as_bytes),
                Extension::Rid => self.rid.map(str::as_bytes),
                Extension::RepairedRid => self.repaired_rid.map(str::as_bytes),
                Extension::AbsSendTime => self.abs_send_time.map(|t| {
                    let [_, a, b, c] = t.to_be_bytes();
                    buf[..3].copy_from_slice(&[a, b, c]);
                    &buf[..3]
                }),
                Extension::TransportCc => self.transport_cc.map(|s| {
                    buf[..2].copy_from_slice(&s.to_be_bytes());
                    &buf[..2]
                }),
                Extension::AudioLevel => self.audio_level.map(|a| {
                    buf[0] = a.to_byte();
                    &buf[..1]
                }),
                Extension::VideoOrientation => self.video_orientation.map(|o| {
                    buf[0] = o.to_byte();
                    &buf[..1]
                }),
                Extension::PlayoutDelay => self.playout_delay.map(|d| {
                    buf[..3].copy_from_slice(&d.to_bytes());
                    &buf[..3]
                }),
                Extension::AbsCaptureTime => self.abs_capture_time.map(|t| {
                    let n = t.write(&mut buf);
                    &buf[..n]
                }),
                Extension::TransmissionOffset => self.transmission_offset.map(|o| {
                    let [_, a, b, c] = o.clamp(-0x80_0000, 0x7F_FFFF).to_be_bytes();
                    buf[..3].copy_from_slice(&[a, b, c]);
                    &buf[..3]
                }),
            };
            if let Some(value) = value {
                emit(id, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_is_a_bijection() {
        let mut m = ExtensionMap::new();
        assert!(!m.insert(0, Extension::Mid));
        assert!(m.insert(3, Extension::Mid));
        assert!(m.insert(3, Extension::Rid)); // id 3 moves to rid; mid loses it
        assert_eq!(
            (m.get(3), m.id(Extension::Mid)),
            (Some(Extension::Rid), None)
        );
        assert!(m.insert(200, Extension::Rid)); // rid moves to 200; 3 is free
        assert_eq!((m.get(3), m.get(200)), (None, Some(Extension::Rid)));
        assert!(m.needs_two_byte());
        m.remove_id(200);
        assert_eq!(m.iter().count(), 0);
        for e in Extension::ALL {
            assert_eq!(Extension::from_uri(e.uri()), Some(e));
        }
        assert_eq!(m.insert_uri(5, "urn:example:unknown"), None);
    }

    #[test]
    fn value_encodings() {
        // RFC 6464 3: V=1, level 42 -dBov.
        assert_eq!(
            AudioLevel::parse(&[0x80 | 42]),
            Some(AudioLevel {
                voice: true,
                level: 42
            })
        );
        // CVO: back camera, flipped, 270 degrees.
        let o = VideoOrientation::parse(&[0x0f]).unwrap();
        assert_eq!(
            o,
            VideoOrientation {
                back_camera: true,
                flip: true,
                rotation: Rotation::Deg270
            }
        );
        assert_eq!(o.to_byte(), 0x0f);
        // Playout delay min 100 ms (10), max 1 s (100): 0x00a 0x064.
        let d = PlayoutDelay::parse(&[0x00, 0xa0, 0x64]).unwrap();
        assert_eq!(d, PlayoutDelay { min: 10, max: 100 });
        assert_eq!(d.to_bytes(), [0x00, 0xa0, 0x64]);
        assert_eq!(parse_str(b"ab\0\0"), Some("ab"));
        assert_eq!(parse_str(b"\0"), None);
        assert_eq!(parse_str(&[0xff]), None);
    }

    #[test]
    fn values_round_trip_through_a_packet() {
        let mut map = ExtensionMap::new();
        for (i, e) in Extension::ALL.into_iter().enumerate() {
            map.insert(i as u8 + 1, e);
        }
        let values = ExtensionValues {
            mid: Some("audio0"),
            rid: Some("hi"),
            repaired_rid: Some("lo"),
            abs_send_time: Some(0xabcdef),
            transport_cc: Some(0xfffe),
            audio_level: Some(AudioLevel {
                voice: false,
                level: 127,
            }),
            video_orientation: Some(VideoOrientation {
                back_camera: false,
                flip: false,
                rotation: Rotation::Deg90,
            }),
            playout_delay: Some(PlayoutDelay { min: 0, max: 4095 }),
            abs_capture_time: Some(AbsCaptureTime {
                capture_time: NtpTime(0x0102_0304_0506_0708),
                clock_offset: Some(-5),
            }),
            transmission_offset: Some(-1000),
        };
        let mut out = Vec::new();
        let mut w = crate::RtpWriter::new(&mut out, &crate::RtpHeader::default());
        w.extension_values(&map, &values);
        let len = w.finish(&[], 0);
        let p = crate::RtpPacket::new_checked(&out[..len]).unwrap();
        assert_eq!(p.extension_values(&map), values);
    }
}
