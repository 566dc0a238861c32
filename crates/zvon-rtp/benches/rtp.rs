//! The per-packet hot paths: parse a 1200-byte video packet and read its header extensions
//! (the lookup a receiver does for mid/rid/transport-cc on every packet), write one, and parse
//! the RTCP compound packets a WebRTC receiver gets (SR + SDES, RR + REMB, transport-wide
//! feedback, NACK).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use zvon_rtp::ext::{AudioLevel, Extension};
use zvon_rtp::rtcp::{
    Compound, Nack, ReceiverReport, Remb, ReportBlock, RtcpPacket, Sdes, SenderInfo, SenderReport,
    TransportFeedback, TwccDelta, TwccHeader,
};
use zvon_rtp::{ExtensionMap, ExtensionValues, NtpTime, RtpHeader, RtpPacket, RtpWriter};

fn map() -> ExtensionMap {
    let mut m = ExtensionMap::new();
    m.insert(1, Extension::AudioLevel);
    m.insert(2, Extension::AbsSendTime);
    m.insert(3, Extension::TransportCc);
    m.insert(4, Extension::Mid);
    m.insert(10, Extension::Rid);
    m.insert(11, Extension::RepairedRid);
    m.insert(13, Extension::VideoOrientation);
    m
}

/// A packet shaped like Chromium's simulcast video: abs-send-time, transport-cc, mid, rid,
/// video orientation, 1200 bytes in all.
fn video_packet(out: &mut Vec<u8>, map: &ExtensionMap, payload: &[u8], seq: u16) -> usize {
    let mut w = RtpWriter::new(
        out,
        &RtpHeader {
            marker: false,
            payload_type: 96,
            sequence_number: seq,
            timestamp: 0x1234_5678,
            ssrc: 0xdead_beef,
            csrcs: &[],
        },
    );
    w.extension_values(
        map,
        &ExtensionValues {
            abs_send_time: Some(0x12_3456),
            transport_cc: Some(seq),
            mid: Some("0"),
            rid: Some("h"),
            ..Default::default()
        },
    );
    w.finish(payload, 0)
}

fn rtp(c: &mut Criterion) {
    let map = map();
    let payload = vec![0xab; 1200 - 28];
    let mut pkt = Vec::new();
    video_packet(&mut pkt, &map, &payload, 1);
    assert_eq!(pkt.len(), 1200);

    let mut g = c.benchmark_group("rtp");
    g.throughput(Throughput::Elements(1));
    g.bench_function(
        "parse 1200 B + extension values (mid, rid, tcc, ast)",
        |b| {
            b.iter(|| {
                let p = RtpPacket::new_checked(black_box(&pkt[..])).unwrap();
                let v = p.extension_values(&map);
                black_box((
                    p.sequence_number(),
                    p.payload().len(),
                    v.mid,
                    v.rid,
                    v.transport_cc,
                ))
            })
        },
    );
    g.bench_function("parse 1200 B + one extension by id (tcc)", |b| {
        b.iter(|| {
            let p = RtpPacket::new_checked(black_box(&pkt[..])).unwrap();
            black_box((p.ssrc(), p.extension(3)))
        })
    });
    let mut out = Vec::with_capacity(1500);
    g.bench_function("write 1200 B with 4 extensions", |b| {
        b.iter(|| {
            out.clear();
            black_box(video_packet(&mut out, &map, black_box(&payload), 7))
        })
    });
    let audio = {
        let mut out = Vec::new();
        let mut w = RtpWriter::new(
            &mut out,
            &RtpHeader {
                payload_type: 111,
                ..Default::default()
            },
        );
        w.extension_values(
            &map,
            &ExtensionValues {
                audio_level: Some(AudioLevel {
                    voice: true,
                    level: 30,
                }),
                transport_cc: Some(9),
                mid: Some("1"),
                ..Default::default()
            },
        );
        let _ = w.finish(&[0; 80], 0);
        out
    };
    g.bench_function("parse 100 B audio + extension values", |b| {
        b.iter(|| {
            let p = RtpPacket::new_checked(black_box(&audio[..])).unwrap();
            black_box(p.extension_values(&map).audio_level)
        })
    });
    g.finish();
}

