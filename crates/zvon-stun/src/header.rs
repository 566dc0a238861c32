//! The 20-byte STUN header: message type (method and class, interleaved), length, magic cookie
//! and transaction id (RFC 8489 section 5).

use std::fmt;

use zvon_base::Rng;

/// The fixed value in bytes 4..8 of every RFC 5389/8489 message. RFC 3489 messages carry a
/// random value there instead; zvon does not speak RFC 3489 and drops them.
pub const MAGIC_COOKIE: u32 = 0x2112_A442;

/// Length of the STUN header.
pub const HEADER_LEN: usize = 20;

/// A STUN method: the 12-bit operation a message belongs to.
///
/// ```
/// use zvon_stun::Method;
/// assert_eq!(Method::BINDING.value(), 0x001);
/// assert_eq!(Method::new(0x1000), None); // methods have 12 bits
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Method(u16);

impl Method {
    /// Binding (RFC 8489): address discovery, ICE connectivity checks and consent.
    pub const BINDING: Method = Method(0x001);
    /// Allocate (RFC 8656): create a relayed transport address.
    pub const ALLOCATE: Method = Method(0x003);
    /// Refresh (RFC 8656): extend or delete an allocation.
    pub const REFRESH: Method = Method(0x004);
    /// Send (RFC 8656): an indication carrying data to a peer.
    pub const SEND: Method = Method(0x006);
    /// Data (RFC 8656): an indication carrying data from a peer.
    pub const DATA: Method = Method(0x007);
    /// CreatePermission (RFC 8656).
    pub const CREATE_PERMISSION: Method = Method(0x008);
    /// ChannelBind (RFC 8656).
    pub const CHANNEL_BIND: Method = Method(0x009);
    /// Connect (RFC 6062, TURN TCP relaying).
    pub const CONNECT: Method = Method(0x00A);
    /// ConnectionBind (RFC 6062).
    pub const CONNECTION_BIND: Method = Method(0x00B);
    /// ConnectionAttempt (RFC 6062).
    pub const CONNECTION_ATTEMPT: Method = Method(0x00C);

    /// A method from its 12-bit value; `None` above 0xFFF.
    pub const fn new(value: u16) -> Option<Method> {
        if value <= 0xFFF {
            Some(Method(value))
        } else {
            None
        }
    }

    /// The 12-bit value.
    pub const fn value(self) -> u16 {
        self.0
    }

    /// The registered name, if this is one of the methods above.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Method::BINDING => "Binding",
            Method::ALLOCATE => "Allocate",
            Method::REFRESH => "Refresh",
            Method::SEND => "Send",
            Method::DATA => "Data",
            Method::CREATE_PERMISSION => "CreatePermission",
            Method::CHANNEL_BIND => "ChannelBind",
            Method::CONNECT => "Connect",
            Method::CONNECTION_BIND => "ConnectionBind",
            Method::CONNECTION_ATTEMPT => "ConnectionAttempt",
            _ => return None,
        })
    }
}

impl fmt::Debug for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "Method({:#05x})", self.0),
        }
    }
}

/// The class of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// A request, answered by a success or error response.
    Request,
    /// An indication: no response.
    Indication,
    /// A success response.
    Success,
    /// An error response (carries ERROR-CODE).
    Error,
}

impl Class {
    const fn bits(self) -> u16 {
        match self {
            Class::Request => 0b00,
            Class::Indication => 0b01,
            Class::Success => 0b10,
            Class::Error => 0b11,
        }
    }

    const fn from_bits(bits: u16) -> Class {
        match bits & 0b11 {
            0b00 => Class::Request,
            0b01 => Class::Indication,
            0b10 => Class::Success,
            _ => Class::Error,
        }
    }
}

