//! zvon to zvon in memory: both versions, both roles, keys, data, close, refusal, loss.

mod common;

use std::time::Duration;

use common::*;
use zvon_base::Classify;
use zvon_dtls::*;

fn cfg(v: VersionPolicy) -> DtlsConfig {
    let mut c = DtlsConfig::default();
    c.versions = v;
    c
}

fn established(client: VersionPolicy, server: VersionPolicy, seed: u64) -> Pair {
    let mut p = Pair::new(&cfg(client), &cfg(server), seed);
    p.exchange_fingerprints();
    p.handshake();
    p
}

#[test]
fn versions_keys_data_and_close() {
    use VersionPolicy::*;
    let cases = [
        (Dtls12, Dtls12, DtlsVersion::Dtls12),
        (Dtls13, Dtls13, DtlsVersion::Dtls13),
        (Auto, Auto, DtlsVersion::Dtls13),
        (Auto, Dtls12, DtlsVersion::Dtls12),
        (Dtls12, Auto, DtlsVersion::Dtls12),
        (Dtls13, Auto, DtlsVersion::Dtls13),
        (Auto, Dtls13, DtlsVersion::Dtls13),
    ];
    for (i, (cv, sv, want)) in cases.into_iter().enumerate() {
        let mut p = established(cv, sv, i as u64);
        let c = p.client.connected().unwrap().clone();
        let s = p.server.connected().unwrap().clone();
        assert_eq!(c.version, want, "{cv:?}/{sv:?}");
        assert_eq!(s.version, want);
        assert_eq!(p.client.t.version(), Some(want));
        assert_eq!(c.peer.fingerprint(), p.server.id.fingerprint());
        assert_eq!(s.peer.fingerprint(), p.client.id.fingerprint());
        assert_eq!(c.peer.certificate_der(), p.server.id.certificate_der());

        // Both sides export the same keys, for the server's first preference in either
        // version (AES-128-GCM by default).
        let ck = p.client.t.srtp_keying_material(&c.peer).unwrap().clone();
        let sk = p.server.t.srtp_keying_material(&s.peer).unwrap().clone();
        assert_eq!(ck.as_bytes(), sk.as_bytes());
        assert_eq!(ck.profile(), sk.profile());
        let expected = SrtpProfile::AeadAes128Gcm;
        assert_eq!(ck.profile(), expected);
        assert_eq!(c.srtp_profile, Some(expected));
        assert_eq!(
            ck.local(DtlsRole::Client).key,
            sk.remote(DtlsRole::Server).key
        );
        assert_eq!(
            ck.local(DtlsRole::Client).salt,
            sk.remote(DtlsRole::Server).salt
        );
        assert_ne!(ck.client_write().key, ck.server_write().key);
        assert!(ck.as_bytes().iter().any(|&b| b != 0));

        // A proof from one connection opens nothing on another.
        assert_eq!(
            p.server.t.srtp_keying_material(&c.peer).unwrap_err(),
            DtlsError::ForeignProof
        );

        // Application data both ways, several records, sizes up to the limit.
        for n in [1usize, 100, 1200, 16 * 1024] {
            let msg: Vec<u8> = (0..n).map(|i| (i * 7 + n) as u8).collect();
            p.client.t.send_application_data(&msg).unwrap();
            p.server.t.send_application_data(&msg).unwrap();
        }
        let want_n = 4;
        assert!(p.drive(1000, &mut deliver_all(), &|p| {
            p.client.data.len() == want_n && p.server.data.len() == want_n
        }));
        for (i, n) in [1usize, 100, 1200, 16 * 1024].into_iter().enumerate() {
            let msg: Vec<u8> = (0..n).map(|i| (i * 7 + n) as u8).collect();
            assert_eq!(p.client.data[i], msg);
            assert_eq!(p.server.data[i], msg);
        }
        let too_big = vec![0u8; 16 * 1024 + 1];
        let e = p.client.t.send_application_data(&too_big).unwrap_err();
        assert!(!e.is_fatal());

        // close_notify: the closer reports Local, the peer Peer; nothing more can be sent.
        p.client.t.close();
        assert!(p.drive(1000, &mut deliver_all(), &|p| p.server.closed().is_some()));
        assert_eq!(p.client.closed(), Some(CloseReason::Local));
        assert_eq!(p.server.closed(), Some(CloseReason::Peer));
        assert_eq!(
            p.server.t.send_application_data(b"x"),
            Err(DtlsError::Closed)
        );
        assert!(p.server.t.is_finished() && p.client.t.is_finished());
        assert!(p.client.failed().is_none() && p.server.failed().is_none());
        assert_eq!(p.client.t.poll_timeout(), None);
    }
}

#[test]
fn server_closes_too() {
    for v in [VersionPolicy::Dtls12, VersionPolicy::Dtls13] {
        let mut p = established(v, v, 40);
        p.server.t.send_application_data(b"last words").unwrap();
        p.server.t.close();
        assert!(p.drive(1000, &mut deliver_all(), &|p| p.client.closed().is_some()));
        assert_eq!(p.client.closed(), Some(CloseReason::Peer));
        assert_eq!(
            p.client.data,
            vec![b"last words".to_vec()],
            "data before close is kept"
        );
    }
}

