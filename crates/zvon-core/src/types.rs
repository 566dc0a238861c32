//! The W3C-shaped values the peer connection takes and gives.

use std::fmt;

use zvon_ice::{GatheringState, IceConnectionState};
use zvon_sctp::{MessageKind, Reliability};

/// `RTCSdpType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SdpType {
    /// An offer.
    Offer,
    /// A provisional answer.
    Pranswer,
    /// A final answer.
    Answer,
    /// Cancels the pending offer (no SDP).
    Rollback,
}

impl SdpType {
    /// The W3C string (`"offer"`, `"pranswer"`, `"answer"`, `"rollback"`).
    pub fn as_str(self) -> &'static str {
        match self {
            SdpType::Offer => "offer",
            SdpType::Pranswer => "pranswer",
            SdpType::Answer => "answer",
            SdpType::Rollback => "rollback",
        }
    }

    /// Parses the W3C string.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "offer" => SdpType::Offer,
            "pranswer" => SdpType::Pranswer,
            "answer" => SdpType::Answer,
            "rollback" => SdpType::Rollback,
            _ => return None,
        })
    }
}

/// `RTCSessionDescriptionInit`: what travels over signaling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// Offer, answer, ...
    pub kind: SdpType,
    /// The SDP text (empty for a rollback).
    pub sdp: String,
}

impl Description {
    /// An offer.
    pub fn offer(sdp: impl Into<String>) -> Self {
        Self {
            kind: SdpType::Offer,
            sdp: sdp.into(),
        }
    }

    /// An answer.
    pub fn answer(sdp: impl Into<String>) -> Self {
        Self {
            kind: SdpType::Answer,
            sdp: sdp.into(),
        }
    }

    /// A rollback.
    pub fn rollback() -> Self {
        Self {
            kind: SdpType::Rollback,
            sdp: String::new(),
        }
    }
}

/// `RTCIceCandidateInit`: one trickled candidate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CandidateInit {
    /// `candidate:...`; empty for end-of-candidates.
    pub candidate: String,
    /// The media section's mid.
    pub sdp_mid: Option<String>,
    /// The media section's index.
    pub sdp_m_line_index: Option<u16>,
    /// The ufrag of the ICE generation the candidate belongs to.
    pub username_fragment: Option<String>,
}

/// `RTCSignalingState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignalingState {
    /// No offer/answer exchange under way.
    Stable,
    /// A local offer is applied.
    HaveLocalOffer,
    /// A remote offer is applied.
    HaveRemoteOffer,
    /// A local provisional answer is applied.
    HaveLocalPranswer,
    /// A remote provisional answer is applied.
    HaveRemotePranswer,
    /// The connection is closed.
    Closed,
}

/// `RTCPeerConnectionState`: ICE and DTLS together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// Nothing started.
    New,
    /// ICE checks or the DTLS handshake under way.
    Connecting,
    /// ICE has a path and DTLS is up.
    Connected,
    /// ICE lost consent for a while; it may come back.
    Disconnected,
    /// ICE or DTLS failed.
    Failed,
    /// `close()` was called.
    Closed,
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectionState::New => "new",
            ConnectionState::Connecting => "connecting",
            ConnectionState::Connected => "connected",
            ConnectionState::Disconnected => "disconnected",
            ConnectionState::Failed => "failed",
            ConnectionState::Closed => "closed",
        })
    }
}

/// `RTCPriorityType`, with the DCEP weights (RFC 8832 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Priority {
    /// 128
    VeryLow,
    /// 256
    #[default]
    Low,
    /// 512
    Medium,
    /// 1024
    High,
}

impl Priority {
    /// The W3C value of a DCEP priority the peer sent (RFC 8832 5.1): the nearest level at or
    /// below it.
    pub(crate) fn from_dcep(p: u16) -> Self {
        match p {
            0..=255 => Priority::VeryLow,
            256..=511 => Priority::Low,
            512..=1023 => Priority::Medium,
            _ => Priority::High,
        }
    }

    pub(crate) fn dcep(self) -> u16 {
        match self {
            Priority::VeryLow => 128,
            Priority::Low => 256,
            Priority::Medium => 512,
            Priority::High => 1024,
        }
    }
}

/// `RTCDataChannelInit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelInit {
    /// In-order delivery (default true).
    pub ordered: bool,
    /// `maxPacketLifeTime` in milliseconds (partial reliability).
    pub max_packet_life_time: Option<u32>,
    /// `maxRetransmits` (partial reliability).
    pub max_retransmits: Option<u16>,
    /// Sub-protocol.
    pub protocol: String,
    /// `negotiated: true, id`: both sides create the channel with this stream id; no DCEP.
    pub negotiated_id: Option<u16>,
    /// Priority.
    pub priority: Priority,
}

impl Default for ChannelInit {
    fn default() -> Self {
        Self {
            ordered: true,
            max_packet_life_time: None,
            max_retransmits: None,
            protocol: String::new(),
            negotiated_id: None,
            priority: Priority::Low,
        }
    }
}

impl ChannelInit {
    pub(crate) fn reliability(&self) -> Reliability {
        match (self.max_retransmits, self.max_packet_life_time) {
            (Some(n), _) => Reliability::MaxRetransmits(n),
            (None, Some(ms)) => Reliability::MaxLifetimeMs(ms),
            (None, None) => Reliability::Reliable,
        }
    }
}

/// A data channel of this peer connection. Stable for the channel's life, known before the
/// SCTP stream id is (the stream id waits for the DTLS role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub u32);

/// What the peer connection tells its owner; drain with
/// [`PeerConnection::poll_event`](crate::PeerConnection::poll_event).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Something changed that needs an offer/answer exchange (`negotiationneeded`).
    NegotiationNeeded,
    /// `signalingstatechange`.
    SignalingStateChange(SignalingState),
    /// A local candidate to trickle to the peer (`icecandidate`).
    IceCandidate(CandidateInit),
    /// All local candidates are out (`icecandidate` with a null candidate).
    IceGatheringComplete,
    /// `icegatheringstatechange`.
    IceGatheringStateChange(GatheringState),
    /// `iceconnectionstatechange`.
    IceConnectionStateChange(IceConnectionState),
    /// `connectionstatechange`.
    ConnectionStateChange(ConnectionState),
    /// The peer opened a channel (`datachannel`); it is open.
    DataChannel {
        /// The new channel.
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
    /// A channel created here is open (`open`).
    ChannelOpen(ChannelId),
    /// A message (`message`).
    ChannelMessage {
        /// The channel.
        id: ChannelId,
        /// The bytes.
        data: Vec<u8>,
        /// Text or binary.
        kind: MessageKind,
    },
    /// The channel's buffered amount fell to its low threshold (`bufferedamountlow`).
    BufferedAmountLow(ChannelId),
    /// The peer began closing the channel (`closing`).
    ChannelClosing(ChannelId),
    /// The channel is closed (`close`).
    ChannelClosed(ChannelId),
}
