//! Memory per association and per idle channel, counted by a global allocator that tracks live
//! heap bytes. Prints the figures and bounds them.
#![allow(unsafe_code)] // the counting allocator: a GlobalAlloc impl that defers to System

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Mutex;
use std::time::Instant;

use zvon_base::Rng;
use zvon_sctp::chunk::{self, Chunk, Data, flag};
use zvon_sctp::dcep::{Open, ppid};
use zvon_sctp::packet::{Packet, PacketWriter};
use zvon_sctp::{
    Association, ChannelId, ChannelOptions, Config, Event, MessageKind, Reliability, Role,
};

/// The tests measure one global counter: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

struct Counting;

// Counted per thread: the test harness allocates and frees on its own threads while a test
// runs, which made a global count go backwards (and a subtraction overflow) now and then.
thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn bump(counter: &'static std::thread::LocalKey<Cell<usize>>, add: usize, sub: usize) {
    // try_with: nothing to count while the thread's locals are being torn down.
    let _ = counter.try_with(|c| c.set(c.get().wrapping_add(add).wrapping_sub(sub)));
}

// SAFETY: every call defers to the system allocator with the same layout; the counter is a
// side effect only.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump(&LIVE, layout.size(), 0);
        bump(&ALLOCS, 1, 0);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        bump(&LIVE, 0, layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump(&LIVE, new_size, layout.size());
        bump(&ALLOCS, 1, 0);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> usize {
    LIVE.with(Cell::get)
}

fn allocs() -> usize {
    ALLOCS.with(Cell::get)
}

fn pump(a: &mut Association, b: &mut Association, now: Instant, buf: &mut Vec<u8>) {
    for _ in 0..100 {
        let mut progress = false;
        while let Some(n) = a.poll_transmit(now, buf) {
            b.handle_packet(now, &buf[..n]).unwrap();
            progress = true;
        }
        while let Some(n) = b.poll_transmit(now, buf) {
            a.handle_packet(now, &buf[..n]).unwrap();
            progress = true;
        }
        while a.poll_event().is_some() {}
        while let Some(e) = b.poll_event() {
            assert!(!matches!(e, Event::Aborted { .. }));
        }
        if !progress {
            return;
        }
    }
}

#[test]
fn memory_per_association_and_idle_channel() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    #[allow(clippy::disallowed_methods)] // ok: any instant will do
    let now = Instant::now();
    let mut buf = Vec::with_capacity(2048);
    let before = live();
    let mut a = Association::new(Config::new(Role::Client), Rng::from_seed_u64(1), now);
    let mut b = Association::new(Config::new(Role::Server), Rng::from_seed_u64(2), now);
    let fresh = (live() - before) / 2;
    a.connect(now).unwrap();
    b.connect(now).unwrap();
    pump(&mut a, &mut b, now, &mut buf);
    assert!(a.is_established() && b.is_established());
    let established = (live() - before) / 2;

    let base = live();
    let n = 200;
    for i in 0..n {
        a.open_channel(ChannelOptions::new(format!("chan{i:04}")))
            .unwrap();
    }
    pump(&mut a, &mut b, now, &mut buf);
    assert_eq!(b.channel_count(), n);
    // Both ends hold the channel: per side, per channel.
    let per_channel = (live() - base) / (2 * n);
    let inline = std::mem::size_of::<Association>();
    println!(
        "memory: association {inline} B inline + {fresh} B heap new, {established} B heap established; idle channel {per_channel} B per side"
    );
    assert!(
        inline + established < 64 * 1024,
        "association: {established} B"
    );
    assert!(per_channel < 1024, "idle channel: {per_channel} B");
}

/// A hostile peer in the place of A: after a normal handshake it writes DATA chunks of its own
/// straight into B, with A's TSNs and B's tag.
struct Raw {
    b: Association,
    now: Instant,
    next_tsn: u32,
    buf: Vec<u8>,
    /// Chunks waiting to go, packed into MTU-sized packets.
    pending: Vec<u8>,
    packets: u64,
    /// RE-CONFIG chunks B sent.
    reconfigs: usize,
}

