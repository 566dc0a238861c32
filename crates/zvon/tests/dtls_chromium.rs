//! A live DTLS handshake between headless Chromium and zvon-dtls over zvon's ICE agent.
//! Chromium offers a data channel (`a=setup:actpass`), zvon answers `a=setup:passive` with the
//! real fingerprint of a fresh [`DtlsIdentity`], so Chromium is the DTLS client and zvon the
//! server. Datagrams that `classify` labels DTLS go to the [`DtlsTransport`]; its output goes
//! out on the ICE-selected pair. SCTP is not wired, so the data channel never opens: the test
//! stops at DTLS `connected` on both sides (Chromium's side read from `getStats()`).
// A real browser process, real sockets and the wall clock: an integration test.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zvon::ice::{Command, DriverEvent, GatherOptions, IceDriver, os_rng};
use zvon_base::{DatagramKind, classify};
use zvon_dtls::{
    Connected, DtlsConfig, DtlsError, DtlsEvent, DtlsIdentity, DtlsRole, DtlsTransport,
    Fingerprint, HashAlgorithm, VersionPolicy,
};
use zvon_ice::{IceAgent, IceConfig, IceConnectionState, IceEvent, IceRole};

mod common;
use common::{Driver, attr, candidates};

/// Chromium's `getStats()` transport report, polled from `setRemoteDescription` until its
/// `dtlsState` is `connected` or `failed`, or `arguments[1]` ms have passed.
const ANSWER_AND_WAIT_FOR_DTLS: &str = "const done = arguments[arguments.length - 1];
     const limit = arguments[1];
     const t0 = performance.now();
     pc.setRemoteDescription({type: 'answer', sdp: arguments[0]}).then(() => {
       const poll = () => pc.getStats().then(r => {
         let tr = null;
         r.forEach(s => { if (s.type === 'transport') tr = s; });
         const ms = performance.now() - t0;
         const st = tr ? tr.dtlsState : 'none';
         if (st === 'connected' || st === 'failed' || ms > limit) {
           done({dtlsState: st, tlsVersion: (tr && tr.tlsVersion) || '',
                 dtlsCipher: (tr && tr.dtlsCipher) || '', srtpCipher: (tr && tr.srtpCipher) || '',
                 dtlsRole: (tr && tr.dtlsRole) || '', iceState: (tr && tr.iceState) || '', ms});
         } else setTimeout(poll, 5);
       }, e => done({error: String(e)}));
       poll();
     }, e => done({error: String(e)}));";

/// The `use_srtp` profile ids (RFC 5764 4.1.1) in a plaintext (epoch 0) handshake datagram:
/// extension type 0x000e, its length = list length + 3, an even list, an empty MKI. Test-only
/// scan that does not reassemble fragments; the extension is a few bytes and sits inside one.
fn offered_srtp_profiles(d: &[u8]) -> Vec<u16> {
    let mut out = Vec::new();
    if d.len() < 13 || d[0] != 22 || d[3..5] != [0, 0] {
        return out;
    }
    let be = |i: usize| u16::from_be_bytes([d[i], d[i + 1]]) as usize;
    for i in 13..d.len().saturating_sub(7) {
        if d[i..i + 2] != [0, 0x0e] {
            continue;
        }
        let (ext, list) = (be(i + 2), be(i + 4));
        if ext != list + 3 || list % 2 != 0 || !(2..=16).contains(&list) {
            continue;
        }
        if i + 6 + list >= d.len() || d[i + 6 + list] != 0 {
            continue;
        }
        out.extend((0..list / 2).map(|k| be(i + 6 + 2 * k) as u16));
    }
    out
}

/// What the plaintext ClientHello records of one datagram show: whether a fragment is shorter
/// than the message (DTLS handshake fragmentation), and whether the key share offers
/// X25519MLKEM768 (group 0x11ec with its 1216-byte share, draft-ietf-tls-ecdhe-mlkem).
#[derive(Debug, Default, Clone, Copy)]
struct ClientHelloSeen {
    fragmented: bool,
    mlkem: bool,
    length: usize,
}

