//! Property tests: every writer's output parses back to what was written, every parser
//! survives arbitrary and mutated bytes without panicking, and the statistics agree with a
//! plain count of what was sent and dropped.
// Instant::now() gives the tests an origin; the crate itself never reads the clock.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use proptest::prelude::*;
use zvon_rtp::ext::{
    AbsCaptureTime, AudioLevel, Extension, PlayoutDelay, Rotation, VideoOrientation,
};
use zvon_rtp::rtcp::{
    App, Bye, Compound, DlrrItem, ExtendedReport, Fir, FirEntry, Nack, NackPair, Pli,
    ReceiverReport, Remb, ReportBlock, RtcpPacket, Sdes, SdesItem, SdesType, SenderInfo,
    SenderReport, TransportFeedback, TwccDelta, TwccHeader, XrBlock,
};
use zvon_rtp::stats::{ReceiveStats, SeqUnwrapper};
use zvon_rtp::{ExtensionMap, ExtensionValues, NtpTime, RtpHeader, RtpPacket, RtpWriter};

fn touch_rtp(bytes: &[u8]) {
    let map = full_map();
    if let Ok(p) = RtpPacket::new_checked(bytes) {
        let _ = (
            p.marker(),
            p.payload_type(),
            p.sequence_number(),
            p.timestamp(),
            p.ssrc(),
        );
        let _ = (
            p.csrcs().count(),
            p.header_len(),
            p.payload().len(),
            p.padding_len(),
        );
        let _ = (
            p.extension_profile(),
            p.extension_data(),
            p.extension_form(),
        );
        for (id, v) in p.extensions() {
            assert!(p.extension(id).is_some());
            let _ = v.len();
        }
        let _ = p.extension_values(&map);
        assert!(p.header_len() + p.payload().len() + p.padding_len() == bytes.len());
    }
}

fn touch_rtcp(bytes: &[u8]) {
    let Ok(c) = Compound::parse(bytes) else {
        return;
    };
    let total: usize = c.raw().map(|r| r.bytes.len()).sum();
    assert_eq!(total, bytes.len());
    for p in c.packets() {
        let Ok(p) = p else { continue };
        match p {
            RtcpPacket::SenderReport(s) => {
                let _ = (s.info(), s.report_blocks().count(), s.extension().len());
            }
            RtcpPacket::ReceiverReport(r) => {
                let _ = (r.ssrc(), r.report_blocks().count(), r.extension().len());
            }
            RtcpPacket::Sdes(s) => {
                for ch in s.chunks() {
                    let _ = ch.items().count();
                    let _ = s.cname(ch.ssrc);
                }
            }
            RtcpPacket::Bye(b) => {
                let _ = (b.ssrcs().count(), b.reason());
            }
            RtcpPacket::App(a) => {
                let _ = (a.subtype(), a.ssrc(), a.name(), a.data());
            }
            RtcpPacket::Nack(n) => {
                let _ = (n.sender_ssrc(), n.media_ssrc(), n.lost().count());
            }
            RtcpPacket::TransportFeedback(t) => {
                let n = t.packets().count();
                assert_eq!(
                    n,
                    usize::from(t.status_count()),
                    "checked feedback is complete"
                );
                let _ = t.header();
            }
            RtcpPacket::Pli(p) => {
                let _ = p.media_ssrc;
            }
            RtcpPacket::Fir(f) => {
                let _ = (f.sender_ssrc(), f.entries().count());
            }
            RtcpPacket::Remb(r) => {
                let _ = (r.sender_ssrc(), r.bitrate(), r.ssrcs().count());
            }
            RtcpPacket::ExtendedReport(x) => {
                for b in x.blocks() {
                    if let XrBlock::Dlrr(items) = b {
                        let _ = items.count();
                    }
                }
            }
            _ => {}
        }
    }
}

fn full_map() -> ExtensionMap {
    let mut m = ExtensionMap::new();
    for (i, e) in Extension::ALL.into_iter().enumerate() {
        m.insert(i as u8 + 1, e);
    }
    m
}

fn header_strategy() -> impl Strategy<Value = (bool, u8, u16, u32, u32, Vec<u32>)> {
    (
        any::<bool>(),
        0u8..128,
        any::<u16>(),
        any::<u32>(),
        any::<u32>(),
        prop::collection::vec(any::<u32>(), 0..=15),
    )
}

