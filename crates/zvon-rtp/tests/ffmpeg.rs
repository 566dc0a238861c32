//! Real peer: ffmpeg sends two seconds of VP8 video and Opus audio as RTP, with RTCP muxed on
//! the same ports (RFC 5761), to sockets this test binds on 127.0.0.1. Every datagram is
//! parsed by zvon-rtp and checked against what ffmpeg says it sends: the SSRCs it was told to
//! use, the payload types and clock rates of the SDP it writes, sequence numbers that step by
//! one with no loss, timestamps that step by whole frames, VP8 frame starts, and SRs whose
//! packet and octet counts equal the RTP packets received before them, whose NTP and RTP
//! times advance together at the clock rate, with an SDES CNAME, and a BYE at the end. Then
//! the datagrams go into a pcap that tshark's RTP/RTCP dissectors read, and the fields they
//! decode must equal zvon-rtp's.
//!
//! ffmpeg and tshark must be installed (`scripts/test` installs both): the test fails, it
//! does not skip, without them.
// A real peer: sockets, a child process and the clock, all on 127.0.0.1.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use zvon_base::{DatagramKind, classify};
use zvon_rtp::rtcp::{Compound, RtcpPacket};
use zvon_rtp::stats::{ReceiveStats, SeqUnwrapper, TimestampUnwrapper};
use zvon_rtp::{NtpTime, RtpPacket};

const VIDEO_SSRC: u32 = 0x1122_3344;
const AUDIO_SSRC: u32 = 0x5566_7788;
const SECONDS: u32 = 2;

/// Datagrams received on one socket, with their arrival times.
type Capture = Vec<(Instant, Vec<u8>)>;

fn receive(sock: UdpSocket, stop: Arc<AtomicBool>) -> thread::JoinHandle<Capture> {
    thread::spawn(move || {
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 2048];
        loop {
            match sock.recv(&mut buf) {
                Ok(n) => got.push((Instant::now(), buf[..n].to_vec())),
                Err(_) if stop.load(Ordering::Relaxed) => return got,
                Err(_) => {}
            }
        }
    })
}

/// What the SDP says about one media section.
#[derive(Debug)]
struct Media {
    port: u16,
    payload_type: u8,
    encoding: String,
    clock_rate: u32,
}

fn parse_sdp(sdp: &str, kind: &str) -> Media {
    let mut lines = sdp
        .lines()
        .skip_while(|l| !l.starts_with(&format!("m={kind} ")));
    let m: Vec<&str> = lines.next().expect("media section").split(' ').collect();
    let port = m[1].parse().unwrap();
    let payload_type: u8 = m[3].parse().unwrap();
    let rtpmap = lines
        .take_while(|l| !l.starts_with("m="))
        .find_map(|l| l.strip_prefix(&format!("a=rtpmap:{payload_type} ")))
        .expect("rtpmap");
    let mut parts = rtpmap.split('/');
    Media {
        port,
        payload_type,
        encoding: parts.next().unwrap().to_string(),
        clock_rate: parts.next().unwrap().parse().unwrap(),
    }
}

/// What one stream's checks found, for the tshark comparison.
struct Checked {
    rtp: usize,
    srs: usize,
}

