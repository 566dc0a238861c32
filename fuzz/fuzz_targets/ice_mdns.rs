//! The mDNS/DNS message parser, and the resolver fed the same bytes: no panic, no hang;
//! whatever parses re-encodes to something that parses to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zvon_ice::mdns::{Message, MdnsResolver};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Message::parse(data) {
        let mut buf = Vec::new();
        m.encode(&mut buf);
        // Names are normalised on parse (lower case, non-printables as '?'), so a second
        // round must be a fixed point.
        let again = Message::parse(&buf).expect("re-encoded message parses");
        let mut buf2 = Vec::new();
        again.encode(&mut buf2);
        assert_eq!(buf, buf2);
    }
    #[allow(clippy::disallowed_methods)]
    let now = std::time::Instant::now();
    let mut r = MdnsResolver::new(zvon_base::Rng::from_seed_u64(1));
    r.resolve(now, "0b3c1d5e-2f4a-4b6c-8d7e-9f0a1b2c3d4e.local");
    let _ = r.handle_datagram(now, data);
    let mut out = Vec::new();
    while r.poll_transmit(now, &mut out).is_some() {}
    while r.poll_event().is_some() {}
});
