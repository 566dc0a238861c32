//! One driver shape for every engine: two associations in memory, packets handed over as soon
//! as they are produced, one at a time, the receiver draining its output after each packet.
#![allow(unreachable_pub)] // a bench module: pub for the bench binary only

use std::time::Instant;

use zvon_base::Rng;
use zvon_sctp::{Association, ChannelId, ChannelOptions, Config, Event, MessageKind, Role};

pub trait Engine {
    const NAME: &'static str;
    fn new(mtu: usize) -> Self;
    /// Queues one message; `false` if the engine refused it.
    fn send(&mut self, msg: &[u8]) -> bool;
    /// Bytes queued and not yet sent.
    fn buffered(&mut self) -> usize;
    /// Moves packets both ways until both sides are idle; returns (bytes, messages) delivered.
    fn pump(&mut self, now: Instant) -> (u64, u64);
}

/// zvon-sctp; `ZERO` selects zero checksum (RFC 9653, what two zvon peers or Chromium use)
/// or CRC32c on every packet.
pub struct Zvon<const ZERO: bool> {
    a: Association,
    b: Association,
    id: ChannelId,
    buf: Vec<u8>,
    buf2: Vec<u8>,
}

impl<const ZERO: bool> Engine for Zvon<ZERO> {
    const NAME: &'static str = if ZERO {
        "zvon (zero checksum)"
    } else {
        "zvon (CRC32c)"
    };
    fn new(mtu: usize) -> Self {
        let now = Instant::now();
        let cfg = |role| {
            let mut c = Config::new(role);
            c.mtu = mtu;
            c.max_message_size = 1 << 20;
            c.remote_max_message_size = 1 << 20;
            c.zero_checksum = ZERO;
            c
        };
        let mut a = Association::new(cfg(Role::Client), Rng::from_seed_u64(1), now);
        let mut b = Association::new(cfg(Role::Server), Rng::from_seed_u64(2), now);
        a.connect(now).unwrap();
        let mut o = ChannelOptions::new("bulk");
        o.negotiated = Some(0);
        let id = a.open_channel(o.clone()).unwrap();
        b.open_channel(o).unwrap();
        let mut z = Zvon {
            a,
            b,
            id,
            buf: Vec::with_capacity(2048),
            buf2: Vec::with_capacity(2048),
        };
        for _ in 0..10 {
            z.pump(now);
        }
        assert!(z.a.is_established() && z.b.is_established());
        z
    }
    fn send(&mut self, msg: &[u8]) -> bool {
        self.a
            .send(self.id, msg.to_vec(), MessageKind::Binary)
            .is_ok()
    }
    fn buffered(&mut self) -> usize {
        self.a.buffered_amount(self.id)
    }
    fn pump(&mut self, now: Instant) -> (u64, u64) {
        let (mut bytes, mut msgs) = (0, 0);
        loop {
            let mut progress = false;
            if self.a.poll_timeout().is_some_and(|t| t <= now) {
                self.a.handle_timeout(now);
            }
            if self.b.poll_timeout().is_some_and(|t| t <= now) {
                self.b.handle_timeout(now);
            }
            if let Some(n) = self.a.poll_transmit(now, &mut self.buf) {
                let _ = self.b.handle_packet(now, &self.buf[..n]);
                progress = true;
            }
            while let Some(n) = self.b.poll_transmit(now, &mut self.buf2) {
                let _ = self.a.handle_packet(now, &self.buf2[..n]);
                progress = true;
            }
            while let Some(e) = self.b.poll_event() {
                if let Event::Message { data, .. } = e {
                    bytes += data.len() as u64;
                    msgs += 1;
                }
            }
            while self.a.poll_event().is_some() {}
            if !progress {
                return (bytes, msgs);
            }
        }
    }
}

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;

const A: &str = "127.0.0.1:5000";
const B: &str = "127.0.0.1:5001";

/// sctp-proto 0.10 (str0m 0.25's engine). Its MTU is fixed at 1228 (1200-byte payloads).
pub struct SctpProto {
    ep_a: sctp_proto::Endpoint,
    ep_b: sctp_proto::Endpoint,
    a: sctp_proto::Association,
    ha: sctp_proto::AssociationHandle,
    b: Option<(sctp_proto::AssociationHandle, sctp_proto::Association)>,
    accepted: bool,
    read_buf: Vec<u8>,
}

impl SctpProto {
    fn deliver_to_b(&mut self, now: Instant, p: Bytes) {
        use sctp_proto::DatagramEvent;
        let Some((h, ev)) = self.ep_b.handle(now, A.parse().unwrap(), None, None, p) else {
            return;
        };
        match ev {
            DatagramEvent::NewAssociation(a) => self.b = Some((h, a)),
            DatagramEvent::AssociationEvent(e) => {
                if let Some((_, b)) = &mut self.b {
                    b.handle_event(e);
                }
            }
        }
    }
    fn deliver_to_a(&mut self, now: Instant, p: Bytes) {
        if let Some((_, sctp_proto::DatagramEvent::AssociationEvent(e))) =
            self.ep_a.handle(now, B.parse().unwrap(), None, None, p)
        {
            self.a.handle_event(e);
        }
    }
}

