//! # zvon-test-libsrtp
//!
//! A minimal binding of the system libsrtp2 (2.5, Debian `libsrtp2-dev`), for zvon-srtp's
//! cross-checks and benchmarks only: libsrtp is the reference SRTP implementation, so packets
//! protected by one side must unprotect in the other. Not a protocol crate: it holds the only
//! `unsafe` of the SRTP work, behind a safe [`LibSrtp`] handle.
#![allow(unsafe_code)] // FFI to libsrtp2; every call site is wrapped below.

use std::ffi::{c_int, c_uint, c_ulong, c_void};
use std::sync::Once;

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct CryptoPolicy {
    cipher_type: u32,
    cipher_key_len: c_int,
    auth_type: u32,
    auth_key_len: c_int,
    auth_tag_len: c_int,
    sec_serv: c_int,
}

#[repr(C)]
struct Ssrc {
    kind: c_int,
    value: c_uint,
}

/// `srtp_policy_t` of libsrtp 2.5 (checked against the C header: 128 bytes, `key` at 56,
/// `window_size` at 88, `next` at 120 on x86-64).
#[repr(C)]
struct Policy {
    ssrc: Ssrc,
    rtp: CryptoPolicy,
    rtcp: CryptoPolicy,
    key: *mut u8,
    keys: *mut c_void,
    num_master_keys: c_ulong,
    deprecated_ekt: *mut c_void,
    window_size: c_ulong,
    allow_repeat_tx: c_int,
    enc_xtn_hdr: *mut c_int,
    enc_xtn_hdr_count: c_int,
    next: *mut Policy,
}

const _: () = assert!(std::mem::size_of::<Policy>() == 128);
const _: () = assert!(std::mem::offset_of!(Policy, key) == 56);
const _: () = assert!(std::mem::offset_of!(Policy, window_size) == 88);
const _: () = assert!(std::mem::offset_of!(Policy, next) == 120);

type SrtpT = *mut c_void;

const SSRC_SPECIFIC: c_int = 1;
const SSRC_ANY_INBOUND: c_int = 2;
const SSRC_ANY_OUTBOUND: c_int = 3;
const SEC_SERV_AUTH: c_int = 2;
/// `SRTP_MAX_TRAILER_LEN`: tag (16) plus the largest MKI (128), plus the SRTCP index word.
const MAX_TRAILER: usize = 16 + 128 + 4;

#[link(name = "srtp2")]
unsafe extern "C" {
    fn srtp_init() -> c_int;
    fn srtp_create(session: *mut SrtpT, policy: *const Policy) -> c_int;
    fn srtp_dealloc(session: SrtpT) -> c_int;
    fn srtp_protect(ctx: SrtpT, hdr: *mut c_void, len: *mut c_int) -> c_int;
    fn srtp_unprotect(ctx: SrtpT, hdr: *mut c_void, len: *mut c_int) -> c_int;
    fn srtp_protect_rtcp(ctx: SrtpT, hdr: *mut c_void, len: *mut c_int) -> c_int;
    fn srtp_unprotect_rtcp(ctx: SrtpT, hdr: *mut c_void, len: *mut c_int) -> c_int;
    fn srtp_crypto_policy_set_from_profile_for_rtp(p: *mut CryptoPolicy, profile: c_int) -> c_int;
    fn srtp_crypto_policy_set_from_profile_for_rtcp(p: *mut CryptoPolicy, profile: c_int) -> c_int;
    fn srtp_set_stream_roc(ctx: SrtpT, ssrc: u32, roc: u32) -> c_int;
    fn srtp_get_stream_roc(ctx: SrtpT, ssrc: u32, roc: *mut u32) -> c_int;
    fn srtp_get_version_string() -> *const std::ffi::c_char;
}

/// A libsrtp error status (`srtp_err_status_t`): 7 is auth failure, 9 replay, 10 too old.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub i32);

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "libsrtp error status {}", self.0)
    }
}

impl std::error::Error for Status {}

