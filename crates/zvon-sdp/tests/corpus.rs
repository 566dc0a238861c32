//! Every session description in `tests/data/sdp/` (real browser and server output) parses,
//! survives a write and re-parse unchanged, and carries the facts checked for it below. A file
//! added to the directory becomes a case by itself (the generic checks apply to it).

use std::collections::BTreeMap;
use std::fs;
use std::net::IpAddr;
use std::path::PathBuf;

use zvon_sdp::{
    Attribute, CandidateAddress, CandidateType, Direction, HashFunction, MediaDescription,
    MediaKind, RidDirection, SessionDescription, Setup, TcpType, Transport,
};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/sdp")
}

fn corpus() -> BTreeMap<String, String> {
    fs::read_dir(corpus_dir())
        .expect("corpus directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sdp"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read_to_string(&p).expect("read"))
        })
        .collect()
}

fn parse(name: &str, text: &str) -> SessionDescription {
    SessionDescription::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The lines of `written` that differ from the original (line ends and trailing spaces aside).
fn changed_lines<'a>(original: &'a str, written: &'a str) -> Vec<(&'a str, &'a str)> {
    let orig: Vec<&str> = original
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    let new: Vec<&str> = written.lines().collect();
    assert_eq!(orig.len(), new.len(), "line count changed");
    orig.into_iter().zip(new).filter(|(a, b)| a != b).collect()
}

#[test]
fn whole_corpus_round_trips() {
    let files = corpus();
    assert!(files.len() >= 25, "corpus has only {} files", files.len());
    let mut identical = Vec::new();
    for (name, text) in &files {
        let parsed = parse(name, text);
        let written = parsed.to_string();
        let reparsed = parse(name, &written);
        assert_eq!(
            reparsed, parsed,
            "{name}: parse(write(parse(x))) != parse(x)"
        );
        assert_eq!(
            reparsed.to_string(),
            written,
            "{name}: writing is not stable"
        );
        assert!(
            written.ends_with("\r\n") && !written.replace("\r\n", "").contains('\n'),
            "{name}: not CRLF"
        );

        let changed = changed_lines(text, &written);
        if written == *text {
            identical.push(name.as_str());
        }
        // What the writer may change, per source: nothing for Chromium, CRLF for the LF files,
        // two spellings for Firefox, trailing spaces (already ignored above) for str0m and the
        // mediasoup-shaped answer.
        if name.starts_with("chromium") || name.ends_with("-offer-chromium.sdp") {
            assert_eq!(
                written, *text,
                "{name}: Chromium output must come back byte for byte"
            );
        } else if name.starts_with("firefox") {
            for (orig, new) in &changed {
                let spelling = (*orig == "a=msid-semantic:WMS *"
                    && *new == "a=msid-semantic: WMS *")
                    || (orig.starts_with("a=candidate:") && orig.eq_ignore_ascii_case(new));
                assert!(spelling, "{name}: unexpected rewrite {orig:?} -> {new:?}");
            }
        } else {
            assert!(changed.is_empty(), "{name}: rewritten lines {changed:?}");
        }
        generic_checks(name, &parsed);
    }
    println!(
        "byte-identical after write: {} of {}: {identical:?}",
        identical.len(),
        files.len()
    );
}

/// What holds for every WebRTC description in the corpus.
fn generic_checks(name: &str, d: &SessionDescription) {
    assert!(!d.media.is_empty(), "{name}: no media");
    let mids: Vec<&str> = d
        .media
        .iter()
        .map(|m| {
            m.mid()
                .unwrap_or_else(|| panic!("{name}: section without mid"))
        })
        .collect();
    for mid in d.bundle_mids() {
        assert!(
            mids.contains(&mid.as_str()),
            "{name}: BUNDLE names unknown mid {mid}"
        );
    }
    for m in d.media.iter().filter(|m| !m.is_rejected()) {
        let mid = m.mid().unwrap();
        assert!(
            d.ice_credentials_of(m).is_some(),
            "{name}/{mid}: no ICE credentials"
        );
        let fps = d.fingerprints_of(m);
        assert!(!fps.is_empty(), "{name}/{mid}: no fingerprint");
        for fp in fps {
            assert_eq!(
                Some(fp.bytes.len()),
                fp.hash.digest_len(),
                "{name}/{mid}: fingerprint length"
            );
        }
        assert!(d.setup_of(m).is_some(), "{name}/{mid}: no setup");
        if m.is_rtp() {
            assert!(
                !m.codecs().is_empty(),
                "{name}/{mid}: RTP section without codecs"
            );
            assert!(m.attributes.rtcp_mux(), "{name}/{mid}: no rtcp-mux");
        } else {
            assert!(m.is_sctp(), "{name}/{mid}: neither RTP nor SCTP");
            assert_eq!(
                m.attributes.sctp_port(),
                Some(5000),
                "{name}/{mid}: sctp-port"
            );
        }
    }
}

