//! Batched UDP I/O for the connection task, on `quinn-udp` over tokio sockets.
//!
//! A data channel moving bulk data produces long runs of same-size datagrams to one
//! destination; sending and receiving them one syscall each costs more CPU than the whole
//! protocol stack. So:
//!
//! - **Send**: consecutive datagrams from the core with the same source, destination and size
//!   (the last may be shorter) are copied into one batch buffer ([`Tx`]) and leave in one
//!   `sendmsg` with Linux UDP GSO (`UDP_SEGMENT`): the kernel cuts them apart again. Where GSO
//!   is missing (other systems, kernels before 4.18) the batch holds one datagram; where the
//!   first GSO send fails (`EIO`/`EINVAL`: a device without checksum offload) quinn-udp turns GSO
//!   off for the socket and the batch goes out again one datagram per call.
//! - **Receive**: `recvmmsg` into a few buffers, with Linux UDP GRO (`UDP_GRO`) so that the
//!   kernel hands over a train of same-size datagrams from one source as one buffer with its
//!   stride; [`RxBufs::datagrams`] cuts it apart.
//!
//! Nothing here allocates per datagram: the batch buffer and the receive buffers are reused.

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::task::{Context, Poll};

use quinn_udp::{RecvMeta, UdpSocketState};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use zvon_base::{Protocol, Transmit};

/// The largest UDP payload one send can carry (IPv4: 65535 - 20 - 8), hence one GSO batch.
const MAX_BATCH_BYTES: usize = 65_507;

/// One receive buffer: any UDP payload, and any GRO train (the kernel ends a train before
/// 64 KiB).
const RX_SLOT: usize = 65_536;

/// Receive buffers per `recvmmsg`. With GRO a bulk flow arrives ~54 datagrams to a buffer, so
/// more slots mostly help the other direction (acknowledgements) and systems without GRO.
pub(crate) const RX_SLOTS: usize = 2;

/// What the send path needs from a socket (a trait so tests can refuse and fail sends).
pub(crate) trait Wire {
    /// The address the socket is bound to.
    fn local(&self) -> SocketAddr;
    /// How many datagrams one send may carry now (1 without GSO, or once it failed).
    fn max_segments(&self) -> usize;
    /// One send: `contents` cut into `segment`-byte datagrams by the kernel when `Some`.
    fn try_send(
        &self,
        destination: SocketAddr,
        contents: &[u8],
        segment: Option<usize>,
    ) -> io::Result<()>;
}

/// A UDP socket with the kernel's batching features turned on where they exist.
#[derive(Debug)]
pub(crate) struct Socket {
    io: UdpSocket,
    state: UdpSocketState,
    local: SocketAddr,
}

impl Socket {
    /// Takes over a bound socket: enables GRO and probes GSO. quinn-udp also sets
    /// don't-fragment (IP_PMTUDISC_PROBE: a datagram above the interface MTU fails to send
    /// instead of being fragmented; the stack's datagrams stay near 1200 bytes) and asks for
    /// packet info and ECN bits, which the stack does not use.
    pub(crate) fn new(io: UdpSocket) -> io::Result<Self> {
        let local = io.local_addr()?;
        let state = UdpSocketState::new((&io).into())?;
        Ok(Self { io, state, local })
    }

    /// Asks the kernel for a receive buffer of `bytes` (`SO_RCVBUF`, capped by the system).
    pub(crate) fn set_recv_buffer(&self, bytes: usize) -> io::Result<()> {
        self.state.set_recv_buffer_size((&self.io).into(), bytes)
    }

    /// The receive buffer the kernel granted, in bytes.
    #[cfg(test)]
    pub(crate) fn recv_buffer(&self) -> io::Result<usize> {
        self.state.recv_buffer_size((&self.io).into())
    }

    /// Waits until the socket can take more.
    pub(crate) async fn writable(&self) {
        // An error here is a broken socket: the next send reports it.
        let _ = self.io.writable().await;
    }

