//! TURN ChannelData framing (RFC 8656 section 12.4) and splitting a TCP/TLS byte stream into
//! STUN and ChannelData frames.

use crate::attr::padded;
use crate::error::ChannelDataError;
use crate::header::{HEADER_LEN, MAGIC_COOKIE};

/// A TURN channel number, 0x4000..=0x4FFF (RFC 8656 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelNumber(u16);

impl ChannelNumber {
    /// The lowest channel number.
    pub const MIN: ChannelNumber = ChannelNumber(0x4000);
    /// The highest channel number.
    pub const MAX: ChannelNumber = ChannelNumber(0x4FFF);

    /// A channel number; `None` outside 0x4000..=0x4FFF.
    pub const fn new(n: u16) -> Option<Self> {
        if n >= Self::MIN.0 && n <= Self::MAX.0 {
            Some(Self(n))
        } else {
            None
        }
    }

    /// The number.
    pub const fn value(self) -> u16 {
        self.0
    }
}

/// Length of the ChannelData header.
pub const CHANNEL_DATA_HEADER_LEN: usize = 4;

/// A ChannelData message over borrowed bytes: the relayed datagram without any copy.
///
/// ```
/// use zvon_stun::{ChannelData, ChannelNumber};
/// let ch = ChannelNumber::new(0x4001).unwrap();
/// let mut buf = Vec::new();
/// ChannelData::encode(ch, b"hello", false, &mut buf);
/// let cd = ChannelData::parse(&buf).unwrap();
/// assert_eq!((cd.channel(), cd.data()), (ch, &b"hello"[..]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelData<'a> {
    channel: ChannelNumber,
    data: &'a [u8],
}

impl<'a> ChannelData<'a> {
    /// Parses one ChannelData message from a datagram or a stream frame. Bytes after the
    /// claimed length (padding, which is optional over UDP) are ignored.
    ///
    /// RFC 8656 12.5: "If the ChannelData message is received in a UDP datagram, and if the
    /// UDP datagram is too short to contain the claimed length of the ChannelData message
    /// (i.e., the UDP datagram is shorter than 4 + length), then the message is silently
    /// discarded."
    pub fn parse(buf: &'a [u8]) -> Result<Self, ChannelDataError> {
        let truncated = |needed| ChannelDataError::Truncated {
            needed,
            actual: buf.len(),
        };
        let head = buf
            .get(..CHANNEL_DATA_HEADER_LEN)
            .ok_or(truncated(CHANNEL_DATA_HEADER_LEN))?;
        let number = u16::from_be_bytes([head[0], head[1]]); // ok: 4 bytes
        let len = usize::from(u16::from_be_bytes([head[2], head[3]])); // ok: 4 bytes
        let channel = ChannelNumber::new(number).ok_or(ChannelDataError::BadChannel(number))?;
        let end = CHANNEL_DATA_HEADER_LEN + len;
        let data = buf
            .get(CHANNEL_DATA_HEADER_LEN..end)
            .ok_or(truncated(end))?;
        Ok(Self { channel, data })
    }

    /// The channel.
    pub fn channel(&self) -> ChannelNumber {
        self.channel
    }

    /// The application data.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The 4-byte header for `len` bytes of data on `channel`, for a caller that lays the data
    /// out itself (for example right after a header-sized gap, to avoid a copy).
    pub fn header(channel: ChannelNumber, len: u16) -> [u8; CHANNEL_DATA_HEADER_LEN] {
        let [a, b] = channel.0.to_be_bytes();
        let [c, d] = len.to_be_bytes();
        [a, b, c, d]
    }

    /// Appends a ChannelData message to `out`. `pad` adds zeros up to a multiple of 4, which
    /// RFC 8656 12.5 requires over TCP and TLS and leaves optional over UDP. Data longer than
    /// 65 535 bytes is cut there.
    pub fn encode(channel: ChannelNumber, data: &[u8], pad: bool, out: &mut Vec<u8>) -> usize {
        let data = data.get(..usize::from(u16::MAX)).unwrap_or(data);
        let start = out.len();
        out.extend_from_slice(&Self::header(channel, data.len() as u16));
        out.extend_from_slice(data);
        if pad {
            out.resize(start + CHANNEL_DATA_HEADER_LEN + padded(data.len()), 0);
        }
        out.len() - start
    }
}

/// What [`stream_frame_len`] found at the start of a TCP/TLS byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFrame {
    /// A STUN message of this many bytes.
    Stun(usize),
    /// A ChannelData message of this many bytes, padding included (RFC 8656 12.5: padded to a
    /// multiple of 4 over TCP).
    ChannelData(usize),
    /// Not enough bytes yet to tell the length.
    Incomplete,
    /// Neither STUN nor ChannelData: the stream is out of sync and must be closed.
    Invalid,
}

/// Finds the length of the next frame in a TURN-over-TCP/TLS (or ICE-TCP after RFC 4571
/// deframing) stream, where STUN messages and ChannelData messages follow each other with no
/// other framing. Cut that many bytes once the buffer holds them, then parse them.
///
/// ```
/// use zvon_stun::{stream_frame_len, StreamFrame};
/// assert_eq!(stream_frame_len(&[0x40, 0x00, 0x00, 0x05]), StreamFrame::ChannelData(12));
/// assert_eq!(stream_frame_len(&[0x00, 0x01]), StreamFrame::Incomplete);
/// ```
pub fn stream_frame_len(stream: &[u8]) -> StreamFrame {
    let Some(&first) = stream.first() else {
        return StreamFrame::Incomplete;
    };
    match first >> 6 {
        0b00 => {
            let Some(head) = stream.get(..8) else {
                return StreamFrame::Incomplete;
            };
            let len = u16::from_be_bytes([head[2], head[3]]); // ok: 8 bytes
            let cookie = u32::from_be_bytes([head[4], head[5], head[6], head[7]]); // ok
            if cookie != MAGIC_COOKIE || len % 4 != 0 {
                return StreamFrame::Invalid;
            }
            StreamFrame::Stun(HEADER_LEN + usize::from(len))
        }
        0b01 => {
            let Some(head) = stream.get(..CHANNEL_DATA_HEADER_LEN) else {
                return StreamFrame::Incomplete;
            };
            let number = u16::from_be_bytes([head[0], head[1]]); // ok: 4 bytes
            if ChannelNumber::new(number).is_none() {
                return StreamFrame::Invalid;
            }
            let len = usize::from(u16::from_be_bytes([head[2], head[3]])); // ok: 4 bytes
            StreamFrame::ChannelData(CHANNEL_DATA_HEADER_LEN + padded(len))
        }
        _ => StreamFrame::Invalid,
    }
}
