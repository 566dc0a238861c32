//! # zvon-server
//!
//! The signaling server of zvon, and a client for it. Peers of a *room* meet over WebSocket
//! and relay their session descriptions and ICE candidates through the server, which never
//! reads them: it checks the envelope, adds the sender's id, and passes the payload on byte
//! for byte. The protocol is `docs/signaling.md` of the zvon repository (join / welcome /
//! peer-joined / peer-left / signal / leave / error / bye); anyone can write a client from it,
//! and the built-in web page is one.
//!
//! - [`Server`]: `bind(ServerConfig)`, `run()`, and a [`Handle`] for a graceful `shutdown()`
//!   that tells every peer `bye`. Routes: `GET /ws` (the protocol), `GET /healthz`, and the
//!   web page at `/` (its files are built into the binary; [`ServerConfig::web_dir`] serves
//!   them from disk instead while developing).
//! - [`client::Client`]: joins a room and relays [`SignalData`] (typed descriptions and
//!   candidates, the W3C JSON a browser sends, convertible to and from zvon's
//!   [`Description`](zvon::Description) and [`CandidateInit`](zvon::CandidateInit)).
//! - [`protocol`]: the wire types, shared by both.
//!
//! Limits, all in [`ServerConfig`]: a frame size (64 KiB), peers per room (16), rooms, a
//! per-peer message rate with a burst, an idle timeout (WebSocket pings keep live peers in),
//! and a byte limit on what waits to be sent to each peer: a peer that stops reading is
//! dropped rather than allowed to grow the server's memory or hold up its room.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use zvon_server::{Server, ServerConfig, SignalData, client::Client};
//! let server = Server::bind(ServerConfig::default()).await?; // 127.0.0.1:8080
//! let handle = server.handle();
//! tokio::spawn(server.run());
//!
//! let alice = Client::connect("ws://127.0.0.1:8080/ws", "room1", None, Some("alice")).await?;
//! let bob = Client::connect("ws://127.0.0.1:8080/ws", "room1", None, Some("bob")).await?;
//! assert_eq!(bob.welcome().peers[0].id, alice.id());
//! bob.send_signal(alice.id(), &SignalData::from(zvon::Description::offer("v=0\r\n"))).await?;
//! handle.shutdown();
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod client;
mod config;
mod error;
pub mod protocol;
mod server;
pub mod web;

pub use client::Client;
pub use config::{RateLimit, ServerConfig};
pub use error::Error;
pub use protocol::{ErrorCode, PeerInfo, ServerMessage, SignalData, Welcome};
pub use server::{Handle, Server};
