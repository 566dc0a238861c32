//! The async peer connection: one tokio task per connection drives the sans-IO core.

use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::Poll;
use std::time::Instant;

use tokio::sync::{Notify, mpsc};
use zvon_base::Protocol;
use zvon_core::{ChannelId, Event};

pub use zvon_core::{
    CandidateInit, ChannelInit, ConnectionState, Description, MessageKind, Priority, SdpType,
    SignalingState, Stats,
};
pub use zvon_dtls::DtlsIdentity;
pub use zvon_ice::{GatheringState, IceConnectionState};

use crate::ice::{
    GatherError, GatherOptions, IceServer, Scheme, Transport, bind_udp, local_addresses,
};
use crate::mux::{MuxShared, RouteKey};
use crate::udp::{RxBufs, Socket, Tx, Wire, poll_recv_batch};

/// `RTCIceTransportPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IceTransportPolicy {
    /// Every candidate.
    #[default]
    All,
    /// Relayed candidates only.
    Relay,
}

/// `RTCConfiguration`, plus where to gather.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Configuration {
    /// STUN and TURN servers (`stun:`, `turn:` URLs; TURN over UDP).
    pub ice_servers: Vec<IceServer>,
    /// `iceTransportPolicy`.
    pub ice_transport_policy: IceTransportPolicy,
    /// The certificate; generated per connection when `None` (reuse one to save the key
    /// generation and keep the fingerprint stable).
    pub certificate: Option<DtlsIdentity>,
    /// Interfaces, address families and ports to gather on.
    pub gather: GatherOptions,
    /// The sans-IO core's settings (ICE, DTLS, SCTP).
    pub core: zvon_core::Config,
    /// Gather on these shared sockets instead of binding the connection's own (`gather` then
    /// only applies to the mux's binding). TURN servers are refused with a mux.
    pub mux: Option<crate::UdpMux>,
}

impl Configuration {
    /// Loopback only: for tests and same-machine peers.
    pub fn loopback() -> Self {
        Self {
            gather: GatherOptions {
                loopback_only: true,
                ipv6: false,
                ..GatherOptions::default()
            },
            ..Self::default()
        }
    }
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// From the core: bad description, wrong state, channel not open, ...
    #[error(transparent)]
    Core(#[from] zvon_core::Error),
    /// Gathering (binding sockets) failed.
    #[error(transparent)]
    Gather(#[from] GatherError),
    /// The connection is closed.
    #[error("the peer connection is closed")]
    Closed,
    /// TURN needs a socket of the connection's own: not with [`Configuration::mux`].
    #[error("TURN servers cannot be used on a shared socket (Configuration::mux)")]
    TurnWithMux,
}

/// What a [`PeerConnection`] reports (the W3C events).
#[derive(Debug)]
#[non_exhaustive]
pub enum PeerEvent {
    /// `negotiationneeded`.
    NegotiationNeeded,
    /// A local candidate to send to the peer.
    IceCandidate(CandidateInit),
    /// The null candidate: gathering is complete.
    IceGatheringComplete,
    /// `icegatheringstatechange`.
    IceGatheringStateChange(GatheringState),
    /// `iceconnectionstatechange`.
    IceConnectionStateChange(IceConnectionState),
    /// `connectionstatechange`.
    ConnectionStateChange(ConnectionState),
    /// `signalingstatechange`.
    SignalingStateChange(SignalingState),
    /// `datachannel`: the peer opened a channel.
    DataChannel(DataChannel),
}

/// A message received on a data channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The bytes.
    pub data: Vec<u8>,
    /// Text or binary.
    pub kind: MessageKind,
}

/// What a [`DataChannel`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelEvent {
    /// `open` (channels created here; incoming ones are open when announced).
    Open,
    /// `message`.
    Message(Message),
    /// `closing`: the peer began closing it.
    Closing,
    /// `close`.
    Closed,
}

struct ChannelSlot {
    events: mpsc::UnboundedSender<ChannelEvent>,
    low: Arc<Notify>,
}