/// Checks one stream's datagrams; returns the counts.
fn check_stream(
    name: &str,
    capture: &Capture,
    ssrc: u32,
    media: &Media,
    frame_ticks: u32,
) -> Checked {
    let mut seqs = SeqUnwrapper::new();
    let mut stamps = TimestampUnwrapper::new();
    let mut stats = ReceiveStats::new(ssrc, media.clock_rate);
    let (mut rtp, mut octets) = (0u32, 0u32);
    let mut last: Option<(i64, i64, bool)> = None; // seq, timestamp, marker
    let mut first_ts = None;
    let mut srs: Vec<(NtpTime, u32, i64)> = Vec::new(); // ntp, rtp ts, last packet's ts
    let (mut cname, mut bye) = (false, false);
    let wall = NtpTime::from_unix(SystemTime::now().duration_since(UNIX_EPOCH).unwrap());

    for (i, (at, d)) in capture.iter().enumerate() {
        assert!(!bye, "{name}: datagram {i} after the BYE");
        match classify(d) {
            DatagramKind::Rtp => {
                let p = RtpPacket::new_checked(&d[..])
                    .unwrap_or_else(|e| panic!("{name}: RTP datagram {i}: {e}"));
                assert_eq!(p.ssrc(), ssrc, "{name}: SSRC");
                assert_eq!(p.payload_type(), media.payload_type, "{name}: payload type");
                assert_eq!(p.csrc_count(), 0);
                assert!(!p.payload().is_empty());
                let seq = seqs.extend(p.sequence_number());
                let ts = stamps.extend(p.timestamp());
                first_ts.get_or_insert(ts);
                if let Some((prev_seq, prev_ts, prev_marker)) = last {
                    assert_eq!(seq, prev_seq + 1, "{name}: sequence numbers step by one");
                    let step = ts - prev_ts;
                    assert!(step >= 0, "{name}: timestamp went back by {step}");
                    assert_eq!(step % i64::from(frame_ticks), 0, "{name}: whole frames");
                    if media.encoding == "VP8" {
                        // A new timestamp is a new frame: the previous packet ended the last one
                        // (marker) and this one starts a VP8 partition (S bit, RFC 7741 4.2).
                        assert_eq!(step > 0, prev_marker, "{name}: marker ends frames");
                        if step > 0 {
                            assert_ne!(p.payload()[0] & 0x10, 0, "{name}: VP8 S bit");
                        }
                    }
                }
                last = Some((seq, ts, p.marker()));
                stats.handle_packet(p.sequence_number(), p.timestamp(), *at);
                rtp += 1;
                octets += p.payload().len() as u32;
            }
            DatagramKind::Rtcp => {
                let c = Compound::parse(d).unwrap_or_else(|e| panic!("{name}: RTCP {i}: {e}"));
                assert!(c.raw().count() >= 2, "{name}: compound RTCP");
                for packet in c.packets() {
                    match packet.unwrap_or_else(|e| panic!("{name}: RTCP {i}: {e}")) {
                        RtcpPacket::SenderReport(sr) => {
                            let info = sr.info();
                            assert_eq!(info.ssrc, ssrc, "{name}: SR SSRC");
                            //# The total number of RTP data packets transmitted by the sender
                            //# since starting transmission up until the time this SR packet was
                            //# generated.
                            assert_eq!(info.packet_count, rtp, "{name}: SR packet count");
                            //# The total number of payload octets (i.e., not including header
                            //# or padding) transmitted in RTP data packets
                            assert_eq!(info.octet_count, octets, "{name}: SR octet count");
                            assert_eq!(sr.report_blocks().count(), 0, "{name}: ffmpeg only sends");
                            let off = info.ntp.0.abs_diff(wall.0) >> 32;
                            assert!(off < 30, "{name}: SR NTP time {off} s from the wall clock");
                            let last_ts = last.map_or(0, |l| l.1);
                            srs.push((info.ntp, info.rtp_timestamp, last_ts));
                            stats.handle_sender_report(info.ntp, *at);
                        }
                        RtcpPacket::Sdes(s) => {
                            let expect = format!("zvon-{name}");
                            assert_eq!(s.cname(ssrc), Some(expect.as_bytes()), "{name}: CNAME");
                            cname = true;
                        }
                        RtcpPacket::Bye(b) => {
                            assert_eq!(b.ssrcs().collect::<Vec<_>>(), [ssrc], "{name}: BYE");
                            bye = true;
                        }
                        other => panic!("{name}: unexpected {other:?}"),
                    }
                }
            }
            k => panic!("{name}: datagram {i} is {k:?}"),
        }
    }

    // Two seconds of media, every packet arrived.
    let first_ts = first_ts.expect("no RTP");
    let span = last.unwrap().1 - first_ts;
    let want = i64::from(media.clock_rate * SECONDS - frame_ticks);
    assert!(
        (want - 2 * i64::from(frame_ticks)..=want + 2 * i64::from(frame_ticks)).contains(&span),
        "{name}: {span} ticks of media, about {want} expected"
    );
    assert_eq!(stats.cumulative_lost(), 0, "{name}: loss");
    assert_eq!(
        stats.expected(),
        u64::from(rtp) - 1,
        "{name}: all but the probation packet"
    );
    let block = stats.report_block(Instant::now()).expect("valid source");
    assert_eq!(block.fraction_lost, 0);
    assert_ne!(block.last_sr, 0, "{name}: the last SR is echoed");
    assert!(cname && bye, "{name}: SDES CNAME {cname}, BYE {bye}");

    // ffmpeg sends an SR before its first packet and one with the BYE after its last.
    assert!(srs.len() >= 2, "{name}: {} SRs", srs.len());
    let (ntp0, rtp0, _) = srs[0];
    // Sent just before the first packet, it maps to about its timestamp: ffmpeg takes the
    // SR's from the wall clock and the packets' from the media, offset by the encoder's start
    // (26-122 ms seen here, more on a loaded machine).
    let lead = (rtp0.wrapping_sub(first_ts as u32) as i32).unsigned_abs();
    assert!(
        lead <= media.clock_rate,
        "{name}: the first SR is {lead} ticks from the first packet"
    );
    let (ntp1, rtp1, last_ts) = *srs.last().unwrap();
    let secs = (ntp1.0 - ntp0.0) as f64 / 2f64.powi(32);
    let ticks = f64::from(rtp1.wrapping_sub(rtp0));
    let rate = ticks / secs;
    assert!(
        (rate / f64::from(media.clock_rate) - 1.0).abs() < 0.01,
        "{name}: SR clock runs at {rate:.0} Hz, SDP says {}",
        media.clock_rate
    );
    // The last SR, sent after the last packet, maps to about its timestamp too.
    let lag = (rtp1.wrapping_sub(last_ts as u32) as i32).unsigned_abs();
    assert!(
        lag <= media.clock_rate,
        "{name}: the last SR is {lag} ticks from the last packet"
    );
    Checked {
        rtp: rtp as usize,
        srs: srs.len(),
    }
}

