//! SDES, BYE and APP (RFC 3550 6.5, 6.6, 6.7).

use std::fmt;

use crate::bytes::{slice, tail, u8_at, u32_at};
use crate::error::RtcpError;
use crate::rtcp::{RawRtcp, begin, end, need, packet_type};

/// An SDES item type (RFC 3550 6.5).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SdesType(pub u8);

impl SdesType {
    /// Canonical end-point identifier: the one item every RTCP sender must send.
    pub const CNAME: SdesType = SdesType(1);
    /// User name.
    pub const NAME: SdesType = SdesType(2);
    /// E-mail address.
    pub const EMAIL: SdesType = SdesType(3);
    /// Phone number.
    pub const PHONE: SdesType = SdesType(4);
    /// Geographic location.
    pub const LOC: SdesType = SdesType(5);
    /// Application or tool name.
    pub const TOOL: SdesType = SdesType(6);
    /// Notice/status.
    pub const NOTE: SdesType = SdesType(7);
    /// Private extensions (the value starts with a prefix length and prefix).
    pub const PRIV: SdesType = SdesType(8);
}

impl fmt::Debug for SdesType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match *self {
            SdesType::CNAME => "CNAME",
            SdesType::NAME => "NAME",
            SdesType::EMAIL => "EMAIL",
            SdesType::PHONE => "PHONE",
            SdesType::LOC => "LOC",
            SdesType::TOOL => "TOOL",
            SdesType::NOTE => "NOTE",
            SdesType::PRIV => "PRIV",
            SdesType(t) => return write!(f, "SdesType({t})"),
        };
        f.write_str(name)
    }
}

/// One SDES item: its type and its value (text, UTF-8 by RFC 3550, not checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SdesItem<'a> {
    /// Item type.
    pub kind: SdesType,
    /// Value, at most 255 bytes.
    pub value: &'a [u8],
}

/// Offset of the chunk after the one at `pos`, checking its items and null terminator.
fn chunk_end(raw: &RawRtcp<'_>, pos: usize) -> Result<usize, RtcpError> {
    let body = raw.body;
    need(raw, pos + 4)?;
    let mut p = pos + 4;
    loop {
        need(raw, p + 1)?;
        //# The list of items in each chunk MUST be terminated by one or more null octets, the
        //# first of which is interpreted as an item type of zero to denote the end of the list.
        if u8_at(body, p) == 0 {
            p += 1;
            break;
        }
        need(raw, p + 2)?;
        p += 2 + usize::from(u8_at(body, p + 1));
        need(raw, p)?;
    }
    //# No length octet follows the null item type octet, but additional null octets MUST be
    //# included if needed to pad until the next 32-bit boundary.
    Ok((pos + (p - pos).div_ceil(4) * 4).min(body.len()))
}

/// An SDES packet view: chunks, one per source, each with its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sdes<'a> {
    body: &'a [u8],
    count: u8,
}

impl<'a> Sdes<'a> {
    pub(crate) fn parse(raw: RawRtcp<'a>) -> Result<Self, RtcpError> {
        let mut pos = 0;
        for _ in 0..raw.count {
            pos = chunk_end(&raw, pos)?;
        }
        Ok(Self {
            body: raw.body,
            count: raw.count,
        })
    }

    /// The chunks.
    pub fn chunks(&self) -> SdesChunks<'a> {
        SdesChunks {
            body: self.body,
            pos: 0,
            left: self.count,
        }
    }

    /// The CNAME of `ssrc`, if a chunk gives one.
    pub fn cname(&self, ssrc: u32) -> Option<&'a [u8]> {
        self.chunks()
            .filter(|c| c.ssrc == ssrc)
            .flat_map(|c| c.items())
            .find(|i| i.kind == SdesType::CNAME)
            .map(|i| i.value)
    }

    /// Appends an SDES packet with one chunk per `(ssrc, items)` (at most 31 chunks; values
    /// longer than 255 bytes are cut). Returns the packet's length.
    pub fn write(out: &mut Vec<u8>, chunks: &[(u32, &[SdesItem<'_>])]) -> usize {
        let chunks = chunks.get(..31).unwrap_or(chunks);
        let start = begin(out, chunks.len() as u8, packet_type::SDES);
        for (ssrc, items) in chunks {
            let chunk = out.len();
            out.extend_from_slice(&ssrc.to_be_bytes());
            for item in *items {
                let value = item.value.get(..255).unwrap_or(item.value);
                out.push(item.kind.0);
                out.push(value.len() as u8);
                out.extend_from_slice(value);
            }
            out.push(0);
            while !(out.len() - chunk).is_multiple_of(4) {
                out.push(0);
            }
        }
        end(out, start)
    }

    /// Appends an SDES packet with one chunk holding the CNAME of `ssrc`.
    pub fn write_cname(out: &mut Vec<u8>, ssrc: u32, cname: &str) -> usize {
        let item = SdesItem {
            kind: SdesType::CNAME,
            value: cname.as_bytes(),
        };
        Self::write(out, &[(ssrc, &[item])])
    }
}

/// One SDES chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesChunk<'a> {
    /// The source (or contributing source) described.
    pub ssrc: u32,
    items: &'a [u8],
}

impl<'a> SdesChunk<'a> {
    /// The items, in order.
    pub fn items(&self) -> SdesItems<'a> {
        SdesItems {
            data: self.items,
            pos: 0,
        }
    }
}

