//! Zero allocations per packet: once a stream exists, protect and unprotect of RTP and RTCP
//! never touch the heap (contexts and per-SSRC state allocate once, up front).
#![allow(unsafe_code)] // a counting global allocator needs `unsafe impl GlobalAlloc`

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use zvon_srtp::{Config, Role, Session, SrtpProfile};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // Counting is per thread: the test harness's own thread allocates now and then.
    // A const-initialised Cell has no destructor and needs no allocation to reach.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if COUNTING.with(Cell::get) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: forwards to the system allocator unchanged, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn no_allocation_per_packet() {
    for profile in SrtpProfile::ALL {
        let material = vec![0x42u8; profile.keying_material_len()];
        let config = Config::default().with_replay_window(1024);
        let mut a = Session::from_dtls(profile, &material, Role::Client, &config).unwrap();
        let mut b = Session::from_dtls(profile, &material, Role::Server, &config).unwrap();
        let mut buf: Vec<u8> = Vec::with_capacity(1500);
        let packet = |seq: u16, ssrc: u32, buf: &mut Vec<u8>| {
            buf.clear();
            buf.extend_from_slice(&[0x90, 111]);
            buf.extend_from_slice(&seq.to_be_bytes());
            buf.extend_from_slice(&[0, 0, 0, 0]);
            buf.extend_from_slice(&ssrc.to_be_bytes());
            buf.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0]);
            buf.resize(1200, 0x55);
        };
        let rtcp = |ssrc: u32, buf: &mut Vec<u8>| {
            buf.clear();
            buf.extend_from_slice(&[0x80, 201, 0, 1]);
            buf.extend_from_slice(&ssrc.to_be_bytes());
            buf.resize(100, 0x66);
        };
        // The first packet of each SSRC creates its state.
        for ssrc in [1u32, 2] {
            packet(0, ssrc, &mut buf);
            a.outbound.protect_rtp(&mut buf).unwrap();
            b.inbound.unprotect_rtp(&mut buf).unwrap();
            rtcp(ssrc, &mut buf);
            a.outbound.protect_rtcp(&mut buf).unwrap();
            b.inbound.unprotect_rtcp(&mut buf).unwrap();
        }
        let before = ALLOCS.load(Ordering::Relaxed);
        COUNTING.with(|c| c.set(true));
        for i in 1..=10_000u32 {
            let ssrc = 1 + i % 2;
            // Past a sequence number wrap too.
            packet((i * 7) as u16, ssrc, &mut buf);
            a.outbound.protect_rtp(&mut buf).unwrap();
            let n = b.inbound.unprotect_rtp(&mut buf).unwrap();
            assert_eq!(n, 1200);
            if i % 10 == 0 {
                rtcp(ssrc, &mut buf);
                a.outbound.protect_rtcp(&mut buf).unwrap();
                let n = b.inbound.unprotect_rtcp(&mut buf).unwrap();
                assert_eq!(n, 100);
            }
        }
        COUNTING.with(|c| c.set(false));
        let after = ALLOCS.load(Ordering::Relaxed);
        assert_eq!(
            after - before,
            0,
            "{profile}: allocations during 10k packets"
        );
    }
}