/// Method and class together: the first 16 bits of a message.
///
/// ```
/// use zvon_stun::{Class, MessageType, Method};
/// //# The message type field is decomposed further into [...] M11..M0 and C1 C0 (RFC 8489 5)
/// let t = MessageType::new(Method::BINDING, Class::Success);
/// assert_eq!(t.to_u16(), 0x0101);
/// assert_eq!(MessageType::from_u16(0x0111), Some(MessageType::new(Method::BINDING, Class::Error)));
/// assert_eq!(MessageType::new(Method::DATA, Class::Indication).to_u16(), 0x0017);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageType {
    /// The method.
    pub method: Method,
    /// The class.
    pub class: Class,
}

impl MessageType {
    /// A message type from its parts.
    pub const fn new(method: Method, class: Class) -> Self {
        Self { method, class }
    }

    /// A request of `method`.
    pub const fn request(method: Method) -> Self {
        Self::new(method, Class::Request)
    }

    /// An indication of `method`.
    pub const fn indication(method: Method) -> Self {
        Self::new(method, Class::Indication)
    }

    /// A success response of `method`.
    pub const fn success(method: Method) -> Self {
        Self::new(method, Class::Success)
    }

    /// An error response of `method`.
    pub const fn error(method: Method) -> Self {
        Self::new(method, Class::Error)
    }

    /// The wire value: `M11..M7 C1 M6..M4 C0 M3..M0` in the low 14 bits.
    pub const fn to_u16(self) -> u16 {
        let m = self.method.0;
        let c = self.class.bits();
        (m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7)
    }

    /// Splits a wire value; `None` when either of the two top bits is set (not STUN).
    pub const fn from_u16(t: u16) -> Option<Self> {
        if t & 0xC000 != 0 {
            return None;
        }
        let m = (t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2);
        let c = ((t >> 4) & 1) | ((t >> 7) & 2);
        Some(Self {
            method: Method(m),
            class: Class::from_bits(c),
        })
    }
}

/// The 96-bit transaction id that pairs a response with its request.
///
/// ```
/// use zvon_base::Rng;
/// use zvon_stun::TransactionId;
/// let mut rng = Rng::from_seed_u64(1);
/// let a = TransactionId::random(&mut rng);
/// assert_ne!(a, TransactionId::random(&mut rng));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TransactionId([u8; 12]);

impl TransactionId {
    /// A transaction id from its 12 bytes.
    pub const fn new(bytes: [u8; 12]) -> Self {
        Self(bytes)
    }

    /// A fresh id. RFC 8489 6: "The transaction ID MUST be uniformly and randomly chosen from
    /// the interval 0 .. 2**96-1, and MUST be cryptographically random."; the `Rng` is, when
    /// the caller seeded it from the OS.
    pub fn random(rng: &mut Rng) -> Self {
        let mut b = [0u8; 12];
        rng.fill(&mut b);
        Self(b)
    }

    /// The 12 bytes.
    pub const fn as_bytes(&self) -> &[u8; 12] {
        &self.0
    }
}

impl fmt::Debug for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TransactionId(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips() {
        for t in 0..=0x3FFFu16 {
            let mt = MessageType::from_u16(t).unwrap();
            assert_eq!(mt.to_u16(), t);
        }
        assert_eq!(MessageType::from_u16(0x4001), None);
        assert_eq!(MessageType::from_u16(0x8001), None);
    }

    #[test]
    fn known_wire_values() {
        // RFC 8656 and RFC 6062 list these values for the full message types.
        let cases = [
            (MessageType::request(Method::ALLOCATE), 0x0003),
            (MessageType::success(Method::ALLOCATE), 0x0103),
            (MessageType::error(Method::ALLOCATE), 0x0113),
            (MessageType::indication(Method::SEND), 0x0016),
            (MessageType::indication(Method::DATA), 0x0017),
            (MessageType::request(Method::CHANNEL_BIND), 0x0009),
            (MessageType::indication(Method::CONNECTION_ATTEMPT), 0x001C),
            (MessageType::indication(Method::BINDING), 0x0011),
        ];
        for (mt, v) in cases {
            assert_eq!(mt.to_u16(), v, "{mt:?}");
        }
        assert_eq!(
            format!("{:?}", Method::new(0xabc).unwrap()),
            "Method(0xabc)"
        );
    }
}
