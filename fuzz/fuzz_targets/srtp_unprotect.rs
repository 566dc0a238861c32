//! Arbitrary bytes into SRTP and SRTCP unprotect (the network input of zvon-srtp), mixed with
//! packets the same fuzzer input had protected by a sender context and then corrupted or not,
//! so that the paths after authentication (rollover estimation, replay windows) run too.
//! A panic anywhere is a bug, and an unmodified packet that authenticates must give back its
//! plaintext.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zvon_srtp::{Config, Context, SrtpProfile};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, mut rest)) = data.split_first() else {
        return;
    };
    let profile = SrtpProfile::ALL[usize::from(sel & 3)];
    let window = if sel & 4 != 0 { 64 } else { 1024 };
    let config = Config::default()
        .with_replay_window(window)
        .with_max_streams(8);
    let key = vec![0x11; profile.key_len()];
    let salt = vec![0x22; profile.salt_len()];
    let mut tx = Context::new(profile, &key, &salt, &config).unwrap();
    let mut rx = Context::new(profile, &key, &salt, &config).unwrap();

    // Chunks: [op, len, bytes...].
    while let [op, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (chunk, next) = tail.split_at(n);
        rest = next;
        let mut buf = chunk.to_vec();
        match op % 6 {
            0 => drop(rx.unprotect_rtp(&mut buf)),
            1 => drop(rx.unprotect_rtcp(&mut buf)),
            2 | 3 => {
                let rtcp = op % 6 == 3;
                let plain = buf.clone();
                let ok = if rtcp {
                    tx.protect_rtcp(&mut buf)
                } else {
                    tx.protect_rtp(&mut buf)
                };
                if ok.is_err() {
                    continue;
                }
                // Corrupt one bit when the op byte says so.
                let flip = usize::from(op / 6);
                let corrupt = flip > 0 && flip - 1 < 8 * buf.len();
                if corrupt {
                    buf[(flip - 1) / 8] ^= 1 << ((flip - 1) % 8);
                }
                let got = if rtcp {
                    rx.unprotect_rtcp(&mut buf)
                } else {
                    rx.unprotect_rtp(&mut buf)
                };
                // A refusal is legitimate even uncorrupted (the receiver missed corrupted or
                // unsent packets and guesses another rollover counter), but what authenticates
                // must be the plaintext.
                if let (Ok(len), false) = (got, corrupt) {
                    assert_eq!(&buf[..len], &plain[..]);
                }
            }
            4 => {
                let len = buf.len().saturating_sub(usize::from(sel >> 4));
                drop(tx.protect_rtp_in_place(&mut buf, len));
            }
            _ => {
                let len = buf.len() / 2;
                drop(tx.protect_rtcp_in_place(&mut buf, len));
            }
        }
    }
});
