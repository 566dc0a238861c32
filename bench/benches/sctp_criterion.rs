//! The in-memory transfer of `throughput.rs` under criterion: each engine moves 8 MB per
//! iteration through one reliable ordered stream (MTU 1200, the receiver answering after every
//! packet), so criterion's `thrpt` is the engine pair's throughput and the three engines sit
//! side by side in one report. `cargo bench --bench sctp_criterion` in `bench/`.
#![allow(clippy::disallowed_methods)] // a benchmark reads the real clock

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

mod engines;
use engines::{Engine, RtcSctp, SctpProto, Zvon};

/// Moves `total` bytes in `msg`-byte messages with at most `buffer` bytes queued.
fn transfer<E: Engine>(e: &mut E, payload: &[u8], total: u64, buffer: usize) {
    let (mut sent, mut received) = (0u64, 0u64);
    while received < total {
        while sent < total && e.buffered() < buffer {
            if !e.send(payload) {
                break;
            }
            sent += payload.len() as u64;
        }
        received += e.pump(Instant::now()).0;
    }
}

fn bench_engine<E: Engine>(c: &mut Criterion, group: &str, msg: usize, total: u64) {
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(3));
    if msg >= 1024 {
        g.throughput(Throughput::Bytes(total));
    } else {
        g.throughput(Throughput::Elements(total / msg as u64));
    }
    let payload = vec![0x5a; msg];
    g.bench_function(E::NAME, |b| {
        let mut e = E::new(1200);
        b.iter_custom(|iters| {
            let t0 = Instant::now();
            for _ in 0..iters {
                transfer(&mut e, &payload, total, 1 << 20);
            }
            t0.elapsed()
        })
    });
    g.finish();
}

fn bulk(c: &mut Criterion) {
    for (group, msg) in [("bulk 64 KiB", 64 * 1024), ("bulk 1 KiB", 1024)] {
        let total = 8 << 20;
        bench_engine::<Zvon<true>>(c, group, msg, total);
        bench_engine::<Zvon<false>>(c, group, msg, total);
        bench_engine::<SctpProto>(c, group, msg, total);
        bench_engine::<RtcSctp>(c, group, msg, total);
    }
    let total = 100 * 20_000;
    bench_engine::<Zvon<true>>(c, "100-byte messages", 100, total);
    bench_engine::<SctpProto>(c, "100-byte messages", 100, total);
    bench_engine::<RtcSctp>(c, "100-byte messages", 100, total);
}

criterion_group!(benches, bulk);
criterion_main!(benches);
