//! ICE on real sockets: gathering on the machine's interfaces, ICE server URLs, and a tokio
//! task that drives a sans-IO [`zvon_ice::IceAgent`].
//!
//! - [`IceServer`] / [`IceUrl`]: the W3C `RTCIceServer` and RFC 7064/7065 URLs.
//! - [`local_addresses`] and [`bind_udp`]: one UDP socket per interface address and family
//!   (non-loopback by default), in a configurable port range.
//! - [`IceDriver`]: gathers per [`GatherOptions`] (STUN, TURN over UDP and over TCP), then runs
//!   the agent on its own task; commands in, [`DriverEvent`]s out. It is the simple driver the
//!   coturn tests use; the peer connection drives the agent inside its own task instead.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use zvon::ice::{GatherOptions, IceDriver, IceServer};
//! use zvon_ice::{IceAgent, IceConfig, IceRole};
//! let agent = IceAgent::new(IceConfig::default(), IceRole::Controlling, zvon::ice::os_rng());
//! let opts = GatherOptions {
//!     ice_servers: vec![IceServer::new(["turn:127.0.0.1:3478"]).with_credentials("u", "p")],
//!     ..GatherOptions::default()
//! };
//! let mut ice = IceDriver::start(agent, opts).await?;
//! while let Some(ev) = ice.next_event().await {
//!     println!("{ev:?}");
//! }
//! # Ok(()) }
//! ```

mod driver;
mod url;

pub use driver::{
    Command, DriverEvent, GatherError, GatherOptions, IceDriver, bind_udp, local_addresses,
};
pub use url::{IceServer, IceUrl, Scheme, Transport, UrlError};

/// A [`zvon_base::Rng`] seeded from the operating system (through aws-lc-rs), for agents on
/// real sockets.
pub fn os_rng() -> zvon_base::Rng {
    let mut seed = [0u8; 32];
    // A failing system RNG is a broken machine; there is no safe fallback for ICE secrets.
    #[allow(clippy::expect_used)]
    aws_lc_rs::rand::fill(&mut seed).expect("the OS random number generator failed");
    zvon_base::Rng::from_seed(seed)
}
