//! One UDP socket per local address, shared by many peer connections.
//!
//! A server that holds thousands of connections should not need thousands of ports and
//! receive buffers. A [`UdpMux`] binds the sockets once; every [`PeerConnection`] created with
//! [`Configuration::mux`] gathers its host candidates on them, and one receive task hands each
//! datagram straight to the connection it belongs to (under that connection's lock, no channel
//! hop), then flushes what the datagrams caused.
//!
//! Routing, in order:
//! - a STUN request or indication with `USERNAME`: the part before the colon is the receiving
//!   agent's ufrag (RFC 8445 7.2.2), so the connection that owns that ufrag; the source address
//!   is remembered for it (this is how a browser's first check finds its connection);
//! - a STUN response: the connection that sent the request with that transaction id (ICE
//!   checks, STUN server queries);
//! - anything else (DTLS, SCTP, SRTP, consent checks answered by address): the connection
//!   that last sent to, or was checked from, that remote address.
//!
//! A datagram that matches no live connection is dropped. Two connections on one mux cannot
//! talk to the same remote address (both ends sharing one socket pair): the 5-tuple could not
//! tell them apart, as in every WebRTC server that shares ports. TURN needs an allocation per
//! connection and so a socket per connection: a connection on a mux refuses TURN servers.
//!
//! [`PeerConnection`]: crate::PeerConnection
//! [`Configuration::mux`]: crate::Configuration::mux

use std::collections::HashMap;
use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::Poll;

use tokio::task::JoinHandle;
use zvon_base::Protocol;

use crate::ice::{GatherError, GatherOptions, bind_udp, local_addresses};
use crate::pc::{Shared, now};
use crate::udp::{RxBufs, Socket, Wire, poll_recv_batch};

/// Stale transaction ids (requests never answered) are forgotten past this many.
const MAX_TRANSACTIONS: usize = 4096;

/// Sockets shared by many [`PeerConnection`](crate::PeerConnection)s; cheap to clone.
///
/// ```no_run
/// # async fn demo() -> Result<(), zvon::Error> {
/// use zvon::{Configuration, PeerConnection, UdpMux};
/// let mut config = Configuration::loopback();
/// let mux = UdpMux::bind(&config.gather).await?;
/// config.mux = Some(mux.clone());
/// let a = PeerConnection::new(config.clone()).await?; // both gather on the mux's port
/// let b = PeerConnection::new(config).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct UdpMux {
    pub(crate) shared: Arc<MuxShared>,
}

impl std::fmt::Debug for UdpMux {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpMux")
            .field("local_addresses", &self.local_addresses())
            .finish_non_exhaustive()
    }
}

pub(crate) struct MuxShared {
    pub(crate) sockets: Arc<[Socket]>,
    routes: Mutex<Routes>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for MuxShared {
    fn drop(&mut self) {
        if let Some(t) = self.task.get_mut().ok().and_then(Option::take) {
            t.abort();
        }
    }
}

#[derive(Default)]
struct Routes {
    by_ufrag: HashMap<String, Weak<Shared>>,
    by_tid: HashMap<[u8; 12], Weak<Shared>>,
    by_addr: HashMap<SocketAddr, Weak<Shared>>,
}

/// What a connection registered, removed again when it goes away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RouteKey {
    Ufrag(String),
    Addr(SocketAddr),
}

impl UdpMux {
    /// Binds one socket per local address of `gather` (its interfaces, families and port
    /// range, as a connection would) and starts the receive task. Needs a tokio runtime.
    pub async fn bind(gather: &GatherOptions) -> Result<Self, crate::Error> {
        let mut sockets = Vec::new();
        for ip in local_addresses(gather).map_err(GatherError::Io)? {
            let Ok(sock) = bind_udp(ip, gather.port_range.as_ref()).await else {
                continue;
            };
            let Ok(sock) = Socket::new(sock) else {
                continue;
            };
            if gather.socket_recv_buffer > 0 {
                let _ = sock.set_recv_buffer(gather.socket_recv_buffer);
            }
            sockets.push(sock);
        }
        if sockets.is_empty() {
            return Err(GatherError::NoAddress.into());
        }
        let shared = Arc::new(MuxShared {
            sockets: sockets.into(),
            routes: Mutex::new(Routes::default()),
            task: Mutex::new(None),
        });
        let task = tokio::spawn(receive(Arc::downgrade(&shared), shared.sockets.clone()));
        *shared.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
        Ok(Self { shared })
    }

    /// The addresses the sockets are bound to.
    pub fn local_addresses(&self) -> Vec<SocketAddr> {
        self.shared.sockets.iter().map(Socket::local).collect()
    }
}

impl MuxShared {
    fn routes(&self) -> MutexGuard<'_, Routes> {
        self.routes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes STUN requests for `ufrag` reach `conn`.
    pub(crate) fn register_ufrag(
        &self,
        ufrag: &str,
        conn: &Weak<Shared>,
        keys: &mut Vec<RouteKey>,
    ) {
        // Called after every API call: compare before allocating anything.
        if !keys
            .iter()
            .any(|k| matches!(k, RouteKey::Ufrag(u) if u == ufrag))
        {
            self.routes()
                .by_ufrag
                .insert(ufrag.to_owned(), conn.clone());
            keys.push(RouteKey::Ufrag(ufrag.to_owned()));
        }
    }

