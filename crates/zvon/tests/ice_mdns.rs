//! A peer that hides its host address behind an mDNS name, as browsers do: the driver
//! resolves `<uuid>.local` with a one-shot mDNS query and connects. The responder is a small
//! loopback stand-in (this machine has no multicast route), answering as RFC 6762 asks for a
//! one-shot query: by unicast to the query's source.
// Real sockets, threads and the wall clock: an integration test.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use zvon::ice::{Command, DriverEvent, GatherOptions, IceDriver, os_rng};
use zvon_ice::mdns::{Message, TYPE_A};
use zvon_ice::{IceAgent, IceConfig, IceEvent, IceRole};

const NAME: &str = "1f0e2d3c-4b5a-4698-8776-a5b4c3d2e1f0.local";

/// Answers A queries for NAME with 127.0.0.1; returns its address and a query counter.
fn responder() -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
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
                c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut out = Vec::new();
                Message::answer(NAME, "127.0.0.1".parse().unwrap(), 120).encode(&mut out);
                let _ = sock.send_to(&out, from);
            }
        }
    });
    (addr, count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mdns_host_candidate_is_resolved_and_used() {
    let (group, queries) = responder();
    let opts = GatherOptions {
        loopback_only: true,
        ipv6: false,
        mdns_group: group,
        ..GatherOptions::default()
    };
    let mut a = IceDriver::start(
        IceAgent::new(IceConfig::default(), IceRole::Controlling, os_rng()),
        opts.clone(),
    )
    .await
    .unwrap();
    let mut b = IceDriver::start(
        IceAgent::new(IceConfig::default(), IceRole::Controlled, os_rng()),
        opts,
    )
    .await
    .unwrap();
    let (ca, cb) = (a.local_credentials().clone(), b.local_credentials().clone());
    a.command(Command::RemoteCredentials(cb.ufrag, cb.pwd));
    b.command(Command::RemoteCredentials(ca.ufrag, ca.pwd));
    let mut connected_a = None;
    let result = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            tokio::select! {
                ev = a.next_event() => match ev.unwrap() {
                    // a's candidates are withheld from b: the only way the two meet is a
                    // check from a to the resolved name (b then learns a as peer-reflexive),
                    // so connecting at all proves the resolution was used.
                    DriverEvent::Ice(IceEvent::LocalCandidate(_)) => {}
                    DriverEvent::Ice(IceEvent::SelectedPairChanged { remote, .. }) => {
                        connected_a = Some(remote.addr);
                        return;
                    }
                    DriverEvent::MdnsUnresolved(n) => panic!("{n} unresolved"),
                    _ => {}
                },
                ev = b.next_event() => {
                    // b's host candidates reach a as an mDNS name only.
                    if let DriverEvent::Ice(IceEvent::LocalCandidate(c)) = ev.unwrap() {
                        a.command(Command::RemoteMdnsCandidate {
                            name: NAME.to_uppercase(),
                            port: c.addr.port(),
                            kind: c.kind,
                            priority: c.priority,
                            foundation: c.foundation,
                        });
                    }
                }
            }
        }
    })
    .await;
    result.expect("connected through the mDNS-resolved candidate within 10 s");
    assert_eq!(connected_a.unwrap().ip().to_string(), "127.0.0.1");
    assert!(queries.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    a.close().await;
    b.close().await;
}
