//! Handshakes per second per core: both ends on one thread, in memory and over loopback UDP.
//!
//! `cargo bench -p zvon-dtls --bench handshake`
// A benchmark reads the clock and opens loopback sockets; the sans-IO rules bind the library.
#![allow(clippy::disallowed_methods, clippy::disallowed_types, missing_docs)]

use std::hint::black_box;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use zvon_base::Rng;
use zvon_dtls::*;

fn pair(
    versions: VersionPolicy,
    ids: &(DtlsIdentity, DtlsIdentity),
    rng: &mut Rng,
    now: Instant,
) -> (DtlsTransport, DtlsTransport) {
    let mut cfg = DtlsConfig::default();
    cfg.versions = versions;
    let mut c = DtlsTransport::new(&cfg, &ids.0, DtlsRole::Client, rng, now).unwrap();
    let mut s = DtlsTransport::new(&cfg, &ids.1, DtlsRole::Server, rng, now).unwrap();
    c.set_remote_fingerprints([ids.1.fingerprint()]).unwrap();
    s.set_remote_fingerprints([ids.0.fingerprint()]).unwrap();
    (c, s)
}

fn connected(t: &mut DtlsTransport, done: &mut bool) {
    while let Some(e) = t.poll_event() {
        match e {
            DtlsEvent::Connected(_) => *done = true,
            other => panic!("{other:?}"),
        }
    }
}

/// One complete handshake in memory; returns the datagrams exchanged.
fn handshake_in_memory(
    versions: VersionPolicy,
    ids: &(DtlsIdentity, DtlsIdentity),
    rng: &mut Rng,
    buf: &mut [u8],
) -> usize {
    let now = Instant::now();
    let (mut c, mut s) = pair(versions, ids, rng, now);
    let (mut c_done, mut s_done) = (false, false);
    let mut n = 0;
    for _ in 0..20 {
        while let Some(len) = c.poll_transmit(now, buf) {
            s.handle_datagram(now, &buf[..len]).unwrap();
            n += 1;
        }
        while let Some(len) = s.poll_transmit(now, buf) {
            c.handle_datagram(now, &buf[..len]).unwrap();
            n += 1;
        }
        connected(&mut c, &mut c_done);
        connected(&mut s, &mut s_done);
        if c_done && s_done {
            return n;
        }
    }
    panic!("no handshake");
}

fn handshake_over_loopback(
    versions: VersionPolicy,
    ids: &(DtlsIdentity, DtlsIdentity),
    rng: &mut Rng,
    socks: &(UdpSocket, UdpSocket),
    buf: &mut [u8],
) {
    let (mut c, mut s) = pair(versions, ids, rng, Instant::now());
    let (mut c_done, mut s_done) = (false, false);
    let mut rbuf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(5);
    while !(c_done && s_done) {
        assert!(Instant::now() < deadline, "loopback handshake stalled");
        let now = Instant::now();
        while let Some(len) = c.poll_transmit(now, buf) {
            socks.0.send(&buf[..len]).unwrap();
        }
        while let Some(len) = s.poll_transmit(now, buf) {
            socks.1.send(&buf[..len]).unwrap();
        }
        connected(&mut c, &mut c_done);
        connected(&mut s, &mut s_done);
        // Non-blocking reads: whatever has arrived goes in.
        for (sock, t) in [(&socks.1, &mut s), (&socks.0, &mut c)] {
            while let Ok(n) = sock.recv(&mut rbuf) {
                t.handle_datagram(Instant::now(), &rbuf[..n]).unwrap();
            }
        }
        for t in [&mut c, &mut s] {
            if t.poll_timeout().is_some_and(|d| d <= Instant::now()) {
                t.handle_timeout(Instant::now());
            }
        }
    }
}

fn bench(cr: &mut Criterion) {
    zvon_dtls::warm_up();
    let mut rng = Rng::from_seed_u64(1);
    let ids = (
        DtlsIdentity::generate(&mut rng).unwrap(),
        DtlsIdentity::generate(&mut rng).unwrap(),
    );
    let mut buf = vec![0u8; 32 * 1024];

    let mut g = cr.benchmark_group("handshake_in_memory");
    for (name, v) in [
        ("dtls12", VersionPolicy::Dtls12),
        ("dtls13", VersionPolicy::Dtls13),
        ("auto_to_auto", VersionPolicy::Auto),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| black_box(handshake_in_memory(v, &ids, &mut rng, &mut buf)))
        });
    }
    g.finish();

    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    a.connect(b.local_addr().unwrap()).unwrap();
    b.connect(a.local_addr().unwrap()).unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    let socks = (a, b);
    let mut g = cr.benchmark_group("handshake_loopback_udp");
    for (name, v) in [
        ("dtls12", VersionPolicy::Dtls12),
        ("dtls13", VersionPolicy::Dtls13),
    ] {
        g.bench_function(name, |bch| {
            bch.iter(|| handshake_over_loopback(v, &ids, &mut rng, &socks, &mut buf))
        });
    }
    g.finish();

    cr.bench_function("identity_generate", |b| {
        b.iter(|| black_box(DtlsIdentity::generate(&mut rng).unwrap()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
