//! Gathering on real interfaces and a tokio task that drives one [`IceAgent`].

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, UdpSocket};
use tokio::sync::mpsc;
use tokio_rustls::rustls::pki_types::ServerName;
use zvon_base::Protocol;
use zvon_ice::mdns::{MdnsEvent, MdnsResolver};
use zvon_ice::turn::TurnConfig;
use zvon_ice::{Candidate, CandidateKind, Credentials, Foundation, IceAgent, IceEvent, Received};
use zvon_stun::{StreamFrame, stream_frame_len};

use super::url::{IceServer, Scheme, Transport, UrlError};

/// Where and how to gather candidates.
#[derive(Debug, Clone)]
pub struct GatherOptions {
    /// Bind on loopback interfaces too (off by default, like browsers).
    pub include_loopback: bool,
    /// Bind on loopback interfaces only (tests).
    pub loopback_only: bool,
    /// Gather IPv6 host candidates (link-local addresses are skipped).
    pub ipv6: bool,
    /// Local ports to try, in order; `None` lets the OS pick.
    pub port_range: Option<RangeInclusive<u16>>,
    /// STUN and TURN servers.
    pub ice_servers: Vec<IceServer>,
    /// TLS settings for `turns:` servers (trusted roots, ...); `turns:` URLs are skipped
    /// without them.
    pub turn_tls: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
    /// Where mDNS queries for `.local` candidates go (the IPv4 mDNS group by default; tests
    /// point it at a local responder).
    pub mdns_group: SocketAddr,
    /// Receive buffer to ask of the kernel for each socket, in bytes (`SO_RCVBUF`; Linux
    /// grants at most `net.core.rmem_max`). The usual 208 KiB default overflows under a
    /// data-channel transfer at gigabit rates, and with UDP GRO one overflow drops a whole
    /// batch of datagrams; `0` leaves the system default.
    pub socket_recv_buffer: usize,
}

impl Default for GatherOptions {
    fn default() -> Self {
        Self {
            include_loopback: false,
            loopback_only: false,
            ipv6: true,
            port_range: None,
            ice_servers: Vec::new(),
            turn_tls: None,
            mdns_group: zvon_ice::mdns::MDNS_V4,
            socket_recv_buffer: 4 << 20,
        }
    }
}

/// Why gathering could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatherError {
    /// Listing interfaces or binding a socket failed.
    #[error("ICE gathering: {0}")]
    Io(#[from] io::Error),
    /// An ICE server URL is malformed.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// No interface matched the options, or no socket could be bound in the port range.
    #[error("ICE gathering: no usable local address")]
    NoAddress,
}

/// The local IP addresses gathering binds on, in preference order (the interface index is the
/// position in this list), per [`GatherOptions`]. Uses `getifaddrs` through the `if-addrs`
/// crate.
pub fn local_addresses(opts: &GatherOptions) -> io::Result<Vec<IpAddr>> {
    let mut out = Vec::new();
    for iface in if_addrs::get_if_addrs()? {
        let ip = iface.ip();
        let lo = ip.is_loopback();
        if (opts.loopback_only && !lo) || (lo && !opts.include_loopback && !opts.loopback_only) {
            continue;
        }
        if let IpAddr::V6(v6) = ip {
            // Link-local addresses need a scope id to be used and browsers skip them.
            if !opts.ipv6 || (v6.segments()[0] & 0xffc0) == 0xfe80 {
                continue;
            }
        }
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    Ok(out)
}

/// Binds one UDP socket on `ip`, on the first free port of `range` (or any port).
pub async fn bind_udp(ip: IpAddr, range: Option<&RangeInclusive<u16>>) -> io::Result<UdpSocket> {
    match range {
        None => UdpSocket::bind(SocketAddr::new(ip, 0)).await,
        Some(r) => {
            let mut last = io::Error::new(io::ErrorKind::AddrInUse, "port range exhausted");
            for port in r.clone() {
                match UdpSocket::bind(SocketAddr::new(ip, port)).await {
                    Ok(s) => return Ok(s),
                    Err(e) => last = e,
                }
            }
            Err(last)
        }
    }
}

/// A command for a running [`IceDriver`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Command {
    /// The peer's ufrag and password.
    RemoteCredentials(String, String),
    /// A candidate from the peer.
    RemoteCandidate(Candidate),
    /// A candidate from the peer whose address is an mDNS name (`<uuid>.local`, as browsers
    /// send): resolved with a one-shot mDNS query (RFC 6762 section 5.1), then added.
    RemoteMdnsCandidate {
        /// The `.local` name.
        name: String,
        /// The port.
        port: u16,
        /// Candidate type.
        kind: CandidateKind,
        /// Priority.
        priority: u32,
        /// Foundation.
        foundation: Foundation,
    },
    /// The peer sent end-of-candidates.
    EndOfCandidates,
    /// Application data for the selected pair.
    Send(Vec<u8>),
    /// ICE restart; the new local credentials come back on the channel.
    Restart(tokio::sync::oneshot::Sender<Credentials>),
    /// Close the agent (releases TURN allocations) and end the task.
    Close,
}

