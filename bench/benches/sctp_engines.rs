//! SCTP engines alone, in memory: bulk throughput of one reliable ordered stream, CPU per GB,
//! small-message rate, and how throughput holds as the send buffer grows. zvon-sctp beside
//! sctp-proto 0.10 (str0m's engine) and rtc-sctp 0.21 (webrtc-rs's sans-IO engine), same
//! driver, same MTU (1200), same run.
//!
//! `cargo bench --bench sctp_engines` in `bench/` (ZVON_BENCH_MB sets the bytes per run).
#![allow(clippy::disallowed_methods)] // a benchmark reads the real clock and CPU time

use std::time::{Duration, Instant};

mod engines;
use engines::{Engine, RtcSctp, SctpProto, Zvon};

/// CPU time of this process (user + system), from /proc/self/schedstat (nanoseconds).
fn cpu_time() -> Duration {
    let s = std::fs::read_to_string("/proc/self/schedstat").unwrap_or_default();
    let ns: u64 = s
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

struct Run {
    gbps: f64,
    cpu_s_per_gb: f64,
    msgs_per_s: f64,
}

fn run<E: Engine>(total: u64, msg: usize, buffer: usize) -> Run {
    // ZVON_BENCH_ONLY=zvon runs one engine (for profiling); the others report zeros.
    if std::env::var("ZVON_BENCH_ONLY").is_ok_and(|o| !E::NAME.starts_with(&o)) {
        return Run {
            gbps: 0.0,
            cpu_s_per_gb: 0.0,
            msgs_per_s: 0.0,
        };
    }
    let mut e = E::new(1200);
    let payload: Vec<u8> = (0..msg).map(|i| i as u8).collect();
    let t0 = Instant::now();
    let c0 = cpu_time();
    let mut sent = 0u64;
    let mut received = 0u64;
    let mut messages = 0u64;
    let deadline = t0 + Duration::from_secs(60);
    while received < total {
        while sent < total && e.buffered() < buffer {
            if !e.send(&payload) {
                break;
            }
            sent += msg as u64;
        }
        let now = Instant::now();
        let (bytes, n) = e.pump(now);
        received += bytes;
        messages += n;
        if now > deadline {
            eprintln!(
                "  {}: gave up after 60 s at {received} of {total} bytes",
                E::NAME
            );
            break;
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = (cpu_time() - c0).as_secs_f64();
    Run {
        gbps: received as f64 * 8.0 / wall / 1e9,
        cpu_s_per_gb: cpu / (received as f64 / 1e9),
        msgs_per_s: messages as f64 / wall,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run tiny then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let mb: u64 = std::env::var("ZVON_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 2 } else { 256 });
    let total = mb * 1_000_000;
    println!("SCTP engines alone in memory, MTU 1200 (sctp-proto: 1228, fixed), {mb} MB per run,");
    println!("one reliable ordered stream, receiver answers after every packet.");
    type ZZero = Zvon<true>;
    type ZCrc = Zvon<false>;

    println!();
    println!("bulk, 1 MiB send buffer: Gbit/s (CPU s/GB)");
    println!(
        "{:<10} {:>22} {:>22} {:>22} {:>22}",
        "msg size",
        ZZero::NAME,
        ZCrc::NAME,
        SctpProto::NAME,
        RtcSctp::NAME
    );
    for msg in [1024usize, 16 * 1024, 64 * 1024] {
        let cells = [
            run::<ZZero>(total, msg, 1 << 20),
            run::<ZCrc>(total, msg, 1 << 20),
            run::<SctpProto>(total / 4, msg, 1 << 20),
            run::<RtcSctp>(total, msg, 1 << 20),
        ];
        print!("{:<10}", format!("{} KiB", msg / 1024));
        for c in &cells {
            print!(" {:>22}", format!("{:.2} ({:.2})", c.gbps, c.cpu_s_per_gb));
        }
        println!(
            "   throughput zvon/sctp-proto {:.1}x, zvon/rtc-sctp {:.1}x; CPU per GB sctp-proto/zvon {:.1}x, rtc-sctp/zvon {:.1}x",
            cells[0].gbps / cells[2].gbps,
            cells[0].gbps / cells[3].gbps,
            cells[2].cpu_s_per_gb / cells[0].cpu_s_per_gb,
            cells[3].cpu_s_per_gb / cells[0].cpu_s_per_gb
        );
    }

    println!();
    println!("send buffer sweep, 64 KiB messages: Gbit/s (CPU s/GB)");
    println!(
        "{:<10} {:>22} {:>22} {:>22} {:>22}",
        "buffer",
        ZZero::NAME,
        ZCrc::NAME,
        SctpProto::NAME,
        RtcSctp::NAME
    );
    for buf in [32 * 1024usize, 128 * 1024, 256 * 1024, 1 << 20] {
        let cells = [
            run::<ZZero>(total, 64 * 1024, buf),
            run::<ZCrc>(total, 64 * 1024, buf),
            run::<SctpProto>(total / 4, 64 * 1024, buf),
            run::<RtcSctp>(total, 64 * 1024, buf),
        ];
        print!("{:<10}", format!("{} KiB", buf / 1024));
        for c in &cells {
            print!(" {:>22}", format!("{:.2} ({:.2})", c.gbps, c.cpu_s_per_gb));
        }
        println!();
    }

    println!();
    println!("small messages (100 B), 256 KiB send buffer: messages/s");
    let small = total / 20;
    let cells = [
        run::<ZZero>(small, 100, 256 * 1024),
        run::<ZCrc>(small, 100, 256 * 1024),
        run::<SctpProto>(small / 4, 100, 256 * 1024),
        run::<RtcSctp>(small, 100, 256 * 1024),
    ];
    print!("{:<10}", "100 B");
    for c in &cells {
        print!(" {:>22}", format!("{:.0}", c.msgs_per_s));
    }
    println!();
}
