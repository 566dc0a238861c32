//! Cross-checks against libsrtp 2 (the reference implementation, Debian `libsrtp2-dev`) for
//! every profile: zvon's SRTP packets must be byte-identical to libsrtp's for the same input,
//! each side unprotects what the other protects (RTP and RTCP, several SSRCs, reordered,
//! across rollover-counter wraps), and both reject the same replays.

use zvon_base::Rng;
use zvon_srtp::{Config, Context, Error, Role, Session, SrtpProfile};
use zvon_test_libsrtp::{Direction, LibSrtp, Options, Status};

/// libsrtp's `srtp_err_status_replay_fail` and `srtp_err_status_replay_old`.
const LIBSRTP_REPLAY: [Status; 2] = [Status(9), Status(10)];

/// The RFC 5764 4.2 keys of one DTLS role: (write key, write salt).
fn keys(profile: SrtpProfile, m: &[u8], role: Role) -> (&[u8], &[u8]) {
    let (k, s) = (profile.key_len(), profile.salt_len());
    match role {
        Role::Client => (&m[..k], &m[2 * k..2 * k + s]),
        Role::Server => (&m[k..2 * k], &m[2 * k + s..2 * k + 2 * s]),
    }
}

fn libsrtp(profile: SrtpProfile, m: &[u8], writer: Role, dir: Direction, opts: Options) -> LibSrtp {
    let (key, salt) = keys(profile, m, writer);
    LibSrtp::new(profile.id(), key, salt, dir, opts).unwrap()
}

/// A random RTP packet: CSRCs, a header extension and padding some of the time.
fn rtp_packet(rng: &mut Rng, ssrc: u32, seq: u16) -> Vec<u8> {
    let csrcs = rng.below(3) as u8;
    let ext = rng.chance(0.5);
    let pad = rng.chance(0.2);
    let mut p = vec![0x80 | (u8::from(pad) << 5) | (u8::from(ext) << 4) | csrcs];
    // Marker and PT 96..=127 only, so the packet never looks like RTCP (RFC 5761 4).
    let marker = if rng.chance(0.1) { 0x80 } else { 0 };
    p.push(marker | (96 + rng.below(32) as u8));
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&rng.u32().to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    for _ in 0..csrcs {
        p.extend_from_slice(&rng.u32().to_be_bytes());
    }
    if ext {
        let words = rng.below(4) as u16;
        p.extend_from_slice(&[0xbe, 0xde]);
        p.extend_from_slice(&words.to_be_bytes());
        for _ in 0..words {
            p.extend_from_slice(&rng.u32().to_be_bytes());
        }
    }
    let mut payload = vec![0u8; rng.below(1200) as usize];
    rng.fill(&mut payload);
    p.extend_from_slice(&payload);
    if pad {
        let n = 1 + rng.below(8) as u8;
        p.extend(std::iter::repeat_n(0, usize::from(n - 1)));
        p.push(n);
    }
    p
}

