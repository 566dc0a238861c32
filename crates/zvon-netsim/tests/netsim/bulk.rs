//! Bulk transfer through a capped link: the simulator must carry SCTP-sized workloads (a
//! GiB is ~900k packets) quickly. The GiB run is `#[ignore]`d; run it with
//! `cargo test --release -p zvon-netsim --test netsim bulk -- --ignored --nocapture`.

use std::time::{Duration, Instant};

use zvon_netsim::{
    Datagram, Direction, HostConfig, HostId, Limits, LinkConfig, NatConfig, Node, Sim, SimConfig,
};

use crate::{ip, ms, sa};

const MSS: usize = 1200;

/// A window-limited sender (a fixed number of packets in flight, clocked by acks, with a
/// retransmission timer so that loss does not stall it) and the receiver that acks each
/// packet; a stand-in for SCTP.
enum Bulk {
    Sender {
        next: u64,
        total: u64,
        acked: u64,
        window: u64,
        /// Acked sequence numbers beyond `acked` (selective acks).
        sacked: std::collections::BTreeSet<u64>,
        rto: Option<Instant>,
        resend: Vec<u64>,
    },
    Receiver {
        got: u64,
        acks: Vec<u64>,
    },
}

const SENDER: &str = "192.168.0.2:5000";
const RECEIVER: &str = "198.51.100.1:5000";

impl Node for Bulk {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        let mut n = [0u8; 8];
        n.copy_from_slice(&d.data[..8]);
        let seq = u64::from_le_bytes(n);
        match self {
            Bulk::Sender {
                acked, sacked, rto, ..
            } => {
                if seq >= *acked {
                    sacked.insert(seq);
                    while sacked.remove(acked) {
                        *acked += 1;
                    }
                    *rto = Some(now + ms(200));
                }
            }
            Bulk::Receiver { got, acks } => {
                *got += 1;
                acks.push(seq);
            }
        }
    }

    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        match self {
            Bulk::Sender {
                next,
                total,
                acked,
                window,
                resend,
                ..
            } => {
                let seq = if let Some(s) = resend.pop() {
                    s
                } else if *next < *total && *next < *acked + *window {
                    *next += 1;
                    *next - 1
                } else {
                    return None;
                };
                let mut data = vec![0u8; MSS];
                data[..8].copy_from_slice(&seq.to_le_bytes());
                Some(Datagram::udp(sa(SENDER), sa(RECEIVER), data))
            }
            Bulk::Receiver { acks, .. } => {
                let seq = acks.pop()?;
                // The receiver sees the NAT's external address; reply to it.
                Some(Datagram::udp(
                    sa(RECEIVER),
                    sa("203.0.113.1:5000"),
                    seq.to_le_bytes().to_vec(),
                ))
            }
        }
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        match self {
            Bulk::Sender {
                rto, acked, total, ..
            } if *acked < *total => *rto,
            _ => None,
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if let Bulk::Sender {
            next,
            acked,
            sacked,
            rto,
            resend,
            ..
        } = self
        {
            // Resend every hole below the highest sent.
            for s in (*acked..*next).rev() {
                if !sacked.contains(&s) {
                    resend.push(s);
                }
            }
            *rto = Some(now + ms(200));
        }
    }
}

fn transfer(bytes: u64, loss: f64) -> (Sim<Bulk>, HostId, Duration) {
    let mut sim = Sim::with_config(SimConfig::seed(90).without_trace());
    let nat = sim.add_nat(NatConfig::port_restricted(ip("203.0.113.1")));
    let total = bytes.div_ceil(MSS as u64);
    // 1 Gbit/s with 10 ms each way: a bandwidth-delay product of ~2000 packets.
    let access = LinkConfig::ideal()
        .with_latency(ms(10))
        .with_rate(1_000_000_000, 4 << 20);
    let s = sim.add_node(
        HostConfig::behind(nat, "sender", ip("192.168.0.2"))
            .with_link(access.clone().with_loss(loss)),
        Bulk::Sender {
            next: 0,
            total,
            acked: 0,
            window: 2500,
            sacked: Default::default(),
            rto: Some(sim.now() + ms(200)),
            resend: Vec::new(),
        },
    );
    let r = sim.add_node(
        HostConfig::public("receiver", ip("198.51.100.1")).with_link(access),
        Bulk::Receiver {
            got: 0,
            acks: Vec::new(),
        },
    );
    let _ = r;
    // The real clock only measures how fast the simulator runs; nothing simulated reads it.
    #[allow(clippy::disallowed_methods)]
    let wall = std::time::Instant::now();
    sim.run_until(
        Limits::time(Duration::from_secs(3600)),
        |sim| matches!(sim.node(s), Bulk::Sender { acked, total, .. } if acked == total),
    )
    .unwrap();
    (sim, s, wall.elapsed())
}

#[test]
fn bulk_transfer_through_a_nat_with_loss() {
    let (sim, s, _) = transfer(20 << 20, 0.01);
    let packets = sim.host_stats(s).sent;
    let total = (20u64 << 20).div_ceil(MSS as u64);
    assert!(packets > total, "losses were retransmitted");
    // 20 MiB at 1 Gbit/s takes 168 ms on the wire, plus round trips and recovery.
    assert!(
        sim.elapsed() < Duration::from_secs(3),
        "{:?}",
        sim.elapsed()
    );
    let lost = sim.link_stats(s, Direction::Up).dropped.total();
    assert!(lost > 0);
}

#[test]
#[ignore = "a GiB: run in release by hand to measure the simulator's speed"]
fn bulk_transfer_one_gib() {
    let (sim, s, wall) = transfer(1 << 30, 0.0);
    let packets = sim.host_stats(s).sent;
    println!(
        "1 GiB: {packets} data packets (+ as many acks) in {:?} wall, {:?} virtual, {:.0} packets/s wall",
        wall,
        sim.elapsed(),
        2.0 * packets as f64 / wall.as_secs_f64()
    );
}
