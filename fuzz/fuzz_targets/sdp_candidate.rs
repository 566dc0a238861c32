//! ICE candidates in trickle form (`candidate:...`, as `RTCIceCandidateInit` carries them from
//! the remote peer) and single attribute lines: no panic, and a round trip when they parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zvon_sdp::{Attribute, Candidate};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = Candidate::parse(text) {
        let written = c.to_string();
        let again = Candidate::parse(&written).unwrap_or_else(|e| panic!("{written}: {e}"));
        assert_eq!(again, c);
        let _ = c.address.is_mdns();
    }
    if let Ok(a) = Attribute::parse(text) {
        let written = a.to_string();
        let again = Attribute::parse(&written).unwrap_or_else(|e| panic!("{written}: {e}"));
        assert_eq!(again, a);
    }
});