pub(crate) struct Inner {
    pub(crate) core: zvon_core::PeerConnection,
    channels: HashMap<ChannelId, ChannelSlot>,
    events: mpsc::UnboundedSender<PeerEvent>,
    /// Datagrams on their way out, batched per send; what a full socket refused waits here.
    tx: Tx,
    pub(crate) closed: bool,
    /// With a mux: the destination last registered for this connection, and every route it
    /// registered (removed again when the connection goes away).
    mux_last: Option<SocketAddr>,
    mux_keys: Vec<RouteKey>,
}

pub(crate) struct Shared {
    inner: Mutex<Inner>,
    pub(crate) wake: Notify,
    sockets: Arc<[Socket]>,
    /// The mux the sockets belong to, if they are shared; `me` is this connection as the
    /// mux's routes hold it.
    mux: Option<Arc<MuxShared>>,
    me: Weak<Shared>,
    /// Where mDNS queries for `.local` candidates go.
    mdns_group: SocketAddr,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(mux) = &self.mux {
            let inner = self.inner.get_mut().unwrap_or_else(|p| p.into_inner());
            mux.unregister(&inner.mux_keys);
        }
    }
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock would be a bug in zvon; keep serving what is left.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn socket(&self, local: SocketAddr) -> Option<&Socket> {
        self.sockets.iter().find(|s| s.local() == local)
    }

    /// Sends what the core has, without waiting: a full socket buffer leaves the rest to the
    /// driver task, which waits until the socket is writable.
    pub(crate) fn flush(&self, inner: &mut Inner, now: Instant) -> bool {
        let Inner {
            core,
            tx,
            mux_last,
            mux_keys,
            ..
        } = inner;
        match &self.mux {
            None => tx.flush(&self.sockets, |buf| core.poll_transmit(now, buf)),
            Some(mux) => tx.flush(&self.sockets, |buf| {
                let t = core.poll_transmit(now, buf)?;
                let data = buf.get(..t.len).unwrap_or(buf);
                mux.note_send(&self.me, t.destination, data, mux_last, mux_keys);
                Some(t)
            }),
        }
    }

    /// With a mux: makes checks for the current local ufrag reach this connection (after
    /// anything that may have changed it: an ICE restart takes effect in the next offer).
    fn register_ufrag(&self, inner: &mut Inner) {
        if let Some(mux) = &self.mux {
            let Inner { core, mux_keys, .. } = inner;
            mux.register_ufrag(&core.ice().local_credentials().ufrag, &self.me, mux_keys);
        }
    }

    /// Routes the core's events to the connection's and the channels' queues.
    pub(crate) fn dispatch(self: &Arc<Self>, inner: &mut Inner) {
        while let Some(ev) = inner.core.poll_event() {
            let out = match ev {
                Event::NegotiationNeeded => PeerEvent::NegotiationNeeded,
                Event::IceCandidate(c) => PeerEvent::IceCandidate(c),
                Event::IceGatheringComplete => PeerEvent::IceGatheringComplete,
                Event::IceGatheringStateChange(s) => PeerEvent::IceGatheringStateChange(s),
                Event::IceConnectionStateChange(s) => PeerEvent::IceConnectionStateChange(s),
                Event::ConnectionStateChange(s) => PeerEvent::ConnectionStateChange(s),
                Event::SignalingStateChange(s) => PeerEvent::SignalingStateChange(s),
                Event::DataChannel {
                    id,
                    label,
                    protocol,
                    ordered,
                    ..
                } => {
                    let dc = DataChannel::register(self, inner, id, label, protocol, ordered);
                    PeerEvent::DataChannel(dc)
                }
                Event::ChannelOpen(id) => {
                    send_channel(inner, id, ChannelEvent::Open);
                    continue;
                }
                Event::ChannelMessage { id, data, kind } => {
                    send_channel(inner, id, ChannelEvent::Message(Message { data, kind }));
                    continue;
                }
                Event::BufferedAmountLow(id) => {
                    if let Some(slot) = inner.channels.get(&id) {
                        slot.low.notify_one();
                    }
                    continue;
                }
                Event::ChannelClosing(id) => {
                    send_channel(inner, id, ChannelEvent::Closing);
                    continue;
                }
                Event::ChannelClosed(id) => {
                    send_channel(inner, id, ChannelEvent::Closed);
                    if let Some(slot) = inner.channels.remove(&id) {
                        slot.low.notify_one();
                    }
                    continue;
                }
                _ => continue,
            };
            let _ = inner.events.send(out);
        }
    }
}

