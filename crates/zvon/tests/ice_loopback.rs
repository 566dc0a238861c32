//! Two agents on real loopback sockets with host candidates only: how long from the start of
//! checks to data flowing both ways (the ICE share of the peer connection's setup budget).
// Real sockets and the wall clock: an integration test.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::time::{Duration, Instant};

use zvon::ice::{Command, DriverEvent, GatherOptions, IceDriver, os_rng};
use zvon_ice::{CandidateKind, IceAgent, IceConfig, IceEvent, IceRole};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_pair_on_loopback_connects_in_milliseconds() {
    let opts = GatherOptions {
        loopback_only: true,
        port_range: Some(40100..=40199),
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
    // Collect candidates first, so the clock measures checks, not gathering.
    let mut cands_a = Vec::new();
    let mut cands_b = Vec::new();
    for (d, out) in [(&mut a, &mut cands_a), (&mut b, &mut cands_b)] {
        loop {
            match tokio::time::timeout(Duration::from_secs(2), d.next_event())
                .await
                .unwrap()
                .unwrap()
            {
                DriverEvent::Ice(IceEvent::LocalCandidate(c)) => {
                    assert_eq!(c.kind, CandidateKind::Host);
                    assert!(
                        (40100..=40199).contains(&c.addr.port()),
                        "port range honoured: {c:?}"
                    );
                    out.push(c);
                }
                DriverEvent::Ice(IceEvent::GatheringComplete) => break,
                _ => {}
            }
        }
    }
    let start = Instant::now();
    let (ca, cb) = (a.local_credentials().clone(), b.local_credentials().clone());
    for c in cands_a {
        b.command(Command::RemoteCandidate(c));
    }
    b.command(Command::RemoteCredentials(ca.ufrag, ca.pwd));
    for c in cands_b {
        a.command(Command::RemoteCandidate(c));
    }
    a.command(Command::RemoteCredentials(cb.ufrag, cb.pwd));
    let (mut got_a, mut got_b) = (false, false);
    tokio::time::timeout(Duration::from_secs(5), async {
        while !(got_a && got_b) {
            tokio::select! {
                ev = a.next_event() => match ev.unwrap() {
                    DriverEvent::Ice(IceEvent::SelectedPairChanged { .. }) => { a.command(Command::Send(b"\x17a".to_vec())); }
                    DriverEvent::Data(d, _) if d == b"\x17b" => got_a = true,
                    _ => {}
                },
                ev = b.next_event() => match ev.unwrap() {
                    DriverEvent::Ice(IceEvent::SelectedPairChanged { .. }) => { b.command(Command::Send(b"\x17b".to_vec())); }
                    DriverEvent::Data(d, _) if d == b"\x17a" => got_b = true,
                    _ => {}
                },
            }
        }
    })
    .await
    .expect("data both ways within 5 s");
    let took = start.elapsed();
    println!("loopback: checks to data both ways in {took:?}");
    // Generous for a loaded 2-core CI machine; the figure printed above is what matters.
    assert!(took < Duration::from_millis(500), "took {took:?}");
    a.close().await;
    b.close().await;
}
