//! Session descriptions: parsing never panics, and whatever parses survives write -> parse
//! unchanged (the round trip the JSEP layer relies on).
#![no_main]

use libfuzzer_sys::fuzz_target;
use zvon_sdp::SessionDescription;

fuzz_target!(|data: &[u8]| {
    let Ok(desc) = SessionDescription::parse_bytes(data) else {
        return;
    };
    let written = desc.to_string();
    let again = match SessionDescription::parse(&written) {
        Ok(d) => d,
        Err(e) => panic!("rewritten description does not parse: {e}\n{written}"),
    };
    assert_eq!(again, desc, "parse(write(parse(x))) != parse(x)\n{written}");
    assert_eq!(again.to_string(), written, "writing is not stable");
    // The getters the upper layers call walk every attribute; they must not panic either.
    for m in &desc.media {
        let _ = m.codecs();
        let _ = desc.ice_credentials_of(m);
        let _ = desc.fingerprints_of(m);
        let _ = m.attributes.ssrc_ids();
        let _ = m.is_rejected();
    }
});