fn element_strategy() -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
    prop::collection::vec(
        prop_oneof![
            (1u8..=14, prop::collection::vec(any::<u8>(), 1..=16)),
            (1u8..=255, prop::collection::vec(any::<u8>(), 0..=40)),
        ],
        0..8,
    )
}

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::char::range('!', '~'), 1..=max)
        .prop_map(|v| v.into_iter().collect())
}

fn block_strategy() -> impl Strategy<Value = ReportBlock> {
    (
        any::<u32>(),
        any::<u8>(),
        -0x80_0000i32..=0x7F_FFFF,
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(ssrc, f, lost, hi, j, lsr, dlsr)| ReportBlock {
            ssrc,
            fraction_lost: f,
            cumulative_lost: lost,
            extended_highest_seq: hi,
            jitter: j,
            last_sr: lsr,
            delay_since_last_sr: dlsr,
        })
}

/// A REMB bitrate that survives the 18-bit mantissa exactly.
fn remb_bitrate() -> impl Strategy<Value = u64> {
    (0u64..(1 << 18), 0u32..=46).prop_map(|(m, e)| m << e)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn rtp_round_trip(
        (marker, pt, seq, ts, ssrc, csrcs) in header_strategy(),
        elements in element_strategy(),
        payload in prop::collection::vec(any::<u8>(), 0..300),
        padding in any::<u8>(),
        two_byte in any::<bool>(),
        prefix in prop::collection::vec(any::<u8>(), 0..4),
    ) {
        let mut out = prefix.clone();
        let header = RtpHeader { marker, payload_type: pt, sequence_number: seq, timestamp: ts,
                                 ssrc, csrcs: &csrcs };
        let mut w = RtpWriter::new(&mut out, &header);
        if two_byte {
            w.two_byte_extensions();
        }
        for (id, v) in &elements {
            w.extension(*id, v);
        }
        let len = w.finish(&payload, padding);
        prop_assert_eq!(len, out.len() - prefix.len());
        let p = RtpPacket::new_checked(&out[prefix.len()..]).unwrap();
        prop_assert_eq!((p.marker(), p.payload_type(), p.sequence_number()), (marker, pt, seq));
        prop_assert_eq!((p.timestamp(), p.ssrc()), (ts, ssrc));
        prop_assert_eq!(p.csrcs().collect::<Vec<_>>(), csrcs);
        prop_assert_eq!(p.payload(), &payload[..]);
        prop_assert_eq!(p.padding_len(), usize::from(padding));
        let got: Vec<(u8, Vec<u8>)> = p.extensions().map(|(i, v)| (i, v.to_vec())).collect();
        prop_assert_eq!(&got, &elements);
        prop_assert_eq!(p.has_extension(), !elements.is_empty());
        if !elements.is_empty() {
            let one = !two_byte && elements.iter().all(|(i, v)| *i <= 14 && (1..=16).contains(&v.len()));
            prop_assert_eq!(p.extension_form(), Some(if one {
                zvon_rtp::ExtensionForm::OneByte
            } else {
                zvon_rtp::ExtensionForm::TwoByte
            }));
        }
    }

    #[test]
    fn extension_values_round_trip(
        mid in prop::option::of(text(16)),
        rid in prop::option::of(text(40)),
        rrid in prop::option::of(text(255)),
        ast in prop::option::of(0u32..(1 << 24)),
        tcc in prop::option::of(any::<u16>()),
        level in prop::option::of((any::<bool>(), 0u8..128)),
        orientation in prop::option::of((any::<bool>(), any::<bool>(), 0u8..4)),
        delay in prop::option::of((0u16..4096, 0u16..4096)),
        capture in prop::option::of((any::<u64>(), prop::option::of(any::<i64>()))),
        toffset in prop::option::of(-0x80_0000i32..0x80_0000),
        ids in prop::collection::vec(1u8..=255, 10),
    ) {
        let mut map = ExtensionMap::new();
        for (e, id) in Extension::ALL.into_iter().zip(&ids) {
            map.insert(*id, e);
        }
        let values = ExtensionValues {
            mid: mid.as_deref(),
            rid: rid.as_deref(),
            repaired_rid: rrid.as_deref(),
            abs_send_time: ast,
            transport_cc: tcc,
            audio_level: level.map(|(voice, level)| AudioLevel { voice, level }),
            video_orientation: orientation.map(|(back_camera, flip, r)| VideoOrientation {
                back_camera,
                flip,
                rotation: [Rotation::Deg0, Rotation::Deg90, Rotation::Deg180, Rotation::Deg270]
                    [usize::from(r)],
            }),
            playout_delay: delay.map(|(min, max)| PlayoutDelay { min, max }),
            abs_capture_time: capture.map(|(t, o)| AbsCaptureTime {
                capture_time: NtpTime(t),
                clock_offset: o,
            }),
            transmission_offset: toffset,
        };
        let mut out = Vec::new();
        let mut w = RtpWriter::new(&mut out, &RtpHeader::default());
        w.extension_values(&map, &values);
        let len = w.finish(b"x", 0);
        let p = RtpPacket::new_checked(&out[..len]).unwrap();
        // Ids that several extensions were given end with the last; compare what the map kept.
        let got = p.extension_values(&map);
        let mut want = ExtensionValues::default();
        for (_, e) in map.iter() {
            match e {
                Extension::Mid => want.mid = values.mid,
                Extension::Rid => want.rid = values.rid,
                Extension::RepairedRid => want.repaired_rid = values.repaired_rid,
                Extension::AbsSendTime => want.abs_send_time = values.abs_send_time,
                Extension::TransportCc => want.transport_cc = values.transport_cc,
                Extension::AudioLevel => want.audio_level = values.audio_level,
                Extension::VideoOrientation => want.video_orientation = values.video_orientation,
                Extension::PlayoutDelay => want.playout_delay = values.playout_delay,
                Extension::AbsCaptureTime => want.abs_capture_time = values.abs_capture_time,
                Extension::TransmissionOffset => want.transmission_offset = values.transmission_offset,
                _ => {}
            }
        }
        prop_assert_eq!(got, want);
    }

    #[test]
    fn rtcp_compound_round_trip(
        info in (any::<u32>(), any::<u64>(), any::<u32>(), any::<u32>(), any::<u32>()),
        sr_blocks in prop::collection::vec(block_strategy(), 0..=31),
        rr_blocks in prop::collection::vec(block_strategy(), 0..=31),
        sdes in prop::collection::vec(
            (any::<u32>(), prop::collection::vec((1u8..=255, prop::collection::vec(any::<u8>(), 0..=255)), 0..4)),
            0..=5),
        bye in (prop::collection::vec(any::<u32>(), 0..=31), prop::option::of(text(255))),
        app in (0u8..32, any::<u32>(), any::<[u8; 4]>(), prop::collection::vec(any::<u8>(), 0..20)),
        nack in (any::<u32>(), any::<u32>(), prop::collection::vec((any::<u16>(), any::<u16>()), 0..10)),
        pli in (any::<u32>(), any::<u32>()),
        fir in (any::<u32>(), prop::collection::vec((any::<u32>(), any::<u8>()), 0..5)),
        remb in (any::<u32>(), remb_bitrate(), prop::collection::vec(any::<u32>(), 0..5)),
        twcc in (any::<u32>(), any::<u32>(), any::<u16>(), 0u32..(1 << 24), any::<u8>(),
                 prop::collection::vec(prop::option::of(any::<i16>()), 0..300)),
        xr in (any::<u32>(), prop::option::of(any::<u64>()),
               prop::collection::vec((any::<u32>(), any::<u32>(), any::<u32>()), 0..4)),
    ) {
        let info = SenderInfo { ssrc: info.0, ntp: NtpTime(info.1), rtp_timestamp: info.2,
                                packet_count: info.3, octet_count: info.4 };
        let sdes_items: Vec<(u32, Vec<SdesItem<'_>>)> = sdes.iter()
            .map(|(ssrc, items)| (*ssrc, items.iter()
                .map(|(k, v)| SdesItem { kind: SdesType(*k), value: v }).collect()))
            .collect();
        let sdes_chunks: Vec<(u32, &[SdesItem<'_>])> =
            sdes_items.iter().map(|(s, i)| (*s, &i[..])).collect();
        let nack_pairs: Vec<NackPair> = nack.2.iter().map(|&(pid, blp)| NackPair { pid, blp }).collect();
        let fir_entries: Vec<FirEntry> = fir.1.iter().map(|&(ssrc, seq)| FirEntry { ssrc, seq }).collect();
        let tw_header = TwccHeader { sender_ssrc: twcc.0, media_ssrc: twcc.1, base_seq: twcc.2,
                                     reference_time: twcc.3, feedback_count: twcc.4 };
        let tw_packets: Vec<Option<TwccDelta>> = twcc.5.iter().map(|d| d.map(TwccDelta)).collect();
        let dlrr: Vec<DlrrItem> = xr.2.iter()
            .map(|&(ssrc, last_rr, delay_since_last_rr)| DlrrItem { ssrc, last_rr, delay_since_last_rr })
            .collect();

        let mut buf = Vec::new();
        let lens = [
            SenderReport::write(&mut buf, &info, &sr_blocks),
            ReceiverReport::write(&mut buf, 7, &rr_blocks),
            Sdes::write(&mut buf, &sdes_chunks),
            Bye::write(&mut buf, &bye.0, bye.1.as_deref()),
            App::write(&mut buf, app.0, app.1, app.2, &app.3),
            Nack::write(&mut buf, nack.0, nack.1, &nack_pairs),
            Pli::write(&mut buf, pli.0, pli.1),
            Fir::write(&mut buf, fir.0, &fir_entries),
            Remb::write(&mut buf, remb.0, remb.1, &remb.2),
            TransportFeedback::write(&mut buf, &tw_header, &tw_packets),
            ExtendedReport::write(&mut buf, xr.0, xr.1.map(NtpTime), &dlrr),
        ];
        prop_assert_eq!(lens.iter().sum::<usize>(), buf.len());
        prop_assert!(lens.iter().all(|l| l % 4 == 0));

        let c = Compound::parse(&buf).unwrap();
        let packets: Vec<RtcpPacket<'_>> = c.packets().map(Result::unwrap).collect();
        prop_assert_eq!(packets.len(), 11);
        for p in packets {
            match p {
                RtcpPacket::SenderReport(s) => {
                    prop_assert_eq!(s.info(), info);
                    prop_assert_eq!(s.report_blocks().collect::<Vec<_>>(), sr_blocks.clone());
                }
                RtcpPacket::ReceiverReport(r) => {
                    prop_assert_eq!(r.ssrc(), 7);
                    prop_assert_eq!(r.report_blocks().collect::<Vec<_>>(), rr_blocks.clone());
                }
                RtcpPacket::Sdes(s) => {
                    let got: Vec<(u32, Vec<SdesItem<'_>>)> =
                        s.chunks().map(|c| (c.ssrc, c.items().collect())).collect();
                    prop_assert_eq!(got, sdes_items.clone());
                }
                RtcpPacket::Bye(b) => {
                    prop_assert_eq!(b.ssrcs().collect::<Vec<_>>(), bye.0.clone());
                    prop_assert_eq!(b.reason(), bye.1.as_deref().map(str::as_bytes));
                }
                RtcpPacket::App(a) => {
                    prop_assert_eq!((a.subtype(), a.ssrc(), a.name()), (app.0, app.1, app.2));
                    prop_assert_eq!(&a.data()[..app.3.len()], &app.3[..]);
                    prop_assert!(a.data()[app.3.len()..].iter().all(|&b| b == 0));
                }
                RtcpPacket::Nack(n) => {
                    prop_assert_eq!((n.sender_ssrc(), n.media_ssrc()), (nack.0, nack.1));
                    prop_assert_eq!(n.pairs().collect::<Vec<_>>(), nack_pairs.clone());
                }
                RtcpPacket::Pli(p) => {
                    prop_assert_eq!((p.sender_ssrc, p.media_ssrc), pli);
                }
                RtcpPacket::Fir(f) => {
                    prop_assert_eq!(f.sender_ssrc(), fir.0);
                    prop_assert_eq!(f.entries().collect::<Vec<_>>(), fir_entries.clone());
                }
                RtcpPacket::Remb(r) => {
                    prop_assert_eq!((r.sender_ssrc(), r.bitrate()), (remb.0, remb.1));
                    prop_assert_eq!(r.ssrcs().collect::<Vec<_>>(), remb.2.clone());
                }
                RtcpPacket::TransportFeedback(t) => {
                    prop_assert_eq!(t.header(), tw_header);
                    let got: Vec<_> = t.packets().map(|s| s.delta).collect();
                    prop_assert_eq!(&got, &tw_packets);
                    let seqs: Vec<u16> = t.packets().map(|s| s.seq).collect();
                    let want: Vec<u16> = (0..tw_packets.len() as u16)
                        .map(|i| tw_header.base_seq.wrapping_add(i)).collect();
                    prop_assert_eq!(seqs, want);
                    // Arrival times are the reference time plus the running sum of deltas.
                    let mut at = i64::from(tw_header.reference_time) * 256;
                    for s in t.packets() {
                        if let Some(d) = s.delta {
                            at += i64::from(d.ticks());
                        }
                        prop_assert_eq!(s.arrival_ticks, s.delta.map(|_| at));
                    }
                }
                RtcpPacket::ExtendedReport(x) => {
                    prop_assert_eq!(x.ssrc(), xr.0);
                    let mut blocks = x.blocks();
                    if let Some(t) = xr.1 {
                        prop_assert_eq!(blocks.next(), Some(XrBlock::Rrtr(NtpTime(t))));
                    }
                    if !dlrr.is_empty() {
                        let Some(XrBlock::Dlrr(items)) = blocks.next() else {
                            return Err(TestCaseError::fail("no DLRR block"));
                        };
                        prop_assert_eq!(items.collect::<Vec<_>>(), dlrr.clone());
                    }
                    prop_assert_eq!(blocks.next(), None);
                }
                other => return Err(TestCaseError::fail(format!("unexpected {other:?}"))),
            }
        }
        touch_rtcp(&buf);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..200)) {
        touch_rtp(&data);
        touch_rtcp(&data);
    }

    #[test]
    fn mutated_packets_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        // Valid packets of every kind, then a few bytes overwritten and the end cut.
        let mut rtp = Vec::new();
        let mut w = RtpWriter::new(&mut rtp, &RtpHeader { csrcs: &[1, 2], ..Default::default() });
        w.extension(1, b"abc").extension(20, b"");
        let _ = w.finish(b"payload", 4);
        let mut rtcp = Vec::new();
        SenderReport::write(&mut rtcp, &SenderInfo::default(), &[ReportBlock::default()]);
        Sdes::write_cname(&mut rtcp, 1, "cname");
        Bye::write(&mut rtcp, &[1], Some("bye"));
        Nack::write_lost(&mut rtcp, 1, 2, [1, 2, 3, 40]);
        Remb::write(&mut rtcp, 1, 1_000_000, &[3]);
        let tw: Vec<_> = (0..40).map(|i: i16| (i % 3 != 0).then_some(TwccDelta(i * 37 - 200))).collect();
        TransportFeedback::write(&mut rtcp, &TwccHeader::default(), &tw);
        ExtendedReport::write(&mut rtcp, 1, Some(NtpTime(5)), &[DlrrItem::default()]);
        for buf in [&mut rtp, &mut rtcp] {
            for (i, b) in &flips {
                let at = i.index(buf.len());
                buf[at] = *b;
            }
            let end = cut.index(buf.len() + 1);
            touch_rtp(&buf[..end]);
            touch_rtcp(&buf[..end]);
            touch_rtp(buf);
            touch_rtcp(buf);
        }
    }

    #[test]
    fn receive_stats_count_losses(
        start in any::<u16>(),
        drops in prop::collection::vec(prop::bool::weighted(0.1), 2..3000),
    ) {
        // In-order delivery with drops; the first two always arrive, to pass probation, and
        // packets arrive exactly on their timestamps (10 ms at 90 kHz), so jitter stays 0.
        let kept = |i: usize| i < 2 || !drops[i];
        let t0 = Instant::now();
        let mut rx = ReceiveStats::new(1, 90_000);
        for i in (0..drops.len()).filter(|&i| kept(i)) {
            let seq = start.wrapping_add(i as u16);
            let got = rx.handle_packet(seq, 900 * i as u32, t0 + Duration::from_millis(10 * i as u64));
            if i == 0 {
                prop_assert_eq!(got, None, "on probation");
            } else {
                // Extended numbers count from the packet that ended probation.
                prop_assert_eq!(got, Some(u64::from(start.wrapping_add(1)) + i as u64 - 1));
            }
        }
        let last_kept = (0..drops.len()).rev().find(|&i| kept(i)).unwrap_or(1);
        let lost = (2..=last_kept).filter(|&i| !kept(i)).count() as i64;
        prop_assert_eq!(rx.cumulative_lost(), lost);
        prop_assert_eq!(rx.expected() as usize, last_kept);
        let block = rx.report_block(t0).unwrap();
        prop_assert_eq!(i64::from(block.cumulative_lost), lost);
        prop_assert_eq!(block.jitter, 0);
        let mut unwrap = SeqUnwrapper::new();
        prop_assert_eq!(unwrap.extend(start), i64::from(start));
    }
}
