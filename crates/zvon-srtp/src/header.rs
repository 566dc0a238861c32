//! The few header fields SRTP reads: checked once, so that the transforms index safely.

use zvon_base::Reader;

use crate::Error;

/// Fixed RTP header length (RFC 3550 5.1).
pub(crate) const RTP_FIXED: usize = 12;
/// The RTCP header that SRTCP leaves in the clear: V/P/RC, PT, length, sender SSRC.
pub(crate) const RTCP_CLEAR: usize = 8;

/// What SRTP needs from an RTP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RtpHeader {
    /// Header length including CSRCs and the extension: the part that stays in the clear.
    pub(crate) len: usize,
    pub(crate) seq: u16,
    pub(crate) ssrc: u32,
}

impl RtpHeader {
    /// Parses the header at the start of `packet` (which excludes any SRTP tag).
    pub(crate) fn parse(packet: &[u8]) -> Result<Self, Error> {
        let short = |min: usize| Error::TooShort {
            len: packet.len(),
            min,
        };
        let mut r = Reader::new(packet);
        let fixed: [u8; RTP_FIXED] = r.array().map_err(|_| short(RTP_FIXED))?;
        let first = fixed[0];
        if first >> 6 != 2 {
            return Err(Error::BadVersion);
        }
        let seq = u16::from_be_bytes([fixed[2], fixed[3]]);
        let ssrc = u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]);

        let csrc_len = 4 * usize::from(first & 0x0f);
        let mut len = RTP_FIXED + csrc_len;
        r.skip(csrc_len).map_err(|_| short(len))?;
        if first & 0x10 != 0 {
            //# RFC 3550 5.3.1: a 16-bit profile field, a 16-bit length in 32-bit words
            //# "excluding the four-octet extension header".
            let _profile = r.u16().map_err(|_| short(len + 4))?;
            let words = r.u16().map_err(|_| short(len + 4))?;
            len += 4 + 4 * usize::from(words);
            r.skip(4 * usize::from(words)).map_err(|_| short(len))?;
        }
        Ok(Self { len, seq, ssrc })
    }
}

/// The sender SSRC of an RTCP packet, checking that the packet has `min` bytes (at least the
/// clear header) and is version 2.
pub(crate) fn rtcp_ssrc(packet: &[u8], min: usize) -> Result<u32, Error> {
    let short = Error::TooShort {
        len: packet.len(),
        min: min.max(RTCP_CLEAR),
    };
    if packet.len() < min {
        return Err(short);
    }
    let clear: [u8; RTCP_CLEAR] = Reader::new(packet).array().map_err(|_| short)?;
    if clear[0] >> 6 != 2 {
        return Err(Error::BadVersion);
    }
    Ok(u32::from_be_bytes([clear[4], clear[5], clear[6], clear[7]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_csrcs_and_extension() {
        let mut p = vec![0x92, 0x60, 0x12, 0x34, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef];
        p.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]); // two CSRCs
        p.extend_from_slice(&[0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0, 0]); // one-word extension
        p.extend_from_slice(b"payload");
        let h = RtpHeader::parse(&p).unwrap();
        assert_eq!(h.len, 12 + 8 + 8);
        assert_eq!(h.seq, 0x1234);
        assert_eq!(h.ssrc, 0xdeadbeef);
        // The extension claims more words than there are.
        p[22..24].copy_from_slice(&[0x00, 0x09]);
        assert!(matches!(
            RtpHeader::parse(&p),
            Err(Error::TooShort { min: 60, .. })
        ));
        assert_eq!(RtpHeader::parse(&[0x40; 12]), Err(Error::BadVersion));
        assert!(matches!(
            RtpHeader::parse(&[0x80; 11]),
            Err(Error::TooShort { .. })
        ));
    }
}
