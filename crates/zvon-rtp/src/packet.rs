//! The RTP packet (RFC 3550 5.1): a view checked once, and a writer into a caller's buffer.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//! |                           timestamp                           |
//! |           synchronization source (SSRC) identifier            |
//! |            contributing source (CSRC) identifiers             |  CC x 32 bits
//! |      defined by profile       |           length              |  if X
//! |                        header extension                       |  length x 32 bits
//! |                            payload ...    | padding | count   |  if P
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use crate::bytes::{put, slice, u8_at, u16_at, u32_at};
use crate::error::RtpError;
use crate::ext::{ExtensionMap, ExtensionValues};

/// Length of the fixed RTP header.
pub const RTP_HEADER_LEN: usize = 12;

/// The "defined by profile" value of the RFC 8285 one-byte header form.
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;

/// The "defined by profile" value of the RFC 8285 two-byte header form; its low four bits
/// ("appbits") are free for the application.
pub const TWO_BYTE_PROFILE: u16 = 0x1000;

/// The two RFC 8285 header-extension forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtensionForm {
    /// Profile 0xBEDE: ids 1..=14, values of 1..=16 bytes, one header byte per element.
    OneByte,
    /// Profile 0x100X: ids 1..=255, values of 0..=255 bytes, two header bytes per element.
    TwoByte,
}

impl ExtensionForm {
    /// The form a header extension's profile value announces; `None` for other profiles,
    /// whose extension data is opaque.
    pub const fn from_profile(profile: u16) -> Option<Self> {
        if profile == ONE_BYTE_PROFILE {
            Some(ExtensionForm::OneByte)
        } else if profile & 0xFFF0 == TWO_BYTE_PROFILE {
            Some(ExtensionForm::TwoByte)
        } else {
            None
        }
    }
}

/// One step of the walk over RFC 8285 elements.
enum Step<'a> {
    Element {
        id: u8,
        value: &'a [u8],
        next: usize,
    },
    End,
    Overrun(u8),
}

fn step(data: &[u8], mut pos: usize, form: ExtensionForm) -> Step<'_> {
    loop {
        let Some(&first) = data.get(pos) else {
            return Step::End;
        };
        //# The local identifier value 0 is reserved for padding (RFC 8285 4.2 and 4.3): a
        //# zero byte between or after elements is skipped.
        if first == 0 {
            pos += 1;
            continue;
        }
        let (id, value_at, len) = match form {
            ExtensionForm::OneByte => {
                let id = first >> 4;
                //# If the ID value 15 is encountered, its length field should be ignored,
                //# processing of the entire extension should terminate at that point, and only
                //# the extension elements present prior to the element with ID 15 considered.
                // An id of 0 with a non-zero length is no padding either: stop there too, as
                // libwebrtc does.
                if id == 15 || id == 0 {
                    return Step::End;
                }
                (id, pos + 1, usize::from(first & 0x0F) + 1)
            }
            ExtensionForm::TwoByte => match data.get(pos + 1) {
                Some(&len) => (first, pos + 2, usize::from(len)),
                None => return Step::Overrun(first),
            },
        };
        return match data.get(value_at..value_at + len) {
            Some(value) => Step::Element {
                id,
                value,
                next: value_at + len,
            },
            None => Step::Overrun(id),
        };
    }
}

/// Iterator over the RFC 8285 elements of a header extension: `(id, value)` in packet order,
/// padding skipped. Repeated ids are yielded as they come.
#[derive(Debug, Clone)]
pub struct Extensions<'a> {
    data: &'a [u8],
    pos: usize,
    form: ExtensionForm,
}

impl<'a> Extensions<'a> {
    /// Walks `data`, the body of a header extension in `form` (for a caller holding an
    /// extension block outside a packet; a packet's are [`RtpPacket::extensions`]). Stops at
    /// the first element that overruns `data`.
    pub fn new(data: &'a [u8], form: ExtensionForm) -> Self {
        Self { data, pos: 0, form }
    }