fn rtcp(c: &mut Criterion) {
    let block = ReportBlock {
        ssrc: 2,
        fraction_lost: 3,
        cumulative_lost: 10,
        extended_highest_seq: 70_000,
        jitter: 30,
        last_sr: 0x1234_5678,
        delay_since_last_sr: 0x8000,
    };
    let mut sr = Vec::new();
    let info = SenderInfo {
        ssrc: 1,
        ntp: NtpTime(0xe000_0000_8000_0000),
        rtp_timestamp: 90_000,
        packet_count: 1000,
        octet_count: 1_000_000,
    };
    SenderReport::write(&mut sr, &info, &[block]);
    Sdes::write_cname(&mut sr, 1, "k3Jd8x0zXq2pWm1B");

    let mut rr = Vec::new();
    ReceiverReport::write(&mut rr, 5, &[block, block]);
    Remb::write(&mut rr, 5, 2_500_000, &[1, 2]);
    Nack::write_lost(&mut rr, 5, 1, [100, 101, 105, 130]);

    // Transport-wide feedback for 100 packets, 5 lost, deltas 1..=3 ms (what a 2.5 Mbit/s
    // video receiver sends every 100 ms).
    let packets: Vec<_> = (0..100)
        .map(|i: i16| (i % 20 != 7).then_some(TwccDelta(4 + (i % 9))))
        .collect();
    let mut tw = Vec::new();
    TransportFeedback::write(
        &mut tw,
        &TwccHeader {
            sender_ssrc: 5,
            media_ssrc: 1,
            base_seq: 1000,
            reference_time: 12345,
            feedback_count: 3,
        },
        &packets,
    );

    let mut g = c.benchmark_group("rtcp");
    g.throughput(Throughput::Elements(1));
    g.bench_function("compound SR+SDES: parse, read info, blocks, cname", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for p in Compound::parse(black_box(&sr)).unwrap().packets() {
                match p.unwrap() {
                    RtcpPacket::SenderReport(s) => {
                        acc += u64::from(s.info().packet_count);
                        acc += s.report_blocks().map(|b| u64::from(b.jitter)).sum::<u64>();
                    }
                    RtcpPacket::Sdes(s) => acc += s.cname(1).map_or(0, |c| c.len() as u64),
                    _ => {}
                }
            }
            black_box(acc)
        })
    });
    g.bench_function("compound RR(2)+REMB+NACK: parse and expand", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for p in Compound::parse(black_box(&rr)).unwrap().packets() {
                match p.unwrap() {
                    RtcpPacket::ReceiverReport(r) => acc += r.report_blocks().count() as u64,
                    RtcpPacket::Remb(r) => acc += r.bitrate(),
                    RtcpPacket::Nack(n) => acc += n.lost().map(u64::from).sum::<u64>(),
                    _ => {}
                }
            }
            black_box(acc)
        })
    });
    g.bench_function(
        "transport-wide feedback, 100 packets: parse and walk",
        |b| {
            b.iter(|| {
                let mut acc = 0i64;
                for p in Compound::parse(black_box(&tw)).unwrap().packets() {
                    if let Ok(RtcpPacket::TransportFeedback(t)) = p {
                        for s in t.packets() {
                            acc += s.arrival_ticks.unwrap_or(0);
                        }
                    }
                }
                black_box(acc)
            })
        },
    );
    let mut out = Vec::with_capacity(1500);
    g.bench_function("write transport-wide feedback, 100 packets", |b| {
        b.iter(|| {
            out.clear();
            black_box(TransportFeedback::write(
                &mut out,
                &TwccHeader::default(),
                black_box(&packets),
            ))
        })
    });
    g.finish();
}

criterion_group!(benches, rtp, rtcp);
criterion_main!(benches);
