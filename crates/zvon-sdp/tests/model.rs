//! Building descriptions from scratch (what JSEP does), the getters, and bounded cost on
//! hostile sizes.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use zvon_sdp::{
    Attribute, Candidate, CandidateAddress, Codec, Connection, Direction, FORMAT_DATACHANNEL,
    Fingerprint, Group, HashFunction, MAX_FEEDBACK_PER_CODEC, MediaDescription, MediaKind, Msid,
    MsidSemantic, Origin, PROTO_RTP, PROTO_SCTP, ParseLimits, Rid, RidDirection,
    SessionDescription, Setup, Simulcast, SimulcastRid, Transport,
};

#[test]
fn jsep_offer_built_from_scratch() {
    let fp: Fingerprint = "sha-256 18:39:87:61:20:E0:B4:82:BD:25:2E:CA:34:7B:F1:FA:33:B5:71:2E:9F:10:21:52:7C:AD:13:84:49:2B:A3:47"
        .parse()
        .unwrap();
    assert_eq!(fp.hash, HashFunction::Sha256);
    let mut d = SessionDescription::new(Origin::new(3776337001568099189, 2));
    d.attributes.push(Attribute::Group(Group {
        semantics: "BUNDLE".into(),
        mids: vec!["0".into(), "1".into()],
    }));
    d.attributes.push(Attribute::ExtmapAllowMixed);
    d.attributes.push(Attribute::MsidSemantic(MsidSemantic {
        semantic: "WMS".into(),
        ids: vec!["s".into()],
    }));

    let mut audio = MediaDescription::new(MediaKind::Audio, 9, PROTO_RTP);
    audio
        .connections
        .push(Connection::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
    for a in [
        Attribute::IceUfrag("pyd/".into()),
        Attribute::IcePwd("7nPSVPx9/Qd2hKLC6ezGDIIp".into()),
        Attribute::IceOptions(vec!["trickle".into()]),
        Attribute::Fingerprint(fp.clone()),
        Attribute::Setup(Setup::Actpass),
        Attribute::Mid("0".into()),
        Attribute::Direction(Direction::SendOnly),
        Attribute::Msid(Msid {
            stream: "s".into(),
            track: Some("t".into()),
        }),
        Attribute::RtcpMux,
    ] {
        audio.attributes.push(a);
    }
    audio.add_codec(
        &Codec::new(111, "opus", 48000, Some(2))
            .with_feedback("transport-cc", None)
            .with_fmtp("minptime=10;useinbandfec=1"),
    );
    audio.add_codec(&Codec::new(0, "PCMU", 8000, None));
    audio
        .attributes
        .push(Attribute::Rid(Rid::new("a", RidDirection::Send)));
    audio.attributes.push(Attribute::Simulcast(Simulcast {
        send: vec![vec![SimulcastRid {
            id: "a".into(),
            paused: false,
        }]],
        recv: vec![],
    }));
    d.media.push(audio);

    let mut data = MediaDescription::new(MediaKind::Application, 9, PROTO_SCTP);
    data.formats.push(FORMAT_DATACHANNEL.into());
    data.connections
        .push(Connection::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
    data.attributes.push(Attribute::Mid("1".into()));
    let host = Candidate::host(
        "1",
        1,
        Transport::Udp,
        2122194687,
        CandidateAddress::Ip("192.0.2.2".parse().unwrap()),
        50000,
    );
    data.attributes.push(Attribute::Candidate(host));
    data.attributes.push(Attribute::SctpPort(5000));
    data.attributes.push(Attribute::MaxMessageSize(262144));
    d.media.push(data);

    let expected = "v=0\r\n\
o=- 3776337001568099189 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0 1\r\n\
a=extmap-allow-mixed\r\n\
a=msid-semantic: WMS s\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n\
c=IN IP4 0.0.0.0\r\n\
a=ice-ufrag:pyd/\r\n\
a=ice-pwd:7nPSVPx9/Qd2hKLC6ezGDIIp\r\n\
a=ice-options:trickle\r\n\
a=fingerprint:sha-256 18:39:87:61:20:E0:B4:82:BD:25:2E:CA:34:7B:F1:FA:33:B5:71:2E:9F:10:21:52:7C:AD:13:84:49:2B:A3:47\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=sendonly\r\n\
a=msid:s t\r\n\
a=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=rtcp-fb:111 transport-cc\r\n\
a=fmtp:111 minptime=10;useinbandfec=1\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rid:a send\r\n\
a=simulcast:send a\r\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
c=IN IP4 0.0.0.0\r\n\
a=mid:1\r\n\
a=candidate:1 1 udp 2122194687 192.0.2.2 50000 typ host\r\n\
a=sctp-port:5000\r\n\
a=max-message-size:262144\r\n";
    assert_eq!(d.to_string(), expected);
    let back = SessionDescription::parse(expected).unwrap();
    assert_eq!(back, d);
    assert_eq!(
        back.media_by_mid("1").unwrap().attributes.sctp_port(),
        Some(5000)
    );
    assert_eq!(
        back.fingerprints_of(&back.media[1]),
        Vec::<&Fingerprint>::new(),
        "data section has none of its own"
    );
    assert_eq!(fp.to_string().parse::<Fingerprint>().unwrap(), fp);
}

#[test]
fn attribute_list_editing() {
    let mut m = MediaDescription::new(MediaKind::Video, 9, PROTO_RTP);
    m.attributes.push(Attribute::Mid("v".into()));
    m.attributes.push(Attribute::Direction(Direction::SendRecv));
    m.attributes.push(Attribute::Unknown {
        name: "x-a".into(),
        value: Some("1".into()),
    });
    m.attributes.set(Attribute::Direction(Direction::Inactive));
    m.attributes.set(Attribute::Unknown {
        name: "x-a".into(),
        value: Some("2".into()),
    });
    m.attributes.set(Attribute::Unknown {
        name: "x-b".into(),
        value: None,
    });
    let names: Vec<_> = m.attributes.iter().map(|a| a.to_string()).collect();
    assert_eq!(names, ["mid:v", "inactive", "x-a:2", "x-b"]);
    m.attributes
        .retain(|a| !matches!(a, Attribute::Unknown { .. }));
    assert_eq!(m.attributes.len(), 2);
    assert_eq!(Direction::SendOnly.reverse(), Direction::RecvOnly);
    assert_eq!(Direction::Inactive.reverse(), Direction::Inactive);
    assert!(Direction::from_flags(true, true).sends());
    let d = SessionDescription::new(Origin::new(1, 1));
    assert_eq!(d.direction_of(&m), Direction::Inactive);
}

#[test]
fn codecs_follow_the_m_line_and_apply_wildcards() {
    let sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVPF 98 0 97 98 55\r\n\
               a=rtpmap:97 VP8/90000\r\na=rtpmap:98 VP9/90000\r\na=rtcp-fb:* nack\r\na=rtcp-fb:97 ccm fir\r\n\
               a=fmtp:98 profile-id=2\r\na=rtcp-fb:* nack\r\n";
    let d = SessionDescription::parse(sdp).unwrap();
    let codecs = d.media[0].codecs();
    // 55 has no rtpmap and is not static: skipped. 98 twice: once. PCMU from the static table.
    let pts: Vec<_> = codecs.iter().map(|c| (c.pt, c.encoding.as_str())).collect();
    assert_eq!(pts, [(98, "VP9"), (0, "PCMU"), (97, "VP8")]);
    let fb = |pt: u8| -> Vec<String> {
        d.media[0]
            .codec(pt)
            .unwrap()
            .feedback
            .iter()
            .map(|f| f.kind.clone() + f.param.as_deref().unwrap_or(""))
            .collect()
    };
    assert_eq!(
        fb(97),
        ["nack", "ccmfir"],
        "wildcard applies, duplicates once"
    );
    assert_eq!(fb(98), ["nack"]);
    assert_eq!(
        d.media[0]
            .codec(98)
            .unwrap()
            .fmtp()
            .unwrap()
            .get("PROFILE-ID"),
        Some("2")
    );
    assert!(d.media[0].codec(55).is_none());
}

/// Hostile sizes within the limits cost linear time, and getters stay bounded.
#[test]
#[allow(clippy::disallowed_methods)] // a generous wall-clock bound is the point of this test
fn hostile_sizes_are_cheap() {
    let mut sdp =
        String::from("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVPF");
    for i in 0..100_000 {
        sdp.push_str(if i % 2 == 0 { " 96" } else { " 97" });
    }
    sdp.push_str("\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\n");
    let mut i = 0;
    while sdp.len() < 900_000 {
        sdp.push_str(&format!("a=rtcp-fb:* x{i}\r\na=ssrc:{i} cname:c\r\n"));
        i += 1;
    }
    let limits = ParseLimits {
        max_bytes: 1 << 20,
        max_lines: 100_000,
    };
    let start = std::time::Instant::now();
    let d = SessionDescription::parse_with_limits(&sdp, limits).unwrap();
    let codecs = d.media[0].codecs();
    let ssrcs = d.media[0].attributes.ssrc_ids();
    let back = SessionDescription::parse_with_limits(&d.to_string(), limits).unwrap();
    let took = start.elapsed();
    assert_eq!(codecs.len(), 2);
    assert!(
        codecs
            .iter()
            .all(|c| c.feedback.len() == MAX_FEEDBACK_PER_CODEC)
    );
    assert_eq!(ssrcs.len(), i);
    assert_eq!(back, d);
    assert!(took < Duration::from_secs(5), "took {took:?}");
}