/// Writes the datagrams into a pcap (raw IPv4) with fixed synthetic ports: video RTP 5004 and
/// RTCP 5005, audio 5006 and 5007, so that tshark can be told what each port carries.
fn write_pcap(path: &std::path::Path, streams: &[(&Capture, u16)]) -> Vec<Vec<u8>> {
    let mut all: Vec<(Instant, &Vec<u8>, u16)> = Vec::new();
    for (cap, port) in streams {
        for (at, d) in cap.iter() {
            let rtcp = classify(d) == DatagramKind::Rtcp;
            all.push((*at, d, port + u16::from(rtcp)));
        }
    }
    all.sort_by_key(|(at, _, _)| *at);
    let t0 = all[0].0;
    let mut pcap = Vec::new();
    for v in [0xa1b2_c3d4u32.to_le_bytes(), [2, 0, 4, 0]] {
        pcap.extend_from_slice(&v);
    }
    for v in [0u32, 0, 65535, 101] {
        pcap.extend_from_slice(&v.to_le_bytes()); // zone, sigfigs, snaplen, LINKTYPE_RAW
    }
    let mut order = Vec::new();
    for (at, d, port) in &all {
        let t = at.duration_since(t0) + Duration::from_secs(1_700_000_000);
        let len = 20 + 8 + d.len();
        for v in [
            t.as_secs() as u32,
            t.subsec_micros(),
            len as u32,
            len as u32,
        ] {
            pcap.extend_from_slice(&v.to_le_bytes());
        }
        let mut ip = [
            0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
        ];
        ip[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        let sum = ip
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum::<u32>();
        let sum = !((sum & 0xffff) + (sum >> 16)) as u16;
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        pcap.extend_from_slice(&ip);
        pcap.extend_from_slice(&40000u16.to_be_bytes());
        pcap.extend_from_slice(&port.to_be_bytes());
        pcap.extend_from_slice(&((8 + d.len()) as u16).to_be_bytes());
        pcap.extend_from_slice(&[0, 0]);
        pcap.extend_from_slice(d);
        order.push(d.to_vec());
    }
    std::fs::write(path, pcap).unwrap();
    order
}

/// tshark's decoding of each frame must equal zvon-rtp's.
fn cross_check_with_tshark(pcap: &std::path::Path, frames: &[Vec<u8>]) -> (usize, usize) {
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(pcap)
        .args(["-d", "udp.port==5004,rtp", "-d", "udp.port==5006,rtp"])
        .args(["-d", "udp.port==5005,rtcp", "-d", "udp.port==5007,rtcp"])
        .args(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a"])
        .args([
            "-e",
            "rtp.ssrc",
            "-e",
            "rtp.seq",
            "-e",
            "rtp.timestamp",
            "-e",
            "rtp.p_type",
        ])
        .args([
            "-e",
            "rtcp.pt",
            "-e",
            "rtcp.senderssrc",
            "-e",
            "rtcp.sender.packetcount",
        ])
        .args([
            "-e",
            "rtcp.sender.octetcount",
            "-e",
            "rtcp.timestamp.rtp",
            "-e",
            "rtcp.sdes.text",
        ])
        .stderr(Stdio::null())
        .output()
        .expect("tshark must be installed (scripts/test installs it)");
    assert!(out.status.success(), "tshark failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), frames.len(), "tshark read every frame");
    let num = |s: &str| -> u64 {
        match s.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).unwrap(),
            None => s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}")),
        }
    };
    let (mut rtp, mut rtcp) = (0, 0);
    for (line, d) in lines.iter().zip(frames) {
        let f: Vec<&str> = line.split('\t').collect();
        match classify(d) {
            DatagramKind::Rtp => {
                let p = RtpPacket::new_checked(&d[..]).unwrap();
                let ours = [
                    u64::from(p.ssrc()),
                    u64::from(p.sequence_number()),
                    u64::from(p.timestamp()),
                    u64::from(p.payload_type()),
                ];
                let theirs: Vec<u64> = f[..4].iter().map(|s| num(s)).collect();
                assert_eq!(theirs, ours, "tshark vs zvon-rtp on RTP: {line}");
                rtp += 1;
            }
            _ => {
                let c = Compound::parse(d).unwrap();
                let types: Vec<u64> = c.raw().map(|r| u64::from(r.packet_type)).collect();
                let theirs: Vec<u64> = f[4].split(',').map(num).collect();
                assert_eq!(theirs, types, "tshark vs zvon-rtp packet types: {line}");
                for p in c.packets() {
                    match p.unwrap() {
                        RtcpPacket::SenderReport(sr) => {
                            let i = sr.info();
                            let ours = [i.ssrc, i.packet_count, i.octet_count, i.rtp_timestamp];
                            let theirs: Vec<u64> = f[5..9].iter().map(|s| num(s)).collect();
                            assert_eq!(
                                theirs,
                                ours.map(u64::from),
                                "tshark vs zvon-rtp on the SR: {line}"
                            );
                        }
                        RtcpPacket::Sdes(s) => {
                            let ours = s.chunks().next().unwrap().items().next().unwrap().value;
                            assert_eq!(f[9].as_bytes(), ours, "tshark vs zvon-rtp on SDES");
                        }
                        _ => {}
                    }
                }
                rtcp += 1;
            }
        }
    }
    (rtp, rtcp)
}

