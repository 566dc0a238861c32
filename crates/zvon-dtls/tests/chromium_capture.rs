//! Chromium 156's real ClientHello (captured on loopback, /work/shared/captures or
//! tests/data/captures) fed into a server-role transport: fragment reassembly, the
//! X25519MLKEM768 key share beside x25519, and the version choice, on real bytes.

use std::path::PathBuf;
use std::time::Instant;

use pcap_parser::pcapng::Block;
use pcap_parser::{Linktype, PcapBlockOwned, PcapNGSlice};
use zvon_base::{DatagramKind, Rng, classify};
use zvon_dtls::*;

struct Datagram {
    src_port: u16,
    payload: Vec<u8>,
}

fn capture_path(name: &str) -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        here.join("../../tests/data/captures").join(name),
        here.join("../../../shared/captures").join(name),
        PathBuf::from("/work/shared/captures").join(name),
    ];
    candidates
        .iter()
        .find(|p| p.exists())
        .cloned()
        .unwrap_or_else(|| panic!("capture {name} not found in {candidates:?}"))
}

/// UDP payloads of a pcapng capture, in order.
fn udp_datagrams(file: &str) -> Vec<Datagram> {
    let bytes = std::fs::read(capture_path(file)).unwrap();
    let mut linktypes = vec![];
    let mut out = vec![];
    for block in PcapNGSlice::from_slice(&bytes).unwrap() {
        let PcapBlockOwned::NG(block) = block.unwrap() else {
            continue;
        };
        match block {
            Block::InterfaceDescription(idb) => linktypes.push(idb.linktype),
            Block::EnhancedPacket(epb) => {
                let lt = linktypes[epb.if_id as usize];
                let frame = &epb.data[..epb.caplen as usize];
                let ip = match lt {
                    Linktype::ETHERNET => &frame[14..],
                    Linktype::LINUX_SLL => &frame[16..],
                    Linktype::LINUX_SLL2 => &frame[20..],
                    Linktype::NULL => &frame[4..],
                    Linktype::RAW => frame,
                    other => panic!("link type {other:?}"),
                };
                let (proto, l4) = match ip[0] >> 4 {
                    4 => (ip[9], &ip[((ip[0] & 15) as usize) * 4..]),
                    6 => (ip[6], &ip[40..]),
                    _ => continue,
                };
                if proto != 17 {
                    continue;
                }
                out.push(Datagram {
                    src_port: u16::from_be_bytes([l4[0], l4[1]]),
                    payload: l4[8..].to_vec(),
                });
            }
            _ => {}
        }
    }
    out
}

/// Handshake message types in the plaintext (epoch 0) handshake records of a datagram.
fn plaintext_handshake_types(datagram: &[u8]) -> Vec<u8> {
    plaintext_records(datagram).0
}

/// `true` when the datagram holds a DTLS 1.3 ciphertext record (unified header, bits 001).
fn has_unified_header_record(datagram: &[u8]) -> bool {
    plaintext_records(datagram)
        .1
        .first()
        .is_some_and(|b| b & 0xe0 == 0x20)
}

fn plaintext_records(datagram: &[u8]) -> (Vec<u8>, &[u8]) {
    let mut types = vec![];
    let mut rest = datagram;
    // DTLSPlaintext: type(1) version(2) epoch(2) seq(6) length(2); 1.3 ciphertext records use
    // the unified header (first bits 001) and are skipped whole when their length is known.
    while rest.len() >= 13 && rest[0] == 22 {
        let len = u16::from_be_bytes([rest[11], rest[12]]) as usize;
        let Some(body) = rest.get(13..13 + len) else {
            break;
        };
        if !body.is_empty() {
            types.push(body[0]);
        }
        rest = &rest[13 + len..];
    }
    (types, rest)
}

