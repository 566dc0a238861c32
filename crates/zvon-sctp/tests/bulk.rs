//! Bulk transfers through the simulator, every byte checked. `ZVON_SCTP_BULK_MIB` sets the
//! size (default 64 MiB in debug test runs; scripts/test runs 1024 MiB in release).
mod common;

use std::time::Duration;

use common::*;
use zvon_netsim::LinkConfig;

fn size() -> u64 {
    let mib: u64 = std::env::var("ZVON_SCTP_BULK_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    mib << 20
}

fn run(name: &str, seed: u64, link: LinkConfig) {
    let total = size();
    let r = bulk(seed, link, total, 64 * 1024, 1 << 20);
    println!(
        "{name}: {} MiB in {:.2?} virtual ({:.0} Mbit/s), {:.2?} wall, {} packets, {} retransmissions",
        total >> 20,
        r.virtual_time,
        r.mbps(total),
        r.wall,
        r.packets,
        r.retransmissions
    );
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn lossless() {
    run("lossless", 1, LinkConfig::ideal().with_latency(ms(1)));
}

#[test]
fn loss_1pct() {
    run(
        "1% loss",
        2,
        LinkConfig::ideal().with_latency(ms(1)).with_loss(0.01),
    );
}

#[test]
fn loss_5pct() {
    run(
        "5% loss",
        3,
        LinkConfig::ideal().with_latency(ms(1)).with_loss(0.05),
    );
}

#[test]
fn reordering() {
    run(
        "reorder 2%",
        4,
        LinkConfig::ideal()
            .with_latency(ms(1))
            .with_reorder(0.02, ms(3)),
    );
}

#[test]
fn bandwidth_cap() {
    run(
        "100 Mbit/s cap",
        5,
        LinkConfig::ideal()
            .with_latency(ms(5))
            .with_rate(100_000_000, 256 * 1024),
    );
}

/// 50 ms RTT, with and without 1% loss, beside the window-limited ceiling (receive window /
/// RTT) and, for the lossy case, the Mathis et al. estimate for a Reno-like sender.
#[test]
fn wan_50ms_rtt() {
    let total = size();
    let rwnd = zvon_sctp::Config::default().max_receive_buffer as f64;
    let rtt = 0.05;
    let ceiling = rwnd * 8.0 / rtt / 1e6;
    for (name, loss) in [("50 ms RTT", 0.0), ("50 ms RTT, 1% loss", 0.01)] {
        let mut link = LinkConfig::ideal().with_latency(ms(25));
        if loss > 0.0 {
            link = link.with_loss(loss);
        }
        let r = bulk(6, link, total, 64 * 1024, 4 << 20);
        let mss = 1191.0 - 28.0;
        let mathis = if loss > 0.0 {
            format!(
                ", Mathis estimate (delayed acks) {:.1} Mbit/s",
                mss * 8.0 / rtt * (1.5f64).sqrt() / (2.0 * loss).sqrt() / 1e6
            )
        } else {
            String::new()
        };
        println!(
            "{name}: {} MiB in {:.2?} virtual: {:.1} Mbit/s; window-limited ceiling {ceiling:.0} Mbit/s{mathis}; {} retransmissions",
            total >> 20,
            r.virtual_time,
            r.mbps(total),
            r.retransmissions
        );
    }
}

/// 200 000 small messages under loss: the 16-bit SSN of DATA wraps three times, the 32-bit MID
/// of I-DATA does not; both must keep order and content.
#[test]
fn small_messages_wrap_sequence_numbers() {
    for interleaving in [false, true] {
        let r = bulk_with(
            7,
            LinkConfig::ideal().with_latency(ms(1)).with_loss(0.01),
            200_000 * 100,
            100,
            64 * 1024,
            |c| c.interleaving = interleaving,
        );
        println!(
            "200k x 100 B ({}): {:.2?} virtual, {} retransmissions",
            if interleaving { "I-DATA" } else { "DATA" },
            r.virtual_time,
            r.retransmissions
        );
    }
}

#[test]
fn duplication_jitter_and_reordering() {
    run(
        "5% duplicates, jitter, 2% reorder, 1% loss",
        8,
        LinkConfig::ideal()
            .with_latency(ms(2))
            .with_jitter(ms(1))
            .with_duplicate(0.05)
            .with_reorder(0.02, ms(4))
            .with_loss(0.01),
    );
}