fn scan_client_hello(d: &[u8], seen: &mut ClientHelloSeen) {
    let mut rest = d;
    // Record header 13 bytes, handshake header 12 bytes (RFC 6347 4.1, 4.2.2).
    while rest.len() >= 13 {
        let len = u16::from_be_bytes([rest[11], rest[12]]) as usize;
        let Some(body) = rest.get(13..13 + len) else {
            return;
        };
        if rest[0] == 22 && rest[3..5] == [0, 0] && body.len() >= 12 && body[0] == 1 {
            let be24 = |b: &[u8]| u32::from_be_bytes([0, b[0], b[1], b[2]]) as usize;
            let (total, frag) = (be24(&body[1..4]), be24(&body[9..12]));
            seen.length = seen.length.max(total);
            seen.fragmented |= frag < total;
            seen.mlkem |= body.windows(4).any(|w| w == [0x11, 0xec, 0x04, 0xc0]);
        }
        rest = &rest[13 + len..];
    }
}

/// Chromium's name (`RTCTransportStats.srtpCipher`, BoringSSL's spelling) of an SRTP profile id.
fn chromium_srtp_name(id: u16) -> &'static str {
    match id {
        0x0001 => "SRTP_AES128_CM_HMAC_SHA1_80",
        0x0002 => "SRTP_AES128_CM_HMAC_SHA1_32",
        0x0007 => "SRTP_AEAD_AES_128_GCM",
        0x0008 => "SRTP_AEAD_AES_256_GCM",
        _ => "?",
    }
}

struct Outcome {
    connected: Option<Box<Connected>>,
    srtp_profile_id: Option<u16>,
    srtp_key_bytes: usize,
    failure: Option<DtlsError>,
    offered: Vec<u16>,
    client_hello: ClientHelloSeen,
    /// First DTLS datagram from Chromium to `Connected` on zvon's side.
    handshake: Option<Duration>,
    chrome: Value,
}