/// Iterator over the chunks of an [`Sdes`].
#[derive(Debug, Clone)]
pub struct SdesChunks<'a> {
    body: &'a [u8],
    pos: usize,
    left: u8,
}

impl<'a> Iterator for SdesChunks<'a> {
    type Item = SdesChunk<'a>;

    fn next(&mut self) -> Option<SdesChunk<'a>> {
        self.left = self.left.checked_sub(1)?;
        let raw = RawRtcp {
            count: 0,
            packet_type: packet_type::SDES,
            padding: false,
            body: self.body,
            bytes: &[],
        };
        let next = chunk_end(&raw, self.pos).ok()?;
        let chunk = SdesChunk {
            ssrc: u32_at(self.body, self.pos),
            items: slice(self.body, self.pos + 4, next),
        };
        self.pos = next;
        Some(chunk)
    }
}

/// Iterator over the items of an [`SdesChunk`].
#[derive(Debug, Clone)]
pub struct SdesItems<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for SdesItems<'a> {
    type Item = SdesItem<'a>;

    fn next(&mut self) -> Option<SdesItem<'a>> {
        let kind = *self.data.get(self.pos)?;
        if kind == 0 {
            return None;
        }
        let len = usize::from(*self.data.get(self.pos + 1)?);
        let value = self.data.get(self.pos + 2..self.pos + 2 + len)?;
        self.pos += 2 + len;
        Some(SdesItem {
            kind: SdesType(kind),
            value,
        })
    }
}

/// A BYE packet view: the sources leaving and an optional reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bye<'a> {
    ssrcs: &'a [u8],
    reason: Option<&'a [u8]>,
}

impl<'a> Bye<'a> {
    pub(crate) fn parse(raw: RawRtcp<'a>) -> Result<Self, RtcpError> {
        let n = 4 * usize::from(raw.count);
        need(&raw, n)?;
        let rest = tail(raw.body, n);
        let reason = match rest.first() {
            //# Optionally, the BYE packet MAY include an 8-bit octet count followed by that many
            //# octets of text indicating the reason for leaving
            Some(&len) if len > 0 => {
                need(&raw, n + 1 + usize::from(len))?;
                Some(slice(rest, 1, 1 + usize::from(len)))
            }
            _ => None,
        };
        Ok(Self {
            ssrcs: slice(raw.body, 0, n),
            reason,
        })
    }

    /// The sources leaving.
    pub fn ssrcs(&self) -> impl ExactSizeIterator<Item = u32> + 'a {
        self.ssrcs.chunks_exact(4).map(|c| u32_at(c, 0))
    }

    /// The reason for leaving, if given.
    pub fn reason(&self) -> Option<&'a [u8]> {
        self.reason
    }

    /// Appends a BYE for `ssrcs` (at most 31; more are cut) with an optional reason (cut at
    /// 255 bytes). Returns the packet's length.
    pub fn write(out: &mut Vec<u8>, ssrcs: &[u32], reason: Option<&str>) -> usize {
        let ssrcs = ssrcs.get(..31).unwrap_or(ssrcs);
        let start = begin(out, ssrcs.len() as u8, packet_type::BYE);
        for s in ssrcs {
            out.extend_from_slice(&s.to_be_bytes());
        }
        if let Some(reason) = reason.filter(|r| !r.is_empty()) {
            let r = reason.as_bytes();
            let r = r.get(..255).unwrap_or(r);
            out.push(r.len() as u8);
            out.extend_from_slice(r);
        }
        end(out, start)
    }
}

/// An APP packet view (RFC 3550 6.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct App<'a> {
    body: &'a [u8],
    subtype: u8,
}

