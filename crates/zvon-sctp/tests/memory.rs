//! Memory per association and per idle channel, counted by a global allocator that tracks live
//! heap bytes. Prints the figures and bounds them.
#![allow(unsafe_code)] // the counting allocator: a GlobalAlloc impl that defers to System

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use zvon_base::Rng;
use zvon_sctp::{Association, ChannelOptions, Config, Event, Role};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call defers to the system allocator with the same layout; the counter is a
// side effect only.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
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
