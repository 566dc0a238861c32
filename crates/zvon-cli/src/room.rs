//! A native peer in a room of `zvon serve`: one peer connection per other peer, the protocol
//! of docs/signaling.md (the newcomer creates the channel and offers; the newcomer is polite),
//! and the W3C "perfect negotiation" pattern for everything after the first offer.
//!
//! Each remote peer gets a task that owns its `PeerConnection`; the main loop owns the
//! signaling client and routes messages between the two.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::{broadcast, mpsc};
use zvon::{
    ChannelInit, Configuration, DataChannel, MessageKind, PeerConnection, PeerEvent, SdpType,
    SignalingState,
};
use zvon_server::{Client, ServerMessage, SignalData};

/// What the peer does with data channels.
#[derive(Clone)]
pub(crate) enum Mode {
    /// Send every message back on the channel it came from.
    Echo,
    /// Print what arrives (`name: text`) and send each line of `lines` on every open channel.
    Chat {
        /// Lines typed by the user.
        lines: broadcast::Sender<String>,
    },
}

/// Where to join and how to connect.
pub(crate) struct RoomOptions {
    pub(crate) url: String,
    pub(crate) room: String,
    pub(crate) token: Option<String>,
    pub(crate) name: String,
    pub(crate) config: Configuration,
    pub(crate) mode: Mode,
}

/// Joins the room and serves it until the server says bye or the connection drops.
pub(crate) async fn run(opts: RoomOptions) -> Result<()> {
    let mut client = tokio::time::timeout(
        Duration::from_secs(10),
        Client::connect(
            &opts.url,
            &opts.room,
            opts.token.as_deref(),
            Some(&opts.name),
        ),
    )
    .await
    .context("no welcome from the server within 10 s")??;
    let welcome = client.welcome().clone();
    eprintln!(
        "joined room {:?} as {} ({} other peer(s) there)",
        welcome.room,
        welcome.id,
        welcome.peers.len()
    );
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<(String, SignalData)>();
    let mut peers: HashMap<String, mpsc::UnboundedSender<SignalData>> = HashMap::new();
    let mut names: HashMap<String, String> = HashMap::new();
    let spawn = |id: String, name: String, newcomer: bool, peers: &mut HashMap<_, _>| {
        let (tx, rx) = mpsc::unbounded_channel();
        peers.insert(id.clone(), tx);
        let task = Remote {
            id: id.clone(),
            name,
            polite: newcomer,
            initiator: newcomer,
            config: opts.config.clone(),
            mode: opts.mode.clone(),
            out: out_tx.clone(),
        };
        tokio::spawn(async move {
            if let Err(e) = task.run(rx).await {
                eprintln!("peer {id}: {e:#}");
            }
        });
    };
    // We are the newcomer to everyone already here: we offer, and we are polite.
    for p in &welcome.peers {
        names.insert(p.id.clone(), p.name.clone());
        spawn(p.id.clone(), p.name.clone(), true, &mut peers);
    }
    loop {
        tokio::select! {
            msg = client.recv() => match msg {
                None => {
                    eprintln!("signaling connection closed");
                    return Ok(());
                }
                Some(ServerMessage::PeerJoined(p)) => {
                    eprintln!("{} joined{}", p.id, label(&p.name));
                    names.insert(p.id.clone(), p.name.clone());
                    // The newcomer will offer to us.
                    spawn(p.id.clone(), p.name.clone(), false, &mut peers);
                }
                Some(ServerMessage::PeerLeft { id }) => {
                    eprintln!("{id} left");
                    peers.remove(&id);
                    names.remove(&id);
                }
                Some(ServerMessage::Signal { from, data }) => {
                    if let Some(tx) = peers.get(&from) {
                        let _ = tx.send(data);
                    }
                }
                Some(ServerMessage::Error { code, message }) => {
                    eprintln!("server refused something: {code:?}: {message}");
                }
                Some(ServerMessage::Bye { reason }) => {
                    eprintln!("server said bye ({reason})");
                    return Ok(());
                }
                Some(_) => {}
            },
            Some((to, data)) = out_rx.recv() => {
                client.send_signal(&to, &data).await?;
            }
        }
    }
}