    /// Receives what is queued into `rx`, or registers `cx` to be woken when something is.
    /// Returns the number of buffers filled.
    pub(crate) fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        rx: &mut RxBufs,
    ) -> Poll<io::Result<usize>> {
        loop {
            match self.io.poll_recv_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
            match self.try_recv(rx) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return Poll::Ready(r),
            }
        }
    }

    /// Receives what is queued into `rx` without waiting (`WouldBlock` when nothing is).
    pub(crate) fn try_recv(&self, rx: &mut RxBufs) -> io::Result<usize> {
        let RxBufs { buf, meta } = rx;
        let mut chunks = buf.chunks_mut(RX_SLOT).map(IoSliceMut::new);
        let mut slices: [IoSliceMut<'_>; RX_SLOTS] =
            std::array::from_fn(|_| chunks.next().unwrap_or_else(|| IoSliceMut::new(&mut [])));
        self.io.try_io(Interest::READABLE, || {
            self.state
                .recv((&self.io).into(), &mut slices, &mut meta[..])
        })
    }
}

impl Wire for Socket {
    fn local(&self) -> SocketAddr {
        self.local
    }

    fn max_segments(&self) -> usize {
        self.state.max_gso_segments().max(1)
    }

    fn try_send(
        &self,
        destination: SocketAddr,
        contents: &[u8],
        segment: Option<usize>,
    ) -> io::Result<()> {
        let t = quinn_udp::Transmit {
            destination,
            ecn: None,
            contents,
            segment_size: segment,
            src_ip: None,
        };
        // try_io clears tokio's readiness on WouldBlock, so `writable` then waits for the
        // kernel to say there is room.
        self.io.try_io(Interest::WRITABLE, || {
            self.state.try_send((&self.io).into(), &t)
        })
    }
}

thread_local! {
    /// Receive buffers, one set per runtime thread and shared by the connections (and muxes)
    /// it drives (128 KiB, which per connection would be most of an idle connection's memory).
    pub(crate) static RX: std::cell::RefCell<RxBufs> = std::cell::RefCell::new(RxBufs::new());
}

/// Receives from `sockets`, trying them round-robin from `*start`: from the first that has
/// datagrams, then from any that still has some, until `budget` datagrams were taken, handing
/// each receive to `feed(local address, buffers, filled)` (which returns how many datagrams it
/// took). `Ready` once something was fed, with `*start` moved past that socket; `Pending` with
/// `cx` registered on every socket otherwise. All within the call, so the thread's buffers
/// (`RX`) are never held across an await.
pub(crate) fn poll_recv_batch(
    cx: &mut Context<'_>,
    sockets: &[Socket],
    start: &mut usize,
    budget: usize,
    mut feed: impl FnMut(SocketAddr, &RxBufs, usize) -> usize,
) -> Poll<()> {
    let n = sockets.len();
    let mut failed = false;
    for k in 0..n {
        let i = (*start + k) % n;
        let got = RX.with_borrow_mut(|rx| match sockets[i].poll_recv(cx, rx) {
            Poll::Ready(Ok(filled)) => {
                let mut taken = feed(sockets[i].local(), rx, filled);
                let mut more = true;
                while more && taken < budget {
                    more = false;
                    for sock in sockets {
                        if let Ok(filled) = sock.try_recv(rx) {
                            taken += feed(sock.local(), rx, filled);
                            more = true;
                        }
                    }
                }
                Some(true)
            }
            // ICMP errors surface as receive errors on Linux: not fatal, and the socket may
            // hold datagrams behind it, so come back at once.
            Poll::Ready(Err(_)) => Some(false),
            Poll::Pending => None,
        });
        match got {
            Some(true) => {
                *start = (i + 1) % n;
                return Poll::Ready(());
            }
            Some(false) => failed = true,
            None => {}
        }
    }
    if failed {
        cx.waker().wake_by_ref();
    }
    Poll::Pending
}

/// Receive buffers and what the last receive put in them.
pub(crate) struct RxBufs {
    buf: Vec<u8>,
    meta: [RecvMeta; RX_SLOTS],
}

impl RxBufs {
    /// Allocates the buffers (once per runtime thread).
    pub(crate) fn new() -> Self {
        Self {
            buf: vec![0; RX_SLOT * RX_SLOTS],
            meta: [RecvMeta::default(); RX_SLOTS],
        }
    }

