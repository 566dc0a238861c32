//! WebRTC data channels (RFC 8831) over the association: DCEP (RFC 8832) for in-band
//! channels, pre-negotiated channels, PPIDs for string/binary/empty messages, the W3C channel
//! states, buffered amount, and closing by stream reset (RFC 8831 6.7).

use std::time::Duration;

use crate::association::{Association, AssociationState};
use crate::config::Role;
use crate::dcep::{self, Open, ppid};
use crate::error::Error;
use crate::recv::ENTRY_OVERHEAD;
use crate::send::MessagePolicy;

pub use crate::dcep::Reliability;

/// A data channel: its SCTP stream identifier, which is also the W3C `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub u16);

/// String or binary (the PPID of RFC 8831 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text (PPID 51, or 56 when empty).
    Text,
    /// Binary (PPID 53, or 57 when empty).
    Binary,
}

/// The W3C `RTCDataChannelState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelState {
    /// Created, waiting for the association.
    Connecting,
    /// Messages flow.
    Open,
    /// Closing: the stream reset is under way.
    Closing,
    /// Closed.
    Closed,
}

/// Channel priorities: the W3C `RTCPriorityType` values as RFC 8831 6.4 and RFC 8832 5.1 put
/// them on the wire. The scheduler gives busy channels bytes in proportion to these weights.
pub mod priority {
    /// `very-low` (RFC 8832 "below normal").
    pub const VERY_LOW: u16 = 128;
    /// `low`, the default (RFC 8832 "normal").
    pub const LOW: u16 = 256;
    /// `medium` (RFC 8832 "high").
    pub const MEDIUM: u16 = 512;
    /// `high` (RFC 8832 "extra high").
    pub const HIGH: u16 = 1024;
}

/// What `open_channel` creates (the W3C `RTCDataChannelInit`, plus the label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelOptions {
    /// Label.
    pub label: String,
    /// Sub-protocol.
    pub protocol: String,
    /// In-order delivery.
    pub ordered: bool,
    /// Retransmission policy.
    pub reliability: Reliability,
    /// `negotiated: true, id`: both sides create the channel themselves with this stream id,
    /// no DCEP.
    pub negotiated: Option<u16>,
    /// Priority (RFC 8832 5.1: 128 below normal, 256 normal, 512 high, 1024 extra high; see
    /// [`priority`]): the channel's weight in the send scheduler. Any value from 1 up is a
    /// weight; 0 counts as 1.
    pub priority: u16,
}

impl ChannelOptions {
    /// A reliable, ordered, in-band channel.
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            protocol: String::new(),
            ordered: true,
            reliability: Reliability::Reliable,
            negotiated: None,
            priority: priority::LOW,
        }
    }
}

/// What the association tells the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The association is up.
    Connected,
    /// A channel we created is open (`onopen`).
    ChannelOpen {
        /// The channel.
        id: ChannelId,
    },
    /// The peer opened a channel with DCEP (`ondatachannel`); it is open.
    IncomingChannel {
        /// The channel.
        id: ChannelId,
        /// Label.
        label: String,
        /// Sub-protocol.
        protocol: String,
        /// In-order delivery.
        ordered: bool,
        /// Retransmission policy.
        reliability: Reliability,
    },
    /// A message.
    Message {
        /// The channel.
        id: ChannelId,
        /// The bytes (empty for an empty message).
        data: Vec<u8>,
        /// Text or binary.
        kind: MessageKind,
    },
    /// The channel's buffered amount fell to or below its low threshold.
    BufferedAmountLow {
        /// The channel.
        id: ChannelId,
    },
    /// The peer started closing a channel (`closing`).
    ChannelClosing {
        /// The channel.
        id: ChannelId,
    },
    /// A channel is closed (`onclose`); its id may be reused.
    ChannelClosed {
        /// The channel.
        id: ChannelId,
    },
    /// The peer restarted the association (RFC 9260 5.2.4: a new INIT and COOKIE ECHO, with
    /// new tags, over the established association; over DTLS, a peer that lost its SCTP state
    /// and connected again on the same DTLS connection). Data channels cannot survive it:
    /// every channel was closed first (`ChannelClosed`), and data queued, in flight or being
    /// reassembled was dropped. The association is up again with fresh sequence numbers and
    /// congestion state; channels may be opened anew. No `Connected` follows.
    Restarted,
    /// The association shut down gracefully.
    Closed,
    /// The association ended abnormally.
    Aborted {
        /// Why.
        reason: Error,
    },
}

