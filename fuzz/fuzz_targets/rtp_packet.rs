//! Arbitrary bytes as an RTP packet: every accessor, every RFC 8285 element, the WebRTC
//! extension values through a map that names all of them. What parses must re-encode, through
//! `RtpWriter`, to a packet with the same header, elements, payload and padding, and the
//! decoded extension values must survive a write and a parse unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zvon_rtp::ext::Extension;
use zvon_rtp::{ExtensionMap, RtpHeader, RtpPacket, RtpWriter};

fuzz_target!(|data: &[u8]| {
    let mut map = ExtensionMap::new();
    for (i, e) in Extension::ALL.into_iter().enumerate() {
        map.insert(i as u8 + 1, e);
    }
    let Ok(p) = RtpPacket::new_checked(data) else {
        return;
    };
    assert_eq!(
        p.header_len() + p.payload().len() + p.padding_len(),
        data.len()
    );
    let csrcs: Vec<u32> = p.csrcs().collect();
    assert_eq!(csrcs.len(), p.csrc_count());
    let elements: Vec<(u8, &[u8])> = p.extensions().collect();
    for &(id, _) in &elements {
        assert!(p.extension(id).is_some());
    }
    let values = p.extension_values(&map);

    // Re-encode; opaque (non-RFC 8285) extensions cannot be written by the writer.
    if p.extension_profile().is_none() || p.extension_form().is_some() {
        let mut out = Vec::new();
        let mut w = RtpWriter::new(
            &mut out,
            &RtpHeader {
                marker: p.marker(),
                payload_type: p.payload_type(),
                sequence_number: p.sequence_number(),
                timestamp: p.timestamp(),
                ssrc: p.ssrc(),
                csrcs: &csrcs,
            },
        );
        for &(id, v) in &elements {
            w.extension(id, v);
        }
        let len = w.finish(p.payload(), p.padding_len() as u8);
        let q = RtpPacket::new_checked(&out[..len]).expect("re-encoded packet parses");
        assert_eq!(
            (
                q.marker(),
                q.payload_type(),
                q.sequence_number(),
                q.timestamp(),
                q.ssrc()
            ),
            (
                p.marker(),
                p.payload_type(),
                p.sequence_number(),
                p.timestamp(),
                p.ssrc()
            )
        );
        assert_eq!(q.csrcs().collect::<Vec<_>>(), csrcs);
        assert_eq!(q.extensions().collect::<Vec<_>>(), elements);
        assert_eq!(
            (q.payload(), q.padding_len()),
            (p.payload(), p.padding_len())
        );
    }

    let mut out = Vec::new();
    let mut w = RtpWriter::new(&mut out, &RtpHeader::default());
    w.extension_values(&map, &values);
    let len = w.finish(&[], 0);
    let q = RtpPacket::new_checked(&out[..len]).expect("extension values re-encode");
    assert_eq!(q.extension_values(&map), values);

    // The setters on a mutable copy touch the header only.
    let mut copy = data.to_vec();
    let mut m = RtpPacket::new_checked(&mut copy[..]).expect("same bytes");
    m.set_marker(!p.marker());
    m.set_payload_type(p.payload_type() ^ 1);
    m.set_sequence_number(p.sequence_number().wrapping_add(1));
    m.set_timestamp(!p.timestamp());
    m.set_ssrc(!p.ssrc());
    let _ = m.payload_mut().len();
    assert_eq!(copy[12..], data[12..]);
});