    fn empty() -> Self {
        Self::new(&[], ExtensionForm::OneByte)
    }
}

impl<'a> Iterator for Extensions<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        match step(self.data, self.pos, self.form) {
            Step::Element { id, value, next } => {
                self.pos = next;
                Some((id, value))
            }
            Step::End | Step::Overrun(_) => {
                self.pos = self.data.len();
                None
            }
        }
    }
}

/// Where the header extension sits, found by [`RtpPacket::new_checked`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ExtBlock {
    profile: u16,
    start: usize,
    end: usize,
}

/// An RTP packet over a buffer, checked once by [`RtpPacket::new_checked`] so that no accessor
/// can fail or panic: version 2, the CSRC list, the header extension and the framing of its
/// RFC 8285 elements, and the padding all fit the buffer.
///
/// `T` is `&[u8]` to read, or `&mut [u8]` (or `Vec<u8>`) to also rewrite header fields in
/// place, as a forwarder or an RTX sender does.
///
/// ```
/// use zvon_rtp::{ExtensionMap, RtpHeader, RtpPacket, RtpWriter};
/// use zvon_rtp::ext::Extension;
///
/// let mut map = ExtensionMap::new();
/// map.insert(4, Extension::Mid);
///
/// let mut buf = Vec::new();
/// let mut w = RtpWriter::new(&mut buf, &RtpHeader {
///     marker: true, payload_type: 96, sequence_number: 7, timestamp: 3000, ssrc: 0x1234,
///     csrcs: &[],
/// });
/// w.extension(4, b"0");
/// let len = w.finish(b"frame", 0);
///
/// let pkt = RtpPacket::new_checked(&buf[..len])?;
/// assert_eq!((pkt.payload_type(), pkt.sequence_number(), pkt.marker()), (96, 7, true));
/// assert_eq!(pkt.payload(), b"frame");
/// assert_eq!(pkt.extension_values(&map).mid, Some("0"));
/// # Ok::<(), zvon_rtp::RtpError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<T> {
    buffer: T,
    header_len: usize,
    payload_end: usize,
    ext: Option<ExtBlock>,
}