    /// The datagrams of the first `filled` buffers, GRO trains cut apart at their stride:
    /// (remote address, payload).
    pub(crate) fn datagrams(&self, filled: usize) -> impl Iterator<Item = (SocketAddr, &[u8])> {
        self.meta
            .iter()
            .zip(self.buf.chunks(RX_SLOT))
            .take(filled)
            .flat_map(|(m, slot)| {
                // The kernel never reports more than the slot it was given; stay in it anyway.
                let data = slot.get(..m.len).unwrap_or(slot);
                // An empty datagram has stride 0 and no content: chunks() then yields nothing.
                data.chunks(m.stride.max(1)).map(move |d| (m.addr, d))
            })
    }
}

/// Datagrams from the core waiting to leave in one send.
#[derive(Debug)]
struct Batch {
    /// The datagrams back to back; each `segment` bytes but the last.
    buf: Vec<u8>,
    /// Bytes at the front already sent (a batch sent one by one and cut short by WouldBlock).
    sent: usize,
    source: SocketAddr,
    destination: SocketAddr,
    segment: usize,
    segments: usize,
    /// A shorter datagram ended the batch: nothing can follow it.
    sealed: bool,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.sent >= self.buf.len()
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.sent = 0;
        self.segments = 0;
        self.sealed = false;
    }

    fn fits(&self, t: &Transmit, max_segments: usize) -> bool {
        self.is_empty()
            || (!self.sealed
                && t.source == self.source
                && t.destination == self.destination
                && t.len <= self.segment
                && self.segments < max_segments
                && self.buf.len() + t.len <= MAX_BATCH_BYTES)
    }

    fn push(&mut self, t: &Transmit, data: &[u8]) {
        if self.is_empty() {
            self.clear();
            self.source = t.source;
            self.destination = t.destination;
            self.segment = data.len();
        }
        self.buf.extend_from_slice(data);
        self.segments += 1;
        self.sealed |= data.len() < self.segment;
    }

    fn is_full(&self, max_segments: usize) -> bool {
        self.sealed
            || self.segments >= max_segments
            || self.buf.len() + self.segment > MAX_BATCH_BYTES
    }

    /// Sends what the batch holds. Only `WouldBlock` comes back, with the unsent rest kept;
    /// other errors lose the datagrams as the network would (the protocols retransmit).
    fn send(&mut self, sock: &impl Wire) -> io::Result<()> {
        let mut one_by_one = false;
        while let Some(rest) = self.buf.get(self.sent..).filter(|r| !r.is_empty()) {
            let gso = !one_by_one && sock.max_segments() > 1 && rest.len() > self.segment;
            let len = if gso {
                rest.len()
            } else {
                rest.len().min(self.segment.max(1))
            };
            // ok: len <= rest.len()
            match sock.try_send(self.destination, &rest[..len], gso.then_some(self.segment)) {
                Ok(()) => self.sent += len,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(e),
                // The first GSO send can fail where the device cannot segment (quinn-udp then
                // turns GSO off for the socket); the datagrams go again one by one.
                Err(e) if gso => {
                    tracing::debug!(%e, segments = self.segments, "GSO send failed; one by one");
                    one_by_one = true;
                }
                Err(e) => {
                    tracing::trace!(%e, "UDP send failed; datagram lost");
                    self.sent += len;
                }
            }
        }
        self.clear();
        Ok(())
    }
}

/// The send side of one connection: the batch being built, the buffer the core writes each
/// datagram into, and the datagram that could not join a batch while its socket was full.
///
/// Kept in the connection's state (under its lock) because both the connection's task and the
/// application's `send` flush through it.
#[derive(Debug)]
pub(crate) struct Tx {
    batch: Batch,
    scratch: Vec<u8>,
    /// A datagram in `scratch` that waits for the blocked batch to leave.
    held: Option<Transmit>,
}

impl Tx {
    /// Nothing queued (the batch buffer grows to its size with the first bulk flush).
    pub(crate) fn new() -> Self {
        let any = SocketAddr::from(([0, 0, 0, 0], 0));
        Self {
            batch: Batch {
                buf: Vec::new(),
                sent: 0,
                source: any,
                destination: any,
                segment: 0,
                segments: 0,
                sealed: false,
            },
            scratch: Vec::with_capacity(2048),
            held: None,
        }
    }

    /// The socket that must become writable before the queued data can leave, if any.
    pub(crate) fn blocked_on(&self) -> Option<SocketAddr> {
        (!self.batch.is_empty() || self.held.is_some()).then_some(self.batch.source)
    }

