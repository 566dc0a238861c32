//! RFC 7983 demultiplexing: one 5-tuple carries STUN, DTLS, SRTP/SRTCP and TURN ChannelData,
//! told apart by the first byte of each datagram.
//!
//! ```text
//!            +----------------+
//!            |        [0..3] -+--> STUN
//!            |      [16..19] -+--> ZRTP (dropped)
//!  packet -->|      [20..63] -+--> DTLS
//!            |      [64..79] -+--> TURN ChannelData
//!            |    [128..191] -+--> RTP/RTCP
//!            +----------------+
//! ```

/// What a datagram is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatagramKind {
    /// STUN (first byte 0..=3).
    Stun,
    /// DTLS record (first byte 20..=63).
    Dtls,
    /// TURN ChannelData (first byte 64..=79).
    ChannelData,
    /// RTP (first byte 128..=191, payload type outside 64..=95).
    Rtp,
    /// RTCP (first byte 128..=191, second byte 192..=223, RFC 5761).
    Rtcp,
    /// Anything else, including ZRTP: dropped.
    Unknown,
}

/// Classifies a datagram per RFC 7983 section 7 and RFC 5761 section 4.
///
/// ```
/// use zvon_base::{classify, DatagramKind};
/// assert_eq!(classify(&[0x00, 0x01, 0x00, 0x00]), DatagramKind::Stun);
/// assert_eq!(classify(&[0x16, 0xfe, 0xfd]), DatagramKind::Dtls);
/// assert_eq!(classify(&[0x80, 0xc8]), DatagramKind::Rtcp); // a sender report
/// assert_eq!(classify(&[0x80, 0x60]), DatagramKind::Rtp);
/// ```
pub fn classify(datagram: &[u8]) -> DatagramKind {
    let Some(&first) = datagram.first() else {
        return DatagramKind::Unknown;
    };
    match first {
        0..=3 => DatagramKind::Stun,
        20..=63 => DatagramKind::Dtls,
        64..=79 => DatagramKind::ChannelData,
        128..=191 => match datagram.get(1) {
            // RFC 5761 4: RTCP packet types 192..=223 collide with RTP payload types 64..=95
            // with the marker bit set; those RTP payload types must not be used with rtcp-mux.
            Some(192..=223) => DatagramKind::Rtcp,
            Some(_) => DatagramKind::Rtp,
            None => DatagramKind::Unknown,
        },
        _ => DatagramKind::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_first_byte_has_one_kind() {
        for b in 0..=255u8 {
            let k = classify(&[b, 0x60]);
            let expected = match b {
                0..=3 => DatagramKind::Stun,
                20..=63 => DatagramKind::Dtls,
                64..=79 => DatagramKind::ChannelData,
                128..=191 => DatagramKind::Rtp,
                _ => DatagramKind::Unknown,
            };
            assert_eq!(k, expected, "first byte {b}");
        }
    }

    #[test]
    fn rtcp_by_packet_type() {
        for pt in 192..=223u8 {
            assert_eq!(classify(&[0x80, pt]), DatagramKind::Rtcp);
        }
        assert_eq!(classify(&[0x80, 224]), DatagramKind::Rtp);
        assert_eq!(classify(&[0x80]), DatagramKind::Unknown);
        assert_eq!(classify(&[]), DatagramKind::Unknown);
    }
}
