//! Behaviour through the public API: replay handling, state left untouched by failures, key
//! and buffer limits, and property tests (round trips for arbitrary packets, no panic on
//! arbitrary input).

use proptest::prelude::*;
use zvon_base::Classify;
use zvon_srtp::{Config, Context, Error, KeyError, Role, Session, SrtpProfile};

fn pair(profile: SrtpProfile, config: &Config) -> (Context, Context) {
    let material: Vec<u8> = (0..profile.keying_material_len() as u8).collect();
    let a = Session::from_dtls(profile, &material, Role::Client, config).unwrap();
    let b = Session::from_dtls(profile, &material, Role::Server, config).unwrap();
    (a.outbound, b.inbound)
}

fn rtp(ssrc: u32, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 96];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 1]);
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

fn sealed(tx: &mut Context, ssrc: u32, seq: u16) -> Vec<u8> {
    let mut p = rtp(ssrc, seq, &seq.to_be_bytes().repeat(20));
    tx.protect_rtp(&mut p).unwrap();
    p
}

#[test]
fn replay_window_accepts_reordered_once_and_rejects_the_rest() {
    for profile in SrtpProfile::ALL {
        for window in [64usize, 1024] {
            let (mut tx, mut rx) = pair(profile, &Config::default().with_replay_window(window));
            assert_eq!(rx.replay_window(), window);
            let packets: Vec<Vec<u8>> = (0..3000u16).map(|s| sealed(&mut tx, 7, s)).collect();
            let open = |rx: &mut Context, i: usize| rx.unprotect_rtp(&mut packets[i].clone());

            assert!(open(&mut rx, 2000).is_ok());
            // Out of order within the window: accepted once, then a replay.
            let oldest = 2000 - window + 1;
            for i in [1999, oldest, (oldest + 1999) / 2] {
                assert!(open(&mut rx, i).is_ok(), "{profile} {window} {i}");
                assert_eq!(open(&mut rx, i), Err(Error::Replay { index: i as u64 }));
            }
            assert_eq!(open(&mut rx, 2000), Err(Error::Replay { index: 2000 }));
            // Just behind the window.
            let behind = 2000 - window;
            assert_eq!(
                open(&mut rx, behind),
                Err(Error::TooOld {
                    index: behind as u64
                })
            );
            // Forward jumps are fine, and move the window.
            assert!(open(&mut rx, 2999).is_ok());
            assert!(matches!(
                open(&mut rx, 2999 - window),
                Err(Error::TooOld { .. })
            ));
            assert!(open(&mut rx, 2999 - window + 1).is_ok());
            assert!(Error::Replay { index: 0 }.fault() == zvon_base::Fault::PeerMisbehaved);
            assert!(!Error::Replay { index: 0 }.is_fatal());
        }
    }
}

#[test]
fn tampered_packets_fail_and_change_nothing() {
    for profile in SrtpProfile::ALL {
        let (mut tx, mut rx) = pair(profile, &Config::default());
        let first = sealed(&mut tx, 9, 100);
        let far = sealed(&mut tx, 9, 30_000); // would move the window if accepted wrongly
        for at in [1usize, 3, 11, 12, far.len() - 1] {
            let mut bad = far.clone();
            bad[at] ^= 0x40;
            assert_eq!(
                rx.unprotect_rtp(&mut bad),
                Err(Error::AuthFailed),
                "{profile} {at}"
            );
        }
        // A forged packet for an unknown SSRC creates no state either.
        let mut forged = sealed(&mut tx, 10, 5);
        let last = forged.len() - 1;
        forged[last] ^= 1;
        assert_eq!(rx.unprotect_rtp(&mut forged), Err(Error::AuthFailed));
        assert_eq!(rx.roc(10), None);
        assert_eq!(rx.roc(9), None);
        assert!(rx.unprotect_rtp(&mut first.clone()).is_ok());
        assert!(rx.unprotect_rtp(&mut far.clone()).is_ok());

        // The same for SRTCP.
        let mut rtcp = vec![0x80, 201, 0, 1, 0, 0, 0, 9];
        tx.protect_rtcp(&mut rtcp).unwrap();
        let mut bad = rtcp.clone();
        bad[2] ^= 1;
        assert_eq!(rx.unprotect_rtcp(&mut bad), Err(Error::AuthFailed));
        assert_eq!(rx.unprotect_rtcp(&mut rtcp.clone()), Ok(8));
        assert_eq!(
            rx.unprotect_rtcp(&mut rtcp.clone()),
            Err(Error::Replay { index: 0 })
        );
    }
}