impl<T: AsRef<[u8]>> RtpPacket<T> {
    /// Checks `buffer` and returns the view.
    pub fn new_checked(buffer: T) -> Result<Self, RtpError> {
        let b = buffer.as_ref();
        let len = b.len();
        let short = |needed| RtpError::TooShort { len, needed };
        let Some(&first) = b.first() else {
            return Err(short(RTP_HEADER_LEN));
        };
        if len < RTP_HEADER_LEN {
            return Err(short(RTP_HEADER_LEN));
        }
        //# version (V): 2 bits. This field identifies the version of RTP. The version defined
        //# by this specification is two (2).
        let version = first >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        let mut header_len = RTP_HEADER_LEN + 4 * usize::from(first & 0x0F);
        if len < header_len {
            return Err(short(header_len));
        }
        let ext = if first & 0x10 != 0 {
            if len < header_len + 4 {
                return Err(short(header_len + 4));
            }
            let profile = u16_at(b, header_len);
            let words = usize::from(u16_at(b, header_len + 2));
            let start = header_len + 4;
            let end = start + 4 * words;
            if len < end {
                return Err(short(end));
            }
            if let Some(form) = ExtensionForm::from_profile(profile) {
                let data = slice(b, start, end);
                let mut pos = 0;
                loop {
                    match step(data, pos, form) {
                        Step::Element { next, .. } => pos = next,
                        Step::End => break,
                        Step::Overrun(id) => return Err(RtpError::BadExtension { id }),
                    }
                }
            }
            header_len = end;
            Some(ExtBlock {
                profile,
                start,
                end,
            })
        } else {
            None
        };
        let payload_end = if first & 0x20 != 0 {
            //# The last octet of the padding contains a count of how many padding octets
            //# should be ignored, including itself.
            let count = u8_at(b, len - 1); // len >= header_len >= 12
            let available = len - header_len;
            if count == 0 || usize::from(count) > available {
                return Err(RtpError::BadPadding { count, available });
            }
            len - usize::from(count)
        } else {
            len
        };
        Ok(Self {
            buffer,
            header_len,
            payload_end,
            ext,
        })
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The padding bit.
    pub fn has_padding(&self) -> bool {
        u8_at(self.bytes(), 0) & 0x20 != 0
    }

    /// The extension bit.
    pub fn has_extension(&self) -> bool {
        self.ext.is_some()
    }

    /// The marker bit (the last packet of a video frame; the first of a talkspurt in audio).
    pub fn marker(&self) -> bool {
        u8_at(self.bytes(), 1) & 0x80 != 0
    }

    /// The payload type, 0..=127.
    pub fn payload_type(&self) -> u8 {
        u8_at(self.bytes(), 1) & 0x7F
    }

    /// The sequence number.
    pub fn sequence_number(&self) -> u16 {
        u16_at(self.bytes(), 2)
    }

    /// The RTP timestamp.
    pub fn timestamp(&self) -> u32 {
        u32_at(self.bytes(), 4)
    }

    /// The synchronization source.
    pub fn ssrc(&self) -> u32 {
        u32_at(self.bytes(), 8)
    }

    /// The number of contributing sources.
    pub fn csrc_count(&self) -> usize {
        usize::from(u8_at(self.bytes(), 0) & 0x0F)
    }

    /// Header length: fixed header, CSRCs and header extension.
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// Bytes of padding (the count byte included); 0 without the padding bit.
    pub fn padding_len(&self) -> usize {
        self.bytes().len() - self.payload_end
    }

    /// The header extension's "defined by profile" value, when there is an extension.
    pub fn extension_profile(&self) -> Option<u16> {
        self.ext.map(|e| e.profile)
    }

    /// The RFC 8285 form of the header extension, if it has one of the two.
    pub fn extension_form(&self) -> Option<ExtensionForm> {
        self.ext
            .and_then(|e| ExtensionForm::from_profile(e.profile))
    }

    /// A view of the same packet over a shared borrow, for the accessors that return slices
    /// (they are defined on `RtpPacket<&[u8]>`, so that what they return outlives the view).
    pub fn view(&self) -> RtpPacket<&[u8]> {
        RtpPacket {
            buffer: self.buffer.as_ref(),
            header_len: self.header_len,
            payload_end: self.payload_end,
            ext: self.ext,
        }
    }
}

/// The accessors that return parts of the packet, borrowed for as long as the bytes are.
impl<'a> RtpPacket<&'a [u8]> {
    /// The whole packet.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buffer
    }