/// What a running [`IceDriver`] reports.
// Events are few (candidates, state changes); boxing the large one buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
#[non_exhaustive]
pub enum DriverEvent {
    /// An event of the agent.
    Ice(IceEvent),
    /// Application data from `peer`.
    Data(Vec<u8>, SocketAddr),
    /// An error sending on a socket (the task goes on).
    SendError(String),
    /// Nobody answered for an mDNS candidate name; the candidate is dropped.
    MdnsUnresolved(String),
}

struct Inbound {
    proto: Protocol,
    source: SocketAddr,
    destination: SocketAddr,
    data: Vec<u8>,
}

/// The handle of an ICE agent running on its own tokio task.
#[derive(Debug)]
pub struct IceDriver {
    commands: mpsc::UnboundedSender<Command>,
    events: mpsc::UnboundedReceiver<DriverEvent>,
    credentials: Credentials,
    task: tokio::task::JoinHandle<()>,
}

impl IceDriver {
    /// Gathers per `opts` (one UDP socket per local address, connections to TCP TURN
    /// servers) and starts the agent on a new task.
    pub async fn start(mut agent: IceAgent, opts: GatherOptions) -> Result<Self, GatherError> {
        let (in_tx, in_rx) = mpsc::unbounded_channel();
        let mut sockets: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
        for (i, ip) in local_addresses(&opts)?.into_iter().enumerate() {
            let Ok(sock) = bind_udp(ip, opts.port_range.as_ref()).await else {
                continue;
            };
            let addr = sock.local_addr()?;
            let sock = Arc::new(sock);
            agent.add_host_candidate(addr, i.min(u16::MAX as usize) as u16);
            spawn_udp_reader(sock.clone(), addr, in_tx.clone());
            sockets.insert(addr, sock);
        }
        if sockets.is_empty() {
            return Err(GatherError::NoAddress);
        }
        let bases: Vec<SocketAddr> = sockets.keys().copied().collect();
        let mut tcp: HashMap<(SocketAddr, SocketAddr), Writer> = HashMap::new();
        for server in &opts.ice_servers {
            for url in server.parse_urls()? {
                if url.scheme == Scheme::Stuns
                    || (url.scheme == Scheme::Turns && opts.turn_tls.is_none())
                {
                    // No TLS settings (or STUN over TLS, which ICE does not need): skip.
                    continue;
                }
                let Ok(addrs) = tokio::net::lookup_host((url.host.as_str(), url.port)).await else {
                    continue;
                };
                for server_addr in addrs {
                    match (url.scheme, url.transport) {
                        (Scheme::Stun, _) => agent.add_stun_server(server_addr),
                        (Scheme::Turn, Transport::Udp) => {
                            let cfg = turn_config(server, server_addr, Protocol::Udp);
                            agent.add_turn_server(cfg);
                        }
                        (Scheme::Turn | Scheme::Turns, Transport::Tcp) => {
                            let tls = url.scheme == Scheme::Turns;
                            let proto = if tls { Protocol::Tls } else { Protocol::Tcp };
                            for base in bases
                                .iter()
                                .filter(|b| b.is_ipv4() == server_addr.is_ipv4())
                            {
                                let Ok(stream) = connect_tcp(base.ip(), server_addr).await else {
                                    continue;
                                };
                                if let (true, Some(cfg)) = (tls, &opts.turn_tls) {
                                    let Ok(name) = ServerName::try_from(url.host.clone()) else {
                                        continue;
                                    };
                                    let connector = tokio_rustls::TlsConnector::from(cfg.clone());
                                    let Ok(stream) = connector.connect(name, stream).await else {
                                        continue;
                                    };
                                    let (rd, wr) = tokio::io::split(stream);
                                    spawn_tcp_reader(rd, proto, server_addr, *base, in_tx.clone());
                                    tcp.insert((*base, server_addr), Box::new(wr));
                                } else {
                                    let (rd, wr) = stream.into_split();
                                    spawn_tcp_reader(rd, proto, server_addr, *base, in_tx.clone());
                                    tcp.insert((*base, server_addr), Box::new(wr));
                                }
                                let mut cfg = turn_config(server, server_addr, proto);
                                cfg.local = *base;
                                agent.add_turn_allocation(cfg);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        agent.gather(Instant::now());
        let credentials = agent.local_credentials().clone();
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let mdns = Mdns {
            resolver: MdnsResolver::new(super::os_rng()),
            socket: None,
            group: opts.mdns_group,
            pending: Vec::new(),
        };
        let task = tokio::spawn(run(agent, sockets, tcp, in_rx, cmd_rx, ev_tx, mdns));
        Ok(Self {
            commands: cmd_tx,
            events: ev_rx,
            credentials,
            task,
        })
    }

    /// The agent's credentials at start (for the SDP).
    pub fn local_credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Sends a command; `false` when the task has ended.
    pub fn command(&self, cmd: Command) -> bool {
        self.commands.send(cmd).is_ok()
    }

    /// The next event; `None` once the task has ended.
    pub async fn next_event(&mut self) -> Option<DriverEvent> {
        self.events.recv().await
    }

    /// Closes the agent and waits for the task to end (TURN allocations are released first).
    pub async fn close(self) {
        let _ = self.commands.send(Command::Close);
        let _ = self.task.await;
    }
}

fn turn_config(server: &IceServer, addr: SocketAddr, proto: Protocol) -> TurnConfig {
    let unspecified = SocketAddr::new(
        if addr.is_ipv4() {
            [0, 0, 0, 0].into()
        } else {
            [0u16; 8].into()
        },
        0,
    );
    TurnConfig::new(
        addr,
        proto,
        unspecified,
        server.username.as_deref().unwrap_or(""),
        server.credential.as_deref().unwrap_or(""),
    )
}

async fn connect_tcp(local: IpAddr, server: SocketAddr) -> io::Result<tokio::net::TcpStream> {
    let sock = if server.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    sock.bind(SocketAddr::new(local, 0))?;
    let stream = sock.connect(server).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

fn spawn_udp_reader(sock: Arc<UdpSocket>, local: SocketAddr, tx: mpsc::UnboundedSender<Inbound>) {
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65_536];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                // ICMP errors (port unreachable) surface as recv errors on Linux: keep going.
                if tx.is_closed() {
                    return;
                }
                continue;
            };
            let d = Inbound {
                proto: Protocol::Udp,
                source: from,
                destination: local,
                data: buf[..n].to_vec(),
            };
            if tx.send(d).is_err() {
                return;
            }
        }
    });
}

/// The sending half of a TCP or TLS connection to a TURN server.
type Writer = Box<dyn AsyncWrite + Unpin + Send>;

fn spawn_tcp_reader(
    mut rd: impl AsyncRead + Unpin + Send + 'static,
    proto: Protocol,
    server: SocketAddr,
    base: SocketAddr,
    tx: mpsc::UnboundedSender<Inbound>,
) {
    tokio::spawn(async move {
        let mut stream: Vec<u8> = Vec::with_capacity(4096);
        let mut chunk = vec![0u8; 16_384];
        loop {
            let n = match rd.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            stream.extend_from_slice(&chunk[..n]);
            loop {
                let len = match stream_frame_len(&stream) {
                    StreamFrame::Stun(l) | StreamFrame::ChannelData(l) => l,
                    StreamFrame::Incomplete => break,
                    // Out of sync: the connection is useless.
                    StreamFrame::Invalid => return,
                };
                if stream.len() < len {
                    break;
                }
                let frame: Vec<u8> = stream.drain(..len).collect();
                let d = Inbound {
                    proto,
                    source: server,
                    destination: base,
                    data: frame,
                };
                if tx.send(d).is_err() {
                    return;
                }
            }
        }
    });
}

/// Resolution of `.local` remote candidates: one-shot queries from an ephemeral IPv4 port, so
/// the system's own responder keeps port 5353 and answers come back by unicast.
struct Mdns {
    resolver: MdnsResolver,
    socket: Option<Arc<UdpSocket>>,
    group: SocketAddr,
    pending: Vec<(String, u16, CandidateKind, u32, Foundation)>,
}

impl Mdns {
    async fn socket(&mut self, tx: &mpsc::UnboundedSender<Inbound>) -> Option<Arc<UdpSocket>> {
        if self.socket.is_none() {
            let sock = Arc::new(
                UdpSocket::bind(SocketAddr::from(([0, 0, 0, 0], 0)))
                    .await
                    .ok()?,
            );
            let local = sock.local_addr().ok()?;
            spawn_udp_reader(sock.clone(), local, tx.clone());
            self.socket = Some(sock);
        }
        self.socket.clone()
    }
}

async fn run(
    mut agent: IceAgent,
    sockets: HashMap<SocketAddr, Arc<UdpSocket>>,
    mut tcp: HashMap<(SocketAddr, SocketAddr), Writer>,
    mut inbound: mpsc::UnboundedReceiver<Inbound>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<DriverEvent>,
    mut mdns: Mdns,
) {
    let mut buf = Vec::with_capacity(2048);
    let mut closing: Option<Instant> = None;
    let (mdns_tx, mut mdns_rx) = mpsc::unbounded_channel::<Inbound>();
    loop {
        let now = Instant::now();
        if agent.poll_timeout().is_some_and(|t| t <= now) {
            agent.handle_timeout(now);
        }
        if mdns.resolver.poll_timeout().is_some_and(|t| t <= now) {
            mdns.resolver.handle_timeout(now);
        }
        while let Some(t) = mdns.resolver.poll_transmit(now, &mut buf) {
            if !t.destination.is_ipv4() {
                continue; // the one-shot socket is IPv4
            }
            if let Some(sock) = mdns.socket(&mdns_tx).await {
                let _ = sock.send_to(&buf[..t.len], mdns.group).await;
            }
        }
        while let Some(ev) = mdns.resolver.poll_event() {
            match ev {
                MdnsEvent::Resolved { name, addr } => {
                    for (_, port, kind, prio, f) in mdns.pending.iter().filter(|p| p.0 == name) {
                        let c = Candidate::remote(*kind, SocketAddr::new(addr, *port), *prio, *f);
                        let _ = agent.add_remote_candidate(now, c);
                    }
                    mdns.pending.retain(|p| p.0 != name);
                }
                MdnsEvent::Failed { name } => {
                    mdns.pending.retain(|p| p.0 != name);
                    let _ = events.send(DriverEvent::MdnsUnresolved(name));
                }
                _ => {}
            }
        }
        while let Some(t) = agent.poll_transmit(now, &mut buf) {
            let data = &buf[..t.len];
            let res = match t.proto {
                Protocol::Udp => match sockets.get(&t.source) {
                    Some(s) => s.send_to(data, t.destination).await.map(|_| ()),
                    None => Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("no socket for {}", t.source),
                    )),
                },
                Protocol::Tcp | Protocol::Tls => match tcp.get_mut(&(t.source, t.destination)) {
                    Some(w) => w.write_all(data).await,
                    None => Err(io::Error::new(
                        io::ErrorKind::NotConnected,
                        format!("no connection to {}", t.destination),
                    )),
                },
            };
            if let Err(e) = res {
                let _ = events.send(DriverEvent::SendError(e.to_string()));
            }
        }
        while let Some(ev) = agent.poll_event() {
            let _ = events.send(DriverEvent::Ice(ev));
        }
        // After close, linger up to 2 s for the TURN deallocations to be answered.
        if let Some(t) = closing
            && (now >= t || agent.poll_timeout().is_none())
        {
            return;
        }
        let wake = match (agent.poll_timeout(), mdns.resolver.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map(tokio::time::Instant::from_std);
        let sleep = async {
            match wake {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            Some(d) = inbound.recv() => {
                let now = Instant::now();
                if let Received::Data { data, peer } = agent.handle_datagram(now, d.proto, d.source, d.destination, &d.data) {
                    let _ = events.send(DriverEvent::Data(data.to_vec(), peer));
                }
            }
            Some(d) = mdns_rx.recv() => {
                let _ = mdns.resolver.handle_datagram(Instant::now(), &d.data);
            }
            cmd = commands.recv(), if closing.is_none() => {
                let now = Instant::now();
                match cmd {
                    Some(Command::RemoteCredentials(u, p)) => {
                        let _ = agent.set_remote_credentials(now, &u, &p);
                    }
                    Some(Command::RemoteCandidate(c)) => {
                        let _ = agent.add_remote_candidate(now, c);
                    }
                    Some(Command::RemoteMdnsCandidate { name, port, kind, priority, foundation }) => {
                        if MdnsResolver::is_mdns_name(&name) {
                            let key = name.trim_end_matches('.').to_ascii_lowercase();
                            mdns.pending.push((key, port, kind, priority, foundation));
                            mdns.resolver.resolve(now, &name);
                        }
                    }
                    Some(Command::EndOfCandidates) => agent.end_of_remote_candidates(now),
                    Some(Command::Send(data)) => {
                        if let Some(t) = agent.send(&data, &mut buf) {
                            let d = &buf[..t.len];
                            let res = match t.proto {
                                Protocol::Udp => match sockets.get(&t.source) {
                                    Some(s) => s.send_to(d, t.destination).await.map(|_| ()),
                                    None => Ok(()),
                                },
                                _ => match tcp.get_mut(&(t.source, t.destination)) {
                                    Some(w) => w.write_all(d).await,
                                    None => Ok(()),
                                },
                            };
                            if let Err(e) = res {
                                let _ = events.send(DriverEvent::SendError(e.to_string()));
                            }
                        }
                    }
                    Some(Command::Restart(reply)) => {
                        let c = agent.restart(now).clone();
                        let _ = reply.send(c);
                    }
                    Some(Command::Close) | None => {
                        agent.close(now);
                        closing = Some(now + std::time::Duration::from_secs(2));
                    }
                }
            }
            _ = sleep => {}
        }
    }
}
