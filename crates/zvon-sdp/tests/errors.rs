//! Bad input gives a typed error with the right line number, never a panic.

use zvon_base::{Classify, Fault};
use zvon_sdp::{Attribute, Candidate, ErrorKind, ParseLimits, SessionDescription};

const HEAD: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

fn err(sdp: &str) -> (usize, ErrorKind) {
    let e = SessionDescription::parse(sdp).expect_err("must not parse");
    (e.line, e.kind)
}

fn attr_err(line: &str) -> (usize, &'static str) {
    match err(&format!(
        "{HEAD}m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n{line}\r\n"
    )) {
        (l, ErrorKind::InvalidAttribute { name, .. }) => (l, name),
        other => panic!("{line}: {other:?}"),
    }
}

#[test]
fn structure_errors_carry_line_numbers() {
    assert_eq!(err(""), (0, ErrorKind::BadVersion));
    assert_eq!(err("v=1\r\n"), (1, ErrorKind::BadVersion));
    assert_eq!(
        err("o=- 1 2 IN IP4 x\r\nv=0\r\n"),
        (1, ErrorKind::BadVersion)
    );
    assert_eq!(
        err("v=0\r\no=- x 2 IN IP4 127.0.0.1\r\n"),
        (2, ErrorKind::InvalidField("origin session id"))
    );
    assert_eq!(
        err("v=0\r\no=- 1 2 IN IP4\r\n"),
        (2, ErrorKind::InvalidField("origin address"))
    );
    assert_eq!(err("v=0\r\ns=-\r\nt=0 0\r\n"), (0, ErrorKind::Missing('o')));
    assert_eq!(
        err("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"),
        (0, ErrorKind::Missing('s'))
    );
    assert_eq!(
        err(&format!("{HEAD}s=again\r\n")),
        (5, ErrorKind::Duplicate('s'))
    );
    assert_eq!(
        err(&format!("{HEAD}x=1\r\n")),
        (5, ErrorKind::UnknownLineType('x'))
    );
    assert_eq!(
        err(&format!("{HEAD}garbage\r\n")),
        (5, ErrorKind::MalformedLine)
    );
    assert_eq!(
        err(&format!("{HEAD} a=mid:0\r\n")),
        (5, ErrorKind::MalformedLine)
    );
    assert_eq!(
        err(&format!("{HEAD}a=:value\r\n")),
        (5, ErrorKind::MalformedLine)
    );
    for bad_name in ["a=x y:value", "a=a=sctp-port:1", "a=(x)"] {
        assert_eq!(
            err(&format!("{HEAD}{bad_name}\r\n")),
            (5, ErrorKind::MalformedLine),
            "{bad_name}"
        );
    }
    assert_eq!(
        err(&format!(
            "{HEAD}m=audio 9 RTP/AVP 0\r\no=- 1 2 IN IP4 0.0.0.0\r\n"
        )),
        (6, ErrorKind::Misplaced('o'))
    );
    assert_eq!(
        err(&format!("{HEAD}m=audio 9 RTP/AVP 0\r\nt=0 0\r\n")),
        (6, ErrorKind::Misplaced('t'))
    );
    assert_eq!(
        err("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nr=1 2 3\r\n"),
        (4, ErrorKind::Misplaced('r'))
    );
    assert_eq!(
        err(&format!("{HEAD}m=audio x RTP/AVP 0\r\n")),
        (5, ErrorKind::InvalidField("media port"))
    );
    assert_eq!(
        err(&format!("{HEAD}m=audio 70000 RTP/AVP 0\r\n")),
        (5, ErrorKind::InvalidField("media port"))
    );
    assert_eq!(
        err(&format!("{HEAD}m=audio\r\n")),
        (5, ErrorKind::InvalidField("media port"))
    );
    assert_eq!(
        err(&format!("{HEAD}c=IN IP4\r\n")),
        (5, ErrorKind::InvalidField("connection address"))
    );
    assert_eq!(
        err(&format!("{HEAD}b=AS\r\n")),
        (5, ErrorKind::InvalidField("bandwidth"))
    );
    assert_eq!(
        err(&format!("{HEAD}b=AS:-5\r\n")),
        (5, ErrorKind::InvalidField("bandwidth value"))
    );
    assert_eq!(
        err("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0\r\n"),
        (4, ErrorKind::InvalidField("stop time"))
    );
    // LF line ends count lines the same way; blank lines count too.
    assert_eq!(
        err("v=0\no=- 1 2 IN IP4 0.0.0.0\ns=-\n\nt=0 0\na=setup:maybe\n").0,
        6
    );
}