#[derive(Debug)]
pub(crate) struct Channel {
    label: String,
    protocol: String,
    ordered: bool,
    reliability: Reliability,
    priority: u16,
    negotiated: bool,
    state: ChannelState,
    /// DCEP ACK received (or nothing to wait for): unordered sending allowed (RFC 8832 6).
    acked: bool,
    out_reset: bool,
    in_reset: bool,
    /// Label and protocol bytes charged to `Config::max_peer_label_bytes` (the peer opened
    /// it), 0 for ours.
    peer_label_bytes: usize,
}

impl Association {
    /// Creates a channel (`createDataChannel`). It opens once the association is up, at once
    /// if it already is.
    pub fn open_channel(&mut self, opts: ChannelOptions) -> Result<ChannelId, Error> {
        if opts.label.len() > u16::MAX as usize || opts.protocol.len() > u16::MAX as usize {
            return Err(Error::LabelTooLong);
        }
        if matches!(
            self.state(),
            AssociationState::Closed | AssociationState::ShutdownAckSent
        ) && self.stats.packets_received > 0
        {
            return Err(Error::NotEstablished);
        }
        if self.channels.len() >= self.cfg.max_channels {
            return Err(Error::TooManyChannels(self.cfg.max_channels));
        }
        let limit = self.stream_limit();
        let id = match opts.negotiated {
            Some(id) => {
                if id as u32 >= limit || self.channels.contains_key(&id) {
                    return Err(Error::StreamIdUnavailable(id));
                }
                id
            }
            None => {
                let start = match self.cfg.role {
                    Role::Client => 0u32,
                    Role::Server => 1,
                };
                (start..limit)
                    .step_by(2)
                    .map(|i| i as u16)
                    .find(|i| !self.channels.contains_key(i) && self.tx.stream_is_empty(*i))
                    .ok_or(Error::NoStreamIds)?
            }
        };
        self.refused.remove(&id);
        self.channels.insert(
            id,
            Channel {
                label: opts.label,
                protocol: opts.protocol,
                ordered: opts.ordered,
                reliability: opts.reliability,
                priority: opts.priority,
                negotiated: opts.negotiated.is_some(),
                state: ChannelState::Connecting,
                acked: opts.negotiated.is_some(),
                out_reset: false,
                in_reset: false,
                peer_label_bytes: 0,
            },
        );
        if self.is_established() {
            self.activate(id);
        }
        Ok(ChannelId(id))
    }

    fn stream_limit(&self) -> u32 {
        self.outbound_streams as u32
    }

    fn activate(&mut self, id: u16) {
        let limit = self.stream_limit();
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        if ch.state != ChannelState::Connecting {
            return;
        }
        if id as u32 >= limit {
            self.remove_channel(id);
            self.drop_early(id);
            self.events
                .push_back(Event::ChannelClosed { id: ChannelId(id) });
            return;
        }
        ch.state = ChannelState::Open;
        self.tx.set_priority(id, ch.priority);
        let negotiated = ch.negotiated;
        if !ch.negotiated {
            let mut msg = Vec::with_capacity(12 + ch.label.len() + ch.protocol.len());
            Open {
                ordered: ch.ordered,
                reliability: ch.reliability,
                priority: ch.priority,
                label: ch.label.clone(),
                protocol: ch.protocol.clone(),
            }
            .encode(&mut msg);
            //# RFC 8832 6: DCEP messages go reliable and ordered.
            self.tx.push_control(id, ppid::DCEP, msg);
        }
        self.events
            .push_back(Event::ChannelOpen { id: ChannelId(id) });
        // What the peer sent on a negotiated stream before we created the channel is
        // delivered now, after `onopen`, as browsers do; an in-band channel of ours starts
        // clean.
        if let Some(early) = self.early.remove(&id) {
            for (ppid, data) in early {
                self.early_bytes -= data.len() + ENTRY_OVERHEAD;
                if negotiated {
                    self.on_message(id, ppid, data);
                }
            }
        }
    }

