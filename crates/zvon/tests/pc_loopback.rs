//! Two zvon peer connections over real UDP on 127.0.0.1: each side offers once, channels go
//! both ways, a renegotiation adds nothing but keeps everything, an ICE restart keeps the
//! channel, and no message is lost.

use std::time::{Duration, Instant};

use zvon::{
    ChannelInit, Configuration, ConnectionState, DataChannel, MessageKind, PeerConnection,
    PeerEvent,
};

/// Handles events of both connections until `want` labels arrived as incoming channels on
/// `b` (returned in that order) and both are connected.
async fn pump(a: &mut PeerConnection, b: &mut PeerConnection, want: &[&str]) -> Vec<DataChannel> {
    let mut got: Vec<DataChannel> = Vec::new();
    let (mut a_up, mut b_up) = (
        a.connection_state() == ConnectionState::Connected,
        b.connection_state() == ConnectionState::Connected,
    );
    let deadline = tokio::time::sleep(Duration::from_secs(10));
    tokio::pin!(deadline);
    while got.len() < want.len() || !a_up || !b_up {
        tokio::select! {
            ev = a.next_event() => match ev.expect("a ended") {
                PeerEvent::IceCandidate(c) => b.add_ice_candidate(c).await.unwrap(),
                PeerEvent::ConnectionStateChange(s) => {
                    assert_ne!(s, ConnectionState::Failed);
                    a_up = s == ConnectionState::Connected;
                }
                _ => {}
            },
            ev = b.next_event() => match ev.expect("b ended") {
                PeerEvent::IceCandidate(c) => a.add_ice_candidate(c).await.unwrap(),
                PeerEvent::ConnectionStateChange(s) => {
                    assert_ne!(s, ConnectionState::Failed);
                    b_up = s == ConnectionState::Connected;
                }
                PeerEvent::DataChannel(dc) => got.push(dc),
                _ => {}
            },
            _ = &mut deadline => panic!("timed out: got {:?}, a {a_up} b {b_up}", got.iter().map(|d| d.label().to_owned()).collect::<Vec<_>>()),
        }
    }
    let labels: Vec<&str> = got.iter().map(|d| d.label()).collect();
    assert_eq!(labels, want);
    got
}

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

async fn expect_messages(dc: &mut DataChannel, want: &[Vec<u8>]) {
    for w in want {
        let m = tokio::time::timeout(Duration::from_secs(10), dc.recv())
            .await
            .expect("message in time")
            .expect("channel open");
        assert_eq!(&m.data, w);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zvon_to_zvon_offer_both_ways_renegotiate_restart() {
    for a_offers in [true, false] {
        let mut a = PeerConnection::new(Configuration::loopback())
            .await
            .unwrap();
        let mut b = PeerConnection::new(Configuration::loopback())
            .await
            .unwrap();
        let t0 = Instant::now();
        let mut chat = a
            .create_data_channel("chat", ChannelInit::default())
            .unwrap();
        if a_offers {
            negotiate(&a, &b).await;
        } else {
            // b offers without a channel of its own: a data section is only in the offer if
            // b asks for it, so b creates a negotiated channel both sides know.
            let init = ChannelInit {
                negotiated_id: Some(7),
                ..Default::default()
            };
            let _nb = b.create_data_channel("pre", init.clone()).unwrap();
            negotiate(&b, &a).await;
        }
        let mut incoming = pump(&mut a, &mut b, &["chat"]).await;
        chat.wait_open().await.unwrap();
        chat.send_text("first").unwrap();
        let mut b_chat = incoming.remove(0);
        expect_messages(&mut b_chat, &[b"first".to_vec()]).await;
        eprintln!(
            "a_offers={a_offers}: create_offer to first message {:?}",
            t0.elapsed()
        );
        assert!(a.stats().dtls_version.is_some());

        // b opens a channel back: in-band, no renegotiation.
        let mut back = b
            .create_data_channel(
                "back",
                ChannelInit {
                    ordered: false,
                    ..Default::default()
                },
            )
            .unwrap();
        back.wait_open().await.unwrap();
        let mut a_back = {
            // The DataChannel event arrives on a.
            loop {
                match tokio::time::timeout(Duration::from_secs(10), a.next_event())
                    .await
                    .unwrap()
                    .unwrap()
                {
                    PeerEvent::DataChannel(dc) => break dc,
                    PeerEvent::IceCandidate(c) => b.add_ice_candidate(c).await.unwrap(),
                    _ => {}
                }
            }
        };
        assert_eq!(a_back.label(), "back");
        let big: Vec<u8> = (0..256 * 1024).map(|i| (i * 7) as u8).collect();
        back.send(&big).unwrap();
        back.send(&[]).unwrap();
        let m1 = a_back.recv().await.unwrap();
        let m2 = a_back.recv().await.unwrap();
        let mut sizes = [m1.data.len(), m2.data.len()];
        sizes.sort();
        assert_eq!(sizes, [0, big.len()]);
        assert!(m1.data == big || m2.data == big);

        // Renegotiation by the other side, then an ICE restart: the chat keeps its order.
        if a_offers {
            negotiate(&b, &a).await
        } else {
            negotiate(&a, &b).await
        }
        a.restart_ice();
        negotiate(&a, &b).await;
        let n = 2000u32;
        let pump_task = async {
            // Keep trickling during the restart.
            pump(&mut a, &mut b, &[]).await;
        };
        let send_task = async {
            for i in 0..n {
                chat.wait_buffered_below(64 * 1024).await.unwrap();
                chat.send_kind(&i.to_be_bytes(), MessageKind::Binary)
                    .unwrap();
            }
        };
        tokio::join!(pump_task, send_task);
        for i in 0..n {
            let m = tokio::time::timeout(Duration::from_secs(10), b_chat.recv())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(m.data, i.to_be_bytes(), "message {i}");
        }
        let st = b.stats();
        assert!(
            st.channels
                .iter()
                .any(|c| c.label == "chat" && c.messages_received == 1 + n as u64)
        );
        a.close().await;
        b.close().await;
    }
}
