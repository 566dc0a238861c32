//! Time from `create_offer` to the first data-channel message between two zvon peer
//! connections over 127.0.0.1 UDP, with the milestones in between (ICE connected, DTLS
//! connected, channel open), over many runs; prints one JSON line of medians and p90s.
//! Certificates are made once and reused, as a long-running application would.
//!
//!   cargo run --release --bin setup -- [runs]
// A benchmark reads the clock; the sans-IO rules bind the library crates.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use zvon::{
    ChannelInit, Configuration, ConnectionState, DtlsIdentity, IceConnectionState, PeerConnection,
    PeerEvent,
};

#[derive(Default, Debug, Clone, Copy)]
struct Marks {
    ice: Duration,
    dtls: Duration,
    open: Duration,
    first_msg: Duration,
}

async fn once(ca: &DtlsIdentity, cb: &DtlsIdentity) -> Result<Marks> {
    let cfg = |id: &DtlsIdentity| {
        let mut c = Configuration::loopback();
        c.certificate = Some(id.clone());
        c
    };
    let mut a = PeerConnection::new(cfg(ca)).await?;
    let mut b = PeerConnection::new(cfg(cb)).await?;
    let mut tx = a.create_data_channel("chat", ChannelInit::default())?;
    let t0 = Instant::now();
    let offer = a.create_offer().await?;
    a.set_local_description(offer.clone()).await?;
    b.set_remote_description(offer).await?;
    let answer = b.create_answer().await?;
    b.set_local_description(answer.clone()).await?;
    a.set_remote_description(answer).await?;
    let mut m = Marks::default();
    let mut rx: Option<zvon::DataChannel> = None;
    let deadline = tokio::time::sleep(Duration::from_secs(5));
    tokio::pin!(deadline);
    let mut sent = false;
    loop {
        tokio::select! {
            ev = a.next_event() => match ev.context("a ended")? {
                PeerEvent::IceCandidate(c) => b.add_ice_candidate(c).await?,
                PeerEvent::IceConnectionStateChange(IceConnectionState::Connected) if m.ice.is_zero() => m.ice = t0.elapsed(),
                PeerEvent::ConnectionStateChange(ConnectionState::Connected) => m.dtls = t0.elapsed(),
                PeerEvent::ConnectionStateChange(ConnectionState::Failed) => bail!("a failed"),
                _ => {}
            },
            ev = b.next_event() => match ev.context("b ended")? {
                PeerEvent::IceCandidate(c) => a.add_ice_candidate(c).await?,
                PeerEvent::DataChannel(dc) => rx = Some(dc),
                PeerEvent::ConnectionStateChange(ConnectionState::Failed) => bail!("b failed"),
                _ => {}
            },
            r = tx.wait_open(), if !sent => {
                r?;
                m.open = t0.elapsed();
                tx.send_text("hello")?;
                sent = true;
            }
            msg = async { rx.as_mut().unwrap().recv().await }, if rx.is_some() => {
                msg.context("closed")?;
                m.first_msg = t0.elapsed();
                break;
            }
            _ = &mut deadline => bail!("timed out: {m:?}"),
        }
    }
    a.close().await;
    b.close().await;
    Ok(m)
}

fn main() -> Result<()> {
    let runs: usize = std::env::args().nth(1).map_or(Ok(50), |s| s.parse())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut all = Vec::new();
    rt.block_on(async {
        let mut rng = zvon::ice::os_rng();
        let ca = DtlsIdentity::generate(&mut rng)?;
        let cb = DtlsIdentity::generate(&mut rng)?;
        // One untimed run warms the allocator, the thread pool and the crypto library.
        once(&ca, &cb).await?;
        for _ in 0..runs {
            all.push(once(&ca, &cb).await?);
        }
        anyhow::Ok(())
    })?;
    let stat = |f: fn(&Marks) -> Duration| {
        let mut v: Vec<f64> = all.iter().map(|m| f(m).as_secs_f64() * 1e3).collect();
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() * 9 / 10])
    };
    let (ice, ice90) = stat(|m| m.ice);
    let (dtls, dtls90) = stat(|m| m.dtls);
    let (open, open90) = stat(|m| m.open);
    let (first, first90) = stat(|m| m.first_msg);
    println!(
        "{{\"runs\":{runs},\"ice_ms\":{ice:.2},\"dtls_ms\":{dtls:.2},\"open_ms\":{open:.2},\"first_msg_ms\":{first:.2},\"p90\":{{\"ice_ms\":{ice90:.2},\"dtls_ms\":{dtls90:.2},\"open_ms\":{open90:.2},\"first_msg_ms\":{first90:.2}}}}}"
    );
    Ok(())
}