    /// Drains `poll` (the core's `poll_transmit`) into batches and sends them. Returns `false`
    /// when a socket is full: the unsent datagrams stay here, the caller waits until
    /// [`Self::blocked_on`] is writable and flushes again.
    pub(crate) fn flush<S: Wire>(
        &mut self,
        sockets: &[S],
        mut poll: impl FnMut(&mut Vec<u8>) -> Option<Transmit>,
    ) -> bool {
        let find = |a: SocketAddr| sockets.iter().find(|s| s.local() == a);
        let Self {
            batch,
            scratch,
            held,
        } = self;
        let send = |batch: &mut Batch| match find(batch.source) {
            Some(s) => batch.send(s).is_ok(),
            // The socket set is fixed, so this cannot happen; it must not wedge the batch.
            None => {
                batch.clear();
                true
            }
        };
        if !batch.is_empty() && !send(batch) {
            return false;
        }
        let mut next = held.take();
        while let Some(t) = next.take().or_else(|| poll(scratch)) {
            let Some(max) = find(t.source)
                .filter(|_| t.proto == Protocol::Udp)
                .map(S::max_segments)
            else {
                continue;
            };
            if !batch.fits(&t, max) && !send(batch) {
                *held = Some(t);
                return false;
            }
            // ok: the core wrote t.len bytes into scratch
            batch.push(&t, &scratch[..t.len.min(scratch.len())]);
            if batch.is_full(max) && !send(batch) {
                return false;
            }
        }
        batch.is_empty() || send(batch)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests

    use std::cell::{Cell, RefCell};

    use super::*;

    const LOCAL: SocketAddr = SocketAddr::new(
        std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1)),
        1000,
    );

    fn dest(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// One send: destination, contents, segment size.
    type Sent = (SocketAddr, Vec<u8>, Option<usize>);

    /// A socket that records sends and refuses or fails them on demand, as quinn-udp does.
    struct Mock {
        max: Cell<usize>,
        /// The n-th send attempt (counting from 0) returns WouldBlock.
        block_at: Cell<Option<usize>>,
        attempts: Cell<usize>,
        /// The next GSO send fails with EIO and GSO goes off (quinn-udp's reaction).
        fail_gso: Cell<bool>,
        sent: RefCell<Vec<Sent>>,
    }

    impl Mock {
        fn new(max: usize) -> Self {
            Self {
                max: Cell::new(max),
                block_at: Cell::new(None),
                attempts: Cell::new(0),
                fail_gso: Cell::new(false),
                sent: RefCell::new(Vec::new()),
            }
        }

        /// Every datagram the wire carried, in order, cut apart as the kernel would.
        fn datagrams(&self) -> Vec<(SocketAddr, Vec<u8>)> {
            let mut out = Vec::new();
            for (d, c, seg) in self.sent.borrow().iter() {
                for piece in c.chunks(seg.unwrap_or(c.len()).max(1)) {
                    out.push((*d, piece.to_vec()));
                }
            }
            out
        }
    }

    impl Wire for Mock {
        fn local(&self) -> SocketAddr {
            LOCAL
        }

        fn max_segments(&self) -> usize {
            self.max.get()
        }

        fn try_send(&self, d: SocketAddr, c: &[u8], seg: Option<usize>) -> io::Result<()> {
            let n = self.attempts.get();
            self.attempts.set(n + 1);
            if self.block_at.get() == Some(n) {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            if seg.is_some() && self.fail_gso.get() {
                self.fail_gso.set(false);
                self.max.set(1);
                return Err(io::Error::from_raw_os_error(5));
            }
            assert!(
                seg.is_some() || c.len() <= 1500,
                "one datagram per send without GSO"
            );
            if let Some(s) = seg {
                assert!(c.len() > s && c.len().div_ceil(s) <= self.max.get());
                assert!(c.len() <= MAX_BATCH_BYTES);
            }
            self.sent.borrow_mut().push((d, c.to_vec(), seg));
            Ok(())
        }
    }

    /// A run of datagrams as the core would produce them: sizes, destinations, and a
    /// distinct first bytes each so order and loss show.
    fn script() -> Vec<(SocketAddr, Vec<u8>)> {
        let mut v = Vec::new();
        let mut k = 0u32;
        let mut push = |d, len: usize| {
            let mut p = vec![0xAB; len];
            p[..4].copy_from_slice(&k.to_be_bytes());
            k += 1;
            v.push((d, p));
        };
        for _ in 0..100 {
            push(dest(1), 1200);
        }
        push(dest(1), 500);
        for _ in 0..3 {
            push(dest(1), 1200);
        }
        push(dest(2), 100);
        push(dest(2), 100);
        push(dest(2), 1200);
        push(dest(1), 1200);
        v
    }

    /// Feeds `script` through `tx.flush` calls until all is sent (at most `rounds` calls).
    fn run(tx: &mut Tx, wire: &Mock, script: &[(SocketAddr, Vec<u8>)], rounds: usize) -> usize {
        let mut next = 0;
        for round in 0..rounds {
            let done = tx.flush(std::slice::from_ref(wire), |buf| {
                let (d, p) = script.get(next)?;
                next += 1;
                buf.clear();
                buf.extend_from_slice(p);
                Some(Transmit {
                    proto: Protocol::Udp,
                    source: LOCAL,
                    destination: *d,
                    len: p.len(),
                })
            });
            if done {
                assert_eq!(tx.blocked_on(), None);
                return round + 1;
            }
            assert_eq!(tx.blocked_on(), Some(LOCAL));
        }
        panic!("not flushed in {rounds} rounds");
    }

    #[test]
    fn same_size_runs_share_a_send_in_order() {
        let wire = Mock::new(64);
        let mut tx = Tx::new();
        let s = script();
        assert_eq!(run(&mut tx, &wire, &s, 1), 1);
        assert_eq!(wire.datagrams(), s);
        let shape: Vec<(u16, usize, Option<usize>)> = wire
            .sent
            .borrow()
            .iter()
            .map(|(d, c, seg)| (d.port(), c.len(), *seg))
            .collect();
        assert_eq!(
            shape,
            [
                // 54 * 1200 is the most under the 65507-byte UDP limit
                (1, 54 * 1200, Some(1200)),
                // the shorter datagram ends a batch
                (1, 46 * 1200 + 500, Some(1200)),
                (1, 3 * 1200, Some(1200)),
                (2, 200, Some(100)),
                // larger than the batch's size: a batch of its own
                (2, 1200, None),
                (1, 1200, None),
            ]
        );
    }

    #[test]
    fn segment_count_limit_and_no_gso() {
        let s: Vec<_> = (0..20u8).map(|i| (dest(1), vec![i; 300])).collect();
        let wire = Mock::new(8);
        run(&mut Tx::new(), &wire, &s, 1);
        assert_eq!(wire.datagrams(), s);
        let counts: Vec<usize> = wire
            .sent
            .borrow()
            .iter()
            .map(|(_, c, _)| c.len() / 300)
            .collect();
        assert_eq!(counts, [8, 8, 4]);

        let wire = Mock::new(1);
        run(&mut Tx::new(), &wire, &script(), 1);
        assert_eq!(wire.datagrams(), script());
        assert!(wire.sent.borrow().iter().all(|(_, _, seg)| seg.is_none()));
    }

    #[test]
    fn would_block_anywhere_keeps_everything_in_order() {
        let s = script();
        // Every send attempt of the clean run, refused once in turn.
        for at in 0..6 {
            let wire = Mock::new(64);
            wire.block_at.set(Some(at));
            let mut tx = Tx::new();
            assert_eq!(run(&mut tx, &wire, &s, 3), 2, "blocked at attempt {at}");
            assert_eq!(wire.datagrams(), s, "blocked at attempt {at}");
        }
    }

    #[test]
    fn failed_gso_goes_again_one_by_one() {
        let s = script();
        let wire = Mock::new(64);
        wire.fail_gso.set(true);
        run(&mut Tx::new(), &wire, &s, 1);
        assert_eq!(wire.datagrams(), s);
        assert!(wire.sent.borrow().iter().all(|(_, _, seg)| seg.is_none()));

        // Refused halfway through the one-by-one resend: the rest follows later.
        let wire = Mock::new(64);
        wire.fail_gso.set(true);
        wire.block_at.set(Some(10));
        assert_eq!(run(&mut Tx::new(), &wire, &s, 3), 2);
        assert_eq!(wire.datagrams(), s);
    }

    #[test]
    fn other_transports_and_unknown_sockets_are_skipped() {
        let wire = Mock::new(64);
        let mut tx = Tx::new();
        let mut out = vec![
            (Protocol::Udp, LOCAL, 10),
            (Protocol::Tcp, LOCAL, 20),
            (Protocol::Udp, dest(9), 30),
            (Protocol::Udp, LOCAL, 10),
        ]
        .into_iter();
        assert!(tx.flush(std::slice::from_ref(&wire), |buf| {
            let (proto, source, len) = out.next()?;
            buf.clear();
            buf.resize(len, len as u8);
            Some(Transmit {
                proto,
                source,
                destination: dest(1),
                len,
            })
        }));
        assert_eq!(
            wire.datagrams(),
            [(dest(1), vec![10; 10]), (dest(1), vec![10; 10])]
        );
    }

    /// The receive buffer grows from the system default when asked (as far as the system
    /// allows: the test asks for no more than `net.core.rmem_max` where it can read it).
    #[tokio::test]
    async fn receive_buffer_is_raised() {
        let s = Socket::new(UdpSocket::bind("127.0.0.1:0").await.unwrap()).unwrap();
        let before = s.recv_buffer().unwrap();
        let max = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(1 << 20);
        let want = (before * 2).min(max);
        s.set_recv_buffer(want).unwrap();
        // Linux reports twice what it grants (the doubling covers its bookkeeping); a system
        // whose rmem_max is its default (stock kernels) can grant nothing more.
        let granted = s.recv_buffer().unwrap();
        if max * 2 > before {
            assert!(
                granted > before,
                "asked {want}, had {before}, got {granted}"
            );
        } else {
            assert_eq!(granted, before);
        }
    }

    /// Real sockets on 127.0.0.1: everything arrives in order, and on Linux a bulk run takes
    /// far fewer receive buffers than datagrams (GSO out, GRO in).
    #[tokio::test]
    async fn loopback_batches_arrive_whole_and_in_order() {
        let bind = || async { Socket::new(UdpSocket::bind("127.0.0.1:0").await.unwrap()).unwrap() };
        let (a, b) = (bind().await, bind().await);
        let mut tx = Tx::new();
        let mut rx = RxBufs::new();
        let mut buffers = 0;
        let mut got: Vec<Vec<u8>> = Vec::new();
        let mut want: Vec<Vec<u8>> = Vec::new();
        for round in 0..20u32 {
            // A window of data and a short tail, as a bulk sender produces.
            let mut batch: Vec<Vec<u8>> = (0..40u32)
                .map(|i| {
                    let mut p = vec![round as u8; 1180];
                    p[..8].copy_from_slice(&[round.to_be_bytes(), i.to_be_bytes()].concat());
                    p
                })
                .collect();
            batch.push(vec![0xEE; 77]);
            let mut it = batch.iter();
            // A socket is not writable for tokio until its reactor has seen it so: the first
            // flush may be refused, and the data waits in `tx` until then.
            while !tx.flush(std::slice::from_ref(&a), |buf| {
                let p = it.next()?;
                buf.clear();
                buf.extend_from_slice(p);
                Some(Transmit {
                    proto: Protocol::Udp,
                    source: a.local(),
                    destination: b.local(),
                    len: p.len(),
                })
            }) {
                assert_eq!(tx.blocked_on(), Some(a.local()));
                a.writable().await;
            }
            want.extend(batch);
            while got.len() < want.len() {
                let filled = tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    std::future::poll_fn(|cx| b.poll_recv(cx, &mut rx)),
                )
                .await
                .expect("datagrams lost")
                .unwrap();
                buffers += filled;
                for (from, d) in rx.datagrams(filled) {
                    assert_eq!(from, a.local());
                    got.push(d.to_vec());
                }
            }
        }
        assert_eq!(got, want);
        if cfg!(target_os = "linux") && a.max_segments() > 1 && b.state.gro_segments() > 1 {
            assert!(
                buffers <= 20 * 4,
                "{buffers} receive buffers for {} datagrams",
                got.len()
            );
        }
    }
}
