//! Arbitrary bytes as an SCTP packet: the common header, every chunk, and every list inside a
//! chunk (INIT parameters, gap blocks, duplicate TSNs, forward-TSN streams, RE-CONFIG
//! parameters, error causes), plus DCEP messages. Parsing must never panic, and a DATA chunk
//! that parses must re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zvon_sctp::chunk::{self, Chunk, Tlvs};
use zvon_sctp::dcep;
use zvon_sctp::packet::Packet;

fuzz_target!(|data: &[u8]| {
    let _ = Packet::parse(data, true);
    let _ = dcep::Open::parse(data);
    let Ok(p) = Packet::parse_unchecked(data) else {
        return;
    };
    let _ = (p.source_port(), p.destination_port(), p.verification_tag(), p.checksum());
    for c in p.chunks() {
        let Ok(c) = c else { break };
        match c {
            Chunk::Data(d) => {
                let mut buf = Vec::new();
                chunk::put_data(&mut buf, &d);
                let whole = [&[0u8; 12][..], &buf].concat();
                let back = Packet::parse_unchecked(&whole)
                    .ok()
                    .and_then(|p| p.chunks().next())
                    .and_then(|c| c.ok());
                // Reserved I-DATA bytes are not kept, so compare the parsed views.
                assert_eq!(back, Some(Chunk::Data(d)));
            }
            Chunk::Init(i) | Chunk::InitAck(i) => {
                let _ = chunk::parse_init_params(i.params);
            }
            Chunk::Sack(s) => {
                let _ = s.gap_blocks().map(|(a, b)| a as u32 + b as u32).sum::<u32>();
                let _ = s.duplicates().count();
            }
            Chunk::ForwardTsn(f) => {
                let _ = f.streams().count();
            }
            Chunk::ReConfig(v) => {
                for p in chunk::reconfig_params(v) {
                    if let Ok(chunk::ReconfigParam::OutgoingReset { streams, .. }) = p {
                        let _ = streams.iter().count();
                    }
                }
            }
            Chunk::Abort { causes, .. } | Chunk::Error(causes) => {
                let _ = Tlvs::new(causes).count();
            }
            Chunk::Heartbeat(v) | Chunk::HeartbeatAck(v) => {
                let _ = Tlvs::new(v).count();
            }
            _ => {}
        }
    }
});
