//! SRTP profile negotiation zvon to zvon in memory (the patched dimpl in third_party/dimpl):
//! the server's own preference decides in DTLS 1.2 and 1.3, AES128_CM_HMAC_SHA1_32 is negotiated
//! only when asked, the keys it yields drive a zvon-srtp session both ways, and a client refuses
//! a profile it never offered.

mod common;

use std::time::Duration;

use common::*;
use zvon_dtls::*;

use SrtpProfile::{AeadAes128Gcm, AeadAes256Gcm, Aes128CmHmacSha1_32, Aes128CmHmacSha1_80};

fn cfg(v: VersionPolicy, profiles: &[SrtpProfile]) -> DtlsConfig {
    let mut c = DtlsConfig::default();
    c.versions = v;
    c.srtp_profiles = profiles.to_vec();
    c
}

const VERSIONS: [(VersionPolicy, DtlsVersion); 2] = [
    (VersionPolicy::Dtls13, DtlsVersion::Dtls13),
    (VersionPolicy::Dtls12, DtlsVersion::Dtls12),
];

/// Runs a handshake and returns both sides' keys, which must agree.
fn negotiate(client: &DtlsConfig, server: &DtlsConfig, seed: u64) -> Option<SrtpKeyingMaterial> {
    let mut p = Pair::new(client, server, seed);
    p.exchange_fingerprints();
    p.handshake();
    let c = p.client.connected().unwrap().clone();
    let s = p.server.connected().unwrap().clone();
    assert_eq!(c.srtp_profile, s.srtp_profile);
    let ck = p.client.t.srtp_keying_material(&c.peer).ok().cloned();
    let sk = p.server.t.srtp_keying_material(&s.peer).ok().cloned();
    assert_eq!(
        ck.as_ref().map(|k| k.as_bytes().to_vec()),
        sk.as_ref().map(|k| k.as_bytes().to_vec())
    );
    assert_eq!(ck.as_ref().map(|k| k.profile()), c.srtp_profile);
    ck
}

#[test]
fn the_server_preference_decides_in_both_versions() {
    for (i, (v, _)) in VERSIONS.into_iter().enumerate() {
        // The client lists AES-CM first; the server prefers AES-128-GCM and gets it. (Stock
        // dimpl 0.9's 1.3 server took the client's first.)
        let client = cfg(v, &[Aes128CmHmacSha1_80, AeadAes128Gcm]);
        let server = cfg(v, &[AeadAes128Gcm, AeadAes256Gcm, Aes128CmHmacSha1_80]);
        let k = negotiate(&client, &server, 200 + i as u64).unwrap();
        assert_eq!(k.profile(), AeadAes128Gcm, "{v:?}");
        assert_eq!(k.as_bytes().len(), 56);

        // And the other way round: the same offer, a server that prefers AES-CM.
        let server = cfg(v, &[Aes128CmHmacSha1_80, AeadAes128Gcm]);
        let client = cfg(v, &[AeadAes128Gcm, Aes128CmHmacSha1_80]);
        let k = negotiate(&client, &server, 210 + i as u64).unwrap();
        assert_eq!(k.profile(), Aes128CmHmacSha1_80, "{v:?}");

        // A server's list that shares nothing with the offer gives no profile.
        let server = cfg(v, &[AeadAes256Gcm]);
        assert!(
            negotiate(&client, &server, 220 + i as u64).is_none(),
            "{v:?}"
        );
    }
}

