//! Idle memory per zvon peer connection with an open data channel: opens `pairs` pairs of
//! connections in one process (both ends here, over 127.0.0.1), each with a channel that has
//! carried one message, then reports the resident memory added per connection (RSS from
//! /proc/self/status, so the kernel's socket buffers are not in it).
//!
//!   cargo run --release --bin conns -- [pairs] [mux]
//!
//! With `mux`, one side of every pair gathers on one shared `UdpMux` socket (a server's
//! connections), the other on sockets of its own (browsers).
// A benchmark reads the clock and /proc; the sans-IO rules bind the library crates.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use zvon::{
    ChannelInit, Configuration, ConnectionState, DataChannel, DtlsIdentity, PeerConnection,
    PeerEvent, UdpMux,
};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

struct Pair {
    _a: PeerConnection,
    _b: PeerConnection,
    _tx: DataChannel,
    _rx: DataChannel,
}

async fn pair(ca: &DtlsIdentity, cb: &DtlsIdentity, mux: Option<&UdpMux>) -> Result<Pair> {
    let cfg = |id: &DtlsIdentity| {
        let mut c = Configuration::loopback();
        c.certificate = Some(id.clone());
        c
    };
    let mut a_cfg = cfg(ca);
    a_cfg.mux = mux.cloned();
    let mut a = PeerConnection::new(a_cfg).await?;
    let mut b = PeerConnection::new(cfg(cb)).await?;
    let mut tx = a.create_data_channel("chat", ChannelInit::default())?;
    let offer = a.create_offer().await?;
    a.set_local_description(offer.clone()).await?;
    b.set_remote_description(offer).await?;
    let answer = b.create_answer().await?;
    b.set_local_description(answer.clone()).await?;
    a.set_remote_description(answer).await?;
    let deadline = tokio::time::sleep(Duration::from_secs(20));
    tokio::pin!(deadline);
    let mut rx = loop {
        tokio::select! {
            ev = a.next_event() => match ev.context("a ended")? {
                PeerEvent::IceCandidate(c) => b.add_ice_candidate(c).await?,
                PeerEvent::ConnectionStateChange(ConnectionState::Failed) => bail!("a failed"),
                _ => {}
            },
            ev = b.next_event() => match ev.context("b ended")? {
                PeerEvent::IceCandidate(c) => a.add_ice_candidate(c).await?,
                PeerEvent::DataChannel(dc) => break dc,
                PeerEvent::ConnectionStateChange(ConnectionState::Failed) => bail!("b failed"),
                _ => {}
            },
            _ = &mut deadline => bail!("timed out"),
        }
    };
    tx.wait_open().await?;
    tx.send_text("hi")?;
    rx.recv().await.context("closed")?;
    Ok(Pair {
        _a: a,
        _b: b,
        _tx: tx,
        _rx: rx,
    })
}

fn main() -> Result<()> {
    let pairs: usize = std::env::args().nth(1).map_or(Ok(500), |s| s.parse())?;
    let use_mux = std::env::args().nth(2).is_some_and(|s| s == "mux");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut rng = zvon::ice::os_rng();
        let ca = DtlsIdentity::generate(&mut rng)?;
        let cb = DtlsIdentity::generate(&mut rng)?;
        // Warm-up pair: runtime, allocator arenas, crypto tables.
        let mux = if use_mux {
            Some(UdpMux::bind(&Configuration::loopback().gather).await?)
        } else {
            None
        };
        let warm = pair(&ca, &cb, mux.as_ref()).await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let base = rss_kib();
        let t0 = Instant::now();
        let mut held = Vec::with_capacity(pairs);
        for _ in 0..pairs {
            held.push(pair(&ca, &cb, mux.as_ref()).await?);
        }
        let setup = t0.elapsed();
        // Let retransmission queues, handshake buffers and the like settle.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let per_conn = (rss_kib().saturating_sub(base)) as f64 * 1024.0 / (2 * pairs) as f64;
        println!(
            "{{\"connections\":{},\"mux\":{use_mux},\"rss_bytes_per_connection\":{:.0},\"setup_s\":{:.2}}}",
            2 * pairs,
            per_conn,
            setup.as_secs_f64()
        );
        drop(held);
        drop(warm);
        anyhow::Ok(())
    })
}