fn send_channel(inner: &Inner, id: ChannelId, ev: ChannelEvent) {
    if let Some(slot) = inner.channels.get(&id) {
        let _ = slot.events.send(ev);
    }
}

pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// A WebRTC peer connection on tokio, with the W3C `RTCPeerConnection` names.
///
/// ```no_run
/// # async fn demo() -> Result<(), zvon::Error> {
/// use zvon::{ChannelInit, Configuration, PeerConnection, PeerEvent};
/// let mut pc = PeerConnection::new(Configuration::default()).await?;
/// let chat = pc.create_data_channel("chat", ChannelInit::default())?;
/// let offer = pc.create_offer().await?;
/// pc.set_local_description(offer.clone()).await?;
/// // ... send `offer.sdp` to the peer, get its answer back ...
/// # let answer = offer;
/// pc.set_remote_description(answer).await?;
/// while let Some(ev) = pc.next_event().await {
///     if let PeerEvent::IceCandidate(c) = ev { /* send c to the peer */ }
/// }
/// # Ok(()) }
/// ```
pub struct PeerConnection {
    shared: Arc<Shared>,
    events: mpsc::UnboundedReceiver<PeerEvent>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for PeerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerConnection").finish_non_exhaustive()
    }
}

impl PeerConnection {
    /// Binds the sockets (one per local address), adds the ICE servers, and starts the task
    /// that drives the connection.
    pub async fn new(config: Configuration) -> Result<Self, Error> {
        let mut core_cfg = config.core.clone();
        if config.certificate.is_some() {
            core_cfg.identity = config.certificate.clone();
        }
        core_cfg.ice.relay_only = config.ice_transport_policy == IceTransportPolicy::Relay;
        let t = now();
        let mut core = zvon_core::PeerConnection::new(core_cfg, crate::ice::os_rng(), t)?;
        let sockets: Arc<[Socket]> = match &config.mux {
            Some(mux) => {
                let turn = config.ice_servers.iter().any(|s| {
                    s.parse_urls()
                        .is_ok_and(|urls| urls.iter().any(|u| u.scheme == Scheme::Turn))
                });
                if turn {
                    return Err(Error::TurnWithMux);
                }
                for sock in mux.shared.sockets.iter() {
                    core.add_host_candidate(sock.local());
                }
                mux.shared.sockets.clone()
            }
            None => {
                let mut sockets = Vec::new();
                for ip in local_addresses(&config.gather).map_err(GatherError::Io)? {
                    let Ok(sock) = bind_udp(ip, config.gather.port_range.as_ref()).await else {
                        continue;
                    };
                    // Like a failed bind: an address whose socket cannot be set up is not
                    // gathered.
                    let Ok(sock) = Socket::new(sock) else {
                        continue;
                    };
                    if config.gather.socket_recv_buffer > 0 {
                        // Best effort: a smaller buffer than asked still works, only drops
                        // sooner.
                        let _ = sock.set_recv_buffer(config.gather.socket_recv_buffer);
                    }
                    core.add_host_candidate(sock.local());
                    sockets.push(sock);
                }
                sockets.into()
            }
        };
        if sockets.is_empty() {
            return Err(GatherError::NoAddress.into());
        }
        for server in &config.ice_servers {
            for url in server.parse_urls().map_err(GatherError::Url)? {
                let Ok(addrs) = tokio::net::lookup_host((url.host.as_str(), url.port)).await else {
                    continue;
                };
                for addr in addrs {
                    match (url.scheme, url.transport) {
                        (Scheme::Stun, _) => core.ice_mut().add_stun_server(addr),
                        (Scheme::Turn, Transport::Udp) => {
                            let unspecified = SocketAddr::new(
                                if addr.is_ipv4() {
                                    [0, 0, 0, 0].into()
                                } else {
                                    [0u16; 8].into()
                                },
                                0,
                            );
                            let cfg = zvon_ice::turn::TurnConfig::new(
                                addr,
                                Protocol::Udp,
                                unspecified,
                                server.username.as_deref().unwrap_or(""),
                                server.credential.as_deref().unwrap_or(""),
                            );
                            core.ice_mut().add_turn_server(cfg);
                        }
                        // TURN over TCP/TLS needs the stream plumbing of `IceDriver`; not in
                        // the peer connection yet.
                        _ => {}
                    }
                }
            }
        }
        core.gather(t);
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let shared = Arc::new_cyclic(|me| Shared {
            inner: Mutex::new(Inner {
                core,
                channels: HashMap::new(),
                events: ev_tx,
                tx: Tx::new(),
                closed: false,
                mux_last: None,
                mux_keys: Vec::new(),
            }),
            wake: Notify::new(),
            sockets,
            mux: config.mux.as_ref().map(|m| m.shared.clone()),
            me: me.clone(),
            mdns_group: config.gather.mdns_group,
        });
        shared.register_ufrag(&mut shared.lock());
        let task = tokio::spawn(drive(shared.clone()));
        Ok(Self {
            shared,
            events: ev_rx,
            task: Some(task),
        })
    }

