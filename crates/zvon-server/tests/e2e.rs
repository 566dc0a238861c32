//! Two zvon peer connections that know nothing of each other but a room name meet through
//! the server and the crate's `Client`, as docs/signaling.md says (the newcomer offers), then
//! talk over a data channel.
// Real sockets (UDP for the peers, TCP for signaling) and the wall clock.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::time::Duration;

use tokio::time::timeout;
use zvon::{
    ChannelInit, Configuration, ConnectionState, DataChannel, PeerConnection, PeerEvent, SdpType,
};
use zvon_server::{Client, Server, ServerConfig, ServerMessage, SignalData};

/// Feeds one relayed signal to `pc`; an offer is answered through `client`.
async fn apply(pc: &PeerConnection, client: &Client, from: &str, data: SignalData) {
    match data {
        SignalData::Description(d) => {
            let offer = d.kind == SdpType::Offer;
            pc.set_remote_description(d)
                .await
                .expect("remote description");
            if offer {
                let answer = pc.create_answer().await.expect("answer");
                pc.set_local_description(answer.clone())
                    .await
                    .expect("local answer");
                client
                    .send_signal(from, &answer.into())
                    .await
                    .expect("send answer");
            }
        }
        other => {
            let c = other.candidate().expect("a description or a candidate");
            pc.add_ice_candidate(c).await.expect("candidate");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_peer_connections_signal_through_the_server_and_exchange_messages() {
    let mut cfg = ServerConfig::default();
    cfg.addr = "127.0.0.1:0".parse().expect("address");
    let server = Server::bind(cfg).await.expect("bind");
    let url = format!("http://{}/", server.local_addr());
    let handle = server.handle();
    let running = tokio::spawn(server.run());

    let mut first = Client::connect(&url, "e2e", None, Some("first"))
        .await
        .expect("first joins");
    let mut newcomer = Client::connect(&url, "e2e", None, Some("newcomer"))
        .await
        .expect("newcomer joins");
    let first_id = newcomer.welcome().peers[0].id.clone();
    assert_eq!(first_id, first.id());
    let newcomer_id = newcomer.id().to_owned();
    match timeout(Duration::from_secs(5), first.recv()).await {
        Ok(Some(ServerMessage::PeerJoined(p))) => assert_eq!(p.id, newcomer_id),
        other => panic!("expected peer-joined, got {other:?}"),
    }

    let mut pa = PeerConnection::new(Configuration::loopback())
        .await
        .expect("pc a");
    let mut pb = PeerConnection::new(Configuration::loopback())
        .await
        .expect("pc b");
    let t0 = std::time::Instant::now();
    // The newcomer opens the channel and offers.
    let mut tx: DataChannel = pb
        .create_data_channel("chat", ChannelInit::default())
        .expect("channel");
    let offer = pb.create_offer().await.expect("offer");
    pb.set_local_description(offer.clone())
        .await
        .expect("local offer");
    newcomer
        .send_signal(&first_id, &offer.into())
        .await
        .expect("send offer");

    let deadline = tokio::time::sleep(Duration::from_secs(15));
    tokio::pin!(deadline);
    let mut rx: Option<DataChannel> = None;
    let mut signals = [0usize; 2];
    // Until the channel is up and each side has had the other's end-of-candidates: every
    // kind of payload crossed the server both ways.
    let mut ends = [false; 2];
    while rx.is_none() || ends != [true, true] {
        tokio::select! {
            ev = pa.next_event() => match ev.expect("pc a runs") {
                PeerEvent::DataChannel(dc) => rx = Some(dc),
                PeerEvent::ConnectionStateChange(ConnectionState::Failed) => panic!("a failed"),
                ev => if let Some(d) = SignalData::from_event(&ev) {
                    first.send_signal(&newcomer_id, &d).await.expect("send");
                },
            },
            ev = pb.next_event() => match ev.expect("pc b runs") {
                PeerEvent::ConnectionStateChange(ConnectionState::Failed) => panic!("b failed"),
                ev => if let Some(d) = SignalData::from_event(&ev) {
                    newcomer.send_signal(&first_id, &d).await.expect("send");
                },
            },
            m = first.recv() => match m.expect("signaling open") {
                ServerMessage::Signal { from, data } => {
                    assert_eq!(from, newcomer_id);
                    signals[0] += 1;
                    ends[0] |= data == SignalData::EndOfCandidates;
                    apply(&pa, &first, &from, data).await;
                }
                other => panic!("unexpected {other:?}"),
            },
            m = newcomer.recv() => match m.expect("signaling open") {
                ServerMessage::Signal { from, data } => {
                    assert_eq!(from, first_id);
                    signals[1] += 1;
                    ends[1] |= data == SignalData::EndOfCandidates;
                    apply(&pb, &newcomer, &from, data).await;
                }
                other => panic!("unexpected {other:?}"),
            },
            () = &mut deadline => panic!("no channel and ends within 15 s (signals {signals:?}, ends {ends:?})"),
        }
    }
    let mut rx = rx.expect("channel");
    assert!(
        signals[0] >= 3 && signals[1] >= 3,
        "descriptions, candidates and ends: {signals:?}"
    );
    timeout(Duration::from_secs(5), tx.wait_open())
        .await
        .expect("open in time")
        .expect("open");
    assert_eq!(rx.label(), "chat");
    eprintln!(
        "create_offer to open channel, all signaling through the server: {:.1?}",
        t0.elapsed()
    );
    // Keep both connections' events drained while the channel talks.
    let drain = tokio::spawn(async move {
        loop {
            tokio::select! {
                ev = pa.next_event() => if ev.is_none() { break },
                ev = pb.next_event() => if ev.is_none() { break },
            }
        }
    });
    for i in 0..3 {
        let hello = format!("hello {i} from the newcomer");
        tx.send_text(&hello).expect("send");
        let m = timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("in time")
            .expect("message");
        assert_eq!(m.data, hello.as_bytes());
        let reply = format!("reply {i}");
        rx.send_text(&reply).expect("reply");
        let m = timeout(Duration::from_secs(5), tx.recv())
            .await
            .expect("in time")
            .expect("message");
        assert_eq!(m.data, reply.as_bytes());
    }
    drain.abort();
    newcomer.leave().await;
    match timeout(Duration::from_secs(5), first.recv()).await {
        Ok(Some(ServerMessage::PeerLeft { id })) => assert_eq!(id, newcomer_id),
        other => panic!("expected peer-left, got {other:?}"),
    }
    handle.shutdown();
    timeout(Duration::from_secs(5), running)
        .await
        .expect("stops")
        .expect("task")
        .expect("run");
}
