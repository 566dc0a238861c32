//! SRTP protect and unprotect, packets per second on one core, for each profile at 160 and
//! 1200 bytes: zvon beside libsrtp2 (the system library, through FFI), webrtc-rs's `rtc-srtp`
//! 0.21 (on ring), and the bare primitives zvon is built on (ring AES-GCM; aws-lc-rs AES-CTR +
//! HMAC-SHA1), in one run.
//!
//! `cargo bench --bench srtp` in `bench/`; each benchmark counts one packet as one element,
//! so criterion's `thrpt` is packets per second of one core. Time is the thread's CPU time,
//! not wall time, so that other load on a shared machine does not leak into the figures.
//! Packet preparation (copying the plaintext in, or protecting the packet to unprotect) is
//! setup, outside the timing. `python3 benches/srtp_summary.py` prints the table
//! of packets/s and ratios from the last run.

use std::hint::black_box;
use std::time::Duration;

use aws_lc_rs::cipher::{AES_128, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::hmac;
use aws_lc_rs::iv::FixedLength;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ring::aead;
use zvon_srtp::{Config, Context, SrtpProfile};
use zvon_test_libsrtp::{Direction, LibSrtp, Options};

/// Criterion measurement in thread CPU time.
struct CpuTime;

impl Measurement for CpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        zvon_test_libsrtp::thread_cpu_time()
    }
    fn end(&self, start: Duration) -> Duration {
        zvon_test_libsrtp::thread_cpu_time().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Nanoseconds either way: wall time's formatter prints them.
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}

type C = Criterion<CpuTime>;

const SSRC: u32 = 0x1234_5678;
const SIZES: [usize; 2] = [160, 1200];
/// Room after the packet for any trailer (libsrtp wants its largest, with MKI).
const ROOM: usize = 160;

fn keys(profile: SrtpProfile) -> (Vec<u8>, Vec<u8>) {
    (
        vec![0x0a; profile.key_len()],
        vec![0x5a; profile.salt_len()],
    )
}

/// An RTP packet of `size` bytes in all (12-byte header) with sequence number `seq`.
fn rtp(size: usize, seq: u16) -> Vec<u8> {
    let mut p = Vec::with_capacity(size + ROOM);
    p.extend_from_slice(&[0x80, 111]);
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0x10, 0]);
    p.extend_from_slice(&SSRC.to_be_bytes());
    p.resize(size, 0xa5);
    p
}

/// The bare primitives of one profile, with the SRTP layer's IV and tag layout but none of its
/// bookkeeping: the floor for what any SRTP implementation on them can reach.
#[allow(clippy::large_enum_variant)] // one per benchmark
enum Raw {
    Gcm(aead::LessSafeKey),
    Cm(EncryptingKey, hmac::Key, usize),
}

impl Raw {
    fn new(profile: SrtpProfile) -> Self {
        let (key, _) = keys(profile);
        match profile {
            SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm => {
                let alg = if key.len() == 16 {
                    &aead::AES_128_GCM
                } else {
                    &aead::AES_256_GCM
                };
                Raw::Gcm(aead::LessSafeKey::new(
                    aead::UnboundKey::new(alg, &key).unwrap(),
                ))
            }
            _ => Raw::Cm(
                EncryptingKey::ctr(UnboundCipherKey::new(&AES_128, &key).unwrap()).unwrap(),
                hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &[7; 20]),
                profile.rtp_tag_len(),
            ),
        }
    }

    fn iv(n: u64) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv[6..14].copy_from_slice(&n.to_be_bytes());
        iv
    }

    fn seal(&self, n: u64, buf: &mut Vec<u8>) {
        match self {
            Raw::Gcm(k) => {
                let nonce = aead::Nonce::try_assume_unique_for_key(&Self::iv(n)[..12]).unwrap();
                let (hdr, payload) = buf.split_at_mut(12);
                let tag = k
                    .seal_in_place_separate_tag(nonce, aead::Aad::from(&*hdr), payload)
                    .unwrap();
                buf.extend_from_slice(tag.as_ref());
            }
            Raw::Cm(enc, mac, tag_len) => {
                let iv = EncryptionContext::Iv128(FixedLength::from(Self::iv(n)));
                enc.less_safe_encrypt(&mut buf[12..], iv).unwrap();
                let mut ctx = hmac::Context::with_key(mac);
                ctx.update(buf);
                ctx.update(&[0; 4]);
                let tag = ctx.sign();
                buf.extend_from_slice(&tag.as_ref()[..*tag_len]);
            }
        }
    }

    fn open(&self, n: u64, buf: &mut [u8]) -> usize {
        match self {
            Raw::Gcm(k) => {
                let nonce = aead::Nonce::try_assume_unique_for_key(&Self::iv(n)[..12]).unwrap();
                let (hdr, sealed) = buf.split_at_mut(12);
                12 + k
                    .open_in_place(nonce, aead::Aad::from(&*hdr), sealed)
                    .unwrap()
                    .len()
            }
            Raw::Cm(enc, mac, tag_len) => {
                let len = buf.len() - tag_len;
                let mut ctx = hmac::Context::with_key(mac);
                ctx.update(&buf[..len]);
                ctx.update(&[0; 4]);
                let tag = ctx.sign();
                aws_lc_rs::constant_time::verify_slices_are_equal(
                    &tag.as_ref()[..*tag_len],
                    &buf[len..],
                )
                .unwrap();
                let iv = EncryptionContext::Iv128(FixedLength::from(Self::iv(n)));
                enc.less_safe_encrypt(&mut buf[12..len], iv).unwrap();
                len
            }
        }
    }
}