    /// Drops what arrived early on a stream (its channel will not be created as negotiated).
    pub(crate) fn drop_early(&mut self, stream: u16) {
        if let Some(early) = self.early.remove(&stream) {
            for (_, data) in early {
                self.early_bytes -= data.len() + ENTRY_OVERHEAD;
            }
        }
    }

    pub(crate) fn open_pending_channels(&mut self) {
        let ids: Vec<u16> = self
            .channels
            .iter()
            .filter(|(_, c)| c.state == ChannelState::Connecting)
            .map(|(&id, _)| id)
            .collect();
        for id in ids {
            self.activate(id);
        }
    }

    /// Queues a message (`send`). An empty message goes as the single byte RFC 8831 6.6 asks
    /// for, with the "empty" PPID. A `MaxLifetime` channel counts the lifetime from the last
    /// instant passed to the association.
    pub fn send(
        &mut self,
        id: ChannelId,
        data: impl Into<Vec<u8>>,
        kind: MessageKind,
    ) -> Result<(), Error> {
        let data = data.into();
        let ch = self
            .channels
            .get(&id.0)
            .ok_or(Error::UnknownChannel(id.0))?;
        if !self.is_established() {
            //# RFC 9260 9.2: no new data once shutdown has begun.
            return Err(Error::NotEstablished);
        }
        if ch.state != ChannelState::Open || self.tx.is_closed(id.0) {
            return Err(Error::ChannelNotOpen(id.0));
        }
        if data.len() > self.cfg.remote_max_message_size {
            return Err(Error::MessageTooLarge {
                size: data.len(),
                max: self.cfg.remote_max_message_size,
            });
        }
        let buffered = self.tx.total_buffered();
        if buffered + data.len() > self.cfg.max_send_buffer {
            return Err(Error::SendBufferFull {
                buffered,
                limit: self.cfg.max_send_buffer,
            });
        }
        let (ppid, data) = match (kind, data.is_empty()) {
            (MessageKind::Text, false) => (ppid::STRING, data),
            (MessageKind::Binary, false) => (ppid::BINARY, data),
            (MessageKind::Text, true) => (ppid::STRING_EMPTY, vec![0]),
            (MessageKind::Binary, true) => (ppid::BINARY_EMPTY, vec![0]),
        };
        let policy = MessagePolicy {
            unordered: !ch.ordered && ch.acked,
            expires: match ch.reliability {
                Reliability::MaxLifetimeMs(ms) => Some(self.now + Duration::from_millis(ms as u64)),
                _ => None,
            },
            max_rtx: match ch.reliability {
                Reliability::MaxRetransmits(n) => Some(n),
                _ => None,
            },
        };
        self.tx.push(id.0, ppid, data, policy);
        self.stats.messages_sent += 1;
        Ok(())
    }

    /// Bytes queued on the channel and not yet sent (`bufferedAmount`).
    pub fn buffered_amount(&self, id: ChannelId) -> usize {
        self.tx.buffered(id.0)
    }

    /// Bytes queued on all channels and not yet sent.
    pub fn total_buffered_amount(&self) -> usize {
        self.tx.total_buffered()
    }

    /// Sets `bufferedAmountLowThreshold`.
    pub fn set_buffered_amount_low_threshold(&mut self, id: ChannelId, threshold: usize) {
        self.tx.set_low_threshold(id.0, threshold);
    }