fn label(name: &str) -> String {
    if name.is_empty() {
        String::new()
    } else {
        format!(" ({name})")
    }
}

/// The session with one other peer of the room.
struct Remote {
    id: String,
    name: String,
    /// Perfect negotiation: the polite side rolls back its own offer on a collision.
    polite: bool,
    /// Creates the first channel (and so makes the first offer).
    initiator: bool,
    config: Configuration,
    mode: Mode,
    out: mpsc::UnboundedSender<(String, SignalData)>,
}

impl Remote {
    fn send(&self, data: SignalData) {
        let _ = self.out.send((self.id.clone(), data));
    }

    async fn run(self, mut signals: mpsc::UnboundedReceiver<SignalData>) -> Result<()> {
        let mut pc = PeerConnection::new(self.config.clone()).await?;
        if self.initiator {
            let dc = pc.create_data_channel("chat", ChannelInit::default())?;
            self.serve_channel(dc);
        }
        let mut ignore_offer = false;
        loop {
            tokio::select! {
                ev = pc.next_event() => match ev {
                    None => return Ok(()),
                    Some(PeerEvent::NegotiationNeeded) => {
                        let offer = pc.create_offer().await?;
                        pc.set_local_description(offer.clone()).await?;
                        self.send(SignalData::Description(offer));
                    }
                    Some(PeerEvent::DataChannel(dc)) => self.serve_channel(dc),
                    Some(PeerEvent::ConnectionStateChange(s)) => {
                        eprintln!("{}{}: {s:?}", self.id, label(&self.name));
                    }
                    Some(ev) => {
                        if let Some(data) = SignalData::from_event(&ev) {
                            self.send(data);
                        }
                    }
                },
                sig = signals.recv() => match sig {
                    // The peer left (or we are shutting down).
                    None => {
                        pc.close().await;
                        return Ok(());
                    }
                    Some(SignalData::Description(desc)) => {
                        let is_offer = desc.kind == SdpType::Offer;
                        let collision = is_offer && pc.signaling_state() != SignalingState::Stable;
                        ignore_offer = !self.polite && collision;
                        if ignore_offer {
                            continue;
                        }
                        // A polite peer's own offer is rolled back implicitly by this.
                        pc.set_remote_description(desc).await?;
                        if is_offer {
                            let answer = pc.create_answer().await?;
                            pc.set_local_description(answer.clone()).await?;
                            self.send(SignalData::Description(answer));
                        }
                    }
                    Some(other) => {
                        if let Some(c) = other.candidate()
                            && let Err(e) = pc.add_ice_candidate(c).await
                            && !ignore_offer
                        {
                            eprintln!("{}: candidate refused: {e}", self.id);
                        }
                    }
                },
            }
        }
    }

    fn serve_channel(&self, mut dc: DataChannel) {
        let who = if self.name.is_empty() {
            self.id.clone()
        } else {
            self.name.clone()
        };
        match &self.mode {
            Mode::Echo => {
                tokio::spawn(async move {
                    while let Some(m) = dc.recv().await {
                        if dc.send_kind(&m.data, m.kind).is_err() {
                            break;
                        }
                    }
                });
            }
            Mode::Chat { lines } => {
                let mut lines = lines.subscribe();
                tokio::spawn(async move {
                    if dc.wait_open().await.is_err() {
                        return;
                    }
                    loop {
                        tokio::select! {
                            m = dc.recv() => match m {
                                Some(m) if m.kind == MessageKind::Text => {
                                    println!("{who}: {}", String::from_utf8_lossy(&m.data));
                                }
                                Some(m) => println!("{who}: <{} bytes>", m.data.len()),
                                None => break,
                            },
                            line = lines.recv() => match line {
                                Ok(line) => {
                                    if dc.send_text(&line).is_err() {
                                        break;
                                    }
                                }
                                Err(broadcast::error::RecvError::Lagged(_)) => {}
                                Err(broadcast::error::RecvError::Closed) => break,
                            },
                        }
                    }
                });
            }
        }
    }
}
