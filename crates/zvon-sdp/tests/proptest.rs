//! Property tests: any valid typed description survives write -> parse unchanged; candidates
//! likewise in their trickle form; and no input, however broken, makes the parser panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use zvon_sdp::{
    Attribute, Bandwidth, BandwidthType, Candidate, CandidateAddress, CandidateType, Connection,
    Direction, Extmap, Fingerprint, Fmtp, Group, HashFunction, MediaDescription, MediaKind, Msid,
    MsidSemantic, Origin, Rid, RidDirection, Rtcp, RtcpFb, Rtpmap, SctpMap, SessionDescription,
    Setup, Simulcast, SimulcastRid, Ssrc, SsrcGroup, TcpType, Timing, Transport,
};

/// A token: no spaces, none of the separators the grammar splits on.
fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9+/_.{}*#!-]{1,10}"
}

/// A rid or other identifier: alphanumerics, `-` and `_`.
fn ident() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,8}"
}

/// Free text for values kept as written: any printable characters (Unicode too), spaces inside,
/// but not at the end (the parser drops trailing whitespace).
fn text() -> impl Strategy<Value = String> {
    "\\PC{0,16}".prop_map(|s| s.trim_end_matches([' ', '\t']).to_owned())
}

/// Free text that is not empty and has no leading or trailing space.
fn trimmed_text() -> impl Strategy<Value = String> {
    "\\PC{1,16}"
        .prop_map(|s| s.trim_matches(' ').to_owned())
        .prop_filter("empty", |s| !s.is_empty())
}

fn pt() -> impl Strategy<Value = u8> {
    0u8..=127
}

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![
        Just(Direction::SendRecv),
        Just(Direction::SendOnly),
        Just(Direction::RecvOnly),
        Just(Direction::Inactive)
    ]
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        any::<[u8; 16]>().prop_map(|b| IpAddr::V6(Ipv6Addr::from(b))),
    ]
}

fn candidate_address() -> impl Strategy<Value = CandidateAddress> {
    prop_oneof![
        ip().prop_map(CandidateAddress::Ip),
        "[a-z0-9-]{1,12}(\\.local)?"
            .prop_filter("an IP", |s| s.parse::<IpAddr>().is_err())
            .prop_map(CandidateAddress::Fqdn),
    ]
}

prop_compose! {
    fn candidate()(
        foundation in "[A-Za-z0-9+/]{1,32}",
        component in 1u16..=256,
        transport in prop_oneof![
            Just(Transport::Udp),
            Just(Transport::Tcp),
            "[a-z]{2,6}".prop_filter("udp/tcp", |s| s != "udp" && s != "tcp").prop_map(Transport::Other),
        ],
        priority in any::<u32>(),
        address in candidate_address(),
        port in any::<u16>(),
        kind in prop_oneof![
            Just(CandidateType::Host),
            Just(CandidateType::Srflx),
            Just(CandidateType::Prflx),
            Just(CandidateType::Relay),
            "[a-z]{2,6}"
                .prop_filter("known", |s| !["host", "srflx", "prflx", "relay"].contains(&s.as_str()))
                .prop_map(CandidateType::Other),
        ],
        related_address in option::of(candidate_address()),
        related_port in option::of(any::<u16>()),
        tcp_type in option::of(prop_oneof![Just(TcpType::Active), Just(TcpType::Passive), Just(TcpType::So)]),
        extensions in vec(
            ("[a-z-]{1,10}".prop_filter("typed", |n| !["raddr", "rport", "tcptype"].contains(&n.as_str())), token()),
            0..4,
        ),
    ) -> Candidate {
        Candidate {
            foundation, component, transport, priority, address, port, kind,
            related_address, related_port, tcp_type, extensions,
        }
    }
}

fn fingerprint() -> impl Strategy<Value = Fingerprint> {
    let known = prop_oneof![
        Just(HashFunction::Sha1),
        Just(HashFunction::Sha224),
        Just(HashFunction::Sha256),
        Just(HashFunction::Sha384),
        Just(HashFunction::Sha512),
        Just(HashFunction::Md5),
        Just(HashFunction::Md2),
    ]
    .prop_flat_map(|h| {
        let len = h.digest_len().unwrap_or(1);
        vec(any::<u8>(), len).prop_map(move |bytes| Fingerprint {
            hash: h.clone(),
            bytes,
        })
    });
    let other =
        ("x-[a-z0-9]{1,6}", vec(any::<u8>(), 1..40)).prop_map(|(name, bytes)| Fingerprint {
            hash: HashFunction::Other(name),
            bytes,
        });
    prop_oneof![4 => known, 1 => other]
}

fn simulcast_list() -> impl Strategy<Value = Vec<Vec<SimulcastRid>>> {
    vec(
        vec(
            (ident(), any::<bool>()).prop_map(|(id, paused)| SimulcastRid { id, paused }),
            1..3,
        ),
        0..4,
    )
}

fn connection() -> impl Strategy<Value = Connection> {
    prop_oneof![
        ip().prop_map(Connection::new),
        (token(), token(), token()).prop_map(|(network_type, address_type, address)| Connection {
            network_type,
            address_type,
            address
        }),
    ]
}