    /// The current `bufferedAmountLowThreshold`.
    pub fn buffered_amount_low_threshold(&self, id: ChannelId) -> usize {
        self.tx.low_threshold(id.0)
    }

    /// The channel's state; `Closed` for an unknown id.
    pub fn channel_state(&self, id: ChannelId) -> ChannelState {
        self.channels
            .get(&id.0)
            .map_or(ChannelState::Closed, |c| c.state)
    }

    /// Label and sub-protocol of a channel.
    pub fn channel_label(&self, id: ChannelId) -> Option<(&str, &str)> {
        self.channels
            .get(&id.0)
            .map(|c| (c.label.as_str(), c.protocol.as_str()))
    }

    /// The channel's priority (its own, or the one the peer's DATA_CHANNEL_OPEN named).
    pub fn channel_priority(&self, id: ChannelId) -> Option<u16> {
        self.channels.get(&id.0).map(|c| c.priority)
    }

    /// Number of channels not yet closed.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Closes a channel (`close`): queued messages are still sent, then the outgoing stream
    /// is reset; the channel is closed once the peer resets its side too.
    pub fn close_channel(&mut self, id: ChannelId) -> Result<(), Error> {
        let ch = self
            .channels
            .get_mut(&id.0)
            .ok_or(Error::UnknownChannel(id.0))?;
        match ch.state {
            ChannelState::Closing | ChannelState::Closed => return Ok(()),
            ChannelState::Connecting => {
                self.remove_channel(id.0);
                self.events.push_back(Event::ChannelClosed { id });
                return Ok(());
            }
            ChannelState::Open => {}
        }
        ch.state = ChannelState::Closing;
        self.tx.close_stream(id.0);
        self.request_reset(id.0);
        Ok(())
    }

    fn request_reset(&mut self, id: u16) {
        if !self.supports_reconfig() {
            // Without RE-CONFIG there is no way to tell the peer: close locally, and drop what
            // it still sends on the stream rather than keep it for a channel to come.
            if let Some(ch) = self.channels.get_mut(&id) {
                ch.out_reset = true;
                ch.in_reset = true;
            }
            self.refused.insert(id);
            self.check_closed(id);
            return;
        }
        self.reset_queue.insert(id);
    }

    /// Forgets a channel: its id is free again.
    fn remove_channel(&mut self, id: u16) {
        if let Some(ch) = self.channels.remove(&id) {
            self.peer_label_bytes -= ch.peer_label_bytes;
        }
        self.tx.remove_stream(id);
    }

    pub(crate) fn on_outgoing_reset(&mut self, id: u16) {
        if let Some(ch) = self.channels.get_mut(&id) {
            ch.out_reset = true;
        }
        self.check_closed(id);
    }

    pub(crate) fn on_incoming_reset(&mut self, id: u16) {
        // A refused stream is closed on both sides once the peer resets its half.
        self.refused.remove(&id);
        self.drop_early(id);
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        ch.in_reset = true;
        if ch.state == ChannelState::Open {
            ch.state = ChannelState::Closing;
            self.events
                .push_back(Event::ChannelClosing { id: ChannelId(id) });
            self.tx.close_stream(id);
            self.request_reset(id);
        }
        self.check_closed(id);
    }

    fn check_closed(&mut self, id: u16) {
        if self
            .channels
            .get(&id)
            .is_some_and(|c| c.in_reset && c.out_reset)
        {
            self.remove_channel(id);
            self.events
                .push_back(Event::ChannelClosed { id: ChannelId(id) });
        }
    }

    pub(crate) fn close_all_channels(&mut self) {
        let ids: Vec<u16> = self.channels.keys().copied().collect();
        for id in ids {
            self.remove_channel(id);
            self.events
                .push_back(Event::ChannelClosed { id: ChannelId(id) });
        }
        self.refused.clear();
        self.early.clear();
        self.early_bytes = 0;
    }

    pub(crate) fn flush_low_events(&mut self) {
        if self.tx.low_events.is_empty() {
            return;
        }
        for id in std::mem::take(&mut self.tx.low_events) {
            if self.channels.contains_key(&id) {
                self.events
                    .push_back(Event::BufferedAmountLow { id: ChannelId(id) });
            }
        }
    }

