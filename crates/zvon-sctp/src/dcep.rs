//! The Data Channel Establishment Protocol (RFC 8832): DATA_CHANNEL_OPEN and DATA_CHANNEL_ACK,
//! sent with PPID 50 on the channel's own stream.

use crate::error::Error;
use zvon_base::Reader;

/// DCEP message type: DATA_CHANNEL_ACK.
pub const ACK: u8 = 0x02;
/// DCEP message type: DATA_CHANNEL_OPEN.
pub const OPEN: u8 = 0x03;

/// Payload protocol identifiers (RFC 8831 8).
pub mod ppid {
    /// DCEP.
    pub const DCEP: u32 = 50;
    /// UTF-8 string.
    pub const STRING: u32 = 51;
    /// Binary, partial (deprecated).
    pub const BINARY_PARTIAL: u32 = 52;
    /// Binary.
    pub const BINARY: u32 = 53;
    /// String, partial (deprecated).
    pub const STRING_PARTIAL: u32 = 54;
    /// Empty string.
    pub const STRING_EMPTY: u32 = 56;
    /// Empty binary message.
    pub const BINARY_EMPTY: u32 = 57;
}

/// How a channel's messages are delivered: the channel type of DATA_CHANNEL_OPEN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Reliability {
    /// Retransmit until delivered.
    #[default]
    Reliable,
    /// Give up after this many retransmissions (`maxRetransmits`).
    MaxRetransmits(u16),
    /// Give up after this many milliseconds (`maxPacketLifeTime`).
    MaxLifetimeMs(u32),
}

/// A parsed DATA_CHANNEL_OPEN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    /// In-order delivery.
    pub ordered: bool,
    /// Reliability.
    pub reliability: Reliability,
    /// Priority (RFC 8832 5.1).
    pub priority: u16,
    /// Label.
    pub label: String,
    /// Sub-protocol.
    pub protocol: String,
}

impl Open {
    /// Parses the message (type byte included).
    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(b);
        if r.u8()? != OPEN {
            return Err(Error::Malformed("not a DATA_CHANNEL_OPEN"));
        }
        let ctype = r.u8()?;
        let priority = r.u16()?;
        let param = r.u32()?;
        let llen = r.u16()? as usize;
        let plen = r.u16()? as usize;
        let label = String::from_utf8_lossy(r.take(llen)?).into_owned();
        let protocol = String::from_utf8_lossy(r.take(plen)?).into_owned();
        let reliability = match ctype & 0x7f {
            0x00 => Reliability::Reliable,
            0x01 => Reliability::MaxRetransmits(param.min(u16::MAX as u32) as u16),
            0x02 => Reliability::MaxLifetimeMs(param),
            _ => return Err(Error::Malformed("DCEP channel type")),
        };
        Ok(Self {
            ordered: ctype & 0x80 == 0,
            reliability,
            priority,
            label,
            protocol,
        })
    }

    /// Appends the encoded message.
    pub fn encode(&self, buf: &mut Vec<u8>) {
        let (t, p) = match self.reliability {
            Reliability::Reliable => (0x00, 0),
            Reliability::MaxRetransmits(n) => (0x01, n as u32),
            Reliability::MaxLifetimeMs(ms) => (0x02, ms),
        };
        buf.push(OPEN);
        buf.push(t | if self.ordered { 0 } else { 0x80 });
        buf.extend_from_slice(&self.priority.to_be_bytes());
        buf.extend_from_slice(&p.to_be_bytes());
        buf.extend_from_slice(&(self.label.len() as u16).to_be_bytes());
        buf.extend_from_slice(&(self.protocol.len() as u16).to_be_bytes());
        buf.extend_from_slice(self.label.as_bytes());
        buf.extend_from_slice(self.protocol.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn open_round_trip_and_truncation() {
        let o = Open {
            ordered: false,
            reliability: Reliability::MaxLifetimeMs(1500),
            priority: 256,
            label: "chat".into(),
            protocol: "x-proto".into(),
        };
        let mut b = Vec::new();
        o.encode(&mut b);
        assert_eq!(Open::parse(&b).unwrap(), o);
        for n in 0..b.len() {
            assert!(Open::parse(&b[..n]).is_err());
        }
    }

    proptest! {
        #[test]
        fn open_round_trips(ordered in any::<bool>(), r in 0u8..3, p in any::<u16>(), x in any::<u32>(),
                            label in "\\PC{0,20}", protocol in "\\PC{0,20}") {
            let reliability = match r { 0 => Reliability::Reliable, 1 => Reliability::MaxRetransmits(x as u16), _ => Reliability::MaxLifetimeMs(x) };
            let o = Open { ordered, reliability, priority: p, label, protocol };
            let mut b = Vec::new();
            o.encode(&mut b);
            prop_assert_eq!(Open::parse(&b).unwrap(), o);
        }

        #[test]
        fn parse_never_panics(b in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = Open::parse(&b);
        }
    }
}
