//! What a [`Server`](crate::Server) allows.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Messages per second a peer may send, with a burst (a token bucket).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained messages per second.
    pub per_second: f64,
    /// Messages that may come at once after a quiet spell.
    pub burst: u32,
}

impl Default for RateLimit {
    /// 50 messages/s, bursts of 200: trickle ICE with many interfaces stays well inside it.
    fn default() -> Self {
        Self {
            per_second: 50.0,
            burst: 200,
        }
    }
}

/// The settings of a [`Server`](crate::Server). Start from `default()` and set fields.
///
/// ```
/// let mut cfg = zvon_server::ServerConfig::default();
/// cfg.addr = "127.0.0.1:0".parse().unwrap();
/// cfg.token = Some("secret".into());
/// assert_eq!(cfg.max_peers_per_room, 16);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Where to listen (port 0 picks a free one; see [`Server::local_addr`](crate::Server::local_addr)).
    pub addr: SocketAddr,
    /// When set, `join` must carry this token.
    pub token: Option<String>,
    /// The largest text frame relayed, in bytes; larger ones get `too-large` and are dropped.
    /// Frames over four times this close the socket (they are never buffered whole).
    pub max_frame: usize,
    /// Peers per room.
    pub max_peers_per_room: usize,
    /// Rooms held at once.
    pub max_rooms: usize,
    /// A peer that sends nothing, not even a pong, for this long is dropped (`bye` `idle`);
    /// so is a connection that has not joined by then. Pings go out every third of it.
    pub idle_timeout: Duration,
    /// Per-peer message rate.
    pub rate_limit: RateLimit,
    /// Bytes queued towards one peer at most; a peer that reads too slowly for that is
    /// dropped, so it can neither grow the server's memory nor hold up the others. Raised to
    /// at least twice `max_frame` plus room for the envelope.
    pub max_queued_bytes: usize,
    /// Serve the web page from this directory (files not found there come from the copy built
    /// into the binary).
    pub web_dir: Option<PathBuf>,
    /// How long a closing socket gets to take its last messages (`bye`, an error) and answer
    /// the close, on shutdown and when the server drops it.
    pub close_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            token: None,
            max_frame: 64 * 1024,
            max_peers_per_room: 16,
            max_rooms: 10_000,
            idle_timeout: Duration::from_secs(30),
            rate_limit: RateLimit::default(),
            max_queued_bytes: 1 << 20,
            web_dir: None,
            close_timeout: Duration::from_secs(2),
        }
    }
}

impl ServerConfig {
    /// The queue limit actually applied (see [`ServerConfig::max_queued_bytes`]).
    pub(crate) fn queue_limit(&self) -> usize {
        self.max_queued_bytes
            .max(self.max_frame.saturating_mul(2).saturating_add(1024))
    }

    /// The WebSocket layer's own limit: frames up to this are read and refused with
    /// `too-large`; larger ones end the connection.
    pub(crate) fn hard_frame_limit(&self) -> usize {
        self.max_frame.saturating_mul(4).max(1024)
    }
}