fn libsrtp(profile: SrtpProfile, dir: Direction) -> LibSrtp {
    let (key, salt) = keys(profile);
    LibSrtp::new(profile.id(), &key, &salt, dir, Options::default()).unwrap()
}

fn rtc(profile: SrtpProfile) -> rtc_srtp::context::Context {
    use rtc_srtp::protection_profile::ProtectionProfile as P;
    let (key, salt) = keys(profile);
    let p = match profile {
        SrtpProfile::Aes128CmHmacSha1_80 => P::Aes128CmHmacSha1_80,
        SrtpProfile::Aes128CmHmacSha1_32 => P::Aes128CmHmacSha1_32,
        SrtpProfile::AeadAes128Gcm => P::AeadAes128Gcm,
        SrtpProfile::AeadAes256Gcm => P::AeadAes256Gcm,
        _ => unreachable!("a profile this bench does not know"),
    };
    let provider = rtc_crypto::default_provider().unwrap();
    rtc_srtp::context::Context::new(&key, &salt, p, None, None, provider.crypto()).unwrap()
}

fn zvon(profile: SrtpProfile) -> Context {
    let (key, salt) = keys(profile);
    Context::new(profile, &key, &salt, &Config::default()).unwrap()
}

fn protect(c: &mut C) {
    for profile in SrtpProfile::ALL {
        for size in SIZES {
            let mut g = c.benchmark_group(format!("protect/{}/{size}", profile.name()));
            g.throughput(Throughput::Elements(1));

            let mut ctx = zvon(profile);
            let mut seq = 0u16;
            g.bench_function("zvon", |b| {
                b.iter_batched_ref(
                    || {
                        seq = seq.wrapping_add(1);
                        rtp(size, seq)
                    },
                    |buf| ctx.protect_rtp(black_box(buf)).unwrap(),
                    BatchSize::SmallInput,
                )
            });

            let mut lib = libsrtp(profile, Direction::Outbound);
            let mut seq = 0u16;
            g.bench_function("libsrtp", |b| {
                b.iter_batched_ref(
                    || {
                        seq = seq.wrapping_add(1);
                        rtp(size, seq)
                    },
                    |buf| lib.protect_rtp(black_box(buf)).unwrap(),
                    BatchSize::SmallInput,
                )
            });

            let mut rtc_ctx = rtc(profile);
            let mut seq = 0u16;
            g.bench_function("rtc-srtp", |b| {
                b.iter_batched_ref(
                    || {
                        seq = seq.wrapping_add(1);
                        rtp(size, seq)
                    },
                    |buf| rtc_ctx.encrypt_rtp(black_box(buf)).unwrap(),
                    BatchSize::SmallInput,
                )
            });

            let raw = Raw::new(profile);
            let mut n = 0u64;
            g.bench_function("primitives", |b| {
                b.iter_batched_ref(
                    || {
                        n += 1;
                        (n, rtp(size, n as u16))
                    },
                    |(n, buf)| raw.seal(*n, black_box(buf)),
                    BatchSize::SmallInput,
                )
            });
            g.finish();
        }
    }
}

fn unprotect(c: &mut C) {
    for profile in SrtpProfile::ALL {
        for size in SIZES {
            let mut g = c.benchmark_group(format!("unprotect/{}/{size}", profile.name()));
            g.throughput(Throughput::Elements(1));

            let (mut tx, mut rx) = (zvon(profile), zvon(profile));
            let mut seq = 0u16;
            g.bench_function("zvon", |b| {
                b.iter_batched_ref(
                    || {
                        seq = seq.wrapping_add(1);
                        let mut p = rtp(size, seq);
                        tx.protect_rtp(&mut p).unwrap();
                        p
                    },
                    |buf| rx.unprotect_rtp(black_box(buf)).unwrap(),
                    BatchSize::SmallInput,
                )
            });

            let mut ltx = libsrtp(profile, Direction::Outbound);
            let mut lrx = libsrtp(profile, Direction::Inbound);
            let mut seq = 0u16;
            g.bench_function("libsrtp", |b| {
                b.iter_batched_ref(
                    || {
                        seq = seq.wrapping_add(1);
                        let mut p = rtp(size, seq);
                        ltx.protect_rtp(&mut p).unwrap();
                        p
                    },
                    |buf| lrx.unprotect_rtp(black_box(buf)).unwrap(),
                    BatchSize::SmallInput,
                )
            });

            let (mut rtc_tx, mut rtc_rx) = (rtc(profile), rtc(profile));
            let mut seq = 0u16;
            g.bench_function("rtc-srtp", |b| {
                b.iter_batched_ref(
                    || {
                        seq = seq.wrapping_add(1);
                        rtc_tx.encrypt_rtp(&rtp(size, seq)).unwrap()
                    },
                    |buf| rtc_rx.decrypt_rtp(black_box(buf)).unwrap(),
                    BatchSize::SmallInput,
                )
            });

            let raw = Raw::new(profile);
            let mut n = 0u64;
            g.bench_function("primitives", |b| {
                b.iter_batched_ref(
                    || {
                        n += 1;
                        let mut p = rtp(size, n as u16);
                        raw.seal(n, &mut p);
                        (n, p)
                    },
                    |(n, buf)| raw.open(*n, black_box(buf)),
                    BatchSize::SmallInput,
                )
            });
            g.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .with_measurement(CpuTime)
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = protect, unprotect
}
criterion_main!(benches);
