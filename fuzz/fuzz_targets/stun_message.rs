//! Parses arbitrary bytes as a STUN message, walks every attribute, and runs every check a
//! receiver runs (fingerprint, integrity with a fixed key, comprehension). Also re-encodes
//! what parsed and requires the re-encoding to parse to the same attributes.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use zvon_stun::{Attribute, Encoder, IntegrityKey, Message};

fn key() -> &'static IntegrityKey {
    static KEY: OnceLock<IntegrityKey> = OnceLock::new();
    KEY.get_or_init(|| IntegrityKey::short_term("VOkJxbRl1RmTxUk/WvJxBt"))
}

fuzz_target!(|data: &[u8]| {
    let _ = zvon_stun::is_stun(data);
    let _ = zvon_stun::stream_frame_len(data);
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    let _ = format!("{msg:?}");
    let _ = (
        msg.username(),
        msg.realm(),
        msg.nonce(),
        msg.error_code(),
        msg.xor_mapped_address(),
    );
    let _ = (msg.xor_peer_address(), msg.data(), msg.lifetime());
    if let Err(u) = msg.check_comprehension() {
        assert!(u.types().count() > 0);
    }
    let _ = msg.verify_fingerprint();
    if let Ok(v) = msg.verify_integrity(key()) {
        let _ = v.ice();
    }

    // Round trip: what was decoded encodes to a message that decodes the same.
    let mut buf = Vec::new();
    let mut enc = Encoder::new(&mut buf, msg.message_type(), msg.transaction_id());
    let mut attrs = Vec::new();
    for a in msg.attributes() {
        if !matches!(
            a,
            Attribute::MessageIntegrity(_)
                | Attribute::MessageIntegritySha256(_)
                | Attribute::Fingerprint(_)
        ) {
            enc.add(&a);
            attrs.push(a);
        }
    }
    let _ = enc.finish_with_integrity(key());
    let again = Message::parse(&buf).expect("re-encoded message parses");
    again.verify_fingerprint().expect("fingerprint");
    again.verify_integrity(key()).expect("integrity");
    let round: Vec<_> = again
        .attributes()
        .filter(|a| {
            !matches!(
                a,
                Attribute::MessageIntegrity(_) | Attribute::Fingerprint(_)
            )
        })
        .collect();
    assert_eq!(round, attrs);
});
