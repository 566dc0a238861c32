//! Parses arbitrary bytes as TURN ChannelData (datagram and stream framing) and checks that
//! what parsed encodes back to the bytes it came from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zvon_stun::{ChannelData, StreamFrame, stream_frame_len};

fuzz_target!(|data: &[u8]| {
    if let StreamFrame::ChannelData(n) | StreamFrame::Stun(n) = stream_frame_len(data) {
        assert!(n >= 4);
    }
    let Ok(cd) = ChannelData::parse(data) else {
        return;
    };
    assert!(cd.data().len() + 4 <= data.len());
    let mut out = Vec::new();
    let n = ChannelData::encode(cd.channel(), cd.data(), false, &mut out);
    assert_eq!(&out[..n], &data[..n]);
    out.clear();
    let padded = ChannelData::encode(cd.channel(), cd.data(), true, &mut out);
    assert_eq!(stream_frame_len(&out), StreamFrame::ChannelData(padded));
});
