//! Two transports in one process on a virtual clock (quinn's `Pair`, in small).
#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use zvon_base::{DatagramKind, Rng, classify};
use zvon_dtls::*;

pub struct Side {
    pub t: DtlsTransport,
    pub id: DtlsIdentity,
    pub events: Vec<DtlsEvent>,
    pub data: Vec<Vec<u8>>,
    pub errors: Vec<DtlsError>,
    /// Datagrams in flight towards this side: (arrival time, bytes).
    pub inbox: VecDeque<(Instant, Vec<u8>)>,
}

impl Side {
    pub fn connected(&self) -> Option<&Connected> {
        self.events.iter().find_map(|e| match e {
            DtlsEvent::Connected(c) => Some(&**c),
            _ => None,
        })
    }
    pub fn failed(&self) -> Option<&DtlsError> {
        self.events.iter().find_map(|e| match e {
            DtlsEvent::Failed(e) => Some(e),
            _ => None,
        })
    }
    pub fn closed(&self) -> Option<CloseReason> {
        self.events.iter().find_map(|e| match e {
            DtlsEvent::Closed(r) => Some(*r),
            _ => None,
        })
    }
}

pub struct Pair {
    pub client: Side,
    pub server: Side,
    pub start: Instant,
    pub now: Instant,
    pub delay: Duration,
    buf: Vec<u8>,
    /// Every datagram sent, by direction (true = client to server); a test can drop or
    /// reorder through `filter`.
    pub sent: Vec<(bool, usize)>,
}

pub fn identities(seed: u64) -> (DtlsIdentity, DtlsIdentity) {
    let mut rng = Rng::from_seed_u64(seed);
    (
        DtlsIdentity::generate(&mut rng).unwrap(),
        DtlsIdentity::generate(&mut rng).unwrap(),
    )
}

impl Pair {
    pub fn new(client_cfg: &DtlsConfig, server_cfg: &DtlsConfig, seed: u64) -> Self {
        let (cid, sid) = identities(seed);
        Self::with_identities(client_cfg, server_cfg, seed, cid, sid)
    }

    pub fn with_identities(
        client_cfg: &DtlsConfig,
        server_cfg: &DtlsConfig,
        seed: u64,
        cid: DtlsIdentity,
        sid: DtlsIdentity,
    ) -> Self {
        let mut rng = Rng::from_seed_u64(seed ^ 0x5eed);
        // The virtual clock's origin; from here on time only moves by the simulation.
        #[allow(clippy::disallowed_methods)]
        let start = Instant::now();
        let c = DtlsTransport::new(client_cfg, &cid, DtlsRole::Client, &mut rng, start).unwrap();
        let s = DtlsTransport::new(server_cfg, &sid, DtlsRole::Server, &mut rng, start).unwrap();
        let side = |t, id| Side {
            t,
            id,
            events: vec![],
            data: vec![],
            errors: vec![],
            inbox: VecDeque::new(),
        };
        Pair {
            client: side(c, cid),
            server: side(s, sid),
            start,
            now: start,
            delay: Duration::from_millis(25),
            buf: vec![0; 64 * 1024],
            sent: vec![],
        }
    }

    /// Both sides learn each other's real fingerprints.
    pub fn exchange_fingerprints(&mut self) {
        let (cf, sf) = (self.client.id.fingerprint(), self.server.id.fingerprint());
        self.client.t.set_remote_fingerprints([sf]).unwrap();
        self.server.t.set_remote_fingerprints([cf]).unwrap();
    }

    fn collect(side: &mut Side) {
        while let Some(e) = side.t.poll_event() {
            side.events.push(e);
        }
        while let Some(d) = side.t.poll_application_data() {
            side.data.push(d.to_vec());
        }
    }

    /// Moves output of both sides into the other's inbox through `filter`, which returns
    /// `Some(extra delay)` to deliver or `None` to drop.
    pub fn flush(&mut self, filter: &mut dyn FnMut(bool, &[u8]) -> Option<Duration>) {
        for from_client in [true, false] {
            let (src, dst) = if from_client {
                (&mut self.client, &mut self.server)
            } else {
                (&mut self.server, &mut self.client)
            };
            assert!(self.buf.len() >= src.t.max_datagram_len());
            while let Some(n) = src.t.poll_transmit(self.now, &mut self.buf) {
                let d = &self.buf[..n];
                assert_eq!(
                    classify(d),
                    DatagramKind::Dtls,
                    "every datagram demuxes as DTLS"
                );
                assert!(n <= src.t.max_datagram_len());
                self.sent.push((from_client, n));
                if let Some(extra) = filter(from_client, d) {
                    let at = self.now + self.delay + extra;
                    // Keep the inbox sorted by arrival time (stable for equal times).
                    let pos = dst
                        .inbox
                        .iter()
                        .position(|(t, _)| *t > at)
                        .unwrap_or(dst.inbox.len());
                    dst.inbox.insert(pos, (at, d.to_vec()));
                }
            }
            Self::collect(src);
        }
    }

    /// One step of the virtual clock: deliver what is due, else jump to the next arrival or
    /// timer. Returns false when nothing at all is pending.
    pub fn step(&mut self, filter: &mut dyn FnMut(bool, &[u8]) -> Option<Duration>) -> bool {
        self.flush(filter);
        let next_arrival = [&self.client, &self.server]
            .iter()
            .filter_map(|s| s.inbox.front().map(|(t, _)| *t))
            .min();
        let next_timer = [&self.client, &self.server]
            .iter()
            .filter_map(|s| s.t.poll_timeout())
            .min();
        let Some(next) = [next_arrival, next_timer].into_iter().flatten().min() else {
            return false;
        };
        self.now = self.now.max(next);
        let now = self.now;
        for side in [&mut self.client, &mut self.server] {
            while side.inbox.front().is_some_and(|(t, _)| *t <= now) {
                let (_, d) = side.inbox.pop_front().unwrap();
                if let Err(e) = side.t.handle_datagram(now, &d) {
                    side.errors.push(e);
                }
            }
            if side.t.poll_timeout().is_some_and(|t| t <= now) {
                side.t.handle_timeout(now);
            }
            Self::collect(side);
        }
        self.flush(filter);
        true
    }

    /// Steps until `done` holds; panics after `max_steps` (a livelock is a failure, not a hang).
    pub fn drive(
        &mut self,
        max_steps: usize,
        filter: &mut dyn FnMut(bool, &[u8]) -> Option<Duration>,
        done: &dyn Fn(&Pair) -> bool,
    ) -> bool {
        for _ in 0..max_steps {
            if done(self) {
                return true;
            }
            if !self.step(filter) {
                return done(self);
            }
        }
        done(self)
    }

    pub fn both_connected(&self) -> bool {
        self.client.connected().is_some() && self.server.connected().is_some()
    }

    pub fn any_failed(&self) -> bool {
        self.client.failed().is_some() || self.server.failed().is_some()
    }

    pub fn handshake(&mut self) {
        let ok = self.drive(10_000, &mut |_, _| Some(Duration::ZERO), &|p| {
            p.both_connected() || p.any_failed()
        });
        assert!(
            ok && self.both_connected(),
            "handshake: client {:?} server {:?}",
            self.client.failed(),
            self.server.failed()
        );
    }
}

pub fn deliver_all() -> impl FnMut(bool, &[u8]) -> Option<Duration> {
    |_, _| Some(Duration::ZERO)
}