#[test]
fn short_and_malformed_packets_are_typed_errors() {
    for profile in SrtpProfile::ALL {
        let (mut tx, mut rx) = pair(profile, &Config::default());
        let tag = profile.rtp_tag_len();
        assert!(matches!(
            rx.unprotect_rtp(&mut vec![0x80; 12 + tag - 1]),
            Err(Error::TooShort { .. })
        ));
        // A CSRC count that reaches into the tag.
        let mut p = sealed(&mut tx, 1, 1);
        p.truncate(12 + tag);
        p[0] = 0x8f;
        assert!(matches!(
            rx.unprotect_rtp(&mut p),
            Err(Error::TooShort { .. })
        ));
        p[0] = 0x00;
        assert_eq!(rx.unprotect_rtp(&mut p), Err(Error::BadVersion));
        assert!(matches!(
            rx.unprotect_rtcp(&mut vec![0x80; 8 + 4 + profile.rtcp_tag_len() - 1]),
            Err(Error::TooShort { .. })
        ));
        // Protecting into a slice without room for the tag.
        let plain = rtp(1, 2, b"x");
        let mut buf = plain.clone();
        let e = tx.protect_rtp_in_place(&mut buf, plain.len()).unwrap_err();
        assert_eq!(
            e,
            Error::BufferTooSmall {
                needed: plain.len() + tag,
                capacity: plain.len()
            }
        );
        assert_eq!(e.fault(), zvon_base::Fault::ApiMisuse);
        assert!(matches!(
            tx.protect_rtp_in_place(&mut buf, usize::MAX),
            Err(Error::BufferTooSmall { .. })
        ));
        assert!(matches!(
            tx.protect_rtcp_in_place(&mut buf, usize::MAX - 3),
            Err(Error::BufferTooSmall { .. })
        ));
        // Protecting the same index twice would repeat the keystream.
        let mut again = rtp(1, 1, b"x");
        assert_eq!(
            tx.protect_rtp(&mut again),
            Err(Error::IndexReused { index: 1 })
        );
        assert_eq!(again, rtp(1, 1, b"x"), "a refused packet is left as it was");
    }
}

#[test]
fn keys_of_the_wrong_length_are_refused() {
    let p = SrtpProfile::AeadAes256Gcm;
    assert_eq!(
        Session::from_dtls(p, &[0; 56], Role::Client, &Config::default()).unwrap_err(),
        KeyError::WrongLength {
            what: "keying material",
            expected: 88,
            got: 56
        }
    );
    assert!(Context::new(p, &[0; 16], &[0; 12], &Config::default()).is_err());
    assert!(Context::new(p, &[0; 32], &[0; 14], &Config::default()).is_err());
    assert!(Context::new(p, &[0; 32], &[0; 12], &Config::default()).is_ok());
}

#[test]
fn rollover_counter_exhaustion_is_a_key_limit() {
    let (mut tx, mut rx) = pair(SrtpProfile::AeadAes128Gcm, &Config::default());
    tx.set_roc(3, u32::MAX).unwrap();
    rx.set_roc(3, u32::MAX).unwrap();
    let last = sealed(&mut tx, 3, 0xffff);
    assert!(rx.unprotect_rtp(&mut last.clone()).is_ok());
    let mut next = rtp(3, 0, b"wrapped");
    assert_eq!(tx.protect_rtp(&mut next), Err(Error::KeyLimit));
}

#[test]
fn stream_count_is_bounded() {
    let config = Config::default().with_max_streams(2);
    let (mut tx, mut rx) = pair(SrtpProfile::Aes128CmHmacSha1_80, &config);
    let a = sealed(&mut tx, 1, 1);
    let b = sealed(&mut tx, 2, 1);
    let mut c = rtp(3, 1, b"x");
    assert_eq!(tx.protect_rtp(&mut c), Err(Error::TooManyStreams));
    assert!(rx.unprotect_rtp(&mut a.clone()).is_ok());
    assert!(rx.unprotect_rtp(&mut b.clone()).is_ok());
}

