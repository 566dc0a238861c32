//! Wire compatibility with another implementation, in memory: zvon-sctp against sctp-proto
//! 0.10 (str0m's engine). sctp-proto offers neither I-DATA nor zero checksum, so this also
//! checks that both fall back: DATA chunks and CRC32c on every packet. zvon opens an in-band
//! channel; the sctp-proto side plays the DCEP answerer by hand.
#![allow(clippy::disallowed_methods)] // ok: any instant will do as the origin

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sctp_proto::{
    DatagramEvent, Endpoint, EndpointConfig, Payload, PayloadProtocolIdentifier, ServerConfig,
};
use zvon_base::Rng;
use zvon_sctp::packet::Packet;
use zvon_sctp::{Association, ChannelOptions, Config, Event, MessageKind, Role};

const ZVON: &str = "127.0.0.1:5000";

struct Proto {
    ep: Endpoint,
    assoc: Option<(sctp_proto::AssociationHandle, sctp_proto::Association)>,
    got: Vec<(u16, PayloadProtocolIdentifier, Vec<u8>)>,
}

impl Proto {
    fn handle(&mut self, now: Instant, p: &[u8]) {
        let Some((h, ev)) = self.ep.handle(
            now,
            ZVON.parse::<SocketAddr>().unwrap(),
            None,
            None,
            Bytes::copy_from_slice(p),
        ) else {
            return;
        };
        match ev {
            DatagramEvent::NewAssociation(a) => self.assoc = Some((h, a)),
            DatagramEvent::AssociationEvent(e) => {
                if let Some((_, a)) = &mut self.assoc {
                    a.handle_event(e);
                }
            }
        }
    }

    fn drain(&mut self, now: Instant) -> Vec<Bytes> {
        let mut out = Vec::new();
        let Some((h, a)) = &mut self.assoc else {
            return out;
        };
        if a.poll_timeout().is_some_and(|t| t <= now) {
            a.handle_timeout(now);
        }
        loop {
            while let Some(e) = a.poll_endpoint_event() {
                if let Some(e) = self.ep.handle_event(*h, e) {
                    a.handle_event(e);
                }
            }
            while a.poll().is_some() {}
            while let Some(s) = a.accept_stream() {
                let _ = s.stream_identifier();
            }
            for sid in a.stream_ids() {
                if let Ok(mut s) = a.stream(sid) {
                    while let Ok(Some(chunks)) = s.read_sctp() {
                        let mut buf = vec![0; chunks.len()];
                        chunks.read(&mut buf).unwrap();
                        self.got.push((sid, chunks.ppi, buf));
                    }
                }
            }
            let Some(t) = a.poll_transmit(now) else { break };
            if let Payload::RawEncode(v) = t.payload {
                out.extend(v);
            }
        }
        out
    }
}

#[test]
fn zvon_and_sctp_proto_exchange_dcep_and_messages() {
    let now0 = Instant::now();
    let mut now = now0;
    let mut cfg = Config::new(Role::Client);
    cfg.remote_max_message_size = 1 << 20;
    let mut z = Association::new(cfg, Rng::from_seed_u64(7), now);
    z.connect(now).unwrap();
    let id = z.open_channel(ChannelOptions::new("interop")).unwrap();
    let mut sc = ServerConfig::new();
    sc.transport = Arc::new(
        sctp_proto::TransportConfig::default()
            .with_max_receive_message_size(1 << 20)
            .with_max_send_message_size(1 << 20),
    );
    let mut p = Proto {
        ep: Endpoint::new(Arc::new(EndpointConfig::new()), Some(Arc::new(sc))),
        assoc: None,
        got: Vec::new(),
    };
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7) as u8).collect();
    let mut buf = Vec::new();
    let mut zvon_got = Vec::new();
    let mut sent_big = false;
    let mut answered = false;
    for _ in 0..2000 {
        while let Some(n) = z.poll_transmit(now, &mut buf) {
            Packet::parse(&buf[..n], false)
                .expect("CRC32c on every packet to a peer without zero checksum");
            p.handle(now, &buf[..n]);
        }
        for q in p.drain(now) {
            z.handle_packet(now, &q)
                .expect("sctp-proto's packet parses");
        }
        while let Some(e) = z.poll_event() {
            match e {
                Event::ChannelOpen { id: i } if i == id && !sent_big => {
                    z.send(id, big.clone(), MessageKind::Binary).unwrap();
                    z.send(id, b"after big".to_vec(), MessageKind::Text)
                        .unwrap();
                    sent_big = true;
                }
                Event::Message { data, kind, .. } => zvon_got.push((data, kind)),
                Event::Aborted { reason } => panic!("aborted: {reason}"),
                _ => {}
            }
        }
        // The sctp-proto side answers the DCEP OPEN and sends two messages back.
        if !answered
            && p.got
                .iter()
                .any(|(_, ppi, d)| *ppi == PayloadProtocolIdentifier::Dcep && d.first() == Some(&3))
        {
            let (_, a) = p.assoc.as_mut().unwrap();
            let mut s = a.stream(id.0).unwrap();
            s.write_with_ppi(&[2], PayloadProtocolIdentifier::Dcep)
                .unwrap();
            s.write_with_ppi(b"from sctp-proto", PayloadProtocolIdentifier::String)
                .unwrap();
            s.write_with_ppi(&big[..5000], PayloadProtocolIdentifier::Binary)
                .unwrap();
            answered = true;
        }
        if zvon_got.len() == 2 && p.got.len() >= 3 {
            break;
        }
        now += Duration::from_millis(1);
        z.handle_timeout(now);
    }
    assert!(z.is_established());
    assert!(!z.interleaving() && !z.zero_checksum(), "both fall back");
    assert_eq!(
        zvon_got,
        vec![
            (b"from sctp-proto".to_vec(), MessageKind::Text),
            (big[..5000].to_vec(), MessageKind::Binary)
        ]
    );
    let user: Vec<_> = p
        .got
        .iter()
        .filter(|(_, ppi, _)| *ppi != PayloadProtocolIdentifier::Dcep)
        .collect();
    assert_eq!(user.len(), 2);
    assert_eq!(
        user[0].2, big,
        "200 kB fragmented by zvon, reassembled by sctp-proto"
    );
    assert_eq!(user[1].2, b"after big");
    assert!(
        now - now0 < Duration::from_secs(1),
        "no stalls: {:?}",
        now - now0
    );
}