fn proto_out(t: Option<sctp_proto::Transmit>, out: &mut Vec<Bytes>) -> bool {
    match t {
        Some(t) => {
            if let sctp_proto::Payload::RawEncode(v) = t.payload {
                out.extend(v);
            }
            true
        }
        None => false,
    }
}

impl Engine for SctpProto {
    const NAME: &'static str = "sctp-proto";
    fn new(_mtu: usize) -> Self {
        use sctp_proto::{ClientConfig, EndpointConfig, ServerConfig, TransportConfig};
        let now = Instant::now();
        let tc = || {
            Arc::new(
                TransportConfig::default()
                    .with_max_send_message_size(1 << 20)
                    .with_max_receive_message_size(1 << 20)
                    .with_max_receive_buffer_size(4 << 20),
            )
        };
        let mut ep_a = sctp_proto::Endpoint::new(Arc::new(EndpointConfig::new()), None);
        let mut sc = ServerConfig::new();
        sc.transport = tc();
        let ep_b = sctp_proto::Endpoint::new(Arc::new(EndpointConfig::new()), Some(Arc::new(sc)));
        let mut cc = ClientConfig::new();
        cc.transport = tc();
        let (ha, mut a) = ep_a.connect(cc, B.parse().unwrap()).unwrap();
        a.open_stream(0, sctp_proto::PayloadProtocolIdentifier::Binary)
            .unwrap();
        let mut e = SctpProto {
            ep_a,
            ep_b,
            a,
            ha,
            b: None,
            accepted: false,
            read_buf: vec![0; 1 << 20],
        };
        for _ in 0..20 {
            e.pump(now);
        }
        assert!(e.b.is_some(), "sctp-proto handshake");
        e
    }
    fn send(&mut self, msg: &[u8]) -> bool {
        let Ok(mut s) = self.a.stream(0) else {
            return false;
        };
        s.write_sctp(
            &Bytes::copy_from_slice(msg),
            sctp_proto::PayloadProtocolIdentifier::Binary,
        )
        .is_ok()
    }
    fn buffered(&mut self) -> usize {
        self.a
            .stream(0)
            .ok()
            .and_then(|s| s.buffered_amount().ok())
            .unwrap_or(usize::MAX)
    }
    fn pump(&mut self, now: Instant) -> (u64, u64) {
        let (mut bytes, mut msgs) = (0, 0);
        let mut out_a = Vec::new();
        let mut out_b = Vec::new();
        loop {
            let mut progress = false;
            if self.a.poll_timeout().is_some_and(|t| t <= now) {
                self.a.handle_timeout(now);
            }
            if let Some((_, b)) = &mut self.b
                && b.poll_timeout().is_some_and(|t| t <= now)
            {
                b.handle_timeout(now);
            }
            while let Some(ev) = self.a.poll_endpoint_event() {
                if let Some(e) = self.ep_a.handle_event(self.ha, ev) {
                    self.a.handle_event(e);
                }
            }
            while self.a.poll().is_some() {}
            proto_out(self.a.poll_transmit(now), &mut out_a);
            for p in out_a.drain(..) {
                progress = true;
                self.deliver_to_b(now, p);
                // The receiver answers after each packet.
                if let Some((hb, b)) = &mut self.b {
                    while let Some(ev) = b.poll_endpoint_event() {
                        if let Some(e) = self.ep_b.handle_event(*hb, ev) {
                            b.handle_event(e);
                        }
                    }
                    while b.poll().is_some() {}
                    while proto_out(b.poll_transmit(now), &mut out_b) {}
                }
                for q in out_b.drain(..) {
                    self.deliver_to_a(now, q);
                }
            }
            if let Some((_, b)) = &mut self.b {
                if !self.accepted {
                    self.accepted = b.accept_stream().is_some();
                }
                if self.accepted
                    && let Ok(mut s) = b.stream(0)
                {
                    while let Ok(Some(chunks)) = s.read_sctp() {
                        let n = chunks.read(&mut self.read_buf).unwrap_or(0);
                        bytes += n as u64;
                        msgs += 1;
                    }
                }
            }
            if !progress {
                return (bytes, msgs);
            }
        }
    }
}

/// rtc-sctp 0.21 (webrtc-rs's sans-IO SCTP).
pub struct RtcSctp {
    ep_a: rtc_sctp::Endpoint,
    ep_b: rtc_sctp::Endpoint,
    a: rtc_sctp::Association,
    ha: rtc_sctp::AssociationHandle,
    b: Option<(rtc_sctp::AssociationHandle, rtc_sctp::Association)>,
    accepted: bool,
    read_buf: Vec<u8>,
    now: Instant,
}

fn rtc_out(
    t: Option<rtc_shared::TransportMessage<rtc_sctp::Payload>>,
    out: &mut Vec<Bytes>,
) -> bool {
    match t {
        Some(t) => {
            if let rtc_sctp::Payload::RawEncode(v) = t.message {
                out.extend(v);
            }
            true
        }
        None => false,
    }
}

