//! The SCTP common header (RFC 9260 3.1), the CRC32c checksum (appendix A), and the chunk
//! iterator over one packet.

use crate::chunk::Chunk;
use crate::error::Error;

/// Size of the common header.
pub const HEADER_LEN: usize = 12;

/// A checked view of one SCTP packet.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    buf: &'a [u8],
}

impl<'a> Packet<'a> {
    /// Checks the length and the checksum. A checksum of zero is accepted only when
    /// `accept_zero_checksum` (RFC 9653: we advertised zero checksum acceptable).
    pub fn parse(buf: &'a [u8], accept_zero_checksum: bool) -> Result<Self, Error> {
        if buf.len() < HEADER_LEN {
            return Err(Error::Malformed("shorter than the common header"));
        }
        let p = Self { buf };
        let sum = p.checksum();
        if !(accept_zero_checksum && sum == 0) && sum != checksum(buf) {
            return Err(Error::BadChecksum);
        }
        Ok(p)
    }

    /// Wraps without checking the checksum (length still checked).
    pub fn parse_unchecked(buf: &'a [u8]) -> Result<Self, Error> {
        if buf.len() < HEADER_LEN {
            return Err(Error::Malformed("shorter than the common header"));
        }
        Ok(Self { buf })
    }

    /// Source port.
    pub fn source_port(&self) -> u16 {
        u16::from_be_bytes([self.buf[0], self.buf[1]])
    }
    /// Destination port.
    pub fn destination_port(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }
    /// Verification tag.
    pub fn verification_tag(&self) -> u32 {
        u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]])
    }
    /// The checksum field as sent (the CRC32c bytes are little-endian on the wire).
    pub fn checksum(&self) -> u32 {
        u32::from_le_bytes([self.buf[8], self.buf[9], self.buf[10], self.buf[11]])
    }
    /// The chunks.
    pub fn chunks(&self) -> Chunks<'a> {
        Chunks {
            rest: &self.buf[HEADER_LEN..],
        }
    }
    /// The first chunk's type, if any.
    pub fn first_chunk_type(&self) -> Option<u8> {
        self.buf.get(HEADER_LEN).copied()
    }
}

/// CRC32c of a packet, computed as if its checksum field were zero.
pub fn checksum(packet: &[u8]) -> u32 {
    let c = crc32c::crc32c(&packet[..8]);
    let c = crc32c::crc32c_append(c, &[0; 4]);
    crc32c::crc32c_append(c, &packet[12..])
}

/// Iterator over the chunks of a packet. After the first error it stops.
#[derive(Debug, Clone)]
pub struct Chunks<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Result<Chunk<'a>, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let r = self.rest;
        if r.len() < 4 {
            self.rest = &[];
            return Some(Err(Error::Malformed("truncated chunk header")));
        }
        let len = u16::from_be_bytes([r[2], r[3]]) as usize;
        if len < 4 || len > r.len() {
            self.rest = &[];
            return Some(Err(Error::Malformed("chunk length")));
        }
        let raw = &r[..len];
        let padded = (len + 3) & !3;
        self.rest = r.get(padded..).unwrap_or(&[]);
        let c = Chunk::parse(r[0], r[1], &raw[4..], raw);
        if c.is_err() {
            self.rest = &[];
        }
        Some(c)
    }
}

/// Writes the common header of a packet into the caller's buffer; [`PacketWriter::finish`]
/// fills in the checksum once the chunks are appended.
#[derive(Debug)]
pub struct PacketWriter {
    start: usize,
}

impl PacketWriter {
    /// Appends the common header (checksum zero for now).
    pub fn begin(buf: &mut Vec<u8>, src_port: u16, dst_port: u16, vtag: u32) -> Self {
        let start = buf.len();
        buf.extend_from_slice(&src_port.to_be_bytes());
        buf.extend_from_slice(&dst_port.to_be_bytes());
        buf.extend_from_slice(&vtag.to_be_bytes());
        buf.extend_from_slice(&[0; 4]);
        Self { start }
    }

    /// Fills in the CRC32c, or leaves zero when `zero_checksum` (RFC 9653).
    pub fn finish(self, buf: &mut [u8], zero_checksum: bool) {
        if !zero_checksum {
            // The field is still zero here: one pass over the whole packet.
            let sum = crc32c::crc32c(&buf[self.start..]);
            buf[self.start + 8..self.start + 12].copy_from_slice(&sum.to_le_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_known_answer() {
        // RFC 3720 B.4: 32 bytes of zeros.
        assert_eq!(crc32c::crc32c(&[0u8; 32]), 0x8a91_36aa);
    }

    #[test]
    fn checksum_and_zero_checksum() {
        let mut buf = Vec::new();
        let w = PacketWriter::begin(&mut buf, 5000, 5000, 42);
        crate::chunk::put_empty(&mut buf, crate::chunk::kind::COOKIE_ACK, 0);
        w.finish(&mut buf, false);
        let p = Packet::parse(&buf, false).unwrap();
        assert_eq!(p.verification_tag(), 42);
        assert_eq!((p.source_port(), p.destination_port()), (5000, 5000));
        let mut bad = buf.clone();
        bad[13] ^= 1;
        assert_eq!(Packet::parse(&bad, true).unwrap_err(), Error::BadChecksum);
        let mut zero = buf.clone();
        zero[8..12].fill(0);
        assert!(Packet::parse(&zero, true).is_ok());
        assert_eq!(Packet::parse(&zero, false).unwrap_err(), Error::BadChecksum);
        assert!(Packet::parse(&buf[..11], true).is_err());
    }
}