fn profile() -> impl Strategy<Value = SrtpProfile> {
    prop::sample::select(SrtpProfile::ALL.to_vec())
}

/// An RTP packet with arbitrary CSRCs, extension and payload.
fn packet() -> impl Strategy<Value = (u32, u16, Vec<u8>)> {
    (
        any::<u32>(),
        any::<u16>(),
        0usize..16,
        prop::option::of(prop::collection::vec(any::<u8>(), 0..40)),
        prop::collection::vec(any::<u8>(), 0..1500),
        any::<u8>(),
    )
        .prop_map(|(ssrc, seq, csrcs, ext, payload, pt)| {
            let mut p = vec![
                0x80 | csrcs as u8 | if ext.is_some() { 0x10 } else { 0 },
                pt,
            ];
            p.extend_from_slice(&seq.to_be_bytes());
            p.extend_from_slice(&[1, 2, 3, 4]);
            p.extend_from_slice(&ssrc.to_be_bytes());
            p.extend(std::iter::repeat_n(0xcc, 4 * csrcs));
            if let Some(mut ext) = ext {
                ext.truncate(ext.len() / 4 * 4);
                p.extend_from_slice(&[0x10, 0x00]);
                p.extend_from_slice(&((ext.len() / 4) as u16).to_be_bytes());
                p.extend_from_slice(&ext);
            }
            p.extend_from_slice(&payload);
            (ssrc, seq, p)
        })
}

proptest! {
    #[test]
    fn rtp_round_trips(profile in profile(), packets in prop::collection::vec(packet(), 1..8)) {
        let (mut tx, mut rx) = pair(profile, &Config::default());
        for (ssrc, seq, plain) in packets {
            let mut buf = plain.clone();
            match tx.protect_rtp(&mut buf) {
                Ok(()) => {}
                // A repeated (SSRC, SEQ) among the generated packets.
                Err(Error::IndexReused { .. } | Error::TooOld { .. }) => continue,
                Err(e) => return Err(TestCaseError::fail(format!("{e} {ssrc} {seq}"))),
            }
            prop_assert_eq!(buf.len(), plain.len() + profile.rtp_overhead());
            match rx.unprotect_rtp(&mut buf) {
                Ok(n) => prop_assert_eq!(&buf[..n], &plain[..]),
                // Far jumps of SEQ within one SSRC can land behind the window.
                Err(Error::TooOld { .. } | Error::Replay { .. }) => {}
                Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
            }
        }
    }

    #[test]
    fn rtcp_round_trips(profile in profile(), body in prop::collection::vec(any::<u8>(), 0..1200),
                        ssrc in any::<u32>(), count in 1usize..5) {
        let (mut tx, mut rx) = pair(profile, &Config::default());
        for _ in 0..count {
            let mut plain = vec![0x81, 200, 0, 0];
            plain.extend_from_slice(&ssrc.to_be_bytes());
            plain.extend_from_slice(&body);
            let mut buf = plain.clone();
            tx.protect_rtcp(&mut buf).unwrap();
            prop_assert_eq!(buf.len(), plain.len() + profile.rtcp_overhead());
            let n = rx.unprotect_rtcp(&mut buf).unwrap();
            prop_assert_eq!(&buf[..n], &plain[..]);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(profile in profile(),
                                   data in prop::collection::vec(any::<u8>(), 0..300)) {
        let (mut tx, mut rx) = pair(profile, &Config::default());
        // Sometimes a real packet with arbitrary corruption, so the deep paths are reached.
        let mut real = sealed(&mut tx, 1, 1);
        for (i, b) in data.iter().enumerate().take(real.len()) {
            real[i] ^= b & 0x01;
        }
        for mut input in [data.clone(), real] {
            let _ = rx.unprotect_rtp(&mut input.clone());
            let _ = rx.unprotect_rtcp(&mut input.clone());
            let len = input.len();
            let _ = tx.protect_rtp(&mut input.clone());
            let _ = tx.protect_rtcp(&mut input.clone());
            let _ = tx.protect_rtp_in_place(&mut input, len.saturating_sub(3));
        }
    }
}

#[test]
fn contexts_move_between_threads() {
    // The runtime moves connections (and their SRTP state) between tokio worker threads.
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<Context>();
    send_and_sync::<Session>();
    send_and_sync::<Error>();
}