fn kinds(d: &SessionDescription) -> Vec<MediaKind> {
    d.media.iter().map(|m| m.kind.clone()).collect()
}

fn codec_named(m: &MediaDescription, enc: &str) -> Vec<zvon_sdp::Codec> {
    m.codecs()
        .into_iter()
        .filter(|c| c.encoding.eq_ignore_ascii_case(enc))
        .collect()
}

#[test]
fn chromium_offer_audio_video_data() {
    let files = corpus();
    let d = parse("", &files["chromium156-offer-audio-video-data.sdp"]);
    assert_eq!(
        kinds(&d),
        [MediaKind::Audio, MediaKind::Video, MediaKind::Application]
    );
    assert_eq!(d.bundle_mids(), ["0", "1", "2"]);
    assert!(d.attributes.extmap_allow_mixed());
    assert_eq!(d.attributes.msid_semantic().unwrap().ids.len(), 1);
    let (audio, video, data) = (&d.media[0], &d.media[1], &d.media[2]);

    let opus = audio.codec(111).unwrap();
    assert_eq!(
        (opus.encoding.as_str(), opus.clock_rate, opus.channels),
        ("opus", 48000, Some(2))
    );
    let fmtp = opus.fmtp().unwrap();
    assert_eq!(fmtp.params, "minptime=10;useinbandfec=1");
    assert_eq!(
        (fmtp.get("minptime"), fmtp.get("useinbandfec")),
        (Some("10"), Some("1"))
    );
    assert_eq!(
        opus.feedback
            .iter()
            .map(|f| f.kind.as_str())
            .collect::<Vec<_>>(),
        ["transport-cc"]
    );
    assert_eq!(
        audio.payload_types().collect::<Vec<_>>(),
        [111, 63, 9, 0, 8, 13, 110, 126]
    );
    assert_eq!(
        audio
            .attributes
            .fmtp(63)
            .unwrap()
            .pairs()
            .collect::<Vec<_>>(),
        [("111/111", None)]
    );

    let fp: Vec<_> = audio.attributes.fingerprints().collect();
    assert_eq!(fp.len(), 1);
    assert_eq!(fp[0].hash, HashFunction::Sha256);
    assert_eq!(fp[0].bytes.len(), 32);
    assert_eq!(&fp[0].bytes[..3], &[0x18, 0x39, 0x87]);
    assert_eq!(audio.attributes.setup(), Some(Setup::Actpass));
    assert_eq!(
        audio.attributes.ice_options().collect::<Vec<_>>(),
        ["trickle"]
    );
    assert_eq!(
        d.ice_credentials_of(audio),
        Some(("pyd/", "7nPSVPx9/Qd2hKLC6ezGDIIp"))
    );
    assert!(audio.attributes.rtcp_rsize());
    assert_eq!(
        audio.attributes.unknown("rtcp-xr").collect::<Vec<_>>(),
        [Some("rcvr-rtt=all")]
    );
    let rtcp = audio.attributes.iter().find_map(|a| match a {
        Attribute::Rtcp(r) => Some(r),
        _ => None,
    });
    assert_eq!(rtcp.unwrap().port, 9);

    assert_eq!(codec_named(video, "H264").len(), 6);
    let vp8 = video.codec(96).unwrap();
    assert_eq!(vp8.encoding, "VP8");
    let fb: Vec<String> = vp8
        .feedback
        .iter()
        .map(|f| format!("{} {}", f.kind, f.param.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        fb,
        [
            "goog-remb ",
            "transport-cc ",
            "ccm fir",
            "nack ",
            "nack pli"
        ]
    );
    let rtx = video.codec(97).unwrap();
    assert!(rtx.is_rtx());
    assert_eq!(rtx.fmtp().unwrap().get("apt"), Some("96"));
    let mid_ext = video
        .attributes
        .extmaps()
        .find(|e| e.uri == "urn:ietf:params:rtp-hdrext:sdes:mid")
        .unwrap();
    assert_eq!((mid_ext.id, mid_ext.direction), (4, None));
    let fid = video.attributes.ssrc_groups().next().unwrap();
    assert_eq!(fid.semantics, "FID");
    assert_eq!(fid.ssrcs.len(), 2);
    assert!(
        video
            .attributes
            .ssrc_attribute(fid.ssrcs[0], "cname")
            .is_some()
    );
    assert_eq!(video.attributes.msids().count(), 1);

    assert_eq!(data.formats, ["webrtc-datachannel"]);
    assert_eq!(data.attributes.sctp_port(), Some(5000));
    assert_eq!(data.attributes.max_message_size(), Some(262144));
    assert_eq!(d.direction_of(audio), Direction::SendRecv);
}

#[test]
fn chromium_simulcast_offer() {
    let files = corpus();
    let d = parse("", &files["chromium156-offer-simulcast.sdp"]);
    let video = &d.media[0];
    assert_eq!(video.direction(), Some(Direction::SendOnly));
    let rids: Vec<_> = video
        .attributes
        .rids()
        .map(|r| (r.id.as_str(), r.direction))
        .collect();
    assert_eq!(
        rids,
        [
            ("q", RidDirection::Send),
            ("h", RidDirection::Send),
            ("f", RidDirection::Send)
        ]
    );
    let sc = video.attributes.simulcast().unwrap();
    let send: Vec<Vec<&str>> = sc
        .send
        .iter()
        .map(|alts| alts.iter().map(|r| r.id.as_str()).collect())
        .collect();
    assert_eq!(send, [["q"], ["h"], ["f"]]);
    assert!(sc.recv.is_empty());
    assert!(sc.send.iter().flatten().all(|r| !r.paused));
    // Chromium as answerer does not take simulcast.
    let answer = parse("", &files["chromium156-answer-to-simulcast-offer.sdp"]);
    assert!(answer.media[0].attributes.simulcast().is_none());
    assert_eq!(answer.media[0].direction(), Some(Direction::RecvOnly));
}

#[test]
fn chromium_ice_restart_changes_credentials_only() {
    let files = corpus();
    let before = parse("", &files["chromium156-offer-before-ice-restart.sdp"]);
    let after = parse("", &files["chromium156-offer-ice-restart.sdp"]);
    assert_eq!(before.media.len(), after.media.len());
    for (b, a) in before.media.iter().zip(&after.media) {
        assert_eq!(b.mid(), a.mid());
        assert_ne!(b.attributes.ice_ufrag(), a.attributes.ice_ufrag());
        assert_ne!(b.attributes.ice_pwd(), a.attributes.ice_pwd());
        assert_eq!(before.fingerprints_of(b), after.fingerprints_of(a));
    }
    // Bundled: the candidates are in the first section; the restart's are generation 1.
    let gens = |d: &SessionDescription| -> Vec<String> {
        d.media[0]
            .attributes
            .candidates()
            .map(|c| c.extension("generation").unwrap().to_owned())
            .collect()
    };
    assert!(gens(&before).iter().all(|g| g == "0") && !gens(&before).is_empty());
    assert!(gens(&after).iter().all(|g| g == "1") && !gens(&after).is_empty());
    assert_ne!(
        before.media[0].port, after.media[0].port,
        "new default candidate"
    );
    assert_eq!(before.origin.session_id, after.origin.session_id);
    assert!(after.origin.session_version > before.origin.session_version);
}

#[test]
fn chromium_renegotiation_and_rejection() {
    let files = corpus();
    let add_audio = parse("", &files["chromium156-reneg-offer-add-audio.sdp"]);
    assert_eq!(
        kinds(&add_audio),
        [MediaKind::Application, MediaKind::Audio]
    );
    let add_video = parse("", &files["chromium156-reneg-offer-add-video.sdp"]);
    assert_eq!(
        kinds(&add_video),
        [MediaKind::Application, MediaKind::Audio, MediaKind::Video]
    );
    assert!(add_video.origin.session_version > add_audio.origin.session_version);
    let stop = parse("", &files["chromium156-reneg-offer-stop-audio.sdp"]);
    let audio = &stop.media[1];
    assert_eq!(audio.port, 0);
    assert!(audio.is_rejected());
    assert_eq!(audio.direction(), Some(Direction::Inactive));
    assert!(
        !stop
            .bundle_mids()
            .iter()
            .any(|m| Some(m.as_str()) == audio.mid())
    );
    let answer = parse("", &files["chromium156-reneg-answer-stop-audio.sdp"]);
    assert!(answer.media[1].is_rejected());
}

#[test]
fn chromium_answer_directions() {
    let files = corpus();
    let d = parse("", &files["chromium156-answer-recvonly-inactive.sdp"]);
    let dirs: Vec<_> = d.media.iter().map(|m| m.direction()).collect();
    assert_eq!(
        dirs,
        [
            Some(Direction::RecvOnly),
            Some(Direction::Inactive),
            Some(Direction::Inactive),
            None
        ]
    );
    assert!(
        d.media
            .iter()
            .all(|m| m.attributes.setup() == Some(Setup::Active))
    );
    let av = parse("", &files["chromium156-answer-audio-video-data.sdp"]);
    assert_eq!(
        kinds(&av),
        [MediaKind::Audio, MediaKind::Video, MediaKind::Application]
    );
    assert_eq!(av.media[0].direction(), Some(Direction::SendRecv));
    assert_eq!(av.media[0].attributes.setup(), Some(Setup::Active));
}

#[test]
fn chromium_gathered_candidates() {
    let files = corpus();
    let raw = parse("", &files["chromium156-offer-gathered-raw-ip.sdp"]);
    let cands: Vec<_> = raw.media[0].attributes.candidates().collect();
    let v4: IpAddr = "192.0.2.2".parse().unwrap();
    let v6: IpAddr = "fd00::2".parse().unwrap();
    assert!(
        cands
            .iter()
            .any(|c| c.address == CandidateAddress::Ip(v4) && c.transport == Transport::Udp)
    );
    assert!(cands.iter().any(|c| c.address == CandidateAddress::Ip(v6)));
    let tcp = cands
        .iter()
        .find(|c| c.transport == Transport::Tcp)
        .unwrap();
    assert_eq!((tcp.port, tcp.tcp_type), (9, Some(TcpType::Active)));
    let relay = cands
        .iter()
        .find(|c| c.kind == CandidateType::Relay)
        .unwrap();
    assert_eq!(relay.related_address, Some(CandidateAddress::Ip(v4)));
    assert!(relay.related_port.is_some());
    assert!(
        cands
            .iter()
            .all(|c| c.extension("generation") == Some("0") && c.extension("network-id").is_some())
    );
    assert!(raw.media[0].port != 9, "m= port is the default candidate's");

    let mdns = parse("", &files["chromium156-offer-gathered-mdns.sdp"]);
    let cands: Vec<_> = mdns.media[0].attributes.candidates().collect();
    let hosts: Vec<_> = cands
        .iter()
        .filter(|c| c.kind == CandidateType::Host)
        .collect();
    assert!(!hosts.is_empty());
    assert!(
        hosts
            .iter()
            .all(|c| c.address.is_mdns() && c.address.ip().is_none())
    );
    let srflx = cands
        .iter()
        .find(|c| c.kind == CandidateType::Srflx)
        .unwrap();
    assert_eq!(
        srflx.related_address,
        Some(CandidateAddress::Ip("0.0.0.0".parse().unwrap()))
    );
    assert_eq!(srflx.related_port, Some(0));
    assert!(cands.iter().any(|c| c.kind == CandidateType::Relay));
}

#[test]
fn firefox_descriptions() {
    let files = corpus();
    let d = parse("", &files["firefox153-offer-audio-video-data.sdp"]);
    assert!(d.origin.username.starts_with("mozilla"));
    assert_eq!(
        d.attributes.fingerprints().count(),
        1,
        "Firefox puts the fingerprint at session level"
    );
    assert_eq!(d.media[0].attributes.fingerprints().count(), 0);
    assert_eq!(d.fingerprints_of(&d.media[0]).len(), 1);
    let ms = d.attributes.msid_semantic().unwrap();
    assert_eq!(
        (ms.semantic.as_str(), ms.ids.as_slice()),
        ("WMS", &["*".to_string()][..])
    );
    let audio = &d.media[0];
    let g722 = audio.codec(9).unwrap();
    assert_eq!((g722.clock_rate, g722.channels), (8000, Some(1)));
    assert_eq!(
        audio
            .attributes
            .fmtp(101)
            .unwrap()
            .pairs()
            .collect::<Vec<_>>(),
        [("0-15", None)]
    );
    let csrc = audio.attributes.extmaps().find(|e| e.id == 2).unwrap();
    assert_eq!(csrc.direction, Some(Direction::RecvOnly));
    let msid = audio.attributes.msids().next().unwrap();
    assert!(msid.stream.starts_with('{') && msid.track.as_deref().unwrap().ends_with('}'));
    assert_eq!(d.media[2].attributes.max_message_size(), Some(1073741823));

    let reneg = parse("", &files["firefox-reneg-offer-add-video.sdp"]);
    assert_eq!(
        reneg.attributes.direction(),
        Some(Direction::SendRecv),
        "session-level sendrecv"
    );
    let app = &reneg.media[0];
    assert!(app.attributes.end_of_candidates());
    let cands: Vec<_> = app.attributes.candidates().collect();
    assert_eq!(cands.len(), 4);
    assert_eq!(
        cands[0].transport,
        Transport::Udp,
        "UDP read case-insensitively"
    );
    assert_eq!(
        cands[1].address,
        CandidateAddress::Ip("::1".parse().unwrap())
    );
    assert_eq!(
        (cands[2].transport.clone(), cands[2].tcp_type),
        (Transport::Tcp, Some(TcpType::Active))
    );
    assert_eq!(app.connections[0].ip(), Some("127.0.0.1".parse().unwrap()));

    let answer = parse("", &files["firefox-answer-to-chromium.sdp"]);
    assert!(
        answer
            .media
            .iter()
            .all(|m| m.attributes.setup() == Some(Setup::Active))
    );
    assert_eq!(answer.media[0].direction(), Some(Direction::RecvOnly));
}

#[test]
fn ice_lite_sfu_answer() {
    let files = corpus();
    let d = parse("", &files["mediasoup-answer-ice-lite-simulcast.sdp"]);
    assert!(d.ice_lite());
    let fp = d.attributes.fingerprints().next().unwrap();
    assert_eq!(
        (fp.hash.clone(), fp.bytes.len()),
        (HashFunction::Sha224, 28)
    );
    let v = &d.media[0];
    assert_eq!(v.port, 7);
    assert_eq!(v.attributes.setup(), Some(Setup::Passive));
    assert_eq!(
        v.attributes.ice_options().collect::<Vec<_>>(),
        ["renomination"]
    );
    let sc = v.attributes.simulcast().unwrap();
    assert!(sc.send.is_empty());
    assert_eq!(
        sc.recv.iter().map(|a| a[0].id.as_str()).collect::<Vec<_>>(),
        ["r0", "r1", "r2"]
    );
    assert!(
        v.attributes
            .rids()
            .all(|r| r.direction == RidDirection::Recv && r.restrictions.is_empty())
    );
    let tcc = v.codec(96).unwrap().feedback;
    assert_eq!(
        (tcc[0].kind.as_str(), tcc[0].param.as_deref()),
        ("transport-cc", None),
        "trailing space dropped"
    );
    let tcp = v
        .attributes
        .candidates()
        .find(|c| c.transport == Transport::Tcp)
        .unwrap();
    assert_eq!(
        (tcp.foundation.as_str(), tcp.tcp_type),
        ("tcpcandidate", Some(TcpType::Passive))
    );
    assert!(v.attributes.end_of_candidates());
}

#[test]
fn safari_offers() {
    let files = corpus();
    let mac = parse("", &files["safari-mac-offer-video-audio-data.sdp"]);
    assert_eq!(
        kinds(&mac),
        [MediaKind::Video, MediaKind::Audio, MediaKind::Application]
    );
    let video = &mac.media[0];
    assert_eq!(video.direction(), Some(Direction::RecvOnly));
    let h264 = codec_named(video, "H264");
    let profiles: Vec<_> = h264
        .iter()
        .map(|c| {
            c.fmtp()
                .unwrap()
                .get("profile-level-id")
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(profiles, ["640c1f", "42e01f"]);
    let audio = &mac.media[1];
    assert_eq!(audio.attributes.msids().next().unwrap().stream, "-");
    assert_eq!(
        audio.attributes.ssrc_attribute(2805193976, "mslabel"),
        Some("-")
    );
    assert!(mac.attributes.msid_semantic().unwrap().ids.is_empty());

    let s18 = parse("", &files["safari18-offer-two-streams.sdp"]);
    assert_eq!(
        kinds(&s18),
        [
            MediaKind::Video,
            MediaKind::Audio,
            MediaKind::Video,
            MediaKind::Audio
        ]
    );
    assert_eq!(s18.bundle_mids().len(), 4);
    let v = &s18.media[0];
    assert_eq!(v.codec(104).unwrap().encoding, "H265");
    assert!(codec_named(v, "AV1").is_empty());
    let vp9: Vec<_> = codec_named(v, "VP9")
        .iter()
        .map(|c| c.fmtp().unwrap().get("profile-id").unwrap().to_owned())
        .collect();
    assert_eq!(vp9, ["0", "2"]);
    let streams: Vec<_> = s18
        .media
        .iter()
        .map(|m| m.attributes.msids().next().unwrap().stream.clone())
        .collect();
    assert_eq!(streams[0], streams[1]);
    assert_ne!(streams[1], streams[2]);
}

#[test]
fn str0m_and_capture_descriptions() {
    let files = corpus();
    let answer = parse("", &files["dtls12-answer-str0m.sdp"]);
    assert!(
        answer.attributes.msid_semantic().unwrap().ids.is_empty(),
        "trailing space is no id"
    );
    let m = &answer.media[0];
    assert_eq!(m.attributes.setup(), Some(Setup::Passive));
    let c = m.attributes.candidates().next().unwrap();
    assert_eq!(c.ufrag(), m.attributes.ice_ufrag());
    assert_eq!(c.foundation, "fffeff7e32c583ef85edbb1a");
    let offer = parse("", &files["dtls12-offer-chromium.sdp"]);
    let c = offer.media[0].attributes.candidates().next().unwrap();
    assert_eq!(c.extension("network-id"), Some("1"));
    for name in [
        "firefox-offer-dc-only.sdp",
        "chromium-answer-dc-only.sdp",
        "chromium156-offer-datachannel.sdp",
    ] {
        let d = parse(name, &files[name]);
        assert_eq!(kinds(&d), [MediaKind::Application], "{name}");
    }
}

#[test]
fn trickled_candidates_parse_and_round_trip() {
    let dir = corpus_dir().join("candidates");
    let mut n = 0;
    for entry in fs::read_dir(&dir).expect("candidates dir") {
        let path = entry.unwrap().path();
        for line in fs::read_to_string(&path)
            .unwrap()
            .lines()
            .filter(|l| !l.is_empty())
        {
            // {"candidate":"candidate:...","sdpMid":"0",...}: the JSON needs no parser here, the
            // candidate string has no escaped characters.
            let start = line.find("\"candidate\":\"").unwrap() + 13;
            let text = &line[start..start + line[start..].find('"').unwrap()];
            let c: zvon_sdp::Candidate = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                c.to_string(),
                text,
                "trickle form written back byte for byte"
            );
            assert!(c.ufrag().is_some(), "trickled candidates carry their ufrag");
            n += 1;
        }
    }
    assert!(n >= 10, "only {n} trickled candidates");
}
