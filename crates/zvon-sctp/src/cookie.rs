//! The state cookie (RFC 9260 5.1.3): everything needed to build the association from a
//! COOKIE ECHO, authenticated with HMAC-SHA256 under a key drawn at association creation, so
//! that no state is kept between INIT and COOKIE ECHO.

use aws_lc_rs::hmac;
use zvon_base::Reader;

const BODY_LEN: usize = 4 * 7 + 2 * 2 + 1 + 8;
const MAC_LEN: usize = 16;
/// Size of a sealed cookie.
pub(crate) const COOKIE_LEN: usize = BODY_LEN + MAC_LEN;

/// What the cookie carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CookieBody {
    pub(crate) my_tag: u32,
    pub(crate) peer_tag: u32,
    pub(crate) my_initial_tsn: u32,
    pub(crate) peer_initial_tsn: u32,
    pub(crate) peer_rwnd: u32,
    pub(crate) tie_my: u32,
    pub(crate) tie_peer: u32,
    pub(crate) outbound: u16,
    pub(crate) inbound: u16,
    /// Bit 0 forward-tsn, 1 I-DATA, 2 RE-CONFIG, 3 zero checksum (all: both sides agree).
    pub(crate) caps: u8,
    /// Milliseconds since the association's epoch when the cookie was made.
    pub(crate) created_ms: u64,
}

pub(crate) const CAP_FORWARD_TSN: u8 = 1;
pub(crate) const CAP_I_DATA: u8 = 2;
pub(crate) const CAP_RECONFIG: u8 = 4;
pub(crate) const CAP_ZERO_CHECKSUM: u8 = 8;

impl CookieBody {
    pub(crate) fn seal(&self, key: &hmac::Key) -> Vec<u8> {
        let mut v = Vec::with_capacity(COOKIE_LEN);
        for x in [
            self.my_tag,
            self.peer_tag,
            self.my_initial_tsn,
            self.peer_initial_tsn,
            self.peer_rwnd,
            self.tie_my,
            self.tie_peer,
        ] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v.extend_from_slice(&self.outbound.to_be_bytes());
        v.extend_from_slice(&self.inbound.to_be_bytes());
        v.push(self.caps);
        v.extend_from_slice(&self.created_ms.to_be_bytes());
        let tag = hmac::sign(key, &v);
        v.extend_from_slice(&tag.as_ref()[..MAC_LEN]);
        v
    }

    /// Checks the MAC and decodes; `None` for anything that is not our cookie.
    pub(crate) fn open(cookie: &[u8], key: &hmac::Key) -> Option<Self> {
        if cookie.len() != COOKIE_LEN {
            return None;
        }
        let (body, mac) = cookie.split_at(BODY_LEN);
        let want = hmac::sign(key, body);
        // Constant-time comparison of the truncated tag.
        let diff = want.as_ref()[..MAC_LEN]
            .iter()
            .zip(mac)
            .fold(0u8, |a, (x, y)| a | (x ^ y));
        if diff != 0 {
            return None;
        }
        let mut r = Reader::new(body);
        Some(Self {
            my_tag: r.u32().ok()?,
            peer_tag: r.u32().ok()?,
            my_initial_tsn: r.u32().ok()?,
            peer_initial_tsn: r.u32().ok()?,
            peer_rwnd: r.u32().ok()?,
            tie_my: r.u32().ok()?,
            tie_peer: r.u32().ok()?,
            outbound: r.u16().ok()?,
            inbound: r.u16().ok()?,
            caps: r.u8().ok()?,
            created_ms: r.u64().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &[7; 32]);
        let b = CookieBody {
            my_tag: 1,
            peer_tag: 2,
            my_initial_tsn: 3,
            peer_initial_tsn: 4,
            peer_rwnd: 5,
            tie_my: 6,
            tie_peer: 7,
            outbound: 8,
            inbound: 9,
            caps: 15,
            created_ms: 1234,
        };
        let c = b.seal(&key);
        assert_eq!(c.len(), COOKIE_LEN);
        assert_eq!(CookieBody::open(&c, &key), Some(b));
        for i in 0..c.len() {
            let mut t = c.clone();
            t[i] ^= 0x40;
            assert_eq!(CookieBody::open(&t, &key), None);
        }
        let other = hmac::Key::new(hmac::HMAC_SHA256, &[8; 32]);
        assert_eq!(CookieBody::open(&c, &other), None);
        assert_eq!(CookieBody::open(&c[1..], &key), None);
    }
}