/// A random compound-looking RTCP packet (a sender or receiver report header and a body).
fn rtcp_packet(rng: &mut Rng, ssrc: u32) -> Vec<u8> {
    let words = 1 + rng.below(60) as u16;
    let mut p = vec![0x80 | rng.below(4) as u8, 200 + rng.below(2) as u8];
    p.extend_from_slice(&words.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    let mut body = vec![0u8; 4 * usize::from(words) - 4];
    rng.fill(&mut body);
    p.extend_from_slice(&body);
    p
}

/// A delivery order that reorders within groups of up to 9 packets (within any 64 window).
fn reorder(rng: &mut Rng, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    for chunk in order.chunks_mut(9) {
        for i in (1..chunk.len()).rev() {
            chunk.swap(i, rng.below(i as u64 + 1) as usize);
        }
    }
    order
}

#[test]
fn every_profile_interoperates_with_libsrtp_across_rollover() {
    let mut rng = Rng::from_seed_u64(5764);
    for profile in SrtpProfile::ALL {
        let mut material = vec![0u8; profile.keying_material_len()];
        rng.fill(&mut material);
        // zvon is the DTLS client, libsrtp the server.
        let mut zvon =
            Session::from_dtls(profile, &material, Role::Client, &Config::default()).unwrap();
        let opts = Options::default();
        let mut lib_rx = libsrtp(profile, &material, Role::Client, Direction::Inbound, opts);
        let mut lib_tx = libsrtp(profile, &material, Role::Server, Direction::Outbound, opts);
        // A second libsrtp sender with zvon's keys, to compare bytes.
        let mut lib_ref = libsrtp(profile, &material, Role::Client, Direction::Outbound, opts);

        // Two SSRCs per side; the first one wraps its sequence number (ROC 0 -> 1 -> 2 for
        // the longest run), the second starts at a random point.
        let streams = [(0x1111_0001u32, 65_400u16), (0x1111_0002, rng.u32() as u16)];
        let mut to_lib = Vec::new();
        let mut to_zvon = Vec::new();
        for i in 0..700u32 {
            for (k, &(ssrc, start)) in streams.iter().enumerate() {
                if k == 1 && i >= 300 {
                    continue;
                }
                let seq = start.wrapping_add(i as u16);
                let plain = rtp_packet(&mut rng, ssrc, seq);

                let mut ours = plain.clone();
                zvon.outbound.protect_rtp(&mut ours).unwrap();
                let mut theirs = plain.clone();
                lib_ref.protect_rtp(&mut theirs).unwrap();
                assert_eq!(ours, theirs, "{profile}: SRTP bytes differ at seq {seq}");
                to_lib.push((plain.clone(), ours));

                // The other direction uses other SSRCs.
                let plain = rtp_packet(&mut rng, ssrc ^ 0xff00_0000, seq);
                let mut sealed = plain.clone();
                lib_tx.protect_rtp(&mut sealed).unwrap();
                to_zvon.push((plain, sealed));
            }
        }
        assert_eq!(zvon.outbound.roc(0x1111_0001), Some(1));

        for i in reorder(&mut rng, to_lib.len()) {
            let (plain, sealed) = &to_lib[i];
            let mut buf = sealed.clone();
            lib_rx.unprotect_rtp(&mut buf).unwrap();
            assert_eq!(
                &buf, plain,
                "{profile}: libsrtp decrypted zvon's packet {i} wrongly"
            );
        }
        for i in reorder(&mut rng, to_zvon.len()) {
            let (plain, sealed) = &to_zvon[i];
            let mut buf = sealed.clone();
            let n = zvon.inbound.unprotect_rtp(&mut buf).unwrap();
            assert_eq!(
                &buf[..n],
                &plain[..],
                "{profile}: zvon decrypted packet {i} wrongly"
            );
        }
        assert_eq!(zvon.inbound.roc(0xee11_0001), Some(1));

        // Replays: the last packets again are duplicates on both sides, the first ones are
        // far behind the window.
        for replayed in [to_lib.last().unwrap(), to_lib.first().unwrap()] {
            let mut dup = replayed.1.clone();
            let e = lib_rx.unprotect_rtp(&mut dup).unwrap_err();
            assert!(LIBSRTP_REPLAY.contains(&e), "{e}");
        }
        let mut dup = to_zvon.last().unwrap().1.clone();
        assert!(matches!(
            zvon.inbound.unprotect_rtp(&mut dup),
            Err(Error::Replay { .. })
        ));
        let mut old = to_zvon.first().unwrap().1.clone();
        assert!(matches!(
            zvon.inbound.unprotect_rtp(&mut old),
            Err(Error::TooOld { .. })
        ));

        // SRTCP both ways, 80 packets per SSRC, reordered on arrival.
        let mut to_lib = Vec::new();
        let mut to_zvon = Vec::new();
        for _ in 0..80 {
            for ssrc in [0x2222_0001u32, 0x2222_0002] {
                let plain = rtcp_packet(&mut rng, ssrc);
                let mut sealed = plain.clone();
                zvon.outbound.protect_rtcp(&mut sealed).unwrap();
                assert_eq!(sealed.len(), plain.len() + profile.rtcp_overhead());
                to_lib.push((plain, sealed));
                let plain = rtcp_packet(&mut rng, ssrc ^ 0xff00_0000);
                let mut sealed = plain.clone();
                lib_tx.protect_rtcp(&mut sealed).unwrap();
                to_zvon.push((plain, sealed));
            }
        }
        for i in reorder(&mut rng, to_lib.len()) {
            let (plain, sealed) = &to_lib[i];
            let mut buf = sealed.clone();
            lib_rx.unprotect_rtcp(&mut buf).unwrap();
            assert_eq!(
                &buf, plain,
                "{profile}: libsrtp decrypted zvon's SRTCP {i} wrongly"
            );
        }
        for i in reorder(&mut rng, to_zvon.len()) {
            let (plain, sealed) = &to_zvon[i];
            let mut buf = sealed.clone();
            let n = zvon.inbound.unprotect_rtcp(&mut buf).unwrap();
            assert_eq!(
                &buf[..n],
                &plain[..],
                "{profile}: zvon decrypted SRTCP {i} wrongly"
            );
        }
        let mut dup = to_zvon[5].1.clone();
        assert!(matches!(
            zvon.inbound.unprotect_rtcp(&mut dup),
            Err(Error::Replay { .. } | Error::TooOld { .. })
        ));
        let mut dup = to_lib[7].1.clone();
        let e = lib_rx.unprotect_rtcp(&mut dup).unwrap_err();
        assert!(LIBSRTP_REPLAY.contains(&e), "{e}");
    }
}

#[test]
fn srtcp_authenticated_only_from_libsrtp() {
    let mut rng = Rng::from_seed_u64(3711);
    for profile in SrtpProfile::ALL {
        let mut material = vec![0u8; profile.keying_material_len()];
        rng.fill(&mut material);
        let mut zvon =
            Session::from_dtls(profile, &material, Role::Server, &Config::default()).unwrap();
        let opts = Options {
            rtcp_auth_only: true,
            ..Options::default()
        };
        let mut lib_tx = libsrtp(profile, &material, Role::Client, Direction::Outbound, opts);
        for _ in 0..20 {
            let plain = rtcp_packet(&mut rng, 0x3333_0001);
            let mut buf = plain.clone();
            lib_tx.protect_rtcp(&mut buf).unwrap();
            assert_eq!(
                buf[..plain.len()],
                plain[..],
                "E = 0 leaves the packet in the clear"
            );
            let mut tampered = buf.clone();
            tampered[9] ^= 1;
            assert_eq!(
                zvon.inbound.unprotect_rtcp(&mut tampered),
                Err(Error::AuthFailed),
                "{profile}"
            );
            let n = zvon.inbound.unprotect_rtcp(&mut buf).unwrap();
            assert_eq!(buf[..n], plain[..], "{profile}");
        }
    }
}

/// Streams that start at a high rollover counter (libsrtp's `srtp_set_stream_roc`) and wrap it
/// while packets arrive out of order around the wrap.
#[test]
fn high_rollover_counter_wraps_identically() {
    let mut rng = Rng::from_seed_u64(48);
    let ssrc = 0x4444_0001;
    for profile in SrtpProfile::ALL {
        let key = {
            let mut k = vec![0u8; profile.key_len()];
            rng.fill(&mut k);
            k
        };
        let salt = {
            let mut s = vec![0u8; profile.salt_len()];
            rng.fill(&mut s);
            s
        };
        let opts = Options {
            ssrc: Some(ssrc),
            window: 128,
            ..Options::default()
        };
        let roc = 0x7fff_fff0;
        let mut lib_tx =
            LibSrtp::new(profile.id(), &key, &salt, Direction::Outbound, opts).unwrap();
        let mut lib_rx = LibSrtp::new(profile.id(), &key, &salt, Direction::Inbound, opts).unwrap();
        lib_tx.set_roc(ssrc, roc).unwrap();
        lib_rx.set_roc(ssrc, roc).unwrap();
        let config = Config::default().with_replay_window(128);
        let mut tx = Context::new(profile, &key, &salt, &config).unwrap();
        let mut rx = Context::new(profile, &key, &salt, &config).unwrap();
        tx.set_roc(ssrc, roc).unwrap();
        rx.set_roc(ssrc, roc).unwrap();

        let mut sealed = Vec::new();
        for i in 0..100u16 {
            let seq = 65_500u16.wrapping_add(i);
            let plain = rtp_packet(&mut rng, ssrc, seq);
            let mut ours = plain.clone();
            tx.protect_rtp(&mut ours).unwrap();
            let mut theirs = plain.clone();
            lib_tx.protect_rtp(&mut theirs).unwrap();
            assert_eq!(ours, theirs, "{profile} seq {seq}");
            sealed.push((plain, ours));
        }
        assert_eq!(tx.roc(ssrc), Some(roc + 1));
        assert_eq!(lib_tx.roc(ssrc).unwrap(), roc + 1);
        for i in reorder(&mut rng, sealed.len()) {
            let (plain, s) = &sealed[i];
            let mut a = s.clone();
            lib_rx.unprotect_rtp(&mut a).unwrap();
            assert_eq!(&a, plain);
            let mut b = s.clone();
            let n = rx.unprotect_rtp(&mut b).unwrap();
            assert_eq!(&b[..n], &plain[..], "{profile}");
        }
        assert_eq!(rx.roc(ssrc), Some(roc + 1));
    }
}