#[test]
fn wrong_fingerprint_is_refused_by_either_side() {
    for v in [VersionPolicy::Dtls12, VersionPolicy::Dtls13] {
        for wrong_at_client in [true, false] {
            let mut p = Pair::new(&cfg(v), &cfg(v), 50);
            let bogus = Fingerprint::of_certificate(HashAlgorithm::Sha256, b"someone else");
            let (cf, sf) = (p.client.id.fingerprint(), p.server.id.fingerprint());
            if wrong_at_client {
                p.client.t.set_remote_fingerprints([bogus]).unwrap();
                p.server.t.set_remote_fingerprints([cf]).unwrap();
            } else {
                p.client.t.set_remote_fingerprints([sf]).unwrap();
                p.server.t.set_remote_fingerprints([bogus]).unwrap();
            }
            p.server.t.send_application_data(b"x").unwrap_err();
            assert!(p.drive(10_000, &mut deliver_all(), &|p| p.any_failed()
                && p.client.t.poll_timeout().is_none()
                && p.server.t.poll_timeout().is_none()));
            let refuser = if wrong_at_client {
                &p.client
            } else {
                &p.server
            };
            let err = refuser.failed().unwrap().clone();
            match &err {
                DtlsError::FingerprintMismatch(m) => {
                    assert_eq!(m.expected, bogus);
                    let real = if wrong_at_client { sf } else { cf };
                    assert_eq!(m.got, real);
                }
                e => panic!("{v:?}: {e:?}"),
            }
            assert!(err.is_fatal());
            assert_eq!(err.fault(), zvon_base::Fault::PeerMisbehaved);
            let msg = err.to_string();
            assert!(
                msg.contains(&bogus.to_string()) && msg.contains("expected"),
                "{msg}"
            );
            // The refusing side never reports Connected, releases no keys and no data.
            assert!(refuser.connected().is_none(), "{v:?}");
            assert!(refuser.data.is_empty());
            // The refused side cannot be sure of anything either: the refusing end went
            // silent, so it never gets a verified connection if it was the server.
            if wrong_at_client {
                // The client refused on the server's certificate, before sending its own
                // Finished: the server never completes, and times out.
                assert!(p.server.connected().is_none());
            }
        }
    }
}

#[test]
fn fingerprints_may_arrive_after_the_handshake() {
    for v in [VersionPolicy::Dtls12, VersionPolicy::Dtls13] {
        let mut p = Pair::new(&cfg(v), &cfg(v), 60);
        let sf = p.server.id.fingerprint();
        p.client.t.set_remote_fingerprints([sf]).unwrap();
        // The server does not know the client's fingerprint yet (its answer is in flight).
        assert!(p.drive(1000, &mut deliver_all(), &|p| {
            p.client.connected().is_some()
        }));
        p.client.t.send_application_data(b"early").unwrap();
        p.drive(50, &mut deliver_all(), &|_| false);
        assert!(
            p.server.connected().is_none(),
            "no Connected before verification"
        );
        assert!(p.server.data.is_empty(), "no data before verification");
        assert_eq!(
            p.server.t.send_application_data(b"x"),
            Err(DtlsError::NotConnected)
        );
        // The client's fingerprint arrives, with a sha-1 beside it (strongest hash decides).
        let cf = p.client.id.fingerprint();
        let cf1 = p.client.id.fingerprint_with(HashAlgorithm::Sha1);
        p.server.t.set_remote_fingerprints([cf1, cf]).unwrap();
        assert_eq!(
            p.server.t.set_remote_fingerprints([cf]),
            Err(DtlsError::FingerprintsAlreadySet)
        );
        assert!(p.drive(10, &mut deliver_all(), &|p| !p.server.data.is_empty()));
        assert!(p.server.connected().is_some());
        assert_eq!(p.server.data, vec![b"early".to_vec()]);
    }
}

#[test]
fn late_wrong_fingerprint_fails_an_engine_connected_handshake() {
    let v = VersionPolicy::Auto;
    let mut p = Pair::new(&cfg(v), &cfg(v), 61);
    p.client
        .t
        .set_remote_fingerprints([p.server.id.fingerprint()])
        .unwrap();
    assert!(p.drive(1000, &mut deliver_all(), &|p| {
        p.client.connected().is_some()
    }));
    p.client.t.send_application_data(b"early").unwrap();
    p.drive(50, &mut deliver_all(), &|_| false);
    let sha512 = Fingerprint::of_certificate(HashAlgorithm::Sha512, b"another");
    p.server
        .t
        .set_remote_fingerprints([p.client.id.fingerprint(), sha512])
        .unwrap();
    p.drive(10, &mut deliver_all(), &|_| false);
    assert!(matches!(
        p.server.failed(),
        Some(DtlsError::FingerprintMismatch(_))
    ));
    assert!(p.server.data.is_empty() && p.server.connected().is_none());
}

