//! Whole-stack data channel throughput: two peer connections of one implementation in this
//! process, over 127.0.0.1 UDP, one reliable ordered data channel, N MiB moved with
//! back-pressure, every byte checked at the receiver. Prints one JSON line.
//!
//! ```text
//! cargo run --release --bin dc -- --impl str0m|webrtc --mib 256 --buffer 262144 --msg 65536
//! ```
//!
//! Back-pressure, the same rule for every implementation: a message is handed to the sender's
//! data channel only while the bytes it holds (written and not yet acknowledged) plus the
//! message stay within `--buffer`, or when it holds nothing (so a message larger than the
//! buffer goes alone). str0m enforces it itself (`set_sctp_max_buffered_amount`); for
//! webrtc-rs the sender reads `outstanding_bytes()` before each send.
//!
//! Figures: `seconds` and `mbit_per_s` from channel open to the last byte checked;
//! `cpu_s_per_gb` is this process's user + system CPU (getrusage, both peers and every runtime
//! thread) over the same span, per 10^9 bytes; `setup_ms` from creating the offer to the
//! sender's channel open; `udp_rcvbuf_errors` is the kernel's `Udp: RcvbufErrors` delta over
//! the whole run (system-wide: other processes' drops count too); `load1` the one-minute load
//! average at the end.
//!
//! Adding an implementation is one module in `dc/` with a `run(&Transfer, &Meter)` function
//! and one line in [`IMPLS`].
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // a benchmark owns clock, sockets, threads

// A crate root's modules sit beside it: point at dc/ so the runners stay together.
#[path = "dc/str0m.rs"]
mod str0m;
#[path = "dc/webrtc.rs"]
mod webrtc;
#[path = "dc/zvon.rs"]
mod zvon;

use anyhow::{Result, anyhow, bail};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Each implementation's runner: set up two peers, move `t.total` bytes, calling the meter's
/// `start`, `opened` and `done` at the right moments.
type Runner = fn(&Transfer, &Meter) -> Result<()>;

/// The implementations `--impl` can name.
const IMPLS: &[(&str, Runner)] = &[
    ("zvon", zvon::run),
    ("str0m", str0m::run),
    ("webrtc", webrtc::run),
];

/// What to move: `total` bytes in messages of `msg` bytes (the last may be shorter), with at
/// most `buffer` bytes held by the sender (see the module docs for the exact rule).
pub struct Transfer {
    pub total: u64,
    pub buffer: usize,
    pub msg: usize,
    pattern: Vec<u8>,
}

/// Length of the repeating byte pattern: a prime, so message boundaries walk across it and a
/// misplaced or reordered message cannot match by accident.
const PERIOD: usize = 1_048_573;

impl Transfer {
    fn new(total: u64, buffer: usize, msg: usize) -> Self {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut pattern = (0..PERIOD + msg)
            .map(|_| {
                // xorshift64
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 56) as u8
            })
            .collect::<Vec<u8>>();
        // The tail repeats the head so that any [offset % PERIOD, +msg) slice is contiguous.
        let (head, tail) = pattern.split_at_mut(PERIOD);
        tail.copy_from_slice(&head[..msg]);
        Transfer {
            total,
            buffer,
            msg,
            pattern,
        }
    }

    /// The bytes of the message that starts at stream offset `offset`, or `None` past the end.
    pub fn message(&self, offset: u64) -> Option<&[u8]> {
        if offset >= self.total {
            return None;
        }
        let len = (self.total - offset).min(self.msg as u64) as usize;
        let start = (offset % PERIOD as u64) as usize;
        Some(&self.pattern[start..start + len])
    }

    /// May the sender queue one more `len`-byte message while it holds `held` bytes?
    pub fn may_send(&self, held: usize, len: usize) -> bool {
        held == 0 || held + len <= self.buffer
    }

    /// A receiver-side checker for this transfer.
    pub fn checker(&self) -> Checker<'_> {
        Checker { t: self, offset: 0 }
    }
}

/// Checks each received message against the pattern, in order and whole.
pub struct Checker<'a> {
    t: &'a Transfer,
    offset: u64,
}

impl Checker<'_> {
    /// Checks one message; `Ok(true)` once the last byte has arrived.
    pub fn check(&mut self, data: &[u8]) -> Result<bool> {
        let Some(want) = self.t.message(self.offset) else {
            bail!("{} bytes past the end", data.len());
        };
        if data != want {
            bail!(
                "message at offset {} differs ({} bytes, expected {})",
                self.offset,
                data.len(),
                want.len()
            );
        }
        self.offset += data.len() as u64;
        Ok(self.offset == self.t.total)
    }
}

#[derive(Clone, Copy)]
struct Snapshot {
    at: Instant,
    cpu: Duration,
    rcvbuf_errors: u64,
}

impl Snapshot {
    fn take() -> Self {
        Snapshot {
            at: Instant::now(),
            cpu: cpu_time(),
            rcvbuf_errors: udp_rcvbuf_errors(),
        }
    }
}

/// The moments a runner reports; each may be called from any thread, the first call counts.
pub struct Meter {
    start: OnceLock<Snapshot>,
    open: OnceLock<Snapshot>,
    done: OnceLock<Snapshot>,
    /// Runners give up after this.
    pub deadline: Instant,
}