    fn with_core<T>(
        &self,
        f: impl FnOnce(&mut zvon_core::PeerConnection, Instant) -> Result<T, zvon_core::Error>,
    ) -> Result<T, Error> {
        let mut inner = self.shared.lock();
        if inner.closed {
            return Err(Error::Closed);
        }
        let t = now();
        let r = f(&mut inner.core, t);
        self.shared.register_ufrag(&mut inner);
        self.shared.flush(&mut inner, t);
        self.shared.dispatch(&mut inner);
        drop(inner);
        self.shared.wake.notify_one();
        Ok(r?)
    }

    /// `createOffer`.
    pub async fn create_offer(&self) -> Result<Description, Error> {
        self.with_core(|c, t| c.create_offer(t))
    }

    /// `createAnswer`.
    pub async fn create_answer(&self) -> Result<Description, Error> {
        self.with_core(|c, t| c.create_answer(t))
    }

    /// `setLocalDescription`.
    pub async fn set_local_description(&self, desc: Description) -> Result<(), Error> {
        self.with_core(|c, t| c.set_local_description(t, desc))
    }

    /// `setRemoteDescription`.
    pub async fn set_remote_description(&self, desc: Description) -> Result<(), Error> {
        self.with_core(|c, t| c.set_remote_description(t, desc))
    }

    /// `addIceCandidate`.
    pub async fn add_ice_candidate(&self, candidate: CandidateInit) -> Result<(), Error> {
        self.with_core(|c, t| c.add_ice_candidate(t, &candidate))
    }

    /// `restartIce`.
    pub fn restart_ice(&self) {
        let _ = self.with_core(|c, _| {
            c.restart_ice();
            Ok(())
        });
    }

    /// `localDescription`, with the candidates gathered so far.
    pub fn local_description(&self) -> Option<Description> {
        self.shared.lock().core.local_description()
    }

    /// `remoteDescription`.
    pub fn remote_description(&self) -> Option<Description> {
        self.shared.lock().core.remote_description()
    }

    /// `connectionState`.
    pub fn connection_state(&self) -> ConnectionState {
        self.shared.lock().core.connection_state()
    }

    /// `signalingState`.
    pub fn signaling_state(&self) -> SignalingState {
        self.shared.lock().core.signaling_state()
    }

