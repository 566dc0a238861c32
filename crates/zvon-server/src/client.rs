//! A signaling client for native peers (`zvon chat`, `zvon echo`, tests): joins a room of a
//! zvon server and relays [`SignalData`] to the other peers.
//!
//! A task of its own owns the socket, so pings are answered and the peer stays in the room
//! even while the application is busy; messages wait for [`Client::recv`] in a bounded queue
//! (a client that stops reading for long stops reading its socket too, and the server drops
//! it as a slow peer).
//!
//! ```no_run
//! # async fn demo() -> Result<(), zvon_server::client::ClientError> {
//! use zvon_server::client::Client;
//! use zvon_server::{ServerMessage, SignalData};
//! let mut client = Client::connect("ws://127.0.0.1:8080/ws", "lobby", None, Some("bot")).await?;
//! for peer in &client.welcome().peers {
//!     // The newcomer offers (docs/signaling.md); here just a greeting.
//!     client.send_signal(&peer.id, &SignalData::Other(serde_json::json!({"hello": true}))).await?;
//! }
//! while let Some(msg) = client.recv().await {
//!     if let ServerMessage::Signal { from, data } = msg {
//!         println!("{from}: {data:?}");
//!     }
//! }
//! # Ok(()) }
//! ```

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::protocol::{ErrorCode, ServerMessage, SignalData, Welcome};

/// Messages from the server held for [`Client::recv`].
const QUEUE: usize = 256;

/// Why the client failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL is not `ws://`, `http://` (or their secure forms).
    #[error("not a signaling URL: {0}")]
    Url(String),
    /// Connecting or the WebSocket failed.
    #[error("websocket: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
    /// The server refused the join.
    #[error("refused: {code}: {message}")]
    Refused {
        /// Why.
        code: ErrorCode,
        /// The server's words.
        message: String,
    },
    /// The server said `bye` before the join was accepted.
    #[error("the server said bye: {0}")]
    Bye(String),
    /// The connection closed.
    #[error("the signaling connection is closed")]
    Closed,
}

/// A peer in a room of a zvon signaling server.
#[derive(Debug)]
pub struct Client {
    welcome: Welcome,
    out: mpsc::Sender<Message>,
    events: mpsc::Receiver<ServerMessage>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// `http://host:port` becomes `ws://host:port/ws`; a `ws://` URL with a path is kept.
fn ws_url(url: &str) -> Result<String, ClientError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| ClientError::Url(url.to_owned()))?;
    let scheme = match scheme {
        "ws" | "http" => "ws",
        "wss" | "https" => "wss",
        _ => return Err(ClientError::Url(url.to_owned())),
    };
    let rest = if rest.contains('/') && !rest.ends_with('/') {
        rest.to_owned()
    } else {
        format!("{}/ws", rest.trim_end_matches('/'))
    };
    Ok(format!("{scheme}://{rest}"))
}

impl Client {
    /// Connects, joins `room` and waits for the `welcome`. `url` is the server's `ws://…/ws`
    /// or its page's `http://host:port` URL. Wrap in `tokio::time::timeout` to bound the wait.
    pub async fn connect(
        url: &str,
        room: &str,
        token: Option<&str>,
        name: Option<&str>,
    ) -> Result<Self, ClientError> {
        // Nagle off: a candidate written right after another would otherwise wait for the
        // server's delayed ACK (40 ms on Linux).
        let (mut ws, _) =
            tokio_tungstenite::connect_async_with_config(ws_url(url)?, None, true).await?;
        let mut join = serde_json::json!({"type": "join", "room": room});
        if let Some(t) = token {
            join["token"] = t.into();
        }
        if let Some(n) = name {
            join["name"] = n.into();
        }
        ws.send(Message::text(join.to_string())).await?;
        let welcome = loop {
            let Some(frame) = ws.next().await else {
                return Err(ClientError::Closed);
            };
            let Message::Text(text) = frame? else {
                continue;
            };
            match ServerMessage::parse(text.as_str()) {
                Some(ServerMessage::Welcome(w)) => break w,
                Some(ServerMessage::Error { code, message }) => {
                    return Err(ClientError::Refused { code, message });
                }
                Some(ServerMessage::Bye { reason }) => return Err(ClientError::Bye(reason)),
                _ => {}
            }
        };
        let (out_tx, mut out_rx) = mpsc::channel::<Message>(QUEUE);
        let (ev_tx, events) = mpsc::channel(QUEUE);
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    frame = ws.next() => {
                        let text = match frame {
                            Some(Ok(Message::Text(t))) => t,
                            Some(Ok(_)) => continue,
                            _ => break,
                        };
                        let Some(msg) = ServerMessage::parse(text.as_str()) else {
                            tracing::debug!("ignoring an unknown server message");
                            continue;
                        };
                        if ev_tx.send(msg).await.is_err() {
                            break;
                        }
                    }
                    msg = out_rx.recv() => match msg {
                        Some(m) => {
                            if ws.send(m).await.is_err() {
                                break;
                            }
                        }
                        None => {
                            let _ = ws.close(None).await;
                            break;
                        }
                    },
                }
            }
        });
        Ok(Self {
            welcome,
            out: out_tx,
            events,
            task: Some(task),
        })
    }

    /// The `welcome`: this peer's id and the peers that were there first.
    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    /// This peer's id.
    pub fn id(&self) -> &str {
        &self.welcome.id
    }

    /// The next message from the server (never `Welcome`; that was [`Client::welcome`]);
    /// `None` once the connection is closed.
    pub async fn recv(&mut self) -> Option<ServerMessage> {
        self.events.recv().await
    }

    /// Relays `data` to peer `to`. Success means it was handed to the socket; the server
    /// answers `unknown-peer` (through [`Client::recv`]) if `to` is gone.
    pub async fn send_signal(&self, to: &str, data: &SignalData) -> Result<(), ClientError> {
        #[derive(serde::Serialize)]
        struct Signal<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            to: &'a str,
            data: &'a SignalData,
        }
        let msg = Signal {
            kind: "signal",
            to,
            data,
        };
        // ok: strings and SignalData, whose serialization cannot fail.
        self.send_raw(serde_json::to_string(&msg).unwrap_or_default())
            .await
    }

    /// Sends one text frame as it is (for protocol tests and extensions).
    pub async fn send_raw(&self, text: String) -> Result<(), ClientError> {
        self.out
            .send(Message::text(text))
            .await
            .map_err(|_| ClientError::Closed)
    }

    /// Leaves the room and waits (up to two seconds) for the server to close the socket.
    pub async fn leave(mut self) {
        let _ = self.out.send(Message::text(r#"{"type":"leave"}"#)).await;
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), task).await;
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // Without a `leave`, dropping the socket is leaving too (the server tells the room).
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ws_url;

    #[test]
    fn urls() {
        for (given, want) in [
            ("ws://h:1/ws", "ws://h:1/ws"),
            ("ws://h:1/other", "ws://h:1/other"),
            ("ws://h:1", "ws://h:1/ws"),
            ("http://h:1/", "ws://h:1/ws"),
            ("https://h", "wss://h/ws"),
        ] {
            assert_eq!(ws_url(given).unwrap(), want);
        }
        assert!(ws_url("h:1").is_err());
        assert!(ws_url("ftp://h").is_err());
    }
}