#[test]
fn attribute_errors_name_the_attribute() {
    // HEAD is 4 lines, the m= line is 5, the attribute 6.
    for (line, name) in [
        ("a=mid", "mid"),
        ("a=mid:a b", "mid"),
        ("a=ice-ufrag:", "ice-ufrag"),
        ("a=ice-options:", "ice-options"),
        ("a=setup:maybe", "setup"),
        ("a=rtcp-mux:yes", "rtcp-mux"),
        ("a=sendrecv:1", "sendrecv"),
        ("a=rtpmap:200 opus/48000/2", "rtpmap"),
        ("a=rtpmap:111 opus", "rtpmap"),
        ("a=rtpmap:111 opus/48000/2/1", "rtpmap"),
        ("a=rtpmap:111 /48000", "rtpmap"),
        ("a=fmtp:x minptime=10", "fmtp"),
        ("a=rtcp-fb:96", "rtcp-fb"),
        ("a=rtcp-fb:+96 nack", "rtcp-fb"),
        ("a=extmap:x urn:foo", "extmap"),
        ("a=extmap:1/sideways urn:foo", "extmap"),
        ("a=extmap:1", "extmap"),
        ("a=fingerprint:sha-256 AB:CD", "fingerprint"),
        ("a=fingerprint:sha-1 ABCD", "fingerprint"),
        ("a=fingerprint:sha-256", "fingerprint"),
        ("a=ssrc:x cname:a", "ssrc"),
        ("a=ssrc:1", "ssrc"),
        ("a=ssrc-group:FID 1 x", "ssrc-group"),
        ("a=msid:", "msid"),
        ("a=rid:1 both", "rid"),
        ("a=rid:1 send pt=x", "rid"),
        ("a=simulcast:send", "simulcast"),
        ("a=simulcast:send a recv b send c", "simulcast"),
        ("a=simulcast:send a;;b", "simulcast"),
        ("a=simulcast:", "simulcast"),
        ("a=sctp-port:70000", "sctp-port"),
        ("a=max-message-size:-1", "max-message-size"),
        ("a=sctpmap:5000", "sctpmap"),
        ("a=rtcp:9 IN IP4", "rtcp"),
        ("a=ptime:20.5", "ptime"),
        ("a=framerate:fast", "framerate"),
        ("a=candidate:1 1 udp 1 1.2.3.4 5 host", "candidate"),
        ("a=candidate:1 0 udp 1 1.2.3.4 5 typ host", "candidate"),
        (
            "a=candidate:1 1 udp 1 1.2.3.4 5 typ host generation",
            "candidate",
        ),
        (
            "a=candidate:1 1 udp 1 1.2.3.4 5 typ host tcptype sideways",
            "candidate",
        ),
        (
            "a=candidate:1 1 udp 1 1.2.3.4 5 typ srflx raddr 1.2.3.4 raddr 1.2.3.5",
            "candidate",
        ),
        (
            "a=candidate:1 1 udp 99999999999 1.2.3.4 5 typ host",
            "candidate",
        ),
        // A tab inside a field could reach the line end when the fields are reordered.
        (
            "a=candidate:1 1 udp 1 1.2.3.4 5 typ host x 0\t tcptype active",
            "candidate",
        ),
        ("a=simulcast:recv b\t send a", "simulcast"),
    ] {
        assert_eq!(attr_err(line), (6, name), "{line}");
    }
}

#[test]
fn limits_bound_the_work() {
    let small = ParseLimits {
        max_bytes: 64,
        max_lines: 1000,
    };
    let long = format!("{HEAD}{}", "a=x\r\n".repeat(20));
    let e = SessionDescription::parse_with_limits(&long, small).unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::TooLarge {
            size: long.len(),
            limit: 64
        }
    );
    assert_eq!(e.fault(), Fault::Local);
    let few = ParseLimits {
        max_bytes: 1 << 20,
        max_lines: 6,
    };
    let e = SessionDescription::parse_with_limits(&long, few).unwrap_err();
    assert_eq!((e.line, e.kind), (7, ErrorKind::TooManyLines { limit: 6 }));
    // A megabyte of newlines is refused by the line limit, not parsed.
    let blank = "\n".repeat(1 << 20);
    assert!(matches!(
        SessionDescription::parse(&blank).unwrap_err().kind,
        ErrorKind::TooManyLines { .. }
    ));
    let huge = "v".repeat((1 << 20) + 1);
    assert!(matches!(
        SessionDescription::parse(&huge).unwrap_err().kind,
        ErrorKind::TooLarge { .. }
    ));
}

