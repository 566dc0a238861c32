//! A peer connection whose peer hides its host address behind an mDNS name, as browsers do:
//! zvon resolves `<uuid>.local` with a one-shot mDNS query and connects through it. The
//! responder is a loopback stand-in (this machine has no multicast route) that answers as RFC
//! 6762 asks for a one-shot query: by unicast to the query's source.
// Real sockets, a thread and the wall clock: an integration test.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use zvon::{ChannelInit, Configuration, ConnectionState, PeerConnection, PeerEvent};
use zvon_ice::mdns::{Message, TYPE_A};

const NAME: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d.local";

/// Answers A queries for NAME with 127.0.0.1; returns its address and a query counter.
fn responder() -> (SocketAddr, Arc<AtomicUsize>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let Ok(q) = Message::parse(&buf[..n]) else {
                continue;
            };
            if q.questions
                .iter()
                .any(|q| q.name == NAME && q.qtype == TYPE_A)
            {
                c.fetch_add(1, Ordering::SeqCst);
                let mut out = Vec::new();
                Message::answer(NAME, "127.0.0.1".parse().unwrap(), 120).encode(&mut out);
                let _ = sock.send_to(&out, from);
            }
        }
    });
    (addr, count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_behind_an_mdns_name_is_reached() {
    let (group, queries) = responder();
    let mut cfg = Configuration::loopback();
    cfg.gather.mdns_group = group;
    let mut a = PeerConnection::new(cfg.clone()).await.unwrap();
    let mut b = PeerConnection::new(cfg).await.unwrap();
    let mut tx = a.create_data_channel("m", ChannelInit::default()).unwrap();
    // Candidates travel only by trickle, where the test can hide them (none in the SDP).
    let strip = |mut d: zvon::Description| {
        d.sdp = d
            .sdp
            .split_inclusive("\r\n")
            .filter(|l| !l.starts_with("a=candidate") && !l.starts_with("a=end-of-candidates"))
            .collect();
        d
    };
    let offer = a.create_offer().await.unwrap();
    a.set_local_description(offer.clone()).await.unwrap();
    b.set_remote_description(strip(offer)).await.unwrap();
    let answer = b.create_answer().await.unwrap();
    b.set_local_description(answer.clone()).await.unwrap();
    a.set_remote_description(strip(answer)).await.unwrap();
    let mut hidden = 0;
    let mut rx = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            tokio::select! {
                // a's candidates are withheld from b: the two meet only through a's check to
                // the resolved name (b then learns a as peer-reflexive).
                ev = a.next_event() => if let PeerEvent::ConnectionStateChange(s) = ev.unwrap() {
                    assert_ne!(s, ConnectionState::Failed);
                },
                ev = b.next_event() => match ev.unwrap() {
                    PeerEvent::IceCandidate(mut c) => {
                        // b's host address replaced by its mDNS name, as a browser sends it.
                        c.candidate = c.candidate.replace("127.0.0.1", NAME);
                        assert!(c.candidate.contains(NAME), "{}", c.candidate);
                        hidden += 1;
                        a.add_ice_candidate(c).await.unwrap();
                    }
                    PeerEvent::DataChannel(dc) => return dc,
                    PeerEvent::ConnectionStateChange(s) => assert_ne!(s, ConnectionState::Failed),
                    _ => {}
                },
            }
        }
    })
    .await
    .expect("connected through the mDNS name in time");
    assert!(hidden > 0);
    assert!(queries.load(Ordering::SeqCst) >= 1, "the name was queried");
    tx.wait_open().await.unwrap();
    tx.send_text("through mdns").unwrap();
    let m = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.data, b"through mdns");
    let st = a.stats();
    let (_, _, remote, _) = st.selected_pair.expect("a pair");
    assert_eq!(remote.ip(), std::net::IpAddr::from([127, 0, 0, 1]));
}
