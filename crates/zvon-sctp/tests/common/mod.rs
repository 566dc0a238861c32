//! Test harness: an `Association` as a zvon-netsim node, with a bulk sender/receiver that
//! checks every byte, and helpers to build a two-peer simulation.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use zvon_base::Rng;
use zvon_netsim::{Datagram, HostConfig, HostId, LinkConfig, Node, Sim, SimConfig};
use zvon_sctp::{Association, ChannelId, Config, Event, MessageKind, Role};

/// Deterministic message content: a xorshift stream seeded by the message's sequence number,
/// so the receiver can check every byte without keeping a copy.
pub fn fill(seq: u64, buf: &mut Vec<u8>, len: usize) {
    buf.clear();
    let mut x = seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    while buf.len() + 8 <= len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf.extend_from_slice(&x.to_le_bytes());
    }
    let rest = len - buf.len();
    x ^= x << 13;
    buf.extend_from_slice(&x.to_le_bytes()[..rest]);
}

/// Sends `total` bytes as messages of `msg_size` on one channel, keeping the channel's
/// buffered amount at or below `buffer`.
#[derive(Debug)]
pub struct BulkTx {
    pub channel: ChannelId,
    pub total: u64,
    pub sent: u64,
    pub msg_size: usize,
    pub buffer: usize,
    pub seq: u64,
    scratch: Vec<u8>,
}

impl BulkTx {
    pub fn new(channel: ChannelId, total: u64, msg_size: usize, buffer: usize) -> Self {
        Self {
            channel,
            total,
            sent: 0,
            msg_size,
            buffer,
            seq: 0,
            scratch: Vec::new(),
        }
    }

    pub fn pump(&mut self, a: &mut Association) {
        while self.sent < self.total && a.buffered_amount(self.channel) < self.buffer {
            let len = (self.total - self.sent).min(self.msg_size as u64) as usize;
            fill(self.seq, &mut self.scratch, len);
            let msg = std::mem::take(&mut self.scratch);
            match a.send(self.channel, msg, MessageKind::Binary) {
                Ok(()) => {}
                Err(_) => return,
            }
            self.seq += 1;
            self.sent += len as u64;
        }
    }

    pub fn done(&self) -> bool {
        self.sent >= self.total
    }
}

/// Checks messages of a bulk transfer: in order (`ordered`) or any order, each byte.
#[derive(Debug, Default)]
pub struct BulkRx {
    pub ordered: bool,
    pub bytes: u64,
    pub messages: u64,
    pub next_seq: u64,
    pub msg_size: usize,
    /// For unordered / partially reliable channels: which sequence numbers arrived.
    pub seen: Vec<u64>,
    scratch: Vec<u8>,
}

impl BulkRx {
    pub fn new(ordered: bool, msg_size: usize) -> Self {
        Self {
            ordered,
            msg_size,
            ..Self::default()
        }
    }

    /// Checks one message. Content identifies the sequence number (first 8 bytes are the
    /// first xorshift word of that seq), so unordered arrival can be checked too.
    pub fn check(&mut self, data: &[u8]) {
        let seq = if self.ordered {
            self.next_seq
        } else {
            self.find_seq(data)
        };
        fill(seq, &mut self.scratch, data.len());
        assert!(
            self.scratch[..] == data[..],
            "message {seq} ({} bytes) corrupted",
            data.len()
        );
        self.next_seq = seq + 1;
        self.bytes += data.len() as u64;
        self.messages += 1;
        if !self.ordered {
            self.seen.push(seq);
        }
    }

    fn find_seq(&mut self, data: &[u8]) -> u64 {
        // Sequence numbers are small in tests: search near the last one.
        let start = self.seen.iter().copied().max().unwrap_or(0);
        for delta in 0..100_000u64 {
            for cand in [start + delta, start.saturating_sub(delta)] {
                fill(cand, &mut self.scratch, data.len().min(8));
                if self.scratch[..] == data[..data.len().min(8)] {
                    return cand;
                }
            }
        }
        panic!("message matches no sequence number");
    }
}

/// An association on a simulated host.
pub struct Peer {
    pub assoc: Association,
    pub me: SocketAddr,
    pub peer: SocketAddr,
    buf: Vec<u8>,
    /// Every event except bulk messages, with its time.
    pub events: Vec<(Instant, Event)>,
    pub bulk_tx: Option<BulkTx>,
    /// Messages on this channel are checked by `bulk_rx` instead of being recorded.
    pub bulk_rx: Option<(ChannelId, BulkRx)>,
    /// More bulk senders and receivers, for channels that compete.
    pub more_tx: Vec<BulkTx>,
    pub more_rx: Vec<(ChannelId, BulkRx)>,
    /// Accept incoming channels' ids: filled from `IncomingChannel` events.
    pub incoming: Vec<ChannelId>,
    pub errors: u64,
}

impl Peer {
    pub fn new(assoc: Association, me: SocketAddr, peer: SocketAddr) -> Self {
        Self {
            assoc,
            me,
            peer,
            buf: Vec::with_capacity(2048),
            events: Vec::new(),
            bulk_tx: None,
            bulk_rx: None,
            more_tx: Vec::new(),
            more_rx: Vec::new(),
            incoming: Vec::new(),
            errors: 0,
        }
    }

