//! Arbitrary bytes as a compound RTCP packet: the framing, then every known packet type as a
//! typed view with every accessor walked. Every packet that parses is written again with the
//! crate's writer for its type and must parse back to the same values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zvon_rtp::NtpTime;
use zvon_rtp::rtcp::{
    App, Bye, Compound, DlrrItem, ExtendedReport, Fir, Nack, Pli, ReceiverReport, Remb, RtcpPacket,
    Sdes, SdesItem, SenderReport, TransportFeedback, XrBlock,
};

/// Parses `buf`, which must hold exactly one known packet.
fn reparse(buf: &[u8]) -> RtcpPacket<'_> {
    let c = Compound::parse(buf).expect("written packet frames");
    let mut it = c.packets();
    let p = it
        .next()
        .expect("one packet")
        .expect("written packet parses");
    assert!(it.next().is_none());
    p
}

fuzz_target!(|data: &[u8]| {
    let Ok(c) = Compound::parse(data) else {
        return;
    };
    assert_eq!(c.raw().map(|r| r.bytes.len()).sum::<usize>(), data.len());
    for p in c.packets() {
        let Ok(p) = p else { continue };
        let mut out = Vec::new();
        match p {
            RtcpPacket::SenderReport(s) => {
                let blocks: Vec<_> = s.report_blocks().collect();
                let _ = s.extension();
                SenderReport::write(&mut out, &s.info(), &blocks);
                let RtcpPacket::SenderReport(t) = reparse(&out) else {
                    panic!()
                };
                assert_eq!(
                    (t.info(), t.report_blocks().collect::<Vec<_>>()),
                    (s.info(), blocks)
                );
            }
            RtcpPacket::ReceiverReport(r) => {
                let blocks: Vec<_> = r.report_blocks().collect();
                let _ = r.extension();
                ReceiverReport::write(&mut out, r.ssrc(), &blocks);
                let RtcpPacket::ReceiverReport(t) = reparse(&out) else {
                    panic!()
                };
                assert_eq!(t.report_blocks().collect::<Vec<_>>(), blocks);
            }
            RtcpPacket::Sdes(s) => {
                let chunks: Vec<(u32, Vec<SdesItem<'_>>)> =
                    s.chunks().map(|c| (c.ssrc, c.items().collect())).collect();
                for (ssrc, _) in &chunks {
                    let _ = s.cname(*ssrc);
                }
                let refs: Vec<(u32, &[SdesItem<'_>])> =
                    chunks.iter().map(|(s, i)| (*s, &i[..])).collect();
                Sdes::write(&mut out, &refs);
                let RtcpPacket::Sdes(t) = reparse(&out) else {
                    panic!()
                };
                let again: Vec<(u32, Vec<SdesItem<'_>>)> =
                    t.chunks().map(|c| (c.ssrc, c.items().collect())).collect();
                assert_eq!(again, chunks);
            }
            RtcpPacket::Bye(b) => {
                let ssrcs: Vec<_> = b.ssrcs().collect();
                // The writer takes text; compare reasons only when they are UTF-8.
                let reason = b.reason().and_then(|r| std::str::from_utf8(r).ok());
                Bye::write(&mut out, &ssrcs, reason);
                let RtcpPacket::Bye(t) = reparse(&out) else {
                    panic!()
                };
                assert_eq!(t.ssrcs().collect::<Vec<_>>(), ssrcs);
                assert_eq!(t.reason(), reason.map(str::as_bytes));
            }
            RtcpPacket::App(a) => {
                App::write(&mut out, a.subtype(), a.ssrc(), a.name(), a.data());
                let RtcpPacket::App(t) = reparse(&out) else {
                    panic!()
                };
                assert_eq!(
                    (t.subtype(), t.ssrc(), t.name()),
                    (a.subtype(), a.ssrc(), a.name())
                );
                // RTCP padding may cut the data off a word boundary; the writer pads it back.
                let (head, pad) = t.data().split_at(a.data().len());
                assert_eq!(head, a.data());
                assert!(pad.len() < 4 && pad.iter().all(|&b| b == 0));
            }
            RtcpPacket::Nack(n) => {
                let pairs: Vec<_> = n.pairs().collect();
                assert!(n.lost().count() >= pairs.len());
                Nack::write(&mut out, n.sender_ssrc(), n.media_ssrc(), &pairs);
                let RtcpPacket::Nack(t) = reparse(&out) else {
                    panic!()
                };
                assert_eq!(t.pairs().collect::<Vec<_>>(), pairs);
            }
            RtcpPacket::TransportFeedback(f) => {
                let statuses: Vec<_> = f.packets().collect();
                assert_eq!(statuses.len(), usize::from(f.status_count()));
                let deltas: Vec<_> = statuses.iter().map(|s| s.delta).collect();
                TransportFeedback::write(&mut out, &f.header(), &deltas);
                let RtcpPacket::TransportFeedback(t) = reparse(&out) else {
                    panic!()
                };
                assert_eq!(t.header(), f.header());
                assert_eq!(t.packets().collect::<Vec<_>>(), statuses);
            }
            RtcpPacket::Pli(p) => {
                Pli::write(&mut out, p.sender_ssrc, p.media_ssrc);
                assert_eq!(reparse(&out), RtcpPacket::Pli(p));
            }
            RtcpPacket::Fir(f) => {
                let entries: Vec<_> = f.entries().collect();
                Fir::write(&mut out, f.sender_ssrc(), &entries);
                let RtcpPacket::Fir(t) = reparse(&out) else {
                    panic!()
                };
                assert_eq!(t.entries().collect::<Vec<_>>(), entries);
            }
            RtcpPacket::Remb(r) => {
                let ssrcs: Vec<_> = r.ssrcs().collect();
                Remb::write(&mut out, r.sender_ssrc(), r.bitrate(), &ssrcs);
                let RtcpPacket::Remb(t) = reparse(&out) else {
                    panic!()
                };
                // A saturated bitrate is rounded down to 18 bits of mantissa again.
                assert!(t.bitrate() <= r.bitrate());
                assert_eq!(t.ssrcs().collect::<Vec<_>>(), ssrcs);
            }
            RtcpPacket::ExtendedReport(x) => {
                let mut rrtr: Option<NtpTime> = None;
                let mut dlrr: Vec<DlrrItem> = Vec::new();
                for b in x.blocks() {
                    match b {
                        XrBlock::Rrtr(t) => rrtr = rrtr.or(Some(t)),
                        XrBlock::Dlrr(items) => dlrr.extend(items),
                        _ => {}
                    }
                }
                ExtendedReport::write(&mut out, x.ssrc(), rrtr, &dlrr);
                let RtcpPacket::ExtendedReport(t) = reparse(&out) else {
                    panic!()
                };
                assert_eq!(t.ssrc(), x.ssrc());
            }
            _ => {}
        }
    }
});