    /// `getStats`.
    pub fn stats(&self) -> Stats {
        self.shared.lock().core.stats()
    }

    /// The local socket addresses (one per gathered interface).
    pub fn local_addresses(&self) -> Vec<SocketAddr> {
        self.shared.sockets.iter().map(Socket::local).collect()
    }

    /// `createDataChannel`.
    pub fn create_data_channel(
        &self,
        label: &str,
        init: ChannelInit,
    ) -> Result<DataChannel, Error> {
        let mut inner = self.shared.lock();
        if inner.closed {
            return Err(Error::Closed);
        }
        let ordered = init.ordered;
        let protocol = init.protocol.clone();
        let id = inner.core.create_data_channel(label, init)?;
        let dc = DataChannel::register(
            &self.shared,
            &mut inner,
            id,
            label.to_owned(),
            protocol,
            ordered,
        );
        self.shared.dispatch(&mut inner);
        drop(inner);
        self.shared.wake.notify_one();
        Ok(dc)
    }

    /// The next event; `None` once the connection is closed and every event was read.
    pub async fn next_event(&mut self) -> Option<PeerEvent> {
        self.events.recv().await
    }

    /// `close()`: tells the peer (SCTP ABORT, DTLS close_notify), stops the task.
    pub async fn close(&mut self) {
        {
            let mut inner = self.shared.lock();
            if !inner.closed {
                let t = now();
                inner.core.close(t);
                self.shared.flush(&mut inner, t);
                self.shared.dispatch(&mut inner);
                inner.closed = true;
            }
        }
        self.shared.wake.notify_one();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for PeerConnection {
    fn drop(&mut self) {
        let mut inner = self.shared.lock();
        if !inner.closed {
            let t = now();
            inner.core.close(t);
            self.shared.flush(&mut inner, t);
            inner.closed = true;
        }
        drop(inner);
        self.shared.wake.notify_one();
    }
}

/// The socket a connection resolves `.local` candidates on (RFC 6762 one-shot queries from an
/// ephemeral port: responders answer by unicast to it), opened at the first query, and the task
/// that hands the answers to the core.
#[derive(Default)]
struct Mdns {
    socket: Option<Arc<tokio::net::UdpSocket>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Mdns {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

impl Mdns {
    async fn send(&mut self, shared: &Arc<Shared>, queries: &mut Vec<Vec<u8>>) {
        if self.socket.is_none() {
            let any: SocketAddr = if shared.mdns_group.is_ipv4() {
                ([0, 0, 0, 0], 0).into()
            } else {
                ([0u16; 8], 0).into()
            };
            let Ok(sock) = tokio::net::UdpSocket::bind(any).await else {
                // No socket: the names stay unresolved and the core reports them so.
                queries.clear();
                return;
            };
            let sock = Arc::new(sock);
            let weak = Arc::downgrade(shared);
            let rx = sock.clone();
            self.task = Some(tokio::spawn(async move {
                let mut buf = vec![0u8; 9000];
                while let Ok((n, _)) = rx.recv_from(&mut buf).await {
                    let Some(shared) = weak.upgrade() else { return };
                    {
                        let mut inner = shared.lock();
                        let t = now();
                        inner
                            .core
                            .handle_mdns_datagram(t, buf.get(..n).unwrap_or(&[]));
                        shared.flush(&mut inner, t);
                        shared.dispatch(&mut inner);
                    }
                    shared.wake.notify_one();
                }
            }));
            self.socket = Some(sock);
        }
        if let Some(sock) = &self.socket {
            for q in queries.drain(..) {
                let _ = sock.send_to(&q, shared.mdns_group).await;
            }
        }
    }
}

/// Datagrams the task takes in before it flushes what they caused (acknowledgements, more
/// data): enough to batch, few enough that the sender is not kept waiting.
pub(crate) const RX_BUDGET: usize = 256;

/// The connection's task: receives on every socket into reused buffers, runs the timers,
/// and sends what the core produces. No task or channel per packet.
async fn drive(shared: Arc<Shared>) {
    let mut start = 0usize;
    let mut mdns = Mdns::default();
    let mut queries: Vec<Vec<u8>> = Vec::new();
    loop {
        let (deadline, blocked) = {
            let mut inner = shared.lock();
            if inner.closed {
                return;
            }
            let t = now();
            if inner.core.poll_timeout().is_some_and(|d| d <= t) {
                inner.core.handle_timeout(t);
            }
            shared.flush(&mut inner, t);
            let mut buf = Vec::new();
            while let Some(q) = inner.core.poll_mdns_transmit(t, &mut buf) {
                queries.push(buf.get(..q.len).unwrap_or(&buf).to_vec());
            }
            shared.dispatch(&mut inner);
            (inner.core.poll_timeout(), inner.tx.blocked_on())
        };
        if !queries.is_empty() {
            mdns.send(&shared, &mut queries).await;
        }
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
                None => std::future::pending().await,
            }
        };
        let writable = async {
            match blocked.and_then(|a| shared.socket(a)) {
                Some(s) => s.writable().await,
                None => std::future::pending::<()>().await,
            }
        };
        // With a mux, its task receives for every connection.
        let sockets: &[Socket] = if shared.mux.is_some() {
            &[]
        } else {
            &shared.sockets
        };
        // Receives, feeds the core and flushes in one synchronous step, so that the receive
        // buffers are only borrowed within it: they belong to the thread, not the connection.
        let recv = poll_fn(|cx| {
            let t = now();
            let mut locked = None;
            std::task::ready!(poll_recv_batch(
                cx,
                sockets,
                &mut start,
                RX_BUDGET,
                |local, rx, filled| {
                    let inner = locked.get_or_insert_with(|| shared.lock());
                    feed(&mut inner.core, t, local, rx, filled)
                }
            ));
            if let Some(mut inner) = locked {
                shared.flush(&mut inner, t);
                shared.dispatch(&mut inner);
            }
            Poll::Ready(())
        });
        tokio::select! {
            () = recv => {}
            _ = shared.wake.notified() => {}
            _ = sleep => {}
            _ = writable => {}
        }
    }
}

/// Hands the datagrams of the first `filled` receive buffers to the core; returns how many.
fn feed(
    core: &mut zvon_core::PeerConnection,
    t: Instant,
    local: SocketAddr,
    rx: &RxBufs,
    filled: usize,
) -> usize {
    let mut n = 0;
    for (from, data) in rx.datagrams(filled) {
        core.handle_datagram(t, Protocol::Udp, from, local, data);
        n += 1;
    }
    n
}

/// Messages at least this long are sent from `DataChannel::send` itself (see `send_kind`).
const INLINE_FLUSH_MIN: usize = 1024;

/// One data channel (`RTCDataChannel`). Sending takes `&self`; receiving needs `&mut self`.
pub struct DataChannel {
    id: ChannelId,
    label: String,
    protocol: String,
    ordered: bool,
    shared: Arc<Shared>,
    events: mpsc::UnboundedReceiver<ChannelEvent>,
    low: Arc<Notify>,
    /// Messages read while waiting for `open`.
    stash: VecDeque<ChannelEvent>,
    open: bool,
}

impl std::fmt::Debug for DataChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataChannel")
            .field("label", &self.label)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl DataChannel {
    fn register(
        shared: &Arc<Shared>,
        inner: &mut Inner,
        id: ChannelId,
        label: String,
        protocol: String,
        ordered: bool,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let low = Arc::new(Notify::new());
        inner.channels.insert(
            id,
            ChannelSlot {
                events: tx,
                low: low.clone(),
            },
        );
        let open = inner.core.channel_is_open(id);
        Self {
            id,
            label,
            protocol,
            ordered,
            shared: shared.clone(),
            events: rx,
            low,
            stash: VecDeque::new(),
            open,
        }
    }

    /// `label`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// `protocol`.
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// `ordered`.
    pub fn ordered(&self) -> bool {
        self.ordered
    }

    /// `id`: the SCTP stream id, once the DTLS role has fixed it.
    pub fn id(&self) -> Option<u16> {
        self.shared.lock().core.channel_stream_id(self.id)
    }

    /// `bufferedAmount`.
    pub fn buffered_amount(&self) -> usize {
        self.shared.lock().core.buffered_amount(self.id)
    }

    /// The largest message the peer accepts, once connected.
    pub fn max_message_size(&self) -> Option<usize> {
        self.shared.lock().core.max_message_size()
    }

    /// Sends a binary message.
    pub fn send(&self, data: &[u8]) -> Result<(), Error> {
        self.send_kind(data, MessageKind::Binary)
    }

    /// Sends a text message.
    pub fn send_text(&self, text: &str) -> Result<(), Error> {
        self.send_kind(text.as_bytes(), MessageKind::Text)
    }

    /// Sends `data` as `kind`. The first packets leave from this call; the rest follow from
    /// the connection's task as the congestion window opens.
    pub fn send_kind(&self, data: &[u8], kind: MessageKind) -> Result<(), Error> {
        let mut inner = self.shared.lock();
        if inner.closed {
            return Err(Error::Closed);
        }
        inner.core.send(self.id, data, kind)?;
        let t = now();
        // A message of a packet or more, or any message while nothing is in flight, leaves
        // from this call: no task wake-up in its latency. Small messages on a busy association
        // are left to the connection task, whose next flush bundles everything queued
        // meanwhile into few packets and few system calls (about 3x the messages per second
        // of flushing each one here).
        let inline = data.len() >= INLINE_FLUSH_MIN || inner.core.sctp_bytes_in_flight() == 0;
        let ok = inline && self.shared.flush(&mut inner, t);
        drop(inner);
        if !ok {
            self.shared.wake.notify_one();
        }
        // The task's timer may need to move earlier (retransmission timer just armed).
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Waits until `bufferedAmount` is at most `threshold` (`bufferedamountlow`): the
    /// back-pressure loop of a bulk sender.
    pub async fn wait_buffered_below(&self, threshold: usize) -> Result<(), Error> {
        loop {
            {
                let mut inner = self.shared.lock();
                if inner.closed || !inner.channels.contains_key(&self.id) {
                    return Err(Error::Closed);
                }
                if inner.core.buffered_amount(self.id) <= threshold {
                    return Ok(());
                }
                inner
                    .core
                    .set_buffered_amount_low_threshold(self.id, threshold);
            }
            self.low.notified().await;
        }
    }

    /// Waits until the channel is open (at once for channels the peer opened).
    pub async fn wait_open(&mut self) -> Result<(), Error> {
        while !self.open {
            match self.events.recv().await {
                Some(ChannelEvent::Open) => self.open = true,
                Some(ChannelEvent::Closed) | None => return Err(Error::Closed),
                Some(other) => self.stash.push_back(other),
            }
        }
        Ok(())
    }

    /// The next event; `None` after `Closed`.
    pub async fn next_event(&mut self) -> Option<ChannelEvent> {
        if let Some(e) = self.stash.pop_front() {
            return Some(e);
        }
        let e = self.events.recv().await?;
        if e == ChannelEvent::Open {
            self.open = true;
        }
        Some(e)
    }

    /// The next message; `None` once the channel is closed.
    pub async fn recv(&mut self) -> Option<Message> {
        loop {
            match self.next_event().await? {
                ChannelEvent::Message(m) => return Some(m),
                ChannelEvent::Closed => return None,
                _ => {}
            }
        }
    }

    /// `close()`.
    pub fn close(&self) -> Result<(), Error> {
        let mut inner = self.shared.lock();
        inner.core.close_channel(self.id)?;
        let t = now();
        self.shared.flush(&mut inner, t);
        self.shared.dispatch(&mut inner);
        drop(inner);
        self.shared.wake.notify_one();
        Ok(())
    }
}