fn check(code: c_int) -> Result<(), Status> {
    if code == 0 { Ok(()) } else { Err(Status(code)) }
}

static INIT: Once = Once::new();

/// The libsrtp version string, e.g. `libsrtp2 2.5.0`.
pub fn version() -> String {
    // SAFETY: returns a pointer to a static NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(srtp_get_version_string()) }
        .to_string_lossy()
        .into_owned()
}

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

unsafe extern "C" {
    fn clock_gettime(clock: c_int, tp: *mut Timespec) -> c_int;
}

/// Linux `CLOCK_THREAD_CPUTIME_ID`.
const CLOCK_THREAD_CPUTIME_ID: c_int = 3;

/// CPU time the calling thread has used. Benchmarks measure with it rather than wall time:
/// on a shared 2-core machine the scheduler's preemptions inflate wall time by whatever else
/// runs, while CPU time per packet stays put.
pub fn thread_cpu_time() -> std::time::Duration {
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is valid for a write; the clock id is Linux's thread CPU clock.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Which way a [`LibSrtp`] session works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Protects (any SSRC).
    Outbound,
    /// Unprotects (any SSRC).
    Inbound,
}

/// Options beyond the profile and keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Replay window in packets (libsrtp accepts 64..=32768).
    pub window: usize,
    /// Bind the session to one SSRC instead of "any", which lets [`LibSrtp::set_roc`] work
    /// before the first packet.
    pub ssrc: Option<u32>,
    /// Protect SRTCP with authentication only (E flag clear).
    pub rtcp_auth_only: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            window: 64,
            ssrc: None,
            rtcp_auth_only: false,
        }
    }
}

/// One libsrtp session (`srtp_t`) with one policy.
#[derive(Debug)]
pub struct LibSrtp {
    ctx: SrtpT,
}

impl LibSrtp {
    /// A session for DTLS-SRTP profile `profile_id` (IANA id: 1, 2, 7, 8) with one master key
    /// and salt.
    pub fn new(
        profile_id: u16,
        master_key: &[u8],
        master_salt: &[u8],
        direction: Direction,
        options: Options,
    ) -> Result<Self, Status> {
        INIT.call_once(|| {
            // SAFETY: no arguments; called once per process.
            let status = unsafe { srtp_init() };
            assert_eq!(status, 0, "srtp_init failed");
        });
        let mut key: Vec<u8> = [master_key, master_salt].concat();
        let mut policy = Policy {
            ssrc: Ssrc {
                kind: match (options.ssrc, direction) {
                    (Some(_), _) => SSRC_SPECIFIC,
                    (None, Direction::Outbound) => SSRC_ANY_OUTBOUND,
                    (None, Direction::Inbound) => SSRC_ANY_INBOUND,
                },
                value: options.ssrc.unwrap_or(0),
            },
            rtp: CryptoPolicy::default(),
            rtcp: CryptoPolicy::default(),
            key: key.as_mut_ptr(),
            keys: std::ptr::null_mut(),
            num_master_keys: 0,
            deprecated_ekt: std::ptr::null_mut(),
            window_size: options.window as c_ulong,
            allow_repeat_tx: 0,
            enc_xtn_hdr: std::ptr::null_mut(),
            enc_xtn_hdr_count: 0,
            next: std::ptr::null_mut(),
        };
        // SAFETY: the policy structs are valid for writes; the profile ids are libsrtp's.
        unsafe {
            check(srtp_crypto_policy_set_from_profile_for_rtp(
                &mut policy.rtp,
                c_int::from(profile_id),
            ))?;
            check(srtp_crypto_policy_set_from_profile_for_rtcp(
                &mut policy.rtcp,
                c_int::from(profile_id),
            ))?;
        }
        if options.rtcp_auth_only {
            policy.rtcp.sec_serv = SEC_SERV_AUTH;
        }
        let mut ctx: SrtpT = std::ptr::null_mut();
        // SAFETY: policy and key outlive the call; libsrtp copies the key material.
        check(unsafe { srtp_create(&mut ctx, &policy) })?;
        Ok(Self { ctx })
    }