// One browser at a time: two cores, and the handshake times should not include contention.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Chromium offers, zvon answers as DTLS server with `versions`; `wrong_fingerprint` makes zvon
/// expect a certificate Chromium does not have.
async fn handshake(port: u16, versions: VersionPolicy, wrong_fingerprint: bool) -> Outcome {
    let _serial = SERIAL.lock().await;
    zvon_dtls::warm_up();
    let chrome = Arc::new(Driver::start(port));
    let offer = chrome.run(
        "const done = arguments[arguments.length - 1];
         window.pc = new RTCPeerConnection();
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
    assert!(offer.contains("m=application"), "{offer}");
    assert_eq!(attr(&offer, "a=setup:"), "actpass");
    let chrome_fp = Fingerprint::from_sdp(attr(&offer, "a=fingerprint:")).expect("fingerprint");
    let expected = if wrong_fingerprint {
        Fingerprint::from_digest(HashAlgorithm::Sha256, &[0xAB; 32]).expect("32-byte digest")
    } else {
        chrome_fp
    };
    let remote = candidates(&offer);
    assert!(!remote.is_empty(), "Chromium offered candidates: {offer}");

    let mut rng = os_rng();
    let identity = DtlsIdentity::generate(&mut rng).expect("identity");
    let opts = GatherOptions {
        loopback_only: true,
        ipv6: false,
        ..GatherOptions::default()
    };
    let mut ice = IceDriver::start(
        IceAgent::new(IceConfig::default(), IceRole::Controlled, os_rng()),
        opts,
    )
    .await
    .expect("ICE gathering");
    ice.command(Command::RemoteCredentials(
        attr(&offer, "a=ice-ufrag:").into(),
        attr(&offer, "a=ice-pwd:").into(),
    ));
    for c in remote {
        ice.command(Command::RemoteCandidate(c));
    }
    ice.command(Command::EndOfCandidates);
    let local = loop {
        match ice.next_event().await.expect("ICE task alive") {
            DriverEvent::Ice(IceEvent::LocalCandidate(c)) => break c,
            _ => continue,
        }
    };
    let creds = ice.local_credentials().clone();
    let answer = format!(
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
         m=application {port} UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 127.0.0.1\r\n\
         a=candidate:{f} 1 udp {prio} {ip} {port} typ host\r\na=end-of-candidates\r\n\
         a=ice-ufrag:{u}\r\na=ice-pwd:{p}\r\n\
         a=fingerprint:{fp}\r\na=setup:passive\r\na=mid:0\r\na=sctp-port:5000\r\n",
        port = local.addr.port(),
        ip = local.addr.ip(),
        f = local.foundation,
        prio = local.priority,
        u = creds.ufrag,
        p = creds.pwd,
        fp = identity.fingerprint().to_sdp(),
    );

    // a=setup:passive answering actpass: zvon is the server.
    let mut config = DtlsConfig::default();
    config.versions = versions;
    // Loopback: the RTT is well under a millisecond, so the floor of libwebrtc's rule.
    config.initial_rto = DtlsConfig::rto_for_rtt(Duration::from_millis(1));
    let mut dtls = DtlsTransport::new(
        &config,
        &identity,
        DtlsRole::Server,
        &mut rng,
        Instant::now(),
    )
    .expect("transport");
    dtls.set_remote_fingerprints([expected])
        .expect("fingerprints");

    let limit_ms = if wrong_fingerprint { 2000 } else { 8000 };
    let mut chrome_done = {
        let chrome = chrome.clone();
        tokio::task::spawn_blocking(move || {
            chrome.run(ANSWER_AND_WAIT_FOR_DTLS, json!([answer, limit_ms]))
        })
    };
    let mut out = Outcome {
        connected: None,
        srtp_profile_id: None,
        srtp_key_bytes: 0,
        failure: None,
        offered: Vec::new(),
        client_hello: ClientHelloSeen::default(),
        handshake: None,
        chrome: Value::Null,
    };
    let mut chrome_result = None;
    let mut selected = None;
    let mut ice_connected = false;
    let mut first_dtls = None;
    let mut buf = vec![0u8; dtls.max_datagram_len()];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        // Datagrams before the pair is selected are dropped by the agent; DTLS retransmits.
        while let Some(n) = dtls.poll_transmit(Instant::now(), &mut buf) {
            ice.command(Command::Send(buf[..n].to_vec()));
        }
        while let Some(ev) = dtls.poll_event() {
            match ev {
                DtlsEvent::Connected(c) => {
                    out.handshake = first_dtls.map(|t: Instant| t.elapsed());
                    let keys = dtls.srtp_keying_material(&c.peer).expect("SRTP keys");
                    out.srtp_profile_id = Some(keys.profile_id());
                    out.srtp_key_bytes = keys.as_bytes().len();
                    assert_eq!(keys.profile(), c.srtp_profile.expect("an SRTP profile"));
                    assert!(c.peer.fingerprint().ct_eq(&chrome_fp));
                    out.connected = Some(c);
                }
                DtlsEvent::Failed(e) => out.failure = Some(e),
                DtlsEvent::Closed(r) => panic!("DTLS closed: {r:?}"),
                _ => {}
            }
        }
        let decided = out.connected.is_some() || out.failure.is_some();
        if decided && chrome_result.is_some() {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            break;
        }
        let wake = dtls
            .poll_timeout()
            .map(tokio::time::Instant::from_std)
            .map_or(deadline, |t| t.min(deadline));
        tokio::select! {
            ev = ice.next_event() => match ev {
                Some(DriverEvent::Data(d, _)) if classify(&d) == DatagramKind::Dtls => {
                    first_dtls.get_or_insert_with(Instant::now);
                    if out.connected.is_none() {
                        out.offered.extend(offered_srtp_profiles(&d));
                        scan_client_hello(&d, &mut out.client_hello);
                    }
                    // Fatal errors also come out as DtlsEvent::Failed.
                    let _ = dtls.handle_datagram(Instant::now(), &d);
                }
                Some(DriverEvent::Ice(IceEvent::SelectedPairChanged { local, remote })) => {
                    selected = Some((local.addr, remote.addr));
                }
                Some(DriverEvent::Ice(IceEvent::ConnectionStateChanged(
                    IceConnectionState::Connected | IceConnectionState::Completed,
                ))) => ice_connected = true,
                Some(_) => {}
                None => panic!("ICE task ended"),
            },
            r = &mut chrome_done, if chrome_result.is_none() => {
                chrome_result = Some(r.expect("WebDriver call"));
            }
            _ = tokio::time::sleep_until(wake) => dtls.handle_timeout(Instant::now()),
        }
    }
    assert!(ice_connected, "zvon's ICE reached connected");
    let (l, r) = selected.expect("a selected pair");
    assert_eq!(l, local.addr);
    assert!(l.ip().is_loopback() && r.ip().is_loopback());
    out.chrome = match chrome_result {
        Some(v) => v,
        None => chrome_done.await.expect("WebDriver call"),
    };
    ice.close().await;
    out
}

