//! Real browsers' offers (Chromium, Firefox, Safari; the repository's corpus) answered by
//! zvon-core: one m-line per offered one, mids in order, the data section accepted and bundled,
//! media rejected until the media layer lands; and mutated offers never panic.
#![allow(clippy::disallowed_methods)] // ok: the tests need some instant as the origin

use std::time::Instant;

use proptest::prelude::*;
use zvon_base::Rng;
use zvon_core::{Config, Description, PeerConnection, SdpType, SignalingState};
use zvon_sdp::SessionDescription;

fn corpus() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/sdp");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("corpus")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("offer"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

fn pc(seed: u64) -> PeerConnection {
    let now = Instant::now();
    let mut pc = PeerConnection::new(Config::default(), Rng::from_seed_u64(seed), now).unwrap();
    pc.add_host_candidate("127.0.0.1:40000".parse().unwrap());
    pc
}

#[test]
fn every_browser_offer_in_the_corpus_gets_a_valid_answer() {
    let offers = corpus();
    assert!(offers.len() >= 10, "corpus present: {}", offers.len());
    let mut answered = 0;
    for (name, text) in offers {
        let offer = SessionDescription::parse(&text).unwrap();
        // Offers that are not for a fresh connection (ICE-lite SFU answers) are skipped by name.
        let now = Instant::now();
        let mut pc = pc(7);
        pc.set_remote_description(now, Description::offer(text.clone()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let answer = pc
            .create_answer(now)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(answer.kind, SdpType::Answer);
        let a = SessionDescription::parse(&answer.sdp)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}", answer.sdp));
        assert_eq!(a.media.len(), offer.media.len(), "{name}");
        let mut data_mid = None;
        for (o, m) in offer.media.iter().zip(&a.media) {
            assert_eq!(o.mid(), m.mid(), "{name}");
            assert_eq!(o.kind, m.kind, "{name}");
            if o.is_sctp() && !o.is_rejected() && data_mid.is_none() {
                assert_ne!(m.port, 0, "{name}: data accepted");
                assert_eq!(a.setup_of(m), Some(zvon_sdp::Setup::Active), "{name}");
                assert!(!a.fingerprints_of(m).is_empty(), "{name}");
                data_mid = m.mid().map(str::to_owned);
            } else {
                assert_eq!(m.port, 0, "{name}: {} rejected", o.kind.as_str());
            }
        }
        match data_mid {
            Some(mid) => assert_eq!(a.bundle_mids(), [mid], "{name}"),
            None => assert!(a.bundle_mids().is_empty(), "{name}"),
        }
        pc.set_local_description(now, answer)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(pc.signaling_state(), SignalingState::Stable);
        answered += 1;
    }
    assert!(answered >= 10);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// Any byte of a real offer changed, or the offer cut anywhere: a typed error or a valid
    /// answer, never a panic.
    #[test]
    fn mutated_offers_never_panic(pick in 0usize..64, at in any::<usize>(), byte in any::<u8>(), cut in any::<bool>()) {
        let offers = corpus();
        let (_, text) = &offers[pick % offers.len()];
        let mut bytes = text.clone().into_bytes();
        let i = at % bytes.len();
        if cut { bytes.truncate(i) } else { bytes[i] = byte }
        let Ok(s) = String::from_utf8(bytes) else { return Ok(()) };
        let now = Instant::now();
        let mut pc = pc(3);
        if pc.set_remote_description(now, Description::offer(s)).is_ok()
            && let Ok(answer) = pc.create_answer(now)
        {
            prop_assert!(SessionDescription::parse(&answer.sdp).is_ok());
            let _ = pc.set_local_description(now, answer);
        }
    }
}