    pub(crate) fn on_message(&mut self, stream: u16, ppid: u32, data: Vec<u8>) {
        let kind = match ppid {
            ppid::DCEP => {
                self.on_dcep(stream, &data);
                return;
            }
            ppid::STRING | ppid::STRING_PARTIAL => (MessageKind::Text, false),
            ppid::BINARY | ppid::BINARY_PARTIAL => (MessageKind::Binary, false),
            ppid::STRING_EMPTY => (MessageKind::Text, true),
            ppid::BINARY_EMPTY => (MessageKind::Binary, true),
            _ => return,
        };
        let Some(ch) = self.channels.get(&stream) else {
            if self.refused.contains(&stream) {
                return;
            }
            // A negotiated channel the application has not created yet (the peer may send as
            // soon as it created its side): keep the message for it. It counts against the
            // receive window like a message not yet polled, so a peer that keeps sending is
            // flow-controlled rather than holding memory.
            self.early_bytes += data.len() + ENTRY_OVERHEAD;
            self.early
                .entry(stream)
                .or_default()
                .push_back((ppid, data));
            return;
        };
        if ch.in_reset {
            return;
        }
        let data = if kind.1 { Vec::new() } else { data };
        self.rx_event_bytes += data.len() + ENTRY_OVERHEAD;
        self.events.push_back(Event::Message {
            id: ChannelId(stream),
            data,
            kind: kind.0,
        });
    }

    fn on_dcep(&mut self, stream: u16, msg: &[u8]) {
        match msg.first() {
            Some(&dcep::OPEN) => {
                let Ok(open) = Open::parse(msg) else {
                    return;
                };
                if self.channels.contains_key(&stream) {
                    return; // in use: RFC 8832 leaves this to the application; ignore
                }
                // The OPEN comes first on its stream (RFC 8832 6): nothing before it counts.
                self.drop_early(stream);
                self.refused.remove(&stream);
                let label_bytes = open.label.len() + open.protocol.len();
                if self.channels.len() >= self.cfg.max_channels
                    || self.peer_label_bytes + label_bytes > self.cfg.max_peer_label_bytes
                {
                    self.refuse_channel(stream);
                    return;
                }
                self.peer_label_bytes += label_bytes;
                self.channels.insert(
                    stream,
                    Channel {
                        label: open.label.clone(),
                        protocol: open.protocol.clone(),
                        ordered: open.ordered,
                        reliability: open.reliability,
                        priority: open.priority,
                        negotiated: false,
                        state: ChannelState::Open,
                        acked: true,
                        out_reset: false,
                        in_reset: false,
                        peer_label_bytes: label_bytes,
                    },
                );
                self.tx.set_priority(stream, open.priority);
                self.tx.push_control(stream, ppid::DCEP, vec![dcep::ACK]);
                self.events.push_back(Event::IncomingChannel {
                    id: ChannelId(stream),
                    label: open.label,
                    protocol: open.protocol,
                    ordered: open.ordered,
                    reliability: open.reliability,
                });
            }
            Some(&dcep::ACK) => {
                if let Some(ch) = self.channels.get_mut(&stream) {
                    ch.acked = true;
                }
            }
            _ => {}
        }
    }

    /// Refuses a DATA_CHANNEL_OPEN over a limit. DCEP has no negative answer: the stream is
    /// reset instead, which the peer sees as its channel closing (RFC 8831 6.7, RFC 8832 5);
    /// the association goes on. Data on the stream is dropped until the peer resets its half.
    fn refuse_channel(&mut self, stream: u16) {
        self.stats.channels_refused += 1;
        // Without RE-CONFIG nothing can tell the peer: its data on the stream is dropped.
        self.refused.insert(stream);
        self.request_reset(stream);
    }

    fn supports_reconfig(&self) -> bool {
        self.reconfig_supported()
    }
}