fn assert_live(out: &Outcome, version: &str) {
    let c = out
        .connected
        .as_ref()
        .unwrap_or_else(|| panic!("no Connected: {:?}, Chromium {}", out.failure, out.chrome));
    let chrome = &out.chrome;
    assert_eq!(chrome["dtlsState"], "connected", "Chromium: {chrome}");
    assert_eq!(chrome["tlsVersion"], version, "Chromium: {chrome}");
    let id = out.srtp_profile_id.expect("SRTP profile");
    assert!(
        out.offered.contains(&id),
        "profile {id:#06x} among Chromium's offered {:04x?}",
        out.offered
    );
    assert_eq!(
        chrome["srtpCipher"],
        chromium_srtp_name(id),
        "Chromium: {chrome}"
    );
    println!(
        "zvon {:?}, SRTP profile {id:#06x} ({} bytes of keying material; Chromium offered {:04x?}); \
         ClientHello to Connected {:?} (transport created to Connected {:?})",
        c.version, out.srtp_key_bytes, out.offered, out.handshake, c.handshake_time
    );
    println!("Chromium's ClientHello: {:?}", out.client_hello);
    println!(
        "Chromium: dtlsState {} tlsVersion {} dtlsCipher {} srtpCipher {} dtlsRole {}, {:.1} ms from setRemoteDescription",
        chrome["dtlsState"],
        chrome["tlsVersion"],
        chrome["dtlsCipher"],
        chrome["srtpCipher"],
        chrome["dtlsRole"],
        chrome["ms"].as_f64().unwrap_or(f64::NAN)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_dtls13_to_zvon_auto() {
    let out = handshake(9541, VersionPolicy::Auto, false).await;
    assert_live(&out, "FEFC");
    // The path this case exists for: a post-quantum key share too big for one datagram.
    let ch = out.client_hello;
    assert!(ch.fragmented && ch.mlkem, "ClientHello {ch:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_dtls12_to_zvon_dtls12_only() {
    let out = handshake(9542, VersionPolicy::Dtls12, false).await;
    assert_live(&out, "FEFD");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_fingerprint_fails_on_zvon() {
    let out = handshake(9543, VersionPolicy::Auto, true).await;
    assert!(
        out.connected.is_none(),
        "no Connected with a wrong fingerprint"
    );
    assert!(
        matches!(out.failure, Some(DtlsError::FingerprintMismatch(_))),
        "zvon failed with {:?}",
        out.failure
    );
    println!(
        "zvon: {}; Chromium: {}",
        out.failure
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        out.chrome
    );
}