impl Meter {
    /// The offer is about to be created.
    pub fn start(&self) {
        let _ = self.start.set(Snapshot::take());
    }
    /// The sender's channel is open: setup ends, the transfer starts.
    pub fn opened(&self) {
        let _ = self.open.set(Snapshot::take());
    }
    /// The receiver has checked the last byte.
    pub fn done(&self) {
        let _ = self.done.set(Snapshot::take());
    }
    /// Whether the deadline has passed.
    pub fn expired(&self) -> bool {
        Instant::now() > self.deadline
    }
}

/// User + system CPU time of this process, all threads.
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes a `rusage` into the zeroed struct we own; RUSAGE_SELF is valid.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// The kernel's `Udp: RcvbufErrors` counter (datagrams dropped on full socket buffers).
fn udp_rcvbuf_errors() -> u64 {
    let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let (Some(names), Some(values)) = (udp.next(), udp.next()) else {
        return 0;
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(n, _)| *n == "RcvbufErrors")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

fn load1() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// The first aws-lc and ring random-number calls in a process are slow (tens of ms): make them
/// here, before the setup clock starts, so that neither implementation pays for it.
fn warm_up() {
    let mut b = [0u8; 32];
    let _ = aws_lc_rs::rand::fill(&mut b);
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
}

struct Args {
    imp: String,
    mib: u64,
    buffer: usize,
    msg: usize,
    timeout: u64,
}

const USAGE: &str =
    "usage: dc --impl str0m|webrtc [--mib 256] [--buffer 262144] [--msg 65536] [--timeout 300]";

fn parse_args() -> Result<Args> {
    let mut a = Args {
        imp: String::new(),
        mib: 256,
        buffer: 262_144,
        msg: 65_536,
        timeout: 300,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it
            .next()
            .ok_or_else(|| anyhow!("{k} needs a value\n{USAGE}"))?;
        match k.as_str() {
            "--impl" => a.imp = v,
            "--mib" => a.mib = v.parse()?,
            "--buffer" => a.buffer = v.parse()?,
            "--msg" => a.msg = v.parse()?,
            "--timeout" => a.timeout = v.parse()?,
            _ => bail!("unknown argument {k}\n{USAGE}"),
        }
    }
    if a.msg == 0 || a.mib == 0 {
        bail!("--msg and --mib must be positive");
    }
    Ok(a)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let Some(&(name, runner)) = IMPLS.iter().find(|(n, _)| *n == args.imp) else {
        eprintln!("unknown --impl {:?}\n{USAGE}", args.imp);
        std::process::exit(2);
    };
    warm_up();
    let t = Transfer::new(args.mib << 20, args.buffer, args.msg);
    let meter = Meter {
        start: OnceLock::new(),
        open: OnceLock::new(),
        done: OnceLock::new(),
        deadline: Instant::now() + Duration::from_secs(args.timeout),
    };
    if let Err(e) = runner(&t, &meter) {
        eprintln!("dc --impl {name}: {e:#}");
        std::process::exit(1);
    }
    let (Some(s), Some(o), Some(d)) = (meter.start.get(), meter.open.get(), meter.done.get())
    else {
        eprintln!("dc --impl {name}: the runner returned without reporting start/open/done");
        std::process::exit(1);
    };
    let seconds = (d.at - o.at).as_secs_f64();
    let bytes = t.total as f64;
    println!(
        "{{\"impl\":\"{name}\",\"mib\":{},\"buffer\":{},\"msg\":{},\"seconds\":{:.3},\"mbit_per_s\":{:.1},\"cpu_s_per_gb\":{:.2},\"setup_ms\":{:.1},\"udp_rcvbuf_errors\":{},\"load1\":{:.2}}}",
        args.mib,
        args.buffer,
        args.msg,
        seconds,
        bytes * 8.0 / seconds / 1e6,
        (d.cpu - o.cpu).as_secs_f64() / (bytes / 1e9),
        (o.at - s.at).as_secs_f64() * 1e3,
        d.rcvbuf_errors.saturating_sub(s.rcvbuf_errors),
        load1(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checker_accepts_the_stream_and_rejects_swaps_and_splits() {
        let t = Transfer::new(3 * PERIOD as u64 + 100, 1 << 20, 65_536);
        let msgs: Vec<&[u8]> = (0..)
            .map(|i| i * 65_536)
            .map_while(|o| t.message(o))
            .collect();
        assert_eq!(
            msgs.last().map(|m| m.len()),
            Some((t.total % 65_536) as usize)
        );
        let mut c = t.checker();
        let done: Vec<bool> = msgs.iter().map(|m| c.check(m).unwrap()).collect();
        assert!(done[..done.len() - 1].iter().all(|d| !d) && done[done.len() - 1]);
        assert!(c.check(&[0]).is_err(), "a byte past the end");

        let mut c = t.checker();
        c.check(msgs[0]).unwrap();
        assert!(c.check(msgs[2]).is_err(), "a skipped message");
        let mut c = t.checker();
        assert!(c.check(&msgs[0][..1000]).is_err(), "a split message");
        let mut flipped = msgs[0].to_vec();
        flipped[40_000] ^= 1;
        assert!(t.checker().check(&flipped).is_err(), "one flipped bit");
    }

    #[test]
    fn buffer_rule() {
        let t = Transfer::new(1 << 20, 32_768, 65_536);
        assert!(
            t.may_send(0, 65_536),
            "a lone message larger than the buffer goes"
        );
        assert!(!t.may_send(1, 65_536));
        let t = Transfer::new(1 << 20, 262_144, 65_536);
        assert!(t.may_send(196_608, 65_536));
        assert!(!t.may_send(196_609, 65_536));
    }
}