impl Raw {
    /// A and B connect with DATA (no I-DATA); both create the negotiated channel 0; A sends
    /// one message on it so that its TSN shows, then A is set aside.
    fn new(tweak: impl Fn(&mut Config)) -> Self {
        #[allow(clippy::disallowed_methods)] // ok: any instant will do
        let now = Instant::now();
        let cfg = |role| {
            let mut c = Config::new(role);
            c.interleaving = false;
            tweak(&mut c);
            c
        };
        let mut a = Association::new(cfg(Role::Client), Rng::from_seed_u64(1), now);
        let mut b = Association::new(cfg(Role::Server), Rng::from_seed_u64(2), now);
        a.connect(now).unwrap();
        b.connect(now).unwrap();
        let mut buf = Vec::with_capacity(2048);
        pump(&mut a, &mut b, now, &mut buf);
        let mut neg = ChannelOptions::new("neg");
        neg.negotiated = Some(0);
        a.open_channel(neg.clone()).unwrap();
        b.open_channel(neg).unwrap();
        a.send(ChannelId(0), b"x".to_vec(), MessageKind::Binary)
            .unwrap();
        let mut tsn = None;
        while let Some(n) = a.poll_transmit(now, &mut buf) {
            let p = Packet::parse_unchecked(&buf[..n]).unwrap();
            for c in p.chunks() {
                if let Ok(Chunk::Data(d)) = c {
                    tsn = Some(d.tsn);
                }
            }
            b.handle_packet(now, &buf[..n]).unwrap();
        }
        while b.poll_event().is_some() {}
        drop(a);
        Self {
            b,
            now,
            next_tsn: tsn.unwrap().wrapping_add(1),
            buf,
            pending: Vec::new(),
            packets: 0,
            reconfigs: 0,
        }
    }

    /// Queues one DATA chunk with the next TSN (`skip` leaves TSNs out: a hole).
    fn data(&mut self, stream: u16, ssn: u16, ppid: u32, flags: u8, payload: &[u8]) {
        if self.pending.len() + 16 + payload.len() + 3 > 1100 {
            self.flush();
        }
        chunk::put_data(
            &mut self.pending,
            &Data {
                tsn: self.next_tsn,
                stream,
                mid: ssn as u32,
                ppid,
                fsn: 0,
                flags,
                interleaved: false,
                payload,
            },
        );
        self.next_tsn = self.next_tsn.wrapping_add(1);
    }

    fn skip(&mut self, n: u32) {
        self.next_tsn = self.next_tsn.wrapping_add(n);
    }

    /// A whole message, fragmented as a sender would.
    fn message(&mut self, stream: u16, ssn: u16, ppid: u32, msg: &[u8]) {
        let pieces: Vec<&[u8]> = msg.chunks(1000).collect();
        for (i, piece) in pieces.iter().enumerate() {
            let mut flags = 0;
            if i == 0 {
                flags |= flag::BEGIN;
            }
            if i + 1 == pieces.len() {
                flags |= flag::END;
            }
            self.data(stream, ssn, ppid, flags, piece);
        }
    }

    /// Sends what is queued to B, and throws away what B answers (A is gone).
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut p = Vec::with_capacity(1200);
        let w = PacketWriter::begin(&mut p, 5000, 5000, self.b.local_verification_tag());
        p.extend_from_slice(&self.pending);
        w.finish(&mut p, false);
        self.pending.clear();
        self.b.handle_packet(self.now, &p).unwrap();
        self.packets += 1;
        while let Some(n) = self.b.poll_transmit(self.now, &mut self.buf) {
            let p = Packet::parse_unchecked(&self.buf[..n]).unwrap();
            self.reconfigs += p
                .chunks()
                .filter(|c| matches!(c, Ok(Chunk::ReConfig(_))))
                .count();
        }
    }
}

