//! Errors of the peer connection's API.

use zvon_base::{Classify, Fault};

/// Why a call on [`PeerConnection`](crate::PeerConnection) failed. Network input never
/// produces an `Error`: bad datagrams are dropped and counted, and fatal protocol failures
/// surface as state changes (`Failed`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The call is not allowed in the current signaling state (W3C `InvalidStateError`).
    #[error("invalid state: {0}")]
    InvalidState(&'static str),
    /// A description does not parse.
    #[error("invalid SDP: {0}")]
    Sdp(#[from] zvon_sdp::ParseError),
    /// A description parses but lacks or contradicts what WebRTC needs.
    #[error("unusable description: {0}")]
    Description(String),
    /// A candidate does not parse or cannot be used.
    #[error("bad ICE candidate: {0}")]
    Candidate(String),
    /// The data channel is unknown (closed and forgotten, or never created here).
    #[error("unknown data channel")]
    UnknownChannel,
    /// A data channel operation failed in SCTP (not open, message too large, buffer full).
    #[error(transparent)]
    Sctp(#[from] zvon_sctp::Error),
    /// The connection is closed.
    #[error("the peer connection is closed")]
    Closed,
    /// Creating the DTLS identity or transport failed.
    #[error("DTLS: {0}")]
    Dtls(String),
}

impl Classify for Error {
    fn fault(&self) -> Fault {
        match self {
            Error::Sdp(_) | Error::Description(_) | Error::Candidate(_) => Fault::Malformed,
            Error::Sctp(e) => e.fault(),
            Error::Dtls(_) => Fault::Local,
            _ => Fault::ApiMisuse,
        }
    }

    fn is_fatal(&self) -> bool {
        false
    }
}