    /// The contributing sources.
    pub fn csrcs(&self) -> impl ExactSizeIterator<Item = u32> + 'a {
        let list = slice(
            self.buffer,
            RTP_HEADER_LEN,
            RTP_HEADER_LEN + 4 * self.csrc_count(),
        );
        list.chunks_exact(4).map(|c| u32_at(c, 0))
    }

    /// The payload, without padding.
    pub fn payload(&self) -> &'a [u8] {
        slice(self.buffer, self.header_len, self.payload_end)
    }

    /// The header extension's data (after its 4-byte header), whatever its profile.
    pub fn extension_data(&self) -> Option<&'a [u8]> {
        self.ext.map(|e| slice(self.buffer, e.start, e.end))
    }

    /// The RFC 8285 elements, `(id, value)` in order; empty without an RFC 8285 extension.
    pub fn extensions(&self) -> Extensions<'a> {
        match self.ext {
            Some(e) => match ExtensionForm::from_profile(e.profile) {
                Some(form) => Extensions::new(slice(self.buffer, e.start, e.end), form),
                None => Extensions::empty(),
            },
            None => Extensions::empty(),
        }
    }

    /// The value of the first element with `id`.
    pub fn extension(&self, id: u8) -> Option<&'a [u8]> {
        self.extensions().find(|&(i, _)| i == id).map(|(_, v)| v)
    }

    /// The WebRTC extensions `map` names, decoded in one walk over the elements.
    pub fn extension_values(&self, map: &ExtensionMap) -> ExtensionValues<'a> {
        ExtensionValues::parse(map, self.extensions())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> RtpPacket<T> {
    fn bytes_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    /// Sets the marker bit.
    pub fn set_marker(&mut self, marker: bool) {
        let b = u8_at(self.bytes(), 1);
        put(
            self.bytes_mut(),
            1,
            [(b & 0x7F) | if marker { 0x80 } else { 0 }],
        );
    }

    /// Sets the payload type (the top bit of `pt` is ignored).
    pub fn set_payload_type(&mut self, pt: u8) {
        let b = u8_at(self.bytes(), 1);
        put(self.bytes_mut(), 1, [(b & 0x80) | (pt & 0x7F)]);
    }

    /// Sets the sequence number.
    pub fn set_sequence_number(&mut self, seq: u16) {
        put(self.bytes_mut(), 2, seq.to_be_bytes());
    }

    /// Sets the timestamp.
    pub fn set_timestamp(&mut self, ts: u32) {
        put(self.bytes_mut(), 4, ts.to_be_bytes());
    }

    /// Sets the SSRC.
    pub fn set_ssrc(&mut self, ssrc: u32) {
        put(self.bytes_mut(), 8, ssrc.to_be_bytes());
    }

    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (from, to) = (self.header_len, self.payload_end);
        self.bytes_mut().get_mut(from..to).unwrap_or(&mut [])
    }
}

/// The fields of an RTP header, for [`RtpWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtpHeader<'a> {
    /// The marker bit.
    pub marker: bool,
    /// Payload type; the top bit is ignored.
    pub payload_type: u8,
    /// Sequence number.
    pub sequence_number: u16,
    /// RTP timestamp.
    pub timestamp: u32,
    /// Synchronization source.
    pub ssrc: u32,
    /// Contributing sources; more than 15 are cut (the CC field has four bits).
    pub csrcs: &'a [u32],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExtState {
    /// No element written; `TwoByte` when the caller asked for that form up front.
    None(ExtensionForm),
    /// Elements are being written; `at` is the offset of the extension's profile field.
    Open { at: usize, form: ExtensionForm },
}

/// Writes one RTP packet at the end of a caller's `Vec<u8>`: the header, then header
/// extensions, then [`RtpWriter::finish`] with the payload and padding. Nothing can fail and
/// nothing allocates beyond growing that buffer.
///
/// Header extensions use the RFC 8285 one-byte form unless an element needs the two-byte form
/// (an id above 14, an empty value, or one longer than 16 bytes), in which case the elements
/// already written are rewritten in the two-byte form in place. The two-byte form needs the
/// peer to accept it (`a=extmap-allow-mixed`, RFC 8285 6).
#[derive(Debug)]
#[must_use = "a packet is incomplete until finish writes its payload and extension length"]
pub struct RtpWriter<'b> {
    out: &'b mut Vec<u8>,
    start: usize,
    ext: ExtState,
}

impl<'b> RtpWriter<'b> {
    /// Starts a packet at the end of `out`.
    pub fn new(out: &'b mut Vec<u8>, header: &RtpHeader<'_>) -> Self {
        let start = out.len();
        let csrcs = header.csrcs.get(..15).unwrap_or(header.csrcs);
        out.push(0x80 | csrcs.len() as u8);
        out.push(u8::from(header.marker) << 7 | (header.payload_type & 0x7F));
        out.extend_from_slice(&header.sequence_number.to_be_bytes());
        out.extend_from_slice(&header.timestamp.to_be_bytes());
        out.extend_from_slice(&header.ssrc.to_be_bytes());
        for c in csrcs {
            out.extend_from_slice(&c.to_be_bytes());
        }
        Self {
            out,
            start,
            ext: ExtState::None(ExtensionForm::OneByte),
        }
    }

