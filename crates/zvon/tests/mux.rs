//! Many peer connections on one shared UDP socket (`UdpMux`), each talking to a peer with
//! sockets of its own (as browsers have), over real UDP on 127.0.0.1: every connection finds
//! its datagrams, stray datagrams are dropped, closing some leaves the rest working.
// Real sockets and the runtime's clock: the sans-IO rules bind the library crates.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::time::Duration;

use zvon::ice::IceServer;
use zvon::{
    ChannelInit, Configuration, ConnectionState, DataChannel, Error, PeerConnection, PeerEvent,
    UdpMux,
};

async fn negotiate(offerer: &PeerConnection, answerer: &PeerConnection) {
    let offer = offerer.create_offer().await.unwrap();
    offerer.set_local_description(offer.clone()).await.unwrap();
    answerer.set_remote_description(offer).await.unwrap();
    let answer = answerer.create_answer().await.unwrap();
    answerer
        .set_local_description(answer.clone())
        .await
        .unwrap();
    offerer.set_remote_description(answer).await.unwrap();
}

/// Trickles candidates between `a` and `b` until `b` has the channel `a` opened.
async fn connect(a: &mut PeerConnection, b: &mut PeerConnection) -> DataChannel {
    let deadline = tokio::time::sleep(Duration::from_secs(20));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            ev = a.next_event() => match ev.expect("a ended") {
                PeerEvent::IceCandidate(c) => b.add_ice_candidate(c).await.unwrap(),
                PeerEvent::ConnectionStateChange(s) => assert_ne!(s, ConnectionState::Failed),
                _ => {}
            },
            ev = b.next_event() => match ev.expect("b ended") {
                PeerEvent::IceCandidate(c) => a.add_ice_candidate(c).await.unwrap(),
                PeerEvent::ConnectionStateChange(s) => assert_ne!(s, ConnectionState::Failed),
                PeerEvent::DataChannel(dc) => return dc,
                _ => {}
            },
            _ = &mut deadline => panic!("no channel in time"),
        }
    }
}

async fn recv(dc: &mut DataChannel) -> Vec<u8> {
    tokio::time::timeout(Duration::from_secs(20), dc.recv())
        .await
        .expect("message in time")
        .expect("channel open")
        .data
}

struct Pair {
    a: PeerConnection,
    b: PeerConnection,
    a_dc: DataChannel,
    b_dc: DataChannel,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_connections_share_one_socket() {
    let mut cfg = Configuration::loopback();
    let mux = UdpMux::bind(&cfg.gather).await.unwrap();
    cfg.mux = Some(mux.clone());
    let mux_addrs = mux.local_addresses();
    assert_eq!(mux_addrs.len(), 1);

    let n = 8;
    let mut pairs = Vec::new();
    for i in 0..n {
        let mut a = PeerConnection::new(cfg.clone()).await.unwrap();
        let mut b = PeerConnection::new(Configuration::loopback())
            .await
            .unwrap();
        assert_eq!(a.local_addresses(), mux_addrs, "a gathers on the mux");
        assert_ne!(b.local_addresses(), mux_addrs);
        // Half of the muxed connections offer, half answer.
        let (a_dc, b_dc) = if i % 2 == 0 {
            let mut a_dc = a
                .create_data_channel("chat", ChannelInit::default())
                .unwrap();
            negotiate(&a, &b).await;
            let b_dc = connect(&mut a, &mut b).await;
            a_dc.wait_open().await.unwrap();
            (a_dc, b_dc)
        } else {
            let mut b_dc = b
                .create_data_channel("chat", ChannelInit::default())
                .unwrap();
            negotiate(&b, &a).await;
            let a_dc = connect(&mut b, &mut a).await;
            b_dc.wait_open().await.unwrap();
            (a_dc, b_dc)
        };
        pairs.push(Pair { a, b, a_dc, b_dc });
    }

    // A datagram from a stranger is dropped and harms nobody.
    let stranger = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for payload in [
        &[0u8; 0][..],
        &[0x16; 40],
        &[0x80; 100],
        &[0x00, 0x01, 0, 0],
    ] {
        stranger.send_to(payload, mux_addrs[0]).await.unwrap();
    }

    // Every connection gets its own messages, both ways, at once.
    for (i, p) in pairs.iter().enumerate() {
        p.a_dc.send(format!("a{i}").as_bytes()).unwrap();
        p.b_dc.send(format!("b{i}").as_bytes()).unwrap();
        let big: Vec<u8> = (0..64 * 1024).map(|k| (k + i) as u8).collect();
        p.a_dc.send(&big).unwrap();
    }
    for (i, p) in pairs.iter_mut().enumerate() {
        assert_eq!(recv(&mut p.b_dc).await, format!("a{i}").as_bytes());
        let big = recv(&mut p.b_dc).await;
        assert!(big.iter().enumerate().all(|(k, &v)| v == (k + i) as u8));
        assert_eq!(big.len(), 64 * 1024);
        assert_eq!(recv(&mut p.a_dc).await, format!("b{i}").as_bytes());
    }

    // Half of them go away; the rest keep working on the same socket.
    let mut kept = Vec::new();
    for (i, mut p) in pairs.into_iter().enumerate() {
        if i % 2 == 0 {
            p.a.close().await;
            p.b.close().await;
        } else {
            kept.push(p);
        }
    }
    for (i, p) in kept.iter_mut().enumerate() {
        p.a_dc.send(format!("again{i}").as_bytes()).unwrap();
        assert_eq!(recv(&mut p.b_dc).await, format!("again{i}").as_bytes());
        p.b_dc.send(b"back").unwrap();
        assert_eq!(recv(&mut p.a_dc).await, b"back");
    }

    // A new connection on the same mux after all that.
    let mut a = PeerConnection::new(cfg.clone()).await.unwrap();
    let mut b = PeerConnection::new(Configuration::loopback())
        .await
        .unwrap();
    let mut a_dc = a
        .create_data_channel("late", ChannelInit::default())
        .unwrap();
    negotiate(&a, &b).await;
    let b_dc = connect(&mut a, &mut b).await;
    a_dc.wait_open().await.unwrap();
    b_dc.send(b"late").unwrap();
    assert_eq!(recv(&mut a_dc).await, b"late");
    for p in kept.iter_mut() {
        p.a.close().await;
        p.b.close().await;
    }
}

#[tokio::test]
async fn turn_is_refused_on_a_mux() {
    let mut cfg = Configuration::loopback();
    cfg.mux = Some(UdpMux::bind(&cfg.gather).await.unwrap());
    cfg.ice_servers = vec![IceServer {
        urls: vec!["turn:127.0.0.1:3478".into()],
        username: Some("u".into()),
        credential: Some("p".into()),
    }];
    assert!(matches!(
        PeerConnection::new(cfg).await,
        Err(Error::TurnWithMux)
    ));
}
