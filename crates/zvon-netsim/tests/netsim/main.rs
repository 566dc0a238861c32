//! The simulator's own tests: each impairment measured with fixed seeds, each NAT type's
//! filtering and mapping, the drive loops' bounds, determinism, and a no-panic property test.
//! One test binary (modules below) to keep link time down on small CI machines.

mod bulk;
mod determinism;
mod drive;
mod impairments;
mod nat;
mod props;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use zvon_netsim::{Datagram, HostConfig, HostId, Limits, LinkConfig, Probe, Sim};

pub(crate) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub(crate) fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A payload carrying a sequence number, padded to `len` bytes.
pub(crate) fn payload(seq: u32, len: usize) -> Vec<u8> {
    let mut v = seq.to_le_bytes().to_vec();
    v.resize(len.max(4), 0xab);
    v
}

pub(crate) fn seq_of(d: &Datagram) -> u32 {
    u32::from_le_bytes([d.data[0], d.data[1], d.data[2], d.data[3]])
}

pub(crate) const A: &str = "10.0.0.1:1000";
pub(crate) const B: &str = "10.0.0.2:2000";

/// Two public hosts, `a` (uplink `up`) and `b` (ideal), with probes.
pub(crate) fn pair(seed: u64, up: LinkConfig) -> (Sim<Probe>, HostId, HostId) {
    let mut sim = Sim::new(seed);
    let a = sim.add_node(
        HostConfig::public("a", ip("10.0.0.1")).with_uplink(up),
        Probe::new(),
    );
    let b = sim.add_node(HostConfig::public("b", ip("10.0.0.2")), Probe::new());
    (sim, a, b)
}

/// Schedules `n` datagrams of `len` bytes from A to B, one every `interval` from now.
pub(crate) fn blast(sim: &mut Sim<Probe>, a: HostId, n: u32, interval: Duration, len: usize) {
    let t0 = sim.now();
    for i in 0..n {
        let d = Datagram::udp(sa(A), sa(B), payload(i, len));
        sim.node_mut(a).send_at(t0 + interval * i, d);
    }
}

/// Runs until nothing is left to happen.
pub(crate) fn settle(sim: &mut Sim<Probe>) {
    sim.run_until_idle(Limits::default()).unwrap();
}

/// (sequence number, one-way delay) of everything `b` received, in arrival order, for
/// datagrams sent by [`blast`] starting at `t0`.
pub(crate) fn arrivals(
    sim: &Sim<Probe>,
    b: HostId,
    t0: Instant,
    interval: Duration,
) -> Vec<(u32, Duration)> {
    sim.node(b)
        .received()
        .iter()
        .map(|(at, d)| {
            let s = seq_of(d);
            (s, *at - (t0 + interval * s))
        })
        .collect()
}