/// A peer that opens channel after channel with 64 KiB of label and protocol each: the
/// channel limit and the label budget bound what B holds, and the association goes on.
#[test]
fn dcep_open_flood_is_bounded() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut raw = Raw::new(|_| {});
    let before = live();
    let n = 200u16;
    for i in 0..n {
        let mut msg = Vec::new();
        Open {
            ordered: true,
            reliability: Reliability::Reliable,
            priority: 256,
            label: "l".repeat(32 * 1024),
            protocol: "p".repeat(32 * 1024),
        }
        .encode(&mut msg);
        raw.message(2 + 2 * i, 0, ppid::DCEP, &msg);
    }
    raw.flush();
    let b = &mut raw.b;
    // The events carry copies of the labels: the application's, once polled.
    let accepted = std::iter::from_fn(|| b.poll_event())
        .filter(|e| matches!(e, Event::IncomingChannel { .. }))
        .count();
    let grown = live().saturating_sub(before);
    let budget = Config::default().max_peer_label_bytes;
    println!(
        "DCEP OPEN flood: {n} OPENs of 64 KiB labels, {accepted} accepted, {} refused; B grew by {grown} B (label budget {budget} B)",
        b.stats().channels_refused
    );
    assert_eq!(accepted, budget / (64 * 1024));
    assert_eq!(b.stats().channels_refused, (n as usize - accepted) as u64);
    assert!(b.is_established());
    assert!(grown < budget + budget / 2, "B holds {grown} B");
    // The refused streams are being reset (one request at a time, unanswered here).
    assert!(raw.reconfigs >= 1, "B resets the refused streams");
}

/// Tiny pieces behind a hole (ordered 1-byte messages, DATA fragments that never complete)
/// cost far more than their payload in maps and allocations: the charge per piece makes the
/// receive window close before memory runs away.
#[test]
fn tiny_out_of_order_pieces_are_bounded_by_the_window() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let window = 256 * 1024;
    for unordered in [false, true] {
        let mut raw = Raw::new(|c| c.max_receive_buffer = window);
        let before = live();
        // TSN next and SSN 1 never come: everything after waits.
        raw.skip(1);
        let pieces = 100_000u32;
        for i in 0..pieces {
            if unordered {
                // Middle fragments of unordered messages: never complete.
                raw.data(0, 0, ppid::BINARY, flag::UNORDERED, &[7]);
            } else {
                raw.data(
                    0,
                    (2 + i) as u16,
                    ppid::BINARY,
                    flag::BEGIN | flag::END,
                    &[7],
                );
            }
        }
        raw.flush();
        let grown = live().saturating_sub(before);
        let held = raw.b.receive_buffered();
        println!(
            "{} 1-byte pieces behind a hole ({}): B holds {grown} B of heap, charged {held} B, receive window {window} B",
            pieces,
            if unordered {
                "unordered fragments"
            } else {
                "ordered messages"
            }
        );
        assert!(held <= 2 * window);
        assert_eq!(raw.b.channel_receive_buffered(ChannelId(0)), held);
        assert!(
            grown < 3 * window,
            "B holds {grown} B for a {window} B window"
        );
        assert!(raw.b.is_established());
    }
}

/// The same tiny pieces with the default 4 MiB window (about 22 000 held): each costs
/// O(log n). A walk over the run of adjacent unordered fragments made this 40 s of CPU.
#[test]
fn tiny_pieces_cost_little_time() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for unordered in [false, true] {
        let mut raw = Raw::new(|_| {});
        #[allow(clippy::disallowed_methods)] // ok: wall time of the test itself
        let t0 = Instant::now();
        raw.skip(1);
        for i in 0..100_000u32 {
            if unordered {
                raw.data(0, 0, ppid::BINARY, flag::UNORDERED, &[7]);
            } else {
                raw.data(
                    0,
                    (2 + i) as u16,
                    ppid::BINARY,
                    flag::BEGIN | flag::END,
                    &[7],
                );
            }
        }
        raw.flush();
        let took = t0.elapsed();
        let held = raw.b.receive_buffered();
        println!("100000 tiny pieces (unordered {unordered}): {took:.2?}, {held} B charged");
        assert!(held <= 2 * Config::default().max_receive_buffer);
        assert!(took.as_secs() < 5, "{took:?}");
    }
}

