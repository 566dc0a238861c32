use std::net::SocketAddr;

/// The transport a datagram or segment travels on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Plain UDP.
    Udp,
    /// TCP with RFC 4571 / RFC 6544 framing (ICE-TCP, TURN over TCP).
    Tcp,
    /// TCP inside TLS (TURN over TLS, `turns:`).
    Tls,
}

/// One datagram that a state machine wants sent.
///
/// The payload itself lives in the caller's buffer that was handed to the `poll_transmit`
/// method; `Transmit` carries only the addressing and the length written, so that producing one
/// never allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// Transport to send on.
    pub proto: Protocol,
    /// Local address to send from (selects the socket when a peer has several).
    pub source: SocketAddr,
    /// Where to send it.
    pub destination: SocketAddr,
    /// Number of bytes written into the caller's buffer.
    pub len: usize,
}