    /// Notes a datagram `conn` sends: its destination now routes to `conn`, and a STUN
    /// request's response will find it by transaction id.
    pub(crate) fn note_send(
        &self,
        conn: &Weak<Shared>,
        destination: SocketAddr,
        data: &[u8],
        last: &mut Option<SocketAddr>,
        keys: &mut Vec<RouteKey>,
    ) {
        let tid = stun_request_tid(data);
        if *last == Some(destination) && tid.is_none() {
            return;
        }
        let mut r = self.routes();
        if *last != Some(destination) {
            r.by_addr.insert(destination, conn.clone());
            *last = Some(destination);
            let key = RouteKey::Addr(destination);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        if let Some(tid) = tid {
            if r.by_tid.len() >= MAX_TRANSACTIONS {
                r.by_tid.retain(|_, w| w.strong_count() > 0);
                if r.by_tid.len() >= MAX_TRANSACTIONS {
                    r.by_tid.clear();
                }
            }
            r.by_tid.insert(tid, conn.clone());
        }
    }

    /// Forgets what a connection registered (it is going away).
    pub(crate) fn unregister(&self, keys: &[RouteKey]) {
        let mut r = self.routes();
        for k in keys {
            match k {
                RouteKey::Ufrag(u) => {
                    if r.by_ufrag.get(u).is_some_and(|w| w.strong_count() == 0) {
                        r.by_ufrag.remove(u);
                    }
                }
                RouteKey::Addr(a) => {
                    if r.by_addr.get(a).is_some_and(|w| w.strong_count() == 0) {
                        r.by_addr.remove(a);
                    }
                }
            }
        }
    }

    /// The connection a datagram from `from` belongs to.
    fn route(&self, from: SocketAddr, data: &[u8]) -> Option<Arc<Shared>> {
        let mut r = self.routes();
        if data.first().is_some_and(|&b| b < 4)
            && let Ok(msg) = zvon_stun::Message::parse(data)
        {
            match msg.class() {
                zvon_stun::Class::Request | zvon_stun::Class::Indication => {
                    let conn = msg
                        .username()
                        .and_then(|u| u.split(':').next())
                        .and_then(|local| r.by_ufrag.get(local))
                        .and_then(Weak::upgrade);
                    if let Some(conn) = conn {
                        r.by_addr.insert(from, Arc::downgrade(&conn));
                        return Some(conn);
                    }
                }
                zvon_stun::Class::Success | zvon_stun::Class::Error => {
                    let tid = msg.transaction_id();
                    if let Some(conn) = r.by_tid.remove(tid.as_bytes()).and_then(|w| w.upgrade()) {
                        return Some(conn);
                    }
                }
            }
        }
        r.by_addr.get(&from).and_then(Weak::upgrade)
    }
}

/// The transaction id of a STUN request, read from the header alone (the send path must stay
/// cheap: everything that is not STUN fails the first test).
fn stun_request_tid(data: &[u8]) -> Option<[u8; 12]> {
    // STUN: first two bits zero (RFC 7983); a request has both class bits (0x0110) clear.
    if data.len() < 20 || data[0] >= 4 || u16::from_be_bytes([data[0], data[1]]) & 0x0110 != 0 {
        return None;
    }
    data[8..20].try_into().ok()
}

/// The mux's receive task: takes every datagram to its connection, then lets each connection
/// that got some send what they caused and wake its task (its timers may have moved).
async fn receive(mux: Weak<MuxShared>, sockets: Arc<[Socket]>) {
    let mut start = 0usize;
    loop {
        let done = poll_fn(|cx| {
            let Some(mux) = mux.upgrade() else {
                return Poll::Ready(true);
            };
            let t = now();
            let mut touched: Vec<Arc<Shared>> = Vec::new();
            let feed = |local: SocketAddr, rx: &RxBufs, filled| {
                let mut last: Option<(SocketAddr, Arc<Shared>)> = None;
                let mut taken = 0;
                for (from, data) in rx.datagrams(filled) {
                    taken += 1;
                    let conn = match &last {
                        Some((a, c)) if *a == from => c.clone(),
                        _ => match mux.route(from, data) {
                            Some(c) => {
                                last = Some((from, c.clone()));
                                c
                            }
                            None => continue,
                        },
                    };
                    {
                        let mut inner = conn.lock();
                        if inner.closed {
                            continue;
                        }
                        inner
                            .core
                            .handle_datagram(t, Protocol::Udp, from, local, data);
                    }
                    if !touched.iter().any(|c| Arc::ptr_eq(c, &conn)) {
                        touched.push(conn);
                    }
                }
                taken
            };
            std::task::ready!(poll_recv_batch(
                cx,
                &sockets,
                &mut start,
                crate::pc::RX_BUDGET,
                feed
            ));
            for conn in touched {
                {
                    let mut inner = conn.lock();
                    conn.flush(&mut inner, t);
                    conn.dispatch(&mut inner);
                }
                conn.wake.notify_one();
            }
            Poll::Ready(false)
        })
        .await;
        if done {
            return;
        }
    }
}