    /// Writes the extensions in the two-byte form from the start, even where the one-byte form
    /// would do.
    pub fn two_byte_extensions(&mut self) -> &mut Self {
        match self.ext {
            ExtState::None(_) => self.ext = ExtState::None(ExtensionForm::TwoByte),
            ExtState::Open {
                at,
                form: ExtensionForm::OneByte,
            } => self.upgrade(at),
            ExtState::Open { .. } => {}
        }
        self
    }

    /// Appends an RFC 8285 element. Id 0 is padding and is ignored; values longer than 255
    /// bytes are cut there.
    pub fn extension(&mut self, id: u8, value: &[u8]) -> &mut Self {
        if id == 0 {
            return self;
        }
        let value = value.get(..255).unwrap_or(value);
        let one_byte_ok = id <= 14 && (1..=16).contains(&value.len());
        let (at, form) = match self.ext {
            ExtState::None(form) => {
                let at = self.out.len();
                // Profile and length are written by `finish`.
                self.out.extend_from_slice(&[0, 0, 0, 0]);
                let b0 = u8_at(self.out, self.start);
                put(self.out, self.start, [b0 | 0x10]);
                (at, form)
            }
            ExtState::Open { at, form } => (at, form),
        };
        let form = if form == ExtensionForm::OneByte && !one_byte_ok {
            self.upgrade(at);
            ExtensionForm::TwoByte
        } else {
            form
        };
        match form {
            ExtensionForm::OneByte => self.out.push(id << 4 | (value.len() as u8 - 1)),
            ExtensionForm::TwoByte => self.out.extend_from_slice(&[id, value.len() as u8]),
        }
        self.out.extend_from_slice(value);
        self.ext = ExtState::Open { at, form };
        self
    }

    /// Appends every value in `values` whose extension `map` gives an id.
    pub fn extension_values(
        &mut self,
        map: &ExtensionMap,
        values: &ExtensionValues<'_>,
    ) -> &mut Self {
        values.write(map, |id, value| {
            self.extension(id, value);
        });
        self
    }

    /// Rewrites the one-byte elements written since `at + 4` in the two-byte form. They are
    /// copied to the end of the buffer first and rewritten from there front to back: each
    /// element grows by one byte, so the write position never catches up with the unread copy.
    fn upgrade(&mut self, at: usize) {
        let body = at + 4;
        let end = self.out.len();
        self.out.extend_from_within(body..end);
        let (mut r, mut w) = (end, body);
        let copy_end = self.out.len();
        while r < copy_end {
            let first = u8_at(self.out, r);
            let (id, len) = (first >> 4, usize::from(first & 0x0F) + 1);
            // The value is copied out first: the write may overlap its own source.
            let mut value = [0u8; 16];
            let src = slice(self.out, r + 1, r + 1 + len);
            let n = src.len();
            value[..n].copy_from_slice(src); // ok: n == len <= 16
            put(self.out, w, [id, len as u8]);
            if let Some(dst) = self.out.get_mut(w + 2..w + 2 + n) {
                dst.copy_from_slice(&value[..n]); // ok: as above
            }
            r += 1 + len;
            w += 2 + len;
        }
        self.out.truncate(w);
        self.ext = ExtState::Open {
            at,
            form: ExtensionForm::TwoByte,
        };
    }

    fn close_extension(&mut self) {
        if let ExtState::Open { at, form } = self.ext {
            while !(self.out.len() - at).is_multiple_of(4) {
                self.out.push(0);
            }
            let words = ((self.out.len() - at - 4) / 4) as u16;
            let profile = match form {
                ExtensionForm::OneByte => ONE_BYTE_PROFILE,
                ExtensionForm::TwoByte => TWO_BYTE_PROFILE,
            };
            put(self.out, at, profile.to_be_bytes());
            put(self.out, at + 2, words.to_be_bytes());
        }
    }