#[test]
fn defaults_prefer_aes_128_gcm_and_leave_aes_cm_32_out() {
    assert_eq!(
        DtlsConfig::default().srtp_profiles,
        [AeadAes128Gcm, AeadAes256Gcm, Aes128CmHmacSha1_80]
    );
    for (i, (v, _)) in VERSIONS.into_iter().enumerate() {
        let k = negotiate(
            &cfg(v, &SrtpProfile::DEFAULT),
            &cfg(v, &SrtpProfile::DEFAULT),
            230,
        )
        .unwrap();
        assert_eq!(k.profile(), AeadAes128Gcm, "{v:?}");

        // A client that asks for AES-CM-32 alone gets nothing from a default server...
        let only32 = cfg(v, &[Aes128CmHmacSha1_32]);
        assert!(negotiate(&only32, &cfg(v, &SrtpProfile::DEFAULT), 240 + i as u64).is_none());
        // ...which fails the connection when SRTP is required.
        let mut strict = cfg(v, &SrtpProfile::DEFAULT);
        strict.require_srtp = true;
        let mut p = Pair::new(&only32, &strict, 250 + i as u64);
        p.exchange_fingerprints();
        p.drive(10_000, &mut deliver_all(), &|p| p.server.failed().is_some());
        assert_eq!(p.server.failed(), Some(&DtlsError::NoSrtpProfile), "{v:?}");

        // An empty list is no DTLS-SRTP at all, on either side.
        assert!(negotiate(&cfg(v, &[]), &cfg(v, &SrtpProfile::DEFAULT), 260).is_none());
        assert!(negotiate(&cfg(v, &SrtpProfile::DEFAULT), &cfg(v, &[]), 261).is_none());
    }
}

/// An RTP packet: V=2, PT 96, sequence `seq`, SSRC 0x1234_5678.
fn rtp(seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 96];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0x10, 0, 0x12, 0x34, 0x56, 0x78]);
    p.extend_from_slice(payload);
    p
}

#[test]
fn aes_cm_32_when_asked_keys_an_srtp_session_both_ways() {
    for (i, (v, version)) in VERSIONS.into_iter().enumerate() {
        // The client asks for it first; the server accepts it after the GCM profiles, which
        // this client does not offer.
        let client = cfg(v, &[Aes128CmHmacSha1_32, Aes128CmHmacSha1_80]);
        let mut server_list = SrtpProfile::DEFAULT.to_vec();
        server_list.push(Aes128CmHmacSha1_32);
        let server = cfg(v, &server_list);
        let mut p = Pair::new(&client, &server, 270 + i as u64);
        p.exchange_fingerprints();
        p.handshake();
        let c = p.client.connected().unwrap().clone();
        let s = p.server.connected().unwrap().clone();
        assert_eq!(c.version, version);
        // The server prefers AES-CM-80 to AES-CM-32: with both offered, 80 wins.
        assert_eq!(c.srtp_profile, Some(Aes128CmHmacSha1_80), "{v:?}");
        assert_eq!(s.srtp_profile, c.srtp_profile);

        // Offered alone, AES-CM-32 is what both ends get.
        let client = cfg(v, &[Aes128CmHmacSha1_32]);
        let mut p = Pair::new(&client, &server, 280 + i as u64);
        p.exchange_fingerprints();
        p.handshake();
        let c = p.client.connected().unwrap().clone();
        let s = p.server.connected().unwrap().clone();
        assert_eq!(c.version, version);
        assert_eq!(c.srtp_profile, Some(Aes128CmHmacSha1_32), "{v:?}");
        assert_eq!(s.srtp_profile, Some(Aes128CmHmacSha1_32));
        let ck = p.client.t.srtp_keying_material(&c.peer).unwrap().clone();
        let sk = p.server.t.srtp_keying_material(&s.peer).unwrap().clone();
        assert_eq!(ck.profile_id(), 0x0002);
        assert_eq!(ck.as_bytes().len(), 60);
        assert_eq!(ck.as_bytes(), sk.as_bytes());
        assert_eq!(ck.client_write().key.len(), 16);
        assert_eq!(ck.client_write().salt.len(), 14);

        // The zvon-srtp sessions both ends derive from their own export (as zvon-core does).
        let session = |km: &SrtpKeyingMaterial, role| {
            let profile = zvon_srtp::SrtpProfile::from_id(km.profile_id()).unwrap();
            assert_eq!(profile, zvon_srtp::SrtpProfile::Aes128CmHmacSha1_32);
            assert_eq!(profile.keying_material_len(), km.as_bytes().len());
            zvon_srtp::Session::from_dtls(
                profile,
                km.as_bytes(),
                role,
                &zvon_srtp::Config::default(),
            )
            .unwrap()
        };
        let mut cs = session(&ck, zvon_srtp::Role::Client);
        let mut ss = session(&sk, zvon_srtp::Role::Server);

        for seq in 1..=3u16 {
            // Client to server: a 32-bit tag, 4 bytes added.
            let plain = rtp(seq, b"media from the client");
            let mut pkt = plain.clone();
            cs.outbound.protect_rtp(&mut pkt).unwrap();
            assert_eq!(pkt.len(), plain.len() + 4);
            assert_ne!(
                pkt[12..plain.len()],
                plain[12..],
                "the payload is encrypted"
            );
            let n = ss.inbound.unprotect_rtp(&mut pkt).unwrap();
            assert_eq!(&pkt[..n], &plain[..]);

            // Server to client.
            let plain = rtp(seq, b"media from the server");
            let mut pkt = plain.clone();
            ss.outbound.protect_rtp(&mut pkt).unwrap();
            assert_eq!(pkt.len(), plain.len() + 4);
            let n = cs.inbound.unprotect_rtp(&mut pkt).unwrap();
            assert_eq!(&pkt[..n], &plain[..]);
        }

        // SRTCP keeps the 80-bit tag (RFC 5764 4.1.2): index word + 10 bytes.
        let sr = vec![0x80, 200, 0, 1, 0x12, 0x34, 0x56, 0x78];
        let mut pkt = sr.clone();
        ss.outbound.protect_rtcp(&mut pkt).unwrap();
        assert_eq!(pkt.len(), sr.len() + 14);
        let n = cs.inbound.unprotect_rtcp(&mut pkt).unwrap();
        assert_eq!(&pkt[..n], &sr[..]);

        // A packet protected with the wrong direction's keys is refused.
        let mut pkt = rtp(9, b"reflected");
        cs.outbound.protect_rtp(&mut pkt).unwrap();
        assert!(cs.inbound.unprotect_rtp(&mut pkt).is_err());
        // As is one whose short tag was damaged.
        let mut pkt = rtp(10, b"damaged");
        cs.outbound.protect_rtp(&mut pkt).unwrap();
        let last = pkt.len() - 1;
        pkt[last] ^= 1;
        assert!(ss.inbound.unprotect_rtp(&mut pkt).is_err());
    }
}

