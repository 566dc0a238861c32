//! webrtc-rs 0.21 (the async `webrtc` crate over the sans-IO `rtc` one) on a tokio runtime:
//! two `PeerConnection`s bound to 127.0.0.1, the offerer's data channel sends, the answerer's
//! checks.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use bytes::BytesMut;
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceGatheringState, RTCPeerConnectionState,
};

use super::{Meter, Transfer};

/// Forwards what setup waits for: gathering complete, a failed connection, the remote channel.
struct Handler {
    gathered: mpsc::UnboundedSender<()>,
    failed: mpsc::UnboundedSender<String>,
    channel: Option<mpsc::UnboundedSender<Arc<dyn DataChannel>>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(());
        }
    }
    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        if matches!(
            state,
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Disconnected
        ) {
            let _ = self.failed.send(format!("peer connection {state}"));
        }
    }
    async fn on_data_channel(&self, dc: Arc<dyn DataChannel>) {
        if let Some(tx) = &self.channel {
            let _ = tx.send(dc);
        }
    }
}

pub fn run(t: &Transfer, m: &Meter) -> Result<()> {
    if t.msg > 65_536 {
        // webrtc-rs advertises and accepts 64 KiB (RFC 8841's default) unless its setting
        // engine is told otherwise; keep the comparison to what both peers accept by default.
        bail!("webrtc-rs: --msg above 65536 is not set up here");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let timeout = m
        .deadline
        .saturating_duration_since(std::time::Instant::now());
    let r = rt.block_on(async {
        tokio::time::timeout(timeout, transfer(t, m))
            .await
            .map_err(|_| anyhow!("deadline passed"))?
    });
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    r
}

async fn transfer(t: &Transfer, m: &Meter) -> Result<()> {
    // webrtc-rs's own back-pressure: `writable()` (and `send`) wait while the channel's
    // outstanding bytes are at or above this limit. Set so that `Transfer::may_send` holds:
    // below the limit means there is room for one more whole message.
    let limit = if t.buffer >= t.msg {
        t.buffer - t.msg + 1
    } else {
        1
    };
    let (fail_tx, mut fail_rx) = mpsc::unbounded_channel();
    let (ga_tx, mut ga_rx) = mpsc::unbounded_channel();
    let (gb_tx, mut gb_rx) = mpsc::unbounded_channel();
    let (dc_tx, mut dc_rx) = mpsc::unbounded_channel();
    let a = PeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_handler(Arc::new(Handler {
            gathered: ga_tx,
            failed: fail_tx.clone(),
            channel: None,
        }))
        .with_udp_addrs(vec!["127.0.0.1:0".to_string()])
        .with_data_channel_send_buffer_limit(limit)
        .build()
        .await?;
    let b = PeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_handler(Arc::new(Handler {
            gathered: gb_tx,
            failed: fail_tx,
            channel: Some(dc_tx),
        }))
        .with_udp_addrs(vec!["127.0.0.1:0".to_string()])
        .build()
        .await?;

    m.start();
    // Reliable and ordered: the defaults.
    let tx = a.create_data_channel("bench", None).await?;
    let offer = a.create_offer(None).await?;
    a.set_local_description(offer).await?;
    ga_rx.recv().await.context("offerer gathering")?;
    let offer = a.local_description().await.context("no offer")?;
    b.set_remote_description(offer).await?;
    let answer = b.create_answer(None).await?;
    b.set_local_description(answer).await?;
    gb_rx.recv().await.context("answerer gathering")?;
    let answer = b.local_description().await.context("no answer")?;
    a.set_remote_description(answer).await?;

    let sender = async {
        loop {
            match tx.poll().await {
                Some(DataChannelEvent::OnOpen) => break,
                Some(_) => {}
                None => bail!("sender channel closed before open"),
            }
        }
        m.opened();
        // The driver stalls when a channel's event queue is full: keep draining the sender's
        // events (buffered-amount-low and the like) beside the send loop, and after it until
        // the receiver has everything.
        let drain = async { while tx.poll().await.is_some() {} };
        let send = async {
            let mut offset = 0;
            let mut over = 0u64;
            while let Some(msg) = t.message(offset) {
                tx.writable().await?;
                if !t.may_send(tx.outstanding_bytes().await?, msg.len()) {
                    over += 1;
                }
                tx.send(BytesMut::from(msg)).await?;
                offset += msg.len() as u64;
            }
            if over > 0 {
                eprintln!("webrtc: {over} sends found more than --buffer outstanding");
            }
            std::future::pending::<()>().await;
            Ok::<_, anyhow::Error>(())
        };
        tokio::select! {
            r = send => r?,
            () = drain => bail!("sender channel closed"),
        }
        Ok(())
    };
    let receiver = async {
        let rx = dc_rx.recv().await.context("no remote data channel")?;
        let mut check = t.checker();
        while let Some(ev) = rx.poll().await {
            if let DataChannelEvent::OnMessage(msg) = ev
                && check.check(&msg.data)?
            {
                m.done();
                return Ok(());
            }
        }
        bail!("receiver channel closed early")
    };
    let failed = async {
        let why = fail_rx.recv().await.unwrap_or_default();
        Err::<(), _>(anyhow!("{why}"))
    };
    // The run ends when the receiver has checked the last byte (the sender then idles,
    // draining its channel's events), or with the first failure.
    let r = tokio::select! {
        r = receiver => r,
        r = sender => r.and(Err(anyhow!("sender stopped before the receiver finished"))),
        r = failed => r,
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        let _ = a.close().await;
        let _ = b.close().await;
    })
    .await;
    r
}