/// The client's DTLS datagrams up to the server's first answer.
fn client_hello_flight(file: &str) -> Vec<Vec<u8>> {
    let dgs = udp_datagrams(file);
    let first = dgs
        .iter()
        .find(|d| classify(&d.payload) == DatagramKind::Dtls)
        .expect("a DTLS datagram");
    let client_port = first.src_port;
    let mut flight = vec![];
    for d in &dgs {
        if classify(&d.payload) != DatagramKind::Dtls {
            continue;
        }
        if d.src_port != client_port {
            break;
        }
        flight.push(d.payload.clone());
    }
    flight
}

fn answer(file: &str, versions: VersionPolicy) -> (DtlsTransport, Vec<Vec<u8>>, usize) {
    let flight = client_hello_flight(file);
    let mut rng = Rng::from_seed_u64(1);
    let id = DtlsIdentity::generate(&mut rng).unwrap();
    let mut cfg = DtlsConfig::default();
    cfg.versions = versions;
    // One instant for the whole exchange: no timer fires.
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut server = DtlsTransport::new(&cfg, &id, DtlsRole::Server, &mut rng, now).unwrap();
    let mut buf = vec![0; server.max_datagram_len()];
    assert!(
        server.poll_transmit(now, &mut buf).is_none(),
        "a server speaks second"
    );
    for d in &flight {
        server.handle_datagram(now, d).unwrap();
    }
    let mut out = vec![];
    while let Some(n) = server.poll_transmit(now, &mut buf) {
        out.push(buf[..n].to_vec());
    }
    assert!(server.poll_event().is_none(), "no Connected, no failure");
    let n = flight.len();
    (server, out, n)
}

fn assert_server_hello(out: &[Vec<u8>]) {
    assert!(!out.is_empty(), "the server answered");
    let types: Vec<u8> = out
        .iter()
        .flat_map(|d| plaintext_handshake_types(d))
        .collect();
    assert!(types.contains(&2), "a ServerHello (type 2) in {types:?}");
    assert!(
        !types.contains(&3),
        "no HelloVerifyRequest: cookies are off"
    );
    for d in out {
        assert_eq!(classify(d), DatagramKind::Dtls);
    }
}

#[test]
fn chromium_dtls13_client_hello_gets_a_dtls13_server_hello() {
    let (server, out, fragments) = answer("chromium156-dtls13.pcapng", VersionPolicy::Auto);
    // The capture's ClientHello really is fragmented, and carries the 1216-byte PQ share.
    assert!(fragments >= 2, "{fragments} datagram(s)");
    assert_server_hello(&out);
    assert_eq!(server.version(), Some(DtlsVersion::Dtls13));
    // In 1.3 everything after the ServerHello is encrypted (unified header, first bits 001).
    assert!(
        out.iter().any(|d| has_unified_header_record(d)),
        "encrypted 1.3 records follow"
    );
}

#[test]
fn chromium_dtls13_client_hello_falls_back_cleanly_to_dtls12() {
    let (server, out, _) = answer("chromium156-dtls13.pcapng", VersionPolicy::Dtls12);
    assert_server_hello(&out);
    assert_eq!(server.version(), Some(DtlsVersion::Dtls12));
    // A 1.2 server's first flight: ServerHello, Certificate, ServerKeyExchange,
    // CertificateRequest, ServerHelloDone, all plaintext.
    let types: Vec<u8> = out
        .iter()
        .flat_map(|d| plaintext_handshake_types(d))
        .collect();
    for t in [2u8, 11, 12, 13, 14] {
        assert!(types.contains(&t), "type {t} in {types:?}");
    }
}

#[test]
fn chromium_dtls12_capture_client_hello_is_answered() {
    for versions in [VersionPolicy::Auto, VersionPolicy::Dtls12] {
        let (server, out, _) = answer("chromium156-dtls12.pcapng", versions);
        assert_server_hello(&out);
        assert!(server.version().is_some());
        if versions == VersionPolicy::Dtls12 {
            assert_eq!(server.version(), Some(DtlsVersion::Dtls12));
        }
    }
}