/// `use_srtp` with one profile and no MKI, as in a ServerHello (RFC 5764 4.1.1).
fn server_use_srtp(id: u16) -> [u8; 9] {
    let [hi, lo] = id.to_be_bytes();
    [0x00, 0x0e, 0x00, 0x05, 0x00, 0x02, hi, lo, 0x00]
}

#[test]
fn a_client_refuses_a_profile_it_did_not_offer() {
    // DTLS 1.2's ServerHello travels in the clear: rewrite the server's choice (AES-CM-80) to
    // AES-CM-32, which the client never offered. The client must stop at the ServerHello,
    // before the transcript check in Finished would catch the change.
    let client = cfg(VersionPolicy::Dtls12, &SrtpProfile::DEFAULT);
    let server = cfg(VersionPolicy::Dtls12, &[Aes128CmHmacSha1_80]);
    let mut p = Pair::new(&client, &server, 290);
    p.exchange_fingerprints();
    let (from, to) = (server_use_srtp(0x0001), server_use_srtp(0x0002));
    let mut rewritten = 0;
    for _ in 0..1000 {
        if p.client.failed().is_some() || p.both_connected() {
            break;
        }
        let mut tampered = Vec::new();
        let more = p.step(&mut |from_client, d| {
            if let Some(at) = (!from_client)
                .then(|| d.windows(from.len()).position(|w| w == from))
                .flatten()
            {
                let mut d = d.to_vec();
                d[at..at + to.len()].copy_from_slice(&to);
                tampered.push(d);
                return None;
            }
            Some(Duration::ZERO)
        });
        rewritten += tampered.len();
        for d in tampered {
            let at = p.now + p.delay;
            let pos = p
                .client
                .inbox
                .iter()
                .position(|(t, _)| *t > at)
                .unwrap_or(p.client.inbox.len());
            p.client.inbox.insert(pos, (at, d));
        }
        if !more {
            break;
        }
    }
    assert!(rewritten >= 1, "the ServerHello carried use_srtp");
    let e = p.client.failed().expect("the client refuses").clone();
    assert!(matches!(e, DtlsError::Dtls(_)), "{e:?}");
    assert!(e.to_string().contains("not offered"), "{e}");
    assert!(p.client.connected().is_none());
}
