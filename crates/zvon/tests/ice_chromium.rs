//! zvon's ICE agent against a real Chromium: Chromium offers (controlling, regular nomination,
//! its own pacing and GOOG attributes), zvon answers with a loopback host candidate, and both
//! sides must reach `connected` on the pair Chromium nominated. DTLS is not part of this test
//! (the answer's fingerprint is a dummy); the ICE state is reported before DTLS starts.
//! Chromium is driven over WebDriver (chromedriver) with plain HTTP/1.1 requests.
// A real browser process, real sockets and the wall clock: an integration test.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::time::{Duration, Instant};

use serde_json::json;
use zvon::ice::{Command, DriverEvent, GatherOptions, IceDriver, os_rng};
use zvon_ice::{IceAgent, IceConfig, IceConnectionState, IceEvent, IceRole};

mod common;
use common::{Driver, attr, candidates};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_offers_and_connects_to_zvon() {
    let chrome = Driver::start(9527);
    let offer = chrome.run(
        "const done = arguments[arguments.length - 1];
         window.pc = new RTCPeerConnection();
         window.states = [];
         pc.oniceconnectionstatechange = () => states.push(pc.iceConnectionState);
         pc.createDataChannel('x');
         pc.createOffer().then(o => pc.setLocalDescription(o)).then(() => {
           const t = setTimeout(() => done(pc.localDescription.sdp), 3000);
           pc.onicegatheringstatechange = () => {
             if (pc.iceGatheringState === 'complete') { clearTimeout(t); done(pc.localDescription.sdp); }
           };
         });",
        json!([]),
    );
    let offer = offer.as_str().expect("offer SDP").to_owned();
    let remote = candidates(&offer);
    assert!(!remote.is_empty(), "Chromium offered candidates: {offer}");

    let opts = GatherOptions {
        loopback_only: true,
        ipv6: false,
        ..GatherOptions::default()
    };
    let mut zvon = IceDriver::start(
        IceAgent::new(IceConfig::default(), IceRole::Controlled, os_rng()),
        opts,
    )
    .await
    .unwrap();
    zvon.command(Command::RemoteCredentials(
        attr(&offer, "a=ice-ufrag:").into(),
        attr(&offer, "a=ice-pwd:").into(),
    ));
    for c in remote {
        zvon.command(Command::RemoteCandidate(c));
    }
    zvon.command(Command::EndOfCandidates);
    let local = loop {
        match zvon.next_event().await.unwrap() {
            DriverEvent::Ice(IceEvent::LocalCandidate(c)) => break c,
            _ => continue,
        }
    };
    let creds = zvon.local_credentials().clone();
    let answer = format!(
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
         m=application {port} UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 127.0.0.1\r\n\
         a=candidate:{f} 1 udp {prio} {ip} {port} typ host\r\na=end-of-candidates\r\n\
         a=ice-ufrag:{u}\r\na=ice-pwd:{p}\r\n\
         a=fingerprint:sha-256 {fp}\r\na=setup:passive\r\na=mid:0\r\na=sctp-port:5000\r\n",
        port = local.addr.port(),
        ip = local.addr.ip(),
        f = local.foundation,
        prio = local.priority,
        u = creds.ufrag,
        p = creds.pwd,
        fp = ["AB"; 32].join(":"),
    );
    let started = Instant::now();
    let state = chrome.run(
        "const done = arguments[arguments.length - 1];
         pc.setRemoteDescription({type: 'answer', sdp: arguments[0]}).then(() => {
           const check = () => {
             if (states.includes('connected') || states.includes('completed')) done(states.join(','));
             else if (states.includes('failed')) done('failed: ' + states.join(','));
             else setTimeout(check, 5);
           };
           check();
           setTimeout(() => done('timeout: ' + states.join(',')), 10000);
         }, e => done('error: ' + e));",
        json!([answer]),
    );
    let chrome_took = started.elapsed();
    let state = state.as_str().unwrap_or("").to_owned();
    assert!(
        state.contains("connected"),
        "Chromium's ICE states: {state}"
    );

    // zvon's side: connected on the pair Chromium nominated.
    let mut nominated = None;
    let mut connected = false;
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while !(connected && nominated.is_some()) {
            match zvon.next_event().await {
                Some(DriverEvent::Ice(IceEvent::SelectedPairChanged { local, remote })) => {
                    nominated = Some((local.addr, remote.addr))
                }
                Some(DriverEvent::Ice(IceEvent::ConnectionStateChanged(
                    IceConnectionState::Connected | IceConnectionState::Completed,
                ))) => connected = true,
                Some(_) => {}
                None => break,
            }
        }
    })
    .await;
    assert!(connected, "zvon reached connected");
    let (l, _) = nominated.expect("a selected pair");
    assert_eq!(l, local.addr);
    println!(
        "Chromium connected to zvon (states {state}) {chrome_took:?} after setRemoteDescription"
    );
    zvon.close().await;
}