    fn call(
        &mut self,
        f: unsafe extern "C" fn(SrtpT, *mut c_void, *mut c_int) -> c_int,
        buf: &mut Vec<u8>,
        room: usize,
    ) -> Result<(), Status> {
        let len = buf.len();
        buf.resize(len + room, 0);
        let mut n = len as c_int;
        // SAFETY: `buf` holds `len + room` initialised bytes, room enough for libsrtp's
        // largest trailer; libsrtp writes within it and reports the new length in `n`.
        let status = unsafe { f(self.ctx, buf.as_mut_ptr().cast(), &mut n) };
        if status == 0 && n >= 0 && (n as usize) <= len + room {
            buf.truncate(n as usize);
            Ok(())
        } else {
            buf.truncate(len);
            Err(Status(status))
        }
    }

    /// `srtp_protect`: appends the tag to the RTP packet in `buf`.
    pub fn protect_rtp(&mut self, buf: &mut Vec<u8>) -> Result<(), Status> {
        self.call(srtp_protect, buf, MAX_TRAILER)
    }

    /// `srtp_unprotect`: authenticates and decrypts the SRTP packet in `buf`.
    pub fn unprotect_rtp(&mut self, buf: &mut Vec<u8>) -> Result<(), Status> {
        self.call(srtp_unprotect, buf, 0)
    }

    /// `srtp_protect_rtcp`.
    pub fn protect_rtcp(&mut self, buf: &mut Vec<u8>) -> Result<(), Status> {
        self.call(srtp_protect_rtcp, buf, MAX_TRAILER)
    }

    /// `srtp_unprotect_rtcp`.
    pub fn unprotect_rtcp(&mut self, buf: &mut Vec<u8>) -> Result<(), Status> {
        self.call(srtp_unprotect_rtcp, buf, 0)
    }

    /// `srtp_set_stream_roc`: the stream of `ssrc` must exist (an SSRC-specific session, or
    /// after its first packet).
    pub fn set_roc(&mut self, ssrc: u32, roc: u32) -> Result<(), Status> {
        // SAFETY: plain values in, a live session.
        check(unsafe { srtp_set_stream_roc(self.ctx, ssrc, roc) })
    }

    /// `srtp_get_stream_roc`.
    pub fn roc(&mut self, ssrc: u32) -> Result<u32, Status> {
        let mut roc = 0;
        // SAFETY: `roc` is valid for a write.
        check(unsafe { srtp_get_stream_roc(self.ctx, ssrc, &mut roc) })?;
        Ok(roc)
    }
}

impl Drop for LibSrtp {
    fn drop(&mut self) {
        // SAFETY: `ctx` came from srtp_create and is freed once.
        unsafe {
            srtp_dealloc(self.ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_cpu_time_advances_with_work() {
        let t0 = thread_cpu_time();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(thread_cpu_time() > t0, "{x}");
    }

    #[test]
    fn libsrtp_round_trips_itself() {
        assert!(version().starts_with("libsrtp2 2."), "{}", version());
        for profile in [1u16, 2, 7, 8] {
            let key_len = if profile == 8 { 32 } else { 16 };
            let salt_len = if profile >= 7 { 12 } else { 14 };
            let (key, salt) = (vec![3u8; key_len], vec![4u8; salt_len]);
            let mut tx = LibSrtp::new(
                profile,
                &key,
                &salt,
                Direction::Outbound,
                Options::default(),
            )
            .unwrap();
            let mut rx =
                LibSrtp::new(profile, &key, &salt, Direction::Inbound, Options::default()).unwrap();
            let plain = [&[0x80u8, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9][..], &[7u8; 100]].concat();
            let mut buf = plain.clone();
            tx.protect_rtp(&mut buf).unwrap();
            assert_ne!(buf[12..112], plain[12..]);
            rx.unprotect_rtp(&mut buf).unwrap();
            assert_eq!(buf, plain);
            // The same packet twice is a replay (status 9).
            tx.protect_rtp(&mut buf.clone()).unwrap_err();
        }
    }
}