#[test]
fn a_lost_flight_is_retransmitted_on_timeout() {
    for v in [VersionPolicy::Dtls12, VersionPolicy::Dtls13] {
        let mut p = Pair::new(&cfg(v), &cfg(v), 70);
        p.exchange_fingerprints();
        // Drop the server's whole first flight.
        let mut server_datagrams = 0;
        let mut filter = |from_client: bool, _: &[u8]| {
            if !from_client {
                server_datagrams += 1;
                if server_datagrams <= 1 {
                    return None;
                }
            }
            Some(Duration::ZERO)
        };
        // The client has only its ClientHello out and a timer; jump to it.
        p.flush(&mut filter);
        let t0 = p
            .client
            .t
            .poll_timeout()
            .expect("the ClientHello arms a timer");
        assert!(t0 > p.now);
        assert!(p.drive(10_000, &mut filter, &|p| p.both_connected()
            || p.any_failed()));
        assert!(
            p.both_connected(),
            "{:?} {:?}",
            p.client.failed(),
            p.server.failed()
        );
        // It took at least one retransmission timeout (1 s) rather than a few 25 ms trips.
        let took = p.client.connected().unwrap().handshake_time;
        // The first RTO is 1 s with dimpl's +-25% jitter.
        assert!(took >= Duration::from_millis(700), "{v:?}: {took:?}");
        let c_sent = p.sent.iter().filter(|(c, _)| *c).count();
        assert!(c_sent >= 2, "the client resent");
    }
}

#[test]
fn unanswered_client_gives_up_with_a_local_timeout() {
    let mut c = cfg(VersionPolicy::Auto);
    c.flight_retries = 2;
    c.initial_rto = Duration::from_millis(100);
    let mut p = Pair::new(&c, &c, 80);
    p.exchange_fingerprints();
    assert!(p.drive(1000, &mut |_, _| None, &|p| p.client.failed().is_some()));
    let e = p.client.failed().unwrap();
    assert!(matches!(e, DtlsError::Dtls(_)), "{e:?}");
    assert_eq!(e.fault(), zvon_base::Fault::Local);
    assert!(e.is_fatal());
    // 100 + 200 + 400 ms, with jitter; well under a second.
    assert!(p.now - p.start < Duration::from_secs(2));
    assert_eq!(p.client.t.poll_timeout(), None);
}

#[test]
fn non_dtls_and_garbage_are_dropped_not_fatal() {
    let mut p = established(VersionPolicy::Auto, VersionPolicy::Auto, 90);
    let now = p.now;
    for d in [
        &[][..],
        &[0x00, 0x01, 0, 0][..],
        &[0x80, 0x60, 1, 2][..],
        &[64, 0, 0, 4][..],
    ] {
        let e = p.server.t.handle_datagram(now, d).unwrap_err();
        assert!(matches!(e, DtlsError::NotDtls { .. }));
        assert!(!e.is_fatal());
        assert_eq!(e.fault(), zvon_base::Fault::Malformed);
    }
    // Bytes that look like DTLS but are junk: dropped inside dimpl, connection lives on.
    let mut rng = zvon_base::Rng::from_seed_u64(1);
    for len in [1usize, 13, 14, 40, 100, 1200] {
        for first in [20u8, 21, 22, 23, 25, 32, 47, 63] {
            let mut d = vec![0u8; len];
            rng.fill(&mut d);
            d[0] = first;
            let _ = p.server.t.handle_datagram(now, &d);
        }
    }
    assert!(p.server.failed().is_none(), "{:?}", p.server.failed());
    p.client.t.send_application_data(b"still here").unwrap();
    assert!(p.drive(100, &mut deliver_all(), &|p| !p.server.data.is_empty()));
    assert_eq!(p.server.t.stats().not_dtls, 4);
}

#[test]
fn mismatched_versions_fail_cleanly() {
    let mut p = Pair::new(
        &cfg(VersionPolicy::Dtls13),
        &cfg(VersionPolicy::Dtls12),
        100,
    );
    p.exchange_fingerprints();
    assert!(p.drive(10_000, &mut deliver_all(), &|p| p.any_failed()
        && p.client.t.poll_timeout().is_none()));
    assert!(!p.both_connected());
}

#[test]
fn identity_is_reused_across_connections() {
    let (cid, sid) = identities(110);
    for seed in 0..3 {
        let c = cfg(VersionPolicy::Auto);
        let mut p = Pair::with_identities(&c, &c, seed, cid.clone(), sid.clone());
        p.exchange_fingerprints();
        p.handshake();
        assert_eq!(
            p.server.connected().unwrap().peer.fingerprint(),
            cid.fingerprint()
        );
    }
}

#[test]
fn require_srtp_is_met_by_dimpl_peers() {
    let mut c = cfg(VersionPolicy::Auto);
    c.require_srtp = true;
    let mut p = Pair::new(&c, &c, 120);
    p.exchange_fingerprints();
    p.handshake();
}
