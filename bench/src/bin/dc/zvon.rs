//! zvon's async `PeerConnection` on tokio: two connections bound to 127.0.0.1 (trickle ICE
//! between them, DTLS as negotiated by default), the offerer's channel sends with
//! `bufferedAmount` back-pressure, the answerer's checks. Each connection's task runs on its own
//! runtime, as two processes' would (`ZVON_DC_ONE_RUNTIME=1` puts both on one: then both tasks
//! tend to land on the same worker and share one core).

use anyhow::{Context, Result, anyhow, bail};
use zvon::{ChannelInit, Configuration, ConnectionState, PeerConnection, PeerEvent};

use super::{Meter, Transfer};

pub fn run(t: &Transfer, m: &Meter) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let rt_b = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let one = std::env::var_os("ZVON_DC_ONE_RUNTIME").is_some();
    let b_handle = if one {
        rt.handle().clone()
    } else {
        rt_b.handle().clone()
    };
    let timeout = m
        .deadline
        .saturating_duration_since(std::time::Instant::now());
    let r = rt.block_on(async {
        tokio::time::timeout(timeout, transfer(t, m, b_handle))
            .await
            .map_err(|_| anyhow!("deadline passed"))?
    });
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    rt_b.shutdown_timeout(std::time::Duration::from_secs(2));
    r
}

/// The configuration both ends use; `ZVON_DC_MAX_BURST` (packets, 0 for none) overrides the
/// SCTP Max.Burst and `ZVON_DC_RCVBUF` (bytes, 0 for the system's) the socket receive buffer,
/// for experiments.
fn config() -> Configuration {
    let mut c = Configuration::loopback();
    if let Some(v) = std::env::var("ZVON_DC_MAX_BURST")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        c.core.sctp.max_burst = (v > 0).then_some(v);
    }
    if let Some(v) = std::env::var("ZVON_DC_RCVBUF")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        c.gather.socket_recv_buffer = v;
    }
    c
}

async fn transfer(t: &Transfer, m: &Meter, b_rt: tokio::runtime::Handle) -> Result<()> {
    let mut a = PeerConnection::new(config()).await?;
    // b's connection task is spawned on the runtime its constructor runs on.
    let mut b = b_rt.spawn(PeerConnection::new(config())).await??;
    m.start();
    let mut tx = a.create_data_channel("bulk", ChannelInit::default())?;
    let offer = a.create_offer().await?;
    a.set_local_description(offer.clone()).await?;
    b.set_remote_description(offer).await?;
    let answer = b.create_answer().await?;
    b.set_local_description(answer.clone()).await?;
    a.set_remote_description(answer).await?;
    let mut rx = loop {
        tokio::select! {
            ev = a.next_event() => match ev.context("a ended")? {
                PeerEvent::IceCandidate(c) => b.add_ice_candidate(c).await?,
                PeerEvent::ConnectionStateChange(ConnectionState::Failed) => bail!("a failed"),
                _ => {}
            },
            ev = b.next_event() => match ev.context("b ended")? {
                PeerEvent::IceCandidate(c) => a.add_ice_candidate(c).await?,
                PeerEvent::ConnectionStateChange(ConnectionState::Failed) => bail!("b failed"),
                PeerEvent::DataChannel(dc) => break dc,
                _ => {}
            },
        }
    };
    tx.wait_open().await?;
    m.opened();
    // Keep the connections' event queues drained (and the connections alive).
    let (done_tx, mut done_rx) = tokio::sync::oneshot::channel::<()>();
    let drain = tokio::spawn(async move {
        loop {
            tokio::select! {
                ev = a.next_event() => if ev.is_none() { break },
                ev = b.next_event() => if ev.is_none() { break },
                _ = &mut done_rx => break,
            }
        }
        (a, b)
    });
    let send = async {
        let mut offset = 0u64;
        while let Some(msg) = t.message(offset) {
            // Transfer::may_send: one more message fits in the buffer, or nothing is held.
            tx.wait_buffered_below(t.buffer.saturating_sub(msg.len()))
                .await?;
            tx.send(msg)?;
            offset += msg.len() as u64;
        }
        anyhow::Ok(())
    };
    let recv = async {
        let mut check = t.checker();
        loop {
            let msg = rx.recv().await.context("channel closed")?;
            if check.check(&msg.data)? {
                m.done();
                return anyhow::Ok(());
            }
        }
    };
    let (s, r) = tokio::join!(send, recv);
    s?;
    r?;
    let _ = done_tx.send(());
    let (a, b) = drain.await?;
    if std::env::var_os("ZVON_DC_STATS").is_some() {
        // Both ends' SCTP counters, for looking into what limits a run.
        eprintln!("a {:?}\nb {:?}", a.stats().sctp, b.stats().sctp);
    }
    Ok(())
}