#[test]
fn ffmpeg_vp8_and_opus_with_rtcp() {
    let video = UdpSocket::bind("127.0.0.1:0").unwrap();
    let audio = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (vport, aport) = (
        video.local_addr().unwrap().port(),
        audio.local_addr().unwrap().port(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let vrx = receive(video, stop.clone());
    let arx = receive(audio, stop.clone());

    let dir = std::env::temp_dir().join(format!("zvon-rtp-ffmpeg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sdp_path = dir.join("out.sdp");
    let t = SECONDS.to_string();
    let mut child = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-re"])
        .args([
            "-t",
            &t,
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=30",
        ])
        .args([
            "-t",
            &t,
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
        ])
        .args([
            "-map",
            "0:v",
            "-c:v",
            "libvpx",
            "-b:v",
            "300k",
            "-deadline",
            "realtime",
        ])
        .args([
            "-cpu-used",
            "8",
            "-ssrc",
            &VIDEO_SSRC.to_string(),
            "-payload_type",
            "96",
        ])
        .args(["-cname", "zvon-video", "-rtpflags", "send_bye", "-f", "rtp"])
        .arg(format!(
            "rtp://127.0.0.1:{vport}?rtcpport={vport}&pkt_size=1200"
        ))
        .args(["-map", "1:a", "-c:a", "libopus", "-b:a", "32k"])
        .args(["-ssrc", &AUDIO_SSRC.to_string(), "-payload_type", "111"])
        .args(["-cname", "zvon-audio", "-rtpflags", "send_bye", "-f", "rtp"])
        .arg(format!("rtp://127.0.0.1:{aport}?rtcpport={aport}"))
        .arg("-sdp_file")
        .arg(&sdp_path)
        .stdin(Stdio::null())
        .spawn()
        .expect("ffmpeg must be installed (scripts/test installs it)");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ffmpeg did not finish in 60 s");
        }
        thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "ffmpeg failed: {status}");
    // Loopback delivers synchronously; a short pause lets the receive threads drain.
    thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let (vcap, acap) = (vrx.join().unwrap(), arx.join().unwrap());

    let sdp = std::fs::read_to_string(&sdp_path).unwrap();
    let vmedia = parse_sdp(&sdp, "video");
    let amedia = parse_sdp(&sdp, "audio");
    assert_eq!((vmedia.port, vmedia.payload_type), (vport, 96), "{sdp}");
    assert_eq!(
        (vmedia.encoding.as_str(), vmedia.clock_rate),
        ("VP8", 90_000)
    );
    assert_eq!((amedia.port, amedia.payload_type), (aport, 111), "{sdp}");
    assert_eq!(
        (amedia.encoding.as_str(), amedia.clock_rate),
        ("opus", 48_000)
    );

    // 30 frames/s at 90 kHz; Opus in 20 ms frames at 48 kHz.
    let v = check_stream("video", &vcap, VIDEO_SSRC, &vmedia, 3000);
    let a = check_stream("audio", &acap, AUDIO_SSRC, &amedia, 960);
    assert!(v.rtp >= 30 * SECONDS as usize, "{} video packets", v.rtp);
    assert!(a.rtp >= 49 * SECONDS as usize, "{} audio packets", a.rtp);

    let pcap = dir.join("rtp.pcap");
    let frames = write_pcap(&pcap, &[(&vcap, 5004), (&acap, 5006)]);
    let (rtp, rtcp) = cross_check_with_tshark(&pcap, &frames);
    assert_eq!(rtp, v.rtp + a.rtp);
    assert_eq!(rtcp, v.srs + a.srs);
    eprintln!(
        "ffmpeg: video {} RTP + {} SR, audio {} RTP + {} SR; tshark agreed on {rtp} RTP and {rtcp} RTCP datagrams",
        v.rtp, v.srs, a.rtp, a.srs
    );
    let _ = std::fs::remove_dir_all(&dir);
}