#[test]
fn bytes_must_be_utf8() {
    let e = SessionDescription::parse_bytes(b"v=0\r\ns=\xff\r\n").unwrap_err();
    assert_eq!((e.line, e.kind), (0, ErrorKind::NotUtf8));
    assert!(SessionDescription::parse_bytes(HEAD.as_bytes()).is_ok());
}

#[test]
fn errors_classify_as_malformed_not_fatal() {
    let e = SessionDescription::parse("v=9").unwrap_err();
    assert_eq!(e.fault(), Fault::Malformed);
    assert!(!e.is_fatal());
    assert_eq!(
        e.to_string(),
        "SDP line 1: the description must start with v=0"
    );
}

#[test]
fn standalone_parsers_report_line_one() {
    let e = Candidate::parse("candidate:1 1 udp 1 1.2.3.4").unwrap_err();
    assert_eq!(e.line, 1);
    assert!(matches!(
        e.kind,
        ErrorKind::InvalidAttribute {
            name: "candidate",
            ..
        }
    ));
    assert!(Candidate::parse("").is_err());
    assert!(Candidate::parse("candidate:").is_err());
    let e = Attribute::parse("a=setup:").unwrap_err();
    assert!(matches!(
        e.kind,
        ErrorKind::InvalidAttribute { name: "setup", .. }
    ));
    assert_eq!(
        Attribute::parse("a=:x").unwrap_err().kind,
        ErrorKind::MalformedLine
    );
}

#[test]
fn tolerated_sloppiness() {
    // LF only, trailing spaces and tabs, blank lines, runs of spaces, no final line end.
    let sloppy = "v=0\no=-  1 2 IN IP4 127.0.0.1 \ns=-\n\nt=0 0\t\na=group:BUNDLE  0\nm=audio 9  UDP/TLS/RTP/SAVPF 111 \na=mid:0  \na=rtcp-fb:111  nack  pli\na=candidate:1 1 UDP 5 1.2.3.4 9  typ host\na=msid-semantic:   WMS";
    let d = SessionDescription::parse(sloppy).unwrap();
    assert_eq!(d.bundle_mids(), ["0"]);
    assert_eq!(d.media[0].formats, ["111"]);
    let fb = d.media[0].attributes.rtcp_fbs().next().unwrap();
    assert_eq!(
        (fb.kind.as_str(), fb.param.as_deref()),
        ("nack", Some("pli"))
    );
    let tidy = d.to_string();
    assert!(tidy.contains("a=rtcp-fb:111 nack pli\r\n"));
    assert!(tidy.contains("a=candidate:1 1 udp 5 1.2.3.4 9 typ host\r\n"));
    assert_eq!(SessionDescription::parse(&tidy).unwrap(), d);
    // Session-level attributes after media are media-level: no ambiguity, no error.
    assert_eq!(
        d.media[0].attributes.msid_semantic().unwrap().semantic,
        "WMS"
    );
}

#[test]
fn unknown_attributes_stay_in_place() {
    let sdp = format!(
        "{HEAD}a=x-first\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=x-before:1\r\na=mid:1\r\na=x-google-flag:conference\r\n\
         a=rtpmap:96 VP8/90000\r\na=x-empty:\r\na=x-last:a:b c\r\n"
    );
    let d = SessionDescription::parse(&sdp).unwrap();
    assert_eq!(d.to_string(), sdp);
    let names: Vec<&str> = d.media[0].attributes.iter().map(Attribute::name).collect();
    assert_eq!(
        names,
        [
            "x-before",
            "mid",
            "x-google-flag",
            "rtpmap",
            "x-empty",
            "x-last"
        ]
    );
    assert_eq!(
        d.media[0].attributes.unknown("x-empty").collect::<Vec<_>>(),
        [Some("")]
    );
    assert_eq!(d.attributes.unknown("x-first").collect::<Vec<_>>(), [None]);
    assert_eq!(
        d.media[0].attributes.unknown("x-last").collect::<Vec<_>>(),
        [Some("a:b c")]
    );
}
