/// The input ended before a field that its header promised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("buffer too short: needed {needed} more bytes, {left} left")]
pub struct ShortBuffer {
    /// Bytes the read needed.
    pub needed: usize,
    /// Bytes that were left.
    pub left: usize,
}

/// A cursor over borrowed bytes. Every read is checked and returns `ShortBuffer` rather than
/// panicking, and [`Reader::sub`] hands out a nested reader limited to a length field so that a
/// lying length can never reach past its container.
///
/// ```
/// use zvon_base::Reader;
/// let mut r = Reader::new(&[0x00, 0x01, 0x00, 0x02, 0xaa, 0xbb]);
/// assert_eq!(r.u16().unwrap(), 1);
/// let len = r.u16().unwrap() as usize;
/// let mut body = r.sub(len).unwrap();
/// assert_eq!(body.u8().unwrap(), 0xaa);
/// assert!(r.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// `true` when every byte was consumed.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Takes exactly `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], ShortBuffer> {
        let left = self.remaining();
        if n > left {
            return Err(ShortBuffer { needed: n, left });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Takes everything that is left.
    pub fn take_rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    /// Takes `n` bytes and returns a reader limited to them.
    pub fn sub(&mut self, n: usize) -> Result<Reader<'a>, ShortBuffer> {
        self.take(n).map(Reader::new)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<(), ShortBuffer> {
        self.take(n).map(|_| ())
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], ShortBuffer> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, ShortBuffer> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads a big-endian u16.
    pub fn u16(&mut self) -> Result<u16, ShortBuffer> {
        self.array().map(u16::from_be_bytes)
    }

    /// Reads a big-endian 24-bit integer.
    pub fn u24(&mut self) -> Result<u32, ShortBuffer> {
        let [a, b, c] = self.array()?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    /// Reads a big-endian u32.
    pub fn u32(&mut self) -> Result<u32, ShortBuffer> {
        self.array().map(u32::from_be_bytes)
    }

    /// Reads a big-endian u64.
    pub fn u64(&mut self) -> Result<u64, ShortBuffer> {
        self.array().map(u64::from_be_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn reads_never_panic(data in proptest::collection::vec(any::<u8>(), 0..64),
                             ops in proptest::collection::vec(0u8..8, 0..32)) {
            let mut r = Reader::new(&data);
            for op in ops {
                let before = r.remaining();
                let ok = match op {
                    0 => r.u8().is_ok(),
                    1 => r.u16().is_ok(),
                    2 => r.u24().is_ok(),
                    3 => r.u32().is_ok(),
                    4 => r.u64().is_ok(),
                    5 => r.take(7).is_ok(),
                    6 => r.sub(3).is_ok(),
                    _ => { r.take_rest(); true }
                };
                if !ok {
                    prop_assert_eq!(r.remaining(), before, "a failed read consumes nothing");
                }
            }
        }
    }
}