impl<'a> App<'a> {
    pub(crate) fn parse(raw: RawRtcp<'a>) -> Result<Self, RtcpError> {
        need(&raw, 8)?;
        Ok(Self {
            body: raw.body,
            subtype: raw.count,
        })
    }

    /// The 5-bit subtype.
    pub fn subtype(&self) -> u8 {
        self.subtype
    }

    /// The sender's SSRC.
    pub fn ssrc(&self) -> u32 {
        u32_at(self.body, 0)
    }

    /// The four ASCII characters that name the application.
    pub fn name(&self) -> [u8; 4] {
        u32_at(self.body, 4).to_be_bytes()
    }

    /// Application-dependent data.
    pub fn data(&self) -> &'a [u8] {
        tail(self.body, 8)
    }

    /// Appends an APP packet; `data` is padded with zeros to 32 bits. Returns its length.
    pub fn write(out: &mut Vec<u8>, subtype: u8, ssrc: u32, name: [u8; 4], data: &[u8]) -> usize {
        let start = begin(out, subtype, packet_type::APP);
        out.extend_from_slice(&ssrc.to_be_bytes());
        out.extend_from_slice(&name);
        out.extend_from_slice(data);
        end(out, start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtcp::{Compound, RtcpPacket};

    fn only(buf: &[u8]) -> RtcpPacket<'_> {
        Compound::parse(buf)
            .unwrap()
            .packets()
            .next()
            .unwrap()
            .unwrap()
    }

    #[test]
    fn sdes_chunks_and_items() {
        // Two chunks: CNAME "ab" (2+2+1 null = 5 -> padded to 8 with the SSRC: 4+8=12), then
        // CNAME "a" and TOOL "z" (2+1 + 2+1 + null = 7 -> 8).
        let b = hex::decode(concat!(
            "82ca0006", "00000001", "01026162", "00000000", "00000002", "01016106", "017a0000"
        ))
        .unwrap();
        let RtcpPacket::Sdes(s) = only(&b) else {
            panic!()
        };
        let chunks: Vec<_> = s.chunks().collect();
        assert_eq!(chunks.len(), 2);
        assert_eq!(s.cname(1), Some(&b"ab"[..]));
        assert_eq!(s.cname(2), Some(&b"a"[..]));
        assert_eq!(s.cname(3), None);
        let items: Vec<_> = chunks[1].items().collect();
        assert_eq!(items[1].kind, SdesType::TOOL);
        assert_eq!(format!("{:?}", items[1].kind), "TOOL");
        // The writer lays it out the same way.
        let mut out = Vec::new();
        let c1 = [SdesItem {
            kind: SdesType::CNAME,
            value: b"ab",
        }];
        let c2 = [
            SdesItem {
                kind: SdesType::CNAME,
                value: b"a",
            },
            SdesItem {
                kind: SdesType::TOOL,
                value: b"z",
            },
        ];
        Sdes::write(&mut out, &[(1, &c1), (2, &c2)]);
        assert_eq!(out, b);
    }

    #[test]
    fn sdes_without_terminator_is_rejected() {
        // One chunk whose item runs to the end with no null octet.
        let b = hex::decode("81ca0002000000010102616201").unwrap();
        let b = &b[..12]; // length says 12 bytes
        assert!(matches!(
            Compound::parse(b).unwrap().packets().next(),
            Some(Err(RtcpError::Truncated { .. }))
        ));
    }

    #[test]
    fn bye_with_reason() {
        let mut out = Vec::new();
        Bye::write(&mut out, &[5, 6], Some("done"));
        assert_eq!(out.len(), 4 + 8 + 8);
        let RtcpPacket::Bye(bye) = only(&out) else {
            panic!()
        };
        assert_eq!(bye.ssrcs().collect::<Vec<_>>(), [5, 6]);
        assert_eq!(bye.reason(), Some(&b"done"[..]));
        // A reason that claims more than is there.
        let b = hex::decode("81cb000200000005" /* ssrc */).unwrap();
        let mut b = b;
        b.extend_from_slice(&[9, b'x', 0, 0]);
        assert!(
            Compound::parse(&b)
                .unwrap()
                .packets()
                .next()
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn app_packet() {
        let mut out = Vec::new();
        App::write(&mut out, 3, 9, *b"zvon", &[1, 2, 3]);
        let RtcpPacket::App(app) = only(&out) else {
            panic!()
        };
        assert_eq!((app.subtype(), app.ssrc(), &app.name()), (3, 9, b"zvon"));
        assert_eq!(app.data(), [1, 2, 3, 0]);
    }
}