impl RtcSctp {
    fn deliver_to_b(&mut self, now: Instant, p: Bytes) {
        use rtc_sctp::DatagramEvent;
        let Some((h, ev)) = self.ep_b.handle(now, A.parse().unwrap(), None, p) else {
            return;
        };
        match ev {
            DatagramEvent::NewAssociation(a) => self.b = Some((h, a)),
            DatagramEvent::AssociationEvent(e) => {
                if let Some((_, b)) = &mut self.b {
                    b.handle_event(e);
                }
            }
            _ => {}
        }
    }
    fn deliver_to_a(&mut self, now: Instant, p: Bytes) {
        if let Some((_, rtc_sctp::DatagramEvent::AssociationEvent(e))) =
            self.ep_a.handle(now, B.parse().unwrap(), None, p)
        {
            self.a.handle_event(e);
        }
    }
}

impl Engine for RtcSctp {
    const NAME: &'static str = "rtc-sctp";
    fn new(mtu: usize) -> Self {
        use rtc_sctp::{ClientConfig, EndpointConfig, ServerConfig, TransportConfig};
        use rtc_shared::TransportProtocol;
        let now = Instant::now();
        let tc = || {
            TransportConfig::default()
                .with_max_message_size(1 << 20)
                .with_max_receive_buffer_size(4 << 20)
        };
        let mut ec = EndpointConfig::default();
        ec.max_payload_size(rtc_sctp::max_payload_size_for_mtu(mtu as u32));
        let ec = Arc::new(ec);
        let a_addr: SocketAddr = A.parse().unwrap();
        let b_addr: SocketAddr = B.parse().unwrap();
        let mut ep_a = rtc_sctp::Endpoint::new(a_addr, TransportProtocol::UDP, ec.clone(), None);
        let ep_b = rtc_sctp::Endpoint::new(
            b_addr,
            TransportProtocol::UDP,
            ec,
            Some(Arc::new(ServerConfig::new(tc()))),
        );
        let (ha, mut a) = ep_a.connect(now, ClientConfig::new(tc()), b_addr).unwrap();
        a.open_stream(0, rtc_sctp::PayloadProtocolIdentifier::Binary)
            .unwrap();
        let mut e = RtcSctp {
            ep_a,
            ep_b,
            a,
            ha,
            b: None,
            accepted: false,
            read_buf: vec![0; 1 << 20],
            now,
        };
        for _ in 0..20 {
            e.pump(now);
        }
        assert!(e.b.is_some(), "rtc-sctp handshake");
        e
    }
    fn send(&mut self, msg: &[u8]) -> bool {
        let now = self.now;
        let Ok(mut s) = self.a.stream(0) else {
            return false;
        };
        s.write_sctp(
            now,
            &Bytes::copy_from_slice(msg),
            rtc_sctp::PayloadProtocolIdentifier::Binary,
        )
        .is_ok()
    }
    fn buffered(&mut self) -> usize {
        self.a
            .stream(0)
            .ok()
            .and_then(|s| s.buffered_amount().ok())
            .unwrap_or(usize::MAX)
    }
    fn pump(&mut self, now: Instant) -> (u64, u64) {
        self.now = now;
        let (mut bytes, mut msgs) = (0, 0);
        let mut out_a = Vec::new();
        let mut out_b = Vec::new();
        loop {
            let mut progress = false;
            if self.a.poll_timeout().is_some_and(|t| t <= now) {
                self.a.handle_timeout(now);
            }
            if let Some((_, b)) = &mut self.b
                && b.poll_timeout().is_some_and(|t| t <= now)
            {
                b.handle_timeout(now);
            }
            while let Some(ev) = self.a.poll_endpoint_event() {
                self.ep_a.handle_event(self.ha, ev);
            }
            while self.a.poll().is_some() {}
            rtc_out(self.a.poll_transmit(now), &mut out_a);
            for p in out_a.drain(..) {
                progress = true;
                self.deliver_to_b(now, p);
                if let Some((hb, b)) = &mut self.b {
                    while let Some(ev) = b.poll_endpoint_event() {
                        self.ep_b.handle_event(*hb, ev);
                    }
                    while b.poll().is_some() {}
                    while rtc_out(b.poll_transmit(now), &mut out_b) {}
                }
                for q in out_b.drain(..) {
                    self.deliver_to_a(now, q);
                }
            }
            if let Some((_, b)) = &mut self.b {
                if !self.accepted {
                    self.accepted = b.accept_stream().is_some();
                }
                if self.accepted
                    && let Ok(mut s) = b.stream(0)
                {
                    while let Ok(Some(chunks)) = s.read_sctp() {
                        let n = chunks.read(&mut self.read_buf).unwrap_or(0);
                        bytes += n as u64;
                        msgs += 1;
                    }
                }
            }
            if !progress {
                return (bytes, msgs);
            }
        }
    }
}
