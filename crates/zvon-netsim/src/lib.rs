//! # zvon-netsim
//!
//! A deterministic network simulator for testing sans-IO protocol stacks: a virtual clock,
//! hosts with IPv4/IPv6 addresses, links with latency, jitter, loss (random or bursty),
//! reordering, duplication and a bandwidth cap with a drop-tail queue, and NAT boxes with the
//! RFC 4787 mapping and filtering behaviors (the four classic types are presets). Every random
//! draw comes from a [`zvon_base::Rng`] derived from one seed, so the same seed gives the same
//! packet trace, byte for byte, and every failure replays.
//!
//! ## The pieces
//!
//! - [`Sim<N>`](Sim): the network plus one [`Node`] per host, and the drive loops:
//!   [`step`](Sim::step), [`advance`](Sim::advance) / [`advance_to`](Sim::advance_to),
//!   [`run_until`](Sim::run_until) (a goal predicate) and [`run_until_idle`](Sim::run_until_idle),
//!   all bounded by [`Limits`]: a livelock, a missed deadline or a stall is a [`DriveError`],
//!   never a hung test. `Sim` derefs to [`Network`].
//! - [`Node`]: the drive-loop shape of every zvon state machine (`handle_datagram`,
//!   `poll_transmit`, `poll_timeout`, `handle_timeout`). Wrap your state machine in a small
//!   struct implementing it; [`Datagram::from_transmit`] turns a `zvon_base::Transmit` and its
//!   buffer into a [`Datagram`]. [`Probe`] is a ready-made scriptable node.
//! - [`Network`]: topology, configuration and observation: [`HostConfig`] (addresses in a
//!   [`Realm`]: the public internet or behind a NAT), [`NatConfig`], [`LinkConfig`] per access
//!   link direction ([`set_link`](Network::set_link), [`set_link_dir`](Network::set_link_dir)),
//!   pair paths ([`set_path`](Network::set_path)), cuts ([`cut`](Network::cut),
//!   [`restore`](Network::restore), [`set_path_up`](Network::set_path_up)), spoofed packets
//!   ([`inject`](Network::inject)), counters ([`host_stats`](Network::host_stats),
//!   [`link_stats`](Network::link_stats), [`nat_stats`](Network::nat_stats),
//!   [`drops`](Network::drops)), NAT state ([`nat_mappings`](Network::nat_mappings)) and the
//!   [`Trace`].
//!
//! ## The path of a packet
//!
//! A datagram a node sends crosses its host's uplink, is routed in the host's realm (the
//! public internet reaches every public address; a private realm reaches its own hosts
//! directly, as a LAN, and everything else through its NAT), crosses the pair path if one is
//! set, then the receiver's downlink. A NAT translates outbound packets and sends them on its
//! own WAN uplink into its outer realm (which may be another NAT's inside: carrier-grade NAT);
//! inbound packets cross its WAN downlink, pass its filter, are translated and cross the inside
//! host's downlink. What each link does to a packet, in order, is on [`LinkConfig`]. Every
//! drop has a [`DropReason`], counted per host, per link, per NAT and in the trace.
//!
//! ## Determinism
//!
//! Virtual time starts at an origin (given, or one `Instant::now()` at construction, never
//! read again) and jumps from event to event. Each link and NAT draws from its own random
//! stream derived from the seed and its name, so adding a host does not change what other
//! links do. Events at the same instant run in the order they were scheduled, nodes in host
//! order. The trace records times as offsets from the origin: [`Trace::to_bytes`] of two
//! runs with one seed are equal. For bulk transfers turn the trace off
//! ([`SimConfig::without_trace`]); the counters still count.
//!
//! ## Example: two peers through a NAT
//!
//! ```
//! use std::net::SocketAddr;
//! use std::time::{Duration, Instant};
//! use zvon_netsim::{
//!     Datagram, DropReason, HostConfig, Limits, LinkConfig, NatConfig, Node, Sim,
//! };
//!
//! /// A toy sans-IO peer: pings `peer` every 50 ms until it has 3 pongs; answers pings.
//! struct Peer {
//!     me: SocketAddr,
//!     peer: Option<SocketAddr>,
//!     next_ping: Option<Instant>,
//!     outbox: Vec<Datagram>,
//!     pongs: usize,
//!     seen_from: Vec<SocketAddr>,
//! }
//!
//! impl Peer {
//!     fn new(me: SocketAddr, peer: Option<SocketAddr>, start: Instant) -> Self {
//!         let next_ping = peer.map(|_| start);
//!         Peer { me, peer, next_ping, outbox: Vec::new(), pongs: 0, seen_from: Vec::new() }
//!     }
//! }
//!
//! impl Node for Peer {
//!     fn handle_datagram(&mut self, _now: Instant, d: Datagram) {
//!         self.seen_from.push(d.src);
//!         match &d.data[..] {
//!             b"ping" => self.outbox.push(Datagram::udp(self.me, d.src, *b"pong")),
//!             b"pong" => {
//!                 self.pongs += 1;
//!                 if self.pongs == 3 {
//!                     self.next_ping = None;
//!                 }
//!             }
//!             _ => {}
//!         }
//!     }
//!     fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
//!         self.outbox.pop()
//!     }
//!     fn poll_timeout(&mut self) -> Option<Instant> {
//!         self.next_ping
//!     }
//!     fn handle_timeout(&mut self, now: Instant) {
//!         if let (Some(peer), Some(due)) = (self.peer, self.next_ping) {
//!             if now >= due {
//!                 self.outbox.push(Datagram::udp(self.me, peer, *b"ping"));
//!                 self.next_ping = Some(now + Duration::from_millis(50));
//!             }
//!         }
//!     }
//! }
//!
//! fn run(seed: u64) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
//!     let mut sim: Sim<Peer> = Sim::new(seed);
//!     let nat = sim.add_nat(NatConfig::port_restricted("203.0.113.1".parse()?));
//!     let client_addr: SocketAddr = "192.168.1.10:5000".parse()?;
//!     let server_addr: SocketAddr = "198.51.100.7:3478".parse()?;
//!     // 20 ms each way on each access link, 10% loss on the client's.
//!     let link = LinkConfig::ideal().with_latency(Duration::from_millis(20));
//!     let t0 = sim.now();
//!     let client = sim.add_node(
//!         HostConfig::behind(nat, "client", client_addr.ip()).with_link(link.clone().with_loss(0.1)),
//!         Peer::new(client_addr, Some(server_addr), t0),
//!     );
//!     let server = sim.add_node(
//!         HostConfig::public("server", server_addr.ip()).with_link(link),
//!         Peer::new(server_addr, None, t0),
//!     );
//!
//!     // Drive until the client has its pongs; a livelock or 10 virtual seconds is an error.
//!     sim.run_until(Limits::time(Duration::from_secs(10)), |s| s.node(client).pongs == 3)?;
//!
//!     // The server saw the NAT's public address (the port was preserved), and the NAT holds
//!     // one mapping for the client.
//!     let external: SocketAddr = "203.0.113.1:5000".parse()?;
//!     assert!(sim.node(server).seen_from.iter().all(|&a| a == external));
//!     assert_eq!(sim.nat_mappings(nat), vec![(zvon_base::Protocol::Udp, client_addr, external)]);
//!     // The first pong takes one 80 ms round trip, then pings go every 50 ms.
//!     assert!(sim.elapsed() >= Duration::from_millis(180));
//!
//!     // A stranger's packet to the mapped port is filtered by the port-restricted NAT.
//!     sim.inject(Datagram::udp("192.0.2.99:1234".parse()?, external, *b"ping"));
//!     sim.advance(Duration::from_millis(100))?;
//!     assert_eq!(sim.nat_stats(nat).dropped.get(DropReason::NatFiltered), 1);
//!
//!     // The mapping expires after 30 s without outbound traffic.
//!     sim.advance(Duration::from_secs(31))?;
//!     assert!(sim.nat_mappings(nat).is_empty());
//!
//!     Ok(sim.trace().to_bytes())
//! }
//!
//! // Same seed, same trace, byte for byte; another seed loses other packets.
//! assert_eq!(run(7).unwrap(), run(7).unwrap());
//! assert_ne!(run(7).unwrap(), run(8).unwrap());
//! // Each trace line: time since origin, event, device, addresses, length, payload hash.
//! let trace = String::from_utf8(run(7).unwrap()).unwrap();
//! assert!(trace.lines().any(|l| l.contains("nat-out   n0 udp 203.0.113.1:5000 > 198.51.100.7:3478")));
//! ```
//!
//! ## Wrapping a zvon state machine
//!
//! Protocol crates write datagrams into a caller's buffer and return a `zvon_base::Transmit`;
//! a node keeps one buffer and turns each into a [`Datagram`]. Keep the machine's events in
//! the node (or expose the machine) so the test's goal predicate can look at them.
//!
//! ```
//! use std::time::Instant;
//! use zvon_base::Transmit;
//! use zvon_netsim::{Datagram, Node};
//!
//! # struct Agent;
//! # impl Agent {
//! #     fn handle_input(&mut self, _now: Instant, _from: std::net::SocketAddr, _to: std::net::SocketAddr, _data: &[u8]) {}
//! #     fn poll_transmit(&mut self, _now: Instant, _buf: &mut [u8]) -> Option<Transmit> { None }
//! #     fn poll_timeout(&self) -> Option<Instant> { None }
//! #     fn handle_timeout(&mut self, _now: Instant) {}
//! # }
//! /// `Agent` stands for any zvon state machine (ICE agent, DTLS endpoint, ...).
//! struct AgentNode {
//!     agent: Agent,
//!     buf: Vec<u8>,
//! }
//!
//! impl Node for AgentNode {
//!     fn handle_datagram(&mut self, now: Instant, d: Datagram) {
//!         self.agent.handle_input(now, d.src, d.dst, &d.data);
//!     }
//!     fn poll_transmit(&mut self, now: Instant) -> Option<Datagram> {
//!         self.buf.resize(65_535, 0);
//!         let t = self.agent.poll_transmit(now, &mut self.buf)?;
//!         Some(Datagram::from_transmit(&t, &self.buf))
//!     }
//!     fn poll_timeout(&mut self) -> Option<Instant> {
//!         self.agent.poll_timeout()
//!     }
//!     fn handle_timeout(&mut self, now: Instant) {
//!         self.agent.handle_timeout(now)
//!     }
//! }
//! ```
//!
//! ## Good habits in tests
//!
//! - Give drive loops tight [`Limits`] (the defaults allow a virtual hour and 100 million
//!   steps): `Limits::time(Duration::from_secs(30))` fails a stuck handshake in 30 virtual
//!   seconds, which takes milliseconds of real time.
//! - [`Network::send`] puts a datagram on the network as if a host's node had sent it (through
//!   its uplink); [`Network::inject`] drops one onto the public internet from nowhere, to play
//!   an attacker or a stray packet. Both are reachable on `Sim` through deref.
//! - Each node's calls run inside a `tracing` span `node{name=...}`, so logs from two peers
//!   of the same type can be told apart once a subscriber is installed.
//! - On failure, print `sim.trace()`: one line per event, times since the origin.
#![forbid(unsafe_code)]

mod config;
mod hash;
mod link;
mod nat;
mod net;
mod sim;
mod trace;

pub use config::{
    FilteringBehavior, GilbertElliott, HostConfig, LinkConfig, LossModel, MappingBehavior,
    NatConfig, NatType, PortAllocation, Realm,
};
pub use net::{Datagram, Delivery, Device, Direction, HostId, NatId, Network, SimConfig};
pub use sim::{DriveError, Limits, Node, Probe, Sim, Step};
pub use trace::{
    DropCounts, DropReason, HostStats, LinkStats, NatStats, Trace, TraceConfig, TraceEvent,
    TraceKind, payload_hash,
};
