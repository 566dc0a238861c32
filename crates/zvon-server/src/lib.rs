//! # zvon-server
//!
//! The signaling server of zvon: WebSocket rooms that relay session descriptions and candidates
//! between peers, WHIP/WHEP endpoints, and the demo web page. Filled by the peer-connection
//! issue.
#![deny(unsafe_code)]