    /// Writes `payload` and `padding` bytes of padding (0 for none; the last padding byte holds
    /// the count, RFC 3550 5.1) and returns the packet's length.
    pub fn finish(self, payload: &[u8], padding: u8) -> usize {
        self.finish_with(padding, |out| out.extend_from_slice(payload))
    }

    /// Like [`RtpWriter::finish`], but `write_payload` appends the payload to the buffer
    /// itself, so that a packetizer writes it in place without a copy.
    pub fn finish_with(mut self, padding: u8, write_payload: impl FnOnce(&mut Vec<u8>)) -> usize {
        self.close_extension();
        write_payload(self.out);
        if padding > 0 {
            let b0 = u8_at(self.out, self.start);
            put(self.out, self.start, [b0 | 0x20]);
            self.out
                .resize(self.out.len() + usize::from(padding) - 1, 0);
            self.out.push(padding);
        }
        self.out.len() - self.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A packet laid out by hand from RFC 3550 5.1 and RFC 8285 4.2: two CSRCs, a one-byte
    /// extension with ids 1 (1 byte) and 2 (2 bytes) and padding, 4 payload bytes, 4 bytes of
    /// RTP padding.
    const HAND: &str = concat!(
        "b2", "e0", "1234", "00010000", "cafebabe", // V=2 P X CC=2, M PT=96, seq, ts, ssrc
        "00000001", "00000002", // CSRCs
        "bede0002", "10aa", "21bbcc", "000000",   // one-byte extension, 2 words
        "01020304", // payload
        "00000004", // padding, count 4
    );

    #[test]
    fn parses_a_hand_made_packet() {
        let bytes = hex::decode(HAND).unwrap();
        let p = RtpPacket::new_checked(&bytes[..]).unwrap();
        assert!(p.marker() && p.has_padding() && p.has_extension());
        assert_eq!(p.payload_type(), 96);
        assert_eq!(p.sequence_number(), 0x1234);
        assert_eq!(p.timestamp(), 0x10000);
        assert_eq!(p.ssrc(), 0xcafebabe);
        assert_eq!(p.csrcs().collect::<Vec<_>>(), [1, 2]);
        assert_eq!(p.header_len(), 12 + 8 + 12);
        assert_eq!(p.extension_form(), Some(ExtensionForm::OneByte));
        let exts: Vec<_> = p.extensions().collect();
        assert_eq!(exts, [(1, &[0xaa][..]), (2, &[0xbb, 0xcc][..])]);
        assert_eq!(p.extension(2), Some(&[0xbb, 0xcc][..]));
        assert_eq!(p.extension(3), None);
        assert_eq!(p.payload(), [1, 2, 3, 4]);
        assert_eq!(p.padding_len(), 4);
    }

    #[test]
    fn writer_reproduces_the_hand_made_packet() {
        let mut out = vec![0xff]; // something before: the writer appends
        let mut w = RtpWriter::new(
            &mut out,
            &RtpHeader {
                marker: true,
                payload_type: 96,
                sequence_number: 0x1234,
                timestamp: 0x10000,
                ssrc: 0xcafebabe,
                csrcs: &[1, 2],
            },
        );
        w.extension(1, &[0xaa]).extension(2, &[0xbb, 0xcc]);
        let len = w.finish(&[1, 2, 3, 4], 4);
        assert_eq!(len, out.len() - 1);
        assert_eq!(hex::encode(&out[1..]), HAND);
    }

    #[test]
    fn rejects_what_does_not_fit() {
        let bytes = hex::decode(HAND).unwrap();
        // Every cut inside the header fails; cuts in the payload may leave a packet whose
        // last byte passes for a padding count, and cuts in the padding leave a count of 0.
        for cut in (0..32).chain(37..40) {
            assert!(
                RtpPacket::new_checked(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut v1 = bytes.clone();
        v1[0] = 0x40 | (v1[0] & 0x3f);
        assert_eq!(
            RtpPacket::new_checked(&v1[..]),
            Err(RtpError::BadVersion(1))
        );
        let mut zero_pad = bytes.clone();
        *zero_pad.last_mut().unwrap() = 0;
        assert!(matches!(
            RtpPacket::new_checked(&zero_pad[..]),
            Err(RtpError::BadPadding { count: 0, .. })
        ));
        // Element 2 claims 3 bytes where the block has 2 and then padding: 21 -> 2f (16 bytes).
        let mut overrun = bytes.clone();
        overrun[12 + 8 + 4 + 2] = 0x2f;
        assert_eq!(
            RtpPacket::new_checked(&overrun[..]),
            Err(RtpError::BadExtension { id: 2 })
        );
    }

    #[test]
    fn id_15_stops_the_walk() {
        let mut p = hex::decode("900000010000000000000001bede0002").unwrap();
        p.extend_from_slice(&[0x10, 0xaa, 0xf0, 0x20, 0xbb, 0, 0, 0]);
        let p = RtpPacket::new_checked(&p[..]).unwrap();
        assert_eq!(p.extensions().collect::<Vec<_>>(), [(1, &[0xaa][..])]);
    }

    #[test]
    fn two_byte_form_and_upgrade() {
        let header = RtpHeader {
            payload_type: 111,
            ssrc: 9,
            ..Default::default()
        };
        let long = [7u8; 20];
        let mut out = Vec::new();
        let mut w = RtpWriter::new(&mut out, &header);
        w.extension(1, &[1])
            .extension(3, &[3, 3, 3])
            .extension(2, &long) // needs the two-byte form: 1 and 3 are rewritten
            .extension(200, &[])
            .extension(0, &[9]); // padding id: ignored
        let len = w.finish(b"opus", 0);
        let p = RtpPacket::new_checked(&out[..len]).unwrap();
        assert_eq!(p.extension_profile(), Some(TWO_BYTE_PROFILE));
        let exts: Vec<_> = p.extensions().collect();
        assert_eq!(
            exts,
            [
                (1, &[1][..]),
                (3, &[3, 3, 3][..]),
                (2, &long[..]),
                (200, &[][..])
            ]
        );
        assert_eq!(p.payload(), b"opus");
        assert_eq!(p.extension_data().unwrap().len() % 4, 0);

        let mut out = Vec::new();
        let mut w = RtpWriter::new(&mut out, &header);
        w.two_byte_extensions().extension(5, &[1, 2]);
        let len = w.finish(b"", 0);
        let p = RtpPacket::new_checked(&out[..len]).unwrap();
        assert_eq!(p.extension_form(), Some(ExtensionForm::TwoByte));
        assert_eq!(p.extension(5), Some(&[1, 2][..]));
    }

    #[test]
    fn opaque_extension_profiles_have_no_elements() {
        let p = hex::decode("90000001000000000000000112340001deadbeef").unwrap();
        let p = RtpPacket::new_checked(&p[..]).unwrap();
        assert_eq!(p.extension_profile(), Some(0x1234));
        assert_eq!(p.extension_data(), Some(&[0xde, 0xad, 0xbe, 0xef][..]));
        assert_eq!(p.extensions().count(), 0);
        assert_eq!(p.extension_form(), None);
    }

    #[test]
    fn setters_rewrite_in_place() {
        let mut bytes = hex::decode(HAND).unwrap();
        let mut p = RtpPacket::new_checked(&mut bytes[..]).unwrap();
        p.set_marker(false);
        p.set_payload_type(97);
        p.set_sequence_number(1);
        p.set_timestamp(2);
        p.set_ssrc(3);
        p.payload_mut()[0] = 9;
        let p = RtpPacket::new_checked(&bytes[..]).unwrap();
        assert_eq!(
            (p.marker(), p.payload_type(), p.sequence_number()),
            (false, 97, 1)
        );
        assert_eq!((p.timestamp(), p.ssrc(), p.payload()[0]), (2, 3, 9));
    }
}