    fn service(&mut self, now: Instant) {
        while let Some(e) = self.assoc.poll_event() {
            if let Event::Message { id, data, .. } = &e
                && let Some((ch, rx)) = &mut self.bulk_rx
                && ch == id
            {
                rx.check(data);
                continue;
            }
            if let Event::Message { id, data, .. } = &e
                && let Some((_, rx)) = self.more_rx.iter_mut().find(|(ch, _)| ch == id)
            {
                rx.check(data);
                continue;
            }
            if let Event::IncomingChannel { id, .. } = &e {
                self.incoming.push(*id);
            }
            self.events.push((now, e));
        }
        if let Some(tx) = &mut self.bulk_tx {
            tx.pump(&mut self.assoc);
        }
        for tx in &mut self.more_tx {
            tx.pump(&mut self.assoc);
        }
    }

    pub fn messages(&self, id: ChannelId) -> Vec<Vec<u8>> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::Message { id: i, data, .. } if *i == id => Some(data.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn has_event(&self, f: impl Fn(&Event) -> bool) -> bool {
        self.events.iter().any(|(_, e)| f(e))
    }

    pub fn connected(&self) -> bool {
        self.has_event(|e| matches!(e, Event::Connected))
    }
}

impl Node for Peer {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        if self.assoc.handle_packet(now, &d.data).is_err() {
            self.errors += 1;
        }
        self.service(now);
    }
    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram> {
        self.service(now);
        let n = self.assoc.poll_transmit(now, &mut self.buf)?;
        Some(Datagram::udp(self.me, self.peer, &self.buf[..n]))
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        self.assoc.poll_timeout()
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.assoc.handle_timeout(now);
        self.service(now);
    }
}

pub const A_ADDR: &str = "198.51.100.1:5000";
pub const B_ADDR: &str = "198.51.100.2:5000";

/// Two associations (A = DTLS client, B = server) on a simulated network; `link` is each
/// host's uplink (so every packet crosses it once), downlinks are ideal. Both connect (as over
/// DTLS).
pub fn pair(seed: u64, link: LinkConfig, cfg: impl Fn(&mut Config)) -> (Sim<Peer>, HostId, HostId) {
    let mut sim: Sim<Peer> = Sim::with_config(SimConfig::seed(seed).without_trace());
    let now = sim.now();
    let a_addr: SocketAddr = A_ADDR.parse().unwrap();
    let b_addr: SocketAddr = B_ADDR.parse().unwrap();
    let mut rng = Rng::from_seed_u64(seed ^ 0x5c7f);
    let mut ca = Config::new(Role::Client);
    cfg(&mut ca);
    let mut cb = Config::new(Role::Server);
    cfg(&mut cb);
    let mut a = Association::new(ca, rng.fork(), now);
    let mut b = Association::new(cb, rng.fork(), now);
    a.connect(now).unwrap();
    b.connect(now).unwrap();
    let ha = sim.add_node(
        HostConfig::public("a", a_addr.ip()).with_uplink(link.clone()),
        Peer::new(a, a_addr, b_addr),
    );
    let hb = sim.add_node(
        HostConfig::public("b", b_addr.ip()).with_uplink(link),
        Peer::new(b, b_addr, a_addr),
    );
    (sim, ha, hb)
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Result of a bulk run.
#[derive(Debug)]
pub struct BulkResult {
    pub virtual_time: Duration,
    pub wall: Duration,
    pub retransmissions: u64,
    pub packets: u64,
}

impl BulkResult {
    pub fn mbps(&self, bytes: u64) -> f64 {
        bytes as f64 * 8.0 / self.virtual_time.as_secs_f64() / 1e6
    }
}

/// Moves `total` bytes A -> B on one reliable ordered channel and checks every byte.
pub fn bulk(seed: u64, link: LinkConfig, total: u64, msg_size: usize, buffer: usize) -> BulkResult {
    bulk_with(seed, link, total, msg_size, buffer, |_| {})
}

/// [`bulk`] with a configuration tweak applied to both sides.
pub fn bulk_with(
    seed: u64,
    link: LinkConfig,
    total: u64,
    msg_size: usize,
    buffer: usize,
    tweak: impl Fn(&mut Config),
) -> BulkResult {
    use zvon_netsim::Limits;
    use zvon_sctp::ChannelOptions;
    #[allow(clippy::disallowed_methods)] // ok: wall time of the test itself, for the report
    let t0 = std::time::Instant::now();
    let (mut sim, a, b) = pair(seed, link, |c| {
        c.remote_max_message_size = 1 << 20;
        c.max_message_size = 1 << 20;
        tweak(c);
    });
    let id = sim
        .node_mut(a)
        .assoc
        .open_channel(ChannelOptions::new("bulk"))
        .unwrap();
    sim.run_until(Limits::time(secs(30)), |s| !s.node(b).incoming.is_empty())
        .unwrap();
    let start = sim.now();
    sim.node_mut(a).bulk_tx = Some(BulkTx::new(id, total, msg_size, buffer));
    sim.node_mut(b).bulk_rx = Some((id, BulkRx::new(true, msg_size)));
    let r = sim.run_until(Limits::time(secs(100_000)).with_max_steps(u64::MAX), |s| {
        s.node(b)
            .bulk_rx
            .as_ref()
            .is_some_and(|(_, r)| r.bytes >= total)
    });
    let rx = &sim.node(b).bulk_rx.as_ref().unwrap().1;
    r.unwrap_or_else(|e| {
        panic!(
            "{e}: received {} of {total} bytes; a: {:?}",
            rx.bytes,
            sim.node(a).assoc
        )
    });
    assert_eq!(rx.bytes, total);
    assert_eq!(
        sim.node(a).errors + sim.node(b).errors,
        0,
        "no packet was refused"
    );
    #[allow(clippy::disallowed_methods)]
    let wall = t0.elapsed();
    BulkResult {
        virtual_time: sim.now() - start,
        wall,
        retransmissions: sim.node(a).assoc.stats().retransmissions,
        packets: sim.node(a).assoc.stats().packets_sent,
    }
}