/// The hot path allocates per message (the shared message, its reassembly buffer, the event),
/// never per packet: with 256 KiB messages (about 225 packets each) in steady state, sender
/// and receiver together allocate well under once per 10 packets, and with four channels of
/// different priorities sharing the link (the scheduler's heap) too.
#[test]
fn no_allocation_per_packet_in_steady_state() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    #[allow(clippy::disallowed_methods)] // ok: any instant will do
    let now = Instant::now();
    let cfg = |role| {
        let mut c = Config::new(role);
        c.max_message_size = 1 << 20;
        c.remote_max_message_size = 1 << 20;
        c
    };
    let mut a = Association::new(cfg(Role::Client), Rng::from_seed_u64(1), now);
    let mut b = Association::new(cfg(Role::Server), Rng::from_seed_u64(2), now);
    a.connect(now).unwrap();
    b.connect(now).unwrap();
    let mut buf = Vec::with_capacity(2048);
    pump(&mut a, &mut b, now, &mut buf);
    let ids: Vec<ChannelId> = [128u16, 256, 512, 1024]
        .iter()
        .map(|&p| {
            let mut o = ChannelOptions::new("bulk");
            o.priority = p;
            a.open_channel(o).unwrap()
        })
        .collect();
    pump(&mut a, &mut b, now, &mut buf);
    let msg = vec![3u8; 256 * 1024];
    let mut run = |a: &mut Association, b: &mut Association, rounds: usize| -> (usize, u64) {
        let (allocs0, packets0) = (allocs(), a.stats().packets_sent);
        let mut messages = 0;
        for _ in 0..rounds {
            for &id in &ids {
                if a.buffered_amount(id) < 512 * 1024 {
                    a.send(id, msg.clone(), MessageKind::Binary).unwrap();
                    messages += 1;
                }
            }
            for _ in 0..8 {
                while let Some(n) = a.poll_transmit(now, &mut buf) {
                    b.handle_packet(now, &buf[..n]).unwrap();
                }
                while let Some(n) = b.poll_transmit(now, &mut buf) {
                    a.handle_packet(now, &buf[..n]).unwrap();
                }
                while a.poll_event().is_some() {}
                while b.poll_event().is_some() {}
            }
        }
        (
            allocs() - allocs0 - messages,
            a.stats().packets_sent - packets0,
        )
    };
    run(&mut a, &mut b, 100); // warm up: buffers reach their size
    let (allocs, packets) = run(&mut a, &mut b, 200);
    println!(
        "steady state: {allocs} allocations (beside the test's message copies) over {packets} data packets: {:.3} per packet",
        allocs as f64 / packets as f64
    );
    assert!(packets > 10_000);
    assert!((allocs as f64) < packets as f64 / 10.0);
}

/// Receive state per stream the peer touches (its sequence number), with no channel behind it:
/// bounded by the negotiated stream count, not by the window.
#[test]
fn receive_state_per_stream() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut raw = Raw::new(|_| {});
    let before = live();
    let n = 5000u16;
    for i in 0..n {
        // A stray DATA_CHANNEL_ACK: ignored, but the stream's sequence state stays.
        raw.data(1000 + i, 0, ppid::DCEP, flag::BEGIN | flag::END, &[0x02]);
    }
    raw.flush();
    let per_stream = live().saturating_sub(before) / n as usize;
    println!(
        "receive state: {per_stream} B per stream touched ({} streams)",
        raw.b.receive_stream_count()
    );
    assert!(raw.b.receive_stream_count() >= n as usize);
    assert_eq!(raw.b.receive_buffered(), 0);
    assert!(per_stream < 200, "{per_stream} B per stream");
}