fn unknown_name() -> impl Strategy<Value = String> {
    // Names that parse as an unknown attribute whatever the value; known ones are filtered out
    // by asking the parser.
    "[a-z][a-z0-9-]{0,14}".prop_filter("a known attribute", |n| {
        matches!(
            Attribute::parse(&format!("{n}:x")),
            Ok(Attribute::Unknown { .. })
        ) && matches!(Attribute::parse(n), Ok(Attribute::Unknown { .. }))
    })
}

fn attribute() -> impl Strategy<Value = Attribute> {
    prop_oneof![
        (token(), vec(token(), 0..4))
            .prop_map(|(semantics, mids)| Attribute::Group(Group { semantics, mids })),
        token().prop_map(Attribute::Mid),
        Just(Attribute::BundleOnly),
        token().prop_map(Attribute::IceUfrag),
        token().prop_map(Attribute::IcePwd),
        vec(token(), 1..3).prop_map(Attribute::IceOptions),
        Just(Attribute::IceLite),
        candidate().prop_map(Attribute::Candidate),
        Just(Attribute::EndOfCandidates),
        fingerprint().prop_map(Attribute::Fingerprint),
        prop_oneof![
            Just(Setup::Active),
            Just(Setup::Passive),
            Just(Setup::Actpass),
            Just(Setup::Holdconn)
        ]
        .prop_map(Attribute::Setup),
        direction().prop_map(Attribute::Direction),
        (
            pt(),
            "[A-Za-z0-9.+_-]{1,10}",
            any::<u32>(),
            option::of(any::<u16>())
        )
            .prop_map(
                |(pt, encoding, clock_rate, channels)| Attribute::Rtpmap(Rtpmap {
                    pt,
                    encoding,
                    clock_rate,
                    channels
                })
            ),
        (pt(), prop_oneof![Just(String::new()), trimmed_text()])
            .prop_map(|(pt, params)| Attribute::Fmtp(Fmtp { pt, params })),
        (option::of(pt()), token(), option::of(trimmed_text()))
            .prop_map(|(pt, kind, param)| Attribute::RtcpFb(RtcpFb { pt, kind, param })),
        (
            any::<u16>(),
            option::of(direction()),
            token(),
            option::of(trimmed_text())
        )
            .prop_map(
                |(id, direction, uri, attributes)| Attribute::Extmap(Extmap {
                    id,
                    direction,
                    uri,
                    attributes
                })
            ),
        Just(Attribute::ExtmapAllowMixed),
        (any::<u32>(), "[A-Za-z0-9_-]{1,8}", option::of(text())).prop_map(
            |(ssrc, attribute, value)| Attribute::Ssrc(Ssrc {
                ssrc,
                attribute,
                value
            })
        ),
        (token(), vec(any::<u32>(), 0..4))
            .prop_map(|(semantics, ssrcs)| Attribute::SsrcGroup(SsrcGroup { semantics, ssrcs })),
        (token(), option::of(trimmed_text()))
            .prop_map(|(stream, track)| Attribute::Msid(Msid { stream, track })),
        (token(), vec(token(), 0..3))
            .prop_map(|(semantic, ids)| Attribute::MsidSemantic(MsidSemantic { semantic, ids })),
        (
            ident(),
            prop_oneof![Just(RidDirection::Send), Just(RidDirection::Recv)],
            vec(pt(), 0..4),
            vec(
                (
                    "[a-z-]{1,10}".prop_filter("pt", |k| k != "pt"),
                    option::of("[A-Za-z0-9,.-]{0,6}")
                ),
                0..3
            ),
        )
            .prop_map(|(id, direction, payload_types, restrictions)| {
                Attribute::Rid(Rid {
                    id,
                    direction,
                    payload_types,
                    restrictions,
                })
            }),
        (simulcast_list(), simulcast_list())
            .prop_filter("no streams", |(s, r)| !s.is_empty() || !r.is_empty())
            .prop_map(|(send, recv)| Attribute::Simulcast(Simulcast { send, recv })),
        any::<u16>().prop_map(Attribute::SctpPort),
        any::<u64>().prop_map(Attribute::MaxMessageSize),
        (any::<u16>(), token(), option::of(any::<u32>())).prop_map(|(port, protocol, streams)| {
            Attribute::SctpMap(SctpMap {
                port,
                protocol,
                streams,
            })
        }),
        Just(Attribute::RtcpMux),
        Just(Attribute::RtcpMuxOnly),
        Just(Attribute::RtcpRsize),
        (any::<u16>(), option::of(connection()))
            .prop_map(|(port, connection)| Attribute::Rtcp(Rtcp { port, connection })),
        any::<u32>().prop_map(Attribute::Ptime),
        any::<u32>().prop_map(Attribute::MaxPtime),
        "[0-9]{1,3}(\\.[0-9]{1,2})?".prop_map(Attribute::Framerate),
        (unknown_name(), option::of(text()))
            .prop_map(|(name, value)| Attribute::Unknown { name, value }),
    ]
}

fn bandwidth() -> impl Strategy<Value = Bandwidth> {
    let kind = prop_oneof![
        Just(BandwidthType::As),
        Just(BandwidthType::Ct),
        Just(BandwidthType::Tias),
        Just(BandwidthType::Rr),
        Just(BandwidthType::Rs),
        "X-[A-Za-z]{1,5}".prop_map(BandwidthType::Other),
    ];
    (kind, any::<u64>()).prop_map(|(kind, value)| Bandwidth { kind, value })
}

prop_compose! {
    fn media()(
        kind in prop_oneof![
            Just(MediaKind::Audio),
            Just(MediaKind::Video),
            Just(MediaKind::Application),
            Just(MediaKind::Text),
            Just(MediaKind::Message),
            "x[a-z]{1,6}".prop_map(MediaKind::Other),
        ],
        port in any::<u16>(),
        port_count in option::of(any::<u16>()),
        protocol in token(),
        formats in vec(token(), 0..5),
        title in option::of(text()),
        connections in vec(connection(), 0..2),
        bandwidths in vec(bandwidth(), 0..2),
        key in option::of(text()),
        attributes in vec(attribute(), 0..10),
    ) -> MediaDescription {
        let mut m = MediaDescription::new(kind, port, protocol);
        m.port_count = port_count;
        m.formats = formats;
        m.title = title;
        m.connections = connections;
        m.bandwidths = bandwidths;
        m.key = key;
        m.attributes = attributes.into();
        m
    }
}

prop_compose! {
    fn session()(
        origin in (token(), any::<u64>(), any::<u64>(), token(), token(), token()),
        session_name in text(),
        info in option::of(text()),
        uri in option::of(text()),
        emails in vec(text(), 0..2),
        phones in vec(text(), 0..2),
        connection in option::of(connection()),
        bandwidths in vec(bandwidth(), 0..2),
        timing in vec((any::<u64>(), any::<u64>(), vec(text(), 0..2)), 0..3),
        time_zones in option::of(text()),
        key in option::of(text()),
        attributes in vec(attribute(), 0..8),
        media in vec(media(), 0..4),
    ) -> SessionDescription {
        let (username, session_id, session_version, network_type, address_type, address) = origin;
        let mut d = SessionDescription::new(Origin {
            username, session_id, session_version, network_type, address_type, address,
        });
        d.session_name = session_name;
        d.info = info;
        d.uri = uri;
        d.emails = emails;
        d.phones = phones;
        d.connection = connection;
        d.bandwidths = bandwidths;
        d.timing = timing.into_iter().map(|(start, stop, repeats)| Timing { start, stop, repeats }).collect();
        d.time_zones = time_zones;
        d.key = key;
        d.attributes = attributes.into();
        d.media = media;
        d
    }
}

/// Lines that look like SDP, to reach deeper than random bytes do.
fn sdp_like() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        "[vosicbtrzkam]=\\PC{0,30}",
        "a=(candidate|fingerprint|rtpmap|fmtp|rtcp-fb|extmap|ssrc|ssrc-group|rid|simulcast|group|msid|rtcp|sctpmap):[ -~]{0,40}",
        "m=(audio|video|application) [0-9/]{0,6} [A-Z/]{0,16}( [0-9]{1,3}){0,4}",
        "a=[a-z-]{1,12}",
    ];
    vec(line, 0..30).prop_map(|lines| {
        let mut s = String::from("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n");
        for l in lines {
            s.push_str(&l);
            s.push_str("\r\n");
        }
        s
    })
}

proptest! {
    #[test]
    fn typed_description_round_trips(d in session()) {
        let text = d.to_string();
        let parsed = SessionDescription::parse(&text);
        prop_assert!(parsed.is_ok(), "{:?}\n{}", parsed, text);
        prop_assert_eq!(parsed.unwrap(), d);
    }

    #[test]
    fn candidate_round_trips(c in candidate()) {
        let trickle = c.to_string();
        prop_assert_eq!(trickle.parse::<Candidate>().unwrap(), c.clone());
        let line = format!("a={}\r\n", Attribute::Candidate(c.clone()));
        prop_assert_eq!(Candidate::parse(&line).unwrap(), c.clone());
        prop_assert_eq!(Attribute::parse(&line).unwrap(), Attribute::Candidate(c));
    }

    #[test]
    fn attribute_round_trips(a in attribute()) {
        prop_assert_eq!(Attribute::parse(&a.to_string()).unwrap(), a);
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
        let _ = SessionDescription::parse(&s);
        let _ = Candidate::parse(&s);
        let _ = Attribute::parse(&s);
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in vec(any::<u8>(), 0..300)) {
        let _ = SessionDescription::parse_bytes(&b);
    }

    #[test]
    fn sdp_like_input_round_trips_when_it_parses(s in sdp_like()) {
        if let Ok(d) = SessionDescription::parse(&s) {
            let again = SessionDescription::parse(&d.to_string());
            prop_assert_eq!(again.as_ref().ok(), Some(&d), "{:?}", again);
        }
    }
}
